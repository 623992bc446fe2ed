use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use serde_json::json;

use super::{Ctx, Failure, output};
use crate::config::{self, Config, DB_FILE};
use crate::store::{Db, OnOpen};

#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Data directory for the database (written to the config as `data_dir`; default: `data`
    /// next to the config file).
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The URL visitors' browsers will reach keepstar at.
    #[arg(long, value_name = "URL", env = "KEEPSTAR_PUBLIC_URL")]
    public_url: Option<String>,
}

impl InitArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let path = &ctx.config_path;
        let config = create(path, self.dir.as_deref(), self.public_url.as_deref(), ctx)?;
        let db = config.db_path();
        if ctx.json {
            return output::json(&json!({
                "config": path, "database": db, "public_url": config.public_url,
            }));
        }
        output::write_stdout(&format!(
            "wrote {}\ncreated {}\nnext: keepstar tenant add SLUG --name NAME --origin https://your.site\n\
             and:  keepstar admin add you@your.site, then keepstar admin link you@your.site to sign in to the admin\n",
            path.display(),
            db.display()
        ))
    }
}

/// Writes a new config with fresh secrets and creates its database; refuses an existing config.
pub fn create(
    path: &Path,
    dir: Option<&Path>,
    public_url: Option<&str>,
    ctx: &Ctx,
) -> anyhow::Result<Config> {
    if path.exists() {
        return Err(Failure::new(format!("config {} already exists", path.display()))
            .hint("keepstar never overwrites a config; remove it first, or pass --config to write another")
            .into());
    }
    let public_url = config::normalize_public_url(
        public_url.unwrap_or(&format!("http://{}", config::DEFAULT_LISTEN)),
    )?;
    let data_dir = match dir {
        Some(dir) => data_dir_for(path, dir)?,
        None => PathBuf::from(config::DEFAULT_DATA_DIR),
    };
    write_new(path, &config::initial_file(&public_url, &data_dir))?;
    // Nothing half-done: without a database there is no config either.
    create_database(path, ctx).inspect_err(|_| {
        let _ = fs::remove_file(path);
    })
}

/// A `--dir` given on the command line (relative to the working directory) as the config should
/// spell it: relative to the config file when it lies below it, else absolute.
fn data_dir_for(config: &Path, dir: &Path) -> anyhow::Result<PathBuf> {
    if dir.is_absolute() {
        return Ok(dir.to_owned());
    }
    let cwd = std::env::current_dir()?;
    let config_dir = cwd.join(config.parent().unwrap_or(Path::new("")));
    let wanted = cwd.join(dir);
    Ok(wanted
        .strip_prefix(&config_dir)
        .map(Path::to_owned)
        .unwrap_or(wanted))
}

/// Creates the config file, private to its owner, refusing to replace one that appeared meanwhile.
fn write_new(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(parent) = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty() && !p.is_dir())
    {
        return Err(Failure::new(format!("directory {} does not exist", parent.display())).into());
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Failure::new(format!("cannot write config {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())?;
    file.sync_all()?;
    Ok(())
}

fn create_database(path: &Path, ctx: &Ctx) -> anyhow::Result<Config> {
    let config = Config::load(path, &ctx.overrides)?;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&config.data_dir)
        .map_err(|e| {
            Failure::new(format!(
                "cannot create data dir {}: {e}",
                config.data_dir.display()
            ))
        })?;
    let db = config.data_dir.join(DB_FILE);
    if db.exists() {
        tracing::warn!(path = %db.display(), "using the existing database");
    }
    Db::open(&db, OnOpen::Migrate)?;
    fs::set_permissions(&db, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(config)
}
