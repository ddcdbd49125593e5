//! What the worker does with each job. Handlers are thin: the work lives in `service`.

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use service::{AppContext, Job, channels, conflicts, credentials, export, maintenance, sync};

/// Runs the job on a task of its own, so that it finishes even when the worker that fetched it
/// is torn down meanwhile (apalis drops a worker's in-flight futures when its backend fails, as
/// in a Redis outage): a sync cut off between its last write and letting go of the calendar's
/// lease would leave the calendar locked until the lease lapsed. Jobs are idempotent, so one the
/// queue hands out again after such a loss only repeats finished work.
pub async fn handle_job(job: Job, ctx: Data<Arc<AppContext>>) -> Result<(), BoxDynError> {
    let ctx: Arc<AppContext> = Arc::clone(&ctx);
    let name = job.name();
    let result = tokio::spawn(run(job, ctx)).await?;
    service::meters::job(
        name,
        if result.is_ok() {
            "succeeded"
        } else {
            "failed"
        },
    );
    result
}

async fn run(job: Job, ctx: Arc<AppContext>) -> Result<(), BoxDynError> {
    tracing::debug!(?job, "job started");
    match job {
        // The clean-up job (its name predates the other housekeeping it now does).
        Job::Housekeeping => {
            maintenance::purge_expired_oauth_states(&ctx.db, ctx.clock.now()).await?;
            maintenance::purge_history(&ctx.db, ctx.clock.now()).await?;
            maintenance::purge_access(&ctx.db, ctx.clock.now()).await?;
            // Time moves the plan's horizon: tasks it could not place may fit now.
            service::tasks::plan::enqueue_unscheduled(&ctx).await?;
        }
        Job::DetectConflicts { user_id } => {
            conflicts::refresh(&ctx, user_id, ctx.clock.now()).await?;
        }
        Job::RefreshTokens => {
            credentials::tokens::refresh_due(&ctx, ctx.clock.now()).await?;
        }
        Job::SyncCalendar {
            calendar_id,
            trigger,
        } => {
            // A failed sync is recorded on the calendar (status, error, pause) and retried by
            // the schedule; the job itself is done either way.
            if let Err(e) = sync::run(&ctx, calendar_id, trigger).await {
                tracing::debug!(%calendar_id, error = %e, "sync ended with an error");
            }
        }
        Job::SyncDue => {
            sync::schedule::enqueue_due(&ctx, ctx.clock.now()).await?;
            channels::renew_due(&ctx, ctx.clock.now()).await?;
            export::export_due(&ctx, ctx.clock.now()).await?;
        }
        Job::OpenChannel { calendar_id } => {
            // Without a channel the schedule still syncs; a failure is logged, not retried.
            if let Err(e) = channels::open_channel(&ctx, calendar_id).await {
                tracing::warn!(%calendar_id, error = %e, "could not open a push channel");
            }
        }
        Job::RemindTask { task_id } => {
            service::tasks::remind(&ctx, task_id).await?;
        }
        Job::PlanTasks { user_id } => {
            service::tasks::plan::replan(&ctx, user_id).await?;
        }
        Job::TellAvailability { user_id } => {
            service::notifications::availability::tell(&ctx, user_id).await?;
        }
        Job::DeliverWebhook { message_id } => {
            // The outcome (delivered, retry, given up) is recorded with the message.
            service::notifications::webhooks::delivery::deliver(&ctx, message_id).await?;
        }
        Job::SendAlerts { user_id } => {
            service::alerts::send_pending(&ctx, user_id).await?;
        }
        Job::ExportCalcom { user_id } => {
            // Failures are recorded with the export (last error, when to try again).
            if let Err(e) = export::push_calcom(
                &ctx,
                user_id,
                service::audit::Actor::Worker,
                ctx.clock.now(),
            )
            .await
            {
                tracing::debug!(%user_id, error = %e, "Cal.com export ended with an error");
            }
        }
    }
    Ok(())
}
