//! Cron ticks. A tick only enqueues; the job runs through the queue like any other.
//! The notifications tick reads which webhook messages (availability changes, task reminders)
//! are due and queues a job for each, so that a quiet
//! minute adds no job at all (a tick every five seconds would otherwise fill the queue's table).

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use apalis_cron::Tick;
use service::{AppContext, Job};

pub async fn on_cleanup_tick(_tick: Tick, ctx: Data<Arc<AppContext>>) -> Result<(), BoxDynError> {
    ctx.queue.push(Job::Housekeeping).await?;
    Ok(())
}

pub async fn on_token_tick(_tick: Tick, ctx: Data<Arc<AppContext>>) -> Result<(), BoxDynError> {
    ctx.queue.push(Job::RefreshTokens).await?;
    Ok(())
}

pub async fn on_sync_tick(_tick: Tick, ctx: Data<Arc<AppContext>>) -> Result<(), BoxDynError> {
    ctx.queue.push(Job::SyncDue).await?;
    Ok(())
}

pub async fn on_notifications_tick(
    _tick: Tick,
    ctx: Data<Arc<AppContext>>,
) -> Result<(), BoxDynError> {
    service::notifications::webhooks::delivery::enqueue_due(&ctx, None, ctx.clock.now()).await;
    service::notifications::availability::enqueue_due(&ctx, ctx.clock.now()).await;
    service::tasks::enqueue_due_reminders(&ctx, ctx.clock.now()).await;
    Ok(())
}
