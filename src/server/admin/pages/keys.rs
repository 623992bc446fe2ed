//! A tenant's keys and its snippet (owners only): issue and revoke, as `keepstar key` does; a
//! secret key is shown once, on the page that answers its issue.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::super::AppState;
use super::super::super::assets::widget_version;
use super::super::super::error::ApiError;
use super::super::auth::Admin;
use super::super::text::{Lang, Text};
use super::super::{Me, css_version, render};
use crate::store::StoreError;
use crate::store::keys::{self, ApiKey, KeyKind, Snippet};
use crate::store::tenants::Tenant;

pub struct KeyRow {
    key: ApiKey,
    created: String,
    last_used: String,
}

#[derive(Template)]
#[template(path = "admin/keys.html")]
struct KeysPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    slug: String,
    title: String,
    keys: Vec<KeyRow>,
    snippet: Option<String>,
    /// A secret key just issued: the one time it is shown.
    issued: Option<String>,
}

impl KeysPage {
    async fn of(
        state: &AppState,
        admin: &Admin,
        lang: Lang,
        tenant: &Tenant,
    ) -> Result<KeysPage, ApiError> {
        let id = tenant.id;
        let list = state.db.read(move |c| keys::list(c, id)).await?;
        let snippet = list
            .iter()
            .find(|k| k.kind == KeyKind::Public && k.revoked_at.is_none())
            .and_then(|k| k.public_key.as_deref())
            .map(|key| {
                Snippet::new(
                    &state.config.public_url,
                    &widget_version(),
                    &tenant.slug,
                    key,
                )
                .html
            });
        Ok(KeysPage {
            t: lang.text(),
            me: Some(Me::from(admin)),
            page: "tenants",
            css_version: css_version(),
            slug: tenant.slug.clone(),
            title: tenant.name.clone(),
            keys: list
                .into_iter()
                .map(|key| KeyRow {
                    created: when(Some(key.created_at)),
                    last_used: when(key.last_used_at),
                    key,
                })
                .collect(),
            snippet,
            issued: None,
        })
    }
}

/// When a key was made or used, in UTC.
fn when(ms: Option<i64>) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]");
    ms.and_then(|ms| {
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).ok()
    })
    .and_then(|t| t.format(&format).ok())
    .unwrap_or_else(|| "–".into())
}

pub async fn page(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let tenant = admin.owned_tenant(&state, &slug).await?;
    render(&KeysPage::of(&state, &admin, lang, &tenant).await?)
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Issue {
    kind: String,
    label: String,
}

pub async fn issue(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(slug): Path<String>,
    Form(form): Form<Issue>,
) -> Result<Response, ApiError> {
    let tenant = admin.owned_tenant(&state, &slug).await?;
    let kind = if form.kind == "secret" {
        KeyKind::Secret
    } else {
        KeyKind::Public
    };
    let label: String = form.label.trim().chars().take(100).collect();
    let (actor, id, slug) = (admin.actor(), tenant.id, tenant.slug.clone());
    let issued = state
        .db
        .write(move |c| {
            let label = (!label.is_empty()).then_some(label.as_str());
            keys::issue_audited(c, &actor, (id, &slug), kind, label)
        })
        .await?;
    if kind == KeyKind::Public {
        return Ok(Redirect::to(&format!("/admin/tenants/{}/keys", tenant.slug)).into_response());
    }
    let mut page = KeysPage::of(&state, &admin, lang, &tenant).await?;
    page.issued = Some(issued.secret);
    render(&page)
}

pub async fn revoke(
    State(state): State<AppState>,
    admin: Admin,
    Path((slug, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let tenant = admin.owned_tenant(&state, &slug).await?;
    let (actor, tenant_id) = (admin.actor(), tenant.id);
    let revoked = state
        .db
        .write(move |c| keys::revoke_audited(c, &actor, Some(tenant_id), &id))
        .await;
    match revoked {
        // Revoked twice (two tabs, a double click): it is revoked, which is what was asked.
        Ok(_) | Err(StoreError::Conflict(_)) => {
            Ok(Redirect::to(&format!("/admin/tenants/{}/keys", tenant.slug)).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
