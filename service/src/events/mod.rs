//! Events: listing what happens in a window (series expanded), and the user's manual events.

pub mod assign;
pub mod manual;

use std::collections::{HashMap, HashSet};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::{Instant, TimeZone};
use entity::{Provider, events};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::series;
pub use crate::series::{EventTiming, Occurrence};
pub use assign::{AssignError, Assigner, assign};
pub use manual::{Draft, ManualEventInput, Timing};

use crate::audit::{self, Actor};
use crate::fields::Invalid;
use crate::{AppContext, calendars};

pub const DEFAULT_PAGE: usize = 250;
pub const MAX_PAGE: usize = 2500;

/// One event or occurrence as the api shows it. Serialized (for notifications, which carry
/// events) exactly as `GET /api/events` writes one: a test compares the two.
#[derive(Clone, Debug, serde::Serialize)]
pub struct EventView {
    pub id: String,
    pub series_id: Option<Uuid>,
    pub calendar_id: Uuid,
    #[serde(serialize_with = "provider_name")]
    pub provider: Provider,
    pub provider_event_id: String,
    pub ical_uid: Option<String>,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub start: Instant,
    pub end: Instant,
    pub all_day: bool,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub timezone: Option<String>,
    pub status: String,
    pub busy: bool,
    pub out_of_office: bool,
    pub self_response: Option<String>,
    pub rrule: Option<String>,
    pub client_id: Option<Uuid>,
    pub updated_at: Instant,
}

fn provider_name<S: serde::Serializer>(p: &Provider, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(p.as_str())
}

impl EventView {
    pub fn new(row: &events::Model, occ: &Occurrence, client_id: Option<Uuid>) -> Self {
        let (start_date, end_date) = occ.dates.map_or((None, None), |(s, e)| (Some(s), Some(e)));
        EventView {
            id: occ.key.clone(),
            series_id: occ.series_id,
            calendar_id: row.calendar_id,
            provider: row.provider,
            provider_event_id: row.provider_event_id.clone(),
            ical_uid: row.ical_uid.clone(),
            title: row.title.clone(),
            description: row.description.clone(),
            location: row.location.clone(),
            start: occ.start,
            end: occ.end,
            all_day: row.all_day,
            start_date,
            end_date,
            timezone: row.timezone.clone(),
            status: row.status.clone(),
            busy: row.busy,
            out_of_office: row.out_of_office,
            self_response: row.self_response.clone(),
            rrule: row.rrule.clone(),
            client_id,
            updated_at: row.updated_at,
        }
    }

    /// The whole row: a series shows as its first occurrence with its rule.
    pub fn of_row(row: &events::Model, client_id: Option<Uuid>) -> Self {
        let dates = match (row.all_day, row.start_date, row.end_date) {
            (true, Some(s), Some(e)) => Some((s, e)),
            _ => None,
        };
        let occ = Occurrence {
            key: row.id.to_string(),
            series_id: None,
            start: row.start_at,
            end: row.end_at,
            dates,
        };
        Self::new(row, &occ, client_id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no such event")]
    NotFound,
    #[error("this event belongs to its provider ({0}); change it there")]
    NotEditable(Provider),
    #[error("a single occurrence cannot be edited; change the series, or delete the occurrence")]
    OccurrenceNotEditable,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for EventError {
    fn from(e: DbErr) -> Self {
        EventError::Internal(e.into())
    }
}

#[derive(Debug, Default)]
pub struct EventFilter {
    pub calendar_id: Option<Uuid>,
    pub client_id: Option<Uuid>,
    pub q: Option<String>,
}

pub struct EventPage {
    pub events: Vec<EventView>,
    pub next_page_token: Option<String>,
}

/// The user's events that may overlap `[from, to)`: one range scan of the index. The window is
/// widened by a day on both sides because all-day rows are stored at their own zone's
/// midnights; callers filter exactly.
fn in_window(
    user_id: Uuid,
    from: Instant,
    to: Instant,
    calendars: Option<&[Uuid]>,
) -> sea_orm::Select<events::Entity> {
    let mut query = events::Entity::find()
        .filter(events::Column::UserId.eq(user_id))
        .filter(events::Column::StartAt.lt(to + Duration::days(1)))
        .filter(events::Column::RangeEndAt.gt(from - Duration::days(1)))
        .filter(events::Column::DeletedAt.is_null());
    if let Some(ids) = calendars {
        query = query.filter(events::Column::CalendarId.is_in(ids.iter().copied()));
    }
    query.order_by_asc(events::Column::StartAt)
}

/// Whole rows, for listing.
pub async fn rows_in_window(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    from: Instant,
    to: Instant,
    calendars: Option<&[Uuid]>,
) -> Result<Vec<events::Model>, DbErr> {
    in_window(user_id, from, to, calendars).all(db).await
}

/// Only the timing of each row, for availability and conflicts.
pub async fn timings_in_window(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    from: Instant,
    to: Instant,
    calendars: Option<&[Uuid]>,
) -> Result<Vec<EventTiming>, DbErr> {
    in_window(user_id, from, to, calendars)
        .into_partial_model::<EventTiming>()
        .all(db)
        .await
}

/// The engine's events for `[from, to)`: occurrences expanded, exact overlap, each with its
/// calendar's busy rules from `sources`.
pub fn domain_events(
    rows: &[EventTiming],
    sources: &crate::calendars::Sources,
    from: Instant,
    to: Instant,
) -> Vec<domain::Event> {
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        for occ in series::occurrences(row, from - Duration::days(1), to + Duration::days(1)) {
            if let Some(e) = series::to_domain(row, &occ, sources.get(&row.calendar_id)) {
                out.push(e);
            }
        }
    }
    out
}

pub async fn list(
    db: &DatabaseConnection,
    user_id: Uuid,
    from: Instant,
    to: Instant,
    filter: EventFilter,
    limit: usize,
    page_token: Option<&str>,
) -> Result<EventPage, EventError> {
    let after = page_token
        .map(|t| {
            decode_page_token(t).ok_or_else(|| {
                Invalid::new(
                    "page_token",
                    "invalid_page_token",
                    "page_token is not one this api gave out",
                )
            })
        })
        .transpose()?;
    let calendars = filter.calendar_id.map(|c| vec![c]);
    let rows = rows_in_window(db, user_id, from, to, calendars.as_deref()).await?;
    let clients = Assigner::load(db, user_id).await?;
    let needle = filter
        .q
        .as_deref()
        .map(|q| q.trim().to_lowercase())
        .filter(|q| !q.is_empty());

    let mut views: Vec<EventView> = Vec::new();
    for row in &rows {
        let client = clients.client_of(row);
        if filter.client_id.is_some() && client != filter.client_id {
            continue;
        }
        if let Some(n) = &needle {
            let hay = format!(
                "{} {} {}",
                row.title,
                row.description.as_deref().unwrap_or(""),
                row.location.as_deref().unwrap_or("")
            );
            if !hay.to_lowercase().contains(n) {
                continue;
            }
        }
        for occ in series::occurrences(&EventTiming::from(row), from, to) {
            views.push(EventView::new(row, &occ, client));
        }
    }
    views.sort_by(|a, b| (a.start, &a.id).cmp(&(b.start, &b.id)));
    if let Some((start, id)) = &after {
        views.retain(|v| (v.start, &v.id) > (*start, id));
    }
    let limit = limit.clamp(1, MAX_PAGE);
    let next_page_token = (views.len() > limit).then(|| encode_page_token(&views[limit - 1]));
    views.truncate(limit);
    Ok(EventPage {
        events: views,
        next_page_token,
    })
}

fn encode_page_token(last: &EventView) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{}", last.start.to_rfc3339(), last.id))
}

fn decode_page_token(token: &str) -> Option<(Instant, String)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let (start, id) = raw.split_once('|')?;
    Some((
        DateTime::parse_from_rfc3339(start)
            .ok()?
            .with_timezone(&Utc),
        id.to_owned(),
    ))
}

pub(crate) async fn owned_row(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<events::Model, EventError> {
    events::Entity::find_by_id(id)
        .filter(events::Column::UserId.eq(user_id))
        .filter(events::Column::DeletedAt.is_null())
        .one(db)
        .await?
        .ok_or(EventError::NotFound)
}

/// One event by id, or one occurrence by `<series id>/<start>`.
pub async fn get(
    db: &DatabaseConnection,
    user_id: Uuid,
    key: &str,
) -> Result<EventView, EventError> {
    let (id, occurrence) = series::parse_key(key).ok_or(EventError::NotFound)?;
    let row = owned_row(db, user_id, id).await?;
    let client = Assigner::load(db, user_id).await?.client_of(&row);
    match occurrence {
        None => Ok(EventView::of_row(&row, client)),
        Some(start) => series::occurrences(
            &EventTiming::from(&row),
            start,
            start + Duration::seconds(1),
        )
        .into_iter()
        .find(|o| o.key == key)
        .map(|o| EventView::new(&row, &o, client))
        .ok_or(EventError::NotFound),
    }
}

pub async fn create(
    ctx: &AppContext,
    user_id: Uuid,
    user_zone: TimeZone,
    input: ManualEventInput,
) -> Result<EventView, EventError> {
    let draft = Draft::create(input, user_zone)?;
    let now = ctx.clock.now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let calendar = calendars::local_calendar(&txn, user_id, user_zone.name(), now).await?;
    let id = Uuid::now_v7();
    let mut row = events::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        calendar_id: Set(calendar.id),
        provider: Set(Provider::Local),
        provider_event_id: Set(id.to_string()),
        ical_uid: Set(Some(format!("{id}@freeslot"))),
        recurring_event_id: Set(None),
        original_start_at: Set(None),
        organizer_email: Set(None),
        attendees: Set(None),
        etag: Set(None),
        provider_updated_at: Set(None),
        deleted_at: Set(None),
        created_at: Set(now),
        ..Default::default()
    };
    fill(&mut row, &draft, now);
    let row = row.insert(&txn).await?;
    record(&txn, user_id, "event.created", id, ctx.clock.now()).await?;
    let span = crate::notifications::availability::of_event(&row);
    crate::version::touch(&txn, user_id, Some(span)).await?;
    txn.commit().await?;
    crate::follow_up::availability_changed(ctx, user_id).await;
    Ok(EventView::of_row(&row, None))
}

pub async fn update(
    ctx: &AppContext,
    user_id: Uuid,
    key: &str,
    input: ManualEventInput,
) -> Result<EventView, EventError> {
    let (id, occurrence) = series::parse_key(key).ok_or(EventError::NotFound)?;
    let row = owned_row(&ctx.db, user_id, id).await?;
    if row.provider != Provider::Local {
        return Err(EventError::NotEditable(row.provider));
    }
    if occurrence.is_some() {
        return Err(EventError::OccurrenceNotEditable);
    }
    let draft = Draft::from_row(&row).apply(input, false)?;
    let now = ctx.clock.now();
    let before = crate::notifications::availability::of_event(&row);
    let mut active: events::ActiveModel = row.into();
    fill(&mut active, &draft, now);
    let txn = crate::db::begin_write(&ctx.db).await?;
    let row = active.update(&txn).await?;
    record(&txn, user_id, "event.updated", id, ctx.clock.now()).await?;
    // Where it was and where it is now.
    let span = before.union(crate::notifications::availability::of_event(&row));
    crate::version::touch(&txn, user_id, Some(span)).await?;
    txn.commit().await?;
    crate::follow_up::availability_changed(ctx, user_id).await;
    let client = Assigner::load(&ctx.db, user_id).await?.client_of(&row);
    Ok(EventView::of_row(&row, client))
}

/// Deletes a manual event, a whole series by its id, or one occurrence of a series (which
/// becomes an EXDATE of it).
pub async fn delete(ctx: &AppContext, user_id: Uuid, key: &str) -> Result<(), EventError> {
    let (id, occurrence) = series::parse_key(key).ok_or(EventError::NotFound)?;
    let row = owned_row(&ctx.db, user_id, id).await?;
    if row.provider != Provider::Local {
        return Err(EventError::NotEditable(row.provider));
    }
    let txn = crate::db::begin_write(&ctx.db).await?;
    let span = match occurrence {
        None => crate::notifications::availability::of_event(&row),
        Some(start) => crate::notifications::availability::Span::new(
            start,
            start + (row.end_at - row.start_at),
        ),
    };
    match occurrence {
        None => {
            events::Entity::delete_by_id(id).exec(&txn).await?;
            record(&txn, user_id, "event.deleted", id, ctx.clock.now()).await?;
        }
        Some(start) => {
            let exists = series::occurrences(
                &EventTiming::from(&row),
                start,
                start + Duration::seconds(1),
            )
            .iter()
            .any(|o| o.key == key);
            if !exists {
                return Err(EventError::NotFound);
            }
            let mut draft = Draft::from_row(&row);
            draft.exdates.push(start);
            let mut active: events::ActiveModel = row.into();
            fill(&mut active, &draft, ctx.clock.now());
            active.update(&txn).await?;
            record(
                &txn,
                user_id,
                "event.occurrence_deleted",
                id,
                ctx.clock.now(),
            )
            .await?;
        }
    }
    crate::version::touch(&txn, user_id, Some(span)).await?;
    txn.commit().await?;
    crate::follow_up::availability_changed(ctx, user_id).await;
    Ok(())
}

fn fill(row: &mut events::ActiveModel, draft: &Draft, now: Instant) {
    let (start_at, end_at, range_end_at) = draft.instants();
    let (all_day, start_date, end_date) = match draft.timing {
        Timing::AllDay { start, end } => (true, Some(start), Some(end)),
        Timing::Timed { .. } => (false, None, None),
    };
    row.title = Set(draft.title.clone());
    row.description = Set(draft.description.clone());
    row.location = Set(draft.location.clone());
    row.start_at = Set(start_at);
    row.end_at = Set(end_at);
    row.range_end_at = Set(range_end_at);
    row.all_day = Set(all_day);
    row.start_date = Set(start_date);
    row.end_date = Set(end_date);
    row.timezone = Set(Some(draft.timezone.name().to_owned()));
    row.status = Set(draft.status.as_str().to_owned());
    row.busy = Set(draft.busy);
    row.self_response = Set(None);
    row.rrule = Set(draft.rrule.clone());
    row.exdates = Set((!draft.exdates.is_empty())
        .then(|| serde_json::to_value(&draft.exdates).unwrap_or_default()));
    row.rdates = Set(None);
    row.updated_at = Set(now);
}

async fn record(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    action: &str,
    id: Uuid,
    at: Instant,
) -> Result<(), DbErr> {
    audit::record(
        db,
        audit::Entry::new(Actor::User, user_id, action, "event", id, at),
    )
    .await
}

/// Keys of events that still exist among `keys` (ids or occurrence keys), with their views.
pub async fn views_by_key(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    keys: &[String],
) -> Result<HashMap<String, EventView>, DbErr> {
    let ids: HashSet<Uuid> = keys
        .iter()
        .filter_map(|k| series::parse_key(k).map(|(id, _)| id))
        .collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = events::Entity::find()
        .filter(events::Column::UserId.eq(user_id))
        .filter(events::Column::Id.is_in(ids.iter().copied()))
        .filter(events::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    let clients = Assigner::load(db, user_id).await?;
    let by_id: HashMap<Uuid, &events::Model> = rows.iter().map(|r| (r.id, r)).collect();
    let mut out = HashMap::new();
    for key in keys {
        let Some((id, occurrence)) = series::parse_key(key) else {
            continue;
        };
        let Some(row) = by_id.get(&id) else { continue };
        let client = clients.client_of(row);
        let view = match occurrence {
            None => Some(EventView::of_row(row, client)),
            Some(start) => series::occurrences(
                &EventTiming::from(*row),
                start,
                start + Duration::seconds(1),
            )
            .into_iter()
            .find(|o| &o.key == key)
            .map(|o| EventView::new(row, &o, client)),
        };
        if let Some(v) = view {
            out.insert(key.clone(), v);
        }
    }
    Ok(out)
}
