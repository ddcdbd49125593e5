//! The application's "now". Every use-case, job and route asks this clock; nothing in `service`,
//! `worker` or `api` reads the system time for a decision (`domain` is handed `now` as a value).
//!
//! Production runs on the system clock. Tests start the app on a settable clock that begins at
//! an instant they choose and then runs at the pace of real time, so leases lapse, backoffs pass
//! and tokens expire as they would, while every date a test uses is relative to a "now" it knows.
//! The job queue's own bookkeeping (apalis heartbeats, Redis TTLs) is not ours and keeps the
//! system's time: we only ever give it durations, never calendar instants.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::{DateTime, Duration, Utc};

#[derive(Clone, Debug)]
pub struct Clock(Source);

#[derive(Clone, Debug)]
enum Source {
    System,
    Settable(Arc<Mutex<Anchor>>),
}

/// `at` was the time when the monotonic clock read `since`.
#[derive(Debug)]
struct Anchor {
    at: DateTime<Utc>,
    since: Instant,
}

impl Anchor {
    fn now(&self) -> DateTime<Utc> {
        let elapsed = Duration::from_std(self.since.elapsed()).unwrap_or(Duration::MAX);
        self.at.checked_add_signed(elapsed).unwrap_or(self.at)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl Clock {
    pub fn system() -> Self {
        Self(Source::System)
    }

    /// A clock that reads `start` now and runs on from there like real time.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self(Source::Settable(Arc::new(Mutex::new(Anchor {
            at: start,
            since: Instant::now(),
        }))))
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.0 {
            Source::System => Utc::now(),
            Source::Settable(anchor) => lock(anchor).now(),
        }
    }

    /// Moves a settable clock to `at` (it runs on from there). Every copy of this clock moves.
    ///
    /// # Panics
    /// On the system clock, which nobody sets: only tests call this.
    pub fn set(&self, at: DateTime<Utc>) {
        let mut anchor = lock(self.settable());
        anchor.at = at;
        anchor.since = Instant::now();
    }

    /// Moves a settable clock forward (or back, for a negative `by`).
    pub fn advance(&self, by: Duration) {
        let mut anchor = lock(self.settable());
        let now = anchor.now();
        anchor.at = now + by;
        anchor.since = Instant::now();
    }

    fn settable(&self) -> &Mutex<Anchor> {
        match &self.0 {
            Source::Settable(anchor) => anchor,
            Source::System => panic!("the system clock cannot be set"),
        }
    }
}

fn lock(anchor: &Mutex<Anchor>) -> std::sync::MutexGuard<'_, Anchor> {
    // The guarded data is two plain values; a panic elsewhere cannot leave them half-written.
    anchor
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn a_settable_clock_starts_where_it_is_told_and_runs_on() {
        let clock = Clock::starting_at(at("2030-01-01T00:00:00Z"));
        let first = clock.now();
        assert!(first >= at("2030-01-01T00:00:00Z"));
        assert!(first < at("2030-01-01T00:01:00Z"));
        assert!(clock.now() >= first);
    }

    #[test]
    fn every_copy_moves_together() {
        let clock = Clock::starting_at(at("2027-06-01T00:00:00Z"));
        let copy = clock.clone();
        clock.set(at("2029-03-01T12:00:00Z"));
        assert!(copy.now() >= at("2029-03-01T12:00:00Z"));
        copy.advance(Duration::days(1));
        assert!(clock.now() >= at("2029-03-02T12:00:00Z"));
        assert!(clock.now() < at("2029-03-02T12:01:00Z"));
    }

    #[test]
    #[should_panic(expected = "cannot be set")]
    fn the_system_clock_cannot_be_set() {
        Clock::system().set(at("2030-01-01T00:00:00Z"));
    }
}
