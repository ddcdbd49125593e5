//! `GET /api/availability/explain`: why each part of a window is free, busy or closed.

use chrono::Duration;
use domain::explain::{Reason, State};
use domain::{Instant, Interval, TimeZone};
use uuid::Uuid;

use super::{AvailabilityError, MAX_RANGE_DAYS, chosen_calendars, rules_for};
use crate::fields::Invalid;
use crate::{AppContext, calendars, events};

#[derive(Debug)]
pub struct ExplainRequest {
    pub start: Instant,
    pub end: Instant,
    pub calendar_ids: Option<Vec<Uuid>>,
    /// How times are written back; working hours always use the rules' zone.
    pub timezone: Option<String>,
}

/// One reason, with the event it names (for `event` and `buffer`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonView {
    pub kind: &'static str,
    /// The event's id as `GET /api/events` gives it (`<series id>/<start>` for an occurrence).
    pub event_id: Option<String>,
    pub calendar_id: Option<String>,
    pub title: Option<String>,
}

#[derive(Clone, Debug)]
pub struct ExplainedView {
    pub interval: Interval,
    pub state: State,
    pub reasons: Vec<ReasonView>,
}

pub struct Explanation {
    pub timezone: TimeZone,
    pub intervals: Vec<ExplainedView>,
}

/// The window tiled by `domain::explain`, over the same calendars, rules and busy test as
/// `GET /api/availability` (its free intervals are that answer's).
pub async fn explain(
    ctx: &AppContext,
    user_id: Uuid,
    req: ExplainRequest,
    now: Instant,
) -> Result<Explanation, AvailabilityError> {
    let range = crate::fields::query_range(req.start, req.end, MAX_RANGE_DAYS)?;
    let output_zone = req
        .timezone
        .as_deref()
        .map(TimeZone::parse)
        .transpose()
        .map_err(|e| Invalid::new("timezone", "unknown_timezone", e.to_string()))?;
    let db = &ctx.db;
    let chosen = match req.calendar_ids {
        Some(wanted) => chosen_calendars(db, user_id, &wanted).await?,
        None => calendars::included_ids(db, user_id).await?,
    };
    let rules = rules_for(db, user_id).await?;
    // Buffers reach beyond the window: an event just outside it may block its edge.
    let reach = rules.buffer_before.max(rules.buffer_after) + Duration::days(1);
    let (from, to) = (range.start() - reach, range.end() + reach);
    let rows = events::timings_in_window(db, user_id, from, to, Some(&chosen)).await?;
    let sources = calendars::sources(db, user_id).await?;
    let events = events::domain_events(&rows, &sources, from, to);
    let explained = domain::explain::explain(&rules, &events, &range, now);
    let intervals = explained
        .into_iter()
        .map(|e| ExplainedView {
            interval: e.interval,
            state: e.state,
            reasons: e
                .reasons
                .into_iter()
                .map(|r: Reason| {
                    let event = r.event().map(|i| &events[i]);
                    ReasonView {
                        kind: r.kind(),
                        event_id: event.map(|e| e.key.clone()),
                        calendar_id: event.and_then(|e| e.calendar_id().map(str::to_owned)),
                        title: event.map(|e| e.title.clone()),
                    }
                })
                .collect(),
        })
        .collect();
    Ok(Explanation {
        timezone: output_zone.unwrap_or(rules.timezone),
        intervals,
    })
}
