//! The task planner against hand-computed cases (with the engine's free time on a DST day) and
//! random inputs.

use chrono::{Duration, TimeZone as _, Utc};
use domain::availability::{blocked, free_time};
use domain::plan::{GRID, HORIZON, Placement, PlanTask, plan};
use domain::{AvailabilityRules, Event, EventStatus, EventTime, Instant, Interval, IntervalSet};
use domain::{TimeZone, WeeklyHours};
use proptest::prelude::*;

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> Instant {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}
fn iv(a: Instant, b: Instant) -> Interval {
    Interval::new(a, b).unwrap()
}

fn task(id: u128, minutes: i64, min: i64, max: i64) -> PlanTask {
    PlanTask {
        id,
        due: None,
        priority: 3,
        created_at: utc(2027, 3, 1, 0, 0),
        duration: Duration::minutes(minutes),
        min_chunk: Duration::minutes(min),
        max_chunk: Duration::minutes(max),
        earliest_start: None,
        begun: Vec::new(),
    }
}

/// The planning time the service computes: free time from now + notice to now + 28 days.
fn planning(rules: &AvailabilityRules, events: &[Event], now: Instant) -> IntervalSet {
    let range = iv(now, now + HORIZON);
    free_time(
        rules,
        &blocked(rules, events),
        &range,
        now + rules.minimum_notice,
    )
    .1
}

/// Berlin springs forward on Sunday 2027-03-28. Working 09:00–17:00 every day, a meeting
/// Monday 10:00–11:00 local: Saturday's window is 08:00–16:00 UTC, Sunday's and Monday's
/// 07:00–15:00 UTC. A 10-hour task in pieces of 2–4 h, planned from Saturday 15:00 UTC.
#[test]
fn a_dst_weekend_by_hand() {
    let mut rules = AvailabilityRules::defaults(TimeZone::parse("Europe/Berlin").unwrap());
    let every_day: Vec<(&str, Vec<(&str, &str)>)> = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
    .into_iter()
    .map(|d| (d, vec![("09:00", "17:00")]))
    .collect();
    rules.weekly = WeeklyHours::parse(every_day).unwrap();
    rules.minimum_notice = Duration::zero();
    rules.buffer_before = Duration::zero();
    rules.buffer_after = Duration::zero();
    let meeting = Event {
        key: "m".into(),
        time: EventTime::Timed(iv(utc(2027, 3, 29, 8, 0), utc(2027, 3, 29, 9, 0))),
        status: EventStatus::Confirmed,
        busy: true,
        self_response: None,
        ical_uid: None,
        title: "Meeting".into(),
        out_of_office: false,
        calendar: None,
    };
    let now = utc(2027, 3, 27, 14, 58);
    let free = planning(&rules, &[meeting], now);
    let t = task(1, 600, 120, 240);
    let placed = plan(&free, &[t]);
    assert_eq!(
        placed[0].blocks,
        [
            // Saturday: 14:58 rounds up to 15:00, one hour left is less than a piece.
            // Sunday (CEST): 07:00–11:00 UTC, the most a piece may be.
            iv(utc(2027, 3, 28, 7, 0), utc(2027, 3, 28, 11, 0)),
            // Monday: 07:00–08:00 UTC is too short; after the meeting 09:00–13:00.
            iv(utc(2027, 3, 29, 9, 0), utc(2027, 3, 29, 13, 0)),
            // Tuesday: the last two hours.
            iv(utc(2027, 3, 30, 7, 0), utc(2027, 3, 30, 9, 0)),
        ]
    );
    assert!(!placed[0].at_risk);
}

fn arb_task(id: u128) -> impl Strategy<Value = PlanTask> {
    (
        1i64..=60, // duration in 5-minute steps … and odd minutes too
        0i64..=4,  // extra odd minutes
        1i64..=12, // min chunk (5-minute steps)
        0i64..=12, // max chunk beyond min
        prop::option::of(0i64..(28 * 24)),
        1u8..=4,
        0i64..1000,
        prop::option::of(0i64..(10 * 24)),
        prop::option::of((0i64..120, 5i64..120)),
    )
        .prop_map(
            move |(steps, odd, min, more, due_h, priority, created, earliest_h, begun)| {
                let base = utc(2027, 1, 4, 8, 0);
                let duration = Duration::minutes(steps * 5 + odd);
                let min_chunk = Duration::minutes(min * 5).min(duration);
                let max_chunk = (min_chunk + Duration::minutes(more * 5)).min(duration);
                PlanTask {
                    id,
                    due: due_h.map(|h| base + Duration::hours(h)),
                    priority,
                    created_at: base - Duration::minutes(created),
                    duration,
                    min_chunk,
                    max_chunk,
                    earliest_start: earliest_h.map(|h| base + Duration::hours(h)),
                    // A begun block: it started at or before "now" (base).
                    begun: begun
                        .map(|(ago, len)| {
                            let start = base - Duration::minutes(ago);
                            vec![iv(start, start + Duration::minutes(len).min(duration))]
                        })
                        .unwrap_or_default(),
                }
            },
        )
}

fn arb_tasks() -> impl Strategy<Value = Vec<PlanTask>> {
    (0usize..12).prop_flat_map(|n| (0..n).map(|i| arb_task(i as u128 + 1)).collect::<Vec<_>>())
}

/// Free intervals after "now": random working days of random pieces.
fn arb_planning() -> impl Strategy<Value = IntervalSet> {
    prop::collection::vec((0i64..(28 * 24 * 12), 1i64..60), 0..40).prop_map(|pieces| {
        let base = utc(2027, 1, 4, 8, 0);
        IntervalSet::from_intervals(
            pieces
                .into_iter()
                .map(|(start, len)| {
                    // Starts off the grid too: a minute past, say.
                    let s = base + Duration::minutes(start * 5 + start % 3);
                    iv(s, s + Duration::minutes(len * 7))
                })
                .collect(),
        )
    })
}

/// Begun blocks that overlap one another make no sense (a plan never has them): keep the first.
fn consistent(mut tasks: Vec<PlanTask>) -> Vec<PlanTask> {
    let mut taken = IntervalSet::new();
    for t in &mut tasks {
        t.begun.retain(|b| {
            let clash = taken.iter().any(|x| x.overlaps(b));
            if !clash {
                taken = taken.union(&IntervalSet::from_intervals(vec![*b]));
            }
            !clash
        });
    }
    tasks
}

fn new_blocks<'a>(p: &'a Placement, t: &PlanTask) -> impl Iterator<Item = &'a Interval> {
    p.blocks.iter().skip(t.begun.len())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn plans_keep_every_rule_of_the_contract(planning in arb_planning(), tasks in arb_tasks()) {
        let tasks = consistent(tasks);
        let placed = plan(&planning, &tasks);
        prop_assert_eq!(placed.len(), tasks.len());
        let mut all: Vec<Interval> = Vec::new();
        for p in &placed {
            let t = tasks.iter().find(|t| t.id == p.id).unwrap();
            // Begun blocks stay, first.
            prop_assert_eq!(&p.blocks[..t.begun.len()], &t.begun[..]);
            let done: Duration = t.begun.iter().map(Interval::duration).sum();
            let mut placed_time = Duration::zero();
            let new: Vec<&Interval> = new_blocks(p, t).collect();
            for (i, b) in new.iter().enumerate() {
                // Inside planning time, on the grid, after the earliest start.
                prop_assert!(planning.iter().any(|f| f.contains(b)), "{b:?} outside free time");
                prop_assert_eq!(b.start().timestamp() % GRID.num_seconds(), 0);
                prop_assert!(t.earliest_start.is_none_or(|e| b.start() >= e));
                // Within the chunk bounds, unless it is the piece that finishes the task.
                prop_assert!(b.duration() <= t.max_chunk);
                let last = i == new.len() - 1;
                prop_assert!(b.duration() >= t.min_chunk || (last && p.unscheduled.is_zero()));
                placed_time += b.duration();
            }
            // In time order.
            prop_assert!(new.windows(2).all(|w| w[0].end() <= w[1].start()));
            let remaining = (t.duration - done).max(Duration::zero());
            prop_assert_eq!(placed_time + p.unscheduled, remaining);
            let late = t.due.is_some_and(|d| p.blocks.iter().any(|b| b.end() > d));
            prop_assert_eq!(p.at_risk, !p.unscheduled.is_zero() || late);
            all.extend(p.blocks.iter().copied());
        }
        // No two blocks overlap, whoever's they are.
        all.sort();
        prop_assert!(all.windows(2).all(|w| w[0].end() <= w[1].start()), "{all:?}");
    }

    /// Order is respected: a task's place never depends on the tasks planned after it, and the
    /// input's order does not matter.
    #[test]
    fn earlier_tasks_do_not_see_later_ones(planning in arb_planning(), tasks in arb_tasks(), cut in 0usize..12) {
        let tasks = consistent(tasks);
        let placed = plan(&planning, &tasks);
        let mut reversed = tasks.clone();
        reversed.reverse();
        prop_assert_eq!(&plan(&planning, &reversed), &placed);
        let cut = cut.min(placed.len());
        let first: Vec<PlanTask> = placed[..cut]
            .iter()
            .map(|p| tasks.iter().find(|t| t.id == p.id).unwrap().clone())
            .collect();
        // The later tasks' begun blocks still keep their place (they are fixed, not planned).
        let mut alone = first.clone();
        for p in &placed[cut..] {
            let mut fixed = tasks.iter().find(|t| t.id == p.id).unwrap().clone();
            fixed.duration = Duration::zero();
            fixed.due = None;
            fixed.id += 1_000;
            alone.push(fixed);
        }
        let again: Vec<Placement> =
            plan(&planning, &alone).into_iter().filter(|p| p.id < 1_000).collect();
        prop_assert_eq!(&again[..], &placed[..cut]);
    }
}
