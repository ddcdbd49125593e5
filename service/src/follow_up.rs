//! What follows a change to a user's events, rules or calendars: conflicts are detected again,
//! the change is told (`availability.changed`) and, when the user switched the automatic export
//! on, Cal.com gets the new schedule. All only enqueue jobs (the worker does the work), and none
//! fails the change: a queue outage only delays them (reading conflicts refreshes them too, the
//! worker's tick finds untold availability changes, and the schedule looks for due exports every
//! minute).
//!
//! Architecture invariant: this module enqueues and reads settings; it calls no use-case.

use entity::calcom_exports;
use sea_orm::EntityTrait;
use uuid::Uuid;

use crate::{AppContext, Job};

pub async fn availability_changed(ctx: &AppContext, user_id: Uuid) {
    if let Err(e) = ctx.queue.push(Job::DetectConflicts { user_id }).await {
        tracing::warn!(%user_id, error = %e, "could not enqueue conflict detection");
    }
    // The worker's tick finds the change too, should this be lost.
    if let Err(e) = ctx.queue.push(Job::TellAvailability { user_id }).await {
        tracing::warn!(%user_id, error = %e, "could not enqueue the availability notification");
    }
    // Free time moved: so may the plan.
    if let Err(e) = ctx.queue.push(Job::PlanTasks { user_id }).await {
        tracing::warn!(%user_id, error = %e, "could not enqueue a task re-plan");
    }
    export_if_automatic(ctx, user_id).await;
}

/// What follows a new plan: its blocks may count as busy, so the change is told, conflicts with
/// blocks are looked for again (a moved block leaves the meeting it was under) and the export
/// follows — but no re-plan (the plan is what changed).
pub async fn plan_changed(ctx: &AppContext, user_id: Uuid) {
    if let Err(e) = ctx.queue.push(Job::DetectConflicts { user_id }).await {
        tracing::warn!(%user_id, error = %e, "could not enqueue conflict detection");
    }
    if let Err(e) = ctx.queue.push(Job::TellAvailability { user_id }).await {
        tracing::warn!(%user_id, error = %e, "could not enqueue the availability notification");
    }
    export_if_automatic(ctx, user_id).await;
}

/// Queues a Cal.com export if the user switched the automatic export on.
pub async fn export_if_automatic(ctx: &AppContext, user_id: Uuid) {
    let auto = calcom_exports::Entity::find_by_id(user_id)
        .one(&ctx.db)
        .await
        .map(|row| row.is_some_and(|r| r.auto_export));
    match auto {
        Ok(true) => {
            if let Err(e) = ctx.queue.push(Job::ExportCalcom { user_id }).await {
                tracing::warn!(%user_id, error = %e, "could not enqueue a Cal.com export");
            }
        }
        Ok(false) => {}
        Err(e) => tracing::warn!(%user_id, error = %e, "could not read the export settings"),
    }
}

/// Queues the e-mail alerts job after a notification that may call for one (a connection that
/// needs reconnecting, a failed sync), when e-mail alerts are configured. A lost job only delays
/// the e-mail: the next one reads every notification since the last it looked at.
pub async fn alerts(ctx: &AppContext, user_id: Uuid) {
    if ctx.settings.alerts.is_none() {
        return;
    }
    if let Err(e) = ctx.queue.push(Job::SendAlerts { user_id }).await {
        tracing::warn!(%user_id, error = %e, "could not enqueue e-mail alerts");
    }
}
