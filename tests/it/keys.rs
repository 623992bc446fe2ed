//! `keepstar key …` and `keepstar snippet`.

use keepstar::store::keys::{self, KeyKind};

use crate::support::{Kit, contains};

#[test]
fn the_done_when_path_prints_a_working_snippet() {
    let kit = Kit::with_shop();
    let key = kit
        .run(&["key", "issue", "shop"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert!(key.starts_with("pk_"), "{key}");
    let snippet = kit.run(&["snippet", "shop"]).ok().stdout;
    let version = keepstar::server::assets::widget_version();
    assert_eq!(version.len(), 8, "the loader's content version");
    assert_eq!(
        snippet.trim(),
        format!(
            r#"<script async src="https://chat.example.com/widget.js?v={version}" data-tenant="shop" data-key="{key}"></script>"#
        )
    );
    let json = kit.run(&["snippet", "shop", "--json"]).ok().json();
    assert_eq!(json["key"], key.as_str());
}

#[test]
fn keys_carry_enough_randomness_and_differ() {
    let kit = Kit::with_shop();
    let a = kit
        .run(&["key", "issue", "shop", "--secret"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let b = kit
        .run(&["key", "issue", "shop", "--secret"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert_ne!(a, b);
    let body = a.strip_prefix("sk_").expect("secret keys start with sk_");
    // base62: log2(62) ≈ 5.95 bits a character; 22 characters carry 128 bits.
    assert!(
        body.len() >= 22 && body.bytes().all(|c| c.is_ascii_alphanumeric()),
        "{a}"
    );
}

#[test]
fn a_secret_key_is_shown_once_and_stored_only_as_a_hash() {
    let kit = Kit::with_shop();
    let run = kit
        .run(&["key", "issue", "shop", "--secret", "--label", "crm sync"])
        .ok();
    let secret = run.stdout.trim().to_owned();
    assert!(run.stderr.contains("shown once"), "{}", run.stderr);
    let list = kit.run(&["key", "list", "shop", "--json"]).ok();
    assert!(
        !list.stdout.contains(&secret[3..]),
        "key list shows the secret"
    );
    let human = kit.run(&["key", "list", "shop"]).ok().stdout;
    assert!(
        human.contains(&secret[..11]) && human.contains("crm sync"),
        "{human}"
    );
    assert!(
        !contains(&kit.raw_db(), &secret[3..]),
        "the clear secret is in the database files"
    );
    assert!(!contains(&kit.raw_db(), &secret[11..]));
}

#[test]
fn revoked_keys_stop_working_at_once() {
    let kit = Kit::with_shop();
    let public = kit
        .run(&["key", "issue", "shop"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let secret = kit
        .run(&["key", "issue", "shop", "--secret"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let conn = kit.sql();
    let tenant: i64 = conn
        .query_row("SELECT id FROM tenants WHERE slug = 'shop'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        keys::verify(&conn, tenant, KeyKind::Public, &public)
            .unwrap()
            .is_some()
    );
    assert!(
        keys::verify(&conn, tenant, KeyKind::Secret, &secret)
            .unwrap()
            .is_some()
    );
    assert!(
        keys::verify(&conn, tenant, KeyKind::Secret, &public)
            .unwrap()
            .is_none(),
        "kinds do not mix"
    );

    let list = kit.run(&["key", "list", "shop", "--json"]).ok().json();
    for key in list.as_array().unwrap() {
        kit.run(&["key", "revoke", key["id"].as_str().unwrap()])
            .ok();
    }
    assert!(
        keys::verify(&conn, tenant, KeyKind::Public, &public)
            .unwrap()
            .is_none()
    );
    assert!(
        keys::verify(&conn, tenant, KeyKind::Secret, &secret)
            .unwrap()
            .is_none()
    );
    let table = kit.run(&["key", "list", "shop"]).ok().stdout;
    assert_eq!(table.matches("revoked").count(), 2, "{table}");
    let run = kit
        .run(&["snippet", "shop"])
        .fails_with("no active public key");
    assert!(
        run.stderr
            .contains("hint: issue one with `keepstar key issue shop`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_key_works_only_for_its_own_tenant() {
    let kit = Kit::with_shop();
    kit.run(&["tenant", "add", "other", "--name", "Other"]).ok();
    let key = kit
        .run(&["key", "issue", "shop"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let conn = kit.sql();
    let other: i64 = conn
        .query_row("SELECT id FROM tenants WHERE slug = 'other'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        keys::verify(&conn, other, KeyKind::Public, &key)
            .unwrap()
            .is_none()
    );
    let id = kit.run(&["key", "list", "shop", "--json"]).ok().json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    kit.run(&["snippet", "other", "--key", &id])
        .fails_with("not an active public key of tenant \"other\"");
}

#[test]
fn key_refusals_change_nothing() {
    let kit = Kit::with_shop();
    kit.run(&["key", "issue", "shop"]).ok();
    let id = kit.run(&["key", "list", "shop", "--json"]).ok().json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    kit.run(&["key", "revoke", &id]).ok();
    let before = kit.dump();
    kit.run(&["key", "revoke", "key_doesnotexist00"])
        .fails_with("not found");
    kit.run(&["key", "revoke", &id])
        .fails_with("already revoked");
    kit.run(&["key", "issue", "nope"])
        .fails_with("tenant \"nope\" not found");
    kit.run(&["key", "list", "nope"])
        .fails_with("tenant \"nope\" not found");
    kit.run(&["snippet", "nope"])
        .fails_with("tenant \"nope\" not found");
    assert_eq!(kit.dump(), before);
}

#[test]
fn snippet_picks_the_newest_active_public_key_or_the_one_asked_for() {
    let kit = Kit::with_shop();
    let first = kit
        .run(&["key", "issue", "shop"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    std::thread::sleep(std::time::Duration::from_millis(5));
    let second = kit
        .run(&["key", "issue", "shop"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    assert!(kit.run(&["snippet", "shop"]).ok().stdout.contains(&second));
    let list = kit.run(&["key", "list", "shop", "--json"]).ok().json();
    let first_id = list
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["public_key"] == first.as_str())
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        kit.run(&["snippet", "shop", "--key", &first_id])
            .ok()
            .stdout
            .contains(&first)
    );
}
