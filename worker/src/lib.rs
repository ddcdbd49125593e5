//! The worker: job handlers and schedules, on apalis.
//!
//! One worker consumes the job queue (Redis, or the database in the embedded mode); cron workers
//! only enqueue jobs, so that the work itself always runs through the queue, with its retries,
//! whichever process's schedule fired.

mod handlers;
mod poll;
mod schedules;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_cron::CronScheduler;
use service::{AppContext, JobQueue};
use tokio::sync::watch;

pub use handlers::handle_job;

#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Cron expression with seconds (`sec min hour day month weekday`) for the clean-up.
    pub cleanup_schedule: String,
    /// Cron expression for refreshing OAuth tokens that expire soon.
    pub token_refresh_schedule: String,
    /// Cron expression for looking for calendars due a periodic sync.
    pub sync_schedule: String,
    /// Cron expression for looking for webhook messages due an attempt (retries come due here)
    /// and availability changes that had to wait their five seconds.
    pub webhook_schedule: String,
    /// How often an idle worker looks for new jobs.
    pub poll_interval: Duration,
    /// How long in-flight jobs may take to finish after a shutdown signal.
    pub shutdown_timeout: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            cleanup_schedule: "0 */10 * * * *".to_owned(),
            token_refresh_schedule: "30 * * * * *".to_owned(),
            sync_schedule: "0 * * * * *".to_owned(),
            webhook_schedule: "*/5 * * * * *".to_owned(),
            poll_interval: Duration::from_millis(500),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("invalid cron schedule `{0}`: {1}")]
    Schedule(String, String),
}

/// Runs until `stop` becomes true, then lets in-flight jobs finish (up to the shutdown timeout).
///
/// Each apalis worker runs under its own supervisor: when its backend fails (Redis gone, the
/// database restarting) it is rebuilt after a growing pause instead of staying dead, and the
/// other workers carry on meanwhile.
pub async fn run(
    ctx: Arc<AppContext>,
    options: WorkerOptions,
    stop: watch::Receiver<bool>,
) -> Result<(), WorkerError> {
    let cleanup = cron::Schedule::from_str(&options.cleanup_schedule)
        .map_err(|e| WorkerError::Schedule(options.cleanup_schedule.clone(), e.to_string()))?;
    let tokens = cron::Schedule::from_str(&options.token_refresh_schedule).map_err(|e| {
        WorkerError::Schedule(options.token_refresh_schedule.clone(), e.to_string())
    })?;
    let syncs = cron::Schedule::from_str(&options.sync_schedule)
        .map_err(|e| WorkerError::Schedule(options.sync_schedule.clone(), e.to_string()))?;
    let webhooks = cron::Schedule::from_str(&options.webhook_schedule)
        .map_err(|e| WorkerError::Schedule(options.webhook_schedule.clone(), e.to_string()))?;
    tracing::info!(queue = ctx.queue.backend_name(), "worker started");

    let queue = supervise("freeslot-jobs", &options, stop.clone(), |name| {
        register_queue_worker(Monitor::new(), &ctx, options.poll_interval, name)
    });
    let cron = supervise("freeslot-cron", &options, stop, |name| {
        let (ctx, ctx2, ctx3, ctx4) = (ctx.clone(), ctx.clone(), ctx.clone(), ctx.clone());
        let (cleanup, tokens, syncs) = (cleanup.clone(), tokens.clone(), syncs.clone());
        let webhooks = webhooks.clone();
        let tokens_name = format!("{name}-tokens");
        let syncs_name = format!("{name}-syncs");
        let webhooks_name = format!("{name}-webhooks");
        Monitor::new()
            .register(move |_| {
                WorkerBuilder::new(format!("{name}-cleanup"))
                    .backend(CronScheduler::new(cleanup.clone()))
                    .data(ctx.clone())
                    .build(schedules::on_cleanup_tick)
            })
            .register(move |_| {
                WorkerBuilder::new(tokens_name.clone())
                    .backend(CronScheduler::new(tokens.clone()))
                    .data(ctx2.clone())
                    .build(schedules::on_token_tick)
            })
            .register(move |_| {
                WorkerBuilder::new(syncs_name.clone())
                    .backend(CronScheduler::new(syncs.clone()))
                    .data(ctx3.clone())
                    .build(schedules::on_sync_tick)
            })
            .register(move |_| {
                WorkerBuilder::new(webhooks_name.clone())
                    .backend(CronScheduler::new(webhooks.clone()))
                    .data(ctx4.clone())
                    .build(schedules::on_notifications_tick)
            })
    });
    tokio::join!(queue, cron);
    tracing::info!("worker stopped");
    Ok(())
}

const MAX_BACKOFF: Duration = Duration::from_secs(30);

async fn supervise(
    role: &'static str,
    options: &WorkerOptions,
    mut stop: watch::Receiver<bool>,
    build: impl Fn(String) -> Monitor,
) {
    let mut backoff = Duration::from_secs(1);
    loop {
        if *stop.borrow() {
            return;
        }
        // A fresh name per run: the SQL backends refuse a name whose last heartbeat is recent,
        // which a restarted process (or a second worker process) would otherwise reuse.
        let name = format!(
            "{role}-{}-{}",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let monitor = build(name.clone());
        let control = monitor.context();
        let started = tokio::time::Instant::now();
        let mut run = std::pin::pin!(monitor.run());
        let ended = tokio::select! {
            ended = &mut run => Some(ended),
            _ = stop.wait_for(|s| *s) => None,
        };
        let Some(ended) = ended else {
            let _ = control.shutdown();
            match tokio::time::timeout(options.shutdown_timeout, run).await {
                Ok(_) => tracing::debug!(worker = %name, "stopped after finishing its jobs"),
                Err(_) => {
                    tracing::warn!(worker = %name, "jobs still running at the shutdown timeout were abandoned; the queue will hand them out again")
                }
            }
            return;
        };
        if started.elapsed() > MAX_BACKOFF * 2 {
            backoff = Duration::from_secs(1);
        }
        match ended {
            Ok(()) => tracing::warn!(worker = %name, ?backoff, "worker ended; restarting"),
            Err(e) => {
                tracing::warn!(worker = %name, error = %e, ?backoff, "worker failed; restarting")
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.wait_for(|s| *s) => return,
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// The queue's storage type differs per backend, so each gets its own (identical) registration.
fn register_queue_worker(
    monitor: Monitor,
    ctx: &Arc<AppContext>,
    poll: Duration,
    name: String,
) -> Monitor {
    macro_rules! register {
        ($storage:expr) => {{
            let storage = $storage.clone();
            let ctx = ctx.clone();
            monitor.register(move |_| {
                WorkerBuilder::new(name.clone())
                    .backend(
                        storage
                            .clone()
                            .poll_with_strategy(poll::EveryInterval::new(poll)),
                    )
                    .data(ctx.clone())
                    .build(handle_job)
            })
        }};
    }
    match &ctx.queue {
        JobQueue::Redis(s) => register!(s),
        JobQueue::Sqlite(s) => register!(s),
        JobQueue::Postgres(s) => register!(s),
    }
}
