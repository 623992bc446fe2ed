//! What every admin request passes: a strict Content Security Policy on every response, and, for
//! anything that changes state, the same origin as keepstar's own pages plus the session's CSRF
//! token (a form field `csrf`, or the `X-CSRF-Token` header from the admin's script).

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::super::AppState;
use super::super::error::ApiError;
use super::auth::{Admin, cookie_token};
use crate::accounts;

/// No inline script or style, nothing from elsewhere, never in a frame. The widget's preview
/// loads the widget from keepstar itself.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; \
    connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// The largest form body read for its CSRF field (uploads send the token in the header or URL).
const MAX_FORM_BYTES: usize = 1 << 20;

pub async fn headers(req: Request, next: Next) -> Response {
    let mut response = next.run(req).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    match checked(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(refused) => refused.into_response(),
    }
}

fn forbidden(code: &'static str, message: &str) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, code, message)
}

/// The request, once it is known to come from keepstar's own pages and (when signed in) to
/// carry the session's token; its body is put back as it was.
async fn checked(state: &AppState, req: Request) -> Result<Request, ApiError> {
    let own = url::Url::parse(&state.config.public_url)
        .map(|u| u.origin().ascii_serialization())
        .unwrap_or_default();
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok());
    if origin != Some(own.as_str()) {
        return Err(forbidden(
            "cross_origin",
            "This request did not come from keepstar's own pages.",
        ));
    }
    let Some(token) = cookie_token(state, req.headers()).map(str::to_owned) else {
        // Signing in: there is no session yet, and the origin is keepstar's.
        return Ok(req);
    };
    let Some((session, user)) = accounts::session(&state.db, &token)
        .await
        .map_err(ApiError::internal)?
    else {
        return Ok(req);
    };
    let (mut parts, body) = req.into_parts();
    let mut sent = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| field(parts.uri.query().unwrap_or_default(), "csrf"));
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = if sent.is_none() && is_form {
        let bytes = to_bytes(body, MAX_FORM_BYTES)
            .await
            .map_err(|_| ApiError::of_status(StatusCode::PAYLOAD_TOO_LARGE))?;
        sent = field(&String::from_utf8_lossy(&bytes), "csrf");
        Body::from(bytes)
    } else {
        body
    };
    let same = sent.is_some_and(|s| {
        aws_lc_rs::constant_time::verify_slices_are_equal(
            s.as_bytes(),
            session.csrf_token.as_bytes(),
        )
        .is_ok()
    });
    if !same {
        return Err(forbidden(
            "csrf_failed",
            "This form is out of date. Reload the page and try again.",
        ));
    }
    parts.extensions.insert(Admin { user, session });
    Ok(Request::from_parts(parts, body))
}

fn field(form: &str, name: &str) -> Option<String> {
    url::form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
