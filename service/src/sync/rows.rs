//! Provider events → event rows, and the batched writes of one page.

use std::collections::HashMap;

use chrono::{Duration, NaiveTime};
use domain::rules::{TimeOfDay, local_instant};
use domain::{Instant, Recurrence};
use entity::{Provider, events};
use providers::{RemoteEvent, RemoteTime, Window};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, IntoActiveModel,
    QueryFilter, Statement,
};
use uuid::Uuid;

use crate::fields::zone_named;
use crate::notifications::availability::{self, Span};

/// Rows per INSERT: ~30 columns each stays far below SQLite's parameter limit.
const CHUNK: usize = 200;

/// The columns a sync owns; `id`, `user_id`, `calendar_id` and `created_at` stay as they are,
/// so local annotations (client assignments) keyed by the row id survive every update.
const SYNCED: [events::Column; 25] = [
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
    events::Column::OutOfOffice,
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
    pub provider: Provider,
    pub calendar_zone: Option<&'a str>,
    /// When the rows are written, by the application's clock.
    pub now: Instant,
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
        Some(rule) => Recurrence::parse_all(rule, tz, e.exdates.clone(), e.rdates.clone())
            .map(|r| match dates {
                Some((s, en)) => {
                    r.last_end(tz, s.and_time(NaiveTime::MIN), en - s + Duration::hours(3))
                }
                None => r.last_end(tz, start.with_timezone(&tz).naive_local(), end - start),
            })
            .unwrap_or(end)
            .max(end),
    };
    let now = target.now;
    events::Model {
        id: Uuid::now_v7(),
        user_id: target.user_id,
        calendar_id: target.calendar_id,
        provider: target.provider,
        provider_event_id: text(&e.id),
        ical_uid: e.ical_uid.as_deref().map(text),
        recurring_event_id: e.recurring_event_id.as_deref().map(text),
        original_start_at: e.original_start,
        title: text(&e.title).chars().take(1000).collect(),
        description: e.description.as_deref().map(text),
        location: e.location.as_deref().map(text),
        start_at: start,
        end_at: end,
        all_day: dates.is_some(),
        start_date: dates.map(|d| d.0),
        end_date: dates.map(|d| d.1),
        timezone: zone_name.map(str::to_owned),
        status: e.status.as_str().to_owned(),
        busy: e.busy,
        out_of_office: e.out_of_office,
        self_response: e.self_response.map(|r| r.as_str().to_owned()),
        rrule: e.rrule.as_deref().map(text),
        exdates: instants(&e.exdates),
        rdates: instants(&e.rdates),
        range_end_at: range_end,
        organizer_email: e.organizer_email.as_deref().map(text),
        attendees: (!e.attendee_emails.is_empty()).then(|| {
            let emails: Vec<String> = e.attendee_emails.iter().map(|a| text(a)).collect();
            serde_json::to_value(emails).unwrap_or_default()
        }),
        etag: e.etag.as_deref().map(text),
        provider_updated_at: e.updated,
        deleted_at: None,
        created_at: now,
        updated_at: now,
    }
}

/// A provider's text as it can be stored: without NUL characters, which Postgres refuses in
/// text and JSON (an event titled "a\0b" would otherwise fail its whole page, on every sync).
pub(super) fn text(value: &str) -> String {
    if value.contains('\0') {
        value.replace('\0', "")
    } else {
        value.to_owned()
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

/// How many rows a write added, and how many it changed (rows equal to what was stored are
/// neither); and the span the written rows cover, where they are now and where the changed ones
/// were (what `availability.changed` reports).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Written {
    pub added: u64,
    pub updated: u64,
    pub span: Option<Span>,
}

impl Written {
    fn cover(&mut self, span: Span) {
        self.span = Some(self.span.map_or(span, |s| s.union(span)));
    }
}

impl std::ops::AddAssign for Written {
    fn add_assign(&mut self, other: Self) {
        self.added += other.added;
        self.updated += other.updated;
        if let Some(span) = other.span {
            self.cover(span);
        }
    }
}

/// Writes the rows that differ from what is stored; says how many were new and how many changed.
pub async fn upsert(
    db: &impl ConnectionTrait,
    calendar_id: Uuid,
    rows: Vec<events::Model>,
) -> Result<Written, DbErr> {
    if db.get_database_backend() == DbBackend::Postgres {
        let refs: Vec<&events::Model> = rows.iter().collect();
        return upsert_postgres(db, calendar_id, &refs).await;
    }
    let mut written = Written::default();
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
            .filter(|r| match stored.get(&r.provider_event_id) {
                None => {
                    written.added += 1;
                    written.cover(availability::of_event(r));
                    true
                }
                Some(old) if !same(old, r) => {
                    written.updated += 1;
                    written.cover(availability::of_event(r).union(availability::of_event(old)));
                    true
                }
                Some(_) => false,
            })
            // Every column is written for a new row; the conflict clause updates only `SYNCED`.
            .map(|r| r.clone().into_active_model().reset_all())
            .collect();
        if changed.is_empty() {
            continue;
        }
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

/// The Postgres write path: the page as one JSON parameter unpacked by `json_to_recordset`, so
/// the statement text is the same whatever the page size (a multi-row `VALUES` with thousands of
/// parameters is parsed and planned anew each time). Parsing that JSON is most of Postgres's
/// work, so it carries only what differs per row: short keys, no nulls, and the calendar's own
/// columns as separate parameters. The conflict clause only rewrites rows whose provider-owned
/// columns differ, and `RETURNING` says what was written (`xmax = 0`: a new row, not an update)
/// and where it was before (a subquery in `RETURNING` reads the statement's snapshot, which
/// holds the old version; one index probe per changed row, none for a new or unchanged one): no read beforehand, whose plan
/// Postgres would pick from statistics that a first sync of 50,000 events outgrows (it chose a
/// sequential scan, 200 ms a page).
async fn upsert_postgres(
    db: &impl ConnectionTrait,
    calendar_id: Uuid,
    rows: &[&events::Model],
) -> Result<Written, DbErr> {
    /// A page of 250 events is ~100 kB: one statement.
    const MESSAGE_BUDGET: usize = 1_000_000;
    let Some(first) = rows.first() else {
        return Ok(Written::default());
    };
    let shared = Shared {
        user_id: first.user_id,
        provider: first.provider,
        written_at: first.updated_at,
    };
    if rows.iter().any(|r| {
        r.calendar_id != calendar_id || r.user_id != shared.user_id || r.provider != shared.provider
    }) {
        return Err(DbErr::Custom("rows of more than one calendar".into()));
    }
    let mut written = Written::default();
    let mut batch: Vec<u8> = vec![b'['];
    for r in rows {
        if batch.len() > MESSAGE_BUDGET {
            batch.push(b']');
            let full = std::mem::replace(&mut batch, vec![b'[']);
            written += execute_batch(db, calendar_id, &shared, full).await?;
        }
        if batch.len() > 1 {
            batch.push(b',');
        }
        // Serialized straight to bytes: no JSON tree per row.
        serde_json::to_writer(&mut batch, &Record::from(*r))
            .map_err(|e| DbErr::Custom(e.to_string()))?;
    }
    batch.push(b']');
    written += execute_batch(db, calendar_id, &shared, batch).await?;
    Ok(written)
}

/// One row as `json_to_recordset` reads it: the keys are the record's column names in
/// `UPSERT_POSTGRES`, a missing key is NULL. `created_at`/`updated_at` are the time of the write,
/// one parameter for the whole statement. Plain `json`, not `jsonb`: the records are read
/// once, and building a `jsonb` value first cost a quarter of the statement.
#[derive(serde::Serialize)]
struct Record<'a> {
    #[serde(rename = "i")]
    id: Uuid,
    #[serde(rename = "p")]
    provider_event_id: &'a str,
    #[serde(rename = "u", skip_serializing_if = "Option::is_none")]
    ical_uid: Option<&'a str>,
    #[serde(rename = "r", skip_serializing_if = "Option::is_none")]
    recurring_event_id: Option<&'a str>,
    #[serde(rename = "o", skip_serializing_if = "Option::is_none")]
    original_start_at: Option<Instant>,
    #[serde(rename = "t")]
    title: &'a str,
    #[serde(rename = "d", skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(rename = "l", skip_serializing_if = "Option::is_none")]
    location: Option<&'a str>,
    #[serde(rename = "s")]
    start_at: Instant,
    #[serde(rename = "e")]
    end_at: Instant,
    #[serde(rename = "ad")]
    all_day: bool,
    #[serde(rename = "sd", skip_serializing_if = "Option::is_none")]
    start_date: Option<chrono::NaiveDate>,
    #[serde(rename = "ed", skip_serializing_if = "Option::is_none")]
    end_date: Option<chrono::NaiveDate>,
    #[serde(rename = "z", skip_serializing_if = "Option::is_none")]
    timezone: Option<&'a str>,
    #[serde(rename = "st")]
    status: &'a str,
    #[serde(rename = "b")]
    busy: bool,
    /// Left out when false (almost every event).
    #[serde(rename = "oo", skip_serializing_if = "std::ops::Not::not")]
    out_of_office: bool,
    #[serde(rename = "sr", skip_serializing_if = "Option::is_none")]
    self_response: Option<&'a str>,
    #[serde(rename = "rr", skip_serializing_if = "Option::is_none")]
    rrule: Option<&'a str>,
    #[serde(rename = "x", skip_serializing_if = "Option::is_none")]
    exdates: Option<&'a serde_json::Value>,
    #[serde(rename = "rd", skip_serializing_if = "Option::is_none")]
    rdates: Option<&'a serde_json::Value>,
    /// Left out when it is `end_at` (every single event).
    #[serde(rename = "re", skip_serializing_if = "Option::is_none")]
    range_end_at: Option<Instant>,
    #[serde(rename = "og", skip_serializing_if = "Option::is_none")]
    organizer_email: Option<&'a str>,
    #[serde(rename = "a", skip_serializing_if = "Option::is_none")]
    attendees: Option<&'a serde_json::Value>,
    #[serde(rename = "et", skip_serializing_if = "Option::is_none")]
    etag: Option<&'a str>,
    #[serde(rename = "pu", skip_serializing_if = "Option::is_none")]
    provider_updated_at: Option<Instant>,
    #[serde(rename = "dl", skip_serializing_if = "Option::is_none")]
    deleted_at: Option<Instant>,
}

impl<'a> From<&'a events::Model> for Record<'a> {
    fn from(r: &'a events::Model) -> Self {
        Record {
            id: r.id,
            provider_event_id: &r.provider_event_id,
            ical_uid: r.ical_uid.as_deref(),
            recurring_event_id: r.recurring_event_id.as_deref(),
            original_start_at: r.original_start_at,
            title: &r.title,
            description: r.description.as_deref(),
            location: r.location.as_deref(),
            start_at: r.start_at,
            end_at: r.end_at,
            all_day: r.all_day,
            start_date: r.start_date,
            end_date: r.end_date,
            timezone: r.timezone.as_deref(),
            status: &r.status,
            busy: r.busy,
            out_of_office: r.out_of_office,
            self_response: r.self_response.as_deref(),
            rrule: r.rrule.as_deref(),
            exdates: r.exdates.as_ref(),
            rdates: r.rdates.as_ref(),
            range_end_at: (r.range_end_at != r.end_at).then_some(r.range_end_at),
            organizer_email: r.organizer_email.as_deref(),
            attendees: r.attendees.as_ref(),
            etag: r.etag.as_deref(),
            provider_updated_at: r.provider_updated_at,
            deleted_at: r.deleted_at,
        }
    }
}

/// What every row of one upsert has in common, sent once.
struct Shared {
    user_id: Uuid,
    provider: Provider,
    written_at: Instant,
}

/// `records` is a JSON array of `Record`s (serde_json only writes UTF-8).
async fn execute_batch(
    db: &impl ConnectionTrait,
    calendar_id: Uuid,
    shared: &Shared,
    records: Vec<u8>,
) -> Result<Written, DbErr> {
    let records = String::from_utf8(records).map_err(|e| DbErr::Custom(e.to_string()))?;
    let stmt = Statement::from_sql_and_values(
        DbBackend::Postgres,
        UPSERT_POSTGRES,
        [
            sea_orm::Value::from(records),
            shared.user_id.into(),
            calendar_id.into(),
            shared.provider.as_str().into(),
            shared.written_at.into(),
        ],
    );
    let rows = db.query_all_raw(stmt).await?;
    let mut written = Written::default();
    for row in rows {
        if row.try_get::<bool>("", "inserted")? {
            written.added += 1;
        } else {
            written.updated += 1;
        }
        written.cover(Span::new(row.try_get("", "s")?, row.try_get("", "re")?));
        let was: (Option<Instant>, Option<Instant>) =
            (row.try_get("", "ws")?, row.try_get("", "wre")?);
        if let (Some(start), Some(end)) = was {
            written.cover(Span::new(start, end));
        }
    }
    Ok(written)
}

const UPSERT_POSTGRES: &str = "INSERT INTO events (id, user_id, calendar_id, provider, \
provider_event_id, ical_uid, recurring_event_id, original_start_at, title, description, location, \
start_at, end_at, all_day, start_date, end_date, timezone, status, busy, out_of_office, \
self_response, rrule, exdates, rdates, range_end_at, organizer_email, attendees, etag, \
provider_updated_at, deleted_at, created_at, updated_at) \
SELECT i, $2::uuid, $3::uuid, $4::text, p, u, r, o, t, d, l, s, e, ad, sd, ed, z, st, b, \
COALESCE(oo, false), sr, rr, x, rd, COALESCE(re, e), og, a, et, pu, dl, $5::timestamptz, \
$5::timestamptz \
FROM json_to_recordset($1::text::json) AS page(i uuid, p text, u text, r text, o timestamptz, t text, \
d text, l text, s timestamptz, e timestamptz, ad boolean, sd date, ed date, z text, st text, \
b boolean, oo boolean, sr text, rr text, x json, rd json, re timestamptz, og text, a json, et text, \
pu timestamptz, dl timestamptz) \
ON CONFLICT (calendar_id, provider_event_id) DO UPDATE SET \
ical_uid = EXCLUDED.ical_uid, recurring_event_id = EXCLUDED.recurring_event_id, \
original_start_at = EXCLUDED.original_start_at, title = EXCLUDED.title, \
description = EXCLUDED.description, location = EXCLUDED.location, start_at = EXCLUDED.start_at, \
end_at = EXCLUDED.end_at, all_day = EXCLUDED.all_day, start_date = EXCLUDED.start_date, \
end_date = EXCLUDED.end_date, timezone = EXCLUDED.timezone, status = EXCLUDED.status, \
busy = EXCLUDED.busy, out_of_office = EXCLUDED.out_of_office, self_response = EXCLUDED.self_response, rrule = EXCLUDED.rrule, \
exdates = EXCLUDED.exdates, rdates = EXCLUDED.rdates, range_end_at = EXCLUDED.range_end_at, \
organizer_email = EXCLUDED.organizer_email, attendees = EXCLUDED.attendees, etag = EXCLUDED.etag, \
provider_updated_at = EXCLUDED.provider_updated_at, updated_at = EXCLUDED.updated_at \
WHERE (events.ical_uid, events.recurring_event_id, events.original_start_at, events.title, \
events.description, events.location, events.start_at, events.end_at, events.all_day, \
events.start_date, events.end_date, events.timezone, events.status, events.busy, \
events.out_of_office, events.self_response, events.rrule, events.exdates::text, events.rdates::text, \
events.range_end_at, events.organizer_email, events.attendees::text, events.etag, \
events.provider_updated_at) IS DISTINCT FROM (EXCLUDED.ical_uid, EXCLUDED.recurring_event_id, \
EXCLUDED.original_start_at, EXCLUDED.title, EXCLUDED.description, EXCLUDED.location, \
EXCLUDED.start_at, EXCLUDED.end_at, EXCLUDED.all_day, EXCLUDED.start_date, EXCLUDED.end_date, \
EXCLUDED.timezone, EXCLUDED.status, EXCLUDED.busy, EXCLUDED.out_of_office, EXCLUDED.self_response, EXCLUDED.rrule, \
EXCLUDED.exdates::text, EXCLUDED.rdates::text, EXCLUDED.range_end_at, EXCLUDED.organizer_email, \
EXCLUDED.attendees::text, EXCLUDED.etag, EXCLUDED.provider_updated_at) \
RETURNING (xmax = 0) AS inserted, start_at AS s, range_end_at AS re, \
CASE WHEN xmax = 0 THEN NULL ELSE (SELECT o.start_at FROM events o \
WHERE o.calendar_id = events.calendar_id AND o.provider_event_id = events.provider_event_id) END AS ws, \
CASE WHEN xmax = 0 THEN NULL ELSE (SELECT o.range_end_at FROM events o \
WHERE o.calendar_id = events.calendar_id AND o.provider_event_id = events.provider_event_id) END AS wre";

/// What a delete removed: how many rows, and the span they covered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Deleted {
    pub count: u64,
    pub span: Option<Span>,
}

/// Deletes the calendar's events with these provider ids; returns what went (`RETURNING`: no
/// read beforehand, see `upsert_postgres`).
pub async fn delete(
    db: &impl ConnectionTrait,
    calendar_id: Uuid,
    provider_ids: &[String],
) -> Result<Deleted, DbErr> {
    let mut deleted = Deleted::default();
    for chunk in provider_ids.chunks(500) {
        let gone = events::Entity::delete_many()
            .filter(events::Column::CalendarId.eq(calendar_id))
            .filter(events::Column::ProviderEventId.is_in(chunk.iter().map(String::as_str)))
            .exec_with_returning(db)
            .await?;
        deleted.count += gone.len() as u64;
        deleted.span = Span::cover(
            deleted
                .span
                .into_iter()
                .chain(gone.iter().map(availability::of_event)),
        );
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
