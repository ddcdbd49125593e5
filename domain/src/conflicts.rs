//! Conflicts between a person's busy events, found by a sweep over start times.

use std::collections::{BTreeMap, HashMap};

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
pub struct Conflict {
    pub kind: ConflictKind,
    pub severity: Severity,
    pub a: String,
    pub b: String,
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

/// All conflicts among `events` under `rules`: overlaps between different meetings (high when
/// both are confirmed, medium when one is tentative), and gaps shorter than the larger buffer
/// (low). The same meeting seen twice counts once. O(n log n + k) for k conflicts.
pub fn detect(rules: &AvailabilityRules, events: &[Event]) -> Vec<Conflict> {
    let tz = rules.timezone.tz();
    let mut placed: Vec<Placed> = events
        .iter()
        .filter(|e| e.blocks_time(rules.tentative_is_busy))
        .filter_map(|e| {
            e.interval_in(tz)
                .map(|interval| Placed { event: e, interval })
        })
        .collect();
    placed.sort_by(|x, y| {
        (x.interval.start(), &x.event.key).cmp(&(y.interval.start(), &y.event.key))
    });
    let placed = without_duplicates(placed);
    let buffer = rules.conflict_buffer();

    let mut out = Vec::new();
    // Events that are still running at the current start, in start order.
    let mut active: Vec<usize> = Vec::new();
    // Ends of events already passed, for gaps shorter than the buffer: (end, index).
    let mut ended: BTreeMap<(Instant, usize), ()> = BTreeMap::new();
    for (j, b) in placed.iter().enumerate() {
        let start = b.interval.start();
        active.retain(|&i| {
            let keep = placed[i].interval.end() > start;
            if !keep && buffer > Duration::zero() {
                ended.insert((placed[i].interval.end(), i), ());
            }
            keep
        });
        for &i in &active {
            let a = &placed[i];
            let severity = if a.event.is_tentative() || b.event.is_tentative() {
                Severity::Medium
            } else {
                Severity::High
            };
            out.push(Conflict {
                kind: ConflictKind::Overlap,
                severity,
                a: a.event.key.clone(),
                b: b.event.key.clone(),
                start,
                end: a.interval.end().min(b.interval.end()),
            });
        }
        if buffer > Duration::zero() {
            // Ended events with start - buffer < end <= start: a gap in [0, buffer).
            let lower = (start - buffer, usize::MAX);
            let upper = (start, usize::MAX);
            for (&(end, i), ()) in ended.range((
                std::ops::Bound::Excluded(lower),
                std::ops::Bound::Included(upper),
            )) {
                out.push(Conflict {
                    kind: ConflictKind::Buffer,
                    severity: Severity::Low,
                    a: placed[i].event.key.clone(),
                    b: b.event.key.clone(),
                    start: end,
                    end: start,
                });
            }
            // Ends further back than the buffer can never matter again.
            while let Some((&(end, i), ())) = ended.first_key_value() {
                if end <= start - buffer {
                    ended.remove(&(end, i));
                } else {
                    break;
                }
            }
        }
        active.push(j);
    }
    out
}

/// Keeps the first (by start, key) of each group of events that are the same meeting.
fn without_duplicates(sorted: Vec<Placed<'_>>) -> Vec<Placed<'_>> {
    let mut by_uid: HashMap<(&str, Option<&str>), ()> = HashMap::new();
    let mut by_time_title: HashMap<(Instant, Instant, String), ()> = HashMap::new();
    let mut kept = Vec::with_capacity(sorted.len());
    for p in sorted {
        let occurrence = p.event.key.split_once('/').map(|(_, o)| o);
        let uid_key = p
            .event
            .ical_uid
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|u| (u, occurrence));
        let time_key = (
            p.interval.start(),
            p.interval.end(),
            normalize_title(&p.event.title),
        );
        let seen = uid_key.is_some_and(|k| by_uid.contains_key(&k))
            || by_time_title.contains_key(&time_key);
        if let Some(k) = uid_key {
            by_uid.insert(k, ());
        }
        by_time_title.insert(time_key, ());
        if !seen {
            kept.push(p);
        }
    }
    kept
}
