//! The openai responder against a fake chat-completions API.

use std::time::Duration;

use keepstar::store::tenants::TenantPatch;
use keepstar::store::{tenants, usage};
use keepstar::vocab::Provider;
use serde_json::{Value, json};

use crate::app::{self, TestApp};
use crate::fake::{Fake, Reply};

const KEY: &str = "sk-test-openai-Vq3mP9xL2wK7";

fn chunk(delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    });
    format!("data: {chunk}\n\n")
}

fn usage(prompt: i64, completion: i64) -> String {
    let chunk = json!({
        "id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-test",
        "choices": [],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
    });
    format!("data: {chunk}\n\n")
}

const DONE: &str = "data: [DONE]\n\n";

/// A streamed text answer: a role chunk, one chunk per piece, the finish, and `[DONE]`.
fn text(pieces: &[&str]) -> Vec<String> {
    let mut frames = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    frames.extend(pieces.iter().map(|p| chunk(json!({"content": p}), None)));
    frames.push(chunk(json!({}), Some("stop")));
    frames.push(DONE.into());
    frames
}

/// A tool call whose arguments arrive in `fragments`.
fn tool_call(id: &str, name: &str, fragments: &[&str]) -> Vec<String> {
    let mut frames = vec![chunk(
        json!({"role": "assistant", "content": null, "tool_calls": [
            {"index": 0, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}
        ]}),
        None,
    )];
    frames.extend(fragments.iter().map(|f| {
        chunk(
            json!({"tool_calls": [{"index": 0, "function": {"arguments": f}}]}),
            None,
        )
    }));
    frames.push(chunk(json!({}), Some("tool_calls")));
    frames
}

/// The demo tenant answered by the fake, with the key stored sealed; `upstream` is the body of
/// the config's `[upstream]` table.
async fn setup(fake: &Fake, upstream: &str) -> TestApp {
    let provider = TenantPatch {
        provider: Some(Provider::Openai),
        model: Some(Some("gpt-test".into())),
        base_url: Some(Some(format!("{}/v1/", fake.url))),
        ..Default::default()
    };
    app::spawn_with_provider(upstream, provider, Some(KEY)).await
}

#[tokio::test]
async fn text_cut_inside_multibyte_characters_arrives_byte_exact() {
    let pieces = [
        "Привет",
        "! Вот палатки 🏕️ и ",
        "кофе ☕👩🏽‍🍳, ",
        "你好，世界",
        " — ещё?",
    ];
    let expected = pieces.concat();
    let crlf: Vec<String> = text(&pieces)
        .iter()
        .map(|f| f.replace('\n', "\r\n"))
        .collect();
    let fake = Fake::start(vec![
        Reply::sse(&text(&pieces), 1),
        Reply::sse(&text(&pieces), 7),
        Reply::sse(&crlf, 3),
    ])
    .await;
    let app = setup(&fake, "").await;
    let s = app.session("demo", None).await;
    for round in 0..3 {
        let turn = app.ask(&s, "Что у вас есть?").await;
        assert_eq!(turn.text(), expected, "round {round}");
        assert_eq!(turn.deltas(), expected, "round {round}");
        assert!(
            turn.events.iter().filter(|e| e.event == "delta").count() > 1,
            "the reply streams"
        );
        let reply = app.stored("demo").await.pop().unwrap();
        assert_eq!(
            (reply.text.as_str(), reply.status.as_str()),
            (expected.as_str(), "complete")
        );
        assert_eq!(reply.responder.as_deref(), Some("openai"));
    }
    assert_eq!(fake.requests().len(), 3);
}

#[tokio::test]
async fn the_request_carries_model_key_tools_and_kb_passages() {
    let fake = Fake::start(vec![Reply::sse(&text(&["Within 30 days."]), 64)]).await;
    let app = setup(&fake, "").await;
    app.set_tenant(
        "demo",
        TenantPatch {
            system_prompt: Some(Some("Sign every answer as Trailhead Bot.".into())),
            temperature: Some(Some(0.3)),
            max_tokens: Some(Some(400)),
            ..Default::default()
        },
    )
    .await;
    let s = app.session("demo", None).await;
    let question = "What is your return policy?";
    assert_eq!(app.ask(&s, question).await.text(), "Within 30 days.");

    let req = &fake.requests()[0];
    assert_eq!(req.path, "/v1/chat/completions");
    assert_eq!(
        req.header("authorization").as_deref(),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(
        req.header("content-type").as_deref(),
        Some("application/json")
    );
    let body = req.json();
    assert_eq!(body["model"], "gpt-test");
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"]["include_usage"], true);
    assert_eq!(body["temperature"], 0.3);
    assert_eq!(body["max_tokens"], 400);
    assert!(body.get("tool_choice").is_none());
    let tools: Vec<&str> = body["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            assert_eq!(t["type"], "function");
            assert_eq!(t["function"]["parameters"]["type"], "object");
            t["function"]["name"].as_str().unwrap()
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
    let messages = body["messages"].as_array().unwrap();
    assert_eq!(messages[0]["role"], "system");
    let system = messages[0]["content"].as_str().unwrap();
    assert!(
        system.contains("within 30 days of delivery"),
        "the FAQ passage is in the prompt: {system}"
    );
    assert!(system.contains("Sign every answer as Trailhead Bot."));
    assert_eq!(
        messages.last().unwrap(),
        &json!({"role": "user", "content": question})
    );

    // A local server such as Ollama takes no key: then no Authorization header at all.
    app.set_tenant(
        "demo",
        TenantPatch {
            api_key_sealed: Some(None),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        app.ask(&s, "And exchanges?").await.text(),
        "Within 30 days."
    );
    let req = &fake.requests()[1];
    assert_eq!(req.header("authorization"), None);
    let history: Vec<Value> = req.json()["messages"].as_array().unwrap()[1..].to_vec();
    assert_eq!(
        history,
        [
            json!({"role": "user", "content": question}),
            json!({"role": "assistant", "content": "Within 30 days."}),
            json!({"role": "user", "content": "And exchanges?"}),
        ]
    );
}

#[tokio::test]
async fn a_tool_call_in_fragments_searches_the_catalog() {
    let mut first = tool_call(
        "call_Tz1",
        "search_products",
        &["{\"qu", "ery\": \"te", "nts\", \"max_pr", "ice\": 300}"],
    );
    first.extend([usage(410, 25), DONE.into()]);
    let mut second = text(&["Here are our tents under $300 — ", "happy camping! 🏕️"]);
    second.insert(second.len() - 1, usage(900, 14));
    let fake = Fake::start(vec![Reply::sse(&first, 5), Reply::sse(&second, 5)]).await;
    let app = setup(&fake, "").await;
    app.set_prices("demo", 1000, 2000).await;
    let s = app.session("demo", None).await;
    let turn = app.ask(&s, "I need a tent under 300 dollars").await;

    let formation = turn
        .events
        .iter()
        .find(|e| e.event == "formation")
        .expect("the cards reach the visitor before the text is done");
    assert_eq!(formation.data["formation"]["kind"], "cards");
    let items = turn.items();
    assert!(!items.is_empty());
    for item in &items {
        assert!(item["price"]["amount"].as_i64().unwrap() <= 30000, "{item}");
    }
    assert!(
        items[0]["title"].as_str().unwrap().contains("Tent"),
        "{items:?}"
    );
    assert_eq!(
        turn.text(),
        "Here are our tents under $300 — happy camping! 🏕️"
    );

    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    let second = requests[1].json();
    assert!(
        second["tools"].is_array() && second.get("tool_choice").is_none(),
        "tools are still offered after one round"
    );
    let messages = second["messages"].as_array().unwrap();
    let n = messages.len();
    assert_eq!(
        messages[n - 2],
        json!({"role": "assistant", "content": null, "tool_calls": [{
            "id": "call_Tz1", "type": "function",
            "function": {"name": "search_products", "arguments": "{\"query\": \"tents\", \"max_price\": 300}"},
        }]})
    );
    assert_eq!(messages[n - 1]["role"], "tool");
    assert_eq!(messages[n - 1]["tool_call_id"], "call_Tz1");
    let result: Value = serde_json::from_str(messages[n - 1]["content"].as_str().unwrap()).unwrap();
    let found = result["products"].as_array().unwrap();
    assert_eq!(found.len(), items.len());
    assert_eq!(found[0]["title"], items[0]["title"]);

    let reply = app.stored("demo").await.pop().unwrap();
    assert_eq!(reply.text, turn.text());
    assert_eq!(reply.status, "complete");
    assert!(reply.formation.unwrap().contains("\"cards\""));
    // Both calls' usage, priced per 1k tokens and rounded up.
    assert_eq!(
        (reply.prompt_tokens, reply.completion_tokens),
        (Some(1310), Some(39))
    );
    assert_eq!(reply.cost_micros, Some(1310 + 78));
}

#[tokio::test]
async fn usage_is_stored_from_the_provider_or_estimated() {
    let mut counted = text(&["Counted."]);
    counted.insert(counted.len() - 1, usage(1200, 300));
    let uncounted = text(&["Nobody counted this reply, so keepstar estimates it."]);
    let fake = Fake::start(vec![Reply::sse(&counted, 16), Reply::sse(&uncounted, 16)]).await;
    let app = setup(&fake, "").await;
    app.set_prices("demo", 2500, 10000).await;
    let s = app.session("demo", None).await;
    app.ask(&s, "hello").await.text();
    let estimated = app.ask(&s, "hello again").await.text();

    let replies: Vec<_> = app
        .stored("demo")
        .await
        .into_iter()
        .filter(|m| m.role == "assistant")
        .collect();
    assert_eq!(
        (replies[0].prompt_tokens, replies[0].completion_tokens),
        (Some(1200), Some(300))
    );
    assert_eq!(replies[0].cost_micros, Some(3000 + 3000));
    let completion = estimated.chars().count().div_ceil(4) as i64;
    assert_eq!(replies[1].completion_tokens, Some(completion));
    let prompt = replies[1].prompt_tokens.unwrap();
    assert!(
        prompt > 100,
        "the prompt holds the instructions and the history: {prompt}"
    );
    let cost = (prompt * 2500 + 999) / 1000 + (completion * 10000 + 999) / 1000;
    assert_eq!(replies[1].cost_micros, Some(cost));

    let spent = app
        .db
        .read(|c| {
            let tenant = tenants::get(c, "demo")?;
            usage::month_spend(c, tenant.id, keepstar::store::now_ms())
        })
        .await
        .unwrap();
    assert_eq!(spent, 6000 + cost);
}

#[tokio::test]
async fn the_connection_to_the_provider_serves_the_next_reply() {
    // The body ends a moment after `[DONE]`: keepstar, done with the answer by then, must still
    // read that end, or the connection closes and every reply pays for a new one (with a real
    // provider, a TLS handshake).
    let reply = Reply::sse(&text(&["Kept."]), 64).ended_after(Duration::from_millis(50));
    let fake = Fake::start(vec![reply]).await;
    let app = setup(&fake, "").await;
    let s = app.session("demo", None).await;
    assert_eq!(app.ask(&s, "one").await.text(), "Kept.");
    // Long enough for the end of the first body to arrive and its connection to be pooled.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(app.ask(&s, "two").await.text(), "Kept.");
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(
        fake.connections(),
        1,
        "the second reply opened a new connection"
    );
}

#[tokio::test]
async fn a_429_is_retried() {
    let fake = Fake::start(vec![
        Reply::json(429, &json!({"error": {"type": "rate_limit_exceeded"}}))
            .header("retry-after", "0"),
        Reply::sse(&text(&["Second time lucky."]), 8),
    ])
    .await;
    let app = setup(&fake, "").await;
    let s = app.session("demo", None).await;
    assert_eq!(app.ask(&s, "hi").await.text(), "Second time lucky.");
    assert_eq!(fake.requests().len(), 2);
}

#[tokio::test]
async fn three_500s_fail_the_turn_and_keep_the_visitors_message() {
    // Two retries (the default) after the first attempt, then the visitor is told.
    let fake = Fake::start(vec![Reply::json(
        500,
        &json!({"error": {"type": "server_error"}}),
    )])
    .await;
    let app = setup(&fake, "").await;
    let s = app.session("demo", None).await;
    let turn = app.ask(&s, "Is anyone there?").await;
    let error = turn.error();
    assert_eq!(error["code"], "upstream_failed");
    assert_eq!(error["retryable"], true);
    assert!(!error["message"].as_str().unwrap().is_empty());
    assert!(turn.events.iter().all(|e| e.event != "done"));
    assert_eq!(fake.requests().len(), 3);

    let stored = app.stored("demo").await;
    let rows: Vec<(&str, &str, &str)> = stored
        .iter()
        .map(|m| (m.role.as_str(), m.text.as_str(), m.status.as_str()))
        .collect();
    assert_eq!(
        rows,
        [
            ("visitor", "Is anyone there?", "complete"),
            ("assistant", "", "failed")
        ]
    );
}

#[tokio::test]
async fn answers_that_make_no_sense_interrupt_the_reply() {
    let mut malformed = text(&["Partial ", "answer"]);
    malformed.insert(
        2,
        "data: {\"choices\": [{\"delta\": {\"content\": \"x\"}\n\n".into(),
    );
    let mut unfinished = text(&["Cut ", "short"]);
    unfinished.truncate(3);
    let fake = Fake::start(vec![Reply::sse(&malformed, 9), Reply::sse(&unfinished, 9)]).await;
    let app = setup(&fake, "retries = 0").await;
    let s = app.session("demo", None).await;

    let turn = app.ask(&s, "one").await;
    assert_eq!(turn.error()["code"], "upstream_malformed");
    assert_eq!(turn.deltas(), "Partial ");
    let turn = app.ask(&s, "two").await;
    assert_eq!(turn.error()["code"], "upstream_incomplete");
    assert_eq!(turn.deltas(), "Cut short");

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
            ("Partial ".into(), "interrupted".into()),
            ("Cut short".into(), "interrupted".into())
        ]
    );
}

#[tokio::test]
async fn deadlines_end_stalled_and_silent_answers() {
    let stalled = text(&["I was just saying"]);
    let fake = Fake::start(vec![
        Reply::sse(&stalled[..2], 64).stalled(),
        Reply::sse(&text(&["Too late."]), 64).delayed(Duration::from_secs(60)),
    ])
    .await;
    // Generous against a busy machine, short against the fake's minutes of silence.
    let app = setup(
        &fake,
        "first_token_timeout_ms = 1500\nidle_timeout_ms = 1500\nretries = 1",
    )
    .await;
    let s = app.session("demo", None).await;

    let turn = app.ask(&s, "Tell me about tents").await;
    assert_eq!(turn.error()["code"], "upstream_timeout");
    assert_eq!(turn.deltas(), "I was just saying");
    let turn = app.ask(&s, "Hello?").await;
    assert_eq!(turn.error()["code"], "upstream_timeout");
    assert_eq!(turn.deltas(), "");
    // The body started (headers came at once): nothing is retried once an answer is under way.
    assert_eq!(fake.requests().len(), 2);

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
            ("I was just saying".into(), "interrupted".into()),
            (String::new(), "failed".into())
        ]
    );
}

#[tokio::test]
async fn the_tool_loop_is_bounded() {
    let mut search = tool_call("call_1", "search_products", &["{\"query\": \"kettle\"}"]);
    search.push(DONE.into());
    // The model asks for a tool every time; after the one round allowed it gets none.
    let fake = Fake::start(vec![Reply::sse(&search, 32)]).await;
    let app = setup(&fake, "max_tool_rounds = 1").await;
    let s = app.session("demo", None).await;
    let turn = app.ask(&s, "kettle").await;
    assert!(!turn.items().is_empty());
    let requests = fake.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests[0].json().get("tool_choice").is_none());
    assert_eq!(requests[1].json()["tool_choice"], "none");
    assert_eq!(app.stored("demo").await.pop().unwrap().status, "complete");
}

#[tokio::test]
async fn without_a_model_nothing_is_sent() {
    let fake = Fake::start(vec![Reply::sse(&text(&["unused"]), 64)]).await;
    let app = setup(&fake, "").await;
    app.set_tenant(
        "demo",
        TenantPatch {
            model: Some(None),
            ..Default::default()
        },
    )
    .await;
    let s = app.session("demo", None).await;
    let error = app.ask(&s, "hi").await.error().clone();
    assert_eq!(error["code"], "provider_not_configured");
    assert_eq!(error["retryable"], false);
    assert!(fake.requests().is_empty());
}

#[tokio::test]
async fn the_key_never_reaches_the_browser_the_store_or_the_logs() {
    // Providers echo keys in their error messages; none of it may travel further.
    let echo = format!("Incorrect API key provided: {KEY}");
    let mut search = tool_call("call_k", "search_products", &["{\"query\": \"grinder\"}"]);
    search.push(DONE.into());
    let fake = Fake::start(vec![
        Reply::json(
            401,
            &json!({"error": {"message": echo, "type": "invalid_request_error", "code": "invalid_api_key"}}),
        ),
        Reply::sse(
            &[
                chunk(json!({"content": "Checking"}), None),
                format!(
                    "data: {}\n\n",
                    json!({"error": {"message": echo, "type": "server_error"}})
                ),
            ],
            11,
        ),
        Reply::sse(&search, 11),
        Reply::sse(&text(&["Here you go."]), 11),
    ])
    .await;
    let app = setup(&fake, "").await;
    let s = app.session("demo", None).await;
    let mut seen = Vec::new();
    let mut conversation = String::new();
    for text in ["hi", "hello", "a grinder please"] {
        let turn = app.ask(&s, text).await;
        let echo = turn.events.iter().find(|e| e.event == "message").unwrap();
        conversation = echo.data["conversation_id"].as_str().unwrap().to_owned();
        seen.extend(turn.events.iter().map(|e| e.data.to_string()));
    }
    assert!(seen.iter().any(|e| e.contains("upstream_auth")), "{seen:?}");
    assert!(
        seen.iter().any(|e| e.contains("upstream_error")),
        "{seen:?}"
    );
    assert!(seen.iter().any(|e| e.contains("Here you go.")), "{seen:?}");
    seen.push(app.history(&s, None).await.to_string());
    for request in fake.requests() {
        assert_eq!(
            request.header("authorization").as_deref(),
            Some(format!("Bearer {KEY}").as_str()),
            "the key went to the provider"
        );
    }

    let secret = &KEY[8..];
    assert!(
        seen.iter().all(|e| !e.contains(secret)),
        "the key reached the browser"
    );
    for m in app.stored("demo").await {
        assert!(!m.text.contains(secret) && !m.formation.unwrap_or_default().contains(secret));
    }
    let logs = app::logs();
    assert!(
        logs.lines()
            .any(|l| l.contains(&conversation) && l.contains("upstream_auth")),
        "this test's failures were logged (so the logs were looked at)"
    );
    assert!(!logs.contains(secret), "the key reached the logs");
}

#[tokio::test]
async fn a_comparison_shows_each_product_once_however_often_the_model_names_it() {
    let fake = Fake::start(Vec::new()).await;
    let app = setup(&fake, "").await;
    let ids: Vec<String> = app
        .db
        .read(|c| {
            let mut stmt = c.prepare(
                "SELECT p.public_id FROM products p JOIN tenants t ON t.id = p.tenant_id \
                 WHERE t.slug = 'demo' ORDER BY p.id LIMIT 2",
            )?;
            let ids = stmt.query_map([], |r| r.get(0))?;
            Ok(ids.collect::<Result<_, _>>()?)
        })
        .await
        .unwrap();
    let args = json!({"ids": [ids[0], ids[1], ids[0]]}).to_string();
    let mut first = tool_call("call_C1", "compare_products", &[&args]);
    first.push(DONE.into());
    fake.script(vec![
        Reply::sse(&first, 64),
        Reply::sse(&text(&["Side by side."]), 64),
    ]);
    let s = app.session("demo", None).await;
    let turn = app.ask(&s, "compare these two").await;
    let formation = turn.formation();
    assert_eq!(formation["kind"], "comparison", "{formation}");
    let shown: Vec<&str> = formation["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(shown, [ids[0].as_str(), ids[1].as_str()]);
}
