//! The team, for owners only: add, change, disable and remove members, and make a one-time
//! sign-in link to pass on. The rules (the last owner, passwords, emails) are the accounts';
//! this maps forms to them and their refusals back to the fields.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::super::super::AppState;
use super::super::super::error::{ApiError, ApiPath, ApiQuery};
use super::super::auth::Admin;
use super::super::text::{Lang, Text};
use super::super::{Me, css_version, render};
use crate::accounts::{self, AccountError, MemberChange, NewMember};
use crate::store::StoreError;
use crate::store::admins::AdminUser;
use crate::store::tenants::Tenant;
use crate::vocab::{Role, Secret};

/// A form's fields as sent, repeated ones (the tenants' checkboxes) included.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn one(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    }
    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    fn ticked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }
    /// A password field: none when left empty.
    pub fn secret(&self, name: &str) -> Option<Secret> {
        Some(self.one(name))
            .filter(|p| !p.is_empty())
            .map(Secret::new)
    }
}

impl From<Form<Vec<(String, String)>>> for Fields {
    fn from(Form(pairs): Form<Vec<(String, String)>>) -> Fields {
        Fields(pairs)
    }
}

/// What a refused form says beside each field.
#[derive(Default)]
pub struct Problems {
    /// Above the form, when no field is to blame.
    pub general: Option<String>,
    pub email: Option<&'static str>,
    pub name: Option<&'static str>,
    pub password: Option<&'static str>,
    pub current_password: Option<&'static str>,
    pub role: Option<&'static str>,
    pub tenants: Option<&'static str>,
}

impl Problems {
    /// Whether any field is to blame.
    pub fn fields(&self) -> bool {
        [
            self.email,
            self.name,
            self.password,
            self.current_password,
            self.role,
            self.tenants,
        ]
        .iter()
        .any(Option::is_some)
    }

    /// The field an account refusal is about; a failure that is nobody's input is a 500.
    pub fn of(t: &'static Text, e: AccountError) -> Result<Problems, ApiError> {
        let mut p = Problems::default();
        match e {
            AccountError::Invalid { code, message } => match code {
                "invalid_email" => p.email = Some(t.err_invalid_email),
                "password_too_short" => p.password = Some(t.err_password_short),
                "password_too_long" => p.password = Some(t.err_password_long),
                "name_too_long" => p.name = Some(t.err_name_long),
                "last_owner" => p.role = Some(t.err_last_owner),
                "wrong_password" => p.current_password = Some(t.err_wrong_password),
                _ => p.general = Some(message),
            },
            AccountError::Store(StoreError::Conflict(_)) => p.email = Some(t.err_email_taken),
            AccountError::Store(StoreError::NotFound(what)) if what.starts_with("tenant") => {
                p.tenants = Some(t.err_unknown_tenant)
            }
            AccountError::Store(StoreError::NotFound(what)) => {
                return Err(ApiError::not_found(&what));
            }
            other => return Err(ApiError::internal(other)),
        }
        Ok(p)
    }
}

/// A member as the team's table shows them.
pub struct Row {
    id: i64,
    email: String,
    name: String,
    owner: bool,
    tenants: String,
    active: bool,
    you: bool,
}

/// What the member form holds: as stored, or as sent back (never a password).
#[derive(Default)]
pub struct Draft {
    email: String,
    name: String,
    owner: bool,
    tenants: Vec<String>,
    disabled: bool,
}

impl Draft {
    fn of(user: &AdminUser) -> Draft {
        Draft {
            email: user.email.clone(),
            name: user.name.clone().unwrap_or_default(),
            owner: user.role == Role::Owner,
            tenants: user.tenants.clone(),
            disabled: user.disabled_at.is_some(),
        }
    }

    fn sent(form: &Fields) -> Draft {
        Draft {
            email: form.one("email").trim().to_owned(),
            name: form.one("name"),
            owner: form.one("role") == Role::Owner.as_str(),
            tenants: form.all("tenants"),
            disabled: form.ticked("disabled"),
        }
    }

    fn role(&self) -> Role {
        if self.owner {
            Role::Owner
        } else {
            Role::Operator
        }
    }

    fn name(&self) -> Option<String> {
        Some(self.name.trim().to_owned()).filter(|n| !n.is_empty())
    }
}

/// A tenant's checkbox.
pub struct Choice {
    slug: String,
    name: String,
    checked: bool,
}

fn choices(tenants: &[Tenant], draft: &Draft) -> Vec<Choice> {
    tenants
        .iter()
        .map(|t| Choice {
            slug: t.slug.clone(),
            name: t.name.clone(),
            checked: draft.tenants.contains(&t.slug),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct TeamPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    members: Vec<Row>,
    draft: Draft,
    tenants: Vec<Choice>,
    problems: Problems,
}

async fn team_page(
    state: &AppState,
    admin: &Admin,
    t: &'static Text,
    draft: Draft,
    problems: Problems,
) -> Result<Response, ApiError> {
    let members = accounts::list(&state.db)
        .await
        .map_err(ApiError::internal)?
        .into_iter()
        .map(|u| Row {
            id: u.id,
            name: u.name.clone().unwrap_or_default(),
            owner: u.role == Role::Owner,
            tenants: u.tenants.join(", "),
            active: u.disabled_at.is_none(),
            you: u.id == admin.user.id,
            email: u.email,
        })
        .collect();
    let tenants = choices(&admin.tenants(state).await?, &draft);
    render(&TeamPage {
        t,
        me: Some(Me::from(admin)),
        page: "users",
        css_version: css_version(),
        members,
        draft,
        tenants,
        problems,
    })
}

/// A form's page sent back with what was wrong.
pub fn refused(mut page: Response) -> Response {
    *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    page
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
) -> Result<Response, ApiError> {
    admin.owner()?;
    team_page(
        &state,
        &admin,
        lang.text(),
        Draft::default(),
        Problems::default(),
    )
    .await
}

pub async fn add(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    form: Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    admin.owner()?;
    let (t, form) = (lang.text(), Fields::from(form));
    let draft = Draft::sent(&form);
    let member = NewMember {
        email: draft.email.clone(),
        name: draft.name(),
        role: draft.role(),
        tenants: draft.tenants.clone(),
        password: form.secret("password"),
    };
    match accounts::add(&state.db, member, &admin.actor()).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => {
            let problems = Problems::of(t, e)?;
            Ok(refused(
                team_page(&state, &admin, t, draft, problems).await?,
            ))
        }
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct MemberPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    id: i64,
    draft: Draft,
    tenants: Vec<Choice>,
    problems: Problems,
    /// The removal's refusal, beside its button.
    remove_problem: Option<&'static str>,
    saved: bool,
}

async fn member_page(
    state: &AppState,
    admin: &Admin,
    t: &'static Text,
    id: i64,
    draft: Draft,
    problems: Problems,
) -> Result<MemberPage, ApiError> {
    let tenants = choices(&admin.tenants(state).await?, &draft);
    Ok(MemberPage {
        t,
        me: Some(Me::from(admin)),
        page: "users",
        css_version: css_version(),
        id,
        draft,
        tenants,
        problems,
        remove_problem: None,
        saved: false,
    })
}

async fn member(state: &AppState, id: i64) -> Result<AdminUser, ApiError> {
    accounts::member(&state.db, id).await.map_err(|e| match e {
        AccountError::Store(e) => ApiError::from(e),
        other => ApiError::internal(other),
    })
}

/// A page's query after a form saved (`?saved=true`), so it can say so.
#[derive(serde::Deserialize)]
pub struct Shown {
    #[serde(default)]
    pub saved: bool,
}

pub async fn edit(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(shown): ApiQuery<Shown>,
) -> Result<Response, ApiError> {
    admin.owner()?;
    let user = member(&state, id).await?;
    let mut page = member_page(
        &state,
        &admin,
        lang.text(),
        id,
        Draft::of(&user),
        Problems::default(),
    )
    .await?;
    page.saved = shown.saved;
    render(&page)
}

pub async fn change(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
    form: Form<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    admin.owner()?;
    let (t, form) = (lang.text(), Fields::from(form));
    let user = member(&state, id).await?;
    let draft = Draft {
        email: user.email.clone(),
        ..Draft::sent(&form)
    };
    let change = MemberChange {
        name: Some(draft.name()),
        role: Some(draft.role()),
        tenants: Some(draft.tenants.clone()),
        password: form.secret("password"),
        disabled: Some(draft.disabled),
        keep_session: Some(admin.session.id),
    };
    match accounts::change(&state.db, &user.email, change, &admin.actor()).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{id}?saved=true")).into_response()),
        Err(e) => {
            let problems = Problems::of(t, e)?;
            let page = member_page(&state, &admin, t, id, draft, problems).await?;
            Ok(refused(render(&page)?))
        }
    }
}

pub async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    admin.owner()?;
    let t = lang.text();
    let user = member(&state, id).await?;
    match accounts::remove(&state.db, &user.email, &admin.actor()).await {
        Ok(_) => Ok(Redirect::to("/admin/users").into_response()),
        Err(e) => {
            let problems = Problems::of(t, e)?;
            let mut page =
                member_page(&state, &admin, t, id, Draft::of(&user), Problems::default()).await?;
            page.remove_problem = problems.role;
            page.problems.general = problems.general;
            Ok(refused(render(&page)?))
        }
    }
}

#[derive(Template)]
#[template(path = "admin/user_link.html")]
struct LinkMadePage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    id: i64,
    email: String,
    link: String,
}

/// Makes a one-time sign-in link and shows it, once, to the owner who passes it on.
pub async fn link(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response, ApiError> {
    admin.owner()?;
    let user = member(&state, id).await?;
    let link = accounts::sign_in_link(
        &state.db,
        &state.config.public_url,
        &user.email,
        &admin.actor(),
    )
    .await
    .map_err(ApiError::internal)?;
    render(&LinkMadePage {
        t: lang.text(),
        me: Some(Me::from(&admin)),
        page: "users",
        css_version: css_version(),
        id,
        email: user.email,
        link,
    })
}
