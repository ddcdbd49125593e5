//! Working-hours rules and the "when am I free?" use-case.

pub mod cache;
pub mod explain;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::{Duration, NaiveDate};
use domain::availability::{SlotQuery, compute_with_blocked};
use domain::rules::{MAX_BUFFER_MINUTES, MAX_NOTICE_MINUTES};
use domain::{
    Availability, AvailabilityRules, Instant, Interval, IntervalSet, TimeZone, WeeklyHours,
};
use entity::{availability_rules, users};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::fields::Invalid;
use crate::{AppContext, calendars, events};
use cache::CachedEngine;

/// The longest window one availability request may cover.
pub const MAX_RANGE_DAYS: i64 = 92;

/// Rules as people write them (and as they are stored).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct RulesDocument {
    pub timezone: String,
    pub weekly: BTreeMap<String, Vec<HoursDocument>>,
    pub days_off: Vec<String>,
    pub buffer_before_minutes: i64,
    pub buffer_after_minutes: i64,
    pub minimum_notice_minutes: i64,
    pub slot_interval_minutes: i64,
    pub tentative_is_busy: bool,
    /// `busy`, `at_risk` or `free`.
    pub task_blocks: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct HoursDocument {
    pub start: String,
    pub end: String,
}

#[derive(Debug, thiserror::Error)]
pub enum AvailabilityError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("a calendar in calendar_ids does not exist")]
    UnknownCalendar,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for AvailabilityError {
    fn from(e: DbErr) -> Self {
        AvailabilityError::Internal(e.into())
    }
}

impl RulesDocument {
    pub fn parse(&self) -> Result<AvailabilityRules, Invalid> {
        let rules_err = |field: &'static str, e: domain::RulesError| {
            Invalid::new(field, "invalid_rules", e.to_string())
        };
        let timezone = TimeZone::parse(&self.timezone)
            .map_err(|e| Invalid::new("timezone", "unknown_timezone", e.to_string()))?;
        let weekly = WeeklyHours::parse(self.weekly.iter().map(|(day, hours)| {
            (
                day.as_str(),
                hours
                    .iter()
                    .map(|h| (h.start.as_str(), h.end.as_str()))
                    .collect(),
            )
        }))
        .map_err(|e| rules_err("weekly", e))?;
        let mut days_off = BTreeSet::new();
        for d in &self.days_off {
            let date = NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                Invalid::new(
                    "days_off",
                    "invalid_date",
                    format!("days_off: `{d}` is not a date such as 2026-12-24"),
                )
            })?;
            days_off.insert(date);
        }
        Ok(AvailabilityRules {
            timezone,
            weekly,
            days_off,
            buffer_before: AvailabilityRules::minutes(
                "buffer_before_minutes",
                self.buffer_before_minutes,
                MAX_BUFFER_MINUTES,
            )
            .map_err(|e| rules_err("buffer_before_minutes", e))?,
            buffer_after: AvailabilityRules::minutes(
                "buffer_after_minutes",
                self.buffer_after_minutes,
                MAX_BUFFER_MINUTES,
            )
            .map_err(|e| rules_err("buffer_after_minutes", e))?,
            minimum_notice: AvailabilityRules::minutes(
                "minimum_notice_minutes",
                self.minimum_notice_minutes,
                MAX_NOTICE_MINUTES,
            )
            .map_err(|e| rules_err("minimum_notice_minutes", e))?,
            slot_interval: AvailabilityRules::slot_interval_minutes(self.slot_interval_minutes)
                .map_err(|e| rules_err("slot_interval_minutes", e))?,
            tentative_is_busy: self.tentative_is_busy,
            task_blocks: domain::TaskBlocks::parse(&self.task_blocks).ok_or_else(|| {
                Invalid::new(
                    "task_blocks",
                    "invalid_task_blocks",
                    "task_blocks is `busy`, `at_risk` or `free`.",
                )
            })?,
        })
    }

    pub fn of(rules: &AvailabilityRules) -> Self {
        RulesDocument {
            timezone: rules.timezone.name().to_owned(),
            weekly: rules
                .weekly
                .days()
                .map(|(day, hours)| {
                    let hours = hours
                        .iter()
                        .map(|h| HoursDocument {
                            start: h.start.to_string(),
                            end: h.end.to_string(),
                        })
                        .collect();
                    (day.to_owned(), hours)
                })
                .collect(),
            days_off: rules
                .days_off
                .iter()
                .map(|d| d.format("%Y-%m-%d").to_string())
                .collect(),
            buffer_before_minutes: rules.buffer_before.num_minutes(),
            buffer_after_minutes: rules.buffer_after.num_minutes(),
            minimum_notice_minutes: rules.minimum_notice.num_minutes(),
            slot_interval_minutes: rules.slot_interval.num_minutes(),
            tentative_is_busy: rules.tentative_is_busy,
            task_blocks: rules.task_blocks.as_str().to_owned(),
        }
    }
}

/// The saved rules, or the defaults in the user's own zone.
pub async fn rules_for(
    db: &impl ConnectionTrait,
    user_id: Uuid,
) -> Result<AvailabilityRules, AvailabilityError> {
    if let Some(row) = availability_rules::Entity::find_by_id(user_id)
        .one(db)
        .await?
    {
        let doc = RulesDocument {
            timezone: row.timezone,
            weekly: serde_json::from_value(row.weekly).map_err(anyhow::Error::from)?,
            days_off: serde_json::from_value(row.days_off).map_err(anyhow::Error::from)?,
            buffer_before_minutes: row.buffer_before_minutes.into(),
            buffer_after_minutes: row.buffer_after_minutes.into(),
            minimum_notice_minutes: row.minimum_notice_minutes.into(),
            slot_interval_minutes: row.slot_interval_minutes.into(),
            tentative_is_busy: row.tentative_is_busy,
            task_blocks: row.task_blocks,
        };
        return doc.parse().map_err(|e| {
            AvailabilityError::Internal(anyhow::anyhow!("stored rules are invalid: {e}"))
        });
    }
    let user = users::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("user {user_id} vanished"))?;
    let zone = TimeZone::parse(&user.timezone).unwrap_or(TimeZone::UTC);
    Ok(AvailabilityRules::defaults(zone))
}

pub async fn save_rules(
    ctx: &AppContext,
    user_id: Uuid,
    doc: RulesDocument,
) -> Result<AvailabilityRules, AvailabilityError> {
    let db = &ctx.db;
    let rules = doc.parse()?;
    let stored = RulesDocument::of(&rules);
    let now = ctx.clock.now();
    let as_i32 = |d: Duration| i32::try_from(d.num_minutes()).unwrap_or(i32::MAX);
    let row = availability_rules::ActiveModel {
        user_id: Set(user_id),
        timezone: Set(stored.timezone.clone()),
        weekly: Set(serde_json::to_value(&stored.weekly).map_err(anyhow::Error::from)?),
        days_off: Set(serde_json::to_value(&stored.days_off).map_err(anyhow::Error::from)?),
        buffer_before_minutes: Set(as_i32(rules.buffer_before)),
        buffer_after_minutes: Set(as_i32(rules.buffer_after)),
        minimum_notice_minutes: Set(as_i32(rules.minimum_notice)),
        slot_interval_minutes: Set(as_i32(rules.slot_interval)),
        tentative_is_busy: Set(rules.tentative_is_busy),
        task_blocks: Set(rules.task_blocks.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    use availability_rules::Column as C;
    availability_rules::Entity::insert(row)
        .on_conflict(
            OnConflict::column(C::UserId)
                .update_columns([
                    C::Timezone,
                    C::Weekly,
                    C::DaysOff,
                    C::BufferBeforeMinutes,
                    C::BufferAfterMinutes,
                    C::MinimumNoticeMinutes,
                    C::SlotIntervalMinutes,
                    C::TentativeIsBusy,
                    C::TaskBlocks,
                    C::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    crate::audit::record(
        db,
        crate::audit::Entry {
            user_id: Some(user_id),
            actor: crate::audit::Actor::User,
            action: "availability_rules.saved",
            entity_type: "availability_rules",
            entity_id: Some(user_id.to_string()),
            details: None,
            at: now,
        },
    )
    .await?;
    // Working hours and buffers shape every day from now on.
    crate::version::touch(
        db,
        user_id,
        Some(crate::notifications::availability::Span::from_now(now)),
    )
    .await?;
    crate::follow_up::availability_changed(ctx, user_id).await;
    Ok(rules)
}

#[derive(Debug)]
pub struct AvailabilityRequest {
    pub start: Instant,
    pub end: Instant,
    pub duration_minutes: i64,
    pub interval_minutes: Option<i64>,
    pub calendar_ids: Option<Vec<Uuid>>,
    /// How times are written back; working hours always use the rules' zone.
    pub timezone: Option<String>,
}

pub struct AvailabilityAnswer {
    pub timezone: TimeZone,
    pub duration_minutes: i64,
    pub availability: Availability,
    /// The calendars the answer used, and whether each is fresh.
    pub calendars: Vec<calendars::Freshness>,
    /// False when one of them is not: the answer may show free time that is not free.
    pub complete: bool,
}

/// What availability is computed from: the rules and the time blocked by busy events.
pub enum EngineInput {
    Cached(Arc<CachedEngine>),
    Loaded(Box<(AvailabilityRules, IntervalSet)>),
}

impl EngineInput {
    pub fn rules(&self) -> &AvailabilityRules {
        match self {
            EngineInput::Cached(e) => &e.rules,
            EngineInput::Loaded(loaded) => &loaded.0,
        }
    }

    pub fn blocked(&self) -> &IntervalSet {
        match self {
            EngineInput::Cached(e) => &e.blocked,
            EngineInput::Loaded(loaded) => &loaded.1,
        }
    }
}

/// The user's engine input covering `range` over every included calendar: from the cache when
/// it reaches that far, else from the database.
///
/// `version` is the user's availability version if this request already read it (the
/// authenticated api has), else `None` and it is read here.
pub async fn engine_input(
    ctx: &AppContext,
    user_id: Uuid,
    version: Option<i64>,
    range: &Interval,
    now: Instant,
) -> Result<EngineInput, AvailabilityError> {
    if let Some(cached) = ctx
        .engine_cache
        .get(&ctx.db, user_id, version, range, now)
        .await?
    {
        return Ok(EngineInput::Cached(cached));
    }
    let included = calendars::included_ids(&ctx.db, user_id).await?;
    load_input(&ctx.db, user_id, range, &included, true).await
}

async fn load_input(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    range: &Interval,
    calendars: &[Uuid],
    with_tasks: bool,
) -> Result<EngineInput, AvailabilityError> {
    let rules = rules_for(db, user_id).await?;
    let rows =
        events::timings_in_window(db, user_id, range.start(), range.end(), Some(calendars)).await?;
    let sources = calendars::sources(db, user_id).await?;
    let events = events::domain_events(&rows, &sources, range.start(), range.end());
    let mut blocked = domain::availability::blocked(&rules, &events);
    if with_tasks {
        let blocks = task_blocks_in(db, user_id, range).await?;
        blocked = domain::availability::with_task_blocks(&rules, blocked, &blocks);
    }
    Ok(EngineInput::Loaded(Box::new((rules, blocked))))
}

/// What the plan works with: the rules and the time events block, task blocks left out.
pub async fn planning_input(
    ctx: &AppContext,
    user_id: Uuid,
    range: &Interval,
) -> Result<EngineInput, AvailabilityError> {
    let included = calendars::included_ids(&ctx.db, user_id).await?;
    load_input(&ctx.db, user_id, range, &included, false).await
}

/// The plan's blocks overlapping `range`, each with whether its task is at risk.
pub async fn task_blocks_in(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    range: &Interval,
) -> Result<Vec<(Interval, bool)>, DbErr> {
    use entity::{task_blocks, tasks};
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let blocks = task_blocks::Entity::find()
        .filter(task_blocks::Column::UserId.eq(user_id))
        .filter(task_blocks::Column::StartAt.lt(range.end()))
        .filter(task_blocks::Column::EndAt.gt(range.start()))
        .all(db)
        .await?;
    if blocks.is_empty() {
        return Ok(Vec::new());
    }
    let at_risk: BTreeSet<Uuid> = tasks::Entity::find()
        .select_only()
        .column(tasks::Column::Id)
        .filter(tasks::Column::UserId.eq(user_id))
        .filter(tasks::Column::AtRisk.eq(true))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    Ok(blocks
        .into_iter()
        .filter_map(|b| {
            Some((
                Interval::new(b.start_at, b.end_at)?,
                at_risk.contains(&b.task_id),
            ))
        })
        .collect())
}

/// `versions`: the user's versions if this request already read them (the authenticated api
/// has), else `None` and what they guard is read here.
pub async fn find(
    ctx: &AppContext,
    user_id: Uuid,
    versions: Option<crate::version::Versions>,
    req: AvailabilityRequest,
    now: Instant,
) -> Result<AvailabilityAnswer, AvailabilityError> {
    let range = crate::fields::query_range(req.start, req.end, MAX_RANGE_DAYS)?;
    if req.duration_minutes <= 0 || req.duration_minutes > 24 * 60 * MAX_RANGE_DAYS {
        return Err(Invalid::new(
            "duration",
            "invalid_duration",
            "duration must be a positive number of minutes",
        )
        .into());
    }
    if let Some(i) = req.interval_minutes
        && !(1..=24 * 60).contains(&i)
    {
        return Err(Invalid::new(
            "interval",
            "invalid_interval",
            "interval must be between 1 and 1440 minutes",
        )
        .into());
    }
    let output_zone = req
        .timezone
        .as_deref()
        .map(TimeZone::parse)
        .transpose()
        .map_err(|e| Invalid::new("timezone", "unknown_timezone", e.to_string()))?;

    let (input, chosen) = match req.calendar_ids {
        None => (
            engine_input(ctx, user_id, versions.map(|v| v.events), &range, now).await?,
            None,
        ),
        Some(wanted) => {
            let chosen = chosen_calendars(&ctx.db, user_id, &wanted).await?;
            (
                load_input(&ctx.db, user_id, &range, &chosen, true).await?,
                Some(chosen),
            )
        }
    };
    let interval = ctx.settings.sync_every();
    let states = ctx
        .engine_cache
        .calendar_states(&ctx.db, user_id, versions.map(|v| v.calendars))
        .await?;
    let freshness = calendars::freshness(&states, chosen.as_deref(), now, interval);
    let (rules, blocked) = (input.rules(), input.blocked());
    let step = req
        .interval_minutes
        .map_or(rules.slot_interval, Duration::minutes);
    let query = SlotQuery {
        range,
        duration: Duration::minutes(req.duration_minutes),
        step,
        now,
    };
    Ok(AvailabilityAnswer {
        timezone: output_zone.unwrap_or(rules.timezone),
        duration_minutes: req.duration_minutes,
        availability: compute_with_blocked(rules, blocked, &query),
        complete: freshness.iter().all(|c| c.fresh),
        calendars: freshness,
    })
}

/// The included calendars among `wanted`, all of which must be the user's.
async fn chosen_calendars(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    wanted: &[Uuid],
) -> Result<Vec<Uuid>, AvailabilityError> {
    let owned = calendars::owned_ids(db, user_id, wanted).await?;
    if owned.len() != wanted.iter().collect::<BTreeSet<_>>().len() {
        return Err(AvailabilityError::UnknownCalendar);
    }
    let included = calendars::included_ids(db, user_id).await?;
    Ok(owned
        .into_iter()
        .filter(|id| included.contains(id))
        .collect())
}
