//! The admin's pages, one file per route group.

mod account;
mod analytics;
mod audit;
mod canned;
mod catalog;
mod charts;
mod conversations;
mod inbox;
mod keys;
mod overview;
mod sign_in;
mod tenants;
mod users;

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
        .route("/admin/users", get(users::list).post(users::add))
        .route("/admin/users/{id}", get(users::edit).post(users::change))
        .route("/admin/users/{id}/remove", post(users::remove))
        .route("/admin/users/{id}/link", post(users::link))
        .route("/admin/account", get(account::page).post(account::change))
        .route("/admin/audit", get(audit::page))
        .route("/admin/tenants", get(tenants::list).post(tenants::create))
        .route(
            "/admin/tenants/{slug}",
            get(tenants::show).post(tenants::save),
        )
        .route("/admin/tenants/{slug}/remove", post(tenants::remove))
        .route(
            "/admin/tenants/{slug}/preview.css",
            get(tenants::preview_css),
        )
        .route(
            "/admin/tenants/{slug}/keys",
            get(keys::page).post(keys::issue),
        )
        .route("/admin/tenants/{slug}/keys/{id}/revoke", post(keys::revoke))
        .route("/admin/conversations", get(conversations::list))
        .route(
            "/admin/conversations/{public_id}",
            get(conversations::transcript),
        )
        .route("/admin/inbox", get(inbox::list))
        .route(
            "/admin/tenants/{slug}/canned",
            get(canned::page).post(canned::save),
        )
        .route(
            "/admin/tenants/{slug}/canned/{id}/remove",
            post(canned::remove),
        )
        .route("/admin/inbox/events", get(inbox::events))
        .route(
            "/admin/conversations/{public_id}/events",
            get(inbox::conversation_events),
        )
        .route(
            "/admin/conversations/{public_id}/take-over",
            post(inbox::take_over),
        )
        .route("/admin/conversations/{public_id}/reply", post(inbox::reply))
        .route("/admin/conversations/{public_id}/notes", post(inbox::note))
        .route(
            "/admin/conversations/{public_id}/hand-back",
            post(inbox::hand_back),
        )
        .route("/admin/conversations/{public_id}/close", post(inbox::close))
        .route(
            "/admin/conversations/{public_id}/assign",
            post(inbox::assign),
        )
        .route(
            "/admin/conversations/{public_id}/typing",
            post(inbox::typing),
        )
        .route("/admin/analytics", get(analytics::index))
        .route("/admin/analytics/{slug}", get(analytics::tenant))
        .merge(catalog::routes())
}
