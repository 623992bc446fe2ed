//! Embedded files: the widget (hashed, immutable chat bundle; the loader revalidated), the demo
//! shop page and its images.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use rust_embed::{Embed, EmbeddedFile};

use super::AppState;
use super::error::ApiError;
use crate::demo;
use crate::store::catalog::{self, Search};
use crate::store::{keys, tenants};

#[derive(Embed)]
#[folder = "assets/widget/dist"]
struct Widget;

/// The loader's URL with its content version, so a new release is fetched at once.
pub fn widget_version() -> String {
    Widget::get("widget.js")
        .map(|f| hex(&f.metadata.sha256_hash()[..4]))
        .unwrap_or_default()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

enum Caching {
    /// Revalidate every time (the loader's URL is stable).
    Revalidate,
    /// Content-hashed names never change.
    Immutable,
    Day,
}

fn serve_file(
    file: Option<EmbeddedFile>,
    name: &str,
    caching: Caching,
    headers: &HeaderMap,
) -> Response {
    let Some(file) = file else {
        return ApiError::not_found("file").into_response();
    };
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = match caching {
        Caching::Revalidate => "no-cache",
        Caching::Immutable => "public, max-age=31536000, immutable",
        Caching::Day => "public, max-age=86400",
    };
    let mut response = if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mime = match name.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("svg") => "image/svg+xml",
            Some("css") => "text/css; charset=utf-8",
            _ => "application/octet-stream",
        };
        ([(header::CONTENT_TYPE, mime)], file.data).into_response()
    };
    let h = response.headers_mut();
    h.insert(
        header::ETAG,
        HeaderValue::from_str(&etag).expect("hex etag"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    // Public files, loaded from any shop's pages.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("cross-origin"),
    );
    response
}

async fn loader(headers: HeaderMap) -> Response {
    serve_file(
        Widget::get("widget.js"),
        "widget.js",
        Caching::Revalidate,
        &headers,
    )
}

async fn bundle(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve_file(
        Widget::get(&name).filter(|_| name.ends_with(".js")),
        &name,
        Caching::Immutable,
        &headers,
    )
}

async fn demo_file(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let file = if name.ends_with(".css") {
        demo::Files::get(&name)
    } else {
        None
    };
    serve_file(file, &name, Caching::Day, &headers)
}

async fn demo_image(Path(name): Path<String>, headers: HeaderMap) -> Response {
    serve_file(
        demo::Files::get(&format!("img/{name}")),
        &name,
        Caching::Day,
        &headers,
    )
}

pub fn routes(demo: bool) -> Router<AppState> {
    let router = Router::new()
        .route("/widget.js", get(loader))
        .route("/widget/{name}", get(bundle));
    if demo {
        router
            .route("/demo", get(demo_page))
            .route("/demo/img/{name}", get(demo_image))
            .route("/demo/{name}", get(demo_file))
    } else {
        router
    }
}

/// The demo shop page, embedding the demo tenant's widget like any site would.
async fn demo_page(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let slug = if query.as_deref() == Some("lang=ru") {
        demo::TENANT_RU
    } else {
        demo::TENANT
    };
    let (tenant, key, products, categories) = state
        .db
        .read(move |c| {
            let t = tenants::get(c, slug)?;
            let key = keys::active_public(c, t.id)?.and_then(|k| k.public_key);
            let featured = Search {
                limit: 8,
                ..Search::default()
            };
            let products = catalog::search(c, t.id, &featured)?;
            let (categories, _) = catalog::facets(c, t.id)?;
            Ok((t, key, products, categories))
        })
        .await?;
    let key = key.ok_or_else(|| ApiError::not_found("demo key"))?;
    let src = format!(
        "{}/widget.js?v={}",
        state.config.public_url,
        widget_version()
    );
    let mut response =
        Html(demo::page(&tenant, &key, &products, &categories, &src)).into_response();
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        ),
    );
    Ok(response)
}
