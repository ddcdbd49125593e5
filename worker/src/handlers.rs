//! What the worker does with each job. Handlers are thin: the work lives in `service`.

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use service::{AppContext, Job, conflicts, connections, export, maintenance, push, sync};

pub async fn handle_job(job: Job, ctx: Data<Arc<AppContext>>) -> Result<(), BoxDynError> {
    tracing::debug!(?job, "job started");
    match job {
        // The clean-up job (its name predates the other housekeeping it now does).
        Job::PurgeExpiredOauthStates => {
            maintenance::purge_expired_oauth_states(&ctx.db, ctx.clock.now()).await?;
            maintenance::purge_history(&ctx.db, ctx.clock.now()).await?;
            service::users::throttle::purge(&ctx.db, ctx.clock.now()).await?;
        }
        Job::DetectConflicts { user_id } => {
            conflicts::refresh(&ctx.db, user_id, ctx.clock.now()).await?;
        }
        Job::RefreshTokens => {
            connections::tokens::refresh_due(&ctx, ctx.clock.now()).await?;
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
            push::renew_due(&ctx, ctx.clock.now()).await?;
            export::export_due(&ctx, ctx.clock.now()).await?;
        }
        Job::OpenChannel { calendar_id } => {
            // Without a channel the schedule still syncs; a failure is logged, not retried.
            if let Err(e) = push::open_channel(&ctx, calendar_id).await {
                tracing::warn!(%calendar_id, error = %e, "could not open a push channel");
            }
        }
        Job::ExportCalcom { user_id } => {
            // Failures are recorded with the export (last error, when to try again).
            if let Err(e) = export::push_calcom(&ctx, user_id, ctx.clock.now()).await {
                tracing::debug!(%user_id, error = %e, "Cal.com export ended with an error");
            }
        }
    }
    Ok(())
}
