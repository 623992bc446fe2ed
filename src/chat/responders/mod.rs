//! Who answers: one trait, one implementation per provider (SPEC §8).

pub mod builtin;

use std::sync::Arc;

use self::builtin::Builtin;
use super::Responders;
use crate::store::Db;
use crate::store::tenants::Provider;

use futures_util::stream::BoxStream;

use crate::formation::Formation;
use crate::store::conversations::Conversation;
use crate::store::tenants::Tenant;

/// A piece of a reply, in the order the visitor should see them.
#[derive(Debug, Clone)]
pub enum ReplyPart {
    /// Text to append to the reply.
    Text(String),
    Formation(Box<Formation>),
    /// The responder hands the conversation to a human.
    Handoff,
}

/// Why a responder could not finish; `message` is for logs, never for the visitor.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ResponderError {
    pub code: &'static str,
    pub message: String,
    pub retryable: bool,
}

/// What a responder knows about the turn it answers.
#[derive(Debug, Clone)]
pub struct Turn {
    pub tenant: Arc<Tenant>,
    pub conversation: Conversation,
    pub text: String,
}

pub trait Responder: Send + Sync + 'static {
    /// The name stored with each message it writes.
    fn name(&self) -> &'static str;
    /// The reply to one visitor message, as a stream of parts.
    fn respond(&self, turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>>;
}

/// The responders of this build, chosen by each tenant's provider setting.
pub struct Registry {
    builtin: Arc<Builtin>,
}

impl Registry {
    pub fn new(db: Db, base_url: String) -> Registry {
        Registry {
            builtin: Arc::new(Builtin::new(db, base_url)),
        }
    }
}

impl Responders for Registry {
    fn for_tenant(&self, tenant: &Tenant) -> Arc<dyn Responder> {
        if tenant.provider.kind != Provider::Builtin {
            // The LLM and webhook providers are not in this build yet; answer from the catalog.
            tracing::warn!(tenant = %tenant.slug, provider = tenant.provider.kind.as_str(), "provider not available; using builtin");
        }
        self.builtin.clone()
    }
}
