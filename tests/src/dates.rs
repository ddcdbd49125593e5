//! Dates relative to the tests' "now" (`crate::clock`), for tests about "the coming weeks".

use chrono::{Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Berlin;

/// The first `weekday` at least two days after the tests' today in Berlin (the test users' zone).
pub fn next(weekday: Weekday) -> NaiveDate {
    let mut d = crate::clock::now().with_timezone(&Berlin).date_naive() + Duration::days(2);
    while d.weekday() != weekday {
        d += Duration::days(1);
    }
    d
}

/// `date` at `hh:mm` Berlin time, as RFC 3339.
pub fn berlin(date: NaiveDate, hm: &str) -> String {
    let local = date.and_time(NaiveTime::parse_from_str(hm, "%H:%M").expect("HH:MM"));
    Berlin
        .from_local_datetime(&local)
        .earliest()
        .expect("a time that exists")
        .to_rfc3339()
}

/// `date` at `hh:mm` Berlin time, as UTC in `YYYY-MM-DDTHH:MM:SS+00:00` (Python's isoformat).
pub fn berlin_utc(date: NaiveDate, hm: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(&berlin(date, hm))
        .expect("RFC 3339")
        .with_timezone(&Utc)
        .format("%Y-%m-%dT%H:%M:%S+00:00")
        .to_string()
}
