//! Conflicts between a person's busy events, found by a sweep over start times.

use std::collections::HashSet;

use chrono::Duration;

use crate::event::{Event, normalize_title};
use crate::interval::{Instant, Interval};
use crate::rules::AvailabilityRules;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ConflictKind {
    Overlap,
    Buffer,
}

impl ConflictKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Overlap => "overlap",
            Self::Buffer => "buffer",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Severity {
    High,
    Medium,
    Low,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::High => "high",
            Self::Medium => "medium",
            Self::Low => "low",
        }
    }
}

/// A collision between two events, `a` before `b` by (start, key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict<'a> {
    pub kind: ConflictKind,
    pub severity: Severity,
    /// Keys of the two events, borrowed from the input: detection allocates nothing per pair.
    pub a: &'a str,
    pub b: &'a str,
    /// The overlap, or the too-short gap (possibly empty when they touch).
    pub start: Instant,
    pub end: Instant,
}

/// A busy event placed in time, ready for the sweep.
#[derive(Clone, Debug)]
struct Placed<'a> {
    event: &'a Event,
    interval: Interval,
}

/// A block of the task plan, for conflicts with the events around it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskBlock {
    /// Its identity in a conflict (the service's `task:<task id>/<start>`).
    pub key: String,
    pub interval: Interval,
    /// Its task is at risk (the rules' `task_blocks` may count only those).
    pub at_risk: bool,
}

/// An entry of the overlap sweep: a busy event, or a task block that counts.
struct Item<'a> {
    key: &'a str,
    interval: Interval,
    tentative: bool,
    block: bool,
}

/// All conflicts among `events` under `rules`: overlaps between different meetings (high when
/// both are confirmed, medium when one is tentative), and gaps shorter than the larger buffer
/// (low). The same meeting seen twice counts once. O(n log n + k) for k conflicts.
pub fn detect<'a>(rules: &AvailabilityRules, events: &'a [Event]) -> Vec<Conflict<'a>> {
    detect_with_blocks(rules, events, &[])
}

/// `detect`, and the task blocks the rules' `task_blocks` count as busy overlapping an event
/// (a meeting booked over a block that had begun, or synced before the re-plan moved it). A block
/// is confirmed time of one's own: it never duplicates a meeting, never clashes with another
/// block (the plan decides their spacing) and has no buffer conflicts — buffers are for
/// meetings, as in availability.
pub fn detect_with_blocks<'a>(
    rules: &AvailabilityRules,
    events: &'a [Event],
    blocks: &'a [TaskBlock],
) -> Vec<Conflict<'a>> {
    let tz = rules.timezone.tz();
    let mut placed: Vec<Placed> = events
        .iter()
        .filter(|e| e.blocks_time(rules.tentative_is_busy))
        .filter_map(|e| {
            e.interval_in(tz)
                .map(|interval| Placed { event: e, interval })
        })
        .collect();
    placed.sort_unstable_by(|x, y| {
        (x.interval.start(), &x.event.key).cmp(&(y.interval.start(), &y.event.key))
    });
    let placed = without_duplicates(placed);
    let mut out = Vec::with_capacity(placed.len());

    // Overlaps: sweep in start order, keeping the entries still running at the current start.
    let mut items: Vec<Item> = placed
        .iter()
        .map(|p| Item {
            key: &p.event.key,
            interval: p.interval,
            tentative: p.event.is_tentative(),
            block: false,
        })
        .collect();
    let mut counted = blocks
        .iter()
        .filter(|b| rules.task_blocks.counts(b.at_risk))
        .peekable();
    if counted.peek().is_some() {
        items.extend(counted.map(|b| Item {
            key: &b.key,
            interval: b.interval,
            tentative: false,
            block: true,
        }));
        items
            .sort_unstable_by(|x, y| (x.interval.start(), x.key).cmp(&(y.interval.start(), y.key)));
    }
    let mut active: Vec<usize> = Vec::new();
    for (j, b) in items.iter().enumerate() {
        let start = b.interval.start();
        active.retain(|&i| items[i].interval.end() > start);
        for &i in &active {
            let a = &items[i];
            if a.block && b.block {
                continue;
            }
            let severity = if a.tentative || b.tentative {
                Severity::Medium
            } else {
                Severity::High
            };
            out.push(Conflict {
                kind: ConflictKind::Overlap,
                severity,
                a: a.key,
                b: b.key,
                start,
                end: a.interval.end().min(b.interval.end()),
            });
        }
        active.push(j);
    }

    // Short gaps: for each event, the events that ended in (start − buffer, start], found by
    // binary search among all ends. Such an event ends before this one starts, so they do not
    // overlap and it comes first in (start, key) order.
    let buffer = rules.conflict_buffer();
    if buffer > Duration::zero() {
        let mut by_end: Vec<(Instant, usize)> = placed
            .iter()
            .enumerate()
            .map(|(i, p)| (p.interval.end(), i))
            .collect();
        by_end.sort_unstable();
        for b in &placed {
            let start = b.interval.start();
            let earliest = start - buffer;
            let from = by_end.partition_point(|(end, _)| *end <= earliest);
            for &(end, i) in by_end[from..].iter().take_while(|(end, _)| *end <= start) {
                out.push(Conflict {
                    kind: ConflictKind::Buffer,
                    severity: Severity::Low,
                    a: &placed[i].event.key,
                    b: &b.event.key,
                    start: end,
                    end: start,
                });
            }
        }
    }
    out
}

/// Keeps the first (by start, key) of each group of events that are the same meeting: one
/// iCalendar UID (per occurrence), or the same start, end and title.
fn without_duplicates(sorted: Vec<Placed<'_>>) -> Vec<Placed<'_>> {
    let mut uids: HashSet<(&str, Option<&str>), BuildFnv> =
        HashSet::with_capacity_and_hasher(sorted.len(), BuildFnv);
    let mut kept: Vec<Placed> = Vec::with_capacity(sorted.len());
    // Kept events that share the current start: the only candidates for a same-time duplicate.
    let mut same_start_from = 0;
    for p in sorted {
        if kept
            .get(same_start_from)
            .is_some_and(|k| k.interval.start() != p.interval.start())
        {
            same_start_from = kept.len();
        }
        let occurrence = p.event.key.split_once('/').map(|(_, o)| o);
        let uid = p
            .event
            .ical_uid
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|u| (u, occurrence));
        let duplicate_uid = uid.is_some_and(|k| !uids.insert(k));
        let duplicate_time = kept[same_start_from..].iter().any(|k| {
            k.interval == p.interval
                && normalize_title(&k.event.title) == normalize_title(&p.event.title)
        });
        if !duplicate_uid && !duplicate_time {
            kept.push(p);
        }
    }
    kept
}

/// FNV-1a: the UID set hashes short trusted strings, where SipHash's DoS resistance buys nothing
/// and costs a fifth of the detection time.
#[derive(Clone, Copy, Default)]
struct BuildFnv;

struct Fnv(u64);

impl std::hash::BuildHasher for BuildFnv {
    type Hasher = Fnv;
    fn build_hasher(&self) -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl std::hash::Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}
