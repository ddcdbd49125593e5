//! The RRULE path on arbitrary rules: parsing, validation and expansion over a 92-day window
//! must answer without panicking, and never yield more than the cap.
#![no_main]

use chrono::{Duration, NaiveDate, TimeZone as _, Utc};
use domain::Recurrence;
use domain::recurrence::MAX_OCCURRENCES;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The first byte picks a zone with DST rules, so expansion crosses transitions.
    let zones = [chrono_tz::UTC, chrono_tz::Europe::Berlin, chrono_tz::America::New_York, chrono_tz::Australia::Lord_Howe];
    let tz = zones[data.first().map_or(0, |b| *b as usize) % zones.len()];
    let first = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap().and_hms_opt(9, 30, 0).unwrap();
    let Ok(recurrence) = Recurrence::parse(text, tz, vec![], vec![]) else {
        return;
    };
    let _ = recurrence.validate(tz, first);
    let _ = recurrence.too_many_occurrences(tz, first);
    let from = Utc.with_ymd_and_hms(2026, 3, 20, 0, 0, 0).unwrap();
    let to = from + Duration::days(92);
    let starts = recurrence.starts_overlapping(tz, first, Duration::minutes(45), from, to);
    assert!(starts.len() <= MAX_OCCURRENCES);
    let locals = recurrence.local_starts(tz, first, from.naive_utc(), to.naive_utc());
    assert!(locals.len() <= MAX_OCCURRENCES);
});
