//! A real keepstar server on port 0 with a temp data dir, the demo tenants loaded, and an HTTP
//! client that reads Server-Sent Events.

use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use keepstar::config::{Config, Overrides};
use keepstar::server::{self, AppState};
use keepstar::store::{Db, OnOpen, keys, tenants};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

pub const ORIGIN: &str = "https://shop.example";

pub struct TestApp {
    pub dir: tempfile::TempDir,
    pub url: String,
    pub db: Db,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Extra lines for keepstar.toml (top-level keys first, then tables such as `[limits]`).
pub async fn spawn_with(extra_config: &str) -> TestApp {
    spawn_configured(extra_config, |state| state).await
}

/// A server over state that `adapt` changed first (to give it an engine of the test's own).
pub async fn spawn_adapted(adapt: impl FnOnce(AppState) -> AppState) -> TestApp {
    spawn_configured(TEST_LIMITS, adapt).await
}

async fn spawn_configured(extra_config: &str, adapt: impl FnOnce(AppState) -> AppState) -> TestApp {
    let dir = tempfile::tempdir().unwrap();
    let mut config = keepstar::config::initial_file("https://chat.example.com", Path::new("data"));
    if extra_config.contains("trusted_proxies") {
        config = config.replace("trusted_proxies = []\n", "");
    }
    // Top-level keys go before the file's own; tables ([limits], [upstream]) after it.
    let tables = if extra_config.starts_with('[') {
        Some(0)
    } else {
        extra_config.find("\n[")
    };
    let (top, table) = match tables {
        Some(at) => extra_config.split_at(at),
        None => (extra_config, ""),
    };
    let config = format!("{top}\n{config}\n{table}\n");
    std::fs::write(dir.path().join("keepstar.toml"), config).unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let app = start(dir, adapt).await;
    keepstar::demo::ensure(&app.db, ORIGIN).await.unwrap();
    app
}

/// Limits no test reaches by accident.
const TEST_LIMITS: &str = "[limits]\nsessions_per_minute_per_ip = 1000\nmessages_per_minute_per_ip = 1000\nmessages_per_minute_per_visitor = 1000";

pub async fn spawn() -> TestApp {
    spawn_with(TEST_LIMITS).await
}

/// A server whose demo tenant is set with `provider` (its provider, model, URL), `key` stored
/// as its provider key the way `tenant set --api-key-stdin` does, and `upstream` as the
/// config's `[upstream]` table.
pub async fn spawn_with_provider(
    upstream: &str,
    provider: tenants::TenantPatch,
    key: Option<&str>,
) -> TestApp {
    let app = spawn_with(&format!("{TEST_LIMITS}\n[upstream]\n{upstream}")).await;
    app.set_tenant("demo", provider).await;
    if let Some(key) = key {
        app.store_provider_key("demo", key).await;
    }
    app
}

/// Everything the servers of this test binary logged so far (debug level for keepstar), for
/// checking that secrets never reach the logs.
pub fn logs() -> String {
    String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned()
}

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buffer = Arc::new(Mutex::new(Vec::new()));
        let sink = buffer.clone();
        let _ = tracing_subscriber::fmt()
            .with_env_filter("keepstar=debug,tower_http=debug,info")
            .with_ansi(false)
            .with_writer(move || LogSink(sink.clone()))
            .try_init();
        buffer
    })
}

struct LogSink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

async fn start(dir: tempfile::TempDir, adapt: impl FnOnce(AppState) -> AppState) -> TestApp {
    log_buffer();
    let config = Config::load(&dir.path().join("keepstar.toml"), &Overrides::default()).unwrap();
    let db = Db::open(&config.db_path(), OnOpen::Migrate).unwrap();
    let shutdown = CancellationToken::new();
    let state = adapt(AppState::build(db.clone(), config, shutdown.clone(), true).unwrap());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(server::serve(state, listener, shutdown.clone()));
    TestApp {
        dir,
        url,
        db,
        http: reqwest::Client::new(),
        shutdown,
        server,
    }
}

impl TestApp {
    /// Stops the server (as SIGTERM would) and starts a new one on the same data.
    pub async fn restart(self) -> TestApp {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        start(self.dir, |state| state).await
    }

    /// Shuts down and says how long serve took to return.
    pub async fn stop(self) -> Duration {
        let started = std::time::Instant::now();
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(15), self.server)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        started.elapsed()
    }

    pub async fn public_key(&self, slug: &str) -> String {
        let slug = slug.to_owned();
        self.db
            .read(move |c| {
                let t = tenants::get(c, &slug)?;
                Ok(keys::active_public(c, t.id)?.unwrap().public_key.unwrap())
            })
            .await
            .unwrap()
    }

    /// Changes a tenant's settings (its provider, say), as `keepstar tenant set` would.
    pub async fn set_tenant(&self, slug: &str, patch: tenants::TenantPatch) -> tenants::Tenant {
        let slug = slug.to_owned();
        self.db
            .write(move |c| tenants::update(c, &slug, &patch))
            .await
            .unwrap()
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .post(format!("{}{path}", self.url))
            .header("origin", ORIGIN)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.http
            .get(format!("{}{path}", self.url))
            .header("origin", ORIGIN)
    }

    /// Opens a session for a demo tenant; `visitor` continues an earlier visitor.
    pub async fn session(&self, slug: &str, visitor: Option<&str>) -> Session {
        let key = self.public_key(slug).await;
        let res = self
            .post("/api/v1/sessions")
            .json(&json!({ "tenant": slug, "key": key, "visitor": visitor, "page": { "url": "https://shop.example/p" } }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let body: Value = res.json().await.unwrap();
        Session {
            token: body["token"].as_str().unwrap().to_owned(),
            visitor: body["visitor"].as_str().unwrap().to_owned(),
            conversation: body["conversation"].as_str().map(String::from),
            body,
        }
    }

    /// Posts a message and returns the 202 body.
    pub async fn send(&self, s: &Session, text: &str) -> Value {
        let res = self
            .post("/api/v1/messages")
            .bearer_auth(&s.token)
            .json(&json!({ "text": text, "client_id": uuid() }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "{}", res.text().await.unwrap());
        res.json().await.unwrap()
    }

    /// Posts a message and returns the id of the conversation it went to.
    pub async fn converse(&self, s: &Session, text: &str) -> String {
        let posted = self.send(s, text).await;
        posted["conversation"].as_str().unwrap().to_owned()
    }

    /// Posts a message with `Accept: text/event-stream` and returns the turn's events.
    pub async fn ask(&self, s: &Session, text: &str) -> Turn {
        let res = self
            .post("/api/v1/messages")
            .bearer_auth(&s.token)
            .header("accept", "text/event-stream")
            .json(&json!({ "text": text, "client_id": uuid() }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        let mut stream = SseStream::new(res);
        let mut events = Vec::new();
        while let Some(e) = stream.next().await {
            events.push(e);
        }
        Turn { events }
    }

    /// The visitor's history (`GET /api/v1/messages`, optionally of one conversation).
    pub async fn history(&self, s: &Session, conversation: Option<&str>) -> Value {
        let path = match conversation {
            Some(c) => format!("/api/v1/messages?conversation={c}"),
            None => "/api/v1/messages".to_owned(),
        };
        let res = self.get(&path).bearer_auth(&s.token).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    pub async fn events(
        &self,
        s: &Session,
        conversation: &str,
        last_event_id: Option<&str>,
    ) -> SseStream {
        let mut req = self
            .get(&format!("/api/v1/events?conversation={conversation}"))
            .bearer_auth(&s.token);
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
        SseStream::new(res)
    }
}

pub struct Session {
    pub token: String,
    pub visitor: String,
    pub conversation: Option<String>,
    pub body: Value,
}

pub fn uuid() -> String {
    keepstar::token::random_base62(22)
}

#[derive(Debug, Clone)]
pub struct SseEvent {
    pub id: Option<String>,
    pub event: String,
    pub data: Value,
}

/// The events of one turn.
pub struct Turn {
    pub events: Vec<SseEvent>,
}

impl Turn {
    pub fn done(&self) -> &Value {
        &self
            .events
            .iter()
            .find(|e| e.event == "done")
            .expect("a done event")
            .data["message"]
    }
    pub fn text(&self) -> String {
        self.done()["text"].as_str().unwrap().to_owned()
    }
    pub fn formation(&self) -> &Value {
        &self.done()["formation"]
    }
    /// The card items of the reply's formation.
    pub fn items(&self) -> Vec<Value> {
        let f = self.formation();
        assert_eq!(
            f["kind"],
            "cards",
            "expected cards, got {f} for reply {:?}",
            self.text()
        );
        f["items"].as_array().unwrap().clone()
    }
}

/// Reads `text/event-stream` bytes into events, across arbitrary chunk boundaries.
pub struct SseStream {
    response: reqwest::Response,
    buffer: Vec<u8>,
}

impl SseStream {
    pub fn new(response: reqwest::Response) -> SseStream {
        SseStream {
            response,
            buffer: Vec::new(),
        }
    }

    /// The next event, or None when the stream ends (or nothing comes for 10 s).
    pub async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(end) = self.buffer.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.buffer.drain(..end + 2).collect();
                let text = String::from_utf8(block).expect("events are UTF-8");
                let mut event = SseEvent {
                    id: None,
                    event: "message".into(),
                    data: Value::Null,
                };
                let mut data = String::new();
                let mut any = false;
                for line in text.lines() {
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("event:") {
                        event.event = v.trim().to_owned();
                        any = true;
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.strip_prefix(' ').unwrap_or(v));
                        any = true;
                    }
                }
                if !any {
                    continue; // a keep-alive comment
                }
                event.data = serde_json::from_str(&data).unwrap_or(Value::String(data));
                return Some(event);
            }
            let chunk = tokio::time::timeout(Duration::from_secs(10), self.response.chunk())
                .await
                .ok()?;
            match chunk {
                Ok(Some(bytes)) => self.buffer.extend_from_slice(&bytes),
                _ => return None,
            }
        }
    }

    /// Events up to and including the first `done` or `error`.
    pub async fn until_done(&mut self) -> Vec<SseEvent> {
        let mut events = Vec::new();
        while let Some(e) = self.next().await {
            let end = e.event == "done" || e.event == "error";
            events.push(e);
            if end {
                break;
            }
        }
        events
    }
}

/// A message as stored, with what the engine recorded about the reply.
#[derive(Debug, Clone)]
pub struct Stored {
    pub role: String,
    pub text: String,
    pub status: String,
    pub responder: Option<String>,
    /// The formation's JSON.
    pub formation: Option<String>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_micros: Option<i64>,
}

impl TestApp {
    /// Sets the tenant's prices per 1 000 tokens, in millionths.
    pub async fn set_prices(&self, slug: &str, prompt_micros: i64, completion_micros: i64) {
        let patch = tenants::TenantPatch {
            price_prompt_micros: Some(Some(prompt_micros)),
            price_completion_micros: Some(Some(completion_micros)),
            ..Default::default()
        };
        self.set_tenant(slug, patch).await;
    }

    /// Seals `key` with the config's encryption_key and stores it as the tenant's provider key.
    pub async fn store_provider_key(&self, slug: &str, key: &str) {
        let config = Config::load(
            &self.dir.path().join("keepstar.toml"),
            &Overrides::default(),
        )
        .unwrap();
        let sealer = keepstar::seal::Sealer::new(config.encryption_key.as_ref().unwrap());
        let slug = slug.to_owned();
        let key = key.to_owned();
        self.db
            .write(move |c| {
                let tenant = tenants::get(c, &slug)?;
                let patch = tenants::TenantPatch {
                    api_key_sealed: Some(Some(sealer.seal(tenant.id, &key))),
                    ..Default::default()
                };
                tenants::update(c, &slug, &patch)
            })
            .await
            .unwrap();
    }

    /// Every message of the tenant, oldest first.
    pub async fn stored(&self, slug: &str) -> Vec<Stored> {
        let slug = slug.to_owned();
        self.db
            .read(move |c| {
                let tenant = tenants::get(c, &slug)?;
                let mut stmt = c.prepare(
                    "SELECT role, text, status, responder, formation, prompt_tokens, completion_tokens, cost_micros
                     FROM messages WHERE tenant_id = ?1 ORDER BY id",
                )?;
                let rows = stmt
                    .query_map([tenant.id], |r| {
                        Ok(Stored {
                            role: r.get(0)?,
                            text: r.get(1)?,
                            status: r.get(2)?,
                            responder: r.get(3)?,
                            formation: r.get(4)?,
                            prompt_tokens: r.get(5)?,
                            completion_tokens: r.get(6)?,
                            cost_micros: r.get(7)?,
                        })
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .await
            .unwrap()
    }
}

impl Turn {
    /// The texts of the `delta` events, joined.
    pub fn deltas(&self) -> String {
        self.events
            .iter()
            .filter(|e| e.event == "delta")
            .map(|e| e.data["text"].as_str().unwrap())
            .collect()
    }

    /// The `error` event that ended the turn.
    pub fn error(&self) -> &Value {
        &self
            .events
            .iter()
            .find(|e| e.event == "error")
            .unwrap_or_else(|| panic!("no error event in {:?}", self.events))
            .data
    }
}
