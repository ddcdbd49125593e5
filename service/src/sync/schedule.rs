//! The periodic safety net: calendars not synced within `SYNC_INTERVAL_MINUTES` get a sync.

use chrono::{DateTime, Utc};
use entity::{calendar_connections as connections, calendars};
use sea_orm::sea_query::Condition;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use super::{SyncError, Trigger};
use crate::AppContext;

/// Enqueues a sync for every connected calendar of an active connection that is due (or was
/// asked for while a run that has since died held it), not paused by the circuit breaker, and
/// not being synced right now. Returns how many.
pub async fn enqueue_due(ctx: &AppContext, now: DateTime<Utc>) -> Result<usize, SyncError> {
    let interval = ctx.settings.sync_every();
    let due: Vec<Uuid> = calendars::Entity::find()
        .select_only()
        .column(calendars::Column::Id)
        .inner_join(connections::Entity)
        .filter(connections::Column::Status.eq(entity::ConnectionStatus::Active))
        .filter(
            Condition::any()
                .add(
                    Condition::all()
                        .add(
                            Condition::any()
                                .add(calendars::Column::LastSyncedAt.is_null())
                                .add(calendars::Column::LastSyncedAt.lt(now - interval)),
                        )
                        // A calendar whose provider pushed a change recently was synced by
                        // that push.
                        .add(
                            Condition::any()
                                .add(calendars::Column::LastPushAt.is_null())
                                .add(calendars::Column::LastPushAt.lt(now - interval)),
                        ),
                )
                // A request left with a run that never finished (its worker stopped): the
                // lease has lapsed (below), so no one else will take it up.
                .add(calendars::Column::SyncPending.eq(true)),
        )
        .filter(
            Condition::any()
                .add(calendars::Column::PausedUntil.is_null())
                .add(calendars::Column::PausedUntil.lt(now)),
        )
        .filter(
            Condition::any()
                .add(calendars::Column::SyncLeaseUntil.is_null())
                .add(calendars::Column::SyncLeaseUntil.lt(now)),
        )
        .into_tuple()
        .all(&ctx.db)
        .await?;
    for id in &due {
        super::request(ctx, *id, Trigger::Schedule).await?;
    }
    if !due.is_empty() {
        tracing::info!(calendars = due.len(), "scheduled syncs enqueued");
    }
    Ok(due.len())
}
