use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{drop, instant};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Failed logins, per email address, for the login throttle: one row per failure, kept for
/// the throttle's window. Unknown addresses count too (a lockout must not tell them apart), so
/// the address is stored as a SHA-256, not in clear.
#[derive(DeriveIden)]
pub enum LoginFailures {
    Table,
    Id,
    EmailHash,
    FailedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use LoginFailures as L;
        manager
            .create_table(
                Table::create()
                    .table(L::Table)
                    .col(pk_uuid(L::Id))
                    .col(string(L::EmailHash))
                    .col(instant(L::FailedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_login_failures_email_time")
                    .table(L::Table)
                    .col(L::EmailHash)
                    .col(L::FailedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, LoginFailures::Table).await
    }
}
