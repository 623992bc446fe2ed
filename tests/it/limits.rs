//! What one client may hold: a request body that never ends gets 408 at its deadline and its
//! connection closed, connections past the cap of one client address are refused (the peer's,
//! or behind a trusted proxy the `X-Forwarded-For` client's), and everyone else is served
//! meanwhile.

use std::io::Read as _;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use keepstar::server::connections::OpenFiles;
use keepstar::store::tenants::TenantPatch;
use keepstar::vocab::Provider;
use serde_json::json;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpSocket, TcpStream};

use crate::app::{self, Session, TestApp};
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

/// A connection to the server from `from` (any address of 127.0.0.0/8 is this machine).
async fn connect_from(app: &TestApp, from: [u8; 4]) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::from((from, 0))).unwrap();
    socket.connect(addr(app)).await.unwrap()
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

/// Sends `GET /healthz` on a keep-alive connection and reads the answer.
async fn healthz(tcp: &mut TcpStream, forwarded_for: Option<&str>) -> String {
    let xff = forwarded_for.map_or(String::new(), |ip| format!("x-forwarded-for: {ip}\r\n"));
    let request = format!("GET /healthz HTTP/1.1\r\nhost: chat\r\n{xff}\r\n");
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    while !(seen.ends_with(b"\r\n\r\nok") || seen.ends_with(b"}}")) {
        let mut buf = [0u8; 1024];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("an answer")
            .unwrap();
        assert!(n > 0, "closed after {:?}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).into_owned()
}

/// `GET /api/v1/events` of `conversation` through `http` (a tab's own connections), open.
async fn event_stream(
    http: &reqwest::Client,
    app: &TestApp,
    s: &Session,
    conversation: &str,
) -> reqwest::Response {
    let url = format!("{}/api/v1/events?conversation={conversation}", app.url);
    let res = http
        .get(url)
        .header("origin", app::ORIGIN)
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res
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
    let app = spawn(
        "",
        "request_body_timeout_secs = 1\nmax_connections_per_ip = 100000",
    )
    .await;
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

#[tokio::test]
async fn connections_past_the_cap_of_one_address_are_refused_and_other_addresses_served() {
    let app = spawn("", "max_connections_per_ip = 3").await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut tcp = connect_from(&app, [127, 0, 0, 1]).await;
        assert!(healthz(&mut tcp, None).await.ends_with("ok"));
        held.push(tcp);
    }
    // Answered at once, without a request.
    let mut over = connect_from(&app, [127, 0, 0, 1]).await;
    assert_refused(
        &until_closed(&mut over).await,
        "429",
        "too_many_connections",
    );
    // Another address is served, also on a second connection.
    for _ in 0..2 {
        let mut other = connect_from(&app, [127, 0, 0, 2]).await;
        assert!(healthz(&mut other, None).await.ends_with("ok"));
    }
    // One closes, and its address may connect again.
    drop(held.pop());
    let started = Instant::now();
    loop {
        let mut tcp = connect_from(&app, [127, 0, 0, 1]).await;
        let request = b"GET /healthz HTTP/1.1\r\nhost: chat\r\nconnection: close\r\n\r\n";
        let _ = tcp.write_all(request).await;
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer).await;
        if answer.ends_with(b"ok") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "still refused: {}",
            String::from_utf8_lossy(&answer)
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_connections_count_per_forwarded_client() {
    let app = spawn(
        "trusted_proxies = [\"127.0.0.1\"]",
        "max_connections_per_ip = 3",
    )
    .await;
    let s = app.session("demo", None).await;
    let conversation = app.converse(&s, "hi").await;
    // Many clients' connections come from the proxy's one address.
    let proxied = |client: &str| {
        reqwest::Client::builder()
            .default_headers(
                [("x-forwarded-for".parse().unwrap(), client.parse().unwrap())]
                    .into_iter()
                    .collect(),
            )
            .build()
            .unwrap()
    };
    // Client A's three tabs, each with its event stream.
    let mut streams = Vec::new();
    for _ in 0..3 {
        streams.push(event_stream(&proxied("203.0.113.1"), &app, &s, &conversation).await);
    }
    let healthz = |client: &str| {
        let req = proxied(client).get(format!("{}/healthz", app.url));
        async move {
            let res = req.send().await.unwrap();
            let close = res.headers().get("connection").cloned();
            (res.status().as_u16(), close, res.text().await.unwrap())
        }
    };
    let (status, close, body) = healthz("203.0.113.1").await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(close.unwrap(), "close");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["code"], "too_many_connections");
    // Another client behind the same proxy is served.
    assert_eq!(healthz("203.0.113.2").await.0, 200);
    // A closes a tab, and may connect again.
    drop(streams.pop());
    let started = Instant::now();
    while healthz("203.0.113.1").await.0 != 200 {
        assert!(started.elapsed() < Duration::from_secs(10), "still refused");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn a_visitor_with_ten_tabs_is_never_refused_at_the_defaults() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let conversation = app.converse(&s, "hi").await;
    let mut streams = Vec::new();
    let mut tabs = Vec::new();
    for _ in 0..10 {
        // Every tab is its own browser here, with its own connections.
        let tab = reqwest::Client::new();
        streams.push(event_stream(&tab, &app, &s, &conversation).await);
        tabs.push(tab);
    }
    let requests = tabs.iter().map(|tab| {
        tab.get(format!(
            "{}/api/v1/messages?conversation={conversation}",
            app.url
        ))
        .header("origin", app::ORIGIN)
        .bearer_auth(&s.token)
        .send()
    });
    for res in futures_util::future::join_all(requests).await {
        assert_eq!(res.unwrap().status(), 200);
    }
}
