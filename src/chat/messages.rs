//! A visitor's messages: checked, stored before anything else can fail, answered; and read back.

use std::sync::Arc;

use super::bus::Topic;
use super::event::ChatEvent;
use super::responders::Turn;
use super::{ChatError, Engine};
use crate::store::conversations::{
    self, Conversation, ConversationStatus, Message, NewMessage, Page, Role, Visitor,
};
use crate::store::inbox;
use crate::store::tenants::Tenant;

/// The longest `client_id` a widget may send, in characters.
pub const MAX_CLIENT_ID: usize = 100;
/// The most messages one page of history holds.
pub const MAX_HISTORY_PAGE: i64 = 100;

/// A visitor's message as posted.
pub struct Incoming {
    pub text: String,
    pub client_id: String,
    pub conversation: Option<String>,
    pub page: Page,
}

/// What posting a message did.
pub struct Posted {
    pub message: Message,
    pub conversation: Conversation,
    /// The id the reply will carry, when this post started a turn (not on an idempotent retry).
    pub reply_id: Option<String>,
    /// The event id of the message's echo on the conversation's stream.
    pub echo_id: Option<u64>,
}

/// A page of a conversation's stored messages.
pub struct Transcript {
    pub conversation: Option<Conversation>,
    /// Oldest first.
    pub messages: Vec<Message>,
    pub has_more: bool,
    /// The stream position the messages were read at: resuming from it misses nothing.
    pub position: Option<u64>,
}

impl Engine {
    /// Checks the message, stores it (once per `client_id`), echoes it to the conversation's
    /// subscribers, and starts the reply unless a person has the conversation.
    pub async fn post(
        &self,
        tenant: Arc<Tenant>,
        visitor: Visitor,
        mut incoming: Incoming,
    ) -> Result<Posted, ChatError> {
        incoming.text = self.checked_text(&incoming.text)?;
        if !(1..=MAX_CLIENT_ID).contains(&incoming.client_id.chars().count()) {
            return Err(ChatError::invalid(
                "invalid_client_id",
                format!("client_id must be 1-{MAX_CLIENT_ID} characters."),
            ));
        }
        let locale = tenant.locale.as_str();
        let page = incoming.page.clone();
        let (conversation, message, row) = self
            .inner
            .db
            .write(move |c| {
                let mut conv = match &incoming.conversation {
                    Some(id) => conversations::get_for_visitor(c, &visitor, id)?,
                    None => match conversations::latest_open(c, &visitor)? {
                        Some(conv) => conv,
                        None => conversations::create(c, &visitor, &incoming.page, locale)?,
                    },
                };
                if let Some(existing) =
                    conversations::find_by_client_id(c, &conv, &incoming.client_id)?
                {
                    return Ok((conv, existing, None));
                }
                // A resolved conversation the visitor writes in again is the AI's once more.
                if conv.status == ConversationStatus::Closed {
                    conversations::set_status(c, conv.tenant_id, conv.id, ConversationStatus::Ai)?;
                    conv.status = ConversationStatus::Ai;
                }
                let mut new = NewMessage::new(Role::Visitor, incoming.text);
                new.client_id = Some(incoming.client_id);
                let message = conversations::insert(c, &conv, &new)?;
                let row = inbox::row_of(c, visitor.tenant_id, conv.id)?;
                Ok((conv, message, Some(row)))
            })
            .await?;
        let Some(row) = row else {
            return Ok(Posted {
                message,
                conversation,
                reply_id: None,
                echo_id: None,
            });
        };
        let echo = self.inner.bus.publish(
            Topic::Conversation(conversation.id),
            &ChatEvent::Message(message.clone()),
        );
        self.inner.publish_row(row);
        let reply_id = (conversation.status == ConversationStatus::Ai).then(|| {
            self.start_turn(Turn {
                tenant,
                conversation: conversation.clone(),
                message_id: message.id.clone(),
                text: message.text.clone(),
                page,
            })
        });
        Ok(Posted {
            message,
            conversation,
            reply_id,
            echo_id: Some(echo.id),
        })
    }

    /// A message's text as it is kept: trimmed, not empty, not too long.
    pub(super) fn checked_text(&self, text: &str) -> Result<String, ChatError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ChatError::invalid("empty_message", "The message is empty."));
        }
        let max = self.inner.max_message_chars;
        if text.chars().count() > max {
            return Err(ChatError::invalid(
                "message_too_long",
                format!("The message is longer than {max} characters."),
            ));
        }
        Ok(text.to_owned())
    }

    /// The visitor's conversation `id`, or their open one when `id` is absent (maybe none).
    pub async fn conversation(
        &self,
        visitor: &Visitor,
        id: Option<String>,
    ) -> Result<Option<Conversation>, ChatError> {
        let visitor = visitor.clone();
        Ok(self
            .inner
            .db
            .read(move |c| match id {
                Some(id) => conversations::get_for_visitor(c, &visitor, &id).map(Some),
                None => conversations::latest_open(c, &visitor),
            })
            .await?)
    }

    /// Up to `limit` (1 to [`MAX_HISTORY_PAGE`]) of the conversation's messages before
    /// `before`, oldest first.
    pub async fn history(
        &self,
        visitor: &Visitor,
        conversation: Option<String>,
        before: Option<String>,
        limit: i64,
    ) -> Result<Transcript, ChatError> {
        if !(1..=MAX_HISTORY_PAGE).contains(&limit) {
            return Err(ChatError::invalid(
                "invalid_limit",
                format!("limit must be 1-{MAX_HISTORY_PAGE}."),
            ));
        }
        let Some(conv) = self.conversation(visitor, conversation).await? else {
            return Ok(Transcript {
                conversation: None,
                messages: Vec::new(),
                has_more: false,
                position: None,
            });
        };
        // Taken before reading, so whatever is stored after the read is replayed from the stream.
        let position = self.inner.bus.position(Topic::Conversation(conv.id)).await;
        let read = conv.clone();
        let (messages, has_more) = self
            .inner
            .db
            .read(move |c| conversations::history(c, &read, before.as_deref(), limit))
            .await?;
        Ok(Transcript {
            conversation: Some(conv),
            messages,
            has_more,
            position: Some(position),
        })
    }
}
