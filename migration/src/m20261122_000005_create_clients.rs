use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop, updated_at};
use crate::m20261122_000001_create_users::Users;
use crate::m20261122_000004_create_events::Events;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A client or project of the freelancer.
#[derive(DeriveIden)]
pub enum Clients {
    Table,
    Id,
    UserId,
    Name,
    Color,
    /// Automatic assignment: attendee email domains and title keywords (JSON arrays of strings).
    EmailDomains,
    Keywords,
    Archived,
}

/// Which client an event is booked to; at most one per event.
#[derive(DeriveIden)]
pub enum EventClients {
    Table,
    EventId,
    ClientId,
    /// manual | rule
    AssignedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .col(pk_uuid(Clients::Id))
                    .col(uuid(Clients::UserId))
                    .col(string(Clients::Name))
                    .col(string_null(Clients::Color))
                    .col(json_null(Clients::EmailDomains))
                    .col(json_null(Clients::Keywords))
                    .col(boolean(Clients::Archived).default(false))
                    .col(created_at())
                    .col(updated_at())
                    .foreign_key(&mut cascade(Clients::Table, Clients::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_clients_user_name")
                    .table(Clients::Table)
                    .col(Clients::UserId)
                    .col(Clients::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(EventClients::Table)
                    .col(pk_uuid(EventClients::EventId))
                    .col(uuid(EventClients::ClientId))
                    .col(string(EventClients::AssignedBy).default("manual"))
                    .col(created_at())
                    .foreign_key(&mut cascade(
                        EventClients::Table,
                        EventClients::EventId,
                        Events::Table,
                    ))
                    .foreign_key(&mut cascade(
                        EventClients::Table,
                        EventClients::ClientId,
                        Clients::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_event_clients_client")
                    .table(EventClients::Table)
                    .col(EventClients::ClientId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, EventClients::Table).await?;
        drop(manager, Clients::Table).await
    }
}
