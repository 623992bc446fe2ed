//! The `n8n` and `webhook` responders: the visitor's message goes to the tenant's endpoint in the
//! n8n Chat Trigger shape, and its reply — one JSON object, an NDJSON stream or plain text — comes
//! back as the assistant's answer.
//!
//! The request (both responders):
//!
//! ```json
//! {"action": "sendMessage", "sessionId": "c_…", "chatInput": "the visitor's text",
//!  "metadata": {"tenant": "shop", "visitor": "v_…", "conversation": "c_…", "message": "m_…",
//!               "locale": "en", "page": {"url": "https://…", "title": null}}}
//! ```
//!
//! `visitor` is a pseudonym, stable per visitor; `message` is the visitor message's id, the same
//! on every retry of one call, so an endpoint can tell a retry from a new message.
//!
//! The reply, chosen by its `Content-Type` (or, when that says nothing useful, by its first line):
//! - a JSON object with the text in `output` (what n8n answers) or `text`, and optionally a
//!   `formation` (see `schemas/formation.v1.json`), `"handoff": true` to call a person, and
//!   `usage: {prompt_tokens, completion_tokens}`; or an array whose first element is such an
//!   object (n8n's "all entries");
//! - n8n's streaming NDJSON, one object a line: `{"type":"begin"}`, `{"type":"item","content":"…"}`
//!   (relayed as it arrives), `{"type":"end"}`, `{"type":"error","content":"…"}`, plus keepstar's
//!   own `{"type":"formation","formation":{…}}`; a line without `type` is read as a final JSON
//!   reply (its text is used only when no item came);
//! - `text/plain`: the text.
//!
//! A formation that does not match the schema is dropped with a warning and the text still shown:
//! the text is the answer, the formation decoration, and failing the turn would lose a good answer.

use std::pin::pin;
use std::sync::Arc;

use aws_lc_rs::hmac;
use bytes::Bytes;
use futures_util::stream::BoxStream;
use futures_util::{Stream, StreamExt};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{Out, ReplyPart, Responder, ResponderError, Shared, Turn, Usage, reply_from};
use crate::config::Secret;
use crate::formation::{self, Formation};

/// How long an n8n JWT is valid: long enough for clock skew, too short to be replayed later.
const JWT_TTL_SECS: u64 = 60;
/// The most reply text (or JSON body) accepted from one call.
const MAX_REPLY_BYTES: usize = 1 << 20;
/// How much of an upstream's own error message is kept for the log.
const MAX_ERROR_CHARS: usize = 200;

/// The header with the Unix time (seconds) a webhook request was signed at.
pub const TIMESTAMP_HEADER: &str = "x-keepstar-timestamp";
/// The header with a webhook request's signature, `sha256=<hex>`.
pub const SIGNATURE_HEADER: &str = "x-keepstar-signature";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    N8n,
    Webhook,
}

/// Answers by calling the tenant's n8n workflow or webhook.
pub struct Hook {
    shared: Arc<Shared>,
    kind: Kind,
}

impl Hook {
    /// Calls an n8n Chat Trigger or Webhook node, with a short-lived HS256 JWT when a key is set.
    pub fn n8n(shared: Arc<Shared>) -> Hook {
        Hook {
            shared,
            kind: Kind::N8n,
        }
    }

    /// Calls any HTTP endpoint, signed with HMAC-SHA256 (see [`webhook_signature`]).
    pub fn webhook(shared: Arc<Shared>) -> Hook {
        Hook {
            shared,
            kind: Kind::Webhook,
        }
    }
}

type Part = Result<ReplyPart, ResponderError>;

impl Responder for Hook {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::N8n => "n8n",
            Kind::Webhook => "webhook",
        }
    }

    fn respond(&self, turn: Turn) -> BoxStream<'static, Part> {
        let (shared, kind) = (self.shared.clone(), self.kind);
        reply_from(|out| async move {
            let mut relay = Relay {
                shared: &shared,
                turn: &turn,
                out: &out,
                key: None,
                text_bytes: 0,
                text_chars: 0,
                formation: false,
                handoff: false,
                usage: None,
            };
            relay.call(kind).await
        })
    }
}

/// `sha256=<hex>` of HMAC-SHA256 over `"<timestamp>.<body>"`, keyed with the tenant's provider key.
///
/// How a webhook endpoint checks a request:
/// 1. Read the raw request body (before any JSON parsing) and the `X-Keepstar-Timestamp` and
///    `X-Keepstar-Signature` headers.
/// 2. Refuse the request when the timestamp is more than 5 minutes from the endpoint's clock
///    (a replayed request).
/// 3. Compute HMAC-SHA256 with the key (its UTF-8 bytes, exactly as given to
///    `keepstar tenant set --api-key-stdin` or the `--api-key-env` variable, trimmed) over the
///    timestamp, a `.`, and the raw body; hex-encode it (lower case) and prefix `sha256=`.
/// 4. Compare it with the header in constant time; refuse the request when they differ.
///
/// In Node.js:
///
/// ```text
/// const mac = crypto.createHmac("sha256", key).update(`${ts}.${rawBody}`).digest("hex");
/// const ok = Math.abs(Date.now() / 1000 - Number(ts)) <= 300 &&
///   crypto.timingSafeEqual(Buffer.from(`sha256=${mac}`), Buffer.from(signatureHeader));
/// ```
///
/// In Python: `hmac.compare_digest("sha256=" + hmac.new(key, ts + b"." + raw_body,
/// hashlib.sha256).hexdigest(), signature_header)`.
pub fn webhook_signature(key: &[u8], timestamp: u64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("sha256={}", hex(ctx.sign().as_ref()))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    bytes
        .iter()
        .flat_map(|b| [DIGITS[(b >> 4) as usize], DIGITS[(b & 15) as usize]])
        .map(char::from)
        .collect()
}

/// The claims of the JWT an n8n call carries.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'static str,
    aud: &'static str,
    /// The conversation, as in the body's `sessionId`.
    sub: &'a str,
    tenant: &'a str,
    visitor: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    page: Option<&'a str>,
    iat: u64,
    exp: u64,
}

fn non_retryable(code: &'static str, message: impl Into<String>) -> ResponderError {
    ResponderError {
        code,
        message: message.into(),
        retryable: false,
    }
}

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

/// One call in progress: what it has relayed so far.
struct Relay<'a> {
    shared: &'a Shared,
    turn: &'a Turn,
    out: &'a Out,
    key: Option<Secret>,
    text_bytes: usize,
    text_chars: usize,
    formation: bool,
    handoff: bool,
    usage: Option<Usage>,
}

impl Relay<'_> {
    async fn call(&mut self, kind: Kind) -> Result<(), ResponderError> {
        let tenant = &self.turn.tenant;
        let url = tenant.provider.webhook_url.clone().ok_or_else(|| {
            non_retryable(
                "webhook_url_missing",
                format!(
                    "tenant {} has no webhook URL: set one with `keepstar tenant set {} --webhook-url …`",
                    tenant.slug, tenant.slug
                ),
            )
        })?;
        self.key = self.shared.provider_key(tenant).await?;
        if kind == Kind::Webhook && self.key.is_none() {
            return Err(non_retryable(
                "provider_key_missing",
                format!(
                    "tenant {} has no key to sign webhook calls with: set --api-key-env or --api-key-stdin",
                    tenant.slug
                ),
            ));
        }
        if kind == Kind::N8n && self.key.is_none() {
            tracing::debug!(tenant = %tenant.slug, "no provider key: calling n8n without a JWT");
        }
        let visitor = self
            .shared
            .visitor_pseudonym(tenant.id, self.turn.conversation.visitor_id);
        let body = self.request_body(&visitor);
        let answer = self
            .shared
            .upstream
            .send(tenant.id, |client| {
                self.request(client, kind, &url, &body, &visitor)
            })
            .await?;
        let format = Format::of(answer.response.headers());
        let lines = self.shared.upstream.lines(tenant.id, answer);
        self.read(format, lines).await?;
        if self.text_bytes == 0 && !self.formation && !self.handoff {
            return Err(self.malformed("the reply carried no text"));
        }
        self.shared.upstream.record(tenant.id, true);
        let usage = self
            .usage
            .unwrap_or_else(|| Usage::estimate(self.turn.text.chars().count(), self.text_chars));
        self.send(ReplyPart::Usage(usage)).await;
        Ok(())
    }

    /// One attempt's request, signed afresh, so a retry carries a new timestamp and expiry.
    fn request(
        &self,
        client: &reqwest::Client,
        kind: Kind,
        url: &str,
        body: &Bytes,
        visitor: &str,
    ) -> reqwest::RequestBuilder {
        let request = client
            .post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(
                ACCEPT,
                "application/json, application/x-ndjson, text/plain;q=0.5",
            )
            .body(body.clone());
        match (kind, &self.key) {
            (_, None) => request,
            (Kind::N8n, Some(key)) => {
                request.header(AUTHORIZATION, format!("Bearer {}", self.jwt(key, visitor)))
            }
            (Kind::Webhook, Some(key)) => {
                let now = jsonwebtoken::get_current_timestamp();
                let signature = webhook_signature(key.expose().as_bytes(), now, body);
                request
                    .header(TIMESTAMP_HEADER, now.to_string())
                    .header(SIGNATURE_HEADER, signature)
            }
        }
    }

    fn request_body(&self, visitor: &str) -> Bytes {
        let turn = self.turn;
        let conversation = &turn.conversation.public_id;
        json!({
            "action": "sendMessage",
            "sessionId": conversation,
            "chatInput": turn.text,
            "metadata": {
                "tenant": turn.tenant.slug,
                "visitor": visitor,
                "conversation": conversation,
                "message": turn.message_id,
                "locale": turn.tenant.locale.as_str(),
                "page": { "url": turn.page.url, "title": turn.page.title },
            },
        })
        .to_string()
        .into()
    }

    fn jwt(&self, key: &Secret, visitor: &str) -> String {
        let turn = self.turn;
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: "keepstar",
            aud: "n8n",
            sub: &turn.conversation.public_id,
            tenant: &turn.tenant.slug,
            visitor,
            page: turn.page.url.as_deref(),
            iat: now,
            exp: now + JWT_TTL_SECS,
        };
        jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(key.expose().as_bytes()),
        )
        .expect("HS256 signing cannot fail")
    }

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

    /// Relays a formation that matches the schema; logs and drops one that does not.
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
        if let Some(key) = self.key.as_ref().map(Secret::expose)
            && !key.is_empty()
        {
            said = said.replace(key, "[redacted]");
        }
        said
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_timestamp_dot_body_in_hex() {
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        // RFC 4231 test case 2: the hex is lower case and whole.
        assert_eq!(
            hex(hmac::sign(&key, b"what do ya want for nothing?").as_ref()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let tag = hmac::sign(&key, b"1700000000.{\"a\":1}");
        assert_eq!(
            webhook_signature(b"Jefe", 1_700_000_000, b"{\"a\":1}"),
            format!("sha256={}", hex(tag.as_ref()))
        );
    }
}
