//! The OpenAPI 3.1 document, generated from the handlers' annotations.

use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::widget_api;

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
    ),
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

pub async fn document() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
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
