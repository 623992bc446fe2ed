//! The live inbox: a visitor asks for a person, the team sees it live, one of them takes it
//! over, answers, keeps notes and hands it back; waits that run out, presence, the email a
//! visitor leaves, typing, ready answers; and another tenant's operator sees none of it.

use std::sync::{Arc, Mutex};

use reqwest::StatusCode;
use serde_json::json;

use crate::admin::{Member, signed};
use crate::app::{self, SseEvent, SseStream, TestApp};
use keepstar::chat::Engine;
use keepstar::vocab::Role;

/// The member's inbox stream, open.
async fn inbox(member: &Member<'_>) -> SseStream {
    let res = member.get("/admin/inbox/events").await;
    assert_eq!(res.status(), StatusCode::OK);
    SseStream::new(res)
}

/// The first event `matches` accepts (the stream ends the test if nothing comes).
async fn until(stream: &mut SseStream, matches: impl Fn(&SseEvent) -> bool) -> SseEvent {
    loop {
        let e = stream.next().await.expect("the awaited event came");
        if matches(&e) {
            return e;
        }
    }
}

fn path(conv: &str, action: &str) -> String {
    format!("/admin/conversations/{conv}/{action}")
}

async fn request_person(app: &TestApp, s: &app::Session, conv: &str) {
    let res = app
        .post("/api/v1/handoff")
        .bearer_auth(&s.token)
        .json(&json!({ "conversation": conv }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
}

async fn status_of(app: &TestApp, conv: &str) -> String {
    let conv = conv.to_owned();
    app.db
        .read(move |c| {
            Ok(c.query_row(
                "SELECT status FROM conversations WHERE public_id = ?1",
                [&conv],
                |r| r.get(0),
            )?)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn a_person_takes_over_from_the_inbox_answers_and_hands_back() {
    let app = app::spawn().await;
    let anna = signed(&app, "Anna", Role::Operator, &["demo"]).await;
    let boris = signed(&app, "Boris", Role::Operator, &["demo-ru"]).await;
    let olga = signed(&app, "Olga", Role::Owner, &[]).await;

    let visitor = app.session("demo", None).await;
    assert_eq!(visitor.body["config"]["team_online"], false);
    assert_eq!(visitor.body["handoff"], serde_json::Value::Null);
    let mut anna_inbox = inbox(&anna).await;
    let mut boris_inbox = inbox(&boris).await;
    let again = app.session("demo", Some(&visitor.visitor)).await;
    assert_eq!(
        again.body["config"]["team_online"], true,
        "an open inbox is a team online"
    );

    let conv = app.converse(&visitor, "hello").await;
    let mut seen = app.events(&visitor, &conv, None).await;
    request_person(&app, &visitor, &conv).await;
    let waiting = until(&mut anna_inbox, |e| {
        e.event == "conversation" && e.data["status"] == "waiting_human"
    })
    .await;
    assert_eq!(waiting.data["conversation"], conv.as_str());
    assert_eq!(waiting.data["unread"], 1, "the visitor's hello");
    until(&mut seen, |e| {
        e.event == "handoff" && e.data["state"] == "requested"
    })
    .await;
    let resumed = app.session("demo", Some(&visitor.visitor)).await;
    assert_eq!(resumed.body["handoff"]["state"], "requested");

    let list = anna.html("/admin/inbox").await;
    assert!(list.contains(&format!("/admin/conversations/{conv}")));
    assert!(list.contains("inbox-row waiting_human"));
    assert!(!boris.html("/admin/inbox").await.contains(&conv));
    for denied in [
        boris.get(&format!("/admin/conversations/{conv}")).await,
        boris.get(&path(&conv, "events")).await,
        boris.post(&path(&conv, "take-over"), &[]).await,
        boris.post(&path(&conv, "reply"), &[("text", "hi")]).await,
        boris.post(&path(&conv, "notes"), &[("text", "hi")]).await,
    ] {
        assert_eq!(denied.status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(status_of(&app, &conv).await, "waiting_human");

    let opened = anna.html(&format!("/admin/conversations/{conv}")).await;
    assert!(opened.contains("Take over"));
    let read = until(&mut anna_inbox, |e| e.event == "conversation").await;
    assert_eq!(read.data["unread"], 0, "opening it reads it");

    let took = anna.post(&path(&conv, "take-over"), &[]).await;
    assert_eq!(took.status(), StatusCode::SEE_OTHER);
    let joined = until(&mut seen, |e| e.event == "handoff").await;
    assert_eq!(joined.data["state"], "active");
    assert_eq!(joined.data["operator"], "Anna");

    let asked = olga
        .post(&path(&conv, "reply"), &[("text", "Olga here")])
        .await;
    assert_eq!(asked.status(), StatusCode::CONFLICT);
    let asked = asked.text().await.unwrap();
    assert!(
        asked.contains("<strong>Anna</strong> is answering"),
        "{asked}"
    );
    assert!(asked.contains(r#"name="text" value="Olga here""#), "kept");

    let replied = anna
        .post(&path(&conv, "reply"), &[("text", "Hi, I am Anna.")])
        .await;
    assert_eq!(replied.status(), StatusCode::SEE_OTHER);
    let answer = until(&mut seen, |e| {
        e.event == "message" && e.data["role"] == "operator"
    })
    .await;
    assert_eq!(answer.data["operator_name"], "Anna");
    assert_eq!(answer.data["text"], "Hi, I am Anna.");

    app.send(&visitor, "Is it in stock?").await;
    let unread = until(&mut anna_inbox, |e| {
        e.event == "conversation" && e.data["text"] == "Is it in stock?"
    })
    .await;
    assert_eq!(unread.data["unread"], 1);
    assert_eq!(unread.data["assignee"], "Anna");

    let noted = anna
        .post(&path(&conv, "notes"), &[("text", "Regular customer")])
        .await;
    assert_eq!(noted.status(), StatusCode::SEE_OTHER);
    let note = until(&mut anna_inbox, |e| e.event == "note").await;
    assert_eq!(note.data["text"], "Regular customer");
    assert!(
        anna.html(&format!("/admin/conversations/{conv}"))
            .await
            .contains("Regular customer")
    );

    let back = anna.post(&path(&conv, "hand-back"), &[]).await;
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let mut between = Vec::new();
    let ended = loop {
        let e = seen.next().await.expect("the hand back");
        if e.event == "handoff" {
            break e;
        }
        between.push(e);
    };
    assert_eq!(ended.data["state"], "ended");
    assert_eq!(ended.data["reason"], "handed_back");
    assert!(
        between
            .iter()
            .all(|e| e.event == "message" && e.data["role"] == "visitor"),
        "while Anna had it, the AI said nothing and the note never reached the visitor: {between:?}"
    );
    let thanked = app.ask(&visitor, "thanks").await;
    assert_eq!(thanked.done()["role"], "assistant");

    let ru = app.session("demo-ru", None).await;
    let ru_conv = app.converse(&ru, "привет").await;
    let first = until(&mut boris_inbox, |_| true).await;
    assert_eq!(
        first.data["conversation"],
        ru_conv.as_str(),
        "nothing of demo reached Boris"
    );

    let actions: Vec<String> = app
        .db
        .read(|c| {
            let mut stmt = c.prepare(
                "SELECT action || ' ' || actor FROM audit_log WHERE action LIKE 'conversation.%' ORDER BY id",
            )?;
            let rows = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok(rows)
        })
        .await
        .unwrap();
    assert_eq!(
        actions,
        [
            "conversation.request_handoff visitor",
            "conversation.take_over admin:anna@shop.example",
            "conversation.hand_back admin:anna@shop.example",
        ]
    );
}

#[tokio::test]
async fn of_two_take_overs_at_once_one_wins_and_the_other_is_asked() {
    let app = app::spawn().await;
    let anna = signed(&app, "Anna", Role::Operator, &["demo"]).await;
    let boris = signed(&app, "Boris", Role::Operator, &["demo"]).await;
    let visitor = app.session("demo", None).await;
    let conv = app.converse(&visitor, "talk to a human").await;
    let mut seen = app.events(&visitor, &conv, None).await;

    let take = path(&conv, "take-over");
    let (a, b) = tokio::join!(anna.post(&take, &[]), boris.post(&take, &[]));
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    let (winner, loser) = if a.status() == StatusCode::SEE_OTHER {
        ("Anna", &boris)
    } else {
        ("Boris", &anna)
    };
    let active = |e: &SseEvent| e.event == "handoff" && e.data["state"] == "active";
    let joined = until(&mut seen, active).await;
    assert_eq!(joined.data["operator"], winner);

    let confirmed = loser
        .post(&path(&conv, "take-over"), &[("confirm", "1")])
        .await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    let now = until(&mut seen, active).await;
    assert_ne!(
        now.data["operator"], winner,
        "taken from them once confirmed"
    );
}

#[tokio::test]
async fn a_wait_that_runs_out_goes_back_to_the_ai_and_the_visitor_is_told() {
    let engine: Arc<Mutex<Option<Engine>>> = Arc::default();
    let slot = engine.clone();
    let app = app::spawn_adapted(move |state| {
        *slot.lock().unwrap() = Some(state.engine.clone());
        state
    })
    .await;
    let engine = engine.lock().unwrap().clone().unwrap();
    app.db
        .write(|c| {
            c.execute(
                "UPDATE tenants SET handoff_timeout_secs = 60 WHERE slug = 'demo'",
                [],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    let visitor = app.session("demo", None).await;
    let conv = app.converse(&visitor, "hello").await;
    let mut seen = app.events(&visitor, &conv, None).await;
    request_person(&app, &visitor, &conv).await;

    let now = keepstar::store::now_ms();
    assert_eq!(
        engine.expire_waiting(now + 30_000).await.unwrap(),
        0,
        "not yet"
    );
    assert_eq!(engine.expire_waiting(now + 61_000).await.unwrap(), 1);
    let told = until(&mut seen, |e| {
        e.event == "message" && e.data["role"] == "system" && e.data["text"] != seen_request()
    })
    .await;
    assert!(
        told.data["text"]
            .as_str()
            .unwrap()
            .starts_with("Nobody from the team")
    );
    let ended = until(&mut seen, |e| e.event == "handoff").await;
    assert_eq!(ended.data["state"], "ended");
    assert_eq!(ended.data["reason"], "timeout");
    assert_eq!(status_of(&app, &conv).await, "ai");
    let answered = app.ask(&visitor, "thanks").await;
    assert_eq!(answered.done()["role"], "assistant");
}

/// The note stored when the visitor asks for a person (English).
fn seen_request() -> &'static str {
    keepstar::strings::of(keepstar::vocab::Locale::En).handoff_requested
}

#[tokio::test]
async fn nobody_online_the_visitor_leaves_an_email_and_the_team_sees_typing_and_answer_times() {
    let app = app::spawn().await;
    let anna = signed(&app, "Anna", Role::Operator, &["demo"]).await;
    let visitor = app.session("demo", None).await;
    assert_eq!(
        visitor.body["config"]["reply_minutes"],
        serde_json::Value::Null
    );
    let conv = app.converse(&visitor, "talk to a human").await;

    let contact = |email: &'static str| {
        app.post("/api/v1/contact")
            .bearer_auth(&visitor.token)
            .json(&json!({ "conversation": conv, "email": email }))
            .send()
    };
    let bad = contact("not an address").await.unwrap();
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad: serde_json::Value = bad.json().await.unwrap();
    assert_eq!(bad["error"]["code"], "invalid_email");
    assert!(!bad["error"]["message"].as_str().unwrap().is_empty());
    assert_eq!(
        contact("ivan@example.org").await.unwrap().status(),
        StatusCode::NO_CONTENT
    );
    let back = app.session("demo", Some(&visitor.visitor)).await;
    assert_eq!(back.body["contact_left"], true);
    assert!(anna.html("/admin/inbox").await.contains("ivan@example.org"));

    let watching = anna.get(&path(&conv, "events")).await;
    assert_eq!(watching.status(), StatusCode::OK);
    let mut watching = SseStream::new(watching);
    let typed = app
        .post("/api/v1/typing")
        .bearer_auth(&visitor.token)
        .json(&json!({ "conversation": conv, "on": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(typed.status(), StatusCode::NO_CONTENT);
    let typing = until(&mut watching, |e| e.event == "typing").await;
    assert_eq!(typing.data["role"], "visitor");
    assert_eq!(typing.data["on"], true);

    let mut seen = app.events(&visitor, &conv, None).await;
    anna.post(&path(&conv, "take-over"), &[]).await;
    anna.post(&path(&conv, "typing"), &[("on", "1")]).await;
    let typing = until(&mut seen, |e| e.event == "typing").await;
    assert_eq!(
        (
            typing.data["role"].as_str(),
            typing.data["name"].as_str(),
            typing.data["on"].as_bool()
        ),
        (Some("operator"), Some("Anna"), Some(true))
    );
    let later = app.session("demo", None).await;
    assert!(
        later.body["config"]["reply_minutes"].as_u64() >= Some(1),
        "the team's answer time is known after a take-over: {}",
        later.body["config"]
    );

    // Closed, then the visitor writes again: it opens again for the AI.
    anna.post(&path(&conv, "close"), &[]).await;
    assert_eq!(status_of(&app, &conv).await, "closed");
    let res = app
        .post("/api/v1/messages")
        .bearer_auth(&visitor.token)
        .header("accept", "text/event-stream")
        .json(&json!({ "text": "one more thing", "client_id": app::uuid(), "conversation": conv }))
        .send()
        .await
        .unwrap();
    let events = SseStream::new(res).until_done().await;
    assert_eq!(events.last().unwrap().event, "done", "the AI answers");
    assert_eq!(status_of(&app, &conv).await, "ai");
}

#[tokio::test]
async fn ready_answers_are_kept_per_tenant_and_offered_in_the_composer() {
    let app = app::spawn().await;
    let anna = signed(&app, "Anna", Role::Operator, &["demo"]).await;
    let boris = signed(&app, "Boris", Role::Operator, &["demo-ru"]).await;
    let bad = anna
        .post(
            "/admin/tenants/demo/canned",
            &[("shortcut", "no spaces please"), ("text", "Kept as typed")],
        )
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let bad = bad.text().await.unwrap();
    assert!(bad.contains("A shortcut is 1 to 40"));
    assert!(bad.contains("Kept as typed") && bad.contains(r#"value="no spaces please""#));
    let saved = anna
        .post(
            "/admin/tenants/demo/canned",
            &[("shortcut", "/hours"), ("text", "We are open 9 to 18.")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        boris.get("/admin/tenants/demo/canned").await.status(),
        StatusCode::NOT_FOUND
    );

    let visitor = app.session("demo", None).await;
    let conv = app.converse(&visitor, "hello").await;
    let page = anna.html(&format!("/admin/conversations/{conv}")).await;
    assert!(page.contains(r#"data-shortcut="hours" data-text="We are open 9 to 18.""#));
    let id: i64 = app
        .db
        .read(|c| Ok(c.query_row("SELECT id FROM canned_replies", [], |r| r.get(0))?))
        .await
        .unwrap();
    let removed = anna
        .post(&format!("/admin/tenants/demo/canned/{id}/remove"), &[])
        .await;
    assert_eq!(removed.status(), StatusCode::SEE_OTHER);
    assert!(
        !anna
            .html(&format!("/admin/conversations/{conv}"))
            .await
            .contains("data-shortcut")
    );
}
