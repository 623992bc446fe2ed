//! The admin's sign-in rules: accounts from the CLI, passwords, one-time links, cookies,
//! sessions and their expiry, CSRF and origin checks, sign-in limits, roles.

use reqwest::StatusCode;
use reqwest::redirect::Policy;

use crate::app::{self, TestApp};
use crate::support::Kit;
use keepstar::accounts::{self, NewMember};
use keepstar::vocab::{Role, Secret};

/// keepstar's own origin in the test config.
pub const ADMIN_ORIGIN: &str = "https://chat.example.com";

/// A form body as browsers send it.
pub trait Encoded {
    fn encoded<V: AsRef<str>>(self, fields: &[(&str, V)]) -> Self;
}

impl Encoded for reqwest::RequestBuilder {
    fn encoded<V: AsRef<str>>(self, fields: &[(&str, V)]) -> Self {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter().map(|(k, v)| (*k, v.as_ref())))
            .finish();
        self.header("content-type", "application/x-www-form-urlencoded")
            .body(body)
    }
}

pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

pub async fn member(
    app: &TestApp,
    email: &str,
    role: Role,
    tenants: &[&str],
    password: Option<&str>,
) {
    let member = NewMember {
        email: email.into(),
        name: None,
        role,
        tenants: tenants.iter().map(|t| t.to_string()).collect(),
        password: password.map(|p| Secret::new(p.into())),
    };
    accounts::add(&app.db, member, "test").await.unwrap();
}

/// A signed-in member's browser (a session opened as a sign-in does): its cookie and token.
pub struct Member<'a> {
    pub app: &'a TestApp,
    pub cookie: String,
    pub csrf: String,
}

/// A member named `name` (their email is the name at shop.example), signed in.
pub async fn signed<'a>(app: &'a TestApp, name: &str, role: Role, tenants: &[&str]) -> Member<'a> {
    let member = NewMember {
        email: format!("{}@shop.example", name.to_lowercase()),
        name: Some(name.into()),
        role,
        tenants: tenants.iter().map(|t| t.to_string()).collect(),
        password: None,
    };
    let user = accounts::add(&app.db, member, "test").await.unwrap();
    let opened = accounts::open_session(&app.db, user).await.unwrap();
    Member {
        app,
        cookie: format!("__Host-keepstar_admin={}", opened.token),
        csrf: opened.session.csrf_token,
    }
}

impl Member<'_> {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        page(self.app, path, &self.cookie).await
    }

    /// The page's HTML, which must be there.
    pub async fn html(&self, path: &str) -> String {
        let res = self.get(path).await;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        res.text().await.unwrap()
    }

    /// A form as the page sends it, with the session's token.
    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut fields = fields.to_vec();
        fields.push(("csrf", &self.csrf));
        browser()
            .post(format!("{}{path}", self.app.url))
            .header("cookie", &self.cookie)
            .header("origin", ADMIN_ORIGIN)
            .encoded(&fields)
            .send()
            .await
            .unwrap()
    }
}

/// Signs in with a password; the response as it came.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    browser()
        .post(format!("{}/admin/sign-in", app.url))
        .header("origin", ADMIN_ORIGIN)
        .encoded(&[("email", email), ("password", password)])
        .send()
        .await
        .unwrap()
}

/// The session cookie a sign-in set (`name=value`).
pub fn cookie(res: &reqwest::Response) -> String {
    let set = res.headers()["set-cookie"].to_str().unwrap();
    set.split(';').next().unwrap().to_owned()
}

pub async fn page(app: &TestApp, path: &str, cookie: &str) -> reqwest::Response {
    browser()
        .get(format!("{}{path}", app.url))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap()
}

/// The CSRF token the page's forms carry.
pub async fn csrf(app: &TestApp, cookie: &str) -> String {
    let html = page(app, "/admin", cookie).await.text().await.unwrap();
    let at = html
        .find(r#"name="csrf" value=""#)
        .expect("a form with the token")
        + 19;
    html[at..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn a_password_signs_in_with_a_strict_cookie_and_wrong_ones_are_refused_alike() {
    let app = app::spawn().await;
    member(
        &app,
        "anna@shop.example",
        Role::Owner,
        &[],
        Some("a long enough password"),
    )
    .await;
    let ok = sign_in(&app, "anna@shop.example", "a long enough password").await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    let set = ok.headers()["set-cookie"].to_str().unwrap().to_owned();
    for flag in [
        "__Host-keepstar_admin=",
        "HttpOnly",
        "SameSite=Strict",
        "Path=/",
        "Secure",
    ] {
        assert!(set.contains(flag), "{flag} in {set}");
    }
    let stored: Vec<Vec<u8>> = app
        .db
        .read(|c| {
            let mut s = c.prepare("SELECT token_hash FROM admin_sessions")?;
            let rows = s
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
        .unwrap();
    let token = cookie(&ok).split_once('=').unwrap().1.to_owned();
    assert_eq!(
        stored,
        [keepstar::token::sha256(&token)],
        "only the hash is kept"
    );
    let home = page(&app, "/admin", &cookie(&ok)).await;
    assert_eq!(home.status(), 200);
    let csp = home.headers()["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );

    let wrong = sign_in(&app, "anna@shop.example", "not the password at all").await;
    let unknown = sign_in(&app, "nobody@shop.example", "not the password at all").await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);
    let (wrong, unknown) = (wrong.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(
        wrong.replace("anna@", "X@"),
        unknown.replace("nobody@", "X@"),
        "an unknown email and a wrong password answer alike"
    );
    assert!(
        wrong.contains(r#"value="anna@shop.example""#),
        "the form keeps the email"
    );
    assert_eq!(
        page(&app, "/admin", "").await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn sign_ins_are_limited_per_account() {
    let app = app::spawn().await;
    member(
        &app,
        "anna@shop.example",
        Role::Owner,
        &[],
        Some("a long enough password"),
    )
    .await;
    for _ in 0..4 {
        let res = sign_in(&app, "anna@shop.example", "guess guess guess").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = sign_in(&app, "Anna@shop.example", "a long enough password").await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "after three free failures even the right password waits, however the email is typed"
    );
    let other = sign_in(&app, "nobody@shop.example", "guess guess guess").await;
    assert_eq!(
        other.status(),
        StatusCode::UNAUTHORIZED,
        "other accounts are not held up"
    );
}

#[tokio::test]
async fn a_one_time_link_works_once_and_not_after_it_expires() {
    let app = app::spawn().await;
    member(&app, "op@shop.example", Role::Operator, &["demo"], None).await;
    let link = accounts::sign_in_link(&app.db, ADMIN_ORIGIN, "op@shop.example", "test")
        .await
        .unwrap();
    let token = link.rsplit('/').next().unwrap().to_owned();
    // Opening the link only asks; a link preview uses nothing up.
    let asked = page(&app, &format!("/admin/link/{token}"), "").await;
    assert_eq!(asked.status(), 200);
    let url = format!("{}/admin/link", app.url);
    let use_link = |token: String| {
        let url = url.clone();
        async move {
            browser()
                .post(url)
                .header("origin", ADMIN_ORIGIN)
                .encoded(&[("token", token)])
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(
        use_link(token.clone()).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        use_link(token).await.status(),
        StatusCode::UNAUTHORIZED,
        "used once"
    );
    let late = accounts::sign_in_link(&app.db, ADMIN_ORIGIN, "op@shop.example", "test")
        .await
        .unwrap();
    app.db
        .write(|c| Ok(c.execute("UPDATE admin_sign_in_links SET expires_at = 0", [])?))
        .await
        .unwrap();
    let late = late.rsplit('/').next().unwrap().to_owned();
    assert_eq!(
        use_link(late).await.status(),
        StatusCode::UNAUTHORIZED,
        "expired"
    );
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_our_origin() {
    let app = app::spawn().await;
    member(
        &app,
        "anna@shop.example",
        Role::Owner,
        &[],
        Some("a long enough password"),
    )
    .await;
    let c = cookie(&sign_in(&app, "anna@shop.example", "a long enough password").await);
    let token = csrf(&app, &c).await;
    let sign_out = |origin: &'static str, csrf: String| {
        let c = c.clone();
        let url = format!("{}/admin/sign-out", app.url);
        async move {
            browser()
                .post(url)
                .header("cookie", c)
                .header("origin", origin)
                .encoded(&[("csrf", csrf)])
                .send()
                .await
                .unwrap()
        }
    };
    let forged = sign_out(ADMIN_ORIGIN, "not-the-token".into()).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = forged.json().await.unwrap();
    assert_eq!(body["error"]["code"], "csrf_failed");
    let elsewhere = sign_out("https://evil.example", token.clone()).await;
    assert_eq!(elsewhere.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        page(&app, "/admin", &c).await.status(),
        200,
        "still signed in"
    );
    assert_eq!(
        sign_out(ADMIN_ORIGIN, token).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        page(&app, "/admin", &c).await.status(),
        StatusCode::SEE_OTHER,
        "signed out"
    );
}

#[tokio::test]
async fn sessions_end_when_idle_and_everywhere_at_once() {
    let app = app::spawn().await;
    member(
        &app,
        "anna@shop.example",
        Role::Owner,
        &[],
        Some("a long enough password"),
    )
    .await;
    let phone = cookie(&sign_in(&app, "anna@shop.example", "a long enough password").await);
    let laptop = cookie(&sign_in(&app, "anna@shop.example", "a long enough password").await);
    let token = csrf(&app, &laptop).await;
    let everywhere = browser()
        .post(format!("{}/admin/sign-out-everywhere", app.url))
        .header("cookie", &laptop)
        .header("origin", ADMIN_ORIGIN)
        .encoded(&[("csrf", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(everywhere.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page(&app, "/admin", &phone).await.status(),
        StatusCode::SEE_OTHER
    );

    let idle = cookie(&sign_in(&app, "anna@shop.example", "a long enough password").await);
    assert_eq!(page(&app, "/admin", &idle).await.status(), 200);
    let idle_for = keepstar::accounts::IDLE_EXPIRY_MS + 1;
    app.db
        .write(move |c| {
            Ok(c.execute(
                "UPDATE admin_sessions SET last_seen_at = last_seen_at - ?1",
                [idle_for],
            )?)
        })
        .await
        .unwrap();
    assert_eq!(
        page(&app, "/admin", &idle).await.status(),
        StatusCode::SEE_OTHER,
        "idle too long"
    );
}

#[test]
fn the_cli_manages_the_team() {
    let kit = Kit::with_shop();
    let short = kit.run_stdin(
        &["admin", "add", "anna@shop.example", "--password-stdin"],
        "short",
    );
    short.fails_with("at least 12 characters");
    kit.run(&["admin", "add", "anna@shop.example", "--name", "Anna"])
        .ok();
    kit.run(&[
        "admin",
        "add",
        "op@shop.example",
        "--role",
        "operator",
        "--tenant",
        "shop",
    ])
    .ok();
    kit.run(&["admin", "add", "op@shop.example"])
        .fails_with("already exists");
    kit.run(&[
        "admin",
        "add",
        "x@shop.example",
        "--role",
        "operator",
        "--tenant",
        "nope",
    ])
    .fails_with("not found");
    let list = kit.run(&["--json", "admin", "list"]).ok().json();
    assert_eq!(list[1]["email"], "op@shop.example");
    assert_eq!(list[1]["tenants"][0], "shop");
    kit.run(&["admin", "remove", "anna@shop.example"])
        .fails_with("only owner");
    kit.run(&["admin", "set", "anna@shop.example", "--role", "operator"])
        .fails_with("only owner");
    let link = kit.run(&["admin", "link", "op@shop.example"]).ok();
    assert!(link.stdout.contains("/admin/link/"), "{}", link.stdout);
    kit.run(&["admin", "remove", "op@shop.example"]).ok();
    let audit = kit.count("SELECT count(*) FROM audit_log WHERE action LIKE 'admin.%'");
    assert_eq!(audit, 4, "add, add, link, remove");
    kit.run_stdin(
        &["admin", "set", "anna@shop.example", "--password-stdin"],
        "a long enough password\n",
    )
    .ok();
    let hashed = kit.count("SELECT count(*) FROM admin_users WHERE password_hash LIKE '$argon2id$v=19$m=47104,t=2,p=1$%'");
    assert_eq!(hashed, 1, "the password is kept as an Argon2id hash only");
    assert!(!crate::support::contains(
        &kit.raw_db(),
        "a long enough password"
    ));
}
