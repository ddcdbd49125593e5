//! Hours booked per client and per week.

use chrono::{Datelike, Duration, NaiveDate};
use domain::rules::{TimeOfDay, local_instant};
use domain::{Instant, Interval, IntervalSet, TimeZone};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

use super::{ClientError, owned};
use crate::events::Assigner;
use crate::events::{self, EventTiming};
use crate::series;

/// The longest range one question may cover.
pub const MAX_RANGE_DAYS: i64 = 731;

pub struct ClientHours {
    pub client_id: Uuid,
    pub total_minutes: i64,
    /// Monday (in the user's zone) of each week overlapping the range, with its minutes.
    pub weeks: Vec<(NaiveDate, i64)>,
}

/// Time booked to the client within `[start, end)`: its events that are neither cancelled, nor
/// declined, nor all-day, counted once where they overlap (a meeting seen in two calendars, or two
/// meetings for the same client at once, is booked time only once).
pub async fn hours(
    db: &DatabaseConnection,
    user_id: Uuid,
    client_id: Uuid,
    start: Instant,
    end: Instant,
) -> Result<ClientHours, ClientError> {
    let range = crate::fields::query_range(start, end, MAX_RANGE_DAYS)?;
    owned(db, user_id, client_id).await?;
    let zone = crate::users::get(db, user_id)
        .await
        .map_err(|e| ClientError::Internal(e.into()))?
        .timezone;
    let tz = TimeZone::parse(&zone).unwrap_or(TimeZone::UTC).tz();

    let assigner = Assigner::load(db, user_id).await?;
    let rows = events::rows_in_window(db, user_id, start, end, None).await?;
    let mut booked = Vec::new();
    for row in rows.iter().filter(|r| {
        !r.all_day
            && r.status != "cancelled"
            && r.self_response.as_deref() != Some("declined")
            && assigner.client_of(r) == Some(client_id)
    }) {
        for occ in series::occurrences(&EventTiming::from(row), start, end) {
            if let Some(i) = Interval::new(occ.start, occ.end).and_then(|i| i.intersection(&range))
            {
                booked.push(i);
            }
        }
    }
    let booked = IntervalSet::from_intervals(booked);

    let monday =
        |date: NaiveDate| date - Duration::days(i64::from(date.weekday().num_days_from_monday()));
    let mut week = monday(start.with_timezone(&tz).date_naive());
    let mut weeks = Vec::new();
    loop {
        let from = local_instant(tz, week, TimeOfDay::MIDNIGHT);
        if from >= end {
            break;
        }
        let to = local_instant(tz, week + Duration::days(7), TimeOfDay::MIDNIGHT);
        let seconds: i64 = Interval::new(from, to)
            .map(|w| {
                booked
                    .iter()
                    .filter_map(|b| b.intersection(&w))
                    .map(|i| i.duration().num_seconds())
                    .sum()
            })
            .unwrap_or(0);
        weeks.push((week, seconds / 60));
        week += Duration::days(7);
    }
    Ok(ClientHours {
        client_id,
        total_minutes: weeks.iter().map(|(_, m)| m).sum(),
        weeks,
    })
}
