//! The admin's conversation list, search, transcripts and analytics, over conversations made
//! through the widget API; an operator sees only their tenants'.

use reqwest::StatusCode;

use crate::admin::{cookie, member, page, sign_in};
use crate::app::{self, TestApp};
use keepstar::vocab::Role;

const PASSWORD: &str = "a long enough password";

async fn signed_in(app: &TestApp, email: &str, role: Role, tenants: &[&str]) -> String {
    member(app, email, role, tenants, Some(PASSWORD)).await;
    let res = sign_in(app, email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    cookie(&res)
}

async fn html(app: &TestApp, path: &str, cookie: &str) -> String {
    let res = page(app, path, cookie).await;
    assert_eq!(res.status(), 200, "{path}");
    let csp = res.headers()["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("style-src 'self'"), "{csp}");
    let body = res.text().await.unwrap();
    assert!(!body.contains("style="), "no inline style on {path}");
    body
}

/// The conversation ids a list page links to, in order.
fn listed(html: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for part in html.split("href=\"/admin/conversations/").skip(1) {
        let id = part.split('"').next().unwrap().to_owned();
        if ids.last() != Some(&id) {
            ids.push(id);
        }
    }
    ids
}

#[tokio::test]
async fn the_list_filters_searches_and_keeps_each_operator_to_their_tenants() {
    let app = app::spawn().await;
    // A product whose title is markup: the transcript must show it as text.
    app.db
        .write(|c| {
            c.execute(
                "UPDATE products SET title = '<script>alert(1)</script> ' || title
                 WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'demo')",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();

    let shopper = app.session("demo", None).await;
    let tents = app.ask(&shopper, "tents under $300").await;
    let tents_conv = tents.done()["conversation_id"].as_str().unwrap().to_owned();
    let price = tents.items()[0]["price"]["display"]
        .as_str()
        .unwrap()
        .to_owned();

    let missing = app.session("demo", None).await;
    let miss = app.ask(&missing, "zanzibarite").await;
    let miss_conv = miss.done()["conversation_id"].as_str().unwrap().to_owned();

    let wants_person = app.session("demo", None).await;
    let handed_conv = app.converse(&wants_person, "talk to a human").await;

    let other = app.session("demo-ru", None).await;
    let other_conv = app.converse(&other, "квазиморда секретное слово").await;

    let owner = signed_in(&app, "owner@shop.example", Role::Owner, &[]).await;
    let op = signed_in(&app, "op@shop.example", Role::Operator, &["demo"]).await;

    // The owner's list: all four, newest first.
    let all = listed(&html(&app, "/admin/conversations", &owner).await);
    assert_eq!(all.len(), 4, "{all:?}");
    assert_eq!(all[0], other_conv);
    assert!(all.contains(&tents_conv) && all.contains(&miss_conv) && all.contains(&handed_conv));

    // Filters.
    let waiting = listed(&html(&app, "/admin/conversations?status=waiting_human", &owner).await);
    assert_eq!(waiting, std::slice::from_ref(&handed_conv));
    let handed = listed(&html(&app, "/admin/conversations?handed=1", &owner).await);
    assert_eq!(handed, std::slice::from_ref(&handed_conv));
    let ru = listed(&html(&app, "/admin/conversations?tenant=demo-ru", &owner).await);
    assert_eq!(ru, std::slice::from_ref(&other_conv));
    let future = listed(&html(&app, "/admin/conversations?from=2999-01-01", &owner).await);
    assert!(future.is_empty());
    let bad = html(&app, "/admin/conversations?from=yesterday", &owner).await;
    assert!(
        bad.contains(r#"id="from-error""#),
        "the error beside the field"
    );

    // Full-text search over message text: a prefix is enough, other words are not found.
    let found = html(&app, "/admin/conversations?q=zanzib", &owner).await;
    assert_eq!(listed(&found), std::slice::from_ref(&miss_conv));
    assert!(
        found.contains("<mark>zanzibarite</mark>"),
        "the match is marked"
    );
    assert_eq!(
        listed(
            &html(
                &app,
                "/admin/conversations?q=%D0%BA%D0%B2%D0%B0%D0%B7%D0%B8",
                &owner
            )
            .await
        ),
        std::slice::from_ref(&other_conv),
        "Cyrillic words are found by their beginning"
    );
    assert!(listed(&html(&app, "/admin/conversations?q=nonexistentword", &owner).await).is_empty());
    assert!(
        listed(&html(&app, "/admin/conversations?q=%22%29OR%28*", &owner).await).is_empty(),
        "FTS syntax in the query is only text"
    );

    // The operator: demo's conversations only, in the list and in search.
    let theirs = listed(&html(&app, "/admin/conversations", &op).await);
    assert_eq!(theirs.len(), 3, "{theirs:?}");
    assert!(!theirs.contains(&other_conv));
    assert!(
        listed(
            &html(
                &app,
                "/admin/conversations?q=%D0%BA%D0%B2%D0%B0%D0%B7%D0%B8",
                &op
            )
            .await
        )
        .is_empty()
    );
    for path in [
        format!("/admin/conversations/{other_conv}"),
        "/admin/conversations?tenant=demo-ru".to_owned(),
        "/admin/analytics/demo-ru".to_owned(),
        "/admin/conversations/c_doesnotexist".to_owned(),
    ] {
        assert_eq!(
            page(&app, &path, &op).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let analytics_index = html(&app, "/admin/analytics", &op).await;
    assert!(!analytics_index.contains("/admin/analytics/demo-ru"));

    // The transcript: the cards as the visitor saw them, escaped, with the reply's figures.
    let transcript = html(&app, &format!("/admin/conversations/{tents_conv}"), &op).await;
    assert!(
        transcript.contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
        "escaped title: {transcript}"
    );
    assert!(!transcript.contains("<script>alert"), "never raw");
    assert!(transcript.contains(&price), "the price {price}");
    assert!(transcript.contains("tents under $300"));
    assert!(transcript.contains(r#"class="formation cards"#));
    assert!(transcript.contains("first token"));
    assert!(
        transcript.contains("https://shop.example/p"),
        "the visitor's page"
    );
    assert!(
        transcript.contains(r#"id="inbox-actions""#),
        "room for the inbox"
    );

    // Analytics: the search that found nothing, and the one that found tents.
    let stats = html(&app, "/admin/analytics/demo", &op).await;
    let zero = &stats[stats
        .find(r#"id="zero-results""#)
        .expect("a zero-result table")..];
    assert!(zero.contains("zanzibarite"), "{zero}");
    let top = &stats[stats
        .find(r#"id="top-searches""#)
        .expect("a top-searches table")..];
    assert!(top.contains("tents under $300"));
    assert!(
        stats.contains(r#"id="handoff-rate">33.3 %"#),
        "1 of 3 handed over"
    );

    // The overview draws its charts from the rollup.
    let overview = html(&app, "/admin", &owner).await;
    assert!(overview.contains("<svg"));
    assert!(
        overview.contains(r#"<td>4</td>"#),
        "four conversations today"
    );
}
