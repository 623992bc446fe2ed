//! The audit log: who changed what, kept when a tenant is removed.

use rusqlite::{Connection, params};

use super::{Result, now_ms};

/// One audit entry. `details` must never contain a secret.
pub struct Entry<'a> {
    pub tenant: Option<(i64, &'a str)>,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub details: serde_json::Value,
}

pub fn record(c: &Connection, e: Entry<'_>) -> Result<()> {
    c.execute(
        "INSERT INTO audit_log (tenant_id, tenant_slug, actor, action, target, details, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            e.tenant.map(|t| t.0),
            e.tenant.map(|t| t.1),
            e.actor,
            e.action,
            e.target,
            e.details.to_string(),
            now_ms()
        ],
    )?;
    Ok(())
}

/// One entry as the audit page shows it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub id: i64,
    /// The tenant's slug as it was when the entry was written (kept after the tenant is gone).
    pub tenant: Option<String>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    /// JSON, never a secret.
    pub details: String,
    pub created_at: i64,
}

/// Which entries to read; `None` leaves a filter out.
#[derive(Debug, Default)]
pub struct Filter {
    /// The tenants whose entries may be shown (an operator's); `None`: every entry (an owner's).
    pub visible: Option<Vec<i64>>,
    /// A tenant's slug.
    pub tenant: Option<String>,
    /// Part of the actor (`admin:anna@shop.example`, `cli:root`).
    pub actor: Option<String>,
    /// An action (`admin.set`) or a group of them (`admin`).
    pub action: Option<String>,
    /// Only entries older than this one (the cursor).
    pub before: Option<i64>,
}

/// The most entries one page shows.
pub const PAGE: usize = 50;

/// Up to [`PAGE`] + 1 entries that match, newest first (the extra one says there are more).
pub fn list(c: &Connection, f: &Filter) -> Result<Vec<Recorded>> {
    let visible = f
        .visible
        .as_ref()
        .map(|ids| serde_json::Value::from(ids.clone()).to_string());
    // The limit is written into the SQL: SQLite re-prepares a cached statement whose LIMIT is bound.
    let sql = format!(
        "SELECT id, tenant_slug, actor, action, target, details, created_at FROM audit_log
         WHERE (?1 IS NULL OR tenant_id IN (SELECT value FROM json_each(?1)))
           AND (?2 IS NULL OR tenant_slug = ?2)
           AND (?3 IS NULL OR instr(actor, ?3) > 0)
           AND (?4 IS NULL OR action = ?4 OR substr(action, 1, length(?4) + 1) = ?4 || '.')
           AND (?5 IS NULL OR id < ?5)
         ORDER BY id DESC LIMIT {}",
        PAGE + 1
    );
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt
        .query_map(
            params![visible, f.tenant, f.actor, f.action, f.before],
            |r| {
                Ok(Recorded {
                    id: r.get(0)?,
                    tenant: r.get(1)?,
                    actor: r.get(2)?,
                    action: r.get(3)?,
                    target: r.get(4)?,
                    details: r.get(5)?,
                    created_at: r.get(6)?,
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
