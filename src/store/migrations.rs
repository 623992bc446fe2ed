//! Schema migrations, embedded from `migrations/` at compile time (see build.rs).

use rusqlite::Connection;

use super::{Result, StoreError};

mod embedded {
    refinery::embed_migrations!("migrations");
}

/// Where a database stands against the migrations this binary carries.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MigrationStatus {
    /// Versions applied to the database.
    pub applied: Vec<i64>,
    /// Versions this binary has that the database lacks.
    pub pending: Vec<i64>,
    /// Versions the database has that this binary does not know (written by a newer keepstar).
    pub unknown: Vec<i64>,
}

fn known_versions() -> Vec<i64> {
    embedded::migrations::runner()
        .get_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .collect()
}

/// Reads the migration status without changing anything.
pub fn status(conn: &Connection) -> Result<MigrationStatus> {
    let has_history: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'refinery_schema_history')",
        [],
        |r| r.get(0),
    )?;
    let applied: Vec<i64> = if has_history {
        let mut stmt =
            conn.prepare("SELECT version FROM refinery_schema_history ORDER BY version")?;
        stmt.query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    } else {
        Vec::new()
    };
    let known = known_versions();
    Ok(MigrationStatus {
        pending: known
            .iter()
            .copied()
            .filter(|v| !applied.contains(v))
            .collect(),
        unknown: applied
            .iter()
            .copied()
            .filter(|v| !known.contains(v))
            .collect(),
        applied,
    })
}

/// Applies pending migrations; returns the versions applied now.
pub fn run(conn: &mut Connection) -> Result<Vec<i64>> {
    if let Some(version) = status(conn)?.unknown.first() {
        return Err(StoreError::TooNew { version: *version });
    }
    let report = embedded::migrations::runner().run(conn)?;
    Ok(report
        .applied_migrations()
        .iter()
        .map(|m| i64::from(m.version()))
        .collect())
}
