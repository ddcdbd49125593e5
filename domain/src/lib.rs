//! Pure time logic: no I/O, no async, no database.
//!
//! Everything here works on UTC instants and IANA zones; providers and storage live elsewhere.

mod timezone;

pub use timezone::{TimeZone, UnknownTimeZone};
