//! A deadline for a request's whole body.
//!
//! hyper's `header_read_timeout` covers the head only: a body that stops short of its
//! `Content-Length` would hold its connection for as long as the client likes. The body is read
//! by whichever extractor a handler uses, so the deadline sits on the body itself: it ends in an
//! error at the deadline however the bytes trickle in (a timer reset by every chunk would let a
//! byte every few seconds go on for ever), and the request's answer becomes a 408 (and the connection
//! closes), whatever the handler made of the broken body.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use tokio::time::{Instant, Sleep};

use super::error::ApiError;
use crate::config::Limits;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// How long a body of `size` bytes (or of unknown size) may take.
pub fn allowance(limits: &Limits, size: Option<u64>) -> Duration {
    let max = limits.max_body_bytes as u64;
    let size = size.unwrap_or(max).min(max);
    let at_rate = match limits.request_body_min_bytes_per_sec {
        0 => 0,
        rate => size.div_ceil(rate),
    };
    Duration::from_secs(limits.request_body_timeout_secs.max(at_rate).max(1))
}

/// Whether a request's body missed its deadline.
#[derive(Clone, Default)]
pub struct Missed(Arc<AtomicBool>);

impl Missed {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// `req` with its body under the deadline `limits` give it, counted from now; a request without
/// a body is left as it is.
pub fn apply<B>(req: Request<B>, limits: &Limits) -> (Request<Body>, Option<Missed>)
where
    B: http_body::Body<Data = Bytes> + Unpin + Send + 'static,
    B::Error: Into<BoxError>,
{
    if req.body().is_end_stream() {
        return (req.map(Body::new), None);
    }
    let at = Instant::now() + allowance(limits, req.body().size_hint().upper());
    let missed = Missed::default();
    let req = req.map(|inner| {
        Body::new(Deadline {
            inner,
            at,
            timer: None,
            missed: missed.clone(),
        })
    });
    (req, Some(missed))
}

/// The refusal of a request whose body missed its deadline.
pub fn missed() -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "body_timeout",
        "The request body did not arrive in time.",
    )
}

/// The error a late body ends in.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive in time")]
pub struct Late;

struct Deadline<B> {
    inner: B,
    at: Instant,
    /// Made on the first wait, not for a body that is there at once.
    timer: Option<Pin<Box<Sleep>>>,
    missed: Missed,
}

impl<B> http_body::Body for Deadline<B>
where
    B: http_body::Body<Data = Bytes> + Unpin,
    B::Error: Into<BoxError>,
{
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = &mut *self;
        if Instant::now() >= this.at {
            return this.late();
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                if frame.is_none() {
                    this.timer = None;
                }
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                let at = this.at;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => this.late(),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B> Deadline<B> {
    fn late(&mut self) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        self.missed.0.store(true, Ordering::Relaxed);
        self.timer = None;
        Poll::Ready(Some(Err(Box::new(Late))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_gets_the_timeout_or_its_size_at_the_minimum_rate() {
        let limits = Limits {
            request_body_timeout_secs: 10,
            request_body_min_bytes_per_sec: 1000,
            max_body_bytes: 100_000,
            ..Limits::default()
        };
        let secs = |size| allowance(&limits, size).as_secs();
        assert_eq!(secs(Some(500)), 10);
        assert_eq!(secs(Some(30_500)), 31);
        // Unknown sizes and sizes over the limit get what the largest allowed body gets.
        assert_eq!(secs(None), 100);
        assert_eq!(secs(Some(10_000_000)), 100);
        assert_eq!(allowance(&Limits::default(), Some(32_768)).as_secs(), 10);
        let no_rate = Limits {
            request_body_min_bytes_per_sec: 0,
            ..limits
        };
        assert_eq!(allowance(&no_rate, None).as_secs(), 10);
    }
}
