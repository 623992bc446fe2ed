//! `keepstar doctor`: the config, the database, the listen port and every tenant's provider,
//! each checked and reported on one line. Exits 1 when a check fails.

use serde::Serialize;

use super::{Ctx, Failure, output};
use crate::chat::responders::{Shared, probe};
use crate::config::Config;
use crate::server::connections::OpenFiles;
use crate::store::{self, Db, OnOpen, tenants};

#[derive(Debug, clap::Args)]
pub struct DoctorArgs {
    /// Skip calling the tenants' providers (no network).
    #[arg(long)]
    offline: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Status {
    Ok,
    Warn,
    Fail,
}

#[derive(Debug, Serialize)]
struct Check {
    check: String,
    status: Status,
    detail: String,
}

#[derive(Default)]
struct Report(Vec<Check>);

impl Report {
    fn add(&mut self, check: impl Into<String>, status: Status, detail: impl Into<String>) {
        self.0.push(Check {
            check: check.into(),
            status,
            detail: detail.into(),
        });
    }

    fn print(&self, ctx: &Ctx) -> anyhow::Result<()> {
        if ctx.json {
            output::json(&self.0)?;
        } else {
            let rows: Vec<Vec<String>> = self
                .0
                .iter()
                .map(|c| {
                    let status = match c.status {
                        Status::Ok => "ok",
                        Status::Warn => "warn",
                        Status::Fail => "FAIL",
                    };
                    vec![c.check.clone(), status.into(), c.detail.clone()]
                })
                .collect();
            output::table(&["CHECK", "STATUS", "DETAIL"], &rows)?;
        }
        let failed = self.0.iter().filter(|c| c.status == Status::Fail).count();
        if failed > 0 {
            return Err(Failure::new(format!("{failed} check(s) failed")).into());
        }
        Ok(())
    }
}

impl DoctorArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        let mut report = Report::default();
        let config = match ctx.config() {
            Ok(config) => config,
            Err(e) => {
                report.add("config", Status::Fail, e.to_string());
                return report.print(ctx);
            }
        };
        check_config(&config, &mut report);
        check_open_files(&mut report);
        let db = check_database(&config, &mut report);
        check_port(&config, &mut report).await;
        if let Some(db) = db {
            if self.offline {
                report.add("providers", Status::Warn, "not checked (--offline)");
            } else {
                check_providers(&config, db, &mut report).await;
            }
        }
        report.print(ctx)
    }
}

fn check_config(config: &Config, report: &mut Report) {
    report.add(
        "config",
        Status::Ok,
        format!(
            "{} (public URL {})",
            config.path.display(),
            config.public_url
        ),
    );
    match &config.session_secret {
        Some(_) => report.add("session secret", Status::Ok, "set"),
        None => report.add(
            "session secret",
            Status::Fail,
            "missing: `serve` refuses to start (set session_secret or KEEPSTAR_SESSION_SECRET)",
        ),
    }
    match &config.encryption_key {
        Some(_) => report.add("encryption key", Status::Ok, "set"),
        None => report.add(
            "encryption key",
            Status::Warn,
            "missing: provider keys can only come from environment variables",
        ),
    }
}

/// The open-file limits `serve` would start with: it raises the soft limit to the hard one, so
/// the hard limit is what bounds the open connections and event streams.
fn check_open_files(report: &mut Report) {
    let limits = match OpenFiles::now() {
        Ok(limits) => limits,
        Err(e) => {
            return report.add(
                "open files",
                Status::Warn,
                format!("cannot read the limits: {e}"),
            );
        }
    };
    let (soft, hard) = (limits.soft, limits.hard);
    let streams = OpenFiles::streams(hard);
    if hard < OpenFiles::ENOUGH {
        report.add(
            "open files",
            Status::Warn,
            format!(
                "soft {soft}, hard {hard}: room for about {streams} event streams, fewer than {}; raise the hard limit (LimitNOFILE= in the systemd unit, or `ulimit -Hn` as root)",
                OpenFiles::STREAMS
            ),
        );
    } else {
        report.add(
            "open files",
            Status::Ok,
            format!("soft {soft}, hard {hard}: `serve` raises the soft limit to {hard}, room for about {streams} event streams"),
        );
    }
}

/// Checks integrity and migrations; the database is opened for the provider checks when usable.
fn check_database(config: &Config, report: &mut Report) -> Option<Db> {
    let path = config.db_path();
    if !path.exists() {
        report.add(
            "database",
            Status::Fail,
            format!("no database at {} (run `keepstar init`)", path.display()),
        );
        return None;
    }
    match store::backup::verify(&path) {
        Err(e) => {
            report.add("database", Status::Fail, e.to_string());
            None
        }
        Ok(status) if !status.pending.is_empty() => {
            report.add(
                "database",
                Status::Warn,
                format!(
                    "integrity ok; {} migration(s) pending: `serve` applies them, or run `keepstar migrate`",
                    status.pending.len()
                ),
            );
            None
        }
        Ok(status) => {
            report.add(
                "database",
                Status::Ok,
                format!(
                    "{}: integrity ok, schema V{:03}",
                    path.display(),
                    status.applied.last().copied().unwrap_or(0)
                ),
            );
            Db::open(&path, OnOpen::RequireCurrent).ok()
        }
    }
}

async fn check_port(config: &Config, report: &mut Report) {
    let addr = config.listen;
    match tokio::net::TcpListener::bind(addr).await {
        Ok(_) => report.add("listen", Status::Ok, format!("{addr} is free")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
            let ready = reqwest::Client::new()
                .get(format!("http://{addr}/readyz"))
                .timeout(std::time::Duration::from_secs(3))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                report.add(
                    "listen",
                    Status::Ok,
                    format!("keepstar is serving on {addr}"),
                );
            } else {
                report.add(
                    "listen",
                    Status::Fail,
                    format!("{addr} is taken by another program"),
                );
            }
        }
        Err(e) => report.add(
            "listen",
            Status::Fail,
            format!("cannot listen on {addr}: {e}"),
        ),
    }
}

async fn check_providers(config: &Config, db: Db, report: &mut Report) {
    let list = match db.read(tenants::list).await {
        Ok(list) => list,
        Err(e) => return report.add("tenants", Status::Fail, e.to_string()),
    };
    if list.is_empty() {
        return report.add("tenants", Status::Warn, "none yet (`keepstar tenant add`)");
    }
    let shared = Shared::new(db, config);
    for tenant in &list {
        let found = probe::probe(&shared, tenant).await;
        report.add(
            format!("provider {}", tenant.slug),
            if found.ok { Status::Ok } else { Status::Fail },
            format!("{}: {}", tenant.provider.kind.as_str(), found.detail),
        );
    }
}
