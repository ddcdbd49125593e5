//! Availability as a Cal.com schedule: the weekly hours, plus a date override for every local date
//! whose free time differs from its weekday's hours (contract.md, "Export to Cal.com").
//!
//! Neither "now" nor the minimum notice clips the export: the schedule describes whole days, and
//! a body that changed every minute could never be recognised as unchanged and left unsent.

use chrono::{Datelike, Duration, NaiveDate, Weekday};

use crate::availability::free_time;
use crate::interval::{Instant, Interval, IntervalSet};
use crate::rules::{AvailabilityRules, DayInterval, TimeOfDay, local_instant};

/// One entry of a schedule's weekly availability: the same hours on several weekdays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeeklyEntry {
    pub days: Vec<Weekday>,
    pub hours: DayInterval,
}

/// The free time of one date, replacing its weekday's hours. `00:00`–`00:00` cancels the day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateOverride {
    pub date: NaiveDate,
    pub hours: DayInterval,
}

impl DateOverride {
    pub fn cancels_day(&self) -> bool {
        self.hours.start == self.hours.end
    }
}

/// The weekly hours with equal days grouped, in the order of each group's first weekday.
pub fn weekly(rules: &AvailabilityRules) -> Vec<WeeklyEntry> {
    let mut groups: Vec<(&[DayInterval], Vec<Weekday>)> = Vec::new();
    for day in WEEK {
        let hours = rules.weekly.day(day);
        if hours.is_empty() {
            continue;
        }
        match groups.iter_mut().find(|(h, _)| *h == hours) {
            Some((_, days)) => days.push(day),
            None => groups.push((hours, vec![day])),
        }
    }
    groups
        .into_iter()
        .flat_map(|(hours, days)| {
            hours.iter().map(move |&hours| WeeklyEntry {
                days: days.clone(),
                hours,
            })
        })
        .collect()
}

/// Overrides for every local date from `first` through `last`, given the time `blocked` by busy
/// events (buffers included).
pub fn overrides(
    rules: &AvailabilityRules,
    blocked: &IntervalSet,
    first: NaiveDate,
    last: NaiveDate,
) -> Vec<DateOverride> {
    let tz = rules.timezone.tz();
    let midnight = |date: NaiveDate| local_instant(tz, date, TimeOfDay::MIDNIGHT);
    let Some(range) = Interval::new(midnight(first), midnight(last + Duration::days(1))) else {
        return Vec::new();
    };
    let (_, free) = free_time(rules, blocked, &range, range.start());
    let free = free.as_slice();
    let mut out = Vec::new();
    let mut date = first;
    while date <= last {
        let (day_start, day_end) = (midnight(date), midnight(date + Duration::days(1)));
        let from = free.partition_point(|f| f.end() <= day_start);
        let pieces: Vec<DayInterval> = free[from..]
            .iter()
            .take_while(|f| f.start() < day_end)
            .filter_map(|f| {
                let start = minutes_into(tz, date, f.start().max(day_start), day_end, Round::Up);
                let end = minutes_into(tz, date, f.end().min(day_end), day_end, Round::Down);
                (start < end).then(|| DayInterval {
                    start: TimeOfDay::from_minutes(start).expect("within the day"),
                    end: TimeOfDay::from_minutes(end).expect("within the day"),
                })
            })
            .collect();
        if pieces != working_hours(rules, date) {
            if pieces.is_empty() {
                out.push(DateOverride {
                    date,
                    hours: DayInterval {
                        start: TimeOfDay::MIDNIGHT,
                        end: TimeOfDay::MIDNIGHT,
                    },
                });
            }
            out.extend(pieces.into_iter().map(|hours| DateOverride { date, hours }));
        }
        date += Duration::days(1);
    }
    out
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// The weekday's hours as free time would show them on a day with nothing booked: intervals
/// that touch are one.
fn working_hours(rules: &AvailabilityRules, date: NaiveDate) -> Vec<DayInterval> {
    let mut merged: Vec<DayInterval> = Vec::new();
    for &hours in rules.weekly.day(date.weekday()) {
        match merged.last_mut() {
            Some(last) if last.end >= hours.start => last.end = last.end.max(hours.end),
            _ => merged.push(hours),
        }
    }
    merged
}

#[derive(Clone, Copy)]
enum Round {
    Up,
    Down,
}

/// Minutes from `date`'s local midnight to `at` on the wall clock, rounded to a whole minute;
/// the next midnight (`day_end`) is 24:00.
fn minutes_into(
    tz: chrono_tz::Tz,
    date: NaiveDate,
    at: Instant,
    day_end: Instant,
    round: Round,
) -> u16 {
    if at >= day_end {
        return 24 * 60;
    }
    let local = at.with_timezone(&tz).naive_local();
    let seconds = (local - date.and_time(chrono::NaiveTime::MIN))
        .num_seconds()
        .clamp(0, 24 * 3600);
    let minutes = match round {
        Round::Up => (seconds + 59) / 60,
        Round::Down => seconds / 60,
    };
    u16::try_from(minutes.min(24 * 60)).expect("at most a day of minutes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TimeZone;
    use crate::rules::WeeklyHours;
    use chrono::{TimeZone as _, Utc};

    fn rules(zone: &str) -> AvailabilityRules {
        AvailabilityRules::defaults(TimeZone::parse(zone).unwrap())
    }

    fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> Instant {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    fn busy(list: &[(Instant, Instant)]) -> IntervalSet {
        IntervalSet::from_intervals(
            list.iter()
                .map(|&(s, e)| Interval::new(s, e).unwrap())
                .collect(),
        )
    }

    fn hm(s: &str) -> TimeOfDay {
        TimeOfDay::parse(s).unwrap()
    }

    fn over(date: &str, start: &str, end: &str) -> DateOverride {
        DateOverride {
            date: date.parse().unwrap(),
            hours: DayInterval {
                start: hm(start),
                end: hm(end),
            },
        }
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn weekly_groups_equal_days() {
        let mut r = rules("Europe/Berlin");
        r.weekly = WeeklyHours::parse([
            ("monday", vec![("09:00", "12:00"), ("13:00", "17:00")]),
            ("tuesday", vec![("09:00", "12:00"), ("13:00", "17:00")]),
            ("friday", vec![("10:00", "14:00")]),
        ])
        .unwrap();
        let w = weekly(&r);
        assert_eq!(w.len(), 3);
        assert_eq!(w[0].days, vec![Weekday::Mon, Weekday::Tue]);
        assert_eq!(
            (w[0].hours.start, w[0].hours.end),
            (hm("09:00"), hm("12:00"))
        );
        assert_eq!(w[1].days, vec![Weekday::Mon, Weekday::Tue]);
        assert_eq!(w[2].days, vec![Weekday::Fri]);
    }

    #[test]
    fn a_free_week_needs_no_override() {
        let r = rules("Europe/Berlin");
        let o = overrides(
            &r,
            &IntervalSet::new(),
            day("2026-11-30"),
            day("2026-12-06"),
        );
        assert!(o.is_empty(), "{o:?}");
    }

    #[test]
    fn a_meeting_splits_its_day() {
        let r = rules("Europe/Berlin");
        // 10:30–12:00 Berlin (CET, UTC+1) on Wednesday 2026-12-02.
        let b = busy(&[(at(2026, 12, 2, 9, 30), at(2026, 12, 2, 11, 0))]);
        let o = overrides(&r, &b, day("2026-11-30"), day("2026-12-06"));
        assert_eq!(
            o,
            vec![
                over("2026-12-02", "09:00", "10:30"),
                over("2026-12-02", "12:00", "17:00")
            ]
        );
    }

    #[test]
    fn a_day_off_and_a_fully_busy_day_are_cancelled() {
        let mut r = rules("Europe/Berlin");
        r.days_off.insert(day("2026-12-24"));
        let b = busy(&[(at(2026, 12, 22, 7, 0), at(2026, 12, 22, 17, 0))]);
        let o = overrides(&r, &b, day("2026-12-21"), day("2026-12-27"));
        assert_eq!(
            o,
            vec![
                over("2026-12-22", "00:00", "00:00"),
                over("2026-12-24", "00:00", "00:00")
            ]
        );
        assert!(o[0].cancels_day());
    }

    #[test]
    fn free_time_is_rounded_inward_and_buffers_count() {
        let mut r = rules("UTC");
        r.buffer_after = Duration::minutes(15);
        let b = busy(&[(
            at(2026, 12, 1, 9, 0),
            at(2026, 12, 1, 9, 30) + Duration::seconds(20),
        )]);
        let blocked = IntervalSet::from_intervals(
            b.iter()
                .map(|i| i.widen(Duration::zero(), r.buffer_after))
                .collect(),
        );
        let o = overrides(&r, &blocked, day("2026-12-01"), day("2026-12-01"));
        assert_eq!(o, vec![over("2026-12-01", "09:46", "17:00")]);
    }

    #[test]
    fn touching_hours_and_midnight_compare_as_free_time_shows_them() {
        let mut r = rules("UTC");
        r.weekly = WeeklyHours::parse([
            ("monday", vec![("09:00", "12:00"), ("12:00", "24:00")]),
            ("tuesday", vec![("00:00", "08:00")]),
        ])
        .unwrap();
        let o = overrides(
            &r,
            &IntervalSet::new(),
            day("2026-11-30"),
            day("2026-12-01"),
        );
        assert!(o.is_empty(), "{o:?}");
        let b = busy(&[(at(2026, 11, 30, 20, 0), at(2026, 11, 30, 21, 0))]);
        let o = overrides(&r, &b, day("2026-11-30"), day("2026-12-01"));
        assert_eq!(
            o,
            vec![
                over("2026-11-30", "09:00", "20:00"),
                over("2026-11-30", "21:00", "24:00")
            ]
        );
    }

    #[test]
    fn dst_days_keep_their_wall_clock_hours() {
        // Berlin springs forward on 2027-03-28 and falls back on 2026-10-25 (both Sundays).
        let mut r = rules("Europe/Berlin");
        r.weekly = WeeklyHours::parse([("sunday", vec![("01:00", "05:00")])]).unwrap();
        let o = overrides(
            &r,
            &IntervalSet::new(),
            day("2027-03-28"),
            day("2027-03-28"),
        );
        assert!(o.is_empty(), "{o:?}");
        let o = overrides(
            &r,
            &IntervalSet::new(),
            day("2026-10-25"),
            day("2026-10-25"),
        );
        assert!(o.is_empty(), "{o:?}");
        // 03:00–04:00 CEST on the spring day is 01:00–02:00 UTC.
        let b = busy(&[(at(2027, 3, 28, 1, 0), at(2027, 3, 28, 2, 0))]);
        let o = overrides(&r, &b, day("2027-03-28"), day("2027-03-28"));
        assert_eq!(
            o,
            vec![
                over("2027-03-28", "01:00", "03:00"),
                over("2027-03-28", "04:00", "05:00")
            ]
        );
    }
}
