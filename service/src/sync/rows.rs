//! Provider events → event rows, and the batched writes of one page.

use std::collections::HashMap;

use chrono::{Duration, NaiveTime, Utc};
use domain::rules::{TimeOfDay, local_instant};
use domain::{Instant, Recurrence};
use entity::events;
use providers::{RemoteEvent, RemoteTime, Window};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter,
};
use uuid::Uuid;

use crate::events::expand::zone_named;

/// Rows per INSERT: ~30 columns each stays far below SQLite's parameter limit.
const CHUNK: usize = 200;

/// The columns a sync owns; `id`, `user_id`, `calendar_id` and `created_at` stay as they are,
/// so local annotations (client assignments) keyed by the row id survive every update.
const SYNCED: [events::Column; 24] = [
    events::Column::IcalUid,
    events::Column::RecurringEventId,
    events::Column::OriginalStartAt,
    events::Column::Title,
    events::Column::Description,
    events::Column::Location,
    events::Column::StartAt,
    events::Column::EndAt,
    events::Column::AllDay,
    events::Column::StartDate,
    events::Column::EndDate,
    events::Column::Timezone,
    events::Column::Status,
    events::Column::Busy,
    events::Column::SelfResponse,
    events::Column::Rrule,
    events::Column::Exdates,
    events::Column::Rdates,
    events::Column::RangeEndAt,
    events::Column::OrganizerEmail,
    events::Column::Attendees,
    events::Column::Etag,
    events::Column::ProviderUpdatedAt,
    events::Column::UpdatedAt,
];

/// Where the calendar is, for rows that need a zone (all-day dates, series).
pub struct Target<'a> {
    pub user_id: Uuid,
    pub calendar_id: Uuid,
    pub provider: &'a str,
    pub calendar_zone: Option<&'a str>,
}

fn instants(list: &[Instant]) -> Option<serde_json::Value> {
    (!list.is_empty()).then(|| serde_json::to_value(list).unwrap_or_default())
}

/// The row for `e` (with a fresh id, used only if the event is new).
pub fn to_row(target: &Target<'_>, e: &RemoteEvent) -> events::Model {
    let zone_name = e.timezone.as_deref().or(target.calendar_zone);
    let tz = zone_named(zone_name).tz();
    let (start, end, dates) = match &e.time {
        RemoteTime::Timed { start, end } => (*start, (*end).max(*start), None),
        RemoteTime::AllDay { start, end } => (
            local_instant(tz, *start, TimeOfDay::MIDNIGHT),
            local_instant(tz, (*end).max(*start), TimeOfDay::MIDNIGHT),
            Some((*start, (*end).max(*start))),
        ),
    };
    let range_end = match &e.rrule {
        None => end,
        Some(rule) => Recurrence::parse(rule, tz, e.exdates.clone(), e.rdates.clone())
            .map(|r| match dates {
                Some((s, en)) => {
                    r.last_end(tz, s.and_time(NaiveTime::MIN), en - s + Duration::hours(3))
                }
                None => r.last_end(tz, start.with_timezone(&tz).naive_local(), end - start),
            })
            .unwrap_or(end)
            .max(end),
    };
    let now = Utc::now();
    events::Model {
        id: Uuid::now_v7(),
        user_id: target.user_id,
        calendar_id: target.calendar_id,
        provider: target.provider.to_owned(),
        provider_event_id: e.id.clone(),
        ical_uid: e.ical_uid.clone(),
        recurring_event_id: e.recurring_event_id.clone(),
        original_start_at: e.original_start,
        title: e.title.chars().take(1000).collect(),
        description: e.description.clone(),
        location: e.location.clone(),
        start_at: start,
        end_at: end,
        all_day: dates.is_some(),
        start_date: dates.map(|d| d.0),
        end_date: dates.map(|d| d.1),
        timezone: zone_name.map(str::to_owned),
        status: e.status.as_str().to_owned(),
        busy: e.busy,
        self_response: e.self_response.map(|r| r.as_str().to_owned()),
        rrule: e.rrule.clone(),
        exdates: instants(&e.exdates),
        rdates: instants(&e.rdates),
        range_end_at: range_end,
        organizer_email: e.organizer_email.clone(),
        attendees: (!e.attendee_emails.is_empty())
            .then(|| serde_json::to_value(&e.attendee_emails).unwrap_or_default()),
        etag: e.etag.clone(),
        provider_updated_at: e.updated,
        deleted_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// Whether a stored row already says what `fresh` says (ids and bookkeeping times aside).
fn same(stored: &events::Model, fresh: &events::Model) -> bool {
    let strip = |m: &events::Model| events::Model {
        id: Uuid::nil(),
        created_at: Instant::MIN_UTC,
        updated_at: Instant::MIN_UTC,
        ..m.clone()
    };
    strip(stored) == strip(fresh)
}

/// Whether a single event touches the window (a series is always kept: the engine expands it).
pub fn in_window(e: &RemoteEvent, window: &Window) -> bool {
    if e.rrule.is_some() {
        return true;
    }
    let (start, end) = e.rough_range();
    // All-day dates are read as UTC days here: a day of slack keeps edge days in.
    start < window.end + Duration::days(1) && end > window.start - Duration::days(1)
}

/// Writes the rows that differ from what is stored; returns how many did.
pub async fn upsert(
    db: &impl ConnectionTrait,
    calendar_id: Uuid,
    rows: Vec<events::Model>,
) -> Result<usize, DbErr> {
    let mut written = 0;
    for chunk in rows.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|r| r.provider_event_id.as_str()).collect();
        let stored: HashMap<String, events::Model> = events::Entity::find()
            .filter(events::Column::CalendarId.eq(calendar_id))
            .filter(events::Column::ProviderEventId.is_in(ids))
            .all(db)
            .await?
            .into_iter()
            .map(|m| (m.provider_event_id.clone(), m))
            .collect();
        let changed: Vec<events::ActiveModel> = chunk
            .iter()
            .filter(|r| {
                stored
                    .get(&r.provider_event_id)
                    .is_none_or(|old| !same(old, r))
            })
            // Every column is written for a new row; the conflict clause updates only `SYNCED`.
            .map(|r| r.clone().into_active_model().reset_all())
            .collect();
        if changed.is_empty() {
            continue;
        }
        written += changed.len();
        events::Entity::insert_many(changed)
            .on_conflict(
                OnConflict::columns([events::Column::CalendarId, events::Column::ProviderEventId])
                    .update_columns(SYNCED)
                    .to_owned(),
            )
            .exec_without_returning(db)
            .await?;
    }
    Ok(written)
}

/// Deletes the calendar's events with these provider ids; returns how many went.
pub async fn delete(
    db: &impl ConnectionTrait,
    calendar_id: Uuid,
    provider_ids: &[String],
) -> Result<u64, DbErr> {
    let mut deleted = 0;
    for chunk in provider_ids.chunks(500) {
        deleted += events::Entity::delete_many()
            .filter(events::Column::CalendarId.eq(calendar_id))
            .filter(events::Column::ProviderEventId.is_in(chunk.iter().map(String::as_str)))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(deleted)
}

/// Provider ids of every event the calendar holds.
pub async fn stored_ids(
    db: &impl ConnectionTrait,
    calendar_id: Uuid,
) -> Result<Vec<String>, DbErr> {
    use sea_orm::QuerySelect;
    events::Entity::find()
        .select_only()
        .column(events::Column::ProviderEventId)
        .filter(events::Column::CalendarId.eq(calendar_id))
        .into_tuple()
        .all(db)
        .await
}
