//! Catalog and knowledge (owners only): upload a file, see what importing it would change (a
//! dry run, with the same per-line errors as `keepstar catalog import`), import it; search and
//! list, edit or delete one product or entry. `products` and `entries` are the two kinds' pages,
//! `uploads` keeps a file between its preview and its import, `words` the pages' labels.

mod entries;
mod products;
mod uploads;
mod words;

use std::path::Path;

use askama::Template;
use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Multipart, Path as UrlPath, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::super::super::AppState;
use super::super::super::error::ApiError;
use super::super::auth::Admin;
use super::super::problems::Say;
use super::super::text::{Lang, Text};
use super::super::{Me, css_version, render};
use crate::import::{self, CatalogFormat, KbFormat, RowError};
use crate::store::tenants::Tenant;
use crate::store::{ImportSummary, audit, catalog, kb};
use uploads::{Kind, Meta, Refusal, Upload};
use words::Words;

/// Rows a list page shows.
const PAGE_ROWS: usize = 50;

pub fn routes() -> Router<AppState> {
    let upload = post(upload).layer(DefaultBodyLimit::max(uploads::MAX_BYTES + 64 * 1024));
    Router::new()
        .route("/admin/catalog", get(index))
        .route("/admin/tenants/{slug}/catalog", get(list))
        .route("/admin/tenants/{slug}/kb", get(list))
        .route("/admin/tenants/{slug}/catalog/upload", upload.clone())
        .route("/admin/tenants/{slug}/kb/upload", upload)
        .route(
            "/admin/tenants/{slug}/catalog/uploads/{token}",
            get(preview).post(apply),
        )
        .route(
            "/admin/tenants/{slug}/kb/uploads/{token}",
            get(preview).post(apply),
        )
        .route(
            "/admin/tenants/{slug}/catalog/products/{id}",
            get(products::edit).post(products::save),
        )
        .route(
            "/admin/tenants/{slug}/catalog/products/{id}/delete",
            post(products::delete),
        )
        .route(
            "/admin/tenants/{slug}/kb/entries/{id}",
            get(entries::edit).post(entries::save),
        )
        .route(
            "/admin/tenants/{slug}/kb/entries/{id}/delete",
            post(entries::delete),
        )
}

/// The tenant `slug`, for an owner: 404 for a tenant the member does not serve, 403 for an
/// operator of one they do.
async fn owned(state: &AppState, admin: &Admin, slug: &str) -> Result<Tenant, ApiError> {
    let tenant = admin.tenant(state, slug).await?;
    admin.owner()?;
    Ok(tenant)
}

/// The kind of file a route takes, from its path: `/admin/tenants/{slug}/catalog/…` or `…/kb/…`.
impl<S: Send + Sync> FromRequestParts<S> for Kind {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Kind, ApiError> {
        match parts.uri.path().split('/').nth(4) {
            Some("catalog") => Ok(Kind::Catalog),
            Some("kb") => Ok(Kind::Kb),
            _ => Err(ApiError::not_found("route")),
        }
    }
}

impl Kind {
    fn segment(self) -> &'static str {
        match self {
            Kind::Catalog => "catalog",
            Kind::Kb => "kb",
        }
    }

    fn page(self) -> &'static str {
        match self {
            Kind::Catalog => "catalog",
            Kind::Kb => "kb",
        }
    }
}

/// The upload form, as the list pages show it.
pub struct UploadForm {
    action: String,
    label: &'static str,
    hint: &'static str,
    accept: &'static str,
    replace: bool,
    error: Option<&'static str>,
}

impl UploadForm {
    fn new(w: &'static Words, slug: &str, kind: Kind, me: &Me) -> UploadForm {
        let (label, hint, accept) = match kind {
            Kind::Catalog => (
                w.catalog_file,
                w.catalog_file_hint,
                ".csv,.tsv,.json,.jsonl,.ndjson,text/csv,application/json",
            ),
            Kind::Kb => (
                w.kb_file,
                w.kb_file_hint,
                ".md,.markdown,.txt,.csv,.tsv,text/markdown,text/csv",
            ),
        };
        UploadForm {
            // Multipart bodies are not read for the token: it travels in the URL.
            action: format!(
                "/admin/tenants/{slug}/{}/upload?csrf={}",
                kind.segment(),
                me.csrf
            ),
            label,
            hint,
            accept,
            replace: false,
            error: None,
        }
    }
}

#[derive(Template)]
#[template(path = "admin/catalog/index.html")]
struct IndexPage {
    t: &'static Text,
    w: &'static Words,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    tenants: Vec<Tenant>,
}

/// Every tenant, with the way to its products and its knowledge base.
pub async fn index(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
) -> Result<Response, ApiError> {
    admin.owner()?;
    render(&IndexPage {
        t: lang.text(),
        w: words::of(lang.0),
        me: Some(Me::from(&admin)),
        page: "catalog",
        css_version: css_version(),
        tenants: admin.tenants(&state).await?,
    })
}

/// Takes a file and sends the browser to its preview; the admin's script asks for JSON
/// (`{"next": url}`) so it can show the upload's progress and then go there.
pub async fn upload(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    kind: Kind,
    headers: HeaderMap,
    UrlPath(slug): UrlPath<String>,
    form: Multipart,
) -> Result<Response, ApiError> {
    let tenant = owned(&state, &admin, &slug).await?;
    let w = words::of(lang.0);
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"));
    let (name, content, replace) = match uploads::read(form).await {
        Ok(read) => read,
        Err(refusal) => {
            let message = match refusal {
                Refusal::NoFile => w.no_file,
                Refusal::TooLarge => w.too_large,
                Refusal::NotText => w.not_text,
            };
            if wants_json {
                return Err(ApiError::unprocessable("invalid_file", message));
            }
            let mut page = list_page(&state, &admin, lang, &tenant, kind, Some(message)).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            return Ok(page);
        }
    };
    let meta = Meta {
        tenant: tenant.id,
        kind,
        name,
        replace,
    };
    let token = uploads::keep(state.config.data_dir.clone(), Upload { meta, content })
        .await
        .map_err(ApiError::internal)?;
    let next = format!("/admin/tenants/{slug}/{}/uploads/{token}", kind.segment());
    if wants_json {
        return Ok(axum::Json(serde_json::json!({ "next": next })).into_response());
    }
    Ok(Redirect::to(&next).into_response())
}

/// Runs `f` in the writer's transaction, or rehearses it (a dry run rolls everything back).
async fn write<T: Send + 'static>(
    state: &AppState,
    rehearse: bool,
    f: impl FnOnce(&rusqlite::Transaction) -> crate::store::Result<T> + Send + 'static,
) -> crate::store::Result<T> {
    if rehearse {
        state.db.rehearse(f).await
    } else {
        state.db.write(f).await
    }
}

/// A kind's list page: its products or its entries, with the upload form.
pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    kind: Kind,
    UrlPath(slug): UrlPath<String>,
    Query(query): Query<ListQuery>,
) -> Result<Response, ApiError> {
    let tenant = owned(&state, &admin, &slug).await?;
    match kind {
        Kind::Catalog => products::page(&state, &admin, lang, &tenant, query, None).await,
        Kind::Kb => entries::page(&state, &admin, lang, &tenant, query, None).await,
    }
}

/// The list page with `file_error` beside the upload form's file field.
async fn list_page(
    state: &AppState,
    admin: &Admin,
    lang: Lang,
    tenant: &Tenant,
    kind: Kind,
    file_error: Option<&'static str>,
) -> Result<Response, ApiError> {
    let query = ListQuery::default();
    match kind {
        Kind::Catalog => products::page(state, admin, lang, tenant, query, file_error).await,
        Kind::Kb => entries::page(state, admin, lang, tenant, query, file_error).await,
    }
}

/// Who changes one product or entry, for the audit log.
struct Change {
    tenant: i64,
    slug: String,
    actor: String,
}

impl Change {
    fn new(tenant: &Tenant, admin: &Admin) -> Change {
        Change {
            tenant: tenant.id,
            slug: tenant.slug.clone(),
            actor: admin.actor(),
        }
    }

    fn record(
        &self,
        c: &rusqlite::Connection,
        action: &str,
        target: &str,
        details: serde_json::Value,
    ) -> crate::store::Result<()> {
        audit::record(
            c,
            audit::Entry {
                tenant: Some((self.tenant, &self.slug)),
                actor: &self.actor,
                action,
                target: Some(target),
                details,
            },
        )
    }
}

/// What importing an upload does (or, rehearsed, would do), or the lines that stop it.
enum Outcome {
    Summary(ImportSummary),
    Refused(Vec<RowError>),
}

async fn run(
    state: &AppState,
    admin: &Admin,
    tenant: &Tenant,
    upload: Upload,
    rehearse: bool,
) -> Result<Outcome, ApiError> {
    let Upload { meta, content } = upload;
    let (id, slug, actor) = (tenant.id, tenant.slug.clone(), admin.actor());
    let (name, replace) = (meta.name, meta.replace);
    let summary = match meta.kind {
        Kind::Catalog => {
            let format = CatalogFormat::detect(Path::new(&name), &content);
            let rows = match import::parse_catalog(&content, format, &tenant.currency) {
                Ok(rows) => rows,
                Err(errors) => return Ok(Outcome::Refused(errors)),
            };
            write(state, rehearse, move |c| {
                catalog::import_logged(c, ((id, &slug), &actor), &rows, replace, &name, |_| {})
            })
            .await?
        }
        Kind::Kb => {
            let format = KbFormat::detect(Path::new(&name), &content);
            let rows = match import::parse_kb(&content, format) {
                Ok(rows) => rows,
                Err(errors) => return Ok(Outcome::Refused(errors)),
            };
            write(state, rehearse, move |c| {
                kb::import_logged(c, ((id, &slug), &actor), &rows, replace, &name)
            })
            .await?
        }
    };
    Ok(Outcome::Summary(summary))
}

#[derive(Template)]
#[template(path = "admin/catalog/preview.html")]
struct PreviewPage {
    t: &'static Text,
    w: &'static Words,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    tenant: Tenant,
    /// `catalog` or `kb`: where the pages of this kind are.
    kind: &'static str,
    heading: &'static str,
    file: String,
    replace: bool,
    summary: Option<ImportSummary>,
    /// Each problem with its line, in the viewer's language.
    errors: Vec<String>,
    /// Where "Import" posts, when the file can be imported.
    action: String,
    form: UploadForm,
}

async fn kept(
    state: &AppState,
    tenant: &Tenant,
    kind: Kind,
    token: String,
) -> Result<Option<Upload>, ApiError> {
    let upload = uploads::find(state.config.data_dir.clone(), token)
        .await
        .map_err(ApiError::internal)?;
    Ok(upload.filter(|u| u.meta.tenant == tenant.id && u.meta.kind == kind))
}

/// The dry run: what importing the kept file would change, or its per-line errors.
pub async fn preview(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    kind: Kind,
    UrlPath((slug, token)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let tenant = owned(&state, &admin, &slug).await?;
    let Some(upload) = kept(&state, &tenant, kind, token.clone()).await? else {
        return expired(&state, &admin, lang, &tenant, kind).await;
    };
    let (file, replace) = (upload.meta.name.clone(), upload.meta.replace);
    let outcome = run(&state, &admin, &tenant, upload, true).await?;
    let w = words::of(lang.0);
    let me = Me::from(&admin);
    let mut form = UploadForm::new(w, &slug, kind, &me);
    form.replace = replace;
    let (summary, errors, heading) = match outcome {
        Outcome::Summary(s) => (Some(s), Vec::new(), w.preview),
        Outcome::Refused(e) => (None, e.iter().map(|e| e.say(lang.0)).collect(), w.refused),
    };
    let refused = summary.is_none();
    let mut page = render(&PreviewPage {
        t: lang.text(),
        w,
        action: format!("/admin/tenants/{slug}/{}/uploads/{token}", kind.segment()),
        me: Some(me),
        page: kind.page(),
        css_version: css_version(),
        tenant,
        kind: kind.segment(),
        heading,
        file,
        replace,
        summary,
        errors,
        form,
    })?;
    if refused {
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

/// The upload is gone: its kind's page, with the file field saying so.
async fn expired(
    state: &AppState,
    admin: &Admin,
    lang: Lang,
    tenant: &Tenant,
    kind: Kind,
) -> Result<Response, ApiError> {
    let w = words::of(lang.0);
    let mut page = list_page(state, admin, lang, tenant, kind, Some(w.expired)).await?;
    *page.status_mut() = StatusCode::GONE;
    Ok(page)
}

/// Imports the kept file, all of it or (when it no longer passes) nothing.
pub async fn apply(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    kind: Kind,
    UrlPath((slug, token)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let tenant = owned(&state, &admin, &slug).await?;
    let Some(upload) = kept(&state, &tenant, kind, token.clone()).await? else {
        return expired(&state, &admin, lang, &tenant, kind).await;
    };
    match run(&state, &admin, &tenant, upload, false).await? {
        Outcome::Summary(s) => {
            uploads::forget(state.config.data_dir.clone(), token).await;
            Ok(Redirect::to(&format!(
                "/admin/tenants/{slug}/{}?added={}&updated={}&unchanged={}&removed={}",
                kind.segment(),
                s.added,
                s.updated,
                s.unchanged,
                s.removed
            ))
            .into_response())
        }
        // The same file passed its preview; show why it does not now.
        Outcome::Refused(_) => Ok(Redirect::to(&format!(
            "/admin/tenants/{slug}/{}/uploads/{token}",
            kind.segment()
        ))
        .into_response()),
    }
}

/// What a list page was asked: a search, a page, and what the last change did.
#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: usize,
    added: Option<usize>,
    updated: Option<usize>,
    unchanged: Option<usize>,
    removed: Option<usize>,
    #[serde(default)]
    saved: bool,
    #[serde(default)]
    deleted: bool,
}

impl ListQuery {
    /// The summary of the import that led here.
    fn imported(&self) -> Option<ImportSummary> {
        Some(ImportSummary {
            added: self.added?,
            updated: self.updated?,
            unchanged: self.unchanged?,
            removed: self.removed?,
        })
    }
}

/// Which rows of how many a list page shows, and its neighbours' links.
pub struct Paging {
    from: usize,
    to: usize,
    total: usize,
    previous: Option<String>,
    next: Option<String>,
}

impl Paging {
    fn new(base: &str, page: usize, shown: usize, total: usize) -> Paging {
        let from = page * PAGE_ROWS;
        Paging {
            from: if shown == 0 { 0 } else { from + 1 },
            to: from + shown,
            total,
            previous: (page > 0).then(|| format!("{base}?page={}", page - 1)),
            next: (from + shown < total).then(|| format!("{base}?page={}", page + 1)),
        }
    }
}

/// A problem beside a form's field: the field's name and the sentence.
type FieldProblem = (&'static str, String);

/// A form's field: its name, label, value as typed, and the problems beside it.
pub struct FormField {
    name: &'static str,
    label: &'static str,
    value: String,
    errors: Vec<String>,
    /// `text`, `textarea`, `url` or `number`.
    input: &'static str,
    required: bool,
    hint: Option<&'static str>,
}

impl FormField {
    fn id(&self) -> String {
        format!("f-{}", self.name)
    }

    /// The ids of the hint and the problems that describe the field.
    fn described_by(&self) -> Option<String> {
        let id = self.id();
        let ids: Vec<String> = [
            self.hint.map(|_| format!("{id}-hint")),
            (!self.errors.is_empty()).then(|| format!("{id}-error")),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!ids.is_empty()).then(|| ids.join(" "))
    }
}
