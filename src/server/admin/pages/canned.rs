//! A tenant's ready answers ("canned replies"): what the team inserts in a reply by typing `/`
//! and the shortcut. Any member serving the tenant manages them.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::super::AppState;
use super::super::super::error::ApiError;
use super::super::auth::Admin;
use super::super::text::{Lang, Live, Text};
use super::super::{Me, css_version, render};
use crate::store::StoreError;
use crate::store::inbox::{self, CannedReply};
use crate::store::tenants::Tenant;

#[derive(Template)]
#[template(path = "admin/canned.html")]
struct CannedPage {
    t: &'static Text,
    l: &'static Live,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    slug: String,
    tenant_name: String,
    replies: Vec<CannedReply>,
    shortcut: String,
    text: String,
    error: Option<&'static str>,
}

async fn canned_page(
    state: &AppState,
    admin: &Admin,
    lang: Lang,
    tenant: &Tenant,
    form: Saved,
    error: Option<&'static str>,
) -> Result<Response, ApiError> {
    let t = lang.text();
    let id = tenant.id;
    let replies = state.db.read(move |c| inbox::canned(c, id)).await?;
    render(&CannedPage {
        t,
        l: t.live,
        me: Some(Me::from(admin)),
        page: "inbox",
        css_version: css_version(),
        slug: tenant.slug.clone(),
        tenant_name: tenant.name.clone(),
        replies,
        shortcut: form.shortcut,
        text: form.text,
        error,
    })
}

pub async fn page(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let tenant = admin.tenant(&state, &slug).await?;
    canned_page(&state, &admin, lang, &tenant, Saved::default(), None).await
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Saved {
    shortcut: String,
    text: String,
}

pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(slug): Path<String>,
    Form(form): Form<Saved>,
) -> Result<Response, ApiError> {
    let tenant = admin.tenant(&state, &slug).await?;
    let (id, shortcut, text) = (tenant.id, form.shortcut.clone(), form.text.clone());
    let saved = state
        .db
        .write(move |c| inbox::save_canned(c, id, &shortcut, &text))
        .await;
    match saved {
        Ok(()) => Ok(Redirect::to(&format!("/admin/tenants/{slug}/canned")).into_response()),
        Err(StoreError::Invalid(_)) => {
            let l = lang.text().live;
            let error = if form.text.trim().is_empty() {
                l.empty_text
            } else {
                l.bad_shortcut
            };
            let mut page = canned_page(&state, &admin, lang, &tenant, form, Some(error)).await?;
            *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(page)
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, id)): Path<(String, i64)>,
) -> Result<Response, ApiError> {
    let tenant = admin.tenant(&state, &slug).await?;
    let tenant_id = tenant.id;
    state
        .db
        .write(move |c| inbox::remove_canned(c, tenant_id, id))
        .await?;
    Ok(Redirect::to(&format!("/admin/tenants/{slug}/canned")).into_response())
}
