use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, drop, instant};
use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One row per access token that is still honoured (the token's `sid`). Logging out deletes the
/// row, a password change deletes the user's other rows, deleting the account all of them: a
/// signed token whose row is gone is worthless.
#[derive(DeriveIden)]
pub enum Sessions {
    Table,
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Sessions as S;
        manager
            .create_table(
                Table::create()
                    .table(S::Table)
                    .col(pk_uuid(S::Id))
                    .col(uuid(S::UserId))
                    .col(instant(S::CreatedAt))
                    .col(instant(S::ExpiresAt))
                    .foreign_key(&mut cascade(S::Table, S::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_user")
                    .table(S::Table)
                    .col(S::UserId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_sessions_expires")
                    .table(S::Table)
                    .col(S::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, Sessions::Table).await
    }
}
