//! Fake upstreams: a small HTTP server on port 0 that records every request and answers each
//! with the next scripted reply, its body sent in the chunks and at the pace the test gives
//! (so a frame can be cut inside a multi-byte character, or a stream can stall).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::serve::ListenerExt as _;
use futures_util::StreamExt;

/// One scripted answer.
#[derive(Clone, Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// Each chunk is sent after its pause.
    pub chunks: Vec<(Duration, Vec<u8>)>,
    /// After the last chunk, keep the connection open without sending anything (a stalled stream).
    pub stall: bool,
}

impl Reply {
    /// A whole body at once.
    pub fn body(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type", content_type.to_owned())],
            chunks: vec![(Duration::ZERO, body.into())],
            stall: false,
        }
    }

    pub fn json(status: u16, body: &serde_json::Value) -> Reply {
        Reply::body(status, "application/json", body.to_string())
    }

    /// `body` cut into pieces of `size` bytes, wherever that falls (inside characters too).
    pub fn chunked(content_type: &str, body: &[u8], size: usize, pause: Duration) -> Reply {
        Reply {
            status: 200,
            headers: vec![("content-type", content_type.to_owned())],
            chunks: body
                .chunks(size.max(1))
                .map(|c| (pause, c.to_vec()))
                .collect(),
            stall: false,
        }
    }

    /// Server-sent events (`text/event-stream`) from `frames`, cut every `size` bytes.
    pub fn sse(frames: &[String], size: usize) -> Reply {
        Reply::chunked(
            "text/event-stream",
            frames.concat().as_bytes(),
            size,
            Duration::ZERO,
        )
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Reply {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// Waits `pause` before the first chunk.
    pub fn delayed(mut self, pause: Duration) -> Reply {
        if let Some(first) = self.chunks.first_mut() {
            first.0 += pause;
        }
        self
    }

    pub fn stalled(mut self) -> Reply {
        self.stall = true;
        self
    }

    /// Ends the body `pause` after the last chunk, in a write of its own (as servers that flush
    /// every event do), rather than together with it.
    pub fn ended_after(mut self, pause: Duration) -> Reply {
        self.chunks.push((pause, Vec::new()));
        self
    }
}

/// A request the fake received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Recorded {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("the request body is JSON")
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    /// Answers every request once the script ran out.
    last: Option<Reply>,
    seen: Vec<Recorded>,
}

pub struct Fake {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub url: String,
    script: Arc<Mutex<Script>>,
    connections: Arc<AtomicUsize>,
}

impl Fake {
    /// Starts a fake that answers with `replies` in order, repeating the last one.
    pub async fn start(replies: Vec<Reply>) -> Fake {
        let script = Arc::new(Mutex::new(Script {
            last: replies.last().cloned(),
            replies: replies.into(),
            seen: Vec::new(),
        }));
        let app = Router::new().fallback(answer).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let connections = Arc::new(AtomicUsize::new(0));
        let counted = connections.clone();
        let listener = listener.tap_io(move |_| {
            counted.fetch_add(1, Ordering::Relaxed);
        });
        tokio::spawn(async move { axum::serve(listener, app).await });
        Fake {
            url,
            script,
            connections,
        }
    }

    /// How many connections were opened to the fake so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.script.lock().unwrap().seen.clone()
    }

    /// Replaces what the fake answers from now on.
    pub fn script(&self, replies: Vec<Reply>) {
        let mut s = self.script.lock().unwrap();
        s.last = replies.last().cloned();
        s.replies = replies.into();
    }
}

async fn answer(
    State(script): State<Arc<Mutex<Script>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut s = script.lock().unwrap();
        s.seen.push(Recorded {
            path: uri.path().to_owned(),
            headers,
            body,
        });
        s.replies.pop_front().or_else(|| s.last.clone())
    };
    let Some(reply) = reply else {
        return Response::builder()
            .status(StatusCode::NOT_IMPLEMENTED)
            .body(Body::from("no reply scripted"))
            .unwrap();
    };
    let stall = reply.stall;
    let chunks = futures_util::stream::iter(reply.chunks)
        .then(|(pause, bytes)| async move {
            tokio::time::sleep(pause).await;
            Ok::<_, Infallible>(Bytes::from(bytes))
        })
        .chain(futures_util::stream::once(async move {
            if stall {
                tokio::time::sleep(Duration::from_secs(3600)).await;
            }
            Ok(Bytes::new())
        }));
    let mut res = Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        res = res.header(*name, value);
    }
    res.body(Body::from_stream(chunks)).unwrap()
}
