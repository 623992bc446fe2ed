use std::io::Write as _;

use tokio_util::sync::CancellationToken;

use super::{Ctx, Failure};
use crate::config::Config;
use crate::server::connections::OpenFiles;
use crate::server::{self, AppState};
use crate::store::{Db, OnOpen, backup};

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (overrides `listen`).
    #[arg(long, value_name = "ADDR", env = "KEEPSTAR_LISTEN")]
    listen: Option<String>,
    /// The URL browsers reach keepstar at (overrides `public_url`).
    #[arg(long, value_name = "URL", env = "KEEPSTAR_PUBLIC_URL")]
    public_url: Option<String>,
    /// Run the offline demo: creates a config and data dir when missing, the demo tenants with a
    /// sample catalog and FAQ, and serves a demo shop page at /demo.
    #[arg(long)]
    demo: bool,
}

impl ServeArgs {
    pub async fn run(self, ctx: &Ctx) -> anyhow::Result<()> {
        // A panic is contained where it is caught; where it happened goes to the log, not to a
        // plain-text stderr line outside it.
        std::panic::set_hook(Box::new(|info| tracing::error!(panic = %info, "panicked")));
        let mut overrides = ctx.overrides.clone();
        overrides.listen = self.listen;
        overrides.public_url = self.public_url;
        if self.demo && !ctx.config_path.exists() {
            super::init::create(&ctx.config_path, None, overrides.public_url.as_deref(), ctx)?;
            eprintln!(
                "created {} and its data dir for the demo",
                ctx.config_path.display()
            );
        }
        let config = Config::load(&ctx.config_path, &overrides)?;
        raise_open_files();
        let path = super::existing_db(&config)?;
        let _lock = backup::lock(&path)?;
        let db = Db::open(&path, OnOpen::Migrate)?;
        let admin_link = if self.demo {
            crate::demo::ensure(&db, &config.public_url).await?;
            Some(crate::demo::admin_link(&db, &config.public_url).await?)
        } else {
            None
        };
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .map_err(|e| {
                Failure::new(format!("cannot listen on {}: {e}", config.listen))
                    .hint("is another server using the port? pass --listen ADDR")
            })?;
        let shutdown = CancellationToken::new();
        let (public_url, listen) = (config.public_url.clone(), config.listen);
        let state = AppState::build(db, config, shutdown.clone(), self.demo)?;
        // Before anything is printed: whoever waits for these lines may stop us at once.
        let signals = Signals::listen()?;
        let signal = shutdown.clone();
        tokio::spawn(async move {
            signals.received().await;
            // Not eprintln!: with stderr closed it would panic, and the signal would be lost.
            let _ = writeln!(std::io::stderr(), "shutting down");
            signal.cancel();
        });
        eprintln!("keepstar is listening on http://{listen} (public URL {public_url})");
        if let Some(link) = admin_link {
            println!("demo shop:    {public_url}/demo");
            println!("Russian demo: {public_url}/demo?lang=ru");
            println!("admin:        {link}  (a one-time sign-in link, 15 minutes)");
        }
        server::serve(state, listener, shutdown).await?;
        Ok(())
    }
}

/// Every connection and event stream is a descriptor: the soft limit (often 1 024) goes up to
/// the hard limit, and both are said.
fn raise_open_files() {
    match OpenFiles::raise() {
        Ok((before, after)) => {
            let raised = if after.soft > before.soft {
                format!(" (raised from {})", before.soft)
            } else {
                String::new()
            };
            eprintln!(
                "open files: soft limit {}{raised}, hard limit {}",
                after.soft, after.hard
            );
            if after.soft < OpenFiles::ENOUGH {
                tracing::warn!(
                    "{} open files leave room for about {} event streams, fewer than {}; raise the hard limit (LimitNOFILE= in a systemd unit)",
                    after.soft,
                    OpenFiles::streams(after.soft),
                    OpenFiles::STREAMS
                );
            }
        }
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}

/// SIGTERM and Ctrl-C, listened for from the moment this exists.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> std::io::Result<Signals> {
        Ok(Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    async fn received(mut self) {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        tokio::select! {
            _ = ctrl_c => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    }
}
