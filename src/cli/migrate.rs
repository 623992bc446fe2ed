use serde_json::json;

use super::{Ctx, output};
use crate::store;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {}

impl MigrateArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let config = ctx.config()?;
        let path = super::existing_db(&config)?;
        let applied = store::migrate(&mut store::connect(&path, false)?)?;
        if ctx.json {
            return output::json(&json!({ "database": path, "applied": applied }));
        }
        if applied.is_empty() {
            output::write_stdout(&format!("{} is up to date\n", path.display()))
        } else {
            let list: Vec<String> = applied.iter().map(|v| format!("V{v:03}")).collect();
            output::write_stdout(&format!(
                "applied {} to {}\n",
                list.join(", "),
                path.display()
            ))
        }
    }
}
