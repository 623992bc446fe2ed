//! SQLite storage: one writer connection on its own thread (queued writes commit together),
//! a small read pool, and sync repository functions per aggregate. The only async boundary is
//! [`Db::read`] / [`Db::write`].

pub mod admins;
pub mod analytics;
pub mod audit;
pub mod backup;
pub mod catalog;
pub mod conversation_list;
pub mod conversations;
pub mod inbox;
pub mod kb;
pub mod keys;
mod migrations;
pub mod tenants;
pub mod usage;

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use serde::Serialize;
use tokio::sync::{Semaphore, oneshot};

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

/// A text column that holds one of a known set of names: an unknown one (written by a newer
/// keepstar, or by hand) is an error that names it, never a silent default.
pub(crate) fn named<T>(
    v: rusqlite::types::ValueRef<'_>,
    what: &str,
    from_name: fn(&str) -> Option<T>,
) -> rusqlite::types::FromSqlResult<T> {
    let name = v.as_str()?;
    from_name(name).ok_or_else(|| {
        rusqlite::types::FromSqlError::Other(
            format!("unknown {what} {name:?} in the database").into(),
        )
    })
}

/// A JSON column read as `T`; one that does not read is an error that says why.
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    r: &rusqlite::Row,
    column: usize,
) -> rusqlite::Result<T> {
    let text: String = r.get(column)?;
    serde_json::from_str(&text).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, e.into())
    })
}

/// Every word of the vocabulary is stored as its name.
macro_rules! stored_by_name {
    ($($word:ty),*) => {$(
        impl rusqlite::types::FromSql for $word {
            fn column_result(
                v: rusqlite::types::ValueRef<'_>,
            ) -> rusqlite::types::FromSqlResult<Self> {
                use crate::vocab::Named;
                named(v, <$word>::WHAT, <$word>::from_name)
            }
        }
    )*};
}
stored_by_name!(
    crate::vocab::Locale,
    crate::vocab::Provider,
    crate::vocab::OverBudget,
    crate::vocab::Position,
    crate::vocab::Role
);

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportSummary {
    pub added: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub removed: usize,
}

const READERS: usize = 4;
/// The most queued writes the writer commits in one transaction.
const BATCH: usize = 64;
/// How often the checkpointer copies committed pages from the WAL into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// A handle to the database, cheap to clone.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

struct Inner {
    /// Owns the writer connection and runs the queued writes.
    writer: Worker<Job>,
    /// Copies the WAL back into the database file, off the writer's path.
    _checkpointer: Worker<()>,
    readers: Mutex<Vec<Connection>>,
    reader_permits: Semaphore,
}

/// A write waiting for the writer thread. It gets the batch's open transaction (or the error
/// that kept the batch from starting) and, when what it wrote is to be kept, returns how to
/// answer its caller once the batch's commit is known.
type Job = Box<dyn FnOnce(Result<&Transaction, &rusqlite::Error>) -> Option<Settle> + Send>;
/// Answers a write's caller with the outcome of the commit that held it.
type Settle = Box<dyn FnOnce(Result<(), &rusqlite::Error>) + Send>;

/// A thread fed by a queue. Dropping it closes the queue and waits for the thread to end, so
/// its connection is closed (and the WAL checkpointed) when the last `Db` is gone.
struct Worker<T> {
    queue: Option<mpsc::Sender<T>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl<T: Send + 'static> Worker<T> {
    fn start(
        name: &str,
        run: impl FnOnce(mpsc::Receiver<T>) + Send + 'static,
    ) -> Result<Worker<T>> {
        let (queue, receiver) = mpsc::channel();
        let thread = thread::Builder::new()
            .name(format!("keepstar-{name}"))
            .spawn(move || run(receiver))
            .map_err(|source| StoreError::Io {
                context: format!("starting the database {name}"),
                source,
            })?;
        Ok(Worker {
            queue: Some(queue),
            thread: Some(thread),
        })
    }
}

impl<T> Drop for Worker<T> {
    fn drop(&mut self) {
        drop(self.queue.take());
        if let Some(t) = self.thread.take()
            && t.thread().id() != thread::current().id()
        {
            let _ = t.join();
        }
    }
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
        // SQLite would otherwise checkpoint inside every COMMIT that finds the WAL past 1000
        // pages: the copy and its fsync, on the writer, while every queued write waits.
        writer.pragma_update(None, "wal_autocheckpoint", 0)?;
        // Room for the savepoint statements beside the repositories' cached ones.
        writer.set_prepared_statement_cache_capacity(64);
        let checkpoints = connect(path, false)?;
        let readers = (0..READERS)
            .map(|_| connect(path, true))
            .collect::<Result<Vec<_>>>()?;
        Ok(Db {
            inner: Arc::new(Inner {
                writer: Worker::start("writer", move |queue| write_queued(writer, &queue))?,
                _checkpointer: Worker::start("checkpointer", move |stop| {
                    checkpoint_now_and_then(&checkpoints, &stop);
                })?,
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
            let conn = crate::sync::lock(&inner.readers).pop();
            let conn = conn.ok_or_else(|| StoreError::Task("reader pool empty".into()))?;
            let out = f(&conn);
            crate::sync::lock(&inner.readers).push(conn);
            out
        })
        .await
        .map_err(|e| StoreError::Task(e.to_string()))?
    }

    /// Runs `f` atomically on the writer and returns once it is committed; if `f` fails, nothing
    /// it wrote is kept. Writes queued together share one transaction (`BEGIN IMMEDIATE`), each
    /// in its own savepoint, so one failing write undoes only itself.
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

    async fn transaction<T, F>(&self, f: F, keep: bool) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> Result<T> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |batch| {
            let tx = match batch {
                Ok(tx) => tx,
                Err(e) => {
                    let _ = reply.send(Err(same_error(e)));
                    return None;
                }
            };
            match in_savepoint(tx, f, keep) {
                Ok(out) if keep => {
                    Some(Box::new(move |committed: Result<(), &rusqlite::Error>| {
                        let _ = reply.send(committed.map(|()| out).map_err(same_error));
                    }))
                }
                // Failed or rehearsed: undone already, whatever the batch does.
                done => {
                    let _ = reply.send(done);
                    None
                }
            }
        });
        let stopped = || StoreError::Task("the database writer has stopped".into());
        self.inner
            .writer
            .queue
            .as_ref()
            .ok_or_else(stopped)?
            .send(job)
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }
}

/// The writer thread: takes what is queued (up to [`BATCH`]) and commits it together, until
/// every `Db` is gone.
fn write_queued(mut conn: Connection, queue: &mpsc::Receiver<Job>) {
    let mut batch = VecDeque::with_capacity(BATCH);
    while let Ok(job) = queue.recv() {
        batch.push_back(job);
        batch.extend(queue.try_iter().take(BATCH - 1));
        while !batch.is_empty() {
            commit_batch(&mut conn, &mut batch);
        }
    }
}

/// The checkpointer thread: a passive checkpoint every [`CHECKPOINT_EVERY`] until every `Db` is
/// gone. Passive means it copies what no reader still needs and never waits for the writer or
/// a reader; a checkpoint that cannot run now runs next time.
fn checkpoint_now_and_then(conn: &Connection, stop: &mpsc::Receiver<()>) {
    while let Err(mpsc::RecvTimeoutError::Timeout) = stop.recv_timeout(CHECKPOINT_EVERY) {
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    }
}

/// Runs the batch's jobs in one transaction and commits it. If SQLite rolls the transaction
/// back on its own (some errors do, e.g. a full disk), the jobs run so far fail and the rest
/// are left in `batch` for a fresh transaction.
fn commit_batch(conn: &mut Connection, batch: &mut VecDeque<Job>) {
    let tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => tx,
        Err(e) => {
            for job in batch.drain(..) {
                job(Err(&e));
            }
            return;
        }
    };
    let mut settles = Vec::with_capacity(batch.len());
    while let Some(job) = batch.pop_front() {
        settles.extend(job(Ok(&tx)));
        if tx.is_autocommit() {
            let e = rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ABORT),
                Some("the transaction was rolled back".into()),
            );
            for settle in settles {
                settle(Err(&e));
            }
            return;
        }
    }
    let committed = tx.commit();
    for settle in settles {
        settle(committed.as_ref().map(|_| ()));
    }
}

/// Runs `f` inside a savepoint of the batch's transaction, keeping what it wrote only when it
/// succeeds and `keep` is set.
fn in_savepoint<T>(
    tx: &Transaction,
    f: impl FnOnce(&Transaction) -> Result<T>,
    keep: bool,
) -> Result<T> {
    savepoint(tx, "SAVEPOINT write")?;
    // A panicking write fails alone, and the writer thread goes on.
    let out = std::panic::catch_unwind(AssertUnwindSafe(|| f(tx))).unwrap_or_else(|panic| {
        let what = crate::sync::panic_message(&*panic);
        Err(StoreError::Task(format!(
            "a database write panicked: {what}"
        )))
    });
    let undo = |tx: &Transaction| {
        // Fails harmlessly when SQLite has already rolled the whole transaction back.
        let _ = savepoint(tx, "ROLLBACK TO write").and_then(|()| savepoint(tx, "RELEASE write"));
    };
    match out {
        Ok(value) if keep => match savepoint(tx, "RELEASE write") {
            Ok(()) => Ok(value),
            Err(e) => {
                undo(tx);
                Err(e.into())
            }
        },
        out => {
            undo(tx);
            out
        }
    }
}

/// Runs a savepoint statement, parsed once per connection rather than on every write.
fn savepoint(tx: &Transaction, sql: &str) -> rusqlite::Result<()> {
    tx.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// A copy of a SQLite error for each caller it concerns.
fn same_error(e: &rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::SqliteFailure(code, message) => {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(*code, message.clone()))
        }
        other => StoreError::Task(other.to_string()),
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

#[cfg(test)]
mod tests {
    use super::*;

    async fn scratch() -> (tempfile::TempDir, Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(&dir.path().join("k.db"), OnOpen::Migrate).unwrap();
        db.write(|c| Ok(c.execute_batch("CREATE TABLE t (x INTEGER PRIMARY KEY)")?))
            .await
            .unwrap();
        (dir, db)
    }

    async fn stored(db: &Db) -> Vec<i64> {
        db.read(|c| {
            let mut stmt = c.prepare("SELECT x FROM t ORDER BY x")?;
            let rows = stmt.query_map([], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<Vec<i64>>>()?)
        })
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn writes_queued_together_fail_alone() {
        let (_dir, db) = scratch().await;
        // Sent at once, so the writer finds them queued together.
        let writes = (1..=12).map(|i: i64| {
            let db = db.clone();
            async move {
                db.write(move |c| {
                    c.execute("INSERT INTO t VALUES (?1)", [i])?;
                    match i % 4 {
                        0 => Err(StoreError::Invalid(format!("no {i}"))),
                        // A statement that fails after this write's own insert.
                        1 => Ok(c.execute("INSERT INTO t VALUES (?1)", [i]).map(|_| i)?),
                        _ => Ok(i),
                    }
                })
                .await
            }
        });
        let results = futures_util::future::join_all(writes).await;
        for (i, result) in (1..=12).zip(&results) {
            match i % 4 {
                0 => assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}"),
                1 => assert!(matches!(result, Err(StoreError::Sqlite(_))), "{result:?}"),
                _ => assert_eq!(result.as_ref().ok(), Some(&i)),
            }
        }
        assert_eq!(stored(&db).await, [2, 3, 6, 7, 10, 11]);
    }

    #[tokio::test]
    async fn a_rehearsal_sees_its_writes_and_keeps_none() {
        let (_dir, db) = scratch().await;
        db.write(|c| Ok(c.execute("INSERT INTO t VALUES (1)", [])?))
            .await
            .unwrap();
        let seen = db
            .rehearse(|c| {
                c.execute("INSERT INTO t VALUES (2)", [])?;
                Ok(c.query_row("SELECT count(*) FROM t", [], |r| r.get::<_, i64>(0))?)
            })
            .await
            .unwrap();
        assert_eq!(seen, 2);
        assert_eq!(stored(&db).await, [1]);
    }

    #[tokio::test]
    async fn a_panicking_write_fails_alone_and_the_writer_goes_on() {
        let (_dir, db) = scratch().await;
        let panicked = db
            .write(|c| -> Result<()> {
                c.execute("INSERT INTO t VALUES (1)", [])?;
                panic!("boom")
            })
            .await;
        assert!(matches!(panicked, Err(StoreError::Task(_))), "{panicked:?}");
        db.write(|c| Ok(c.execute("INSERT INTO t VALUES (2)", [])?))
            .await
            .unwrap();
        assert_eq!(stored(&db).await, [2]);
    }
}
