//! The public widget API (SPEC §5): sessions, messages, the event stream, history, product
//! details and the handoff request.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::stream::{self, Stream};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiJson};
use super::limits::Key;
use super::session::{ClientIp, WidgetSession};
use super::sse::{self, Frames, Handover};
use crate::chat::Incoming;
use crate::chat::bus::Subscription;
use crate::chat::event::Envelope;
use crate::formation::Formation;
use crate::store::catalog;
use crate::store::conversations::{self, Conversation, Message, Page};
use crate::store::keys::{self, KeyKind};
use crate::store::tenants::{self, Locale};

#[derive(Debug, Deserialize, ToSchema)]
pub struct SessionRequest {
    /// The tenant's slug (`data-tenant`).
    tenant: String,
    /// The tenant's public key (`data-key`).
    key: String,
    /// The secret the widget got from an earlier session, to continue as the same visitor.
    visitor: Option<String>,
    page: Option<PageInfo>,
    /// `en` or `ru`; the tenant's locale when absent.
    locale: Option<String>,
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct PageInfo {
    url: Option<String>,
    #[allow(
        dead_code,
        reason = "accepted for the contract; the URL is what is recorded"
    )]
    title: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Bearer token for the other calls.
    token: String,
    expires_in: u64,
    /// Keep this secret and send it back to stay the same visitor.
    visitor: String,
    /// The visitor's open conversation, if any.
    conversation: Option<String>,
    config: WidgetConfig,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct WidgetConfig {
    title: String,
    greeting: String,
    color: String,
    position: String,
    locale: String,
    logo_url: Option<String>,
    launcher_text: Option<String>,
}

fn default_greeting(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "Hi! How can I help you today?",
        Locale::Ru => "Здравствуйте! Чем могу помочь?",
    }
}

/// Opens a visitor session for a tenant's public key, from one of the tenant's allowed origins.
#[utoipa::path(post, path = "/api/v1/sessions", request_body = SessionRequest,
    responses((status = 200, body = SessionResponse), (status = 401, description = "unknown tenant or key"),
        (status = 403, description = "origin not allowed"), (status = 429, description = "rate limited")))]
pub async fn create_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SessionRequest>,
) -> Result<axum::Json<SessionResponse>, ApiError> {
    state
        .limits
        .check(
            Key::Sessions(ip),
            state.config.limits.sessions_per_minute_per_ip,
        )
        .map_err(ApiError::rate_limited)?;
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned);
    let (slug, key) = (req.tenant.clone(), req.key.clone());
    let found = state
        .db
        .read(move |c| {
            let Some(tenant) = tenants::find(c, &slug)? else {
                return Ok(None);
            };
            Ok(keys::verify(c, tenant.id, KeyKind::Public, &key)?.map(|k| (tenant, k)))
        })
        .await?;
    // Unknown tenant and bad key answer alike, so neither can be probed.
    let (tenant, key) = found.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_key",
            "Unknown tenant or key.",
        )
    })?;
    let origin = origin
        .filter(|o| tenant.origins.iter().any(|allowed| allowed.allows(o)))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "This site may not use this chat.",
            )
        })?;
    let page = req
        .page
        .and_then(|p| p.url)
        .filter(|u| u.starts_with("http"));
    let (tenant_id, key_id) = (tenant.id, key.id.clone());
    let (visitor, secret, conversation) = state
        .db
        .write(move |c| {
            let (visitor, secret) =
                conversations::resolve_visitor(c, tenant_id, req.visitor.as_deref())?;
            let conversation = conversations::latest_open(c, &visitor)?;
            keys::touch(c, &key_id)?;
            Ok((visitor, secret, conversation))
        })
        .await?;
    let locale = match req.locale.as_deref() {
        Some("ru") => Locale::Ru,
        Some("en") => Locale::En,
        _ => tenant.locale,
    };
    Ok(axum::Json(SessionResponse {
        token: state
            .sessions
            .issue(tenant.id, visitor.id, &key.id, &origin, page),
        expires_in: state.sessions.ttl_secs(),
        visitor: secret,
        conversation: conversation.map(|c| c.public_id),
        config: WidgetConfig {
            title: tenant.name.clone(),
            greeting: tenant
                .greeting
                .clone()
                .unwrap_or_else(|| default_greeting(locale).into()),
            color: tenant.color.clone().unwrap_or_else(|| "#2563eb".into()),
            position: tenant.position.as_str().into(),
            locale: locale.as_str().into(),
            logo_url: tenant.logo_url.clone(),
            launcher_text: tenant.launcher_text.clone(),
        },
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PostMessage {
    text: String,
    /// A random id the widget makes once per message; retries with it never duplicate.
    client_id: String,
    /// The conversation to post to; the visitor's open one (or a new one) when absent.
    conversation: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Posted {
    message: Message,
    conversation: String,
    /// The event id of this message's echo: open the event stream with `Last-Event-ID` set to it
    /// to receive the reply even if it started before the stream opened.
    event_id: Option<String>,
}

/// Stores the visitor's message, then answers on the event stream (or, with
/// `Accept: text/event-stream`, in this response).
#[utoipa::path(post, path = "/api/v1/messages", request_body = PostMessage, security(("session" = [])),
    responses((status = 202, body = Posted), (status = 413, description = "body too large"),
        (status = 422, description = "empty or too long"), (status = 429, description = "rate limited")))]
pub async fn post_message(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: WidgetSession,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PostMessage>,
) -> Result<Response, ApiError> {
    let text = req.text.trim().to_owned();
    if text.is_empty() {
        return Err(ApiError::unprocessable(
            "empty_message",
            "The message is empty.",
        ));
    }
    let max = state.config.limits.max_message_chars;
    if text.chars().count() > max {
        return Err(ApiError::unprocessable(
            "message_too_long",
            format!("The message is longer than {max} characters."),
        ));
    }
    if req.client_id.is_empty() || req.client_id.len() > 100 {
        return Err(ApiError::unprocessable(
            "invalid_client_id",
            "client_id must be 1-100 characters.",
        ));
    }
    let limits = &state.config.limits;
    let tenant_rate = session
        .tenant
        .limits
        .rate_limit_per_minute
        .map_or(limits.messages_per_minute_per_tenant, |n| n as u32);
    for (key, rate) in [
        (Key::Messages(ip), limits.messages_per_minute_per_ip),
        (
            Key::Visitor(session.visitor.id),
            limits.messages_per_minute_per_visitor,
        ),
        (Key::Tenant(session.tenant.id), tenant_rate),
    ] {
        state
            .limits
            .check(key, rate)
            .map_err(ApiError::rate_limited)?;
    }
    let posted = state
        .engine
        .post(
            session.tenant.clone(),
            session.visitor.clone(),
            Incoming {
                text,
                client_id: req.client_id,
                conversation: req.conversation,
                page: Page {
                    url: session.page_url.clone(),
                    title: None,
                },
            },
        )
        .await?;
    let wants_stream = headers
        .get(header::ACCEPT)
        .and_then(|a| a.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"));
    if wants_stream {
        let Some(reply_id) = posted.reply_id else {
            // A retry of a stored message, or a human has the conversation: nothing more to stream.
            let echo = crate::chat::event::ChatEvent::Message(posted.message);
            let frame = sse::frame(None, echo.name(), &echo.data());
            return Ok(sse::response(Frames::new(stream::iter([frame])), None));
        };
        let sub = state
            .engine
            .bus()
            .subscribe(posted.conversation.id, posted.echo_id.map(|id| id - 1));
        let frames = Frames::new(feed(&state, sub, Vec::new(), Some(reply_id)));
        return Ok(sse::response(frames, None));
    }
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(Posted {
            message: posted.message,
            conversation: posted.conversation.public_id,
            event_id: posted.echo_id.map(|id| id.to_string()),
        }),
    )
        .into_response())
}

/// A conversation's events: `preamble` first, then the replay, then live events until the
/// server shuts down, the subscriber falls too far behind (it resumes with `Last-Event-ID`),
/// or the reply `stop_after` is done.
fn feed(
    state: &AppState,
    sub: Subscription,
    preamble: Vec<Bytes>,
    stop_after: Option<String>,
) -> impl Stream<Item = Bytes> + Send + 'static {
    struct Feed {
        preamble: std::vec::IntoIter<Bytes>,
        replay: std::vec::IntoIter<std::sync::Arc<Envelope>>,
        live: crate::chat::bus::Live,
        shutdown: tokio_util::sync::CancellationToken,
        stop_after: Option<String>,
        finished: bool,
    }
    let feed = Feed {
        preamble: preamble.into_iter(),
        replay: sub.replay.into_iter(),
        live: sub.live,
        shutdown: state.shutdown.clone(),
        stop_after,
        finished: false,
    };
    stream::unfold(feed, |mut f| async move {
        if f.finished {
            return None;
        }
        if let Some(frame) = f.preamble.next() {
            return Some((frame, f));
        }
        let envelope = match f.replay.next() {
            Some(e) => e,
            None => tokio::select! {
                received = f.live.recv() => match received {
                    Ok(e) => e,
                    Err(crate::chat::bus::Lagged) => return None,
                },
                () = f.shutdown.cancelled() => return None,
            },
        };
        if matches!(envelope.name, "done" | "error")
            && f.stop_after.is_some()
            && envelope.message_id.as_deref() == f.stop_after.as_deref()
        {
            f.finished = true;
        }
        let frame = sse::frame(Some(envelope.id), envelope.name, &envelope.data);
        Some((frame, f))
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConversationQuery {
    /// The conversation; the visitor's open one when absent.
    conversation: Option<String>,
    /// Resume after this event id (the `Last-Event-ID` header wins).
    last_event_id: Option<u64>,
}

async fn conversation_of(
    state: &AppState,
    session: &WidgetSession,
    id: Option<String>,
) -> Result<Option<Conversation>, ApiError> {
    let visitor = session.visitor.clone();
    state
        .db
        .read(move |c| match id {
            Some(id) => conversations::get_for_visitor(c, &visitor, &id).map(Some),
            None => conversations::latest_open(c, &visitor),
        })
        .await
        .map_err(|e| match e {
            crate::store::StoreError::NotFound(_) => ApiError::not_found("conversation"),
            e => e.into(),
        })
}

/// The conversation's Server-Sent Events, resumable with `Last-Event-ID`.
#[utoipa::path(get, path = "/api/v1/events", params(ConversationQuery), security(("session" = [])),
    responses((status = 200, content_type = "text/event-stream", description = "message, delta, formation, done, error, typing and handoff events"),
        (status = 404, description = "no such conversation")))]
pub async fn events(
    State(state): State<AppState>,
    session: WidgetSession,
    Query(q): Query<ConversationQuery>,
    headers: HeaderMap,
    handover: Option<Handover>,
) -> Result<Response, ApiError> {
    let conv = conversation_of(&state, &session, q.conversation)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    let last = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .or(q.last_event_id);
    let sub = state.engine.bus().subscribe(conv.id, last);
    let mut preamble = Vec::new();
    if let (true, Some(last)) = (sub.gap, last) {
        // The live buffer does not reach back that far (or the server restarted): send what
        // was stored since (ids are send times in µs), as whole messages; the widget drops any
        // it already has from that same millisecond.
        let since_ms = (last / 1000) as i64;
        let (tenant_id, conv_id) = (conv.tenant_id, conv.id);
        let stored = state
            .db
            .read(move |c| conversations::since(c, tenant_id, conv_id, since_ms))
            .await?;
        preamble = stored
            .into_iter()
            .map(|m| {
                let event = crate::chat::event::ChatEvent::Message(m);
                sse::frame(None, event.name(), &event.data())
            })
            .collect();
    }
    let frames = Frames::new(feed(&state, sub, preamble, None));
    Ok(sse::response(frames, handover))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct HistoryQuery {
    conversation: Option<String>,
    /// Only messages older than this message id.
    before: Option<String>,
    /// 1-100, default 50.
    limit: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    conversation: Option<String>,
    /// Oldest first.
    messages: Vec<Message>,
    has_more: bool,
    /// The stream position these messages were read at: resume the event stream from it.
    event_id: Option<String>,
}

/// The conversation's stored messages, so a reload shows them.
#[utoipa::path(get, path = "/api/v1/messages", params(HistoryQuery), security(("session" = [])),
    responses((status = 200, body = History), (status = 404, description = "no such conversation")))]
pub async fn history(
    State(state): State<AppState>,
    session: WidgetSession,
    Query(q): Query<HistoryQuery>,
) -> Result<axum::Json<History>, ApiError> {
    let limit = q.limit.unwrap_or(50).clamp(1, 100);
    let Some(conv) = conversation_of(&state, &session, q.conversation).await? else {
        return Ok(axum::Json(History {
            conversation: None,
            messages: Vec::new(),
            has_more: false,
            event_id: None,
        }));
    };
    let public_id = conv.public_id.clone();
    // Taken before reading, so whatever is stored after the read is replayed from the stream.
    let position = state.engine.bus().position(conv.id);
    let (messages, has_more) = state
        .db
        .read(move |c| conversations::history(c, &conv, q.before.as_deref(), limit))
        .await?;
    Ok(axum::Json(History {
        conversation: Some(public_id),
        messages,
        has_more,
        event_id: Some(position.to_string()),
    }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductDetail {
    formation: Formation,
}

/// A product's `detail` formation for a card click, straight from the catalog.
#[utoipa::path(get, path = "/api/v1/products/{id}", params(("id" = String, Path, description = "product id")),
    security(("session" = [])), responses((status = 200, body = ProductDetail), (status = 404, description = "no such product")))]
pub async fn product(
    State(state): State<AppState>,
    session: WidgetSession,
    Path(id): Path<String>,
) -> Result<axum::Json<ProductDetail>, ApiError> {
    let tenant_id = session.tenant.id;
    let product = state
        .db
        .read(move |c| catalog::get(c, tenant_id, &id))
        .await?;
    let formation =
        crate::chat::cards::detail(&product, session.tenant.locale, &state.config.public_url);
    Ok(axum::Json(ProductDetail { formation }))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct HandoffRequest {
    conversation: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffResponse {
    conversation: String,
    message: Message,
}

/// The visitor asks for a human; the AI stops answering this conversation.
#[utoipa::path(post, path = "/api/v1/handoff", request_body = HandoffRequest, security(("session" = [])),
    responses((status = 202, body = HandoffResponse), (status = 404, description = "no open conversation")))]
pub async fn handoff(
    State(state): State<AppState>,
    session: WidgetSession,
    ApiJson(req): ApiJson<HandoffRequest>,
) -> Result<(StatusCode, axum::Json<HandoffResponse>), ApiError> {
    let conv = conversation_of(&state, &session, req.conversation)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))?;
    let public_id = conv.public_id.clone();
    let message = state.engine.request_handoff(&session.tenant, conv).await?;
    Ok((
        StatusCode::ACCEPTED,
        axum::Json(HandoffResponse {
            conversation: public_id,
            message,
        }),
    ))
}
