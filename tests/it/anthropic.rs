//! The anthropic responder against a fake Messages API.

use keepstar::store::tenants::TenantPatch;
use keepstar::vocab::Provider;
use serde_json::{Value, json};

use crate::app::{self, TestApp};
use crate::fake::{Fake, Reply};

const KEY: &str = "sk-ant-test-Hn4rT8yB1cQ6";

fn event(data: Value) -> String {
    format!(
        "event: {}\ndata: {data}\n\n",
        data["type"].as_str().unwrap()
    )
}

fn start(input_tokens: i64) -> String {
    event(json!({"type": "message_start", "message": {
        "id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude-test",
        "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1},
    }}))
}

fn text_block(index: usize, pieces: &[&str]) -> Vec<String> {
    let mut frames = vec![event(
        json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
    )];
    frames.extend(pieces.iter().map(|p| {
        event(json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": p}}))
    }));
    frames.push(event(json!({"type": "content_block_stop", "index": index})));
    frames
}

fn stop(reason: &str, output_tokens: i64) -> Vec<String> {
    vec![
        event(
            json!({"type": "message_delta", "delta": {"stop_reason": reason, "stop_sequence": null}, "usage": {"output_tokens": output_tokens}}),
        ),
        event(json!({"type": "message_stop"})),
    ]
}

/// A whole text answer, with a ping in the middle as the API sends them.
fn text(pieces: &[&str], usage: (i64, i64)) -> Vec<String> {
    let mut frames = vec![start(usage.0), event(json!({"type": "ping"}))];
    frames.extend(text_block(0, pieces));
    frames.extend(stop("end_turn", usage.1));
    frames
}

/// The demo tenant answered by the fake, with the key stored sealed and prices set; `upstream`
/// is the body of the config's `[upstream]` table.
async fn setup(fake: &Fake, upstream: &str) -> TestApp {
    let provider = TenantPatch {
        provider: Some(Provider::Anthropic),
        model: Some(Some("claude-test".into())),
        base_url: Some(Some(fake.url.clone())),
        ..Default::default()
    };
    let app = app::spawn_with_provider(upstream, provider, Some(KEY)).await;
    app.set_prices("demo", 3000, 15000).await;
    app
}

#[tokio::test]
async fn text_cut_inside_multibyte_characters_arrives_byte_exact_with_its_usage() {
    let pieces = [
        "Здравствуйте",
        "! 🧗‍♀️ Палатки — ",
        "テント、",
        "咖啡 ☕",
        ".",
    ];
    let expected = pieces.concat();
    let fake = Fake::start(vec![
        Reply::sse(&text(&pieces, (25, 12)), 1),
        Reply::sse(&text(&pieces, (25, 12)), 5),
    ])
    .await;
    let app = setup(&fake, "").await;
    let s = app.session("demo", None).await;
    for round in 0..2 {
        let turn = app.ask(&s, "Что есть для похода?").await;
        assert_eq!(turn.text(), expected, "round {round}");
        assert_eq!(turn.deltas(), expected, "round {round}");
        let reply = app.stored("demo").await.pop().unwrap();
        assert_eq!(reply.text, expected);
        assert_eq!(reply.status, "complete");
        assert_eq!(reply.responder.as_deref(), Some("anthropic"));
        assert_eq!(
            (reply.prompt_tokens, reply.completion_tokens),
            (Some(25), Some(12))
        );
        // 25 × 3000 / 1000 = 75, 12 × 15000 / 1000 = 180.
        assert_eq!(reply.cost_micros, Some(75 + 180));
    }
}

#[tokio::test]
async fn the_request_carries_model_key_tools_and_kb_passages() {
    let fake = Fake::start(vec![Reply::sse(&text(&["Two years."], (10, 3)), 64)]).await;
    let app = setup(&fake, "").await;
    let s = app.session("demo", None).await;
    let question = "What warranty do tents have?";
    assert_eq!(app.ask(&s, question).await.text(), "Two years.");

    let req = &fake.requests()[0];
    assert_eq!(req.path, "/v1/messages");
    assert_eq!(req.header("x-api-key").as_deref(), Some(KEY));
    assert_eq!(
        req.header("anthropic-version").as_deref(),
        Some("2023-06-01")
    );
    assert_eq!(req.header("authorization"), None);
    let body = req.json();
    assert_eq!(body["model"], "claude-test");
    assert_eq!(body["stream"], true);
    assert_eq!(body["max_tokens"], 1024);
    assert!(body.get("temperature").is_none());
    let system = body["system"].as_str().unwrap();
    assert!(
        system.contains("covered for 2 years against manufacturing defects"),
        "the FAQ passage is in the prompt: {system}"
    );
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["input_schema"]["type"], "object");
            assert!(t["description"].as_str().is_some_and(|d| !d.is_empty()));
            t["name"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        tools,
        [
            "search_products",
            "show_product",
            "compare_products",
            "handoff_to_human"
        ]
    );
    assert_eq!(
        body["messages"],
        json!([{"role": "user", "content": question}])
    );
}

#[tokio::test]
async fn a_tool_use_in_json_fragments_searches_the_catalog() {
    let mut first = vec![start(380)];
    first.extend(text_block(0, &["Let me look."]));
    first.push(event(
        json!({"type": "content_block_start", "index": 1, "content_block": {
            "type": "tool_use", "id": "toolu_01A", "name": "search_products", "input": {},
        }}),
    ));
    for fragment in [
        "",
        "{\"query\": \"gr",
        "inder\", \"max",
        "_price\": 1",
        "00}",
    ] {
        first.push(event(
            json!({"type": "content_block_delta", "index": 1, "delta": {
                "type": "input_json_delta", "partial_json": fragment,
            }}),
        ));
    }
    first.push(event(json!({"type": "content_block_stop", "index": 1})));
    first.extend(stop("tool_use", 40));
    let fake = Fake::start(vec![
        Reply::sse(&first, 6),
        Reply::sse(&text(&["These grinders fit ", "the budget."], (900, 9)), 6),
    ])
    .await;
    let app = setup(&fake, "").await;
    let s = app.session("demo", None).await;
    let turn = app.ask(&s, "a coffee grinder under 100").await;

    assert!(turn.events.iter().any(|e| e.event == "formation"));
    let items = turn.items();
    assert!(!items.is_empty());
    for item in &items {
        assert!(item["price"]["amount"].as_i64().unwrap() <= 10000, "{item}");
    }
    // What was said before the tool round and after it reads as one message.
    assert_eq!(
        turn.text(),
        "Let me look.\n\nThese grinders fit the budget."
    );
    assert_eq!(turn.deltas(), turn.text());

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let messages = requests[1].json()["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 3);
    assert_eq!(
        messages[1],
        json!({"role": "assistant", "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_01A", "name": "search_products", "input": {"query": "grinder", "max_price": 100}},
        ]})
    );
    assert_eq!(messages[2]["role"], "user");
    let result = &messages[2]["content"][0];
    assert_eq!(result["type"], "tool_result");
    assert_eq!(result["tool_use_id"], "toolu_01A");
    let content: Value = serde_json::from_str(result["content"].as_str().unwrap()).unwrap();
    assert_eq!(content["products"][0]["title"], items[0]["title"]);

    let reply = app.stored("demo").await.pop().unwrap();
    assert_eq!(reply.text, turn.text());
    assert!(reply.formation.unwrap().contains("\"cards\""));
    assert_eq!(
        (reply.prompt_tokens, reply.completion_tokens),
        (Some(380 + 900), Some(40 + 9))
    );
}

#[tokio::test]
async fn an_error_event_interrupts_the_reply() {
    let mut overloaded = vec![start(10)];
    overloaded.extend(text_block(0, &["Half an "]));
    overloaded.push(event(json!({"type": "error", "error": {
        "type": "overloaded_error", "message": format!("Overloaded (key {KEY})"),
    }})));
    let mut unfinished = vec![start(10)];
    unfinished.extend(text_block(0, &["Never ", "finished"]));
    let fake = Fake::start(vec![Reply::sse(&overloaded, 7), Reply::sse(&unfinished, 7)]).await;
    let app = setup(&fake, "").await;
    let s = app.session("demo", None).await;

    let turn = app.ask(&s, "one").await;
    assert_eq!(turn.error()["code"], "upstream_error");
    assert_eq!(turn.deltas(), "Half an ");
    for e in &turn.events {
        assert!(
            !e.data.to_string().contains(&KEY[7..]),
            "the key reached the browser: {e:?}"
        );
    }
    let turn = app.ask(&s, "two").await;
    assert_eq!(turn.error()["code"], "upstream_incomplete");

    let replies: Vec<(String, String)> = app
        .stored("demo")
        .await
        .into_iter()
        .filter(|m| m.role == "assistant")
        .map(|m| (m.text, m.status))
        .collect();
    assert_eq!(
        replies,
        [
            ("Half an ".into(), "interrupted".into()),
            ("Never finished".into(), "interrupted".into())
        ]
    );
    assert!(!app::logs().contains(&KEY[7..]), "the key reached the logs");
}

#[tokio::test]
async fn visitor_messages_in_a_row_become_one_user_message() {
    let fake = Fake::start(vec![
        Reply::json(
            500,
            &json!({"type": "error", "error": {"type": "api_error"}}),
        ),
        Reply::sse(&text(&["Sorry for the wait."], (30, 5)), 64),
    ])
    .await;
    let app = setup(&fake, "retries = 0").await;
    let s = app.session("demo", None).await;
    let failed = app.ask(&s, "Hello?").await;
    assert_eq!(failed.error()["code"], "upstream_failed");
    assert_eq!(
        app.ask(&s, "Anyone there?").await.text(),
        "Sorry for the wait."
    );
    // The failed reply is left out, so the two visitor messages meet.
    assert_eq!(
        fake.requests()[1].json()["messages"],
        json!([{"role": "user", "content": "Hello?\n\nAnyone there?"}])
    );
}

#[tokio::test]
async fn without_a_key_nothing_is_sent() {
    let fake = Fake::start(vec![Reply::sse(&text(&["unused"], (1, 1)), 64)]).await;
    let app = setup(&fake, "").await;
    app.set_tenant(
        "demo",
        TenantPatch {
            api_key_sealed: Some(None),
            ..Default::default()
        },
    )
    .await;
    let s = app.session("demo", None).await;
    let error = app.ask(&s, "hi").await.error().clone();
    assert_eq!(error["code"], "provider_key_unavailable");
    assert_eq!(error["retryable"], false);
    assert!(fake.requests().is_empty());
    let stored = app.stored("demo").await;
    assert_eq!(stored[0].text, "hi");
    assert_eq!(stored[1].status, "failed");
}
