//! Calendars as the rest of the service needs them (connections arrive with the providers).

use chrono::Utc;
use entity::calendars;
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, Set};
use uuid::Uuid;

/// The user's own calendar of manual events. Its id is the user's id, so creating it twice at
/// once cannot make two.
pub async fn local_calendar(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    timezone: &str,
) -> Result<calendars::Model, DbErr> {
    if let Some(existing) = calendars::Entity::find_by_id(user_id).one(db).await? {
        return Ok(existing);
    }
    let now = Utc::now();
    let row = calendars::ActiveModel {
        id: Set(user_id),
        user_id: Set(user_id),
        connection_id: Set(None),
        provider: Set("local".into()),
        provider_calendar_id: Set("local".into()),
        name: Set("My events".into()),
        color: Set(None),
        timezone: Set(Some(timezone.to_owned())),
        is_primary: Set(false),
        include_in_availability: Set(true),
        sync_cursor: Set(None),
        sync_status: Set("idle".into()),
        last_synced_at: Set(None),
        last_error: Set(None),
        last_error_at: Set(None),
        consecutive_failures: Set(0),
        paused_until: Set(None),
        channel_id: Set(None),
        channel_resource_id: Set(None),
        channel_secret_enc: Set(None),
        channel_expires_at: Set(None),
        last_push_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    };
    calendars::Entity::insert(row)
        .on_conflict(
            OnConflict::column(calendars::Column::Id)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    calendars::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("local calendar".into()))
}

/// Ids of the user's calendars that count for availability and conflicts, optionally narrowed
/// to `only` (ids the user does not own are ignored by the caller's ownership check).
pub async fn included_ids(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<Uuid>, DbErr> {
    calendars::Entity::find()
        .select_only()
        .column(calendars::Column::Id)
        .filter(calendars::Column::UserId.eq(user_id))
        .filter(calendars::Column::IncludeInAvailability.eq(true))
        .into_tuple()
        .all(db)
        .await
}

/// The subset of `ids` that belong to the user.
pub async fn owned_ids(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, DbErr> {
    calendars::Entity::find()
        .select_only()
        .column(calendars::Column::Id)
        .filter(calendars::Column::UserId.eq(user_id))
        .filter(calendars::Column::Id.is_in(ids.iter().copied()))
        .into_tuple()
        .all(db)
        .await
}
