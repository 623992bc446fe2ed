//! A panic in one request or one turn is contained: that request answers 500 in the error shape
//! (that turn ends with an `error` event), it is logged, and the server goes on serving.
//!
//! The panics come from a bus and a responder of the test's own, which no production path has.

use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use futures_util::stream::{self, BoxStream, StreamExt};
use keepstar::chat::bus::{EventBus, InProcessBus, Subscription, Topic};
use keepstar::chat::event::{ChatEvent, Envelope};
use keepstar::chat::responders::{ReplyPart, Responder, ResponderError, Turn};
use keepstar::chat::{Engine, Responders};
use keepstar::server::AppState;
use keepstar::store::tenants::Tenant;
use serde_json::Value;

use crate::app::{self, TestApp};

/// Subscribing from this event id panics.
const PANIC_AT: u64 = 4242;
const BUS_PANIC: &str = "test bus panicked at subscribe";
const TURN_PANIC: &str = "test responder panicked";

/// The in-process bus, except that subscribing from [`PANIC_AT`] panics in the caller.
#[derive(Default)]
struct PanickingBus(InProcessBus);

impl EventBus for PanickingBus {
    fn publish(&self, topic: Topic, event: &ChatEvent) -> Arc<Envelope> {
        self.0.publish(topic, event)
    }
    fn subscribe(&self, topic: Topic, last: Option<u64>) -> BoxFuture<'static, Subscription> {
        assert_ne!(last, Some(PANIC_AT), "{BUS_PANIC}");
        self.0.subscribe(topic, last)
    }
    fn position(&self, topic: Topic) -> BoxFuture<'static, u64> {
        self.0.position(topic)
    }
    fn sweep(&self, idle_us: u64) {
        self.0.sweep(idle_us);
    }
}

/// Panics when the visitor says "panic", answers "Hello" otherwise.
struct PanickingResponder;

impl Responder for PanickingResponder {
    fn name(&self) -> &'static str {
        "panicking"
    }
    fn respond(&self, turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        assert_ne!(turn.text, "panic", "{TURN_PANIC}");
        stream::iter([Ok(ReplyPart::Text("Hello".into()))]).boxed()
    }
}

impl Responders for PanickingResponder {
    fn for_tenant(&self, _tenant: &Tenant, _within_budget: bool) -> Arc<dyn Responder> {
        Arc::new(PanickingResponder)
    }
}

async fn spawn() -> TestApp {
    app::spawn_adapted(|mut state: AppState| {
        state.engine = Engine::new(
            state.db.clone(),
            Arc::new(PanickingBus::default()),
            Arc::new(PanickingResponder),
            state.shutdown.clone(),
        );
        state
    })
    .await
}

/// How often the servers of this test binary logged `needle`.
fn logged(needle: &str) -> usize {
    app::logs().matches(needle).count()
}

#[tokio::test]
async fn a_panicking_request_answers_500_and_the_server_goes_on() {
    let app = spawn().await;
    let s = app.session("demo", None).await;
    let conv = app.converse(&s, "hi").await;
    let events = format!("/api/v1/events?conversation={conv}");

    let res = app
        .get(&events)
        .bearer_auth(&s.token)
        .header("last-event-id", PANIC_AT.to_string())
        .send()
        .await
        .expect("an answer, not a dropped connection");
    assert_eq!(res.status(), 500);
    let body: Value = res.json().await.expect("the error shape");
    assert_eq!(body["error"]["code"], "internal", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.ends_with('.'), "{message}");
    assert!(!message.contains(BUS_PANIC), "internals leaked: {message}");
    assert_eq!(logged(BUS_PANIC), 1, "logged once:\n{}", app::logs());

    // The same conversation, the same requests without the panic: all answered.
    let _stream = app.events(&s, &conv, None).await;
    let turn = app.ask(&s, "hi again").await;
    assert_eq!(turn.text(), "Hello");
    assert_eq!(
        app.history(&s, Some(&conv)).await["messages"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
}

#[tokio::test]
async fn a_panicking_turn_ends_in_an_error_event_and_the_conversation_goes_on() {
    let app = spawn().await;
    let s = app.session("demo", None).await;

    // Without containment the turn never ends and neither does this stream.
    let turn = tokio::time::timeout(Duration::from_secs(10), app.ask(&s, "panic"))
        .await
        .expect("the turn's stream ends");
    let last = turn.events.last().unwrap();
    assert_eq!(last.event, "error", "{:?}", turn.events);
    assert_eq!(last.data["code"], "internal");
    assert_eq!(last.data["retryable"], true);
    let message = last.data["message"].as_str().unwrap();
    assert!(!message.contains(TURN_PANIC), "internals leaked: {message}");
    assert_eq!(logged(TURN_PANIC), 1, "logged once:\n{}", app::logs());

    let turn = app.ask(&s, "hello").await;
    assert_eq!(turn.text(), "Hello");
}
