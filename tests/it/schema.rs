//! The migrated schema: the whole data model, FTS kept in step, tenant ownership, cascades.

use keepstar::store::{Db, OnOpen, migration_status};

fn migrated() -> (tempfile::TempDir, rusqlite::Connection) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    Db::open(&path, OnOpen::Migrate).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    (dir, conn)
}

fn names(conn: &rusqlite::Connection, kind: &str) -> Vec<String> {
    conn.prepare("SELECT name FROM sqlite_master WHERE type = ?1 ORDER BY name")
        .unwrap()
        .query_map([kind], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

fn columns(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
    conn.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn an_empty_database_migrates_to_the_whole_data_model() {
    let (_dir, conn) = migrated();
    let tables = names(&conn, "table");
    for t in [
        "tenants",
        "api_keys",
        "visitors",
        "conversations",
        "messages",
        "products",
        "products_fts",
        "kb_entries",
        "kb_fts",
        "admin_users",
        "admin_user_tenants",
        "admin_sessions",
        "audit_log",
        "analytics_daily",
        "search_misses",
    ] {
        assert!(tables.contains(&t.to_string()), "missing table {t}");
    }
    let journal: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    let status = migration_status(&conn).unwrap();
    assert!(status.pending.is_empty() && status.unknown.is_empty() && !status.applied.is_empty());
    for c in [
        "client_id",
        "formation",
        "status",
        "first_token_ms",
        "prompt_tokens",
        "completion_tokens",
    ] {
        assert!(
            columns(&conn, "messages").contains(&c.to_string()),
            "messages.{c}"
        );
    }
}

#[test]
fn every_tenant_owned_table_carries_tenant_id() {
    let (_dir, conn) = migrated();
    let system = [
        "tenants",
        "admin_users",
        "admin_user_tenants",
        "admin_sessions",
        "admin_sign_in_links",
        "audit_log",
        "refinery_schema_history",
    ];
    for table in names(&conn, "table") {
        if system.contains(&table.as_str()) || table.contains("fts") {
            continue;
        }
        assert!(
            columns(&conn, &table).contains(&"tenant_id".to_string()),
            "{table} lacks tenant_id"
        );
    }
}

#[test]
fn full_text_indexes_follow_their_tables() {
    let (_dir, conn) = migrated();
    conn.execute_batch(
        "INSERT INTO tenants (slug, name, created_at, updated_at) VALUES ('shop', 'Shop', 0, 0);
         INSERT INTO products (public_id, tenant_id, sku, title, currency, search_title, created_at, updated_at)
         VALUES ('p_1', 1, 'T1', 'Ridgeline Tent', 'USD', 'ridgelin tent', 0, 0);
         INSERT INTO kb_entries (public_id, tenant_id, title, body, search_title, search_body, created_at, updated_at)
         VALUES ('kb_1', 1, 'Returns', 'Within 30 days', 'return', 'within 30 day', 0, 0);",
    )
    .unwrap();
    let hits = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        hits("SELECT count(*) FROM products_fts WHERE products_fts MATCH 'tent'"),
        1
    );
    conn.execute(
        "UPDATE products SET search_title = 'ridgelin tarp' WHERE sku = 'T1'",
        [],
    )
    .unwrap();
    assert_eq!(
        hits("SELECT count(*) FROM products_fts WHERE products_fts MATCH 'tent'"),
        0
    );
    assert_eq!(
        hits("SELECT count(*) FROM products_fts WHERE products_fts MATCH 'tarp'"),
        1
    );
    assert_eq!(
        hits("SELECT count(*) FROM kb_fts WHERE kb_fts MATCH 'return'"),
        1
    );
    // Removing the tenant cascades to its rows and their index entries.
    conn.execute("DELETE FROM tenants WHERE slug = 'shop'", [])
        .unwrap();
    assert_eq!(hits("SELECT count(*) FROM products"), 0);
    assert_eq!(
        hits("SELECT count(*) FROM products_fts WHERE products_fts MATCH 'tarp'"),
        0
    );
    assert_eq!(
        hits("SELECT count(*) FROM kb_fts WHERE kb_fts MATCH 'return'"),
        0
    );
}

#[test]
fn constraints_guard_the_data() {
    let (_dir, conn) = migrated();
    conn.execute(
        "INSERT INTO tenants (slug, name, created_at, updated_at) VALUES ('shop', 'Shop', 0, 0)",
        [],
    )
    .unwrap();
    let fails = |sql: &str| assert!(conn.execute(sql, []).is_err(), "accepted: {sql}");
    fails(
        "INSERT INTO tenants (slug, name, created_at, updated_at) VALUES ('shop', 'Again', 0, 0)",
    );
    fails(
        "INSERT INTO tenants (slug, name, locale, created_at, updated_at) VALUES ('x1', 'X', 'de', 0, 0)",
    );
    fails(
        "INSERT INTO api_keys (public_id, tenant_id, kind, prefix, hash, created_at) VALUES ('k', 1, 'public', 'pk', x'00', 0)",
    );
    fails(
        "INSERT INTO api_keys (public_id, tenant_id, kind, prefix, hash, created_at) VALUES ('k', 9, 'secret', 'sk', x'00', 0)",
    );
    fails(
        "INSERT INTO visitors (tenant_id, token_hash, first_seen_at, last_seen_at) VALUES (9, x'01', 0, 0)",
    );
}

#[test]
fn opening_requires_a_current_schema_unless_migrating() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fresh.db");
    let err = Db::open(&path, OnOpen::RequireCurrent)
        .err()
        .expect("an unmigrated database opened");
    assert!(err.to_string().contains("pending migration"), "{err}");
    Db::open(&path, OnOpen::Migrate).unwrap();
    Db::open(&path, OnOpen::RequireCurrent).unwrap();
}
