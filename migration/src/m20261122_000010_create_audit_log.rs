use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{drop, instant, set_null};
use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Who changed what, when. Never holds secrets.
#[derive(DeriveIden)]
pub enum AuditLog {
    Table,
    Id,
    UserId,
    /// user | worker | system
    Actor,
    /// e.g. user.registered, connection.created, calendar.deleted
    Action,
    EntityType,
    EntityId,
    Details,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use AuditLog as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(pk_uuid(A::Id))
                    .col(uuid_null(A::UserId))
                    .col(string(A::Actor))
                    .col(string(A::Action))
                    .col(string(A::EntityType))
                    .col(string_null(A::EntityId))
                    .col(json_null(A::Details))
                    .col(instant(A::CreatedAt))
                    .foreign_key(&mut set_null(A::Table, A::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_log_user_created")
                    .table(A::Table)
                    .col(A::UserId)
                    .col(A::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, AuditLog::Table).await
    }
}
