//! Provider keys (an environment variable or a sealed row) and the visitor pseudonyms upstreams see.

use super::{ResponderError, Shared};
use crate::store::tenants::{self, Tenant};
use crate::vocab::Secret;

impl Shared {
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

/// Reads `var`, or the file named by `<var>_FILE` (trimmed).
fn key_from_env(var: &str) -> Result<Secret, ResponderError> {
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

fn pseudonym(key: &aws_lc_rs::hmac::Key, tenant_id: i64, visitor_id: i64) -> String {
    let tag = aws_lc_rs::hmac::sign(key, format!("{tenant_id}:{visitor_id}").as_bytes());
    let hex: String = tag.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("v_{hex}")
}

pub(super) fn pseudonym_key(session_secret: Option<&Secret>) -> aws_lc_rs::hmac::Key {
    let secret = session_secret.map_or("", |s| s.expose());
    aws_lc_rs::hmac::Key::new(
        aws_lc_rs::hmac::HMAC_SHA256,
        format!("keepstar visitor pseudonym\0{secret}").as_bytes(),
    )
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
}
