//! Who answers a conversation: the AI (`ai`), nobody yet because the visitor asked for a person
//! (`waiting_human`), a person (`human`), or nobody because it was resolved (`closed`). Every
//! change is published to the visitor as a `handoff` event and written to the audit log.

use super::event::{ChatEvent, HandoffState};
use super::{ChatError, Engine};
use crate::store::audit;
use crate::store::conversations::{
    self, Conversation, ConversationStatus as Status, Message, NewMessage, Role,
};
use crate::store::tenants::Tenant;
use crate::strings;

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
        let tenant_id = tenant.id;
        let conv_id = conv.id;
        let message = self
            .inner
            .db
            .write(move |c| {
                if matches!(conv.status, Status::Ai | Status::Closed) {
                    conversations::set_status(c, tenant_id, conv.id, Status::WaitingHuman)?;
                }
                conversations::insert(c, &conv, &note)
            })
            .await?;
        self.publish(conv_id, ChatEvent::Message(message.clone()));
        self.publish(conv_id, handoff(HandoffState::Requested, None));
        Ok(message)
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
    pub async fn take_over(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: Operator,
    ) -> Result<Conversation, ChatError> {
        let (taken, changed) = self
            .change(tenant, conv, &operator, "conversation.take_over", |_| {
                Ok(Status::Human)
            })
            .await?;
        if changed {
            self.publish(
                taken.id,
                handoff(HandoffState::Active, Some(operator.name.clone())),
            );
        }
        Ok(taken)
    }

    /// A person's message to the visitor; it takes the conversation over first when needed.
    pub async fn reply_as_operator(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: Operator,
        text: &str,
    ) -> Result<Message, ChatError> {
        let text = self.checked_text(text)?;
        let conv = self.take_over(tenant, conv, operator.clone()).await?;
        let mut reply = NewMessage::new(Role::Operator, text);
        reply.operator_id = operator.user_id;
        reply.operator_name = Some(operator.name);
        let conv_id = conv.id;
        let message = self
            .inner
            .db
            .write(move |c| conversations::insert(c, &conv, &reply))
            .await?;
        self.publish(conv_id, ChatEvent::Message(message.clone()));
        Ok(message)
    }

    /// The team hands the conversation back: the AI answers the visitor's next message.
    pub async fn hand_back(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: Operator,
    ) -> Result<Conversation, ChatError> {
        let (back, changed) = self
            .change(
                tenant,
                conv,
                &operator,
                "conversation.hand_back",
                |from| match from {
                    Status::Closed => Err(ChatError::Conflict {
                        code: "conversation_closed",
                        message: "The conversation is closed.".into(),
                    }),
                    _ => Ok(Status::Ai),
                },
            )
            .await?;
        if changed {
            self.publish(back.id, handoff(HandoffState::Ended, None));
        }
        Ok(back)
    }

    /// The conversation is resolved; the visitor's next message starts a new one.
    pub async fn close(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: Operator,
    ) -> Result<Conversation, ChatError> {
        let (closed, _) = self
            .change(tenant, conv, &operator, "conversation.close", |_| {
                Ok(Status::Closed)
            })
            .await?;
        Ok(closed)
    }

    /// Moves the conversation to the status `to` picks for its current one, assigned to the
    /// operator (or to nobody when it leaves a person), with an audit entry; says whether it
    /// changed.
    async fn change(
        &self,
        tenant: &Tenant,
        conv: Conversation,
        operator: &Operator,
        action: &'static str,
        to: impl FnOnce(Status) -> Result<Status, ChatError> + Send + 'static,
    ) -> Result<(Conversation, bool), ChatError> {
        let (tenant_id, slug) = (tenant.id, tenant.slug.clone());
        let (actor, assignee) = (operator.actor.clone(), operator.user_id);
        self.inner
            .db
            .write(move |c| {
                // The status as stored now, not as the caller last read it.
                let now = conversations::get_for_tenant(c, tenant_id, &conv.public_id)?;
                let status = match to(now.status) {
                    Ok(status) => status,
                    Err(refused) => return Ok(Err(refused)),
                };
                let assignee = (status == Status::Human).then_some(assignee).flatten();
                if status == now.status && (status != Status::Human || now.assignee == assignee) {
                    return Ok(Ok((now, false)));
                }
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
                let after = conversations::get_for_tenant(c, tenant_id, &now.public_id)?;
                Ok(Ok((after, true)))
            })
            .await?
    }

    fn publish(&self, conversation: i64, event: ChatEvent) {
        self.inner.bus.publish(conversation, &event);
    }
}

fn handoff(state: HandoffState, operator: Option<String>) -> ChatEvent {
    ChatEvent::Handoff { state, operator }
}
