//! The admin's tenant pages and keys: what an owner can change, what bad input and other roles
//! get, and that secrets never reach a page but once.

use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::app::{self, TestApp};
use keepstar::accounts::{self, NewMember};
use keepstar::store::{keys, tenants};
use keepstar::vocab::{Role, Secret};

/// keepstar's own origin in the test config.
const ADMIN_ORIGIN: &str = "https://chat.example.com";
const PASSWORD: &str = "a long enough password";

/// A signed-in member's browser: its cookie and the CSRF token its forms carry.
struct Member<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookie: String,
    csrf: String,
}

impl<'a> Member<'a> {
    async fn sign_in(app: &'a TestApp, email: &str, role: Role, serves: &[&str]) -> Member<'a> {
        let member = NewMember {
            email: email.into(),
            name: None,
            role,
            tenants: serves.iter().map(|t| t.to_string()).collect(),
            password: Some(Secret::new(PASSWORD.into())),
        };
        accounts::add(&app.db, member, "test").await.unwrap();
        let http = reqwest::Client::builder()
            .redirect(Policy::none())
            .build()
            .unwrap();
        let mut m = Member {
            app,
            http,
            cookie: String::new(),
            csrf: String::new(),
        };
        let res = m
            .post_as(
                "/admin/sign-in",
                &[("email", email), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let set = res.headers()["set-cookie"].to_str().unwrap();
        m.cookie = set.split(';').next().unwrap().to_owned();
        let home = m.get("/admin").await.text().await.unwrap();
        let at = home.find(r#"name="csrf" value=""#).unwrap() + 19;
        m.csrf = home[at..].split('"').next().unwrap().to_owned();
        m
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.app.url))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
    }

    async fn text(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.unwrap()
    }

    /// A form posted exactly as given (no CSRF token added).
    async fn post_as(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.http
            .post(format!("{}{path}", self.app.url))
            .header("origin", ADMIN_ORIGIN)
            .header("cookie", &self.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap()
    }

    /// A form posted from one of the admin's pages, with the session's CSRF token.
    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all = vec![("csrf", self.csrf.as_str())];
        all.extend_from_slice(fields);
        self.post_as(path, &all).await
    }
}

fn location(res: &reqwest::Response) -> &str {
    res.headers()["location"].to_str().unwrap()
}

/// Every field of a tenant's settings form as a browser posts it, with `changed` set.
fn settings<'a>(changed: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = vec![
        ("name", "Acme"),
        ("locale", "en"),
        ("currency", "USD"),
        ("color", ""),
        ("position", "right"),
        ("greeting", ""),
        ("logo_url", ""),
        ("launcher_text", ""),
        ("origins", "https://acme.example"),
        ("provider", "builtin"),
        ("model", ""),
        ("base_url", ""),
        ("api_key_env", ""),
        ("provider_key", ""),
        ("webhook_url", ""),
        ("system_prompt", ""),
        ("temperature", ""),
        ("max_tokens", ""),
        ("price_prompt", ""),
        ("price_completion", ""),
        ("monthly_budget", ""),
        ("over_budget", "builtin"),
        ("rate_limit", ""),
        ("retention_days", ""),
    ];
    for (k, v) in changed {
        match all.iter_mut().find(|(name, _)| name == k) {
            Some(field) => field.1 = v,
            None => all.push((k, v)),
        }
    }
    all
}

async fn tenant(app: &TestApp, slug: &str) -> Option<tenants::Tenant> {
    let slug = slug.to_owned();
    app.db.read(move |c| tenants::find(c, &slug)).await.unwrap()
}

/// The tenant's newest active public key.
async fn public_key(app: &TestApp, slug: &str) -> String {
    let id = tenant(app, slug).await.unwrap().id;
    app.db
        .read(move |c| keys::active_public(c, id))
        .await
        .unwrap()
        .and_then(|k| k.public_key)
        .expect("a public key")
}

/// The audit log's (actor, action, target), oldest first.
async fn audited(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    app.db
        .read(|c| {
            let mut s = c.prepare("SELECT actor, action, target FROM audit_log ORDER BY id")?;
            let rows = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
        .unwrap()
}

const ANNA: &str = "admin:anna@shop.example";

async fn owner(app: &TestApp) -> Member<'_> {
    Member::sign_in(app, "anna@shop.example", Role::Owner, &[]).await
}

#[tokio::test]
async fn an_owner_creates_edits_and_removes_a_tenant_and_every_change_is_audited() {
    let app = app::spawn().await;
    let anna = owner(&app).await;
    let list = anna.text("/admin/tenants").await;
    assert!(list.contains(">demo</a>") && list.contains(r#"action="/admin/tenants""#));

    let made = anna
        .post(
            "/admin/tenants",
            &[
                ("slug", "acme"),
                ("name", "Acme"),
                ("origins", "https://acme.example\n\nhttps://*.acme.example"),
                ("locale", "ru"),
            ],
        )
        .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&made), "/admin/tenants/acme");
    let acme = tenant(&app, "acme").await.expect("created");
    assert_eq!(acme.name, "Acme");
    assert_eq!(acme.locale.as_str(), "ru");
    assert_eq!(acme.origins.len(), 2);
    let public = public_key(&app, "acme").await;

    let page = anna.text("/admin/tenants/acme").await;
    assert!(
        page.contains(r#"src="/widget.js?v="#)
            && page.contains(&format!(
                r#"data-tenant="acme" data-key="{public}" data-position="right" data-locale="ru""#
            )),
        "the page embeds the real widget with the tenant's public key"
    );
    assert!(anna.text("/admin/tenants").await.contains(">acme</a>"));

    let saved = anna
        .post(
            "/admin/tenants/acme",
            &settings(&[
                ("name", "Acme Outdoor"),
                ("color", "#1f6f5c"),
                ("position", "left"),
                ("greeting", "Hi! Ask me about tents."),
                ("origins", "https://acme.example\nhttp://localhost:3000"),
                ("price_prompt", "0.00015"),
                ("monthly_budget", "20"),
                ("over_budget", "message"),
                ("rate_limit", "120"),
                ("retention_days", "90"),
            ]),
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&saved), "/admin/tenants/acme?saved");
    let acme = tenant(&app, "acme").await.unwrap();
    assert_eq!(acme.name, "Acme Outdoor");
    assert_eq!(acme.color.as_deref(), Some("#1f6f5c"));
    assert_eq!(acme.position.as_str(), "left");
    assert_eq!(acme.provider.price_prompt_micros, Some(150));
    assert_eq!(acme.limits.monthly_budget_micros, Some(20_000_000));
    assert_eq!(acme.limits.over_budget.as_str(), "message");
    assert_eq!(acme.limits.rate_limit_per_minute, Some(120));
    assert_eq!(acme.limits.retention_days, Some(90));
    assert_eq!(
        acme.origins.iter().map(|o| o.as_str()).collect::<Vec<_>>(),
        ["https://acme.example", "http://localhost:3000"]
    );
    let page = anna.text("/admin/tenants/acme?saved").await;
    assert!(page.contains(r#"role="status""#) && page.contains(r##"value="#1f6f5c""##));
    assert!(
        page.contains(r#"value="0.00015""#),
        "amounts shown as typed"
    );

    let wrong = anna
        .post("/admin/tenants/acme/remove", &[("confirm", "acm")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let wrong = wrong.text().await.unwrap();
    assert!(wrong.contains(r#"value="acm""#) && wrong.contains(r#"id="e-confirm""#));
    assert!(tenant(&app, "acme").await.is_some(), "not removed");
    let removed = anna
        .post("/admin/tenants/acme/remove", &[("confirm", "acme")])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&removed), "/admin/tenants");
    assert!(tenant(&app, "acme").await.is_none(), "removed");

    let by_anna: Vec<_> = audited(&app)
        .await
        .into_iter()
        .filter(|(actor, ..)| actor == ANNA)
        .map(|(_, action, target)| (action, target.unwrap_or_default()))
        .collect();
    assert_eq!(by_anna.len(), 4, "{by_anna:?}");
    assert_eq!(by_anna[0], ("tenant.add".into(), "acme".into()));
    assert_eq!(by_anna[1].0, "key.issue");
    assert_eq!(by_anna[2], ("tenant.set".into(), "acme".into()));
    assert_eq!(by_anna[3], ("tenant.remove".into(), "acme".into()));
}

#[tokio::test]
async fn bad_input_comes_back_beside_its_field_with_the_input_kept_and_changes_nothing() {
    let app = app::spawn().await;
    let anna = owner(&app).await;
    let before = tenant(&app, "demo").await.unwrap();
    let res = anna
        .post(
            "/admin/tenants/demo",
            &settings(&[
                ("name", "Renamed"),
                ("color", "red"),
                ("origins", "https://ok.example\nshop.example/path"),
                ("rate_limit", "lots"),
                ("price_prompt", "0.0000001"),
            ]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    for (field, kept) in [
        ("color", r#"value="red""#),
        ("rate_limit", r#"value="lots""#),
        ("price_prompt", r#"value="0.0000001""#),
        ("origins", "shop.example/path</textarea>"),
    ] {
        assert!(page.contains(kept), "{field} keeps its input");
        assert!(
            page.contains(&format!(r#"<p class="error" id="e-{field}">"#)),
            "{field} has its error"
        );
        assert!(
            page.contains(&format!(r#"aria-describedby="e-{field}"#)),
            "{field} points at its error"
        );
    }
    assert!(page.contains("#rgb or #rrggbb"), "the store's own message");
    assert!(
        page.contains(r#"value="Renamed""#),
        "the valid fields are kept too"
    );
    let after = tenant(&app, "demo").await.unwrap();
    assert_eq!(after.name, before.name, "nothing half-saved");
    assert_eq!(after.updated_at, before.updated_at);

    let res = anna
        .post(
            "/admin/tenants",
            &[
                ("slug", "Not A Slug"),
                ("name", "Kept name"),
                ("origins", ""),
                ("locale", "en"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    assert!(page.contains(r#"value="Not A Slug""#) && page.contains(r#"value="Kept name""#));
    assert!(page.contains(r#"id="e-slug""#));
    let taken = anna
        .post(
            "/admin/tenants",
            &[("slug", "demo"), ("name", "Again"), ("locale", "en")],
        )
        .await;
    assert_eq!(taken.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(taken.text().await.unwrap().contains("already exists"));
    assert_eq!(tenant(&app, "demo").await.unwrap().name, before.name);
    assert!(
        audited(&app).await.iter().all(|(actor, ..)| actor != ANNA),
        "nothing audited, as nothing changed"
    );
}

#[tokio::test]
async fn a_russian_viewer_reads_what_is_wrong_in_russian() {
    let app = app::spawn().await;
    let mut anna = owner(&app).await;
    anna.cookie = format!("{}; keepstar_lang=ru", anna.cookie);
    let res = anna
        .post(
            "/admin/tenants/demo",
            &settings(&[
                ("color", "red"),
                ("origins", "shop.example"),
                ("rate_limit", "lots"),
                ("retention_days", "0"),
                ("price_prompt", "0.0000001"),
                ("greeting", &"a".repeat(501)),
            ]),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = res.text().await.unwrap();
    for (field, sentence) in [
        ("color", "Неверный цвет «red»: укажите #rgb или #rrggbb."),
        (
            "origins",
            "Неверный источник «shop.example»: нужен вид схема://хост, например https://shop.example.",
        ),
        ("rate_limit", "Неверное число «lots»: нужно целое число."),
        (
            "retention_days",
            "Неверное значение 0: укажите число от 1 до 36500.",
        ),
        (
            "price_prompt",
            "Неверная сумма «0.0000001»: укажите сумму вроде 0.0006, не больше 6 знаков после точки.",
        ),
        ("greeting", "Слишком длинный текст: не больше 500 символов."),
    ] {
        let beside = format!(r#"<p class="error" id="e-{field}">{sentence}</p>"#);
        assert!(page.contains(&beside), "{beside} in {page}");
    }
    for english in [
        "#rgb or #rrggbb",
        "invalid origin",
        "whole number",
        "use 1 to",
    ] {
        assert!(!page.contains(english), "{english:?} in a Russian page");
    }

    for (slug, sentence) in [
        (
            "Not A Slug",
            "Неверный код «Not A Slug»: нужно 2–40 символов из a–z, 0–9 и -.",
        ),
        ("demo", "Арендатор с кодом «demo» уже есть."),
    ] {
        let res = anna
            .post(
                "/admin/tenants",
                &[("slug", slug), ("name", "Магазин"), ("locale", "ru")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = res.text().await.unwrap();
        assert!(page.contains(sentence), "{sentence} in {page}");
    }
    assert!(tenant(&app, "not-a-slug").await.is_none());
}

#[tokio::test]
async fn an_operator_gets_403_on_owner_pages_and_404_for_a_tenant_not_theirs() {
    let app = app::spawn().await;
    let olga = Member::sign_in(&app, "olga@shop.example", Role::Operator, &["demo"]).await;
    assert!(
        !olga
            .text("/admin")
            .await
            .contains(r#"href="/admin/tenants""#),
        "not in an operator's menu"
    );
    for path in [
        "/admin/tenants",
        "/admin/tenants/demo",
        "/admin/tenants/demo/keys",
    ] {
        assert_eq!(
            olga.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    for path in ["/admin/tenants/demo-ru", "/admin/tenants/demo-ru/keys"] {
        assert_eq!(
            olga.get(path).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let cases = [
        ("/admin/tenants", StatusCode::FORBIDDEN),
        ("/admin/tenants/demo", StatusCode::FORBIDDEN),
        ("/admin/tenants/demo/remove", StatusCode::FORBIDDEN),
        ("/admin/tenants/demo/keys", StatusCode::FORBIDDEN),
        ("/admin/tenants/demo-ru", StatusCode::NOT_FOUND),
        ("/admin/tenants/demo-ru/remove", StatusCode::NOT_FOUND),
        ("/admin/tenants/demo-ru/keys", StatusCode::NOT_FOUND),
    ];
    for (path, status) in cases {
        let fields = settings(&[("slug", "olgas"), ("confirm", "demo"), ("kind", "secret")]);
        assert_eq!(olga.post(path, &fields).await.status(), status, "{path}");
    }
    assert!(tenant(&app, "olgas").await.is_none());
    assert!(tenant(&app, "demo").await.is_some());
    assert!(tenant(&app, "demo-ru").await.is_some());
    assert_eq!(tenant(&app, "demo").await.unwrap().origins.len(), 1);
    assert!(
        audited(&app)
            .await
            .iter()
            .all(|(a, ..)| !a.contains("olga"))
    );
}

#[tokio::test]
async fn a_form_without_the_sessions_csrf_token_changes_nothing() {
    let app = app::spawn().await;
    let anna = owner(&app).await;
    let create = [("slug", "sneaky"), ("name", "Sneaky"), ("locale", "en")];
    let missing = anna.post_as("/admin/tenants", &create).await;
    assert_eq!(missing.status(), StatusCode::FORBIDDEN);
    let mut forged = vec![("csrf", "not-the-token")];
    forged.extend_from_slice(&create);
    assert_eq!(
        anna.post_as("/admin/tenants", &forged).await.status(),
        StatusCode::FORBIDDEN
    );
    assert!(tenant(&app, "sneaky").await.is_none());
    let remove = anna
        .post_as("/admin/tenants/demo/remove", &[("confirm", "demo")])
        .await;
    assert_eq!(remove.status(), StatusCode::FORBIDDEN);
    let issue = anna
        .post_as("/admin/tenants/demo/keys", &[("kind", "secret")])
        .await;
    assert_eq!(issue.status(), StatusCode::FORBIDDEN);
    assert!(tenant(&app, "demo").await.is_some());
    let demo = tenant(&app, "demo").await.unwrap();
    let count = app
        .db
        .read(move |c| keys::list(c, demo.id))
        .await
        .unwrap()
        .len();
    assert_eq!(count, 1, "no key issued");
}

#[tokio::test]
async fn the_provider_key_is_stored_sealed_and_never_shown_again() {
    const KEY: &str = "sk-live-provider-SECRET-4242";
    let app = app::spawn().await;
    let anna = owner(&app).await;
    let fields = settings(&[
        ("name", "Demo"),
        ("provider", "openai"),
        ("provider_key", KEY),
    ]);
    let res = anna.post("/admin/tenants/demo", &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let demo = tenant(&app, "demo").await.unwrap();
    assert!(demo.provider.api_key_stored);
    let id = demo.id;
    let sealed = app
        .db
        .read(move |c| tenants::sealed_key(c, id))
        .await
        .unwrap()
        .expect("stored");
    assert!(!sealed.windows(KEY.len()).any(|w| w == KEY.as_bytes()));
    let config = keepstar::config::Config::load(
        &app.dir.path().join("keepstar.toml"),
        &keepstar::config::Overrides::default(),
    )
    .unwrap();
    let sealer = keepstar::seal::Sealer::new(config.encryption_key.as_ref().unwrap());
    assert_eq!(sealer.open(id, &sealed).unwrap().expose(), KEY);

    let page = anna.text("/admin/tenants/demo").await;
    assert!(page.contains("<strong>set</strong>") && page.contains(r#"name="forget_key""#));
    // Bad input beside a new key: the page comes back without the key, and nothing is stored.
    let again = settings(&[("color", "nope"), ("provider_key", "sk-live-OTHER-777")]);
    let res = anna.post("/admin/tenants/demo", &again).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!res.text().await.unwrap().contains("sk-live-OTHER-777"));
    let still = app
        .db
        .read(move |c| tenants::sealed_key(c, id))
        .await
        .unwrap();
    assert_eq!(
        still.as_deref(),
        Some(&sealed[..]),
        "the stored key unchanged"
    );
    for path in [
        "/admin",
        "/admin/tenants",
        "/admin/tenants/demo",
        "/admin/tenants/demo/keys",
    ] {
        assert!(!anna.text(path).await.contains(KEY), "{path}");
    }
    let log = audited(&app).await;
    let details: Vec<String> = app
        .db
        .read(|c| {
            let mut s = c.prepare("SELECT details FROM audit_log")?;
            let rows = s
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
        .unwrap();
    assert!(
        details.iter().all(|d| !d.contains(KEY)),
        "not in the audit log"
    );
    assert!(
        log.iter()
            .any(|(a, act, _)| a == ANNA && act == "tenant.set")
    );

    let forget = settings(&[("provider", "openai"), ("forget_key", "1")]);
    assert_eq!(
        anna.post("/admin/tenants/demo", &forget).await.status(),
        StatusCode::SEE_OTHER
    );
    assert!(!tenant(&app, "demo").await.unwrap().provider.api_key_stored);
}

#[tokio::test]
async fn a_secret_key_is_shown_once_and_keys_are_revoked_within_their_tenant() {
    let app = app::spawn().await;
    let anna = owner(&app).await;
    let page = anna.text("/admin/tenants/demo/keys").await;
    assert!(
        page.contains("&#60;script async src=&#34;https://chat.example.com/widget.js?v="),
        "the snippet, escaped in a readonly textarea"
    );
    assert!(page.contains("readonly"));

    let res = anna
        .post(
            "/admin/tenants/demo/keys",
            &[("kind", "secret"), ("label", "orders sync")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let shown = res.text().await.unwrap();
    let at = shown.find("sk_").expect("the secret on the answer");
    let secret: String = shown[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    assert_eq!(secret.len(), 35, "{secret}");
    assert!(shown.contains("shown once"));
    let demo = tenant(&app, "demo").await.unwrap();
    let (id, probe) = (demo.id, secret.clone());
    let key = app
        .db
        .read(move |c| keys::verify(c, id, keys::KeyKind::Secret, &probe))
        .await
        .unwrap()
        .expect("the key works");
    assert_eq!(key.label.as_deref(), Some("orders sync"));
    let later = anna.text("/admin/tenants/demo/keys").await;
    assert!(!later.contains(&secret), "never shown again");
    assert!(later.contains(&key.prefix) && later.contains("orders sync"));

    // A key of another tenant is not found through this one's page.
    let ru = tenant(&app, "demo-ru").await.unwrap();
    let ru_key = app
        .db
        .read(move |c| keys::list(c, ru.id))
        .await
        .unwrap()
        .remove(0);
    let path = format!("/admin/tenants/demo/keys/{}/revoke", ru_key.id);
    assert_eq!(anna.post(&path, &[]).await.status(), StatusCode::NOT_FOUND);
    let path = format!("/admin/tenants/demo/keys/{}/revoke", key.id);
    let revoked = anna.post(&path, &[]).await;
    assert_eq!(revoked.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&revoked), "/admin/tenants/demo/keys");
    let (id, probe) = (demo.id, secret.clone());
    let gone = app
        .db
        .read(move |c| keys::verify(c, id, keys::KeyKind::Secret, &probe))
        .await
        .unwrap();
    assert!(gone.is_none(), "revoked");
    let ru_id = ru_key.id.clone();
    assert!(
        app.db
            .read(move |c| keys::get(c, &ru_id))
            .await
            .unwrap()
            .revoked_at
            .is_none()
    );
    let by_anna: Vec<_> = audited(&app)
        .await
        .into_iter()
        .filter(|(a, ..)| a == ANNA)
        .map(|(_, action, target)| (action, target))
        .collect();
    assert_eq!(
        by_anna,
        [
            ("key.issue".into(), Some(key.id.clone())),
            ("key.revoke".into(), Some(key.id.clone()))
        ]
    );
}

#[tokio::test]
async fn keepstars_own_origin_opens_a_session_for_any_tenant_and_others_stay_refused() {
    let app = app::spawn().await;
    let anna = owner(&app).await;
    let made = anna
        .post(
            "/admin/tenants",
            &[("slug", "acme"), ("name", "Acme"), ("locale", "en")],
        )
        .await;
    assert_eq!(made.status(), StatusCode::SEE_OTHER);
    let acme = tenant(&app, "acme").await.unwrap();
    assert!(acme.origins.is_empty(), "no origin of its own");
    let key = public_key(&app, "acme").await;
    let open = |origin: &'static str| {
        app.http
            .post(format!("{}/api/v1/sessions", app.url))
            .header("origin", origin)
            .json(&serde_json::json!({ "tenant": "acme", "key": key }))
            .send()
    };
    let preview = open(ADMIN_ORIGIN).await.unwrap();
    assert_eq!(preview.status(), 200, "the admin's preview opens a session");
    let other = open("https://elsewhere.example").await.unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
}
