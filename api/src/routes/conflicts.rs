use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::conflicts::{self, ConflictError, ConflictView};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::routes::events::EventBody;
use crate::routes::ok_json;

#[derive(Serialize, ToSchema)]
pub struct ConflictBody {
    id: Uuid,
    /// `overlap` or `buffer`.
    kind: String,
    /// `high`, `medium` or `low`.
    severity: String,
    /// `open` or `resolved`.
    status: String,
    /// `user` or `auto` once resolved.
    resolution: Option<String>,
    /// Ordered by (start, id): event ids, occurrence keys (`<series id>/<start>`) or, for a task
    /// block that counts as busy (the rules' `task_blocks`), `task:<task id>/<start>`.
    event_ids: Vec<String>,
    /// The conflict's events that still exist.
    events: Vec<EventBody>,
    /// The conflict's task blocks still in the plan.
    task_blocks: Vec<ConflictBlockBody>,
    /// The collision: the overlap, or the gap that is too short.
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    detected_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
}

/// A block of the plan in a conflict.
#[derive(Serialize, ToSchema)]
pub struct ConflictBlockBody {
    /// Its key in `event_ids`.
    id: String,
    task_id: Uuid,
    title: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    at_risk: bool,
}

impl From<ConflictView> for ConflictBody {
    fn from(v: ConflictView) -> Self {
        let r = v.row;
        ConflictBody {
            id: r.id,
            kind: r.kind,
            severity: r.severity,
            status: r.status,
            resolution: r.resolution,
            event_ids: vec![r.event_a_key, r.event_b_key],
            events: v.events.into_iter().map(EventBody::from).collect(),
            task_blocks: v
                .task_blocks
                .into_iter()
                .map(|b| ConflictBlockBody {
                    id: b.key(),
                    task_id: b.task_id,
                    title: b.title,
                    start: b.start,
                    end: b.end,
                    at_risk: b.at_risk,
                })
                .collect(),
            start: r.start_at,
            end: r.end_at,
            detected_at: r.detected_at,
            resolved_at: r.resolved_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConflictList {
    conflicts: Vec<ConflictBody>,
}

#[derive(Deserialize, IntoParams)]
pub struct ConflictQuery {
    /// `open` or `resolved`; both when left out.
    status: Option<String>,
}

impl From<ConflictError> for ApiError {
    fn from(e: ConflictError) -> Self {
        match e {
            ConflictError::NotFound => ApiError::not_found("No such conflict."),
            ConflictError::BadStatus => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_status",
                e.to_string(),
            ),
            ConflictError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// Detected conflicts between the caller's busy events, sorted by start.
#[utoipa::path(get, path = "/api/conflicts", tag = "conflicts", params(ConflictQuery), security(("bearer" = [])), responses(
    (status = 200, body = ConflictList),
    (status = 422, body = ErrorBody),
))]
#[get("/conflicts")]
pub async fn list_conflicts(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    query: web::Query<ConflictQuery>,
) -> Result<HttpResponse, ApiError> {
    let list = conflicts::list(&ctx, user.id, query.status.as_deref(), ctx.clock.now()).await?;
    Ok(ok_json(&ConflictList {
        conflicts: list.into_iter().map(ConflictBody::from).collect(),
    }))
}

/// Mark a conflict as resolved by the user.
#[utoipa::path(post, path = "/api/conflicts/{id}/resolve", tag = "conflicts", security(("bearer" = [])), responses(
    (status = 200, body = ConflictBody),
    (status = 404, body = ErrorBody),
))]
#[post("/conflicts/{id}/resolve")]
pub async fn resolve_conflict(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let view = conflicts::resolve(&ctx, user.id, id.into_inner(), ctx.clock.now()).await?;
    Ok(ok_json(&ConflictBody::from(view)))
}
