use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use crate::helpers::{cascade, drop, instant, instant_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// A user's webhook receivers (contract, "Notifications": webhooks). `types` is a JSON list of
/// notification types, or null for all of them; the secrets are sealed (`secret_enc`, and during
/// the 24 hours after a rotation the one it replaced, `previous_secret_enc`). `failing_since` is
/// the first failed delivery since the last one that arrived: five days of that disable the
/// endpoint.
#[derive(DeriveIden)]
pub enum WebhookEndpoints {
    Table,
    Id,
    UserId,
    Url,
    Types,
    Description,
    Enabled,
    SecretEnc,
    PreviousSecretEnc,
    PreviousSecretUntil,
    DisabledReason,
    FailingSince,
    CreatedAt,
    UpdatedAt,
}

/// One notification to deliver to one endpoint, written with the notification: `body` is the
/// exact bytes every attempt sends, `next_attempt_at` when to try next (null once delivered,
/// given up or cancelled), `queued_until` the lease of the job that holds it.
#[derive(DeriveIden)]
pub enum WebhookMessages {
    Table,
    Id,
    EndpointId,
    UserId,
    WebhookId,
    Kind,
    Body,
    Attempts,
    State,
    NextAttemptAt,
    QueuedUntil,
    CreatedAt,
}

/// The delivery log: one row per attempt.
#[derive(DeriveIden)]
pub enum WebhookAttempts {
    Table,
    Id,
    EndpointId,
    MessageId,
    WebhookId,
    Attempt,
    At,
    StatusCode,
    Error,
    DurationMs,
}

#[derive(DeriveIden)]
enum Users {
    Table,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use WebhookEndpoints as E;
        manager
            .create_table(
                Table::create()
                    .table(E::Table)
                    .col(pk_uuid(E::Id))
                    .col(uuid(E::UserId))
                    .col(text(E::Url))
                    .col(json_null(E::Types))
                    .col(text(E::Description).default(""))
                    .col(boolean(E::Enabled).default(true))
                    .col(text(E::SecretEnc))
                    .col(text_null(E::PreviousSecretEnc))
                    .col(instant_null(E::PreviousSecretUntil))
                    .col(text_null(E::DisabledReason))
                    .col(instant_null(E::FailingSince))
                    .col(instant(E::CreatedAt))
                    .col(instant(E::UpdatedAt))
                    .foreign_key(&mut cascade(E::Table, E::UserId, Users::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_endpoints_user")
                    .table(E::Table)
                    .col(E::UserId)
                    .to_owned(),
            )
            .await?;

        use WebhookMessages as M;
        manager
            .create_table(
                Table::create()
                    .table(M::Table)
                    .col(pk_uuid(M::Id))
                    .col(uuid(M::EndpointId))
                    .col(uuid(M::UserId))
                    .col(string(M::WebhookId))
                    .col(string(M::Kind))
                    .col(text(M::Body))
                    .col(integer(M::Attempts).default(0))
                    .col(string(M::State))
                    .col(instant_null(M::NextAttemptAt))
                    .col(instant_null(M::QueuedUntil))
                    .col(instant(M::CreatedAt))
                    .foreign_key(&mut cascade(M::Table, M::EndpointId, E::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_messages_due")
                    .table(M::Table)
                    .col(M::NextAttemptAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_messages_created")
                    .table(M::Table)
                    .col(M::CreatedAt)
                    .to_owned(),
            )
            .await?;

        use WebhookAttempts as A;
        manager
            .create_table(
                Table::create()
                    .table(A::Table)
                    .col(pk_uuid(A::Id))
                    .col(uuid(A::EndpointId))
                    .col(uuid(A::MessageId))
                    .col(string(A::WebhookId))
                    .col(integer(A::Attempt))
                    .col(instant(A::At))
                    .col(integer_null(A::StatusCode))
                    .col(text_null(A::Error))
                    .col(big_integer(A::DurationMs))
                    .foreign_key(&mut cascade(A::Table, A::EndpointId, E::Table))
                    .foreign_key(&mut cascade(A::Table, A::MessageId, M::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_attempts_endpoint_at")
                    .table(A::Table)
                    .col(A::EndpointId)
                    .col(A::At)
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop(manager, WebhookAttempts::Table).await?;
        drop(manager, WebhookMessages::Table).await?;
        drop(manager, WebhookEndpoints::Table).await
    }
}
