//! The anthropic responder: Claude over the Messages API, streamed, with the shop's tools run by
//! keepstar.

use std::sync::LazyLock;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;
use serde_json::{Value, json};

use super::llm::{self, Call, Dialect, Step, ToolCall, Tools};
use super::prompt::{Said, Speaker};
use super::upstream::SseEvent;
use super::{ResponderError, tools};
use crate::vocab::Secret;

pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
pub const VERSION: &str = "2023-06-01";
/// The Messages API needs a limit; this one when the tenant sets none.
const MAX_TOKENS: i64 = 1024;

/// The shop's tools as the Messages API lists them, built once.
static TOOLS: LazyLock<Value> = LazyLock::new(|| {
    tools::specs()
        .into_iter()
        .map(
            |t| json!({"name": t.name, "description": t.description, "input_schema": t.parameters}),
        )
        .collect()
});

/// The `/v1/messages` wire format.
#[derive(Clone, Copy)]
pub(super) struct Messages;

impl Dialect for Messages {
    fn name(&self) -> &'static str {
        "anthropic"
    }

    fn url(&self, base_url: Option<&str>) -> String {
        let base = base_url.unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/');
        format!("{base}/v1/messages")
    }

    fn auth(&self, key: Option<&Secret>) -> Result<HeaderMap, ResponderError> {
        let key = key.ok_or_else(|| ResponderError {
            code: "provider_key_unavailable",
            message: "the anthropic provider needs a key: set --api-key-env or store one".into(),
            retryable: false,
        })?;
        let mut headers = HeaderMap::new();
        headers.insert(
            HeaderName::from_static("x-api-key"),
            llm::secret_header(key.expose().to_owned())?,
        );
        headers.insert(
            HeaderName::from_static("anthropic-version"),
            HeaderValue::from_static(VERSION),
        );
        Ok(headers)
    }

    /// User and assistant messages must alternate and begin with the user: neighbours of one
    /// role (a failed reply leaves two visitor messages in a row) become one message.
    fn messages(&self, history: &[Said]) -> Vec<Value> {
        let mut merged: Vec<(&str, String)> = Vec::new();
        for said in history.iter().filter(|s| !s.text.trim().is_empty()) {
            let role = match said.speaker {
                Speaker::Visitor => "user",
                Speaker::Assistant if merged.is_empty() => continue,
                Speaker::Assistant => "assistant",
            };
            match merged.last_mut() {
                Some((last, text)) if *last == role => {
                    text.push_str("\n\n");
                    text.push_str(&said.text);
                }
                _ => merged.push((role, said.text.clone())),
            }
        }
        merged
            .into_iter()
            .map(|(role, text)| json!({"role": role, "content": text}))
            .collect()
    }

    fn body(&self, call: &Call<'_>) -> Value {
        let mut body = json!({
            "model": call.model,
            "max_tokens": call.settings.max_tokens.unwrap_or(MAX_TOKENS),
            "system": call.system,
            "messages": call.messages,
            "stream": true,
        });
        if let Some(t) = call.settings.temperature {
            // Tenants may set up to 2 (OpenAI's range); Anthropic takes at most 1.
            body["temperature"] = json!(t.min(1.0));
        }
        if call.tools != Tools::Omit {
            body["tools"] = TOOLS.clone();
        }
        if call.tools == Tools::Refuse {
            body["tool_choice"] = json!({"type": "none"});
        }
        body
    }

    fn read(&self, event: &SseEvent) -> Result<Vec<Step>, ResponderError> {
        let parsed: Event = serde_json::from_str(&event.data).map_err(|e| llm::malformed(&e))?;
        Ok(match parsed {
            Event::MessageStart { message } => {
                let u = message.usage;
                // Cached prompt tokens are counted apart from the rest; the prompt is all of them.
                let prompt = [
                    u.input_tokens,
                    u.cache_creation_input_tokens,
                    u.cache_read_input_tokens,
                ];
                if prompt.iter().all(Option::is_none) {
                    Vec::new()
                } else {
                    vec![Step::PromptTokens(prompt.iter().flatten().sum())]
                }
            }
            Event::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                Block::Text { text } if !text.is_empty() => vec![Step::Text(text)],
                // Its `input` is always `{}` here; the arguments follow as deltas.
                Block::ToolUse { id, name } => vec![Step::Tool {
                    index,
                    id: Some(id),
                    name: Some(name),
                    arguments: String::new(),
                }],
                _ => Vec::new(),
            },
            Event::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => vec![Step::Text(text)],
                BlockDelta::InputJsonDelta { partial_json } => vec![Step::Tool {
                    index,
                    id: None,
                    name: None,
                    arguments: partial_json,
                }],
                BlockDelta::Other => Vec::new(),
            },
            Event::MessageDelta { delta, usage } => {
                let mut steps = Vec::new();
                steps.extend(
                    usage
                        .and_then(|u| u.output_tokens)
                        .map(Step::CompletionTokens),
                );
                if delta.stop_reason.is_some() {
                    steps.push(Step::Stopped);
                }
                steps
            }
            Event::MessageStop => vec![Step::End],
            Event::Error { error } => return Err(llm::reported(&error)),
            Event::ContentBlockStop | Event::Ping | Event::Other => Vec::new(),
        })
    }

    fn add_round(
        &self,
        messages: &mut Vec<Value>,
        text: &str,
        calls: &[ToolCall],
        results: &[String],
    ) {
        // The API refuses empty text blocks.
        let mut content: Vec<Value> = Vec::new();
        if !text.is_empty() {
            content.push(json!({"type": "text", "text": text}));
        }
        content.extend(calls.iter().map(|c| {
            json!({"type": "tool_use", "id": c.id, "name": c.name, "input": llm::arguments_object(&c.arguments)})
        }));
        messages.push(json!({"role": "assistant", "content": content}));
        let results: Vec<Value> = calls
            .iter()
            .zip(results)
            .map(|(c, r)| json!({"type": "tool_result", "tool_use_id": c.id, "content": r}))
            .collect();
        messages.push(json!({"role": "user", "content": results}));
    }
}

/// One event of a streamed Messages answer.
#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Event {
    MessageStart {
        message: MessageStart,
    },
    ContentBlockStart {
        index: usize,
        content_block: Block,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    ContentBlockStop,
    MessageDelta {
        delta: MessageDelta,
        usage: Option<UsageCount>,
    },
    MessageStop,
    Ping,
    Error {
        error: Value,
    },
    /// Event types added after this was written are ignored, as the API asks.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageStart {
    #[serde(default)]
    usage: UsageCount,
}

#[derive(Deserialize, Default)]
struct UsageCount {
    input_tokens: Option<i64>,
    cache_creation_input_tokens: Option<i64>,
    cache_read_input_tokens: Option<i64>,
    output_tokens: Option<i64>,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
    },
    /// Thinking and other blocks are not shown to visitors.
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct MessageDelta {
    stop_reason: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &str) -> Result<Vec<Step>, ResponderError> {
        Messages.read(&SseEvent {
            event: None,
            data: data.into(),
        })
    }

    #[test]
    fn events_read_as_steps() {
        assert_eq!(
            read(r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude","stop_reason":null,"usage":{"input_tokens":25,"cache_read_input_tokens":5,"output_tokens":1}}}"#).unwrap(),
            [Step::PromptTokens(30)]
        );
        assert_eq!(
            read(r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_1","name":"search_products","input":{}}}"#).unwrap(),
            [Step::Tool { index: 1, id: Some("toolu_1".into()), name: Some("search_products".into()), arguments: String::new() }]
        );
        assert_eq!(
            read(r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"qu"}}"#).unwrap(),
            [Step::Tool { index: 1, id: None, name: None, arguments: "{\"qu".into() }]
        );
        assert_eq!(
            read(r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi"}}"#).unwrap(),
            [Step::Text("Hi".into())]
        );
        assert_eq!(
            read(r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":15}}"#).unwrap(),
            [Step::CompletionTokens(15), Step::Stopped]
        );
        assert_eq!(read(r#"{"type":"message_stop"}"#).unwrap(), [Step::End]);
        assert_eq!(read(r#"{"type": "ping"}"#).unwrap(), []);
        assert_eq!(
            read(r#"{"type":"content_block_stop","index":0}"#).unwrap(),
            []
        );
        assert_eq!(read(r#"{"type":"some_future_event","x":1}"#).unwrap(), []);
        assert_eq!(
            read(r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":""}}"#).unwrap(),
            []
        );
        let e =
            read(r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#)
                .unwrap_err();
        assert_eq!(
            (e.code, e.message.contains("overloaded_error")),
            ("upstream_error", true)
        );
    }

    #[test]
    fn history_alternates_and_begins_with_the_visitor() {
        let said = |speaker, text: &str| Said {
            speaker,
            text: text.into(),
        };
        let history = [
            said(Speaker::Assistant, "Hello! How can I help?"),
            said(Speaker::Visitor, "tents"),
            said(Speaker::Visitor, "for two"),
            said(Speaker::Assistant, ""),
            said(Speaker::Assistant, "Here are some."),
            said(Speaker::Visitor, "thanks"),
        ];
        assert_eq!(
            Messages.messages(&history),
            [
                json!({"role": "user", "content": "tents\n\nfor two"}),
                json!({"role": "assistant", "content": "Here are some."}),
                json!({"role": "user", "content": "thanks"}),
            ]
        );
    }
}
