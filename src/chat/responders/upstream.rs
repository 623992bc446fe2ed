//! Calling a tenant's upstream (an LLM API or a webhook): one HTTP client, deadlines, retries
//! before anything arrived, a circuit breaker per tenant, and answers cut into lines (and SSE
//! events) at byte level, so a multi-byte character split between two chunks arrives whole.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::{self, BoxStream};
use futures_util::{Stream, StreamExt};
use reqwest::{Client, RequestBuilder, Response, StatusCode};

use super::ResponderError;
use crate::config;
use crate::sync::lock;

/// The shared HTTP client and what it knows about each tenant's upstream.
pub struct Upstream {
    client: Client,
    pub settings: config::Upstream,
    breakers: Mutex<HashMap<i64, Breaker>>,
}

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

/// An answer in progress: its response, and when its call began (the total deadline counts from it).
pub struct Answer {
    pub response: Response,
    pub started: Instant,
    pub finished: Finished,
}

/// How long the end of a body may take to arrive after its last event.
const DRAIN: Duration = Duration::from_secs(2);

/// Set by the responder once it has read the last event of an answer. Its lines, when dropped
/// before the body ended, then read the rest (usually just the end of the chunked body) in the
/// background, so the connection goes back to the pool: a body dropped unread closes it, and the
/// next call pays a new connection and, with a real provider, a TLS handshake.
#[derive(Clone, Default)]
pub struct Finished(Arc<AtomicBool>);

impl Finished {
    pub fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    fn is_set(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

fn fail(code: &'static str, message: String, retryable: bool) -> ResponderError {
    ResponderError {
        code,
        message,
        retryable,
    }
}

impl Upstream {
    pub fn new(settings: config::Upstream) -> Upstream {
        let client = Client::builder()
            .connect_timeout(Duration::from_millis(settings.connect_timeout_ms))
            .tcp_nodelay(true)
            // A redirect could carry the provider key elsewhere; upstreams are configured exactly.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("keepstar/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client builds");
        Upstream {
            client,
            settings,
            breakers: Mutex::default(),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Sends the request `build` makes, once more after each connection failure, 429 or 5xx (up to
    /// `retries`), waiting the upstream's `Retry-After` or a growing pause in between. Refuses at
    /// once while the tenant's circuit is open.
    pub async fn send(
        &self,
        tenant_id: i64,
        build: impl Fn(&Client) -> RequestBuilder,
    ) -> Result<Answer, ResponderError> {
        self.admit(tenant_id)?;
        let started = Instant::now();
        let total = Duration::from_millis(self.settings.total_timeout_ms);
        let first = Duration::from_millis(self.settings.first_token_timeout_ms);
        let mut attempt = 0;
        loop {
            let left = total.saturating_sub(started.elapsed());
            let outcome =
                match tokio::time::timeout(first.min(left), build(&self.client).send()).await {
                    Err(_) => Err((
                        fail(
                            "upstream_timeout",
                            format!("no answer within {} ms", first.min(left).as_millis()),
                            true,
                        ),
                        None,
                    )),
                    Ok(Err(e)) => Err((
                        fail("upstream_unreachable", transport_error(&e), true),
                        None,
                    )),
                    Ok(Ok(response)) if response.status().is_success() => Ok(response),
                    Ok(Ok(response)) => Err(status_error(response).await),
                };
            match outcome {
                Ok(response) => {
                    return Ok(Answer {
                        response,
                        started,
                        finished: Finished::default(),
                    });
                }
                Err((error, retry_after)) => {
                    let pause = retry_after
                        .unwrap_or(Duration::from_millis(200 << attempt.min(5)))
                        .min(Duration::from_secs(10));
                    let again = error.retryable
                        && attempt < self.settings.retries
                        && started.elapsed() + pause < total;
                    if !again {
                        self.record(tenant_id, false);
                        return Err(error);
                    }
                    tracing::info!(tenant_id, attempt, error = %error, "upstream failed; retrying");
                    tokio::time::sleep(pause).await;
                    attempt += 1;
                }
            }
        }
    }

    /// The answer's body as lines (without their `\n` or `\r\n`), within the first-token, idle and
    /// total deadlines. A broken or stalled body counts as a failure for the tenant's breaker; the
    /// responder records the success once it has read an answer that makes sense.
    pub fn lines<'a>(
        &'a self,
        tenant_id: i64,
        answer: Answer,
    ) -> impl Stream<Item = Result<String, ResponderError>> + Send + 'a {
        struct State {
            body: BoxStream<'static, reqwest::Result<bytes::Bytes>>,
            cutter: LineCutter,
            seen: bool,
            ended: bool,
            failed: bool,
            finished: Finished,
        }
        impl Drop for State {
            fn drop(&mut self) {
                if self.ended || self.failed || !self.finished.is_set() {
                    return;
                }
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    return;
                };
                let mut body = std::mem::replace(&mut self.body, stream::empty().boxed());
                runtime.spawn(async move {
                    let drain = async { while let Some(Ok(_)) = body.next().await {} };
                    let _ = tokio::time::timeout(DRAIN, drain).await;
                });
            }
        }
        let started = answer.started;
        let state = State {
            body: answer.response.bytes_stream().boxed(),
            cutter: LineCutter::default(),
            seen: false,
            ended: false,
            failed: false,
            finished: answer.finished,
        };
        let s = &self.settings;
        let (first, idle, total) = (
            Duration::from_millis(s.first_token_timeout_ms),
            Duration::from_millis(s.idle_timeout_ms),
            Duration::from_millis(s.total_timeout_ms),
        );
        stream::unfold(state, move |mut st| async move {
            if st.failed {
                return None;
            }
            loop {
                if let Some(line) = st.cutter.line() {
                    st.seen = true;
                    return Some((Ok(line), st));
                }
                if st.ended {
                    return st.cutter.rest().map(|line| (Ok(line), st));
                }
                let wait = if st.seen { idle } else { first };
                let wait = wait.min(total.saturating_sub(started.elapsed()));
                let error = match tokio::time::timeout(wait, st.body.next()).await {
                    Ok(Some(Ok(bytes))) => {
                        st.cutter.push(&bytes);
                        continue;
                    }
                    Ok(None) => {
                        st.ended = true;
                        continue;
                    }
                    Ok(Some(Err(e))) => fail("upstream_broken", transport_error(&e), true),
                    Err(_) => {
                        let what = if started.elapsed() >= total {
                            "the answer took longer than the total deadline"
                        } else if st.seen {
                            "the answer stalled"
                        } else {
                            "no first token"
                        };
                        fail(
                            "upstream_timeout",
                            format!("{what} ({} ms)", wait.as_millis()),
                            true,
                        )
                    }
                };
                self.record(tenant_id, false);
                st.failed = true;
                return Some((Err(error), st));
            }
        })
    }

    /// Counts a call's outcome for the tenant's breaker (also for answers that arrived but made no sense).
    pub fn record(&self, tenant_id: i64, ok: bool) {
        let mut breakers = lock(&self.breakers);
        if ok {
            breakers.remove(&tenant_id);
            return;
        }
        let b = breakers.entry(tenant_id).or_default();
        b.failures += 1;
        if b.failures >= self.settings.breaker_failures.max(1) {
            b.open_until =
                Some(Instant::now() + Duration::from_millis(self.settings.breaker_cooldown_ms));
            tracing::warn!(tenant_id, failures = b.failures, "upstream circuit opened");
        }
    }

    /// Refuses while the tenant's circuit is open; once it has cooled down, lets one call through
    /// (another failure opens it again at once).
    fn admit(&self, tenant_id: i64) -> Result<(), ResponderError> {
        let mut breakers = lock(&self.breakers);
        let Some(b) = breakers.get_mut(&tenant_id) else {
            return Ok(());
        };
        match b.open_until {
            Some(until) if Instant::now() < until => Err(fail(
                "upstream_circuit_open",
                format!(
                    "{} failures in a row; not calling the upstream for {} ms",
                    b.failures,
                    until.saturating_duration_since(Instant::now()).as_millis()
                ),
                true,
            )),
            Some(_) => {
                b.open_until = None;
                b.failures = self.settings.breaker_failures.saturating_sub(1);
                Ok(())
            }
            None => Ok(()),
        }
    }
}

/// Bytes in, whole lines out: a line is decoded only once its `\n` arrived, so a character cut
/// between two chunks is never decoded in halves.
#[derive(Default)]
struct LineCutter {
    buf: Vec<u8>,
}

impl LineCutter {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next complete line, without `\n` or `\r\n`.
    fn line(&mut self) -> Option<String> {
        let end = self.buf.iter().position(|&b| b == b'\n')?;
        let mut line: Vec<u8> = self.buf.drain(..=end).collect();
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        Some(String::from_utf8_lossy(&line).into_owned())
    }

    /// What is left after the last `\n`, once the body ended.
    fn rest(&mut self) -> Option<String> {
        (!self.buf.is_empty())
            .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.buf)).into_owned())
    }
}

/// A transport error without the request URL (a webhook URL may carry a token in its query).
pub fn transport_error(e: &reqwest::Error) -> String {
    let what = if e.is_connect() {
        "cannot connect"
    } else if e.is_timeout() {
        "timed out"
    } else if e.is_body() || e.is_decode() {
        "the answer broke off"
    } else {
        "request failed"
    };
    let mut cause = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(c) = cause {
        detail = c.to_string();
        cause = c.source();
    }
    if detail.is_empty() {
        what.to_owned()
    } else {
        format!("{what}: {detail}")
    }
}

/// An unsuccessful status as an error, with the upstream's own error code when it gives one
/// (never its whole body: some providers echo part of the key they were sent).
async fn status_error(response: Response) -> (ResponderError, Option<Duration>) {
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = response.bytes().await.unwrap_or_default();
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| {
            let e = v.get("error").unwrap_or(&v);
            ["code", "type"]
                .iter()
                .find_map(|k| e.get(*k).and_then(|c| c.as_str()).map(String::from))
        })
        .map(|c| format!(" ({})", c.chars().take(60).collect::<String>()))
        .unwrap_or_default();
    let message = format!("HTTP {}{code}", status.as_u16());
    let error = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => fail(
            "upstream_auth",
            format!("{message}: the key was refused"),
            false,
        ),
        StatusCode::TOO_MANY_REQUESTS => fail("upstream_rate_limited", message, true),
        s if s.is_server_error() => fail("upstream_failed", message, true),
        _ => fail("upstream_rejected", message, false),
    };
    (error, retry_after)
}

/// One server-sent event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, when there is one.
    pub event: Option<String>,
    /// The `data:` lines joined by `\n`.
    pub data: String,
}

/// Server-sent events from lines (comments, `id:` and `retry:` are skipped).
pub fn sse<'a>(
    lines: impl Stream<Item = Result<String, ResponderError>> + Send + 'a,
) -> BoxStream<'a, Result<SseEvent, ResponderError>> {
    struct State<S> {
        lines: S,
        event: Option<String>,
        data: Option<String>,
        done: bool,
    }
    let state = State {
        lines: Box::pin(lines),
        event: None,
        data: None,
        done: false,
    };
    stream::unfold(state, |mut st| async move {
        loop {
            if st.done {
                return None;
            }
            let line = match st.lines.next().await {
                Some(Ok(line)) => line,
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(e), st));
                }
                None => {
                    st.done = true;
                    let event = st.event.take();
                    return st
                        .data
                        .take()
                        .map(|data| (Ok(SseEvent { event, data }), st));
                }
            };
            if line.is_empty() {
                let event = st.event.take();
                if let Some(data) = st.data.take() {
                    return Some((Ok(SseEvent { event, data }), st));
                }
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (line.as_str(), ""),
            };
            match field {
                "event" => st.event = Some(value.to_owned()),
                "data" => match &mut st.data {
                    Some(d) => {
                        d.push('\n');
                        d.push_str(value);
                    }
                    None => st.data = Some(value.to_owned()),
                },
                _ => {}
            }
        }
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn sse_events_join_data_lines_and_skip_comments() {
        let lines = [
            ": keep-alive",
            "event: message_start",
            "data: {\"a\":1}",
            "",
            "data: one",
            "data:two",
            "id: 7",
            "",
            "data: [DONE]",
        ];
        let events: Vec<SseEvent> = sse(stream::iter(lines.map(|l| Ok(l.to_owned()))))
            .map(Result::unwrap)
            .collect()
            .await;
        assert_eq!(
            events,
            vec![
                SseEvent {
                    event: Some("message_start".into()),
                    data: "{\"a\":1}".into()
                },
                SseEvent {
                    event: None,
                    data: "one\ntwo".into()
                },
                SseEvent {
                    event: None,
                    data: "[DONE]".into()
                },
            ]
        );
    }

    #[test]
    fn a_character_cut_between_chunks_arrives_whole() {
        let text = "data: Привет 👋 你好\r\n\r\nlast".as_bytes();
        // Every way of cutting the bytes in two gives the same lines.
        for cut in 0..text.len() {
            let mut cutter = LineCutter::default();
            let mut out = Vec::new();
            for part in [&text[..cut], &text[cut..]] {
                cutter.push(part);
                while let Some(line) = cutter.line() {
                    out.push(line);
                }
            }
            out.extend(cutter.rest());
            assert_eq!(out, ["data: Привет 👋 你好", "", "last"], "cut at {cut}");
        }
    }
}
