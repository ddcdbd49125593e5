//! The login throttle: after `MAX_FAILURES` wrong passwords for one address within `WINDOW`,
//! that address cannot log in (not even with the right password) until the oldest of them
//! leaves the window. Counted in the database, so every api process sees the same count;
//! unknown addresses count like known ones, so a lockout reveals nothing.

use chrono::{DateTime, Duration, Utc};
use entity::login_failures;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

use super::Email;
use crate::secrets::sha256_hex;

pub const MAX_FAILURES: u64 = 10;
pub const WINDOW: Duration = Duration::minutes(15);

fn key(email: &Email) -> String {
    sha256_hex(email.as_str())
}

/// When the address may try again, if it is locked out now.
pub async fn locked_until(
    db: &DatabaseConnection,
    email: &Email,
    now: DateTime<Utc>,
) -> Result<Option<DateTime<Utc>>, DbErr> {
    let recent: Vec<DateTime<Utc>> = login_failures::Entity::find()
        .select_only()
        .column(login_failures::Column::FailedAt)
        .filter(login_failures::Column::EmailHash.eq(key(email)))
        .filter(login_failures::Column::FailedAt.gt(now - WINDOW))
        .order_by_desc(login_failures::Column::FailedAt)
        .limit(MAX_FAILURES)
        .into_tuple()
        .all(db)
        .await?;
    // The lockout lasts until the MAX_FAILURES-th most recent failure leaves the window.
    Ok((recent.len() as u64 >= MAX_FAILURES)
        .then(|| recent.last().map(|oldest| *oldest + WINDOW))
        .flatten())
}

pub async fn record_failure(
    db: &DatabaseConnection,
    email: &Email,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    login_failures::ActiveModel {
        id: Set(Uuid::now_v7()),
        email_hash: Set(key(email)),
        failed_at: Set(now),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// A successful login starts the count afresh.
pub async fn forget(db: &DatabaseConnection, email: &Email) -> Result<(), DbErr> {
    login_failures::Entity::delete_many()
        .filter(login_failures::Column::EmailHash.eq(key(email)))
        .exec(db)
        .await
        .map(|_| ())
}

/// Failures that no longer count; returns how many went.
pub async fn purge(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DbErr> {
    Ok(login_failures::Entity::delete_many()
        .filter(login_failures::Column::FailedAt.lte(now - WINDOW))
        .exec(db)
        .await?
        .rows_affected)
}
