//! The team around a conversation: who is online (a member with the inbox open), how long they
//! usually take to answer, who is typing, the notes they keep, what they have read, the email a
//! visitor leaves when nobody is there, and the inbox's live stream.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures_util::stream::{self, Stream, StreamExt};

use super::bus::Topic;
use super::event::{ChatEvent, EventKind};
use super::stream::Delivery;
use super::{ChatError, Engine, Inner, Operator};
use crate::accounts;
use crate::store::conversations::{self, Conversation, Role, Visitor};
use crate::store::inbox::{self, InboxRow, Note};
use crate::store::tenants::Tenant;
use crate::sync::lock;

/// How long an answer-time estimate is reused.
const ESTIMATE_FOR: Duration = Duration::from_secs(600);

/// What the engine knows of the team: open inboxes per tenant, answer-time estimates.
#[derive(Default)]
pub(super) struct Team {
    online: std::sync::Mutex<HashMap<i64, usize>>,
    estimates: std::sync::Mutex<HashMap<i64, (Instant, Option<u32>)>>,
}

impl Team {
    /// A take-over changes the estimate: it is read again next time.
    pub(super) fn forget_estimate(&self, tenant_id: i64) {
        lock(&self.estimates).remove(&tenant_id);
    }
}

/// A member's open inbox: while it lives, their tenants' team is online.
struct Presence {
    engine: Engine,
    tenants: Vec<i64>,
}

impl Drop for Presence {
    fn drop(&mut self) {
        let mut online = lock(&self.engine.inner.team.online);
        for id in &self.tenants {
            if let Some(n) = online.get_mut(id) {
                *n -= 1;
                if *n == 0 {
                    online.remove(id);
                }
            }
        }
    }
}

impl Inner {
    /// Sends the conversation's row to the team's inboxes.
    pub(super) fn publish_row(&self, row: InboxRow) {
        self.bus
            .publish(Topic::Inbox, &ChatEvent::Conversation(row));
    }
}

impl Engine {
    /// Whether someone from the tenant's team has the inbox open.
    pub fn team_online(&self, tenant_id: i64) -> bool {
        lock(&self.inner.team.online).contains_key(&tenant_id)
    }

    /// How many minutes the tenant's team usually takes to take a conversation over (the median
    /// of its latest), none before the first; read at most every ten minutes.
    pub async fn usual_wait_minutes(&self, tenant_id: i64) -> Result<Option<u32>, ChatError> {
        if let Some((at, minutes)) = lock(&self.inner.team.estimates).get(&tenant_id)
            && at.elapsed() < ESTIMATE_FOR
        {
            return Ok(*minutes);
        }
        let ms = self
            .inner
            .db
            .read(move |c| inbox::usual_wait_ms(c, tenant_id))
            .await?;
        let minutes = ms.map(|ms| {
            u32::try_from((ms + 59_999) / 60_000)
                .unwrap_or(u32::MAX)
                .max(1)
        });
        lock(&self.inner.team.estimates).insert(tenant_id, (Instant::now(), minutes));
        Ok(minutes)
    }

    /// The inbox of a member serving `tenants`, live: the rows and notes of those tenants after
    /// `last_event_id`, or `reset` first when some were missed. The team counts as online
    /// while the stream is open.
    pub async fn follow_inbox(
        &self,
        tenants: Vec<i64>,
        last_event_id: Option<u64>,
    ) -> impl Stream<Item = Delivery> + Send + 'static + use<> {
        {
            let mut online = lock(&self.inner.team.online);
            for id in &tenants {
                *online.entry(*id).or_default() += 1;
            }
        }
        let presence = Presence {
            engine: self.clone(),
            tenants,
        };
        let sub = self.inner.bus.subscribe(Topic::Inbox, last_event_id).await;
        let reset = sub.gap.then(|| Delivery::unnumbered(&ChatEvent::Reset));
        stream::iter(reset).chain(self.follow(sub, None).filter(move |d| {
            let ours = d.kind == EventKind::Reset
                || d.tenant.is_some_and(|t| presence.tenants.contains(&t));
            std::future::ready(ours)
        }))
    }

    /// Someone in the conversation is typing (`on`) or stopped.
    pub(super) fn typing(&self, conversation: i64, role: Role, on: bool, name: Option<String>) {
        self.publish(conversation, ChatEvent::Typing { role, on, name });
    }

    /// The visitor is typing in their conversation `id` (the team sees it).
    pub async fn visitor_typing(
        &self,
        visitor: &Visitor,
        id: String,
        on: bool,
    ) -> Result<(), ChatError> {
        let conv = self.visitor_conversation(visitor, id).await?;
        self.typing(conv.id, Role::Visitor, on, None);
        Ok(())
    }

    /// A member of the team is typing a reply (the visitor sees it).
    pub fn operator_typing(&self, conv: &Conversation, operator: &Operator, on: bool) {
        self.typing(conv.id, Role::Operator, on, Some(operator.name.clone()));
    }

    /// Keeps the email the visitor left with their conversation `id`, for the team.
    pub async fn leave_contact(
        &self,
        visitor: &Visitor,
        id: String,
        email: &str,
    ) -> Result<(), ChatError> {
        let email = email.trim().to_owned();
        if !accounts::is_email(&email) {
            return Err(ChatError::invalid(
                "invalid_email",
                "That does not look like an email address.",
            ));
        }
        let conv = self.visitor_conversation(visitor, id).await?;
        let row = self
            .inner
            .db
            .write(move |c| {
                inbox::set_contact(c, conv.tenant_id, conv.id, &email)?;
                inbox::row_of(c, conv.tenant_id, conv.id)
            })
            .await?;
        self.inner.publish_row(row);
        Ok(())
    }

    /// A note the team keeps on the conversation; the visitor never sees it.
    pub async fn add_note(
        &self,
        tenant: &Tenant,
        conv: &Conversation,
        operator: &Operator,
        text: &str,
    ) -> Result<Note, ChatError> {
        let text = self.checked_text(text)?;
        let (tenant_id, id) = (tenant.id, conv.id);
        let author = (operator.user_id, operator.name.clone());
        let note = self
            .inner
            .db
            .write(move |c| inbox::add_note(c, tenant_id, id, (author.0, &author.1), &text))
            .await?;
        let event = ChatEvent::Note {
            tenant: tenant_id,
            note: note.clone(),
        };
        self.inner.bus.publish(Topic::Inbox, &event);
        Ok(note)
    }

    /// The team has read what the visitor said in the conversation so far.
    pub async fn mark_read(&self, conv: &Conversation) -> Result<(), ChatError> {
        let (tenant_id, id) = (conv.tenant_id, conv.id);
        let row = self
            .inner
            .db
            .write(move |c| {
                Ok(match inbox::mark_read(c, tenant_id, id)? {
                    true => Some(inbox::row_of(c, tenant_id, id)?),
                    false => None,
                })
            })
            .await?;
        if let Some(row) = row {
            self.inner.publish_row(row);
        }
        Ok(())
    }

    async fn visitor_conversation(
        &self,
        visitor: &Visitor,
        id: String,
    ) -> Result<Conversation, ChatError> {
        let visitor = visitor.clone();
        Ok(self
            .inner
            .db
            .read(move |c| conversations::get_for_visitor(c, &visitor, &id))
            .await?)
    }
}
