//! Stored event rows → what they mean in time: the row itself, or the occurrences of a series.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use domain::event::occurrence_suffix;
use domain::rules::{TimeOfDay, local_instant};
use domain::{
    Event, EventStatus, EventTime, Instant, Interval, Recurrence, SelfResponse, TimeZone,
};
use entity::events;
use sea_orm::DerivePartialModel;
use uuid::Uuid;

/// What the engine needs of an event row, and nothing else: availability and conflict detection
/// read thousands of these, so they skip descriptions, attendees and the rest.
#[derive(Clone, Debug, DerivePartialModel)]
#[sea_orm(entity = "events::Entity")]
pub struct EventTiming {
    pub id: Uuid,
    pub calendar_id: Uuid,
    pub start_at: Instant,
    pub end_at: Instant,
    pub all_day: bool,
    pub start_date: Option<NaiveDate>,
    pub end_date: Option<NaiveDate>,
    pub timezone: Option<String>,
    pub status: String,
    pub busy: bool,
    pub out_of_office: bool,
    pub self_response: Option<String>,
    pub rrule: Option<String>,
    pub exdates: Option<serde_json::Value>,
    pub rdates: Option<serde_json::Value>,
    pub ical_uid: Option<String>,
    pub title: String,
}

impl From<&events::Model> for EventTiming {
    fn from(m: &events::Model) -> Self {
        EventTiming {
            id: m.id,
            calendar_id: m.calendar_id,
            start_at: m.start_at,
            end_at: m.end_at,
            all_day: m.all_day,
            start_date: m.start_date,
            end_date: m.end_date,
            timezone: m.timezone.clone(),
            status: m.status.clone(),
            busy: m.busy,
            out_of_office: m.out_of_office,
            self_response: m.self_response.clone(),
            rrule: m.rrule.clone(),
            exdates: m.exdates.clone(),
            rdates: m.rdates.clone(),
            ical_uid: m.ical_uid.clone(),
            title: m.title.clone(),
        }
    }
}

/// One event as it happens: a single event, or one occurrence of a series.
#[derive(Clone, Debug)]
pub struct Occurrence {
    /// The row id, or `<series id>/<start, UTC basic format>` for an occurrence.
    pub key: String,
    pub series_id: Option<Uuid>,
    pub start: Instant,
    pub end: Instant,
    /// Local dates of an all-day occurrence, end exclusive.
    pub dates: Option<(NaiveDate, NaiveDate)>,
}

pub fn zone_of(row: &EventTiming) -> TimeZone {
    zone_named(row.timezone.as_deref())
}

pub use crate::fields::zone_named;

pub fn instants(value: &Option<serde_json::Value>) -> Vec<Instant> {
    value
        .as_ref()
        .and_then(|v| serde_json::from_value::<Vec<Instant>>(v.clone()).ok())
        .unwrap_or_default()
}

/// The recurrence of a series row, if it has a valid one.
pub fn recurrence_of(row: &EventTiming) -> Option<Recurrence> {
    let rule = row.rrule.as_deref()?;
    Recurrence::parse_all(
        rule,
        zone_of(row).tz(),
        instants(&row.exdates),
        instants(&row.rdates),
    )
    .ok()
}

/// Where a series starts on its zone's wall clock.
pub fn first_local(row: &EventTiming) -> NaiveDateTime {
    match (row.all_day, row.start_date) {
        (true, Some(date)) => date.and_time(NaiveTime::MIN),
        _ => row.start_at.with_timezone(&zone_of(row).tz()).naive_local(),
    }
}

/// Everything of `row` that overlaps `[from, to)`, in start order. All-day times are taken in the
/// event's own zone here; availability re-reads them in the rules' zone.
pub fn occurrences(row: &EventTiming, from: Instant, to: Instant) -> Vec<Occurrence> {
    let tz = zone_of(row).tz();
    let Some(recurrence) = recurrence_of(row) else {
        let single = Occurrence {
            key: row.id.to_string(),
            series_id: None,
            start: row.start_at,
            end: row.end_at,
            dates: all_day_dates(row),
        };
        return if single.start < to && single.end > from {
            vec![single]
        } else {
            vec![]
        };
    };
    let first = first_local(row);
    match all_day_dates(row) {
        Some((start_date, end_date)) => {
            let days = end_date - start_date;
            let slack = days + Duration::days(2);
            recurrence
                .local_starts(
                    tz,
                    first,
                    (from - slack).naive_utc(),
                    (to + Duration::days(2)).naive_utc(),
                )
                .into_iter()
                .filter_map(|local| {
                    let date = local.date();
                    let start = local_instant(tz, date, TimeOfDay::MIDNIGHT);
                    let end = local_instant(tz, date + days, TimeOfDay::MIDNIGHT);
                    (start < to && end > from).then(|| Occurrence {
                        key: format!("{}/{}", row.id, occurrence_suffix(start)),
                        series_id: Some(row.id),
                        start,
                        end,
                        dates: Some((date, date + days)),
                    })
                })
                .collect()
        }
        None => {
            let duration = row.end_at - row.start_at;
            recurrence
                .starts_overlapping(tz, first, duration, from, to)
                .into_iter()
                .map(|start| Occurrence {
                    key: format!("{}/{}", row.id, occurrence_suffix(start)),
                    series_id: Some(row.id),
                    start,
                    end: start + duration,
                    dates: None,
                })
                .collect()
        }
    }
}

/// Whether the series holds so many occurrences in `[from, to)` that expansion stops at the cap
/// (`domain::recurrence::MAX_OCCURRENCES`): then only the first ones count anywhere.
pub fn is_cut(row: &EventTiming, from: Instant, to: Instant) -> bool {
    row.rrule.is_some() && occurrences(row, from, to).len() >= domain::recurrence::MAX_OCCURRENCES
}

fn all_day_dates(row: &EventTiming) -> Option<(NaiveDate, NaiveDate)> {
    match (row.all_day, row.start_date, row.end_date) {
        (true, Some(s), Some(e)) => Some((s, e)),
        _ => None,
    }
}

/// The engine's view of one occurrence of `row`, from `calendar` (its id and busy rules; the
/// default rules without one).
pub fn to_domain(
    row: &EventTiming,
    occurrence: &Occurrence,
    calendar: Option<&std::sync::Arc<domain::SourceCalendar>>,
) -> Option<Event> {
    let time = match occurrence.dates {
        Some((start, end)) => EventTime::AllDay { start, end },
        None => EventTime::Timed(Interval::new(occurrence.start, occurrence.end)?),
    };
    Some(Event {
        key: occurrence.key.clone(),
        time,
        status: EventStatus::parse(&row.status).unwrap_or(EventStatus::Confirmed),
        busy: row.busy,
        self_response: row.self_response.as_deref().and_then(SelfResponse::parse),
        ical_uid: row.ical_uid.clone(),
        title: row.title.clone(),
        out_of_office: row.out_of_office,
        calendar: calendar.cloned(),
    })
}

/// `"<uuid>"` or `"<uuid>/<YYYYMMDDTHHMMSSZ>"`.
pub fn parse_key(key: &str) -> Option<(Uuid, Option<Instant>)> {
    match key.split_once('/') {
        None => Some((key.parse().ok()?, None)),
        Some((id, suffix)) => {
            let start = NaiveDateTime::parse_from_str(suffix, "%Y%m%dT%H%M%SZ")
                .ok()?
                .and_utc();
            Some((id.parse().ok()?, Some(start)))
        }
    }
}
