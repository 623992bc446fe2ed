//! The overview: the member's tenants' figures for today, 7 and 30 days, and the last 30 days
//! as charts, all read from the daily rollup.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::super::super::AppState;
use super::super::super::error::ApiError;
use super::super::auth::Admin;
use super::super::text::{Lang, Text};
use super::super::{Me, css_version, render};
use super::charts::{self, Chart};
use crate::store::analytics::{self, Figures};
use crate::store::now_ms;

pub struct Period {
    label: &'static str,
    figures: Figures,
    first_token: String,
}

/// "p50 / p95 ms", or a dash without replies.
pub fn first_token(f: &Figures) -> String {
    match (f.first_token_quantile(0.5), f.first_token_quantile(0.95)) {
        (Some(p50), Some(p95)) => format!("{p50} / {p95} ms"),
        _ => "–".into(),
    }
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    periods: Vec<Period>,
    charts: Vec<Chart>,
}

pub async fn page(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
) -> Result<Response, ApiError> {
    let t = lang.text();
    let ids: Vec<i64> = admin.tenants(&state).await?.iter().map(|t| t.id).collect();
    let days = charts::last_days(now_ms(), 30);
    let from = days[0].clone();
    let daily = state
        .db
        .read(move |c| analytics::daily(c, &ids, &from))
        .await?;
    let periods = [(t.today, 29), (t.days_7, 23), (t.days_30, 0)]
        .into_iter()
        .map(|(label, first)| {
            let figures = analytics::total(&daily, &days[first]);
            Period {
                label,
                first_token: first_token(&figures),
                figures,
            }
        })
        .collect();
    render(&OverviewPage {
        t,
        me: Some(Me::from(&admin)),
        page: "overview",
        css_version: css_version(),
        periods,
        charts: charts::daily_charts(t, &days, &daily),
    })
}
