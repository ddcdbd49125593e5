use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{drop, instant};
use crate::m20261122_000018_create_login_failures::LoginFailures;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Attempts counted by the sliding-window limits (`service::limits`): registrations and logins
/// per client address, and failed logins per email address (which `login_failures` held before;
/// its rows only ever mattered for fifteen minutes, so they are not carried over). One row per
/// attempt let through, kept for its limit's period; the key is a SHA-256, never in clear.
#[derive(DeriveIden)]
pub enum Attempts {
    Table,
    Id,
    /// register_address | login_address | login_failure
    Scope,
    KeyHash,
    At,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Attempts as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(pk_uuid(A::Id))
                    .col(string(A::Scope))
                    .col(string(A::KeyHash))
                    .col(instant(A::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_attempts_key_time")
                    .table(A::Table)
                    .col(A::Scope)
                    .col(A::KeyHash)
                    .col(A::At)
                    .to_owned(),
            )
            .await?;
        drop(manager, LoginFailures::Table).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::m20261122_000018_create_login_failures::Migration
            .up(manager)
            .await?;
        drop(manager, Attempts::Table).await
    }
}
