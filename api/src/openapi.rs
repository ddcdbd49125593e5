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
        routes::events::list_events,
        routes::events::get_event,
        routes::events::create_event,
        routes::events::patch_event,
        routes::events::delete_event,
        routes::clients::assign,
        routes::clients::list,
        routes::clients::create,
        routes::clients::get_one,
        routes::clients::update,
        routes::clients::remove,
        routes::clients::hours,
        routes::feeds::get_urls,
        routes::feeds::rotate,
        routes::feeds::feed,
        routes::availability::get_availability,
        routes::availability::get_rules,
        routes::availability::save_rules,
        routes::export::get_export,
        routes::export::push_calcom,
        routes::export::get_settings,
        routes::export::patch_settings,
        routes::conflicts::list_conflicts,
        routes::conflicts::resolve_conflict,
        routes::connections::start,
        routes::connections::callback,
        routes::connections::connect_calcom,
        routes::connections::connect_ics,
        routes::connections::disconnect,
        routes::calendars::list,
        routes::calendars::update,
        routes::calendars::remove,
        routes::calendars::sync,
        routes::webhooks::google,
        routes::webhooks::microsoft,
        routes::webhooks::calcom,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "accounts", description = "Registration, login and the caller's profile"),
        (name = "probes", description = "Liveness and readiness"),
        (name = "events", description = "Events across calendars, and manual events"),
        (name = "availability", description = "Working hours and free slots"),
        (name = "clients", description = "Clients, their rules, and hours booked to them"),
        (name = "feeds", description = "Private ICS feeds of busy time and of every event"),
        (name = "conflicts", description = "Overlaps and missing buffers between events"),
        (name = "connections", description = "Connecting Google, Microsoft, Cal.com and ICS feeds"),
        (name = "calendars", description = "The calendars connected accounts bring"),
        (name = "webhooks", description = "Push notifications from the providers"),
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
