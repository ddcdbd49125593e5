use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, created_at, drop};
use crate::m20261122_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The secret in a private ICS feed's address. The busy and the full feed have a token each, so
/// that a busy link shared with a client cannot be turned into the full one.
#[derive(DeriveIden)]
pub enum FeedTokens {
    Table,
    Id,
    UserId,
    /// busy | full
    Kind,
    /// SHA-256 of the token: what a request is looked up by.
    TokenHash,
    /// Vault ciphertext of the token, to show the address again.
    TokenEnc,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use FeedTokens as F;
        manager
            .create_table(
                Table::create()
                    .table(F::Table)
                    .col(pk_uuid(F::Id))
                    .col(uuid(F::UserId))
                    .col(string(F::Kind))
                    .col(string_uniq(F::TokenHash))
                    .col(text(F::TokenEnc))
                    .col(created_at())
                    .foreign_key(&mut cascade(F::Table, F::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_feed_tokens_user_kind")
                    .table(F::Table)
                    .col(F::UserId)
                    .col(F::Kind)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, FeedTokens::Table).await
    }
}
