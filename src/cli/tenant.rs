use clap::{Args, Subcommand};
use serde_json::json;

use std::io::Read;

use super::{Ctx, Failure, confirm, output};
use crate::origin::AllowedOrigin;
use crate::seal::Sealer;
use crate::store::StoreError;
use crate::store::tenants::{self, Tenant, TenantPatch};
use crate::vocab::Secret;
use crate::vocab::{Locale, OverBudget, Position, Provider};

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per process")]
pub enum TenantCommand {
    /// Create a tenant.
    Add(AddArgs),
    /// List tenants.
    List,
    /// Show one tenant's settings.
    Show { slug: String },
    /// Change a tenant's settings (an empty value clears an optional setting).
    Set(SetArgs),
    /// Remove a tenant and everything it owns.
    Remove {
        slug: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// The settings `add` and `set` share.
#[derive(Debug, Args)]
pub struct Branding {
    /// An origin allowed to embed the widget, e.g. https://shop.example or https://*.shop.example
    /// (repeat for several; on `set` the list replaces the current one).
    #[arg(long = "origin", value_name = "URL")]
    origins: Vec<String>,
    #[arg(long)]
    locale: Option<Locale>,
    /// ISO 4217 code of catalog prices (default: USD for en, RUB for ru).
    #[arg(long)]
    currency: Option<String>,
    /// The first message a visitor sees.
    #[arg(long)]
    greeting: Option<String>,
    /// Brand colour, #rgb or #rrggbb.
    #[arg(long, value_name = "HEX")]
    color: Option<String>,
    /// Which side of the page the launcher sits on.
    #[arg(long)]
    position: Option<Position>,
    #[arg(long, value_name = "URL")]
    logo_url: Option<String>,
    /// Text next to the launcher button.
    #[arg(long, value_name = "TEXT")]
    launcher_text: Option<String>,
}

#[derive(Debug, Args)]
pub struct AddArgs {
    slug: String,
    /// Display name, shown as the chat title.
    #[arg(long)]
    name: String,
    #[command(flatten)]
    branding: Branding,
}

#[derive(Debug, Args)]
pub struct SetArgs {
    slug: String,
    #[arg(long)]
    name: Option<String>,
    #[command(flatten)]
    branding: Branding,
    /// Add one allowed origin to the current list.
    #[arg(long, value_name = "URL", conflicts_with = "origins")]
    add_origin: Vec<String>,
    /// Remove one allowed origin from the current list.
    #[arg(long, value_name = "URL", conflicts_with = "origins")]
    remove_origin: Vec<String>,
    /// Who answers visitors.
    #[arg(long)]
    provider: Option<Provider>,
    /// Model name for openai / anthropic.
    #[arg(long)]
    model: Option<String>,
    /// Base URL of an OpenAI-compatible or Anthropic API.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// The NAME of the environment variable that holds the provider's API key.
    #[arg(long, value_name = "VAR")]
    api_key_env: Option<String>,
    /// The n8n or webhook endpoint.
    #[arg(long, value_name = "URL")]
    webhook_url: Option<String>,
    #[arg(long, value_name = "TEXT")]
    system_prompt: Option<String>,
    #[arg(long, value_name = "0..2")]
    temperature: Option<String>,
    #[arg(long, value_name = "N")]
    max_tokens: Option<String>,
    /// Read the provider's API key from stdin and store it encrypted with the config's encryption_key
    /// (a key named by --api-key-env is used first when both are set).
    #[arg(long)]
    api_key_stdin: bool,
    /// Delete the stored provider key.
    #[arg(long, conflicts_with = "api_key_stdin")]
    forget_api_key: bool,
    /// What 1 000 prompt tokens cost, e.g. 0.00015 (for the monthly budget and spend figures).
    #[arg(long, value_name = "AMOUNT")]
    price_prompt: Option<String>,
    /// What 1 000 completion tokens cost, e.g. 0.0006.
    #[arg(long, value_name = "AMOUNT")]
    price_completion: Option<String>,
    /// The most the LLM may cost per calendar month (UTC), in the same unit as the prices.
    #[arg(long, value_name = "AMOUNT")]
    monthly_budget: Option<String>,
    /// Who answers once the monthly budget is spent: the offline builtin responder, or a short
    /// notice that hands the chat to the team.
    #[arg(long)]
    over_budget: Option<OverBudget>,
    /// Visitor messages per minute across the tenant.
    #[arg(long, value_name = "N")]
    rate_limit: Option<String>,
    /// Delete conversations older than this many days.
    #[arg(long, value_name = "DAYS")]
    retention_days: Option<String>,
}

/// An amount such as `0.00015` in millionths, for the `TenantPatch` field `field`; `""` clears it.
fn micros(field: &'static str, v: Option<String>) -> Result<Option<Option<i64>>, StoreError> {
    clearable(v)
        .map(|v| v.map(|s| tenants::parse_amount(field, &s)).transpose())
        .transpose()
        .map_err(StoreError::from)
}

/// `Some("")` clears an optional setting.
fn clearable(v: Option<String>) -> Option<Option<String>> {
    v.map(|s| if s.trim().is_empty() { None } else { Some(s) })
}

/// A numeric setting; `""` clears it.
fn number<T: std::str::FromStr>(
    what: &str,
    v: Option<String>,
) -> Result<Option<Option<T>>, StoreError> {
    match clearable(v) {
        None => Ok(None),
        Some(None) => Ok(Some(None)),
        Some(Some(s)) => {
            s.trim().parse().map(|n| Some(Some(n))).map_err(|_| {
                StoreError::Invalid(format!("invalid {what} {s:?}: expected a number"))
            })
        }
    }
}

impl Branding {
    fn patch(self) -> Result<TenantPatch, StoreError> {
        Ok(TenantPatch {
            origins: if self.origins.is_empty() {
                None
            } else {
                Some(tenants::parse_origins(&self.origins)?)
            },
            locale: self.locale,
            currency: self.currency.map(|c| c.trim().to_ascii_uppercase()),
            greeting: clearable(self.greeting),
            color: clearable(self.color),
            position: self.position,
            logo_url: clearable(self.logo_url),
            launcher_text: clearable(self.launcher_text),
            ..TenantPatch::default()
        })
    }
}

impl SetArgs {
    fn patch(self, current: &Tenant) -> Result<TenantPatch, StoreError> {
        let adding = tenants::parse_origins(&self.add_origin)?;
        let removing = tenants::parse_origins(&self.remove_origin)?;
        let mut patch = self.branding.patch()?;
        if !adding.is_empty() || !removing.is_empty() {
            if let Some(missing) = removing.iter().find(|o| !current.origins.contains(o)) {
                return Err(StoreError::Invalid(format!(
                    "{missing} is not an allowed origin of {:?}",
                    current.slug
                )));
            }
            let mut origins: Vec<AllowedOrigin> = current
                .origins
                .iter()
                .filter(|o| !removing.contains(o))
                .cloned()
                .collect();
            origins.extend(adding.into_iter().filter(|o| !current.origins.contains(o)));
            patch.origins = Some(origins);
        }
        patch.name = self.name;
        patch.provider = self.provider;
        patch.model = clearable(self.model);
        patch.base_url = clearable(self.base_url);
        patch.api_key_env = clearable(self.api_key_env);
        patch.webhook_url = clearable(self.webhook_url);
        patch.system_prompt = clearable(self.system_prompt);
        patch.temperature = number("temperature", self.temperature)?;
        patch.max_tokens = number("max tokens", self.max_tokens)?;
        patch.rate_limit_per_minute = number("rate limit", self.rate_limit)?;
        patch.retention_days = number("retention days", self.retention_days)?;
        patch.price_prompt_micros = micros("price_prompt_micros", self.price_prompt)?;
        patch.price_completion_micros = micros("price_completion_micros", self.price_completion)?;
        patch.monthly_budget_micros = micros("monthly_budget_micros", self.monthly_budget)?;
        patch.over_budget = self.over_budget;
        if self.forget_api_key {
            patch.api_key_sealed = Some(None);
        }
        Ok(patch)
    }
}

impl TenantCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let (_, db) = ctx.db()?;
        let actor = ctx.actor();
        match self {
            TenantCommand::Add(args) => {
                let patch = args.branding.patch()?;
                let tenant = db
                    .write(move |c| {
                        tenants::insert_audited(c, &actor, &args.slug, &args.name, &patch)
                    })
                    .await?;
                show(ctx, &tenant)
            }
            TenantCommand::List => {
                let list = db.read(tenants::list).await?;
                if ctx.json {
                    return output::json(&list);
                }
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|t| {
                        vec![
                            t.slug.clone(),
                            t.name.clone(),
                            t.locale.as_str().into(),
                            t.provider.kind.as_str().into(),
                            origins_text(t),
                            output::time(Some(t.created_at)),
                        ]
                    })
                    .collect();
                output::table(
                    &["SLUG", "NAME", "LOCALE", "PROVIDER", "ORIGINS", "CREATED"],
                    &rows,
                )
            }
            TenantCommand::Show { slug } => {
                let tenant = db.read(move |c| tenants::get(c, &slug)).await?;
                show(ctx, &tenant)
            }
            TenantCommand::Set(args) => {
                let key = if args.api_key_stdin {
                    Some(read_key(ctx)?)
                } else {
                    None
                };
                let tenant = db
                    .write(move |c| {
                        let current = tenants::get(c, &args.slug)?;
                        let slug = args.slug.clone();
                        let mut patch = args.patch(&current)?;
                        if let Some((sealer, key)) = &key {
                            patch.api_key_sealed =
                                Some(Some(sealer.seal(current.id, key.expose())));
                        }
                        tenants::update_audited(c, &actor, &slug, &patch)
                    })
                    .await?;
                show(ctx, &tenant)
            }
            TenantCommand::Remove { slug, yes } => {
                let (tenant, counts) = {
                    let slug = slug.clone();
                    db.read(move |c| {
                        let t = tenants::get(c, &slug)?;
                        let n = tenants::counts(c, t.id)?;
                        Ok((t, n))
                    })
                    .await?
                };
                confirm(
                    &format!(
                        "remove tenant {:?} with {} product(s), {} conversation(s) and {} key(s)?",
                        tenant.slug, counts.products, counts.conversations, counts.keys
                    ),
                    yes,
                )?;
                let removed = db
                    .write(move |c| tenants::remove_audited(c, &actor, &slug))
                    .await?;
                if ctx.json {
                    return output::json(&json!({ "removed": removed.slug }));
                }
                output::write_stdout(&format!("removed tenant {}\n", removed.slug))
            }
        }
    }
}

/// The provider key from stdin, and the sealer that will store it.
fn read_key(ctx: &Ctx) -> anyhow::Result<(Sealer, Secret)> {
    let config = ctx.config()?;
    let Some(encryption_key) = &config.encryption_key else {
        return Err(Failure::new("no encryption_key is configured, so a key cannot be stored")
            .hint("set encryption_key in keepstar.toml (KEEPSTAR_ENCRYPTION_KEY), or name an environment variable with --api-key-env")
            .into());
    };
    let mut key = String::new();
    std::io::stdin().read_to_string(&mut key)?;
    let key = key.trim();
    if key.is_empty() {
        return Err(Failure::new("no key on stdin")
            .hint("pipe it in, e.g. `keepstar tenant set shop --api-key-stdin < key.txt`")
            .into());
    }
    Ok((Sealer::new(encryption_key), Secret::new(key.to_owned())))
}

fn origins_text(t: &Tenant) -> String {
    if t.origins.is_empty() {
        "-".into()
    } else {
        t.origins
            .iter()
            .map(AllowedOrigin::as_str)
            .collect::<Vec<_>>()
            .join(",")
    }
}

fn show(ctx: &Ctx, t: &Tenant) -> anyhow::Result<()> {
    if ctx.json {
        return output::json(t);
    }
    let o = output::opt;
    let p = &t.provider;
    output::fields(&[
        ("slug", t.slug.clone()),
        ("name", t.name.clone()),
        ("locale", t.locale.as_str().into()),
        ("currency", t.currency.clone()),
        ("origins", origins_text(t)),
        ("greeting", o(&t.greeting)),
        ("color", o(&t.color)),
        ("position", t.position.as_str().into()),
        ("logo url", o(&t.logo_url)),
        ("launcher text", o(&t.launcher_text)),
        ("provider", p.kind.as_str().into()),
        ("model", o(&p.model)),
        ("base url", o(&p.base_url)),
        ("api key env", o(&p.api_key_env)),
        ("webhook url", o(&p.webhook_url)),
        ("system prompt", o(&p.system_prompt)),
        ("temperature", o(&p.temperature.map(|v| v.to_string()))),
        ("max tokens", o(&p.max_tokens.map(|v| v.to_string()))),
        (
            "api key",
            match (&p.api_key_env, p.api_key_stored) {
                (Some(var), _) => format!("from ${var}"),
                (None, true) => "stored, encrypted".into(),
                (None, false) => "-".into(),
            },
        ),
        (
            "price / 1k tokens",
            match (p.price_prompt_micros, p.price_completion_micros) {
                (None, None) => "-".into(),
                (i, o) => format!(
                    "{} prompt, {} completion",
                    tenants::format_amount(i.unwrap_or(0)),
                    tenants::format_amount(o.unwrap_or(0))
                ),
            },
        ),
        (
            "monthly budget",
            o(&t.limits.monthly_budget_micros.map(|b| {
                format!(
                    "{} (then {})",
                    tenants::format_amount(b),
                    t.limits.over_budget.as_str()
                )
            })),
        ),
        (
            "rate limit",
            o(&t.limits.rate_limit_per_minute.map(|v| format!("{v}/min"))),
        ),
        (
            "retention",
            o(&t.limits.retention_days.map(|v| format!("{v} days"))),
        ),
        ("created", output::time(Some(t.created_at))),
        ("updated", output::time(Some(t.updated_at))),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_exact_millionths() {
        let m = |s: &str| micros("price", Some(s.into()));
        assert_eq!(m("0.00015").unwrap(), Some(Some(150)));
        assert_eq!(m("12").unwrap(), Some(Some(12_000_000)));
        assert_eq!(m(".5").unwrap(), Some(Some(500_000)));
        assert_eq!(m("").unwrap(), Some(None));
        assert_eq!(micros("price", None).unwrap(), None);
        for bad in ["0.0000001", "-1", "1e3", "1,5", "."] {
            assert!(m(bad).is_err(), "{bad}");
        }
        assert_eq!(tenants::format_amount(150), "0.00015");
        assert_eq!(tenants::format_amount(12_000_000), "12");
        assert_eq!(tenants::format_amount(1_500_000), "1.5");
    }
}
