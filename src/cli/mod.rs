//! The `keepstar` command line: one file per subcommand group.

mod admin;
mod backup;
mod catalog;
mod doctor;
mod init;
mod key;
mod migrate;
mod output;
mod serve;
mod snippet;
mod tenant;

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::{Config, ConfigError, Overrides};
use crate::store::{Db, OnOpen, StoreError};
use crate::vocab::{Locale, Named, OverBudget, Position, Provider, Role};

/// A self-hosted AI chat widget: one binary, one script tag, answers from your own catalog.
#[derive(Debug, Parser)]
#[command(name = "keepstar", version, propagate_version = true)]
pub struct Cli {
    /// Config file.
    #[arg(
        long,
        global = true,
        env = "KEEPSTAR_CONFIG",
        default_value = "keepstar.toml"
    )]
    pub config: PathBuf,
    /// Data directory (overrides `data_dir` in the config).
    #[arg(long, global = true, env = "KEEPSTAR_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print machine-readable JSON on stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// More log output on stderr (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant, reason = "parsed once per process")]
pub enum Command {
    /// Write a new keepstar.toml with fresh secrets and create the database.
    Init(init::InitArgs),
    /// Run the server (migrates the database first).
    Serve(serve::ServeArgs),
    /// Create, list, show, change and remove tenants.
    #[command(subcommand)]
    Tenant(tenant::TenantCommand),
    /// Issue, list and revoke API keys.
    #[command(subcommand)]
    Key(key::KeyCommand),
    /// The team: owners and operators who use the admin, and their one-time sign-in links.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Import a tenant's product catalog.
    #[command(subcommand)]
    Catalog(catalog::CatalogCommand),
    /// Import a tenant's knowledge base (FAQ).
    #[command(subcommand)]
    Kb(catalog::KbCommand),
    /// Print the <script> tag a site pastes to embed the widget.
    Snippet(snippet::SnippetArgs),
    /// Apply pending database migrations.
    Migrate(migrate::MigrateArgs),
    /// Write a consistent copy of the database (safe while keepstar serves).
    Backup(backup::BackupArgs),
    /// Replace the database with a verified backup.
    Restore(backup::RestoreArgs),
    /// Check the config, the database, the listen port and every tenant's provider.
    Doctor(doctor::DoctorArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
}

#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    shell: clap_complete::Shell,
}

/// What every subcommand gets: the global flags and lazy access to config and database.
pub struct Ctx {
    pub config_path: PathBuf,
    pub overrides: Overrides,
    pub json: bool,
}

impl Ctx {
    pub fn config(&self) -> Result<Config, ConfigError> {
        Config::load(&self.config_path, &self.overrides)
    }

    /// Opens the database of the configured data dir; it must exist and be current.
    pub fn db(&self) -> anyhow::Result<(Config, Db)> {
        let config = self.config()?;
        let path = existing_db(&config)?;
        let db = Db::open(&path, OnOpen::RequireCurrent)?;
        Ok((config, db))
    }

    /// Who the audit log says did it.
    pub fn actor(&self) -> String {
        let user = std::env::var("USER").unwrap_or_default();
        if user.is_empty() {
            "cli".into()
        } else {
            format!("cli:{user}")
        }
    }
}

/// The configured database file, which must exist.
pub fn existing_db(config: &Config) -> anyhow::Result<PathBuf> {
    let path = config.db_path();
    if path.exists() {
        Ok(path)
    } else {
        Err(Failure::new(format!("no database at {}", path.display()))
            .hint("run `keepstar init`, or check data_dir in the config")
            .into())
    }
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let ctx = Ctx {
        config_path: cli.config,
        overrides: Overrides {
            data_dir: cli.data_dir,
            ..Overrides::default()
        },
        json: cli.json,
    };
    match cli.command {
        Command::Init(args) => args.run(&ctx).await,
        Command::Serve(args) => args.run(&ctx).await,
        Command::Catalog(cmd) => cmd.run(&ctx).await,
        Command::Kb(cmd) => cmd.run(&ctx).await,
        Command::Tenant(cmd) => cmd.run(&ctx).await,
        Command::Key(cmd) => cmd.run(&ctx).await,
        Command::Admin(cmd) => cmd.run(&ctx).await,
        Command::Snippet(args) => args.run(&ctx).await,
        Command::Migrate(args) => args.run(&ctx).await,
        Command::Backup(args) => args.run(&ctx).await,
        Command::Restore(args) => args.run(&ctx).await,
        Command::Doctor(args) => args.run(&ctx).await,
        Command::Completions(args) => {
            let mut out = Vec::new();
            clap_complete::generate(
                args.shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "keepstar",
                &mut out,
            );
            output::write_stdout(&String::from_utf8_lossy(&out))
        }
    }
}

/// A refusal with an optional hint line, for errors that do not come from a lower layer.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Failure {
    message: String,
    hint: Option<String>,
}

impl Failure {
    pub fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
        }
    }
    pub fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }
}

/// The `hint:` line for an error, where one helps.
pub fn hint(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|cause| {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.hint.clone();
        }
        if let Some(c) = cause.downcast_ref::<ConfigError>() {
            return c.hint.clone();
        }
        let store = cause.downcast_ref::<StoreError>().or_else(|| {
            match cause.downcast_ref::<crate::accounts::AccountError>()? {
                crate::accounts::AccountError::Store(e) => Some(e),
                _ => None,
            }
        });
        match store? {
            StoreError::Outdated { .. } => {
                Some("back up with `keepstar backup FILE`, then run `keepstar migrate`".into())
            }
            StoreError::TooNew { .. } => {
                Some("run the newer keepstar binary, or restore an older backup".into())
            }
            StoreError::NotFound(what) if what.starts_with("tenant") => {
                Some("`keepstar tenant list` shows the tenants".into())
            }
            StoreError::NotFound(what) if what.starts_with("admin") => {
                Some("`keepstar admin list` shows the team".into())
            }
            StoreError::NotFound(what) if what.starts_with("key") => {
                Some("`keepstar key list SLUG` shows a tenant's keys".into())
            }
            _ => None,
        }
    })
}

/// Asks a yes/no question on the terminal; without one, refuses unless `--yes` was given.
pub fn confirm(question: &str, yes: bool) -> anyhow::Result<()> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::new(format!("{question} needs confirmation"))
            .hint("pass --yes to confirm without a terminal")
            .into());
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Failure::new("cancelled").into())
    }
}

/// The vocabulary's words as flag values: `--locale ru`, `--provider openai`.
macro_rules! flag_values {
    ($($word:ty),*) => {$(
        impl clap::ValueEnum for $word {
            fn value_variants<'a>() -> &'a [Self] {
                <$word as Named>::ALL
            }
            fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
                Some(clap::builder::PossibleValue::new(self.as_str()))
            }
        }
    )*};
}
flag_values!(Locale, Provider, OverBudget, Position, Role);
