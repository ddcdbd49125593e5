//! Availability that explains itself (contract, "explained availability"): the query's range cut
//! into free, busy and closed intervals, each with every reason. Its free intervals are exactly
//! [`crate::availability::compute`]'s: both are working windows from the notice on, minus the
//! blocked time of the same busy test and buffers (a property test in `tests/engine.rs` holds
//! them to it).

use crate::event::Event;
use crate::interval::{Instant, Interval};
use crate::rules::{AvailabilityRules, TimeOfDay, local_instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    Free,
    /// Working time that events (or their buffers) block.
    Busy,
    /// No working time.
    Closed,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Free => "free",
            Self::Busy => "busy",
            Self::Closed => "closed",
        }
    }
}

/// Why an interval is not free. Events are named by their index in the slice explained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reason {
    OutsideWorkingHours,
    DayOff,
    MinimumNotice,
    /// The event itself takes the time.
    Event(usize),
    /// Only the event's buffer (before or after it) does.
    Buffer(usize),
}

impl Reason {
    pub fn kind(self) -> &'static str {
        match self {
            Self::OutsideWorkingHours => "outside_working_hours",
            Self::DayOff => "day_off",
            Self::MinimumNotice => "minimum_notice",
            Self::Event(_) => "event",
            Self::Buffer(_) => "buffer",
        }
    }

    pub fn event(self) -> Option<usize> {
        match self {
            Self::Event(i) | Self::Buffer(i) => Some(i),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Explained {
    pub interval: Interval,
    pub state: State,
    /// Empty for free time; in order of the events' starts otherwise.
    pub reasons: Vec<Reason>,
}

/// One blocking event: the time it blocks (buffers included) and its own time.
struct Blocker {
    blocks: Interval,
    own: Interval,
    event: usize,
}

/// `range` tiled in order, neighbours with the same state and reasons merged.
pub fn explain(
    rules: &AvailabilityRules,
    events: &[Event],
    range: &Interval,
    now: Instant,
) -> Vec<Explained> {
    let tz = rules.timezone.tz();
    let windows = rules.working_windows(range);
    let earliest = now + rules.minimum_notice;
    let mut blockers: Vec<Blocker> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.blocks_time(rules.tentative_is_busy))
        .filter_map(|(i, e)| {
            let own = e.interval_in(tz)?;
            let blocks = own.widen(rules.buffer_before, rules.buffer_after);
            blocks.overlaps(range).then_some(Blocker {
                blocks,
                own,
                event: i,
            })
        })
        .collect();
    blockers.sort_by_key(|b| (b.blocks.start(), b.own.start(), b.event));

    // Every instant where something changes; between two of them nothing does.
    let mut cuts: Vec<Instant> = Vec::with_capacity(2 + 2 * windows.len() + 4 * blockers.len());
    cuts.extend([range.start(), range.end(), earliest]);
    for w in &windows {
        cuts.extend([w.start(), w.end()]);
    }
    for b in &blockers {
        cuts.extend([b.blocks.start(), b.blocks.end(), b.own.start(), b.own.end()]);
    }
    for day in rules.days_off.iter() {
        cuts.push(local_instant(tz, *day, TimeOfDay::MIDNIGHT));
        cuts.push(local_instant(
            tz,
            *day + chrono::Duration::days(1),
            TimeOfDay::MIDNIGHT,
        ));
    }
    cuts.retain(|t| *t >= range.start() && *t <= range.end());
    cuts.sort_unstable();
    cuts.dedup();

    let mut out: Vec<Explained> = Vec::new();
    let mut window = 0;
    let mut next_blocker = 0;
    let mut active: Vec<usize> = Vec::new();
    for pair in cuts.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        let Some(piece) = Interval::new(a, b) else {
            continue;
        };
        while window < windows.len() && windows[window].end() <= a {
            window += 1;
        }
        while next_blocker < blockers.len() && blockers[next_blocker].blocks.start() <= a {
            active.push(next_blocker);
            next_blocker += 1;
        }
        active.retain(|i| blockers[*i].blocks.end() > a);

        let working = window < windows.len() && windows[window].start() <= a;
        let (state, reasons) = if !working {
            let day_off = !rules.days_off.is_empty()
                && rules.days_off.contains(&a.with_timezone(&tz).date_naive());
            let mut reasons = vec![if day_off {
                Reason::DayOff
            } else {
                Reason::OutsideWorkingHours
            }];
            if a < earliest {
                reasons.push(Reason::MinimumNotice);
            }
            (State::Closed, reasons)
        } else if a < earliest {
            (State::Closed, vec![Reason::MinimumNotice])
        } else if active.is_empty() {
            (State::Free, Vec::new())
        } else {
            // `active` keeps the blockers' order, which is their events' start order: every
            // event is widened by the same buffers.
            let reasons = active
                .iter()
                .map(|i| &blockers[*i])
                .map(|b| {
                    if b.own.contains(&piece) {
                        Reason::Event(b.event)
                    } else {
                        Reason::Buffer(b.event)
                    }
                })
                .collect();
            (State::Busy, reasons)
        };
        match out.last_mut() {
            Some(last) if last.state == state && last.reasons == reasons => {
                last.interval = Interval::new(last.interval.start(), b).expect("a later end");
            }
            _ => out.push(Explained {
                interval: piece,
                state,
                reasons,
            }),
        }
    }
    out
}
