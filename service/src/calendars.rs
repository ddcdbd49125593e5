//! Calendars: the user's own calendar of manual events, and the connected ones (listed,
//! renamed, included in availability or not, removed).

use chrono::{DateTime, Utc};
use entity::{ConnectionStatus, Provider, SyncStatus, calendar_connections, calendars};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    Set,
};
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::fields::Invalid;
use crate::{AppContext, db, version};

/// The user's own calendar of manual events. Its id is the user's id, so creating it twice at
/// once cannot make two.
pub async fn local_calendar(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    timezone: &str,
    now: DateTime<Utc>,
) -> Result<calendars::Model, DbErr> {
    if let Some(existing) = calendars::Entity::find_by_id(user_id).one(db).await? {
        return Ok(existing);
    }
    let row = calendars::ActiveModel {
        id: Set(user_id),
        provider_calendar_id: Set("local".into()),
        ..new_row(
            user_id,
            None,
            Provider::Local,
            "My events",
            Some(timezone.to_owned()),
            now,
        )
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

/// A calendar that was never synced, with a fresh id (callers set `provider_calendar_id`, and
/// may override anything else).
pub fn new_row(
    user_id: Uuid,
    connection_id: Option<Uuid>,
    provider: Provider,
    name: &str,
    timezone: Option<String>,
    now: DateTime<Utc>,
) -> calendars::ActiveModel {
    calendars::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        connection_id: Set(connection_id),
        provider: Set(provider),
        provider_calendar_id: Set(String::new()),
        name: Set(name.to_owned()),
        color: Set(None),
        timezone: Set(timezone),
        is_primary: Set(false),
        include_in_availability: Set(true),
        sync_cursor: Set(None),
        sync_status: Set(SyncStatus::Idle),
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
        sync_lease_until: Set(None),
        sync_pending: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
    }
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

/// A connected calendar as `GET /api/calendars` shows it.
#[derive(Clone, Debug)]
pub struct CalendarView {
    pub id: Uuid,
    pub provider: Provider,
    pub account: Option<String>,
    pub name: String,
    pub color: Option<String>,
    pub timezone: Option<String>,
    pub include_in_availability: bool,
    pub connection_status: ConnectionStatus,
    pub sync_status: SyncStatus,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no such calendar")]
    NotFound,
    #[error("{0}")]
    QueueUnavailable(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for CalendarError {
    fn from(e: DbErr) -> Self {
        Self::Internal(e.into())
    }
}

/// The user's connected calendars (the local calendar of manual events is not a connection and
/// is not listed), ordered by provider, account and name.
pub async fn list(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<CalendarView>, DbErr> {
    let rows = calendars::Entity::find()
        .filter(calendars::Column::UserId.eq(user_id))
        .filter(calendars::Column::ConnectionId.is_not_null())
        .find_also_related(calendar_connections::Entity)
        .all(db)
        .await?;
    let mut views: Vec<CalendarView> = rows
        .into_iter()
        .map(|(calendar, connection)| view(calendar, connection.as_ref()))
        .collect();
    views.sort_by(|a, b| {
        (a.provider.as_str(), &a.account, &a.name, a.id).cmp(&(
            b.provider.as_str(),
            &b.account,
            &b.name,
            b.id,
        ))
    });
    Ok(views)
}

fn view(c: calendars::Model, connection: Option<&calendar_connections::Model>) -> CalendarView {
    // A connection's trouble (a dead grant) outranks the calendar's own last error.
    let connection_error = connection
        .filter(|k| k.status != ConnectionStatus::Active)
        .and_then(|k| k.last_error.clone());
    CalendarView {
        id: c.id,
        provider: c.provider,
        account: connection.map(|k| k.account.clone()),
        name: c.name,
        color: c.color,
        timezone: c.timezone,
        include_in_availability: c.include_in_availability,
        connection_status: connection.map_or(ConnectionStatus::Active, |k| k.status),
        sync_status: c.sync_status,
        last_synced_at: c.last_synced_at,
        last_error: connection_error.or(c.last_error),
    }
}

async fn owned_connected(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<calendars::Model, CalendarError> {
    calendars::Entity::find_by_id(id)
        .filter(calendars::Column::UserId.eq(user_id))
        .filter(calendars::Column::ConnectionId.is_not_null())
        .one(db)
        .await?
        .ok_or(CalendarError::NotFound)
}

pub async fn get(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<CalendarView, CalendarError> {
    let calendar = owned_connected(db, user_id, id).await?;
    let connection = match calendar.connection_id {
        Some(cid) => {
            calendar_connections::Entity::find_by_id(cid)
                .one(db)
                .await?
        }
        None => None,
    };
    Ok(view(calendar, connection.as_ref()))
}

/// What `PATCH /api/calendars/{id}` may change.
#[derive(Debug, Default)]
pub struct CalendarPatch {
    pub name: Option<String>,
    /// `Some(None)` clears the color.
    pub color: Option<Option<String>>,
    pub include_in_availability: Option<bool>,
}

impl CalendarPatch {
    fn validate(&self) -> Result<(), Invalid> {
        if let Some(name) = &self.name {
            let trimmed = name.trim();
            if trimmed.is_empty() || trimmed.chars().count() > 200 {
                return Err(Invalid::new(
                    "name",
                    "invalid_name",
                    "`name` must be 1 to 200 characters",
                ));
            }
        }
        if let Some(Some(color)) = &self.color {
            crate::fields::Color::parse(color)?;
        }
        Ok(())
    }
}

pub async fn update(
    ctx: &AppContext,
    user_id: Uuid,
    id: Uuid,
    patch: CalendarPatch,
) -> Result<CalendarView, CalendarError> {
    patch.validate()?;
    let txn = db::begin_write(&ctx.db).await?;
    let calendar = owned_connected(&txn, user_id, id).await?;
    let inclusion_changes = patch
        .include_in_availability
        .is_some_and(|v| v != calendar.include_in_availability);
    let mut row: calendars::ActiveModel = calendar.into();
    if let Some(name) = patch.name {
        row.name = Set(name.trim().to_owned());
    }
    if let Some(color) = patch.color {
        row.color = Set(color.map(|c| c.to_ascii_lowercase()));
    }
    if let Some(include) = patch.include_in_availability {
        row.include_in_availability = Set(include);
    }
    row.updated_at = Set(ctx.clock.now());
    row.update(&txn).await?;
    if inclusion_changes {
        version::touch(&txn, user_id).await?;
    }
    txn.commit().await?;
    if inclusion_changes {
        crate::follow_up::availability_changed(ctx, user_id).await;
    }
    get(&ctx.db, user_id, id).await
}

/// Stops syncing a calendar and removes its events. Reconnecting the account brings it back.
pub async fn delete(ctx: &AppContext, user_id: Uuid, id: Uuid) -> Result<(), CalendarError> {
    owned_connected(&ctx.db, user_id, id).await?;
    if let Err(e) = crate::channels::close_channel(ctx, id).await {
        tracing::warn!(calendar = %id, error = %e, "could not stop the push channel");
    }
    let txn = db::begin_write(&ctx.db).await?;
    owned_connected(&txn, user_id, id).await?;
    remove(&txn, vec![id]).await?;
    version::touch(&txn, user_id).await?;
    audit::record(
        &txn,
        audit::Entry {
            user_id: Some(user_id),
            actor: Actor::User,
            action: "calendar.deleted",
            entity_type: "calendar",
            entity_id: Some(id.to_string()),
            details: None,
            at: ctx.clock.now(),
        },
    )
    .await?;
    txn.commit().await?;
    crate::follow_up::availability_changed(ctx, user_id).await;
    Ok(())
}

/// `POST /api/calendars/{id}/sync`: queue a sync now (even of a paused calendar).
pub async fn sync_now(ctx: &AppContext, user_id: Uuid, id: Uuid) -> Result<(), CalendarError> {
    owned_connected(&ctx.db, user_id, id).await?;
    crate::sync::request(ctx, id, crate::sync::Trigger::Manual)
        .await
        .map_err(|e| match e {
            crate::sync::SyncError::Queue(q) => CalendarError::QueueUnavailable(q.to_string()),
            other => CalendarError::Internal(anyhow::anyhow!(other)),
        })
}

/// Deletes calendars and their events (explicitly, not trusting every backend's cascade): the one
/// place calendars are removed, whether the user deleted one, disconnected its account, or the
/// provider no longer lists it. Callers bump the availability version in the same transaction.
pub(crate) async fn remove(
    txn: &impl ConnectionTrait,
    ids: Vec<Uuid>,
) -> Result<(), sea_orm::DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    entity::events::Entity::delete_many()
        .filter(entity::events::Column::CalendarId.is_in(ids.clone()))
        .exec(txn)
        .await?;
    calendars::Entity::delete_many()
        .filter(calendars::Column::Id.is_in(ids))
        .exec(txn)
        .await?;
    Ok(())
}
