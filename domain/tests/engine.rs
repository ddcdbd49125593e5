//! The availability and conflict engine against hand-computed cases and random inputs.

use std::collections::BTreeSet;

use chrono::{Duration, NaiveDate, TimeZone as _, Utc};
use domain::availability::{SlotQuery, compute};
use domain::conflicts::{ConflictKind, Severity, TaskBlock, detect, detect_with_blocks};
use domain::explain::{Reason, State};
use domain::{
    AvailabilityRules, BusyRules, Counts, Event, EventStatus, EventTime, Instant, Interval,
    IntervalSet, SelfResponse, SourceCalendar, TaskBlocks, TimeZone, WeeklyHours,
};
use proptest::prelude::*;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Instant {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}
fn iv(a: Instant, b: Instant) -> Interval {
    Interval::new(a, b).unwrap()
}
fn timed(key: &str, start: Instant, end: Instant) -> Event {
    Event {
        key: key.into(),
        time: EventTime::Timed(iv(start, end)),
        status: EventStatus::Confirmed,
        busy: true,
        self_response: None,
        ical_uid: None,
        title: key.into(),
        out_of_office: false,
        calendar: None,
    }
}
fn rules(zone: &str, weekly: &[(&str, Vec<(&str, &str)>)]) -> AvailabilityRules {
    let mut r = AvailabilityRules::defaults(TimeZone::parse(zone).unwrap());
    r.weekly = WeeklyHours::parse(weekly.iter().map(|(d, v)| (*d, v.clone()))).unwrap();
    r
}
fn query(start: Instant, end: Instant, minutes: i64) -> SlotQuery {
    SlotQuery {
        range: iv(start, end),
        duration: Duration::minutes(minutes),
        step: Duration::minutes(30),
        now: utc(2000, 1, 1, 0, 0),
    }
}
fn starts(slots: &[Interval]) -> Vec<Instant> {
    slots.iter().map(Interval::start).collect()
}

#[test]
fn berlin_day_with_a_lunch_break_and_a_meeting() {
    let r = rules(
        "Europe/Berlin",
        &[("tuesday", vec![("09:00", "12:00"), ("13:00", "17:00")])],
    );
    // Tue 2026-12-01, CET (+1): windows 08:00–11:00 and 12:00–16:00 UTC; a meeting 09:00–10:00 UTC.
    let events = [timed("m", utc(2026, 12, 1, 9, 0), utc(2026, 12, 1, 10, 0))];
    let a = compute(
        &r,
        &events,
        &query(utc(2026, 12, 1, 0, 0), utc(2026, 12, 2, 0, 0), 60),
    );
    assert_eq!(
        a.free,
        vec![
            iv(utc(2026, 12, 1, 8, 0), utc(2026, 12, 1, 9, 0)),
            iv(utc(2026, 12, 1, 10, 0), utc(2026, 12, 1, 11, 0)),
            iv(utc(2026, 12, 1, 12, 0), utc(2026, 12, 1, 16, 0)),
        ]
    );
    assert_eq!(
        starts(&a.slots),
        vec![
            utc(2026, 12, 1, 8, 0),
            utc(2026, 12, 1, 10, 0),
            utc(2026, 12, 1, 12, 0),
            utc(2026, 12, 1, 12, 30),
            utc(2026, 12, 1, 13, 0),
            utc(2026, 12, 1, 13, 30),
            utc(2026, 12, 1, 14, 0),
            utc(2026, 12, 1, 14, 30),
            utc(2026, 12, 1, 15, 0),
        ]
    );
}

#[test]
fn touching_windows_are_one_free_interval_and_slots_may_cross_the_seam() {
    let r = rules(
        "UTC",
        &[("tuesday", vec![("09:00", "12:00"), ("12:00", "13:00")])],
    );
    let a = compute(
        &r,
        &[],
        &query(utc(2026, 12, 1, 0, 0), utc(2026, 12, 2, 0, 0), 60),
    );
    assert_eq!(
        a.free,
        vec![iv(utc(2026, 12, 1, 9, 0), utc(2026, 12, 1, 13, 0))]
    );
    assert!(
        starts(&a.slots).contains(&utc(2026, 12, 1, 11, 30)),
        "11:30–12:30 crosses the seam"
    );
    assert_eq!(a.slots.len(), 7);
}

#[test]
fn midnight_seam_joins_two_days() {
    let r = rules(
        "UTC",
        &[
            ("monday", vec![("22:00", "24:00")]),
            ("tuesday", vec![("00:00", "02:00")]),
        ],
    );
    let a = compute(
        &r,
        &[],
        &query(utc(2026, 11, 30, 0, 0), utc(2026, 12, 2, 0, 0), 180),
    );
    assert_eq!(
        a.free,
        vec![iv(utc(2026, 11, 30, 22, 0), utc(2026, 12, 1, 2, 0))]
    );
    assert_eq!(
        starts(&a.slots),
        vec![
            utc(2026, 11, 30, 22, 0),
            utc(2026, 11, 30, 22, 30),
            utc(2026, 11, 30, 23, 0)
        ]
    );
}

#[test]
fn candidates_count_from_the_windows_real_start_even_mid_window() {
    let r = rules("UTC", &[("tuesday", vec![("09:15", "12:00")])]);
    let a = compute(
        &r,
        &[],
        &query(utc(2026, 12, 1, 10, 0), utc(2026, 12, 1, 12, 0), 30),
    );
    // 09:15 + k·30: the first candidate inside the query is 10:15.
    assert_eq!(
        starts(&a.slots),
        vec![
            utc(2026, 12, 1, 10, 15),
            utc(2026, 12, 1, 10, 45),
            utc(2026, 12, 1, 11, 15)
        ]
    );
}

#[test]
fn buffers_widen_meetings_and_notice_pushes_the_start() {
    let mut r = rules("UTC", &[("tuesday", vec![("09:00", "17:00")])]);
    r.buffer_before = Duration::minutes(15);
    r.buffer_after = Duration::minutes(30);
    r.minimum_notice = Duration::minutes(60);
    let events = [timed("m", utc(2026, 12, 1, 12, 0), utc(2026, 12, 1, 13, 0))];
    let mut q = query(utc(2026, 12, 1, 0, 0), utc(2026, 12, 2, 0, 0), 30);
    q.now = utc(2026, 12, 1, 9, 10);
    let a = compute(&r, &events, &q);
    assert_eq!(
        a.free,
        vec![
            iv(utc(2026, 12, 1, 10, 10), utc(2026, 12, 1, 11, 45)),
            iv(utc(2026, 12, 1, 13, 30), utc(2026, 12, 1, 17, 0)),
        ]
    );
    assert_eq!(starts(&a.slots)[0], utc(2026, 12, 1, 10, 30));
    assert!(
        !starts(&a.slots).contains(&utc(2026, 12, 1, 11, 30)),
        "11:30–12:00 touches the buffer"
    );
}

#[test]
fn free_tentative_declined_and_cancelled_events_do_not_block() {
    let r = rules("UTC", &[("tuesday", vec![("09:00", "10:00")])]);
    let base = timed("x", utc(2026, 12, 1, 9, 0), utc(2026, 12, 1, 10, 0));
    let range = (utc(2026, 12, 1, 0, 0), utc(2026, 12, 2, 0, 0));
    let free = |e: Event, tentative_busy: bool| {
        let mut r = r.clone();
        r.tentative_is_busy = tentative_busy;
        compute(&r, &[e], &query(range.0, range.1, 60)).free
    };
    assert!(free(base.clone(), true).is_empty());
    assert_eq!(
        free(
            Event {
                busy: false,
                ..base.clone()
            },
            true
        )
        .len(),
        1
    );
    assert_eq!(
        free(
            Event {
                status: EventStatus::Cancelled,
                ..base.clone()
            },
            true
        )
        .len(),
        1
    );
    assert_eq!(
        free(
            Event {
                self_response: Some(SelfResponse::Declined),
                ..base.clone()
            },
            true
        )
        .len(),
        1
    );
    assert!(
        free(
            Event {
                status: EventStatus::Tentative,
                ..base.clone()
            },
            true
        )
        .is_empty()
    );
    assert_eq!(
        free(
            Event {
                status: EventStatus::Tentative,
                ..base
            },
            false
        )
        .len(),
        1
    );
}

#[test]
fn all_day_events_and_days_off_block_whole_local_days() {
    let mut r = rules(
        "Asia/Kathmandu",
        &[
            ("thursday", vec![("09:00", "17:00")]),
            ("friday", vec![("09:00", "17:00")]),
        ],
    );
    r.days_off
        .insert(NaiveDate::from_ymd_opt(2026, 12, 24).unwrap());
    let holiday = Event {
        time: EventTime::AllDay {
            start: NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
            end: NaiveDate::from_ymd_opt(2026, 12, 26).unwrap(),
        },
        ..timed("h", utc(2000, 1, 1, 0, 0), utc(2000, 1, 1, 1, 0))
    };
    let a = compute(
        &r,
        &[holiday],
        &query(utc(2026, 12, 23, 0, 0), utc(2026, 12, 27, 0, 0), 30),
    );
    assert!(a.free.is_empty() && a.slots.is_empty());
}

#[test]
fn new_york_spring_forward_day_is_shorter_in_utc_only_at_the_gap() {
    // Working 01:00–05:00 on Sun 2027-03-14; 02:00–03:00 does not exist.
    let r = rules("America/New_York", &[("sunday", vec![("01:00", "05:00")])]);
    let a = compute(
        &r,
        &[],
        &query(utc(2027, 3, 14, 0, 0), utc(2027, 3, 15, 0, 0), 60),
    );
    assert_eq!(
        a.free,
        vec![iv(utc(2027, 3, 14, 6, 0), utc(2027, 3, 14, 9, 0))]
    );
    assert_eq!(
        starts(&a.slots),
        vec![
            utc(2027, 3, 14, 6, 0),
            utc(2027, 3, 14, 6, 30),
            utc(2027, 3, 14, 7, 0),
            utc(2027, 3, 14, 7, 30),
            utc(2027, 3, 14, 8, 0)
        ]
    );
}

#[test]
fn lord_howe_window_across_the_half_hour_shift() {
    // 2026-10-04: clocks go 02:00 → 02:30. Window 01:00–04:00 local lasts 2.5 hours.
    let r = rules(
        "Australia/Lord_Howe",
        &[("sunday", vec![("01:00", "04:00")])],
    );
    let a = compute(
        &r,
        &[],
        &query(utc(2026, 10, 3, 0, 0), utc(2026, 10, 5, 0, 0), 30),
    );
    assert_eq!(
        a.free,
        vec![iv(utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 17, 0))]
    );
    assert_eq!(a.slots.len(), 5);
}

#[test]
fn overlaps_and_buffers_with_severities() {
    let mut r = rules("UTC", &[]);
    r.buffer_after = Duration::minutes(15);
    let a = timed("a", utc(2026, 12, 1, 9, 0), utc(2026, 12, 1, 10, 0));
    let b = Event {
        status: EventStatus::Tentative,
        ..timed("b", utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 10, 30))
    };
    let c = timed("c", utc(2026, 12, 1, 10, 40), utc(2026, 12, 1, 11, 0));
    let d = timed("d", utc(2026, 12, 1, 11, 0), utc(2026, 12, 1, 12, 0));
    let input = [d.clone(), c.clone(), b.clone(), a.clone()];
    let found = detect(&r, &input);
    let summary: Vec<(ConflictKind, Severity, &str, &str)> = found
        .iter()
        .map(|x| (x.kind, x.severity, x.a, x.b))
        .collect();
    assert_eq!(
        summary,
        vec![
            (ConflictKind::Overlap, Severity::Medium, "a", "b"),
            (ConflictKind::Buffer, Severity::Low, "b", "c"),
            (ConflictKind::Buffer, Severity::Low, "c", "d"),
        ]
    );
    assert_eq!(
        (found[0].start, found[0].end),
        (utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 10, 0))
    );
    assert_eq!(
        (found[2].start, found[2].end),
        (utc(2026, 12, 1, 11, 0), utc(2026, 12, 1, 11, 0))
    );
}

#[test]
fn the_same_meeting_twice_is_no_conflict() {
    let r = rules("UTC", &[]);
    let a = timed("a", utc(2026, 12, 1, 9, 0), utc(2026, 12, 1, 10, 0));
    let copy = Event {
        key: "z".into(),
        title: " A ".into(),
        out_of_office: false,
        calendar: None,
        ..a.clone()
    };
    let other = Event {
        key: "y".into(),
        ical_uid: Some("u".into()),
        ..timed("Other", utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 9, 45))
    };
    let same_uid = Event {
        key: "x".into(),
        ical_uid: Some("u".into()),
        ..timed("Renamed", utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 9, 45))
    };
    assert!(detect(&r, &[a.clone(), copy]).is_empty());
    // `other` and `same_uid` are one meeting: it overlaps `a` once, not twice.
    assert_eq!(detect(&r, &[a, other, same_uid]).len(), 1);
}

#[test]
fn task_blocks_clash_with_meetings_only_where_they_count() {
    let mut r = rules("UTC", &[]);
    r.buffer_after = Duration::minutes(15);
    let block = |key: &str, start, end, at_risk| TaskBlock {
        key: key.into(),
        interval: iv(start, end),
        at_risk,
    };
    // A tentative call over the first block; the second block touches the first (no buffer
    // conflict between blocks, nor with the call that ends 5 minutes before it).
    let call = Event {
        status: EventStatus::Tentative,
        ..timed("call", utc(2026, 12, 1, 9, 30), utc(2026, 12, 1, 9, 55))
    };
    let blocks = [
        block(
            "task:1",
            utc(2026, 12, 1, 9, 0),
            utc(2026, 12, 1, 10, 0),
            false,
        ),
        block(
            "task:2",
            utc(2026, 12, 1, 10, 0),
            utc(2026, 12, 1, 11, 0),
            true,
        ),
        block(
            "task:3",
            utc(2026, 12, 1, 9, 40),
            utc(2026, 12, 1, 9, 50),
            true,
        ),
    ];
    let events = [call];
    let summary = |r: &AvailabilityRules| -> Vec<(ConflictKind, Severity, String, String)> {
        detect_with_blocks(r, &events, &blocks)
            .iter()
            .map(|c| (c.kind, c.severity, c.a.to_owned(), c.b.to_owned()))
            .collect()
    };
    r.task_blocks = TaskBlocks::Busy;
    assert_eq!(
        summary(&r),
        vec![
            (
                ConflictKind::Overlap,
                Severity::Medium,
                "task:1".into(),
                "call".into()
            ),
            (
                ConflictKind::Overlap,
                Severity::Medium,
                "call".into(),
                "task:3".into()
            ),
        ],
        "blocks never clash with each other, and have no buffers"
    );
    r.task_blocks = TaskBlocks::AtRisk;
    assert_eq!(
        summary(&r),
        vec![(
            ConflictKind::Overlap,
            Severity::Medium,
            "call".into(),
            "task:3".into()
        )]
    );
    r.task_blocks = TaskBlocks::Free;
    assert!(summary(&r).is_empty());
    assert!(detect(&r, &events).is_empty());
}

// ---------------------------------------------------------------- properties

fn arb_events(max: usize) -> impl Strategy<Value = Vec<Event>> {
    prop::collection::vec((0i64..7 * 24 * 4, 1i64..16, any::<bool>(), 0u8..10), 0..max).prop_map(
        |raw| {
            raw.into_iter()
                .enumerate()
                .map(|(i, (q, len, tentative, title))| {
                    let start = utc(2026, 11, 30, 0, 0) + Duration::minutes(15 * q);
                    Event {
                        key: format!("e{i:04}"),
                        time: EventTime::Timed(iv(start, start + Duration::minutes(15 * len))),
                        status: if tentative {
                            EventStatus::Tentative
                        } else {
                            EventStatus::Confirmed
                        },
                        busy: true,
                        self_response: None,
                        ical_uid: None,
                        title: format!("t{title}"),
                        out_of_office: false,
                        calendar: None,
                    }
                })
                .collect()
        },
    )
}

fn arb_rules() -> impl Strategy<Value = AvailabilityRules> {
    (
        prop::sample::select(vec![
            "Europe/Berlin",
            "America/New_York",
            "Australia/Lord_Howe",
            "Asia/Kathmandu",
            "UTC",
        ]),
        0i64..60,
        0i64..60,
        prop::collection::vec((0u16..20, 1u16..12), 0..3),
    )
        .prop_map(|(zone, before, after, day)| {
            let mut r = AvailabilityRules::defaults(TimeZone::parse(zone).unwrap());
            r.buffer_before = Duration::minutes(before);
            r.buffer_after = Duration::minutes(after);
            // Up to three non-overlapping intervals per weekday, on a quarter-hour grid.
            let mut cursor = 0u16;
            let mut intervals = Vec::new();
            for (gap, len) in day {
                let start = cursor + gap * 15;
                let end = (start + len * 30).min(24 * 60);
                if start < end {
                    intervals.push((start, end));
                }
                cursor = end;
            }
            let fmt = |m: u16| format!("{:02}:{:02}", m / 60, m % 60);
            let texts: Vec<(String, String)> =
                intervals.iter().map(|&(s, e)| (fmt(s), fmt(e))).collect();
            let days: Vec<(&str, Vec<(&str, &str)>)> = domain::rules::WEEKDAYS
                .iter()
                .map(|d| {
                    (
                        *d,
                        texts
                            .iter()
                            .map(|(s, e)| (s.as_str(), e.as_str()))
                            .collect(),
                    )
                })
                .collect();
            r.weekly = WeeklyHours::parse(days).unwrap();
            r
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn slots_lie_in_working_time_outside_blocked_time_and_aligned(
        rules in arb_rules(),
        events in arb_events(40),
        duration in 1i64..5,
        step in prop::sample::select(vec![15i64, 20, 30, 60]),
        offset in 0i64..48,
    ) {
        let start = utc(2026, 11, 30, 0, 0) + Duration::minutes(30 * offset);
        let q = SlotQuery { range: iv(start, start + Duration::days(6)), duration: Duration::minutes(15 * duration), step: Duration::minutes(step), now: utc(2000, 1, 1, 0, 0) };
        let a = compute(&rules, &events, &q);
        let windows = rules.working_windows(&q.range);
        let blocked = domain::availability::blocked(&rules, &events);

        // Free intervals: disjoint, sorted, maximal (no two touch), inside range and windows, not blocked.
        for pair in a.free.windows(2) {
            prop_assert!(pair[0].end() < pair[1].start());
        }
        for f in &a.free {
            prop_assert!(q.range.contains(f));
            prop_assert!(!blocked.iter().any(|b| b.overlaps(f)));
        }
        // Slots: distinct, sorted, inside one free interval, aligned to some window's start.
        for pair in a.slots.windows(2) {
            prop_assert!(pair[0] < pair[1]);
        }
        for s in &a.slots {
            prop_assert!(a.free.iter().any(|f| f.contains(s)));
            prop_assert!(!blocked.iter().any(|b| b.overlaps(s)));
            let aligned = windows.iter().any(|w| s.start() >= w.start() && s.start() < w.end()
                && (s.start() - w.start()).num_minutes() % step == 0);
            prop_assert!(aligned, "slot {:?} not aligned", s);
        }
        // Every aligned candidate that fits is a slot (nothing missed).
        for w in &windows {
            let mut t = w.start();
            while t < w.end() {
                let cand = iv(t, t + q.duration);
                if a.free.iter().any(|f| f.contains(&cand)) {
                    prop_assert!(a.slots.contains(&cand), "missed {:?}", cand);
                }
                t += q.step;
            }
        }
    }

    #[test]
    fn explain_tiles_the_range_and_its_free_time_is_availabilitys(
        mut rules in arb_rules(),
        mut events in arb_events(40),
        notice in 0i64..3 * 24 * 4,
        now_offset in 0i64..6 * 24 * 4,
        day_off in prop::option::of(0i64..7),
        tentative_busy in any::<bool>(),
        calendar_rules in prop::collection::vec((0u8..3, 0u8..3, any::<bool>(), any::<bool>()), 2),
        offset in 0i64..48,
        per_event in prop::collection::vec((0usize..3, any::<bool>(), any::<bool>()), 40),
    ) {
        rules.minimum_notice = Duration::minutes(15 * notice);
        rules.tentative_is_busy = tentative_busy;
        if let Some(d) = day_off {
            rules.days_off.insert(chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap() + Duration::days(d));
        }
        let counts = |c: u8| [Counts::AsRules, Counts::Busy, Counts::Free][c as usize];
        let calendars: Vec<_> = calendar_rules
            .iter()
            .enumerate()
            .map(|(i, (t, a, ooo, lunch))| {
                let titles: Vec<String> = if *lunch { vec!["t3".into()] } else { vec![] };
                let ooo = if *ooo { Counts::Free } else { Counts::Busy };
                SourceCalendar::new(format!("cal{i}"), BusyRules::new(counts(*t), counts(*a), ooo, &titles).unwrap())
            })
            .collect();
        for (e, (calendar, ooo, free)) in events.iter_mut().zip(per_event) {
            e.calendar = calendars.get(calendar).cloned();
            e.out_of_office = ooo;
            e.busy = !free;
        }
        let start = utc(2026, 11, 30, 0, 0) + Duration::minutes(30 * offset);
        let range = iv(start, start + Duration::days(6));
        let now = utc(2026, 11, 30, 0, 0) + Duration::minutes(15 * now_offset);
        let q = SlotQuery { range, duration: Duration::minutes(30), step: Duration::minutes(30), now };
        let free = compute(&rules, &events, &q).free;
        let explained = domain::explain::explain(&rules, &events, &range, now);

        // A tiling of the range, in order, neighbours different.
        prop_assert_eq!(explained.first().map(|e| e.interval.start()), Some(range.start()));
        prop_assert_eq!(explained.last().map(|e| e.interval.end()), Some(range.end()));
        for pair in explained.windows(2) {
            prop_assert_eq!(pair[0].interval.end(), pair[1].interval.start());
            prop_assert!(pair[0].state != pair[1].state || pair[0].reasons != pair[1].reasons);
        }
        // Its free time is availability's, exactly.
        let explained_free: Vec<Interval> = explained
            .iter()
            .filter(|e| e.state == State::Free)
            .map(|e| e.interval)
            .collect();
        let explained_free = IntervalSet::from_intervals(explained_free);
        prop_assert_eq!(explained_free.as_slice(), free.as_slice());
        // Busy time names only events that block, each within its buffered time.
        for e in &explained {
            match e.state {
                State::Free => prop_assert!(e.reasons.is_empty()),
                State::Busy => {
                    prop_assert!(!e.reasons.is_empty());
                    for r in &e.reasons {
                        let event = &events[r.event().unwrap()];
                        prop_assert!(event.blocks_time(rules.tentative_is_busy));
                        let own = event.interval_in(rules.timezone.tz()).unwrap();
                        let blocks = own.widen(rules.buffer_before, rules.buffer_after);
                        prop_assert!(blocks.contains(&e.interval));
                        prop_assert_eq!(matches!(r, Reason::Event(_)), own.contains(&e.interval));
                    }
                }
                State::Closed => prop_assert!(e.reasons.iter().all(|r| r.event().is_none())),
            }
        }
    }

    #[test]
    fn the_sweep_finds_exactly_the_pairwise_conflicts(rules in arb_rules(), events in arb_events(60)) {
        let found: BTreeSet<(ConflictKind, String, String)> =
            detect(&rules, &events).into_iter().map(|c| (c.kind, c.a.to_owned(), c.b.to_owned())).collect();

        // Brute force over all pairs, duplicates removed the same way (first by start, key).
        let mut sorted: Vec<&Event> = events.iter().collect();
        sorted.sort_by_key(|e| (e.interval_in(chrono_tz::UTC).unwrap().start(), e.key.clone()));
        let mut kept: Vec<&Event> = Vec::new();
        for e in sorted {
            if !kept.iter().any(|k| k.same_meeting(e)) {
                kept.push(e);
            }
        }
        let buffer = rules.conflict_buffer();
        let mut expected = BTreeSet::new();
        for (i, a) in kept.iter().enumerate() {
            for b in &kept[i + 1..] {
                let (x, y) = (a.interval_in(chrono_tz::UTC).unwrap(), b.interval_in(chrono_tz::UTC).unwrap());
                if x.overlaps(&y) {
                    expected.insert((ConflictKind::Overlap, a.key.clone(), b.key.clone()));
                } else {
                    let gap = y.start() - x.end();
                    if gap >= Duration::zero() && gap < buffer {
                        expected.insert((ConflictKind::Buffer, a.key.clone(), b.key.clone()));
                    }
                }
            }
        }
        prop_assert_eq!(found, expected);
    }

    #[test]
    fn recurrence_expansion_is_ordered_and_inside_the_window(
        rule in prop::sample::select(vec!["FREQ=DAILY;COUNT=40", "FREQ=WEEKLY;BYDAY=MO,WE,FR", "FREQ=MONTHLY;BYMONTHDAY=1,15,-1", "FREQ=WEEKLY;INTERVAL=2;UNTIL=20271231T000000Z"]),
        zone in prop::sample::select(vec!["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
        day in 0i64..400,
        hour in 0u32..24,
        len in 1i64..300,
        from in 0i64..400,
        span in 1i64..60,
    ) {
        let tz: chrono_tz::Tz = zone.parse().unwrap();
        let first = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(hour, 0, 0).unwrap() + Duration::days(day);
        let r = domain::Recurrence::parse(rule, tz, vec![], vec![]).unwrap();
        let (a, b) = (utc(2026, 11, 1, 0, 0) + Duration::days(from), utc(2026, 11, 1, 0, 0) + Duration::days(from + span));
        let duration = Duration::minutes(len);
        let got = r.starts_overlapping(tz, first, duration, a, b);
        for pair in got.windows(2) {
            prop_assert!(pair[0] < pair[1]);
        }
        for s in &got {
            prop_assert!(*s < b && *s + duration > a);
        }
    }
}
