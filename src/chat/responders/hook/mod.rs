//! The `n8n` and `webhook` responders: the visitor's message goes to the tenant's endpoint
//! (`request.rs`) and its reply comes back as the assistant's answer (`reply.rs`). What goes over
//! the wire is written down once, in the README's "Who answers"; change the two together.

mod reply;
mod request;

use std::sync::Arc;

use futures_util::stream::BoxStream;

pub use self::request::{SIGNATURE_HEADER, TIMESTAMP_HEADER, webhook_signature};
use super::{Out, ReplyPart, Responder, ResponderError, Shared, Turn, reply_from};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    N8n,
    Webhook,
}

/// Answers by calling the tenant's n8n workflow or webhook.
pub struct Hook {
    shared: Arc<Shared>,
    kind: Kind,
}

impl Hook {
    /// Calls an n8n Chat Trigger or Webhook node, with a short-lived HS256 JWT when a key is set.
    pub fn n8n(shared: Arc<Shared>) -> Hook {
        Hook {
            shared,
            kind: Kind::N8n,
        }
    }

    /// Calls any HTTP endpoint, signed with HMAC-SHA256 (see [`webhook_signature`]).
    pub fn webhook(shared: Arc<Shared>) -> Hook {
        Hook {
            shared,
            kind: Kind::Webhook,
        }
    }
}

impl Responder for Hook {
    fn name(&self) -> &'static str {
        match self.kind {
            Kind::N8n => "n8n",
            Kind::Webhook => "webhook",
        }
    }

    fn respond(&self, turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        let (shared, kind) = (self.shared.clone(), self.kind);
        reply_from(|out| async move { call(&shared, kind, &turn, &out).await })
    }
}

/// Posts the visitor's message to the tenant's endpoint and relays its reply to `out`.
async fn call(shared: &Shared, kind: Kind, turn: &Turn, out: &Out) -> Result<(), ResponderError> {
    let tenant = &turn.tenant;
    let url = tenant.provider.webhook_url.clone().ok_or_else(|| {
        non_retryable(
            "webhook_url_missing",
            format!(
                "tenant {} has no webhook URL: set one with `keepstar tenant set {} --webhook-url …`",
                tenant.slug, tenant.slug
            ),
        )
    })?;
    let key = shared.provider_key(tenant).await?;
    if kind == Kind::Webhook && key.is_none() {
        return Err(non_retryable(
            "provider_key_missing",
            format!(
                "tenant {} has no key to sign webhook calls with: set --api-key-env or --api-key-stdin",
                tenant.slug
            ),
        ));
    }
    if kind == Kind::N8n && key.is_none() {
        tracing::debug!(tenant = %tenant.slug, "no provider key: calling n8n without a JWT");
    }
    let visitor = shared.visitor_pseudonym(tenant.id, turn.conversation.visitor_id);
    let request = request::Request::new(kind, turn, &visitor, key.as_ref());
    let answer = shared
        .upstream
        .send(tenant.id, |client| request.build(client, &url))
        .await?;
    reply::relay(shared, turn, out, key.as_ref(), answer).await
}

fn non_retryable(code: &'static str, message: impl Into<String>) -> ResponderError {
    ResponderError {
        code,
        message: message.into(),
        retryable: false,
    }
}
