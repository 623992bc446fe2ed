//! `init`, config handling, `migrate`, `completions`, and the exit-code contract.

use std::os::unix::fs::PermissionsExt;

use crate::support::Kit;

#[test]
fn init_writes_a_private_config_with_fresh_secrets_and_a_migrated_database() {
    let a = Kit::init();
    let b = Kit::init();
    let config = std::fs::read_to_string(a.path().join("keepstar.toml")).unwrap();
    let mode = std::fs::metadata(a.path().join("keepstar.toml"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "config mode {mode:o}");
    assert!(config.contains("public_url = \"https://chat.example.com\""));
    let secret_line = |text: &str| {
        text.lines()
            .find(|l| l.starts_with("session_secret"))
            .unwrap()
            .to_owned()
    };
    let other = std::fs::read_to_string(b.path().join("keepstar.toml")).unwrap();
    assert_ne!(
        secret_line(&config),
        secret_line(&other),
        "two inits share a secret"
    );
    assert!(secret_line(&config).len() > 40);
    let migrations = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations"))
        .unwrap()
        .count() as i64;
    assert_eq!(
        a.count("SELECT count(*) FROM refinery_schema_history"),
        migrations
    );
    assert_eq!(a.count("SELECT count(*) FROM tenants"), 0);
    let dir_mode = std::fs::metadata(a.path().join("data"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
}

#[test]
fn init_refuses_to_overwrite_a_config() {
    let kit = Kit::init();
    let before = std::fs::read(kit.path().join("keepstar.toml")).unwrap();
    let run = kit
        .run(&["init", "--public-url", "https://other.example"])
        .fails_with("already exists");
    assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    assert_eq!(
        std::fs::read(kit.path().join("keepstar.toml")).unwrap(),
        before
    );
}

#[test]
fn init_takes_a_data_dir_and_another_config_path() {
    let kit = Kit::empty();
    std::fs::create_dir(kit.path().join("etc")).unwrap();
    let run = kit
        .run(&[
            "--config",
            "etc/ks.toml",
            "init",
            "--dir",
            "var/ks",
            "--json",
        ])
        .ok();
    assert_eq!(run.json()["public_url"], "http://127.0.0.1:8080");
    assert!(kit.path().join("var/ks/keepstar.db").exists());
    // Without --dir the data dir sits next to the config, wherever the command runs.
    let elsewhere = Kit::empty();
    let config = kit.path().join("etc/other.toml");
    elsewhere
        .run(&["--config", config.to_str().unwrap(), "init"])
        .ok();
    assert!(kit.path().join("etc/data/keepstar.db").exists());
    assert!(!elsewhere.path().join("data").exists());
    // Commands run from elsewhere find the data dir through the config.
    let list = kit
        .run(&["--config", "etc/ks.toml", "tenant", "list", "--json"])
        .ok();
    assert_eq!(list.json(), serde_json::json!([]));
}

#[test]
fn init_rejects_a_bad_public_url_and_writes_nothing() {
    let kit = Kit::empty();
    kit.run(&["init", "--public-url", "chat.example.com"])
        .fails_with("invalid public URL");
    assert!(!kit.path().join("keepstar.toml").exists());
    assert!(!kit.path().join("data").exists());
}

#[test]
fn a_config_typo_is_named() {
    let kit = Kit::init();
    let path = kit.path().join("keepstar.toml");
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("listen =", "lissten =");
    std::fs::write(&path, text).unwrap();
    let run = kit.run(&["tenant", "list"]).fails_with("lissten");
    assert!(run.stderr.contains("line "), "{}", run.stderr);
}

#[test]
fn a_missing_config_says_how_to_make_one() {
    let kit = Kit::empty();
    let run = kit
        .run(&["tenant", "list"])
        .fails_with("cannot read config");
    assert!(
        run.stderr.contains("hint: run `keepstar init`"),
        "{}",
        run.stderr
    );
}

#[test]
fn env_overrides_the_config_file() {
    let kit = Kit::init();
    kit.run(&["tenant", "add", "shop", "--name", "Shop"]).ok();
    // KEEPSTAR_DATA_DIR points at an empty place: the command must use it, not the file's data dir.
    let run = kit.run_cmd(
        kit.command()
            .env("KEEPSTAR_DATA_DIR", "elsewhere")
            .args(["tenant", "list"]),
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("elsewhere"), "{}", run.stderr);
    let short = kit.run_cmd(
        kit.command()
            .env("KEEPSTAR_SESSION_SECRET", "short")
            .args(["tenant", "list"]),
    );
    assert_eq!(short.code, 1);
    assert!(
        short.stderr.contains("session_secret is too short"),
        "{}",
        short.stderr
    );
    assert!(!short.stderr.contains("short\n"), "{}", short.stderr);
}

#[test]
fn secrets_from_files_are_read() {
    let kit = Kit::init();
    std::fs::write(kit.path().join("secret"), "x".repeat(10)).unwrap();
    let run = kit.run_cmd(
        kit.command()
            .env("KEEPSTAR_SESSION_SECRET_FILE", "secret")
            .args(["tenant", "list"]),
    );
    assert_eq!(run.code, 1, "a 10-character secret file must be refused");
    assert!(run.stderr.contains("too short"), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_2_and_help_exists_on_every_level() {
    let kit = Kit::init();
    assert_eq!(kit.run(&["tenant", "frobnicate"]).code, 2);
    assert_eq!(
        kit.run(&["tenant", "add", "shop"]).code,
        2,
        "--name is required"
    );
    for args in [
        &["--help"][..],
        &["tenant", "--help"],
        &["tenant", "set", "--help"],
        &["key", "issue", "--help"],
    ] {
        let run = kit.run(args).ok();
        assert!(run.stdout.contains("Usage:"), "{args:?}: {}", run.stdout);
    }
    let set_help = kit.run(&["tenant", "set", "--help"]).ok().stdout;
    for flag in [
        "--provider",
        "--model",
        "--base-url",
        "--api-key-env",
        "--webhook-url",
        "--system-prompt",
    ] {
        assert!(set_help.contains(flag), "tenant set lacks {flag}");
    }
}

#[test]
fn completions_are_printed_for_each_shell() {
    let kit = Kit::empty();
    for shell in ["bash", "zsh", "fish"] {
        let run = kit.run(&["completions", shell]).ok();
        assert!(run.stdout.contains("keepstar"), "{shell}");
        assert!(run.stdout.contains("snippet"), "{shell}");
    }
}

#[test]
fn migrate_reports_an_up_to_date_database() {
    let kit = Kit::init();
    let run = kit.run(&["migrate", "--json"]).ok();
    assert_eq!(run.json()["applied"], serde_json::json!([]));
    assert!(kit.run(&["migrate"]).ok().stdout.contains("up to date"));
}

#[test]
fn a_database_from_a_newer_keepstar_is_refused_untouched() {
    let kit = Kit::init();
    {
        let c = rusqlite::Connection::open(kit.db_path()).unwrap();
        c.execute(
            "INSERT INTO refinery_schema_history (version, name, applied_on, checksum) VALUES (999, 'future', '', '0')",
            [],
        )
        .unwrap();
    }
    let run = kit.run(&["tenant", "list"]).fails_with("newer keepstar");
    assert!(run.stderr.contains("hint:"));
    kit.run(&["migrate"]).fails_with("newer keepstar");
}

#[test]
fn a_closed_stdout_is_not_an_error() {
    let kit = Kit::init();
    for i in 0..30 {
        kit.run(&[
            "tenant",
            "add",
            &format!("shop-{i}"),
            "--name",
            "A shop with a long enough name",
        ])
        .ok();
    }
    let mut child = kit
        .command()
        .args(["tenant", "list"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
