//! Local wall-clock time → UTC, with the two rules freeslot needs for times that do not exist
//! (a DST gap) or exist twice (a DST fold).

use chrono::{Duration, NaiveDateTime, Offset, TimeZone as _};
use chrono_tz::Tz;

use crate::interval::Instant;

/// Gaps are at most a day long (Samoa skipped 2011-12-30 whole), so a search is bounded.
const MAX_GAP_MINUTES: i64 = 48 * 60;

/// Working hours: a local time in a gap moves forward to the first instant that exists; an
/// ambiguous one takes the earlier instant.
pub fn resolve_forward(tz: Tz, local: NaiveDateTime) -> Instant {
    earliest(tz, local).unwrap_or_else(|| {
        // The first local minute after the gap is the instant the clocks jumped.
        (1..=MAX_GAP_MINUTES)
            .find_map(|step| earliest(tz, local + Duration::minutes(step)))
            .expect("no time zone has a gap longer than two days")
    })
}

/// RFC 5545 §3.3.5 (recurrence): a local time in a gap is read with the UTC offset in force
/// before the gap (02:30 becomes 03:30); an ambiguous one takes the first instant.
pub fn resolve_rfc5545(tz: Tz, local: NaiveDateTime) -> Instant {
    earliest(tz, local).unwrap_or_else(|| {
        let before = (1..=MAX_GAP_MINUTES)
            .find_map(|step| {
                tz.from_local_datetime(&(local - Duration::minutes(step)))
                    .earliest()
            })
            .expect("no time zone has a gap longer than two days");
        let offset = Duration::seconds(i64::from(before.offset().fix().local_minus_utc()));
        (local - offset).and_utc()
    })
}

/// The instant `local` names, the earlier of two in a fold, none in a gap.
fn earliest(tz: Tz, local: NaiveDateTime) -> Option<Instant> {
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.to_utc())
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone, Utc};

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
    fn berlin_spring_forward_gap() {
        let tz = chrono_tz::Europe::Berlin;
        // 2027-03-28 02:00 → 03:00 CEST. 02:30 does not exist.
        assert_eq!(
            resolve_forward(tz, local(2027, 3, 28, 2, 30)),
            utc(2027, 3, 28, 1, 0)
        );
        assert_eq!(
            resolve_rfc5545(tz, local(2027, 3, 28, 2, 30)),
            utc(2027, 3, 28, 1, 30)
        );
        assert_eq!(
            resolve_forward(tz, local(2027, 3, 28, 3, 0)),
            utc(2027, 3, 28, 1, 0)
        );
    }

    #[test]
    fn berlin_fall_back_fold_takes_the_earlier_instant() {
        let tz = chrono_tz::Europe::Berlin;
        // 2026-10-25 03:00 CEST → 02:00 CET: 02:30 happens twice.
        assert_eq!(
            resolve_forward(tz, local(2026, 10, 25, 2, 30)),
            utc(2026, 10, 25, 0, 30)
        );
        assert_eq!(
            resolve_rfc5545(tz, local(2026, 10, 25, 2, 30)),
            utc(2026, 10, 25, 0, 30)
        );
    }

    #[test]
    fn lord_howe_half_hour_shift() {
        let tz = chrono_tz::Australia::Lord_Howe;
        // 2026-10-04 02:00 +10:30 → 02:30 +11:00.
        assert_eq!(
            resolve_forward(tz, local(2026, 10, 4, 2, 15)),
            utc(2026, 10, 3, 15, 30)
        );
        assert_eq!(
            resolve_rfc5545(tz, local(2026, 10, 4, 2, 15)),
            utc(2026, 10, 3, 15, 45)
        );
    }

    #[test]
    fn kathmandu_has_no_dst() {
        let tz = chrono_tz::Asia::Kathmandu;
        assert_eq!(
            resolve_forward(tz, local(2026, 12, 1, 9, 0)),
            utc(2026, 12, 1, 3, 15)
        );
    }
}
