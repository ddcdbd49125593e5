//! RFC 5545 recurrence, expanded in the wall-clock time of the event's zone.
//!
//! The rule is expanded over naive local times (a 09:00 meeting stays at 09:00 across DST), and
//! each local start then becomes an instant by RFC 5545's gap and fold rules. `rrule` is only
//! ever given UTC as its zone, which sidesteps its open DST issues.

use chrono::{Duration, NaiveDateTime, TimeZone as _};
use chrono_tz::Tz;
use rrule::{RRule, RRuleSet, Unvalidated};

use crate::interval::Instant;
use crate::local::resolve_rfc5545;

/// A series without COUNT or UNTIL has occurrences only this many months after its start.
pub const UNBOUNDED_HORIZON_MONTHS: u32 = 24;

/// The most occurrences a series yields in any one window it is expanded over (a query, the
/// sync window, the conflict window): what a request costs is bounded by this, not by what a
/// rule such as `FREQ=SECONDLY` could generate.
pub const MAX_OCCURRENCES: usize = 5_000;

/// The most steps taken through a rule for one window, occurrences before the window included:
/// a rule that began long ago stops being walked here rather than tying up a request.
const MAX_STEPS: usize = 500_000;

/// The first local time at which an unbounded series has no more occurrences.
fn horizon(first_local: NaiveDateTime) -> NaiveDateTime {
    first_local
        .checked_add_months(chrono::Months::new(UNBOUNDED_HORIZON_MONTHS))
        .unwrap_or(NaiveDateTime::MAX)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    #[error("rrule: {0}")]
    Invalid(String),
}

#[derive(Clone, Debug)]
pub struct Recurrence {
    rule: RRule<Unvalidated>,
    /// UNTIL as a local wall-clock time (converted from UTC when it was given in UTC).
    until_local: Option<NaiveDateTime>,
    exdates: Vec<Instant>,
    rdates: Vec<Instant>,
}

impl Recurrence {
    /// Parses an RRULE value such as `FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10` (an `RRULE:` prefix is allowed).
    /// `tz` is the zone the series lives in: a UTC `UNTIL` becomes local time there.
    pub fn parse(
        rrule: &str,
        tz: Tz,
        exdates: Vec<Instant>,
        rdates: Vec<Instant>,
    ) -> Result<Self, RecurrenceError> {
        let text = rrule.trim();
        let text = text.strip_prefix("RRULE:").unwrap_or(text);
        if text.is_empty() || text.contains('\n') {
            return Err(RecurrenceError::Invalid(
                "expected one RRULE value such as FREQ=WEEKLY;COUNT=10".into(),
            ));
        }
        let rule: RRule<Unvalidated> = text
            .parse()
            .map_err(|e: rrule::RRuleError| RecurrenceError::Invalid(e.to_string()))?;
        let until_local = rule.get_until().map(|until| {
            let utc = until.with_timezone(&chrono::Utc);
            let date_only = text
                .split(';')
                .find_map(|p| p.strip_prefix("UNTIL="))
                .is_some_and(|v| !v.contains('T'));
            if date_only {
                // A date UNTIL includes that whole local day.
                until.naive_local() + Duration::days(1) - Duration::seconds(1)
            } else if until.timezone().name() == "UTC" {
                utc.with_timezone(&tz).naive_local()
            } else {
                until.naive_local()
            }
        });
        Ok(Self {
            rule,
            until_local,
            exdates,
            rdates,
        })
    }

    pub fn is_bounded(&self) -> bool {
        self.rule.get_count().is_some() || self.until_local.is_some()
    }

    /// Checks the rule against its first start (UNTIL before the start, impossible BY… parts).
    pub fn validate(&self, tz: Tz, first_local: NaiveDateTime) -> Result<(), RecurrenceError> {
        self.build(tz, first_local).map(drop)
    }

    /// The rule as `rrule` sees it: every time is a local wall-clock time dressed as UTC.
    fn build(&self, tz: Tz, first_local: NaiveDateTime) -> Result<RRuleSet, RecurrenceError> {
        let fake = |local: NaiveDateTime| rrule::Tz::UTC.from_utc_datetime(&local);
        let local_of = |t: &Instant| t.with_timezone(&tz).naive_local();
        let mut rule = self.rule.clone();
        if let Some(until) = self.until_local {
            rule = rule.until(fake(until));
        }
        let mut set = rule
            .build(fake(first_local))
            .map_err(|e| RecurrenceError::Invalid(e.to_string()))?;
        for ex in &self.exdates {
            set = set.exdate(fake(local_of(ex)));
        }
        for r in &self.rdates {
            set = set.rdate(fake(local_of(r)));
        }
        Ok(set)
    }

    /// Local start times of the occurrences that begin within `[from, to]` (local wall clock),
    /// in order, never past the unbounded horizon. EXDATE/RDATE instants are compared in `tz`.
    pub fn local_starts(
        &self,
        tz: Tz,
        first_local: NaiveDateTime,
        from: NaiveDateTime,
        to: NaiveDateTime,
    ) -> Vec<NaiveDateTime> {
        let to = self.clip(first_local, to);
        if to < from {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.walk(tz, first_local, to, |local| {
            if local >= from {
                out.push(local);
            }
            out.len() < MAX_OCCURRENCES
        });
        out
    }

    /// `to`, or the last moment an unbounded series still has occurrences if that is earlier.
    fn clip(&self, first_local: NaiveDateTime, to: NaiveDateTime) -> NaiveDateTime {
        if self.is_bounded() {
            to
        } else {
            to.min(horizon(first_local) - Duration::seconds(1))
        }
    }

    /// Visits the local starts up to `to` in order, until `visit` says stop or `MAX_STEPS`.
    fn walk(
        &self,
        tz: Tz,
        first_local: NaiveDateTime,
        to: NaiveDateTime,
        mut visit: impl FnMut(NaiveDateTime) -> bool,
    ) {
        let Ok(set) = self.build(tz, first_local) else {
            return;
        };
        for dt in (&set).into_iter().take(MAX_STEPS) {
            let local = dt.naive_utc();
            if local > to || !visit(local) {
                break;
            }
        }
    }

    /// Whether the series has more than `MAX_OCCURRENCES` occurrences in its first two years:
    /// such a rule (`FREQ=MINUTELY`, `FREQ=SECONDLY`, …) is refused for a manual event.
    pub fn too_many_occurrences(&self, tz: Tz, first_local: NaiveDateTime) -> bool {
        let two_years = first_local
            .checked_add_months(chrono::Months::new(24))
            .unwrap_or(NaiveDateTime::MAX);
        let mut count = 0;
        self.walk(tz, first_local, two_years, |_| {
            count += 1;
            count <= MAX_OCCURRENCES
        });
        count > MAX_OCCURRENCES
    }

    /// Instants at which occurrences start whose `[start, start + duration)` overlaps `[from, to)`.
    pub fn starts_overlapping(
        &self,
        tz: Tz,
        first_local: NaiveDateTime,
        duration: Duration,
        from: Instant,
        to: Instant,
    ) -> Vec<Instant> {
        // Local and UTC differ by at most a day; widen, then filter exactly (before counting
        // towards the cap, so the cap is on occurrences in the window itself).
        let slack = Duration::days(1);
        let lo = (from - duration - slack).naive_utc();
        let hi = self.clip(first_local, (to + slack).naive_utc());
        let mut out = Vec::new();
        if hi < lo {
            return out;
        }
        self.walk(tz, first_local, hi, |local| {
            if local >= lo {
                let start = resolve_rfc5545(tz, local);
                if start < to && start + duration > from {
                    out.push(start);
                }
            }
            out.len() < MAX_OCCURRENCES
        });
        out
    }

    /// The end of the last occurrence, capped at the unbounded horizon; for the range index.
    pub fn last_end(&self, tz: Tz, first_local: NaiveDateTime, duration: Duration) -> Instant {
        // A bounded series is followed to its end, within reason: fifty years.
        let until = if self.is_bounded() {
            first_local
                .checked_add_months(chrono::Months::new(50 * 12))
                .unwrap_or(NaiveDateTime::MAX)
        } else {
            horizon(first_local) - Duration::seconds(1)
        };
        let mut last = first_local;
        self.walk(tz, first_local, until, |local| {
            last = local;
            true
        });
        let mut end = resolve_rfc5545(tz, last) + duration;
        for r in &self.rdates {
            end = end.max(*r + duration);
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};

    use super::*;

    fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }
    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Instant {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    #[test]
    fn weekly_meeting_keeps_its_wall_clock_time_across_dst() {
        let tz = chrono_tz::Europe::Berlin;
        let r = Recurrence::parse("FREQ=WEEKLY;COUNT=3", tz, vec![], vec![]).unwrap();
        // Tuesdays at 09:00 Berlin: before and after the 2027-10-31 fall-back.
        let starts = r.starts_overlapping(
            tz,
            local(2027, 10, 19, 9, 0),
            Duration::hours(1),
            utc(2027, 1, 1, 0, 0),
            utc(2028, 1, 1, 0, 0),
        );
        assert_eq!(
            starts,
            vec![
                utc(2027, 10, 19, 7, 0),
                utc(2027, 10, 26, 7, 0),
                utc(2027, 11, 2, 8, 0)
            ]
        );
    }

    #[test]
    fn byday_count_until_exdate_and_rdate() {
        let tz = chrono_tz::America::New_York;
        let r = Recurrence::parse(
            "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20261212T000000Z",
            tz,
            vec![utc(2026, 12, 3, 14, 0)],
            vec![utc(2026, 12, 20, 15, 0)],
        )
        .unwrap();
        let starts = r.starts_overlapping(
            tz,
            local(2026, 12, 1, 9, 0),
            Duration::minutes(30),
            utc(2026, 11, 1, 0, 0),
            utc(2027, 1, 1, 0, 0),
        );
        assert_eq!(
            starts,
            vec![
                utc(2026, 12, 1, 14, 0),
                utc(2026, 12, 8, 14, 0),
                utc(2026, 12, 10, 14, 0),
                utc(2026, 12, 20, 15, 0)
            ]
        );
    }

    #[test]
    fn bysetpos_last_weekday_of_the_month() {
        let tz = chrono_tz::UTC;
        let r = Recurrence::parse(
            "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=2",
            tz,
            vec![],
            vec![],
        )
        .unwrap();
        let starts = r.starts_overlapping(
            tz,
            local(2026, 12, 1, 10, 0),
            Duration::hours(1),
            utc(2026, 1, 1, 0, 0),
            utc(2028, 1, 1, 0, 0),
        );
        assert_eq!(
            starts,
            vec![utc(2026, 12, 31, 10, 0), utc(2027, 1, 29, 10, 0)]
        );
    }

    #[test]
    fn an_occurrence_in_the_gap_is_read_with_the_offset_before_it() {
        let tz = chrono_tz::Europe::Berlin;
        let r = Recurrence::parse("FREQ=DAILY;COUNT=3", tz, vec![], vec![]).unwrap();
        let starts = r.starts_overlapping(
            tz,
            local(2027, 3, 27, 2, 30),
            Duration::minutes(30),
            utc(2027, 1, 1, 0, 0),
            utc(2028, 1, 1, 0, 0),
        );
        // 03-28 02:30 does not exist: 01:30 UTC (= 03:30 CEST).
        assert_eq!(
            starts,
            vec![
                utc(2027, 3, 27, 1, 30),
                utc(2027, 3, 28, 1, 30),
                utc(2027, 3, 29, 0, 30)
            ]
        );
    }

    #[test]
    fn unbounded_series_stop_two_years_after_their_start() {
        let tz = chrono_tz::UTC;
        let r = Recurrence::parse("FREQ=DAILY", tz, vec![], vec![]).unwrap();
        assert!(!r.is_bounded());
        let first = local(2026, 1, 1, 9, 0);
        assert_eq!(
            r.last_end(tz, first, Duration::hours(1)),
            utc(2027, 12, 31, 10, 0)
        );
        let late = r.starts_overlapping(
            tz,
            first,
            Duration::hours(1),
            utc(2028, 1, 1, 0, 0),
            utc(2028, 2, 1, 0, 0),
        );
        assert!(late.is_empty());
    }

    #[test]
    fn bounded_series_reach_past_two_years() {
        let tz = chrono_tz::UTC;
        let r = Recurrence::parse("FREQ=YEARLY;COUNT=5", tz, vec![], vec![]).unwrap();
        assert_eq!(
            r.last_end(tz, local(2026, 6, 1, 9, 0), Duration::hours(1)),
            utc(2030, 6, 1, 10, 0)
        );
    }

    #[test]
    fn garbage_is_refused() {
        let tz = chrono_tz::UTC;
        for bad in [
            "",
            "FREQ=SOMETIMES",
            "COUNT=3",
            "FREQ=DAILY;COUNT=x",
            "FREQ=DAILY\nRRULE:FREQ=DAILY",
        ] {
            assert!(
                Recurrence::parse(bad, tz, vec![], vec![]).is_err(),
                "{bad:?}"
            );
        }
        let r = Recurrence::parse("FREQ=DAILY;UNTIL=20200101T000000Z", tz, vec![], vec![]).unwrap();
        assert!(
            r.validate(tz, local(2026, 1, 1, 9, 0)).is_err(),
            "UNTIL before the start"
        );
    }

    #[test]
    fn a_window_yields_at_most_max_occurrences() {
        let tz = chrono_tz::Europe::Berlin;
        let first = local(2026, 12, 1, 9, 0);
        let every_second = Recurrence::parse("FREQ=SECONDLY", tz, vec![], vec![]).unwrap();
        let starts = every_second.local_starts(tz, first, first, local(2027, 12, 1, 9, 0));
        assert_eq!(starts.len(), MAX_OCCURRENCES);
        // A window long after the start stops walking at MAX_STEPS instead of generating months.
        let late =
            every_second.local_starts(tz, first, local(2027, 6, 1, 0, 0), local(2027, 7, 1, 0, 0));
        assert!(late.is_empty());
        let end = every_second.last_end(tz, first, Duration::seconds(1));
        assert!(end <= utc(2026, 12, 1, 8, 0) + Duration::seconds(MAX_STEPS as i64 + 1));
    }

    #[test]
    fn rules_with_thousands_of_occurrences_are_too_many() {
        let tz = chrono_tz::Europe::Berlin;
        let first = local(2026, 12, 1, 9, 0);
        let rule = |r: &str| Recurrence::parse(r, tz, vec![], vec![]).unwrap();
        assert!(rule("FREQ=MINUTELY").too_many_occurrences(tz, first));
        assert!(rule("FREQ=SECONDLY;INTERVAL=3600").too_many_occurrences(tz, first));
        assert!(rule("FREQ=HOURLY;COUNT=6000").too_many_occurrences(tz, first));
        assert!(!rule("FREQ=HOURLY;COUNT=5000").too_many_occurrences(tz, first));
        assert!(!rule("FREQ=DAILY").too_many_occurrences(tz, first));
        assert!(!rule("FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR").too_many_occurrences(tz, first));
    }
}
