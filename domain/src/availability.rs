//! Free time and bookable slots, exactly as the contract defines them.

use chrono::Duration;

use crate::event::Event;
use crate::interval::{Instant, Interval, IntervalSet};
use crate::rules::AvailabilityRules;

#[derive(Clone, Copy, Debug)]
pub struct SlotQuery {
    pub range: Interval,
    pub duration: Duration,
    /// Distance between candidate starts, counted from each working window's real start.
    pub step: Duration,
    pub now: Instant,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Availability {
    pub free: Vec<Interval>,
    pub slots: Vec<Interval>,
}

/// Time taken by events that block it, each widened by the buffers: `[s − before, e + after)`.
pub fn blocked(rules: &AvailabilityRules, events: &[Event]) -> IntervalSet {
    let tz = rules.timezone.tz();
    IntervalSet::from_intervals(
        events
            .iter()
            .filter(|e| e.blocks_time(rules.tentative_is_busy))
            .filter_map(|e| e.interval_in(tz))
            .map(|i| i.widen(rules.buffer_before, rules.buffer_after))
            .collect(),
    )
}

/// `blocked` with the task blocks the rules count as busy (`(block, its task is at risk)`), as
/// they are: buffers are for meetings, not for one's own work.
pub fn with_task_blocks(
    rules: &AvailabilityRules,
    blocked: IntervalSet,
    blocks: &[(Interval, bool)],
) -> IntervalSet {
    let busy: Vec<Interval> = blocks
        .iter()
        .filter(|(_, at_risk)| rules.task_blocks.counts(*at_risk))
        .map(|(b, _)| *b)
        .collect();
    if busy.is_empty() {
        return blocked;
    }
    blocked.union(&IntervalSet::from_intervals(busy))
}

/// Working windows ∩ `[max(start, now + notice), end)` minus blocked time, as maximal intervals.
/// `notice` is passed separately so that the export can ignore it.
pub fn free_time(
    rules: &AvailabilityRules,
    blocked: &IntervalSet,
    range: &Interval,
    earliest: Instant,
) -> (Vec<Interval>, IntervalSet) {
    let windows = rules.working_windows(range);
    let Some(bound) = Interval::new(range.start().max(earliest), range.end()) else {
        return (windows, IntervalSet::new());
    };
    let free = IntervalSet::from_intervals(windows.clone())
        .intersect(&IntervalSet::from_intervals(vec![bound]))
        .subtract(blocked);
    (windows, free)
}

pub fn compute(rules: &AvailabilityRules, events: &[Event], query: &SlotQuery) -> Availability {
    compute_with_blocked(rules, &blocked(rules, events), query)
}

/// [`compute`] from an already built blocked set (which may reach far beyond the query: a cache
/// builds it once for all the queries it answers).
pub fn compute_with_blocked(
    rules: &AvailabilityRules,
    blocked: &IntervalSet,
    query: &SlotQuery,
) -> Availability {
    let (windows, free) = free_time(
        rules,
        blocked,
        &query.range,
        query.now + rules.minimum_notice,
    );
    let mut slots = Vec::new();
    if query.duration > Duration::zero() && query.step > Duration::zero() {
        let free_slice = free.as_slice();
        for window in &windows {
            // Free intervals that start before the window ends and end after it starts.
            let first = free_slice.partition_point(|f| f.end() <= window.start());
            for f in free_slice[first..]
                .iter()
                .take_while(|f| f.start() < window.end())
            {
                // The first candidate at or after the free interval's start, aligned to the window.
                let from = f.start().max(window.start());
                let offset = from - window.start();
                let steps = ceil_div(offset, query.step);
                let mut t = window.start() + query.step * steps;
                while t < window.end() && t + query.duration <= f.end() {
                    if let Some(slot) = Interval::new(t, t + query.duration) {
                        slots.push(slot);
                    }
                    t += query.step;
                }
            }
        }
        slots.sort_unstable();
        slots.dedup();
    }
    Availability {
        free: free.as_slice().to_vec(),
        slots,
    }
}

fn ceil_div(offset: Duration, step: Duration) -> i32 {
    let (o, s) = (offset.num_milliseconds(), step.num_milliseconds());
    i32::try_from((o + s - 1).div_euclid(s)).unwrap_or(i32::MAX)
}
