use clap::{Args, Subcommand};
use serde_json::json;

use super::{Ctx, confirm, output};
use crate::origin::AllowedOrigin;
use crate::store::tenants::{self, Locale, Position, Provider, Tenant, TenantPatch};
use crate::store::{StoreError, audit};

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
    /// Visitor messages per minute across the tenant.
    #[arg(long, value_name = "N")]
    rate_limit: Option<String>,
    /// Delete conversations older than this many days.
    #[arg(long, value_name = "DAYS")]
    retention_days: Option<String>,
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

fn parse_origins(list: &[String]) -> Result<Vec<AllowedOrigin>, StoreError> {
    list.iter()
        .map(|o| AllowedOrigin::parse(o).map_err(StoreError::Invalid))
        .collect()
}

impl Branding {
    fn patch(self) -> Result<TenantPatch, StoreError> {
        Ok(TenantPatch {
            origins: if self.origins.is_empty() {
                None
            } else {
                Some(parse_origins(&self.origins)?)
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
        let adding = parse_origins(&self.add_origin)?;
        let removing = parse_origins(&self.remove_origin)?;
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
                        let t = tenants::insert(c, &args.slug, &args.name, &patch)?;
                        audit::record(
                            c,
                            audit::Entry {
                                tenant: Some((t.id, &t.slug)),
                                actor: &actor,
                                action: "tenant.add",
                                target: Some(&t.slug),
                                details: json!({ "name": t.name, "origins": t.origins }),
                            },
                        )?;
                        Ok(t)
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
                let tenant = db
                    .write(move |c| {
                        let current = tenants::get(c, &args.slug)?;
                        let slug = args.slug.clone();
                        let patch = args.patch(&current)?;
                        let t = tenants::update(c, &slug, &patch)?;
                        audit::record(
                            c,
                            audit::Entry {
                                tenant: Some((t.id, &t.slug)),
                                actor: &actor,
                                action: "tenant.set",
                                target: Some(&t.slug),
                                details: changes(&current, &t),
                            },
                        )?;
                        Ok(t)
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
                    .write(move |c| {
                        let t = tenants::remove(c, &slug)?;
                        audit::record(
                            c,
                            audit::Entry {
                                tenant: None,
                                actor: &actor,
                                action: "tenant.remove",
                                target: Some(&t.slug),
                                details: json!({ "name": t.name }),
                            },
                        )?;
                        Ok(t)
                    })
                    .await?;
                if ctx.json {
                    return output::json(&json!({ "removed": removed.slug }));
                }
                output::write_stdout(&format!("removed tenant {}\n", removed.slug))
            }
        }
    }
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
