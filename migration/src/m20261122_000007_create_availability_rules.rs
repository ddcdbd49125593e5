use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop, updated_at};
use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row per user who saved rules; a user without one has the contract's defaults.
#[derive(DeriveIden)]
pub enum AvailabilityRules {
    Table,
    UserId,
    Timezone,
    /// {"monday": [{"start": "09:00", "end": "17:00"}], ...}
    Weekly,
    /// ["2026-12-24", ...]
    DaysOff,
    BufferBeforeMinutes,
    BufferAfterMinutes,
    MinimumNoticeMinutes,
    SlotIntervalMinutes,
    TentativeIsBusy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AvailabilityRules as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(pk_uuid(A::UserId))
                    .col(string(A::Timezone))
                    .col(json(A::Weekly))
                    .col(json(A::DaysOff))
                    .col(integer(A::BufferBeforeMinutes).default(0))
                    .col(integer(A::BufferAfterMinutes).default(0))
                    .col(integer(A::MinimumNoticeMinutes).default(0))
                    .col(integer(A::SlotIntervalMinutes).default(30))
                    .col(boolean(A::TentativeIsBusy).default(true))
                    .col(created_at())
                    .col(updated_at())
                    .foreign_key(&mut cascade(A::Table, A::UserId, Users::Table))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, AvailabilityRules::Table).await
    }
}
