//! `keepstar catalog import` and `keepstar kb import`: parse the whole file, then write it in
//! one transaction; any invalid row means nothing is imported.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;

use super::{Ctx, Failure, output};
use crate::import::{self, CatalogFormat, KbFormat, RowError};
use crate::store::{Db, catalog, kb, tenants};

#[derive(Debug, Args)]
pub struct ImportArgs {
    slug: String,
    /// CSV with a header row, a JSON array, or JSONL (catalog); Markdown or question,answer CSV (kb).
    file: PathBuf,
    /// Remove what the file does not contain.
    #[arg(long)]
    replace: bool,
    /// Check the file and report what would change, without changing anything.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Import products (upsert by SKU).
    Import(ImportArgs),
}

#[derive(Debug, Subcommand)]
pub enum KbCommand {
    /// Import knowledge-base entries (upsert by title): Markdown split by headings, or Q/A CSV.
    Import(ImportArgs),
}

fn read(file: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(file)
        .map_err(|e| Failure::new(format!("cannot read {}: {e}", file.display())).into())
}

/// Fails with a summary line followed by every row error.
fn refuse(file: &Path, errors: &[RowError]) -> anyhow::Error {
    let lines: String = errors.iter().map(|e| format!("\n  {e}")).collect();
    Failure::new(format!(
        "{} has {} invalid record(s); nothing was imported:{lines}",
        file.display(),
        errors.len()
    ))
    .hint("fix the lines above and run the import again (--dry-run checks without importing)")
    .into()
}

fn report(
    ctx: &Ctx,
    what: &str,
    slug: &str,
    dry_run: bool,
    summary: serde_json::Value,
) -> anyhow::Result<()> {
    if ctx.json {
        return output::json(&json!({ "tenant": slug, "dry_run": dry_run, "summary": summary }));
    }
    let n = |k: &str| summary[k].as_u64().unwrap_or(0);
    let verb = if dry_run { "would import" } else { "imported" };
    output::write_stdout(&format!(
        "{verb} {what} into {slug}: {} added, {} updated, {} unchanged, {} removed\n",
        n("added"),
        n("updated"),
        n("unchanged"),
        n("removed")
    ))
}

async fn write<T: serde::Serialize + Send + 'static>(
    db: &Db,
    dry_run: bool,
    f: impl FnOnce(&rusqlite::Transaction) -> crate::store::Result<T> + Send + 'static,
) -> anyhow::Result<serde_json::Value> {
    let value = if dry_run {
        db.rehearse(f).await?
    } else {
        db.write(f).await?
    };
    Ok(serde_json::to_value(value)?)
}

impl CatalogCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let CatalogCommand::Import(args) = self;
        let (_, db) = ctx.db()?;
        let content = read(&args.file)?;
        let slug = args.slug.clone();
        let tenant = db.read(move |c| tenants::get(c, &slug)).await?;
        let format = CatalogFormat::detect(&args.file, &content);
        let rows = import::parse_catalog(&content, format, &tenant.currency)
            .map_err(|e| refuse(&args.file, &e))?;
        let bar = ProgressBar::new(rows.len() as u64).with_style(
            ProgressStyle::with_template("{bar:40} {pos}/{len} products")
                .expect("progress template"),
        );
        let (actor, replace, file) = (ctx.actor(), args.replace, args.file.display().to_string());
        let progress = bar.clone();
        let summary = write(&db, args.dry_run, move |c| {
            let who = ((tenant.id, tenant.slug.as_str()), actor.as_str());
            catalog::import_logged(c, who, &rows, replace, &file, |n| {
                progress.set_position(n as u64)
            })
        })
        .await?;
        bar.finish_and_clear();
        report(ctx, "products", &args.slug, args.dry_run, summary)
    }
}

impl KbCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let KbCommand::Import(args) = self;
        let (_, db) = ctx.db()?;
        let content = read(&args.file)?;
        let slug = args.slug.clone();
        let tenant = db.read(move |c| tenants::get(c, &slug)).await?;
        let format = KbFormat::detect(&args.file, &content);
        let rows = import::parse_kb(&content, format).map_err(|e| refuse(&args.file, &e))?;
        let (actor, replace, file) = (ctx.actor(), args.replace, args.file.display().to_string());
        let summary = write(&db, args.dry_run, move |c| {
            let who = ((tenant.id, tenant.slug.as_str()), actor.as_str());
            kb::import_logged(c, who, &rows, replace, &file)
        })
        .await?;
        report(ctx, "entries", &args.slug, args.dry_run, summary)
    }
}
