//! Housekeeping the worker does on a schedule.

use chrono::{DateTime, Utc};
use entity::oauth_states;
use sea_orm::{ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter};

/// Deletes OAuth states that expired before `now`; they can never complete a flow.
pub async fn purge_expired_oauth_states(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let deleted = oauth_states::Entity::delete_many()
        .filter(oauth_states::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    if deleted > 0 {
        tracing::info!(deleted, "purged expired OAuth states");
    }
    Ok(deleted)
}

/// Sync runs are kept this long (they explain recent trouble; older ones explain nothing).
pub const SYNC_RUN_RETENTION_DAYS: i64 = 30;
/// Resolved conflicts are kept this long, then forgotten.
pub const RESOLVED_CONFLICT_RETENTION_DAYS: i64 = 90;

/// Deletes sync runs, resolved conflicts and notifications past their retention (and lapsed
/// stream tickets). Returns (runs, conflicts).
pub async fn purge_history(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
) -> Result<(u64, u64), DbErr> {
    use entity::{conflicts, sync_runs};
    let runs = sync_runs::Entity::delete_many()
        .filter(
            sync_runs::Column::StartedAt.lt(now - chrono::Duration::days(SYNC_RUN_RETENTION_DAYS)),
        )
        .exec(db)
        .await?
        .rows_affected;
    let resolved = conflicts::Entity::delete_many()
        .filter(conflicts::Column::Status.eq("resolved"))
        .filter(
            conflicts::Column::ResolvedAt
                .lt(now - chrono::Duration::days(RESOLVED_CONFLICT_RETENTION_DAYS)),
        )
        .exec(db)
        .await?
        .rows_affected;
    let notifications = crate::notifications::purge(db, now).await?;
    if notifications > 0 {
        tracing::info!(notifications, "purged notifications past their retention");
    }
    if runs + resolved > 0 {
        tracing::info!(
            runs,
            resolved,
            "purged old sync runs and resolved conflicts"
        );
    }
    Ok((runs, resolved))
}

/// Forgets expired sessions and attempts that no longer count for any limit.
pub async fn purge_access(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<(), DbErr> {
    let sessions = crate::sessions::purge(db, now).await?;
    let attempts = crate::limits::purge(db, now).await?;
    if sessions + attempts > 0 {
        tracing::info!(sessions, attempts, "purged expired sessions and attempts");
    }
    Ok(())
}
