use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop, instant_null, updated_at};
use crate::m20261122_000001_create_users::Users;
use crate::m20261122_000002_create_calendar_connections::CalendarConnections;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Calendars {
    Table,
    Id,
    UserId,
    /// Null for the user's own `local` calendar of manual events.
    ConnectionId,
    Provider,
    ProviderCalendarId,
    Name,
    Color,
    Timezone,
    IsPrimary,
    IncludeInAvailability,
    /// Google syncToken, Graph deltaLink, Cal.com updated-since mark, ICS ETag: opaque to everything but the sync.
    SyncCursor,
    /// idle | queued | syncing | error
    SyncStatus,
    LastSyncedAt,
    LastError,
    LastErrorAt,
    ConsecutiveFailures,
    /// Circuit breaker: no sync before this instant.
    PausedUntil,
    /// Push channel (Google watch channel, Graph subscription).
    ChannelId,
    ChannelResourceId,
    /// Vault ciphertext of the secret the provider echoes back (Google channel token, Graph clientState).
    ChannelSecretEnc,
    ChannelExpiresAt,
    LastPushAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use Calendars as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(pk_uuid(C::Id))
                    .col(uuid(C::UserId))
                    .col(uuid_null(C::ConnectionId))
                    .col(string(C::Provider))
                    .col(string(C::ProviderCalendarId))
                    .col(string(C::Name))
                    .col(string_null(C::Color))
                    .col(string_null(C::Timezone))
                    .col(boolean(C::IsPrimary).default(false))
                    .col(boolean(C::IncludeInAvailability).default(true))
                    .col(text_null(C::SyncCursor))
                    .col(string(C::SyncStatus).default("idle"))
                    .col(instant_null(C::LastSyncedAt))
                    .col(text_null(C::LastError))
                    .col(instant_null(C::LastErrorAt))
                    .col(integer(C::ConsecutiveFailures).default(0))
                    .col(instant_null(C::PausedUntil))
                    .col(string_null(C::ChannelId))
                    .col(string_null(C::ChannelResourceId))
                    .col(text_null(C::ChannelSecretEnc))
                    .col(instant_null(C::ChannelExpiresAt))
                    .col(instant_null(C::LastPushAt))
                    .col(created_at())
                    .col(updated_at())
                    .foreign_key(&mut cascade(C::Table, C::UserId, Users::Table))
                    .foreign_key(&mut cascade(
                        C::Table,
                        C::ConnectionId,
                        CalendarConnections::Table,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, cols, unique) in [
            (
                "ux_calendars_connection_provider_id",
                vec![C::ConnectionId, C::ProviderCalendarId],
                true,
            ),
            ("ix_calendars_user", vec![C::UserId], false),
            ("ix_calendars_channel", vec![C::ChannelId], false),
        ] {
            let mut index = Index::create();
            index.name(name).table(C::Table);
            for col in cols {
                index.col(col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, Calendars::Table).await
    }
}
