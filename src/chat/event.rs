//! The events of a conversation's stream (SPEC §5), serialised once and shared by every subscriber.

use std::sync::Arc;

use serde::Serialize;
use serde_json::json;

use crate::formation::Formation;
use crate::store::conversations::{Message, Role};

/// One event as sent: its stream id, its SSE name, its JSON data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Microseconds since the Unix epoch, strictly increasing per conversation, so ids stay
    /// ordered across restarts and tell the time an event was sent.
    pub id: u64,
    pub name: &'static str,
    pub data: Arc<str>,
    /// The assistant message the event belongs to, if any.
    pub message_id: Option<Arc<str>>,
}

/// What happened in a conversation.
#[derive(Debug, Clone)]
pub enum ChatEvent {
    /// A complete message: the visitor's echo, an operator's or a system note.
    Message(Message),
    Delta {
        message_id: String,
        text: String,
    },
    Formation {
        message_id: String,
        formation: Formation,
    },
    /// The final stored assistant message.
    Done {
        message_id: String,
        message: Message,
    },
    Error {
        message_id: Option<String>,
        code: &'static str,
        message: String,
        retryable: bool,
    },
    Typing {
        role: Role,
        on: bool,
    },
    Handoff {
        state: HandoffState,
        operator: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HandoffState {
    Requested,
    Active,
    Ended,
}

impl ChatEvent {
    pub fn name(&self) -> &'static str {
        match self {
            ChatEvent::Message(_) => "message",
            ChatEvent::Delta { .. } => "delta",
            ChatEvent::Formation { .. } => "formation",
            ChatEvent::Done { .. } => "done",
            ChatEvent::Error { .. } => "error",
            ChatEvent::Typing { .. } => "typing",
            ChatEvent::Handoff { .. } => "handoff",
        }
    }

    pub fn data(&self) -> String {
        let value = match self {
            ChatEvent::Message(m) => json!(m),
            ChatEvent::Delta { message_id, text } => {
                json!({ "message_id": message_id, "text": text })
            }
            ChatEvent::Formation {
                message_id,
                formation,
            } => {
                json!({ "message_id": message_id, "formation": formation })
            }
            ChatEvent::Done {
                message_id,
                message,
            } => json!({ "message_id": message_id, "message": message }),
            ChatEvent::Error {
                message_id,
                code,
                message,
                retryable,
            } => {
                json!({ "message_id": message_id, "code": code, "message": message, "retryable": retryable })
            }
            ChatEvent::Typing { role, on } => json!({ "role": role, "on": on }),
            ChatEvent::Handoff { state, operator } => {
                json!({ "state": state, "operator": operator })
            }
        };
        value.to_string()
    }

    /// The assistant message this event belongs to, if any.
    pub fn message_id(&self) -> Option<&str> {
        match self {
            ChatEvent::Delta { message_id, .. }
            | ChatEvent::Formation { message_id, .. }
            | ChatEvent::Done { message_id, .. } => Some(message_id),
            ChatEvent::Error { message_id, .. } => message_id.as_deref(),
            _ => None,
        }
    }
}
