//! Analytics per tenant: the last 30 days per day (from the rollup), the top searches, the
//! searches that found nothing, the handoff rate and the busiest hours.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;

use super::super::super::AppState;
use super::super::super::error::ApiError;
use super::super::auth::Admin;
use super::super::text::{Lang, Talk, Text};
use super::super::{Me, css_version, render};
use super::charts::{self, Chart, DAY_MS};
use super::overview::first_token;
use crate::store::analytics::{self, SearchCount};
use crate::store::now_ms;

/// Searches listed in each table.
const TOP: i64 = 20;

#[derive(Template)]
#[template(path = "admin/analytics_index.html")]
struct IndexPage {
    t: &'static Text,
    c: &'static Talk,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    tenants: Vec<(String, String)>,
}

pub async fn index(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
) -> Result<Response, ApiError> {
    let t = lang.text();
    let tenants = admin.tenants(&state).await?;
    render(&IndexPage {
        t,
        c: t.talk,
        me: Some(Me::from(&admin)),
        page: "analytics",
        css_version: css_version(),
        tenants: tenants.into_iter().map(|t| (t.slug, t.name)).collect(),
    })
}

pub struct DayRow {
    day: String,
    conversations: i64,
    messages: i64,
    handoffs: i64,
    first_token: String,
    zero_results: i64,
    tokens: i64,
}

#[derive(Template)]
#[template(path = "admin/analytics.html")]
struct TenantPage {
    t: &'static Text,
    c: &'static Talk,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    name: String,
    days: Vec<DayRow>,
    total: DayRow,
    handoff_rate: String,
    charts: Vec<Chart>,
    hours: Chart,
    top: Vec<SearchCount>,
    misses: Vec<SearchCount>,
}

pub async fn tenant(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let t = lang.text();
    let c = t.talk;
    let tenant = admin.tenant(&state, &slug).await?;
    let now = now_ms();
    let days = charts::last_days(now, 30);
    let since = now - 30 * DAY_MS;
    let (id, from) = (tenant.id, days[0].clone());
    let (daily, top, misses, hours) = state
        .db
        .read(move |db| {
            Ok((
                analytics::daily(db, &[id], &from)?,
                analytics::top_searches(db, id, since, TOP)?,
                analytics::top_misses(db, id, since, TOP)?,
                analytics::by_hour(db, id, since)?,
            ))
        })
        .await?;
    let row = |day: String, f: &analytics::Figures| DayRow {
        day,
        conversations: f.conversations,
        messages: f.messages,
        handoffs: f.handoffs,
        first_token: first_token(f),
        zero_results: f.zero_results,
        tokens: f.tokens,
    };
    let total = analytics::total(&daily, &days[0]);
    let hours: Vec<(String, i64)> = hours
        .iter()
        .enumerate()
        .map(|(h, n)| (format!("{h:02}"), *n))
        .collect();
    render(&TenantPage {
        t,
        c,
        me: Some(Me::from(&admin)),
        page: "analytics",
        css_version: css_version(),
        name: tenant.name,
        handoff_rate: total
            .handoff_rate()
            .map_or_else(|| "–".into(), |r| format!("{r:.1} %")),
        total: row(c.last_30_days.to_owned(), &total),
        charts: charts::daily_charts(t, &days, &daily),
        hours: Chart::bars("hours", c.busiest_hours.to_owned(), &hours),
        days: days
            .iter()
            .rev()
            .map(|d| row(d.clone(), &daily.get(d).cloned().unwrap_or_default()))
            .collect(),
        top,
        misses,
    })
}
