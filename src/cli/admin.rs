//! `keepstar admin`: the team's accounts, and the one-time sign-in link that is the way in on
//! first run and after a lost password.

use std::io::Read;

use clap::Subcommand;

use super::{Ctx, Failure, output};
use crate::accounts::{self, MemberChange, NewMember};
use crate::store::admins::AdminUser;
use crate::vocab::{Role, Secret};

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Add a member of the team. Without --password-stdin they sign in with `admin link`.
    Add {
        email: String,
        /// The name visitors and the team see (default: the email).
        #[arg(long)]
        name: Option<String>,
        /// owner: everything; operator: the conversations and inbox of their tenants.
        #[arg(long, default_value = "owner")]
        role: Role,
        /// A tenant an operator serves (repeat for more).
        #[arg(long = "tenant", value_name = "SLUG")]
        tenants: Vec<String>,
        /// Read the password (at least 12 characters) from stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the team.
    List,
    /// Change a member: name, role, tenants, password, or disable them.
    Set {
        email: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        role: Option<Role>,
        /// The tenants an operator serves, replacing the list (repeat for more).
        #[arg(long = "tenant", value_name = "SLUG")]
        tenants: Vec<String>,
        /// Read a new password from stdin; it signs the member out everywhere.
        #[arg(long)]
        password_stdin: bool,
        /// Stop the member signing in; ends their sessions.
        #[arg(long, conflicts_with = "enable")]
        disable: bool,
        #[arg(long)]
        enable: bool,
    },
    /// Remove a member (never the last owner).
    Remove { email: String },
    /// Print a one-time sign-in URL for a member, valid 15 minutes.
    Link { email: String },
}

impl AdminCommand {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let (config, db) = ctx.db()?;
        let actor = ctx.actor();
        match self {
            AdminCommand::Add {
                email,
                name,
                role,
                tenants,
                password_stdin,
            } => {
                let member = NewMember {
                    email,
                    name,
                    role,
                    tenants,
                    password: password_stdin.then(read_password).transpose()?,
                };
                let user = accounts::add(&db, member, &actor).await?;
                show(ctx, std::slice::from_ref(&user))?;
                if ctx.json {
                    return Ok(());
                }
                eprintln!(
                    "added {}; `keepstar admin link {}` prints a sign-in link",
                    user.email, user.email
                );
                Ok(())
            }
            AdminCommand::List => show(ctx, &accounts::list(&db).await?),
            AdminCommand::Set {
                email,
                name,
                role,
                tenants,
                password_stdin,
                disable,
                enable,
            } => {
                let change = MemberChange {
                    name: name.map(|n| Some(n).filter(|n| !n.is_empty())),
                    role,
                    tenants: (!tenants.is_empty()).then_some(tenants),
                    password: password_stdin.then(read_password).transpose()?,
                    disabled: (disable || enable).then_some(disable),
                    keep_session: None,
                };
                let user = accounts::change(&db, &email, change, &actor).await?;
                show(ctx, &[user])
            }
            AdminCommand::Remove { email } => {
                let user = accounts::remove(&db, &email, &actor).await?;
                eprintln!("removed {}", user.email);
                Ok(())
            }
            AdminCommand::Link { email } => {
                let url = accounts::sign_in_link(&db, &config.public_url, &email, &actor).await?;
                output::write_stdout(&format!("{url}\n"))?;
                eprintln!("The link works once, for 15 minutes.");
                Ok(())
            }
        }
    }
}

fn show(ctx: &Ctx, users: &[AdminUser]) -> anyhow::Result<()> {
    if ctx.json {
        return output::json(&users);
    }
    let rows: Vec<Vec<String>> = users
        .iter()
        .map(|u| {
            vec![
                u.email.clone(),
                u.name.clone().unwrap_or_else(|| "-".into()),
                u.role.as_str().into(),
                match (u.role, u.tenants.is_empty()) {
                    (Role::Owner, _) => "all".into(),
                    (Role::Operator, true) => "-".into(),
                    (Role::Operator, false) => u.tenants.join(","),
                },
                if u.disabled_at.is_some() {
                    "disabled"
                } else {
                    "active"
                }
                .into(),
            ]
        })
        .collect();
    output::table(&["EMAIL", "NAME", "ROLE", "TENANTS", "STATUS"], &rows)
}

fn read_password() -> anyhow::Result<Secret> {
    let mut password = String::new();
    std::io::stdin().read_to_string(&mut password)?;
    let password = password.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        return Err(Failure::new("no password on stdin")
            .hint(
                "pipe it in, e.g. `keepstar admin add you@shop.example --password-stdin < pw.txt`",
            )
            .into());
    }
    Ok(Secret::new(password.to_owned()))
}
