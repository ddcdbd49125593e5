//! Availability published as a Cal.com schedule.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::export::{self, ExportError, ExportStatus, ScheduleBody};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::{invalid, ok_json};

#[derive(Deserialize, IntoParams)]
pub struct ExportQuery {
    /// How many days ahead overrides reach (1–365, default 60).
    days: Option<i64>,
}

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Invalid(i) => invalid(i),
            ExportError::NotConnected => ApiError::new(
                StatusCode::CONFLICT,
                "calcom_not_connected",
                "Connect a Cal.com account first.",
            ),
            ExportError::NeedsReauth => ApiError::new(
                StatusCode::CONFLICT,
                "calcom_needs_reauth",
                "The Cal.com connection needs to be reconnected.",
            ),
            ExportError::RateLimited {
                retry_after_seconds,
            } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "provider_rate_limited",
                e.to_string(),
            )
            .with_retry_after(retry_after_seconds),
            ExportError::Provider(_) => {
                ApiError::new(StatusCode::BAD_GATEWAY, "provider_error", e.to_string())
            }
            ExportError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// The caller's availability as the body of a Cal.com API v2 schedule: weekly hours, plus an
/// override for every date from today through `days` ahead whose free time differs from them.
#[utoipa::path(get, path = "/api/availability/export", tag = "availability", params(ExportQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A Cal.com schedule body (cal-api-version 2024-06-11)", body = Object),
        (status = 422, body = ErrorBody, description = "invalid_days"),
    ))]
#[get("/availability/export")]
pub async fn get_export(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ApiError> {
    let days = export::parse_days(query.days).map_err(invalid)?;
    let body: ScheduleBody = export::schedule(&ctx, user.id, days, ctx.clock.now()).await?;
    Ok(ok_json(&body))
}

#[derive(Serialize, ToSchema)]
pub struct PushBody {
    /// created, updated, unchanged (nothing sent), or queued (an export is running and goes once
    /// more).
    status: &'static str,
    schedule_id: Option<String>,
}

/// Push the schedule to the connected Cal.com account: created on first use, updated afterwards,
/// not sent when Cal.com already has it.
#[utoipa::path(post, path = "/api/availability/export/calcom", tag = "availability",
    security(("bearer" = [])),
    responses(
        (status = 200, body = PushBody),
        (status = 409, body = ErrorBody, description = "calcom_not_connected, calcom_needs_reauth"),
        (status = 429, body = ErrorBody, description = "provider_rate_limited, with Retry-After"),
        (status = 502, body = ErrorBody, description = "provider_error"),
    ))]
#[post("/availability/export/calcom")]
pub async fn push_calcom(
    ctx: web::Data<AppContext>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let pushed =
        export::push_calcom(&ctx, user.id, service::audit::Actor::User, ctx.clock.now()).await?;
    Ok(ok_json(&PushBody {
        status: pushed.outcome.as_str(),
        schedule_id: pushed.schedule_id,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct ExportStatusBody {
    /// Export again after every sync that changed events (and hourly, as dates move on).
    auto_export: bool,
    days: i64,
    schedule_id: Option<String>,
    /// When Cal.com last received the schedule.
    exported_at: Option<DateTime<Utc>>,
    /// When freeslot last compared (and perhaps sent) it.
    checked_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

impl From<ExportStatus> for ExportStatusBody {
    fn from(s: ExportStatus) -> Self {
        Self {
            auto_export: s.auto_export,
            days: s.days,
            schedule_id: s.schedule_id,
            exported_at: s.exported_at,
            checked_at: s.checked_at,
            last_error: s.last_error,
        }
    }
}

/// The Cal.com export's settings and its last outcome.
#[utoipa::path(get, path = "/api/availability/export/calcom", tag = "availability",
    security(("bearer" = [])), responses((status = 200, body = ExportStatusBody)))]
#[get("/availability/export/calcom")]
pub async fn get_settings(
    ctx: web::Data<AppContext>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let status = export::status(&ctx.db, user.id)
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    Ok(ok_json(&ExportStatusBody::from(status)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportSettingsBody {
    auto_export: Option<bool>,
    /// 1–365.
    days: Option<i64>,
}

/// Switch the automatic export on or off, or change how far ahead it reaches.
#[utoipa::path(patch, path = "/api/availability/export/calcom", tag = "availability",
    request_body = ExportSettingsBody, security(("bearer" = [])),
    responses((status = 200, body = ExportStatusBody), (status = 422, body = ErrorBody, description = "invalid_days")))]
#[patch("/availability/export/calcom")]
pub async fn patch_settings(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<ExportSettingsBody>,
) -> Result<HttpResponse, ApiError> {
    let status = export::configure(&ctx, user.id, body.auto_export, body.days).await?;
    Ok(ok_json(&ExportStatusBody::from(status)))
}
