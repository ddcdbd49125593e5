//! Access tokens for stored connections: refreshed shortly before they expire and once when a
//! provider refuses one. A dead grant (`invalid_grant`) marks the connection `needs_reauth`;
//! nothing retries it until the user connects again.

use chrono::{DateTime, Duration, Utc};
use entity::calendar_connections as connections;
use entity::{ConnectionStatus, Provider};
use providers::ProviderError;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use crate::AppContext;
use crate::vault::{Column, Slot};

/// A token this close to expiry is refreshed before use.
const REFRESH_MARGIN: Duration = Duration::minutes(2);
/// How long a refresh may hold its lease before others may take over.
const REFRESH_LEASE: Duration = Duration::seconds(30);
/// The schedule refreshes tokens that expire within this.
pub const REFRESH_AHEAD: Duration = Duration::minutes(10);

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("the connection needs to be reconnected")]
    NeedsReauth,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for TokenError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

fn provider_of(connection: &connections::Model) -> Result<Provider, TokenError> {
    Ok(connection.provider)
}

fn open(
    ctx: &AppContext,
    sealed: &str,
    column: Column,
    connection_id: uuid::Uuid,
) -> Result<String, TokenError> {
    ctx.vault
        .open(sealed, Slot::new(column, connection_id))
        .map_err(|e| TokenError::Internal(anyhow::anyhow!("stored token: {e}")))
}

/// The credential to call the provider with: the API key or feed address, or an access token
/// refreshed first if it is about to expire.
pub async fn credential(
    ctx: &AppContext,
    connection: &connections::Model,
) -> Result<String, TokenError> {
    if connection.status != ConnectionStatus::Active {
        return Err(TokenError::NeedsReauth);
    }
    if let Some(sealed) = &connection.credentials_enc {
        return open(ctx, sealed, Column::ConnectionCredentials, connection.id);
    }
    let expiring = connection
        .token_expires_at
        .is_some_and(|at| at - REFRESH_MARGIN <= ctx.clock.now());
    match (&connection.access_token_enc, expiring) {
        (Some(sealed), false) => open(ctx, sealed, Column::ConnectionAccessToken, connection.id),
        _ => refresh(ctx, connection).await,
    }
}

/// Exchanges the refresh token for a new access token and stores both, sealed with the current
/// key (which also re-seals tokens written under a retired key). Returns the access token.
///
/// Only one caller at a time refreshes a connection: it takes a lease in the row
/// (`refreshing_until`); the others wait for it and use the token it got. A provider that
/// rotates refresh tokens therefore never sees the same one twice.
pub async fn refresh(
    ctx: &AppContext,
    connection: &connections::Model,
) -> Result<String, TokenError> {
    let started = ctx.clock.now();
    loop {
        let now = ctx.clock.now();
        let claimed = connections::Entity::update_many()
            .col_expr(
                connections::Column::RefreshingUntil,
                Expr::value(Some(now + REFRESH_LEASE)),
            )
            .filter(connections::Column::Id.eq(connection.id))
            .filter(connections::Column::Status.eq(ConnectionStatus::Active))
            .filter(
                Condition::any()
                    .add(connections::Column::RefreshingUntil.is_null())
                    .add(connections::Column::RefreshingUntil.lt(now)),
            )
            .exec(&ctx.db)
            .await?
            .rows_affected
            == 1;
        let current = connections::Entity::find_by_id(connection.id)
            .one(&ctx.db)
            .await?
            .ok_or(TokenError::NeedsReauth)?;
        if current.status != ConnectionStatus::Active {
            return Err(TokenError::NeedsReauth);
        }
        if claimed {
            let result = refresh_claimed(ctx, &current).await;
            if result.is_err() {
                release(ctx, current.id).await;
            }
            return result;
        }
        // Someone else holds the lease: once they are done, their token is ours too.
        if let (Some(at), Some(sealed)) = (current.last_refreshed_at, &current.access_token_enc)
            && at >= started
        {
            return open(ctx, sealed, Column::ConnectionAccessToken, current.id);
        }
        if ctx.clock.now() - started > REFRESH_LEASE + Duration::seconds(5) {
            return Err(ProviderError::Transient("another refresh did not finish".into()).into());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

async fn release(ctx: &AppContext, id: uuid::Uuid) {
    let cleared = connections::ActiveModel {
        id: Set(id),
        refreshing_until: Set(None),
        ..Default::default()
    }
    .update(&ctx.db)
    .await;
    if let Err(e) = cleared {
        tracing::warn!(connection = %id, error = %e, "could not release the refresh lease; it expires by itself");
    }
}

async fn refresh_claimed(
    ctx: &AppContext,
    connection: &connections::Model,
) -> Result<String, TokenError> {
    let provider = provider_of(connection)?;
    let Some(app) = super::oauth_app(&ctx.settings, provider) else {
        return Err(
            mark_needs_reauth(ctx, connection, "the provider is no longer configured").await,
        );
    };
    let Some(sealed) = &connection.refresh_token_enc else {
        return Err(mark_needs_reauth(ctx, connection, "no refresh token was granted").await);
    };
    let refresh_token = open(ctx, sealed, Column::ConnectionRefreshToken, connection.id)?;
    match app
        .refresh(&ctx.http, &refresh_token, ctx.clock.now())
        .await
    {
        Ok(tokens) => {
            let now = ctx.clock.now();
            // Microsoft and Cal.com rotate refresh tokens; Google sends none and the old one stays.
            let refresh = tokens.refresh_token.as_deref().unwrap_or(&refresh_token);
            connections::ActiveModel {
                id: Set(connection.id),
                access_token_enc: Set(Some(ctx.vault.seal(
                    &tokens.access_token,
                    Slot::new(Column::ConnectionAccessToken, connection.id),
                ))),
                refresh_token_enc: Set(Some(ctx.vault.seal(
                    refresh,
                    Slot::new(Column::ConnectionRefreshToken, connection.id),
                ))),
                token_expires_at: Set(tokens.expires_at),
                last_refreshed_at: Set(Some(now)),
                refreshing_until: Set(None),
                last_error: Set(None),
                updated_at: Set(now),
                ..Default::default()
            }
            .update(&ctx.db)
            .await?;
            tracing::info!(connection = %connection.id, %provider, "access token refreshed");
            Ok(tokens.access_token)
        }
        Err(ProviderError::InvalidGrant(why)) => {
            Err(mark_needs_reauth(ctx, connection, &format!("refresh refused: {why}")).await)
        }
        Err(other) => {
            tracing::warn!(connection = %connection.id, %provider, error = %other, "token refresh failed");
            Err(other.into())
        }
    }
}

/// The provider refused a credential nothing can refresh (a CalDAV password): the connection
/// needs the user.
pub async fn refused(ctx: &AppContext, connection: &connections::Model) -> TokenError {
    mark_needs_reauth(ctx, connection, "the server refused the password").await
}

async fn mark_needs_reauth(
    ctx: &AppContext,
    connection: &connections::Model,
    why: &str,
) -> TokenError {
    tracing::warn!(connection = %connection.id, reason = why, "connection needs to be reconnected");
    let update = needs_reauth_in_one_transaction(ctx, connection, why).await;
    if let Ok(true) = update {
        crate::notifications::published(ctx, connection.user_id).await;
        crate::follow_up::alerts(ctx, connection.user_id).await;
    }
    match update {
        Ok(_) => TokenError::NeedsReauth,
        Err(e) => TokenError::Internal(e.into()),
    }
}

/// The status change, the calendars' freshness and — when the connection was not already
/// waiting for the user — one `connection.needs_reauth` notification, together. True when it
/// was notified.
async fn needs_reauth_in_one_transaction(
    ctx: &AppContext,
    connection: &connections::Model,
    why: &str,
) -> Result<bool, sea_orm::DbErr> {
    let now = ctx.clock.now();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let changed = connections::Entity::update_many()
        .col_expr(
            connections::Column::Status,
            Expr::value(ConnectionStatus::NeedsReauth),
        )
        .col_expr(
            connections::Column::RefreshingUntil,
            Expr::value(None::<DateTime<Utc>>),
        )
        .col_expr(
            connections::Column::LastError,
            Expr::value(Some(why.to_owned())),
        )
        .col_expr(connections::Column::UpdatedAt, Expr::value(now))
        .filter(connections::Column::Id.eq(connection.id))
        .filter(connections::Column::Status.ne(ConnectionStatus::NeedsReauth))
        .exec(&txn)
        .await?
        .rows_affected
        == 1;
    // Its calendars are no longer fresh.
    crate::version::touch_calendars(&txn, connection.user_id).await?;
    if changed {
        let calendar_ids: Vec<uuid::Uuid> = entity::calendars::Entity::find()
            .select_only()
            .column(entity::calendars::Column::Id)
            .filter(entity::calendars::Column::ConnectionId.eq(connection.id))
            .into_tuple()
            .all(&txn)
            .await?;
        crate::audit::record(
            &txn,
            crate::audit::Entry::new(
                crate::audit::Actor::System,
                connection.user_id,
                "connection.needs_reauth",
                "connection",
                connection.id,
                now,
            )
            .details(serde_json::json!({"reason": why})),
        )
        .await?;
        crate::notifications::record(
            &txn,
            connection.user_id,
            crate::notifications::Kind::ConnectionNeedsReauth,
            serde_json::json!({"provider": connection.provider.as_str(),
                "account": connection.account, "calendar_ids": calendar_ids}),
            now,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(changed)
}

/// Calls `call` with a valid credential; on a 401 refreshes once and calls again.
pub async fn with_credential<T, F, Fut>(
    ctx: &AppContext,
    connection: &connections::Model,
    call: F,
) -> Result<T, TokenError>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let credential = credential(ctx, connection).await?;
    match call(credential).await {
        Err(ProviderError::Unauthorized) if connection.refresh_token_enc.is_some() => {
            let fresh = refresh(ctx, connection).await?;
            Ok(call(fresh).await?)
        }
        other => Ok(other?),
    }
}

/// Refreshes every active OAuth connection whose token expires before `now + REFRESH_AHEAD`.
/// One failure does not stop the others; returns how many were refreshed.
pub async fn refresh_due(ctx: &AppContext, now: DateTime<Utc>) -> Result<usize, TokenError> {
    let due = connections::Entity::find()
        .filter(connections::Column::Status.eq(ConnectionStatus::Active))
        .filter(connections::Column::RefreshTokenEnc.is_not_null())
        .filter(connections::Column::TokenExpiresAt.lt(now + REFRESH_AHEAD))
        .all(&ctx.db)
        .await?;
    let mut refreshed = 0;
    for connection in &due {
        match refresh(ctx, connection).await {
            Ok(_) => refreshed += 1,
            Err(e) => {
                tracing::warn!(connection = %connection.id, error = %e, "scheduled refresh failed")
            }
        }
    }
    Ok(refreshed)
}
