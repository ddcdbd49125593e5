use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop, instant_null, updated_at};
use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A user's availability as a schedule in their Cal.com account: settings, and what was sent.
#[derive(DeriveIden)]
pub enum CalcomExports {
    Table,
    UserId,
    /// Push again after every sync that changed the user's events.
    AutoExport,
    /// How many days ahead the overrides reach.
    Days,
    /// The Cal.com connection the schedule was created in; another connection means a new one.
    ConnectionId,
    /// Cal.com's schedule id.
    ScheduleId,
    /// SHA-256 of the last body Cal.com accepted: an equal body is not sent again.
    BodyHash,
    ExportedAt,
    CheckedAt,
    LastError,
    /// When the schedule next runs an automatic export (the day rolls over; a rate limit ends).
    DueAt,
    /// One export per user at a time; a request meanwhile sets `pending` for one more run.
    LeaseUntil,
    Pending,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CalcomExports as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(pk_uuid(C::UserId))
                    .col(boolean(C::AutoExport).default(false))
                    .col(integer(C::Days).default(60))
                    .col(uuid_null(C::ConnectionId))
                    .col(string_null(C::ScheduleId))
                    .col(string_null(C::BodyHash))
                    .col(instant_null(C::ExportedAt))
                    .col(instant_null(C::CheckedAt))
                    .col(text_null(C::LastError))
                    .col(instant_null(C::DueAt))
                    .col(instant_null(C::LeaseUntil))
                    .col(boolean(C::Pending).default(false))
                    .col(created_at())
                    .col(updated_at())
                    .foreign_key(&mut cascade(C::Table, C::UserId, Users::Table))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, CalcomExports::Table).await
    }
}
