//! Turns over the event stream: streaming, formations, resume, restarts, tabs, idempotency, shutdown.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::app::{self, SseEvent};

fn deltas(events: &[SseEvent]) -> String {
    events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| e.data["text"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_full_turn_streams_text_and_cards_then_stores_them() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let posted = app.send(&s, "tents under $300").await;
    assert_eq!(posted["message"]["role"], "visitor");
    assert_eq!(posted["message"]["text"], "tents under $300");
    let conversation = posted["conversation"].as_str().unwrap().to_owned();
    // A stream opened after the post still sees the whole reply: it resumes from the echo.
    let echo = posted["event_id"].as_str().unwrap();
    let mut stream = app.events(&s, &conversation, Some(echo)).await;
    let events = stream.until_done().await;
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names.first(),
        Some(&"typing"),
        "replay starts right after the echo: {names:?}"
    );
    assert!(names.contains(&"formation"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"));
    let done = &events.last().unwrap().data;
    assert_eq!(
        deltas(&events),
        done["message"]["text"].as_str().unwrap(),
        "deltas add up to the stored text"
    );
    assert_eq!(done["message"]["status"], "complete");
    let formation = &done["message"]["formation"];
    assert_eq!(formation["kind"], "cards");
    assert!(!formation["items"].as_array().unwrap().is_empty());
    assert!(formation["fallback_text"].as_str().unwrap().contains("1. "));
    // Ids are increasing integers.
    let ids: Vec<u64> = events
        .iter()
        .filter_map(|e| e.id.as_ref())
        .map(|i| i.parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    let history = app.history(&s, Some(&conversation)).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["formation"]["kind"], "cards");
    assert_eq!(history["has_more"], false);
}

#[tokio::test]
async fn a_dropped_stream_resumes_with_last_event_id_losing_and_repeating_nothing() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let first = app.send(&s, "hello").await;
    let conversation = first["conversation"].as_str().unwrap().to_owned();
    let mut stream = app.events(&s, &conversation, Some("0")).await;
    stream.until_done().await;

    // Reconnected and listening; a new turn starts; we drop the connection after its first delta.
    let mut stream = app.events(&s, &conversation, None).await;
    app.send(&s, "grinders between 100 and 300").await;
    let mut seen = Vec::new();
    while let Some(e) = stream.next().await {
        let delta = e.event == "delta";
        seen.push(e);
        if delta {
            break;
        }
    }
    drop(stream);
    let last = seen.last().unwrap().id.clone().unwrap();
    let mut resumed = app.events(&s, &conversation, Some(&last)).await;
    let rest = resumed.until_done().await;
    let all: Vec<SseEvent> = seen.iter().chain(rest.iter()).cloned().collect();
    let ids: Vec<&String> = all.iter().filter_map(|e| e.id.as_ref()).collect();
    assert_eq!(
        ids.len(),
        ids.iter().collect::<HashSet<_>>().len(),
        "an event came twice"
    );
    let done = &rest.last().unwrap().data["message"];
    assert_eq!(
        deltas(&all),
        done["text"].as_str().unwrap(),
        "text was lost or repeated across the reconnect"
    );
    assert_eq!(all.iter().filter(|e| e.event == "formation").count(), 1);
}

#[tokio::test]
async fn history_survives_a_restart_and_a_stale_stream_gets_what_it_missed() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let turn = app.ask(&s, "backpacks").await;
    let conversation = turn.done()["conversation_id"].as_str().unwrap().to_owned();
    let last_id = turn.events.last().unwrap().id.clone().unwrap();
    let app = app.restart().await;

    let again = app.session("demo", Some(&s.visitor)).await;
    assert_eq!(again.visitor, s.visitor, "the same visitor continues");
    assert_eq!(
        again.conversation.as_deref(),
        Some(conversation.as_str()),
        "their conversation is offered"
    );
    let history = app.history(&again, None).await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[0], "backpacks");
    assert_eq!(texts[1], turn.text());

    // A stream resumed across the restart cannot replay from memory; a message sent while it
    // was away arrives as a whole stored message instead.
    app.ask(&again, "headlamps").await;
    let mut stream = app.events(&again, &conversation, Some(&last_id)).await;
    let mut got = Vec::new();
    while let Some(e) = stream.next().await {
        assert_eq!(e.event, "message");
        got.push((
            e.data["role"].as_str().unwrap().to_owned(),
            e.data["text"].as_str().unwrap().to_owned(),
        ));
        if got.last().unwrap().0 == "assistant" && got.iter().any(|(_, t)| t == "headlamps") {
            break;
        }
    }
    let at = got
        .iter()
        .position(|(_, t)| t == "headlamps")
        .expect("the missed message arrives");
    assert_eq!(
        got[at + 1].0,
        "assistant",
        "its stored reply follows: {got:?}"
    );
    assert!(
        at <= 1,
        "only what the stream could have missed is sent: {got:?}"
    );
}

#[tokio::test]
async fn two_tabs_see_the_same_conversation_live() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let conversation = app.converse(&s, "hi").await;
    let tab2 = app.session("demo", Some(&s.visitor)).await;
    let mut a = app.events(&s, &conversation, None).await;
    let mut b = app.events(&tab2, &conversation, None).await;
    app.send(&tab2, "stoves").await;
    let ea = a.until_done().await;
    let eb = b.until_done().await;
    assert_eq!(
        ea.first().unwrap().data["text"],
        "stoves",
        "the other tab sees the visitor's message"
    );
    assert_eq!(ea.last().unwrap().data, eb.last().unwrap().data);
}

#[tokio::test]
async fn a_retried_client_id_is_stored_and_answered_once() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let post = || {
        app.post("/api/v1/messages")
            .bearer_auth(&s.token)
            .json(&json!({ "text": "kettles", "client_id": "same-id-123" }))
            .send()
    };
    let one: serde_json::Value = post().await.unwrap().json().await.unwrap();
    let two: serde_json::Value = post().await.unwrap().json().await.unwrap();
    assert_eq!(one["message"]["id"], two["message"]["id"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let history = app.history(&s, None).await;
    let roles: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["visitor", "assistant"]);
}

#[tokio::test]
async fn asking_for_a_human_stops_the_ai() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let conversation = app.converse(&s, "hi").await;
    let mut stream = app.events(&s, &conversation, None).await;
    let res = app
        .post("/api/v1/handoff")
        .bearer_auth(&s.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let mut names = Vec::new();
    while let Some(e) = stream.next().await {
        names.push(e.event.clone());
        if e.event == "handoff" {
            assert_eq!(e.data["state"], "requested");
            break;
        }
    }
    assert!(
        names.contains(&"message".to_string()),
        "a system note: {names:?}"
    );
    // The visitor's next message is stored but the AI does not answer it.
    app.send(&s, "anyone there?").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let history = app.history(&s, None).await;
    let last = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["text"], "anyone there?");
    // Typing "talk to a human" in a fresh conversation hands over too.
    let fresh = app.session("demo", None).await;
    let turn = app.ask(&fresh, "I want to talk to a human").await;
    assert!(turn.events.iter().any(|e| e.event == "handoff"));
}

#[tokio::test]
async fn shutdown_ends_open_streams_promptly() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let conversation = app.converse(&s, "hi").await;
    let mut stream = app.events(&s, &conversation, Some("0")).await;
    stream.until_done().await;
    let took = app.stop().await;
    assert!(
        took < Duration::from_secs(5),
        "serve took {took:?} to stop with a stream open"
    );
    assert!(stream.next().await.is_none(), "the stream ended");
}

/// Reads from `tcp` into `seen` until `until` holds for what was read, or the socket closes.
async fn read_until(
    tcp: &mut tokio::net::TcpStream,
    seen: &mut Vec<u8>,
    until: impl Fn(&[u8]) -> bool,
) {
    use tokio::io::AsyncReadExt as _;
    while !until(seen) {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout(Duration::from_secs(10), tcp.read(&mut buf))
            .await
            .expect("the server answers")
            .unwrap();
        if n == 0 {
            return;
        }
        seen.extend_from_slice(&buf[..n]);
    }
}

/// The payload of a chunked body so far (checking its framing), and whether its last chunk came.
fn dechunk(mut body: &[u8]) -> (Vec<u8>, bool) {
    let mut out = Vec::new();
    loop {
        let Some(eol) = body.windows(2).position(|w| w == b"\r\n") else {
            return (out, false);
        };
        let size = usize::from_str_radix(std::str::from_utf8(&body[..eol]).unwrap(), 16)
            .expect("a chunk size in hex");
        let rest = &body[eol + 2..];
        if size == 0 {
            return (out, rest == b"\r\n");
        }
        if rest.len() < size + 2 {
            return (out, false);
        }
        assert_eq!(&rest[size..size + 2], b"\r\n", "a chunk ends with CRLF");
        out.extend_from_slice(&rest[..size]);
        body = &rest[size + 2..];
    }
}

#[tokio::test]
async fn an_event_stream_after_other_requests_on_its_connection_streams_to_its_end() {
    stream_over_a_used_connection("HTTP/1.1").await;
}

#[tokio::test]
async fn an_http_1_0_event_stream_streams_to_its_end() {
    stream_over_a_used_connection("HTTP/1.0").await;
}

/// Opens an event stream by hand on a connection that served a request before (a browser reuses
/// an idle keep-alive connection), follows it to the shutdown and checks its framing.
async fn stream_over_a_used_connection(version: &str) {
    use tokio::io::AsyncWriteExt as _;
    let chunked = version == "HTTP/1.1";
    // The payload so far, and whether the body ended as its framing says it must.
    let body = |bytes: &[u8], closed: bool| match chunked {
        true => dechunk(bytes),
        false => (bytes.to_vec(), closed),
    };
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let conversation = app.converse(&s, "hi").await;
    let mut tcp = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://"))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let healthz = format!("GET /healthz {version}\r\nhost: chat\r\nconnection: keep-alive\r\n\r\n");
    tcp.write_all(healthz.as_bytes()).await.unwrap();
    read_until(&mut tcp, &mut seen, |b| b.ends_with(b"\r\n\r\nok")).await;
    let request = format!(
        "GET /api/v1/events?conversation={conversation} {version}\r\nhost: chat\r\n\
         origin: {}\r\nauthorization: Bearer {}\r\nlast-event-id: 0\r\n\r\n",
        app::ORIGIN,
        s.token
    );
    tcp.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    read_until(&mut tcp, &mut seen, |b| {
        let head = b.windows(4).position(|w| w == b"\r\n\r\n");
        head.is_some_and(|at| {
            String::from_utf8_lossy(&body(&b[at + 4..], false).0).contains("event: done")
        })
    })
    .await;
    let at = seen.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    let head = String::from_utf8_lossy(&seen[..at]).to_lowercase();
    for line in [
        " 200 ok",
        "content-type: text/event-stream",
        "connection: close",
        "access-control-allow-origin: https://shop.example",
    ] {
        assert!(head.contains(line), "{line} in {head}");
    }
    assert_eq!(
        head.contains("transfer-encoding: chunked"),
        chunked,
        "{head}"
    );
    // Live events keep coming after the replay.
    app.send(&s, "tents under $300").await;
    read_until(&mut tcp, &mut seen, |b| {
        let (payload, _) = body(&b[at..], false);
        String::from_utf8_lossy(&payload)
            .matches("event: done")
            .count()
            == 2
    })
    .await;
    // At shutdown the stream ends (with the last chunk when chunked), and the connection closes.
    app.stop().await;
    read_until(&mut tcp, &mut seen, |_| false).await;
    let (payload, ended) = body(&seen[at..], true);
    assert!(ended, "the body ends as its framing says");
    let payload = String::from_utf8(payload).unwrap();
    assert!(payload.contains("event: formation"), "{payload}");
    assert_eq!(payload.matches("event: done").count(), 2);
}

#[tokio::test]
async fn a_connection_that_stalls_or_idles_is_let_go_but_an_event_stream_is_not() {
    use tokio::io::AsyncWriteExt as _;
    let app = app::spawn_with(
        "[limits]\nrequest_head_timeout_secs = 1\nsessions_per_minute_per_ip = 1000\n\
         messages_per_minute_per_ip = 1000\nmessages_per_minute_per_visitor = 1000",
    )
    .await;
    let s = app.session("demo", None).await;
    let conversation = app.converse(&s, "hi").await;
    let mut stream = app.events(&s, &conversation, Some("0")).await;
    stream.until_done().await;
    let addr = app.url.trim_start_matches("http://");
    // Half a request head, then nothing (slowloris).
    let mut stalled = tokio::net::TcpStream::connect(addr).await.unwrap();
    stalled
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: chat\r\n")
        .await
        .unwrap();
    // One request, then an idle keep-alive connection.
    let mut idle = tokio::net::TcpStream::connect(addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: chat\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    read_until(&mut idle, &mut seen, |b| b.ends_with(b"\r\n\r\nok")).await;
    for tcp in [&mut stalled, &mut idle] {
        // Returns at the close; a connection left open fails the read's 10 s deadline.
        read_until(tcp, &mut Vec::new(), |_| false).await;
    }
    // The event stream, quiet for longer than the timeout, still delivers.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.send(&s, "tents under $300").await;
    let events = stream.until_done().await;
    assert!(events.iter().any(|e| e.event == "formation"), "{events:?}");
}
