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
