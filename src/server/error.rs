//! The one error shape: `{"error":{"code","message"}}` with the right status, for the handlers'
//! refusals, the extractors' rejections, a panic, and whatever axum or a layer answers itself.

use std::any::Any;
use std::fmt::Display;

use axum::body::{Body, HttpBody};
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

use crate::chat::ChatError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
        }
    }
    pub fn not_found(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
    pub fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
    }
    /// A 500 that tells the client nothing of `error`; the log has it, once.
    pub fn internal(error: impl Display) -> ApiError {
        tracing::error!(error = %error, "request failed");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "Something went wrong on our side. Please try again.",
        )
    }
    /// The refusal a bare `status` stands for, when nothing more specific is known.
    pub fn of_status(status: StatusCode) -> ApiError {
        let (code, message) = match status {
            StatusCode::BAD_REQUEST => ("bad_request", "The request is not valid."),
            StatusCode::UNAUTHORIZED => ("unauthorized", "This needs a valid session."),
            StatusCode::FORBIDDEN => ("forbidden", "This is not allowed."),
            StatusCode::NOT_FOUND => ("not_found", "There is nothing here."),
            StatusCode::METHOD_NOT_ALLOWED => (
                "method_not_allowed",
                "This method is not allowed here; the Allow header lists the ones that are.",
            ),
            StatusCode::REQUEST_TIMEOUT => ("request_timeout", "The request took too long."),
            StatusCode::PAYLOAD_TOO_LARGE => ("body_too_large", "The request body is too large."),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => (
                "unsupported_media_type",
                "Send JSON with Content-Type: application/json.",
            ),
            StatusCode::UNPROCESSABLE_ENTITY => {
                ("invalid_request", "The request cannot be taken as it is.")
            }
            StatusCode::TOO_MANY_REQUESTS => {
                ("rate_limited", "Too many requests. Try again later.")
            }
            StatusCode::SERVICE_UNAVAILABLE => (
                "unavailable",
                "The server cannot answer right now. Please try again.",
            ),
            s if s.is_server_error() => return ApiError::internal(s),
            _ => ("bad_request", "The request is not valid."),
        };
        ApiError::new(status, code, message)
    }
    pub fn rate_limited(retry_after: u64) -> ApiError {
        ApiError {
            retry_after: Some(retry_after),
            ..ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("Too many requests. Try again in {retry_after} s."),
            )
        }
    }
}

/// The one error shape, as sent and as documented.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize, ToSchema)]
struct ErrorDetail<'a> {
    /// What went wrong, in snake_case, for programs.
    code: &'a str,
    /// What went wrong, as a sentence, for people.
    message: &'a str,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code,
                message: &self.message,
            },
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(&what),
            StoreError::Invalid(m) => ApiError::unprocessable("invalid_request", m),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            other => ApiError::internal(other),
        }
    }
}

impl From<ChatError> for ApiError {
    fn from(e: ChatError) -> ApiError {
        match e {
            ChatError::UnknownKey => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_key",
                "Unknown tenant or key.",
            ),
            ChatError::OriginNotAllowed => ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "This site may not use this chat.",
            ),
            ChatError::Invalid { code, message } => ApiError::unprocessable(code, message),
            ChatError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            taken @ ChatError::Taken { .. } => {
                ApiError::new(StatusCode::CONFLICT, "taken", taken.to_string())
            }
            ChatError::Store(e) => e.into(),
        }
    }
}

/// `axum::Json` whose refusals use the error shape.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::of_status(StatusCode::UNSUPPORTED_MEDIA_TYPE));
        }
        let body = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::of_status(StatusCode::PAYLOAD_TOO_LARGE)
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_request", e.body_text())
            }
        })?;
        // serde would also read a struct from an array of its fields (`[null]`), which no
        // request of keepstar's is.
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(ApiError::unprocessable(
                "invalid_request",
                "The body must be a JSON object.",
            ));
        }
        match axum::Json::<T>::from_bytes(&body) {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(JsonRejection::JsonDataError(e)) => {
                Err(ApiError::unprocessable("invalid_request", e.body_text()))
            }
            Err(e) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("The body is not valid JSON: {}", e.body_text()),
            )),
        }
    }
}

/// Whether the request says its body is JSON (`application/json`, or a `+json` type).
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(mime) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
    else {
        return false;
    };
    let mime = mime.trim().to_ascii_lowercase();
    mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
}

/// `axum::extract::Query` whose refusals use the error shape.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(rejection) => {
                // The serde error names the parameter and what is wrong with it.
                let detail = std::error::Error::source(&rejection)
                    .map_or_else(|| rejection.body_text(), ToString::to_string);
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_query",
                    format!("The query string is not valid: {detail}."),
                ))
            }
        }
    }
}

/// `axum::extract::Path` whose refusals use the error shape.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(ApiPath(v)),
            Err(PathRejection::FailedToDeserializePathParams(e))
                if e.status().is_client_error() =>
            {
                Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_path",
                    format!("The URL is not valid: {}.", e.kind()),
                ))
            }
            // The route and the handler disagree: our mistake, not the client's.
            Err(other) => Err(ApiError::internal(other.body_text())),
        }
    }
}

/// The longest plain-text refusal whose words are kept as the message.
const KEEP_TEXT: u64 = 1024;

/// Middleware over a whole router: a refusal not in the error shape (axum's 405, an extractor
/// rejection a handler did not wrap, a layer's empty 408 or 413) is put into it, its headers
/// (`Allow`, CORS, `Retry-After`) kept. JSON is left as it is, and so is a page (the admin's
/// HTML); a plain-text client error's words become the message.
pub async fn shape_refusals(req: Request, next: Next) -> Response {
    let response = next.run(req).await;
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_none_or(|t| t.as_bytes().starts_with(b"text/plain"));
    if !(status.is_client_error() || status.is_server_error()) || !plain {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = small_text(body).await;
    let error = match text {
        Some(text) if status.is_server_error() => ApiError::internal(text),
        Some(text) if status.is_client_error() => {
            ApiError::new(status, ApiError::of_status(status).code, text)
        }
        _ => ApiError::of_status(status),
    };
    let (shaped, body) = error.into_response().into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.extend(shaped.headers);
    Response::from_parts(parts, body)
}

/// The body's text when it is short, whole and not empty.
async fn small_text(body: Body) -> Option<String> {
    if !body
        .size_hint()
        .exact()
        .is_some_and(|n| n > 0 && n <= KEEP_TEXT)
    {
        return None;
    }
    let bytes = axum::body::to_bytes(body, KEEP_TEXT as usize).await.ok()?;
    Some(String::from_utf8_lossy(&bytes).trim().to_owned()).filter(|t| !t.is_empty())
}

/// The answer to a request whose handler panicked: a 500 in the error shape, the panic logged
/// in the request's span.
pub fn panicked(panic: Box<dyn Any + Send>) -> Response {
    let what = crate::sync::panic_message(&*panic);
    ApiError::internal(format_args!("the handler panicked: {what}")).into_response()
}
