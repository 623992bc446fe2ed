//! Signing in with a password or a one-time link, and signing out.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::super::AppState;
use super::super::super::error::ApiError;
use super::super::super::limits::Key;
use super::super::super::session::ClientIp;
use super::super::auth::{Admin, cleared_cookie, session_cookie};
use super::super::text::{Lang, Text};
use super::super::{Me, css_version, render};
use crate::accounts::{self, AccountError};
use crate::store::admins::AdminUser;
use crate::vocab::Locale;

/// Sign-ins a client address may try per minute (an account also waits longer after each failure).
const PER_ADDRESS: u32 = 10;

#[derive(Template)]
#[template(path = "admin/sign_in.html")]
struct SignInPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    email: String,
    error: Option<&'static str>,
}

pub async fn form(Lang(lang): Lang) -> Result<Response, ApiError> {
    render(&SignInPage {
        t: super::super::text::of(lang),
        me: None,
        page: "sign_in",
        css_version: css_version(),
        email: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
pub struct Credentials {
    email: String,
    password: String,
}

pub async fn with_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    lang: Lang,
    Form(form): Form<Credentials>,
) -> Result<Response, ApiError> {
    let t = lang.text();
    let again = |status: StatusCode, error: &'static str| -> Result<Response, ApiError> {
        let mut page = render(&SignInPage {
            t,
            me: None,
            page: "sign_in",
            css_version: css_version(),
            email: form.email.clone(),
            error: Some(error),
        })?;
        *page.status_mut() = status;
        Ok(page)
    };
    let account = account_key(&form.email);
    let limited = state
        .limits
        .check(Key::SignInAddress(ip), PER_ADDRESS)
        .is_err()
        || state.sign_in_backoff.wait(account).is_err();
    if limited {
        return again(StatusCode::TOO_MANY_REQUESTS, t.too_many);
    }
    match accounts::sign_in_with_password(&state.db, &form.email, &form.password).await {
        Ok(user) => {
            state.sign_in_backoff.succeeded(account);
            signed_in(&state, user).await
        }
        Err(AccountError::Refused) => {
            state.sign_in_backoff.failed(account);
            again(StatusCode::UNAUTHORIZED, t.refused)
        }
        Err(e) => Err(ApiError::internal(e)),
    }
}

/// An account's failures are kept by a hash of the email as typed, lower case.
fn account_key(email: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    email.trim().to_lowercase().hash(&mut h);
    h.finish()
}

/// Opens the session and sends the browser to the overview with its cookie.
async fn signed_in(state: &AppState, user: AdminUser) -> Result<Response, ApiError> {
    let signed = accounts::open_session(&state.db, user)
        .await
        .map_err(ApiError::internal)?;
    let mut response = Redirect::to("/admin").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session_cookie(state, &signed.token));
    Ok(response)
}

#[derive(Template)]
#[template(path = "admin/link.html")]
struct LinkPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    token: String,
    used: bool,
}

/// A one-time link asks before it signs in, so a link preview that fetches it uses nothing up.
pub async fn link(Lang(lang): Lang, Path(token): Path<String>) -> Result<Response, ApiError> {
    render(&LinkPage {
        t: super::super::text::of(lang),
        me: None,
        page: "link",
        css_version: css_version(),
        token,
        used: false,
    })
}

#[derive(Deserialize)]
pub struct LinkForm {
    token: String,
}

pub async fn with_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Lang(lang): Lang,
    Form(form): Form<LinkForm>,
) -> Result<Response, ApiError> {
    state.limits.check(Key::SignInAddress(ip), PER_ADDRESS)?;
    match accounts::sign_in_with_link(&state.db, &form.token).await {
        Ok(user) => signed_in(&state, user).await,
        Err(AccountError::Refused) => {
            let mut page = render(&LinkPage {
                t: super::super::text::of(lang),
                me: None,
                page: "link",
                css_version: css_version(),
                token: String::new(),
                used: true,
            })?;
            *page.status_mut() = StatusCode::UNAUTHORIZED;
            Ok(page)
        }
        Err(e) => Err(ApiError::internal(e)),
    }
}

pub async fn sign_out(State(state): State<AppState>, admin: Admin) -> Result<Response, ApiError> {
    accounts::sign_out(&state.db, &admin.session)
        .await
        .map_err(ApiError::internal)?;
    Ok(signed_out(&state))
}

pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    admin: Admin,
) -> Result<Response, ApiError> {
    accounts::sign_out_everywhere(&state.db, &admin.user)
        .await
        .map_err(ApiError::internal)?;
    Ok(signed_out(&state))
}

/// The viewer picks the admin's language; it is kept in a cookie for a year.
pub async fn language(Path(code): Path<String>) -> Response {
    let Some(locale) = Locale::from_code(&code) else {
        return ApiError::not_found("language").into_response();
    };
    let mut response = Redirect::to("/admin").into_response();
    let cookie = format!(
        "keepstar_lang={}; Path=/admin; SameSite=Lax; Max-Age=31536000",
        locale.as_str()
    );
    if let Ok(value) = header::HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

fn signed_out(state: &AppState) -> Response {
    let mut response = Redirect::to("/admin/sign-in").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, cleared_cookie(state));
    response
}
