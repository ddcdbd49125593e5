//! Storing a connection and the calendars it brings; removing them again.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{ConnectionStatus, Provider};
use entity::{calendar_connections as connections, calendars};
use providers::{Credential, Identity, ProviderError, RemoteCalendar, TokenSet};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};
use uuid::Uuid;

use crate::audit::{self, Actor};
use crate::vault::{Column, Slot};
use crate::{AppContext, Job, db, version};

/// What the user handed over.
pub enum Grant {
    OAuth(TokenSet),
    /// A Cal.com API key (`cal_…` / `cal_live_…`).
    ApiKey(String),
    /// An ICS feed address, and the name the user gave it.
    Feed {
        url: String,
        name: Option<String>,
    },
    /// A CalDAV server and the account's (app) password.
    Login(providers::caldav::Login),
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error("{0} is not connected")]
    NotConnected(Provider),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<sea_orm::DbErr> for ConnectError {
    fn from(e: sea_orm::DbErr) -> Self {
        Self::Internal(e.into())
    }
}

/// The stored connection and the ids of its calendars.
pub struct Connected {
    pub connection_id: Uuid,
    pub calendar_ids: Vec<Uuid>,
}

/// Reads the account's identity and calendars with the grant, then stores (or, for an account
/// connected before, updates) the connection and its calendars in one transaction.
pub async fn connect(
    ctx: &AppContext,
    user_id: Uuid,
    provider: Provider,
    mut grant: Grant,
) -> Result<Connected, ConnectError> {
    let source = ctx
        .providers
        .source(provider)
        .ok_or_else(|| ConnectError::Invalid(format!("{provider} cannot be connected")))?;
    let (identity, remote) = match discover(source, &grant).await {
        // A fresh token refused: refresh once, as for any call.
        Err(ProviderError::Unauthorized) => {
            refresh_grant(ctx, provider, &mut grant).await?;
            discover(source, &grant).await?
        }
        other => other?,
    };
    let account_id = match &grant {
        // The feed address may carry a secret: rows keep only its hash (and the vault its text).
        Grant::Feed { .. } => crate::secrets::sha256_hex(&identity.id),
        _ => identity.id.clone(),
    };
    let now = ctx.clock.now();
    let txn = db::begin_write(&ctx.db).await?;
    let existing = connections::Entity::find()
        .filter(connections::Column::UserId.eq(user_id))
        .filter(connections::Column::Provider.eq(provider))
        .filter(connections::Column::ProviderAccountId.eq(account_id.as_str()))
        .one(&txn)
        .await?;
    let connection_id = existing.as_ref().map_or_else(Uuid::now_v7, |c| c.id);
    let slot = |column| Slot::new(column, connection_id);
    let mut row: connections::ActiveModel = match &existing {
        Some(model) => model.clone().into(),
        None => connections::ActiveModel {
            id: Set(connection_id),
            user_id: Set(user_id),
            provider: Set(provider),
            provider_account_id: Set(account_id),
            created_at: Set(now),
            access_token_enc: Set(None),
            refresh_token_enc: Set(None),
            credentials_enc: Set(None),
            token_expires_at: Set(None),
            last_refreshed_at: Set(None),
            refreshing_until: Set(None),
            ..Default::default()
        },
    };
    row.account = Set(identity.display.clone());
    row.status = Set(ConnectionStatus::Active);
    row.last_error = Set(None);
    row.updated_at = Set(now);
    match &grant {
        Grant::OAuth(tokens) => {
            row.access_token_enc = Set(Some(
                ctx.vault
                    .seal(&tokens.access_token, slot(Column::ConnectionAccessToken)),
            ));
            // No new refresh token (Google on a repeat consent): the stored one still works.
            if let Some(refresh) = &tokens.refresh_token {
                row.refresh_token_enc = Set(Some(
                    ctx.vault
                        .seal(refresh, slot(Column::ConnectionRefreshToken)),
                ));
            }
            row.token_expires_at = Set(tokens.expires_at);
            row.scopes = Set(tokens.scopes.join(" "));
            row.last_refreshed_at = Set(Some(now));
        }
        Grant::ApiKey(key) => {
            row.credentials_enc = Set(Some(
                ctx.vault.seal(key, slot(Column::ConnectionCredentials)),
            ));
            row.scopes = Set(String::new());
        }
        Grant::Feed { url, .. } => {
            row.credentials_enc = Set(Some(
                ctx.vault.seal(url, slot(Column::ConnectionCredentials)),
            ));
            row.scopes = Set(String::new());
        }
        Grant::Login(login) => {
            row.credentials_enc = Set(Some(
                ctx.vault
                    .seal(&login.to_json(), slot(Column::ConnectionCredentials)),
            ));
            row.scopes = Set(String::new());
        }
    }
    let connection = if existing.is_some() {
        row.update(&txn).await?
    } else {
        row.insert(&txn).await?
    };
    let feed_name = match &grant {
        Grant::Feed { name, .. } => name.clone(),
        _ => None,
    };
    let calendar_ids =
        store_calendars(&txn, &connection, &identity, remote, feed_name, now).await?;
    // A reconnected account may bring back calendars that still hold events.
    let span = crate::notifications::availability::of_calendars(&txn, &calendar_ids).await?;
    version::touch(&txn, user_id, span).await?;
    audit::record(
        &txn,
        audit::Entry {
            user_id: Some(user_id),
            actor: Actor::User,
            action: if existing.is_some() {
                "connection.updated"
            } else {
                "connection.created"
            },
            entity_type: "calendar_connection",
            entity_id: Some(connection.id.to_string()),
            details: Some(serde_json::json!({
                "provider": provider.as_str(),
                "calendars": calendar_ids.len(),
            })),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(%user_id, %provider, calendars = calendar_ids.len(), "calendars connected");
    // The first sync of each calendar; if the queue is down, the schedule picks them up.
    for id in &calendar_ids {
        if let Err(e) = crate::sync::request(ctx, *id, crate::sync::Trigger::Connect).await {
            tracing::warn!(calendar = %id, error = %e, "could not enqueue the first sync");
        }
        let open = Job::OpenChannel { calendar_id: *id };
        if let Err(e) = ctx.queue.push(open).await {
            tracing::warn!(calendar = %id, error = %e, "could not enqueue the push channel");
        }
    }
    Ok(Connected {
        connection_id: connection.id,
        calendar_ids,
    })
}

async fn discover(
    source: &dyn providers::CalendarSource,
    grant: &Grant,
) -> Result<(Identity, Vec<RemoteCalendar>), ProviderError> {
    let login;
    let credential = match grant {
        Grant::OAuth(tokens) => Credential::Bearer(&tokens.access_token),
        Grant::ApiKey(key) => Credential::Bearer(key),
        Grant::Feed { url, .. } => Credential::Feed(url),
        Grant::Login(l) => {
            login = l.to_json();
            Credential::Login(&login)
        }
    };
    let identity = source.identity(credential).await?;
    let calendars = source.calendars(credential).await?;
    Ok((identity, calendars))
}

async fn refresh_grant(
    ctx: &AppContext,
    provider: Provider,
    grant: &mut Grant,
) -> Result<(), ProviderError> {
    let Grant::OAuth(tokens) = grant else {
        return Err(ProviderError::Unauthorized);
    };
    let (Some(app), Some(refresh)) = (
        crate::credentials::oauth_app(&ctx.settings, provider),
        tokens.refresh_token.clone(),
    ) else {
        return Err(ProviderError::Unauthorized);
    };
    let fresh = app.refresh(&ctx.http, &refresh, ctx.clock.now()).await?;
    tokens.access_token = fresh.access_token;
    tokens.expires_at = fresh.expires_at;
    if fresh.refresh_token.is_some() {
        tokens.refresh_token = fresh.refresh_token;
    }
    Ok(())
}

/// Upserts the calendars the provider listed and drops those it no longer lists. A user's own
/// choices (name, color, whether it counts) survive a reconnect.
async fn store_calendars(
    txn: &impl ConnectionTrait,
    connection: &connections::Model,
    identity: &Identity,
    remote: Vec<RemoteCalendar>,
    feed_name: Option<String>,
    now: DateTime<Utc>,
) -> Result<Vec<Uuid>, ConnectError> {
    let listed: HashSet<String> = remote.iter().map(|c| c.id.clone()).collect();
    for calendar in remote {
        let name = feed_name.clone().unwrap_or(calendar.name);
        let timezone = calendar.timezone.or_else(|| identity.timezone.clone());
        let row = calendars::ActiveModel {
            provider_calendar_id: Set(calendar.id),
            color: Set(calendar.color),
            is_primary: Set(calendar.primary),
            ..crate::calendars::new_row(
                connection.user_id,
                Some(connection.id),
                connection.provider,
                &name,
                timezone,
                now,
            )
        };
        calendars::Entity::insert(row)
            .on_conflict(
                OnConflict::columns([
                    calendars::Column::ConnectionId,
                    calendars::Column::ProviderCalendarId,
                ])
                .update_columns([
                    calendars::Column::IsPrimary,
                    calendars::Column::Timezone,
                    calendars::Column::UpdatedAt,
                ])
                .to_owned(),
            )
            .exec_without_returning(txn)
            .await?;
    }
    let stored = calendars::Entity::find()
        .filter(calendars::Column::ConnectionId.eq(connection.id))
        .all(txn)
        .await?;
    let (kept, gone): (Vec<_>, Vec<_>) = stored
        .into_iter()
        .partition(|c| listed.contains(&c.provider_calendar_id));
    crate::calendars::remove(txn, gone.iter().map(|c| c.id).collect()).await?;
    Ok(kept.into_iter().map(|c| c.id).collect())
}

/// Removes every connection of `provider` with its calendars and events, after revoking the
/// grant where the provider allows it (a failed revocation is logged, not fatal: the user
/// asked to be disconnected, and the tokens are deleted either way).
pub async fn disconnect(
    ctx: &AppContext,
    user_id: Uuid,
    provider: Provider,
) -> Result<usize, ConnectError> {
    let found = connections::Entity::find()
        .filter(connections::Column::UserId.eq(user_id))
        .filter(connections::Column::Provider.eq(provider))
        .all(&ctx.db)
        .await?;
    if found.is_empty() {
        return Err(ConnectError::NotConnected(provider));
    }
    for connection in &found {
        // Channels first (they need the grant), then the grant itself.
        let calendars = calendars::Entity::find()
            .filter(calendars::Column::ConnectionId.eq(connection.id))
            .all(&ctx.db)
            .await?;
        for calendar in calendars.iter().filter(|c| c.channel_id.is_some()) {
            if let Err(e) = crate::channels::close_channel(ctx, calendar.id).await {
                tracing::warn!(calendar = %calendar.id, error = %e, "could not stop a push channel");
            }
        }
        revoke(ctx, provider, connection).await;
    }
    let txn = db::begin_write(&ctx.db).await?;
    let mut spans = Vec::new();
    for connection in &found {
        let ids: Vec<Uuid> = calendars::Entity::find()
            .filter(calendars::Column::ConnectionId.eq(connection.id))
            .all(&txn)
            .await?
            .into_iter()
            .map(|c| c.id)
            .collect();
        spans.extend(crate::notifications::availability::of_calendars(&txn, &ids).await?);
        crate::calendars::remove(&txn, ids).await?;
        connections::Entity::delete_by_id(connection.id)
            .exec(&txn)
            .await?;
        audit::record(
            &txn,
            audit::Entry {
                user_id: Some(user_id),
                actor: Actor::User,
                action: "connection.deleted",
                entity_type: "calendar_connection",
                entity_id: Some(connection.id.to_string()),
                details: Some(serde_json::json!({ "provider": provider.as_str() })),
                at: ctx.clock.now(),
            },
        )
        .await?;
    }
    let span = crate::notifications::availability::Span::cover(spans);
    version::touch(&txn, user_id, span).await?;
    txn.commit().await?;
    crate::follow_up::availability_changed(ctx, user_id).await;
    tracing::info!(%user_id, %provider, connections = found.len(), "disconnected");
    Ok(found.len())
}

async fn revoke(ctx: &AppContext, provider: Provider, connection: &connections::Model) {
    let Some(app) = crate::credentials::oauth_app(&ctx.settings, provider) else {
        return;
    };
    let sealed = match (&connection.refresh_token_enc, &connection.access_token_enc) {
        (Some(refresh), _) => Some((refresh, Column::ConnectionRefreshToken)),
        (None, Some(access)) => Some((access, Column::ConnectionAccessToken)),
        (None, None) => None,
    };
    let Some(token) =
        sealed.and_then(|(s, column)| ctx.vault.open(s, Slot::new(column, connection.id)).ok())
    else {
        return;
    };
    match app.revoke(&ctx.http, &token).await {
        Ok(true) => tracing::info!(%provider, "grant revoked at the provider"),
        Ok(false) => {}
        Err(e) => tracing::warn!(%provider, error = %e, "revoking the grant failed"),
    }
}
