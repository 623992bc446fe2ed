//! The n8n and webhook responders against fake endpoints.

use std::time::Duration;

use aws_lc_rs::hmac;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use keepstar::store::tenants::TenantPatch;
use keepstar::vocab::Provider;
use serde_json::{Value, json};

use crate::app::{self, Session, TestApp, Turn};
use crate::fake::{Fake, Reply};

/// The tenant's shared secret; it must never show up anywhere a visitor or an endpoint can see.
const KEY: &str = "hook-secret-7f3Kq9XzW2pLmN4v";

struct Hooked {
    app: TestApp,
    fake: Fake,
    session: Session,
}

/// The demo tenant answering through `provider` at the fake's `/webhook/abc`, its key (if any)
/// stored sealed as `keepstar tenant set --api-key-stdin` would, with `upstream` settings.
async fn hooked(
    provider: Provider,
    key: Option<&str>,
    replies: Vec<Reply>,
    upstream: &str,
) -> Hooked {
    let fake = Fake::start(replies).await;
    let provider = TenantPatch {
        provider: Some(provider),
        webhook_url: Some(Some(format!("{}/webhook/abc", fake.url))),
        ..Default::default()
    };
    let app = app::spawn_with_provider(upstream, provider, key).await;
    let session = app.session("demo", None).await;
    Hooked { app, fake, session }
}

fn ndjson(lines: &[Value]) -> Vec<u8> {
    lines
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>()
        .into_bytes()
}

fn deltas(turn: &Turn) -> Vec<String> {
    turn.events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| e.data["text"].as_str().unwrap().to_owned())
        .collect()
}

fn error(turn: &Turn) -> &Value {
    &turn
        .events
        .iter()
        .find(|e| e.event == "error")
        .unwrap_or_else(|| panic!("an error event in {:?}", turn.events))
        .data
}

/// The last two stored messages (the visitor's and the reply) as (role, text, status).
async fn last_exchange(h: &Hooked) -> Vec<(String, String, String)> {
    let history = h.app.history(&h.session, None).await;
    let messages = history["messages"].as_array().unwrap();
    messages[messages.len() - 2..]
        .iter()
        .map(|m| {
            (
                m["role"].as_str().unwrap().to_owned(),
                m["text"].as_str().unwrap().to_owned(),
                m["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The reply's stored token counts and responder.
async fn stored_usage(h: &Hooked, reply_id: &str) -> (Option<i64>, Option<i64>, String) {
    let id = reply_id.to_owned();
    h.app
        .db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT prompt_tokens, completion_tokens, responder FROM messages WHERE public_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?)
        })
        .await
        .unwrap()
}

/// Neither the events, nor the stored messages, nor anything sent upstream holds the key.
async fn assert_key_kept(h: &Hooked, turns: &[&Turn]) {
    for turn in turns {
        for e in &turn.events {
            assert!(!e.data.to_string().contains(KEY), "key in an event: {e:?}");
        }
    }
    let stored = h
        .app
        .db
        .read(|c| {
            let mut st = c.prepare("SELECT text || coalesce(formation, '') FROM messages")?;
            let rows = st.query_map([], |r| r.get::<_, String>(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
        .unwrap();
    assert!(stored.iter().all(|t| !t.contains(KEY)), "key stored");
    assert!(!app::logs().contains(KEY), "key logged");
    for r in h.fake.requests() {
        assert!(
            !String::from_utf8_lossy(&r.body).contains(KEY),
            "key in a request body"
        );
        for (name, value) in &r.headers {
            assert!(
                !value.to_str().unwrap_or("").contains(KEY),
                "key in header {name}"
            );
        }
    }
}

fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

#[derive(Debug, serde::Deserialize)]
struct Claims {
    sub: String,
    tenant: String,
    visitor: String,
    page: Option<String>,
    iat: i64,
    exp: i64,
}

#[tokio::test]
async fn n8n_gets_a_chat_trigger_call_with_a_jwt_and_its_output_is_the_reply() {
    let h = hooked(
        Provider::N8n,
        Some(KEY),
        vec![Reply::json(
            200,
            &json!({"output": "We ship to Norway in 3–5 days. 🚚\n"}),
        )],
        "",
    )
    .await;
    let turn = h.app.ask(&h.session, "Do you ship to Norway?").await;
    assert_eq!(turn.text(), "We ship to Norway in 3–5 days. 🚚");
    assert_eq!(
        last_exchange(&h).await,
        [
            (
                "visitor".into(),
                "Do you ship to Norway?".into(),
                "complete".into()
            ),
            (
                "assistant".into(),
                "We ship to Norway in 3–5 days. 🚚".into(),
                "complete".into()
            ),
        ]
    );
    // No usage in the reply: estimated at four characters a token (22 and 32 characters).
    let reply_id = turn.done()["id"].as_str().unwrap();
    assert_eq!(
        stored_usage(&h, reply_id).await,
        (Some(6), Some(8), "n8n".into())
    );

    let requests = h.fake.requests();
    assert_eq!(requests.len(), 1);
    let request = &requests[0];
    assert_eq!(request.path, "/webhook/abc");
    assert_eq!(
        request.header("content-type").as_deref(),
        Some("application/json")
    );
    let body = request.json();
    let conversation = turn.done()["conversation_id"].as_str().unwrap();
    assert_eq!(body["action"], "sendMessage");
    assert_eq!(body["sessionId"], conversation);
    assert_eq!(body["chatInput"], "Do you ship to Norway?");
    let meta = &body["metadata"];
    assert_eq!(meta["tenant"], "demo");
    assert_eq!(meta["conversation"], conversation);
    assert_eq!(meta["locale"], "en");
    assert_eq!(meta["page"]["url"], "https://shop.example/p");
    assert_eq!(meta["page"]["title"], Value::Null);
    let visitor = meta["visitor"].as_str().unwrap();
    assert!(
        visitor.starts_with("v_") && visitor.len() == 18,
        "{visitor}"
    );
    assert_ne!(visitor, h.session.visitor, "the visitor's secret leaked");

    let auth = request.header("authorization").expect("a bearer token");
    let token = auth.strip_prefix("Bearer ").expect("a bearer token");
    let mut validation = Validation::new(Algorithm::HS256);
    validation.set_audience(&["n8n"]);
    validation.set_issuer(&["keepstar"]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let claims = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(KEY.as_bytes()),
        &validation,
    )
    .expect("the JWT verifies with the tenant's key")
    .claims;
    assert_eq!(claims.sub, conversation);
    assert_eq!(claims.tenant, "demo");
    assert_eq!(claims.visitor, visitor);
    assert_eq!(claims.page.as_deref(), Some("https://shop.example/p"));
    assert_eq!(claims.exp - claims.iat, 60);
    assert!((claims.iat - now()).abs() < 120, "iat {}", claims.iat);
    assert!(
        jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(b"another key"),
            &validation
        )
        .is_err(),
        "the JWT verifies with any key"
    );

    // The next message: same conversation, same pseudonym.
    let again = h.app.ask(&h.session, "And to Sweden?").await;
    assert_eq!(again.text(), "We ship to Norway in 3–5 days. 🚚");
    let second = h.fake.requests()[1].json();
    assert_eq!(second["sessionId"], conversation);
    assert_eq!(second["metadata"]["visitor"], visitor);
    assert_key_kept(&h, &[&turn, &again]).await;
}

#[tokio::test]
async fn n8n_without_a_key_calls_unsigned_and_an_array_reply_is_read() {
    let h = hooked(
        Provider::N8n,
        None,
        vec![Reply::json(
            200,
            &json!([{"output": "Open n8n says hi"}, {"output": "ignored"}]),
        )],
        "",
    )
    .await;
    let turn = h.app.ask(&h.session, "hello").await;
    assert_eq!(turn.text(), "Open n8n says hi");
    assert_eq!(h.fake.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn an_ndjson_stream_cut_inside_characters_arrives_byte_exact() {
    let items = ["Привет, ", "путник 👋🏽 ", "你好，世界", "! Ça va?"];
    let mut lines = vec![json!({"type": "begin", "metadata": {"nodeId": "agent", "itemIndex": 0}})];
    lines.extend(
        items
            .iter()
            .map(|t| json!({"type": "item", "content": t, "metadata": {"nodeId": "agent"}})),
    );
    lines.push(json!({"type": "end", "metadata": {"nodeId": "agent"}}));
    let body = ndjson(&lines);
    // n8n streams as application/json; other endpoints say x-ndjson. Both are read as a stream.
    let h = hooked(
        Provider::N8n,
        Some(KEY),
        vec![Reply::chunked(
            "application/json; charset=utf-8",
            &body,
            5,
            Duration::from_millis(1),
        )],
        "",
    )
    .await;
    let turn = h.app.ask(&h.session, "hi").await;
    assert_eq!(deltas(&turn), items);
    assert_eq!(turn.text(), items.concat());

    h.fake.script(vec![Reply::chunked(
        "application/x-ndjson",
        &body,
        5,
        Duration::ZERO,
    )]);
    let again = h.app.ask(&h.session, "hi again").await;
    assert_eq!(deltas(&again), items);
    assert_eq!(again.text(), items.concat());
    assert_eq!(last_exchange(&h).await[1].2, "complete");
}

fn tent_cards() -> Value {
    json!({
        "v": 1,
        "kind": "cards",
        "layout": "list",
        "title": "From the workflow",
        "items": [{
            "id": "p_ext_1",
            "title": "Ridgeline 2 Tent",
            "price": {"amount": 24900, "currency": "USD", "display": "$249"},
            "actions": [{"kind": "link", "url": "https://shop.example/p/1"}]
        }],
        "fallback_text": "1. Ridgeline 2 Tent — $249"
    })
}

#[tokio::test]
async fn a_valid_formation_is_rendered_and_an_invalid_one_dropped_keeping_the_text() {
    let h = hooked(
        Provider::N8n,
        Some(KEY),
        vec![Reply::json(
            200,
            &json!({
                "output": "This one fits two.",
                "formation": tent_cards(),
                "usage": {"prompt_tokens": 120, "completion_tokens": 30}
            }),
        )],
        "",
    )
    .await;
    let turn = h.app.ask(&h.session, "a tent for two").await;
    assert_eq!(turn.text(), "This one fits two.");
    let items = turn.items();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["title"], "Ridgeline 2 Tent");
    assert_eq!(turn.formation()["title"], "From the workflow");
    assert!(turn.events.iter().any(|e| e.event == "formation"));
    // The workflow counted its tokens: those are stored, not an estimate.
    let reply_id = turn.done()["id"].as_str().unwrap();
    assert_eq!(
        stored_usage(&h, reply_id).await,
        (Some(120), Some(30), "n8n".into())
    );

    // Cards without items, and a kind no widget knows.
    for bad in [
        json!({"v": 1, "kind": "cards", "layout": "grid", "fallback_text": "x"}),
        json!({"v": 1, "kind": "hologram", "fallback_text": "x"}),
        json!("cards please"),
    ] {
        h.fake.script(vec![Reply::json(
            200,
            &json!({"output": "Still the answer.", "formation": bad}),
        )]);
        let turn = h.app.ask(&h.session, "a tent for two").await;
        assert_eq!(turn.text(), "Still the answer.", "with {bad}");
        assert_eq!(turn.formation(), &Value::Null, "with {bad}");
        assert!(!turn.events.iter().any(|e| e.event == "formation"));
        assert_eq!(last_exchange(&h).await[1].2, "complete");
    }

    // In a stream, a formation comes on a line of its own.
    h.fake.script(vec![Reply::chunked(
        "application/x-ndjson",
        &ndjson(&[
            json!({"type": "begin"}),
            json!({"type": "item", "content": "Here it is."}),
            json!({"type": "formation", "formation": tent_cards()}),
            json!({"type": "end"}),
        ]),
        7,
        Duration::ZERO,
    )]);
    let streamed = h.app.ask(&h.session, "show it").await;
    assert_eq!(streamed.text(), "Here it is.");
    assert_eq!(streamed.items()[0]["id"], "p_ext_1");
}

#[tokio::test]
async fn a_reply_can_hand_the_conversation_to_a_person() {
    let h = hooked(
        Provider::N8n,
        Some(KEY),
        vec![Reply::json(
            200,
            &json!({"output": "A colleague will take over.", "handoff": true}),
        )],
        "",
    )
    .await;
    let turn = h.app.ask(&h.session, "I want a refund").await;
    assert_eq!(turn.text(), "A colleague will take over.");
    let handoff = turn
        .events
        .iter()
        .find(|e| e.event == "handoff")
        .expect("a handoff event");
    assert_eq!(handoff.data["state"], "requested");
}

#[tokio::test]
async fn an_error_line_mid_stream_keeps_the_partial_text_as_interrupted() {
    let h = hooked(
        Provider::N8n,
        Some(KEY),
        vec![Reply::chunked(
            "application/x-ndjson",
            &ndjson(&[
                json!({"type": "begin"}),
                json!({"type": "item", "content": "Let me check "}),
                json!({"type": "item", "content": "the stock…"}),
                // Some endpoints echo what they were given; the key must go no further.
                json!({"type": "error", "content": format!("Agent crashed: bad credential {KEY}")}),
                json!({"type": "item", "content": " never relayed"}),
            ]),
            5,
            Duration::ZERO,
        )],
        "",
    )
    .await;
    let turn = h.app.ask(&h.session, "is the tent in stock?").await;
    assert_eq!(deltas(&turn).concat(), "Let me check the stock…");
    let e = error(&turn);
    assert_eq!(e["code"], "upstream_failed");
    assert_eq!(e["retryable"], true);
    assert!(
        !e["message"].as_str().unwrap().contains("Agent crashed"),
        "the upstream's words reached the visitor: {e}"
    );
    assert_eq!(
        last_exchange(&h).await,
        [
            (
                "visitor".into(),
                "is the tent in stock?".into(),
                "complete".into()
            ),
            (
                "assistant".into(),
                "Let me check the stock…".into(),
                "interrupted".into()
            ),
        ]
    );
    assert_key_kept(&h, &[&turn]).await;
}

/// HMAC-SHA256 over `"<timestamp>.<body>"`, as a webhook endpoint would check it.
fn expected_signature(key: &str, timestamp: &str, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_bytes());
    let mut message = format!("{timestamp}.").into_bytes();
    message.extend_from_slice(body);
    let tag = hmac::sign(&key, &message);
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[tokio::test]
async fn a_webhook_call_is_signed_and_its_text_reply_relayed() {
    let h = hooked(
        Provider::Webhook,
        Some(KEY),
        vec![Reply::json(200, &json!({"text": "Signed and delivered."}))],
        "",
    )
    .await;
    let turn = h.app.ask(&h.session, "Где мой заказ?").await;
    assert_eq!(turn.text(), "Signed and delivered.");
    let request = &h.fake.requests()[0];
    assert_eq!(request.header("authorization"), None);
    let timestamp = request.header("x-keepstar-timestamp").expect("a timestamp");
    let signature = request.header("x-keepstar-signature").expect("a signature");
    assert_eq!(
        signature,
        expected_signature(KEY, &timestamp, &request.body)
    );
    assert_ne!(
        signature,
        expected_signature("another key", &timestamp, &request.body)
    );
    assert!(
        (timestamp.parse::<i64>().unwrap() - now()).abs() < 120,
        "timestamp {timestamp}"
    );
    assert_eq!(request.json()["chatInput"], "Где мой заказ?");
    let reply_id = turn.done()["id"].as_str().unwrap();
    assert_eq!(stored_usage(&h, reply_id).await.2, "webhook");

    h.fake.script(vec![Reply::body(
        200,
        "text/plain; charset=utf-8",
        "\nLine one,\n\nline two.\n\n",
    )]);
    let plain = h.app.ask(&h.session, "and in plain text?").await;
    assert_eq!(plain.text(), "Line one,\n\nline two.");
    assert_key_kept(&h, &[&turn, &plain]).await;
}

#[tokio::test]
async fn a_webhook_without_a_key_fails_without_calling_out() {
    let h = hooked(
        Provider::Webhook,
        None,
        vec![Reply::json(200, &json!({"text": "unsigned"}))],
        "",
    )
    .await;
    let turn = h.app.ask(&h.session, "hello?").await;
    let e = error(&turn);
    assert_eq!(e["code"], "provider_key_missing");
    assert_eq!(e["retryable"], false);
    assert!(h.fake.requests().is_empty(), "an unsigned call went out");
    assert_eq!(
        last_exchange(&h).await,
        [
            ("visitor".into(), "hello?".into(), "complete".into()),
            ("assistant".into(), "".into(), "failed".into()),
        ]
    );

    // Without a URL, neither responder has anywhere to call.
    h.app
        .set_tenant(
            "demo",
            TenantPatch {
                provider: Some(Provider::N8n),
                webhook_url: Some(None),
                ..Default::default()
            },
        )
        .await;
    let turn = h.app.ask(&h.session, "hello again?").await;
    assert_eq!(error(&turn)["code"], "webhook_url_missing");
    assert!(h.fake.requests().is_empty());
}

#[tokio::test]
async fn a_500_is_retried_then_fails() {
    let h = hooked(
        Provider::N8n,
        Some(KEY),
        vec![Reply::json(500, &json!({"code": "workflow_crashed"}))],
        "retries = 2\nbreaker_failures = 10",
    )
    .await;
    let turn = h.app.ask(&h.session, "hello").await;
    assert_eq!(h.fake.requests().len(), 3, "one call and two retries");
    let e = error(&turn);
    assert_eq!(e["code"], "upstream_failed");
    assert_eq!(last_exchange(&h).await[1].2, "failed");
    // Each attempt is signed afresh and sends the same message.
    let bodies: Vec<_> = h.fake.requests().iter().map(|r| r.body.clone()).collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));

    // A 500 and then an answer: the visitor only sees the answer.
    h.fake.script(vec![
        Reply::json(500, &json!({})),
        Reply::json(200, &json!({"output": "Second time lucky."})),
    ]);
    let turn = h.app.ask(&h.session, "hello again").await;
    assert_eq!(turn.text(), "Second time lucky.");
    assert_eq!(h.fake.requests().len(), 5);
}

#[tokio::test]
async fn malformed_or_empty_replies_fail_the_turn() {
    let h = hooked(
        Provider::N8n,
        Some(KEY),
        vec![Reply::body(
            200,
            "application/json",
            "{\"output\": \"unterminated",
        )],
        "retries = 0",
    )
    .await;
    let replies = [
        Reply::body(200, "application/json", "{\"output\": \"unterminated"),
        Reply::body(200, "application/json", ""),
        // n8n's answer when the workflow is set to respond at once, before it ran.
        Reply::json(200, &json!({"message": "Workflow was started"})),
        Reply::body(200, "text/html", "<html><body>Sign in</body></html>"),
        Reply::chunked(
            "application/x-ndjson",
            b"{\"type\":\"begin\"}\n{\"type\":\"item\",\"content\":\"Hal",
            5,
            Duration::ZERO,
        ),
    ];
    for reply in replies {
        let what = format!("{reply:?}");
        h.fake.script(vec![reply]);
        let turn = h.app.ask(&h.session, "hello").await;
        assert_eq!(error(&turn)["code"], "upstream_malformed", "{what}");
        assert_eq!(last_exchange(&h).await[1].2, "failed", "{what}");
    }
}

#[tokio::test]
async fn a_stalled_stream_hits_the_idle_deadline() {
    let h = hooked(
        Provider::N8n,
        Some(KEY),
        vec![
            Reply::chunked(
                "application/x-ndjson",
                &ndjson(&[
                    json!({"type": "begin"}),
                    json!({"type": "item", "content": "Thinking about "}),
                    json!({"type": "item", "content": "тенты"}),
                ]),
                5,
                Duration::ZERO,
            )
            .stalled(),
        ],
        "idle_timeout_ms = 300\nretries = 0",
    )
    .await;
    let turn = h.app.ask(&h.session, "tents?").await;
    assert_eq!(deltas(&turn).concat(), "Thinking about тенты");
    assert_eq!(error(&turn)["code"], "upstream_timeout");
    assert_eq!(
        last_exchange(&h).await[1],
        (
            "assistant".into(),
            "Thinking about тенты".into(),
            "interrupted".into()
        )
    );
}
