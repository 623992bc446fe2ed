//! The OpenAPI 3.1 document: the handlers' annotations, then every refusal the shared machinery
//! can give each operation and the bounds the engine checks, added from the same rules and
//! constants the server runs on, so the document and the server cannot drift.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::error::ErrorBody;
use super::{AppState, widget_api};
use crate::chat::{MAX_CLIENT_ID, MAX_HISTORY_PAGE};

#[derive(OpenApi)]
#[openapi(
    info(title = "keepstar widget API", description = "The public API the keepstar widget speaks (SPEC §5)."),
    paths(
        widget_api::create_session,
        widget_api::post_message,
        widget_api::events,
        widget_api::history,
        widget_api::product,
        widget_api::handoff,
        widget_api::typing,
        widget_api::contact,
    ),
    components(schemas(ErrorBody)),
    modifiers(&SessionAuth)
)]
pub struct ApiDoc;

struct SessionAuth;

impl Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "session",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .build(),
                ),
            );
        }
    }
}

pub async fn document(State(state): State<AppState>) -> Json<Value> {
    Json(widget_api_document(state.config.limits.max_message_chars))
}

/// What an operation of each kind may be refused with, whatever its handler documents: a JSON
/// body (`ApiJson`), parameters (`ApiQuery`, `ApiPath`), a session (`WidgetSession`), any.
const WITH_BODY: &[(&str, &str)] = &[
    ("400", "The body is not JSON (`invalid_json`)."),
    (
        "408",
        "The body did not arrive within `request_body_timeout_secs` (`body_timeout`); the connection closes.",
    ),
    (
        "413",
        "The body is larger than `max_body_bytes` (`body_too_large`).",
    ),
    (
        "415",
        "The body is not sent as `application/json` (`unsupported_media_type`).",
    ),
    (
        "422",
        "The body does not match the schema (`invalid_request`), or a value is refused (the `code` says which).",
    ),
];
const WITH_PARAMETERS: &[(&str, &str)] = &[(
    "400",
    "A parameter does not read as documented (`invalid_query`, `invalid_path`).",
)];
const WITH_SESSION: &[(&str, &str)] = &[
    (
        "401",
        "No session token, or a bad, expired or revoked one (`missing_token`, `invalid_token`).",
    ),
    (
        "403",
        "The request's `Origin` is not the session's (`origin_not_allowed`).",
    ),
];
const ANY: &[(&str, &str)] = &[
    (
        "429",
        "Too many connections from one client address (`too_many_connections`); the connection closes.",
    ),
    (
        "500",
        "Something failed on our side (`internal`); nothing of it is told.",
    ),
];

/// The document as served, for a server that takes messages of up to `max_message_chars`.
pub fn widget_api_document(max_message_chars: usize) -> Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).expect("OpenAPI serialises");
    let error = json!({"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}});
    if let Some(paths) = doc["paths"].as_object_mut() {
        for operation in paths
            .values_mut()
            .filter_map(Value::as_object_mut)
            .flat_map(|p| p.values_mut())
        {
            let mut refusals = ANY.to_vec();
            if operation.get("requestBody").is_some() {
                refusals.extend(WITH_BODY);
            }
            if let Some(parameters) = operation
                .get_mut("parameters")
                .and_then(Value::as_array_mut)
            {
                refusals.extend(WITH_PARAMETERS);
                // A parameter is absent or has a value: it cannot be null.
                for schema in parameters.iter_mut().map(|p| &mut p["schema"]) {
                    if let Some(types) = schema["type"].as_array_mut() {
                        types.retain(|t| t != "null");
                        if let [one] = types.as_slice() {
                            schema["type"] = one.clone();
                        }
                    }
                }
            }
            if operation.get("security").is_some() {
                refusals.extend(WITH_SESSION);
            }
            let responses = &mut operation["responses"];
            for (status, description) in refusals {
                if responses.get(status).is_none() {
                    responses[status] = json!({"description": description});
                }
            }
            for (status, response) in responses.as_object_mut().into_iter().flatten() {
                if status.starts_with(['4', '5']) {
                    response["content"] = error.clone();
                }
            }
        }
    }
    // The bounds the engine checks.
    let message = &mut doc["components"]["schemas"]["PostMessage"]["properties"];
    message["text"]["minLength"] = 1.into();
    message["text"]["maxLength"] = max_message_chars.into();
    message["text"]["pattern"] = r"\S".into();
    message["client_id"]["minLength"] = 1.into();
    message["client_id"]["maxLength"] = MAX_CLIENT_ID.into();
    for parameter in doc["paths"]["/api/v1/messages"]["get"]["parameters"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .filter(|p| p["name"] == "limit")
    {
        parameter["schema"]["minimum"] = 1.into();
        parameter["schema"]["maximum"] = MAX_HISTORY_PAGE.into();
    }
    doc
}

/// The formation schema as a standalone JSON Schema (2020-12), published as
/// `schemas/formation.v1.json`: the OpenAPI components it uses, under `$defs`.
pub fn formation_schema() -> serde_json::Value {
    let doc = serde_json::to_value(ApiDoc::openapi()).expect("OpenAPI serialises");
    let schemas = &doc["components"]["schemas"];
    let mut defs = serde_json::Map::new();
    let mut todo = vec!["Formation".to_string()];
    while let Some(name) = todo.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let schema = schemas[&name].clone();
        collect_refs(&schema, &mut todo);
        defs.insert(name, schema);
    }
    let text = serde_json::json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://keepstar.dev/schemas/formation.v1.json",
        "title": "keepstar formation, version 1",
        "$ref": "#/$defs/Formation",
        "$defs": defs,
    })
    .to_string()
    .replace("#/components/schemas/", "#/$defs/");
    serde_json::from_str(&text).expect("still JSON")
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::String(r)) = map.get("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                out.push(name.to_owned());
            }
            map.values().for_each(|v| collect_refs(v, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}
