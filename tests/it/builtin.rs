//! The built-in responder through the API: word forms, price phrases, FAQ, greetings, misses.

use serde_json::Value;

use crate::app::{self, TestApp};

fn prices(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|i| i["price"]["amount"].as_i64().unwrap())
        .collect()
}

fn subtitles(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|i| i["subtitle"].as_str().unwrap_or_default().to_owned())
        .collect()
}

async fn ids(app: &TestApp, slug: &str, text: &str) -> Vec<String> {
    let s = app.session(slug, None).await;
    app.ask(&s, text)
        .await
        .items()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn english_price_phrases_and_word_forms() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;

    let tents = app.ask(&s, "tents under $300").await;
    let items = tents.items();
    assert!(
        prices(&items).iter().all(|p| *p <= 30000),
        "{:?}",
        prices(&items)
    );
    assert!(
        subtitles(&items).iter().all(|t| t.ends_with("Tents")),
        "{:?}",
        subtitles(&items)
    );
    assert!(
        tents.formation()["title"]
            .as_str()
            .unwrap()
            .contains("under $300")
    );

    let grinders = app.ask(&s, "grinders between 100 and 300").await.items();
    assert!(
        prices(&grinders)
            .iter()
            .all(|p| (10000..=30000).contains(p)),
        "{:?}",
        prices(&grinders)
    );
    assert!(subtitles(&grinders).iter().all(|t| t.ends_with("Grinders")));

    assert_eq!(
        ids(&app, "demo", "grinders").await,
        ids(&app, "demo", "grinder").await
    );
    let over = app.ask(&s, "jackets over 200 dollars").await.items();
    assert!(prices(&over).iter().all(|p| *p >= 20000));
    // A price display is formatted for the locale.
    assert!(
        over[0]["price"]["display"]
            .as_str()
            .unwrap()
            .starts_with('$')
    );
}

#[tokio::test]
async fn russian_price_phrases_and_word_forms() {
    let app = app::spawn().await;
    let s = app.session("demo-ru", None).await;
    let turn = app.ask(&s, "палатку до 15000 рублей").await;
    let items = turn.items();
    assert!(
        prices(&items).iter().all(|p| *p <= 1_500_000),
        "{:?}",
        prices(&items)
    );
    assert!(
        subtitles(&items).iter().all(|t| t.ends_with("Палатки")),
        "{:?}",
        subtitles(&items)
    );
    assert!(turn.text().starts_with("Вот"), "{}", turn.text());
    let display = items[0]["price"]["display"].as_str().unwrap();
    assert!(display.ends_with("\u{a0}₽"), "{display:?}");

    let ranged = app.ask(&s, "кофемолки от 5000 до 10000").await.items();
    assert!(
        prices(&ranged)
            .iter()
            .all(|p| (500_000..=1_000_000).contains(p)),
        "{:?}",
        prices(&ranged)
    );
    assert!(subtitles(&ranged).iter().all(|t| t.ends_with("Кофемолки")));

    let a = ids(&app, "demo-ru", "палатки").await;
    assert_eq!(a, ids(&app, "demo-ru", "палатку").await);
    assert_eq!(a, ids(&app, "demo-ru", "палатка").await);
}

#[tokio::test]
async fn faq_answers_greetings_and_misses() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let faq = app.ask(&s, "What is your return policy?").await;
    assert!(faq.formation().is_null(), "an FAQ answer has no cards");
    assert!(
        faq.text().to_lowercase().contains("return"),
        "{}",
        faq.text()
    );

    let hello = app.ask(&s, "Hello!").await;
    assert!(
        hello.text().contains("Trailhead & Brew"),
        "{}",
        hello.text()
    );
    assert_eq!(hello.formation()["kind"], "quick_replies");

    let miss = app.ask(&s, "zeppelin hangar").await;
    assert_eq!(miss.formation()["kind"], "quick_replies");
    let options = miss.formation()["options"].as_array().unwrap();
    assert_eq!(options[0]["text"], "Talk to a human");
    let misses: i64 = app
        .db
        .read(|c| {
            Ok(c.query_row(
                "SELECT count(*) FROM search_misses WHERE query = 'zeppelin hangar'",
                [],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap();
    assert_eq!(misses, 1, "the zero-result query is recorded");

    let ru = app.session("demo-ru", None).await;
    let privet = app.ask(&ru, "Здравствуйте").await;
    assert!(
        privet.text().starts_with("Здравствуйте"),
        "{}",
        privet.text()
    );
    let delivery = app.ask(&ru, "сколько стоит доставка?").await;
    assert!(delivery.formation().is_null(), "{}", delivery.formation());
    assert!(
        delivery.text().to_lowercase().contains("доставк"),
        "{}",
        delivery.text()
    );
}

#[tokio::test]
async fn a_card_click_gets_a_detail_without_a_turn() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let item = app.ask(&s, "headlamps").await.items()[0].clone();
    let res = app
        .get(&format!(
            "/api/v1/products/{}",
            item["id"].as_str().unwrap()
        ))
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let detail: Value = res.json().await.unwrap();
    let f = &detail["formation"];
    assert_eq!(f["kind"], "detail");
    assert_eq!(f["item"]["title"], item["title"]);
    assert!(!f["item"]["attributes"].as_array().unwrap().is_empty());
    assert!(
        f["item"]["image"]
            .as_str()
            .unwrap()
            .starts_with("https://chat.example.com/demo/img/")
    );
}
