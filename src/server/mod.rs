//! The HTTP server: the widget API, the widget's files, health checks and the OpenAPI document.

mod admin;
pub mod assets;
pub mod connections;
mod cors;
mod deadline;
pub mod error;
pub mod limits;
mod openapi;

pub use openapi::formation_schema;
mod handover;
pub mod session;
mod sse;
mod widget_api;

use std::net::SocketAddr;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderName, HeaderValue, Request, header};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt as _;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::chat::Engine;
use crate::chat::bus::InProcessBus;
use crate::chat::responders::Registry;
use crate::config::{Config, ConfigError};
use crate::store::Db;

use self::connections::{Backoff, Connections, Held, too_many_connections};
use self::error::ApiError;
use self::handover::Handover;

/// Everything a request handler may use.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<Config>,
    pub engine: Engine,
    pub sessions: Arc<session::SessionKeys>,
    pub limits: Arc<limits::RateLimiter>,
    /// The growing wait after an admin account's failed sign-ins.
    pub sign_in_backoff: Arc<limits::Backoff>,
    /// Open connections per client address, and the accept loop's counters.
    pub connections: Arc<Connections>,
    origins: Arc<cors::OriginCache>,
    pub shutdown: CancellationToken,
    /// Serve the demo shop page.
    pub demo: bool,
}

impl AppState {
    /// Wires the server: the engine with its bus and responders, session keys, limiters.
    pub fn build(
        db: Db,
        config: Config,
        shutdown: CancellationToken,
        demo: bool,
    ) -> Result<AppState, ConfigError> {
        let secret = config.session_secret.clone().ok_or_else(|| ConfigError {
            message: "no session_secret is configured".into(),
            hint: Some("set session_secret in keepstar.toml or KEEPSTAR_SESSION_SECRET(_FILE); `keepstar init` writes one".into()),
        })?;
        let config = Arc::new(config);
        let responders = Arc::new(Registry::new(db.clone(), &config));
        let engine = Engine::with_max_message_chars(
            db.clone(),
            Arc::new(InProcessBus::default()),
            responders,
            shutdown.clone(),
            config.limits.max_message_chars,
        );
        Ok(AppState {
            db,
            connections: Arc::new(Connections::new(config.limits.max_connections_per_ip)),
            sessions: Arc::new(session::SessionKeys::new(
                secret.expose().as_bytes(),
                config.limits.session_ttl_secs,
            )),
            config,
            engine,
            limits: Arc::new(limits::RateLimiter::default()),
            sign_in_backoff: Arc::new(limits::Backoff::default()),
            origins: Arc::new(cors::OriginCache::default()),
            shutdown,
            demo,
        })
    }
}

/// How long open connections get to finish after shutdown begins.
const DRAIN: Duration = Duration::from_secs(10);

pub fn router(state: AppState) -> Router {
    let x_request_id = HeaderName::from_static("x-request-id");
    let api = Router::new()
        .route("/api/v1/sessions", post(widget_api::create_session))
        .route(
            "/api/v1/messages",
            post(widget_api::post_message).get(widget_api::history),
        )
        .route("/api/v1/events", get(widget_api::events))
        .route("/api/v1/products/{id}", get(widget_api::product))
        .route("/api/v1/handoff", post(widget_api::handoff))
        .route("/api/v1/typing", post(widget_api::typing))
        .route("/api/v1/contact", post(widget_api::contact))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            cors::cors,
        ))
        .layer(DefaultBodyLimit::max(state.config.limits.max_body_bytes));
    Router::new()
        .merge(api)
        .route("/api/openapi.json", get(openapi::document))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(assets::routes(state.demo))
        .merge(admin::routes(&state))
        .fallback(|| async { ApiError::not_found("route") })
        // Every refusal in the one error shape, whichever route, extractor or layer answered it.
        .layer(axum::middleware::from_fn(error::shape_refusals))
        // A panicking handler answers 500 and the server goes on.
        .layer(CatchPanicLayer::custom(error::panicked))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        // SSE is excluded by the default predicate, so streams are never buffered.
        .layer(CompressionLayer::new())
        .layer(PropagateRequestIdLayer::new(x_request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(x_request_id, MakeRequestUuid))
        .with_state(state)
}

/// Ready when the database answers.
async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match state
        .db
        .read(|c| Ok(c.query_row("SELECT 1", [], |r| r.get::<_, i64>(0))?))
        .await
    {
        Ok(_) => "ready".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "not ready");
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "not_ready",
                "The database is not answering.",
            )
            .into_response()
        }
    }
}

/// Serves until `shutdown` is cancelled, then lets open requests finish (streams end at once),
/// waits for running replies to be stored, and returns.
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    let engine = state.engine.clone();
    let housekeeping = {
        let (state, shutdown) = (state.clone(), shutdown.clone());
        tokio::spawn(async move {
            // Often enough that finished replies' parts leave the event buffers soon after
            // their 10 s (one pass over the conversations is a millisecond at 10 000).
            let mut tick = tokio::time::interval(Duration::from_secs(10));
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        state.limits.sweep(Duration::from_secs(120));
                        state.sign_in_backoff.sweep(Duration::from_secs(15 * 60));
                        state.engine.sweep(2 * 60 * 1_000_000);
                        if let Err(e) = state.engine.expire_waiting(crate::store::now_ms()).await {
                            tracing::warn!(error = %e, "handing back the waits that ran out failed");
                        }
                    }
                    () = shutdown.cancelled() => break,
                }
            }
        })
    };
    let head_timeout = Duration::from_secs(state.config.limits.request_head_timeout_secs.max(1));
    let (config, connections) = (state.config.clone(), state.connections.clone());
    let app = router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    // A client that never finishes a request head (or idles between requests) is let go.
    http.timer(TokioTimer::new())
        .header_read_timeout(head_timeout);
    // While a response streams (a turn asked for with `Accept: text/event-stream`), hyper
    // otherwise keeps reading the socket to notice a client that hung up, growing its read
    // buffer to 16 KiB. The turn runs to its end either way; event streams leave hyper
    // (`handover`) and notice a hang-up themselves.
    http.half_close(true);
    let server = Server {
        http,
        app,
        config,
        connections,
        shutdown: shutdown.clone(),
        tasks: TaskTracker::new(),
    };
    let mut backoff = Backoff::default();
    loop {
        let (tcp, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => {
                    backoff.reset();
                    accepted
                }
                Err(e) => {
                    accept_failed(e, &mut backoff, &server.connections).await;
                    continue;
                }
            },
            () = shutdown.cancelled() => break,
        };
        // A trusted proxy's connection counts against the clients of its requests instead.
        let (tcp, held) = if server.config.trusted_proxies.contains(&remote.ip()) {
            (tcp, Held::default())
        } else {
            match server.connections.accept(tcp, remote.ip()) {
                Some(admitted) => admitted,
                None => continue,
            }
        };
        server.tasks.spawn(connection(&server, tcp, remote, held));
    }
    drop(listener);
    let tasks = server.tasks;
    tasks.close();
    if tokio::time::timeout(DRAIN, tasks.wait()).await.is_err() {
        tracing::warn!("connections still open after {DRAIN:?}; closing them");
    }
    if tokio::time::timeout(DRAIN, engine.drain()).await.is_err() {
        tracing::warn!("replies still running after {DRAIN:?}");
    }
    housekeeping.abort();
    Ok(())
}

/// What every connection is served with.
struct Server {
    http: hyper::server::conn::http1::Builder,
    app: Router,
    config: Arc<Config>,
    connections: Arc<Connections>,
    shutdown: CancellationToken,
    /// The connections' tasks, and the event streams' once they leave hyper.
    tasks: TaskTracker,
}

/// Serves one connection with hyper until it closes or shutdown comes, or until an event
/// stream leaves hyper; that stream then goes on in a task of its own. The connection
/// counts against `held`'s client until it (or its stream) closes.
fn connection(
    server: &Server,
    tcp: TcpStream,
    remote: SocketAddr,
    held: Held,
) -> impl Future<Output = ()> + Send + 'static {
    // Without TCP_NODELAY small SSE frames wait for delayed ACKs (~40 ms per first token).
    let _ = tcp.set_nodelay(true);
    let tcp = Arc::new(tcp);
    let handover = Handover::default();
    let service = {
        let (app, config, connections) = (
            server.app.clone(),
            server.config.clone(),
            server.connections.clone(),
        );
        let (handover, held) = (handover.clone(), held.clone());
        tower::service_fn(move |mut req: Request<Incoming>| {
            let app = app.clone();
            // A proxy's connection counts against the client it now carries a request for.
            let admitted = !config.trusted_proxies.contains(&remote.ip()) || {
                let client =
                    session::client_ip(remote.ip(), req.headers(), &config.trusted_proxies);
                held.move_to(&connections, client)
            };
            req.extensions_mut().insert(ConnectInfo(remote));
            req.extensions_mut().insert(handover.clone());
            let (req, missed) = deadline::apply(req, &config.limits);
            async move {
                if !admitted {
                    return Ok(closing(too_many_connections().into_response()));
                }
                let response = app.oneshot(req).await;
                match missed {
                    // The rest of the body may still come: this connection serves no more.
                    Some(missed) if missed.get() => Ok(closing(deadline::missed().into_response())),
                    _ => response,
                }
            }
        })
    };
    let io = TokioIo::new(handover::Io::new(tcp.clone(), handover.clone()));
    let conn = server
        .http
        .serve_connection(io, TowerToHyperService::new(service));
    let (shutdown, streams) = (server.shutdown.clone(), server.tasks.clone());
    async move {
        let mut conn = std::pin::pin!(conn);
        let handed_over = std::future::poll_fn(|cx| match conn.as_mut().poll(cx) {
            // A connection that breaks is the client's business.
            Poll::Ready(_) => Poll::Ready(None),
            Poll::Pending => handover
                .take()
                .map_or(Poll::Pending, |f| Poll::Ready(Some(f))),
        });
        let frames = tokio::select! {
            frames = handed_over => frames,
            () = shutdown.cancelled() => {
                // Finish the response in flight (event streams end on the same token), then
                // close; a stream still waiting to leave hyper just closes.
                if !handover.parked() {
                    conn.as_mut().graceful_shutdown();
                    let _ = conn.await;
                }
                return;
            }
        };
        // A new task, so hyper's connection and this task's room for it are freed now; the
        // stream goes on counting against the connection's client.
        if let Some((frames, framing)) = frames {
            streams.spawn(async move {
                handover::write(tcp, frames, framing).await;
                drop(held);
            });
        }
    }
}

/// `response`, and the connection closes after it.
fn closing(mut response: axum::response::Response) -> axum::response::Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// A failed accept: a connection that went away before it was accepted is nothing; anything
/// else (most likely out of file descriptors) is counted and logged, and accepting pauses
/// (`backoff`) instead of failing again at once.
async fn accept_failed(e: std::io::Error, backoff: &mut Backoff, connections: &Connections) {
    use std::io::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    let pause = backoff.pause();
    let failures = connections.accept_failed();
    tracing::error!(error = %e, pause_ms = pause.as_millis() as u64, failures, "accept failed");
    tokio::time::sleep(pause).await;
}
