//! Hot paths of the engine: slot finding, explained availability and conflict detection.
//!
//! `cargo bench -p domain --bench engine`; results and the machine they ran on are in
//! docs/benchmarks.md.

use std::hint::black_box;

use chrono::{Duration, TimeZone as _, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use domain::availability::{SlotQuery, compute};
use domain::conflicts::detect;
use domain::{AvailabilityRules, Event, EventStatus, EventTime, Instant, Interval, TimeZone};

/// A deterministic spread of `n` meetings of 15–120 minutes over `days` days from `start`.
fn events(n: usize, start: Instant, days: i64) -> Vec<Event> {
    let span_minutes = days * 24 * 60;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|i| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let offset = (seed % span_minutes as u64) as i64;
            let length = 15 + (seed >> 20) as i64 % 106;
            let s = start + Duration::minutes(offset);
            Event {
                key: format!("evt-{i:06}"),
                time: EventTime::Timed(Interval::new(s, s + Duration::minutes(length)).unwrap()),
                status: if i % 7 == 0 {
                    EventStatus::Tentative
                } else {
                    EventStatus::Confirmed
                },
                busy: i % 11 != 0,
                self_response: None,
                ical_uid: Some(format!("uid-{}", i % (n - n / 20).max(1))),
                title: format!("Meeting {}", i % 97),
                out_of_office: false,
                calendar: None,
            }
        })
        .collect()
}

fn berlin_rules() -> AvailabilityRules {
    let mut rules = AvailabilityRules::defaults(TimeZone::parse("Europe/Berlin").unwrap());
    rules.buffer_before = Duration::minutes(5);
    rules.buffer_after = Duration::minutes(10);
    rules
}

fn slot_finding(c: &mut Criterion) {
    let start = Utc.with_ymd_and_hms(2027, 1, 4, 0, 0, 0).unwrap();
    let busy = events(10_000, start, 92);
    let rules = berlin_rules();
    let query = SlotQuery {
        range: Interval::new(start, start + Duration::days(92)).unwrap(),
        duration: Duration::minutes(30),
        step: Duration::minutes(30),
        now: start,
    };
    c.bench_function("slots: 92 days, 10k busy events", |b| {
        b.iter(|| compute(black_box(&rules), black_box(&busy), black_box(&query)))
    });
}

fn explaining(c: &mut Criterion) {
    let start = Utc.with_ymd_and_hms(2027, 1, 4, 0, 0, 0).unwrap();
    let busy = events(10_000, start, 92);
    let mut rules = berlin_rules();
    rules.minimum_notice = Duration::hours(4);
    let range = Interval::new(start, start + Duration::days(92)).unwrap();
    let tiles = domain::explain::explain(&rules, &busy, &range, start).len();
    c.bench_function(
        &format!("explain: 92 days, 10k busy events ({tiles} intervals)"),
        |b| {
            b.iter(|| {
                domain::explain::explain(
                    black_box(&rules),
                    black_box(&busy),
                    black_box(&range),
                    start,
                )
            })
        },
    );
}

fn conflict_detection(c: &mut Criterion) {
    let start = Utc.with_ymd_and_hms(2027, 1, 4, 0, 0, 0).unwrap();
    let rules = berlin_rules();
    let mut group = c.benchmark_group("conflicts");
    group.sample_size(20);
    // A busy freelancer's five years: ~55 meetings a day, a few collisions each day.
    let realistic = events(100_000, start, 5 * 365);
    let found = detect(&rules, &realistic).len();
    group.bench_function(
        format!("100k events over 5 years ({found} conflicts)"),
        |b| b.iter(|| detect(black_box(&rules), black_box(&realistic))),
    );
    // Worst case: the same 100k packed into one year, ~13 meetings at any moment.
    let dense = events(100_000, start, 365);
    let found = detect(&rules, &dense).len();
    group.bench_function(format!("100k events in 1 year ({found} conflicts)"), |b| {
        b.iter(|| detect(black_box(&rules), black_box(&dense)))
    });
    group.finish();
}

criterion_group!(benches, slot_finding, explaining, conflict_detection);
criterion_main!(benches);
