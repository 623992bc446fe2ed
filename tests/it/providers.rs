//! Provider settings around the responders: keys stored sealed, `keepstar doctor`, and the
//! monthly budget.

use keepstar::store::tenants::TenantPatch;
use keepstar::store::usage;
use keepstar::vocab::{OverBudget, Provider};
use serde_json::json;

use crate::app;
use crate::fake::{Fake, Reply};
use crate::support::{Kit, contains};

const KEY: &str = "sk-proj-keepstar-test-Zq8xW2vR7tL0";

fn set_key(kit: &Kit, key: &str) -> crate::support::Run {
    kit.run_stdin(
        &["tenant", "set", "shop", "--api-key-stdin"],
        &format!("{key}\n"),
    )
}

#[test]
fn a_provider_key_is_stored_sealed_and_never_shown() {
    let kit = Kit::with_shop();
    let run = set_key(&kit, KEY).ok();
    assert!(run.stdout.contains("stored, encrypted"), "{}", run.stdout);
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));
    let shown = kit.run(&["--json", "tenant", "show", "shop"]).ok();
    assert_eq!(shown.json()["provider"]["api_key_stored"], true);
    assert!(!shown.stdout.contains(&KEY[8..]));
    assert!(
        !contains(&kit.raw_db(), &KEY[8..]),
        "the key is in the database files in clear"
    );
    let audit: String = kit
        .sql()
        .query_row(
            "SELECT group_concat(details, ' ') FROM audit_log",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(audit.contains("api_key_stored") && !audit.contains(&KEY[8..]));

    kit.run(&["tenant", "set", "shop", "--forget-api-key"]).ok();
    assert_eq!(
        kit.count("SELECT count(*) FROM tenants WHERE api_key_sealed IS NOT NULL"),
        0
    );
}

#[test]
fn provider_settings_refuse_what_would_leak_or_make_no_sense() {
    let kit = Kit::with_shop();
    let before = kit.dump();
    kit.run(&[
        "tenant",
        "set",
        "shop",
        "--api-key-env",
        "KEEPSTAR_SESSION_SECRET",
    ])
    .fails_with("keepstar's own settings");
    kit.run(&["tenant", "set", "shop", "--price-prompt", "0.0000001"])
        .fails_with("at most 6 decimals");
    kit.run(&["tenant", "set", "shop", "--monthly-budget=-5"])
        .fails_with("invalid monthly budget");
    set_key(&kit, "  ").fails_with("no key on stdin");
    assert_eq!(kit.dump(), before, "a refusal changed the database");

    let set = kit
        .run(&[
            "--json",
            "tenant",
            "set",
            "shop",
            "--price-prompt",
            "0.00015",
            "--price-completion",
            "0.0006",
            "--monthly-budget",
            "25",
            "--over-budget",
            "message",
        ])
        .ok()
        .json();
    assert_eq!(set["provider"]["price_prompt_micros"], 150);
    assert_eq!(set["provider"]["price_completion_micros"], 600);
    assert_eq!(set["limits"]["monthly_budget_micros"], 25_000_000);
    assert_eq!(set["limits"]["over_budget"], "message");
}

/// Runs the binary without stalling the fake upstream, which lives on the test's runtime.
fn run_aside(kit: &Kit, args: &[&str]) -> crate::support::Run {
    tokio::task::block_in_place(|| kit.run(args))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_checks_that_the_provider_answers_and_takes_the_key() {
    let kit = Kit::with_shop();
    let config = kit.path().join("keepstar.toml");
    let text = std::fs::read_to_string(&config).unwrap();
    // Port 0 is always free, so the listen check passes wherever the test runs.
    std::fs::write(&config, text.replace("127.0.0.1:8080", "127.0.0.1:0")).unwrap();
    let fake = Fake::start(vec![Reply::json(
        200,
        &json!({"object": "list", "data": []}),
    )])
    .await;
    let base = format!("{}/v1", fake.url);
    kit.run(&[
        "tenant",
        "set",
        "shop",
        "--provider",
        "openai",
        "--model",
        "m",
        "--base-url",
        &base,
    ])
    .ok();
    set_key(&kit, KEY).ok();

    let run = run_aside(&kit, &["doctor"]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(run.stdout.contains("key accepted"), "{}", run.stdout);
    let seen = fake.requests();
    assert_eq!(seen[0].path, "/v1/models");
    assert_eq!(
        seen[0].header("authorization").unwrap(),
        format!("Bearer {KEY}")
    );
    assert!(!run.stdout.contains(KEY) && !run.stderr.contains(KEY));

    fake.script(vec![Reply::json(
        401,
        &json!({"error": {"code": "invalid_api_key"}}),
    )]);
    let run = run_aside(&kit, &["--json", "doctor"]);
    assert_eq!(run.code, 1);
    let checks = run.json();
    let provider = checks
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "provider shop")
        .unwrap();
    assert_eq!(provider["status"], "fail");
    assert!(provider["detail"].as_str().unwrap().contains("refused"));
    assert!(run.stderr.contains("1 check(s) failed"), "{}", run.stderr);
}

#[tokio::test]
async fn over_budget_a_tenant_is_answered_without_its_llm() {
    let app = app::spawn().await;
    let fake = Fake::start(vec![Reply::json(500, &json!({}))]).await;
    let tenant = app
        .set_tenant(
            "demo",
            TenantPatch {
                provider: Some(Provider::Openai),
                model: Some(Some("m".into())),
                base_url: Some(Some(format!("{}/v1", fake.url))),
                monthly_budget_micros: Some(Some(1_000)),
                ..TenantPatch::default()
            },
        )
        .await;
    let id = tenant.id;
    app.db
        .write(move |c| usage::record(c, id, keepstar::store::now_ms(), 10, 10, 1_000))
        .await
        .unwrap();
    let s = app.session("demo", None).await;

    // The default: the builtin responder answers from the catalog.
    let turn = app.ask(&s, "tents").await;
    assert!(!turn.items().is_empty());
    assert_eq!(turn.done()["status"], "complete");

    // Or a notice, and the conversation goes to the team.
    app.set_tenant(
        "demo",
        TenantPatch {
            over_budget: Some(OverBudget::Message),
            ..TenantPatch::default()
        },
    )
    .await;
    let turn = app.ask(&s, "tents").await;
    assert!(
        turn.text().contains("a person from the team"),
        "{}",
        turn.text()
    );
    assert!(turn.events.iter().any(|e| e.event == "handoff"));
    assert!(fake.requests().is_empty(), "the LLM was called over budget");
}

#[tokio::test]
async fn a_failing_provider_opens_the_tenants_circuit_until_it_cools_down() {
    let fake = Fake::start(vec![Reply::json(
        500,
        &json!({"error": {"type": "server_error"}}),
    )])
    .await;
    let provider = TenantPatch {
        provider: Some(Provider::Openai),
        model: Some(Some("m".into())),
        base_url: Some(Some(format!("{}/v1", fake.url))),
        ..TenantPatch::default()
    };
    let upstream = "retries = 0\nbreaker_failures = 2\nbreaker_cooldown_ms = 400";
    let app = app::spawn_with_provider(upstream, provider, None).await;
    let s = app.session("demo", None).await;
    for _ in 0..2 {
        assert_eq!(
            app.ask(&s, "hello").await.error()["code"],
            "upstream_failed"
        );
    }
    assert_eq!(fake.requests().len(), 2);

    // Open: the visitor is told at once and the provider is left alone.
    let turn = app.ask(&s, "hello").await;
    assert_eq!(turn.error()["code"], "upstream_circuit_open");
    assert!(
        turn.error()["message"]
            .as_str()
            .unwrap()
            .contains("ask for a person")
    );
    assert_eq!(
        fake.requests().len(),
        2,
        "called while the circuit was open"
    );

    // Cooled down: one call goes through; it fails, so the circuit opens again at once.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    app.ask(&s, "hello").await;
    assert_eq!(fake.requests().len(), 3);
    assert_eq!(
        app.ask(&s, "hello").await.error()["code"],
        "upstream_circuit_open"
    );
    assert_eq!(fake.requests().len(), 3);

    // Every visitor message was kept, whatever the provider did.
    let stored = app.stored("demo").await;
    assert_eq!(stored.iter().filter(|m| m.role == "visitor").count(), 5);
}
