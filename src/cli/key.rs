use super::{Ctx, output};
use crate::store::keys::{self, KeyKind};
use crate::store::tenants;
use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Issue a key and print it once: public pk_… (for the embed tag) or secret sk_… (tenant API).
    Issue {
        slug: String,
        /// Issue a secret key for the tenant API instead of a public one.
        #[arg(long)]
        secret: bool,
        /// A note on what the key is for.
        #[arg(long, value_name = "TEXT")]
        label: Option<String>,
    },
    /// List a tenant's keys (never the secrets).
    List { slug: String },
    /// Revoke a key; it stops working at once.
    Revoke {
        #[arg(value_name = "KEY_ID")]
        id: String,
    },
}

impl KeyCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let (_, db) = ctx.db()?;
        let actor = ctx.actor();
        match self {
            KeyCommand::Issue {
                slug,
                secret,
                label,
            } => {
                let kind = if secret {
                    KeyKind::Secret
                } else {
                    KeyKind::Public
                };
                let issued = db
                    .write(move |c| {
                        let t = tenants::get(c, &slug)?;
                        keys::issue_audited(c, &actor, (t.id, &t.slug), kind, label.as_deref())
                    })
                    .await?;
                if ctx.json {
                    return output::json(&issued);
                }
                if kind == KeyKind::Secret {
                    eprintln!(
                        "This secret key is shown once: store it now. keepstar keeps only its hash."
                    );
                }
                output::write_stdout(&format!("{}\n", issued.secret))?;
                eprintln!("key id: {}", issued.key.id);
                Ok(())
            }
            KeyCommand::List { slug } => {
                let list = db
                    .read(move |c| {
                        let t = tenants::get(c, &slug)?;
                        keys::list(c, t.id)
                    })
                    .await?;
                if ctx.json {
                    return output::json(&list);
                }
                let rows: Vec<Vec<String>> = list
                    .iter()
                    .map(|k| {
                        vec![
                            k.id.clone(),
                            k.kind.as_str().into(),
                            format!("{}…", k.prefix),
                            output::opt(&k.label),
                            output::time(Some(k.created_at)),
                            output::time(k.last_used_at),
                            if k.revoked_at.is_some() {
                                "revoked"
                            } else {
                                "active"
                            }
                            .into(),
                        ]
                    })
                    .collect();
                output::table(
                    &[
                        "ID",
                        "KIND",
                        "PREFIX",
                        "LABEL",
                        "CREATED",
                        "LAST USED",
                        "STATUS",
                    ],
                    &rows,
                )
            }
            KeyCommand::Revoke { id } => {
                let key = db
                    .write(move |c| keys::revoke_audited(c, &actor, None, &id))
                    .await?;
                if ctx.json {
                    return output::json(&key);
                }
                output::write_stdout(&format!(
                    "revoked {} ({}…) of tenant {}\n",
                    key.id, key.prefix, key.tenant
                ))
            }
        }
    }
}
