//! The engine on its own: a responder that fails (the visitor's message is kept, partial text is
//! stored as interrupted, the visitor gets a retryable error), a person taking a conversation
//! over and handing it back, and the engine over an event bus of the tests' own.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::future::{self, BoxFuture, FutureExt};
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use keepstar::chat::bus::{EventBus, InProcessBus, Lagged, Subscription, Topic};
use keepstar::chat::event::{ChatEvent, Envelope, EventKind};
use keepstar::chat::responders::{ReplyPart, Responder, ResponderError, Turn};
use keepstar::chat::{
    ChatError, Delivery, Engine, Incoming, Operator, Posted, Responders, Takeover,
};
use keepstar::store::conversations::{self, ConversationStatus, Page, Role, Visitor};
use keepstar::store::tenants::{self, Tenant, TenantPatch};
use keepstar::store::{Db, OnOpen};
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// What the test responder does: says "Hello, " and then breaks or hangs, or says "Hello!".
#[derive(Clone, Copy)]
enum Script {
    Breaks,
    Hangs,
    Greets,
}

impl Responder for Script {
    fn name(&self) -> &'static str {
        "script"
    }
    fn respond(&self, _turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        let first = stream::iter([Ok(ReplyPart::Text("Hello, ".into()))]);
        match self {
            Script::Hangs => first.chain(stream::pending()).boxed(),
            Script::Breaks => first
                .chain(stream::iter([Err(ResponderError {
                    code: "upstream_failed",
                    message: "connection reset".into(),
                    retryable: true,
                })]))
                .boxed(),
            Script::Greets => stream::iter([Ok(ReplyPart::Text("Hello!".into()))]).boxed(),
        }
    }
}

impl Responders for Script {
    fn for_tenant(&self, _tenant: &Tenant, _within_budget: bool) -> Arc<dyn Responder> {
        Arc::new(*self)
    }
}

async fn setup(
    script: Script,
) -> (
    tempfile::TempDir,
    Db,
    Engine,
    CancellationToken,
    Arc<Tenant>,
) {
    setup_on(script, Arc::new(InProcessBus::default())).await
}

async fn setup_on(
    script: Script,
    bus: Arc<dyn EventBus>,
) -> (
    tempfile::TempDir,
    Db,
    Engine,
    CancellationToken,
    Arc<Tenant>,
) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("k.db"), OnOpen::Migrate).unwrap();
    let tenant = db
        .write(|c| tenants::insert(c, "shop", "Shop", &TenantPatch::default()))
        .await
        .unwrap();
    let shutdown = CancellationToken::new();
    let engine = Engine::new(db.clone(), bus, Arc::new(script), shutdown.clone());
    (dir, db, engine, shutdown, Arc::new(tenant))
}

async fn post(db: &Db, engine: &Engine, tenant: &Arc<Tenant>) -> Posted {
    let visitor = new_visitor(db, tenant).await;
    say(engine, tenant, &visitor, "hi there", "c1").await
}

async fn stored(db: &Db, conversation: i64, tenant: i64) -> Vec<(String, String, String)> {
    db.read(move |c| {
        let mut stmt = c.prepare("SELECT role, text, status FROM messages WHERE conversation_id = ?1 AND tenant_id = ?2 ORDER BY id")?;
        let rows = stmt
            .query_map([conversation, tenant], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    })
    .await
    .unwrap()
}

async fn wait_for_reply(db: &Db, conversation: i64, tenant: i64) -> Vec<(String, String, String)> {
    for _ in 0..100 {
        let rows = stored(db, conversation, tenant).await;
        if rows.len() == 2 {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no reply stored");
}

#[tokio::test]
async fn a_broken_responder_leaves_interrupted_text_and_a_retryable_error() {
    let (_dir, db, engine, _shutdown, tenant) = setup(Script::Breaks).await;
    let posted = post(&db, &engine, &tenant).await;
    let conversation = posted.conversation.id;
    let rows = wait_for_reply(&db, conversation, tenant.id).await;
    assert_eq!(
        rows[0],
        ("visitor".into(), "hi there".into(), "complete".into())
    );
    assert_eq!(
        rows[1],
        ("assistant".into(), "Hello, ".into(), "interrupted".into())
    );
    // The engine publishes the error right after storing the reply, so it may still be on its way.
    let events = engine
        .subscribe(&posted.conversation, posted.echo_id)
        .await
        .unwrap();
    let mut events = std::pin::pin!(events);
    let error = loop {
        let next = tokio::time::timeout(Duration::from_secs(10), events.next());
        let event = next
            .await
            .expect("an error event")
            .expect("the stream goes on");
        if event.kind == EventKind::Error {
            break event;
        }
    };
    let data: serde_json::Value = serde_json::from_str(&error.data).unwrap();
    assert_eq!(data["retryable"], true);
    assert!(
        !data["message"]
            .as_str()
            .unwrap()
            .contains("connection reset"),
        "internals leaked: {data}"
    );
}

#[tokio::test]
async fn shutdown_mid_reply_stores_what_was_said() {
    let (_dir, db, engine, shutdown, tenant) = setup(Script::Hangs).await;
    let conversation = post(&db, &engine, &tenant).await.conversation.id;
    tokio::time::sleep(Duration::from_millis(100)).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(5), engine.drain())
        .await
        .expect("turns drain");
    let rows = stored(&db, conversation, tenant.id).await;
    assert_eq!(
        rows[1],
        ("assistant".into(), "Hello, ".into(), "interrupted".into())
    );
}

async fn new_visitor(db: &Db, tenant: &Tenant) -> Visitor {
    let id = tenant.id;
    db.write(move |c| conversations::resolve_visitor(c, id, None))
        .await
        .unwrap()
        .0
}

async fn say(
    engine: &Engine,
    tenant: &Arc<Tenant>,
    visitor: &Visitor,
    text: &str,
    client_id: &str,
) -> Posted {
    engine
        .post(
            tenant.clone(),
            visitor.clone(),
            Incoming {
                text: text.into(),
                client_id: client_id.into(),
                conversation: None,
                page: Page::default(),
            },
        )
        .await
        .unwrap()
}

/// The stream's events up to the first that `wanted` picks, which is returned as JSON.
async fn until(
    events: &mut (impl Stream<Item = Delivery> + Unpin),
    kind: EventKind,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> (Vec<EventKind>, serde_json::Value) {
    let mut seen = Vec::new();
    loop {
        let next = tokio::time::timeout(Duration::from_secs(10), events.next());
        let event = next
            .await
            .expect("the event comes")
            .expect("the stream goes on");
        seen.push(event.kind);
        let data: serde_json::Value = serde_json::from_str(&event.data).unwrap();
        if event.kind == kind && wanted(&data) {
            return (seen, data);
        }
    }
}

fn anna() -> Operator {
    Operator {
        user_id: None,
        name: "Anna".into(),
        actor: "operator Anna".into(),
    }
}

#[tokio::test]
async fn a_person_takes_over_answers_and_hands_back() {
    let (_dir, db, engine, _shutdown, tenant) = setup(Script::Greets).await;
    let visitor = new_visitor(&db, &tenant).await;
    let first = say(&engine, &tenant, &visitor, "hi", "c1").await;
    assert!(first.reply_id.is_some(), "the AI answers at first");
    let conv = first.conversation.clone();
    let events = engine.subscribe(&conv, first.echo_id).await.unwrap();
    let mut events = std::pin::pin!(events);
    until(&mut events, EventKind::Done, |_| true).await;

    let taken = engine
        .take_over(&tenant, conv.clone(), anna(), Takeover::Ask)
        .await
        .unwrap();
    assert_eq!(taken.status, ConversationStatus::Human);
    let (_, joined) = until(&mut events, EventKind::Handoff, |_| true).await;
    assert_eq!(joined["state"], "active");
    assert_eq!(joined["operator"], "Anna");

    let asked = say(&engine, &tenant, &visitor, "is anyone there?", "c2").await;
    assert!(
        asked.reply_id.is_none(),
        "no responder runs while a person has it"
    );
    let reply = engine
        .reply_as_operator(
            &tenant,
            conv.clone(),
            anna(),
            "  Yes, Anna here.  ",
            Takeover::Ask,
        )
        .await
        .unwrap();
    assert_eq!(reply.role, Role::Operator);
    assert_eq!(reply.text, "Yes, Anna here.");
    let (seen, live) = until(&mut events, EventKind::Message, |m| m["role"] == "operator").await;
    assert!(!seen.contains(&EventKind::Delta), "no AI reply: {seen:?}");
    assert_eq!(live["operator_name"], "Anna");
    let stored = engine
        .history(&visitor, Some(conv.public_id.clone()), None, 50)
        .await
        .unwrap();
    let last = stored.messages.last().unwrap();
    assert_eq!(
        (last.role, last.operator_name.as_deref()),
        (Role::Operator, Some("Anna"))
    );

    let back = engine
        .hand_back(&tenant, conv.clone(), anna())
        .await
        .unwrap();
    assert_eq!(back.status, ConversationStatus::Ai);
    let (_, ended) = until(&mut events, EventKind::Handoff, |_| true).await;
    assert_eq!(ended["state"], "ended");
    let thanked = say(&engine, &tenant, &visitor, "thanks", "c3").await;
    assert!(thanked.reply_id.is_some(), "the AI answers again");

    let closed = engine.close(&tenant, conv.clone(), anna()).await.unwrap();
    assert_eq!(closed.status, ConversationStatus::Closed);
    let refused = engine.hand_back(&tenant, conv.clone(), anna()).await;
    assert!(
        matches!(
            refused,
            Err(ChatError::Conflict {
                code: "conversation_closed",
                ..
            })
        ),
        "{refused:?}"
    );
    let audited = db
        .read(|c| {
            let mut stmt = c.prepare(
                "SELECT action, actor FROM audit_log WHERE action LIKE 'conversation.%' ORDER BY id",
            )?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
        .unwrap();
    let actions: Vec<&str> = audited.iter().map(|(a, _)| a.as_str()).collect();
    assert_eq!(
        actions,
        [
            "conversation.take_over",
            "conversation.hand_back",
            "conversation.close"
        ],
        "one entry per change; a reply while she has it changes nothing"
    );
    assert!(audited.iter().all(|(_, actor)| actor == "operator Anna"));
}

/// An event bus of the tests' own, as plain as one can be: every event kept in one list, live
/// ones over a broadcast channel, ids counting up from 1 in each topic.
struct PlainBus {
    sent: Mutex<Vec<(Topic, Arc<Envelope>)>>,
    live: broadcast::Sender<(Topic, Arc<Envelope>)>,
}

impl EventBus for PlainBus {
    fn publish(&self, topic: Topic, event: &ChatEvent) -> Arc<Envelope> {
        let mut sent = self.sent.lock().unwrap();
        let id = sent.iter().filter(|(t, _)| *t == topic).count() as u64 + 1;
        let envelope = Arc::new(Envelope::new(id, event));
        sent.push((topic, envelope.clone()));
        let _ = self.live.send((topic, envelope.clone()));
        envelope
    }

    fn subscribe(
        &self,
        conversation: Topic,
        last_event_id: Option<u64>,
    ) -> BoxFuture<'static, Subscription> {
        let sent = self.sent.lock().unwrap();
        let rx = self.live.subscribe();
        let replay = sent
            .iter()
            .filter(|(c, e)| *c == conversation && last_event_id.is_some_and(|l| e.id > l))
            .map(|(_, e)| e.clone())
            .collect();
        let live = stream::unfold(rx, move |mut rx| async move {
            loop {
                match rx.recv().await {
                    Ok((c, e)) if c == conversation => return Some((Ok(e), rx)),
                    Ok(_) => {}
                    Err(broadcast::error::RecvError::Lagged(_)) => return Some((Err(Lagged), rx)),
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        future::ready(Subscription {
            replay,
            gap: false,
            live: live.boxed(),
        })
        .boxed()
    }

    fn position(&self, conversation: Topic) -> BoxFuture<'static, u64> {
        let sent = self.sent.lock().unwrap();
        let last = sent.iter().rev().find(|(c, _)| *c == conversation);
        future::ready(last.map_or(0, |(_, e)| e.id)).boxed()
    }

    fn sweep(&self, _idle_us: u64) {}
}

#[tokio::test]
async fn the_engine_runs_over_another_event_bus() {
    let bus = Arc::new(PlainBus {
        sent: Mutex::default(),
        live: broadcast::channel(1024).0,
    });
    let (_dir, db, engine, _shutdown, tenant) = setup_on(Script::Greets, bus.clone()).await;
    let visitor = new_visitor(&db, &tenant).await;
    let posted = say(&engine, &tenant, &visitor, "hi", "c1").await;
    assert_eq!(posted.echo_id, Some(1), "the ids are the bus's own");
    let conv = posted.conversation.clone();
    let follow = engine.follow_turn(posted).await;
    let kinds: Vec<EventKind> = follow.map(|d| d.kind).collect().await;
    assert_eq!(
        kinds,
        [
            EventKind::Message,
            EventKind::Typing,
            EventKind::Delta,
            EventKind::Typing,
            EventKind::Done
        ]
    );
    // A stream resumed after the delta gets exactly what followed it.
    let resumed = engine.subscribe(&conv, Some(3)).await.unwrap();
    let mut resumed = std::pin::pin!(resumed);
    let (seen, done) = until(&mut resumed, EventKind::Done, |_| true).await;
    assert_eq!(seen, [EventKind::Typing, EventKind::Done]);
    assert_eq!(done["message"]["text"], "Hello!");
    let history = engine.history(&visitor, None, None, 50).await.unwrap();
    assert_eq!(
        history.position,
        Some(5),
        "history reads at the bus's position"
    );
}
