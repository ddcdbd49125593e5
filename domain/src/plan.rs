//! The task plan, exactly as the contract defines it ("Tasks scheduled into free time"): open
//! tasks placed greedily, earliest first, into planning time — the availability's free intervals
//! from now + minimum notice to now + 28 days, task blocks left out.
//!
//! Pure and deterministic: the same tasks, planning time and "now" give the same plan.

use chrono::Duration;

use crate::interval::{Instant, Interval, IntervalSet};

/// How far ahead tasks are planned.
pub const HORIZON: Duration = Duration::days(28);
/// Pieces start on multiples of this (counted from the Unix epoch, which every zone whose offset
/// is a multiple of five minutes shares) and last whole multiples of it unless a chunk limit or
/// the task's end says otherwise.
pub const GRID: Duration = Duration::minutes(5);

/// One open task, as the planner sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanTask {
    /// The task's id as a number (a UUID's 128 bits): the last tie-breaker.
    pub id: u128,
    pub due: Option<Instant>,
    /// 1 (most urgent) to 4.
    pub priority: u8,
    pub created_at: Instant,
    pub duration: Duration,
    pub min_chunk: Duration,
    pub max_chunk: Duration,
    pub earliest_start: Option<Instant>,
    /// Blocks of the last plan that have begun (start ≤ now): they stay, and count as done.
    pub begun: Vec<Interval>,
}

/// Where one task went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placement {
    pub id: u128,
    /// Its blocks in time order: the begun ones first, then the new ones.
    pub blocks: Vec<Interval>,
    pub unscheduled: Duration,
    pub at_risk: bool,
}

/// The order tasks are planned in: by `due` (none last), then priority, then creation, then id.
fn order_key(t: &PlanTask) -> (bool, Option<Instant>, u8, Instant, u128) {
    (t.due.is_none(), t.due, t.priority, t.created_at, t.id)
}

/// `at` rounded up to the grid.
fn round_up(at: Instant) -> Instant {
    let grid = GRID.num_seconds();
    let secs = at.timestamp();
    let rem = secs.rem_euclid(grid);
    let whole = if rem == 0 && at.timestamp_subsec_nanos() == 0 {
        secs
    } else {
        secs - rem + grid
    };
    Instant::from_timestamp(whole, 0).unwrap_or(at)
}

/// `d` rounded down to whole grid steps.
fn floor_to_grid(d: Duration) -> Duration {
    let grid = GRID.num_seconds();
    Duration::seconds(d.num_seconds().div_euclid(grid) * grid)
}

/// Plans `tasks` into `planning` (free intervals, sorted and disjoint, already cut to
/// [now + notice, now + HORIZON)); returns one placement per task, in planning order.
pub fn plan(planning: &IntervalSet, tasks: &[PlanTask]) -> Vec<Placement> {
    let mut ordered: Vec<&PlanTask> = tasks.iter().collect();
    ordered.sort_by_key(|t| order_key(t));
    // Begun blocks keep their place: nothing else goes there.
    let begun = IntervalSet::from_intervals(tasks.iter().flat_map(|t| t.begun.clone()).collect());
    let mut room = planning.subtract(&begun);
    let mut placements = Vec::with_capacity(ordered.len());
    for task in ordered {
        let done: Duration = task.begun.iter().map(Interval::duration).sum();
        let mut remaining = (task.duration - done).max(Duration::zero());
        let mut placed = Vec::new();
        for free in room.iter() {
            if remaining <= Duration::zero() {
                break;
            }
            let from = task
                .earliest_start
                .map_or(free.start(), |e| e.max(free.start()));
            let start = round_up(from);
            if start >= free.end() {
                continue;
            }
            let fits = floor_to_grid(free.end() - start);
            let piece = fits.min(task.max_chunk).min(remaining);
            if piece <= Duration::zero() || (piece < task.min_chunk && piece < remaining) {
                continue;
            }
            if let Some(block) = Interval::new(start, start + piece) {
                placed.push(block);
                remaining -= piece;
            }
        }
        if !placed.is_empty() {
            room = room.subtract(&IntervalSet::from_intervals(placed.clone()));
        }
        let mut blocks = task.begun.clone();
        blocks.sort();
        blocks.extend(placed);
        let late = task
            .due
            .is_some_and(|due| blocks.iter().any(|b| b.end() > due));
        placements.push(Placement {
            id: task.id,
            blocks,
            unscheduled: remaining,
            at_risk: remaining > Duration::zero() || late,
        });
    }
    placements
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Instant {
        s.parse().unwrap()
    }

    fn iv(a: &str, b: &str) -> Interval {
        Interval::new(at(a), at(b)).unwrap()
    }

    fn task(id: u128, minutes: i64) -> PlanTask {
        PlanTask {
            id,
            due: None,
            priority: 3,
            created_at: at("2026-11-01T00:00:00Z"),
            duration: Duration::minutes(minutes),
            min_chunk: Duration::minutes(minutes),
            max_chunk: Duration::minutes(minutes),
            earliest_start: None,
            begun: Vec::new(),
        }
    }

    #[test]
    fn grid_rounding() {
        assert_eq!(
            round_up(at("2026-12-01T09:00:00Z")),
            at("2026-12-01T09:00:00Z")
        );
        assert_eq!(
            round_up(at("2026-12-01T09:00:01Z")),
            at("2026-12-01T09:05:00Z")
        );
        assert_eq!(
            round_up(at("2026-12-01T09:04:59Z")),
            at("2026-12-01T09:05:00Z")
        );
        assert_eq!(floor_to_grid(Duration::seconds(899)), Duration::minutes(10));
    }

    /// Split around meetings: 3 h in pieces of 1–2 h into 09:00–10:30, 11:00–11:45, 13:00–17:00.
    #[test]
    fn a_task_is_split_around_meetings() {
        let planning = IntervalSet::from_intervals(vec![
            iv("2026-12-01T09:00:00Z", "2026-12-01T10:30:00Z"),
            iv("2026-12-01T11:00:00Z", "2026-12-01T11:45:00Z"),
            iv("2026-12-01T13:00:00Z", "2026-12-01T17:00:00Z"),
        ]);
        let mut t = task(1, 180);
        t.min_chunk = Duration::minutes(60);
        t.max_chunk = Duration::minutes(120);
        let plan = plan(&planning, &[t]);
        assert_eq!(
            plan[0].blocks,
            [
                iv("2026-12-01T09:00:00Z", "2026-12-01T10:30:00Z"),
                // 11:00–11:45 is shorter than a piece may be, and would not finish the task.
                iv("2026-12-01T13:00:00Z", "2026-12-01T14:30:00Z"),
            ]
        );
        assert!(!plan[0].at_risk);
        assert_eq!(plan[0].unscheduled, Duration::zero());
    }

    /// Earlier due first; the later task takes what the first left; a remainder shorter than
    /// the minimum piece still goes where it finishes the task, and an interval too short for
    /// either is skipped.
    #[test]
    fn order_and_the_finishing_piece() {
        let planning = IntervalSet::from_intervals(vec![
            iv("2026-12-01T09:00:00Z", "2026-12-01T12:00:00Z"),
            iv("2026-12-01T13:00:00Z", "2026-12-01T13:20:00Z"),
            iv("2026-12-01T14:00:00Z", "2026-12-01T15:00:00Z"),
        ]);
        let mut late = task(1, 60);
        late.due = Some(at("2026-12-05T00:00:00Z"));
        let mut soon = task(2, 150);
        soon.due = Some(at("2026-12-02T00:00:00Z"));
        soon.min_chunk = Duration::minutes(60);
        soon.max_chunk = Duration::minutes(120);
        let plan = plan(&planning, &[late, soon]);
        assert_eq!(plan[0].id, 2);
        assert_eq!(
            plan[0].blocks,
            [
                iv("2026-12-01T09:00:00Z", "2026-12-01T11:00:00Z"),
                iv("2026-12-01T14:00:00Z", "2026-12-01T14:30:00Z"),
            ]
        );
        assert_eq!(plan[0].unscheduled, Duration::zero());
        assert!(!plan[0].at_risk);
        // One piece per free interval: the rest of 09:00–12:00 is the next task's.
        assert_eq!(plan[1].id, 1);
        assert_eq!(
            plan[1].blocks,
            [iv("2026-12-01T11:00:00Z", "2026-12-01T12:00:00Z")]
        );
    }

    #[test]
    fn what_does_not_fit_is_unscheduled_and_at_risk() {
        let planning =
            IntervalSet::from_intervals(vec![iv("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z")]);
        let plan = plan(&planning, &[task(1, 90)]);
        assert!(plan[0].blocks.is_empty());
        assert_eq!(plan[0].unscheduled, Duration::minutes(90));
        assert!(plan[0].at_risk);
    }

    /// A task that can only end after its due is at risk; one with nothing to go is not.
    #[test]
    fn a_task_that_cannot_meet_its_due_is_at_risk() {
        let planning = IntervalSet::from_intervals(vec![
            iv("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"),
            iv("2026-12-02T09:00:00Z", "2026-12-02T12:00:00Z"),
        ]);
        let mut t = task(1, 120);
        t.due = Some(at("2026-12-01T18:00:00Z"));
        let plan = plan(&planning, &[t]);
        assert_eq!(
            plan[0].blocks,
            [iv("2026-12-02T09:00:00Z", "2026-12-02T11:00:00Z")]
        );
        assert!(plan[0].at_risk, "placed, but after its due");
    }

    /// Begun blocks stay, count as done and keep others out; earliest starts are kept.
    #[test]
    fn begun_blocks_stay_and_earliest_starts_hold() {
        let planning =
            IntervalSet::from_intervals(vec![iv("2026-12-01T09:30:00Z", "2026-12-01T18:00:00Z")]);
        let mut a = task(1, 120);
        a.begun = vec![iv("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z")];
        a.min_chunk = Duration::minutes(30);
        let mut b = task(2, 30);
        b.earliest_start = Some(at("2026-12-01T15:02:00Z"));
        let plan = plan(&planning, &[a, b]);
        assert_eq!(
            plan[0].blocks,
            [
                iv("2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"),
                iv("2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z"),
            ]
        );
        assert_eq!(
            plan[1].blocks,
            [iv("2026-12-01T15:05:00Z", "2026-12-01T15:35:00Z")]
        );
    }
}
