//! The knowledge base: a tenant's FAQ entries and their full-text index.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{ImportSummary, Result, now_ms};
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
        "SELECT k.public_id, k.title, k.body, k.search_title || ' ' || k.search_body
         FROM kb_fts f JOIN kb_entries k ON k.id = f.rowid
         WHERE kb_fts MATCH ?1 AND k.tenant_id = ?2
         ORDER BY bm25(kb_fts, 5.0, 1.0) LIMIT {limit}"
    ))?;
    let rows = stmt.query_map(params![query.join(" OR "), tenant_id], |r| {
        let indexed: String = r.get(3)?;
        Ok(KbEntry {
            public_id: r.get(0)?,
            title: r.get(1)?,
            body: r.get(2)?,
            terms: indexed.split_whitespace().map(String::from).collect(),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
