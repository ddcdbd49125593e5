//! Tasks and the plan that places them into free time (contract, "Tasks scheduled into free
//! time").

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::tasks::{self, Sort, TaskError, TaskInput, TaskQuery, TaskView};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::{invalid, nullable, ok_json, parse_instant};

#[derive(Serialize, ToSchema)]
pub struct BlockBody {
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

/// A task, with where the plan put it (the same shape `task.*` notifications carry:
/// `TaskView::to_json`).
#[derive(Serialize, ToSchema)]
pub struct TaskBody {
    id: Uuid,
    #[schema(example = "Write proposal")]
    title: String,
    notes: Option<String>,
    duration_minutes: i32,
    due: Option<DateTime<Utc>>,
    earliest_start: Option<DateTime<Utc>>,
    /// 1 (most urgent) to 4.
    priority: i32,
    tags: Vec<String>,
    min_chunk_minutes: i32,
    max_chunk_minutes: i32,
    client_id: Option<Uuid>,
    reminder_minutes: Option<i32>,
    rrule: Option<String>,
    /// `open` or `done`.
    status: String,
    completed_at: Option<DateTime<Utc>>,
    /// Where the plan put it, in time order (begun blocks included).
    blocks: Vec<BlockBody>,
    /// Not all of it fits before its due (or at all within 28 days).
    at_risk: bool,
    unscheduled_minutes: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<TaskView> for TaskBody {
    fn from(v: TaskView) -> Self {
        let t = v.task;
        Self {
            id: t.id,
            title: t.title,
            notes: t.notes,
            duration_minutes: t.duration_minutes,
            due: t.due,
            earliest_start: t.earliest_start,
            priority: t.priority,
            tags: v.tags,
            min_chunk_minutes: t.min_chunk_minutes,
            max_chunk_minutes: t.max_chunk_minutes,
            client_id: t.client_id,
            reminder_minutes: t.reminder_minutes,
            rrule: t.rrule,
            status: t.status,
            completed_at: t.completed_at,
            blocks: v
                .blocks
                .into_iter()
                .map(|(start, end)| BlockBody { start, end })
                .collect(),
            at_risk: t.at_risk,
            unscheduled_minutes: t.unscheduled_minutes,
            created_at: t.created_at,
            updated_at: t.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    tasks: Vec<TaskBody>,
    next_page_token: Option<String>,
}

/// A new task (`title`, `duration_minutes` required), or the fields of one to change (null
/// clears an optional field).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskRequest {
    #[schema(example = "Write proposal")]
    title: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    notes: Option<Option<String>>,
    /// 5–10080.
    #[schema(example = 180)]
    duration_minutes: Option<i64>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    due: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<DateTime<Utc>>)]
    earliest_start: Option<Option<DateTime<Utc>>>,
    /// 1 (most urgent) to 4; default 3.
    priority: Option<i64>,
    tags: Option<Vec<String>>,
    /// Default: the duration (one piece).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    min_chunk_minutes: Option<Option<i64>>,
    /// Default: the duration.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    max_chunk_minutes: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<Uuid>)]
    client_id: Option<Option<Uuid>>,
    /// Minutes before `due`.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    reminder_minutes: Option<Option<i64>>,
    /// Repeats the task: each occurrence's due follows the rule (wall clock, the user's zone).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "FREQ=WEEKLY;BYDAY=FR")]
    rrule: Option<Option<String>>,
    /// `open` or `done` (PATCH only).
    status: Option<String>,
}

impl From<TaskRequest> for TaskInput {
    fn from(r: TaskRequest) -> Self {
        TaskInput {
            title: r.title,
            notes: r.notes,
            duration_minutes: r.duration_minutes,
            due: r.due,
            earliest_start: r.earliest_start,
            priority: r.priority,
            tags: r.tags,
            min_chunk_minutes: r.min_chunk_minutes,
            max_chunk_minutes: r.max_chunk_minutes,
            client_id: r.client_id,
            reminder_minutes: r.reminder_minutes,
            rrule: r.rrule,
            status: r.status,
        }
    }
}

impl From<TaskError> for ApiError {
    fn from(e: TaskError) -> Self {
        match e {
            TaskError::Invalid(i) => invalid(i),
            TaskError::NotFound => {
                ApiError::new(StatusCode::NOT_FOUND, "task_not_found", "No such task.")
            }
            TaskError::Internal(e) => ApiError::internal(e),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct TaskListQuery {
    /// `open` or `done`.
    status: Option<String>,
    tag: Option<String>,
    /// 1–4.
    priority: Option<i64>,
    /// Words in the title or notes.
    q: Option<String>,
    due_before: Option<String>,
    due_after: Option<String>,
    /// `due` (default: soonest first, none last), `priority` or `created` (newest first).
    sort: Option<String>,
    /// 1–500, default 100.
    limit: Option<u64>,
    page_token: Option<String>,
}

/// The caller's tasks, filtered and sorted.
#[utoipa::path(get, path = "/api/tasks", tag = "tasks", params(TaskListQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = TaskPage),
        (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_status, invalid_priority, invalid_sort, invalid_limit"),
    ))]
#[get("/tasks")]
pub async fn list(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    query: web::Query<TaskListQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let limit = crate::routes::page_limit(q.limit, 100, 500)?;
    let instant = |name: &'static str, raw: Option<String>| {
        raw.map(|r| parse_instant(name, Some(&r))).transpose()
    };
    let sort = match q.sort.as_deref() {
        None | Some("due") => Sort::Due,
        Some("priority") => Sort::Priority,
        Some("created") => Sort::Created,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_sort",
                "sort is `due`, `priority` or `created`.",
            )
            .with_field("sort"));
        }
    };
    let offset = crate::routes::page_token::<u64>(q.page_token.as_deref())?.unwrap_or(0);
    let query = TaskQuery {
        status: q.status,
        tag: q.tag,
        priority: q.priority,
        q: q.q,
        due_before: instant("due_before", q.due_before)?,
        due_after: instant("due_after", q.due_after)?,
        sort,
        limit,
        offset,
    };
    let (views, next) = tasks::list(&ctx, user.id, query).await?;
    Ok(ok_json(&TaskPage {
        tasks: views.into_iter().map(TaskBody::from).collect(),
        next_page_token: next.map(|n| n.to_string()),
    }))
}

/// Add a task; the plan places it within seconds.
#[utoipa::path(post, path = "/api/tasks", tag = "tasks", request_body = TaskRequest, security(("bearer" = [])),
    responses(
        (status = 201, body = TaskBody),
        (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_title, invalid_duration, invalid_priority, invalid_chunks, invalid_tags, invalid_notes, invalid_earliest_start, invalid_reminder, invalid_rrule, unknown_client"),
    ))]
#[post("/tasks")]
pub async fn create(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<TaskRequest>,
) -> Result<HttpResponse, ApiError> {
    let task = tasks::create(&ctx, user.id, body.into_inner().into()).await?;
    Ok(HttpResponse::Created().json(TaskBody::from(task)))
}

#[utoipa::path(get, path = "/api/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TaskBody), (status = 404, body = ErrorBody)))]
#[get("/tasks/{id}")]
pub async fn get_one(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok_json(&TaskBody::from(
        tasks::get(&ctx, user.id, *id).await?,
    )))
}

#[utoipa::path(patch, path = "/api/tasks/{id}", tag = "tasks", request_body = TaskRequest, security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = TaskBody),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "as for creation, and invalid_status"),
    ))]
#[patch("/tasks/{id}")]
pub async fn update(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<TaskRequest>,
) -> Result<HttpResponse, ApiError> {
    let task = tasks::update(&ctx, user.id, *id, body.into_inner().into()).await?;
    Ok(ok_json(&TaskBody::from(task)))
}

#[utoipa::path(delete, path = "/api/tasks/{id}", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/tasks/{id}")]
pub async fn remove(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    tasks::delete(&ctx, user.id, *id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Mark the task done; for a repeating task the answer is its next occurrence, now open.
#[utoipa::path(post, path = "/api/tasks/{id}/complete", tag = "tasks", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = TaskBody), (status = 404, body = ErrorBody)))]
#[post("/tasks/{id}/complete")]
pub async fn complete(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok_json(&TaskBody::from(
        tasks::complete(&ctx, user.id, *id).await?,
    )))
}

#[derive(Serialize, ToSchema)]
pub struct PlanBlockBody {
    task_id: Uuid,
    title: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    at_risk: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PlanBody {
    blocks: Vec<PlanBlockBody>,
}

#[derive(Deserialize, IntoParams)]
pub struct PlanQuery {
    start: Option<String>,
    end: Option<String>,
}

/// The task blocks of the plan between `start` and `end`.
#[utoipa::path(get, path = "/api/plan", tag = "tasks", params(PlanQuery), security(("bearer" = [])),
    responses(
        (status = 200, body = PlanBody),
        (status = 400, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_range, range_too_long"),
    ))]
#[get("/plan")]
pub async fn plan(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    query: web::Query<PlanQuery>,
) -> Result<HttpResponse, ApiError> {
    let start = parse_instant("start", query.start.as_deref())?;
    let end = parse_instant("end", query.end.as_deref())?;
    let range = service::fields::query_range(start, end, 92).map_err(invalid)?;
    let blocks = tasks::plan::blocks_between(&ctx.db, user.id, range.start(), range.end())
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    Ok(ok_json(&PlanBody {
        blocks: blocks
            .into_iter()
            .map(|b| PlanBlockBody {
                task_id: b.task_id,
                title: b.title,
                start: b.start,
                end: b.end,
                at_risk: b.at_risk,
            })
            .collect(),
    }))
}
