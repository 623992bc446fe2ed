//! `keepstar tenant …`: every command, every refusal, and the audit trail.

use serde_json::json;

use crate::support::Kit;

#[test]
fn add_show_and_list() {
    let kit = Kit::with_shop();
    kit.run(&[
        "tenant",
        "add",
        "magazin",
        "--name",
        "Магазин",
        "--locale",
        "ru",
        "--greeting",
        "Здравствуйте!",
        "--color",
        "#0a7",
        "--origin",
        "HTTPS://Magazin.Example:443/",
        "--origin",
        "https://*.magazin.example",
    ])
    .ok();
    let t = kit
        .run(&["tenant", "show", "magazin", "--json"])
        .ok()
        .json();
    assert_eq!(t["name"], "Магазин");
    assert_eq!(t["locale"], "ru");
    assert_eq!(
        t["currency"], "RUB",
        "a ru tenant prices in roubles unless told otherwise"
    );
    assert_eq!(t["greeting"], "Здравствуйте!");
    assert_eq!(
        t["origins"],
        json!(["https://magazin.example", "https://*.magazin.example"])
    );
    assert_eq!(t["provider"]["kind"], "builtin");

    let list = kit.run(&["tenant", "list", "--json"]).ok().json();
    let slugs: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["magazin", "shop"]);
    let table = kit.run(&["tenant", "list"]).ok().stdout;
    let lines: Vec<&str> = table.lines().collect();
    assert!(lines[0].starts_with("SLUG"));
    // Aligned: every row's NAME column starts where the header's does.
    let col = lines[0].find("NAME").unwrap();
    assert!(
        lines[1..].iter().all(|l| l[..col].ends_with("  ")),
        "{table}"
    );
    let human = kit.run(&["tenant", "show", "shop"]).ok().stdout;
    assert!(
        human.contains("origins") && human.contains("https://shop.example"),
        "{human}"
    );
}

#[test]
fn set_changes_branding_origins_and_provider_settings() {
    let kit = Kit::with_shop();
    kit.run(&[
        "tenant",
        "set",
        "shop",
        "--provider",
        "openai",
        "--model",
        "gpt-4o-mini",
        "--base-url",
        "http://localhost:11434/v1",
        "--api-key-env",
        "SHOP_OPENAI_KEY",
        "--system-prompt",
        "Be brief.",
        "--temperature",
        "0.3",
        "--max-tokens",
        "600",
        "--color",
        "#112233",
        "--add-origin",
        "https://www.shop.example",
    ])
    .ok();
    let t = kit.run(&["tenant", "show", "shop", "--json"]).ok().json();
    let p = &t["provider"];
    assert_eq!(p["kind"], "openai");
    assert_eq!(p["model"], "gpt-4o-mini");
    assert_eq!(p["base_url"], "http://localhost:11434/v1");
    assert_eq!(p["api_key_env"], "SHOP_OPENAI_KEY");
    assert_eq!(p["system_prompt"], "Be brief.");
    assert_eq!(p["temperature"], 0.3);
    assert_eq!(p["max_tokens"], 600);
    assert_eq!(t["color"], "#112233");
    assert_eq!(
        t["origins"],
        json!(["https://shop.example", "https://www.shop.example"])
    );

    kit.run(&[
        "tenant",
        "set",
        "shop",
        "--provider",
        "n8n",
        "--webhook-url",
        "https://n8n.example/webhook/chat",
        "--remove-origin",
        "https://shop.example",
        "--model",
        "",
    ])
    .ok();
    let t = kit.run(&["tenant", "show", "shop", "--json"]).ok().json();
    assert_eq!(t["provider"]["kind"], "n8n");
    assert_eq!(
        t["provider"]["webhook_url"],
        "https://n8n.example/webhook/chat"
    );
    assert_eq!(
        t["provider"]["model"],
        json!(null),
        "an empty value clears a setting"
    );
    assert_eq!(t["origins"], json!(["https://www.shop.example"]));

    kit.run(&["tenant", "set", "shop", "--origin", "http://localhost:3000"])
        .ok();
    let t = kit.run(&["tenant", "show", "shop", "--json"]).ok().json();
    assert_eq!(
        t["origins"],
        json!(["http://localhost:3000"]),
        "--origin replaces the list"
    );
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let kit = Kit::with_shop();
    let before = kit.dump();
    let cases: &[(&[&str], &str)] = &[
        (&["tenant", "add", "Shop!", "--name", "X"], "invalid slug"),
        (&["tenant", "add", "x", "--name", "X"], "invalid slug"),
        (
            &["tenant", "add", &"a".repeat(41), "--name", "X"],
            "invalid slug",
        ),
        (
            &["tenant", "add", "shop", "--name", "Again"],
            "tenant \"shop\" already exists",
        ),
        (
            &[
                "tenant",
                "add",
                "new",
                "--name",
                "X",
                "--origin",
                "shop.example",
            ],
            "invalid origin",
        ),
        (
            &[
                "tenant",
                "add",
                "new",
                "--name",
                "X",
                "--origin",
                "https://shop.example/path",
            ],
            "invalid origin",
        ),
        (
            &["tenant", "add", "new", "--name", "X", "--color", "blue"],
            "invalid color",
        ),
        (&["tenant", "add", "new", "--name", " "], "invalid name"),
        (&["tenant", "show", "nope"], "tenant \"nope\" not found"),
        (
            &["tenant", "set", "nope", "--name", "X"],
            "tenant \"nope\" not found",
        ),
        (
            &["tenant", "remove", "nope", "--yes"],
            "tenant \"nope\" not found",
        ),
        (
            &["tenant", "set", "shop", "--origin", "ftp://shop.example"],
            "invalid origin",
        ),
        (
            &[
                "tenant",
                "set",
                "shop",
                "--remove-origin",
                "https://other.example",
            ],
            "not an allowed origin",
        ),
        (
            &["tenant", "set", "shop", "--base-url", "localhost:11434"],
            "invalid base URL",
        ),
        (
            &["tenant", "set", "shop", "--api-key-env", "sk-live-123"],
            "invalid environment variable name",
        ),
        (
            &["tenant", "set", "shop", "--temperature", "7"],
            "invalid temperature",
        ),
        (
            &["tenant", "set", "shop", "--max-tokens", "many"],
            "invalid max tokens",
        ),
        (
            &["tenant", "set", "shop", "--currency", "dollars"],
            "invalid currency",
        ),
        (&["tenant", "remove", "shop"], "needs confirmation"),
    ];
    for (args, needle) in cases {
        kit.run(args).fails_with(needle);
    }
    assert_eq!(kit.dump(), before, "a refused command changed the database");
    let hint = kit.run(&["tenant", "show", "nope"]).stderr;
    assert!(hint.contains("hint: `keepstar tenant list`"), "{hint}");
}

#[test]
fn the_clis_refusals_are_whole_english_sentences() {
    let kit = Kit::with_shop();
    let long = "a".repeat(501);
    let cases: &[(&[&str], &str)] = &[
        (
            &["tenant", "add", "Shop!", "--name", "X"],
            r#"invalid slug "Shop!": use 2-40 characters from a-z, 0-9 and '-'"#,
        ),
        (
            &["tenant", "add", "new", "--name", "X", "--color", "blue"],
            r#"invalid color "blue": use #rgb or #rrggbb"#,
        ),
        (
            &[
                "tenant",
                "add",
                "new",
                "--name",
                "X",
                "--origin",
                "shop.example",
            ],
            r#"invalid origin "shop.example": expected scheme://host, e.g. https://shop.example"#,
        ),
        (
            &["tenant", "set", "shop", "--origin", "https://*.example"],
            r#"invalid origin "https://*.example": a wildcard must cover a registrable domain, e.g. *.shop.example"#,
        ),
        (
            &["tenant", "set", "shop", "--greeting", &long],
            "the greeting is too long: at most 500 characters",
        ),
        (
            &["tenant", "set", "shop", "--webhook-url", "hooks.example"],
            r#"invalid webhook URL "hooks.example": use an http(s) URL"#,
        ),
        (
            &["tenant", "set", "shop", "--api-key-env", "KEEPSTAR_KEY"],
            r#"the variable "KEEPSTAR_KEY" holds keepstar's own settings: name one of your own, e.g. SHOP_OPENAI_KEY"#,
        ),
        (
            &["tenant", "set", "shop", "--rate-limit", "0"],
            "invalid rate limit 0: use 1 to 100000",
        ),
        (
            &["tenant", "set", "shop", "--price-prompt", "0.0000001"],
            r#"invalid prompt price "0.0000001": expected an amount such as 0.0006 (at most 6 decimals)"#,
        ),
    ];
    for (args, sentence) in cases {
        let run = kit.run(args).fails_with(sentence);
        assert_eq!(
            run.stderr.lines().next(),
            Some(format!("error: {sentence}").as_str())
        );
    }
}

#[test]
fn remove_takes_everything_the_tenant_owns() {
    let kit = Kit::with_shop();
    kit.run(&["tenant", "add", "other", "--name", "Other"]).ok();
    kit.run(&["key", "issue", "shop"]).ok();
    kit.run(&["key", "issue", "other"]).ok();
    kit.run(&["tenant", "remove", "shop", "--yes"]).ok();
    assert_eq!(
        kit.count("SELECT count(*) FROM tenants WHERE slug = 'shop'"),
        0
    );
    assert_eq!(
        kit.count("SELECT count(*) FROM api_keys"),
        1,
        "only the other tenant's key remains"
    );
    kit.run(&["tenant", "show", "other"]).ok();
}

#[test]
fn every_change_is_audited_without_secrets() {
    let kit = Kit::with_shop();
    kit.run(&["tenant", "set", "shop", "--name", "Shop Two"])
        .ok();
    let secret = kit
        .run(&["key", "issue", "shop", "--secret"])
        .ok()
        .stdout
        .trim()
        .to_owned();
    let id = kit.run(&["key", "list", "shop", "--json"]).ok().json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    kit.run(&["key", "revoke", &id]).ok();
    kit.run(&["tenant", "remove", "shop", "--yes"]).ok();
    let actions: Vec<(Option<String>, String, String)> = kit
        .sql()
        .prepare("SELECT tenant_slug, action, details FROM audit_log ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let names: Vec<&str> = actions.iter().map(|a| a.1.as_str()).collect();
    assert_eq!(
        names,
        [
            "tenant.add",
            "tenant.set",
            "key.issue",
            "key.revoke",
            "tenant.remove"
        ]
    );
    assert!(
        actions[1].2.contains("Shop Two"),
        "tenant.set records what changed: {}",
        actions[1].2
    );
    assert!(actions.iter().all(|a| !a.2.contains(&secret[3..])));
    assert_eq!(
        actions[0].0.as_deref(),
        Some("shop"),
        "the slug survives the tenant's removal"
    );
}

#[test]
fn an_unknown_stored_value_is_an_error_that_names_it() {
    let kit = Kit::with_shop();
    // A database written by a newer keepstar (or by hand) may hold words this one does not know.
    let db = rusqlite::Connection::open(kit.db_path()).unwrap();
    db.execute_batch(
        "PRAGMA ignore_check_constraints = ON; UPDATE tenants SET provider = 'gemini' WHERE slug = 'shop';",
    )
    .unwrap();
    drop(db);
    kit.run(&["tenant", "show", "shop"])
        .fails_with(r#"unknown provider "gemini""#);
}
