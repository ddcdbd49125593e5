use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop, instant_null, updated_at};
use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// One authorised account at one provider (or one ICS feed).
#[derive(DeriveIden)]
pub enum CalendarConnections {
    Table,
    Id,
    UserId,
    Provider,
    /// What the user recognises: an email address, a feed URL's host.
    Account,
    /// The provider's stable id for the account, used to update instead of duplicating on reconnect.
    ProviderAccountId,
    /// Vault ciphertexts (AES-256-GCM with key id); never plain text.
    AccessTokenEnc,
    RefreshTokenEnc,
    /// Other secrets of the connection (a Cal.com API key, a private ICS URL), encrypted the same way.
    CredentialsEnc,
    TokenExpiresAt,
    Scopes,
    /// active | needs_reauth | revoked
    Status,
    LastError,
    LastRefreshedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use CalendarConnections as C;
        manager
            .create_table(
                Table::create()
                    .table(C::Table)
                    .col(pk_uuid(C::Id))
                    .col(uuid(C::UserId))
                    .col(string(C::Provider))
                    .col(string(C::Account))
                    .col(string(C::ProviderAccountId))
                    .col(text_null(C::AccessTokenEnc))
                    .col(text_null(C::RefreshTokenEnc))
                    .col(text_null(C::CredentialsEnc))
                    .col(instant_null(C::TokenExpiresAt))
                    .col(text(C::Scopes).default(""))
                    .col(string(C::Status).default("active"))
                    .col(text_null(C::LastError))
                    .col(instant_null(C::LastRefreshedAt))
                    .col(created_at())
                    .col(updated_at())
                    .foreign_key(&mut cascade(C::Table, C::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_connections_user_provider_account")
                    .table(C::Table)
                    .col(C::UserId)
                    .col(C::Provider)
                    .col(C::ProviderAccountId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // The token-refresh schedule looks for tokens that expire soon.
        manager
            .create_index(
                Index::create()
                    .name("ix_connections_status_expiry")
                    .table(C::Table)
                    .col(C::Status)
                    .col(C::TokenExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, CalendarConnections::Table).await
    }
}
