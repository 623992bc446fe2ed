//! Turns over the event stream: streaming, formations, resume, restarts, tabs, idempotency, shutdown.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::json;

use crate::app::{self, SseEvent};

fn deltas(events: &[SseEvent]) -> String {
    events
        .iter()
        .filter(|e| e.event == "delta")
        .map(|e| e.data["text"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_full_turn_streams_text_and_cards_then_stores_them() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let posted = app.send(&s, "tents under $300").await;
    assert_eq!(posted["message"]["role"], "visitor");
    assert_eq!(posted["message"]["text"], "tents under $300");
    let conversation = posted["conversation"].as_str().unwrap().to_owned();
    // A stream opened after the post still sees the whole reply: it resumes from the echo.
    let echo = posted["event_id"].as_str().unwrap();
    let mut stream = app.events(&s, &conversation, Some(echo)).await;
    let events = stream.until_done().await;
    let names: Vec<&str> = events.iter().map(|e| e.event.as_str()).collect();
    assert_eq!(
        names.first(),
        Some(&"typing"),
        "replay starts right after the echo: {names:?}"
    );
    assert!(names.contains(&"formation"), "{names:?}");
    assert_eq!(names.last(), Some(&"done"));
    let done = &events.last().unwrap().data;
    assert_eq!(
        deltas(&events),
        done["message"]["text"].as_str().unwrap(),
        "deltas add up to the stored text"
    );
    assert_eq!(done["message"]["status"], "complete");
    let formation = &done["message"]["formation"];
    assert_eq!(formation["kind"], "cards");
    assert!(!formation["items"].as_array().unwrap().is_empty());
    assert!(formation["fallback_text"].as_str().unwrap().contains("1. "));
    // Ids are increasing integers.
    let ids: Vec<u64> = events
        .iter()
        .filter_map(|e| e.id.as_ref())
        .map(|i| i.parse().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");

    let history = app.history(&s, Some(&conversation)).await;
    let messages = history["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["formation"]["kind"], "cards");
    assert_eq!(history["has_more"], false);
}

#[tokio::test]
async fn a_dropped_stream_resumes_with_last_event_id_losing_and_repeating_nothing() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let first = app.send(&s, "hello").await;
    let conversation = first["conversation"].as_str().unwrap().to_owned();
    let mut stream = app.events(&s, &conversation, Some("0")).await;
    stream.until_done().await;

    // Reconnected and listening; a new turn starts; we drop the connection after its first delta.
    let mut stream = app.events(&s, &conversation, None).await;
    app.send(&s, "grinders between 100 and 300").await;
    let mut seen = Vec::new();
    while let Some(e) = stream.next().await {
        let delta = e.event == "delta";
        seen.push(e);
        if delta {
            break;
        }
    }
    drop(stream);
    let last = seen.last().unwrap().id.clone().unwrap();
    let mut resumed = app.events(&s, &conversation, Some(&last)).await;
    let rest = resumed.until_done().await;
    let all: Vec<SseEvent> = seen.iter().chain(rest.iter()).cloned().collect();
    let ids: Vec<&String> = all.iter().filter_map(|e| e.id.as_ref()).collect();
    assert_eq!(
        ids.len(),
        ids.iter().collect::<HashSet<_>>().len(),
        "an event came twice"
    );
    let done = &rest.last().unwrap().data["message"];
    assert_eq!(
        deltas(&all),
        done["text"].as_str().unwrap(),
        "text was lost or repeated across the reconnect"
    );
    assert_eq!(all.iter().filter(|e| e.event == "formation").count(), 1);
}

#[tokio::test]
async fn history_survives_a_restart_and_a_stale_stream_gets_what_it_missed() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let turn = app.ask(&s, "backpacks").await;
    let conversation = turn.done()["conversation_id"].as_str().unwrap().to_owned();
    let last_id = turn.events.last().unwrap().id.clone().unwrap();
    let app = app.restart().await;

    let again = app.session("demo", Some(&s.visitor)).await;
    assert_eq!(again.visitor, s.visitor, "the same visitor continues");
    assert_eq!(
        again.conversation.as_deref(),
        Some(conversation.as_str()),
        "their conversation is offered"
    );
    let history = app.history(&again, None).await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts.len(), 2);
    assert_eq!(texts[0], "backpacks");
    assert_eq!(texts[1], turn.text());

    // A stream resumed across the restart cannot replay from memory; a message sent while it
    // was away arrives as a whole stored message instead.
    app.ask(&again, "headlamps").await;
    let mut stream = app.events(&again, &conversation, Some(&last_id)).await;
    let mut got = Vec::new();
    while let Some(e) = stream.next().await {
        assert_eq!(e.event, "message");
        got.push((
            e.data["role"].as_str().unwrap().to_owned(),
            e.data["text"].as_str().unwrap().to_owned(),
        ));
        if got.last().unwrap().0 == "assistant" && got.iter().any(|(_, t)| t == "headlamps") {
            break;
        }
    }
    let at = got
        .iter()
        .position(|(_, t)| t == "headlamps")
        .expect("the missed message arrives");
    assert_eq!(
        got[at + 1].0,
        "assistant",
        "its stored reply follows: {got:?}"
    );
    assert!(
        at <= 1,
        "only what the stream could have missed is sent: {got:?}"
    );
}

#[tokio::test]
async fn two_tabs_see_the_same_conversation_live() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let conversation = app.send(&s, "hi").await["conversation"]
        .as_str()
        .unwrap()
        .to_owned();
    let tab2 = app.session("demo", Some(&s.visitor)).await;
    let mut a = app.events(&s, &conversation, None).await;
    let mut b = app.events(&tab2, &conversation, None).await;
    app.send(&tab2, "stoves").await;
    let ea = a.until_done().await;
    let eb = b.until_done().await;
    assert_eq!(
        ea.first().unwrap().data["text"],
        "stoves",
        "the other tab sees the visitor's message"
    );
    assert_eq!(ea.last().unwrap().data, eb.last().unwrap().data);
}

#[tokio::test]
async fn a_retried_client_id_is_stored_and_answered_once() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let post = || {
        app.post("/api/v1/messages")
            .bearer_auth(&s.token)
            .json(&json!({ "text": "kettles", "client_id": "same-id-123" }))
            .send()
    };
    let one: serde_json::Value = post().await.unwrap().json().await.unwrap();
    let two: serde_json::Value = post().await.unwrap().json().await.unwrap();
    assert_eq!(one["message"]["id"], two["message"]["id"]);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let history = app.history(&s, None).await;
    let roles: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["visitor", "assistant"]);
}

#[tokio::test]
async fn asking_for_a_human_stops_the_ai() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let conversation = app.send(&s, "hi").await["conversation"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut stream = app.events(&s, &conversation, None).await;
    let res = app
        .post("/api/v1/handoff")
        .bearer_auth(&s.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let mut names = Vec::new();
    while let Some(e) = stream.next().await {
        names.push(e.event.clone());
        if e.event == "handoff" {
            assert_eq!(e.data["state"], "requested");
            break;
        }
    }
    assert!(
        names.contains(&"message".to_string()),
        "a system note: {names:?}"
    );
    // The visitor's next message is stored but the AI does not answer it.
    app.send(&s, "anyone there?").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let history = app.history(&s, None).await;
    let last = history["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["text"], "anyone there?");
    // Typing "talk to a human" in a fresh conversation hands over too.
    let fresh = app.session("demo", None).await;
    let turn = app.ask(&fresh, "I want to talk to a human").await;
    assert!(turn.events.iter().any(|e| e.event == "handoff"));
}

#[tokio::test]
async fn shutdown_ends_open_streams_promptly() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let conversation = app.send(&s, "hi").await["conversation"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut stream = app.events(&s, &conversation, Some("0")).await;
    stream.until_done().await;
    let took = app.stop().await;
    assert!(
        took < Duration::from_secs(5),
        "serve took {took:?} to stop with a stream open"
    );
    assert!(stream.next().await.is_none(), "the stream ended");
}
