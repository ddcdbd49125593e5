use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, drop, instant};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The notifications outbox (contract, "Notifications"): one row per thing a user should hear
/// about, written in the same transaction as the change that causes it. `seq` numbers a user's
/// notifications 1, 2, 3 … from `users.notification_seq`, which the writer increments in that
/// transaction: the row lock it takes makes one user's notifications commit in `seq` order, so
/// a reader that has seen `seq` n has seen every earlier one (a stream resumes with no gap).
#[derive(DeriveIden)]
pub enum Notifications {
    Table,
    Id,
    UserId,
    Seq,
    Kind,
    Data,
    CreatedAt,
}

/// Single-use tickets for `EventSource`, which cannot send a header: kept as SHA-256 hashes.
#[derive(DeriveIden)]
pub enum NotificationTickets {
    Table,
    TicketHash,
    UserId,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    NotificationSeq,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Notifications as N;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::NotificationSeq)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(N::Table)
                    .col(pk_uuid(N::Id))
                    .col(uuid(N::UserId))
                    .col(big_integer(N::Seq))
                    .col(string(N::Kind))
                    .col(json(N::Data))
                    .col(instant(N::CreatedAt))
                    .foreign_key(&mut cascade(N::Table, N::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_notifications_user_seq")
                    .table(N::Table)
                    .col(N::UserId)
                    .col(N::Seq)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_notifications_created")
                    .table(N::Table)
                    .col(N::CreatedAt)
                    .to_owned(),
            )
            .await?;
        use NotificationTickets as T;
        manager
            .create_table(
                Table::create()
                    .table(T::Table)
                    .col(string(T::TicketHash).primary_key())
                    .col(uuid(T::UserId))
                    .col(instant(T::ExpiresAt))
                    .foreign_key(&mut cascade(T::Table, T::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, NotificationTickets::Table).await?;
        drop(manager, Notifications::Table).await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::NotificationSeq)
                    .to_owned(),
            )
            .await
    }
}
