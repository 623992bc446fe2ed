//! `keepstar backup` and `keepstar restore`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::support::Kit;

fn populated() -> Kit {
    let kit = Kit::init();
    for slug in ["shop", "magazin"] {
        kit.run(&[
            "tenant",
            "add",
            slug,
            "--name",
            slug,
            "--origin",
            &format!("https://{slug}.example"),
        ])
        .ok();
        kit.run(&["key", "issue", slug]).ok();
        kit.run(&["key", "issue", slug, "--secret"]).ok();
    }
    kit
}

#[test]
fn a_backup_of_a_populated_database_restores_to_the_same_state() {
    let kit = populated();
    let state = kit.dump();
    kit.run(&["backup", "snap.db"]).ok();
    kit.run(&["tenant", "remove", "shop", "--yes"]).ok();
    kit.run(&["tenant", "add", "late", "--name", "Late"]).ok();
    assert_ne!(kit.dump(), state);

    let run = kit.run(&["restore", "snap.db", "--yes"]).ok();
    assert!(run.stdout.contains("kept at"), "{}", run.stdout);
    assert_eq!(kit.dump(), state);
    kit.run(&["tenant", "show", "shop"]).ok();
    kit.run(&["tenant", "show", "late"]).fails_with("not found");
    // The replaced database is kept, not lost.
    let kept: Vec<_> = std::fs::read_dir(kit.path().join("data"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("pre-restore"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
}

#[test]
fn backup_is_consistent_while_another_process_writes() {
    let kit = populated();
    let db = kit.db_path();
    // Another connection holds an open write transaction the backup must not see...
    let holder = rusqlite::Connection::open(&db).unwrap();
    holder
        .execute_batch("BEGIN IMMEDIATE; UPDATE tenants SET name = 'uncommitted';")
        .unwrap();
    // ...while a third writes committed rows as fast as it can (waiting for the lock).
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let c = rusqlite::Connection::open(&db).unwrap();
            c.busy_timeout(std::time::Duration::from_secs(10)).unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                c.execute(
                    "INSERT INTO audit_log (actor, action, created_at) VALUES ('test', 'noise', 0)",
                    [],
                )
                .unwrap();
                n += 1;
            }
            n
        })
    };
    kit.run(&["backup", "during.db"]).ok();
    holder.execute_batch("COMMIT").unwrap();
    kit.run(&["backup", "after.db"]).ok();
    stop.store(true, Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);

    let during = rusqlite::Connection::open(kit.path().join("during.db")).unwrap();
    let check: String = during
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let uncommitted: i64 = during
        .query_row(
            "SELECT count(*) FROM tenants WHERE name = 'uncommitted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(uncommitted, 0, "the backup saw an uncommitted write");
    let after = rusqlite::Connection::open(kit.path().join("after.db")).unwrap();
    let committed: i64 = after
        .query_row(
            "SELECT count(*) FROM tenants WHERE name = 'uncommitted'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(committed, 2);
}

#[test]
fn backup_refusals_leave_no_file() {
    let kit = populated();
    kit.run(&["backup", "missing-dir/x.db"])
        .fails_with("does not exist");
    // Under a regular file: unwritable for every user, root included.
    std::fs::write(kit.path().join("file"), "x").unwrap();
    kit.run(&["backup", "file/x.db"])
        .fails_with("does not exist");

    kit.run(&["backup", "snap.db"]).ok();
    let before = std::fs::read(kit.path().join("snap.db")).unwrap();
    kit.run(&["tenant", "add", "more", "--name", "More"]).ok();
    kit.run(&["backup", "snap.db"]).fails_with("already exists");
    assert_eq!(std::fs::read(kit.path().join("snap.db")).unwrap(), before);
    kit.run(&["backup", "snap.db", "--force"]).ok();
    assert_ne!(std::fs::read(kit.path().join("snap.db")).unwrap(), before);
    let leftovers = std::fs::read_dir(kit.path()).unwrap().filter(|e| {
        e.as_ref()
            .unwrap()
            .file_name()
            .to_string_lossy()
            .contains("partial")
    });
    assert_eq!(leftovers.count(), 0);
}

#[test]
fn restore_refuses_what_it_cannot_verify_and_changes_nothing() {
    let kit = populated();
    let state = kit.dump();
    kit.run(&["backup", "good.db"]).ok();

    std::fs::write(
        kit.path().join("text.db"),
        "not a database at all, just text",
    )
    .unwrap();
    kit.run(&["restore", "text.db", "--yes"])
        .fails_with("not a usable keepstar backup");

    let good = std::fs::read(kit.path().join("good.db")).unwrap();
    std::fs::write(kit.path().join("half.db"), &good[..good.len() / 2]).unwrap();
    kit.run(&["restore", "half.db", "--yes"])
        .fails_with("not a usable keepstar backup");

    let other = rusqlite::Connection::open(kit.path().join("other.db")).unwrap();
    other
        .execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
        .unwrap();
    drop(other);
    kit.run(&["restore", "other.db", "--yes"])
        .fails_with("no keepstar schema");

    kit.run(&["restore", "nope.db", "--yes"])
        .fails_with("not found");
    kit.run(&["restore", "good.db"])
        .fails_with("needs confirmation");

    assert_eq!(kit.dump(), state);
    assert!(
        std::fs::read_dir(kit.path().join("data"))
            .unwrap()
            .all(|e| {
                !e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .contains("pre-restore")
            })
    );
}

#[test]
fn restore_refuses_while_keepstar_holds_the_database() {
    let kit = populated();
    kit.run(&["backup", "good.db"]).ok();
    let lock = keepstar::store::backup::lock(&kit.db_path()).unwrap();
    kit.run(&["restore", "good.db", "--yes"])
        .fails_with("in use by a running keepstar");
    drop(lock);
    kit.run(&["restore", "good.db", "--yes"]).ok();
}
