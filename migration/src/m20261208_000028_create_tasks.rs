use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, drop, instant, instant_null, set_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tasks planned into free time (contract, "Tasks scheduled into free time"). A repeating task
/// (`rrule`) is one row per occurrence: `series_id` ties them together and `series_start` is the
/// first occurrence's due, where the rule is anchored; completing one writes the next.
/// `at_risk`/`unscheduled_minutes` are the last plan's verdict; `remind_at` is `due −
/// reminder_minutes` (indexed: the worker's tick looks for due reminders) and `reminded_at` when
/// `task.reminder` was told for this due.
#[derive(DeriveIden)]
pub enum Tasks {
    Table,
    Id,
    UserId,
    Title,
    Notes,
    DurationMinutes,
    Due,
    EarliestStart,
    Priority,
    Tags,
    MinChunkMinutes,
    MaxChunkMinutes,
    ClientId,
    ReminderMinutes,
    RemindAt,
    Rrule,
    SeriesId,
    SeriesStart,
    Status,
    CompletedAt,
    AtRisk,
    UnscheduledMinutes,
    RemindedAt,
    CreatedAt,
    UpdatedAt,
}

/// The plan: where each open task's pieces go.
#[derive(DeriveIden)]
pub enum TaskBlocks {
    Table,
    Id,
    TaskId,
    UserId,
    StartAt,
    EndAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
}

/// Which task blocks count as busy (`busy`, `at_risk`, `free`).
#[derive(DeriveIden)]
enum AvailabilityRules {
    Table,
    TaskBlocks,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Tasks as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(pk_uuid(T::Id))
                    .col(uuid(T::UserId))
                    .col(text(T::Title))
                    .col(text_null(T::Notes))
                    .col(integer(T::DurationMinutes))
                    .col(instant_null(T::Due))
                    .col(instant_null(T::EarliestStart))
                    .col(integer(T::Priority))
                    .col(json(T::Tags))
                    .col(integer(T::MinChunkMinutes))
                    .col(integer(T::MaxChunkMinutes))
                    .col(uuid_null(T::ClientId))
                    .col(integer_null(T::ReminderMinutes))
                    .col(instant_null(T::RemindAt))
                    .col(text_null(T::Rrule))
                    .col(uuid_null(T::SeriesId))
                    .col(instant_null(T::SeriesStart))
                    .col(string(T::Status))
                    .col(instant_null(T::CompletedAt))
                    .col(boolean(T::AtRisk).default(false))
                    .col(integer(T::UnscheduledMinutes).default(0))
                    .col(instant_null(T::RemindedAt))
                    .col(instant(T::CreatedAt))
                    .col(instant(T::UpdatedAt))
                    .foreign_key(&mut cascade(T::Table, T::UserId, Users::Table))
                    .foreign_key(&mut set_null(T::Table, T::ClientId, Clients::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tasks_user_status")
                    .table(T::Table)
                    .col(T::UserId)
                    .col(T::Status)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_tasks_remind_at")
                    .table(T::Table)
                    .col(T::RemindAt)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AvailabilityRules::Table)
                    .add_column(
                        ColumnDef::new(AvailabilityRules::TaskBlocks)
                            .string()
                            .not_null()
                            .default("at_risk"),
                    )
                    .to_owned(),
            )
            .await?;
        use TaskBlocks as B;
        manager
            .create_table(
                Table::create()
                    .table(B::Table)
                    .col(pk_uuid(B::Id))
                    .col(uuid(B::TaskId))
                    .col(uuid(B::UserId))
                    .col(instant(B::StartAt))
                    .col(instant(B::EndAt))
                    .foreign_key(&mut cascade(B::Table, B::TaskId, T::Table))
                    .foreign_key(&mut cascade(B::Table, B::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_task_blocks_user_start")
                    .table(B::Table)
                    .col(B::UserId)
                    .col(B::StartAt)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, TaskBlocks::Table).await?;
        drop(manager, Tasks::Table).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(AvailabilityRules::Table)
                    .drop_column(AvailabilityRules::TaskBlocks)
                    .to_owned(),
            )
            .await
    }
}
