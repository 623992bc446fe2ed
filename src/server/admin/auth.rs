//! Who is asking: the session cookie, the signed-in member, and what they may see. An operator
//! asking for another tenant's anything gets 404, as in the widget API; anyone but an owner on
//! an owner's page gets 403. Handlers ask here, never with an `if` of their own.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::super::AppState;
use super::super::error::ApiError;
use crate::accounts::{self, ABSOLUTE_LIFETIME_MS};
use crate::chat::Operator;
use crate::store::admins::{AdminSession, AdminUser};
use crate::store::conversations::{self, Conversation};
use crate::store::tenants::{self, Tenant};
use crate::vocab::Role;

/// The cookie's name: with the `__Host-` prefix when keepstar is served over https, so no other
/// site or path can set or shadow it.
pub fn cookie_name(state: &AppState) -> &'static str {
    if secure(state) {
        "__Host-keepstar_admin"
    } else {
        "keepstar_admin"
    }
}

fn secure(state: &AppState) -> bool {
    state.config.public_url.starts_with("https://")
}

/// The `Set-Cookie` value that keeps `token` for the session's whole life.
pub fn session_cookie(state: &AppState, token: &str) -> HeaderValue {
    let max_age = ABSOLUTE_LIFETIME_MS / 1000;
    let secure = if secure(state) { "; Secure" } else { "" };
    let value = format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}",
        cookie_name(state)
    );
    HeaderValue::from_str(&value).expect("tokens are base62")
}

/// The `Set-Cookie` value that forgets the session.
pub fn cleared_cookie(state: &AppState) -> HeaderValue {
    let secure = if secure(state) { "; Secure" } else { "" };
    let value = format!(
        "{}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}",
        cookie_name(state)
    );
    HeaderValue::from_str(&value).expect("a fixed cookie")
}

/// The cookie's token in the request, if any.
pub fn cookie_token<'a>(state: &AppState, headers: &'a HeaderMap) -> Option<&'a str> {
    let name = cookie_name(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A signed-in member of the team and their session.
#[derive(Clone)]
pub struct Admin {
    pub user: AdminUser,
    pub session: AdminSession,
}

/// No session: a page sends the browser to the sign-in page.
pub struct SignInFirst;

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        Redirect::to("/admin/sign-in").into_response()
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        if let Some(admin) = parts.extensions.get::<Admin>() {
            return Ok(admin.clone());
        }
        let Some(token) = cookie_token(state, &parts.headers) else {
            return Err(SignInFirst.into_response());
        };
        match accounts::session(&state.db, token).await {
            Ok(Some((session, user))) => {
                let admin = Admin { user, session };
                parts.extensions.insert(admin.clone());
                Ok(admin)
            }
            Ok(None) => Err(SignInFirst.into_response()),
            Err(e) => Err(ApiError::internal(e).into_response()),
        }
    }
}

impl Admin {
    /// Refuses anyone but an owner.
    pub fn owner(&self) -> Result<(), ApiError> {
        match self.user.role {
            Role::Owner => Ok(()),
            Role::Operator => Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "owners_only",
                "Only an owner may do this.",
            )),
        }
    }

    /// Whether the member serves the tenant `slug`.
    pub fn serves(&self, slug: &str) -> bool {
        self.user.role == Role::Owner || self.user.tenants.iter().any(|t| t == slug)
    }

    /// The tenant `slug`, if the member serves it; 404 otherwise, as for one that does not exist.
    pub async fn tenant(&self, state: &AppState, slug: &str) -> Result<Tenant, ApiError> {
        if !self.serves(slug) {
            return Err(ApiError::not_found("tenant"));
        }
        let slug = slug.to_owned();
        Ok(state.db.read(move |c| tenants::get(c, &slug)).await?)
    }

    /// The tenant `slug` for an owner's page: 404 for a tenant the member does not serve (as
    /// for one that does not exist), then 403 unless they are an owner.
    pub async fn owned_tenant(&self, state: &AppState, slug: &str) -> Result<Tenant, ApiError> {
        let tenant = self.tenant(state, slug).await?;
        self.owner()?;
        Ok(tenant)
    }

    /// The tenants the member serves.
    pub async fn tenants(&self, state: &AppState) -> Result<Vec<Tenant>, ApiError> {
        let all = state.db.read(tenants::list).await?;
        Ok(all.into_iter().filter(|t| self.serves(&t.slug)).collect())
    }

    /// Who the audit log says did it.
    pub fn actor(&self) -> String {
        format!("admin:{}", self.user.email)
    }

    /// The member as they act in a conversation.
    pub fn operator(&self) -> Operator {
        Operator {
            user_id: Some(self.user.id),
            name: self.user.display_name().to_owned(),
            actor: self.actor(),
        }
    }

    /// The conversation `public_id` of one of the member's tenants, and that tenant; 404 for
    /// any other, as for one that does not exist.
    pub async fn conversation(
        &self,
        state: &AppState,
        public_id: &str,
    ) -> Result<(Tenant, Conversation), ApiError> {
        let tenants = self.tenants(state).await?;
        let ids: Vec<i64> = tenants.iter().map(|t| t.id).collect();
        let public_id = public_id.to_owned();
        let conv = state
            .db
            .read(move |c| conversations::get_in(c, &ids, &public_id))
            .await?;
        let tenant = tenants
            .into_iter()
            .find(|t| t.id == conv.tenant_id)
            .ok_or_else(|| ApiError::not_found("conversation"))?;
        Ok((tenant, conv))
    }
}
