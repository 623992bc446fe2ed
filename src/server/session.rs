//! Visitor sessions: HS256 tokens bound to a tenant, a key, a visitor and an origin, and the
//! extractors that turn a request into a checked session or a client address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use crate::store::conversations::Visitor;
use crate::store::keys;
use crate::store::tenants::{self, Tenant};

const ISSUER: &str = "keepstar";
const AUDIENCE: &str = "keepstar-widget";

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    iss: String,
    aud: String,
    iat: u64,
    exp: u64,
    /// Tenant id.
    tid: i64,
    /// Visitor id.
    vid: i64,
    /// The public key the session was opened with; revoking it ends the session.
    kid: String,
    /// The origin the session was opened from.
    org: String,
    /// The page the session was opened on, recorded with a new conversation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pg: Option<String>,
}

/// Signs and checks session tokens with the configured secret.
pub struct SessionKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl_secs: u64,
}

impl SessionKeys {
    pub fn new(secret: &[u8], ttl_secs: u64) -> SessionKeys {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.leeway = 5;
        SessionKeys {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            ttl_secs,
        }
    }

    pub fn ttl_secs(&self) -> u64 {
        self.ttl_secs
    }

    pub fn issue(
        &self,
        tenant_id: i64,
        visitor_id: i64,
        key_id: &str,
        origin: &str,
        page: Option<String>,
    ) -> String {
        let now = jsonwebtoken::get_current_timestamp();
        let claims = Claims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            iat: now,
            exp: now + self.ttl_secs,
            tid: tenant_id,
            vid: visitor_id,
            kid: key_id.into(),
            org: origin.into(),
            pg: page.map(|p| p.chars().take(500).collect()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing")
    }

    fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|d| d.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => unauthorized(
                    "session_expired",
                    "The session has expired. Start a new one.",
                ),
                _ => unauthorized(
                    "invalid_token",
                    "The session token is not valid. Start a new session.",
                ),
            })
    }
}

fn unauthorized(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, code, message)
}

/// A checked widget session: the token is valid, its key is still active, and the request
/// comes from the origin the session was opened from.
pub struct WidgetSession {
    pub tenant: Arc<Tenant>,
    pub visitor: Visitor,
    pub page_url: Option<String>,
}

impl FromRequestParts<AppState> for WidgetSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| {
                unauthorized(
                    "missing_token",
                    "Send the session token as Authorization: Bearer …",
                )
            })?;
        let claims = state.sessions.verify(token.trim())?;
        // Browsers always send Origin on these cross-origin calls; it must be the session's.
        if let Some(origin) = parts.headers.get(header::ORIGIN)
            && origin.as_bytes() != claims.org.as_bytes()
        {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "This session belongs to another site.",
            ));
        }
        let page_url = claims.pg.clone();
        let tenant = state
            .db
            .read(move |c| {
                if !keys::is_active(c, claims.tid, &claims.kid)? {
                    return Ok(None);
                }
                Ok(Some(tenants::get_by_id(c, claims.tid)?))
            })
            .await?
            .ok_or_else(|| unauthorized("invalid_token", "The key of this session was revoked."))?;
        Ok(WidgetSession {
            visitor: Visitor {
                id: claims.vid,
                tenant_id: tenant.id,
            },
            tenant: Arc::new(tenant),
            page_url,
        })
    }
}

/// The client's address: the peer, or the `X-Forwarded-For` entry nearest to us that is not
/// a trusted proxy when the peer is one.
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
            .unwrap_or(IpAddr::from([127, 0, 0, 1]));
        let trusted = &state.config.trusted_proxies;
        Ok(ClientIp(client_ip(peer, &parts.headers, trusted)))
    }
}

/// The rule behind [`ClientIp`], for a request from `peer` with `headers`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .rev()
        .find(|ip| !trusted.contains(ip))
        .unwrap_or(peer)
}
