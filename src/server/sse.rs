//! Event streams over HTTP (server-sent events): how a conversation's events are framed, with
//! keep-alives, into a response; a long-lived one then leaves hyper (`handover`).

use std::convert::Infallible;
use std::fmt::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::stream::{BoxStream, Stream, StreamExt};
use tokio::time::{Instant, Sleep};

use super::handover::Handover;
use crate::chat::Delivery;

/// A comment after this much quiet keeps proxies from closing the stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Where a resumed stream left off: the `Last-Event-ID` header, as `EventSource` sends it.
pub fn last_event_id(headers: &axum::http::HeaderMap) -> Option<u64> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// One event: its `id` (when it has one), its name, its data one line per `data:` field.
pub fn frame(id: Option<u64>, name: &str, data: &str) -> Bytes {
    let mut out = BytesMut::with_capacity(data.len() + name.len() + 40);
    if let Some(id) = id {
        let _ = writeln!(out, "id: {id}");
    }
    out.put_slice(b"event: ");
    out.put_slice(name.as_bytes());
    out.put_u8(b'\n');
    for line in data.split('\n') {
        out.put_slice(b"data: ");
        out.put_slice(line.strip_suffix('\r').unwrap_or(line).as_bytes());
        out.put_u8(b'\n');
    }
    out.put_u8(b'\n');
    out.freeze()
}

/// A stream's frames, with a keep-alive comment after every quiet [`KEEP_ALIVE`].
pub struct Frames {
    events: BoxStream<'static, Bytes>,
    keep_alive: Pin<Box<Sleep>>,
    every: Duration,
}

impl Frames {
    pub fn new(events: impl Stream<Item = Bytes> + Send + 'static) -> Frames {
        Frames::keeping_alive(events, KEEP_ALIVE)
    }

    pub(super) fn keeping_alive(
        events: impl Stream<Item = Bytes> + Send + 'static,
        every: Duration,
    ) -> Frames {
        Frames {
            events: events.boxed(),
            keep_alive: Box::pin(tokio::time::sleep(every)),
            every,
        }
    }
}

impl Stream for Frames {
    type Item = Bytes;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Bytes>> {
        let next = match self.events.poll_next_unpin(cx) {
            Poll::Ready(event) => event,
            Poll::Pending => {
                ready!(self.keep_alive.as_mut().poll(cx));
                Some(Bytes::from_static(b":\n\n"))
            }
        };
        let at = Instant::now() + self.every;
        self.keep_alive.as_mut().reset(at);
        Poll::Ready(next)
    }
}

/// The response for a conversation's events; with a [`Handover`], the stream leaves hyper once
/// the head is written.
pub fn response(
    events: impl Stream<Item = Delivery> + Send + 'static,
    handover: Option<Handover>,
) -> Response {
    let frames = Frames::new(events.map(|d| frame(d.id, d.kind.as_str(), &d.data)));
    let mut response = match handover {
        Some(handover) => {
            let mut response = Response::new(handover.body(frames));
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
        None => Response::new(Body::from_stream(frames.map(Ok::<_, Infallible>))),
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // nginx buffers responses unless told not to.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_has_its_id_name_and_one_data_field_per_line() {
        assert_eq!(
            frame(Some(42), "delta", r#"{"text":"hi"}"#),
            "id: 42\nevent: delta\ndata: {\"text\":\"hi\"}\n\n"
        );
        assert_eq!(
            frame(None, "message", "a\r\nb"),
            "event: message\ndata: a\ndata: b\n\n"
        );
    }

    #[tokio::test]
    async fn a_keep_alive_comment_comes_only_after_a_quiet_period() {
        let every = Duration::from_millis(200);
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Bytes>();
        let events =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|b| (b, rx)) },
            );
        let mut frames = Frames::keeping_alive(events, every);
        let start = Instant::now();
        assert_eq!(frames.next().await.unwrap(), ":\n\n");
        assert!(start.elapsed() >= every);
        tokio::time::sleep(every / 2).await;
        tx.send(Bytes::from_static(b"x")).unwrap();
        assert_eq!(frames.next().await.unwrap(), "x");
        // The event started the quiet period again.
        let sent = Instant::now();
        assert_eq!(frames.next().await.unwrap(), ":\n\n");
        assert!(sent.elapsed() >= every);
        drop(tx);
        assert_eq!(frames.next().await, None);
    }
}
