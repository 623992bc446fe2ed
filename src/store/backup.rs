//! Online backup and verified restore of the database file.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

use super::{MigrationStatus, Result, StoreError, connect, migrations, now_ms};

fn io(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// Writes a consistent copy of the live database to `dest`, even while another process
/// writes to it (`VACUUM INTO` reads one snapshot). The copy appears at `dest` only when whole.
pub fn backup(db: &Path, dest: &Path, overwrite: bool) -> Result<u64> {
    if dest.exists() && !overwrite {
        return Err(StoreError::Conflict(format!(
            "{} already exists",
            dest.display()
        )));
    }
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(StoreError::Invalid(format!(
            "directory {} does not exist",
            dir.display()
        )));
    }
    let partial = dir.join(format!(
        ".{}.partial-{}",
        dest.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        crate::token::random_base62(8)
    ));
    let result = (|| {
        let conn = connect(db, true)?;
        let target = partial
            .to_str()
            .ok_or_else(|| StoreError::Invalid("backup path is not UTF-8".into()))?;
        conn.execute("VACUUM INTO ?1", [target])
            .map_err(|e| match e {
                rusqlite::Error::SqliteFailure(f, msg)
                    if f.code == rusqlite::ErrorCode::CannotOpen =>
                {
                    StoreError::Invalid(format!(
                        "cannot write {}: {}",
                        dest.display(),
                        msg.unwrap_or_else(|| "unable to open file".into())
                    ))
                }
                e => StoreError::Sqlite(e),
            })?;
        drop(conn);
        File::open(&partial)
            .and_then(|f| f.sync_all())
            .map_err(io(format!("cannot sync {}", partial.display())))?;
        fs::rename(&partial, dest).map_err(io(format!("cannot write {}", dest.display())))?;
        Ok(fs::metadata(dest).map(|m| m.len()).unwrap_or(0))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&partial);
    }
    result
}

/// Checks that `file` is a healthy keepstar database this binary can use.
pub fn verify(file: &Path) -> Result<MigrationStatus> {
    if !file.is_file() {
        return Err(StoreError::NotFound(format!(
            "backup file {}",
            file.display()
        )));
    }
    let not_keepstar = |why: String| {
        StoreError::Invalid(format!(
            "{} is not a usable keepstar backup: {why}",
            file.display()
        ))
    };
    let conn = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| not_keepstar(e.to_string()))?;
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| not_keepstar(e.to_string()))?;
    if check != "ok" {
        return Err(not_keepstar(format!("integrity check failed: {check}")));
    }
    let status = migrations::status(&conn)?;
    if status.applied.is_empty() {
        return Err(not_keepstar("it has no keepstar schema".into()));
    }
    if let Some(version) = status.unknown.first() {
        return Err(StoreError::TooNew { version: *version });
    }
    Ok(status)
}

/// Holds an advisory lock on a database while a server uses it (released on drop).
pub struct DbLock(#[allow(dead_code)] File);

/// Takes the database's lock file; fails while another keepstar holds it.
pub fn lock(db: &Path) -> Result<DbLock> {
    let path = db.with_extension("lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(io(format!("cannot open {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(DbLock(file)),
        Err(fs::TryLockError::WouldBlock) => Err(StoreError::Conflict(format!(
            "{} is in use by a running keepstar",
            db.display()
        ))),
        Err(fs::TryLockError::Error(e)) => Err(io(format!("cannot lock {}", path.display()))(e)),
    }
}

/// What a restore did.
#[derive(Debug, serde::Serialize)]
pub struct Restored {
    /// Migrations applied to the restored copy to bring it up to this binary.
    pub migrated: Vec<i64>,
    /// Where the database that was replaced now lives.
    pub previous: Option<PathBuf>,
}

/// Replaces the database at `db` with a verified, migrated copy of `file`.
/// The replaced database is kept next to it as `*.pre-restore-<time>`.
pub fn restore(file: &Path, db: &Path) -> Result<Restored> {
    verify(file)?;
    let _lock = lock(db)?;
    let staged = db.with_extension("restoring");
    let _ = fs::remove_file(&staged);
    let result = (|| {
        // The backup API copies pages through SQLite, so a source with a WAL comes out whole.
        let source = Connection::open_with_flags(file, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        source.backup(rusqlite::MAIN_DB, &staged, None)?;
        drop(source);
        let mut conn = connect(&staged, false)?;
        let migrated = migrations::run(&mut conn)?;
        conn.pragma_update(None, "journal_mode", "DELETE")?;
        drop(conn);

        let previous = if db.exists() {
            let conn = connect(db, false)?;
            conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
            conn.pragma_update(None, "journal_mode", "DELETE")?;
            drop(conn);
            let kept = db.with_extension(format!("db.pre-restore-{}", now_ms()));
            fs::rename(db, &kept).map_err(io(format!("cannot move {}", db.display())))?;
            Some(kept)
        } else {
            None
        };
        fs::rename(&staged, db)
            .map_err(io(format!("cannot move {} into place", staged.display())))?;
        Ok(Restored { migrated, previous })
    })();
    if result.is_err() {
        let _ = fs::remove_file(&staged);
    }
    result
}
