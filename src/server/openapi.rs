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
