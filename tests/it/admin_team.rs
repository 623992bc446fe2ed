//! The team's pages (owners only), the member's own account and the audit log, through the
//! admin's forms as a browser sends them.

use reqwest::StatusCode;

use crate::admin::{ADMIN_ORIGIN, Encoded, browser, cookie, csrf, member, page, sign_in};
use crate::app::{self, TestApp};
use keepstar::accounts;
use keepstar::store::admins::AdminUser;
use keepstar::vocab::Role;

const PASSWORD: &str = "a long enough password";

/// A signed-in browser: its cookie and its forms' CSRF token.
struct Signed {
    cookie: String,
    csrf: String,
}

async fn signed_in(app: &TestApp, email: &str, password: &str) -> Signed {
    let res = sign_in(app, email, password).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email} signs in");
    let cookie = cookie(&res);
    let csrf = csrf(app, &cookie).await;
    Signed { cookie, csrf }
}

/// An owner, anna, signed in, and the app.
async fn with_owner() -> (TestApp, Signed) {
    let app = app::spawn().await;
    member(&app, "anna@shop.example", Role::Owner, &[], Some(PASSWORD)).await;
    let anna = signed_in(&app, "anna@shop.example", PASSWORD).await;
    (app, anna)
}

/// An operator of the demo tenant, op, signed in.
async fn with_operator(app: &TestApp) -> Signed {
    member(
        app,
        "op@shop.example",
        Role::Operator,
        &["demo"],
        Some(PASSWORD),
    )
    .await;
    signed_in(app, "op@shop.example", PASSWORD).await
}

/// Posts a form as the signed-in browser, with its CSRF token.
async fn post(
    app: &TestApp,
    who: &Signed,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut fields = fields.to_vec();
    fields.push(("csrf", &who.csrf));
    browser()
        .post(format!("{}{path}", app.url))
        .header("cookie", &who.cookie)
        .header("origin", ADMIN_ORIGIN)
        .encoded(&fields)
        .send()
        .await
        .unwrap()
}

/// Posts a form that is to be refused: its page, sent back with 422.
async fn refused(app: &TestApp, who: &Signed, path: &str, fields: &[(&str, &str)]) -> String {
    let res = post(app, who, path, fields).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
    res.text().await.unwrap()
}

async fn team(app: &TestApp) -> Vec<AdminUser> {
    accounts::list(&app.db).await.unwrap()
}

async fn find(app: &TestApp, email: &str) -> Option<AdminUser> {
    team(app).await.into_iter().find(|u| u.email == email)
}

/// The audit log's (actor, action, target), oldest first.
async fn audit(app: &TestApp) -> Vec<(String, String, Option<String>)> {
    app.db
        .read(|c| {
            let mut s = c.prepare(
                "SELECT actor, action, target FROM audit_log WHERE action LIKE 'admin.%' ORDER BY id",
            )?;
            let rows = s
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
        .unwrap()
}

/// Whether the audit log holds only the test's own changes to the team.
async fn nobody_changed_the_team(app: &TestApp) -> bool {
    audit(app).await.iter().all(|(actor, _, _)| actor == "test")
}

async fn sessions_of(app: &TestApp, email: &'static str) -> i64 {
    app.db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT count(*) FROM admin_sessions s JOIN admin_users u ON u.id = s.admin_user_id
                 WHERE u.email = ?1",
                [email],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn an_owner_adds_edits_disables_links_and_removes_a_member() {
    let (app, anna) = with_owner().await;
    let list = page(&app, "/admin/users", &anna.cookie).await;
    assert_eq!(list.status(), 200);
    let html = list.text().await.unwrap();
    assert!(html.contains("anna@shop.example"), "{html}");
    assert!(
        html.contains(r#"href="/admin/users""#),
        "the nav links the team"
    );

    let added = post(
        &app,
        &anna,
        "/admin/users",
        &[
            ("email", "op@shop.example"),
            ("name", "Oleg"),
            ("role", "operator"),
            ("tenants", "demo"),
            ("tenants", "demo-ru"),
            ("password", "operator's own password"),
        ],
    )
    .await;
    assert_eq!(added.status(), StatusCode::SEE_OTHER);
    assert_eq!(added.headers()["location"], "/admin/users");
    let op = find(&app, "op@shop.example").await.expect("added");
    assert_eq!(
        (op.name.as_deref(), op.role, op.tenants.clone()),
        (
            Some("Oleg"),
            Role::Operator,
            vec!["demo".into(), "demo-ru".into()]
        )
    );
    let html = page(&app, "/admin/users", &anna.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("op@shop.example") && html.contains("Oleg"),
        "{html}"
    );

    let oleg = signed_in(&app, "op@shop.example", "operator's own password").await;
    let path = format!("/admin/users/{}", op.id);
    let edit = page(&app, &path, &anna.cookie).await.text().await.unwrap();
    assert!(
        edit.contains(r#"value="Oleg""#),
        "the form holds the member: {edit}"
    );
    let edited = post(
        &app,
        &anna,
        &path,
        &[
            ("name", "Oleg P."),
            ("role", "operator"),
            ("tenants", "demo"),
        ],
    )
    .await;
    assert_eq!(edited.status(), StatusCode::SEE_OTHER);
    let op = find(&app, "op@shop.example").await.unwrap();
    assert_eq!(
        (op.name.as_deref(), op.tenants.clone()),
        (Some("Oleg P."), vec!["demo".into()])
    );
    assert_eq!(
        page(&app, "/admin", &oleg.cookie).await.status(),
        200,
        "still signed in"
    );

    let disabled = post(
        &app,
        &anna,
        &path,
        &[
            ("name", "Oleg P."),
            ("role", "operator"),
            ("tenants", "demo"),
            ("disabled", "on"),
        ],
    )
    .await;
    assert_eq!(disabled.status(), StatusCode::SEE_OTHER);
    assert!(
        find(&app, "op@shop.example")
            .await
            .unwrap()
            .disabled_at
            .is_some()
    );
    assert_eq!(
        page(&app, "/admin", &oleg.cookie).await.status(),
        StatusCode::SEE_OTHER,
        "a disabled member's sessions end"
    );
    assert_eq!(sessions_of(&app, "op@shop.example").await, 0);
    let refused = sign_in(&app, "op@shop.example", "operator's own password").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let html = page(&app, "/admin/users", &anna.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("disabled"), "{html}");

    let enabled = post(
        &app,
        &anna,
        &path,
        &[("name", "Oleg P."), ("role", "operator")],
    )
    .await;
    assert_eq!(enabled.status(), StatusCode::SEE_OTHER);
    let link = post(&app, &anna, &format!("{path}/link"), &[]).await;
    assert_eq!(link.status(), 200);
    let html = link.text().await.unwrap();
    let at = html
        .find("https://chat.example.com/admin/link/")
        .expect("the link is shown");
    let token = html[at..]
        .split('"')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let used = browser()
        .post(format!("{}/admin/link", app.url))
        .header("origin", ADMIN_ORIGIN)
        .encoded(&[("token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        used.status(),
        StatusCode::SEE_OTHER,
        "the link signs the member in"
    );

    let removed = post(&app, &anna, &format!("{path}/remove"), &[]).await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert!(find(&app, "op@shop.example").await.is_none());
    assert_eq!(page(&app, &path, &anna.cookie).await.status(), 404);

    let by_anna: Vec<_> = audit(&app)
        .await
        .into_iter()
        .filter(|(actor, _, _)| actor == "admin:anna@shop.example")
        .map(|(_, action, target)| (action, target.unwrap()))
        .collect();
    let op = "op@shop.example".to_owned();
    assert_eq!(
        by_anna,
        [
            ("admin.add".into(), op.clone()),
            ("admin.set".into(), op.clone()),
            ("admin.set".into(), op.clone()),
            ("admin.set".into(), op.clone()),
            ("admin.link".into(), op.clone()),
            ("admin.remove".into(), op),
        ],
        "every change is in the audit log with the owner who made it"
    );
}

#[tokio::test]
async fn an_operator_may_not_see_or_change_the_team() {
    let app = app::spawn().await;
    member(&app, "anna@shop.example", Role::Owner, &[], Some(PASSWORD)).await;
    let op = with_operator(&app).await;
    let home = page(&app, "/admin", &op.cookie).await.text().await.unwrap();
    assert!(
        !home.contains(r#"href="/admin/users""#),
        "no link to the team"
    );
    let list = page(&app, "/admin/users", &op.cookie).await;
    assert_eq!(list.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = list.json().await.unwrap();
    assert_eq!(body["error"]["code"], "owners_only");
    let anna = find(&app, "anna@shop.example").await.unwrap();
    assert_eq!(
        page(&app, &format!("/admin/users/{}", anna.id), &op.cookie)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    let add = post(
        &app,
        &op,
        "/admin/users",
        &[("email", "me-too@shop.example"), ("role", "owner")],
    )
    .await;
    assert_eq!(add.status(), StatusCode::FORBIDDEN);
    let demote = post(
        &app,
        &op,
        &format!("/admin/users/{}", anna.id),
        &[("role", "operator")],
    )
    .await;
    assert_eq!(demote.status(), StatusCode::FORBIDDEN);
    let remove = post(&app, &op, &format!("/admin/users/{}/remove", anna.id), &[]).await;
    assert_eq!(remove.status(), StatusCode::FORBIDDEN);
    let link = post(&app, &op, &format!("/admin/users/{}/link", anna.id), &[]).await;
    assert_eq!(link.status(), StatusCode::FORBIDDEN);
    assert_eq!(team(&app).await.len(), 2, "nothing changed");
    assert_eq!(
        find(&app, "anna@shop.example").await.unwrap().role,
        Role::Owner
    );
    assert!(nobody_changed_the_team(&app).await, "nothing recorded");
}

#[tokio::test]
async fn bad_input_comes_back_beside_its_field_and_changes_nothing() {
    let (app, anna) = with_owner().await;
    let before = audit(&app).await.len();
    let html = refused(
        &app,
        &anna,
        "/admin/users",
        &[
            ("email", "new@shop.example"),
            ("name", "Nina"),
            ("role", "operator"),
            ("tenants", "demo-ru"),
            ("password", "too short"),
        ],
    )
    .await;
    assert!(html.contains("at least 12 characters"), "{html}");
    assert!(
        html.contains(r#"id="password-error""#),
        "beside the field: {html}"
    );
    assert!(
        html.contains(r#"value="new@shop.example""#),
        "the email is kept"
    );
    assert!(html.contains(r#"value="Nina""#), "the name is kept");
    assert!(
        html.contains(r#"value="demo-ru" checked"#) && !html.contains(r#"value="demo" checked"#),
        "the tenants ticked are kept"
    );
    assert!(
        html.contains(r#"value="operator" checked"#),
        "the role is kept"
    );
    assert!(!html.contains("too short"), "never the password");

    let html = refused(
        &app,
        &anna,
        "/admin/users",
        &[("email", "not an email"), ("role", "owner")],
    )
    .await;
    assert!(
        html.contains(r#"id="email-error""#) && html.contains("not an email address"),
        "{html}"
    );
    assert!(
        html.contains(r#"value="not an email""#),
        "the email is kept"
    );

    let html = refused(
        &app,
        &anna,
        "/admin/users",
        &[("email", "ANNA@shop.example"), ("role", "operator")],
    )
    .await;
    assert!(
        html.contains("exists already") && html.contains(r#"id="email-error""#),
        "{html}"
    );

    let long_name = "n".repeat(101);
    let anna_id = find(&app, "anna@shop.example").await.unwrap().id;
    let html = refused(
        &app,
        &anna,
        &format!("/admin/users/{anna_id}"),
        &[
            ("name", &long_name),
            ("role", "owner"),
            ("password", "a new long password"),
        ],
    )
    .await;
    assert!(html.contains(r#"id="name-error""#));

    assert_eq!(team(&app).await.len(), 1, "nobody was added");
    assert_eq!(audit(&app).await.len(), before, "nothing was recorded");
    assert_eq!(
        sign_in(&app, "anna@shop.example", PASSWORD).await.status(),
        StatusCode::SEE_OTHER,
        "the refused change kept the old password"
    );
}

#[tokio::test]
async fn the_last_owner_stays_an_owner() {
    let (app, anna) = with_owner().await;
    let id = find(&app, "anna@shop.example").await.unwrap().id;
    let path = format!("/admin/users/{id}");
    for fields in [
        vec![("name", "Anna"), ("role", "operator")],
        vec![("name", "Anna"), ("role", "owner"), ("disabled", "on")],
    ] {
        let html = refused(&app, &anna, &path, &fields).await;
        assert!(html.contains("This is the only owner"), "{html}");
        assert!(html.contains(r#"id="role-error""#), "beside the role");
    }
    let html = refused(&app, &anna, &format!("{path}/remove"), &[]).await;
    assert!(html.contains(r#"id="remove-error""#) && html.contains("This is the only owner"));
    let anna_now = find(&app, "anna@shop.example").await.unwrap();
    assert_eq!(anna_now.role, Role::Owner);
    assert!(anna_now.disabled_at.is_none());
    assert_eq!(anna_now.name, None, "nothing half-saved");
    assert_eq!(page(&app, "/admin/users", &anna.cookie).await.status(), 200);

    // With a second owner, the first may step down.
    member(&app, "boris@shop.example", Role::Owner, &[], None).await;
    let res = post(&app, &anna, &path, &[("role", "operator")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        find(&app, "anna@shop.example").await.unwrap().role,
        Role::Operator
    );
}

#[tokio::test]
async fn a_form_without_the_csrf_token_changes_nothing() {
    let (app, anna) = with_owner().await;
    member(&app, "op@shop.example", Role::Operator, &["demo"], None).await;
    let op = find(&app, "op@shop.example").await.unwrap();
    let forged = Signed {
        cookie: anna.cookie.clone(),
        csrf: "not-the-token".into(),
    };
    for (path, fields) in [
        (
            "/admin/users".to_owned(),
            vec![("email", "x@shop.example"), ("role", "owner")],
        ),
        (format!("/admin/users/{}", op.id), vec![("role", "owner")]),
        (format!("/admin/users/{}/remove", op.id), vec![]),
        (format!("/admin/users/{}/link", op.id), vec![]),
        ("/admin/account".to_owned(), vec![("name", "Forged")]),
    ] {
        let res = post(&app, &forged, &path, &fields).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "csrf_failed");
        let bare = browser()
            .post(format!("{}{path}", app.url))
            .header("cookie", &anna.cookie)
            .header("origin", ADMIN_ORIGIN)
            .encoded(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(
            bare.status(),
            StatusCode::FORBIDDEN,
            "{path} without a token"
        );
    }
    let now = team(&app).await;
    assert_eq!(now.len(), 2);
    assert!(now.iter().all(|u| u.name.is_none()));
    assert_eq!(
        find(&app, "op@shop.example").await.unwrap().role,
        Role::Operator
    );
    assert!(nobody_changed_the_team(&app).await, "nothing recorded");
}

/// An audit row's tenant cell (the one before the details).
fn tenant_cell(slug: &str) -> String {
    format!(r#"<td>{slug}</td><td><code class="details">"#)
}

#[tokio::test]
async fn the_audit_log_shows_an_operator_only_their_tenants() {
    let (app, anna) = with_owner().await;
    let op = with_operator(&app).await;
    // The demo tenants were each added with an entry of their own.
    let all = page(&app, "/admin/audit", &anna.cookie).await;
    assert_eq!(all.status(), 200);
    let html = all.text().await.unwrap();
    for seen in [
        tenant_cell("demo"),
        tenant_cell("demo-ru"),
        "admin.add".into(),
    ] {
        assert!(html.contains(&seen), "an owner sees {seen}: {html}");
    }
    let theirs = page(&app, "/admin/audit", &op.cookie).await;
    assert_eq!(theirs.status(), 200);
    let html = theirs.text().await.unwrap();
    assert!(html.contains("<td>demo</td>"), "{html}");
    assert!(
        !html.contains("demo-ru</td>"),
        "not another tenant's: {html}"
    );
    assert!(!html.contains("admin.add"), "not the team's: {html}");
    let asked = page(&app, "/admin/audit?tenant=demo-ru", &op.cookie).await;
    let html = asked.text().await.unwrap();
    assert!(
        html.contains("No entries."),
        "asking for it shows nothing: {html}"
    );

    let filtered = page(&app, "/admin/audit?action=admin&actor=test", &anna.cookie).await;
    let html = filtered.text().await.unwrap();
    assert!(
        html.contains("admin.add") && !html.contains("tenant.add"),
        "{html}"
    );
    let by_tenant = page(&app, "/admin/audit?tenant=demo-ru", &anna.cookie).await;
    let html = by_tenant.text().await.unwrap();
    assert!(
        html.contains(&tenant_cell("demo-ru")) && !html.contains(&tenant_cell("demo")),
        "{html}"
    );
}

#[tokio::test]
async fn the_audit_log_pages_newest_first() {
    let (app, anna) = with_owner().await;
    app.db
        .write(|c| {
            for n in 0..60 {
                keepstar::store::audit::record(
                    c,
                    keepstar::store::audit::Entry {
                        tenant: None,
                        actor: "cli:root",
                        action: "paging.test",
                        target: Some(&format!("entry-{n:02}")),
                        details: serde_json::json!({}),
                    },
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let first = page(&app, "/admin/audit?action=paging.test", &anna.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        first.find("entry-59").unwrap() < first.find("entry-58").unwrap(),
        "newest first"
    );
    assert!(
        first.contains("entry-10") && !first.contains("entry-09"),
        "50 a page"
    );
    let at = first
        .find(r#"rel="next""#)
        .expect("a link to older entries");
    let href = first[..at]
        .rsplit(r#"href=""#)
        .next()
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let older = page(&app, &href.replace("&#38;", "&"), &anna.cookie)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        older.contains("entry-09") && older.contains("entry-00"),
        "{older}"
    );
    assert!(!older.contains("entry-10") && !older.contains(r#"rel="next""#));
}

#[tokio::test]
async fn a_new_own_password_keeps_this_session_and_ends_the_others() {
    let (app, laptop) = with_owner().await;
    let phone = signed_in(&app, "anna@shop.example", PASSWORD).await;
    let account = page(&app, "/admin/account", &laptop.cookie).await;
    assert_eq!(account.status(), 200);

    let html = refused(
        &app,
        &laptop,
        "/admin/account",
        &[
            ("name", "Anna"),
            ("current_password", "not my password"),
            ("password", "a brand new password"),
        ],
    )
    .await;
    assert!(
        html.contains(r#"id="current-error""#) && html.contains(r#"value="Anna""#),
        "{html}"
    );
    assert_eq!(find(&app, "anna@shop.example").await.unwrap().name, None);
    refused(
        &app,
        &laptop,
        "/admin/account",
        &[
            ("name", "Anna"),
            ("current_password", PASSWORD),
            ("password", "short"),
        ],
    )
    .await;
    assert_eq!(
        sessions_of(&app, "anna@shop.example").await,
        2,
        "nothing ended"
    );

    let changed = post(
        &app,
        &laptop,
        "/admin/account",
        &[
            ("name", "Anna"),
            ("current_password", PASSWORD),
            ("password", "a brand new password"),
        ],
    )
    .await;
    assert_eq!(changed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        page(&app, "/admin/account", &laptop.cookie).await.status(),
        200,
        "this session stays"
    );
    assert_eq!(
        page(&app, "/admin", &phone.cookie).await.status(),
        StatusCode::SEE_OTHER,
        "the other ends"
    );
    assert_eq!(
        find(&app, "anna@shop.example")
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("Anna")
    );
    assert_eq!(
        sign_in(&app, "anna@shop.example", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        sign_in(&app, "anna@shop.example", "a brand new password")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let last = audit(&app).await.pop().unwrap();
    assert_eq!(
        (last.0.as_str(), last.1.as_str()),
        ("admin:anna@shop.example", "admin.set")
    );

    // A name alone needs no password.
    let renamed = post(&app, &laptop, "/admin/account", &[("name", "Anna K.")]).await;
    assert_eq!(renamed.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        find(&app, "anna@shop.example")
            .await
            .unwrap()
            .name
            .as_deref(),
        Some("Anna K.")
    );
}

#[tokio::test]
async fn the_pages_speak_russian() {
    let (app, anna) = with_owner().await;
    for path in ["/admin/users", "/admin/account", "/admin/audit"] {
        let html = browser()
            .get(format!("{}{path}", app.url))
            .header("cookie", format!("{}; keepstar_lang=ru", anna.cookie))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(r#"<html lang="ru">"#) && html.contains("Журнал действий"),
            "{path}"
        );
    }
}
