//! The events of a conversation's stream (SPEC §5) and of the team's inbox, serialised once and
//! shared by every subscriber.

use std::sync::Arc;

use serde::Serialize;

use crate::formation::Formation;
use crate::store::conversations::{Message, Role};
use crate::store::inbox::{InboxRow, Note};

/// One event as sent: its stream id, its kind, its JSON data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// Microseconds since the Unix epoch, strictly increasing per conversation, so ids stay
    /// ordered across restarts and tell the time an event was sent.
    pub id: u64,
    pub kind: EventKind,
    pub data: Arc<str>,
    /// The assistant message the event belongs to, if any.
    pub message_id: Option<Arc<str>>,
    /// The tenant an inbox event belongs to: only its team may receive it.
    pub tenant: Option<i64>,
}

impl Envelope {
    /// `event` as sent with stream id `id`, serialised once for every subscriber.
    pub fn new(id: u64, event: &ChatEvent) -> Envelope {
        Envelope {
            id,
            kind: event.kind(),
            data: event.data().into(),
            message_id: event.message_id().map(Arc::from),
            tenant: event.tenant(),
        }
    }
}

/// The kinds of event on a conversation's stream; `as_str` is the SSE `event:` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventKind {
    Message,
    Delta,
    Formation,
    Done,
    Error,
    Typing,
    Handoff,
    /// Inbox: a conversation's row as it is now.
    Conversation,
    /// Inbox: a note the team added.
    Note,
    /// Inbox: events were missed; read the inbox again.
    Reset,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::Delta => "delta",
            EventKind::Formation => "formation",
            EventKind::Done => "done",
            EventKind::Error => "error",
            EventKind::Typing => "typing",
            EventKind::Handoff => "handoff",
            EventKind::Conversation => "conversation",
            EventKind::Note => "note",
            EventKind::Reset => "reset",
        }
    }
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
    /// Someone is writing: the assistant, the visitor, or the operator `name`.
    Typing {
        role: Role,
        on: bool,
        name: Option<String>,
    },
    Handoff {
        state: HandoffState,
        operator: Option<String>,
        /// Why a person's part ended (with `Ended`).
        reason: Option<EndReason>,
    },
    /// Inbox: the conversation as the team's inbox shows it now.
    Conversation(InboxRow),
    /// Inbox: a note the team wrote, in the tenant's conversation.
    Note {
        tenant: i64,
        note: Note,
    },
    /// Inbox: events were missed.
    Reset,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HandoffState {
    Requested,
    Active,
    Ended,
}

/// Why a person stopped answering.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    HandedBack,
    Closed,
    /// Nobody took it over in time.
    Timeout,
}

impl ChatEvent {
    pub fn kind(&self) -> EventKind {
        match self {
            ChatEvent::Message(_) => EventKind::Message,
            ChatEvent::Delta { .. } => EventKind::Delta,
            ChatEvent::Formation { .. } => EventKind::Formation,
            ChatEvent::Done { .. } => EventKind::Done,
            ChatEvent::Error { .. } => EventKind::Error,
            ChatEvent::Typing { .. } => EventKind::Typing,
            ChatEvent::Handoff { .. } => EventKind::Handoff,
            ChatEvent::Conversation(_) => EventKind::Conversation,
            ChatEvent::Note { .. } => EventKind::Note,
            ChatEvent::Reset => EventKind::Reset,
        }
    }

    /// The event's JSON, serialised straight from the event (no intermediate `Value`).
    pub fn data(&self) -> String {
        #[derive(Serialize)]
        #[serde(untagged)]
        enum Data<'a> {
            Message(&'a Message),
            Delta {
                message_id: &'a str,
                text: &'a str,
            },
            Formation {
                message_id: &'a str,
                formation: &'a Formation,
            },
            Done {
                message_id: &'a str,
                message: &'a Message,
            },
            Error {
                message_id: &'a Option<String>,
                code: &'a str,
                message: &'a str,
                retryable: bool,
            },
            Typing {
                role: Role,
                on: bool,
                #[serde(skip_serializing_if = "Option::is_none")]
                name: &'a Option<String>,
            },
            Handoff {
                state: HandoffState,
                operator: &'a Option<String>,
                #[serde(skip_serializing_if = "Option::is_none")]
                reason: Option<EndReason>,
            },
            Conversation(&'a InboxRow),
            Note(&'a Note),
            Reset {},
        }
        let data = match self {
            ChatEvent::Message(m) => Data::Message(m),
            ChatEvent::Delta { message_id, text } => Data::Delta { message_id, text },
            ChatEvent::Formation {
                message_id,
                formation,
            } => Data::Formation {
                message_id,
                formation,
            },
            ChatEvent::Done {
                message_id,
                message,
            } => Data::Done {
                message_id,
                message,
            },
            ChatEvent::Error {
                message_id,
                code,
                message,
                retryable,
            } => Data::Error {
                message_id,
                code,
                message,
                retryable: *retryable,
            },
            ChatEvent::Typing { role, on, name } => Data::Typing {
                role: *role,
                on: *on,
                name,
            },
            ChatEvent::Handoff {
                state,
                operator,
                reason,
            } => Data::Handoff {
                state: *state,
                operator,
                reason: *reason,
            },
            ChatEvent::Conversation(row) => Data::Conversation(row),
            ChatEvent::Note { note, .. } => Data::Note(note),
            ChatEvent::Reset => Data::Reset {},
        };
        serde_json::to_string(&data).expect("events serialise")
    }

    /// The tenant an inbox event belongs to.
    pub fn tenant(&self) -> Option<i64> {
        match self {
            ChatEvent::Conversation(row) => Some(row.tenant_id),
            ChatEvent::Note { tenant, .. } => Some(*tenant),
            _ => None,
        }
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
