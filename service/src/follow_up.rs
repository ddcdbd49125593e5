//! What follows a change to a user's events, rules or calendars: conflicts are detected again
//! and, when the user switched the automatic export on, Cal.com gets the new schedule. Neither
//! fails the change: a queue outage only delays them (reading conflicts refreshes them too, and
//! the schedule looks for due exports every minute).

use uuid::Uuid;

use crate::{AppContext, Job};

pub async fn availability_changed(ctx: &AppContext, user_id: Uuid) {
    if let Err(e) = ctx.queue.push(Job::DetectConflicts { user_id }).await {
        tracing::warn!(%user_id, error = %e, "could not enqueue conflict detection");
    }
    crate::export::after_change(ctx, user_id).await;
}
