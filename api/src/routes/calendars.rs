//! The user's connected calendars.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::calendars::{self, BusyRulesPatch, CalendarError, CalendarPatch, CalendarView};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::{invalid, ok_json};

#[derive(Serialize, ToSchema)]
pub struct Calendar {
    pub id: Uuid,
    provider: String,
    account: Option<String>,
    name: String,
    color: Option<String>,
    timezone: Option<String>,
    include_in_availability: bool,
    busy_rules: BusyRules,
    /// active, needs_reauth or revoked.
    connection_status: String,
    /// idle, queued, syncing or error.
    sync_status: String,
    last_synced_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

impl From<CalendarView> for Calendar {
    fn from(c: CalendarView) -> Self {
        Self {
            id: c.id,
            provider: c.provider.as_str().to_owned(),
            account: c.account,
            name: c.name,
            color: c.color,
            timezone: c.timezone,
            include_in_availability: c.include_in_availability,
            busy_rules: BusyRules::from(&c.busy_rules),
            connection_status: c.connection_status.as_str().to_owned(),
            sync_status: c.sync_status.as_str().to_owned(),
            last_synced_at: c.last_synced_at,
            last_error: c.last_error,
        }
    }
}

/// How this calendar's events count (contract, "Busy rules per calendar").
#[derive(Serialize, ToSchema)]
pub struct BusyRules {
    /// `busy`, `free`, or null: the user's `tentative_is_busy` decides.
    tentative: Option<&'static str>,
    /// `busy` (even when marked free), `free` (never), or null: the general busy test.
    all_day: Option<&'static str>,
    /// `busy` or `free`.
    out_of_office: &'static str,
    /// Events whose title holds one of these as whole words (any case) never block.
    ignore_titles: Vec<String>,
}

impl From<&domain::BusyRules> for BusyRules {
    fn from(r: &domain::BusyRules) -> Self {
        Self {
            tentative: r.tentative.as_str(),
            all_day: r.all_day.as_str(),
            out_of_office: r.out_of_office.as_str().unwrap_or("busy"),
            ignore_titles: r.ignore_titles.iter().map(|t| t.text.clone()).collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CalendarList {
    pub calendars: Vec<Calendar>,
}

pub(crate) async fn calendar_list(
    ctx: &AppContext,
    user_id: Uuid,
) -> Result<CalendarList, ApiError> {
    let views = calendars::list(&ctx.db, user_id)
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    Ok(CalendarList {
        calendars: views.into_iter().map(Calendar::from).collect(),
    })
}

impl From<CalendarError> for ApiError {
    fn from(e: CalendarError) -> Self {
        match e {
            CalendarError::Invalid(i) => invalid(i),
            CalendarError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "calendar_not_found",
                "No such calendar.",
            ),
            CalendarError::QueueUnavailable(why) => {
                tracing::warn!(error = %why, "the job queue is unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "queue_unavailable",
                    "The job queue is unreachable; try again shortly.",
                )
            }
            CalendarError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// The caller's connected calendars with their connection and sync state.
#[utoipa::path(get, path = "/api/calendars", tag = "calendars", security(("bearer" = [])), responses(
    (status = 200, body = CalendarList),
    (status = 401, body = ErrorBody),
))]
#[get("/calendars")]
pub async fn list(ctx: web::Data<AppContext>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    Ok(ok_json(&calendar_list(&ctx, user.id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalendarPatchBody {
    name: Option<String>,
    /// `#rrggbb`, or null to clear.
    #[serde(default, deserialize_with = "crate::routes::nullable")]
    #[schema(value_type = Option<String>)]
    color: Option<Option<String>>,
    include_in_availability: Option<bool>,
    busy_rules: Option<BusyRulesBody>,
}

/// A field given replaces the calendar's rule; one left out keeps it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BusyRulesBody {
    /// `busy`, `free`, or null (the user's rules decide).
    #[serde(default, deserialize_with = "crate::routes::nullable")]
    #[schema(value_type = Option<String>)]
    tentative: Option<Option<String>>,
    /// `busy`, `free`, or null (the general busy test).
    #[serde(default, deserialize_with = "crate::routes::nullable")]
    #[schema(value_type = Option<String>)]
    all_day: Option<Option<String>>,
    /// `busy` or `free`.
    out_of_office: Option<String>,
    /// At most 50, each 1–200 characters holding a word.
    ignore_titles: Option<Vec<String>>,
}

/// Rename a calendar, change its color, choose whether it counts for availability, or set how
/// its events count (busy rules).
#[utoipa::path(patch, path = "/api/calendars/{id}", tag = "calendars", security(("bearer" = [])),
    params(("id" = Uuid, Path)), request_body = CalendarPatchBody,
    responses(
        (status = 200, body = Calendar),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_name, invalid_color, invalid_busy_rules"),
    ))]
#[patch("/calendars/{id}")]
pub async fn update(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<CalendarPatchBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let patch = CalendarPatch {
        name: body.name,
        color: body.color,
        include_in_availability: body.include_in_availability,
        busy_rules: body.busy_rules.map(|r| BusyRulesPatch {
            tentative: r.tentative,
            all_day: r.all_day,
            out_of_office: r.out_of_office,
            ignore_titles: r.ignore_titles,
        }),
    };
    let view = calendars::update(&ctx, user.id, *id, patch).await?;
    Ok(ok_json(&Calendar::from(view)))
}

/// Stop syncing a calendar and remove its events.
#[utoipa::path(delete, path = "/api/calendars/{id}", tag = "calendars", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/calendars/{id}")]
pub async fn remove(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    calendars::delete(&ctx, user.id, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sync a calendar now: 202, and the worker takes it from the queue.
#[utoipa::path(post, path = "/api/calendars/{id}/sync", tag = "calendars", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 202), (status = 404, body = ErrorBody), (status = 503, body = ErrorBody)))]
#[post("/calendars/{id}/sync")]
pub async fn sync(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    calendars::sync_now(&ctx, user.id, *id).await?;
    Ok(HttpResponse::Accepted().json(serde_json::json!({"status": "queued"})))
}
