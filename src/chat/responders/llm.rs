//! What the LLM responders share: the prompt, streamed calls to the model, the bounded tool loop
//! and token usage. Each provider brings its [`Dialect`]: how a call is asked, and what the events
//! of its answer say.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use serde_json::Value;

use super::prompt::{self, Said};
use super::upstream::{self, Answer, SseEvent};
use super::{Out, ReplyPart, Responder, ResponderError, Shared, Turn, Usage, reply_from, tools};
use crate::store::tenants::ProviderSettings;
use crate::vocab::Secret;

/// Whether a call offers the model the shop's tools.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Tools {
    Offer,
    /// Listed but not to be called: the last call after the tool rounds, whose conversation holds
    /// tool calls (which some APIs refuse to read without their tools).
    Refuse,
    /// Not mentioned at all (the tenant allows no tool rounds).
    Omit,
}

/// One call to the model.
pub(super) struct Call<'a> {
    pub model: &'a str,
    pub settings: &'a ProviderSettings,
    pub system: &'a str,
    /// The conversation in the provider's format (see [`Dialect::messages`]).
    pub messages: &'a [Value],
    pub tools: Tools,
}

/// A tool call the model made, put together from its fragments.
#[derive(Debug, Clone, Default)]
pub(super) struct ToolCall {
    pub id: String,
    pub name: String,
    /// JSON as the model wrote it (it may not be valid; the tool then tells the model so).
    pub arguments: String,
}

/// What an event of a streamed answer says.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    Text(String),
    /// A piece of tool call `index`: its id and name when they arrive, and the next fragment of its arguments.
    Tool {
        index: usize,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    PromptTokens(i64),
    /// Tokens written so far in this call (a later count replaces an earlier one).
    CompletionTokens(i64),
    /// The model finished (usage may still follow).
    Stopped,
    /// The answer is over; nothing more is read.
    End,
}

/// How one provider's API is spoken.
pub(super) trait Dialect: Send + Sync + 'static {
    /// The responder's name, stored with each message it writes.
    fn name(&self) -> &'static str;
    /// The endpoint, from the tenant's base URL (or the provider's own).
    fn url(&self, base_url: Option<&str>) -> String;
    /// The headers that carry the key (made with [`secret_header`]), or an error when a key is needed and missing.
    fn auth(&self, key: Option<&Secret>) -> Result<HeaderMap, ResponderError>;
    /// The conversation so far in the provider's message format.
    fn messages(&self, history: &[Said]) -> Vec<Value>;
    /// The JSON body of one call.
    fn body(&self, call: &Call<'_>) -> Value;
    /// What one event of the answer says; an error when it makes no sense or reports a failure.
    fn read(&self, event: &SseEvent) -> Result<Vec<Step>, ResponderError>;
    /// Appends a tool round: the model's text and tool calls, then each call's result.
    fn add_round(
        &self,
        messages: &mut Vec<Value>,
        text: &str,
        calls: &[ToolCall],
        results: &[String],
    );
}

/// A responder that speaks to the tenant's model in one dialect.
pub(super) struct Llm<D> {
    shared: Arc<Shared>,
    dialect: D,
}

impl<D: Dialect + Clone> Llm<D> {
    pub(super) fn new(shared: Arc<Shared>, dialect: D) -> Llm<D> {
        Llm { shared, dialect }
    }
}

impl<D: Dialect + Clone> Responder for Llm<D> {
    fn name(&self) -> &'static str {
        self.dialect.name()
    }

    fn respond(&self, turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        respond(self.shared.clone(), turn, self.dialect.clone())
    }
}

/// The reply to `turn` from the tenant's model, spoken in `dialect`.
fn respond<D: Dialect>(
    shared: Arc<Shared>,
    turn: Turn,
    dialect: D,
) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
    reply_from(|out| async move {
        let total = Duration::from_millis(shared.upstream.settings.total_timeout_ms);
        tokio::time::timeout(total, converse(&shared, &turn, &dialect, &out))
            .await
            .unwrap_or_else(|_| {
                Err(ResponderError::new(
                    "upstream_timeout",
                    format!(
                        "the answer and its tool rounds took longer than {} ms",
                        total.as_millis()
                    ),
                ))
            })
    })
}

async fn converse<D: Dialect>(
    shared: &Shared,
    turn: &Turn,
    dialect: &D,
    out: &Out,
) -> Result<(), ResponderError> {
    let tenant = &turn.tenant;
    let settings = &tenant.provider;
    let model = settings
        .model
        .as_deref()
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| ResponderError {
            code: "provider_not_configured",
            message: format!(
                "tenant {:?} has no model: set one with `keepstar tenant set --model`",
                tenant.slug
            ),
            retryable: false,
        })?;
    let mut headers = dialect.auth(shared.provider_key(tenant).await?.as_ref())?;
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let url = dialect.url(settings.base_url.as_deref());
    let prompt = prompt::build(&shared.db, turn).await?;
    let mut messages = dialect.messages(&prompt.history);
    let mut prompt_chars = prompt.chars();
    let max_rounds = shared.upstream.settings.max_tool_rounds;
    let mut rounds = 0;
    let mut last_char = None;
    loop {
        let tools = match (rounds < max_rounds, rounds > 0) {
            (true, _) => Tools::Offer,
            (false, true) => Tools::Refuse,
            (false, false) => Tools::Omit,
        };
        let body = dialect.body(&Call {
            model,
            settings,
            system: &prompt.system,
            messages: &messages,
            tools,
        });
        let body = Bytes::from(serde_json::to_vec(&body).expect("a JSON value serialises"));
        let answer = shared
            .upstream
            .send(tenant.id, |client| {
                client
                    .post(&url)
                    .headers(headers.clone())
                    .body(body.clone())
            })
            .await?;
        let reply = read_answer(shared, tenant.id, dialect, answer, out, &mut last_char).await?;
        let estimate = Usage::estimate(prompt_chars, reply.completion_chars());
        out.send(Ok(ReplyPart::Usage(Usage {
            prompt_tokens: reply.prompt_tokens.unwrap_or(estimate.prompt_tokens),
            completion_tokens: reply
                .completion_tokens
                .unwrap_or(estimate.completion_tokens),
        })))
        .await;
        if reply.calls.is_empty() {
            return Ok(());
        }
        if tools != Tools::Offer {
            tracing::debug!(tenant = %tenant.slug, calls = reply.calls.len(), "the model called tools after the last tool round; not run");
            return Ok(());
        }
        rounds += 1;
        let mut results = Vec::with_capacity(reply.calls.len());
        for call in &reply.calls {
            tracing::debug!(tenant = %tenant.slug, tool = %call.name, round = rounds, "running a tool");
            let result = tools::call(
                &shared.db,
                &shared.base_url,
                tenant,
                &call.name,
                &call.arguments,
            )
            .await?;
            for part in result.parts {
                out.send(Ok(part)).await;
            }
            results.push(result.content);
        }
        prompt_chars +=
            reply.completion_chars() + results.iter().map(|r| r.chars().count()).sum::<usize>();
        dialect.add_round(&mut messages, &reply.text, &reply.calls, &results);
    }
}

/// What one call answered.
#[derive(Default)]
struct Reply {
    text: String,
    calls: Vec<ToolCall>,
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
}

impl Reply {
    fn completion_chars(&self) -> usize {
        self.text.chars().count()
            + self
                .calls
                .iter()
                .map(|c| c.name.chars().count() + c.arguments.chars().count())
                .sum::<usize>()
    }
}

/// Reads one streamed answer, passing its text on as it arrives. `last_char` is the last
/// character the visitor got from earlier calls of this reply.
async fn read_answer<D: Dialect>(
    shared: &Shared,
    tenant_id: i64,
    dialect: &D,
    answer: Answer,
    out: &Out,
    last_char: &mut Option<char>,
) -> Result<Reply, ResponderError> {
    let failed = |e: ResponderError| {
        shared.upstream.record(tenant_id, false);
        e
    };
    let finished = answer.finished.clone();
    let mut events = upstream::sse(shared.upstream.lines(tenant_id, answer));
    let mut reply = Reply::default();
    let mut calls: BTreeMap<usize, ToolCall> = BTreeMap::new();
    let mut stopped = false;
    'answer: loop {
        let Some(event) = events.next().await else {
            if stopped {
                break;
            }
            return Err(failed(ResponderError::new(
                "upstream_incomplete",
                "the answer ended before the model finished",
            )));
        };
        for step in dialect.read(&event?).map_err(failed)? {
            match step {
                Step::Text(text) if text.is_empty() => {}
                Step::Text(text) => {
                    // Text written before a tool round and after it are one message to the visitor.
                    let gap =
                        reply.text.is_empty() && last_char.is_some_and(|c| !c.is_whitespace());
                    *last_char = text.chars().last();
                    reply.text.push_str(&text);
                    let text = if gap { format!("\n\n{text}") } else { text };
                    out.send(Ok(ReplyPart::Text(text))).await;
                }
                Step::Tool {
                    index,
                    id,
                    name,
                    arguments,
                } => {
                    let call = calls.entry(index).or_default();
                    // Some servers repeat the id and name in every fragment; the first one counts.
                    if let Some(id) = id.filter(|_| call.id.is_empty()) {
                        call.id = id;
                    }
                    if let Some(name) = name.filter(|_| call.name.is_empty()) {
                        call.name = name;
                    }
                    call.arguments.push_str(&arguments);
                }
                Step::PromptTokens(n) => reply.prompt_tokens = Some(n),
                Step::CompletionTokens(n) => reply.completion_tokens = Some(n),
                Step::Stopped => stopped = true,
                Step::End => {
                    // The body may stay open after its last event; the call went well, and
                    // what is left of the body is read in the background to keep the connection.
                    shared.upstream.record(tenant_id, true);
                    finished.set();
                    break 'answer;
                }
            }
        }
    }
    reply.calls = calls
        .into_iter()
        .map(|(index, mut call)| {
            if call.id.is_empty() {
                call.id = format!("call_{index}");
            }
            call
        })
        .collect();
    Ok(reply)
}

/// A header value that holds the provider key, marked sensitive so that it is never printed.
pub(super) fn secret_header(value: String) -> Result<HeaderValue, ResponderError> {
    let mut header = HeaderValue::try_from(value).map_err(|_| ResponderError {
        code: "provider_key_unavailable",
        message: "the provider key holds characters an HTTP header cannot carry".into(),
        retryable: false,
    })?;
    header.set_sensitive(true);
    Ok(header)
}

/// A frame that is not the JSON expected. Says where, never what (it could echo anything).
pub(super) fn malformed(e: &serde_json::Error) -> ResponderError {
    ResponderError::new(
        "upstream_malformed",
        format!(
            "a streamed event is not the JSON expected ({:?} error at line {}, column {})",
            e.classify(),
            e.line(),
            e.column()
        ),
    )
}

/// An error the upstream reported inside its answer, by its code or type only (providers echo
/// parts of the request, even of the key, in their messages).
pub(super) fn reported(error: &Value) -> ResponderError {
    let kind = ["code", "type"]
        .iter()
        .find_map(|k| match error.get(*k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        })
        .map(|k| k.chars().take(60).collect::<String>())
        .unwrap_or_else(|| "unspecified".into());
    ResponderError::new(
        "upstream_error",
        format!("the upstream reported an error ({kind})"),
    )
}

/// The JSON arguments of a tool call as an object (an empty object when they are not one).
pub(super) fn arguments_object(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => Value::Object(Default::default()),
    }
}
