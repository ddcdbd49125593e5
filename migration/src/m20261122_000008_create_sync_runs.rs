use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, drop, instant, instant_null};
use crate::m20261122_000001_create_users::Users;
use crate::m20261122_000003_create_calendars::Calendars;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// History of sync runs, one row per run.
#[derive(DeriveIden)]
pub enum SyncRuns {
    Table,
    Id,
    CalendarId,
    UserId,
    /// initial | schedule | push | manual
    Trigger,
    /// full | incremental
    Mode,
    /// running | succeeded | failed
    Status,
    StartedAt,
    FinishedAt,
    Pages,
    EventsUpserted,
    EventsDeleted,
    /// The provider rejected the cursor and the run fell back to a full resync.
    CursorReset,
    Error,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use SyncRuns as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(pk_uuid(S::Id))
                    .col(uuid(S::CalendarId))
                    .col(uuid(S::UserId))
                    .col(string(S::Trigger))
                    .col(string(S::Mode))
                    .col(string(S::Status))
                    .col(instant(S::StartedAt))
                    .col(instant_null(S::FinishedAt))
                    .col(integer(S::Pages).default(0))
                    .col(integer(S::EventsUpserted).default(0))
                    .col(integer(S::EventsDeleted).default(0))
                    .col(boolean(S::CursorReset).default(false))
                    .col(text_null(S::Error))
                    .foreign_key(&mut cascade(S::Table, S::CalendarId, Calendars::Table))
                    .foreign_key(&mut cascade(S::Table, S::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sync_runs_calendar_started")
                    .table(S::Table)
                    .col(S::CalendarId)
                    .col(S::StartedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, SyncRuns::Table).await
    }
}
