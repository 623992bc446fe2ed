//! The live inbox: the member's tenants' conversations, those waiting for a person first, kept
//! current by the inbox's event stream; and what the team does in a conversation, on its page
//! (`conversations::transcript`): take over, reply, notes, assign, hand back, close. Forms post
//! and redirect; the admin's script sends the same forms with `fetch` and swaps in the page it
//! gets back. Another tenant's conversation, its events and its actions are 404.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::super::super::AppState;
use super::super::super::error::ApiError;
use super::super::super::handover::Handover;
use super::super::super::sse;
use super::super::auth::Admin;
use super::super::text::{Lang, Live, Talk, Text};
use super::super::{Me, css_version, render};
use super::conversations::{self, When, status_label};
use crate::chat::{ChatError, Takeover};
use crate::store::conversations::{Conversation, ConversationStatus};
use crate::store::inbox::{self, InboxRow};
use crate::store::{admins, tenants::Tenant};

/// The AI's latest conversations the inbox lists under those of the team.
const RECENT: usize = 20;

pub struct RowView {
    public_id: String,
    tenant: String,
    status: &'static str,
    status_code: &'static str,
    assignee: Option<String>,
    waiting: Option<(When, i64)>,
    updated: When,
    unread: i64,
    text: String,
    contact: Option<String>,
}

#[derive(Template)]
#[template(path = "admin/inbox.html")]
struct InboxPage {
    t: &'static Text,
    c: &'static Talk,
    l: &'static Live,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    /// Waiting, with a person, recently with the AI; the empty ones left out.
    sections: Vec<(&'static str, Vec<RowView>)>,
    waiting: usize,
}

pub async fn list(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
) -> Result<Response, ApiError> {
    let t = lang.text();
    let tenants = admin.tenants(&state).await?;
    let ids: Vec<i64> = tenants.iter().map(|t| t.id).collect();
    let rows = state.db.read(move |c| inbox::rows(c, &ids, RECENT)).await?;
    let now = crate::store::now_ms();
    let view = |r: InboxRow| RowView {
        tenant: tenants
            .iter()
            .find(|t| t.id == r.tenant_id)
            .map(|t| t.name.clone())
            .unwrap_or_default(),
        status: status_label(t.talk, r.status),
        status_code: r.status.as_str(),
        assignee: r.assignee,
        waiting: r
            .waiting_since
            .filter(|_| r.status == ConversationStatus::WaitingHuman)
            .map(|w| (When::of(w), (now - w).max(0) / 60_000)),
        updated: When::of(r.updated_at),
        unread: r.unread,
        text: r.text,
        contact: r.contact_email,
        public_id: r.public_id,
    };
    let (mut waiting, mut human, mut recent) = (Vec::new(), Vec::new(), Vec::new());
    for r in rows {
        match r.status {
            ConversationStatus::WaitingHuman => waiting.push(view(r)),
            ConversationStatus::Human => human.push(view(r)),
            _ => recent.push(view(r)),
        }
    }
    render(&InboxPage {
        t,
        c: t.talk,
        l: t.live,
        me: Some(Me::from(&admin)),
        page: "inbox",
        css_version: css_version(),
        waiting: waiting.len(),
        sections: [
            (t.talk.status_waiting, waiting),
            (t.talk.status_human, human),
            (t.live.recent_ai, recent),
        ]
        .into_iter()
        .filter(|(_, rows)| !rows.is_empty())
        .collect(),
    })
}

/// The inbox's events for the member's tenants; while it is open, they count as online.
pub async fn events(
    State(state): State<AppState>,
    admin: Admin,
    headers: HeaderMap,
    handover: Option<Handover>,
) -> Result<Response, ApiError> {
    let ids = admin.tenants(&state).await?.iter().map(|t| t.id).collect();
    let events = state
        .engine
        .follow_inbox(ids, sse::last_event_id(&headers))
        .await;
    Ok(sse::response(events, handover))
}

/// One conversation's events, as its visitor gets them.
pub async fn conversation_events(
    State(state): State<AppState>,
    admin: Admin,
    Path(public_id): Path<String>,
    headers: HeaderMap,
    handover: Option<Handover>,
) -> Result<Response, ApiError> {
    let (_, conv) = admin.conversation(&state, &public_id).await?;
    let events = state
        .engine
        .subscribe(&conv, sse::last_event_id(&headers))
        .await?;
    Ok(sse::response(events, handover))
}

/// What the team can do on a conversation's page, and what was typed when it was refused.
pub struct Panel {
    pub l: &'static Live,
    pub conversation: String,
    pub tenant_slug: String,
    pub can_take: bool,
    pub can_hand_back: bool,
    pub can_close: bool,
    pub members: Vec<(i64, String, bool)>,
    pub notes: Vec<(String, When, String)>,
    pub canned: Vec<(String, String)>,
    pub contact: Option<String>,
    pub draft: Draft,
}

/// A form the team sent that was refused, with what they typed.
#[derive(Default)]
pub struct Draft {
    pub reply: String,
    pub reply_error: Option<&'static str>,
    /// Someone else is answering: their name, to ask before taking it from them.
    pub taken_by: Option<String>,
    pub note: String,
    pub note_error: Option<&'static str>,
}

impl Panel {
    /// The panel of `conv`, for the member `admin`; reading it marks the visitor's messages read.
    pub async fn of(
        state: &AppState,
        admin: &Admin,
        l: &'static Live,
        (tenant, conv): (&Tenant, &Conversation),
        draft: Draft,
    ) -> Result<Panel, ApiError> {
        state.engine.mark_read(conv).await?;
        let (tenant_id, id, slug) = (tenant.id, conv.id, tenant.slug.clone());
        let (row, notes, canned, users) = state
            .db
            .read(move |c| {
                Ok((
                    inbox::row_of(c, tenant_id, id)?,
                    inbox::notes(c, tenant_id, id)?,
                    inbox::canned(c, tenant_id)?,
                    admins::list(c)?,
                ))
            })
            .await?;
        let status = row.status;
        let mine = status == ConversationStatus::Human && row.assignee_id == Some(admin.user.id);
        Ok(Panel {
            l,
            conversation: row.public_id,
            tenant_slug: tenant.slug.clone(),
            can_take: !mine,
            can_hand_back: matches!(
                status,
                ConversationStatus::WaitingHuman | ConversationStatus::Human
            ),
            can_close: status != ConversationStatus::Closed,
            members: users
                .into_iter()
                .filter(|u| u.disabled_at.is_none())
                .filter(|u| u.role == crate::vocab::Role::Owner || u.tenants.contains(&slug))
                .map(|u| {
                    let chosen = row.assignee_id == Some(u.id);
                    (u.id, u.display_name().to_owned(), chosen)
                })
                .collect(),
            notes: notes
                .into_iter()
                .map(|n| (n.author, When::of(n.created_at), n.text))
                .collect(),
            canned: canned.into_iter().map(|c| (c.shortcut, c.text)).collect(),
            contact: row.contact_email,
            draft,
        })
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Said {
    text: String,
    /// Set when the member confirmed taking it from whoever is answering.
    confirm: String,
    /// The member to assign it to; empty for nobody.
    to: String,
}

fn takeover(form: &Said) -> Takeover {
    if form.confirm.is_empty() {
        Takeover::Ask
    } else {
        Takeover::Confirmed
    }
}

fn back_to(public_id: &str) -> Response {
    Redirect::to(&format!("/admin/conversations/{public_id}")).into_response()
}

/// The conversation's page again, with what was refused and why.
async fn refused(
    state: AppState,
    admin: Admin,
    lang: Lang,
    public_id: String,
    mut draft: Draft,
    e: ChatError,
    status: StatusCode,
) -> Result<Response, ApiError> {
    let l = lang.text().live;
    let error = match &e {
        ChatError::Invalid {
            code: "empty_message",
            ..
        } => Some(l.empty_text),
        ChatError::Invalid {
            code: "message_too_long",
            ..
        } => Some(l.too_long),
        ChatError::Taken { by } => {
            draft.taken_by = Some(by.clone());
            None
        }
        ChatError::Conflict {
            code: "conversation_closed",
            ..
        } => Some(l.closed),
        _ => return Err(e.into()),
    };
    if draft.note.is_empty() {
        draft.reply_error = error;
    } else {
        draft.note_error = error;
    }
    let mut page = conversations::page(&state, &admin, lang, &public_id, draft).await?;
    *page.status_mut() = status;
    Ok(page)
}

pub async fn take_over(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(public_id): Path<String>,
    Form(form): Form<Said>,
) -> Result<Response, ApiError> {
    let (tenant, conv) = admin.conversation(&state, &public_id).await?;
    let taken = state
        .engine
        .take_over(&tenant, conv, admin.operator(), takeover(&form))
        .await;
    match taken {
        Ok(_) => Ok(back_to(&public_id)),
        Err(e) => {
            refused(
                state,
                admin,
                lang,
                public_id,
                Draft::default(),
                e,
                StatusCode::CONFLICT,
            )
            .await
        }
    }
}

pub async fn reply(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(public_id): Path<String>,
    Form(form): Form<Said>,
) -> Result<Response, ApiError> {
    let (tenant, conv) = admin.conversation(&state, &public_id).await?;
    let sent = state
        .engine
        .reply_as_operator(&tenant, conv, admin.operator(), &form.text, takeover(&form))
        .await;
    match sent {
        Ok(_) => Ok(back_to(&public_id)),
        Err(e) => {
            let status = match e {
                ChatError::Conflict { .. } | ChatError::Taken { .. } => StatusCode::CONFLICT,
                _ => StatusCode::UNPROCESSABLE_ENTITY,
            };
            let draft = Draft {
                reply: form.text,
                ..Draft::default()
            };
            refused(state, admin, lang, public_id, draft, e, status).await
        }
    }
}

pub async fn note(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(public_id): Path<String>,
    Form(form): Form<Said>,
) -> Result<Response, ApiError> {
    let (tenant, conv) = admin.conversation(&state, &public_id).await?;
    let added = state
        .engine
        .add_note(&tenant, &conv, &admin.operator(), &form.text)
        .await;
    match added {
        Ok(_) => Ok(back_to(&public_id)),
        Err(e) => {
            // Kept as typed (a blank note keeps a space, so the error lands by the notes).
            let draft = Draft {
                note: if form.text.is_empty() {
                    " ".into()
                } else {
                    form.text
                },
                ..Draft::default()
            };
            let status = StatusCode::UNPROCESSABLE_ENTITY;
            refused(state, admin, lang, public_id, draft, e, status).await
        }
    }
}

pub async fn hand_back(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(public_id): Path<String>,
) -> Result<Response, ApiError> {
    let (tenant, conv) = admin.conversation(&state, &public_id).await?;
    match state
        .engine
        .hand_back(&tenant, conv, admin.operator())
        .await
    {
        Ok(_) => Ok(back_to(&public_id)),
        Err(e) => {
            let status = StatusCode::CONFLICT;
            refused(state, admin, lang, public_id, Draft::default(), e, status).await
        }
    }
}

pub async fn close(
    State(state): State<AppState>,
    admin: Admin,
    Path(public_id): Path<String>,
) -> Result<Response, ApiError> {
    let (tenant, conv) = admin.conversation(&state, &public_id).await?;
    state.engine.close(&tenant, conv, admin.operator()).await?;
    Ok(back_to(&public_id))
}

pub async fn assign(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    Path(public_id): Path<String>,
    Form(form): Form<Said>,
) -> Result<Response, ApiError> {
    let (tenant, conv) = admin.conversation(&state, &public_id).await?;
    let to = match form.to.parse::<i64>() {
        Ok(id) => {
            let user = state.db.read(move |c| admins::get(c, id)).await?;
            // Only someone who serves the tenant.
            if user.disabled_at.is_some()
                || (user.role != crate::vocab::Role::Owner && !user.tenants.contains(&tenant.slug))
            {
                return Err(ApiError::not_found("member"));
            }
            Some((user.id, user.display_name().to_owned()))
        }
        Err(_) => None,
    };
    match state
        .engine
        .assign(&tenant, conv, admin.operator(), to)
        .await
    {
        Ok(_) => Ok(back_to(&public_id)),
        Err(e) => {
            let status = StatusCode::CONFLICT;
            refused(state, admin, lang, public_id, Draft::default(), e, status).await
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct Typing {
    on: String,
}

/// The member is typing a reply (the admin's script says so); the visitor sees it.
pub async fn typing(
    State(state): State<AppState>,
    admin: Admin,
    Path(public_id): Path<String>,
    Form(form): Form<Typing>,
) -> Result<StatusCode, ApiError> {
    let (_, conv) = admin.conversation(&state, &public_id).await?;
    if conv.status == ConversationStatus::Human {
        state
            .engine
            .operator_typing(&conv, &admin.operator(), form.on == "1");
    }
    Ok(StatusCode::NO_CONTENT)
}
