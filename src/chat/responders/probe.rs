//! A look at a tenant's upstream for `keepstar doctor`: is it reachable, and is the key accepted?
//! Asks only what costs nothing (the model list); never sends a visitor message.

use std::time::Duration;

use reqwest::StatusCode;

use super::{Shared, anthropic, openai};
use crate::store::tenants::Tenant;
use crate::vocab::Provider;

const TIMEOUT: Duration = Duration::from_secs(10);

/// What the probe found; `ok` false means visitors would not be answered.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Probe {
    pub ok: bool,
    pub detail: String,
}

fn found(ok: bool, detail: impl Into<String>) -> Probe {
    Probe {
        ok,
        detail: detail.into(),
    }
}

pub async fn probe(shared: &Shared, tenant: &Tenant) -> Probe {
    let p = &tenant.provider;
    let key = match shared.provider_key(tenant).await {
        Ok(key) => key,
        Err(e) => return found(false, e.message),
    };
    let client = shared.upstream.client();
    let request = match p.kind {
        Provider::Builtin => return found(true, "answers offline from the catalog and FAQ"),
        Provider::Openai => {
            let base = p.base_url.as_deref().unwrap_or(openai::DEFAULT_BASE_URL);
            let mut r = client.get(format!("{}/models", base.trim_end_matches('/')));
            if let Some(key) = &key {
                r = r.bearer_auth(key.expose());
            }
            r
        }
        Provider::Anthropic => {
            let Some(key) = &key else {
                return found(false, "no API key: set --api-key-env or --api-key-stdin");
            };
            let base = p.base_url.as_deref().unwrap_or(anthropic::DEFAULT_BASE_URL);
            client
                .get(format!("{}/v1/models", base.trim_end_matches('/')))
                .header("x-api-key", key.expose())
                .header("anthropic-version", anthropic::VERSION)
        }
        Provider::N8n | Provider::Webhook => {
            let Some(url) = &p.webhook_url else {
                return found(false, "no webhook URL: set --webhook-url");
            };
            if p.kind == Provider::Webhook && key.is_none() {
                return found(
                    false,
                    "no signing key: set --api-key-env or --api-key-stdin",
                );
            }
            client.get(url)
        }
    };
    let response = match tokio::time::timeout(TIMEOUT, request.send()).await {
        Err(_) => return found(false, format!("no answer within {} s", TIMEOUT.as_secs())),
        Ok(Err(e)) => return found(false, super::upstream::transport_error(&e)),
        Ok(Ok(r)) => r,
    };
    let status = response.status();
    match p.kind {
        Provider::N8n | Provider::Webhook => found(
            !status.is_server_error(),
            format!(
                "reachable (HTTP {} to a GET); the key is checked on each message",
                status.as_u16()
            ),
        ),
        _ if status.is_success() => found(true, "reachable, key accepted"),
        _ if matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => found(
            false,
            format!("the key was refused (HTTP {})", status.as_u16()),
        ),
        _ => found(
            false,
            format!("HTTP {} from the model list", status.as_u16()),
        ),
    }
}
