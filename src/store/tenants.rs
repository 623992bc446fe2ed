//! Tenants: a shop (or a site) with its branding, allowed origins and responder settings.

use std::fmt;

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::json;

use super::{Result, StoreError, audit, conflict_on_unique, json_column, now_ms};
use crate::origin::{AllowedOrigin, BadOrigin};
use crate::vocab::{Locale, OverBudget, Position, Provider};

/// A tenant as stored. Never holds a provider secret in clear.
#[derive(Debug, Clone, Serialize)]
pub struct Tenant {
    #[serde(skip)]
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub locale: Locale,
    pub currency: String,
    pub greeting: Option<String>,
    pub color: Option<String>,
    pub position: Position,
    pub logo_url: Option<String>,
    pub launcher_text: Option<String>,
    pub origins: Vec<AllowedOrigin>,
    pub provider: ProviderSettings,
    pub limits: Limits,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProviderSettings {
    pub kind: Provider,
    pub model: Option<String>,
    pub base_url: Option<String>,
    /// The name of the environment variable that holds the provider key (not the key).
    pub api_key_env: Option<String>,
    /// Whether an encrypted provider key is stored.
    pub api_key_stored: bool,
    pub webhook_url: Option<String>,
    pub system_prompt: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<i64>,
    /// Price of 1 000 prompt tokens, in millionths of the billing currency.
    pub price_prompt_micros: Option<i64>,
    /// Price of 1 000 completion tokens, in millionths of the billing currency.
    pub price_completion_micros: Option<i64>,
}

impl ProviderSettings {
    /// What `prompt` and `completion` tokens cost, in millionths (rounded up).
    pub fn cost_micros(&self, prompt: i64, completion: i64) -> i64 {
        let part = |tokens: i64, price: Option<i64>| -> i64 {
            (tokens.max(0) * price.unwrap_or(0).max(0) + 999) / 1000
        };
        part(prompt, self.price_prompt_micros) + part(completion, self.price_completion_micros)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Limits {
    pub rate_limit_per_minute: Option<i64>,
    pub monthly_budget_micros: Option<i64>,
    pub over_budget: OverBudget,
    pub retention_days: Option<i64>,
}

/// A change to a tenant; `None` leaves a field as it is, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub locale: Option<Locale>,
    pub currency: Option<String>,
    pub greeting: Option<Option<String>>,
    pub color: Option<Option<String>>,
    pub position: Option<Position>,
    pub logo_url: Option<Option<String>>,
    pub launcher_text: Option<Option<String>>,
    pub origins: Option<Vec<AllowedOrigin>>,
    pub provider: Option<Provider>,
    pub model: Option<Option<String>>,
    pub base_url: Option<Option<String>>,
    pub api_key_env: Option<Option<String>>,
    pub webhook_url: Option<Option<String>>,
    pub system_prompt: Option<Option<String>>,
    pub temperature: Option<Option<f64>>,
    pub max_tokens: Option<Option<i64>>,
    pub price_prompt_micros: Option<Option<i64>>,
    pub price_completion_micros: Option<Option<i64>>,
    /// A provider key sealed for this tenant (see `crate::seal`), or `Some(None)` to forget it.
    pub api_key_sealed: Option<Option<Vec<u8>>>,
    pub rate_limit_per_minute: Option<Option<i64>>,
    pub monthly_budget_micros: Option<Option<i64>>,
    pub over_budget: Option<OverBudget>,
    pub retention_days: Option<Option<i64>>,
}

/// Checks a slug against `[a-z0-9-]{2,40}`.
pub fn validate_slug(slug: &str) -> Result<(), Problem> {
    let ok = (2..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(Problem::new("slug", Wrong::Slug(slug.to_owned())))
    }
}

/// A value keepstar cannot use: which field, and what is wrong with it. It reads (`Display`)
/// as the CLI's sentence, and becomes `StoreError::Invalid` with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The `TenantPatch` field's name (`"color"`, `"rate_limit_per_minute"`), or `"slug"`.
    pub field: &'static str,
    pub wrong: Wrong,
}

/// What is wrong with a value, with what a sentence about it needs.
#[derive(Debug, Clone, PartialEq)]
pub enum Wrong {
    /// Not `[a-z0-9-]{2,40}`.
    Slug(String),
    /// Blank, or longer than 100 characters.
    Name(String),
    /// Not three capital letters.
    Currency(String),
    /// Not `#rgb` or `#rrggbb`.
    Color(String),
    /// A text longer than `max` characters.
    TooLong {
        max: usize,
    },
    /// Not an http(s) URL with a host.
    Url(String),
    /// Not an environment variable's name.
    EnvName(String),
    /// One of keepstar's own environment variables.
    OwnEnv(String),
    /// Outside 0 to 2.
    Temperature(f64),
    /// Outside 1 to `max`.
    OutOfRange {
        value: i64,
        max: i64,
    },
    /// Not an amount such as 0.0006 (the text, trimmed).
    Amount(String),
    Origin(BadOrigin),
}

impl Problem {
    fn new(field: &'static str, wrong: Wrong) -> Problem {
        Problem { field, wrong }
    }
}

/// A field as the CLI's sentences name it.
fn noun(field: &str) -> &str {
    match field {
        "launcher_text" => "launcher text",
        "system_prompt" => "system prompt",
        "logo_url" => "logo URL",
        "base_url" => "base URL",
        "webhook_url" => "webhook URL",
        "max_tokens" => "max tokens",
        "rate_limit_per_minute" => "rate limit",
        "retention_days" => "retention days",
        "price_prompt_micros" => "prompt price",
        "price_completion_micros" => "completion price",
        "monthly_budget_micros" => "monthly budget",
        other => other,
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = noun(self.field);
        match &self.wrong {
            Wrong::Slug(slug) => write!(
                f,
                "invalid slug {slug:?}: use 2-40 characters from a-z, 0-9 and '-'"
            ),
            Wrong::Name(name) => write!(f, "invalid name {name:?}: use 1-100 characters"),
            Wrong::Currency(cur) => write!(
                f,
                "invalid currency {cur:?}: use an ISO 4217 code such as USD or RUB"
            ),
            Wrong::Color(color) => write!(f, "invalid color {color:?}: use #rgb or #rrggbb"),
            Wrong::TooLong { max } => {
                write!(f, "the {what} is too long: at most {max} characters")
            }
            Wrong::Url(u) => write!(f, "invalid {what} {u:?}: use an http(s) URL"),
            Wrong::EnvName(var) => write!(
                f,
                "invalid environment variable name {var:?}: use A-Z, 0-9 and _ (the name, not the key itself)"
            ),
            Wrong::OwnEnv(var) => write!(
                f,
                "the variable {var:?} holds keepstar's own settings: name one of your own, e.g. SHOP_OPENAI_KEY"
            ),
            Wrong::Temperature(t) => write!(f, "invalid temperature {t}: use 0 to 2"),
            Wrong::OutOfRange { value, max } => {
                write!(f, "invalid {what} {value}: use 1 to {max}")
            }
            Wrong::Amount(text) => write!(
                f,
                "invalid {what} {text:?}: expected an amount such as 0.0006 (at most 6 decimals)"
            ),
            Wrong::Origin(bad) => write!(f, "{bad}"),
        }
    }
}

impl From<Problem> for StoreError {
    fn from(p: Problem) -> StoreError {
        StoreError::Invalid(p.to_string())
    }
}

impl TenantPatch {
    /// Checks every value the patch sets; the first problem is the error.
    pub fn validate(&self) -> Result<()> {
        match self.problems().into_iter().next() {
            Some(p) => Err(p.into()),
            None => Ok(()),
        }
    }

    /// Every value the patch sets that keepstar cannot use, in field order.
    pub fn problems(&self) -> Vec<Problem> {
        let mut found = Vec::new();
        let mut bad = |field: &'static str, wrong: Wrong| found.push(Problem::new(field, wrong));
        let set = |v: &Option<Option<String>>| v.clone().flatten();
        if let Some(name) = self
            .name
            .as_ref()
            .filter(|n| n.trim().is_empty() || n.chars().count() > 100)
        {
            bad("name", Wrong::Name(name.clone()));
        }
        if let Some(cur) = (self.currency.as_ref())
            .filter(|c| c.len() != 3 || !c.bytes().all(|b| b.is_ascii_uppercase()))
        {
            bad("currency", Wrong::Currency(cur.clone()));
        }
        if let Some(color) = set(&self.color) {
            let hex = color.strip_prefix('#').unwrap_or("");
            if !matches!(hex.len(), 3 | 6) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                bad("color", Wrong::Color(color));
            }
        }
        for (field, text, max) in [
            ("greeting", set(&self.greeting), 500),
            ("launcher_text", set(&self.launcher_text), 40),
            ("model", set(&self.model), 200),
            ("system_prompt", set(&self.system_prompt), 20_000),
        ] {
            if text.is_some_and(|t| t.chars().count() > max) {
                bad(field, Wrong::TooLong { max });
            }
        }
        for (field, url) in [
            ("logo_url", set(&self.logo_url)),
            ("base_url", set(&self.base_url)),
            ("webhook_url", set(&self.webhook_url)),
        ] {
            if let Some(u) = url {
                let ok = url::Url::parse(&u)
                    .is_ok_and(|p| matches!(p.scheme(), "http" | "https") && p.host().is_some());
                if !ok {
                    bad(field, Wrong::Url(u));
                }
            }
        }
        if let Some(var) = set(&self.api_key_env) {
            let ok = var.starts_with(|c: char| c.is_ascii_uppercase() || c == '_')
                && var
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
            if !ok {
                bad("api_key_env", Wrong::EnvName(var));
            } else if var.starts_with("KEEPSTAR_") {
                // keepstar's own secrets live there; a provider would be sent them.
                bad("api_key_env", Wrong::OwnEnv(var));
            }
        }
        if let Some(Some(t)) = self
            .temperature
            .filter(|t| t.is_some_and(|t| !(0.0..=2.0).contains(&t)))
        {
            bad("temperature", Wrong::Temperature(t));
        }
        for (field, value, max) in [
            ("max_tokens", self.max_tokens, 200_000),
            ("rate_limit_per_minute", self.rate_limit_per_minute, 100_000),
            ("retention_days", self.retention_days, 36_500),
            (
                "price_prompt_micros",
                self.price_prompt_micros,
                1_000_000_000,
            ),
            (
                "price_completion_micros",
                self.price_completion_micros,
                1_000_000_000,
            ),
            (
                "monthly_budget_micros",
                self.monthly_budget_micros,
                1_000_000_000_000,
            ),
        ] {
            if let Some(Some(v)) = value.filter(|v| v.is_some_and(|v| !(1..=max).contains(&v))) {
                bad(field, Wrong::OutOfRange { value: v, max });
            }
        }
        found
    }
}

/// An amount such as `0.00015` (a price or a budget, the `TenantPatch` field `field`) in
/// millionths of the billing currency.
pub fn parse_amount(field: &'static str, text: &str) -> Result<i64, Problem> {
    let s = text.trim();
    let invalid = || Problem::new(field, Wrong::Amount(s.to_owned()));
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 6
        || !whole
            .bytes()
            .chain(frac.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let frac: i64 = format!("{frac:0<6}").parse().map_err(|_| invalid())?;
    whole
        .checked_mul(1_000_000)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(invalid)
}

/// Millionths as an amount: 150 → `0.00015`.
pub fn format_amount(micros: i64) -> String {
    let text = format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Allowed origins as an admin types them, one per entry.
pub fn parse_origins<S: AsRef<str>>(list: &[S]) -> Result<Vec<AllowedOrigin>, Problem> {
    list.iter()
        .map(|o| {
            AllowedOrigin::parse(o.as_ref()).map_err(|e| Problem::new("origins", Wrong::Origin(e)))
        })
        .collect()
}

const COLUMNS: &str = "id, slug, name, locale, currency, greeting, color, position, logo_url, launcher_text, \
    origins, provider, model, base_url, api_key_env, api_key_sealed IS NOT NULL, webhook_url, system_prompt, \
    temperature, max_tokens, rate_limit_per_minute, monthly_budget_micros, retention_days, created_at, updated_at, \
    price_prompt_micros, price_completion_micros, over_budget";

fn from_row(r: &Row) -> rusqlite::Result<Tenant> {
    Ok(Tenant {
        id: r.get(0)?,
        slug: r.get(1)?,
        name: r.get(2)?,
        locale: r.get(3)?,
        currency: r.get(4)?,
        greeting: r.get(5)?,
        color: r.get(6)?,
        position: r.get(7)?,
        logo_url: r.get(8)?,
        launcher_text: r.get(9)?,
        origins: json_column(r, 10)?,
        provider: ProviderSettings {
            kind: r.get(11)?,
            model: r.get(12)?,
            base_url: r.get(13)?,
            api_key_env: r.get(14)?,
            api_key_stored: r.get(15)?,
            webhook_url: r.get(16)?,
            system_prompt: r.get(17)?,
            temperature: r.get(18)?,
            max_tokens: r.get(19)?,
            price_prompt_micros: r.get(25)?,
            price_completion_micros: r.get(26)?,
        },
        limits: Limits {
            rate_limit_per_minute: r.get(20)?,
            monthly_budget_micros: r.get(21)?,
            over_budget: r.get(27)?,
            retention_days: r.get(22)?,
        },
        created_at: r.get(23)?,
        updated_at: r.get(24)?,
    })
}

/// Creates a tenant from a slug, a name and the fields of `patch`.
pub fn insert(c: &Connection, slug: &str, name: &str, patch: &TenantPatch) -> Result<Tenant> {
    validate_slug(slug)?;
    let patch = TenantPatch {
        name: Some(name.to_owned()),
        ..patch.clone()
    };
    patch.validate()?;
    let now = now_ms();
    let locale = patch.locale.unwrap_or(Locale::En);
    let currency = patch
        .currency
        .clone()
        .unwrap_or_else(|| locale.default_currency().to_owned());
    c.prepare_cached(        "INSERT INTO tenants (slug, name, locale, currency, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)")?.execute(
        params![slug, name, locale.as_str(), currency, now],
    )
    .map_err(|e| conflict_on_unique(e, || format!("tenant {slug:?} already exists")))?;
    update(c, slug, &patch)
}

/// Applies `patch` to the tenant `slug`.
pub fn update(c: &Connection, slug: &str, patch: &TenantPatch) -> Result<Tenant> {
    patch.validate()?;
    let tenant = get(c, slug)?;
    let p = patch;
    macro_rules! set {
        ($($field:ident = $value:expr),* $(,)?) => {$(
            if let Some(v) = $value {
                c.execute(
                    concat!("UPDATE tenants SET ", stringify!($field), " = ?1 WHERE id = ?2"),
                    params![v, tenant.id],
                )?;
            }
        )*};
    }
    set!(
        name = &p.name,
        locale = p.locale.map(Locale::as_str),
        currency = &p.currency,
        greeting = &p.greeting,
        color = &p.color,
        position = p.position.map(Position::as_str),
        logo_url = &p.logo_url,
        launcher_text = &p.launcher_text,
        origins = p
            .origins
            .as_ref()
            .map(|o| serde_json::to_string(o).expect("origins serialise")),
        provider = p.provider.map(Provider::as_str),
        model = &p.model,
        base_url = &p.base_url,
        api_key_env = &p.api_key_env,
        webhook_url = &p.webhook_url,
        system_prompt = &p.system_prompt,
        temperature = &p.temperature,
        max_tokens = &p.max_tokens,
        price_prompt_micros = &p.price_prompt_micros,
        price_completion_micros = &p.price_completion_micros,
        api_key_sealed = &p.api_key_sealed,
        rate_limit_per_minute = &p.rate_limit_per_minute,
        monthly_budget_micros = &p.monthly_budget_micros,
        over_budget = p.over_budget.map(OverBudget::as_str),
        retention_days = &p.retention_days,
    );
    c.prepare_cached("UPDATE tenants SET updated_at = ?1 WHERE id = ?2")?
        .execute(params![now_ms(), tenant.id])?;
    get(c, slug)
}

/// The tenant `slug`, or `NotFound`.
pub fn get(c: &Connection, slug: &str) -> Result<Tenant> {
    find(c, slug)?.ok_or_else(|| StoreError::NotFound(format!("tenant {slug:?}")))
}

pub fn find(c: &Connection, slug: &str) -> Result<Option<Tenant>> {
    Ok(
        c.prepare_cached(&format!("SELECT {COLUMNS} FROM tenants WHERE slug = ?1"))?
            .query_row([slug], from_row)
            .optional()?,
    )
}

pub fn get_by_id(c: &Connection, id: i64) -> Result<Tenant> {
    c.prepare_cached(&format!("SELECT {COLUMNS} FROM tenants WHERE id = ?1"))?
        .query_row([id], from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound("tenant".into()))
}

pub fn list(c: &Connection) -> Result<Vec<Tenant>> {
    let mut stmt = c.prepare(&format!("SELECT {COLUMNS} FROM tenants ORDER BY slug"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Removes a tenant and, by cascade, every row it owns.
pub fn remove(c: &Connection, slug: &str) -> Result<Tenant> {
    let tenant = get(c, slug)?;
    c.prepare_cached("DELETE FROM tenants WHERE id = ?1")?
        .execute([tenant.id])?;
    Ok(tenant)
}

/// `insert`, recorded in the audit log as done by `actor`.
pub fn insert_audited(
    c: &Connection,
    actor: &str,
    slug: &str,
    name: &str,
    patch: &TenantPatch,
) -> Result<Tenant> {
    let t = insert(c, slug, name, patch)?;
    audit::record(
        c,
        audit::Entry {
            tenant: Some((t.id, &t.slug)),
            actor,
            action: "tenant.add",
            target: Some(&t.slug),
            details: json!({ "name": t.name, "origins": t.origins }),
        },
    )?;
    Ok(t)
}

/// `update`, recorded in the audit log as done by `actor` with the settings that changed.
pub fn update_audited(
    c: &Connection,
    actor: &str,
    slug: &str,
    patch: &TenantPatch,
) -> Result<Tenant> {
    let before = get(c, slug)?;
    let t = update(c, slug, patch)?;
    audit::record(
        c,
        audit::Entry {
            tenant: Some((t.id, &t.slug)),
            actor,
            action: "tenant.set",
            target: Some(&t.slug),
            // Whether a key is stored shows as `api_key_stored`, never the key.
            details: changes(&before, &t),
        },
    )?;
    Ok(t)
}

/// `remove`, recorded in the audit log (which outlives the tenant) as done by `actor`.
pub fn remove_audited(c: &Connection, actor: &str, slug: &str) -> Result<Tenant> {
    let t = remove(c, slug)?;
    audit::record(
        c,
        audit::Entry {
            tenant: None,
            actor,
            action: "tenant.remove",
            target: Some(&t.slug),
            details: json!({ "name": t.name }),
        },
    )?;
    Ok(t)
}

/// The settings that differ, for the audit log (never secrets: tenants hold none in clear).
fn changes(before: &Tenant, after: &Tenant) -> serde_json::Value {
    let (b, a) = (json!(before), json!(after));
    let mut diff = serde_json::Map::new();
    if let (Some(b), Some(a)) = (b.as_object(), a.as_object()) {
        for (k, v) in a {
            if k != "updated_at" && b.get(k) != Some(v) {
                diff.insert(k.clone(), v.clone());
            }
        }
    }
    serde_json::Value::Object(diff)
}

/// Counts of what a tenant owns, shown before removal and by `tenant show`.
#[derive(Debug, Clone, Serialize)]
pub struct TenantCounts {
    pub keys: i64,
    pub products: i64,
    pub kb_entries: i64,
    pub visitors: i64,
    pub conversations: i64,
    pub messages: i64,
}

pub fn counts(c: &Connection, tenant_id: i64) -> Result<TenantCounts> {
    let count = |table: &str| -> Result<i64> {
        Ok(c.prepare_cached(&format!(
            "SELECT count(*) FROM {table} WHERE tenant_id = ?1"
        ))?
        .query_row([tenant_id], |r| r.get(0))?)
    };
    Ok(TenantCounts {
        keys: count("api_keys")?,
        products: count("products")?,
        kb_entries: count("kb_entries")?,
        visitors: count("visitors")?,
        conversations: count("conversations")?,
        messages: count("messages")?,
    })
}

/// The tenant's sealed provider key, if one is stored.
pub fn sealed_key(c: &Connection, tenant_id: i64) -> Result<Option<Vec<u8>>> {
    Ok(
        c.prepare_cached("SELECT api_key_sealed FROM tenants WHERE id = ?1")?
            .query_row([tenant_id], |r| r.get(0))
            .optional()?
            .flatten(),
    )
}
