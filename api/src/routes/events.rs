use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::events::{self, EventError, EventFilter, EventView, ManualEventInput};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::{invalid, ok_json, parse_instant, user_zone};

#[derive(Serialize, ToSchema)]
pub struct EventBody {
    /// The event id, or `<series id>/<occurrence start as 20261201T080000Z>` for an occurrence.
    id: String,
    series_id: Option<Uuid>,
    calendar_id: Uuid,
    #[schema(example = "local")]
    provider: String,
    provider_event_id: String,
    ical_uid: Option<String>,
    title: String,
    description: Option<String>,
    location: Option<String>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    all_day: bool,
    start_date: Option<NaiveDate>,
    end_date: Option<NaiveDate>,
    timezone: Option<String>,
    #[schema(example = "confirmed")]
    status: String,
    busy: bool,
    /// Out of office (Google `outOfOffice`, Graph `oof`, ICS `X-MICROSOFT-CDO-BUSYSTATUS:OOF`).
    out_of_office: bool,
    self_response: Option<String>,
    /// RFC 5545 RRULE of a series.
    rrule: Option<String>,
    client_id: Option<Uuid>,
    updated_at: DateTime<Utc>,
}

impl From<EventView> for EventBody {
    fn from(v: EventView) -> Self {
        EventBody {
            id: v.id,
            series_id: v.series_id,
            calendar_id: v.calendar_id,
            provider: v.provider.as_str().to_owned(),
            provider_event_id: v.provider_event_id,
            ical_uid: v.ical_uid,
            title: v.title,
            description: v.description,
            location: v.location,
            start: v.start,
            end: v.end,
            all_day: v.all_day,
            start_date: v.start_date,
            end_date: v.end_date,
            timezone: v.timezone,
            status: v.status,
            busy: v.busy,
            out_of_office: v.out_of_office,
            self_response: v.self_response,
            rrule: v.rrule,
            client_id: v.client_id,
            updated_at: v.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EventList {
    events: Vec<EventBody>,
    next_page_token: Option<String>,
}

/// A manual event, or the fields of one to change. Timed events take `start`/`end` (RFC 3339 with
/// an offset); all-day events take `all_day: true` with `start_date`/`end_date` (end exclusive).
#[derive(Deserialize, ToSchema, Default)]
pub struct EventRequest {
    #[schema(example = "Focus")]
    title: Option<String>,
    #[serde(default, deserialize_with = "crate::routes::nullable")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    #[serde(default, deserialize_with = "crate::routes::nullable")]
    #[schema(value_type = Option<String>)]
    location: Option<Option<String>>,
    #[schema(example = "2026-12-01T09:00:00+01:00")]
    start: Option<String>,
    #[schema(example = "2026-12-01T11:00:00+01:00")]
    end: Option<String>,
    all_day: Option<bool>,
    start_date: Option<String>,
    end_date: Option<String>,
    /// Defaults to true.
    busy: Option<bool>,
    /// `confirmed` (default) or `tentative`.
    status: Option<String>,
    /// IANA zone whose wall clock the recurrence follows; defaults to the user's.
    timezone: Option<String>,
    /// RFC 5545 RRULE, e.g. `FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10`; `null` makes a series single.
    #[serde(default, deserialize_with = "crate::routes::nullable")]
    #[schema(value_type = Option<String>)]
    rrule: Option<Option<String>>,
}

impl From<EventRequest> for ManualEventInput {
    fn from(r: EventRequest) -> Self {
        ManualEventInput {
            title: r.title,
            description: r.description,
            location: r.location,
            start: r.start,
            end: r.end,
            all_day: r.all_day,
            start_date: r.start_date,
            end_date: r.end_date,
            busy: r.busy,
            status: r.status,
            timezone: r.timezone,
            rrule: r.rrule,
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct EventQuery {
    /// RFC 3339; events ending after it.
    start: Option<String>,
    /// RFC 3339; events starting before it.
    end: Option<String>,
    calendar_id: Option<Uuid>,
    client_id: Option<Uuid>,
    /// Case-insensitive text in title, description or location.
    q: Option<String>,
    /// Default 250, at most 2500.
    limit: Option<usize>,
    page_token: Option<String>,
}

impl From<EventError> for ApiError {
    fn from(e: EventError) -> Self {
        match e {
            EventError::Invalid(i) => invalid(i),
            EventError::NotFound => ApiError::not_found("No such event."),
            EventError::NotEditable(_) => {
                ApiError::new(StatusCode::CONFLICT, "synced_event", e.to_string())
            }
            EventError::OccurrenceNotEditable => ApiError::new(
                StatusCode::CONFLICT,
                "occurrence_not_editable",
                e.to_string(),
            ),
            EventError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// Events overlapping `[start, end)`, recurring ones as occurrences, sorted by start, paged.
#[utoipa::path(get, path = "/api/events", tag = "events", params(EventQuery), security(("bearer" = [])), responses(
    (status = 200, body = EventList),
    (status = 400, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "end before start, range over two years, bad page token"),
))]
#[get("/events")]
pub async fn list_events(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let start = parse_instant("start", q.start.as_deref())?;
    let end = parse_instant("end", q.end.as_deref())?;
    if end <= start {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_range",
            "end must be after start",
        ));
    }
    if end - start > chrono::Duration::days(2 * 366) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "range_too_long",
            "list at most two years at a time",
        ));
    }
    let filter = EventFilter {
        calendar_id: q.calendar_id,
        client_id: q.client_id,
        q: q.q,
    };
    let page = events::list(
        &ctx.db,
        user.id,
        start,
        end,
        filter,
        q.limit.unwrap_or(events::DEFAULT_PAGE),
        q.page_token.as_deref(),
    )
    .await?;
    Ok(ok_json(&EventList {
        events: page.events.into_iter().map(EventBody::from).collect(),
        next_page_token: page.next_page_token,
    }))
}

/// One event, or one occurrence of a series.
#[utoipa::path(get, path = "/api/events/{id}", tag = "events", security(("bearer" = [])), responses(
    (status = 200, body = EventBody),
    (status = 404, body = ErrorBody),
))]
#[get("/events/{id:.+}")]
pub async fn get_event(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = events::get(&ctx.db, user.id, &id).await?;
    Ok(ok_json(&EventBody::from(view)))
}

/// Create a manual event in the user's own calendar, optionally recurring.
#[utoipa::path(post, path = "/api/events", tag = "events", request_body = EventRequest, security(("bearer" = [])), responses(
    (status = 201, body = EventBody),
    (status = 400, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "invalid_time_range, invalid_datetime, invalid_rrule, too_many_occurrences (more than 5,000 within two years), unknown_timezone, …"),
))]
#[post("/events")]
pub async fn create_event(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<EventRequest>,
) -> Result<HttpResponse, ApiError> {
    let zone = user_zone(&ctx, user.id).await?;
    let view = events::create(&ctx, user.id, zone, body.into_inner().into()).await?;
    Ok(HttpResponse::Created().json(EventBody::from(view)))
}

/// Change a manual event (a series by its id changes the whole series). Synced events: 409.
#[utoipa::path(patch, path = "/api/events/{id}", tag = "events", request_body = EventRequest, security(("bearer" = [])), responses(
    (status = 200, body = EventBody),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody, description = "synced_event or occurrence_not_editable"),
    (status = 422, body = ErrorBody),
))]
#[patch("/events/{id:.+}")]
pub async fn patch_event(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<String>,
    body: Json<EventRequest>,
) -> Result<HttpResponse, ApiError> {
    let view = events::update(&ctx, user.id, &id, body.into_inner().into()).await?;
    Ok(ok_json(&EventBody::from(view)))
}

/// Delete a manual event, a whole series, or one occurrence (`<series id>/<start>`).
#[utoipa::path(delete, path = "/api/events/{id}", tag = "events", security(("bearer" = [])), responses(
    (status = 204),
    (status = 404, body = ErrorBody),
    (status = 409, body = ErrorBody, description = "synced_event"),
))]
#[delete("/events/{id:.+}")]
pub async fn delete_event(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    events::delete(&ctx, user.id, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
