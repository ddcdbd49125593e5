use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::availability::explain::ExplainRequest;
use service::availability::{
    self, AvailabilityError, AvailabilityRequest, HoursDocument, RulesDocument,
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::{invalid, ok_json, parse_instant, user_zone};
use crate::timefmt::push_rfc3339;

#[derive(Serialize, Deserialize, ToSchema, Clone)]
pub struct Hours {
    #[schema(example = "09:00")]
    start: String,
    #[schema(example = "17:00")]
    end: String,
}

/// Working hours and preferences. Times are `HH:MM` (`24:00` allowed as an end).
#[derive(Serialize, ToSchema)]
pub struct Rules {
    #[schema(example = "Europe/Berlin")]
    timezone: String,
    /// Every weekday, `monday` … `sunday`; an empty list is a day without working hours.
    weekly: BTreeMap<String, Vec<Hours>>,
    days_off: Vec<String>,
    buffer_before_minutes: i64,
    buffer_after_minutes: i64,
    minimum_notice_minutes: i64,
    slot_interval_minutes: i64,
    tentative_is_busy: bool,
    /// Which task blocks of the plan count as busy: `busy`, `at_risk` (only at-risk tasks') or `free`.
    #[schema(example = "at_risk")]
    task_blocks: String,
}

/// Rules to save. A weekday left out has no working hours; omitted numbers are 0 (slot interval 30),
/// `tentative_is_busy` true, `timezone` the user's.
#[derive(Deserialize, ToSchema)]
pub struct RulesRequest {
    timezone: Option<String>,
    #[serde(default)]
    weekly: BTreeMap<String, Vec<Hours>>,
    #[serde(default)]
    days_off: Vec<String>,
    #[serde(default)]
    buffer_before_minutes: i64,
    #[serde(default)]
    buffer_after_minutes: i64,
    #[serde(default)]
    minimum_notice_minutes: i64,
    #[serde(default = "thirty")]
    slot_interval_minutes: i64,
    #[serde(default = "yes")]
    tentative_is_busy: bool,
    /// Default `at_risk`.
    #[serde(default = "at_risk")]
    task_blocks: String,
}

fn at_risk() -> String {
    "at_risk".to_owned()
}

fn thirty() -> i64 {
    30
}
fn yes() -> bool {
    true
}

impl From<RulesDocument> for Rules {
    fn from(d: RulesDocument) -> Self {
        Rules {
            timezone: d.timezone,
            weekly: d
                .weekly
                .into_iter()
                .map(|(day, hours)| {
                    (
                        day,
                        hours
                            .into_iter()
                            .map(|h| Hours {
                                start: h.start,
                                end: h.end,
                            })
                            .collect(),
                    )
                })
                .collect(),
            days_off: d.days_off,
            buffer_before_minutes: d.buffer_before_minutes,
            buffer_after_minutes: d.buffer_after_minutes,
            minimum_notice_minutes: d.minimum_notice_minutes,
            slot_interval_minutes: d.slot_interval_minutes,
            tentative_is_busy: d.tentative_is_busy,
            task_blocks: d.task_blocks,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Span {
    #[schema(example = "2026-12-01T09:00:00+01:00")]
    start: String,
    #[schema(example = "2026-12-01T09:30:00+01:00")]
    end: String,
}

/// A calendar the answer used, and whether it can be trusted.
#[derive(Serialize, ToSchema)]
pub struct CalendarFreshness {
    id: Uuid,
    name: String,
    provider: String,
    last_synced_at: Option<String>,
    /// The local calendar always is; a connected one while its connection is active and its last
    /// good sync is newer than two sync intervals.
    fresh: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AvailabilityBody {
    timezone: String,
    duration_minutes: i64,
    slots: Vec<Span>,
    free: Vec<Span>,
    calendars: Vec<CalendarFreshness>,
    /// False when a calendar used is not fresh: free time shown may not be free.
    complete: bool,
}

#[derive(Deserialize, IntoParams)]
pub struct AvailabilityQuery {
    /// RFC 3339.
    start: Option<String>,
    /// RFC 3339; at most 92 days after start.
    end: Option<String>,
    /// Minutes.
    duration: Option<String>,
    /// IANA zone the times are written in (default: the rules' zone).
    timezone: Option<String>,
    /// Minutes between candidate starts (default: the rules' slot interval).
    interval: Option<String>,
    /// Comma-separated calendar ids to consider (default: all included in availability).
    calendar_ids: Option<String>,
}

impl From<AvailabilityError> for ApiError {
    fn from(e: AvailabilityError) -> Self {
        match e {
            AvailabilityError::Invalid(i) => invalid(i),
            AvailabilityError::UnknownCalendar => ApiError::not_found(e.to_string()),
            AvailabilityError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// The caller's rules (the defaults until they save their own).
#[utoipa::path(get, path = "/api/availability/rules", tag = "availability", security(("bearer" = [])), responses((status = 200, body = Rules)))]
#[get("/availability/rules")]
pub async fn get_rules(
    ctx: web::Data<AppContext>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let rules = availability::rules_for(&ctx.db, user.id).await?;
    Ok(ok_json(&Rules::from(RulesDocument::of(&rules))))
}

/// Replace the caller's rules.
#[utoipa::path(post, path = "/api/availability/rules", tag = "availability", request_body = RulesRequest, security(("bearer" = [])), responses(
    (status = 200, body = Rules),
    (status = 400, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "overlapping or reversed intervals, unknown zone, negative numbers"),
))]
#[post("/availability/rules")]
pub async fn save_rules(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<RulesRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let timezone = match body.timezone {
        Some(z) => z,
        None => user_zone(&ctx, user.id).await?.name().to_owned(),
    };
    let doc = RulesDocument {
        timezone,
        weekly: body
            .weekly
            .into_iter()
            .map(|(day, hours)| {
                (
                    day,
                    hours
                        .into_iter()
                        .map(|h| HoursDocument {
                            start: h.start,
                            end: h.end,
                        })
                        .collect(),
                )
            })
            .collect(),
        days_off: body.days_off,
        buffer_before_minutes: body.buffer_before_minutes,
        buffer_after_minutes: body.buffer_after_minutes,
        minimum_notice_minutes: body.minimum_notice_minutes,
        slot_interval_minutes: body.slot_interval_minutes,
        tentative_is_busy: body.tentative_is_busy,
        task_blocks: body.task_blocks,
    };
    let rules = availability::save_rules(&ctx, user.id, doc).await?;
    Ok(ok_json(&Rules::from(RulesDocument::of(&rules))))
}

fn minutes(name: &'static str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|v| {
        v.trim().parse::<i64>().map_err(|_| {
            ApiError::bad_request(format!("`{name}` must be a whole number of minutes"))
        })
    })
    .transpose()
}

/// Free slots of `duration` minutes in `[start, end)`.
#[utoipa::path(get, path = "/api/availability", tag = "availability", params(AvailabilityQuery), security(("bearer" = [])), responses(
    (status = 200, body = AvailabilityBody),
    (status = 400, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "a calendar in `calendars` is not one of the caller's"),
    (status = 422, body = ErrorBody, description = "range over 92 days, end ≤ start, duration ≤ 0, unknown timezone"),
))]
#[get("/availability")]
pub async fn get_availability(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    query: web::Query<AvailabilityQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let start = parse_instant("start", q.start.as_deref())?;
    let end = parse_instant("end", q.end.as_deref())?;
    let duration = minutes("duration", q.duration.as_deref())?
        .ok_or_else(|| ApiError::bad_request("`duration` (minutes) is required"))?;
    let interval = minutes("interval", q.interval.as_deref())?;
    let calendar_ids = calendar_ids(q.calendar_ids.as_deref())?;
    let req = AvailabilityRequest {
        start,
        end,
        duration_minutes: duration,
        interval_minutes: interval,
        calendar_ids,
        timezone: q.timezone,
    };
    let answer =
        availability::find(&ctx, user.id, Some(user.versions), req, ctx.clock.now()).await?;
    // Written by hand: thousands of zoned times, and this is the hottest route.
    let zone = answer.timezone;
    let a = &answer.availability;
    let mut body = String::with_capacity(96 + (a.slots.len() + a.free.len()) * 80);
    body.push_str("{\"timezone\":");
    body.push_str(&serde_json::to_string(zone.name()).map_err(|e| ApiError::internal(e.into()))?);
    body.push_str(",\"duration_minutes\":");
    body.push_str(&answer.duration_minutes.to_string());
    for (name, spans) in [("slots", &a.slots), ("free", &a.free)] {
        body.push_str(",\"");
        body.push_str(name);
        body.push_str("\":[");
        for (n, i) in spans.iter().enumerate() {
            if n > 0 {
                body.push(',');
            }
            body.push_str("{\"start\":\"");
            push_rfc3339(&mut body, i.start(), zone.tz());
            body.push_str("\",\"end\":\"");
            push_rfc3339(&mut body, i.end(), zone.tz());
            body.push_str("\"}");
        }
        body.push(']');
    }
    let calendars: Vec<CalendarFreshness> = answer
        .calendars
        .into_iter()
        .map(|c| CalendarFreshness {
            id: c.id,
            name: c.name,
            provider: c.provider.as_str().to_owned(),
            last_synced_at: c.last_synced_at.map(|t| {
                let mut s = String::with_capacity(25);
                push_rfc3339(&mut s, t, zone.tz());
                s
            }),
            fresh: c.fresh,
        })
        .collect();
    body.push_str(",\"calendars\":");
    body.push_str(&serde_json::to_string(&calendars).map_err(|e| ApiError::internal(e.into()))?);
    body.push_str(",\"complete\":");
    body.push_str(if answer.complete { "true" } else { "false" });
    body.push('}');
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .body(body))
}

fn calendar_ids(raw: Option<&str>) -> Result<Option<Vec<Uuid>>, ApiError> {
    raw.map(|list| {
        list.split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| {
                s.trim().parse::<Uuid>().map_err(|_| {
                    ApiError::bad_request(format!("`{s}` in calendar_ids is not a calendar id"))
                })
            })
            .collect::<Result<Vec<_>, _>>()
    })
    .transpose()
}

#[derive(Deserialize, IntoParams)]
pub struct ExplainQuery {
    /// RFC 3339.
    start: Option<String>,
    /// RFC 3339; at most 92 days after start.
    end: Option<String>,
    /// IANA zone the times are written in (default: the rules' zone).
    timezone: Option<String>,
    /// Comma-separated calendar ids to consider (default: all included in availability).
    calendar_ids: Option<String>,
}

/// Why a part of the window is not free.
#[derive(Serialize, ToSchema)]
pub struct ExplainReason {
    /// `outside_working_hours`, `day_off`, `minimum_notice` (closed); `event`, `buffer` (busy).
    kind: &'static str,
    /// For `event` and `buffer`: the event (as `GET /api/events` names it), its calendar, its title.
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    calendar_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    title: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ExplainInterval {
    start: String,
    end: String,
    /// `free`, `busy` or `closed`.
    state: &'static str,
    /// Empty for free time; one per blocking event for busy time.
    reasons: Vec<ExplainReason>,
}

#[derive(Serialize, ToSchema)]
pub struct ExplainBody {
    timezone: String,
    /// `[start, end)` tiled in order; neighbours differ in state or reasons.
    intervals: Vec<ExplainInterval>,
}

/// Every part of `[start, end)` as free, busy (with the events and buffers that block it) or
/// closed (outside working hours, a day off, within the minimum notice). The free intervals are
/// `GET /api/availability`'s.
#[utoipa::path(get, path = "/api/availability/explain", tag = "availability", params(ExplainQuery), security(("bearer" = [])), responses(
    (status = 200, body = ExplainBody),
    (status = 400, body = ErrorBody),
    (status = 404, body = ErrorBody, description = "a calendar in `calendar_ids` is not one of the caller's"),
    (status = 422, body = ErrorBody, description = "range over 92 days, end ≤ start, unknown timezone"),
))]
#[get("/availability/explain")]
pub async fn explain(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    query: web::Query<ExplainQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = query.into_inner();
    let req = ExplainRequest {
        start: parse_instant("start", q.start.as_deref())?,
        end: parse_instant("end", q.end.as_deref())?,
        calendar_ids: calendar_ids(q.calendar_ids.as_deref())?,
        timezone: q.timezone,
    };
    let answer =
        service::availability::explain::explain(&ctx, user.id, req, ctx.clock.now()).await?;
    let tz = answer.timezone.tz();
    let time = |t| {
        let mut s = String::with_capacity(25);
        push_rfc3339(&mut s, t, tz);
        s
    };
    Ok(ok_json(&ExplainBody {
        timezone: answer.timezone.name().to_owned(),
        intervals: answer
            .intervals
            .into_iter()
            .map(|i| ExplainInterval {
                start: time(i.interval.start()),
                end: time(i.interval.end()),
                state: i.state.as_str(),
                reasons: i
                    .reasons
                    .into_iter()
                    .map(|r| ExplainReason {
                        kind: r.kind,
                        event_id: r.event_id,
                        calendar_id: r.calendar_id,
                        title: r.title,
                    })
                    .collect(),
            })
            .collect(),
    }))
}
