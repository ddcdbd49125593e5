//! Sending the schedule to the person's Cal.com account: created once, updated afterwards, not
//! sent at all when Cal.com already has exactly this body.
//!
//! One export per user runs at a time (a lease on the user's `calcom_exports` row, as for a
//! calendar's sync); a request that finds it taken leaves `pending` set, and the running export
//! goes once more with what is then current.

use std::time::Duration as StdDuration;

use chrono::Duration;
use domain::Instant;
use entity::{ConnectionStatus, Provider, calcom_exports, calendar_connections as connections};
use providers::ProviderError;
use providers::calcom::{CalDotCom, ScheduleBody};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QueryOrder, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{ExportError, ensure_row, schedule};
use crate::credentials::tokens::{self, TokenError};
use crate::{AppContext, Job};

const LEASE: Duration = Duration::minutes(2);
/// An automatic export looks again this often even when no sync changed anything: the dates
/// move on.
const RECHECK: Duration = Duration::hours(1);
/// After a failure that is not a rate limit.
const RETRY_LATER: Duration = Duration::minutes(15);
const ATTEMPTS: u32 = 3;
/// A rate limit that lasts longer than this is not waited out: the export reports it instead.
const MAX_WAIT: StdDuration = StdDuration::from_secs(10);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PushOutcome {
    Created,
    Updated,
    /// Cal.com already holds this body; nothing was sent.
    Unchanged,
    /// An export of this user is running; it goes once more with the current state.
    Queued,
}

impl PushOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            PushOutcome::Created => "created",
            PushOutcome::Updated => "updated",
            PushOutcome::Unchanged => "unchanged",
            PushOutcome::Queued => "queued",
        }
    }
}

#[derive(Clone, Debug)]
pub struct PushResult {
    pub outcome: PushOutcome,
    pub schedule_id: Option<String>,
}

/// Sends the schedule now (`actor`: the user pressing the button, or the worker's automatic
/// export); the attempt and its outcome go to the audit log.
pub async fn push_calcom(
    ctx: &AppContext,
    user_id: Uuid,
    actor: crate::audit::Actor,
    now: Instant,
) -> Result<PushResult, ExportError> {
    use crate::notifications::{self, Kind};
    let result = push_calcom_once_claimed(ctx, user_id, now).await;
    let outcome = match &result {
        Ok(pushed) => {
            serde_json::json!({"outcome": pushed.outcome.as_str(), "schedule_id": pushed.schedule_id})
        }
        Err(e) => serde_json::json!({"outcome": "failed", "error": e.to_string()}),
    };
    // Told when something reached Cal.com, or failed to; "unchanged" sent nothing, and a
    // "queued" push is told by the run that does it.
    let notice = match &result {
        Ok(p) if matches!(p.outcome, PushOutcome::Created | PushOutcome::Updated) => Some((
            Kind::ExportPushed,
            serde_json::json!({"schedule_id": p.schedule_id}),
        )),
        Ok(_) => None,
        Err(e) => Some((
            Kind::ExportFailed,
            serde_json::json!({"error": e.to_string()}),
        )),
    };
    let txn = crate::db::begin_write(&ctx.db).await?;
    crate::audit::record(
        &txn,
        crate::audit::Entry::new(
            actor,
            user_id,
            "export.pushed",
            "calcom_export",
            user_id,
            now,
        )
        .details(outcome),
    )
    .await?;
    if let Some((kind, data)) = &notice {
        notifications::record(&txn, user_id, *kind, data.clone(), now).await?;
    }
    txn.commit().await?;
    if notice.is_some() {
        crate::notifications::published(ctx, user_id).await;
    }
    result
}

async fn push_calcom_once_claimed(
    ctx: &AppContext,
    user_id: Uuid,
    now: Instant,
) -> Result<PushResult, ExportError> {
    ensure_row(&ctx.db, user_id, now).await?;
    if !claim(ctx, user_id, false).await? {
        mark_pending(ctx, user_id).await?;
        // The holder may have let go in between and missed the mark: then it is ours.
        if !claim(ctx, user_id, false).await? {
            return Ok(PushResult {
                outcome: PushOutcome::Queued,
                schedule_id: None,
            });
        }
    }
    let mut result = push_once(ctx, user_id, now).await;
    loop {
        release(ctx, user_id).await?;
        if result.is_err() || !claim(ctx, user_id, true).await? {
            return result;
        }
        result = push_once(ctx, user_id, ctx.clock.now()).await;
    }
}

/// Exports for every user with the automatic export on whose turn has come (the day moved on,
/// a rate limit ended). Returns how many were enqueued.
pub async fn export_due(ctx: &AppContext, now: Instant) -> Result<usize, ExportError> {
    let due = calcom_exports::Entity::find()
        .filter(calcom_exports::Column::AutoExport.eq(true))
        .filter(
            Condition::any()
                .add(calcom_exports::Column::DueAt.is_null())
                .add(calcom_exports::Column::DueAt.lte(now)),
        )
        .all(&ctx.db)
        .await?;
    let mut enqueued = 0;
    for row in due {
        match ctx
            .queue
            .push(Job::ExportCalcom {
                user_id: row.user_id,
            })
            .await
        {
            Ok(()) => enqueued += 1,
            Err(e) => tracing::warn!(error = %e, "could not enqueue a Cal.com export"),
        }
    }
    Ok(enqueued)
}

async fn push_once(
    ctx: &AppContext,
    user_id: Uuid,
    now: Instant,
) -> Result<PushResult, ExportError> {
    let state = calcom_exports::Entity::find_by_id(user_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ExportError::Internal(anyhow::anyhow!("export row vanished")))?;
    let connection = calcom_connection(ctx, user_id).await?;
    let body = schedule(ctx, user_id, i64::from(state.days), now).await?;
    let hash = body_hash(&connection.id, &body);
    let same_place = state.connection_id == Some(connection.id) && state.schedule_id.is_some();
    if same_place && state.body_hash.as_deref() == Some(hash.as_str()) {
        record(ctx, user_id, now, Ok(None)).await?;
        return Ok(PushResult {
            outcome: PushOutcome::Unchanged,
            schedule_id: state.schedule_id,
        });
    }
    let client = &ctx.providers.calcom;
    let existing = state.schedule_id.clone().filter(|_| same_place);
    let sent = send(ctx, &connection, client, existing.as_deref(), &body).await;
    match sent {
        Ok((outcome, id)) => {
            record(ctx, user_id, now, Ok(Some((&connection.id, &id, &hash)))).await?;
            tracing::info!(%user_id, schedule = %id, outcome = outcome.as_str(), "schedule exported to Cal.com");
            Ok(PushResult {
                outcome,
                schedule_id: Some(id),
            })
        }
        Err(e) => {
            record(ctx, user_id, now, Err(&e)).await?;
            tracing::warn!(%user_id, error = %e, "Cal.com export failed");
            Err(e)
        }
    }
}

/// Updates the schedule, or creates it when there is none (or Cal.com no longer has it).
async fn send(
    ctx: &AppContext,
    connection: &connections::Model,
    client: &CalDotCom,
    existing: Option<&str>,
    body: &ScheduleBody,
) -> Result<(PushOutcome, String), ExportError> {
    if let Some(id) = existing {
        let updated = with_retries(|| {
            tokens::with_credential(ctx, connection, |token| async move {
                client.update_schedule(&token, id, body).await
            })
        })
        .await;
        match updated {
            Ok(()) => return Ok((PushOutcome::Updated, id.to_owned())),
            Err(TokenError::Provider(ProviderError::NotFound)) => {
                tracing::info!(schedule = %id, "the schedule is gone at Cal.com; creating it again");
            }
            Err(e) => return Err(e.into()),
        }
    }
    let id = with_retries(|| {
        tokens::with_credential(ctx, connection, |token| async move {
            client.create_schedule(&token, body).await
        })
    })
    .await?;
    Ok((PushOutcome::Created, id))
}

/// Retries rate limits and transient failures with backoff, honouring Cal.com's reset header up
/// to [`MAX_WAIT`].
async fn with_retries<T, F, Fut>(call: F) -> Result<T, TokenError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, TokenError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Err(TokenError::Provider(e)) if e.is_retryable() && attempt + 1 < ATTEMPTS => {
                attempt += 1;
                let wait = crate::sync::backoff(&e, attempt);
                if wait > MAX_WAIT {
                    return Err(TokenError::Provider(e));
                }
                tracing::info!(error = %e, ?wait, "Cal.com busy; retrying");
                tokio::time::sleep(wait).await;
            }
            other => return other,
        }
    }
}

impl From<TokenError> for ExportError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::NeedsReauth => ExportError::NeedsReauth,
            TokenError::Provider(ProviderError::RateLimited { retry_after }) => {
                ExportError::RateLimited {
                    retry_after_seconds: retry_after.map_or(60, |d| d.as_secs().max(1)),
                }
            }
            TokenError::Provider(ProviderError::Unauthorized) => ExportError::NeedsReauth,
            TokenError::Provider(e) => ExportError::Provider(e.to_string()),
            TokenError::Internal(e) => ExportError::Internal(e),
        }
    }
}

/// The person's Cal.com connection (the newest, if they connected more than one account).
async fn calcom_connection(
    ctx: &AppContext,
    user_id: Uuid,
) -> Result<connections::Model, ExportError> {
    let connection = connections::Entity::find()
        .filter(connections::Column::UserId.eq(user_id))
        .filter(connections::Column::Provider.eq(Provider::CalDotCom))
        .order_by_desc(connections::Column::CreatedAt)
        .one(&ctx.db)
        .await?
        .ok_or(ExportError::NotConnected)?;
    match connection.status {
        ConnectionStatus::Active => Ok(connection),
        ConnectionStatus::NeedsReauth => Err(ExportError::NeedsReauth),
    }
}

fn body_hash(connection_id: &Uuid, body: &ScheduleBody) -> String {
    let mut hasher = Sha256::new();
    hasher.update(connection_id.as_bytes());
    hasher.update(serde_json::to_vec(body).expect("a schedule serializes"));
    hex::encode(hasher.finalize())
}

/// Stores the outcome: what was sent (or that nothing needed to be), or the error.
async fn record(
    ctx: &AppContext,
    user_id: Uuid,
    now: Instant,
    outcome: Result<Option<(&Uuid, &str, &str)>, &ExportError>,
) -> Result<(), ExportError> {
    let mut row = calcom_exports::ActiveModel {
        user_id: Set(user_id),
        checked_at: Set(Some(now)),
        updated_at: Set(ctx.clock.now()),
        ..Default::default()
    };
    match outcome {
        Ok(sent) => {
            row.last_error = Set(None);
            row.due_at = Set(Some(now + RECHECK));
            if let Some((connection_id, schedule_id, hash)) = sent {
                row.connection_id = Set(Some(*connection_id));
                row.schedule_id = Set(Some(schedule_id.to_owned()));
                row.body_hash = Set(Some(hash.to_owned()));
                row.exported_at = Set(Some(now));
            }
        }
        Err(e) => {
            row.last_error = Set(Some(e.to_string()));
            row.due_at = Set(Some(match e {
                ExportError::RateLimited {
                    retry_after_seconds,
                } => now + Duration::seconds(i64::try_from(*retry_after_seconds).unwrap_or(60)),
                _ => now + RETRY_LATER,
            }));
        }
    }
    calcom_exports::Entity::update(row).exec(&ctx.db).await?;
    Ok(())
}

/// Takes the user's export lease if it is free; `only_if_pending` takes it only to honour a
/// request that came in while the lease was held.
async fn claim(
    ctx: &AppContext,
    user_id: Uuid,
    only_if_pending: bool,
) -> Result<bool, ExportError> {
    let now = ctx.clock.now();
    let mut update = calcom_exports::Entity::update_many()
        .col_expr(
            calcom_exports::Column::LeaseUntil,
            Expr::value(Some(now + LEASE)),
        )
        .col_expr(calcom_exports::Column::Pending, Expr::value(false))
        .filter(calcom_exports::Column::UserId.eq(user_id))
        .filter(
            Condition::any()
                .add(calcom_exports::Column::LeaseUntil.is_null())
                .add(calcom_exports::Column::LeaseUntil.lt(now)),
        );
    if only_if_pending {
        update = update.filter(calcom_exports::Column::Pending.eq(true));
    }
    Ok(update.exec(&ctx.db).await?.rows_affected == 1)
}

async fn mark_pending(ctx: &AppContext, user_id: Uuid) -> Result<(), ExportError> {
    calcom_exports::Entity::update_many()
        .col_expr(calcom_exports::Column::Pending, Expr::value(true))
        .filter(calcom_exports::Column::UserId.eq(user_id))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

async fn release(ctx: &AppContext, user_id: Uuid) -> Result<(), ExportError> {
    calcom_exports::Entity::update_many()
        .col_expr(
            calcom_exports::Column::LeaseUntil,
            Expr::value(Option::<Instant>::None),
        )
        .filter(calcom_exports::Column::UserId.eq(user_id))
        .exec(&ctx.db)
        .await?;
    Ok(())
}
