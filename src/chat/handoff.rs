//! Who answers a conversation: the AI (`ai`), nobody yet because the visitor asked for a person
//! (`waiting_human`), a person (`human`), or nobody because it was resolved (`closed`). Every
//! change is one write that also keeps an audit row, then one `handoff` event to the visitor
//! and the conversation's new row to the team's inbox.

use rusqlite::Connection;

use super::bus::Topic;
use super::event::{ChatEvent, EndReason, HandoffState};
use super::{ChatError, Engine};
use crate::store::conversations::{
    self, Conversation, ConversationStatus as Status, Message, NewMessage, Role,
};
use crate::store::inbox::{self, InboxRow};
use crate::store::tenants::Tenant;
use crate::store::{admins, audit};
use crate::strings;
use crate::vocab::Locale;

/// A member of the team acting on a conversation.
#[derive(Debug, Clone)]
pub struct Operator {
    /// Their admin account, when they have one (a tool on the tenant API may name people
    /// keepstar does not know).
    pub user_id: Option<i64>,
    /// The name the visitor sees.
    pub name: String,
    /// Who acted, as the audit log names them (an admin, a tenant API key).
    pub actor: String,
}

/// Whether taking a conversation over may take it from the person who has it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// Refuse (`taken`) when someone else is answering.
    Ask,
    /// The member confirmed: take it anyway.
    Confirmed,
}

/// Where a change leaves the conversation and who has it.
type Decision = Result<(Status, Option<i64>), ChatError>;

/// What one change did.
#[derive(Clone)]
struct Changed {
    conversation: Conversation,
    from: Status,
    changed: bool,
    note: Option<Message>,
    row: InboxRow,
}

impl Engine {
    /// The visitor asks for a person: the AI stops answering and the team is told.
    pub async fn request_handoff(
        &self,
        tenant: &Tenant,
        conv: Conversation,
    ) -> Result<Message, ChatError> {
        let note = NewMessage::new(
            Role::System,
            strings::of(tenant.locale).handoff_requested.into(),
        );
        let done = self
            .change(
                (tenant.id, &tenant.slug),
                conv,
                "visitor",
                "conversation.request_handoff",
                |_, now| match now.status {
                    Status::Ai | Status::Closed => Ok((Status::WaitingHuman, now.assignee)),
                    other => Ok((other, now.assignee)),
                },
                Some(note.clone()),
            )
            .await?;
        let requested = done
            .changed
            .then(|| handoff(HandoffState::Requested, None, None));
        self.announce(&done, requested);
        match done.note {
            Some(message) => Ok(message),
            // Asked again while waiting (or while a person has it): the note once more.
            None => {
                let conv = done.conversation;
                let id = conv.id;
                let message = self
                    .inner
                    .db
                    .write(move |c| conversations::insert(c, &conv, &note))
                    .await?;
                self.publish(id, ChatEvent::Message(message.clone()));
                Ok(message)
            }
        }
    }

    /// The tenant's conversation `public_id`, whichever visitor it is with.
    pub async fn tenant_conversation(
        &self,
        tenant: &Tenant,
        public_id: String,
    ) -> Result<Conversation, ChatError> {
        let tenant_id = tenant.id;
        Ok(self
            .inner
            .db
            .read(move |c| conversations::get_for_tenant(c, tenant_id, &public_id))
            .await?)
    }

    /// A person takes the conversation over: no responder runs for it until it is handed back.
    /// When someone else is answering it, only a confirmed take-over takes it from them; of two
    /// at once, one wins and the other is refused.
    pub async fn take_over(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: Operator,
        takeover: Takeover,
    ) -> Result<Conversation, ChatError> {
        let me = operator.user_id;
        let done = self
            .change(
                (tenant.id, &tenant.slug),
                conv,
                &operator.actor,
                "conversation.take_over",
                move |c, now| {
                    if let Some(holder) = now.assignee.filter(|_| now.status == Status::Human)
                        && Some(holder) != me
                        && takeover == Takeover::Ask
                    {
                        return Err(taken_by(c, holder));
                    }
                    Ok((Status::Human, me))
                },
                None,
            )
            .await?;
        if done.changed {
            self.inner.team.forget_estimate(tenant.id);
        }
        let active = done
            .changed
            .then(|| handoff(HandoffState::Active, Some(operator.name), None));
        self.announce(&done, active);
        Ok(done.conversation)
    }

    /// A person's message to the visitor; it takes the conversation over first when needed,
    /// and the team has then read what the visitor said.
    pub async fn reply_as_operator(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: Operator,
        text: &str,
        takeover: Takeover,
    ) -> Result<Message, ChatError> {
        let text = self.checked_text(text)?;
        let conv = self
            .take_over(tenant, conv, operator.clone(), takeover)
            .await?;
        let mut reply = NewMessage::new(Role::Operator, text);
        reply.operator_id = operator.user_id;
        reply.operator_name = Some(operator.name.clone());
        let conv_id = conv.id;
        let (message, row) = self
            .inner
            .db
            .write(move |c| {
                let message = conversations::insert(c, &conv, &reply)?;
                inbox::mark_read(c, conv.tenant_id, conv.id)?;
                Ok((message, inbox::row_of(c, conv.tenant_id, conv.id)?))
            })
            .await?;
        self.typing(conv_id, Role::Operator, false, Some(operator.name));
        self.publish(conv_id, ChatEvent::Message(message.clone()));
        self.inner.publish_row(row);
        Ok(message)
    }

    /// The team hands the conversation back: the AI answers the visitor's next message.
    pub async fn hand_back(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: Operator,
    ) -> Result<Conversation, ChatError> {
        let done = self
            .change(
                (tenant.id, &tenant.slug),
                conv,
                &operator.actor,
                "conversation.hand_back",
                |_, now| match now.status {
                    Status::Closed => Err(ChatError::Conflict {
                        code: "conversation_closed",
                        message: "The conversation is closed.".into(),
                    }),
                    _ => Ok((Status::Ai, None)),
                },
                None,
            )
            .await?;
        self.announce(&done, ended(&done, EndReason::HandedBack));
        Ok(done.conversation)
    }

    /// The conversation is resolved; the visitor's next message opens it again, for the AI.
    pub async fn close(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: Operator,
    ) -> Result<Conversation, ChatError> {
        let done = self
            .change(
                (tenant.id, &tenant.slug),
                conv,
                &operator.actor,
                "conversation.close",
                |_, _| Ok((Status::Closed, None)),
                None,
            )
            .await?;
        self.announce(&done, ended(&done, EndReason::Closed));
        Ok(done.conversation)
    }

    /// Assigns the conversation to a member of the team (`to`: their id and name), or to
    /// nobody; when a person has it, the new one now answers.
    pub async fn assign(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: Operator,
        to: Option<(i64, String)>,
    ) -> Result<Conversation, ChatError> {
        let to_id = to.as_ref().map(|(id, _)| *id);
        let done = self
            .change(
                (tenant.id, &tenant.slug),
                conv,
                &operator.actor,
                "conversation.assign",
                move |_, now| match now.status {
                    Status::Closed => Err(ChatError::Conflict {
                        code: "conversation_closed",
                        message: "The conversation is closed.".into(),
                    }),
                    Status::Human if to_id.is_none() => Ok((Status::WaitingHuman, None)),
                    status => Ok((status, to_id)),
                },
                None,
            )
            .await?;
        let active = (done.changed && done.conversation.status == Status::Human)
            .then(|| handoff(HandoffState::Active, to.map(|(_, name)| name), None));
        self.announce(&done, active);
        Ok(done.conversation)
    }

    /// Hands back to the AI every conversation whose visitor waited longer than the tenant's
    /// handoff timeout at `now_ms`, telling the visitor; returns how many.
    pub async fn expire_waiting(&self, now_ms: i64) -> Result<usize, ChatError> {
        let due = self
            .inner
            .db
            .read(move |c| inbox::waits_run_out(c, now_ms))
            .await?;
        let count = due.len();
        for wait in due {
            let locale = Locale::from_code(&wait.locale).unwrap_or(Locale::En);
            let note = NewMessage::new(Role::System, strings::of(locale).nobody_came.into());
            let conv = self
                .inner
                .db
                .read(move |c| conversations::get_for_tenant(c, wait.tenant_id, &wait.public_id))
                .await?;
            let done = self
                .change(
                    (wait.tenant_id, &wait.slug),
                    conv,
                    "system",
                    "conversation.handoff_timeout",
                    |_, now| match now.status {
                        Status::WaitingHuman => Ok((Status::Ai, None)),
                        other => Ok((other, now.assignee)),
                    },
                    Some(note),
                )
                .await?;
            self.announce(&done, ended(&done, EndReason::Timeout));
        }
        Ok(count)
    }

    /// Moves the conversation to the status and assignee `to` decides from the stored ones, with
    /// an audit entry, and stores `note` (a system message) when it changed.
    async fn change(
        &self,
        (tenant_id, slug): (i64, &str),
        conv: Conversation,
        actor: &str,
        action: &'static str,
        to: impl FnOnce(&Connection, &Conversation) -> Decision + Send + 'static,
        note: Option<NewMessage>,
    ) -> Result<Changed, ChatError> {
        let (slug, actor) = (slug.to_owned(), actor.to_owned());
        self.inner
            .db
            .write(move |c| {
                // The conversation as stored now, not as the caller last read it.
                let now = conversations::get_for_tenant(c, tenant_id, &conv.public_id)?;
                let (status, assignee) = match to(c, &now) {
                    Ok(decided) => decided,
                    Err(refused) => return Ok(Err(refused)),
                };
                let changed = status != now.status || assignee != now.assignee;
                if changed {
                    conversations::set_status(c, tenant_id, now.id, status)?;
                    conversations::assign(c, tenant_id, now.id, assignee)?;
                    audit::record(
                        c,
                        audit::Entry {
                            tenant: Some((tenant_id, &slug)),
                            actor: &actor,
                            action,
                            target: Some(&now.public_id),
                            details: serde_json::json!({"from": now.status.as_str(), "to": status.as_str()}),
                        },
                    )?;
                }
                let after = conversations::get_for_tenant(c, tenant_id, &now.public_id)?;
                let note = match note.filter(|_| changed) {
                    Some(note) => Some(conversations::insert(c, &after, &note)?),
                    None => None,
                };
                Ok(Ok(Changed {
                    row: inbox::row_of(c, tenant_id, now.id)?,
                    conversation: after,
                    from: now.status,
                    changed,
                    note,
                }))
            })
            .await?
    }

    /// Tells the visitor and the team what a change did: its note, then `event`, then the
    /// conversation's new row to the inbox.
    fn announce(&self, done: &Changed, event: Option<ChatEvent>) {
        let id = done.conversation.id;
        if let Some(note) = &done.note {
            self.publish(id, ChatEvent::Message(note.clone()));
        }
        if let Some(event) = event {
            self.publish(id, event);
        }
        if done.changed {
            self.inner.publish_row(done.row.clone());
        }
    }

    pub(super) fn publish(&self, conversation: i64, event: ChatEvent) {
        self.inner
            .bus
            .publish(Topic::Conversation(conversation), &event);
    }
}

/// Someone else is answering: their name says who.
fn taken_by(c: &Connection, holder: i64) -> ChatError {
    let name = admins::get(c, holder)
        .map(|u| u.display_name().to_owned())
        .unwrap_or_default();
    ChatError::Taken { by: name }
}

/// `ended` for the visitor, when a person was part of the conversation (asked for or answering).
fn ended(done: &Changed, reason: EndReason) -> Option<ChatEvent> {
    (done.changed && matches!(done.from, Status::WaitingHuman | Status::Human))
        .then(|| handoff(HandoffState::Ended, None, Some(reason)))
}

fn handoff(state: HandoffState, operator: Option<String>, reason: Option<EndReason>) -> ChatEvent {
    ChatEvent::Handoff {
        state,
        operator,
        reason,
    }
}
