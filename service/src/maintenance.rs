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
