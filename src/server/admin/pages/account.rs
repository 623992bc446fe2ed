//! The member's own account: their name and password. A new password needs the current one and
//! signs them out on their other devices, not this one (the accounts' rule).

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::super::super::AppState;
use super::super::super::error::{ApiError, ApiQuery};
use super::super::auth::Admin;
use super::super::text::{Lang, Text};
use super::super::{Me, css_version, render};
use super::users::{Fields, Problems, Shown, refused};
use crate::accounts::{self, OwnChange};

#[derive(Template)]
#[template(path = "admin/account.html")]
struct AccountPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    email: String,
    name: String,
    problems: Problems,
    saved: bool,
}

fn account_page(admin: &Admin, t: &'static Text, name: String, problems: Problems) -> AccountPage {
    AccountPage {
        t,
        me: Some(Me::from(admin)),
        page: "account",
        css_version: css_version(),
        email: admin.user.email.clone(),
        name,
        problems,
        saved: false,
    }
}

pub async fn page(
    admin: Admin,
    lang: Lang,
    ApiQuery(shown): ApiQuery<Shown>,
) -> Result<Response, ApiError> {
    let name = admin.user.name.clone().unwrap_or_default();
    let mut page = account_page(&admin, lang.text(), name, Problems::default());
    page.saved = shown.saved;
    render(&page)
}

pub async fn change(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    form: Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    let (t, form) = (lang.text(), Fields::from(form));
    let name = form.one("name");
    let own = OwnChange {
        name: Some(Some(name.clone())),
        current_password: form.secret("current_password"),
        new_password: form.secret("password"),
    };
    let changed = accounts::change_own(
        &state.db,
        &admin.user,
        admin.session.id,
        own,
        &admin.actor(),
    )
    .await;
    match changed {
        Ok(_) => Ok(Redirect::to("/admin/account?saved=true").into_response()),
        Err(e) => {
            let page = account_page(&admin, t, name, Problems::of(t, e)?);
            Ok(refused(render(&page)?))
        }
    }
}
