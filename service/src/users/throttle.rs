//! The login lock: after `MAX_FAILURES` wrong passwords for one email address within `WINDOW`,
//! that address cannot log in (not even with the right password) until the oldest of them
//! leaves the window. Counted by `limits` in the database, so every api process sees the same
//! count, and race-free: a failure slot is taken before the password is checked. Unknown
//! addresses count like known ones, so a lockout reveals nothing.

use chrono::{DateTime, Duration, Utc};
use sea_orm::{DatabaseConnection, DbErr};

use super::Email;
use crate::limits::{self, Limit, Scope, Verdict};

pub const MAX_FAILURES: u64 = 10;
pub const WINDOW: Duration = limits::LOGIN_FAILURE_WINDOW;

const LIMIT: Limit = Limit {
    max: MAX_FAILURES,
    period: WINDOW,
};

/// Takes a failure slot for one password check; refused while the address is locked out.
pub async fn reserve(
    db: &DatabaseConnection,
    email: &Email,
    now: DateTime<Utc>,
) -> Result<Verdict, DbErr> {
    limits::take(db, Scope::LoginFailure, email.as_str(), LIMIT, now).await
}

/// A successful login starts the count afresh.
pub async fn forget(db: &DatabaseConnection, email: &Email) -> Result<(), DbErr> {
    limits::clear(db, Scope::LoginFailure, email.as_str()).await
}
