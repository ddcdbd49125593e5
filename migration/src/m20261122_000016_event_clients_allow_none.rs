use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop};
use crate::m20261122_000004_create_events::Events;
use crate::m20261122_000005_create_clients::{Clients, EventClients};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A person who takes an event away from the client a rule gave it must be able to say "no
/// client" and have it stick: `client_id` becomes optional (NULL = explicitly none). SQLite cannot
/// change a column's nullability, so the table is rebuilt and its rows copied, on both databases.
const INDEX: &str = "ix_event_clients_client";

async fn rebuild(manager: &SchemaManager<'_>, client_nullable: bool) -> Result<(), DbErr> {
    // A name per direction: Postgres names the primary key's index after the table it was created
    // as, and that name must still be free when the other direction rebuilds.
    let rebuilt = if client_nullable {
        "event_clients_v2"
    } else {
        "event_clients_v1"
    };
    let client = if client_nullable {
        uuid_null(EventClients::ClientId)
    } else {
        uuid(EventClients::ClientId)
    };
    manager
        .create_table(
            Table::create()
                .table(Alias::new(rebuilt))
                .col(pk_uuid(EventClients::EventId))
                .col(client)
                .col(string(EventClients::AssignedBy).default("manual"))
                .col(created_at())
                .foreign_key(&mut cascade(
                    Alias::new(rebuilt),
                    EventClients::EventId,
                    Events::Table,
                ))
                .foreign_key(&mut cascade(
                    Alias::new(rebuilt),
                    EventClients::ClientId,
                    Clients::Table,
                ))
                .to_owned(),
        )
        .await?;
    let keep = if client_nullable {
        ""
    } else {
        " WHERE client_id IS NOT NULL"
    };
    manager
        .get_connection()
        .execute_unprepared(&format!(
            "INSERT INTO {rebuilt} (event_id, client_id, assigned_by, created_at) \
             SELECT event_id, client_id, assigned_by, created_at FROM event_clients{keep}"
        ))
        .await?;
    drop(manager, EventClients::Table).await?;
    manager
        .rename_table(
            Table::rename()
                .table(Alias::new(rebuilt), EventClients::Table)
                .to_owned(),
        )
        .await?;
    manager
        .create_index(
            Index::create()
                .name(INDEX)
                .table(EventClients::Table)
                .col(EventClients::ClientId)
                .to_owned(),
        )
        .await
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, false).await
    }
}
