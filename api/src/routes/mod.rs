pub(crate) mod accounts;
pub(crate) mod audit;
pub(crate) mod availability;
pub(crate) mod calendars;
pub(crate) mod clients;
pub(crate) mod conflicts;
pub(crate) mod connections;
pub(crate) mod events;
pub(crate) mod export;
pub(crate) mod feeds;
pub(crate) mod health;
pub(crate) mod me;
pub(crate) mod metrics;
pub(crate) mod notifications;
pub(crate) mod server;
pub(crate) mod tasks;
pub(crate) mod webhook_endpoints;
pub(crate) mod webhooks;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use tracing_actix_web::RequestId;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::error::ApiError;
use crate::openapi::ApiDoc;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.app_data(web::PayloadConfig::new(crate::json::JSON_LIMIT))
        .app_data(web::QueryConfig::default().error_handler(|err, _| {
            ApiError::bad_request(format!("Invalid query string: {err}")).into()
        }))
        .app_data(
            web::PathConfig::default().error_handler(|err, _| {
                ApiError::not_found(format!("No such resource: {err}")).into()
            }),
        )
        .service(crate::webapp::index_page)
        .service(crate::webapp::app_file)
        .service(health::health)
        .service(health::ready)
        .service(metrics::metrics)
        .service(feeds::feed)
        .service(SwaggerUi::new("/api/docs/{_:.*}").url("/api/openapi.json", ApiDoc::openapi()))
        .service(web::redirect("/api/docs", "/api/docs/"))
        .service(
            web::scope("/api")
                .service(server::info)
                .service(audit::list)
                .service(notifications::list)
                .service(notifications::issue_ticket)
                .service(notifications::follow)
                .service(webhook_endpoints::list)
                .service(webhook_endpoints::create)
                .service(webhook_endpoints::get_one)
                .service(webhook_endpoints::update)
                .service(webhook_endpoints::remove)
                .service(webhook_endpoints::rotate_secret)
                .service(webhook_endpoints::send_test)
                .service(webhook_endpoints::deliveries)
                .service(tasks::list)
                .service(tasks::create)
                .service(tasks::get_one)
                .service(tasks::update)
                .service(tasks::remove)
                .service(tasks::complete)
                .service(tasks::plan)
                .service(accounts::register)
                .service(accounts::login)
                .service(accounts::logout)
                .service(me::get_me)
                .service(me::patch_me)
                .service(me::delete_me)
                .service(me::change_password)
                .service(availability::get_availability)
                .service(availability::explain)
                .service(availability::get_rules)
                .service(availability::save_rules)
                .service(export::get_export)
                .service(export::push_calcom)
                .service(export::get_settings)
                .service(export::patch_settings)
                .service(connections::start)
                .service(connections::callback)
                .service(connections::connect_calcom)
                .service(connections::connect_ics)
                .service(connections::connect_caldav)
                .service(connections::disconnect)
                .service(calendars::list)
                .service(calendars::update)
                .service(calendars::remove)
                .service(calendars::sync)
                .service(webhooks::google)
                .service(webhooks::microsoft)
                .service(webhooks::calcom)
                .service(conflicts::list_conflicts)
                .service(conflicts::resolve_conflict)
                .service(events::list_events)
                .service(events::create_event)
                .service(events::get_event)
                .service(clients::assign)
                .service(events::patch_event)
                .service(events::delete_event)
                .service(feeds::get_urls)
                .service(feeds::rotate)
                .service(clients::list)
                .service(clients::create)
                .service(clients::hours)
                .service(clients::get_one)
                .service(clients::update)
                .service(clients::remove),
        )
        .default_service(web::to(not_found));
}

async fn not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found(format!(
        "There is no route {} {}.",
        req.method(),
        req.path()
    )))
}

/// Echoes the request id that the tracing span carries, so a client's report can be found in the logs.
pub async fn request_id_header(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = req.extensions().get::<RequestId>().copied();
    let mut res = next.call(req).await?;
    if let Some(id) = id
        && let Ok(value) = HeaderValue::from_str(&id.to_string())
    {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(res)
}

/// 200 with a JSON body, or the error mapped by `ApiError`.
pub(crate) fn ok_json<T: serde::Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok().json(body)
}

/// `Some(None)` for an explicit `null`, `None` when the field is absent (with `#[serde(default)]`).
pub(crate) fn nullable<'de, D: serde::Deserializer<'de>, T: serde::Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    <Option<T> as serde::Deserialize>::deserialize(d).map(Some)
}

/// A `limit` query parameter: `default` when absent, else 1–`max` (422 `invalid_limit` otherwise).
pub(crate) fn page_limit(raw: Option<u64>, default: u64, max: u64) -> Result<u64, ApiError> {
    let limit = raw.unwrap_or(default);
    if !(1..=max).contains(&limit) {
        return Err(ApiError::new(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_limit",
            format!("limit must be between 1 and {max}"),
        )
        .with_field("limit"));
    }
    Ok(limit)
}

/// A `page_token` query parameter: one this API gave (`next_page_token`), else 400.
pub(crate) fn page_token<T: std::str::FromStr>(raw: Option<&str>) -> Result<Option<T>, ApiError> {
    raw.map(|t| {
        t.parse::<T>()
            .map_err(|_| ApiError::bad_request("`page_token` is not one this API gave"))
    })
    .transpose()
}

/// A field that parsed but is not acceptable: 422 with its own code.
pub(crate) fn invalid(i: service::fields::Invalid) -> ApiError {
    ApiError::new(
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        i.code,
        i.message,
    )
    .with_field(i.field)
}

/// A required RFC 3339 query parameter. A `+` that arrived as a space (unencoded) is forgiven.
pub(crate) fn parse_instant(
    name: &'static str,
    raw: Option<&str>,
) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
    let raw = raw
        .ok_or_else(|| ApiError::bad_request(format!("`{name}` (an RFC 3339 time) is required")))?;
    chrono::DateTime::parse_from_rfc3339(raw.trim())
        .or_else(|_| chrono::DateTime::parse_from_rfc3339(&raw.trim().replace(' ', "+")))
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| {
            ApiError::bad_request(format!(
                "`{name}` must be an RFC 3339 time such as 2026-12-01T09:00:00+01:00"
            ))
        })
}

/// The caller's own zone, the default for their rules and events.
pub(crate) async fn user_zone(
    ctx: &service::AppContext,
    user_id: uuid::Uuid,
) -> Result<domain::TimeZone, ApiError> {
    let user = service::users::get(&ctx.db, user_id).await?;
    Ok(domain::TimeZone::parse(&user.timezone).unwrap_or(domain::TimeZone::UTC))
}
