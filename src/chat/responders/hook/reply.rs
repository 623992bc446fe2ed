//! Reading a hook's reply as it arrives, in whichever of the forms the README's "Who answers"
//! lists it comes, and telling an answer from a failure.

use std::pin::pin;

use futures_util::{Stream, StreamExt};
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::non_retryable;
use crate::chat::responders::upstream::Answer;
use crate::chat::responders::{Out, ReplyPart, ResponderError, Shared, Turn, Usage};
use crate::formation::{self, Formation};
use crate::vocab::Secret;

/// The most reply text (or JSON body) accepted from one call.
const MAX_REPLY_BYTES: usize = 1 << 20;
/// How much of an upstream's own error message is kept for the log.
const MAX_ERROR_CHARS: usize = 200;

/// What a reply's `Content-Type` says about how to read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    /// JSON, as one document or one object a line.
    Json,
    Text,
    /// An HTML page: a login wall or a proxy's error page, not an answer.
    Html,
    /// Nothing useful: the first line decides.
    Unknown,
}

impl Format {
    fn of(headers: &HeaderMap) -> Format {
        let essence = headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        match essence.as_str() {
            "application/json"
            | "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines" => Format::Json,
            e if e.ends_with("+json") => Format::Json,
            "text/plain" => Format::Text,
            "text/html" | "application/xhtml+xml" => Format::Html,
            _ => Format::Unknown,
        }
    }
}

/// Relays `answer` to `out` as it arrives, then the reply's usage.
pub(super) async fn relay(
    shared: &Shared,
    turn: &Turn,
    out: &Out,
    key: Option<&Secret>,
    answer: Answer,
) -> Result<(), ResponderError> {
    let mut relay = Relay {
        shared,
        turn,
        out,
        key,
        text_bytes: 0,
        text_chars: 0,
        formation: false,
        handoff: false,
        usage: None,
    };
    let format = Format::of(answer.response.headers());
    let lines = shared.upstream.lines(turn.tenant.id, answer);
    relay.read(format, lines).await?;
    if relay.text_bytes == 0 && !relay.formation && !relay.handoff {
        return Err(relay.malformed("the reply carried no text"));
    }
    shared.upstream.record(turn.tenant.id, true);
    let usage = relay
        .usage
        .unwrap_or_else(|| Usage::estimate(turn.text.chars().count(), relay.text_chars));
    relay.send(ReplyPart::Usage(usage)).await;
    Ok(())
}

/// One call in progress: what it has relayed so far.
struct Relay<'a> {
    shared: &'a Shared,
    turn: &'a Turn,
    out: &'a Out,
    key: Option<&'a Secret>,
    text_bytes: usize,
    text_chars: usize,
    formation: bool,
    handoff: bool,
    usage: Option<Usage>,
}

impl Relay<'_> {
    /// Reads the answer in the form its first line (and `format`) shows.
    async fn read(
        &mut self,
        format: Format,
        lines: impl Stream<Item = Result<String, ResponderError>>,
    ) -> Result<(), ResponderError> {
        let mut lines = pin!(lines);
        let mut first = None;
        while let Some(line) = lines.next().await {
            let line = line?;
            if !line.trim().is_empty() {
                first = Some(line);
                break;
            }
        }
        let Some(first) = first else {
            return Err(self.malformed("the reply is empty"));
        };
        let looks_like_json = first.trim_start().starts_with(['{', '[']);
        match format {
            Format::Html => return Err(self.malformed("the reply is an HTML page")),
            Format::Text => return self.read_text(first, lines).await,
            Format::Unknown if !looks_like_json => return self.read_text(first, lines).await,
            Format::Json | Format::Unknown => {}
        }
        // One object a line with a `type` is n8n's stream; anything else is one JSON document,
        // which may span lines when pretty-printed.
        if let Ok(Value::Object(event)) = serde_json::from_str::<Value>(&first)
            && event.get("type").is_some_and(Value::is_string)
        {
            self.event(event).await?;
            while let Some(line) = lines.next().await {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(&line) {
                    Ok(Value::Object(event)) => self.event(event).await?,
                    _ => return Err(self.malformed("a line of the stream is not a JSON object")),
                }
            }
            return Ok(());
        }
        let mut body = first;
        while let Some(line) = lines.next().await {
            body.push('\n');
            body.push_str(&line?);
            if body.len() > MAX_REPLY_BYTES {
                return Err(self.too_large());
            }
        }
        let reply = match serde_json::from_str::<Value>(&body) {
            Ok(Value::Object(reply)) => reply,
            // n8n's "all entries": the first item is the answer.
            Ok(Value::Array(items)) => match items.into_iter().next() {
                Some(Value::Object(reply)) => reply,
                _ => return Err(self.malformed("the reply is an array without an object first")),
            },
            Ok(Value::String(text)) => return self.text(text.trim()).await,
            Ok(_) => return Err(self.malformed("the reply is neither an object nor an array")),
            Err(e) => return Err(self.malformed(format!("the reply is not JSON: {e}"))),
        };
        if !["output", "text", "formation", "handoff"]
            .iter()
            .any(|k| reply.contains_key(*k))
        {
            return Err(self.malformed(
                "the reply has no `output` or `text` (does the workflow answer at its end, not at once?)",
            ));
        }
        self.reply(&reply).await
    }

    /// Plain text, relayed a line at a time; blank lines at either end are left out.
    async fn read_text(
        &mut self,
        first: String,
        mut lines: impl Stream<Item = Result<String, ResponderError>> + Unpin,
    ) -> Result<(), ResponderError> {
        self.text(&first).await?;
        let mut breaks = 0;
        while let Some(line) = lines.next().await {
            let line = line?;
            breaks += 1;
            if line.is_empty() {
                continue;
            }
            self.text(&format!("{}{line}", "\n".repeat(breaks))).await?;
            breaks = 0;
        }
        Ok(())
    }

    /// One object of an n8n stream.
    async fn event(&mut self, event: Map<String, Value>) -> Result<(), ResponderError> {
        match event.get("type").and_then(Value::as_str) {
            Some("begin" | "end") => {}
            Some("item") => {
                if let Some(content) = event.get("content").and_then(Value::as_str) {
                    self.text(content).await?;
                }
            }
            Some("formation") => {
                if let Some(f) = event.get("formation") {
                    self.formation(f).await;
                }
            }
            Some("error") => {
                let said = ["content", "message", "error"]
                    .iter()
                    .find_map(|k| event.get(*k).and_then(Value::as_str))
                    .unwrap_or("no message");
                self.shared.upstream.record(self.turn.tenant.id, false);
                return Err(ResponderError::new(
                    "upstream_failed",
                    format!("the workflow reported an error: {}", self.short(said)),
                ));
            }
            Some(_)
                if ["output", "text", "formation"]
                    .iter()
                    .any(|k| event.contains_key(*k)) =>
            {
                self.reply(&event).await?;
            }
            Some(other) => {
                tracing::debug!(tenant = %self.turn.tenant.slug, kind = other, "ignored a stream line of an unknown type");
            }
            None => self.reply(&event).await?,
        }
        Ok(())
    }

    /// A JSON reply: its text (unless the stream already gave some), formation, handoff and usage.
    async fn reply(&mut self, reply: &Map<String, Value>) -> Result<(), ResponderError> {
        let text = ["output", "text"]
            .iter()
            .find_map(|k| reply.get(*k).and_then(Value::as_str));
        if let Some(text) = text
            && self.text_bytes == 0
        {
            self.text(text.trim()).await?;
        }
        if let Some(f) = reply.get("formation").filter(|f| !f.is_null()) {
            self.formation(f).await;
        }
        if reply.get("handoff").and_then(Value::as_bool) == Some(true) && !self.handoff {
            self.handoff = true;
            self.send(ReplyPart::Handoff).await;
        }
        if let Some(usage) = reply.get("usage") {
            let count = |k: &str| usage.get(k).and_then(Value::as_i64).filter(|n| *n >= 0);
            if let (Some(prompt_tokens), Some(completion_tokens)) =
                (count("prompt_tokens"), count("completion_tokens"))
            {
                self.usage = Some(Usage {
                    prompt_tokens,
                    completion_tokens,
                });
            }
        }
        Ok(())
    }

    async fn text(&mut self, text: &str) -> Result<(), ResponderError> {
        if text.is_empty() {
            return Ok(());
        }
        self.text_bytes += text.len();
        if self.text_bytes > MAX_REPLY_BYTES {
            return Err(self.too_large());
        }
        self.text_chars += text.chars().count();
        self.send(ReplyPart::Text(text.to_owned())).await;
        Ok(())
    }

    /// Relays a formation that matches the schema; logs and drops one that does not, since the
    /// text is the answer and the formation decoration: failing the turn would lose a good answer.
    async fn formation(&mut self, value: &Value) {
        let checked = Formation::deserialize(value)
            .map_err(|e| e.to_string())
            .and_then(|f| {
                if f.v == formation::VERSION {
                    Ok(f)
                } else {
                    Err(format!("unknown version {}", f.v))
                }
            });
        match checked {
            Ok(f) => {
                self.formation = true;
                self.send(ReplyPart::Formation(Box::new(f))).await;
            }
            Err(e) => {
                tracing::warn!(
                    tenant = %self.turn.tenant.slug,
                    conversation = %self.turn.conversation.public_id,
                    error = %self.short(&e),
                    "dropped a formation that does not match the schema"
                );
            }
        }
    }

    async fn send(&self, part: ReplyPart) {
        // Fails only when the stream was dropped, and then this call is dropped with it.
        self.out.send(Ok(part)).await;
    }

    /// An answer that arrived but makes no sense: counted against the tenant's breaker.
    fn malformed(&self, message: impl Into<String>) -> ResponderError {
        self.shared.upstream.record(self.turn.tenant.id, false);
        ResponderError::new("upstream_malformed", message)
    }

    fn too_large(&self) -> ResponderError {
        self.shared.upstream.record(self.turn.tenant.id, false);
        non_retryable(
            "upstream_too_large",
            format!("the reply is longer than {MAX_REPLY_BYTES} bytes"),
        )
    }

    /// The upstream's own words, cut short and without the key (an endpoint may echo it).
    fn short(&self, said: &str) -> String {
        let mut said: String = said.chars().take(MAX_ERROR_CHARS).collect();
        if let Some(key) = self.key.map(Secret::expose)
            && !key.is_empty()
        {
            said = said.replace(key, "[redacted]");
        }
        said
    }
}
