//! Manual events: what a user may send, and how it becomes a row.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::rules::{TimeOfDay, local_instant};
use domain::{EventStatus, Instant, Recurrence, TimeZone};
use entity::events;

use crate::fields::Invalid;

/// Fields of a create or a patch. `None` leaves a field as it is (or at its default when
/// creating); `Some(None)` clears a clearable field.
#[derive(Debug, Default, Clone)]
pub struct ManualEventInput {
    pub title: Option<String>,
    pub description: Option<Option<String>>,
    pub location: Option<Option<String>>,
    pub start: Option<String>,
    pub end: Option<String>,
    pub all_day: Option<bool>,
    pub start_date: Option<String>,
    pub end_date: Option<String>,
    pub busy: Option<bool>,
    pub status: Option<String>,
    pub timezone: Option<String>,
    pub rrule: Option<Option<String>>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Timing {
    Timed { start: Instant, end: Instant },
    AllDay { start: NaiveDate, end: NaiveDate },
}

/// A manual event with every field resolved and checked.
#[derive(Clone, Debug)]
pub struct Draft {
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub timing: Timing,
    pub busy: bool,
    pub status: EventStatus,
    pub timezone: TimeZone,
    pub rrule: Option<String>,
    pub exdates: Vec<Instant>,
}

const MAX_TITLE: usize = 1000;
const MAX_TEXT: usize = 20_000;

fn invalid(field: &'static str, code: &'static str, message: impl Into<String>) -> Invalid {
    Invalid::new(field, code, message)
}

fn instant(field: &'static str, raw: &str) -> Result<Instant, Invalid> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| invalid(field, "invalid_datetime", format!("{field} must be an RFC 3339 time with an offset, such as 2026-12-01T09:00:00+01:00")))
}

fn date(field: &'static str, raw: &str) -> Result<NaiveDate, Invalid> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d").map_err(|_| {
        invalid(
            field,
            "invalid_date",
            format!("{field} must be a date such as 2026-12-24"),
        )
    })
}

fn text(field: &'static str, value: Option<String>, max: usize) -> Result<Option<String>, Invalid> {
    match value {
        Some(v) if v.chars().count() > max => Err(invalid(
            field,
            "too_long",
            format!("{field} must be at most {max} characters"),
        )),
        other => Ok(other),
    }
}

impl Draft {
    /// A new event from `input`; `default_zone` is the user's.
    pub fn create(input: ManualEventInput, default_zone: TimeZone) -> Result<Self, Invalid> {
        let title = input
            .title
            .clone()
            .ok_or_else(|| invalid("title", "missing_field", "title is required"))?;
        let timing_given = input.start.is_some()
            || input.end.is_some()
            || input.start_date.is_some()
            || input.end_date.is_some();
        if !timing_given {
            return Err(invalid(
                "start",
                "missing_field",
                "give start and end, or all_day with start_date and end_date",
            ));
        }
        let base = Draft {
            title,
            description: None,
            location: None,
            timing: Timing::Timed {
                start: DateTime::<Utc>::MIN_UTC,
                end: DateTime::<Utc>::MIN_UTC,
            },
            busy: true,
            status: EventStatus::Confirmed,
            timezone: default_zone,
            rrule: None,
            exdates: Vec::new(),
        };
        base.apply(input, true)
    }

    /// The draft of an existing row.
    pub fn from_row(row: &events::Model) -> Self {
        let timing = match (row.all_day, row.start_date, row.end_date) {
            (true, Some(start), Some(end)) => Timing::AllDay { start, end },
            _ => Timing::Timed {
                start: row.start_at,
                end: row.end_at,
            },
        };
        Draft {
            title: row.title.clone(),
            description: row.description.clone(),
            location: row.location.clone(),
            timing,
            busy: row.busy,
            status: EventStatus::parse(&row.status).unwrap_or(EventStatus::Confirmed),
            timezone: crate::series::zone_named(row.timezone.as_deref()),
            rrule: row.rrule.clone(),
            exdates: crate::series::instants(&row.exdates),
        }
    }

    /// Applies a patch and checks the result as a whole: a bad patch changes nothing.
    pub fn apply(mut self, input: ManualEventInput, creating: bool) -> Result<Self, Invalid> {
        if let Some(title) = input.title {
            let title = title.trim().to_owned();
            if title.chars().count() > MAX_TITLE {
                return Err(invalid(
                    "title",
                    "too_long",
                    format!("title must be at most {MAX_TITLE} characters"),
                ));
            }
            self.title = title;
        }
        if let Some(d) = input.description {
            self.description = text("description", d, MAX_TEXT)?;
        }
        if let Some(l) = input.location {
            self.location = text("location", l, MAX_TITLE)?;
        }
        if let Some(busy) = input.busy {
            self.busy = busy;
        }
        if let Some(status) = input.status {
            self.status = match EventStatus::parse(status.trim()) {
                Some(s @ (EventStatus::Confirmed | EventStatus::Tentative)) => s,
                _ => {
                    return Err(invalid(
                        "status",
                        "invalid_status",
                        "status must be `confirmed` or `tentative`",
                    ));
                }
            };
        }
        if let Some(zone) = input.timezone {
            self.timezone = TimeZone::parse(&zone)
                .map_err(|e| invalid("timezone", "unknown_timezone", e.to_string()))?;
        }

        let timed_given = input.start.is_some() || input.end.is_some();
        let dates_given = input.start_date.is_some() || input.end_date.is_some();
        let wants_all_day = input.all_day.unwrap_or(dates_given && !timed_given);
        if timed_given && (dates_given || input.all_day == Some(true)) {
            return Err(invalid(
                "all_day",
                "ambiguous_timing",
                "give either start and end, or all_day with start_date and end_date, not both",
            ));
        }
        if wants_all_day {
            let (old_start, old_end) = match self.timing {
                Timing::AllDay { start, end } if !creating => (Some(start), Some(end)),
                _ => (None, None),
            };
            let start = match input.start_date {
                Some(s) => date("start_date", &s)?,
                None => old_start.ok_or_else(|| {
                    invalid(
                        "start_date",
                        "missing_field",
                        "an all-day event needs start_date",
                    )
                })?,
            };
            let end = match input.end_date {
                Some(s) => date("end_date", &s)?,
                None => old_end.ok_or_else(|| {
                    invalid(
                        "end_date",
                        "missing_field",
                        "an all-day event needs end_date (exclusive)",
                    )
                })?,
            };
            if end <= start {
                return Err(invalid(
                    "end_date",
                    "invalid_time_range",
                    "end_date must be after start_date (it is exclusive: a one-day event ends the next day)",
                ));
            }
            self.timing = Timing::AllDay { start, end };
        } else if timed_given || input.all_day == Some(false) {
            let (old_start, old_end) = match self.timing {
                Timing::Timed { start, end } if !creating => (Some(start), Some(end)),
                _ => (None, None),
            };
            let start = match input.start {
                Some(s) => instant("start", &s)?,
                None => old_start
                    .ok_or_else(|| invalid("start", "missing_field", "start is required"))?,
            };
            let end = match input.end {
                Some(s) => instant("end", &s)?,
                None => {
                    old_end.ok_or_else(|| invalid("end", "missing_field", "end is required"))?
                }
            };
            if end <= start {
                return Err(invalid(
                    "end",
                    "invalid_time_range",
                    "end must be after start",
                ));
            }
            self.timing = Timing::Timed { start, end };
        }

        if let Some(rule) = input.rrule {
            self.rrule = rule
                .map(|r| r.trim().trim_start_matches("RRULE:").to_owned())
                .filter(|r| !r.is_empty());
        }
        if let Some(rule) = &self.rrule {
            let recurrence =
                Recurrence::parse(rule, self.timezone.tz(), self.exdates.clone(), vec![])
                    .map_err(|e| invalid("rrule", "invalid_rrule", e.to_string()))?;
            recurrence
                .validate(self.timezone.tz(), self.first_local())
                .map_err(|e| invalid("rrule", "invalid_rrule", e.to_string()))?;
            if recurrence.too_many_occurrences(self.timezone.tz(), self.first_local()) {
                return Err(invalid(
                    "rrule",
                    "too_many_occurrences",
                    format!(
                        "the rule repeats more than {} times within two years; \
                         give it a COUNT, an UNTIL or a longer interval",
                        domain::recurrence::MAX_OCCURRENCES
                    ),
                ));
            }
        }
        Ok(self)
    }

    fn first_local(&self) -> chrono::NaiveDateTime {
        match self.timing {
            Timing::Timed { start, .. } => start.with_timezone(&self.timezone.tz()).naive_local(),
            Timing::AllDay { start, .. } => start.and_time(chrono::NaiveTime::MIN),
        }
    }

    /// `(start_at, end_at, range_end_at)` for storage and the range index.
    pub fn instants(&self) -> (Instant, Instant, Instant) {
        let tz = self.timezone.tz();
        let (start, end) = match self.timing {
            Timing::Timed { start, end } => (start, end),
            Timing::AllDay { start, end } => (
                local_instant(tz, start, TimeOfDay::MIDNIGHT),
                local_instant(tz, end, TimeOfDay::MIDNIGHT),
            ),
        };
        let range_end = match &self.rrule {
            Some(rule) => Recurrence::parse(rule, tz, self.exdates.clone(), vec![])
                .map(|r| match self.timing {
                    // All-day occurrences are as long in days as the first, so measure in days.
                    Timing::AllDay { start: s, end: e } => {
                        r.last_end(tz, self.first_local(), e - s + Duration::hours(3))
                    }
                    Timing::Timed { .. } => r.last_end(tz, self.first_local(), end - start),
                })
                .unwrap_or(end)
                .max(end),
            None => end,
        };
        (start, end, range_end)
    }
}
