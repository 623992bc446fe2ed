//! The admin's catalog and knowledge pages: an upload's dry run with the importer's per-line
//! errors, its import (all or nothing, with replace), editing and deleting one product or entry,
//! who may (owners; operators 403, another tenant 404) and CSRF.

use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::app::{self, TestApp};
use keepstar::accounts::{self, NewMember};
use keepstar::vocab::Role;

/// keepstar's own origin in the test config.
const OWN_ORIGIN: &str = "https://chat.example.com";

/// A signed-in member's browser: its cookie and the session's CSRF token.
struct Member<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

async fn signed_in<'a>(app: &'a TestApp, email: &str, role: Role, tenants: &[&str]) -> Member<'a> {
    let member = NewMember {
        email: email.into(),
        name: None,
        role,
        tenants: tenants.iter().map(|t| t.to_string()).collect(),
        password: None,
    };
    let user = accounts::add(&app.db, member, "test").await.unwrap();
    let signed = accounts::open_session(&app.db, user).await.unwrap();
    Member {
        app,
        http: reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap(),
        cookie: format!("__Host-keepstar_admin={}", signed.token),
        csrf: signed.session.csrf_token,
    }
}

/// A multipart body with `file` (named `name`) and, when asked, the "replace" box ticked.
fn multipart(name: &str, content: &str, replace: bool) -> (String, String) {
    let b = "----keepstar-test-7f3a";
    let mut body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n{content}\r\n"
    );
    if replace {
        body.push_str(&format!(
            "--{b}\r\nContent-Disposition: form-data; name=\"replace\"\r\n\r\non\r\n"
        ));
    }
    body.push_str(&format!("--{b}--\r\n"));
    (format!("multipart/form-data; boundary={b}"), body)
}

impl Member<'_> {
    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.app.url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    /// A urlencoded form, with the session's token unless `csrf` is false.
    async fn post(&self, path: &str, fields: &[(&str, &str)], csrf: bool) -> reqwest::Response {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.extend_pairs(fields.iter().copied());
        if csrf {
            form.append_pair("csrf", &self.csrf);
        }
        self.http
            .post(format!("{}{path}", self.app.url))
            .header("cookie", &self.cookie)
            .header("origin", OWN_ORIGIN)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.finish())
            .send()
            .await
            .unwrap()
    }

    /// Uploads a file as the page's form does (the token in the URL); the response as it came.
    async fn upload(
        &self,
        kind: &str,
        name: &str,
        content: &str,
        replace: bool,
    ) -> reqwest::Response {
        let (content_type, body) = multipart(name, content, replace);
        self.http
            .post(format!(
                "{}/admin/tenants/demo/{kind}/upload?csrf={}",
                self.app.url, self.csrf
            ))
            .header("cookie", &self.cookie)
            .header("origin", OWN_ORIGIN)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// Uploads a file and opens its preview: (the preview's path, its status, its HTML).
    async fn preview(
        &self,
        kind: &str,
        name: &str,
        content: &str,
        replace: bool,
    ) -> (String, StatusCode, String) {
        let res = self.upload(kind, name, content, replace).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "the upload redirects to its preview"
        );
        let path = location(&res);
        let page = self.get(&path).await;
        let status = page.status();
        (path, status, page.text().await.unwrap())
    }
}

fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

/// The demo tenant's products as (sku, title), by sku.
async fn products(app: &TestApp) -> Vec<(String, String)> {
    app.db
        .read(|c| {
            let mut s = c.prepare(
                "SELECT sku, title FROM products WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'demo') ORDER BY sku",
            )?;
            let rows = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
        .unwrap()
}

async fn audit_actions(app: &TestApp) -> Vec<String> {
    app.db
        .read(|c| {
            let mut s =
                c.prepare("SELECT action FROM audit_log WHERE actor LIKE 'admin:%' ORDER BY id")?;
            let rows = s
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
        .unwrap()
}

const GOOD: &str = "sku,title,price,colour\nNEW-1,Trail Mug,12.50,blue\nNEW-2,Camp Kettle,34,\n";

#[tokio::test]
async fn a_dry_run_shows_the_importers_line_errors_and_changes_nothing() {
    let app = app::spawn().await;
    let anna = signed_in(&app, "anna@shop.example", Role::Owner, &[]).await;
    let before = products(&app).await;
    assert!(!before.is_empty(), "the demo has a catalog");
    let bad = "sku,title,price\nOK-1,Fine,10\nBAD-1,,12\nBAD-2,Priced,12,99\nOK-1,Again,1\n";
    let (_, status, html) = anna.preview("catalog", "bad.csv", bad, true).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // The CLI's sentences, with their lines.
    let expected =
        match keepstar::import::parse_catalog(bad, keepstar::import::CatalogFormat::Csv, "USD") {
            Err(errors) => errors,
            Ok(_) => panic!("the file is bad"),
        };
    assert!(expected.len() >= 2, "{expected:?}");
    for e in &expected {
        let shown = e.to_string().replace('"', "&#34;");
        assert!(html.contains(&shown), "{shown} in the page");
    }
    assert!(html.contains("line 3: missing title"), "{html}");
    assert!(
        html.contains("name=\"file\""),
        "the form is there to upload again"
    );
    assert!(!html.contains(">Import</button>"), "nothing to import");
    assert_eq!(products(&app).await, before, "the dry run changed nothing");

    // A good file's dry run counts what would change, and changes nothing either.
    let (_, status, html) = anna.preview("catalog", "good.csv", GOOD, false).await;
    assert_eq!(status, 200);
    assert!(html.contains("<dt>Added</dt><dd>2</dd>"), "{html}");
    assert!(html.contains(">Import</button>"));
    assert_eq!(products(&app).await, before);
    assert!(
        audit_actions(&app).await.is_empty(),
        "a rehearsal leaves no audit entry"
    );

    // Russian labels for a Russian viewer.
    let ru = anna
        .http
        .get(format!("{}/admin/tenants/demo/catalog", app.url))
        .header("cookie", format!("{}; keepstar_lang=ru", anna.cookie))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        ru.contains("Загрузить и проверить") && ru.contains("Ход загрузки"),
        "{ru}"
    );
}

#[tokio::test]
async fn a_russian_viewer_reads_the_importers_problems_in_russian() {
    let app = app::spawn().await;
    let mut anna = signed_in(&app, "anna@shop.example", Role::Owner, &[]).await;
    let english_cookie = anna.cookie.clone();
    anna.cookie = format!("{english_cookie}; keepstar_lang=ru");
    let bad = "sku,title,price\nOK-1,Fine,10\nBAD-1,,12\nBAD-2,Priced,12.999\nBAD-3,Text,abc\n";
    let (path, status, html) = anna.preview("catalog", "bad.csv", bad, false).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let lines = [
        "строка 3: не заполнено поле title",
        "строка 4: неверное значение price «12.999»: для USD допустимо не больше 2 знаков после точки",
        "строка 5: неверное значение price «abc»: используйте цифры и точку (например, 49.90)",
    ];
    for line in lines {
        assert!(
            html.contains(&format!("<li>{line}</li>")),
            "{line} in {html}"
        );
    }
    assert!(!html.contains("missing title") && !html.contains("invalid price"));

    // The browser's language is enough; without either, the CLI's English.
    let by_browser = anna
        .http
        .get(format!("{}{path}", app.url))
        .header("cookie", &english_cookie)
        .header("accept-language", "ru-RU,ru;q=0.9,en;q=0.5")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(by_browser.contains(lines[0]), "{by_browser}");
    anna.cookie = english_cookie;
    let english = anna.get(&path).await.text().await.unwrap();
    assert!(
        english.contains("line 4: invalid price &#34;12.999&#34;: USD allows at most 2 digits after the &#39;.&#39;"),
        "{english}"
    );

    // A product's form says it beside the field.
    anna.cookie = format!("{}; keepstar_lang=ru", anna.cookie);
    let (id, sku) = first_product(&app).await;
    let other_sku = products(&app).await[1].0.clone();
    let form = format!("/admin/tenants/demo/catalog/products/{id}");
    let html = anna
        .post(
            &form,
            &[("sku", &sku), ("title", ""), ("price", "-5")],
            true,
        )
        .await
        .text()
        .await
        .unwrap();
    for shown in [
        r#"<p class="error" id="f-title-error">не заполнено поле title</p>"#,
        r#"<p class="error" id="f-price-error">неверное значение price «-5»: цена не может быть отрицательной</p>"#,
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    let taken = anna
        .post(&form, &[("sku", &other_sku), ("title", "Т")], true)
        .await
        .text()
        .await
        .unwrap();
    let sentence = format!("у другого товара уже есть sku «{other_sku}»");
    assert!(taken.contains(&sentence), "{sentence} in {taken}");
}

#[tokio::test]
async fn a_good_file_imports_once_and_a_bad_one_imports_nothing() {
    let app = app::spawn().await;
    let anna = signed_in(&app, "anna@shop.example", Role::Owner, &[]).await;
    let before = products(&app).await;

    let (path, _, _) = anna.preview("catalog", "good.csv", GOOD, false).await;
    let done = anna.post(&path, &[], true).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&done),
        "/admin/tenants/demo/catalog?added=2&updated=0&unchanged=0&removed=0"
    );
    let after = products(&app).await;
    assert_eq!(after.len(), before.len() + 2);
    assert!(after.contains(&("NEW-1".into(), "Trail Mug".into())));
    assert!(
        anna.get(&location(&done))
            .await
            .text()
            .await
            .unwrap()
            .contains("Imported.")
    );
    let list = anna
        .get("/admin/tenants/demo/catalog?q=trail+mug")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        list.contains("Trail Mug") && list.contains("$12.50"),
        "{list}"
    );
    assert_eq!(audit_actions(&app).await, ["catalog.import"]);

    // The upload is gone once imported: a second post imports nothing again.
    let again = anna.post(&path, &[], true).await;
    assert_eq!(again.status(), StatusCode::GONE);
    assert_eq!(products(&app).await, after);

    // A bad file's preview offers no import, and posting it anyway changes nothing.
    let (path, _, _) = anna
        .preview(
            "catalog",
            "bad.jsonl",
            "{\"sku\": \"X\", \"title\": \"T\"}\n{\"sku\": \"Y\"}\n",
            false,
        )
        .await;
    let refused = anna.post(&path, &[], true).await;
    assert_eq!(refused.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&refused), path, "back to the errors");
    assert_eq!(
        products(&app).await,
        after,
        "nothing of the bad file was imported"
    );

    // The admin's script asks for JSON: where to go, or the error beside the file field.
    let (content_type, body) = multipart("good.csv", GOOD, false);
    let res = anna
        .http
        .post(format!("{}/admin/tenants/demo/catalog/upload", app.url))
        .header("cookie", &anna.cookie)
        .header("origin", OWN_ORIGIN)
        .header("x-csrf-token", &anna.csrf)
        .header("accept", "application/json")
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let next: serde_json::Value = res.json().await.unwrap();
    assert!(
        next["next"]
            .as_str()
            .unwrap()
            .starts_with("/admin/tenants/demo/catalog/uploads/")
    );
    // "Café" in Latin-1: not UTF-8.
    let (content_type, body) = multipart("latin1.csv", "sku,title\nA,Caf@\n", false);
    let body: Vec<u8> = body
        .into_bytes()
        .into_iter()
        .map(|b| if b == b'@' { 0xe9 } else { b })
        .collect();
    let res = anna
        .http
        .post(format!(
            "{}/admin/tenants/demo/catalog/upload?csrf={}",
            app.url, anna.csrf
        ))
        .header("cookie", &anna.cookie)
        .header("origin", OWN_ORIGIN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(html.contains("The file is not UTF-8 text."), "{html}");
}

#[tokio::test]
async fn replace_removes_what_the_file_does_not_contain() {
    let app = app::spawn().await;
    let anna = signed_in(&app, "anna@shop.example", Role::Owner, &[]).await;
    let before = products(&app).await;
    let kept = &before[0];
    let file = format!("sku,title\n{},{}\nNEW-1,Trail Mug\n", kept.0, kept.1);
    let (path, status, html) = anna.preview("catalog", "only-two.csv", &file, true).await;
    assert_eq!(status, 200);
    let removed = before.len() - 1;
    assert!(
        html.contains(&format!("<dt>Removed</dt><dd>{removed}</dd>")),
        "{html}"
    );
    let done = anna.post(&path, &[], true).await;
    assert!(location(&done).ends_with(&format!("removed={removed}")));
    assert_eq!(
        products(&app).await,
        vec![("NEW-1".into(), "Trail Mug".into()), kept.clone()]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
}

/// The demo's first product: its public id and sku.
async fn first_product(app: &TestApp) -> (String, String) {
    app.db
        .read(|c| {
            Ok(c.query_row(
                "SELECT public_id, sku FROM products WHERE tenant_id = (SELECT id FROM tenants WHERE slug = 'demo') ORDER BY sku LIMIT 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn one_product_is_edited_by_the_importers_rules_or_deleted() {
    let app = app::spawn().await;
    let anna = signed_in(&app, "anna@shop.example", Role::Owner, &[]).await;
    let (id, sku) = first_product(&app).await;
    let path = format!("/admin/tenants/demo/catalog/products/{id}");
    let form = anna.get(&path).await.text().await.unwrap();
    assert!(form.contains(&format!("value=\"{sku}\"")), "{form}");

    let other_sku = products(&app).await[1].0.clone();
    let bad = anna
        .post(
            &path,
            &[
                ("sku", &sku),
                ("title", "Renamed"),
                ("price", "12,99"),
                ("rating", "9"),
                ("attributes", "colour: red\nno colon"),
            ],
            true,
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = bad.text().await.unwrap();
    for shown in [
        "invalid price &#34;12,99&#34;: use digits and &#39;.&#39; (e.g. 49.90)",
        "rating 9 is out of range 0-5",
        "value=\"Renamed\"",
        "value=\"12,99\"",
        "colour: red\nno colon",
    ] {
        assert!(html.contains(shown), "{shown} in {html}");
    }
    // The error sits beside its field: the price input points at it.
    assert!(
        html.contains("aria-describedby=\"f-price-error\""),
        "{html}"
    );
    let taken = anna
        .post(&path, &[("sku", &other_sku), ("title", "Renamed")], true)
        .await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        taken
            .text()
            .await
            .unwrap()
            .contains("another product has sku")
    );
    assert!(
        !products(&app).await.iter().any(|p| p.1 == "Renamed"),
        "nothing was half-saved"
    );

    let ok = anna
        .post(
            &path,
            &[
                ("sku", &sku),
                ("title", "Renamed"),
                ("price", "49.90"),
                ("currency", "usd"),
                ("attributes", "colour: red"),
            ],
            true,
        )
        .await;
    assert_eq!(
        ok.status(),
        StatusCode::SEE_OTHER,
        "{}",
        ok.text().await.unwrap()
    );
    let stored = app
        .db
        .read(move |c| {
            let tenant = keepstar::store::tenants::get(c, "demo")?;
            keepstar::store::catalog::get(c, tenant.id, &id)
        })
        .await
        .unwrap();
    assert_eq!(
        (
            stored.title.as_str(),
            stored.price,
            stored.currency.as_str()
        ),
        ("Renamed", Some(4990), "USD")
    );
    assert_eq!(
        stored.attributes,
        serde_json::json!({"colour": "red"})
            .as_object()
            .unwrap()
            .clone()
    );
    let found = anna
        .get("/admin/tenants/demo/catalog?q=renamed")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        found.contains(">Renamed</a>"),
        "the search finds it by its new title: {found}"
    );

    let gone = anna.post(&format!("{path}/delete"), &[], true).await;
    assert_eq!(gone.status(), StatusCode::SEE_OTHER);
    assert!(!products(&app).await.iter().any(|p| p.0 == sku));
    assert_eq!(anna.get(&path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        audit_actions(&app).await,
        ["catalog.update", "catalog.delete"]
    );
}

#[tokio::test]
async fn the_knowledge_base_uploads_edits_and_deletes_the_same_way() {
    let app = app::spawn().await;
    let anna = signed_in(&app, "anna@shop.example", Role::Owner, &[]).await;
    let (_, status, html) = anna
        .preview("kb", "faq.md", "## Empty\n## Also\nBody.\n", false)
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html.contains("line 1: heading &#34;Empty&#34; has no text under it"),
        "{html}"
    );
    let (path, status, _) = anna
        .preview("kb", "faq.md", "## Do you ship to Mars?\nNot yet.\n", false)
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        anna.post(&path, &[], true).await.status(),
        StatusCode::SEE_OTHER
    );
    let list = anna
        .get("/admin/tenants/demo/kb?q=mars")
        .await
        .text()
        .await
        .unwrap();
    let at = list
        .find("/admin/tenants/demo/kb/entries/")
        .expect("the entry is found");
    let entry = list[at..].split('"').next().unwrap().to_owned();
    let blank = anna
        .post(
            &entry,
            &[("title", "Do you ship to Mars?"), ("body", "  ")],
            true,
        )
        .await;
    assert_eq!(blank.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(blank.text().await.unwrap().contains("missing answer"));
    let saved = anna
        .post(
            &entry,
            &[("title", "Do you ship to Mars?"), ("body", "From 2030.")],
            true,
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert!(
        anna.get(&entry)
            .await
            .text()
            .await
            .unwrap()
            .contains("From 2030.")
    );
    assert_eq!(
        anna.post(&format!("{entry}/delete"), &[], true)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(anna.get(&entry).await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn operators_get_403_and_another_tenants_catalog_is_404() {
    let app = app::spawn().await;
    let olga = signed_in(&app, "olga@shop.example", Role::Operator, &["demo"]).await;
    for (path, status) in [
        ("/admin/tenants/demo/catalog", StatusCode::FORBIDDEN),
        ("/admin/tenants/demo/kb", StatusCode::FORBIDDEN),
        ("/admin/catalog", StatusCode::FORBIDDEN),
        ("/admin/tenants/demo-ru/catalog", StatusCode::NOT_FOUND),
        ("/admin/tenants/demo-ru/kb", StatusCode::NOT_FOUND),
    ] {
        assert_eq!(olga.get(path).await.status(), status, "{path}");
    }
    let before = products(&app).await;
    assert_eq!(
        olga.upload("catalog", "good.csv", GOOD, true)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let (id, _) = first_product(&app).await;
    let delete = olga
        .post(
            &format!("/admin/tenants/demo/catalog/products/{id}/delete"),
            &[],
            true,
        )
        .await;
    assert_eq!(delete.status(), StatusCode::FORBIDDEN);
    assert_eq!(products(&app).await, before);
    let home = olga.get("/admin").await.text().await.unwrap();
    assert!(
        !home.contains("/admin/catalog"),
        "no link to a page an operator may not see"
    );

    let anna = signed_in(&app, "anna@shop.example", Role::Owner, &[]).await;
    assert_eq!(
        anna.get("/admin/tenants/nobody/catalog").await.status(),
        StatusCode::NOT_FOUND
    );
    let index = anna.get("/admin/catalog").await.text().await.unwrap();
    assert!(index.contains("/admin/tenants/demo-ru/kb"), "{index}");
}

#[tokio::test]
async fn without_the_csrf_token_nothing_changes() {
    let app = app::spawn().await;
    let anna = signed_in(&app, "anna@shop.example", Role::Owner, &[]).await;
    let before = products(&app).await;
    let (content_type, body) = multipart("good.csv", GOOD, true);
    let upload = anna
        .http
        .post(format!("{}/admin/tenants/demo/catalog/upload", app.url))
        .header("cookie", &anna.cookie)
        .header("origin", OWN_ORIGIN)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(upload.status(), StatusCode::FORBIDDEN);
    let (path, _, _) = anna.preview("catalog", "good.csv", GOOD, true).await;
    assert_eq!(
        anna.post(&path, &[], false).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        anna.post(&path, &[("csrf", "forged")], false)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let (id, sku) = first_product(&app).await;
    let product = format!("/admin/tenants/demo/catalog/products/{id}");
    assert_eq!(
        anna.post(&product, &[("sku", &sku), ("title", "Forged")], false)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        anna.post(&format!("{product}/delete"), &[], false)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(products(&app).await, before);
    // The upload is still there for the real form.
    assert_eq!(
        anna.post(&path, &[], true).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn the_admin_script_is_served_versioned_and_immutable() {
    let app = app::spawn().await;
    let anna = signed_in(&app, "anna@shop.example", Role::Owner, &[]).await;
    let html = anna
        .get("/admin/tenants/demo/catalog")
        .await
        .text()
        .await
        .unwrap();
    let at = html
        .find("<script type=\"module\" src=\"")
        .expect("the script tag")
        + 27;
    let src = html[at..].split('"').next().unwrap().to_owned();
    assert!(src.starts_with("/admin/static/admin.js?v="), "{src}");
    let js = anna.get(&src).await;
    assert_eq!(js.status(), 200);
    assert_eq!(
        js.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    assert_eq!(
        js.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(js.text().await.unwrap().contains("data-upload"));
    assert!(
        !html.contains("<script>") && !html.contains(" style="),
        "no inline script or style"
    );
}
