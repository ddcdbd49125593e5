//! Half-open UTC intervals `[start, end)` and sets of them.

use chrono::{DateTime, Duration, Utc};

pub type Instant = DateTime<Utc>;

/// `[start, end)` with `start < end`: an empty interval cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Interval {
    start: Instant,
    end: Instant,
}

impl Interval {
    pub fn new(start: Instant, end: Instant) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn end(&self) -> Instant {
        self.end
    }

    pub fn duration(&self) -> Duration {
        self.end - self.start
    }

    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }

    pub fn intersection(&self, other: &Interval) -> Option<Interval> {
        Interval::new(self.start.max(other.start), self.end.min(other.end))
    }

    /// `[start - before, end + after)`.
    pub fn widen(&self, before: Duration, after: Duration) -> Interval {
        // Date arithmetic is the costliest step of building a blocked set; most rules have no buffers.
        if before.is_zero() && after.is_zero() {
            return *self;
        }
        Interval {
            start: self.start - before,
            end: self.end + after,
        }
    }
}

/// Disjoint, sorted intervals where no two touch: every member is maximal.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IntervalSet(Vec<Interval>);

impl IntervalSet {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// Sorts and merges overlapping or touching intervals: O(n log n).
    pub fn from_intervals(mut intervals: Vec<Interval>) -> Self {
        intervals.sort_unstable();
        let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
        for next in intervals {
            match merged.last_mut() {
                Some(last) if next.start <= last.end => last.end = last.end.max(next.end),
                _ => merged.push(next),
            }
        }
        Self(merged)
    }

    pub fn as_slice(&self) -> &[Interval] {
        &self.0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Interval> {
        self.0.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn union(&self, other: &IntervalSet) -> IntervalSet {
        let mut all = Vec::with_capacity(self.len() + other.len());
        all.extend_from_slice(&self.0);
        all.extend_from_slice(&other.0);
        IntervalSet::from_intervals(all)
    }

    /// Linear in the sizes of both sets.
    pub fn intersect(&self, other: &IntervalSet) -> IntervalSet {
        let (a, b) = (&self.0, &other.0);
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < a.len() && j < b.len() {
            if let Some(x) = a[i].intersection(&b[j]) {
                out.push(x);
            }
            if a[i].end <= b[j].end {
                i += 1;
            } else {
                j += 1;
            }
        }
        // Pieces of two maximal sets can still touch (a = [1,3), b = [1,2) ∪ [2,3)).
        IntervalSet::from_sorted(out)
    }

    /// `self` minus `other`, linear in the sizes of both sets.
    pub fn subtract(&self, other: &IntervalSet) -> IntervalSet {
        let mut out = Vec::with_capacity(self.len());
        let b = &other.0;
        let mut j = 0;
        for &a in &self.0 {
            let mut cursor = a.start;
            // Skip removals that end before this interval starts; they cannot matter later either.
            // A binary search, because `other` may reach far beyond `self` (a cached blocked set).
            j += b[j..].partition_point(|x| x.end <= a.start);
            let mut k = j;
            while k < b.len() && b[k].start < a.end {
                if b[k].start > cursor {
                    out.push(Interval {
                        start: cursor,
                        end: b[k].start,
                    });
                }
                cursor = cursor.max(b[k].end);
                k += 1;
            }
            if cursor < a.end {
                out.push(Interval {
                    start: cursor,
                    end: a.end,
                });
            }
        }
        IntervalSet(out)
    }

    /// Merges already sorted intervals that touch.
    fn from_sorted(sorted: Vec<Interval>) -> IntervalSet {
        let mut merged: Vec<Interval> = Vec::with_capacity(sorted.len());
        for next in sorted {
            match merged.last_mut() {
                Some(last) if next.start <= last.end => last.end = last.end.max(next.end),
                _ => merged.push(next),
            }
        }
        IntervalSet(merged)
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(h: i64) -> Instant {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + Duration::minutes(h)
    }
    fn iv(a: i64, b: i64) -> Interval {
        Interval::new(t(a), t(b)).unwrap()
    }
    fn set(v: &[(i64, i64)]) -> IntervalSet {
        IntervalSet::from_intervals(v.iter().map(|&(a, b)| iv(a, b)).collect())
    }

    #[test]
    fn empty_intervals_cannot_exist() {
        assert!(Interval::new(t(1), t(1)).is_none());
        assert!(Interval::new(t(2), t(1)).is_none());
    }

    #[test]
    fn touching_and_overlapping_merge() {
        assert_eq!(
            set(&[(5, 6), (1, 2), (2, 3), (2, 4)]),
            set(&[(1, 4), (5, 6)])
        );
        assert_eq!(set(&[(1, 4), (5, 6)]).len(), 2);
    }

    #[test]
    fn set_algebra_by_hand() {
        let a = set(&[(0, 10), (20, 30)]);
        let b = set(&[(5, 25)]);
        assert_eq!(a.intersect(&b), set(&[(5, 10), (20, 25)]));
        assert_eq!(a.subtract(&b), set(&[(0, 5), (25, 30)]));
        assert_eq!(a.union(&b), set(&[(0, 30)]));
        assert_eq!(a.subtract(&set(&[(0, 10), (20, 30)])), IntervalSet::new());
        assert_eq!(
            set(&[(0, 10)]).subtract(&set(&[(2, 3), (4, 5)])),
            set(&[(0, 2), (3, 4), (5, 10)])
        );
        assert_eq!(set(&[(0, 3)]).intersect(&set(&[(0, 1), (1, 3)])).len(), 1);
    }
}
