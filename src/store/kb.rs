//! The knowledge base: a tenant's FAQ entries and their full-text index.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{ImportSummary, Result, StoreError, audit, now_ms};
use crate::{text, token};

/// One knowledge-base entry as read from a file, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct KbRow {
    /// 1-based line in the file where the entry starts.
    pub line: usize,
    pub title: String,
    pub body: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KbEntry {
    #[serde(rename = "id")]
    pub public_id: String,
    pub title: String,
    pub body: String,
    /// The stemmed words the entry is indexed under.
    #[serde(skip)]
    pub terms: Vec<String>,
}

/// Upserts entries by title; with `replace`, removes entries not in `rows`.
pub fn import(
    c: &Connection,
    tenant_id: i64,
    rows: &[KbRow],
    replace: bool,
) -> Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    let now = now_ms();
    if replace {
        let titles: std::collections::HashSet<&str> =
            rows.iter().map(|r| r.title.as_str()).collect();
        let mut stmt = c.prepare("SELECT id, title FROM kb_entries WHERE tenant_id = ?1")?;
        let existing: Vec<(i64, String)> = stmt
            .query_map([tenant_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, title) in existing {
            if !titles.contains(title.as_str()) {
                c.execute(
                    "DELETE FROM kb_entries WHERE id = ?1 AND tenant_id = ?2",
                    params![id, tenant_id],
                )?;
                summary.removed += 1;
            }
        }
    }
    for row in rows {
        let existing: Option<(i64, String)> = c
            .query_row(
                "SELECT id, body FROM kb_entries WHERE tenant_id = ?1 AND title = ?2",
                params![tenant_id, row.title],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let (search_title, search_body) =
            (text::search_text(&row.title), text::search_text(&row.body));
        match existing {
            Some((_, body)) if body == row.body => summary.unchanged += 1,
            Some((id, _)) => {
                c.execute(
                    "UPDATE kb_entries SET body = ?1, search_title = ?2, search_body = ?3, updated_at = ?4 WHERE id = ?5",
                    params![row.body, search_title, search_body, now, id],
                )?;
                summary.updated += 1;
            }
            None => {
                c.execute(
                    "INSERT INTO kb_entries (public_id, tenant_id, title, body, search_title, search_body, created_at, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
                    params![token::public_id("kb"), tenant_id, row.title, row.body, search_title, search_body, now],
                )?;
                summary.added += 1;
            }
        }
    }
    Ok(summary)
}

/// [`import`], with its entry in the audit log: what the CLI and the admin both run, for real or
/// rehearsed. `who` is the tenant (id, slug) and the actor.
pub fn import_logged(
    c: &Connection,
    who: ((i64, &str), &str),
    rows: &[KbRow],
    replace: bool,
    file: &str,
) -> Result<ImportSummary> {
    let ((tenant_id, slug), actor) = who;
    let summary = import(c, tenant_id, rows, replace)?;
    audit::record(
        c,
        audit::Entry {
            tenant: Some((tenant_id, slug)),
            actor,
            action: "kb.import",
            target: Some(file),
            details: serde_json::json!(summary),
        },
    )?;
    Ok(summary)
}

fn entry(r: &rusqlite::Row) -> rusqlite::Result<KbEntry> {
    let indexed: String = r.get(3)?;
    Ok(KbEntry {
        public_id: r.get(0)?,
        title: r.get(1)?,
        body: r.get(2)?,
        terms: indexed.split_whitespace().map(String::from).collect(),
    })
}

const ENTRY_COLUMNS: &str = "k.public_id, k.title, k.body, k.search_title || ' ' || k.search_body";

/// The tenant's entry `public_id`; another tenant's is `NotFound`.
pub fn get(c: &Connection, tenant_id: i64, public_id: &str) -> Result<KbEntry> {
    c.query_row(
        &format!(
            "SELECT {ENTRY_COLUMNS} FROM kb_entries k WHERE k.public_id = ?1 AND k.tenant_id = ?2"
        ),
        params![public_id, tenant_id],
        entry,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound("entry".into()))
}

/// A page of the tenant's entries by title, and how many there are in all.
pub fn list(
    c: &Connection,
    tenant_id: i64,
    offset: usize,
    limit: usize,
) -> Result<(Vec<KbEntry>, usize)> {
    let total: i64 = c.query_row(
        "SELECT count(*) FROM kb_entries WHERE tenant_id = ?1",
        [tenant_id],
        |r| r.get(0),
    )?;
    let mut stmt = c.prepare(&format!(
        "SELECT {ENTRY_COLUMNS} FROM kb_entries k WHERE k.tenant_id = ?1 ORDER BY k.title LIMIT {limit} OFFSET {offset}"
    ))?;
    let rows = stmt.query_map([tenant_id], entry)?;
    Ok((
        rows.collect::<rusqlite::Result<_>>()?,
        usize::try_from(total).unwrap_or(0),
    ))
}

/// Changes one entry's title and body (unless another entry has the title).
pub fn update(c: &Connection, tenant_id: i64, public_id: &str, row: &KbRow) -> Result<()> {
    let taken: Option<String> = c
        .query_row(
            "SELECT public_id FROM kb_entries WHERE tenant_id = ?1 AND title = ?2 AND public_id <> ?3",
            params![tenant_id, row.title, public_id],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!(
            "another entry has the title {:?}",
            row.title
        )));
    }
    let changed = c.execute(
        "UPDATE kb_entries SET title = ?3, body = ?4, search_title = ?5, search_body = ?6, updated_at = ?7
         WHERE public_id = ?1 AND tenant_id = ?2",
        params![
            public_id,
            tenant_id,
            row.title,
            row.body,
            text::search_text(&row.title),
            text::search_text(&row.body),
            now_ms()
        ],
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound("entry".into()));
    }
    Ok(())
}

/// Removes one entry; another tenant's is `NotFound`.
pub fn delete(c: &Connection, tenant_id: i64, public_id: &str) -> Result<()> {
    let removed = c.execute(
        "DELETE FROM kb_entries WHERE public_id = ?1 AND tenant_id = ?2",
        params![public_id, tenant_id],
    )?;
    if removed == 0 {
        return Err(StoreError::NotFound("entry".into()));
    }
    Ok(())
}

/// Entries sharing any of `terms`, best first by BM25 (titles weigh more).
pub fn search(
    c: &Connection,
    tenant_id: i64,
    terms: &[String],
    limit: usize,
) -> Result<Vec<KbEntry>> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let query: Vec<String> = terms
        .iter()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect();
    // The limit is written into the SQL: with a bound LIMIT, SQLite prepares the statement anew
    // on every run, cached or not (its REPREPARE count grows by one per search).
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {ENTRY_COLUMNS}
         FROM kb_fts f JOIN kb_entries k ON k.id = f.rowid
         WHERE kb_fts MATCH ?1 AND k.tenant_id = ?2
         ORDER BY bm25(kb_fts, 5.0, 1.0) LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(params![query.join(" OR "), tenant_id], entry)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
