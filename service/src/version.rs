//! The availability version: one number per user (`users.events_version`) that every write
//! changing what availability is computed from — events, rules, calendars included or removed, the
//! user's zone — bumps, in the same transaction as the write (or after it, never before). Readers
//! of cached engine input (`availability::cache`) compare it and rebuild when it moved, so several
//! api processes never serve each other's stale data.
//!
//! `users.calendars_version` does the same for the freshness of availability answers.
//!
//! Architecture invariant: this module is the only writer of `events_version` and
//! `calendars_version`.

use entity::users;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

use crate::notifications::availability::Span;

/// The user's current version.
pub async fn of(db: &impl ConnectionTrait, user_id: Uuid) -> Result<i64, DbErr> {
    of_user(db, user_id)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("user {user_id}")))
}

/// The user's current version, or `None` when the account does not exist: the one lookup an
/// authenticated request makes before its handler runs (and which availability then reuses).
pub async fn of_user(db: &impl ConnectionTrait, user_id: Uuid) -> Result<Option<i64>, DbErr> {
    users::Entity::find_by_id(user_id)
        .select_only()
        .column(users::Column::EventsVersion)
        .into_tuple::<i64>()
        .one(db)
        .await
}

/// Both versions of a user, as the authenticated request read them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Versions {
    /// What availability is computed from (`events_version`).
    pub events: i64,
    /// What the freshness of its answers is read from (`calendars_version`): the included
    /// calendars, their last good sync, their connection's status.
    pub calendars: i64,
}

/// Marks the user's calendars as changed for freshness: one synced, renamed, included or
/// excluded, added or removed, or its connection's status changed. In the same transaction as
/// the write, or after it, never before.
pub async fn touch_calendars(db: &impl ConnectionTrait, user_id: Uuid) -> Result<(), DbErr> {
    bump(db, user_id, &[users::Column::CalendarsVersion]).await
}

/// Marks the user's events, rules or calendars as changed. It moves the calendars version too:
/// whatever changes what availability is computed from (a calendar included, excluded, added,
/// removed) may change which calendars an answer used. `changed` is the span whose free time
/// may have changed (None when none can have, as for a calendar that has no events yet): it
/// widens what the next `availability.changed` reports.
pub async fn touch(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    changed: Option<Span>,
) -> Result<(), DbErr> {
    if let Some(span) = changed {
        crate::notifications::availability::widen(db, user_id, span).await?;
    }
    bump(
        db,
        user_id,
        &[
            users::Column::EventsVersion,
            users::Column::CalendarsVersion,
        ],
    )
    .await
}

/// Adds one to each of `columns` of the user's row, in one statement.
async fn bump(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    columns: &[users::Column],
) -> Result<(), DbErr> {
    let mut update = users::Entity::update_many();
    for column in columns {
        update = update.col_expr(*column, Expr::col(*column).add(1));
    }
    update
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await
        .map(drop)
}
