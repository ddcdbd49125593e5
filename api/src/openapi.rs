//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "freeslot",
        description = "Self-hostable availability backend: one picture of your time across every calendar."
    ),
    paths(
        routes::health::health,
        routes::health::ready,
        routes::accounts::register,
        routes::accounts::login,
        routes::me::get_me,
        routes::me::patch_me,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Registration, login and the caller's profile"),
        (name = "probes", description = "Liveness and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}
