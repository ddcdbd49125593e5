//! The worker: job handlers and schedules, on apalis.
//!
//! One worker consumes the job queue (Redis, or the database in the embedded mode); cron workers
//! only enqueue jobs, so that the work itself always runs through the queue, with its retries,
//! whichever process's schedule fired.

mod handlers;
mod schedules;

use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use apalis::prelude::*;
use apalis_cron::CronScheduler;
use service::{AppContext, JobQueue};

pub use handlers::handle_job;

#[derive(Clone, Debug)]
pub struct WorkerOptions {
    /// Cron expression with seconds (`sec min hour day month weekday`) for the clean-up.
    pub cleanup_schedule: String,
    /// How often an idle worker looks for new jobs.
    pub poll_interval: Duration,
    /// How long in-flight jobs may take to finish after a shutdown signal.
    pub shutdown_timeout: Duration,
}

impl Default for WorkerOptions {
    fn default() -> Self {
        Self {
            cleanup_schedule: "0 */10 * * * *".to_owned(),
            poll_interval: Duration::from_millis(500),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    #[error("invalid cron schedule `{0}`: {1}")]
    Schedule(String, String),
    #[error("the worker stopped with an error: {0}")]
    Monitor(String),
}

/// Runs until `shutdown` resolves, then lets in-flight jobs finish (up to the shutdown timeout).
pub async fn run(
    ctx: Arc<AppContext>,
    options: WorkerOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), WorkerError> {
    let cleanup = cron::Schedule::from_str(&options.cleanup_schedule)
        .map_err(|e| WorkerError::Schedule(options.cleanup_schedule.clone(), e.to_string()))?;

    let monitor = Monitor::new().shutdown_timeout(options.shutdown_timeout);
    let monitor = register_queue_worker(monitor, &ctx, options.poll_interval);
    let monitor = {
        let ctx = ctx.clone();
        monitor.register(move |_| {
            WorkerBuilder::new("freeslot-cron-cleanup")
                .backend(CronScheduler::new(cleanup.clone()))
                .data(ctx.clone())
                .build(schedules::on_cleanup_tick)
        })
    };
    tracing::info!(queue = ctx.queue.backend_name(), "worker started");
    monitor
        .run_with_signal(async move {
            shutdown.await;
            tracing::info!("worker stopping: finishing in-flight jobs");
            Ok(())
        })
        .await
        .map_err(|e| WorkerError::Monitor(e.to_string()))
}

/// The queue's storage type differs per backend, so each gets its own (identical) registration.
fn register_queue_worker(monitor: Monitor, ctx: &Arc<AppContext>, poll: Duration) -> Monitor {
    macro_rules! register {
        ($storage:expr) => {{
            let storage = $storage.clone();
            let ctx = ctx.clone();
            monitor.register(move |_| {
                WorkerBuilder::new("freeslot-jobs")
                    .backend(storage.clone().poll_with_interval(poll))
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
