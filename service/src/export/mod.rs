//! Availability as a Cal.com schedule (contract.md, "Export to Cal.com"), and the settings of the
//! automatic export.

mod calcom;

use chrono::{Duration, NaiveTime, Weekday};
use domain::export::{DateOverride, WeeklyEntry};
use domain::rules::TimeOfDay;
use domain::{Instant, Interval};
use entity::calcom_exports;
pub use providers::calcom::ScheduleBody;
use providers::calcom::{ScheduleHours, ScheduleOverride};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr, EntityTrait, Set};
use uuid::Uuid;

pub use calcom::{PushOutcome, PushResult, export_due, push_calcom};

use crate::AppContext;
use crate::availability::{self, AvailabilityError};
use crate::fields::Invalid;

/// How many days ahead the overrides reach unless the person says otherwise.
pub const DEFAULT_DAYS: i64 = 60;
pub const MAX_DAYS: i64 = 365;
/// The schedule's name at Cal.com.
pub const SCHEDULE_NAME: &str = "freeslot";

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no Cal.com account is connected")]
    NotConnected,
    #[error("the Cal.com connection needs to be reconnected")]
    NeedsReauth,
    #[error("Cal.com is rate limiting; try again in {retry_after_seconds} s")]
    RateLimited { retry_after_seconds: u64 },
    #[error("Cal.com refused or failed: {0}")]
    Provider(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for ExportError {
    fn from(e: DbErr) -> Self {
        ExportError::Internal(e.into())
    }
}

impl From<AvailabilityError> for ExportError {
    fn from(e: AvailabilityError) -> Self {
        match e {
            AvailabilityError::Invalid(i) => ExportError::Invalid(i),
            other => ExportError::Internal(other.into()),
        }
    }
}

pub fn parse_days(days: Option<i64>) -> Result<i64, Invalid> {
    let days = days.unwrap_or(DEFAULT_DAYS);
    if (1..=MAX_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(Invalid::new(
            "days",
            "invalid_days",
            format!("days must be between 1 and {MAX_DAYS}"),
        ))
    }
}

/// The schedule body for the local dates from today through `days` ahead, in the rules' zone.
pub async fn schedule(
    ctx: &AppContext,
    user_id: Uuid,
    days: i64,
    now: Instant,
) -> Result<ScheduleBody, ExportError> {
    // The rules (and so the zone) come with the engine's input, so its range is taken in UTC
    // wide enough for any zone (−12 h to +14 h, a local date lies within a day of the UTC one),
    // plus a day on each side for the buffers (at most a day) of events just outside.
    let today_utc = now.date_naive();
    let range = Interval::new(
        (today_utc - Duration::days(3))
            .and_time(NaiveTime::MIN)
            .and_utc(),
        (today_utc + Duration::days(days + 4))
            .and_time(NaiveTime::MIN)
            .and_utc(),
    )
    .expect("a range of whole days");
    let input = availability::engine_input(ctx, user_id, None, &range, now).await?;
    let first = now.with_timezone(&input.rules().timezone.tz()).date_naive();
    let last = first + Duration::days(days);
    let rules = input.rules();
    Ok(ScheduleBody {
        name: SCHEDULE_NAME.to_owned(),
        time_zone: rules.timezone.name().to_owned(),
        is_default: false,
        availability: domain::export::weekly(rules)
            .iter()
            .map(weekly_hours)
            .collect(),
        overrides: domain::export::overrides(rules, input.blocked(), first, last)
            .iter()
            .map(date_override)
            .collect(),
    })
}

fn weekly_hours(entry: &WeeklyEntry) -> ScheduleHours {
    ScheduleHours {
        days: entry.days.iter().map(|d| day_name(*d).to_owned()).collect(),
        start_time: cal_time(entry.hours.start),
        end_time: cal_time(entry.hours.end),
    }
}

fn date_override(o: &DateOverride) -> ScheduleOverride {
    ScheduleOverride {
        date: o.date.format("%Y-%m-%d").to_string(),
        start_time: cal_time(o.hours.start),
        end_time: cal_time(o.hours.end),
    }
}

/// Cal.com accepts 00:00–23:59 only: the end of the day is written 23:59.
fn cal_time(t: TimeOfDay) -> String {
    if t == TimeOfDay::END_OF_DAY {
        "23:59".to_owned()
    } else {
        t.to_string()
    }
}

fn day_name(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "Monday",
        Weekday::Tue => "Tuesday",
        Weekday::Wed => "Wednesday",
        Weekday::Thu => "Thursday",
        Weekday::Fri => "Friday",
        Weekday::Sat => "Saturday",
        Weekday::Sun => "Sunday",
    }
}

/// The export's settings and what happened last.
#[derive(Clone, Debug)]
pub struct ExportStatus {
    pub auto_export: bool,
    pub days: i64,
    pub schedule_id: Option<String>,
    pub exported_at: Option<Instant>,
    pub checked_at: Option<Instant>,
    pub last_error: Option<String>,
}

impl From<Option<calcom_exports::Model>> for ExportStatus {
    fn from(row: Option<calcom_exports::Model>) -> Self {
        match row {
            Some(r) => ExportStatus {
                auto_export: r.auto_export,
                days: i64::from(r.days),
                schedule_id: r.schedule_id,
                exported_at: r.exported_at,
                checked_at: r.checked_at,
                last_error: r.last_error,
            },
            None => ExportStatus {
                auto_export: false,
                days: DEFAULT_DAYS,
                schedule_id: None,
                exported_at: None,
                checked_at: None,
                last_error: None,
            },
        }
    }
}

pub async fn status(db: &DatabaseConnection, user_id: Uuid) -> Result<ExportStatus, DbErr> {
    Ok(calcom_exports::Entity::find_by_id(user_id)
        .one(db)
        .await?
        .into())
}

/// Switches the automatic export (after every sync that changed something, and daily as the
/// dates move on) and sets how far ahead it reaches.
pub async fn configure(
    ctx: &AppContext,
    user_id: Uuid,
    auto_export: Option<bool>,
    days: Option<i64>,
) -> Result<ExportStatus, ExportError> {
    let days = days.map(|d| parse_days(Some(d))).transpose()?;
    let db = &ctx.db;
    ensure_row(db, user_id, ctx.clock.now()).await?;
    let mut row = calcom_exports::ActiveModel {
        user_id: Set(user_id),
        ..Default::default()
    };
    if let Some(auto) = auto_export {
        row.auto_export = Set(auto);
        row.due_at = Set(Some(ctx.clock.now()));
    }
    if let Some(days) = days {
        row.days = Set(i32::try_from(days).expect("at most MAX_DAYS"));
    }
    row.updated_at = Set(ctx.clock.now());
    let txn = crate::db::begin_write(db).await?;
    calcom_exports::Entity::update(row).exec(&txn).await?;
    crate::audit::record(
        &txn,
        crate::audit::Entry::new(
            crate::audit::Actor::User,
            user_id,
            "export.configured",
            "calcom_export",
            user_id,
            ctx.clock.now(),
        )
        .details(serde_json::json!({"auto_export": auto_export, "days": days})),
    )
    .await?;
    txn.commit().await?;
    if auto_export == Some(true) {
        // Switching it on exports now, not at the next sync; if the queue is down, the
        // schedule's next look at due exports does it.
        crate::follow_up::export_if_automatic(ctx, user_id).await;
    }
    Ok(status(db, user_id).await?)
}

async fn ensure_row(db: &impl ConnectionTrait, user_id: Uuid, now: Instant) -> Result<(), DbErr> {
    calcom_exports::Entity::insert(calcom_exports::ActiveModel {
        user_id: Set(user_id),
        auto_export: Set(false),
        days: Set(i32::try_from(DEFAULT_DAYS).expect("small")),
        pending: Set(false),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(calcom_exports::Column::UserId)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await
    .map(drop)
}
