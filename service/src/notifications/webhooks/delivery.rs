//! Sending webhook messages (contract: a delivery). A message is due when `next_attempt_at` has
//! come; `enqueue_due` leases due messages (`queued_until`) and queues one `DeliverWebhook` job
//! each — from the worker's five-second tick, and at once after a commit that wrote some — so a
//! lost job or a dead worker only delays a message until its lease lapses. `deliver` makes one
//! attempt: a 2xx within 10 s delivers; anything else is retried after 5 s, 5 min, 30 min, 2 h,
//! 5 h, 10 h and 10 h, then given up. `410 Gone`, or five days of failures with nothing
//! delivered, disables the endpoint and tells the user (`webhook.disabled`).
//!
//! Every job is its own task with its own 10-second limit and the webhook client has its own
//! connection pool: a slow or dead receiver holds one job, never a sync or another endpoint.

use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Duration, Utc};
use entity::{webhook_attempts, webhook_endpoints, webhook_messages};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use serde_json::json;
use uuid::Uuid;

use super::{address, signing};
use crate::AppContext;
use crate::audit::{self, Actor, Entry};
use crate::jobs::Job;
use crate::notifications::{self, Kind};

pub const PENDING: &str = "pending";
pub const DELIVERED: &str = "delivered";
pub const FAILED: &str = "failed";
pub const CANCELLED: &str = "cancelled";

/// The waits after the first, second, … failed attempt; after the last, the message is given up.
pub const RETRY_AFTER: [Duration; 7] = [
    Duration::seconds(5),
    Duration::minutes(5),
    Duration::minutes(30),
    Duration::hours(2),
    Duration::hours(5),
    Duration::hours(10),
    Duration::hours(10),
];
/// A receiver has this long to answer.
pub const TIMEOUT: StdDuration = StdDuration::from_secs(10);
/// Failing this long with nothing delivered disables an endpoint.
pub const DISABLE_AFTER: Duration = Duration::days(5);
/// How long a queued job holds its message before another may take it.
const LEASE: Duration = Duration::minutes(2);
/// Messages leased per look.
const BATCH: u64 = 200;

/// Leases the due messages (of one user, or everyone's) and queues a delivery job for each;
/// returns how many. A queue that cannot take them gives the leases back.
pub async fn enqueue_due(ctx: &AppContext, user_id: Option<Uuid>, now: DateTime<Utc>) -> usize {
    match lease_and_push(ctx, user_id, now).await {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "webhook deliveries not queued; the next look retries");
            0
        }
    }
}

async fn lease_and_push(
    ctx: &AppContext,
    user_id: Option<Uuid>,
    now: DateTime<Utc>,
) -> Result<usize, anyhow::Error> {
    let free = Condition::any()
        .add(webhook_messages::Column::QueuedUntil.is_null())
        .add(webhook_messages::Column::QueuedUntil.lt(now));
    let mut due = webhook_messages::Entity::find()
        .select_only()
        .column(webhook_messages::Column::Id)
        .filter(webhook_messages::Column::NextAttemptAt.lte(now))
        .filter(free.clone());
    if let Some(user_id) = user_id {
        due = due.filter(webhook_messages::Column::UserId.eq(user_id));
    }
    let ids: Vec<Uuid> = due
        .order_by_asc(webhook_messages::Column::NextAttemptAt)
        .limit(BATCH)
        .into_tuple()
        .all(&ctx.db)
        .await?;
    let mut queued = 0;
    for id in ids {
        let leased = webhook_messages::Entity::update_many()
            .col_expr(
                webhook_messages::Column::QueuedUntil,
                Expr::value(now + LEASE),
            )
            .filter(webhook_messages::Column::Id.eq(id))
            .filter(free.clone())
            .exec(&ctx.db)
            .await?;
        if leased.rows_affected == 0 {
            continue;
        }
        if let Err(e) = ctx.queue.push(Job::DeliverWebhook { message_id: id }).await {
            webhook_messages::Entity::update_many()
                .col_expr(
                    webhook_messages::Column::QueuedUntil,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(webhook_messages::Column::Id.eq(id))
                .exec(&ctx.db)
                .await?;
            return Err(e.into());
        }
        queued += 1;
    }
    Ok(queued)
}

/// What one attempt came to.
enum Outcome {
    Delivered(u16),
    Gone,
    Failed { status: Option<u16>, error: String },
}

/// One attempt to deliver a message.
pub async fn deliver(ctx: &AppContext, message_id: Uuid) -> Result<(), DbErr> {
    let Some(message) = webhook_messages::Entity::find_by_id(message_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(());
    };
    if message.next_attempt_at.is_none() {
        return Ok(());
    }
    let Some(endpoint) = webhook_endpoints::Entity::find_by_id(message.endpoint_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(());
    };
    let now = ctx.clock.now();
    let started = Instant::now();
    let outcome = if endpoint.enabled {
        attempt(ctx, &endpoint, &message, now).await
    } else {
        // Turned off after the message was queued: nothing to send.
        settle(ctx, &message, CANCELLED).await?;
        return Ok(());
    };
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    crate::meters::webhook_delivery(match outcome {
        Outcome::Delivered(_) => "delivered",
        Outcome::Gone => "gone",
        Outcome::Failed { .. } => "failed",
    });
    record_outcome(ctx, &endpoint, &message, outcome, now, duration_ms).await
}

async fn attempt(
    ctx: &AppContext,
    endpoint: &webhook_endpoints::Model,
    message: &webhook_messages::Model,
    now: DateTime<Utc>,
) -> Outcome {
    let policy = address::Policy {
        allow_http: ctx.settings.access.webhooks_allow_http,
        allow_private: ctx.settings.access.webhooks_allow_private,
    };
    // Checked again: the rules may be stricter than when the endpoint was saved.
    let url = match address::parse(&endpoint.url, policy) {
        Ok(url) => url,
        Err(refused) => {
            return Outcome::Failed {
                status: None,
                error: refused.message,
            };
        }
    };
    let secrets = match super::signing_secrets(ctx, endpoint, now) {
        Ok(s) => s,
        Err(e) => {
            return Outcome::Failed {
                status: None,
                error: format!("the endpoint's secret cannot be opened: {e}"),
            };
        }
    };
    let timestamp = now.timestamp();
    let signature = signing::header(&secrets, &message.webhook_id, timestamp, &message.body);
    let sent = ctx
        .webhook_http
        .post(url)
        .timeout(TIMEOUT)
        .header("content-type", "application/json")
        .header("webhook-id", &message.webhook_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(message.body.clone())
        .send()
        .await;
    match sent {
        Ok(res) if res.status().is_success() => Outcome::Delivered(res.status().as_u16()),
        Ok(res) if res.status() == reqwest::StatusCode::GONE => Outcome::Gone,
        Ok(res) => Outcome::Failed {
            status: Some(res.status().as_u16()),
            error: format!("the receiver answered {}", res.status()),
        },
        Err(e) => Outcome::Failed {
            status: None,
            error: describe(e),
        },
    }
}

/// A transport error in words (never the URL's query, which may carry a receiver's token).
fn describe(e: reqwest::Error) -> String {
    if providers::outbound::is_refused(&e) {
        return "the address is in a private, loopback or otherwise internal network".to_owned();
    }
    if e.is_timeout() {
        return format!("no answer within {} s", TIMEOUT.as_secs());
    }
    if e.is_connect() {
        return "could not connect to the receiver".to_owned();
    }
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    text
}

async fn settle(
    ctx: &AppContext,
    message: &webhook_messages::Model,
    state: &str,
) -> Result<(), DbErr> {
    webhook_messages::Entity::update_many()
        .col_expr(webhook_messages::Column::State, Expr::value(state))
        .col_expr(
            webhook_messages::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            webhook_messages::Column::QueuedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook_messages::Column::Id.eq(message.id))
        .exec(&ctx.db)
        .await
        .map(drop)
}

/// The log entry, the message's next step and the endpoint's health, in one transaction; with a
/// disabled endpoint, the `webhook.disabled` notification too.
async fn record_outcome(
    ctx: &AppContext,
    endpoint: &webhook_endpoints::Model,
    message: &webhook_messages::Model,
    outcome: Outcome,
    now: DateTime<Utc>,
    duration_ms: i64,
) -> Result<(), DbErr> {
    let attempt = message.attempts + 1;
    let (status_code, error) = match &outcome {
        Outcome::Delivered(s) => (Some(*s), None),
        Outcome::Gone => (Some(410), Some("the receiver answered 410 Gone".to_owned())),
        Outcome::Failed { status, error } => (*status, Some(error.clone())),
    };
    let (state, next) = match &outcome {
        Outcome::Delivered(_) => (DELIVERED, None),
        Outcome::Gone => (FAILED, None),
        Outcome::Failed { .. } => match RETRY_AFTER.get(message.attempts as usize) {
            Some(wait) => (PENDING, Some(now + *wait)),
            None => (FAILED, None),
        },
    };
    let disable = match &outcome {
        Outcome::Delivered(_) => None,
        Outcome::Gone => Some("the receiver answered 410 Gone".to_owned()),
        Outcome::Failed { .. } => endpoint
            .failing_since
            .filter(|since| now - *since >= DISABLE_AFTER)
            .map(|_| "nothing could be delivered for 5 days".to_owned()),
    };

    let txn = crate::db::begin_write(&ctx.db).await?;
    // Counted once: an attempt another job already recorded leaves this one without effect.
    let moved = webhook_messages::Entity::update_many()
        .col_expr(webhook_messages::Column::Attempts, Expr::value(attempt))
        .col_expr(webhook_messages::Column::State, Expr::value(state))
        .col_expr(webhook_messages::Column::NextAttemptAt, Expr::value(next))
        .col_expr(
            webhook_messages::Column::QueuedUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook_messages::Column::Id.eq(message.id))
        .filter(webhook_messages::Column::Attempts.eq(message.attempts))
        .exec(&txn)
        .await?;
    if moved.rows_affected == 0 {
        return txn.rollback().await;
    }
    webhook_attempts::ActiveModel {
        id: Set(Uuid::now_v7()),
        endpoint_id: Set(endpoint.id),
        message_id: Set(message.id),
        webhook_id: Set(message.webhook_id.clone()),
        attempt: Set(attempt),
        at: Set(now),
        status_code: Set(status_code.map(i32::from)),
        error: Set(error),
        duration_ms: Set(duration_ms),
    }
    .insert(&txn)
    .await?;
    let health = webhook_endpoints::Entity::update_many()
        .filter(webhook_endpoints::Column::Id.eq(endpoint.id));
    match &outcome {
        Outcome::Delivered(_) => {
            health
                .col_expr(
                    webhook_endpoints::Column::FailingSince,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .exec(&txn)
                .await?;
        }
        _ => {
            health
                .col_expr(
                    webhook_endpoints::Column::FailingSince,
                    Expr::col(webhook_endpoints::Column::FailingSince).if_null(now),
                )
                .exec(&txn)
                .await?;
        }
    }
    let mut disabled = false;
    if let Some(reason) = &disable {
        let turned_off = webhook_endpoints::Entity::update_many()
            .col_expr(webhook_endpoints::Column::Enabled, Expr::value(false))
            .col_expr(
                webhook_endpoints::Column::DisabledReason,
                Expr::value(reason.as_str()),
            )
            .col_expr(webhook_endpoints::Column::UpdatedAt, Expr::value(now))
            .filter(webhook_endpoints::Column::Id.eq(endpoint.id))
            .filter(webhook_endpoints::Column::Enabled.eq(true))
            .exec(&txn)
            .await?;
        if turned_off.rows_affected == 1 {
            super::cancel_pending(&txn, endpoint.id).await?;
            audit::record(
                &txn,
                Entry::new(
                    Actor::System,
                    endpoint.user_id,
                    "webhook_endpoint.disabled",
                    "webhook_endpoint",
                    endpoint.id,
                    now,
                )
                .details(json!({"reason": reason})),
            )
            .await?;
            notifications::record(
                &txn,
                endpoint.user_id,
                Kind::WebhookDisabled,
                json!({"endpoint_id": endpoint.id, "reason": reason}),
                now,
            )
            .await?;
            disabled = true;
        }
    }
    txn.commit().await?;
    if disabled {
        notifications::published(ctx, endpoint.user_id).await;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_is_the_contracts() {
        let total: Duration = RETRY_AFTER.iter().copied().sum();
        assert_eq!(
            total,
            Duration::seconds(5) + Duration::minutes(35) + Duration::hours(27)
        );
    }
}
