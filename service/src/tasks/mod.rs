//! Tasks planned into free time (contract, "Tasks scheduled into free time"): the tasks
//! themselves here; where they go is `plan`.
//!
//! A repeating task (`rrule`, wall clock in the user's zone, anchored at its first due) is one
//! row per occurrence: completing one writes the next, with the same DST rule as recurring
//! events (a time in a spring gap moves forward, a fold takes the earlier instant).

pub mod plan;

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use domain::Recurrence;
use entity::{clients, task_blocks, tasks, users};
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use crate::AppContext;
use crate::audit::{self, Actor, Entry};
use crate::fields::{Invalid, zone_named};

pub const MIN_DURATION: i64 = 5;
pub const MAX_DURATION: i64 = 10_080;
const MAX_TITLE: usize = 500;
const MAX_NOTES: usize = 10_000;
const MAX_TAGS: usize = 20;
const MAX_TAG: usize = 50;
/// Reminders at most this long before the due (30 days).
const MAX_REMINDER: i64 = 43_200;
pub const OPEN: &str = "open";
pub const DONE: &str = "done";

#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no such task")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for TaskError {
    fn from(e: DbErr) -> Self {
        TaskError::Internal(e.into())
    }
}

/// A task as the API shows it, with its place in the plan.
#[derive(Clone, Debug)]
pub struct TaskView {
    pub task: tasks::Model,
    pub tags: Vec<String>,
    pub blocks: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

impl TaskView {
    /// The contract's JSON shape (`GET /api/tasks/{id}`), also what `task.*` notifications carry.
    pub fn to_json(&self) -> serde_json::Value {
        let t = &self.task;
        json!({
            "id": t.id, "title": t.title, "notes": t.notes,
            "duration_minutes": t.duration_minutes, "due": t.due,
            "earliest_start": t.earliest_start, "priority": t.priority, "tags": self.tags,
            "min_chunk_minutes": t.min_chunk_minutes, "max_chunk_minutes": t.max_chunk_minutes,
            "client_id": t.client_id, "reminder_minutes": t.reminder_minutes, "rrule": t.rrule,
            "status": t.status, "completed_at": t.completed_at,
            "blocks": self.blocks.iter().map(|(s, e)| json!({"start": s, "end": e})).collect::<Vec<_>>(),
            "at_risk": t.at_risk, "unscheduled_minutes": t.unscheduled_minutes,
            "created_at": t.created_at, "updated_at": t.updated_at,
        })
    }
}

fn tags_of(m: &tasks::Model) -> Vec<String> {
    serde_json::from_value(m.tags.clone()).unwrap_or_default()
}

/// A new task (`title` and `duration_minutes` required), or the fields of one to change
/// (`None`: leave as is; `Some(None)`: clear).
#[derive(Debug, Default)]
pub struct TaskInput {
    pub title: Option<String>,
    pub notes: Option<Option<String>>,
    pub duration_minutes: Option<i64>,
    pub due: Option<Option<DateTime<Utc>>>,
    pub earliest_start: Option<Option<DateTime<Utc>>>,
    pub priority: Option<i64>,
    pub tags: Option<Vec<String>>,
    pub min_chunk_minutes: Option<Option<i64>>,
    pub max_chunk_minutes: Option<Option<i64>>,
    pub client_id: Option<Option<Uuid>>,
    pub reminder_minutes: Option<Option<i64>>,
    pub rrule: Option<Option<String>>,
    /// `open` reopens a done task; `done` completes it (as `complete` does).
    pub status: Option<String>,
}

/// Every field of a task after the input is applied, checked together.
#[derive(Clone, Debug)]
struct Draft {
    title: String,
    notes: Option<String>,
    duration: i64,
    due: Option<DateTime<Utc>>,
    earliest_start: Option<DateTime<Utc>>,
    priority: i64,
    tags: Vec<String>,
    min_chunk: Option<i64>,
    max_chunk: Option<i64>,
    client_id: Option<Uuid>,
    reminder: Option<i64>,
    rrule: Option<String>,
}

impl Draft {
    fn of(m: &tasks::Model) -> Self {
        let d = i64::from(m.duration_minutes);
        Self {
            title: m.title.clone(),
            notes: m.notes.clone(),
            duration: d,
            due: m.due,
            earliest_start: m.earliest_start,
            priority: i64::from(m.priority),
            tags: tags_of(m),
            // Chunks equal to the duration are what "not given" means; kept as given.
            min_chunk: Some(i64::from(m.min_chunk_minutes)),
            max_chunk: Some(i64::from(m.max_chunk_minutes)),
            client_id: m.client_id,
            reminder: m.reminder_minutes.map(i64::from),
            rrule: m.rrule.clone(),
        }
    }

    fn apply(mut self, input: &TaskInput) -> Self {
        if let Some(t) = &input.title {
            self.title = t.clone();
        }
        if let Some(n) = &input.notes {
            self.notes = n.clone();
        }
        if let Some(d) = input.duration_minutes {
            // A new duration with chunks that were the old duration: they follow it.
            let old = self.duration;
            if self.min_chunk == Some(old) && input.min_chunk_minutes.is_none() {
                self.min_chunk = None;
            }
            if self.max_chunk == Some(old) && input.max_chunk_minutes.is_none() {
                self.max_chunk = None;
            }
            self.duration = d;
        }
        if let Some(d) = input.due {
            self.due = d;
        }
        if let Some(e) = input.earliest_start {
            self.earliest_start = e;
        }
        if let Some(p) = input.priority {
            self.priority = p;
        }
        if let Some(t) = &input.tags {
            self.tags = t.clone();
        }
        if let Some(c) = input.min_chunk_minutes {
            self.min_chunk = c;
        }
        if let Some(c) = input.max_chunk_minutes {
            self.max_chunk = c;
        }
        if let Some(c) = input.client_id {
            self.client_id = c;
        }
        if let Some(r) = input.reminder_minutes {
            self.reminder = r;
        }
        if let Some(r) = &input.rrule {
            self.rrule = r.clone();
        }
        self
    }
}

/// A draft that passed every check.
struct Valid {
    title: String,
    notes: Option<String>,
    duration: i32,
    due: Option<DateTime<Utc>>,
    earliest_start: Option<DateTime<Utc>>,
    priority: i32,
    tags: Vec<String>,
    min_chunk: i32,
    max_chunk: i32,
    client_id: Option<Uuid>,
    reminder: Option<i32>,
    rrule: Option<String>,
}

fn check(d: Draft, zone: chrono_tz::Tz) -> Result<Valid, Invalid> {
    let title = d.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(Invalid::new(
            "title",
            "invalid_title",
            format!("A task needs a title of 1 to {MAX_TITLE} characters."),
        ));
    }
    let notes = d
        .notes
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NOTES)
    {
        return Err(Invalid::new(
            "notes",
            "invalid_notes",
            format!("Notes may be at most {MAX_NOTES} characters."),
        ));
    }
    if !(MIN_DURATION..=MAX_DURATION).contains(&d.duration) {
        return Err(Invalid::new(
            "duration_minutes",
            "invalid_duration",
            format!("duration_minutes must be between {MIN_DURATION} and {MAX_DURATION} (a week)."),
        ));
    }
    if !(1..=4).contains(&d.priority) {
        return Err(Invalid::new(
            "priority",
            "invalid_priority",
            "priority must be 1 (most urgent) to 4.",
        ));
    }
    let min_chunk = d.min_chunk.unwrap_or(d.duration);
    let max_chunk = d.max_chunk.unwrap_or(d.duration);
    if min_chunk < MIN_DURATION || min_chunk > max_chunk || max_chunk > d.duration {
        let field = if min_chunk < MIN_DURATION || min_chunk > max_chunk {
            "min_chunk_minutes"
        } else {
            "max_chunk_minutes"
        };
        return Err(Invalid::new(
            field,
            "invalid_chunks",
            format!(
                "Pieces must be at least {MIN_DURATION} minutes, with min_chunk_minutes ≤ max_chunk_minutes ≤ duration_minutes."
            ),
        ));
    }
    let mut tags: Vec<String> = Vec::new();
    for tag in d.tags {
        let tag = tag.trim().to_owned();
        if tag.is_empty() || tag.chars().count() > MAX_TAG {
            return Err(Invalid::new(
                "tags",
                "invalid_tags",
                format!("Each tag must be 1 to {MAX_TAG} characters."),
            ));
        }
        if !tags.iter().any(|t| t.eq_ignore_ascii_case(&tag)) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(Invalid::new(
            "tags",
            "invalid_tags",
            format!("A task may have at most {MAX_TAGS} tags."),
        ));
    }
    if let (Some(e), Some(due)) = (d.earliest_start, d.due)
        && e >= due
    {
        return Err(Invalid::new(
            "earliest_start",
            "invalid_earliest_start",
            "earliest_start must be before due.",
        ));
    }
    if let Some(r) = d.reminder {
        if d.due.is_none() {
            return Err(Invalid::new(
                "reminder_minutes",
                "invalid_reminder",
                "A reminder is counted back from the due: give the task a due.",
            ));
        }
        if !(0..=MAX_REMINDER).contains(&r) {
            return Err(Invalid::new(
                "reminder_minutes",
                "invalid_reminder",
                format!("reminder_minutes must be between 0 and {MAX_REMINDER} (30 days)."),
            ));
        }
    }
    let rrule = d
        .rrule
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if let Some(rule) = &rrule {
        let Some(due) = d.due else {
            return Err(Invalid::new(
                "rrule",
                "invalid_rrule",
                "A repeating task needs a due: the rule repeats it.",
            ));
        };
        let parsed = Recurrence::parse(rule, zone, Vec::new(), Vec::new())
            .map_err(|e| Invalid::new("rrule", "invalid_rrule", e.to_string()))?;
        parsed
            .validate(zone, due.with_timezone(&zone).naive_local())
            .map_err(|e| Invalid::new("rrule", "invalid_rrule", e.to_string()))?;
    }
    let minutes = |v: i64| i32::try_from(v).unwrap_or(i32::MAX);
    Ok(Valid {
        title,
        notes,
        duration: minutes(d.duration),
        due: d.due,
        earliest_start: d.earliest_start,
        priority: minutes(d.priority),
        tags,
        min_chunk: minutes(min_chunk),
        max_chunk: minutes(max_chunk),
        client_id: d.client_id,
        reminder: d.reminder.map(minutes),
        rrule,
    })
}

async fn user_zone(db: &impl ConnectionTrait, user_id: Uuid) -> Result<chrono_tz::Tz, DbErr> {
    let zone: Option<String> = users::Entity::find_by_id(user_id)
        .select_only()
        .column(users::Column::Timezone)
        .into_tuple()
        .one(db)
        .await?;
    Ok(zone_named(zone.as_deref()).tz())
}

async fn check_client(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    client: Option<Uuid>,
) -> Result<(), TaskError> {
    let Some(id) = client else { return Ok(()) };
    let found = clients::Entity::find_by_id(id)
        .filter(clients::Column::UserId.eq(user_id))
        .one(db)
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Invalid::new("client_id", "unknown_client", "No such client.").into()),
    }
}

fn set_fields(row: &mut tasks::ActiveModel, v: Valid) {
    row.title = Set(v.title);
    row.notes = Set(v.notes);
    row.duration_minutes = Set(v.duration);
    row.due = Set(v.due);
    row.earliest_start = Set(v.earliest_start);
    row.priority = Set(v.priority);
    row.tags = Set(json!(v.tags));
    row.min_chunk_minutes = Set(v.min_chunk);
    row.max_chunk_minutes = Set(v.max_chunk);
    row.client_id = Set(v.client_id);
    row.remind_at = Set(v
        .due
        .zip(v.reminder)
        .map(|(due, r)| due - Duration::minutes(i64::from(r))));
    row.reminder_minutes = Set(v.reminder);
    row.rrule = Set(v.rrule);
}

pub async fn create(
    ctx: &AppContext,
    user_id: Uuid,
    input: TaskInput,
) -> Result<TaskView, TaskError> {
    let now = ctx.clock.now();
    let Some(title) = input.title.clone() else {
        return Err(Invalid::new("title", "invalid_title", "`title` is required.").into());
    };
    let Some(duration) = input.duration_minutes else {
        return Err(Invalid::new(
            "duration_minutes",
            "invalid_duration",
            "`duration_minutes` is required.",
        )
        .into());
    };
    let draft = Draft {
        title,
        notes: None,
        duration,
        due: None,
        earliest_start: None,
        priority: 3,
        tags: Vec::new(),
        min_chunk: None,
        max_chunk: None,
        client_id: None,
        reminder: None,
        rrule: None,
    }
    .apply(&input);
    let zone = user_zone(&ctx.db, user_id).await?;
    let valid = check(draft, zone)?;
    check_client(&ctx.db, user_id, valid.client_id).await?;
    let id = Uuid::now_v7();
    let repeating = valid.rrule.is_some();
    let due = valid.due;
    let mut row = tasks::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        series_id: Set(repeating.then_some(id)),
        series_start: Set(if repeating { due } else { None }),
        status: Set(OPEN.to_owned()),
        completed_at: Set(None),
        at_risk: Set(false),
        unscheduled_minutes: Set(0),
        reminded_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    };
    set_fields(&mut row, valid);
    let txn = crate::db::begin_write(&ctx.db).await?;
    let row = row.insert(&txn).await?;
    audit::record(
        &txn,
        Entry::new(Actor::User, user_id, "task.created", "task", id, now),
    )
    .await?;
    txn.commit().await?;
    plan::requested(ctx, user_id).await;
    view(&ctx.db, row).await.map_err(Into::into)
}

async fn owned(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<tasks::Model, TaskError> {
    tasks::Entity::find_by_id(id)
        .filter(tasks::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(TaskError::NotFound)
}

/// The task with its blocks.
pub async fn view(db: &impl ConnectionTrait, task: tasks::Model) -> Result<TaskView, DbErr> {
    let blocks = task_blocks::Entity::find()
        .filter(task_blocks::Column::TaskId.eq(task.id))
        .order_by_asc(task_blocks::Column::StartAt)
        .all(db)
        .await?
        .into_iter()
        .map(|b| (b.start_at, b.end_at))
        .collect();
    Ok(TaskView {
        tags: tags_of(&task),
        task,
        blocks,
    })
}

pub async fn get(ctx: &AppContext, user_id: Uuid, id: Uuid) -> Result<TaskView, TaskError> {
    let task = owned(&ctx.db, user_id, id).await?;
    Ok(view(&ctx.db, task).await?)
}

pub async fn update(
    ctx: &AppContext,
    user_id: Uuid,
    id: Uuid,
    input: TaskInput,
) -> Result<TaskView, TaskError> {
    let now = ctx.clock.now();
    let current = owned(&ctx.db, user_id, id).await?;
    if let Some(status) = input.status.as_deref()
        && status != OPEN
        && status != DONE
    {
        return Err(Invalid::new("status", "invalid_status", "status is `open` or `done`.").into());
    }
    let zone = user_zone(&ctx.db, user_id).await?;
    let valid = check(Draft::of(&current).apply(&input), zone)?;
    check_client(&ctx.db, user_id, valid.client_id).await?;
    if input.status.as_deref() == Some(DONE) && current.status == OPEN {
        // Completing through PATCH is completing: a repeating task opens its next occurrence.
        let mut row: tasks::ActiveModel = current.clone().into();
        set_fields(&mut row, valid);
        row.updated_at = Set(now);
        row.update(&ctx.db).await?;
        return complete(ctx, user_id, id).await;
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut row: tasks::ActiveModel = current.clone().into();
    let due_moved = valid.due != current.due || valid.reminder != current.reminder_minutes;
    let repeating_now = valid.rrule.is_some();
    set_fields(&mut row, valid);
    if repeating_now && current.series_id.is_none() {
        row.series_id = Set(Some(id));
    }
    if repeating_now && (current.series_start.is_none() || due_moved) {
        // A rule given now, or a due moved by hand, anchors the series there.
        row.series_start = row.due.clone();
    }
    if due_moved {
        row.reminded_at = Set(None);
    }
    if input.status.as_deref() == Some(OPEN) {
        row.status = Set(OPEN.to_owned());
        row.completed_at = Set(None);
    }
    row.updated_at = Set(now);
    let row = row.update(&txn).await?;
    audit::record(
        &txn,
        Entry::new(Actor::User, user_id, "task.updated", "task", id, now),
    )
    .await?;
    txn.commit().await?;
    plan::requested(ctx, user_id).await;
    Ok(view(&ctx.db, row).await?)
}

pub async fn delete(ctx: &AppContext, user_id: Uuid, id: Uuid) -> Result<(), TaskError> {
    let now = ctx.clock.now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    owned(&txn, user_id, id).await?;
    task_blocks::Entity::delete_many()
        .filter(task_blocks::Column::TaskId.eq(id))
        .exec(&txn)
        .await?;
    tasks::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        Entry::new(Actor::User, user_id, "task.deleted", "task", id, now),
    )
    .await?;
    txn.commit().await?;
    plan::requested(ctx, user_id).await;
    Ok(())
}

/// The occurrence after `task`'s due, for a repeating task: by its rule, anchored at the series'
/// first due, in the user's zone.
fn next_due(task: &tasks::Model, zone: chrono_tz::Tz) -> Option<DateTime<Utc>> {
    let (rule, due) = (task.rrule.as_deref()?, task.due?);
    let start = task.series_start.unwrap_or(due);
    let recurrence = Recurrence::parse(rule, zone, Vec::new(), Vec::new()).ok()?;
    let first_local = start.with_timezone(&zone).naive_local();
    let after = due + Duration::seconds(1);
    recurrence
        .starts_overlapping(
            zone,
            first_local,
            Duration::seconds(1),
            after,
            after + Duration::days(800),
        )
        .into_iter()
        .find(|s| *s > due)
}

/// Marks the task done; a repeating one opens its next occurrence (returned instead, then).
pub async fn complete(ctx: &AppContext, user_id: Uuid, id: Uuid) -> Result<TaskView, TaskError> {
    let now = ctx.clock.now();
    let zone = user_zone(&ctx.db, user_id).await?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let task = owned(&txn, user_id, id).await?;
    if task.status == DONE {
        txn.rollback().await?;
        return Ok(view(&ctx.db, task).await?);
    }
    let mut done: tasks::ActiveModel = task.clone().into();
    done.status = Set(DONE.to_owned());
    done.completed_at = Set(Some(now));
    done.at_risk = Set(false);
    done.unscheduled_minutes = Set(0);
    done.updated_at = Set(now);
    let done = done.update(&txn).await?;
    // Its future blocks are free time again; those that have begun are what was done.
    task_blocks::Entity::delete_many()
        .filter(task_blocks::Column::TaskId.eq(id))
        .filter(task_blocks::Column::StartAt.gt(now))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Entry::new(Actor::User, user_id, "task.completed", "task", id, now),
    )
    .await?;
    let next = match next_due(&task, zone) {
        Some(due) => {
            let next_id = Uuid::now_v7();
            let shift = due - task.due.unwrap_or(due);
            let row = tasks::ActiveModel {
                id: Set(next_id),
                user_id: Set(user_id),
                title: Set(task.title.clone()),
                notes: Set(task.notes.clone()),
                duration_minutes: Set(task.duration_minutes),
                due: Set(Some(due)),
                earliest_start: Set(task.earliest_start.map(|e| e + shift)),
                priority: Set(task.priority),
                tags: Set(task.tags.clone()),
                min_chunk_minutes: Set(task.min_chunk_minutes),
                max_chunk_minutes: Set(task.max_chunk_minutes),
                client_id: Set(task.client_id),
                reminder_minutes: Set(task.reminder_minutes),
                remind_at: Set(task
                    .reminder_minutes
                    .map(|r| due - Duration::minutes(i64::from(r)))),
                rrule: Set(task.rrule.clone()),
                series_id: Set(task.series_id.or(Some(task.id))),
                series_start: Set(task.series_start.or(task.due)),
                status: Set(OPEN.to_owned()),
                completed_at: Set(None),
                at_risk: Set(false),
                unscheduled_minutes: Set(0),
                reminded_at: Set(None),
                created_at: Set(now),
                updated_at: Set(now),
            }
            .insert(&txn)
            .await?;
            Some(row)
        }
        None => None,
    };
    txn.commit().await?;
    plan::requested(ctx, user_id).await;
    Ok(view(&ctx.db, next.unwrap_or(done)).await?)
}

/// How a list is sorted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Due,
    Priority,
    Created,
}

#[derive(Debug, Default)]
pub struct TaskQuery {
    pub status: Option<String>,
    pub tag: Option<String>,
    pub priority: Option<i64>,
    pub q: Option<String>,
    pub due_before: Option<DateTime<Utc>>,
    pub due_after: Option<DateTime<Utc>>,
    pub sort: Sort,
    pub limit: u64,
    /// Tasks to skip (the page token).
    pub offset: u64,
}

/// One page of the user's tasks and the offset of the next, if there may be one.
pub async fn list(
    ctx: &AppContext,
    user_id: Uuid,
    query: TaskQuery,
) -> Result<(Vec<TaskView>, Option<u64>), TaskError> {
    let mut find = tasks::Entity::find().filter(tasks::Column::UserId.eq(user_id));
    if let Some(status) = &query.status {
        if status != OPEN && status != DONE {
            return Err(
                Invalid::new("status", "invalid_status", "status is `open` or `done`.").into(),
            );
        }
        find = find.filter(tasks::Column::Status.eq(status.as_str()));
    }
    if let Some(p) = query.priority {
        if !(1..=4).contains(&p) {
            return Err(Invalid::new(
                "priority",
                "invalid_priority",
                "priority must be 1 (most urgent) to 4.",
            )
            .into());
        }
        find = find.filter(tasks::Column::Priority.eq(p));
    }
    if let Some(before) = query.due_before {
        find = find.filter(tasks::Column::Due.lt(before));
    }
    if let Some(after) = query.due_after {
        find = find.filter(tasks::Column::Due.gte(after));
    }
    if let Some(q) = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // Case-insensitive, the pattern's own wildcards taken literally.
        let pattern = format!(
            "%{}%",
            q.to_lowercase()
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_")
        );
        let like = |column: tasks::Column| {
            Expr::expr(Func::lower(Expr::col(column)))
                .like(sea_orm::sea_query::LikeExpr::new(pattern.clone()).escape('\\'))
        };
        find = find.filter(
            Condition::any()
                .add(like(tasks::Column::Title))
                .add(like(tasks::Column::Notes)),
        );
    }
    find = match query.sort {
        Sort::Due => find
            .order_by_asc(Expr::col(tasks::Column::Due).is_null())
            .order_by_asc(tasks::Column::Due)
            .order_by_asc(tasks::Column::Priority),
        Sort::Priority => find
            .order_by_asc(tasks::Column::Priority)
            .order_by_asc(Expr::col(tasks::Column::Due).is_null())
            .order_by_asc(tasks::Column::Due),
        Sort::Created => find.order_by_desc(tasks::Column::CreatedAt),
    }
    .order_by_asc(tasks::Column::CreatedAt)
    .order_by_asc(tasks::Column::Id);
    // Tags live in a JSON list: filtered here, where the case rule is ours.
    let rows = find.all(&ctx.db).await?;
    let wanted = query.tag.as_deref().map(str::trim);
    let matching: Vec<tasks::Model> = rows
        .into_iter()
        .filter(|t| wanted.is_none_or(|w| tags_of(t).iter().any(|x| x.eq_ignore_ascii_case(w))))
        .collect();
    let total = matching.len() as u64;
    let page: Vec<tasks::Model> = matching
        .into_iter()
        .skip(query.offset as usize)
        .take(query.limit as usize)
        .collect();
    let next = (query.offset + query.limit < total).then_some(query.offset + query.limit);
    let ids: BTreeSet<Uuid> = page.iter().map(|t| t.id).collect();
    let blocks = task_blocks::Entity::find()
        .filter(task_blocks::Column::TaskId.is_in(ids))
        .order_by_asc(task_blocks::Column::StartAt)
        .all(&ctx.db)
        .await?;
    let views = page
        .into_iter()
        .map(|task| TaskView {
            tags: tags_of(&task),
            blocks: blocks
                .iter()
                .filter(|b| b.task_id == task.id)
                .map(|b| (b.start_at, b.end_at))
                .collect(),
            task,
        })
        .collect();
    Ok((views, next))
}

/// The worker's tick: queues `task.reminder` for every open task whose reminder time
/// (`due − reminder_minutes`) has come and that has not been reminded for this due.
pub async fn enqueue_due_reminders(ctx: &AppContext, now: DateTime<Utc>) {
    let due = tasks::Entity::find()
        .filter(tasks::Column::RemindAt.lte(now))
        .filter(tasks::Column::RemindedAt.is_null())
        .filter(tasks::Column::Status.eq(OPEN))
        .limit(500)
        .all(&ctx.db)
        .await;
    let due = match due {
        Ok(rows) => rows,
        Err(e) => {
            tracing::warn!(error = %e, "could not look for task reminders");
            return;
        }
    };
    for task in due {
        if let Err(e) = ctx
            .queue
            .push(crate::Job::RemindTask { task_id: task.id })
            .await
        {
            tracing::warn!(error = %e, "task reminders not queued; the next look retries");
            return;
        }
    }
}

/// Tells `task.reminder` for the task, once per due: the conditional update that stamps
/// `reminded_at` is what makes it once, also when two jobs race.
pub async fn remind(ctx: &AppContext, task_id: Uuid) -> Result<bool, DbErr> {
    let now = ctx.clock.now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let Some(task) = tasks::Entity::find_by_id(task_id).one(&txn).await? else {
        txn.rollback().await?;
        return Ok(false);
    };
    if task.status != OPEN || task.remind_at.is_none_or(|at| at > now) {
        txn.rollback().await?;
        return Ok(false);
    }
    let stamped = tasks::Entity::update_many()
        .col_expr(tasks::Column::RemindedAt, Expr::value(now))
        .filter(tasks::Column::Id.eq(task_id))
        .filter(tasks::Column::RemindedAt.is_null())
        .exec(&txn)
        .await?;
    if stamped.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    let user_id = task.user_id;
    let view = view(&txn, task).await?;
    crate::notifications::record(
        &txn,
        user_id,
        crate::notifications::Kind::TaskReminder,
        json!({ "task": view.to_json() }),
        now,
    )
    .await?;
    txn.commit().await?;
    crate::notifications::published(ctx, user_id).await;
    Ok(true)
}
