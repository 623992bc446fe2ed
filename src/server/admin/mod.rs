//! The back office at `/admin`: server-rendered pages (templates in `templates/admin/`) over the
//! same domain functions the CLI uses. `auth` says who is asking and what they may see, `guard`
//! is what every request passes, `text` the admin's words per language, `problems` the lower
//! layers' refusals in them, `pages` one file per route group.

mod auth;
mod guard;
mod pages;
mod problems;
mod text;

use askama::Template;
use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rust_embed::Embed;

use super::AppState;
use super::error::ApiError;

pub use self::auth::Admin;

#[derive(Embed)]
#[folder = "assets/admin"]
struct Static;

pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .merge(pages::routes())
        .route("/admin/static/admin.css", get(stylesheet))
        .route("/admin/static/admin.js", get(script))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::same_origin,
        ))
        .layer(axum::middleware::from_fn(guard::headers))
}

/// The content version of the stylesheet and the script (both URLs carry it), so a new release
/// is fetched at once.
fn css_version() -> String {
    ["admin.css", "admin.js"]
        .iter()
        .filter_map(|name| Static::get(name))
        .flat_map(|f| f.metadata.sha256_hash()[..3].to_vec())
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn stylesheet() -> Response {
    immutable("admin.css", "text/css; charset=utf-8")
}

/// The admin's script, built from `assets/admin/src/` by the widget's esbuild pipeline.
async fn script() -> Response {
    immutable("admin.js", "text/javascript; charset=utf-8")
}

/// A static file under its versioned URL.
fn immutable(name: &str, content_type: &'static str) -> Response {
    let Some(file) = Static::get(name) else {
        return ApiError::not_found("file").into_response();
    };
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=31536000, immutable"),
            ),
        ],
        file.data.into_owned(),
    )
        .into_response()
}

/// What the layout shows of the signed-in member.
pub struct Me {
    pub name: String,
    /// For the forms on the page.
    pub csrf: String,
    /// Whether the owners' pages are theirs to see.
    pub owner: bool,
}

impl From<&Admin> for Me {
    fn from(admin: &Admin) -> Me {
        Me {
            name: admin.user.display_name().to_owned(),
            csrf: admin.session.csrf_token.clone(),
            owner: admin.owner().is_ok(),
        }
    }
}

/// A page rendered, or a 500 that says nothing of why.
fn render(page: &impl Template) -> Result<Response, ApiError> {
    Ok(Html(page.render().map_err(ApiError::internal)?).into_response())
}
