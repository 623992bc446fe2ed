//! CORS for the widget API: only origins some tenant allows are echoed back. Which tenant a
//! request is for is checked later (sessions by their body, everything else by the token).

use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::error::ApiError;
use crate::origin::AllowedOrigin;
use crate::store::tenants;

/// Every tenant's allowed origins, re-read when older than `FRESH` (tenants change from the CLI).
#[derive(Default)]
pub struct OriginCache {
    cached: RwLock<Option<(Instant, Vec<AllowedOrigin>)>>,
}

const FRESH: Duration = Duration::from_secs(2);

impl OriginCache {
    async fn allows(&self, state: &AppState, origin: &str) -> Result<bool, ApiError> {
        let fresh = self
            .cached
            .read()
            .expect("origin cache")
            .as_ref()
            .filter(|(at, _)| at.elapsed() < FRESH)
            .map(|(_, list)| list.iter().any(|o| o.allows(origin)));
        if let Some(allowed) = fresh {
            return Ok(allowed);
        }
        let list: Vec<AllowedOrigin> = state
            .db
            .read(|c| {
                Ok(tenants::list(c)?
                    .into_iter()
                    .flat_map(|t| t.origins)
                    .collect())
            })
            .await?;
        let allowed = list.iter().any(|o| o.allows(origin));
        *self.cached.write().expect("origin cache") = Some((Instant::now(), list));
        Ok(allowed)
    }
}

pub async fn cors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(origin) = request.headers().get(header::ORIGIN).cloned() else {
        return next.run(request).await;
    };
    let allowed = match origin.to_str() {
        Ok(o) => match state.origins.allows(&state, o).await {
            Ok(a) => a,
            Err(e) => return e.into_response(),
        },
        Err(_) => false,
    };
    let preflight = request.method() == Method::OPTIONS
        && request
            .headers()
            .contains_key(header::ACCESS_CONTROL_REQUEST_METHOD);
    let mut response = if preflight {
        if !allowed {
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "This site may not use this chat.",
            )
            .into_response();
        }
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST"),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type, last-event-id, accept"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        r
    } else {
        next.run(request).await
    };
    let h = response.headers_mut();
    h.append(header::VARY, HeaderValue::from_static("Origin"));
    if allowed {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        h.insert(
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("retry-after"),
        );
    }
    response
}
