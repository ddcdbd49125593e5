//! Reading a large real-world-like feed: ~5 MB, 10,000 events of which 200 weekly series with
//! two moved occurrences and an EXDATE each, times in two zones defined by VTIMEZONE blocks (as
//! Outlook writes them) and one IANA zone; then every series expanded over a sync window
//! (90 days back, 365 ahead) the way the engine does.
//!
//!   cargo bench -p providers --bench ics_read
//!   (with ICS_READ_FEED_OUT=<file> it also writes the feed there, for tools/icalendar-compare)

use std::fmt::Write as _;

use chrono::{Duration, NaiveDate, TimeZone as _, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use providers::RemoteTime;

const VTIMEZONES: &str = "BEGIN:VTIMEZONE\r\nTZID:W. Europe Standard Time\r\n\
BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+0200\r\nTZOFFSETTO:+0100\r\n\
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\n\
RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
BEGIN:VTIMEZONE\r\nTZID:Canberra, Melbourne, Sydney\r\n\
BEGIN:STANDARD\r\nDTSTART:16010101T030000\r\nTZOFFSETFROM:+1100\r\nTZOFFSETTO:+1000\r\n\
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\nEND:STANDARD\r\n\
BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:+1000\r\nTZOFFSETTO:+1100\r\n\
RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=10\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n";

fn feed() -> String {
    let zones = [
        "W. Europe Standard Time",
        "\"Canberra, Melbourne, Sydney\"",
        "America/New_York",
    ];
    let first = NaiveDate::from_ymd_opt(2026, 1, 5).unwrap();
    let mut out = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\n");
    out.push_str(VTIMEZONES);
    let padding = "Agenda: review the numbers\\, agree on next steps\\; notes follow. ".repeat(4);
    for n in 0..10_000u32 {
        let zone = zones[n as usize % zones.len()];
        let day = first + Duration::days(i64::from(n % 400));
        let hour = 8 + n % 9;
        let _ = write!(
            out,
            "BEGIN:VEVENT\r\nUID:ev-{n}@bench\r\nDTSTAMP:20260101T000000Z\r\n\
             DTSTART;TZID={zone}:{}T{hour:02}0000\r\nDTEND;TZID={zone}:{}T{hour:02}4500\r\n\
             SUMMARY:Meeting {n}\r\nDESCRIPTION:{padding}\r\nLOCATION:Room {}\r\n\
             ORGANIZER:mailto:boss@example.com\r\nATTENDEE;PARTSTAT=ACCEPTED:mailto:ada@example.com\r\n",
            day.format("%Y%m%d"),
            day.format("%Y%m%d"),
            n % 40,
        );
        if n < 200 {
            let moved = day + Duration::weeks(3);
            let _ = write!(
                out,
                "RRULE:FREQ=WEEKLY;BYDAY=MO,WE\r\nEXDATE;TZID={zone}:{}T{hour:02}0000\r\nEND:VEVENT\r\n",
                (day + Duration::weeks(5)).format("%Y%m%d"),
            );
            for (k, shift) in [(3, 2), (7, 1)] {
                let original = day + Duration::weeks(k);
                let _ = write!(
                    out,
                    "BEGIN:VEVENT\r\nUID:ev-{n}@bench\r\nRECURRENCE-ID;TZID={zone}:{}T{hour:02}0000\r\n\
                     DTSTART;TZID={zone}:{}T{:02}0000\r\nDURATION:PT45M\r\nSUMMARY:Moved {n}\r\nEND:VEVENT\r\n",
                    original.format("%Y%m%d"),
                    original.format("%Y%m%d"),
                    hour + shift,
                );
            }
            let _ = moved;
        } else {
            out.push_str("END:VEVENT\r\n");
        }
    }
    out.push_str("END:VCALENDAR\r\n");
    out
}

/// Reads the feed and expands every series over the sync window; returns the occurrence count.
fn read_and_expand(text: &str) -> usize {
    let calendar = providers::ics::parse(text).expect("a calendar");
    let now = Utc.with_ymd_and_hms(2026, 6, 1, 0, 0, 0).unwrap();
    let (from, to) = (now - Duration::days(90), now + Duration::days(365));
    let mut occurrences = 0;
    for event in &calendar.events {
        let RemoteTime::Timed { start, end } = event.time else {
            continue;
        };
        let Some(rule) = &event.rrule else {
            occurrences += usize::from(start < to && end > from);
            continue;
        };
        let tz: chrono_tz::Tz = event
            .timezone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        let Ok(recurrence) =
            domain::Recurrence::parse_all(rule, tz, event.exdates.clone(), event.rdates.clone())
        else {
            continue;
        };
        let first = start.with_timezone(&tz).naive_local();
        occurrences += recurrence
            .starts_overlapping(tz, first, end - start, from, to)
            .len();
    }
    occurrences
}

fn bench(c: &mut Criterion) {
    let text = feed();
    // The same feed for tools/icalendar-compare, which measures the `icalendar` crate on it.
    if let Ok(path) = std::env::var("ICS_READ_FEED_OUT") {
        std::fs::write(&path, &text).expect("the feed is written");
    }
    eprintln!(
        "feed: {:.1} MB, {} occurrences in the window",
        text.len() as f64 / 1e6,
        read_and_expand(&text)
    );
    let mut group = c.benchmark_group("ics");
    group.sample_size(10);
    group.bench_function("parse 10,000 events", |b| {
        b.iter(|| providers::ics::parse(&text).unwrap().events.len())
    });
    group.bench_function("parse and expand over the sync window", |b| {
        b.iter(|| read_and_expand(&text))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
