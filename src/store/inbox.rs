//! The team's live side of conversations: the inbox's rows (waiting first, then those a person
//! has, then the AI's latest), unread counts, internal notes, canned replies, the email a
//! visitor left, the waits that ran out, and how long the team usually takes to answer.
//! Every query is scoped to the tenants the caller names, checked before.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde::Serialize;

use super::conversations::{ConversationStatus, Role};
use super::{Result, StoreError, now_ms};

/// How long a visitor waits for a person when the tenant sets nothing.
pub const DEFAULT_HANDOFF_TIMEOUT_SECS: i64 = 300;

/// A conversation as the inbox lists it and its live events carry it.
#[derive(Debug, Clone, Serialize)]
pub struct InboxRow {
    #[serde(rename = "conversation")]
    pub public_id: String,
    #[serde(skip)]
    pub tenant_id: i64,
    pub status: ConversationStatus,
    /// The person it is assigned to, by the name the visitor sees.
    pub assignee: Option<String>,
    #[serde(skip)]
    pub assignee_id: Option<i64>,
    /// Since when (Unix ms) the visitor has been waiting for a person.
    pub waiting_since: Option<i64>,
    pub updated_at: i64,
    /// The visitor's messages the team has not read.
    pub unread: i64,
    /// The last thing said, shortened, and by whom.
    pub text: String,
    pub role: Option<Role>,
    pub page_url: Option<String>,
    pub contact_email: Option<String>,
}

const ROW: &str = "SELECT c.public_id, c.tenant_id, c.status, coalesce(u.display_name, u.email),
    c.assignee_id, c.waiting_since, c.updated_at,
    (SELECT count(*) FROM messages m WHERE m.conversation_id = c.id AND m.id > c.team_read_id AND m.role = 'visitor'),
    l.text, l.role, c.page_url, c.contact_email
    FROM conversations c LEFT JOIN admin_users u ON u.id = c.assignee_id
    LEFT JOIN messages l ON l.id = (SELECT max(x.id) FROM messages x WHERE x.conversation_id = c.id AND x.role != 'system')";

fn row(r: &Row) -> rusqlite::Result<InboxRow> {
    let text: Option<String> = r.get(8)?;
    Ok(InboxRow {
        public_id: r.get(0)?,
        tenant_id: r.get(1)?,
        status: r.get(2)?,
        assignee: r.get(3)?,
        assignee_id: r.get(4)?,
        waiting_since: r.get(5)?,
        updated_at: r.get(6)?,
        unread: r.get(7)?,
        text: text.map(|t| shortened(&t, 160)).unwrap_or_default(),
        role: r.get(9)?,
        page_url: r.get(10)?,
        contact_email: r.get(11)?,
    })
}

fn shortened(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The conversation `id` of the tenant as the inbox shows it.
pub fn row_of(c: &Connection, tenant_id: i64, id: i64) -> Result<InboxRow> {
    c.prepare_cached(&format!("{ROW} WHERE c.id = ?1 AND c.tenant_id = ?2"))?
        .query_row(params![id, tenant_id], row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound("conversation".into()))
}

/// The inbox of the tenants `tenants`: every conversation waiting for a person (longest
/// waiting first), every one a person has (latest first), then up to `recent` of the AI's
/// latest.
pub fn rows(c: &Connection, tenants: &[i64], recent: usize) -> Result<Vec<InboxRow>> {
    if tenants.is_empty() {
        return Ok(Vec::new());
    }
    let list = vec!["?"; tenants.len()].join(",");
    let ids = || tenants.iter().map(|id| Value::Integer(*id));
    let mut rows: Vec<InboxRow> = c
        .prepare_cached(&format!(
            "{ROW} WHERE c.status IN ('waiting_human', 'human') AND c.tenant_id IN ({list})
             ORDER BY c.status = 'human', c.waiting_since, c.updated_at DESC"
        ))?
        .query_map(params_from_iter(ids()), row)?
        .collect::<rusqlite::Result<_>>()?;
    let recent: Vec<InboxRow> = c
        .prepare_cached(&format!(
            "{ROW} WHERE c.id IN (SELECT id FROM conversations WHERE status = 'ai'
                AND tenant_id IN ({list}) ORDER BY updated_at DESC LIMIT {recent})
             ORDER BY c.updated_at DESC"
        ))?
        .query_map(params_from_iter(ids()), row)?
        .collect::<rusqlite::Result<_>>()?;
    rows.extend(recent);
    Ok(rows)
}

/// The team has read everything the visitor said so far.
pub fn mark_read(c: &Connection, tenant_id: i64, id: i64) -> Result<bool> {
    Ok(c.prepare_cached(
        "UPDATE conversations SET team_read_id = coalesce(
            (SELECT max(m.id) FROM messages m WHERE m.conversation_id = ?1), 0)
         WHERE id = ?1 AND tenant_id = ?2 AND team_read_id != coalesce(
            (SELECT max(m.id) FROM messages m WHERE m.conversation_id = ?1), 0)",
    )?
    .execute(params![id, tenant_id])?
        == 1)
}

/// Keeps the email a visitor left for the team.
pub fn set_contact(c: &Connection, tenant_id: i64, id: i64, email: &str) -> Result<()> {
    c.prepare_cached(
        "UPDATE conversations SET contact_email = ?1 WHERE id = ?2 AND tenant_id = ?3",
    )?
    .execute(params![email, id, tenant_id])?;
    Ok(())
}

/// A visitor who has waited for a person longer than their tenant's timeout.
#[derive(Debug, Clone)]
pub struct Wait {
    pub tenant_id: i64,
    pub slug: String,
    pub locale: String,
    pub public_id: String,
}

/// The visitors whose wait for a person ran out at `now_ms`.
pub fn waits_run_out(c: &Connection, now_ms: i64) -> Result<Vec<Wait>> {
    Ok(c.prepare_cached(
        "SELECT t.id, t.slug, t.locale, c.public_id
         FROM conversations c JOIN tenants t ON t.id = c.tenant_id
         WHERE c.status = 'waiting_human'
           AND c.waiting_since + 1000 * coalesce(t.handoff_timeout_secs, ?2) <= ?1",
    )?
    .query_map(params![now_ms, DEFAULT_HANDOFF_TIMEOUT_SECS], |r| {
        Ok(Wait {
            tenant_id: r.get(0)?,
            slug: r.get(1)?,
            locale: r.get(2)?,
            public_id: r.get(3)?,
        })
    })?
    .collect::<rusqlite::Result<_>>()?)
}

/// The median time (ms) from waiting to a person taking over, over the tenant's latest 200
/// take-overs; none before the first.
pub fn usual_wait_ms(c: &Connection, tenant_id: i64) -> Result<Option<i64>> {
    let mut waits: Vec<i64> = c
        .prepare_cached(
            "SELECT taken_over_at - handed_over_at FROM conversations
             WHERE tenant_id = ?1 AND taken_over_at IS NOT NULL AND handed_over_at IS NOT NULL
             ORDER BY taken_over_at DESC LIMIT 200",
        )?
        .query_map([tenant_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    waits.sort_unstable();
    Ok(waits.get(waits.len() / 2).map(|w| (*w).max(0)))
}

/// A note the team wrote about a conversation.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub id: i64,
    #[serde(rename = "conversation")]
    pub conversation_public_id: String,
    pub author: String,
    pub text: String,
    pub created_at: i64,
}

/// Adds a note by `author` to the tenant's conversation `id`.
pub fn add_note(
    c: &Connection,
    tenant_id: i64,
    id: i64,
    author: (Option<i64>, &str),
    text: &str,
) -> Result<Note> {
    let now = now_ms();
    let public_id: String = c
        .prepare_cached("SELECT public_id FROM conversations WHERE id = ?1 AND tenant_id = ?2")?
        .query_row(params![id, tenant_id], |r| r.get(0))
        .optional()?
        .ok_or_else(|| StoreError::NotFound("conversation".into()))?;
    c.prepare_cached(
        "INSERT INTO conversation_notes (tenant_id, conversation_id, author_id, author_name, text, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![tenant_id, id, author.0, author.1, text, now])?;
    Ok(Note {
        id: c.last_insert_rowid(),
        conversation_public_id: public_id,
        author: author.1.to_owned(),
        text: text.to_owned(),
        created_at: now,
    })
}

/// The notes on the tenant's conversation `id`, oldest first.
pub fn notes(c: &Connection, tenant_id: i64, id: i64) -> Result<Vec<Note>> {
    Ok(c.prepare_cached(
        "SELECT n.id, c.public_id, n.author_name, n.text, n.created_at
             FROM conversation_notes n JOIN conversations c ON c.id = n.conversation_id
             WHERE n.conversation_id = ?1 AND n.tenant_id = ?2 ORDER BY n.id",
    )?
    .query_map(params![id, tenant_id], |r| {
        Ok(Note {
            id: r.get(0)?,
            conversation_public_id: r.get(1)?,
            author: r.get(2)?,
            text: r.get(3)?,
            created_at: r.get(4)?,
        })
    })?
    .collect::<rusqlite::Result<_>>()?)
}

/// A tenant's ready answer.
#[derive(Debug, Clone)]
pub struct CannedReply {
    pub id: i64,
    pub shortcut: String,
    pub text: String,
}

/// The longest canned reply shortcut, in characters.
pub const MAX_SHORTCUT: usize = 40;

/// Adds or replaces the tenant's canned reply `shortcut` (letters, digits, `-` and `_`).
pub fn save_canned(c: &Connection, tenant_id: i64, shortcut: &str, text: &str) -> Result<()> {
    let shortcut = shortcut.trim().trim_start_matches('/');
    let fine = |ch: char| ch.is_alphanumeric() || ch == '-' || ch == '_';
    if shortcut.is_empty() || shortcut.chars().count() > MAX_SHORTCUT || !shortcut.chars().all(fine)
    {
        return Err(StoreError::Invalid(format!(
            "A shortcut is 1-{MAX_SHORTCUT} letters, digits, - or _."
        )));
    }
    if text.trim().is_empty() {
        return Err(StoreError::Invalid("The reply's text is empty.".into()));
    }
    c.prepare_cached(
        "INSERT INTO canned_replies (tenant_id, shortcut, text, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (tenant_id, shortcut) DO UPDATE SET text = excluded.text",
    )?
    .execute(params![tenant_id, shortcut, text.trim(), now_ms()])?;
    Ok(())
}

/// Removes the tenant's canned reply `id`.
pub fn remove_canned(c: &Connection, tenant_id: i64, id: i64) -> Result<()> {
    match c
        .prepare_cached("DELETE FROM canned_replies WHERE id = ?1 AND tenant_id = ?2")?
        .execute(params![id, tenant_id])?
    {
        0 => Err(StoreError::NotFound("canned reply".into())),
        _ => Ok(()),
    }
}

/// The tenant's canned replies by shortcut.
pub fn canned(c: &Connection, tenant_id: i64) -> Result<Vec<CannedReply>> {
    Ok(c.prepare_cached(
        "SELECT id, shortcut, text FROM canned_replies WHERE tenant_id = ?1 ORDER BY shortcut",
    )?
    .query_map([tenant_id], |r| {
        Ok(CannedReply {
            id: r.get(0)?,
            shortcut: r.get(1)?,
            text: r.get(2)?,
        })
    })?
    .collect::<rusqlite::Result<_>>()?)
}
