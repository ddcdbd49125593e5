//! `availability.changed` (contract, "Notifications"): the span whose free time changed, at most
//! one notification per user per five seconds.
//!
//! Every write that changes what availability is computed from widens the user's pending span
//! (`users.availability_from`/`_to`) in its own transaction (`widen`, called by
//! `version::touch`), so a change that is rolled back leaves no trace and a committed one is never
//! lost. `tell` turns the pending span into one notification — when the last was told five
//! seconds ago or more — and empties it in the same transaction; what changes meanwhile waits
//! for the next. It runs as a job after each change and from the worker's tick, which finds the
//! spans that had to wait.

use chrono::{DateTime, Duration, Utc};
use entity::users;
use sea_orm::sea_query::{Alias, Expr, Func, SimpleExpr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
};
use serde_json::json;
use uuid::Uuid;

use super::Kind;
use crate::AppContext;
use crate::jobs::Job;

/// At most one notification per user in this long.
pub const COALESCE: Duration = Duration::seconds(5);
/// How far ahead a change "from now on" reaches (rules, zone, a calendar's inclusion), and where
/// spans of endless series are cut: beyond it no availability is computed.
pub const HORIZON: Duration = Duration::days(366);

/// A span of time whose free time changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Span {
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Self {
        Self {
            start: start.min(end),
            end: end.max(start),
        }
    }

    /// Everything from `now` to the horizon.
    pub fn from_now(now: DateTime<Utc>) -> Self {
        Self::new(now, now + HORIZON)
    }

    pub fn union(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// The union of some spans (None for none).
    pub fn cover(spans: impl IntoIterator<Item = Span>) -> Option<Span> {
        spans.into_iter().reduce(Span::union)
    }
}

/// The span an event row covers: its first start to its last occurrence's end.
pub fn of_event(row: &entity::events::Model) -> Span {
    Span::new(row.start_at, row.range_end_at)
}

/// The span the events of `calendar_ids` cover (None when they have none): what including,
/// excluding or removing those calendars changes.
pub async fn of_calendars(
    db: &impl ConnectionTrait,
    calendar_ids: &[Uuid],
) -> Result<Option<Span>, DbErr> {
    use entity::events;
    use sea_orm::sea_query::ExprTrait as _;
    let mut spans = Vec::new();
    for chunk in calendar_ids.chunks(500) {
        let found = events::Entity::find()
            .select_only()
            .column_as(Expr::col(events::Column::StartAt).min(), "first")
            .column_as(Expr::col(events::Column::RangeEndAt).max(), "last")
            .filter(events::Column::CalendarId.is_in(chunk.iter().copied()))
            .into_tuple::<(Option<DateTime<Utc>>, Option<DateTime<Utc>>)>()
            .one(db)
            .await?;
        if let Some((Some(first), Some(last))) = found {
            spans.push(Span::new(first, last));
        }
    }
    Ok(Span::cover(spans))
}

/// Widens the user's pending span by `span`, in the caller's transaction.
pub async fn widen(db: &impl ConnectionTrait, user_id: Uuid, span: Span) -> Result<(), DbErr> {
    // LEAST/GREATEST on Postgres; SQLite's two-argument MIN/MAX are its scalar functions.
    let (least, greatest) = match db.get_database_backend() {
        DbBackend::Postgres => ("LEAST", "GREATEST"),
        _ => ("MIN", "MAX"),
    };
    let bound = |f: &'static str, column: users::Column, at: DateTime<Utc>| -> SimpleExpr {
        Func::cust(Alias::new(f))
            .arg(Func::coalesce([Expr::col(column), Expr::val(at)]))
            .arg(Expr::val(at))
            .into()
    };
    users::Entity::update_many()
        .col_expr(
            users::Column::AvailabilityFrom,
            bound(least, users::Column::AvailabilityFrom, span.start),
        )
        .col_expr(
            users::Column::AvailabilityTo,
            bound(greatest, users::Column::AvailabilityTo, span.end),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(db)
        .await
        .map(drop)
}

/// Tells the user's pending span, if there is one and the last was told `COALESCE` ago or more;
/// returns whether it did.
pub async fn tell(ctx: &AppContext, user_id: Uuid) -> Result<bool, DbErr> {
    let now = ctx.clock.now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let pending = users::Entity::find_by_id(user_id)
        .select_only()
        .column(users::Column::AvailabilityFrom)
        .column(users::Column::AvailabilityTo)
        .column(users::Column::AvailabilityToldAt)
        .into_tuple::<(
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        )>()
        .one(&txn)
        .await?;
    let Some((Some(from), Some(to), told_at)) = pending else {
        txn.rollback().await?;
        return Ok(false);
    };
    if told_at.is_some_and(|at| now - at < COALESCE) {
        txn.rollback().await?;
        return Ok(false);
    }
    // Emptied only as it was read: a change that widened it meanwhile waits for the next look.
    let none = Option::<DateTime<Utc>>::None;
    let claimed = users::Entity::update_many()
        .col_expr(users::Column::AvailabilityFrom, Expr::value(none))
        .col_expr(users::Column::AvailabilityTo, Expr::value(none))
        .col_expr(users::Column::AvailabilityToldAt, Expr::value(now))
        .filter(users::Column::Id.eq(user_id))
        .filter(users::Column::AvailabilityFrom.eq(from))
        .filter(users::Column::AvailabilityTo.eq(to))
        .exec(&txn)
        .await?;
    if claimed.rows_affected == 0 {
        txn.rollback().await?;
        return Ok(false);
    }
    let end = to.min(now + HORIZON).max(from);
    super::record(
        &txn,
        user_id,
        Kind::AvailabilityChanged,
        json!({"start": from, "end": end}),
        now,
    )
    .await?;
    txn.commit().await?;
    super::published(ctx, user_id).await;
    Ok(true)
}

/// Queues `tell` for the users whose span waits and may now be told (the worker's tick).
pub async fn enqueue_due(ctx: &AppContext, now: DateTime<Utc>) {
    let due = users::Entity::find()
        .select_only()
        .column(users::Column::Id)
        .filter(users::Column::AvailabilityFrom.is_not_null())
        .filter(
            sea_orm::Condition::any()
                .add(users::Column::AvailabilityToldAt.is_null())
                .add(users::Column::AvailabilityToldAt.lte(now - COALESCE)),
        )
        .limit(500)
        .into_tuple::<Uuid>()
        .all(&ctx.db)
        .await;
    let users = match due {
        Ok(users) => users,
        Err(e) => {
            tracing::warn!(error = %e, "could not look for availability changes to tell");
            return;
        }
    };
    for user_id in users {
        if let Err(e) = ctx.queue.push(Job::TellAvailability { user_id }).await {
            tracing::warn!(error = %e, "availability changes not queued; the next look retries");
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_each_other() {
        let at = |h: i64| DateTime::<Utc>::UNIX_EPOCH + Duration::hours(h);
        let a = Span::new(at(5), at(3));
        assert_eq!((a.start, a.end), (at(3), at(5)));
        let covered = Span::cover([a, Span::new(at(1), at(2)), Span::new(at(4), at(9))]);
        assert_eq!(covered, Some(Span::new(at(1), at(9))));
        assert_eq!(Span::cover([]), None);
    }
}
