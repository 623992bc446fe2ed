//! The openai responder: any OpenAI-compatible chat-completions API (OpenAI, Ollama, vLLM,
//! llama.cpp server, OpenRouter…), streamed, with the shop's tools run by keepstar.

use std::sync::LazyLock;

use reqwest::header::{AUTHORIZATION, HeaderMap};
use serde::Deserialize;
use serde_json::{Value, json};

use super::llm::{self, Call, Dialect, Step, ToolCall, Tools};
use super::prompt::{Said, Speaker};
use super::upstream::SseEvent;
use super::{ResponderError, tools};
use crate::vocab::Secret;

pub const DEFAULT_BASE_URL: &str = "https://api.openai.com/v1";

/// The `/chat/completions` wire format.
#[derive(Clone, Copy)]
pub(super) struct ChatCompletions;

/// The shop's tools as `/chat/completions` lists them, built once.
static TOOLS: LazyLock<Value> = LazyLock::new(|| {
    tools::specs()
        .into_iter()
        .map(|t| {
            json!({
                "type": "function",
                "function": {"name": t.name, "description": t.description, "parameters": t.parameters},
            })
        })
        .collect()
});

impl Dialect for ChatCompletions {
    fn name(&self) -> &'static str {
        "openai"
    }

    fn url(&self, base_url: Option<&str>) -> String {
        let base = base_url.unwrap_or(DEFAULT_BASE_URL).trim_end_matches('/');
        format!("{base}/chat/completions")
    }

    fn auth(&self, key: Option<&Secret>) -> Result<HeaderMap, ResponderError> {
        let mut headers = HeaderMap::new();
        // Local servers such as Ollama take no key: then no Authorization header at all.
        if let Some(key) = key {
            headers.insert(
                AUTHORIZATION,
                llm::secret_header(format!("Bearer {}", key.expose()))?,
            );
        }
        Ok(headers)
    }

    fn messages(&self, history: &[Said]) -> Vec<Value> {
        history
            .iter()
            .map(|said| {
                let role = match said.speaker {
                    Speaker::Visitor => "user",
                    Speaker::Assistant => "assistant",
                };
                json!({"role": role, "content": said.text})
            })
            .collect()
    }

    fn body(&self, call: &Call<'_>) -> Value {
        let mut messages = Vec::with_capacity(call.messages.len() + 1);
        messages.push(json!({"role": "system", "content": call.system}));
        messages.extend(call.messages.iter().cloned());
        let mut body = json!({
            "model": call.model,
            "stream": true,
            "stream_options": {"include_usage": true},
        });
        // Assigned, not put in `json!`, which would copy the whole conversation once more.
        body["messages"] = Value::Array(messages);
        if let Some(t) = call.settings.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = call.settings.max_tokens {
            body["max_tokens"] = json!(n);
        }
        if call.tools != Tools::Omit {
            body["tools"] = TOOLS.clone();
        }
        if call.tools == Tools::Refuse {
            body["tool_choice"] = json!("none");
        }
        body
    }

    fn read(&self, event: &SseEvent) -> Result<Vec<Step>, ResponderError> {
        if event.data.trim() == "[DONE]" {
            return Ok(vec![Step::End]);
        }
        let chunk: Chunk = serde_json::from_str(&event.data).map_err(|e| llm::malformed(&e))?;
        if let Some(error) = chunk.error {
            return Err(llm::reported(&error));
        }
        let mut steps = Vec::new();
        // keepstar asks for one choice.
        if let Some(choice) = chunk.choices.into_iter().next() {
            if let Some(text) = choice.delta.content.filter(|t| !t.is_empty()) {
                steps.push(Step::Text(text));
            }
            for (i, call) in choice
                .delta
                .tool_calls
                .unwrap_or_default()
                .into_iter()
                .enumerate()
            {
                let function = call.function.unwrap_or_default();
                steps.push(Step::Tool {
                    // Some servers leave out the index when each delta holds whole calls.
                    index: call.index.unwrap_or(i),
                    id: call.id,
                    name: function.name,
                    arguments: match function.arguments {
                        None | Some(Value::Null) => String::new(),
                        Some(Value::String(s)) => s,
                        // A few servers send the arguments as an object rather than JSON text.
                        Some(other) => other.to_string(),
                    },
                });
            }
            if choice.finish_reason.is_some() {
                steps.push(Step::Stopped);
            }
        }
        if let Some(usage) = chunk.usage {
            steps.extend(usage.prompt_tokens.map(Step::PromptTokens));
            steps.extend(usage.completion_tokens.map(Step::CompletionTokens));
        }
        Ok(steps)
    }

    fn add_round(
        &self,
        messages: &mut Vec<Value>,
        text: &str,
        calls: &[ToolCall],
        results: &[String],
    ) {
        let tool_calls: Vec<Value> = calls
            .iter()
            .map(|c| {
                json!({
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": c.arguments},
                })
            })
            .collect();
        let content = if text.is_empty() {
            Value::Null
        } else {
            json!(text)
        };
        messages.push(json!({"role": "assistant", "content": content, "tool_calls": tool_calls}));
        for (call, result) in calls.iter().zip(results) {
            messages.push(json!({"role": "tool", "tool_call_id": call.id, "content": result}));
        }
    }
}

/// One `chat.completion.chunk` (or an error object some servers stream instead).
#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<Choice>,
    usage: Option<UsageCount>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    delta: Delta,
    finish_reason: Option<String>,
}

#[derive(Deserialize, Default)]
struct Delta {
    content: Option<String>,
    tool_calls: Option<Vec<ToolDelta>>,
}

#[derive(Deserialize)]
struct ToolDelta {
    index: Option<usize>,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Deserialize, Default)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<Value>,
}

#[derive(Deserialize)]
struct UsageCount {
    prompt_tokens: Option<i64>,
    completion_tokens: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(data: &str) -> Result<Vec<Step>, ResponderError> {
        ChatCompletions.read(&SseEvent {
            event: None,
            data: data.into(),
        })
    }

    #[test]
    fn chunks_read_as_steps() {
        assert_eq!(
            read(r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":"Hi"},"finish_reason":null}],"usage":null}"#).unwrap(),
            [Step::Text("Hi".into())]
        );
        assert_eq!(
            read(r#"{"choices":[{"delta":{"tool_calls":[{"index":1,"id":"call_x","type":"function","function":{"name":"show_product","arguments":""}}]}}]}"#).unwrap(),
            [Step::Tool { index: 1, id: Some("call_x".into()), name: Some("show_product".into()), arguments: String::new() }]
        );
        assert_eq!(
            read(r#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#).unwrap(),
            [Step::Stopped]
        );
        assert_eq!(
            read(r#"{"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}}"#).unwrap(),
            [Step::PromptTokens(12), Step::CompletionTokens(3)]
        );
        assert_eq!(read(" [DONE]").unwrap(), [Step::End]);
    }

    #[test]
    fn bad_frames_and_streamed_errors_say_what_without_echoing() {
        let e = read(r#"{"choices": "sk-secret"}"#).unwrap_err();
        assert_eq!(e.code, "upstream_malformed");
        assert!(!e.message.contains("sk-secret"), "{}", e.message);
        let e = read(
            r#"{"error":{"message":"Incorrect API key sk-secret","type":"invalid_request_error"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.code, "upstream_error");
        assert!(e.message.contains("invalid_request_error"), "{}", e.message);
        assert!(!e.message.contains("sk-secret"), "{}", e.message);
    }
}
