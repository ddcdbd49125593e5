//! The tests' "now". Every test app, fake provider and fixture reads this one clock, so a test
//! knows exactly what day it is for the app, whatever the machine's date (the suite passes
//! under `faketime` years ahead).
//!
//! It starts at [`TEST_NOW`] when the process first asks and runs on at the pace of real time.
//! nextest runs each test in its own process, so each test starts from the same instant; a test
//! that moves the clock (`clock().set(..)`, `clock().advance(..)`) moves it for everything in
//! its process at once — the app, its siblings, the fakes.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use service::Clock;

/// A Monday morning: 08:00 in Berlin, the test users' zone. Fixed dates in the tests (weeks in
/// December 2026 to March 2027) lie inside the sync window drawn around it.
pub const TEST_NOW: &str = "2026-11-23T07:00:00Z";

pub fn clock() -> &'static Clock {
    static CLOCK: OnceLock<Clock> = OnceLock::new();
    CLOCK.get_or_init(|| Clock::starting_at(TEST_NOW.parse().expect("RFC 3339")))
}

/// The app's "now" in this test.
pub fn now() -> DateTime<Utc> {
    clock().now()
}
