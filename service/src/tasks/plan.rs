//! The plan: every open task of a user placed into their free time by `domain::plan`, stored as
//! `task_blocks`, with each task's verdict (`at_risk`, `unscheduled_minutes`).
//!
//! Re-planned by the `PlanTasks` job after every change to events, rules or tasks (it only
//! enqueues there: `requested`). A run reads the free time (the engine's input, task blocks left
//! out), plans, and writes the result in one transaction that first locks the user's row, so two
//! runs one after the other leave the second's plan, never a mix. Blocks that have begun stay.
//! A task that becomes at risk is told (`task.at_risk`) in that transaction. A plan that moved
//! (blocks, or which tasks are at risk) moves the availability version with the span it changed
//! — task blocks count as busy by the rules' `task_blocks` — and what follows a change to free
//! time follows, except another re-plan.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use domain::Interval;
use domain::plan::{HORIZON, PlanTask, plan};
use entity::{task_blocks, tasks, users};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::{OPEN, TaskView};
use crate::AppContext;
use crate::coalesce::Coalesced;
use crate::jobs::Job;
use crate::notifications::availability::Span;
use crate::notifications::{self, Kind};

/// Queues a re-plan of the user's tasks (a lost one only delays: the next change queues another).
pub async fn requested(ctx: &AppContext, user_id: Uuid) {
    if let Err(e) = ctx.queue.push(Job::PlanTasks { user_id }).await {
        tracing::warn!(%user_id, error = %e, "could not enqueue a task re-plan");
    }
}

/// Queues a re-plan for every user with an open task the plan could not place in full: the plan
/// follows changes, but time alone moves its 28-day horizon, and with it room for those tasks
/// (the housekeeping calls this every 10 minutes). Returns how many users.
pub async fn enqueue_unscheduled(ctx: &AppContext) -> Result<usize, DbErr> {
    let users: BTreeSet<Uuid> = tasks::Entity::find()
        .select_only()
        .column(tasks::Column::UserId)
        .filter(tasks::Column::Status.eq(OPEN))
        .filter(tasks::Column::UnscheduledMinutes.gt(0))
        .into_tuple::<Uuid>()
        .all(&ctx.db)
        .await?
        .into_iter()
        .collect();
    for user_id in &users {
        requested(ctx, *user_id).await;
    }
    Ok(users.len())
}

/// What one re-plan changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Replanned {
    pub tasks: usize,
    pub newly_at_risk: usize,
}

/// Per user, the re-plans of this process (`coalesce`): the `PlanTasks` jobs of a burst of
/// changes (syncs of several calendars ending together, edits in quick succession) cost two
/// runs, not one each.
static RUNS: LazyLock<Coalesced> = LazyLock::new(Coalesced::default);

/// Plans the user's open tasks again and stores the plan (nothing, when a run that began after
/// this call already did).
pub async fn replan(ctx: &AppContext, user_id: Uuid) -> Result<Replanned, anyhow::Error> {
    Ok(RUNS
        .run(user_id, || plan_and_store(ctx, user_id))
        .await?
        .unwrap_or_default())
}

async fn plan_and_store(ctx: &AppContext, user_id: Uuid) -> Result<Replanned, anyhow::Error> {
    let now = ctx.clock.now();
    // Most changes are to users without tasks: nothing to plan, nothing to clear.
    let anything = tasks::Entity::find()
        .filter(tasks::Column::UserId.eq(user_id))
        .filter(tasks::Column::Status.eq(OPEN))
        .one(&ctx.db)
        .await?
        .is_some()
        || task_blocks::Entity::find()
            .filter(task_blocks::Column::UserId.eq(user_id))
            .filter(task_blocks::Column::StartAt.gt(now))
            .one(&ctx.db)
            .await?
            .is_some();
    if !anything {
        return Ok(Replanned::default());
    }
    let range = Interval::new(now, now + HORIZON).expect("a positive horizon");
    // Task blocks never count as busy for the plan itself.
    let input = crate::availability::planning_input(ctx, user_id, &range).await?;
    let rules = input.rules();
    let (_, free) =
        domain::availability::free_time(rules, input.blocked(), &range, now + rules.minimum_notice);

    let txn = crate::db::begin_write(&ctx.db).await?;
    lock_user(&txn, user_id).await?;
    let open = tasks::Entity::find()
        .filter(tasks::Column::UserId.eq(user_id))
        .filter(tasks::Column::Status.eq(OPEN))
        .all(&txn)
        .await?;
    let blocks = task_blocks::Entity::find()
        .filter(task_blocks::Column::UserId.eq(user_id))
        .order_by_asc(task_blocks::Column::StartAt)
        .all(&txn)
        .await?;
    let planned: Vec<PlanTask> = open
        .iter()
        .map(|t| PlanTask {
            id: t.id.as_u128(),
            due: t.due,
            priority: u8::try_from(t.priority).unwrap_or(4),
            created_at: t.created_at,
            duration: Duration::minutes(i64::from(t.duration_minutes)),
            min_chunk: Duration::minutes(i64::from(t.min_chunk_minutes)),
            max_chunk: Duration::minutes(i64::from(t.max_chunk_minutes)),
            earliest_start: t.earliest_start,
            begun: blocks
                .iter()
                .filter(|b| b.task_id == t.id && b.start_at <= now)
                .filter_map(|b| Interval::new(b.start_at, b.end_at))
                .collect(),
        })
        .collect();
    let placements = plan(&free, &planned);

    // Every block that has not begun is planned anew (and those of tasks no longer open go).
    task_blocks::Entity::delete_many()
        .filter(task_blocks::Column::UserId.eq(user_id))
        .filter(task_blocks::Column::StartAt.gt(now))
        .exec(&txn)
        .await?;
    let mut replanned = Replanned::default();
    let mut told = false;
    // What availability sees of the plan: the blocks that had not begun, and which tasks are at
    // risk. When either moves, cached engine input is stale and free time changed there.
    let mut before: Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)> = blocks
        .iter()
        .filter(|b| b.start_at > now)
        .map(|b| (b.task_id, b.start_at, b.end_at))
        .collect();
    let mut after: Vec<(Uuid, DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    let mut risk_moved: Vec<Uuid> = Vec::new();
    for placement in &placements {
        let Some(task) = open.iter().find(|t| t.id.as_u128() == placement.id) else {
            continue;
        };
        let begun = planned
            .iter()
            .find(|p| p.id == placement.id)
            .map_or(0, |p| p.begun.len());
        let fresh: Vec<&Interval> = placement.blocks.iter().skip(begun).collect();
        after.extend(fresh.iter().map(|b| (task.id, b.start(), b.end())));
        if !fresh.is_empty() {
            task_blocks::Entity::insert_many(fresh.iter().map(|b| task_blocks::ActiveModel {
                id: Set(Uuid::now_v7()),
                task_id: Set(task.id),
                user_id: Set(user_id),
                start_at: Set(b.start()),
                end_at: Set(b.end()),
            }))
            .exec_without_returning(&txn)
            .await?;
        }
        let unscheduled = i32::try_from(placement.unscheduled.num_minutes()).unwrap_or(i32::MAX);
        if task.at_risk != placement.at_risk {
            risk_moved.push(task.id);
        }
        if task.at_risk != placement.at_risk || task.unscheduled_minutes != unscheduled {
            let mut row: tasks::ActiveModel = task.clone().into();
            row.at_risk = Set(placement.at_risk);
            row.unscheduled_minutes = Set(unscheduled);
            let row = row.update(&txn).await?;
            if placement.at_risk && !task.at_risk {
                let view = super::view(&txn, row).await?;
                notifications::record(&txn, user_id, Kind::TaskAtRisk, json(&view), now).await?;
                replanned.newly_at_risk += 1;
                told = true;
            }
        }
        replanned.tasks += 1;
    }
    before.sort();
    after.sort();
    let moved = before != after || !risk_moved.is_empty();
    if moved {
        // The span: blocks that went or came, and every block of a task whose verdict moved.
        let changed = before
            .iter()
            .filter(|b| !after.contains(b) || risk_moved.contains(&b.0))
            .chain(
                after
                    .iter()
                    .filter(|b| !before.contains(b) || risk_moved.contains(&b.0)),
            );
        let span = Span::cover(changed.map(|(_, s, e)| Span::new(*s, *e)));
        crate::version::touch(&txn, user_id, span).await?;
    }
    txn.commit().await?;
    if told {
        notifications::published(ctx, user_id).await;
    }
    if moved {
        crate::follow_up::plan_changed(ctx, user_id).await;
    }
    Ok(replanned)
}

fn json(view: &TaskView) -> serde_json::Value {
    serde_json::json!({ "task": view.to_json() })
}

/// Serialises re-plans of one user: the row lock (a no-op update) holds until commit.
async fn lock_user(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    users::Entity::update_many()
        .col_expr(
            users::Column::UpdatedAt,
            Expr::col(users::Column::UpdatedAt),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await
        .map(drop)
}

/// One block of the plan, as `GET /api/plan` shows it.
#[derive(Clone, Debug)]
pub struct PlanBlock {
    pub task_id: Uuid,
    pub title: String,
    pub notes: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub at_risk: bool,
    /// When the task last changed (what a feed stamps the block with).
    pub task_updated_at: DateTime<Utc>,
}

/// A block's identity where it meets events (in conflicts): `task:<task id>/<start>`, stable
/// while the block stays where it is (a block the re-plan moves is another block).
pub fn block_key(task_id: Uuid, start: DateTime<Utc>) -> String {
    format!("task:{task_id}/{}", start.format("%Y-%m-%dT%H:%M:%SZ"))
}

/// The task and start a `block_key` names; None for an event's key.
pub fn parse_block_key(key: &str) -> Option<(Uuid, DateTime<Utc>)> {
    let (task, start) = key.strip_prefix("task:")?.split_once('/')?;
    let start = DateTime::parse_from_rfc3339(start)
        .ok()?
        .with_timezone(&Utc);
    Some((task.parse().ok()?, start))
}

impl PlanBlock {
    pub fn key(&self) -> String {
        block_key(self.task_id, self.start)
    }
}

/// The blocks overlapping `[start, end)`, in time order (`GET /api/plan`, the feeds, conflicts).
pub async fn blocks_between(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Vec<PlanBlock>, DbErr> {
    let blocks = task_blocks::Entity::find()
        .filter(task_blocks::Column::UserId.eq(user_id))
        .filter(task_blocks::Column::StartAt.lt(end))
        .filter(task_blocks::Column::EndAt.gt(start))
        .order_by_asc(task_blocks::Column::StartAt)
        .all(db)
        .await?;
    with_tasks(db, user_id, blocks).await
}

/// The blocks still in the plan among `keys` (others — events' keys, blocks moved since — are
/// left out), by key.
pub async fn blocks_by_key(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    keys: &[String],
) -> Result<HashMap<String, PlanBlock>, DbErr> {
    let wanted: HashSet<(Uuid, DateTime<Utc>)> =
        keys.iter().filter_map(|k| parse_block_key(k)).collect();
    if wanted.is_empty() {
        return Ok(HashMap::new());
    }
    let tasks: BTreeSet<Uuid> = wanted.iter().map(|(t, _)| *t).collect();
    let blocks = task_blocks::Entity::find()
        .filter(task_blocks::Column::UserId.eq(user_id))
        .filter(task_blocks::Column::TaskId.is_in(tasks))
        .all(db)
        .await?
        .into_iter()
        .filter(|b| wanted.contains(&(b.task_id, b.start_at)))
        .collect();
    Ok(with_tasks(db, user_id, blocks)
        .await?
        .into_iter()
        .map(|b| (b.key(), b))
        .collect())
}

/// `blocks` with their tasks' titles and risk.
async fn with_tasks(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    blocks: Vec<task_blocks::Model>,
) -> Result<Vec<PlanBlock>, DbErr> {
    if blocks.is_empty() {
        return Ok(Vec::new());
    }
    let ids: BTreeSet<Uuid> = blocks.iter().map(|b| b.task_id).collect();
    let owners: HashMap<Uuid, tasks::Model> = tasks::Entity::find()
        .filter(tasks::Column::UserId.eq(user_id))
        .filter(tasks::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    Ok(blocks
        .into_iter()
        .filter_map(|b| {
            let task = owners.get(&b.task_id)?;
            Some(PlanBlock {
                task_id: task.id,
                title: task.title.clone(),
                notes: task.notes.clone(),
                start: b.start_at,
                end: b.end_at,
                at_risk: task.at_risk,
                task_updated_at: task.updated_at,
            })
        })
        .collect())
}
