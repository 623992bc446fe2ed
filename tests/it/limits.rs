//! What one client may hold: a request body that never ends gets 408 at its deadline and its
//! connection closed, and everyone else is served meanwhile.

use std::io::Read as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use keepstar::server::connections::OpenFiles;
use keepstar::store::tenants::TenantPatch;
use keepstar::vocab::Provider;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::app::{self, TestApp};
use crate::fake::{Fake, Reply};

/// Rate limits no test here reaches, then `extra` in the same `[limits]` table.
async fn spawn(top: &str, extra: &str) -> TestApp {
    app::spawn_with(&format!(
        "{top}\n[limits]\nsessions_per_minute_per_ip = 100000\nmessages_per_minute_per_ip = 100000\n\
         messages_per_minute_per_visitor = 100000\n{extra}"
    ))
    .await
}

/// Raises this process's open-file limit so that `needed` descriptors fit, or says why not.
fn open_files_for(needed: u64) {
    let (_, now) = OpenFiles::raise().expect("reading the open-file limit");
    assert!(
        now.soft >= needed,
        "this test needs about {needed} open files; the limit is {} (hard {})",
        now.soft,
        now.hard
    );
}

fn addr(app: &TestApp) -> SocketAddr {
    app.url.trim_start_matches("http://").parse().unwrap()
}

/// Everything the server sends until it closes the connection (a connection it leaves open
/// fails the 10 s deadline).
async fn until_closed(tcp: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut seen))
        .await
        .expect("the server closes the connection")
        .expect("a clean close, not a reset");
    String::from_utf8_lossy(&seen).into_owned()
}

/// A refusal in the error shape with `code`, on a connection that then closes.
fn assert_refused(answer: &str, status: &str, code: &str) {
    let lower = answer.to_lowercase();
    assert!(lower.starts_with(&format!("http/1.1 {status}")), "{answer}");
    assert!(lower.contains("connection: close"), "{answer}");
    let body = &answer[answer.find("\r\n\r\n").expect("a head") + 4..];
    let body: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(body["error"]["code"], code, "{answer}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
}

/// The first part of a `POST /api/v1/sessions` whose body never ends: with a `Content-Length`
/// it will not reach, or chunked without a last chunk.
fn stalled_request(chunked: bool) -> String {
    let part = r#"{"tenant":"demo","#;
    let framing = if chunked {
        format!(
            "transfer-encoding: chunked\r\n\r\n{:x}\r\n{part}\r\n",
            part.len()
        )
    } else {
        format!("content-length: 200\r\n\r\n{part}")
    };
    format!(
        "POST /api/v1/sessions HTTP/1.1\r\nhost: chat\r\norigin: {}\r\n\
         content-type: application/json\r\n{framing}",
        app::ORIGIN
    )
}

#[tokio::test]
async fn stalled_bodies_get_408_at_their_deadline_while_idle_connections_wait_and_a_visitor_is_served()
 {
    const IDLE: usize = 1000;
    const STALLED: usize = 300;
    const DRIPPING: usize = 5;
    // Both ends of every connection are in this process.
    open_files_for(2 * (IDLE + STALLED + DRIPPING) as u64 + 1024);
    let app = spawn("", "request_body_timeout_secs = 1").await;
    let mut idle = Vec::with_capacity(IDLE);
    for _ in 0..IDLE {
        idle.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    let mut stalled = Vec::with_capacity(STALLED);
    for i in 0..STALLED {
        let mut tcp = TcpStream::connect(addr(&app)).await.unwrap();
        tcp.write_all(stalled_request(i % 3 == 0).as_bytes())
            .await
            .unwrap();
        stalled.push((Instant::now(), tcp));
    }
    // A body that never pauses for long but never ends either: one byte every 200 ms.
    let mut dripping = Vec::new();
    for _ in 0..DRIPPING {
        let mut tcp = TcpStream::connect(addr(&app)).await.unwrap();
        tcp.write_all(stalled_request(false).as_bytes())
            .await
            .unwrap();
        let sent = Instant::now();
        dripping.push(tokio::spawn(async move {
            let (mut reader, mut writer) = tcp.into_split();
            let drip = async {
                let mut every = tokio::time::interval(Duration::from_millis(200));
                loop {
                    every.tick().await;
                    if writer.write_all(b" ").await.is_err() {
                        break;
                    }
                }
            };
            let mut answer = Vec::new();
            tokio::select! {
                () = drip => {}
                read = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut answer)) => {
                    read.expect("the server closes a dripping body").unwrap();
                }
            }
            (sent.elapsed(), String::from_utf8_lossy(&answer).into_owned())
        }));
    }

    // Meanwhile a visitor opens a session and gets their answer.
    let s = app.session("demo", None).await;
    let turn = app.ask(&s, "tents under $300").await;
    assert!(!turn.items().is_empty());

    let answers =
        futures_util::future::join_all(stalled.into_iter().map(|(sent, mut tcp)| async move {
            let answer = until_closed(&mut tcp).await;
            (sent.elapsed(), answer)
        }))
        .await;
    let answers = answers.into_iter().chain(
        futures_util::future::join_all(dripping)
            .await
            .into_iter()
            .map(Result::unwrap),
    );
    for (waited, answer) in answers {
        assert_refused(&answer, "408", "body_timeout");
        assert!(waited >= Duration::from_secs(1), "closed after {waited:?}");
    }
    // The idle connections are still open: the body deadline is not theirs.
    for tcp in &idle {
        // Straight to the socket: tokio has not polled these for readiness.
        let read = (&*socket2::SockRef::from(tcp)).read(&mut [0u8; 1]);
        assert!(
            matches!(&read, Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
            "{read:?}"
        );
    }
}

#[tokio::test]
async fn a_reply_and_an_event_stream_longer_than_the_body_deadline_are_not_cut() {
    // n8n's streamed NDJSON, a line every 400 ms: the reply takes 2 s.
    let lines = ["Still ", "here, ", "a ", "while ", "later."];
    let reply = Reply {
        status: 200,
        headers: vec![("content-type", "application/x-ndjson".into())],
        chunks: lines
            .iter()
            .map(|t| {
                let line = json!({"type": "item", "content": t});
                (Duration::from_millis(400), format!("{line}\n").into_bytes())
            })
            .collect(),
        stall: false,
    };
    let fake = Fake::start(vec![reply]).await;
    let app = spawn("", "request_body_timeout_secs = 1").await;
    app.set_tenant(
        "demo",
        TenantPatch {
            provider: Some(Provider::N8n),
            webhook_url: Some(Some(format!("{}/webhook/abc", fake.url))),
            ..Default::default()
        },
    )
    .await;
    let s = app.session("demo", None).await;
    let conversation = app.converse(&s, "hello").await;
    let mut stream = app.events(&s, &conversation, Some("0")).await;
    stream.until_done().await;
    let turn = app.ask(&s, "and now?").await;
    assert_eq!(turn.text(), lines.concat());
    let events = stream.until_done().await;
    assert!(events.iter().any(|e| e.event == "done"), "{events:?}");
}
