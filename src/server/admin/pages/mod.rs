//! The admin's pages, one file per route group.

mod catalog;
mod overview;
mod sign_in;

use axum::Router;
use axum::routing::{get, post};

use super::super::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin", get(overview::page))
        .route(
            "/admin/sign-in",
            get(sign_in::form).post(sign_in::with_password),
        )
        .route("/admin/link/{token}", get(sign_in::link))
        .route("/admin/link", post(sign_in::with_link))
        .route("/admin/sign-out", post(sign_in::sign_out))
        .route(
            "/admin/sign-out-everywhere",
            post(sign_in::sign_out_everywhere),
        )
        .route("/admin/language/{code}", get(sign_in::language))
        .merge(catalog::routes())
}
