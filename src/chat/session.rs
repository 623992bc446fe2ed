//! Opening a visitor's session: the tenant's public key, its allowed origins, the visitor.

use super::{ChatError, Engine};
use crate::store::conversations::{self, Conversation, Visitor};
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
        let (visitor, visitor_secret, conversation) = self
            .inner
            .db
            .write(move |c| {
                let (visitor, secret) =
                    conversations::resolve_visitor(c, tenant_id, visitor.as_deref())?;
                let conversation = conversations::latest_open(c, &visitor)?;
                keys::touch(c, &key_id)?;
                Ok((visitor, secret, conversation))
            })
            .await?;
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
        })
    }
}
