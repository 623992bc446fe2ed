//! Tenants (owners only): the list and the create form, one tenant's settings with a live preview
//! of its real widget, and its removal. The rules are the store's, as for `keepstar tenant`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::super::AppState;
use super::super::super::assets::widget_version;
use super::super::super::error::ApiError;
use super::super::auth::Admin;
use super::super::problems::Say;
use super::super::text::{Lang, Text};
use super::super::{Me, css_version, render};
use crate::seal::Sealer;
use crate::store::StoreError;
use crate::store::keys::{self, KeyKind};
use crate::store::tenants::{self, Tenant, TenantPatch};
use crate::vocab::{Locale, Named, OverBudget, Position, Provider, Secret};

/// What was wrong with a form, by the form field it belongs beside.
#[derive(Default)]
pub struct Errors(Vec<(&'static str, String)>);

impl Errors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        if self.get(field).is_none() {
            self.0.push((field, message.into()));
        }
    }

    /// The error beside `field`, if any.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map(|(_, m)| m.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A store's problem, in the viewer's language beside the form field that set it.
    fn problem(&mut self, p: &tenants::Problem, lang: Lang) {
        self.add(form_field(p.field), p.say(lang.0));
    }

    /// The patch's problems, each beside the form field that set it.
    fn of_patch(&mut self, patch: &TenantPatch, lang: Lang) {
        for p in patch.problems() {
            self.problem(&p, lang);
        }
    }
}

/// The form field a `TenantPatch` field is typed into.
fn form_field(patch_field: &'static str) -> &'static str {
    match patch_field {
        "rate_limit_per_minute" => "rate_limit",
        "price_prompt_micros" => "price_prompt",
        "price_completion_micros" => "price_completion",
        "monthly_budget_micros" => "monthly_budget",
        other => other,
    }
}

/// A page re-rendered because of bad input.
fn unprocessable(page: &impl Template) -> Result<Response, ApiError> {
    let mut response = render(page)?;
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    Ok(response)
}

/// Allowed origins, one a line, blank lines ignored.
fn origin_lines(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

fn choice<T: Named>(field: &'static str, text: &str, lang: Lang, errors: &mut Errors) -> Option<T> {
    let found = T::from_name(text.trim());
    if found.is_none() {
        errors.add(field, (lang.text().err_choose)(T::WHAT));
    }
    found
}

pub struct Row {
    slug: String,
    name: String,
    locale: &'static str,
    provider: &'static str,
    origins: usize,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct NewTenant {
    slug: String,
    name: String,
    origins: String,
    locale: String,
}

#[derive(Template)]
#[template(path = "admin/tenants.html")]
struct TenantsPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    tenants: Vec<Row>,
    form: NewTenant,
    errors: Errors,
}

impl TenantsPage {
    async fn of(
        state: &AppState,
        admin: &Admin,
        lang: Lang,
        form: NewTenant,
        errors: Errors,
    ) -> Result<TenantsPage, ApiError> {
        let tenants = admin
            .tenants(state)
            .await?
            .into_iter()
            .map(|t| Row {
                origins: t.origins.len(),
                locale: t.locale.as_str(),
                provider: t.provider.kind.as_str(),
                slug: t.slug,
                name: t.name,
            })
            .collect();
        Ok(TenantsPage {
            t: lang.text(),
            me: Some(Me::from(admin)),
            page: "tenants",
            css_version: css_version(),
            tenants,
            form,
            errors,
        })
    }
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
) -> Result<Response, ApiError> {
    admin.owner()?;
    let form = NewTenant {
        locale: lang.0.as_str().into(),
        ..NewTenant::default()
    };
    render(&TenantsPage::of(&state, &admin, lang, form, Errors::default()).await?)
}

/// Creates the tenant with a public key of its own, so its widget can be previewed at once.
pub async fn create(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Form(form): Form<NewTenant>,
) -> Result<Response, ApiError> {
    admin.owner()?;
    let mut errors = Errors::default();
    if let Err(p) = tenants::validate_slug(form.slug.trim()) {
        errors.problem(&p, lang);
    }
    let mut patch = TenantPatch {
        name: Some(form.name.trim().to_owned()),
        locale: choice("locale", &form.locale, lang, &mut errors),
        ..TenantPatch::default()
    };
    match tenants::parse_origins(&origin_lines(&form.origins)) {
        Ok(origins) => patch.origins = Some(origins),
        Err(p) => errors.problem(&p, lang),
    }
    errors.of_patch(&patch, lang);
    if errors.is_empty() {
        let (slug, actor) = (form.slug.trim().to_owned(), admin.actor());
        let name = form.name.trim().to_owned();
        let made = state
            .db
            .write(move |c| {
                let t = tenants::insert_audited(c, &actor, &slug, &name, &patch)?;
                keys::issue_audited(c, &actor, (t.id, &t.slug), KeyKind::Public, Some("widget"))?;
                Ok(t)
            })
            .await;
        match made {
            Ok(t) => return Ok(Redirect::to(&format!("/admin/tenants/{}", t.slug)).into_response()),
            Err(StoreError::Conflict(_)) => {
                errors.add("slug", (lang.text().err_tenant_exists)(form.slug.trim()))
            }
            Err(e) => return Err(e.into()),
        }
    }
    unprocessable(&TenantsPage::of(&state, &admin, lang, form, errors).await?)
}

/// Every setting of a tenant as typed in its form; an empty field clears an optional setting.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct TenantForm {
    name: String,
    locale: String,
    currency: String,
    color: String,
    position: String,
    greeting: String,
    logo_url: String,
    launcher_text: String,
    origins: String,
    provider: String,
    model: String,
    base_url: String,
    api_key_env: String,
    /// A new provider key to store sealed; never shown back.
    provider_key: Option<Secret>,
    forget_key: Option<String>,
    webhook_url: String,
    system_prompt: String,
    temperature: String,
    max_tokens: String,
    price_prompt: String,
    price_completion: String,
    monthly_budget: String,
    over_budget: String,
    rate_limit: String,
    retention_days: String,
}

fn text(v: &Option<String>) -> String {
    v.clone().unwrap_or_default()
}

fn shown<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

/// `""` clears an optional setting.
fn optional(v: &str) -> Option<Option<String>> {
    let v = v.trim();
    Some((!v.is_empty()).then(|| v.to_owned()))
}

impl TenantForm {
    /// The form as the tenant's settings fill it.
    fn of(t: &Tenant) -> TenantForm {
        let p = &t.provider;
        let amount = |m: Option<i64>| m.map(tenants::format_amount).unwrap_or_default();
        TenantForm {
            name: t.name.clone(),
            locale: t.locale.as_str().into(),
            currency: t.currency.clone(),
            color: text(&t.color),
            position: t.position.as_str().into(),
            greeting: text(&t.greeting),
            logo_url: text(&t.logo_url),
            launcher_text: text(&t.launcher_text),
            origins: t
                .origins
                .iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join("\n"),
            provider: p.kind.as_str().into(),
            model: text(&p.model),
            base_url: text(&p.base_url),
            api_key_env: text(&p.api_key_env),
            provider_key: None,
            forget_key: None,
            webhook_url: text(&p.webhook_url),
            system_prompt: text(&p.system_prompt),
            temperature: shown(p.temperature),
            max_tokens: shown(p.max_tokens),
            price_prompt: amount(p.price_prompt_micros),
            price_completion: amount(p.price_completion_micros),
            monthly_budget: amount(t.limits.monthly_budget_micros),
            over_budget: t.limits.over_budget.as_str().into(),
            rate_limit: shown(t.limits.rate_limit_per_minute),
            retention_days: shown(t.limits.retention_days),
        }
    }

    /// The change the form asks for, or what is wrong with it; nothing is stored either way.
    fn patch(
        &self,
        tenant: &Tenant,
        sealer: Option<&Sealer>,
        lang: Lang,
    ) -> Result<TenantPatch, Errors> {
        let t = lang.text();
        let mut errors = Errors::default();
        let mut number = |field: &'static str, v: &str| -> Option<Option<i64>> {
            let v = v.trim();
            if v.is_empty() {
                return Some(None);
            }
            match v.parse() {
                Ok(n) => Some(Some(n)),
                Err(_) => {
                    errors.add(field, (t.err_whole_number)(v));
                    None
                }
            }
        };
        let max_tokens = number("max_tokens", &self.max_tokens);
        let rate_limit = number("rate_limit", &self.rate_limit);
        let retention_days = number("retention_days", &self.retention_days);
        let mut amount = |field: &'static str, v: &str| -> Option<Option<i64>> {
            match optional(v)? {
                None => Some(None),
                Some(v) => match tenants::parse_amount(field, &v) {
                    Ok(m) => Some(Some(m)),
                    Err(p) => {
                        errors.problem(&p, lang);
                        None
                    }
                },
            }
        };
        let price_prompt = amount("price_prompt_micros", &self.price_prompt);
        let price_completion = amount("price_completion_micros", &self.price_completion);
        let monthly_budget = amount("monthly_budget_micros", &self.monthly_budget);
        let temperature = match optional(&self.temperature).flatten() {
            None => Some(None),
            Some(v) => match v.parse::<f64>() {
                Ok(n) if n.is_finite() => Some(Some(n)),
                _ => {
                    errors.add("temperature", (t.err_number)(&v));
                    None
                }
            },
        };
        let origins = match tenants::parse_origins(&origin_lines(&self.origins)) {
            Ok(o) => Some(o),
            Err(p) => {
                errors.problem(&p, lang);
                None
            }
        };
        let new_key = self
            .provider_key
            .as_ref()
            .map(|k| k.expose().trim())
            .filter(|k| !k.is_empty());
        let api_key_sealed = match (new_key, sealer, self.forget_key.is_some()) {
            (Some(_), _, true) => {
                errors.add("provider_key", t.err_key_both);
                None
            }
            (Some(_), None, false) => {
                errors.add("provider_key", t.err_key_unsealable);
                None
            }
            (Some(key), Some(sealer), false) => Some(Some(sealer.seal(tenant.id, key))),
            (None, _, true) => Some(None),
            (None, _, false) => None,
        };
        let patch = TenantPatch {
            name: Some(self.name.trim().to_owned()),
            locale: choice("locale", &self.locale, lang, &mut errors),
            currency: Some(self.currency.trim().to_ascii_uppercase()),
            greeting: optional(&self.greeting),
            color: optional(&self.color),
            position: choice::<Position>("position", &self.position, lang, &mut errors),
            logo_url: optional(&self.logo_url),
            launcher_text: optional(&self.launcher_text),
            origins,
            provider: choice::<Provider>("provider", &self.provider, lang, &mut errors),
            model: optional(&self.model),
            base_url: optional(&self.base_url),
            api_key_env: optional(&self.api_key_env),
            webhook_url: optional(&self.webhook_url),
            system_prompt: optional(&self.system_prompt),
            temperature,
            max_tokens,
            price_prompt_micros: price_prompt,
            price_completion_micros: price_completion,
            api_key_sealed,
            rate_limit_per_minute: rate_limit,
            monthly_budget_micros: monthly_budget,
            over_budget: choice::<OverBudget>("over_budget", &self.over_budget, lang, &mut errors),
            retention_days,
        };
        errors.of_patch(&patch, lang);
        if errors.is_empty() {
            Ok(patch)
        } else {
            Err(errors)
        }
    }
}

/// The real widget on the tenant's page: keepstar's `widget.js` with the tenant's public key.
pub struct Preview {
    src: String,
    key: String,
    position: &'static str,
    locale: &'static str,
}

#[derive(Template)]
#[template(path = "admin/tenant.html")]
struct TenantPage {
    t: &'static Text,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    slug: String,
    title: String,
    key_stored: bool,
    form: TenantForm,
    errors: Errors,
    saved: bool,
    preview: Option<Preview>,
    /// What was typed to confirm the removal, when it was not the slug.
    remove_typed: Option<String>,
    locales: &'static [Locale],
    positions: &'static [Position],
    providers: &'static [Provider],
    over_budgets: &'static [OverBudget],
}

impl TenantPage {
    async fn of(
        state: &AppState,
        admin: &Admin,
        lang: Lang,
        tenant: &Tenant,
        form: TenantForm,
        errors: Errors,
    ) -> Result<TenantPage, ApiError> {
        let id = tenant.id;
        let key = state
            .db
            .read(move |c| keys::active_public(c, id))
            .await?
            .and_then(|k| k.public_key);
        Ok(TenantPage {
            t: lang.text(),
            me: Some(Me::from(admin)),
            page: "tenants",
            css_version: css_version(),
            slug: tenant.slug.clone(),
            title: tenant.name.clone(),
            key_stored: tenant.provider.api_key_stored,
            form,
            errors,
            saved: false,
            preview: key.map(|key| Preview {
                src: format!("/widget.js?v={}", widget_version()),
                key,
                position: tenant.position.as_str(),
                locale: tenant.locale.as_str(),
            }),
            remove_typed: None,
            locales: Locale::ALL,
            positions: Position::ALL,
            providers: Provider::ALL,
            over_budgets: OverBudget::ALL,
        })
    }
}

#[derive(Deserialize)]
pub struct Shown {
    saved: Option<String>,
}

pub async fn show(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(slug): Path<String>,
    Query(shown): Query<Shown>,
) -> Result<Response, ApiError> {
    let tenant = admin.owned_tenant(&state, &slug).await?;
    let form = TenantForm::of(&tenant);
    let mut page = TenantPage::of(&state, &admin, lang, &tenant, form, Errors::default()).await?;
    page.saved = shown.saved.is_some();
    render(&page)
}

pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(slug): Path<String>,
    Form(mut form): Form<TenantForm>,
) -> Result<Response, ApiError> {
    let tenant = admin.owned_tenant(&state, &slug).await?;
    let sealer = state.config.encryption_key.as_ref().map(Sealer::new);
    match form.patch(&tenant, sealer.as_ref(), lang) {
        Ok(patch) => {
            let actor = admin.actor();
            state
                .db
                .write(move |c| tenants::update_audited(c, &actor, &slug, &patch))
                .await?;
            Ok(Redirect::to(&format!("/admin/tenants/{}?saved", tenant.slug)).into_response())
        }
        Err(errors) => {
            // A provider key is never sent back to the browser, not even the one just typed.
            form.provider_key = None;
            unprocessable(&TenantPage::of(&state, &admin, lang, &tenant, form, errors).await?)
        }
    }
}

/// The saved brand colour for the preview, as the site override the widget documents
/// (`--keepstar-color`): the widget opens its session, and so learns the tenant's colour, only
/// when a visitor opens it, and its cached colour is the last one it saw. A stylesheet, so it
/// works without JavaScript and under the page's CSP; tenant.js's typed colour wins over it.
pub async fn preview_css(
    State(state): State<AppState>,
    admin: Admin,
    Path(slug): Path<String>,
) -> Result<Response, ApiError> {
    let tenant = admin.owned_tenant(&state, &slug).await?;
    // The colour was validated as #rgb or #rrggbb when it was stored.
    let css = tenant
        .color
        .map(|c| format!(":root {{ --keepstar-color: {c}; }}\n"))
        .unwrap_or_default();
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/css; charset=utf-8")],
        css,
    )
        .into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Removal {
    confirm: String,
}

pub async fn remove(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(slug): Path<String>,
    Form(removal): Form<Removal>,
) -> Result<Response, ApiError> {
    let tenant = admin.owned_tenant(&state, &slug).await?;
    if removal.confirm.trim() != tenant.slug {
        let form = TenantForm::of(&tenant);
        let mut page =
            TenantPage::of(&state, &admin, lang, &tenant, form, Errors::default()).await?;
        page.remove_typed = Some(removal.confirm);
        return unprocessable(&page);
    }
    let actor = admin.actor();
    state
        .db
        .write(move |c| tenants::remove_audited(c, &actor, &slug))
        .await?;
    Ok(Redirect::to("/admin/tenants").into_response())
}
