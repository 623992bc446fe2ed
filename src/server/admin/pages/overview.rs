//! The overview: the member's tenants' figures for today, 7 and 30 days.

use askama::Template;
use axum::extract::State;
use axum::response::Response;

use super::super::super::AppState;
use super::super::super::error::ApiError;
use super::super::auth::Admin;
use super::super::text::{Lang, Text};
use super::super::{Me, css_version, render};
use crate::store::analytics::{self, Figures};
use crate::store::now_ms;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub struct Period {
    label: &'static str,
    figures: Figures,
    first_token: String,
}

#[derive(Template)]
#[template(path = "admin/overview.html")]
struct OverviewPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    periods: Vec<Period>,
}

pub async fn page(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
) -> Result<Response, ApiError> {
    let t = lang.text();
    let ids: Vec<i64> = admin.tenants(&state).await?.iter().map(|t| t.id).collect();
    let now = now_ms();
    let today = now - now.rem_euclid(DAY_MS);
    let mut periods = Vec::new();
    for (label, since) in [
        (t.today, today),
        (t.days_7, now - 7 * DAY_MS),
        (t.days_30, now - 30 * DAY_MS),
    ] {
        let ids = ids.clone();
        let figures = state
            .db
            .read(move |c| analytics::figures(c, &ids, since))
            .await?;
        let first_token = match (
            figures.first_token_quantile(0.5),
            figures.first_token_quantile(0.95),
        ) {
            (Some(p50), Some(p95)) => format!("{p50} / {p95} ms"),
            _ => "–".into(),
        };
        periods.push(Period {
            label,
            figures,
            first_token,
        });
    }
    render(&OverviewPage {
        t,
        me: Some(Me::from(&admin)),
        page: "overview",
        css_version: css_version(),
        periods,
    })
}
