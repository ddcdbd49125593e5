use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop, instant, instant_null, updated_at};
use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Conflicts {
    Table,
    Id,
    UserId,
    /// overlap | buffer
    Kind,
    /// high | medium | low
    Severity,
    /// open | resolved
    Status,
    /// null while open; user | auto
    Resolution,
    /// The pair, ordered by (start, id). An event id, or `<series id>/<occurrence>` for an
    /// occurrence of a recurring event, so these are keys rather than foreign keys.
    EventAKey,
    EventBKey,
    /// The collision: the overlap, or the gap that is too short.
    StartAt,
    EndAt,
    DetectedAt,
    ResolvedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Conflicts as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(pk_uuid(C::Id))
                    .col(uuid(C::UserId))
                    .col(string(C::Kind))
                    .col(string(C::Severity))
                    .col(string(C::Status).default("open"))
                    .col(string_null(C::Resolution))
                    .col(string(C::EventAKey))
                    .col(string(C::EventBKey))
                    .col(instant(C::StartAt))
                    .col(instant(C::EndAt))
                    .col(instant(C::DetectedAt))
                    .col(instant_null(C::ResolvedAt))
                    .col(created_at())
                    .col(updated_at())
                    .foreign_key(&mut cascade(C::Table, C::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_conflicts_pair_kind")
                    .table(C::Table)
                    .col(C::UserId)
                    .col(C::Kind)
                    .col(C::EventAKey)
                    .col(C::EventBKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_conflicts_user_status")
                    .table(C::Table)
                    .col(C::UserId)
                    .col(C::Status)
                    .col(C::StartAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, Conflicts::Table).await
    }
}
