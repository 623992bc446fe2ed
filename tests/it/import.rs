//! `keepstar catalog import` and `keepstar kb import`: formats, line-numbered refusals that import
//! nothing, dry runs, replace.

use crate::support::Kit;

fn shop() -> Kit {
    let kit = Kit::init();
    kit.run(&["tenant", "add", "shop", "--name", "Shop"]).ok();
    kit
}

fn write(kit: &Kit, name: &str, text: &str) -> String {
    std::fs::write(kit.path().join(name), text).unwrap();
    name.to_owned()
}

const CSV: &str = "sku,title,price,category,brand,color\n\
T-1,Ridgeline 2 Tent,249,Tents,Cairnfield,green\n\
\"T-2\",\"Summit, 4-season\",\"899.50\",Tents,Cairnfield,\"orange\"\n\
G-1,Conical Burr Grinder,129.9,Grinders,Millhouse,black\n";

#[test]
fn csv_json_and_jsonl_import_and_upsert_by_sku() {
    let kit = shop();
    let csv = write(&kit, "c.csv", CSV);
    let run = kit.run(&["catalog", "import", "shop", &csv]).ok();
    assert!(run.stdout.contains("3 added"), "{}", run.stdout);
    assert_eq!(kit.count("SELECT count(*) FROM products"), 3);
    let (price, attrs): (i64, String) = kit
        .sql()
        .query_row(
            "SELECT price, attributes FROM products WHERE sku = 'T-2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(price, 89950, "prices are stored in minor units");
    assert_eq!(
        attrs, r#"{"color":"orange"}"#,
        "other columns become attributes"
    );

    let json = write(
        &kit,
        "c.json",
        r#"[{"sku": "T-1", "title": "Ridgeline 2 Tent", "price": 239, "category": "Tents", "brand": "Cairnfield", "color": "green"},
        {"sku": "K-1", "title": "Gooseneck Kettle", "price": 59}]"#,
    );
    let run = kit
        .run(&["catalog", "import", "shop", &json, "--json"])
        .ok();
    let summary = &run.json()["summary"];
    assert_eq!(
        (summary["added"].as_u64(), summary["updated"].as_u64()),
        (Some(1), Some(1))
    );
    let jsonl = write(
        &kit,
        "c.jsonl",
        "{\"sku\": \"K-1\", \"title\": \"Gooseneck Kettle\", \"price\": 59}\n",
    );
    let run = kit
        .run(&["catalog", "import", "shop", &jsonl, "--json"])
        .ok();
    assert_eq!(run.json()["summary"]["unchanged"], 1);
    assert_eq!(
        kit.count("SELECT price FROM products WHERE sku = 'T-1'"),
        23900
    );
    assert_eq!(
        kit.count("SELECT count(*) FROM audit_log WHERE action = 'catalog.import'"),
        3
    );
}

#[test]
fn an_invalid_row_imports_nothing_and_names_its_line() {
    let kit = shop();
    kit.run(&["catalog", "import", "shop", &write(&kit, "ok.csv", CSV)])
        .ok();
    let before = kit.dump();
    let bad = write(
        &kit,
        "bad.csv",
        "sku,title,price,url\nA-1,Fine,10,https://shop.example/a\nA-2,,10,\nA-3,Bad price,12.345,\nA-4,Bad url,1,shop.example/x\n",
    );
    let run = kit
        .run(&["catalog", "import", "shop", &bad])
        .fails_with("3 invalid record(s); nothing was imported");
    for line in ["line 3", "line 4", "line 5"] {
        assert!(
            run.stderr.contains(line),
            "{line} missing in:\n{}",
            run.stderr
        );
    }
    assert!(run.stderr.contains("title"), "{}", run.stderr);
    for sentence in [
        "  line 3: missing title",
        r#"  line 4: invalid price "12.345": USD allows at most 2 digits after the '.'"#,
        r#"  line 5: invalid url "shop.example/x": use an absolute http(s) URL"#,
    ] {
        assert!(
            run.stderr.lines().any(|l| l == sentence),
            "{sentence} in:\n{}",
            run.stderr
        );
    }
    assert_eq!(kit.dump(), before, "a refused import changed the database");
    kit.run(&["catalog", "import", "shop", "missing.csv"])
        .fails_with("cannot read missing.csv");
    kit.run(&["catalog", "import", "nope", &bad])
        .fails_with("tenant \"nope\" not found");
    let json = write(
        &kit,
        "broken.json",
        "[{\"sku\": \"x\", \"title\": \"y\"},\n {\"sku\": ",
    );
    kit.run(&["catalog", "import", "shop", &json])
        .fails_with("invalid record");
    assert_eq!(kit.dump(), before);
}

#[test]
fn dry_run_reports_and_replace_removes_what_is_gone() {
    let kit = shop();
    kit.run(&["catalog", "import", "shop", &write(&kit, "ok.csv", CSV)])
        .ok();
    let before = kit.dump();
    let one = write(
        &kit,
        "one.csv",
        "sku,title,price\nT-1,Ridgeline 2 Tent,249\n",
    );
    let run = kit
        .run(&["catalog", "import", "shop", &one, "--replace", "--dry-run"])
        .ok();
    assert!(
        run.stdout.contains("would import") && run.stdout.contains("2 removed"),
        "{}",
        run.stdout
    );
    assert_eq!(kit.dump(), before, "a dry run changed the database");
    kit.run(&["catalog", "import", "shop", &one, "--replace"])
        .ok();
    assert_eq!(kit.count("SELECT count(*) FROM products"), 1);
    // The index follows: the removed grinder is no longer found.
    assert_eq!(
        kit.count("SELECT count(*) FROM products_fts WHERE products_fts MATCH 'grinder'"),
        0
    );
}

#[test]
fn kb_imports_markdown_and_csv() {
    let kit = shop();
    let md = write(
        &kit,
        "faq.md",
        "# Shop FAQ\n\n## How long does delivery take?\nTwo to four days.\n\n## Can I return a tent?\nYes, within 30 days.\n\n### Used tents\nOnly unused.\n",
    );
    let run = kit.run(&["kb", "import", "shop", &md]).ok();
    assert!(run.stdout.contains("2 added"), "{}", run.stdout);
    let body: String = kit
        .sql()
        .query_row(
            "SELECT body FROM kb_entries WHERE title = 'Can I return a tent?'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        body.contains("### Used tents"),
        "deeper headings stay in the body: {body}"
    );
    let csv = write(
        &kit,
        "faq.csv",
        "question,answer\n\"Do you ship abroad?\",\"Yes, to 30 countries.\"\n",
    );
    kit.run(&["kb", "import", "shop", &csv, "--replace"]).ok();
    assert_eq!(kit.count("SELECT count(*) FROM kb_entries"), 1);
    let empty = write(
        &kit,
        "empty.md",
        "## A question with no answer\n\n## Another\nfine\n",
    );
    let before = kit.dump();
    kit.run(&["kb", "import", "shop", &empty])
        .fails_with("nothing was imported");
    assert_eq!(kit.dump(), before);
}

#[test]
fn serve_demo_starts_from_nothing_and_stops_on_sigterm() {
    let kit = Kit::empty();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let mut child = kit
        .command()
        .args([
            "serve",
            "--demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--public-url",
            &url,
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = false;
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            ready = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(ready, "the server did not start");
    assert!(kit.path().join("keepstar.toml").exists());
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    let out = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(started.elapsed().as_secs() < 15, "no exit after SIGTERM");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(out.success());
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().unwrap(), &mut stdout).unwrap();
    assert!(stdout.contains(&format!("{url}/demo")), "{stdout}");
    assert_eq!(kit.count("SELECT count(*) FROM tenants"), 2);
    assert!(kit.count("SELECT count(*) FROM products") >= 200);
}
