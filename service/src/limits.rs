//! Sliding-window limits, counted in the database so that every api process sees the same count:
//! at most `max` attempts per key within any `period`. An attempt is counted only when it is let
//! through, so a flood of refused requests neither grows the table nor extends the wait.
//!
//! Counting and recording happen in one write transaction that is serialized per key (the SQLite
//! write lock; a transaction-scoped advisory lock on Postgres), so concurrent attempts take turns:
//! with `max` = 10 and 40 attempts at once, exactly 10 are let through.

use chrono::{DateTime, Duration, Utc};
use entity::attempts;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr,
    EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, Statement,
};
use uuid::Uuid;

use crate::secrets::sha256_hex;

/// What is being counted, and per what.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Registrations per client address.
    RegisterAddress,
    /// Login attempts per client address.
    LoginAddress,
    /// Wrong passwords per email address (the login lock).
    LoginFailure,
}

impl Scope {
    const ALL: [Scope; 3] = [
        Scope::RegisterAddress,
        Scope::LoginAddress,
        Scope::LoginFailure,
    ];

    fn as_str(self) -> &'static str {
        match self {
            Scope::RegisterAddress => "register_address",
            Scope::LoginAddress => "login_address",
            Scope::LoginFailure => "login_failure",
        }
    }

    /// The longest period this scope is ever counted over: older rows no longer matter.
    fn longest_period(self) -> Duration {
        match self {
            Scope::RegisterAddress => Duration::hours(1),
            Scope::LoginAddress => Duration::minutes(1),
            Scope::LoginFailure => LOGIN_FAILURE_WINDOW,
        }
    }
}

/// The window of the login lock (`users::throttle`), here because every period is.
pub const LOGIN_FAILURE_WINDOW: Duration = Duration::minutes(15);

#[derive(Clone, Copy, Debug)]
pub struct Limit {
    pub max: u64,
    pub period: Duration,
}

/// The verdict on one attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Let through and counted.
    Allowed,
    /// Over the limit; the next attempt can succeed after this long.
    Refused { retry_after: Duration },
}

/// Counts one attempt for `key` if it is within `limit`.
pub async fn take(
    db: &DatabaseConnection,
    scope: Scope,
    key: &str,
    limit: Limit,
    now: DateTime<Utc>,
) -> Result<Verdict, DbErr> {
    let key_hash = sha256_hex(key);
    let txn = crate::db::begin_write(db).await?;
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock($1)",
            [lock_key(scope, &key_hash).into()],
        ))
        .await?;
    }
    let recent: Vec<DateTime<Utc>> = attempts::Entity::find()
        .select_only()
        .column(attempts::Column::At)
        .filter(attempts::Column::Scope.eq(scope.as_str()))
        .filter(attempts::Column::KeyHash.eq(&key_hash))
        .filter(attempts::Column::At.gt(now - limit.period))
        .order_by_desc(attempts::Column::At)
        .limit(limit.max)
        .into_tuple()
        .all(&txn)
        .await?;
    if recent.len() as u64 >= limit.max {
        // The wait ends when the oldest of the `max` most recent attempts leaves the window.
        let oldest = recent.last().copied().unwrap_or(now);
        txn.rollback().await?;
        return Ok(Verdict::Refused {
            retry_after: (oldest + limit.period - now).max(Duration::seconds(1)),
        });
    }
    attempts::ActiveModel {
        id: Set(Uuid::now_v7()),
        scope: Set(scope.as_str().to_owned()),
        key_hash: Set(key_hash),
        at: Set(now),
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(Verdict::Allowed)
}

/// Forgets every counted attempt of `key` (a successful login clears the lock's count).
pub async fn clear(db: &DatabaseConnection, scope: Scope, key: &str) -> Result<(), DbErr> {
    attempts::Entity::delete_many()
        .filter(attempts::Column::Scope.eq(scope.as_str()))
        .filter(attempts::Column::KeyHash.eq(sha256_hex(key)))
        .exec(db)
        .await
        .map(drop)
}

/// Attempts that no longer count anywhere; returns how many went.
pub async fn purge(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let mut gone = 0;
    for scope in Scope::ALL {
        gone += attempts::Entity::delete_many()
            .filter(attempts::Column::Scope.eq(scope.as_str()))
            .filter(attempts::Column::At.lte(now - scope.longest_period()))
            .exec(db)
            .await?
            .rows_affected;
    }
    Ok(gone)
}

/// The advisory lock of one key: 63 bits of its hash, apart from the migrations' lock.
fn lock_key(scope: Scope, key_hash: &str) -> i64 {
    let digest = sha256_hex(&format!("limits:{}:{key_hash}", scope.as_str()));
    i64::from_str_radix(&digest[..15], 16).expect("hex digits")
}
