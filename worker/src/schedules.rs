//! Cron ticks. A tick only enqueues; the job runs through the queue like any other.

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
