//! Who answers: one trait, one implementation per provider (SPEC §8).

pub mod anthropic;
pub mod builtin;
pub mod hook;
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
use crate::config::{Config, Secret};
use crate::formation::Formation;
use crate::seal::Sealer;
use crate::store::Db;
use crate::store::conversations::{Conversation, Page};
use crate::store::tenants::{self, Tenant};

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
/// with its deadlines and breakers, and the means to open stored provider keys.
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
            pseudonym_key: pseudonym_key(config.session_secret.as_ref()),
        }
    }

    /// The visitor as an upstream sees them (`v_` and 16 hex digits): the same in all their
    /// conversations with the tenant, and nothing keepstar stores.
    pub fn visitor_pseudonym(&self, tenant_id: i64, visitor_id: i64) -> String {
        pseudonym(&self.pseudonym_key, tenant_id, visitor_id)
    }

    /// The tenant's provider key: from the environment variable the tenant names (or the file
    /// `<VAR>_FILE` names), else the key stored sealed in the database; `None` when it has neither.
    pub async fn provider_key(&self, tenant: &Tenant) -> Result<Option<Secret>, ResponderError> {
        if let Some(var) = &tenant.provider.api_key_env {
            return key_from_env(var).map(Some);
        }
        if !tenant.provider.api_key_stored {
            return Ok(None);
        }
        let id = tenant.id;
        let sealed = self
            .db
            .read(move |c| tenants::sealed_key(c, id))
            .await
            .map_err(|e| ResponderError::new("store_failed", e.to_string()))?;
        let Some(sealed) = sealed else {
            return Ok(None);
        };
        let sealer = self.sealer.as_ref().ok_or_else(|| ResponderError {
            code: "provider_key_unavailable",
            message: "a provider key is stored but no encryption_key is configured".into(),
            retryable: false,
        })?;
        sealer
            .open(id, &sealed)
            .map(Some)
            .map_err(|e| ResponderError {
                code: "provider_key_unavailable",
                message: e.to_string(),
                retryable: false,
            })
    }
}

fn pseudonym(key: &aws_lc_rs::hmac::Key, tenant_id: i64, visitor_id: i64) -> String {
    let tag = aws_lc_rs::hmac::sign(key, format!("{tenant_id}:{visitor_id}").as_bytes());
    let hex: String = tag.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v_{hex}")
}

fn pseudonym_key(session_secret: Option<&Secret>) -> aws_lc_rs::hmac::Key {
    let secret = session_secret.map_or("", |s| s.expose());
    aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        format!("keepstar visitor pseudonym\0{secret}").as_bytes(),
    )
}

/// Reads `var`, or the file named by `<var>_FILE` (trimmed).
pub fn key_from_env(var: &str) -> Result<Secret, ResponderError> {
    let missing = |message: String| ResponderError {
        code: "provider_key_unavailable",
        message,
        retryable: false,
    };
    if let Ok(value) = std::env::var(var)
        && !value.trim().is_empty()
    {
        return Ok(Secret::new(value.trim().to_owned()));
    }
    let file_var = format!("{var}_FILE");
    match std::env::var(&file_var) {
        Ok(path) => std::fs::read_to_string(&path)
            .map(|k| Secret::new(k.trim().to_owned()))
            .map_err(|e| missing(format!("cannot read {file_var} ({path}): {e}"))),
        Err(_) => Err(missing(format!("neither {var} nor {file_var} is set"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_visitor_pseudonym_is_stable_per_tenant_and_keyed_by_the_session_secret() {
        let key = pseudonym_key(Some(&Secret::new("s".repeat(32))));
        let a = pseudonym(&key, 1, 42);
        assert_eq!(a, pseudonym(&key, 1, 42));
        assert_ne!(a, pseudonym(&key, 2, 42));
        assert_ne!(a, pseudonym(&key, 1, 43));
        let other = pseudonym_key(Some(&Secret::new("t".repeat(32))));
        assert_ne!(a, pseudonym(&other, 1, 42), "guessable without the secret");
        assert!(a.starts_with("v_") && a.len() == 18, "{a}");
    }

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
