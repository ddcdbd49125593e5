//! The OpenAPI document, generated from the handlers' annotations.

use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
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
        routes::metrics::metrics,
        routes::server::info,
        routes::audit::list,
        routes::notifications::list,
        routes::notifications::issue_ticket,
        routes::notifications::follow,
        routes::webhook_endpoints::list,
        routes::webhook_endpoints::create,
        routes::webhook_endpoints::get_one,
        routes::webhook_endpoints::update,
        routes::webhook_endpoints::remove,
        routes::webhook_endpoints::rotate_secret,
        routes::webhook_endpoints::send_test,
        routes::webhook_endpoints::deliveries,
        routes::tasks::list,
        routes::tasks::create,
        routes::tasks::get_one,
        routes::tasks::update,
        routes::tasks::remove,
        routes::tasks::complete,
        routes::tasks::plan,
        routes::accounts::register,
        routes::accounts::login,
        routes::accounts::logout,
        routes::me::get_me,
        routes::me::patch_me,
        routes::me::change_password,
        routes::me::delete_me,
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
        routes::availability::explain,
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
        routes::connections::connect_caldav,
        routes::connections::disconnect,
        routes::calendars::list,
        routes::calendars::update,
        routes::calendars::remove,
        routes::calendars::sync,
        routes::webhooks::google,
        routes::webhooks::microsoft,
        routes::webhooks::calcom,
    ),
    modifiers(&BearerAuth, &CommonAnswers),
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
        (name = "notifications", description = "What the user should hear about: the feed and its live stream"),
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

/// The answers every route of a kind gives, added where a route's own annotation leaves them
/// out, so that the document lists every status the api really sends: 401 for a route behind
/// the token; 400, 413, 415 and 422 (`invalid_text`) for a JSON body; 400 for a query string;
/// 404 for a path parameter that does not parse; 503 when the database is unavailable.
struct CommonAnswers;

impl Modify for CommonAnswers {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let probe = path == "/health" || path == "/ready";
            for operation in [
                &mut item.get,
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ]
            .into_iter()
            .flatten()
            {
                add_common(operation, probe);
            }
        }
    }
}

fn add_common(operation: &mut Operation, probe: bool) {
    let params = operation.parameters.as_deref().unwrap_or_default();
    let has = |place: ParameterIn| {
        params
            .iter()
            .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == place))
    };
    let (query, path) = (has(ParameterIn::Query), has(ParameterIn::Path));
    let secured = operation.security.as_ref().is_some_and(|s| !s.is_empty());
    let body = operation.request_body.is_some();
    let mut add = |status: &str, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response(description));
    };
    if secured {
        add(
            "401",
            "missing_token, invalid_token (revoked, or its account is gone), token_expired",
        );
    }
    if body {
        add(
            "400",
            "malformed_request: the body is not the JSON this route expects",
        );
        add("413", "payload_too_large");
        add("415", "unsupported_media_type");
        add("422", "invalid_text: a text field holds a NUL character");
    }
    if query {
        add("400", "malformed_request: the query string does not parse");
    }
    if path {
        add("404", "not_found");
    }
    if !probe {
        add("503", "database_unavailable");
    }
}

fn error_response(description: &str) -> RefOr<utoipa::openapi::Response> {
    RefOr::T(
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("ErrorBody")))
                    .build(),
            )
            .build(),
    )
}
