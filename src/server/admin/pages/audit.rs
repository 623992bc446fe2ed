//! The audit log, newest first, a page at a time: owners see every entry, an operator only the
//! entries of the tenants they serve (filtered in the SQL). Entries never hold a secret.

use askama::Template;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;

use super::super::super::AppState;
use super::super::super::error::{ApiError, ApiQuery};
use super::super::auth::Admin;
use super::super::text::{Lang, Text};
use super::super::{Me, css_version, render};
use crate::store::audit::{self, Filter};

/// An entry as the page shows it.
pub struct Line {
    when: String,
    tenant: String,
    actor: String,
    action: String,
    target: String,
    details: String,
}

/// A tenant the filter offers.
pub struct Choice {
    slug: String,
    name: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    tenants: Vec<Choice>,
    actor: String,
    action: String,
    lines: Vec<Line>,
    /// The next page's URL, when there are older entries.
    older: Option<String>,
    /// Whether this is a later page (so the newest are a link away).
    paged: bool,
}

#[derive(Deserialize)]
pub struct Asked {
    #[serde(default)]
    tenant: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    before: Option<i64>,
}

fn given(s: &str) -> Option<String> {
    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// A time in milliseconds as `2025-01-31 14:05:09`, UTC.
fn when(ms: i64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_default()
}

pub async fn page(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    ApiQuery(asked): ApiQuery<Asked>,
) -> Result<Response, ApiError> {
    let served = admin.tenants(&state).await?;
    let filter = Filter {
        visible: admin
            .owner()
            .is_err()
            .then(|| served.iter().map(|t| t.id).collect()),
        tenant: given(&asked.tenant),
        actor: given(&asked.actor),
        action: given(&asked.action),
        before: asked.before,
    };
    let mut found = state.db.read(move |c| audit::list(c, &filter)).await?;
    let older = (found.len() > audit::PAGE).then(|| {
        found.truncate(audit::PAGE);
        let last = found.last().map_or(0, |e| e.id);
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("tenant", asked.tenant.trim())
            .append_pair("actor", asked.actor.trim())
            .append_pair("action", asked.action.trim())
            .append_pair("before", &last.to_string())
            .finish();
        format!("/admin/audit?{query}")
    });
    let lines = found
        .into_iter()
        .map(|e| Line {
            when: when(e.created_at),
            tenant: e.tenant.unwrap_or_default(),
            actor: e.actor,
            action: e.action,
            target: e.target.unwrap_or_default(),
            details: if e.details == "{}" {
                String::new()
            } else {
                e.details
            },
        })
        .collect();
    let tenants = served
        .into_iter()
        .map(|t| Choice {
            selected: asked.tenant.trim() == t.slug,
            slug: t.slug,
            name: t.name,
        })
        .collect();
    render(&AuditPage {
        t: lang.text(),
        me: Some(Me::from(&admin)),
        page: "audit",
        css_version: css_version(),
        tenants,
        actor: asked.actor,
        action: asked.action,
        lines,
        older,
        paged: asked.before.is_some(),
    })
}
