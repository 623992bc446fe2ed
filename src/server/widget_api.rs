//! The public widget API (SPEC §5): sessions, messages, the event stream, history, product
//! details and the handoff request.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::AppState;
use super::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use super::handover::Handover;
use super::limits::Key;
use super::session::{ClientIp, WidgetSession};
use super::sse;
use crate::chat::event::HandoffState;
use crate::chat::{Incoming, Opened, Opening, TeamNow};
use crate::formation::Formation;
use crate::store::catalog;
use crate::store::conversations::{Conversation, Message, Page};
use crate::store::tenants::Tenant;
use crate::strings;
use crate::vocab::Locale;

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
    /// A person asked for (`requested`) or answering (`active`) in that conversation.
    handoff: Option<HandoffNow>,
    /// Whether the visitor left an email with that conversation.
    contact_left: bool,
    config: WidgetConfig,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HandoffNow {
    /// `requested` or `active`.
    state: &'static str,
    /// The name of the person answering.
    operator: Option<String>,
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
    /// Whether someone from the team has the inbox open now.
    team_online: bool,
    /// How many minutes the team usually takes to join a conversation, once known.
    reply_minutes: Option<u32>,
}

/// Opens a visitor session for a tenant's public key, from one of the tenant's allowed origins.
#[utoipa::path(post, path = "/api/v1/sessions", request_body = SessionRequest,
    responses((status = 200, body = SessionResponse), (status = 401, description = "unknown tenant or key"),
        (status = 403, description = "origin not allowed"), (status = 429, description = "rate limited; `Retry-After` says when to try again")))]
pub async fn create_session(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    ApiJson(req): ApiJson<SessionRequest>,
) -> Result<axum::Json<SessionResponse>, ApiError> {
    let limit = state.config.limits.sessions_per_minute_per_ip;
    state.limits.check(Key::Sessions(ip), limit)?;
    let opened = state
        .engine
        .open_session(Opening {
            tenant: req.tenant,
            key: req.key,
            visitor: req.visitor,
            origin: header_text(&headers, header::ORIGIN.as_str()),
            own_origin: url::Url::parse(&state.config.public_url)
                .ok()
                .map(|u| u.origin().ascii_serialization()),
            page_url: req.page.and_then(|p| p.url),
            locale: req.locale,
        })
        .await?;
    let Opened {
        tenant,
        key_id,
        visitor,
        visitor_secret,
        conversation,
        origin,
        page_url,
        locale,
        team,
    } = opened;
    Ok(axum::Json(SessionResponse {
        token: state
            .sessions
            .issue(tenant.id, visitor.id, &key_id, &origin, page_url),
        expires_in: state.sessions.ttl_secs(),
        visitor: visitor_secret,
        conversation: conversation.map(|c| c.public_id),
        handoff: team.handoff.clone().map(|(state, operator)| HandoffNow {
            state: match state {
                HandoffState::Requested => "requested",
                _ => "active",
            },
            operator,
        }),
        contact_left: team.contact_left,
        config: WidgetConfig::of(&tenant, locale, &team),
    }))
}

impl WidgetConfig {
    fn of(tenant: &Tenant, locale: Locale, team: &TeamNow) -> WidgetConfig {
        WidgetConfig {
            title: tenant.name.clone(),
            greeting: tenant
                .greeting
                .clone()
                .unwrap_or_else(|| strings::of(locale).greeting.into()),
            color: tenant.color.clone().unwrap_or_else(|| "#2563eb".into()),
            position: tenant.position.as_str().into(),
            locale: locale.as_str().into(),
            logo_url: tenant.logo_url.clone(),
            launcher_text: tenant.launcher_text.clone(),
            team_online: team.online,
            reply_minutes: team.reply_minutes,
        }
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
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
    responses((status = 202, body = Posted),
        (status = 200, content_type = "text/event-stream", description = "with `Accept: text/event-stream`: the turn's events, from the message's echo to the reply's `done` or `error`"),
        (status = 404, description = "no such conversation"),
        (status = 422, description = "empty or too long (`empty_message`, `message_too_long`), or a bad `client_id` (`invalid_client_id`)"),
        (status = 429, description = "rate limited; `Retry-After` says when to try again")))]
pub async fn post_message(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    session: WidgetSession,
    headers: HeaderMap,
    ApiJson(req): ApiJson<PostMessage>,
) -> Result<Response, ApiError> {
    state
        .limits
        .check_message(ip, &session.visitor, &session.tenant, &state.config.limits)?;
    let page = Page {
        url: session.page_url,
        title: None,
    };
    let posted = state
        .engine
        .post(
            session.tenant,
            session.visitor,
            Incoming {
                text: req.text,
                client_id: req.client_id,
                conversation: req.conversation,
                page,
            },
        )
        .await?;
    let wants_stream = header_text(&headers, header::ACCEPT.as_str())
        .is_some_and(|a| a.contains("text/event-stream"));
    if wants_stream {
        return Ok(sse::response(state.engine.follow_turn(posted).await, None));
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

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct ConversationQuery {
    /// The conversation; the visitor's open one when absent.
    conversation: Option<String>,
    /// Resume after this event id (the `Last-Event-ID` header wins).
    last_event_id: Option<u64>,
}

/// The session's conversation `id`, or its open one; 404 when there is none.
async fn conversation_of(
    state: &AppState,
    session: &WidgetSession,
    id: Option<String>,
) -> Result<Conversation, ApiError> {
    state
        .engine
        .conversation(&session.visitor, id)
        .await?
        .ok_or_else(|| ApiError::not_found("conversation"))
}

/// The conversation's Server-Sent Events, resumable with `Last-Event-ID`.
#[utoipa::path(get, path = "/api/v1/events", params(ConversationQuery), security(("session" = [])),
    responses((status = 200, content_type = "text/event-stream", description = "message, delta, formation, done, error, typing and handoff events"),
        (status = 404, description = "no such conversation")))]
pub async fn events(
    State(state): State<AppState>,
    session: WidgetSession,
    ApiQuery(q): ApiQuery<ConversationQuery>,
    headers: HeaderMap,
    handover: Option<Handover>,
) -> Result<Response, ApiError> {
    let conv = conversation_of(&state, &session, q.conversation).await?;
    let last = sse::last_event_id(&headers).or(q.last_event_id);
    let events = state.engine.subscribe(&conv, last).await?;
    Ok(sse::response(events, handover))
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
    responses((status = 200, body = History), (status = 404, description = "no such conversation"),
        (status = 422, description = "`limit` outside 1-100 (`invalid_limit`)")))]
pub async fn history(
    State(state): State<AppState>,
    session: WidgetSession,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> Result<axum::Json<History>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    let transcript = state
        .engine
        .history(&session.visitor, q.conversation, q.before, limit)
        .await?;
    Ok(axum::Json(History {
        conversation: transcript.conversation.map(|c| c.public_id),
        messages: transcript.messages,
        has_more: transcript.has_more,
        event_id: transcript.position.map(|p| p.to_string()),
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
    ApiPath(id): ApiPath<String>,
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
    let conv = conversation_of(&state, &session, req.conversation).await?;
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

#[derive(Debug, Deserialize, ToSchema)]
pub struct TypingRequest {
    conversation: String,
    /// Whether the visitor is typing now.
    on: bool,
}

/// The visitor is typing (or stopped): the team sees it while a person is asked for or answering.
#[utoipa::path(post, path = "/api/v1/typing", request_body = TypingRequest, security(("session" = [])),
    responses((status = 204), (status = 404, description = "no such conversation")))]
pub async fn typing(
    State(state): State<AppState>,
    session: WidgetSession,
    ApiJson(req): ApiJson<TypingRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .engine
        .visitor_typing(&session.visitor, req.conversation, req.on)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ContactRequest {
    conversation: String,
    email: String,
}

/// The visitor leaves an email for the team, when nobody is there to answer now.
#[utoipa::path(post, path = "/api/v1/contact", request_body = ContactRequest, security(("session" = [])),
    responses((status = 204), (status = 404, description = "no such conversation"),
        (status = 422, description = "not an email address (`invalid_email`)")))]
pub async fn contact(
    State(state): State<AppState>,
    session: WidgetSession,
    ApiJson(req): ApiJson<ContactRequest>,
) -> Result<StatusCode, ApiError> {
    state
        .engine
        .leave_contact(&session.visitor, req.conversation, &req.email)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
