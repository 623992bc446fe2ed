//! SQLite storage: one writer connection, a small read pool, and sync repository
//! functions per aggregate. The only async boundary is [`Db::read`] / [`Db::write`].

pub mod audit;
pub mod backup;
pub mod catalog;
pub mod conversations;
pub mod kb;
pub mod keys;
mod migrations;
pub mod tenants;
pub mod usage;

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use serde::Serialize;
use tokio::sync::Semaphore;

pub use migrations::{MigrationStatus, run as migrate, status as migration_status};

/// What went wrong below the application: a refusal the caller can explain, or a fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("the database schema is out of date ({pending} pending migration(s))")]
    Outdated { pending: usize },
    #[error(
        "the database was written by a newer keepstar (migration V{version} is unknown to this binary)"
    )]
    TooNew { version: i64 },
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] refinery::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("database task failed: {0}")]
    Task(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Milliseconds since the Unix epoch, the unit of every `*_at` column.
pub fn now_ms() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp_nanos() as i64 / 1_000_000
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
}

const READERS: usize = 4;

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
    reader_permits: Semaphore,
}

/// Whether opening the database may apply pending migrations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnOpen {
    /// Apply pending migrations (`init`, `migrate`, `serve`).
    Migrate,
    /// Refuse a database that needs migrating (every other command).
    RequireCurrent,
}

impl Db {
    /// Opens (creating when missing) the database at `path`.
    pub fn open(path: &Path, on_open: OnOpen) -> Result<Db> {
        let mut writer = connect(path, false)?;
        match on_open {
            OnOpen::Migrate => {
                migrations::run(&mut writer)?;
            }
            OnOpen::RequireCurrent => {
                let status = migrations::status(&writer)?;
                if let Some(version) = status.unknown.first() {
                    return Err(StoreError::TooNew { version: *version });
                }
                if !status.pending.is_empty() {
                    return Err(StoreError::Outdated {
                        pending: status.pending.len(),
                    });
                }
            }
        }
        let readers = (0..READERS)
            .map(|_| connect(path, true))
            .collect::<Result<Vec<_>>>()?;
        Ok(Db {
            inner: Arc::new(Inner {
                writer: Mutex::new(writer),
                readers: Mutex::new(readers),
                reader_permits: Semaphore::new(READERS),
            }),
        })
    }

    /// Runs `f` on a pooled read-only connection.
    pub async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let _permit = self
            .inner
            .reader_permits
            .acquire()
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            // The permit guarantees a free connection.
            let conn = inner.readers.lock().expect("reader pool").pop();
            let conn = conn.ok_or_else(|| StoreError::Task("reader pool empty".into()))?;
            let out = f(&conn);
            inner.readers.lock().expect("reader pool").push(conn);
            out
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` in an immediate transaction on the writer; commits when it returns `Ok`.
    pub async fn write<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> Result<T> + Send + 'static,
    {
        self.transaction(f, true).await
    }

    /// Runs `f` like [`Db::write`] but rolls everything back: a dry run.
    pub async fn rehearse<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> Result<T> + Send + 'static,
    {
        self.transaction(f, false).await
    }

    async fn transaction<T, F>(&self, f: F, commit: bool) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().unwrap_or_else(|p| p.into_inner());
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let out = f(&tx)?;
            if commit {
                tx.commit()?;
            }
            // Otherwise dropping the transaction rolls it back.
            Ok(out)
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

/// Opens one connection with the pragmas every keepstar connection uses.
pub(crate) fn connect(path: &Path, read_only: bool) -> Result<Connection> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = Connection::open_with_flags(path, flags)?;
    conn.busy_timeout(Duration::from_secs(5))?;
    if !read_only {
        conn.pragma_update(None, "journal_mode", "WAL")?;
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(conn)
}

/// Maps a UNIQUE violation to a [`StoreError::Conflict`] with the caller's sentence.
pub(crate) fn conflict_on_unique(
    err: rusqlite::Error,
    sentence: impl FnOnce() -> String,
) -> StoreError {
    match &err {
        rusqlite::Error::SqliteFailure(e, _)
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            StoreError::Conflict(sentence())
        }
        _ => StoreError::Sqlite(err),
    }
}
