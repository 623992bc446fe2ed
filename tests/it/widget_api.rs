//! The public widget API's gatekeeping: sessions, origins, tokens, tenancy, limits, error shape.

use serde_json::{Value, json};

use crate::app::{self, ORIGIN};

async fn error(res: reqwest::Response) -> (u16, String) {
    let (status, code, _) = refusal(res).await;
    (status, code)
}

/// The status, `code` and message of a refusal in the error shape.
async fn refusal(res: reqwest::Response) -> (u16, String, String) {
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("errors are JSON");
    let code = body["error"]["code"]
        .as_str()
        .expect("error.code")
        .to_owned();
    let message = body["error"]["message"]
        .as_str()
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| panic!("error.message: {body}"))
        .to_owned();
    (status, code, message)
}

#[tokio::test]
async fn a_session_needs_the_tenants_own_active_key_and_an_allowed_origin() {
    let app = app::spawn().await;
    let key = app.public_key("demo").await;
    let other_key = app.public_key("demo-ru").await;
    let open = |tenant: &str, key: &str, origin: Option<&str>| {
        let mut req = app
            .http
            .post(format!("{}/api/v1/sessions", app.url))
            .json(&json!({ "tenant": tenant, "key": key }));
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        req.send()
    };
    let good = open("demo", &key, Some(ORIGIN)).await.unwrap();
    assert_eq!(good.status(), 200);
    let body: Value = good.json().await.unwrap();
    assert_eq!(body["config"]["title"], "Trailhead & Brew");
    assert_eq!(body["config"]["locale"], "en");
    assert!(body["visitor"].as_str().unwrap().len() >= 22);
    assert!(body["expires_in"].as_u64().unwrap() > 0);

    let bad_key = error(
        open("demo", "pk_nottherightkeyatall000000000000", Some(ORIGIN))
            .await
            .unwrap(),
    )
    .await;
    let unknown_tenant = error(open("nobody", &key, Some(ORIGIN)).await.unwrap()).await;
    let foreign_key = error(open("demo", &other_key, Some(ORIGIN)).await.unwrap()).await;
    assert_eq!(bad_key, (401, "invalid_key".into()));
    assert_eq!(
        unknown_tenant, bad_key,
        "unknown tenant and bad key must look alike"
    );
    assert_eq!(foreign_key, bad_key);
    assert_eq!(
        error(
            open("demo", &key, Some("https://evil.example"))
                .await
                .unwrap()
        )
        .await,
        (403, "origin_not_allowed".into())
    );
    assert_eq!(
        error(open("demo", &key, None).await.unwrap()).await,
        (403, "origin_not_allowed".into())
    );
}

#[tokio::test]
async fn revoking_the_key_ends_its_sessions_at_once() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    assert_eq!(
        app.get("/api/v1/messages")
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    app.db
        .write(|c| {
            let t = keepstar::store::tenants::get(c, "demo")?;
            for k in keepstar::store::keys::list(c, t.id)? {
                keepstar::store::keys::revoke(c, &k.id)?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let res = app
        .get("/api/v1/messages")
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(error(res).await.0, 401);
    let key = s.body["token"].as_str().unwrap().to_owned();
    let res = app
        .post("/api/v1/sessions")
        .json(&json!({ "tenant": "demo", "key": key }))
        .send()
        .await
        .unwrap();
    assert_eq!(error(res).await, (401, "invalid_key".into()));
}

#[tokio::test]
async fn tokens_are_checked() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    for token in [
        "",
        "garbage",
        &format!("{}x", s.token),
        "eyJhbGciOiJub25lIn0.eyJ0aWQiOjF9.",
    ] {
        let res = app
            .get("/api/v1/messages")
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(error(res).await.0, 401, "token {token:?}");
    }
    let res = app.get("/api/v1/messages").send().await.unwrap();
    assert_eq!(error(res).await, (401, "missing_token".into()));
    // A session is bound to the origin it was opened from.
    let res = app
        .http
        .get(format!("{}/api/v1/messages", app.url))
        .header("origin", "https://evil.example")
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(error(res).await, (403, "origin_not_allowed".into()));
}

#[tokio::test]
async fn nothing_of_another_tenant_or_visitor_is_reachable() {
    let app = app::spawn().await;
    let en = app.session("demo", None).await;
    let ru = app.session("demo-ru", None).await;
    let other_visitor = app.session("demo", None).await;
    let ru_turn = app.ask(&ru, "палатки").await;
    let ru_conversation = ru_turn.done()["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ru_product = ru_turn.items()[0]["id"].as_str().unwrap().to_owned();
    let en_turn = app.ask(&en, "tents").await;
    let en_conversation = en_turn.done()["conversation_id"]
        .as_str()
        .unwrap()
        .to_owned();

    for (who, s, conversation) in [
        ("another tenant", &en, &ru_conversation),
        ("another visitor", &other_visitor, &en_conversation),
    ] {
        let res = app
            .get(&format!("/api/v1/messages?conversation={conversation}"))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(error(res).await.0, 404, "history of {who}");
        let res = app
            .get(&format!("/api/v1/events?conversation={conversation}"))
            .bearer_auth(&s.token)
            .send()
            .await
            .unwrap();
        assert_eq!(error(res).await.0, 404, "events of {who}");
        let res = app
            .post("/api/v1/messages")
            .bearer_auth(&s.token)
            .json(&json!({ "text": "hi", "client_id": "x1", "conversation": conversation }))
            .send()
            .await
            .unwrap();
        assert_eq!(error(res).await.0, 404, "posting into {who}'s conversation");
        let res = app
            .post("/api/v1/handoff")
            .bearer_auth(&s.token)
            .json(&json!({ "conversation": conversation }))
            .send()
            .await
            .unwrap();
        assert_eq!(error(res).await.0, 404, "handoff of {who}");
    }
    let res = app
        .get(&format!("/api/v1/products/{ru_product}"))
        .bearer_auth(&en.token)
        .send()
        .await
        .unwrap();
    assert_eq!(error(res).await.0, 404, "another tenant's product");
    let res = app
        .get(&format!("/api/v1/products/{ru_product}"))
        .bearer_auth(&ru.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A visitor secret from another tenant starts a fresh visitor instead of continuing one.
    let crossed = app.session("demo", Some(&ru.visitor)).await;
    assert_ne!(crossed.visitor, ru.visitor);
    assert!(crossed.conversation.is_none());
}

#[tokio::test]
async fn bad_bodies_get_the_error_shape() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let post = |body: String, content_type: &str| {
        app.post("/api/v1/messages")
            .bearer_auth(&s.token)
            .header("content-type", content_type.to_owned())
            .body(body)
            .send()
    };
    assert_eq!(
        error(
            post("{\"text\": ".into(), "application/json")
                .await
                .unwrap()
        )
        .await,
        (400, "invalid_json".into())
    );
    assert_eq!(
        error(
            post("{\"text\": \"hi\"}".into(), "application/json")
                .await
                .unwrap()
        )
        .await,
        (422, "invalid_request".into())
    );
    assert_eq!(
        error(
            post("text=hi".into(), "application/x-www-form-urlencoded")
                .await
                .unwrap()
        )
        .await,
        (415, "unsupported_media_type".into())
    );
    let huge = json!({ "text": "a".repeat(64 * 1024), "client_id": "c1" }).to_string();
    assert_eq!(
        error(post(huge, "application/json").await.unwrap()).await,
        (413, "body_too_large".into())
    );
    let long = json!({ "text": "a".repeat(4001), "client_id": "c2" }).to_string();
    assert_eq!(
        error(post(long, "application/json").await.unwrap()).await,
        (422, "message_too_long".into())
    );
    let empty = json!({ "text": "   ", "client_id": "c3" }).to_string();
    assert_eq!(
        error(post(empty, "application/json").await.unwrap()).await,
        (422, "empty_message".into())
    );
    assert_eq!(
        error(app.get("/api/v1/nothing").send().await.unwrap()).await,
        (404, "not_found".into())
    );
    // serde reads a struct from an array of its fields; no request body is one.
    assert_eq!(
        error(
            post(r#"["hi", "c4"]"#.into(), "application/json")
                .await
                .unwrap()
        )
        .await,
        (422, "invalid_request".into())
    );
    // client_id is counted in characters, as the document's maxLength is.
    let wide = json!({ "text": "hi", "client_id": "я".repeat(100) }).to_string();
    let res = post(wide, "application/json").await.unwrap();
    assert_eq!(res.status(), 202);
}

/// The OpenAPI document names every refusal each operation can give, in the error shape, and the
/// bounds the server checks (the rules and constants it is generated from are the server's).
#[tokio::test]
async fn the_document_says_what_the_server_answers() {
    let app = app::spawn().await;
    let doc: Value = app
        .get("/api/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, operations) in doc["paths"].as_object().unwrap() {
        for (method, op) in operations.as_object().unwrap() {
            let documented = op["responses"].as_object().unwrap();
            let mut expected = vec!["429", "500"];
            if op.get("requestBody").is_some() {
                expected.extend(["400", "408", "413", "415", "422"]);
            }
            if op.get("parameters").is_some() {
                expected.push("400");
            }
            if op.get("security").is_some() {
                expected.extend(["401", "403"]);
            }
            for status in expected {
                assert!(
                    documented.contains_key(status),
                    "{method} {path} does not document {status}"
                );
            }
            for (status, response) in documented.iter().filter(|(s, _)| s.as_str() >= "400") {
                assert_eq!(
                    response["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{method} {path} {status}"
                );
            }
            for parameter in op["parameters"].as_array().into_iter().flatten() {
                assert!(
                    parameter["schema"]["type"].is_string(),
                    "{method} {path}: a parameter is absent or has a value, never null: {parameter}"
                );
            }
        }
    }
    let message = &doc["components"]["schemas"]["PostMessage"]["properties"];
    assert_eq!(
        message["text"]["maxLength"], 4000,
        "the configured max_message_chars"
    );
    assert_eq!(message["text"]["minLength"], 1);
    assert_eq!(message["client_id"]["minLength"], 1);
    assert_eq!(
        message["client_id"]["maxLength"],
        keepstar::chat::MAX_CLIENT_ID
    );
    let shape = &doc["components"]["schemas"]["ErrorBody"];
    assert_eq!(shape["required"], json!(["error"]), "{shape}");
    // A history page is 1-100 messages, as documented; outside that, a refusal.
    let s = app.session("demo", None).await;
    let history = |limit: &str| {
        app.get(&format!("/api/v1/messages?limit={limit}"))
            .bearer_auth(&s.token)
            .send()
    };
    assert_eq!(history("100").await.unwrap().status(), 200);
    assert_eq!(
        error(history("101").await.unwrap()).await,
        (422, "invalid_limit".into())
    );
    assert_eq!(
        error(history("0").await.unwrap()).await,
        (422, "invalid_limit".into())
    );
}

#[tokio::test]
async fn bad_queries_paths_and_methods_get_the_error_shape() {
    let app = app::spawn().await;
    let s = app.session("demo", None).await;
    let conv = app.converse(&s, "hi").await;
    let get = |path: &str| app.get(path).bearer_auth(&s.token).send();
    for (path, says) in [
        ("/api/v1/messages?limit=x".to_owned(), "limit"),
        (
            "/api/v1/messages?limit=1&limit=1".to_owned(),
            "duplicate field `limit`",
        ),
        (
            format!("/api/v1/events?conversation={conv}&last_event_id=-1"),
            "last_event_id",
        ),
    ] {
        let (status, code, message) = refusal(get(&path).await.unwrap()).await;
        assert_eq!((status, code.as_str()), (400, "invalid_query"), "{path}");
        assert!(message.contains(says), "{path}: {message}");
    }
    let (status, code, message) = refusal(get("/api/v1/products/%FF%FE").await.unwrap()).await;
    assert_eq!((status, code.as_str()), (400, "invalid_path"));
    assert!(message.contains("UTF-8"), "{message}");

    // axum's method routing answers 405 itself, on the API and off it; it keeps its Allow.
    for (method, path, allow) in [
        (reqwest::Method::PUT, "/api/v1/sessions", "POST"),
        (reqwest::Method::DELETE, "/api/v1/messages", "GET"),
        (reqwest::Method::POST, "/healthz", "GET"),
    ] {
        let res = app
            .http
            .request(method.clone(), format!("{}{path}", app.url))
            .header("origin", ORIGIN)
            .send()
            .await
            .unwrap();
        let allowed = res.headers()["allow"].to_str().unwrap().to_owned();
        assert!(allowed.contains(allow), "{method} {path}: Allow {allowed}");
        let (status, code, message) = refusal(res).await;
        assert_eq!(
            (status, code.as_str()),
            (405, "method_not_allowed"),
            "{method} {path}"
        );
        assert!(message.contains("Allow"), "{message}");
    }
}

/// A future handler that takes axum's own extractor, not the wrapper, still refuses in the shape.
#[tokio::test]
async fn the_shape_layer_catches_what_a_handler_did_not_wrap() {
    use axum::extract::Query;
    use tower::ServiceExt as _;
    let router = axum::Router::new()
        .route(
            "/q",
            axum::routing::get(
                |Query(_): Query<std::collections::HashMap<String, u32>>| async { "ok" },
            ),
        )
        .layer(axum::middleware::from_fn(
            keepstar::server::error::shape_refusals,
        ));
    let request = axum::http::Request::get("/q?n=x")
        .body(axum::body::Body::empty())
        .unwrap();
    let res = router.oneshot(request).await.unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(res.headers()["content-type"], "application/json");
    let body = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "bad_request", "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("query string"),
        "{body}"
    );
}

#[tokio::test]
async fn bursts_get_429_with_retry_after() {
    let app = app::spawn_with(
        "[limits]\nmessages_per_minute_per_visitor = 3\nsessions_per_minute_per_ip = 4",
    )
    .await;
    let s = app.session("demo", None).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let res = app
            .post("/api/v1/messages")
            .bearer_auth(&s.token)
            .json(&json!({ "text": "hello", "client_id": format!("burst-{i}") }))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            let wait: u64 = res.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=60).contains(&wait), "{wait}");
            assert_eq!(error(res).await.1, "rate_limited");
        }
    }
    assert_eq!(statuses, [202, 202, 202, 429, 429]);
    let key = app.public_key("demo").await;
    let mut codes = Vec::new();
    for _ in 0..4 {
        let res = app
            .post("/api/v1/sessions")
            .json(&json!({ "tenant": "demo", "key": key }))
            .send()
            .await
            .unwrap();
        codes.push(res.status().as_u16());
    }
    assert_eq!(
        codes,
        [200, 200, 200, 429],
        "one session was opened by app.session"
    );
}

#[tokio::test]
async fn forwarded_addresses_count_only_behind_a_trusted_proxy() {
    // Trusted: each forwarded client has its own budget.
    let app = app::spawn_with(
        "trusted_proxies = [\"127.0.0.1\"]\n[limits]\nsessions_per_minute_per_ip = 2",
    )
    .await;
    let key = app.public_key("demo").await;
    let open = |ip: &'static str| {
        app.post("/api/v1/sessions")
            .header("x-forwarded-for", format!("203.0.113.9, {ip}"))
            .json(&json!({ "tenant": "demo", "key": key }))
            .send()
    };
    for _ in 0..2 {
        assert_eq!(open("198.51.100.1").await.unwrap().status(), 200);
    }
    assert_eq!(open("198.51.100.1").await.unwrap().status(), 429);
    assert_eq!(
        open("198.51.100.2").await.unwrap().status(),
        200,
        "another client behind the proxy"
    );

    // Not trusted: the header is ignored and everyone shares the peer's budget.
    let app = app::spawn_with("[limits]\nsessions_per_minute_per_ip = 2").await;
    let key = app.public_key("demo").await;
    for (i, ip) in ["198.51.100.1", "198.51.100.2", "198.51.100.3"]
        .iter()
        .enumerate()
    {
        let res = app
            .post("/api/v1/sessions")
            .header("x-forwarded-for", *ip)
            .json(&json!({ "tenant": "demo", "key": key }))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status() == 429, i == 2, "{ip}");
    }
}

#[tokio::test]
async fn cors_answers_only_allowed_origins() {
    let app = app::spawn().await;
    let preflight = |origin: &str| {
        app.http
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/api/v1/sessions", app.url),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "content-type")
            .send()
    };
    let ok = preflight(ORIGIN).await.unwrap();
    assert_eq!(ok.status(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], ORIGIN);
    assert!(
        ok.headers()["access-control-allow-headers"]
            .to_str()
            .unwrap()
            .contains("authorization")
    );
    let evil = preflight("https://evil.example").await.unwrap();
    assert_eq!(evil.status(), 403);
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    let s = app.session("demo", None).await;
    let res = app
        .get("/api/v1/messages")
        .bearer_auth(&s.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], ORIGIN);
}

#[tokio::test]
async fn health_openapi_and_assets() {
    let app = app::spawn().await;
    assert_eq!(
        app.get("/healthz")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    assert_eq!(app.get("/readyz").send().await.unwrap().status(), 200);
    let doc: Value = app
        .get("/api/openapi.json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for path in [
        "/api/v1/sessions",
        "/api/v1/messages",
        "/api/v1/events",
        "/api/v1/products/{id}",
        "/api/v1/handoff",
    ] {
        assert!(doc["paths"].get(path).is_some(), "OpenAPI lacks {path}");
    }
    let loader = app.get("/widget.js").send().await.unwrap();
    assert_eq!(loader.status(), 200);
    assert_eq!(loader.headers()["cache-control"], "no-cache");
    let etag = loader.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .get("/widget.js")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    let demo = app.get("/demo").send().await.unwrap();
    assert!(
        demo.headers()["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
    let page = demo.text().await.unwrap();
    assert!(page.contains(&format!("data-key=\"{}\"", app.public_key("demo").await)));
    assert_eq!(
        app.get("/demo/img/tents.svg")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// The published formation schema is the one the code generates. `KEEPSTAR_BLESS=1` rewrites it.
#[test]
fn the_published_formation_schema_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/formation.v1.json");
    let generated =
        serde_json::to_string_pretty(&keepstar::server::formation_schema()).unwrap() + "\n";
    if std::env::var_os("KEEPSTAR_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "schemas/formation.v1.json is stale: run KEEPSTAR_BLESS=1 cargo test published_formation"
    );
    let schema: Value = serde_json::from_str(&committed).unwrap();
    for def in ["Formation", "Item", "Price", "Action"] {
        assert!(schema["$defs"].get(def).is_some(), "{def} missing");
    }
}
