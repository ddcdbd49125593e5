//! A person's availability rules: weekly working hours in their zone, days off, buffers, notice.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, Weekday};

use crate::TimeZone;
use crate::interval::{Instant, Interval};
use crate::local::resolve_forward;

/// Minutes since local midnight, `00:00` to `24:00`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub const MIDNIGHT: TimeOfDay = TimeOfDay(0);
    pub const END_OF_DAY: TimeOfDay = TimeOfDay(24 * 60);

    /// `HH:MM` with `HH` 00–24 and `MM` 00–59; `24:00` is the only time in hour 24.
    pub fn parse(s: &str) -> Option<Self> {
        let (h, m) = s.split_once(':')?;
        if h.len() != 2 || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        if m > 59 || h > 24 || (h == 24 && m != 0) {
            return None;
        }
        Some(TimeOfDay(h * 60 + m))
    }

    pub fn from_minutes(minutes: u16) -> Option<Self> {
        (minutes <= 24 * 60).then_some(TimeOfDay(minutes))
    }

    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

/// `[start, end)` within one local day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DayInterval {
    pub start: TimeOfDay,
    pub end: TimeOfDay,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("{day}: `{value}` is not a time of day (HH:MM, 00:00 to 24:00)")]
    BadTime { day: &'static str, value: String },
    #[error("{day}: an interval must start before it ends ({start}–{end})")]
    Reversed {
        day: &'static str,
        start: String,
        end: String,
    },
    #[error("{day}: intervals {a} and {b} overlap")]
    Overlapping {
        day: &'static str,
        a: String,
        b: String,
    },
    #[error("`{0}` is not a weekday (monday … sunday)")]
    UnknownDay(String),
    #[error("{field} must be between 0 and {max}, got {value}")]
    OutOfRange {
        field: &'static str,
        value: i64,
        max: i64,
    },
    #[error("slot_interval_minutes must be between 1 and {max}, got {value}")]
    BadSlotInterval { value: i64, max: i64 },
}

pub const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// Working hours per weekday (index 0 = Monday), each day's intervals sorted and disjoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WeeklyHours([Vec<DayInterval>; 7]);

impl WeeklyHours {
    /// Parses `(weekday name, [(start, end)])`; a weekday left out has no working hours.
    pub fn parse<'a>(
        days: impl IntoIterator<Item = (&'a str, Vec<(&'a str, &'a str)>)>,
    ) -> Result<Self, RulesError> {
        let mut week: [Vec<DayInterval>; 7] = Default::default();
        for (name, intervals) in days {
            let index = WEEKDAYS
                .iter()
                .position(|d| *d == name)
                .ok_or_else(|| RulesError::UnknownDay(name.to_owned()))?;
            let day = WEEKDAYS[index];
            let mut parsed = Vec::with_capacity(intervals.len());
            for (start, end) in intervals {
                let s = TimeOfDay::parse(start).ok_or_else(|| RulesError::BadTime {
                    day,
                    value: start.to_owned(),
                })?;
                let e = TimeOfDay::parse(end).ok_or_else(|| RulesError::BadTime {
                    day,
                    value: end.to_owned(),
                })?;
                if s >= e {
                    return Err(RulesError::Reversed {
                        day,
                        start: start.to_owned(),
                        end: end.to_owned(),
                    });
                }
                parsed.push(DayInterval { start: s, end: e });
            }
            parsed.sort();
            for pair in parsed.windows(2) {
                if pair[1].start < pair[0].end {
                    return Err(RulesError::Overlapping {
                        day,
                        a: format!("{}–{}", pair[0].start, pair[0].end),
                        b: format!("{}–{}", pair[1].start, pair[1].end),
                    });
                }
            }
            week[index] = parsed;
        }
        Ok(WeeklyHours(week))
    }

    /// Monday to Friday, 09:00–17:00.
    pub fn office_hours() -> Self {
        let nine_to_five = vec![DayInterval {
            start: TimeOfDay(9 * 60),
            end: TimeOfDay(17 * 60),
        }];
        let mut week: [Vec<DayInterval>; 7] = Default::default();
        for day in week.iter_mut().take(5) {
            *day = nine_to_five.clone();
        }
        WeeklyHours(week)
    }

    pub fn day(&self, weekday: Weekday) -> &[DayInterval] {
        &self.0[weekday.num_days_from_monday() as usize]
    }

    /// `(weekday name, intervals)` for every weekday, Monday first.
    pub fn days(&self) -> impl Iterator<Item = (&'static str, &[DayInterval])> {
        WEEKDAYS
            .iter()
            .copied()
            .zip(self.0.iter().map(Vec::as_slice))
    }
}

/// Which task blocks of the plan count as busy in availability, conflicts and feeds (never in
/// planning itself).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TaskBlocks {
    Busy,
    /// Only the blocks of tasks at risk: time the plan cannot give up.
    #[default]
    AtRisk,
    Free,
}

impl TaskBlocks {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "busy" => Some(Self::Busy),
            "at_risk" => Some(Self::AtRisk),
            "free" => Some(Self::Free),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Busy => "busy",
            Self::AtRisk => "at_risk",
            Self::Free => "free",
        }
    }

    /// Whether a block of a task (at risk or not) counts as busy.
    pub fn counts(self, at_risk: bool) -> bool {
        match self {
            Self::Busy => true,
            Self::AtRisk => at_risk,
            Self::Free => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AvailabilityRules {
    pub timezone: TimeZone,
    pub weekly: WeeklyHours,
    pub days_off: BTreeSet<NaiveDate>,
    pub buffer_before: Duration,
    pub buffer_after: Duration,
    pub minimum_notice: Duration,
    pub slot_interval: Duration,
    pub tentative_is_busy: bool,
    pub task_blocks: TaskBlocks,
}

/// Generous upper bounds that still keep every computation cheap.
pub const MAX_BUFFER_MINUTES: i64 = 24 * 60;
pub const MAX_NOTICE_MINUTES: i64 = 365 * 24 * 60;
pub const MAX_SLOT_INTERVAL_MINUTES: i64 = 24 * 60;

impl AvailabilityRules {
    /// Monday–Friday 09:00–17:00 in `timezone`, no buffers, 30-minute slots.
    pub fn defaults(timezone: TimeZone) -> Self {
        Self {
            timezone,
            weekly: WeeklyHours::office_hours(),
            days_off: BTreeSet::new(),
            buffer_before: Duration::zero(),
            buffer_after: Duration::zero(),
            minimum_notice: Duration::zero(),
            slot_interval: Duration::minutes(30),
            tentative_is_busy: true,
            task_blocks: TaskBlocks::AtRisk,
        }
    }

    pub fn minutes(field: &'static str, value: i64, max: i64) -> Result<Duration, RulesError> {
        if (0..=max).contains(&value) {
            Ok(Duration::minutes(value))
        } else {
            Err(RulesError::OutOfRange { field, value, max })
        }
    }

    pub fn slot_interval_minutes(value: i64) -> Result<Duration, RulesError> {
        if (1..=MAX_SLOT_INTERVAL_MINUTES).contains(&value) {
            Ok(Duration::minutes(value))
        } else {
            Err(RulesError::BadSlotInterval {
                value,
                max: MAX_SLOT_INTERVAL_MINUTES,
            })
        }
    }

    /// The larger buffer: a gap shorter than this between two meetings is a `buffer` conflict.
    pub fn conflict_buffer(&self) -> Duration {
        self.buffer_before.max(self.buffer_after)
    }

    /// Working windows of every local date that overlaps `range`, in order. Windows are whole
    /// (not clipped to `range`), because slot alignment counts from a window's real start.
    pub fn working_windows(&self, range: &Interval) -> Vec<Interval> {
        let tz = self.timezone.tz();
        // A local date overlaps [start, end) only if it lies within a day of the UTC dates.
        let first = range.start().with_timezone(&tz).date_naive() - Duration::days(1);
        let last = range.end().with_timezone(&tz).date_naive() + Duration::days(1);
        let mut windows = Vec::new();
        let mut date = first;
        while date <= last {
            if !self.days_off.contains(&date) {
                for slot in self.weekly.day(date.weekday()) {
                    let start = local_instant(tz, date, slot.start);
                    let end = local_instant(tz, date, slot.end);
                    if let Some(window) = Interval::new(start, end)
                        && window.overlaps(range)
                    {
                        windows.push(window);
                    }
                }
            }
            date += Duration::days(1);
        }
        windows
    }
}

/// `date` at `time` local (24:00 is the next day's midnight), by the working-hours gap rule.
pub fn local_instant(tz: chrono_tz::Tz, date: NaiveDate, time: TimeOfDay) -> Instant {
    let days = i64::from(time.minutes() / (24 * 60));
    let minutes = u32::from(time.minutes() % (24 * 60));
    let naive = (date + Duration::days(days)).and_time(
        NaiveTime::from_num_seconds_from_midnight_opt(minutes * 60, 0).expect("minutes of a day"),
    );
    resolve_forward(tz, naive)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone as _, Utc};

    use super::*;

    #[test]
    fn times_of_day() {
        assert_eq!(TimeOfDay::parse("09:30").unwrap().minutes(), 570);
        assert_eq!(TimeOfDay::parse("24:00").unwrap(), TimeOfDay::END_OF_DAY);
        for bad in [
            "9:30", "24:01", "25:00", "12:60", "ab:cd", "", "12:3", "-1:00",
        ] {
            assert!(TimeOfDay::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(TimeOfDay::parse("07:05").unwrap().to_string(), "07:05");
    }

    #[test]
    fn weekly_hours_are_validated() {
        assert!(
            WeeklyHours::parse([("monday", vec![("09:00", "12:00"), ("13:00", "17:00")])]).is_ok()
        );
        assert!(WeeklyHours::parse([("monday", vec![("12:00", "24:00")])]).is_ok());
        assert!(matches!(
            WeeklyHours::parse([("monday", vec![("09:00", "12:00"), ("11:00", "13:00")])]),
            Err(RulesError::Overlapping { .. })
        ));
        assert!(matches!(
            WeeklyHours::parse([("monday", vec![("12:00", "09:00")])]),
            Err(RulesError::Reversed { .. })
        ));
        assert!(matches!(
            WeeklyHours::parse([("monday", vec![("09:00", "09:00")])]),
            Err(RulesError::Reversed { .. })
        ));
        assert!(matches!(
            WeeklyHours::parse([("funday", vec![])]),
            Err(RulesError::UnknownDay(_))
        ));
        // Touching intervals are fine: they are one free stretch later.
        assert!(
            WeeklyHours::parse([("monday", vec![("09:00", "12:00"), ("12:00", "13:00")])]).is_ok()
        );
    }

    #[test]
    fn windows_follow_the_local_clock_across_dst() {
        let rules = AvailabilityRules::defaults(TimeZone::parse("Europe/Berlin").unwrap());
        // Fri 2026-10-23 (CEST, +2) and Mon 2026-10-26 (CET, +1).
        let range = Interval::new(
            Utc.with_ymd_and_hms(2026, 10, 23, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 10, 27, 0, 0, 0).unwrap(),
        )
        .unwrap();
        let windows = rules.working_windows(&range);
        assert_eq!(windows.len(), 2);
        assert_eq!(
            windows[0].start(),
            Utc.with_ymd_and_hms(2026, 10, 23, 7, 0, 0).unwrap()
        );
        assert_eq!(
            windows[1].start(),
            Utc.with_ymd_and_hms(2026, 10, 26, 8, 0, 0).unwrap()
        );
    }

    #[test]
    fn a_window_inside_the_spring_gap_starts_when_the_clock_jumps() {
        let mut rules = AvailabilityRules::defaults(TimeZone::parse("Europe/Berlin").unwrap());
        rules.weekly = WeeklyHours::parse([("sunday", vec![("02:30", "04:00")])]).unwrap();
        let range = Interval::new(
            Utc.with_ymd_and_hms(2027, 3, 27, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2027, 3, 29, 0, 0, 0).unwrap(),
        )
        .unwrap();
        let windows = rules.working_windows(&range);
        assert_eq!(windows.len(), 1);
        // 02:30 does not exist: the window starts at 03:00 CEST = 01:00 UTC and lasts one hour.
        assert_eq!(
            windows[0].start(),
            Utc.with_ymd_and_hms(2027, 3, 28, 1, 0, 0).unwrap()
        );
        assert_eq!(
            windows[0].end(),
            Utc.with_ymd_and_hms(2027, 3, 28, 2, 0, 0).unwrap()
        );
    }

    #[test]
    fn days_off_have_no_window() {
        let mut rules = AvailabilityRules::defaults(TimeZone::parse("America/New_York").unwrap());
        rules
            .days_off
            .insert(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap());
        let range = Interval::new(
            Utc.with_ymd_and_hms(2026, 12, 24, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 12, 26, 0, 0, 0).unwrap(),
        )
        .unwrap();
        let windows = rules.working_windows(&range);
        assert_eq!(windows.len(), 1);
        assert_eq!(
            windows[0].start(),
            Utc.with_ymd_and_hms(2026, 12, 25, 14, 0, 0).unwrap()
        );
    }
}
