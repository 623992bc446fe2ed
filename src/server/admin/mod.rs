//! The back office at `/admin`: server-rendered pages (templates in `templates/admin/`) over the
//! same domain functions the CLI uses. `auth` says who is asking and what they may see, `guard`
//! is what every request passes, `text` the admin's words per language, `pages` one file per
//! route group.

mod auth;
mod guard;
mod pages;
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
        .route("/admin/static/tenant.js", get(tenant_script))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::same_origin,
        ))
        .layer(axum::middleware::from_fn(guard::headers))
}

/// The stylesheet's content version, so a new release is fetched at once.
fn css_version() -> String {
    version("admin.css")
}

/// The tenant pages' script's content version.
fn script_version() -> String {
    version("tenant.js")
}

fn version(file: &str) -> String {
    Static::get(file)
        .map(|f| {
            f.metadata.sha256_hash()[..4]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect()
        })
        .unwrap_or_default()
}

async fn stylesheet() -> Response {
    embedded("admin.css", "text/css; charset=utf-8")
}

/// The tenant pages' few live parts: the preview's colour as it is typed, the snippet's copy
/// button. Plain JavaScript (no build step) that the pages do without.
async fn tenant_script() -> Response {
    embedded("tenant.js", "text/javascript; charset=utf-8")
}

/// A file of `assets/admin`, cached for good: its URL carries its content version.
fn embedded(name: &str, content_type: &'static str) -> Response {
    let Some(file) = Static::get(name) else {
        return ApiError::not_found(name).into_response();
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
    /// Whether the owners' pages are linked.
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
