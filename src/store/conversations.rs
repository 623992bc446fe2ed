//! Visitors, their conversations, and the messages in them. Every query is scoped by tenant.

use rusqlite::types::{FromSql, FromSqlResult, ValueRef};
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use utoipa::ToSchema;

use super::{Result, StoreError, analytics, named, now_ms};
use crate::formation::Formation;
use crate::token;

/// A visitor of one tenant, known by the hash of the secret their browser keeps.
#[derive(Debug, Clone)]
pub struct Visitor {
    pub id: i64,
    pub tenant_id: i64,
}

/// Finds the visitor whose secret is `presented` within the tenant, or creates a new one.
/// Returns the visitor and the secret to hand back (a new one when `presented` was unknown).
pub fn resolve_visitor(
    c: &Connection,
    tenant_id: i64,
    presented: Option<&str>,
) -> Result<(Visitor, String)> {
    let now = now_ms();
    if let Some(secret) = presented.filter(|s| s.len() >= 16 && s.len() <= 100) {
        let found: Option<i64> = c
            .query_row(
                "SELECT id FROM visitors WHERE token_hash = ?1 AND tenant_id = ?2",
                params![token::sha256(secret), tenant_id],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = found {
            c.prepare_cached("UPDATE visitors SET last_seen_at = ?1 WHERE id = ?2")?
                .execute(params![now, id])?;
            return Ok((Visitor { id, tenant_id }, secret.to_owned()));
        }
    }
    let secret = format!("v_{}", token::random_base62(32));
    c.prepare_cached(        "INSERT INTO visitors (tenant_id, token_hash, first_seen_at, last_seen_at) VALUES (?1, ?2, ?3, ?3)")?.execute(
        params![tenant_id, token::sha256(&secret), now],
    )?;
    Ok((
        Visitor {
            id: c.last_insert_rowid(),
            tenant_id,
        },
        secret,
    ))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    Ai,
    WaitingHuman,
    Human,
    Closed,
}

impl ConversationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Ai => "ai",
            ConversationStatus::WaitingHuman => "waiting_human",
            ConversationStatus::Human => "human",
            ConversationStatus::Closed => "closed",
        }
    }
    pub fn from_name(s: &str) -> Option<ConversationStatus> {
        Some(match s {
            "ai" => ConversationStatus::Ai,
            "waiting_human" => ConversationStatus::WaitingHuman,
            "human" => ConversationStatus::Human,
            "closed" => ConversationStatus::Closed,
            _ => return None,
        })
    }
}

impl FromSql for ConversationStatus {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        named(v, "conversation status", ConversationStatus::from_name)
    }
}

#[derive(Debug, Clone)]
pub struct Conversation {
    pub id: i64,
    pub public_id: String,
    pub tenant_id: i64,
    pub visitor_id: i64,
    pub status: ConversationStatus,
    /// The admin user the conversation is assigned to, while a person has it.
    pub assignee: Option<i64>,
}

/// Where the visitor was when the conversation started.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub url: Option<String>,
    pub title: Option<String>,
}

const CONVERSATION: &str =
    "SELECT id, public_id, tenant_id, visitor_id, status, assignee_id FROM conversations";

fn conversation(r: &Row) -> rusqlite::Result<Conversation> {
    Ok(Conversation {
        id: r.get(0)?,
        public_id: r.get(1)?,
        tenant_id: r.get(2)?,
        visitor_id: r.get(3)?,
        status: r.get(4)?,
        assignee: r.get(5)?,
    })
}

/// The visitor's conversation `public_id`; another visitor's or tenant's is `NotFound`.
pub fn get_for_visitor(c: &Connection, v: &Visitor, public_id: &str) -> Result<Conversation> {
    c.prepare_cached(&format!(
        "{CONVERSATION} WHERE public_id = ?1 AND tenant_id = ?2 AND visitor_id = ?3"
    ))?
    .query_row(params![public_id, v.tenant_id, v.id], conversation)
    .optional()?
    .ok_or_else(|| StoreError::NotFound("conversation".into()))
}

/// The tenant's conversation `public_id`, whichever visitor's; another tenant's is `NotFound`.
pub fn get_for_tenant(c: &Connection, tenant_id: i64, public_id: &str) -> Result<Conversation> {
    c.prepare_cached(&format!(
        "{CONVERSATION} WHERE public_id = ?1 AND tenant_id = ?2"
    ))?
    .query_row(params![public_id, tenant_id], conversation)
    .optional()?
    .ok_or_else(|| StoreError::NotFound("conversation".into()))
}

/// The conversation `public_id` if it belongs to one of `tenants`; `NotFound` otherwise.
pub fn get_in(c: &Connection, tenants: &[i64], public_id: &str) -> Result<Conversation> {
    c.prepare_cached(&format!("{CONVERSATION} WHERE public_id = ?1"))?
        .query_row(params![public_id], conversation)
        .optional()?
        .filter(|conv| tenants.contains(&conv.tenant_id))
        .ok_or_else(|| StoreError::NotFound("conversation".into()))
}

/// The visitor's most recent conversation that is not closed.
pub fn latest_open(c: &Connection, v: &Visitor) -> Result<Option<Conversation>> {
    Ok(c.prepare_cached(&format!(
        "{CONVERSATION} WHERE tenant_id = ?1 AND visitor_id = ?2 AND status != 'closed'
             ORDER BY updated_at DESC, id DESC LIMIT 1"
    ))?
    .query_row(params![v.tenant_id, v.id], conversation)
    .optional()?)
}

pub fn create(c: &Connection, v: &Visitor, page: &Page, locale: &str) -> Result<Conversation> {
    let now = now_ms();
    let public_id = token::public_id("c");
    c.prepare_cached(        "INSERT INTO conversations (public_id, tenant_id, visitor_id, page_url, page_title, locale, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)")?.execute(
        params![public_id, v.tenant_id, v.id, page.url, page.title, locale, now],
    )?;
    analytics::conversation_started(c, v.tenant_id, now)?;
    get_for_visitor(c, v, &public_id)
}

pub fn set_status(
    c: &Connection,
    tenant_id: i64,
    id: i64,
    status: ConversationStatus,
) -> Result<()> {
    let now = now_ms();
    c.prepare_cached(
        "UPDATE conversations SET status = ?1, updated_at = ?2,
            closed_at = CASE WHEN ?1 = 'closed' THEN ?2 END,
            waiting_since = CASE WHEN ?1 = 'waiting_human' THEN coalesce(waiting_since, ?2) END,
            taken_over_at = CASE WHEN ?1 = 'human' AND status != 'human' THEN ?2 ELSE taken_over_at END
         WHERE id = ?3 AND tenant_id = ?4",
    )?
    .execute(params![status.as_str(), now, id, tenant_id])?;
    if matches!(
        status,
        ConversationStatus::WaitingHuman | ConversationStatus::Human
    ) {
        let first = c
            .prepare_cached(
                "UPDATE conversations SET handed_over_at = ?1
                 WHERE id = ?2 AND tenant_id = ?3 AND handed_over_at IS NULL",
            )?
            .execute(params![now, id, tenant_id])?;
        if first == 1 {
            analytics::handed_over(c, tenant_id, now)?;
        }
    }
    Ok(())
}

/// Assigns the conversation to an admin user, or to nobody.
pub fn assign(c: &Connection, tenant_id: i64, id: i64, assignee: Option<i64>) -> Result<()> {
    c.prepare_cached("UPDATE conversations SET assignee_id = ?1 WHERE id = ?2 AND tenant_id = ?3")?
        .execute(params![assignee, id, tenant_id])?;
    Ok(())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Visitor,
    Assistant,
    Operator,
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Visitor => "visitor",
            Role::Assistant => "assistant",
            Role::Operator => "operator",
            Role::System => "system",
        }
    }
    fn from_name(s: &str) -> Option<Role> {
        Some(match s {
            "visitor" => Role::Visitor,
            "assistant" => Role::Assistant,
            "operator" => Role::Operator,
            "system" => Role::System,
            _ => return None,
        })
    }
}

impl FromSql for Role {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        named(v, "message role", Role::from_name)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    Complete,
    Interrupted,
    Failed,
}

impl MessageStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Complete => "complete",
            MessageStatus::Interrupted => "interrupted",
            MessageStatus::Failed => "failed",
        }
    }
    fn from_name(s: &str) -> Option<MessageStatus> {
        Some(match s {
            "complete" => MessageStatus::Complete,
            "interrupted" => MessageStatus::Interrupted,
            "failed" => MessageStatus::Failed,
            _ => return None,
        })
    }
}

impl FromSql for MessageStatus {
    fn column_result(v: ValueRef<'_>) -> FromSqlResult<Self> {
        named(v, "message status", MessageStatus::from_name)
    }
}

/// A message as the widget sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Message {
    pub id: String,
    pub conversation_id: String,
    pub role: Role,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formation: Option<Formation>,
    pub status: MessageStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator_name: Option<String>,
    /// Unix milliseconds.
    pub created_at: i64,
}

/// A message to store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub public_id: String,
    pub role: Role,
    pub text: String,
    pub formation: Option<Formation>,
    pub client_id: Option<String>,
    pub status: MessageStatus,
    pub responder: Option<String>,
    pub first_token_ms: Option<i64>,
    pub latency_ms: Option<i64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_micros: Option<i64>,
    /// The admin user who wrote an operator's message, when it was one.
    pub operator_id: Option<i64>,
    /// The name the visitor sees on an operator's message.
    pub operator_name: Option<String>,
}

impl NewMessage {
    pub fn new(role: Role, text: String) -> NewMessage {
        NewMessage {
            public_id: token::public_id("m"),
            role,
            text,
            formation: None,
            client_id: None,
            status: MessageStatus::Complete,
            responder: None,
            first_token_ms: None,
            latency_ms: None,
            prompt_tokens: None,
            completion_tokens: None,
            cost_micros: None,
            operator_id: None,
            operator_name: None,
        }
    }
}

const MESSAGE: &str =
    "SELECT m.id, m.public_id, c.public_id, m.role, m.text, m.formation, m.status, m.client_id,
    COALESCE(m.operator_name, u.display_name), m.created_at
    FROM messages m JOIN conversations c ON c.id = m.conversation_id
    LEFT JOIN admin_users u ON u.id = m.operator_id";

fn message(r: &Row) -> rusqlite::Result<(i64, Message)> {
    let formation: Option<String> = r.get(5)?;
    Ok((
        r.get(0)?,
        Message {
            id: r.get(1)?,
            conversation_id: r.get(2)?,
            role: r.get(3)?,
            text: r.get(4)?,
            // Written only from a typed Formation; an unreadable one is shown as text alone.
            formation: formation.and_then(|f| serde_json::from_str(&f).ok()),
            status: r.get(6)?,
            client_id: r.get(7)?,
            operator_name: r.get(8)?,
            created_at: r.get(9)?,
        },
    ))
}

/// Stores a message and touches its conversation.
pub fn insert(c: &Connection, conv: &Conversation, m: &NewMessage) -> Result<Message> {
    let now = now_ms();
    let formation = m
        .formation
        .as_ref()
        .map(|f| serde_json::to_string(f).expect("formation serialises"));
    c.prepare_cached(        "INSERT INTO messages (public_id, tenant_id, conversation_id, role, text, formation, client_id, status,
            responder, first_token_ms, latency_ms, prompt_tokens, completion_tokens, cost_micros,
            operator_id, operator_name, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)")?.execute(
        params![
            m.public_id,
            conv.tenant_id,
            conv.id,
            m.role.as_str(),
            m.text,
            formation,
            m.client_id,
            m.status.as_str(),
            m.responder,
            m.first_token_ms,
            m.latency_ms,
            m.prompt_tokens,
            m.completion_tokens,
            m.cost_micros,
            m.operator_id,
            m.operator_name,
            now
        ],
    )?;
    c.prepare_cached("UPDATE conversations SET updated_at = ?1 WHERE id = ?2")?
        .execute(params![now, conv.id])?;
    analytics::message_stored(c, conv.tenant_id, now, m.first_token_ms)?;
    get(c, conv, &m.public_id)
}

/// The message `client_id` the visitor already sent in this conversation, if any.
pub fn find_by_client_id(
    c: &Connection,
    conv: &Conversation,
    client_id: &str,
) -> Result<Option<Message>> {
    Ok(c.prepare_cached(&format!(
        "{MESSAGE} WHERE m.conversation_id = ?1 AND m.tenant_id = ?2 AND m.client_id = ?3"
    ))?
    .query_row(params![conv.id, conv.tenant_id, client_id], message)
    .optional()?
    .map(|(_, m)| m))
}

pub fn get(c: &Connection, conv: &Conversation, public_id: &str) -> Result<Message> {
    c.prepare_cached(&format!(
        "{MESSAGE} WHERE m.public_id = ?1 AND m.conversation_id = ?2 AND m.tenant_id = ?3"
    ))?
    .query_row(params![public_id, conv.id, conv.tenant_id], message)
    .optional()?
    .map(|(_, m)| m)
    .ok_or_else(|| StoreError::NotFound("message".into()))
}

/// Up to `limit` messages before the message `before` (or the newest), oldest first,
/// and whether older ones exist.
pub fn history(
    c: &Connection,
    conv: &Conversation,
    before: Option<&str>,
    limit: i64,
) -> Result<(Vec<Message>, bool)> {
    let before_id: i64 = match before {
        Some(public_id) => c
            .query_row(
                "SELECT id FROM messages WHERE public_id = ?1 AND conversation_id = ?2 AND tenant_id = ?3",
                params![public_id, conv.id, conv.tenant_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::NotFound("message".into()))?,
        None => i64::MAX,
    };
    // Every LLM turn reads its prompt's history here. The limit is written into the SQL: with a
    // bound LIMIT, SQLite prepares the statement anew on every run, cached or not.
    let mut stmt = c.prepare_cached(&format!(
        "{MESSAGE} WHERE m.conversation_id = ?1 AND m.tenant_id = ?2 AND m.id < ?3 ORDER BY m.id DESC LIMIT {}",
        limit + 1
    ))?;
    let mut rows: Vec<Message> = stmt
        .query_map(params![conv.id, conv.tenant_id, before_id], message)?
        .map(|r| r.map(|(_, m)| m))
        .collect::<rusqlite::Result<_>>()?;
    let has_more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    rows.reverse();
    Ok((rows, has_more))
}

/// Messages stored at or after `since_ms`, oldest first: the fallback when a resumed event
/// stream reaches further back than the live buffer.
pub fn since(
    c: &Connection,
    tenant_id: i64,
    conversation_id: i64,
    since_ms: i64,
) -> Result<Vec<Message>> {
    let mut stmt = c.prepare(&format!(
        "{MESSAGE} WHERE m.conversation_id = ?1 AND m.tenant_id = ?2 AND m.created_at >= ?3 ORDER BY m.id"
    ))?;
    let rows = stmt
        .query_map(params![conversation_id, tenant_id, since_ms], message)?
        .map(|r| r.map(|(_, m)| m))
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
