//! Clients (or projects) of the freelancer, their automatic rules, and the hours booked to them.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::clients::{self, ClientError, ClientInput, ClientView};
use service::events::{self as events_service, AssignError};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::events::EventBody;
use crate::routes::{invalid, ok_json, parse_instant};

#[derive(Serialize, ToSchema)]
pub struct ClientBody {
    id: Uuid,
    name: String,
    color: Option<String>,
    /// Events with an attendee from one of these domains (or a subdomain) belong to the client.
    email_domains: Vec<String>,
    /// Events whose title holds one of these words or phrases belong to the client.
    keywords: Vec<String>,
    /// Archived clients keep their events but no longer take new ones by rule.
    archived: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ClientView> for ClientBody {
    fn from(c: ClientView) -> Self {
        Self {
            id: c.id,
            name: c.name,
            color: c.color,
            email_domains: c.email_domains,
            keywords: c.keywords,
            archived: c.archived,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ClientList {
    clients: Vec<ClientBody>,
}

/// A new client (`name` required), or the fields of one to change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientRequest {
    #[schema(example = "Acme")]
    name: Option<String>,
    /// `#rrggbb`, or null to clear.
    #[serde(default, deserialize_with = "crate::routes::nullable")]
    #[schema(value_type = Option<String>)]
    color: Option<Option<String>>,
    #[schema(example = json!(["acme.com"]))]
    email_domains: Option<Vec<String>>,
    #[schema(example = json!(["acme"]))]
    keywords: Option<Vec<String>>,
    archived: Option<bool>,
}

impl From<ClientRequest> for ClientInput {
    fn from(r: ClientRequest) -> Self {
        ClientInput {
            name: r.name,
            color: r.color,
            email_domains: r.email_domains,
            keywords: r.keywords,
            archived: r.archived,
        }
    }
}

impl From<ClientError> for ApiError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Invalid(i) => invalid(i),
            ClientError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "client_not_found", "No such client.")
            }
            ClientError::NameTaken => ApiError::new(
                StatusCode::CONFLICT,
                "client_exists",
                "A client with this name exists.",
            ),
            ClientError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// The caller's clients, by name.
#[utoipa::path(get, path = "/api/clients", tag = "clients", security(("bearer" = [])),
    responses((status = 200, body = ClientList)))]
#[get("/clients")]
pub async fn list(ctx: web::Data<AppContext>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let clients = clients::list(&ctx.db, user.id)
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    Ok(ok_json(&ClientList {
        clients: clients.into_iter().map(ClientBody::from).collect(),
    }))
}

/// Create a client, optionally with rules that book matching events to it.
#[utoipa::path(post, path = "/api/clients", tag = "clients", request_body = ClientRequest, security(("bearer" = [])),
    responses(
        (status = 201, body = ClientBody),
        (status = 409, body = ErrorBody, description = "client_exists"),
        (status = 422, body = ErrorBody, description = "invalid_name, invalid_color, invalid_rule, too_many_rules"),
    ))]
#[post("/clients")]
pub async fn create(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<ClientRequest>,
) -> Result<HttpResponse, ApiError> {
    let client =
        clients::create(&ctx.db, user.id, body.into_inner().into(), ctx.clock.now()).await?;
    Ok(HttpResponse::Created().json(ClientBody::from(client)))
}

#[utoipa::path(get, path = "/api/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = ClientBody), (status = 404, body = ErrorBody)))]
#[get("/clients/{id}")]
pub async fn get_one(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let client = clients::get(&ctx.db, user.id, *id).await?;
    Ok(ok_json(&ClientBody::from(client)))
}

/// Change a client; rules apply at once to every event nobody assigned by hand.
#[utoipa::path(patch, path = "/api/clients/{id}", tag = "clients", request_body = ClientRequest, security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = ClientBody),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "client_exists"),
        (status = 422, body = ErrorBody),
    ))]
#[patch("/clients/{id}")]
pub async fn update(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<ClientRequest>,
) -> Result<HttpResponse, ApiError> {
    let client = clients::update(
        &ctx.db,
        user.id,
        *id,
        body.into_inner().into(),
        ctx.clock.now(),
    )
    .await?;
    Ok(ok_json(&ClientBody::from(client)))
}

/// Delete a client; its events stay, without a client.
#[utoipa::path(delete, path = "/api/clients/{id}", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/clients/{id}")]
pub async fn remove(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    clients::delete(&ctx.db, user.id, *id, ctx.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, IntoParams)]
pub struct HoursQuery {
    /// RFC 3339, or a date (midnight in the caller's zone).
    start: Option<String>,
    /// RFC 3339, or a date (midnight in the caller's zone); exclusive.
    end: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct WeekHours {
    /// The Monday of the week, in the caller's zone.
    week_start: NaiveDate,
    minutes: i64,
}

#[derive(Serialize, ToSchema)]
pub struct HoursBody {
    client_id: Uuid,
    total_minutes: i64,
    weeks: Vec<WeekHours>,
}

/// Minutes booked to the client in `[start, end)`, per week (weeks start on Monday in the caller's
/// zone). Cancelled, declined and all-day events do not count; overlapping time counts once.
#[utoipa::path(get, path = "/api/clients/{id}/hours", tag = "clients", security(("bearer" = [])),
    params(("id" = Uuid, Path), HoursQuery),
    responses(
        (status = 200, body = HoursBody),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_range, range_too_long"),
    ))]
#[get("/clients/{id}/hours")]
pub async fn hours(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<HoursQuery>,
) -> Result<HttpResponse, ApiError> {
    let zone = crate::routes::user_zone(&ctx, user.id).await?;
    let start = instant_or_date("start", query.start.as_deref(), zone)?;
    let end = instant_or_date("end", query.end.as_deref(), zone)?;
    let h = clients::hours::hours(&ctx.db, user.id, *id, start, end).await?;
    Ok(ok_json(&HoursBody {
        client_id: h.client_id,
        total_minutes: h.total_minutes,
        weeks: h
            .weeks
            .into_iter()
            .map(|(week_start, minutes)| WeekHours {
                week_start,
                minutes,
            })
            .collect(),
    }))
}

fn instant_or_date(
    name: &'static str,
    raw: Option<&str>,
    zone: domain::TimeZone,
) -> Result<DateTime<Utc>, ApiError> {
    if let Some(date) = raw.and_then(|r| NaiveDate::parse_from_str(r.trim(), "%Y-%m-%d").ok()) {
        return Ok(domain::rules::local_instant(
            zone.tz(),
            date,
            domain::TimeOfDay::MIDNIGHT,
        ));
    }
    parse_instant(name, raw)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// A client of the caller, or null for "no client" (which rules then leave alone).
    #[schema(value_type = Option<Uuid>)]
    client_id: Option<Uuid>,
}

impl From<AssignError> for ApiError {
    fn from(e: AssignError) -> Self {
        match e {
            AssignError::Event(e) => e.into(),
            AssignError::UnknownClient => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unknown_client",
                "client_id is not one of your clients.",
            ),
        }
    }
}

/// Book an event to a client (a series as a whole, also when named by an occurrence), or to none.
/// Works for synced events too: the choice is freeslot's, not the provider's.
#[utoipa::path(patch, path = "/api/events/{id}/client", tag = "events", request_body = AssignRequest, security(("bearer" = [])),
    responses(
        (status = 200, body = EventBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "unknown_client"),
    ))]
#[patch("/events/{id:.+}/client")]
pub async fn assign(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<String>,
    body: Json<AssignRequest>,
) -> Result<HttpResponse, ApiError> {
    let view =
        events_service::assign(&ctx.db, user.id, &id, body.client_id, ctx.clock.now()).await?;
    Ok(ok_json(&EventBody::from(view)))
}
