//! Conflicts between a user's events (and the task blocks that count as busy): detected by the
//! engine, stored once per pair and kind.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::Duration;
use domain::Instant;
use domain::conflicts::TaskBlock;
use entity::conflicts;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ActiveModelTrait, ColumnTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use crate::coalesce::Coalesced;
use crate::events::{self, EventView};
use crate::tasks::plan::PlanBlock;
use crate::{AppContext, availability, calendars, tasks};

/// Conflicts are looked for from this long ago …
pub const LOOK_BACK_DAYS: i64 = 30;
/// … to this far ahead.
pub const LOOK_AHEAD_DAYS: i64 = 365;

/// Rows per statement: 14 columns each stays below SQLite's 32,766 parameters.
const BATCH: usize = 1000;

#[derive(Debug, thiserror::Error)]
pub enum ConflictError {
    #[error("no such conflict")]
    NotFound,
    #[error("status must be `open` or `resolved`")]
    BadStatus,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for ConflictError {
    fn from(e: DbErr) -> Self {
        ConflictError::Internal(e.into())
    }
}

impl From<availability::AvailabilityError> for ConflictError {
    fn from(e: availability::AvailabilityError) -> Self {
        ConflictError::Internal(anyhow::anyhow!(e))
    }
}

pub struct ConflictView {
    pub row: conflicts::Model,
    /// The conflict's events that still exist.
    pub events: Vec<EventView>,
    /// The conflict's task blocks still in the plan (a block counts as busy by the rules'
    /// `task_blocks`; its key in `event_ids` is `task:<task id>/<start>`).
    pub task_blocks: Vec<PlanBlock>,
}

impl ConflictView {
    /// The conflict as `GET /api/conflicts` writes it, for `conflict.opened` (a test compares
    /// the two).
    pub fn to_json(&self) -> serde_json::Value {
        let r = &self.row;
        serde_json::json!({
            "id": r.id, "kind": r.kind, "severity": r.severity, "status": r.status,
            "resolution": r.resolution, "event_ids": [r.event_a_key, r.event_b_key],
            "events": self.events,
            "task_blocks": self.task_blocks.iter().map(|b| serde_json::json!({
                "id": b.key(), "task_id": b.task_id, "title": b.title, "start": b.start,
                "end": b.end, "at_risk": b.at_risk,
            })).collect::<Vec<_>>(),
            "start": r.start_at, "end": r.end_at,
            "detected_at": r.detected_at, "resolved_at": r.resolved_at,
        })
    }
}

/// At most this many `conflict.opened` (and as many `conflict.resolved`) per detection run: a
/// calendar full of collisions must not flood the user's webhooks. `GET /api/conflicts` has them
/// all.
pub const NOTIFY_AT_MOST: usize = 100;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RefreshStats {
    pub opened: usize,
    pub resolved: usize,
}

/// Per user, the refreshes of this process (`coalesce`): a burst of changes (every page of a
/// sync, every read of `GET /api/conflicts`) costs two runs, not one per change.
static RUNS: LazyLock<Coalesced> = LazyLock::new(Coalesced::default);

/// Detects the user's conflicts in the look-around window and brings the stored ones in line:
/// new pairs are opened, vanished ones resolved as `auto`, auto-resolved ones that collide again
/// reopened. A conflict the user resolved stays resolved. Returns what this call changed
/// (nothing, when a run that began after the call already did the work).
pub async fn refresh(
    ctx: &AppContext,
    user_id: Uuid,
    now: Instant,
) -> Result<RefreshStats, ConflictError> {
    Ok(RUNS
        .run(user_id, || detect_and_store(ctx, user_id, now))
        .await?
        .unwrap_or_default())
}

async fn detect_and_store(
    ctx: &AppContext,
    user_id: Uuid,
    now: Instant,
) -> Result<RefreshStats, ConflictError> {
    let db = &ctx.db;
    let from = now - Duration::days(LOOK_BACK_DAYS);
    let to = now + Duration::days(LOOK_AHEAD_DAYS);
    let rules = availability::rules_for(db, user_id).await?;
    let included = calendars::included_ids(db, user_id).await?;
    let rows = events::timings_in_window(db, user_id, from, to, Some(&included)).await?;
    let sources = calendars::sources(db, user_id).await?;
    let domain_events = events::domain_events(&rows, &sources, from, to);
    // The plan's blocks meet events too, where the rules' `task_blocks` count them as busy —
    // the blocks that have begun, which stay where they are. A later block a meeting lands on
    // is moved by the re-plan that meeting's sync queues; reporting it meanwhile would only open
    // and auto-resolve a conflict (two notifications) within seconds.
    let blocks: Vec<TaskBlock> = tasks::plan::blocks_between(db, user_id, from, to)
        .await?
        .into_iter()
        .filter(|b| b.start <= now)
        .filter_map(|b| {
            Some(TaskBlock {
                key: b.key(),
                interval: domain::Interval::new(b.start, b.end)?,
                at_risk: b.at_risk,
            })
        })
        .collect();
    let found = domain::conflicts::detect_with_blocks(&rules, &domain_events, &blocks);

    let txn = crate::db::begin_write(db).await?;
    let existing = conflicts::Entity::find()
        .filter(conflicts::Column::UserId.eq(user_id))
        .all(&txn)
        .await?;
    let mut by_pair: HashMap<(String, String, String), conflicts::Model> = existing
        .into_iter()
        .map(|c| {
            (
                (c.kind.clone(), c.event_a_key.clone(), c.event_b_key.clone()),
                c,
            )
        })
        .collect();
    let mut stats = RefreshStats::default();
    let stamp = now;
    let mut new_rows = Vec::new();
    let mut changed_rows = Vec::new();
    for c in found {
        let key = (c.kind.as_str().to_owned(), c.a.to_owned(), c.b.to_owned());
        match by_pair.remove(&key) {
            Some(old) => {
                let reopen = old.status == "resolved" && old.resolution.as_deref() == Some("auto");
                let changed = old.severity != c.severity.as_str()
                    || old.start_at != c.start
                    || old.end_at != c.end;
                if reopen || (old.status == "open" && changed) {
                    let mut m: conflicts::ActiveModel = old.into();
                    m.severity = Set(c.severity.as_str().to_owned());
                    m.start_at = Set(c.start);
                    m.end_at = Set(c.end);
                    if reopen {
                        m.status = Set("open".into());
                        m.resolution = Set(None);
                        m.resolved_at = Set(None);
                        m.detected_at = Set(stamp);
                        stats.opened += 1;
                    }
                    m.updated_at = Set(stamp);
                    changed_rows.push((m, reopen));
                }
            }
            None => {
                new_rows.push(conflicts::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    user_id: Set(user_id),
                    kind: Set(c.kind.as_str().to_owned()),
                    severity: Set(c.severity.as_str().to_owned()),
                    status: Set("open".into()),
                    resolution: Set(None),
                    event_a_key: Set(c.a.to_owned()),
                    event_b_key: Set(c.b.to_owned()),
                    start_at: Set(c.start),
                    end_at: Set(c.end),
                    detected_at: Set(stamp),
                    resolved_at: Set(None),
                    created_at: Set(stamp),
                    updated_at: Set(stamp),
                });
                stats.opened += 1;
            }
        }
    }
    // Open conflicts in the window that were not found again have gone away.
    let gone: Vec<Uuid> = by_pair
        .into_values()
        .filter(|old| old.status == "open" && old.end_at >= from)
        .map(|old| old.id)
        .collect();
    stats.resolved = gone.len();

    // Written in batches: a calendar full of collisions has hundreds of thousands of pairs, and
    // one statement per pair kept this transaction (and the pool connection, and the locks other
    // refreshes wait on) open for many seconds.
    for chunk in new_rows.chunks(BATCH) {
        // A concurrent refresh may have stored the same pair a moment ago.
        conflicts::Entity::insert_many(chunk.to_vec())
            .on_conflict(
                OnConflict::columns([
                    conflicts::Column::UserId,
                    conflicts::Column::Kind,
                    conflicts::Column::EventAKey,
                    conflicts::Column::EventBKey,
                ])
                .do_nothing()
                .to_owned(),
            )
            .exec_without_returning(&txn)
            .await?;
    }
    // Which of the new pairs this run stored (a concurrent refresh may have stored some first):
    // those, and the reopened ones, are what the user is told of.
    let new_ids: Vec<Uuid> = new_rows
        .iter()
        .filter_map(|m| m.id.try_as_ref().copied())
        .collect();
    let mut opened: Vec<conflicts::Model> = Vec::new();
    for chunk in new_ids.chunks(BATCH) {
        if opened.len() >= NOTIFY_AT_MOST {
            break;
        }
        opened.extend(
            conflicts::Entity::find()
                .filter(conflicts::Column::Id.is_in(chunk.iter().copied()))
                .all(&txn)
                .await?,
        );
    }
    for (m, reopened) in changed_rows {
        let row = m.update(&txn).await?;
        if reopened {
            opened.push(row);
        }
    }
    for chunk in gone.chunks(BATCH) {
        conflicts::Entity::update_many()
            .col_expr(conflicts::Column::Status, Expr::value("resolved"))
            .col_expr(conflicts::Column::Resolution, Expr::value("auto"))
            .col_expr(conflicts::Column::ResolvedAt, Expr::value(stamp))
            .col_expr(conflicts::Column::UpdatedAt, Expr::value(stamp))
            .filter(conflicts::Column::Id.is_in(chunk.iter().copied()))
            .exec(&txn)
            .await?;
    }
    let told = notify(&txn, user_id, opened, &gone, now).await?;
    txn.commit().await?;
    if told {
        crate::notifications::published(ctx, user_id).await;
    }
    if stats != RefreshStats::default() {
        tracing::info!(%user_id, opened = stats.opened, resolved = stats.resolved, "conflicts refreshed");
    }
    Ok(stats)
}

/// `conflict.opened` for each opened conflict, `conflict.resolved` (`auto`) for each gone, in the
/// detection's transaction, at most `NOTIFY_AT_MOST` of each, earliest first. True if any.
async fn notify(
    txn: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    mut opened: Vec<conflicts::Model>,
    gone: &[Uuid],
    now: Instant,
) -> Result<bool, ConflictError> {
    use crate::notifications::{self, Kind};
    opened.sort_by_key(|c| (c.start_at, c.id));
    opened.truncate(NOTIFY_AT_MOST);
    // Read in this transaction: on SQLite every other pooled connection may be waiting for the
    // write lock it holds, so asking the pool for one could wait for ever.
    let views = with_events(txn, user_id, opened).await?;
    for view in &views {
        notifications::record(
            txn,
            user_id,
            Kind::ConflictOpened,
            serde_json::json!({"conflict": view.to_json()}),
            now,
        )
        .await?;
    }
    for id in gone.iter().take(NOTIFY_AT_MOST) {
        notifications::record(
            txn,
            user_id,
            Kind::ConflictResolved,
            serde_json::json!({"conflict_id": id, "resolution": "auto"}),
            now,
        )
        .await?;
    }
    Ok(!views.is_empty() || !gone.is_empty())
}

/// The user's conflicts, fresh: detection runs first, so a read always reflects the last write.
pub async fn list(
    ctx: &AppContext,
    user_id: Uuid,
    status: Option<&str>,
    now: Instant,
) -> Result<Vec<ConflictView>, ConflictError> {
    let db = &ctx.db;
    if let Some(s) = status
        && s != "open"
        && s != "resolved"
    {
        return Err(ConflictError::BadStatus);
    }
    refresh(ctx, user_id, now).await?;
    let mut query = conflicts::Entity::find().filter(conflicts::Column::UserId.eq(user_id));
    if let Some(s) = status {
        query = query.filter(conflicts::Column::Status.eq(s));
    }
    let rows = query
        .order_by_asc(conflicts::Column::StartAt)
        .order_by_asc(conflicts::Column::Id)
        .all(db)
        .await?;
    with_events(db, user_id, rows).await
}

pub async fn resolve(
    ctx: &AppContext,
    user_id: Uuid,
    id: Uuid,
    now: Instant,
) -> Result<ConflictView, ConflictError> {
    let db = &ctx.db;
    let row = conflicts::Entity::find_by_id(id)
        .filter(conflicts::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(ConflictError::NotFound)?;
    let row = if row.status == "resolved" {
        row
    } else {
        let txn = crate::db::begin_write(db).await?;
        let mut m: conflicts::ActiveModel = row.into();
        m.status = Set("resolved".into());
        m.resolution = Set(Some("user".into()));
        m.resolved_at = Set(Some(now));
        m.updated_at = Set(now);
        let row = m.update(&txn).await?;
        crate::notifications::record(
            &txn,
            user_id,
            crate::notifications::Kind::ConflictResolved,
            serde_json::json!({"conflict_id": id, "resolution": "user"}),
            now,
        )
        .await?;
        txn.commit().await?;
        crate::notifications::published(ctx, user_id).await;
        row
    };
    Ok(with_events(db, user_id, vec![row]).await?.remove(0))
}

async fn with_events(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    rows: Vec<conflicts::Model>,
) -> Result<Vec<ConflictView>, ConflictError> {
    let keys: Vec<String> = rows
        .iter()
        .flat_map(|r| [r.event_a_key.clone(), r.event_b_key.clone()])
        .collect();
    let views = events::views_by_key(db, user_id, &keys).await?;
    let blocks = tasks::plan::blocks_by_key(db, user_id, &keys).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let keys = [&row.event_a_key, &row.event_b_key];
            let events = keys
                .into_iter()
                .filter_map(|k| views.get(k).cloned())
                .collect();
            let task_blocks = keys
                .into_iter()
                .filter_map(|k| blocks.get(k).cloned())
                .collect();
            ConflictView {
                row,
                events,
                task_blocks,
            }
        })
        .collect())
}
