//! Keeping a calendar's local copy equal to the provider's.
//!
//! A run walks one round of pages (`providers::CalendarSource::changes`): a full listing of
//! the window the first time or after the provider rejected the cursor, changes since the
//! stored cursor otherwise. Each page is written in its own transaction; the last page's
//! transaction also stores the new cursor and, for a full listing, removes every event the
//! listing did not mention. A run that dies half-way stored no cursor, so the next run starts
//! that round again, and upserts keyed on the provider's id make the repeat harmless.
//!
//! Only one run per calendar at a time (a lease in the row); a request that finds the lease
//! taken leaves `sync_pending` set, and the running sync goes once more before it lets go.

pub mod rows;
pub mod schedule;

use std::collections::{HashMap, HashSet};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, Utc};
use entity::{
    Provider, SyncRunStatus, SyncStatus, calendar_connections as connections, calendars, events,
    sync_runs,
};
use providers::{Change, ChangePage, Credential, Next, ProviderError, SyncRequest, Window};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::credentials::tokens::{self, TokenError};
use crate::notifications::availability::Span;
use crate::{AppContext, Job, db, notifications, version};

/// How long a run's lease lasts unless renewed: by every page, and by the run's heartbeat every
/// `HEARTBEAT` whatever it is doing (a slow page, a backoff). A worker that dies gives its
/// calendars back within this long, not after a fixed two minutes.
const LEASE: Duration = Duration::seconds(30);
/// How often a live run renews its lease.
const HEARTBEAT: StdDuration = StdDuration::from_secs(10);
/// Attempts per page when the provider is rate limiting or failing.
const ATTEMPTS: u32 = 4;
/// The longest a run waits before retrying a page; longer waits are left to the next run.
const MAX_WAIT: StdDuration = StdDuration::from_secs(30);

pub use crate::jobs::Trigger;

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("the account must be reconnected")]
    NeedsReauth,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Queue(#[from] crate::jobs::QueueError),
    /// The calendar was deleted (by the user, or with its account) while the run went on: the
    /// run stops, and there is nothing left to record.
    #[error("the calendar was removed during the sync")]
    CalendarGone,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for SyncError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

impl From<TokenError> for SyncError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::NeedsReauth => Self::NeedsReauth,
            TokenError::Provider(p) => Self::Provider(p),
            TokenError::Internal(i) => Self::Internal(i),
        }
    }
}

/// What one run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    pub pages: u32,
    /// Rows written: `added` new ones plus `updated` changed ones.
    pub upserted: u64,
    pub added: u64,
    pub updated: u64,
    pub deleted: u64,
    /// The provider rejected the cursor and the run listed everything again.
    pub cursor_reset: bool,
    pub full: bool,
    /// The provider said nothing changed: what `last_error` warned about still holds.
    pub not_modified: bool,
    /// Warnings of the round's pages (`ChangePage::warnings`).
    pub warnings: Vec<String>,
}

impl Outcome {
    pub fn changed(&self) -> bool {
        self.upserted > 0 || self.deleted > 0
    }
}

/// Marks the calendar queued and enqueues its sync.
pub async fn request(
    ctx: &AppContext,
    calendar_id: Uuid,
    trigger: Trigger,
) -> Result<(), SyncError> {
    calendars::Entity::update_many()
        .col_expr(
            calendars::Column::SyncStatus,
            Expr::value(SyncStatus::Queued),
        )
        .filter(calendars::Column::Id.eq(calendar_id))
        .filter(calendars::Column::SyncStatus.ne(SyncStatus::Syncing))
        .exec(&ctx.db)
        .await?;
    let pushed = ctx
        .queue
        .push(Job::SyncCalendar {
            calendar_id,
            trigger,
        })
        .await;
    if let Err(e) = pushed {
        // Not queued after all; the schedule will come back to it.
        calendars::Entity::update_many()
            .col_expr(calendars::Column::SyncStatus, Expr::value(SyncStatus::Idle))
            .filter(calendars::Column::Id.eq(calendar_id))
            .filter(calendars::Column::SyncStatus.eq(SyncStatus::Queued))
            .exec(&ctx.db)
            .await?;
        return Err(e.into());
    }
    Ok(())
}

/// The lease, or a note that one more run is wanted. True when this caller holds the lease.
async fn claim(ctx: &AppContext, calendar_id: Uuid) -> Result<bool, SyncError> {
    let take = |free: Condition, now: DateTime<Utc>| {
        calendars::Entity::update_many()
            .col_expr(
                calendars::Column::SyncLeaseUntil,
                Expr::value(Some(now + LEASE)),
            )
            .col_expr(calendars::Column::SyncPending, Expr::value(false))
            .col_expr(
                calendars::Column::SyncStatus,
                Expr::value(SyncStatus::Syncing),
            )
            .filter(calendars::Column::Id.eq(calendar_id))
            .filter(free)
            .exec(&ctx.db)
    };
    loop {
        let now = ctx.clock.now();
        let free = Condition::all().add(calendars::Column::SyncLeaseUntil.is_null());
        if take(free, now).await?.rows_affected == 1 {
            return Ok(true);
        }
        // A lease that lapsed belonged to a run whose worker stopped.
        let lapsed = Condition::all().add(calendars::Column::SyncLeaseUntil.lt(now));
        if take(lapsed, now).await?.rows_affected == 1 {
            mark_interrupted(ctx, calendar_id, now).await?;
            return Ok(true);
        }
        // Held by a live run: ask it for one more round. If the lease lapsed in between,
        // this matches nothing and the claim is tried again.
        let noted = calendars::Entity::update_many()
            .col_expr(calendars::Column::SyncPending, Expr::value(true))
            .filter(calendars::Column::Id.eq(calendar_id))
            .filter(calendars::Column::SyncLeaseUntil.gte(now))
            .exec(&ctx.db)
            .await?
            .rows_affected;
        if noted == 1 {
            return Ok(false);
        }
        let exists = calendars::Entity::find_by_id(calendar_id)
            .one(&ctx.db)
            .await?;
        if exists.is_none() {
            return Ok(false);
        }
    }
}

/// The runs a dead worker left marked running: they end as failed, so `sync_runs` tells the truth.
async fn mark_interrupted(
    ctx: &AppContext,
    calendar_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), SyncError> {
    sync_runs::Entity::update_many()
        .col_expr(
            sync_runs::Column::Status,
            Expr::value(SyncRunStatus::Failed),
        )
        .col_expr(
            sync_runs::Column::Error,
            Expr::value("interrupted: the worker stopped during the run"),
        )
        .col_expr(sync_runs::Column::FinishedAt, Expr::value(Some(now)))
        .filter(sync_runs::Column::CalendarId.eq(calendar_id))
        .filter(sync_runs::Column::Status.eq(SyncRunStatus::Running))
        .exec(&ctx.db)
        .await?;
    Ok(())
}

/// Lets go of the lease unless another run was asked for meanwhile (then keeps it: true).
async fn release(ctx: &AppContext, calendar_id: Uuid) -> Result<bool, SyncError> {
    let released = calendars::Entity::update_many()
        .col_expr(
            calendars::Column::SyncLeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(calendars::Column::Id.eq(calendar_id))
        .filter(calendars::Column::SyncPending.eq(false))
        .exec(&ctx.db)
        .await?
        .rows_affected;
    if released == 1 {
        return Ok(false);
    }
    let renewed = calendars::Entity::update_many()
        .col_expr(calendars::Column::SyncPending, Expr::value(false))
        .col_expr(
            calendars::Column::SyncStatus,
            Expr::value(SyncStatus::Syncing),
        )
        .col_expr(
            calendars::Column::SyncLeaseUntil,
            Expr::value(Some(ctx.clock.now() + LEASE)),
        )
        .filter(calendars::Column::Id.eq(calendar_id))
        .exec(&ctx.db)
        .await?
        .rows_affected;
    Ok(renewed == 1)
}

/// Runs the calendar's sync if no one else is; returns what the last run did, or None when
/// another worker holds the calendar (it will run once more for this request).
pub async fn run(
    ctx: &AppContext,
    calendar_id: Uuid,
    trigger: Trigger,
) -> Result<Option<Outcome>, SyncError> {
    if !claim(ctx, calendar_id).await? {
        tracing::debug!(%calendar_id, "sync already running; it will run once more");
        return Ok(None);
    }
    let _heartbeat = Heartbeat::start(ctx, calendar_id);
    let mut trigger = trigger;
    loop {
        let result = run_once(ctx, calendar_id, trigger).await;
        if let Err(e) = &result
            && matches!(e, SyncError::Internal(_) | SyncError::Queue(_))
        {
            // Failed where the run could not record it (its own writes failed): say so on the
            // calendar, which would otherwise show "syncing" until the next run.
            tracing::warn!(%calendar_id, error = %e, "a sync failed before it could record its end");
            calendars::Entity::update_many()
                .col_expr(calendars::Column::SyncStatus, Expr::value(SyncStatus::Error))
                .col_expr(
                    calendars::Column::LastError,
                    Expr::value(Some(
                        "The sync was interrupted by an internal error; it is retried at the next scheduled sync.",
                    )),
                )
                .filter(calendars::Column::Id.eq(calendar_id))
                .filter(calendars::Column::SyncStatus.eq(SyncStatus::Syncing))
                .exec(&ctx.db)
                .await?;
        }
        // Asked for again while it ran — whether it succeeded or failed: `release` then keeps
        // the lease (and says "syncing"), so the next round must run. (Ignoring that after a
        // failed run left the calendar "syncing" under a lease nobody used, for two minutes.)
        let again = release(ctx, calendar_id).await?;
        if !again {
            return result.map(Some);
        }
        trigger = Trigger::Pending;
    }
}

/// Renews a held lease every `HEARTBEAT` until dropped — with the run, also when the run's future
/// is dropped half-way (its worker torn down), so a dead run stops renewing at once.
struct Heartbeat(tokio::task::JoinHandle<()>);

impl Heartbeat {
    fn start(ctx: &AppContext, calendar_id: Uuid) -> Self {
        let (db, clock) = (ctx.db.clone(), ctx.clock.clone());
        Self(tokio::spawn(async move {
            let mut every = tokio::time::interval(HEARTBEAT);
            every.tick().await; // the first tick is now: the claim has just set the lease
            loop {
                every.tick().await;
                // Only a lease still held (never one released meanwhile).
                let renewed = calendars::Entity::update_many()
                    .col_expr(
                        calendars::Column::SyncLeaseUntil,
                        Expr::value(Some(clock.now() + LEASE)),
                    )
                    .filter(calendars::Column::Id.eq(calendar_id))
                    .filter(calendars::Column::SyncLeaseUntil.is_not_null())
                    .exec(&db)
                    .await;
                if let Err(e) = renewed {
                    // The next beat tries again; the lease has 30 s, three beats.
                    tracing::warn!(%calendar_id, error = %e, "could not renew a sync lease");
                }
            }
        }))
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn run_once(
    ctx: &AppContext,
    calendar_id: Uuid,
    trigger: Trigger,
) -> Result<Outcome, SyncError> {
    let Some(calendar) = calendars::Entity::find_by_id(calendar_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(Outcome::default());
    };
    let started = ctx.clock.now();
    // How long it took, for the metrics (a duration, not a "now": the monotonic clock).
    let timer = std::time::Instant::now();
    let run_id = Uuid::now_v7();
    sync_runs::ActiveModel {
        id: Set(run_id),
        calendar_id: Set(calendar.id),
        user_id: Set(calendar.user_id),
        trigger: Set(trigger.as_str().to_owned()),
        mode: Set(if calendar.sync_cursor.is_some() {
            "incremental"
        } else {
            "full"
        }
        .to_owned()),
        status: Set(SyncRunStatus::Running),
        started_at: Set(started),
        finished_at: Set(None),
        pages: Set(0),
        events_upserted: Set(0),
        events_deleted: Set(0),
        cursor_reset: Set(false),
        error: Set(None),
    }
    .insert(&ctx.db)
    .await?;

    let mut outcome = Outcome::default();
    let result = walk(ctx, &calendar, &mut outcome).await;
    let finished = ctx.clock.now();
    let error = result.as_ref().err().map(|e| e.to_string());
    // A series that repeats beyond the expansion cap syncs, but the user must hear that only
    // its first occurrences count (a feed "every second, forever" is not their schedule).
    let cut = match &result {
        Ok(()) => cut_series(ctx, &calendar).await?,
        Err(_) => Vec::new(),
    };
    // The run's record, the calendar's status and what the user is told, together.
    let txn = crate::db::begin_write(&ctx.db).await?;
    let mut row = calendars::ActiveModel {
        id: Set(calendar.id),
        updated_at: Set(finished),
        ..Default::default()
    };
    let mut failures = 0;
    match &result {
        Ok(()) => {
            row.sync_status = Set(SyncStatus::Idle);
            row.last_synced_at = Set(Some(finished));
            let mut warnings = outcome.warnings.clone();
            if !cut.is_empty() {
                warnings.push(cut_warning(&cut));
            }
            if !warnings.is_empty() {
                row.last_error = Set(Some(warnings.join("; ")));
                row.last_error_at = Set(Some(finished));
            } else if !(outcome.not_modified && calendar.consecutive_failures == 0) {
                // A feed that did not change keeps the warning its last read left (the error of
                // a failed run is cleared, though).
                row.last_error = Set(None);
            }
            row.consecutive_failures = Set(0);
            row.paused_until = Set(None);
            row.failing_since = Set(None);
        }
        Err(e) => {
            failures = calendar.consecutive_failures + 1;
            row.sync_status = Set(SyncStatus::Error);
            row.last_error = Set(error.clone());
            row.last_error_at = Set(Some(finished));
            row.consecutive_failures = Set(failures);
            if calendar.failing_since.is_none() {
                row.failing_since = Set(Some(finished));
            }
            // The circuit breaker: a calendar that keeps failing rests before the schedule
            // tries again (1, 2, 4 … 60 minutes). A user's "sync now" still goes through.
            if !matches!(e, SyncError::NeedsReauth) {
                let minutes = 1i64 << (failures - 1).clamp(0, 6);
                row.paused_until = Set(Some(finished + Duration::minutes(minutes.min(60))));
            }
        }
    }
    // The calendar's row before the run's (its child), the order `calendars::remove` locks in.
    match row.update(&txn).await {
        Ok(_) => {}
        Err(sea_orm::DbErr::RecordNotUpdated) => {
            // Removed while it ran: its runs and events went with it.
            tracing::info!(calendar = %calendar.id, "the calendar was removed during its sync");
            return Ok(outcome);
        }
        Err(e) => return Err(e.into()),
    }
    sync_runs::ActiveModel {
        id: Set(run_id),
        mode: Set(if outcome.full { "full" } else { "incremental" }.to_owned()),
        status: Set(if error.is_some() {
            SyncRunStatus::Failed
        } else {
            SyncRunStatus::Succeeded
        }),
        finished_at: Set(Some(finished)),
        pages: Set(outcome.pages as i32),
        events_upserted: Set(outcome.upserted as i32),
        events_deleted: Set(outcome.deleted as i32),
        cursor_reset: Set(outcome.cursor_reset),
        error: Set(error.clone()),
        ..Default::default()
    }
    .update(&txn)
    .await?;

    if result.is_ok() {
        // A good sync makes the calendar fresh again (after the write, never before).
        crate::version::touch_calendars(&txn, calendar.user_id).await?;
    }
    let notice = match &error {
        None if outcome.changed() => Some((
            notifications::Kind::CalendarSynced,
            serde_json::json!({"calendar_id": calendar.id, "added": outcome.added,
                "updated": outcome.updated, "removed": outcome.deleted}),
        )),
        None => None,
        Some(error) => Some((
            notifications::Kind::CalendarSyncFailed,
            serde_json::json!({"calendar_id": calendar.id, "error": error,
                "consecutive_failures": failures}),
        )),
    };
    if let Some((kind, data)) = &notice {
        notifications::record(&txn, calendar.user_id, *kind, data.clone(), finished).await?;
    }
    txn.commit().await?;
    crate::meters::sync_run(
        calendar.provider,
        if error.is_some() {
            "failed"
        } else {
            "succeeded"
        },
        timer.elapsed(),
        outcome.added,
        outcome.updated,
        outcome.deleted,
    );
    if notice.is_some() {
        crate::notifications::published(ctx, calendar.user_id).await;
    }
    if error.is_some() {
        crate::follow_up::alerts(ctx, calendar.user_id).await;
    }

    match &result {
        Ok(()) => tracing::info!(
            calendar = %calendar.id, trigger = trigger.as_str(), pages = outcome.pages,
            upserted = outcome.upserted, deleted = outcome.deleted, full = outcome.full,
            cursor_reset = outcome.cursor_reset, ms = (finished - started).num_milliseconds(),
            "calendar synced"
        ),
        Err(e) => tracing::warn!(calendar = %calendar.id, error = %e, "calendar sync failed"),
    }
    if outcome.changed() {
        crate::follow_up::availability_changed(ctx, calendar.user_id).await;
    }
    result.map(|()| outcome)
}

/// Titles of the calendar's series that repeat more often in the sync window than expansion
/// follows.
async fn cut_series(
    ctx: &AppContext,
    calendar: &calendars::Model,
) -> Result<Vec<String>, SyncError> {
    let w = window(ctx);
    let series: Vec<crate::series::EventTiming> = events::Entity::find()
        .filter(events::Column::CalendarId.eq(calendar.id))
        .filter(events::Column::Rrule.is_not_null())
        .into_partial_model()
        .all(&ctx.db)
        .await?;
    Ok(series
        .iter()
        .filter(|row| crate::series::is_cut(row, w.start, w.end))
        .map(|row| row.title.clone())
        .collect())
}

fn cut_warning(titles: &[String]) -> String {
    let named: Vec<String> = titles.iter().take(3).map(|t| format!("\"{t}\"")).collect();
    let more = titles.len().saturating_sub(named.len());
    format!(
        "{}{} repeat{} too often: only the first {} occurrences within the sync window count",
        named.join(", "),
        if more > 0 {
            format!(" and {more} more")
        } else {
            String::new()
        },
        if titles.len() == 1 { "s" } else { "" },
        domain::recurrence::MAX_OCCURRENCES,
    )
}

fn window(ctx: &AppContext) -> Window {
    let now = ctx.clock.now();
    Window {
        start: now - Duration::days(ctx.settings.sync_window_past_days as i64),
        end: now + Duration::days(ctx.settings.sync_window_future_days as i64),
        now,
    }
}

/// One round of pages, written as it goes.
async fn walk(
    ctx: &AppContext,
    calendar: &calendars::Model,
    outcome: &mut Outcome,
) -> Result<(), SyncError> {
    let connection_id = calendar.connection_id.ok_or_else(|| {
        SyncError::Internal(anyhow::anyhow!("a local calendar has nothing to sync"))
    })?;
    let mut connection = connections::Entity::find_by_id(connection_id)
        .one(&ctx.db)
        .await?
        .ok_or(SyncError::NeedsReauth)?;
    let provider = connection.provider;
    let source = ctx
        .providers
        .source(provider)
        .ok_or_else(|| SyncError::Internal(anyhow::anyhow!("{provider} has no client")))?;
    let window = window(ctx);
    let mut request = match &calendar.sync_cursor {
        Some(cursor) => SyncRequest::Since {
            cursor: cursor.clone(),
            window,
        },
        None => SyncRequest::Full { window },
    };
    outcome.full = matches!(request, SyncRequest::Full { .. });
    let mut secret = tokens::credential(ctx, &connection).await?;
    let mut refreshed = false;
    let mut attempt = 0;
    // Provider ids a full listing mentioned: everything else is gone once it ends.
    let mut seen: HashSet<String> = HashSet::new();
    let target = rows::Target {
        user_id: calendar.user_id,
        calendar_id: calendar.id,
        provider,
        calendar_zone: calendar.timezone.as_deref(),
        now: ctx.clock.now(),
    };
    // The next page, fetched while the previous one was being written.
    let mut prefetched: Option<Result<ChangePage, ProviderError>> = None;
    loop {
        let credential = match provider {
            Provider::Ics => Credential::Feed(&secret),
            Provider::CalDav => Credential::Login(&secret),
            _ => Credential::Bearer(&secret),
        };
        let fetched = match prefetched.take() {
            Some(fetched) => fetched,
            None => {
                source
                    .changes(credential, &calendar.provider_calendar_id, &request)
                    .await
            }
        };
        let page = match fetched {
            Ok(page) => page,
            Err(ProviderError::Unauthorized)
                if !refreshed && connection.refresh_token_enc.is_some() =>
            {
                refreshed = true;
                secret = tokens::refresh(ctx, &connection).await?;
                connection = connections::Entity::find_by_id(connection_id)
                    .one(&ctx.db)
                    .await?
                    .ok_or(SyncError::NeedsReauth)?;
                continue;
            }
            // A password refused (changed, or the app password revoked): only the user can fix it.
            Err(ProviderError::Unauthorized) if provider == Provider::CalDav => {
                return Err(tokens::refused(ctx, &connection).await.into());
            }
            Err(ProviderError::Gone) if !matches!(request, SyncRequest::Full { .. }) => {
                tracing::info!(calendar = %calendar.id, "the provider rejected the cursor; syncing fully");
                outcome.cursor_reset = true;
                outcome.full = true;
                seen.clear();
                request = SyncRequest::Full { window };
                continue;
            }
            Err(e) if e.is_retryable() && attempt + 1 < ATTEMPTS => {
                attempt += 1;
                let wait = backoff(&e, attempt);
                if wait > MAX_WAIT {
                    return Err(e.into());
                }
                tracing::info!(calendar = %calendar.id, error = %e, ?wait, "provider busy; retrying the page");
                tokio::time::sleep(wait).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        attempt = 0;
        outcome.pages += 1;
        let snapshot = page.snapshot || matches!(request, SyncRequest::Full { .. });
        let next = match &page.next {
            Next::Page(token) => Some(SyncRequest::Page {
                token: token.clone(),
                window,
            }),
            Next::Done(_) => None,
        };
        outcome.not_modified |= page.not_modified;
        outcome.warnings.extend(page.warnings.iter().cloned());
        let written = apply(
            ctx, calendar, &target, &window, page, snapshot, &mut seen, outcome,
        );
        let Some(next) = next else {
            return written.await;
        };
        // The provider's time and ours overlap: the next page is on its way while this one is
        // written. A failed fetch is handled by the next turn of the loop like any other.
        let (written, fetched) = tokio::join!(
            written,
            source.changes(credential, &calendar.provider_calendar_id, &next)
        );
        written?;
        prefetched = Some(fetched);
        request = next;
    }
}

/// Exponential backoff with jitter, or the provider's own `Retry-After`.
pub(crate) fn backoff(e: &ProviderError, attempt: u32) -> StdDuration {
    if let ProviderError::RateLimited {
        retry_after: Some(after),
    } = e
    {
        return *after;
    }
    let base = StdDuration::from_millis(500 * (1 << attempt.min(6)));
    let jitter = StdDuration::from_millis(u64::from(rand_u16()) % 500);
    base + jitter
}

fn rand_u16() -> u16 {
    let mut bytes = [0u8; 2];
    let _ = getrandom::fill(&mut bytes);
    u16::from_le_bytes(bytes)
}

/// Writes one page in one transaction; on the last page also the cursor (and, after a full
/// listing, the removal of what it did not mention).
#[allow(clippy::too_many_arguments)]
async fn apply(
    ctx: &AppContext,
    calendar: &calendars::Model,
    target: &rows::Target<'_>,
    window: &Window,
    page: ChangePage,
    snapshot: bool,
    seen: &mut HashSet<String>,
    outcome: &mut Outcome,
) -> Result<(), SyncError> {
    // The last word per id within a page wins (Graph may repeat an entity).
    let mut last: HashMap<String, Option<providers::RemoteEvent>> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    // Resources written whole: their prefix, and the ids they hold now.
    let mut resources: HashMap<String, HashSet<String>> = HashMap::new();
    // One event's last word: kept if it touches the window, else as good as gone for us.
    let keep = |e: providers::RemoteEvent| in_window_or_series(&e, window).then_some(e);
    let mut put = |id: &str, event: Option<providers::RemoteEvent>| {
        // Ids as they are stored (see `rows::text`), so a snapshot's listing matches its rows.
        let id = rows::text(id);
        if last.insert(id.clone(), event).is_none() {
            order.push(id);
        }
    };
    for change in page.changes {
        match change {
            Change::Upsert(e) => {
                let id = e.id.clone();
                put(&id, keep(*e));
            }
            Change::Delete { id } => put(&id, None),
            Change::Resource { prefix, events } => {
                let held = resources.entry(rows::text(&prefix)).or_default();
                for e in events {
                    let id = e.id.clone();
                    held.insert(rows::text(&id));
                    put(&id, keep(e));
                }
            }
        }
    }
    let mut upserts = Vec::new();
    let mut deletes = Vec::new();
    for id in order {
        match last.remove(&id).flatten() {
            Some(e) => {
                if snapshot {
                    seen.insert(id);
                }
                upserts.push(rows::to_row(target, &e));
            }
            None => deletes.push(id),
        }
    }
    let (cursor, done) = match page.next {
        Next::Done(cursor) => (cursor, true),
        Next::Page(_) => (None, false),
    };
    if page.not_modified {
        // Nothing to write; the run still counts as a success.
        return Ok(());
    }
    let txn = db::begin_write(&ctx.db).await?;
    if !done && txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        // A page before the last need not wait for its WAL flush: until the last page's
        // (synchronous) commit moves the cursor, a lost page is simply fetched again, and that
        // commit flushes everything written before it.
        txn.execute_unprepared("SET LOCAL synchronous_commit = off")
            .await?;
    }
    // The calendar's row first, then its events: every writer locks a calendar before its
    // children (`calendars::remove` too), so a page written while the calendar is being
    // deleted waits for the delete instead of deadlocking with it — and then finds it gone.
    let touched = if done {
        calendars::Entity::update_many()
            .col_expr(calendars::Column::SyncCursor, Expr::value(cursor))
    } else {
        // Still alive: keep the lease.
        calendars::Entity::update_many().col_expr(
            calendars::Column::SyncLeaseUntil,
            Expr::value(Some(ctx.clock.now() + LEASE)),
        )
    }
    .filter(calendars::Column::Id.eq(calendar.id))
    .exec(&txn)
    .await?
    .rows_affected;
    if touched == 0 {
        return Err(SyncError::CalendarGone);
    }
    // What the page's changes cover, for `availability.changed`: the rows it wrote, where they
    // are and were, and the rows it deletes.
    let mut spans: Vec<Span> = Vec::new();
    let written = rows::upsert(&txn, calendar.id, upserts).await?;
    let upserted = written.added + written.updated;
    spans.extend(written.span);
    let mut deleted = delete(&txn, calendar.id, &deletes, &mut spans).await?;
    // A resource rewritten or gone takes the events it no longer holds with it (a snapshot's
    // end does that for everything unseen anyway).
    if !resources.is_empty() && !snapshot {
        let stale: Vec<String> = rows::stored_ids(&txn, calendar.id)
            .await?
            .into_iter()
            .filter(|id| {
                let prefix = id
                    .split_once(providers::RESOURCE_SEPARATOR)
                    .map_or(id.as_str(), |(p, _)| p);
                resources.get(prefix).is_some_and(|held| !held.contains(id))
            })
            .collect();
        deleted += delete(&txn, calendar.id, &stale, &mut spans).await?;
    }
    if done && snapshot {
        let gone: Vec<String> = rows::stored_ids(&txn, calendar.id)
            .await?
            .into_iter()
            .filter(|id| !seen.contains(id))
            .collect();
        deleted += delete(&txn, calendar.id, &gone, &mut spans).await?;
    }
    if upserted > 0 || deleted > 0 {
        version::touch(&txn, calendar.user_id, Span::cover(spans)).await?;
    }
    txn.commit().await?;
    outcome.upserted += upserted;
    outcome.added += written.added;
    outcome.updated += written.updated;
    outcome.deleted += deleted;
    Ok(())
}

/// `rows::delete`, adding the span of what went to `spans`.
async fn delete(
    txn: &impl ConnectionTrait,
    calendar_id: Uuid,
    provider_ids: &[String],
    spans: &mut Vec<Span>,
) -> Result<u64, sea_orm::DbErr> {
    let deleted = rows::delete(txn, calendar_id, provider_ids).await?;
    spans.extend(deleted.span);
    Ok(deleted.count)
}

fn in_window_or_series(e: &providers::RemoteEvent, window: &Window) -> bool {
    rows::in_window(e, window)
}
