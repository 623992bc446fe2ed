use serde_json::json;

use super::{Ctx, Failure, output};
use crate::store::keys::{self, KeyKind};
use crate::store::{StoreError, tenants};

#[derive(Debug, clap::Args)]
pub struct SnippetArgs {
    slug: String,
    /// Embed this public key instead of the tenant's newest active one.
    #[arg(long, value_name = "KEY_ID")]
    key: Option<String>,
}

impl SnippetArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let (config, db) = ctx.db()?;
        let slug = self.slug.clone();
        let (tenant, key) = db
            .read(move |c| {
                let t = tenants::get(c, &slug)?;
                let key = match &self.key {
                    Some(id) => {
                        let k = keys::get(c, id)?;
                        if k.tenant_id != t.id
                            || k.kind != KeyKind::Public
                            || k.revoked_at.is_some()
                        {
                            return Err(StoreError::Invalid(format!(
                                "key {id:?} is not an active public key of tenant {:?}",
                                t.slug
                            )));
                        }
                        Some(k)
                    }
                    None => keys::active_public(c, t.id)?,
                };
                Ok((t, key))
            })
            .await?;
        let Some(public_key) = key.and_then(|k| k.public_key) else {
            return Err(Failure::new(format!(
                "tenant {:?} has no active public key to embed",
                tenant.slug
            ))
            .hint(format!(
                "issue one with `keepstar key issue {}`",
                tenant.slug
            ))
            .into());
        };
        let keys::Snippet { src, html } = keys::Snippet::new(
            &config.public_url,
            &crate::server::assets::widget_version(),
            &tenant.slug,
            &public_key,
        );
        if ctx.json {
            return output::json(
                &json!({ "tenant": tenant.slug, "key": public_key, "src": src, "html": html }),
            );
        }
        output::write_stdout(&format!("{html}\n"))
    }
}
