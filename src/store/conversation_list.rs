//! The team's view of conversations: a page of them newest first (by the last message), filtered
//! and searched, and one conversation's whole transcript with what each reply took and cost.
//! Every query is scoped to the tenants the caller names: the member's, checked before.

use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};

use super::conversations::{ConversationStatus, MessageStatus, Role};
use super::{Result, StoreError};
use crate::formation::Formation;

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The tenants to look in; never empty for a real request (an empty list finds nothing).
    pub tenants: Vec<i64>,
    pub status: Option<ConversationStatus>,
    /// Last active at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Last active before (Unix ms).
    pub to_ms: Option<i64>,
    /// Only conversations that were handed to the team at some point.
    pub handed_over: bool,
    /// Words the conversation's messages contain (each a prefix), if searching.
    pub query: Option<String>,
    /// Where the previous page ended (`Cursor::encode`).
    pub after: Option<Cursor>,
}

/// Where a page ended: the last conversation's activity and id, or (searching) the last hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cursor {
    Listed { updated_at: i64, id: i64 },
    Hit { message_id: i64 },
}

impl Cursor {
    pub fn encode(&self) -> String {
        match self {
            Cursor::Listed { updated_at, id } => format!("{updated_at}.{id}"),
            Cursor::Hit { message_id } => format!("m{message_id}"),
        }
    }

    pub fn decode(s: &str) -> Option<Cursor> {
        if let Some(id) = s.strip_prefix('m') {
            return Some(Cursor::Hit {
                message_id: id.parse().ok()?,
            });
        }
        let (at, id) = s.split_once('.')?;
        Some(Cursor::Listed {
            updated_at: at.parse().ok()?,
            id: id.parse().ok()?,
        })
    }
}

/// A conversation in the list.
#[derive(Debug, Clone)]
pub struct Listed {
    pub public_id: String,
    pub tenant_id: i64,
    pub status: ConversationStatus,
    pub page_url: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub handed_over_at: Option<i64>,
    pub messages: i64,
    /// The first message's text, shortened.
    pub first_text: String,
    /// Searching: the matching text, split into plain and matched pieces.
    pub snippet: Vec<(String, bool)>,
}

/// A page of conversations and where the next one starts, if there is one.
pub struct ListPage {
    pub rows: Vec<Listed>,
    pub next: Option<Cursor>,
}

const LISTED: &str = "SELECT c.id, c.public_id, c.tenant_id, c.status, c.page_url, c.created_at,
    c.updated_at, c.handed_over_at,
    (SELECT count(*) FROM messages n WHERE n.conversation_id = c.id),
    coalesce((SELECT substr(f.text, 1, 160) FROM messages f WHERE f.conversation_id = c.id ORDER BY f.id LIMIT 1), '')";

fn listed(r: &Row) -> rusqlite::Result<(i64, Listed)> {
    Ok((
        r.get(0)?,
        Listed {
            public_id: r.get(1)?,
            tenant_id: r.get(2)?,
            status: r.get(3)?,
            page_url: r.get(4)?,
            created_at: r.get(5)?,
            updated_at: r.get(6)?,
            handed_over_at: r.get(7)?,
            messages: r.get(8)?,
            first_text: r.get(9)?,
            snippet: Vec::new(),
        },
    ))
}

/// The FTS5 query for what a person typed: every word a quoted prefix, all of them required.
fn match_expression(query: &str) -> Option<String> {
    let words: Vec<String> = query
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(10)
        .map(|w| format!("\"{w}\"*"))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// The conditions on `c` every page applies, and their arguments (numbered from `first`).
fn conditions(f: &Filter, args: &mut Vec<Value>) -> String {
    let mut sql = String::new();
    let list = vec!["?"; f.tenants.len()].join(",");
    // One tenant: its index gives the order. Several: the global order index, filtered.
    if f.tenants.len() == 1 {
        sql.push_str(" AND c.tenant_id = ?");
    } else {
        sql.push_str(&format!(" AND +c.tenant_id IN ({list})"));
    }
    args.extend(f.tenants.iter().map(|id| Value::Integer(*id)));
    if let Some(status) = f.status {
        sql.push_str(" AND c.status = ?");
        args.push(Value::Text(status.as_str().to_owned()));
    }
    if let Some(from) = f.from_ms {
        sql.push_str(" AND c.updated_at >= ?");
        args.push(Value::Integer(from));
    }
    if let Some(to) = f.to_ms {
        sql.push_str(" AND c.updated_at < ?");
        args.push(Value::Integer(to));
    }
    if f.handed_over {
        sql.push_str(" AND c.handed_over_at IS NOT NULL");
    }
    sql
}

/// Up to `limit` conversations matching `f`, newest first.
pub fn list(c: &Connection, f: &Filter, limit: usize) -> Result<ListPage> {
    if f.tenants.is_empty() {
        return Ok(ListPage {
            rows: Vec::new(),
            next: None,
        });
    }
    if let Some(q) = f.query.as_deref().and_then(match_expression) {
        return search(c, f, &q, limit);
    }
    let mut args = Vec::new();
    let mut sql = format!("{LISTED} FROM conversations c WHERE 1");
    sql.push_str(&conditions(f, &mut args));
    if let Some(Cursor::Listed { updated_at, id }) = f.after {
        sql.push_str(" AND (c.updated_at, c.id) < (?, ?)");
        args.extend([Value::Integer(updated_at), Value::Integer(id)]);
    }
    sql.push_str(&format!(
        " ORDER BY c.updated_at DESC, c.id DESC LIMIT {}",
        limit + 1
    ));
    let mut rows: Vec<(i64, Listed)> = c
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args), listed)?
        .collect::<rusqlite::Result<_>>()?;
    let next = (rows.len() > limit).then(|| {
        rows.truncate(limit);
        let (id, last) = rows.last().expect("a full page");
        Cursor::Listed {
            updated_at: last.updated_at,
            id: *id,
        }
    });
    Ok(ListPage {
        rows: rows.into_iter().map(|(_, l)| l).collect(),
        next,
    })
}

/// Conversations whose messages match, by their newest matching message, newest first. The
/// hits are read newest first and stop at a full page, so a common word costs no more than a
/// rare one. A conversation with hits on both sides of a page's end is listed on both pages.
fn search(c: &Connection, f: &Filter, expression: &str, limit: usize) -> Result<ListPage> {
    let mut args = vec![Value::Text(expression.to_owned())];
    let mut sql = String::from(
        "SELECT m.id, m.conversation_id,
            snippet(messages_fts, 0, char(2), char(3), '…', 16)
         FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid
         JOIN conversations c ON c.id = m.conversation_id
         WHERE messages_fts MATCH ?",
    );
    sql.push_str(&conditions(f, &mut args).replace("+c.tenant_id", "c.tenant_id"));
    if let Some(Cursor::Hit { message_id }) = f.after {
        sql.push_str(" AND messages_fts.rowid < ?");
        args.push(Value::Integer(message_id));
    }
    sql.push_str(" ORDER BY messages_fts.rowid DESC");
    let mut stmt = c.prepare_cached(&sql)?;
    let mut hits = stmt.query(params_from_iter(args))?;
    let mut found: Vec<(i64, i64, String)> = Vec::new();
    let mut next = None;
    while let Some(r) = hits.next()? {
        let (message_id, conversation_id): (i64, i64) = (r.get(0)?, r.get(1)?);
        if found.iter().any(|(_, conv, _)| *conv == conversation_id) {
            continue;
        }
        if found.len() == limit {
            next = found.last().map(|(m, _, _)| Cursor::Hit { message_id: *m });
            break;
        }
        found.push((message_id, conversation_id, r.get(2)?));
    }
    drop(hits);
    let mut one = c.prepare_cached(&format!("{LISTED} FROM conversations c WHERE c.id = ?1"))?;
    let mut rows = Vec::with_capacity(found.len());
    for (_, conversation_id, snippet) in found {
        let (_, mut l) = one.query_row(params![conversation_id], listed)?;
        l.snippet = pieces(&snippet);
        rows.push(l);
    }
    Ok(ListPage { rows, next })
}

/// A snippet marked with \x02…\x03 as plain and matched pieces.
fn pieces(marked: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (i, part) in marked.split('\u{2}').enumerate() {
        match part.split_once('\u{3}') {
            Some((hit, rest)) if i > 0 => {
                out.push((hit.to_owned(), true));
                if !rest.is_empty() {
                    out.push((rest.to_owned(), false));
                }
            }
            _ if !part.is_empty() => out.push((part.to_owned(), false)),
            _ => {}
        }
    }
    out
}

/// A conversation as the team sees it.
#[derive(Debug, Clone)]
pub struct Header {
    pub id: i64,
    pub public_id: String,
    pub tenant_id: i64,
    pub status: ConversationStatus,
    pub assignee_name: Option<String>,
    pub page_url: Option<String>,
    pub page_title: Option<String>,
    pub locale: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub handed_over_at: Option<i64>,
}

/// A message with what it took and cost.
#[derive(Debug, Clone)]
pub struct Said {
    pub public_id: String,
    pub role: Role,
    pub text: String,
    pub formation: Option<Formation>,
    pub status: MessageStatus,
    pub operator_name: Option<String>,
    pub responder: Option<String>,
    pub first_token_ms: Option<i64>,
    pub latency_ms: Option<i64>,
    pub prompt_tokens: Option<i64>,
    pub completion_tokens: Option<i64>,
    pub cost_micros: Option<i64>,
    pub created_at: i64,
}

/// The most messages a transcript page shows (the newest).
pub const TRANSCRIPT_LIMIT: i64 = 1000;

/// The conversation `public_id` if it is one of the `tenants`', and its messages oldest first
/// (the newest `TRANSCRIPT_LIMIT`); `NotFound` otherwise.
pub fn transcript(c: &Connection, tenants: &[i64], public_id: &str) -> Result<(Header, Vec<Said>)> {
    let header = c
        .prepare_cached(
            "SELECT c.id, c.public_id, c.tenant_id, c.status, u.display_name, c.page_url,
                c.page_title, c.locale, c.created_at, c.updated_at, c.handed_over_at
             FROM conversations c LEFT JOIN admin_users u ON u.id = c.assignee_id
             WHERE c.public_id = ?1",
        )?
        .query_row(params![public_id], |r| {
            Ok(Header {
                id: r.get(0)?,
                public_id: r.get(1)?,
                tenant_id: r.get(2)?,
                status: r.get(3)?,
                assignee_name: r.get(4)?,
                page_url: r.get(5)?,
                page_title: r.get(6)?,
                locale: r.get(7)?,
                created_at: r.get(8)?,
                updated_at: r.get(9)?,
                handed_over_at: r.get(10)?,
            })
        })
        .optional()?
        .filter(|h| tenants.contains(&h.tenant_id))
        .ok_or_else(|| StoreError::NotFound("conversation".into()))?;
    let mut stmt = c.prepare_cached(&format!(
        "SELECT * FROM (
            SELECT m.id, m.public_id, m.role, m.text, m.formation, m.status,
                COALESCE(m.operator_name, u.display_name), m.responder, m.first_token_ms,
                m.latency_ms, m.prompt_tokens, m.completion_tokens, m.cost_micros, m.created_at
            FROM messages m LEFT JOIN admin_users u ON u.id = m.operator_id
            WHERE m.conversation_id = ?1 AND m.tenant_id = ?2
            ORDER BY m.id DESC LIMIT {TRANSCRIPT_LIMIT}
         ) ORDER BY 1"
    ))?;
    let said = stmt
        .query_map(params![header.id, header.tenant_id], |r| {
            let formation: Option<String> = r.get(4)?;
            Ok(Said {
                public_id: r.get(1)?,
                role: r.get(2)?,
                text: r.get(3)?,
                formation: formation.and_then(|f| serde_json::from_str(&f).ok()),
                status: r.get(5)?,
                operator_name: r.get(6)?,
                responder: r.get(7)?,
                first_token_ms: r.get(8)?,
                latency_ms: r.get(9)?,
                prompt_tokens: r.get(10)?,
                completion_tokens: r.get(11)?,
                cost_micros: r.get(12)?,
                created_at: r.get(13)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok((header, said))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_words_become_quoted_prefixes() {
        assert_eq!(
            match_expression(r#"red "tent" OR NEAR(x"#).as_deref(),
            Some(r#""red"* "tent"* "OR"* "NEAR"* "x"*"#)
        );
        assert_eq!(match_expression(" -* "), None);
    }

    #[test]
    fn snippets_split_into_marked_pieces() {
        assert_eq!(
            pieces("a \u{2}tent\u{3} for \u{2}two\u{3}"),
            vec![
                ("a ".to_owned(), false),
                ("tent".to_owned(), true),
                (" for ".to_owned(), false),
                ("two".to_owned(), true),
            ]
        );
    }

    #[test]
    fn cursors_round_trip() {
        for c in [
            Cursor::Listed {
                updated_at: 17,
                id: 4,
            },
            Cursor::Hit { message_id: 9 },
        ] {
            assert_eq!(Cursor::decode(&c.encode()), Some(c));
        }
        assert_eq!(Cursor::decode("x"), None);
    }
}
