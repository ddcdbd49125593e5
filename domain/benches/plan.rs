//! The task planner: 500 open tasks against a user's 10,000 busy events (spread over the sync
//! window, 90 days back to a year ahead, as the sync benchmark's are), planned over the 28-day
//! horizon: from the events to the plan (busy set, free time, placement), what one re-plan
//! computes; and the placement alone. (10,000 events inside 28 days would leave no free time at
//! all: 357 meetings a day.)
//!
//! `cargo bench -p domain --bench plan`; results in docs/benchmarks.md.

use std::hint::black_box;

use chrono::{Duration, TimeZone as _, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use domain::availability::{blocked, free_time};
use domain::plan::{HORIZON, PlanTask, plan};
use domain::{AvailabilityRules, Event, EventStatus, EventTime, Instant, Interval, TimeZone};

/// A deterministic spread of `n` meetings of 10–70 minutes over `days` days from `start`.
fn events(n: usize, start: Instant, days: i64) -> Vec<Event> {
    let span_minutes = days * 24 * 60;
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..n)
        .map(|i| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let offset = (seed % span_minutes as u64) as i64;
            let length = 10 + (seed >> 20) as i64 % 61;
            let s = start + Duration::minutes(offset);
            Event {
                key: format!("evt-{i:06}"),
                time: EventTime::Timed(Interval::new(s, s + Duration::minutes(length)).unwrap()),
                status: EventStatus::Confirmed,
                busy: true,
                self_response: None,
                ical_uid: None,
                title: format!("Meeting {}", i % 97),
                out_of_office: false,
                calendar: None,
            }
        })
        .collect()
}

/// 500 tasks of 15 minutes to 8 hours, in pieces, with dues spread over the horizon.
fn tasks(n: usize, now: Instant) -> Vec<PlanTask> {
    (0..n)
        .map(|i| {
            let i64_i = i as i64;
            let minutes = 15 + (i64_i * 37) % 465;
            let min = (15 + (i64_i * 11) % 60).min(minutes);
            PlanTask {
                id: i as u128,
                due: (i % 5 != 0).then(|| now + Duration::hours(2 + (i64_i * 13) % (27 * 24))),
                priority: (1 + i % 4) as u8,
                created_at: now - Duration::minutes(i64_i),
                duration: Duration::minutes(minutes),
                min_chunk: Duration::minutes(min),
                max_chunk: Duration::minutes((min * 3).min(minutes)),
                earliest_start: (i % 9 == 0).then(|| now + Duration::days(i64_i % 10)),
                begun: Vec::new(),
            }
        })
        .collect()
}

fn planning(c: &mut Criterion) {
    let now = Utc.with_ymd_and_hms(2027, 1, 4, 7, 0, 0).unwrap();
    let busy = events(10_000, now - Duration::days(90), 455);
    let open = tasks(500, now);
    let mut rules = AvailabilityRules::defaults(TimeZone::parse("Europe/Berlin").unwrap());
    rules.buffer_after = Duration::minutes(5);
    let range = Interval::new(now, now + HORIZON).unwrap();
    c.bench_function("plan 500 tasks, 10,000 events", |b| {
        b.iter(|| {
            let blocked = blocked(&rules, black_box(&busy));
            let (_, free) = free_time(&rules, &blocked, &range, now);
            black_box(plan(&free, black_box(&open)))
        })
    });
    let busy_set = blocked(&rules, &busy);
    let (_, free) = free_time(&rules, &busy_set, &range, now);
    let placed = plan(&free, &open);
    eprintln!(
        "10,000 events: {} free intervals; {} of 500 tasks get blocks, {} blocks",
        free.len(),
        placed.iter().filter(|p| !p.blocks.is_empty()).count(),
        placed.iter().map(|p| p.blocks.len()).sum::<usize>()
    );
    c.bench_function("plan 500 tasks into ready free time", |b| {
        b.iter(|| black_box(plan(black_box(&free), black_box(&open))))
    });
}

criterion_group!(benches, planning);
criterion_main!(benches);
