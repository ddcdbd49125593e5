//! Calendars: the user's own calendar of manual events, and the connected ones (listed,
//! renamed, included in availability or not, given busy rules, removed).

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::{BusyRules, Counts, SourceCalendar};
use entity::{ConnectionStatus, Provider, SyncStatus, calendar_connections, calendars};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect, Set,
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
        busy_tentative: Set(None),
        busy_all_day: Set(None),
        busy_out_of_office: Set("busy".to_owned()),
        busy_ignore_titles: Set(None),
        failing_since: Set(None),
        alert_sent_at: Set(None),
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

/// Every calendar of the user, as the engine sees where an event comes from: its id and rules.
pub type Sources = HashMap<Uuid, Arc<SourceCalendar>>;

/// What the stored busy rules say. Stored values were checked when written; anything else
/// (a value from a later version) reads as the default.
fn busy_rules_of(
    tentative: Option<&str>,
    all_day: Option<&str>,
    out_of_office: &str,
    titles: Option<&serde_json::Value>,
) -> BusyRules {
    let titles: Vec<String> = titles
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default();
    BusyRules::new(
        Counts::parse(tentative).unwrap_or_default(),
        Counts::parse(all_day).unwrap_or_default(),
        Counts::parse(Some(out_of_office)).unwrap_or(Counts::Busy),
        &titles,
    )
    .unwrap_or_default()
}

/// The busy rules of every calendar the user has (one query, only those columns).
pub async fn sources(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Sources, DbErr> {
    #[derive(FromQueryResult)]
    struct Row {
        id: Uuid,
        busy_tentative: Option<String>,
        busy_all_day: Option<String>,
        busy_out_of_office: String,
        busy_ignore_titles: Option<serde_json::Value>,
    }
    let rows = calendars::Entity::find()
        .select_only()
        .column(calendars::Column::Id)
        .column(calendars::Column::BusyTentative)
        .column(calendars::Column::BusyAllDay)
        .column(calendars::Column::BusyOutOfOffice)
        .column(calendars::Column::BusyIgnoreTitles)
        .filter(calendars::Column::UserId.eq(user_id))
        .into_model::<Row>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let rules = busy_rules_of(
                r.busy_tentative.as_deref(),
                r.busy_all_day.as_deref(),
                &r.busy_out_of_office,
                r.busy_ignore_titles.as_ref(),
            );
            (r.id, SourceCalendar::new(r.id.to_string(), rules))
        })
        .collect())
}

/// Whether an availability answer may trust a calendar (contract, "freshness").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Freshness {
    pub id: Uuid,
    pub name: String,
    pub provider: Provider,
    pub last_synced_at: Option<DateTime<Utc>>,
    /// The local calendar always is; a connected one while its connection is active and its
    /// last good sync is newer than two sync intervals.
    pub fresh: bool,
}

/// What the freshness of an included calendar is read from.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct CalendarState {
    pub id: Uuid,
    pub name: String,
    pub provider: Provider,
    pub last_synced_at: Option<DateTime<Utc>>,
    pub connection_id: Option<Uuid>,
    pub connection_status: Option<ConnectionStatus>,
}

/// The user's included calendars with what their freshness is read from, by name. Everything
/// this reads is behind `users.calendars_version` (`version::touch_calendars`).
pub async fn states(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Vec<CalendarState>, DbErr> {
    let mut rows = calendars::Entity::find()
        .select_only()
        .column(calendars::Column::Id)
        .column(calendars::Column::Name)
        .column(calendars::Column::Provider)
        .column(calendars::Column::LastSyncedAt)
        .column(calendars::Column::ConnectionId)
        .column_as(calendar_connections::Column::Status, "connection_status")
        .left_join(calendar_connections::Entity)
        .filter(calendars::Column::UserId.eq(user_id))
        .filter(calendars::Column::IncludeInAvailability.eq(true))
        .into_model::<CalendarState>()
        .all(db)
        .await?;
    rows.sort_by(|a, b| (&a.name, a.id).cmp(&(&b.name, b.id)));
    Ok(rows)
}

/// The freshness of `states` (of `only` among them, when given) at `now`.
pub fn freshness(
    states: &[CalendarState],
    only: Option<&[Uuid]>,
    now: DateTime<Utc>,
    sync_interval: chrono::Duration,
) -> Vec<Freshness> {
    let since = now - sync_interval * 2;
    states
        .iter()
        .filter(|s| only.is_none_or(|ids| ids.contains(&s.id)))
        .map(|s| Freshness {
            id: s.id,
            name: s.name.clone(),
            provider: s.provider,
            last_synced_at: s.last_synced_at,
            fresh: s.connection_id.is_none()
                || (s.connection_status == Some(ConnectionStatus::Active)
                    && s.last_synced_at.is_some_and(|t| t > since)),
        })
        .collect()
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
    pub busy_rules: BusyRules,
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
        busy_rules: busy_rules_of(
            c.busy_tentative.as_deref(),
            c.busy_all_day.as_deref(),
            &c.busy_out_of_office,
            c.busy_ignore_titles.as_ref(),
        ),
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
    pub busy_rules: Option<BusyRulesPatch>,
}

/// What a PATCH says of the busy rules: a field given replaces the stored one (`Some(None)` =
/// the user's rules decide), a field left out keeps it.
#[derive(Debug, Default)]
pub struct BusyRulesPatch {
    pub tentative: Option<Option<String>>,
    pub all_day: Option<Option<String>>,
    pub out_of_office: Option<String>,
    pub ignore_titles: Option<Vec<String>>,
}

impl BusyRulesPatch {
    /// The rules after this patch over `current`, checked.
    fn applied_to(&self, current: &BusyRules) -> Result<BusyRules, Invalid> {
        let counts = |field: &'static str, value: &Option<Option<String>>, now: Counts| match value
        {
            None => Ok(now),
            Some(v) => Counts::parse(v.as_deref()).map_err(|e| {
                Invalid::new(
                    field,
                    "invalid_busy_rules",
                    format!("`{field}` {e} or null"),
                )
            }),
        };
        let tentative = counts("busy_rules.tentative", &self.tentative, current.tentative)?;
        let all_day = counts("busy_rules.all_day", &self.all_day, current.all_day)?;
        let out_of_office = match &self.out_of_office {
            None => current.out_of_office,
            Some(v) => Counts::parse(Some(v)).map_err(|e| {
                Invalid::new(
                    "busy_rules.out_of_office",
                    "invalid_busy_rules",
                    format!("`busy_rules.out_of_office` {e}"),
                )
            })?,
        };
        let titles: Vec<String> = match &self.ignore_titles {
            Some(t) => t.clone(),
            None => current
                .ignore_titles
                .iter()
                .map(|t| t.text.clone())
                .collect(),
        };
        BusyRules::new(tentative, all_day, out_of_office, &titles).map_err(|e| {
            Invalid::new(
                "busy_rules.ignore_titles",
                "invalid_busy_rules",
                format!("`busy_rules.ignore_titles`: {e}"),
            )
        })
    }
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
    let current = view(calendar.clone(), None).busy_rules;
    let rules = patch
        .busy_rules
        .as_ref()
        .map(|p| p.applied_to(&current))
        .transpose()?;
    let rules_change = rules.as_ref().is_some_and(|r| *r != current);
    // Both change what blocks time: cached availability, conflicts and the export follow.
    let inclusion_changes = patch
        .include_in_availability
        .is_some_and(|v| v != calendar.include_in_availability)
        || rules_change;
    let mut row: calendars::ActiveModel = calendar.into();
    if let Some(rules) = rules {
        row.busy_tentative = Set(rules.tentative.as_str().map(str::to_owned));
        row.busy_all_day = Set(rules.all_day.as_str().map(str::to_owned));
        row.busy_out_of_office = Set(rules.out_of_office.as_str().unwrap_or("busy").to_owned());
        let titles: Vec<&str> = rules
            .ignore_titles
            .iter()
            .map(|t| t.text.as_str())
            .collect();
        row.busy_ignore_titles =
            Set((!titles.is_empty()).then(|| serde_json::to_value(titles).unwrap_or_default()));
    }
    let changed: Vec<&str> = [
        ("name", patch.name.is_some()),
        ("color", patch.color.is_some()),
        (
            "include_in_availability",
            patch.include_in_availability.is_some(),
        ),
        ("busy_rules", patch.busy_rules.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, given)| given.then_some(field))
    .collect();
    audit::record(
        &txn,
        audit::Entry::new(
            Actor::User,
            user_id,
            "calendar.updated",
            "calendar",
            id,
            ctx.clock.now(),
        )
        .details(serde_json::json!({"fields": changed})),
    )
    .await?;
    // Availability answers name the calendars they used.
    let renamed = patch.name.is_some();
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
        let span = crate::notifications::availability::of_calendars(&txn, &[id]).await?;
        version::touch(&txn, user_id, span).await?;
    } else if renamed {
        version::touch_calendars(&txn, user_id).await?;
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
    let span = crate::notifications::availability::of_calendars(&txn, &[id]).await?;
    remove(&txn, vec![id]).await?;
    version::touch(&txn, user_id, span).await?;
    audit::record(
        &txn,
        audit::Entry::new(
            Actor::User,
            user_id,
            "calendar.deleted",
            "calendar",
            id,
            ctx.clock.now(),
        ),
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
    // The calendars' rows first, then their children: the order every sync write takes (its
    // page and its end both update the calendar before events and runs). Deleting events first
    // and the calendar second deadlocked on Postgres with a run ending meanwhile. (SQLite's
    // write transactions are serial; the lock clause is left out there.)
    calendars::Entity::find()
        .select_only()
        .column(calendars::Column::Id)
        .filter(calendars::Column::Id.is_in(ids.clone()))
        .lock_exclusive()
        .into_tuple::<Uuid>()
        .all(txn)
        .await?;
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
