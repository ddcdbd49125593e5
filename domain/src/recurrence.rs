//! RFC 5545 recurrence, expanded in the wall-clock time of the event's zone.
//!
//! The rule is expanded over naive local times (a 09:00 meeting stays at 09:00 across DST), and
//! each local start then becomes an instant by RFC 5545's gap and fold rules. `rrule` is only
//! ever given UTC as its zone, which sidesteps its open DST issues, and only the RRULE itself:
//! the set — DTSTART (always the first occurrence, RFC 5545 §3.8.5.3), RDATEs merged in once
//! each, EXDATEs taken out — is assembled here.
//!
//! A series without COUNT or UNTIL repeats without end and is expanded over whatever window is
//! asked, however long ago it began: a rule that steps by seconds, minutes or hours is restarted
//! a whole number of intervals before the window (the same lattice of instants, so the same
//! occurrences), and every other frequency is walked from its start (a daily series from 1990
//! is ~13,000 steps, well inside `MAX_STEPS`).

use chrono::{Duration, NaiveDateTime, TimeZone as _};
use chrono_tz::Tz;
use rrule::{Frequency, RRule, RRuleSet, Unvalidated};

use crate::interval::Instant;
use crate::local::resolve_rfc5545;

/// The most occurrences a series yields in any one window it is expanded over (a query, the
/// sync window, the conflict window): what a request costs is bounded by this, not by what a
/// rule such as `FREQ=SECONDLY` could generate.
pub const MAX_OCCURRENCES: usize = 5_000;

/// The most steps taken through a rule for one window, occurrences before the window included:
/// a rule that began long ago stops being walked here rather than tying up a request.
const MAX_STEPS: usize = 500_000;

/// Where the range index says an endless series ends: never, in practice.
pub fn endless() -> Instant {
    chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(
        chrono::NaiveDate::from_ymd_opt(9999, 1, 1)
            .expect("a date")
            .and_time(chrono::NaiveTime::MIN),
        chrono::Utc,
    )
}

fn fake_utc(local: NaiveDateTime) -> chrono::DateTime<rrule::Tz> {
    rrule::Tz::UTC.from_utc_datetime(&local)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    #[error("rrule: {0}")]
    Invalid(String),
}

/// One RRULE, with its UNTIL as a local wall-clock time.
#[derive(Clone, Debug)]
struct Rule {
    rule: RRule<Unvalidated>,
    /// UNTIL as a local wall-clock time (converted from UTC when it was given in UTC).
    until_local: Option<NaiveDateTime>,
}

impl Rule {
    fn parse(text: &str, tz: Tz) -> Result<Self, RecurrenceError> {
        let text = text.trim();
        let text = text.strip_prefix("RRULE:").unwrap_or(text);
        if text.is_empty() {
            return Err(RecurrenceError::Invalid(
                "expected an RRULE value such as FREQ=WEEKLY;COUNT=10".into(),
            ));
        }
        // RFC 5545 rules are ASCII; `rrule` 0.14 panics slicing a non-ASCII BYDAY (found by
        // the `rrule` fuzz target), so nothing else reaches it.
        if !text.is_ascii() {
            return Err(RecurrenceError::Invalid(
                "an RRULE holds only ASCII characters".into(),
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
        Ok(Self { rule, until_local })
    }

    fn is_bounded(&self) -> bool {
        self.rule.get_count().is_some() || self.until_local.is_some()
    }

    /// The RRULE as `rrule` sees it, started at `start`: every time is a local wall-clock time
    /// dressed as UTC.
    fn build(&self, start: NaiveDateTime) -> Result<RRuleSet, RecurrenceError> {
        let mut rule = self.rule.clone();
        if let Some(until) = self.until_local {
            rule = rule.until(fake_utc(until));
        }
        rule.build(fake_utc(start))
            .map_err(|e| RecurrenceError::Invalid(e.to_string()))
    }

    /// For an endless rule stepping by seconds, minutes or hours: a start a whole number of
    /// intervals after `first_local` and at least one interval before `from`.
    fn fast_forward(
        &self,
        first_local: NaiveDateTime,
        from: Option<NaiveDateTime>,
    ) -> NaiveDateTime {
        let Some(from) = from else {
            return first_local;
        };
        if self.rule.get_count().is_some() {
            return first_local;
        }
        let unit = match self.rule.get_freq() {
            Frequency::Secondly => 1,
            Frequency::Minutely => 60,
            Frequency::Hourly => 3_600,
            _ => return first_local,
        };
        let step = unit * i64::from(self.rule.get_interval().max(1));
        let behind = (from - first_local).num_seconds();
        let steps = behind / step - 1;
        if steps <= 0 {
            return first_local;
        }
        first_local + Duration::seconds(steps * step)
    }
}

#[derive(Clone, Debug)]
pub struct Recurrence {
    /// One or more RRULEs (RFC 5545 allows several; their occurrences are merged).
    rules: Vec<Rule>,
    exdates: Vec<Instant>,
    rdates: Vec<Instant>,
}

impl Recurrence {
    /// Parses one RRULE value such as `FREQ=WEEKLY;BYDAY=TU,TH;COUNT=10` (an `RRULE:` prefix is
    /// allowed): what a manual event takes. `tz` is the zone the series lives in: a UTC `UNTIL`
    /// becomes local time there.
    pub fn parse(
        rrule: &str,
        tz: Tz,
        exdates: Vec<Instant>,
        rdates: Vec<Instant>,
    ) -> Result<Self, RecurrenceError> {
        if rrule.trim().contains('\n') {
            return Err(RecurrenceError::Invalid(
                "expected one RRULE value such as FREQ=WEEKLY;COUNT=10".into(),
            ));
        }
        Self::parse_all(rrule, tz, exdates, rdates)
    }

    /// Parses one RRULE per line: a synced series may carry several.
    pub fn parse_all(
        rrules: &str,
        tz: Tz,
        exdates: Vec<Instant>,
        rdates: Vec<Instant>,
    ) -> Result<Self, RecurrenceError> {
        let rules = rrules
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| Rule::parse(l, tz))
            .collect::<Result<Vec<_>, _>>()?;
        if rules.is_empty() {
            return Err(RecurrenceError::Invalid(
                "expected an RRULE value such as FREQ=WEEKLY;COUNT=10".into(),
            ));
        }
        Ok(Self {
            rules,
            exdates,
            rdates,
        })
    }

    pub fn is_bounded(&self) -> bool {
        self.rules.iter().all(Rule::is_bounded)
    }

    /// Checks the rules against the first start (UNTIL before the start, impossible BY… parts).
    pub fn validate(&self, _tz: Tz, first_local: NaiveDateTime) -> Result<(), RecurrenceError> {
        self.rules
            .iter()
            .try_for_each(|r| r.build(first_local).map(drop))
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
        if to < from {
            return Vec::new();
        }
        let mut out = Vec::new();
        self.walk(tz, first_local, Some(from), to, |local| {
            if local >= from {
                out.push(local);
            }
            out.len() < MAX_OCCURRENCES
        });
        out
    }

    /// Visits the local starts of the set up to `to` in order, each once, until `visit` says
    /// stop or `MAX_STEPS` steps through the rule. `from` (when given) is the earliest start the
    /// caller wants; starts before it may be visited or skipped.
    fn walk(
        &self,
        tz: Tz,
        first_local: NaiveDateTime,
        from: Option<NaiveDateTime>,
        to: NaiveDateTime,
        visit: impl FnMut(NaiveDateTime) -> bool,
    ) {
        // `rrule` has panicked on input no one expected (a non-ASCII BYDAY, now refused before
        // it); should another such input reach it, the series ends where the panic happened
        // instead of taking the request, the sync or the process with it.
        // (The panic hook has printed the panic; `domain` has no logger of its own.)
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.walk_unguarded(tz, first_local, from, to, visit)
        }));
    }

    fn walk_unguarded(
        &self,
        tz: Tz,
        first_local: NaiveDateTime,
        from: Option<NaiveDateTime>,
        to: NaiveDateTime,
        mut visit: impl FnMut(NaiveDateTime) -> bool,
    ) {
        // Each rule's own starts, in order; several rules are merged below.
        let mut streams = Vec::new();
        let mut dtstart_produced = false;
        for rule in &self.rules {
            let start = rule.fast_forward(first_local, from);
            let Ok(set) = rule.build(start) else {
                return;
            };
            let mut stream = set
                .into_iter()
                .take(MAX_STEPS)
                .map(|dt| dt.naive_utc())
                .peekable();
            dtstart_produced |= start != first_local || stream.peek() == Some(&first_local);
            streams.push((
                rule.rule.get_count().map_or(usize::MAX, |c| c as usize),
                stream,
            ));
        }
        // DTSTART is the first occurrence even when no rule produces it, and then (with one
        // rule) it is one of COUNT's.
        let extra_first = (!dtstart_produced).then_some(first_local);
        if extra_first.is_some()
            && let [(count, _)] = streams.as_mut_slice()
        {
            *count = count.saturating_sub(1);
        }
        let mut merged = streams
            .into_iter()
            .map(|(count, stream)| stream.take(count).peekable())
            .collect::<Vec<_>>();
        let mut extra_first = extra_first;
        let rule_starts = std::iter::from_fn(move || {
            if let Some(first) = extra_first.take() {
                return Some(first);
            }
            let (index, _) = merged
                .iter_mut()
                .enumerate()
                .filter_map(|(i, s)| s.peek().map(|t| (i, *t)))
                .min_by_key(|(_, t)| *t)?;
            merged[index].next()
        });
        let mut starts = rule_starts.peekable();
        let local_of = |t: &Instant| t.with_timezone(&tz).naive_local();
        let mut rdates: Vec<NaiveDateTime> = self.rdates.iter().map(local_of).collect();
        rdates.sort_unstable();
        let mut rdates = rdates.into_iter().peekable();
        let exdates: Vec<NaiveDateTime> = self.exdates.iter().map(local_of).collect();
        let mut last: Option<NaiveDateTime> = None;
        loop {
            let next = match (starts.peek(), rdates.peek()) {
                (Some(r), Some(d)) if d < r => rdates.next(),
                (Some(_), _) => starts.next(),
                (None, _) => rdates.next(),
            };
            let Some(local) = next else {
                return;
            };
            if local > to {
                return;
            }
            if last == Some(local) || exdates.contains(&local) {
                continue;
            }
            last = Some(local);
            if !visit(local) {
                return;
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
        self.walk(tz, first_local, None, two_years, |_| {
            count += 1;
            count <= MAX_OCCURRENCES
        });
        count > MAX_OCCURRENCES
    }

    /// How many occurrences start before `before` (local wall clock), at most `MAX_OCCURRENCES`:
    /// where the rest of a COUNT-bounded series begins when the series is split there
    /// (`RANGE=THISANDFUTURE`). Built without EXDATEs and RDATEs, it counts what COUNT counts.
    pub fn count_before(&self, tz: Tz, first_local: NaiveDateTime, before: NaiveDateTime) -> usize {
        let mut count = 0;
        self.walk(tz, first_local, None, before, |local| {
            if local < before {
                count += 1;
            }
            local < before && count < MAX_OCCURRENCES
        });
        count
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
        let hi = (to + slack).naive_utc();
        let mut out = Vec::new();
        self.walk(tz, first_local, Some(lo), hi, |local| {
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

    /// The end of the last occurrence, or [`endless`] for a series without end; for the range
    /// index.
    pub fn last_end(&self, tz: Tz, first_local: NaiveDateTime, duration: Duration) -> Instant {
        if !self.is_bounded() {
            return endless();
        }
        // A bounded series is followed to its end, within reason: fifty years.
        let until = first_local
            .checked_add_months(chrono::Months::new(50 * 12))
            .unwrap_or(NaiveDateTime::MAX);
        let mut last = first_local;
        self.walk(tz, first_local, None, until, |local| {
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
        // DTSTART (a Tuesday, not the month's last weekday) is the first of the two.
        assert_eq!(
            starts,
            vec![utc(2026, 12, 1, 10, 0), utc(2026, 12, 31, 10, 0)]
        );
        let synchronized = r.starts_overlapping(
            tz,
            local(2026, 12, 31, 10, 0),
            Duration::hours(1),
            utc(2026, 1, 1, 0, 0),
            utc(2028, 1, 1, 0, 0),
        );
        assert_eq!(
            synchronized,
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
    fn endless_series_go_on_however_long_ago_they_began() {
        let tz = chrono_tz::Europe::Berlin;
        let daily = Recurrence::parse("FREQ=DAILY", tz, vec![], vec![]).unwrap();
        assert!(!daily.is_bounded());
        // A daily stand-up created in 2016 still happens in 2027, at its wall-clock time.
        let first = local(2016, 3, 1, 9, 30);
        assert_eq!(daily.last_end(tz, first, Duration::minutes(15)), endless());
        let week = daily.starts_overlapping(
            tz,
            first,
            Duration::minutes(15),
            utc(2027, 7, 5, 0, 0),
            utc(2027, 7, 12, 0, 0),
        );
        assert_eq!(week.len(), 7);
        assert_eq!(week[0], utc(2027, 7, 5, 7, 30)); // 09:30 CEST
    }

    #[test]
    fn sub_daily_rules_are_restarted_on_their_own_lattice() {
        let tz = chrono_tz::UTC;
        // Every 7 minutes from 09:03 on 2020-01-01: years of steps before the window.
        let first = local(2020, 1, 1, 9, 3);
        let r = Recurrence::parse("FREQ=MINUTELY;INTERVAL=7", tz, vec![], vec![]).unwrap();
        let from = local(2026, 6, 1, 0, 0);
        let starts = r.local_starts(tz, first, from, local(2026, 6, 1, 1, 0));
        let expected: Vec<NaiveDateTime> = (0..)
            .map(|n| first + Duration::minutes(7 * n))
            .skip_while(|t| *t < from)
            .take_while(|t| *t <= local(2026, 6, 1, 1, 0))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(starts, expected);
        // BY… parts stay absolute: every hour at minute 15, from 2019, on one day of 2026.
        let hourly =
            Recurrence::parse("FREQ=HOURLY;BYMINUTE=15;BYHOUR=9,17", tz, vec![], vec![]).unwrap();
        let day = hourly.local_starts(
            tz,
            local(2019, 5, 5, 9, 15),
            local(2026, 6, 2, 0, 0),
            local(2026, 6, 3, 0, 0),
        );
        assert_eq!(day, [local(2026, 6, 2, 9, 15), local(2026, 6, 2, 17, 15)]);
    }

    #[test]
    fn dtstart_is_the_first_occurrence_even_off_the_rule() {
        let tz = chrono_tz::UTC;
        // A Monday start of a Tuesday/Thursday rule: Monday, then Tue, Thu (COUNT counts it).
        let r = Recurrence::parse("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=3", tz, vec![], vec![]).unwrap();
        let starts = r.local_starts(
            tz,
            local(2026, 11, 23, 9, 0),
            local(2026, 11, 1, 0, 0),
            local(2027, 1, 1, 0, 0),
        );
        assert_eq!(
            starts,
            [
                local(2026, 11, 23, 9, 0),
                local(2026, 11, 24, 9, 0),
                local(2026, 11, 26, 9, 0)
            ]
        );
        // An EXDATE still takes it out.
        let r = Recurrence::parse(
            "FREQ=WEEKLY;BYDAY=TU;COUNT=2",
            tz,
            vec![utc(2026, 11, 23, 9, 0)],
            vec![],
        )
        .unwrap();
        let starts = r.local_starts(
            tz,
            local(2026, 11, 23, 9, 0),
            local(2026, 11, 1, 0, 0),
            local(2027, 1, 1, 0, 0),
        );
        assert_eq!(starts, [local(2026, 11, 24, 9, 0)]);
    }

    #[test]
    fn several_rules_are_merged() {
        let tz = chrono_tz::UTC;
        let r = Recurrence::parse_all(
            "RRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2\nRRULE:FREQ=WEEKLY;BYDAY=FR;COUNT=2",
            tz,
            vec![],
            vec![],
        )
        .unwrap();
        let starts = r.local_starts(
            tz,
            local(2026, 11, 23, 9, 0),
            local(2026, 11, 1, 0, 0),
            local(2027, 1, 1, 0, 0),
        );
        assert_eq!(
            starts,
            [
                local(2026, 11, 23, 9, 0),
                local(2026, 11, 27, 9, 0),
                local(2026, 11, 30, 9, 0),
                local(2026, 12, 4, 9, 0)
            ]
        );
        assert!(Recurrence::parse("FREQ=DAILY\nFREQ=WEEKLY", tz, vec![], vec![]).is_err());
    }

    #[test]
    fn an_rdate_on_a_rule_occurrence_counts_once() {
        let tz = chrono_tz::UTC;
        let r = Recurrence::parse(
            "FREQ=DAILY;COUNT=3",
            tz,
            vec![],
            vec![utc(2026, 11, 24, 9, 0), utc(2026, 11, 30, 12, 0)],
        )
        .unwrap();
        let starts = r.local_starts(
            tz,
            local(2026, 11, 23, 9, 0),
            local(2026, 11, 1, 0, 0),
            local(2027, 1, 1, 0, 0),
        );
        assert_eq!(
            starts,
            [
                local(2026, 11, 23, 9, 0),
                local(2026, 11, 24, 9, 0),
                local(2026, 11, 25, 9, 0),
                local(2026, 11, 30, 12, 0)
            ]
        );
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
    fn a_panic_inside_an_expansion_ends_the_series_not_the_caller() {
        let tz = chrono_tz::UTC;
        let r = Recurrence::parse("FREQ=DAILY;COUNT=5", tz, vec![], vec![]).unwrap();
        let mut seen = 0;
        r.walk(
            tz,
            local(2026, 1, 1, 9, 0),
            None,
            local(2027, 1, 1, 0, 0),
            |_| {
                seen += 1;
                assert!(seen < 3, "a stand-in for a panic inside rrule");
                true
            },
        );
        assert_eq!(seen, 3);
    }

    #[test]
    fn what_the_fuzzer_found_is_refused_not_a_panic() {
        let tz = chrono_tz::UTC;
        for found in [
            "FREQ=MONTHLY;BYDAY=-\u{479}R;UNTIL=40541202T000000Z",
            "FREQ=MONTHLY;BYDAY=-\u{479}R,U0\u{b}0p-1FR,U0\u{b}0pFR",
        ] {
            assert!(
                Recurrence::parse(found, tz, vec![], vec![]).is_err(),
                "{found:?}"
            );
        }
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
        // A window long after the start is reached directly and cut at the cap as well.
        let late =
            every_second.local_starts(tz, first, local(2027, 6, 1, 0, 0), local(2027, 7, 1, 0, 0));
        assert_eq!(late.len(), MAX_OCCURRENCES);
        assert_eq!(late[0], local(2027, 6, 1, 0, 0));
        assert_eq!(
            every_second.last_end(tz, first, Duration::seconds(1)),
            endless()
        );
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
