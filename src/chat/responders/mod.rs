//! Who answers: one trait, one implementation per provider (SPEC §8).

pub mod anthropic;
pub mod builtin;
pub mod hook;
mod keys;
mod llm;
pub mod openai;
pub mod probe;
pub mod prompt;
mod registry;
pub mod tools;
pub mod upstream;

pub use self::registry::Registry;

use std::sync::Arc;

use futures_util::stream::{self, BoxStream};
use futures_util::{StreamExt, future};
use tokio::sync::mpsc;

use self::upstream::Upstream;
use crate::config::Config;
use crate::formation::Formation;
use crate::seal::Sealer;
use crate::store::Db;
use crate::store::conversations::{Conversation, Page};
use crate::store::tenants::Tenant;

/// A piece of a reply, in the order the visitor should see them.
#[derive(Debug, Clone)]
pub enum ReplyPart {
    /// Text to append to the reply.
    Text(String),
    Formation(Box<Formation>),
    /// The responder hands the conversation to a human.
    Handoff,
    /// Tokens the reply used (added up when a reply takes several calls).
    Usage(Usage),
}

/// Tokens an LLM call used, as the provider counted them or as estimated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
}

impl Usage {
    /// About four characters per token, for providers that do not count.
    pub fn estimate(prompt_chars: usize, completion_chars: usize) -> Usage {
        Usage {
            prompt_tokens: prompt_chars.div_ceil(4) as i64,
            completion_tokens: completion_chars.div_ceil(4) as i64,
        }
    }
}

/// Why a responder could not finish; `message` is for logs, never for the visitor.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ResponderError {
    pub code: &'static str,
    pub message: String,
    pub retryable: bool,
}

impl ResponderError {
    pub fn new(code: &'static str, message: impl Into<String>) -> ResponderError {
        ResponderError {
            code,
            message: message.into(),
            retryable: true,
        }
    }
}

/// What a responder knows about the turn it answers.
#[derive(Debug, Clone)]
pub struct Turn {
    pub tenant: Arc<Tenant>,
    pub conversation: Conversation,
    /// The visitor's message being answered (its public id) and its text.
    pub message_id: String,
    pub text: String,
    /// The page the visitor sent it from.
    pub page: Page,
}

pub trait Responder: Send + Sync + 'static {
    /// The name stored with each message it writes.
    fn name(&self) -> &'static str;
    /// The reply to one visitor message, as a stream of parts.
    fn respond(&self, turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>>;
}

/// Where a responder's work sends the parts of its reply.
/// Picks the responder for a tenant.
pub trait Responders: Send + Sync + 'static {
    /// The tenant's responder; `within_budget` is false once its monthly LLM budget is spent.
    fn for_tenant(&self, tenant: &Tenant, within_budget: bool) -> Arc<dyn Responder>;
}

#[derive(Clone)]
pub struct Out(mpsc::Sender<Result<ReplyPart, ResponderError>>);

impl Out {
    pub async fn send(&self, part: Result<ReplyPart, ResponderError>) {
        // Fails only once the reply's stream is gone, and the work with it.
        let _ = self.0.send(part).await;
    }
}

/// The reply that `work` sends to its [`Out`], ended by the error it returns, if any. The work
/// runs inside the returned stream (it may borrow what it owns, such as the client an answer's
/// lines borrow), so dropping the stream cancels it.
pub fn reply_from<W, F>(work: W) -> BoxStream<'static, Result<ReplyPart, ResponderError>>
where
    W: FnOnce(Out) -> F,
    F: Future<Output = Result<(), ResponderError>> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(32);
    let out = Out(tx);
    let work = work(out.clone());
    let run = stream::once(async move {
        if let Err(e) = work.await {
            out.send(Err(e)).await;
        }
    })
    .filter_map(|()| future::ready(None));
    let parts = stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|p| (p, rx)) });
    stream::select(run, parts).boxed()
}

/// What the responders that call out share: the store, keepstar's public URL, the HTTP client
/// with its deadlines and breakers, and the means to open stored provider keys and to name
/// visitors (both in `keys.rs`).
pub struct Shared {
    pub db: Db,
    pub base_url: String,
    pub upstream: Upstream,
    sealer: Option<Sealer>,
    /// Keys visitor pseudonyms, so an endpoint cannot work back to keepstar's row ids.
    pseudonym_key: aws_lc_rs::hmac::Key,
}

impl Shared {
    pub fn new(db: Db, config: &Config) -> Shared {
        Shared {
            db,
            base_url: config.public_url.clone(),
            upstream: Upstream::new(config.upstream.clone()),
            sealer: config.encryption_key.as_ref().map(Sealer::new),
            pseudonym_key: keys::pseudonym_key(config.session_secret.as_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_is_estimated_at_four_characters_a_token() {
        assert_eq!(
            Usage::estimate(9, 4),
            Usage {
                prompt_tokens: 3,
                completion_tokens: 1
            }
        );
    }
}
