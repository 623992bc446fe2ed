//! Opening a visitor's session: the tenant's public key, its allowed origins, the visitor.

use super::event::HandoffState;
use super::{ChatError, Engine};
use crate::store::conversations::{self, Conversation, ConversationStatus, Visitor};
use crate::store::inbox;
use crate::store::keys::{self, KeyKind};
use crate::store::tenants::{self, Tenant};
use crate::vocab::Locale;

/// What a widget presents to open a session.
pub struct Opening {
    pub tenant: String,
    pub key: String,
    /// The secret the widget got from an earlier session, to continue as the same visitor.
    pub visitor: Option<String>,
    /// The `Origin` the request came from.
    pub origin: Option<String>,
    /// keepstar's own public origin, allowed for every tenant: only keepstar's pages (the
    /// admin's live preview of a tenant's widget) are served from it.
    pub own_origin: Option<String>,
    pub page_url: Option<String>,
    /// The language the page asks for; the tenant's when absent or unknown.
    pub locale: Option<String>,
}

/// An opened session.
pub struct Opened {
    pub tenant: Tenant,
    /// The public key's id: the session ends when it is revoked.
    pub key_id: String,
    pub visitor: Visitor,
    /// The secret to hand back, so the widget stays the same visitor.
    pub visitor_secret: String,
    /// The visitor's open conversation, if any.
    pub conversation: Option<Conversation>,
    /// The allowed origin the session is bound to.
    pub origin: String,
    /// The page the visitor is on, when it is a web address.
    pub page_url: Option<String>,
    pub locale: Locale,
    pub team: TeamNow,
}

/// What the visitor is told of the team when the widget opens.
#[derive(Debug, Clone)]
pub struct TeamNow {
    /// Whether someone from the team has the inbox open.
    pub online: bool,
    /// How many minutes the team usually takes to join, once known.
    pub reply_minutes: Option<u32>,
    /// The open conversation's handoff: `requested` or `active`, with the operator's name.
    pub handoff: Option<(HandoffState, Option<String>)>,
    /// Whether the visitor left an email with the open conversation.
    pub contact_left: bool,
}

impl Engine {
    /// Checks the tenant's public key and the request's origin, then finds or makes the visitor.
    pub async fn open_session(&self, opening: Opening) -> Result<Opened, ChatError> {
        let Opening {
            tenant: slug,
            key,
            visitor,
            origin,
            own_origin,
            page_url,
            locale,
        } = opening;
        let found = self
            .inner
            .db
            .read(move |c| {
                let Some(tenant) = tenants::find(c, &slug)? else {
                    return Ok(None);
                };
                Ok(keys::verify(c, tenant.id, KeyKind::Public, &key)?.map(|k| (tenant, k)))
            })
            .await?;
        let (tenant, key) = found.ok_or(ChatError::UnknownKey)?;
        let origin = origin
            .filter(|o| {
                own_origin.as_ref() == Some(o)
                    || tenant.origins.iter().any(|allowed| allowed.allows(o))
            })
            .ok_or(ChatError::OriginNotAllowed)?;
        let (tenant_id, key_id) = (tenant.id, key.id.clone());
        let (visitor, visitor_secret, conversation, row) = self
            .inner
            .db
            .write(move |c| {
                let (visitor, secret) =
                    conversations::resolve_visitor(c, tenant_id, visitor.as_deref())?;
                let conversation = conversations::latest_open(c, &visitor)?;
                let row = match &conversation {
                    Some(conv) => Some(inbox::row_of(c, tenant_id, conv.id)?),
                    None => None,
                };
                keys::touch(c, &key_id)?;
                Ok((visitor, secret, conversation, row))
            })
            .await?;
        let team = TeamNow {
            online: self.team_online(tenant_id),
            reply_minutes: self.usual_wait_minutes(tenant_id).await?,
            handoff: row.as_ref().and_then(|row| match row.status {
                ConversationStatus::WaitingHuman => Some((HandoffState::Requested, None)),
                ConversationStatus::Human => Some((HandoffState::Active, row.assignee.clone())),
                _ => None,
            }),
            contact_left: row.is_some_and(|r| r.contact_email.is_some()),
        };
        let locale = locale
            .and_then(|l| Locale::from_code(&l))
            .unwrap_or(tenant.locale);
        Ok(Opened {
            key_id: key.id,
            visitor,
            visitor_secret,
            conversation,
            origin,
            page_url: page_url.filter(|u| u.starts_with("http")),
            locale,
            tenant,
            team,
        })
    }
}
