//! The turn pipeline with a responder that fails: the visitor's message is kept, partial text is
//! stored as interrupted, and the visitor gets a retryable error.

use std::sync::Arc;
use std::time::Duration;

use futures_util::stream::{self, BoxStream, StreamExt};
use keepstar::chat::bus::InProcessBus;
use keepstar::chat::event::EventKind;
use keepstar::chat::responders::{ReplyPart, Responder, ResponderError, Turn};
use keepstar::chat::{Engine, Incoming, Responders};
use keepstar::store::conversations::{self, Page};
use keepstar::store::tenants::{self, Tenant, TenantPatch};
use keepstar::store::{Db, OnOpen};
use tokio_util::sync::CancellationToken;

/// Says "Hello, " and then either breaks or hangs.
struct Flaky {
    hang: bool,
}

impl Responder for Flaky {
    fn name(&self) -> &'static str {
        "flaky"
    }
    fn respond(&self, _turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        let first = stream::iter([Ok(ReplyPart::Text("Hello, ".into()))]);
        if self.hang {
            first.chain(stream::pending()).boxed()
        } else {
            first
                .chain(stream::iter([Err(ResponderError {
                    code: "upstream_failed",
                    message: "connection reset".into(),
                    retryable: true,
                })]))
                .boxed()
        }
    }
}

struct Only(Arc<dyn Responder>);

impl Responders for Only {
    fn for_tenant(&self, _tenant: &Tenant, _within_budget: bool) -> Arc<dyn Responder> {
        self.0.clone()
    }
}

async fn setup(
    hang: bool,
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
    let engine = Engine::new(
        db.clone(),
        Arc::new(InProcessBus::default()),
        Arc::new(Only(Arc::new(Flaky { hang }))),
        shutdown.clone(),
    );
    (dir, db, engine, shutdown, Arc::new(tenant))
}

async fn post(db: &Db, engine: &Engine, tenant: &Arc<Tenant>) -> keepstar::chat::Posted {
    let id = tenant.id;
    let (visitor, _) = db
        .write(move |c| conversations::resolve_visitor(c, id, None))
        .await
        .unwrap();
    engine
        .post(
            tenant.clone(),
            visitor,
            Incoming {
                text: "hi there".into(),
                client_id: "c1".into(),
                conversation: None,
                page: Page::default(),
            },
        )
        .await
        .unwrap()
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
    let (_dir, db, engine, _shutdown, tenant) = setup(false).await;
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
    let (_dir, db, engine, shutdown, tenant) = setup(true).await;
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
