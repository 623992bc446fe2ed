use std::path::PathBuf;

use serde_json::json;

use super::{Ctx, confirm, existing_db, output};
use crate::store::backup;

#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the copy.
    file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    force: bool,
}

impl BackupArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let config = ctx.config()?;
        let db = existing_db(&config)?;
        let file = self.file.clone();
        let bytes =
            tokio::task::spawn_blocking(move || backup::backup(&db, &file, self.force)).await??;
        if ctx.json {
            return output::json(&json!({ "file": self.file, "bytes": bytes }));
        }
        output::write_stdout(&format!("wrote {} ({bytes} bytes)\n", self.file.display()))
    }
}

#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// A file written by `keepstar backup`.
    file: PathBuf,
    /// Do not ask for confirmation.
    #[arg(long)]
    yes: bool,
}

impl RestoreArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let config = ctx.config()?;
        let db = config.db_path();
        backup::verify(&self.file)?;
        confirm(
            &format!("replace {} with {}?", db.display(), self.file.display()),
            self.yes,
        )?;
        let file = self.file.clone();
        let target = db.clone();
        let restored =
            tokio::task::spawn_blocking(move || backup::restore(&file, &target)).await??;
        if ctx.json {
            return output::json(
                &json!({ "file": self.file, "database": db, "restored": restored }),
            );
        }
        let mut text = format!("restored {} into {}\n", self.file.display(), db.display());
        if let Some(previous) = &restored.previous {
            text.push_str(&format!(
                "the replaced database is kept at {}\n",
                previous.display()
            ));
        }
        output::write_stdout(&text)
    }
}
