use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop, instant, instant_null};
use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A pending OAuth authorization: single use, short-lived.
#[derive(DeriveIden)]
pub enum OauthStates {
    Table,
    Id,
    /// SHA-256 of the `state` parameter: the state itself only ever travels through the browser.
    StateHash,
    UserId,
    Provider,
    /// Vault ciphertext of the PKCE code verifier.
    PkceVerifierEnc,
    ExpiresAt,
    UsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use OauthStates as O;
        manager
            .create_table(
                Table::create()
                    .table(O::Table)
                    .col(pk_uuid(O::Id))
                    .col(string_uniq(O::StateHash))
                    .col(uuid(O::UserId))
                    .col(string(O::Provider))
                    .col(text(O::PkceVerifierEnc))
                    .col(instant(O::ExpiresAt))
                    .col(instant_null(O::UsedAt))
                    .col(created_at())
                    .foreign_key(&mut cascade(O::Table, O::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_oauth_states_expires")
                    .table(O::Table)
                    .col(O::ExpiresAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, OauthStates::Table).await
    }
}
