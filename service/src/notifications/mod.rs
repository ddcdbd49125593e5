//! The notifications outbox (contract, "Notifications"): everything a user should hear about,
//! written with `record` in the same transaction as the change that causes it — so none is lost
//! when a process dies and none is sent for a change that was rolled back. The feed and the
//! live stream read it; webhooks (`webhooks`: a message per endpoint, written by `record` in the
//! same transaction) and e-mail (`crate::alerts`) deliver from it.
//!
//! Order: `record` increments `users.notification_seq` in the caller's transaction. That row
//! lock holds until commit, so one user's notifications become visible in `seq` order, and a
//! reader that has seen `seq` n has seen every earlier one: resuming "after n" has no gap and no
//! duplicate, whichever process wrote them.
//!
//! Architecture invariant: this module is the only writer of `notifications` and
//! `users.notification_seq`.

pub mod availability;
pub mod notifier;
pub mod stream;
pub mod webhooks;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use entity::{notification_tickets, notifications, users};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::Value;
use uuid::Uuid;

pub use notifier::Notifier;

/// How long notifications are kept (the contract promises at least 30 days).
pub const KEEP_DAYS: i64 = 31;
/// How long a stream ticket opens a stream.
pub const TICKET_SECONDS: i64 = 60;

/// The types of the contract's table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    CalendarSynced,
    CalendarSyncFailed,
    ConnectionNeedsReauth,
    ConflictOpened,
    ConflictResolved,
    AvailabilityChanged,
    ExportPushed,
    ExportFailed,
    TaskReminder,
    TaskAtRisk,
    WebhookDisabled,
}

impl Kind {
    pub const ALL: [Kind; 11] = [
        Kind::CalendarSynced,
        Kind::CalendarSyncFailed,
        Kind::ConnectionNeedsReauth,
        Kind::ConflictOpened,
        Kind::ConflictResolved,
        Kind::AvailabilityChanged,
        Kind::ExportPushed,
        Kind::ExportFailed,
        Kind::TaskReminder,
        Kind::TaskAtRisk,
        Kind::WebhookDisabled,
    ];

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::CalendarSynced => "calendar.synced",
            Kind::CalendarSyncFailed => "calendar.sync_failed",
            Kind::ConnectionNeedsReauth => "connection.needs_reauth",
            Kind::ConflictOpened => "conflict.opened",
            Kind::ConflictResolved => "conflict.resolved",
            Kind::AvailabilityChanged => "availability.changed",
            Kind::ExportPushed => "export.pushed",
            Kind::ExportFailed => "export.failed",
            Kind::TaskReminder => "task.reminder",
            Kind::TaskAtRisk => "task.at_risk",
            Kind::WebhookDisabled => "webhook.disabled",
        }
    }
}

/// A notification's id as the API writes it: the user's sequence number, zero-padded so that
/// ids sort in creation order as strings too.
pub fn id_of(seq: i64) -> String {
    format!("{seq:012}")
}

/// The sequence number in an id (`000000000042`, or plain `42`).
pub fn parse_id(id: &str) -> Option<i64> {
    id.trim().parse::<i64>().ok().filter(|n| *n >= 0)
}

/// Writes a notification for `user_id` in the caller's transaction, with a webhook message for
/// each endpoint that takes it; returns its `seq`. Call `published` after the commit (a missed
/// call only delays: streams re-read the outbox, the worker looks for due webhooks).
pub async fn record(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    kind: Kind,
    data: Value,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    let bumped = users::Entity::update_many()
        .col_expr(
            users::Column::NotificationSeq,
            Expr::col(users::Column::NotificationSeq).add(1),
        )
        .filter(users::Column::Id.eq(user_id))
        .exec(txn)
        .await?;
    if bumped.rows_affected == 0 {
        return Err(DbErr::RecordNotFound(format!("user {user_id}")));
    }
    let seq = latest(txn, user_id).await?;
    notifications::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        seq: Set(seq),
        kind: Set(kind.as_str().to_owned()),
        data: Set(data.clone()),
        created_at: Set(now),
    }
    .insert(txn)
    .await?;
    webhooks::queue(txn, user_id, &id_of(seq), kind, &data, now).await?;
    Ok(seq)
}

/// After the commit of a transaction that recorded notifications for `user_id`: wakes the
/// user's streams (here and in other processes) and queues the webhook deliveries it wrote.
pub async fn published(ctx: &crate::AppContext, user_id: Uuid) {
    ctx.notifier.wake(user_id);
    webhooks::delivery::enqueue_due(ctx, Some(user_id), ctx.clock.now()).await;
}

/// The `seq` of the user's newest notification (0 before the first).
pub async fn latest(db: &impl ConnectionTrait, user_id: Uuid) -> Result<i64, DbErr> {
    users::Entity::find_by_id(user_id)
        .select_only()
        .column(users::Column::NotificationSeq)
        .into_tuple::<i64>()
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("user {user_id}")))
}

/// The user's notifications after `after`, oldest first, at most `limit`.
pub async fn after(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    after: i64,
    limit: u64,
) -> Result<Vec<notifications::Model>, DbErr> {
    notifications::Entity::find()
        .filter(notifications::Column::UserId.eq(user_id))
        .filter(notifications::Column::Seq.gt(after))
        .order_by_asc(notifications::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Housekeeping: notifications older than `KEEP_DAYS` (and their settled webhook messages and
/// delivery log), and lapsed tickets.
pub async fn purge(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DbErr> {
    let before = now - Duration::days(KEEP_DAYS);
    let old = notifications::Entity::delete_many()
        .filter(notifications::Column::CreatedAt.lt(before))
        .exec(db)
        .await?;
    webhooks::purge(db, before).await?;
    notification_tickets::Entity::delete_many()
        .filter(notification_tickets::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(old.rows_affected)
}

/// A single-use ticket that opens the user's stream within `TICKET_SECONDS` (for `EventSource`,
/// which cannot send an Authorization header). Only its hash is stored.
pub async fn issue_ticket(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    now: DateTime<Utc>,
) -> Result<String, DbErr> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    let ticket = URL_SAFE_NO_PAD.encode(bytes);
    notification_tickets::ActiveModel {
        ticket_hash: Set(crate::secrets::sha256_hex(&ticket)),
        user_id: Set(user_id),
        expires_at: Set(now + Duration::seconds(TICKET_SECONDS)),
    }
    .insert(db)
    .await?;
    Ok(ticket)
}

/// The user a ticket opens, once: the delete that redeems it is what makes it single-use, also
/// when two requests race with it.
pub async fn redeem_ticket(
    db: &impl ConnectionTrait,
    ticket: &str,
    now: DateTime<Utc>,
) -> Result<Option<Uuid>, DbErr> {
    let hash = crate::secrets::sha256_hex(ticket);
    let Some(row) = notification_tickets::Entity::find_by_id(hash.clone())
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let deleted = notification_tickets::Entity::delete_many()
        .filter(notification_tickets::Column::TicketHash.eq(hash))
        .filter(notification_tickets::Column::ExpiresAt.gt(now))
        .exec(db)
        .await?;
    Ok((deleted.rows_affected == 1).then_some(row.user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_as_their_sequence() {
        let ids: Vec<String> = [1, 9, 10, 123_456].into_iter().map(id_of).collect();
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        assert_eq!(parse_id(&ids[2]), Some(10));
        assert_eq!(parse_id("42"), Some(42));
        assert_eq!(parse_id("-1"), None);
        assert_eq!(parse_id("x"), None);
    }
}
