//! Pure time logic: no I/O, no async, no database.
//!
//! Everything here works on UTC instants and IANA zones; providers and storage live elsewhere.

pub mod availability;
pub mod busy;
pub mod conflicts;
pub mod event;
pub mod explain;
pub mod export;
pub mod interval;
pub mod local;
pub mod plan;
pub mod recurrence;
pub mod rules;
mod timezone;

pub use availability::{Availability, SlotQuery};
pub use busy::{BusyRules, BusyRulesError, Counts, SourceCalendar};
pub use conflicts::{Conflict, ConflictKind, Severity};
pub use event::{Event, EventStatus, EventTime, SelfResponse};
pub use interval::{Instant, Interval, IntervalSet};
pub use recurrence::{Recurrence, RecurrenceError};
pub use rules::{AvailabilityRules, RulesError, TaskBlocks, TimeOfDay, WeeklyHours};
pub use timezone::{TimeZone, UnknownTimeZone};
