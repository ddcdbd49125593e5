//! Background jobs and the queue that carries them.
//!
//! With `REDIS_URL` the queue is apalis on Redis; without it the jobs live in the application's own
//! database (apalis-sqlite or apalis-postgres on the same connection pool), so the embedded mode
//! needs no other server. Producers only see [`JobQueue::push`].

use std::time::Duration;

use apalis::prelude::TaskSink;
use apalis_postgres::PostgresStorage;
use apalis_redis::RedisStorage;
use apalis_sqlite::SqliteStorage;
use sea_orm::{DatabaseConnection, DbBackend};
use serde::{Deserialize, Serialize};

/// Every job the worker knows. Serialized as JSON into the queue, so variants keep their names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Job {
    /// The daily housekeeping: expired OAuth states, old sync runs and resolved conflicts,
    /// stale login failures. Queued under its first name, which was only the first of these.
    #[serde(rename = "purge_expired_oauth_states")]
    Housekeeping,
    /// Re-detect one user's conflicts after their events changed.
    DetectConflicts { user_id: uuid::Uuid },
    /// Refresh OAuth access tokens that expire within ten minutes.
    RefreshTokens,
    /// Bring one calendar up to date with its provider.
    SyncCalendar {
        calendar_id: uuid::Uuid,
        trigger: Trigger,
    },
    /// Enqueue a sync for every calendar the schedule finds due, and renew push channels that
    /// expire soon.
    SyncDue,
    /// Open (or replace) a calendar's push channel at its provider.
    OpenChannel { calendar_id: uuid::Uuid },
    /// Send one user's availability to their Cal.com schedule (if it changed).
    ExportCalcom { user_id: uuid::Uuid },
    /// E-mail the user about what their new notifications call for (`service::alerts`).
    SendAlerts { user_id: uuid::Uuid },
    /// Tell a task's reminder (`tasks::remind`).
    RemindTask { task_id: uuid::Uuid },
    /// Plan the user's open tasks again (`tasks::plan`).
    PlanTasks { user_id: uuid::Uuid },
    /// Tell the user's pending availability change (`notifications::availability`).
    TellAvailability { user_id: uuid::Uuid },
    /// One attempt to deliver a webhook message (`notifications::webhooks::delivery`).
    DeliverWebhook { message_id: uuid::Uuid },
}

impl Job {
    /// The job's kind, as metrics label it (`freeslot_jobs_total{job}`).
    pub fn name(&self) -> &'static str {
        match self {
            Job::Housekeeping => "housekeeping",
            Job::DetectConflicts { .. } => "detect_conflicts",
            Job::RefreshTokens => "refresh_tokens",
            Job::SyncCalendar { .. } => "sync_calendar",
            Job::SyncDue => "sync_due",
            Job::OpenChannel { .. } => "open_channel",
            Job::ExportCalcom { .. } => "export_calcom",
            Job::SendAlerts { .. } => "send_alerts",
            Job::RemindTask { .. } => "remind_task",
            Job::PlanTasks { .. } => "plan_tasks",
            Job::TellAvailability { .. } => "tell_availability",
            Job::DeliverWebhook { .. } => "deliver_webhook",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
/// Why a calendar syncs; carried by its job and recorded on its run.
pub enum Trigger {
    /// Right after the calendar was connected.
    Connect,
    /// `POST /api/calendars/{id}/sync`.
    Manual,
    Schedule,
    Push,
    /// The previous run was asked for again while it ran.
    Pending,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Connect => "connect",
            Trigger::Manual => "manual",
            Trigger::Schedule => "schedule",
            Trigger::Push => "push",
            Trigger::Pending => "pending",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("the job queue (redis) is unreachable: {0}")]
    Redis(String),
    #[error("the job queue (database) failed: {0}")]
    Database(String),
    #[error("the job queue did not answer within {0:?}")]
    Timeout(Duration),
}

/// How long a push or a readiness check may take before the queue counts as down.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub enum JobQueue {
    Redis(RedisStorage<Job>),
    Sqlite(SqliteStorage<Job>),
    Postgres(PostgresStorage<Job>),
}

impl std::fmt::Debug for JobQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            JobQueue::Redis(_) => "JobQueue::Redis",
            JobQueue::Sqlite(_) => "JobQueue::Sqlite",
            JobQueue::Postgres(_) => "JobQueue::Postgres",
        })
    }
}

impl JobQueue {
    /// Connects the queue named `queue` (one name per deployment; tests use one per test).
    pub async fn connect(
        redis_url: Option<&str>,
        db: &DatabaseConnection,
        queue: &str,
    ) -> Result<Self, QueueError> {
        if let Some(url) = redis_url {
            let conn = tokio::time::timeout(QUEUE_TIMEOUT, apalis_redis::connect(url))
                .await
                .map_err(|_| QueueError::Timeout(QUEUE_TIMEOUT))?
                .map_err(|e| QueueError::Redis(e.to_string()))?;
            let config = apalis_redis::Config::default().queue(queue);
            return Ok(JobQueue::Redis(RedisStorage::new(conn).with_config(config)));
        }
        match db.get_database_backend() {
            DbBackend::Sqlite => {
                let pool = db.get_sqlite_connection_pool();
                // Only the migrations: `SqliteStorage::setup` would also turn off fsync for the
                // whole connection, which the application's own tables must not inherit.
                SqliteStorage::migrations()
                    .run(pool)
                    .await
                    .map_err(|e| QueueError::Database(e.to_string()))?;
                let config = apalis_sqlite::Config::default().queue(queue);
                Ok(JobQueue::Sqlite(
                    SqliteStorage::new(pool).with_config(config),
                ))
            }
            DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                PostgresStorage::setup(pool)
                    .await
                    .map_err(|e| QueueError::Database(e.to_string()))?;
                let config = apalis_postgres::Config::default().queue(queue);
                Ok(JobQueue::Postgres(
                    PostgresStorage::new(pool).with_config(config),
                ))
            }
            other => Err(QueueError::Database(format!(
                "unsupported database {other:?}"
            ))),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            JobQueue::Redis(_) => "redis",
            JobQueue::Sqlite(_) => "sqlite",
            JobQueue::Postgres(_) => "postgres",
        }
    }

    pub async fn push(&self, job: Job) -> Result<(), QueueError> {
        let pushed = async {
            match self {
                JobQueue::Redis(s) => s
                    .clone()
                    .push(job)
                    .await
                    .map_err(|e| QueueError::Redis(e.to_string())),
                JobQueue::Sqlite(s) => s
                    .clone()
                    .push(job)
                    .await
                    .map_err(|e| QueueError::Database(e.to_string())),
                JobQueue::Postgres(s) => s
                    .clone()
                    .push(job)
                    .await
                    .map_err(|e| QueueError::Database(e.to_string())),
            }
        };
        tokio::time::timeout(QUEUE_TIMEOUT, pushed)
            .await
            .map_err(|_| QueueError::Timeout(QUEUE_TIMEOUT))?
    }

    /// Reachability for `/ready`. A database-backed queue is as reachable as the database.
    pub async fn ping(&self, db: &DatabaseConnection) -> Result<(), QueueError> {
        let check = async {
            match self {
                JobQueue::Redis(s) => {
                    let mut conn = s.clone().get_connection().clone();
                    redis::cmd("PING")
                        .query_async::<String>(&mut conn)
                        .await
                        .map(drop)
                        .map_err(|e| QueueError::Redis(e.to_string()))
                }
                JobQueue::Sqlite(_) | JobQueue::Postgres(_) => db
                    .ping()
                    .await
                    .map_err(|e| QueueError::Database(e.to_string())),
            }
        };
        tokio::time::timeout(QUEUE_TIMEOUT, check)
            .await
            .map_err(|_| QueueError::Timeout(QUEUE_TIMEOUT))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_serialize_with_a_stable_tag() {
        let json = serde_json::to_string(&Job::Housekeeping).unwrap();
        assert_eq!(json, r#"{"type":"purge_expired_oauth_states"}"#);
        assert_eq!(
            serde_json::from_str::<Job>(&json).unwrap(),
            Job::Housekeeping
        );
    }
}
