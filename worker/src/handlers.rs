//! What the worker does with each job. Handlers are thin: the work lives in `service`.

use std::sync::Arc;

use apalis::prelude::{BoxDynError, Data};
use chrono::Utc;
use service::{AppContext, Job, conflicts, connections, maintenance};

pub async fn handle_job(job: Job, ctx: Data<Arc<AppContext>>) -> Result<(), BoxDynError> {
    tracing::debug!(?job, "job started");
    match job {
        Job::PurgeExpiredOauthStates => {
            maintenance::purge_expired_oauth_states(&ctx.db, Utc::now()).await?;
        }
        Job::DetectConflicts { user_id } => {
            conflicts::refresh(&ctx.db, user_id, Utc::now()).await?;
        }
        Job::RefreshTokens => {
            connections::tokens::refresh_due(&ctx, Utc::now()).await?;
        }
    }
    Ok(())
}
