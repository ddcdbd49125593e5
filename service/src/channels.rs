//! Push notifications: channels opened at each provider so that a change there enqueues a sync
//! here within seconds, and the receivers that verify what arrives.
//!
//! A notification only ever asks for a sync of the calendar it names; it carries no data we
//! trust. Each is verified the provider's way (Google: the channel token; Graph: `clientState`;
//! Cal.com: HMAC-SHA256 of the raw body) against a secret sealed in the calendar's row, compared
//! in constant time. Anything that does not verify changes nothing, and the sender learns
//! nothing from the answer. Pushes are lossy by design at every provider, so the periodic
//! schedule stays on as the safety net.

use chrono::{DateTime, Duration, Utc};
use entity::{ConnectionStatus, Provider};
use entity::{calendar_connections as connections, calendars};
use hmac::{Hmac, Mac};
use providers::{Channel, ProviderError};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Deserialize;
use sha2::Sha256;
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::AppContext;
use crate::credentials::tokens;
use crate::sync::{self, SyncError, Trigger};
use crate::vault::{Column, Slot};

/// Channels are renewed when they expire within this.
const RENEW_AHEAD: Duration = Duration::hours(24);

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS has randomness");
    hex::encode(bytes)
}

async fn load(
    ctx: &AppContext,
    calendar_id: Uuid,
) -> Result<Option<(calendars::Model, connections::Model, Provider)>, SyncError> {
    let Some(calendar) = calendars::Entity::find_by_id(calendar_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let Some(connection_id) = calendar.connection_id else {
        return Ok(None);
    };
    let Some(connection) = connections::Entity::find_by_id(connection_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(None);
    };
    let provider = connection.provider;
    Ok(Some((calendar, connection, provider)))
}

/// Opens (or replaces) the calendar's push channel. ICS feeds have none.
pub async fn open_channel(ctx: &AppContext, calendar_id: Uuid) -> Result<(), SyncError> {
    let Some((calendar, connection, provider)) = load(ctx, calendar_id).await? else {
        return Ok(());
    };
    let secret = random_secret();
    let opened = match provider {
        Provider::Google => {
            let google = &ctx.providers.google;
            let address = ctx.settings.public_url("/api/webhooks/google");
            let channel_id = Uuid::new_v4().to_string();
            tokens::with_credential(ctx, &connection, |token| {
                let (google, address, channel_id, secret) =
                    (google, &address, &channel_id, &secret);
                let calendar_id = calendar.provider_calendar_id.clone();
                async move {
                    google
                        .watch(&token, &calendar_id, channel_id, address, secret)
                        .await
                }
            })
            .await?
        }
        Provider::Microsoft => {
            let graph = &ctx.providers.microsoft;
            let address = ctx.settings.public_url("/api/webhooks/microsoft");
            tokens::with_credential(ctx, &connection, |token| {
                let (address, secret) = (&address, &secret);
                let calendar_id = calendar.provider_calendar_id.clone();
                let now = ctx.clock.now();
                async move {
                    graph
                        .subscribe(&token, &calendar_id, address, secret, now)
                        .await
                }
            })
            .await?
        }
        Provider::CalDotCom => {
            let calcom = &ctx.providers.calcom;
            let address = ctx
                .settings
                .public_url(&format!("/api/webhooks/calcom?calendar={}", calendar.id));
            tokens::with_credential(ctx, &connection, |token| {
                let (address, secret) = (&address, &secret);
                async move { calcom.create_webhook(&token, address, secret).await }
            })
            .await?
        }
        Provider::Ics | Provider::CalDav | Provider::Local => return Ok(()),
    };
    let previous = (
        calendar.channel_id.clone(),
        calendar.channel_resource_id.clone(),
    );
    store(ctx, calendar.id, Some((&opened, &secret))).await?;
    tracing::info!(calendar = %calendar.id, %provider, expires = ?opened.expires_at, "push channel open");
    // A renewed Google channel replaces the old one, which is stopped once the new one works.
    if provider == Provider::Google
        && let (Some(old), resource) = previous
    {
        stop(
            ctx,
            &calendar,
            &connection,
            provider,
            &old,
            resource.as_deref(),
        )
        .await;
    }
    Ok(())
}

async fn store(
    ctx: &AppContext,
    calendar_id: Uuid,
    channel: Option<(&Channel, &str)>,
) -> Result<(), SyncError> {
    calendars::ActiveModel {
        id: Set(calendar_id),
        channel_id: Set(channel.map(|(c, _)| c.id.clone())),
        channel_resource_id: Set(channel.and_then(|(c, _)| c.resource_id.clone())),
        channel_secret_enc: Set(channel.map(|(_, s)| {
            ctx.vault
                .seal(s, Slot::new(Column::ChannelSecret, calendar_id))
        })),
        channel_expires_at: Set(channel.and_then(|(c, _)| c.expires_at)),
        ..Default::default()
    }
    .update(&ctx.db)
    .await?;
    Ok(())
}

/// Stops the calendar's channel at the provider (best effort) and forgets it.
pub async fn close_channel(ctx: &AppContext, calendar_id: Uuid) -> Result<(), SyncError> {
    let Some((calendar, connection, provider)) = load(ctx, calendar_id).await? else {
        return Ok(());
    };
    let Some(channel_id) = calendar.channel_id.clone() else {
        return Ok(());
    };
    stop(
        ctx,
        &calendar,
        &connection,
        provider,
        &channel_id,
        calendar.channel_resource_id.as_deref(),
    )
    .await;
    store(ctx, calendar.id, None).await
}

async fn stop(
    ctx: &AppContext,
    calendar: &calendars::Model,
    connection: &connections::Model,
    provider: Provider,
    channel_id: &str,
    resource_id: Option<&str>,
) {
    let result = match provider {
        Provider::Google => {
            let google = &ctx.providers.google;
            let resource = resource_id.unwrap_or_default().to_owned();
            tokens::with_credential(ctx, connection, |token| {
                let resource = &resource;
                async move { google.stop(&token, channel_id, resource).await }
            })
            .await
        }
        Provider::Microsoft => {
            let graph = &ctx.providers.microsoft;
            tokens::with_credential(ctx, connection, |token| async move {
                graph.unsubscribe(&token, channel_id).await
            })
            .await
        }
        Provider::CalDotCom => {
            let calcom = &ctx.providers.calcom;
            tokens::with_credential(ctx, connection, |token| async move {
                calcom.delete_webhook(&token, channel_id).await
            })
            .await
        }
        Provider::Ics | Provider::CalDav | Provider::Local => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!(calendar = %calendar.id, error = %e, "could not stop the push channel; it expires by itself");
    }
}

/// Renews channels that expire within a day: Graph extends the subscription, Google gets a new
/// channel (and the old one is stopped). Returns how many were renewed.
pub async fn renew_due(ctx: &AppContext, now: DateTime<Utc>) -> Result<usize, SyncError> {
    let due = calendars::Entity::find()
        .filter(calendars::Column::ChannelId.is_not_null())
        .filter(calendars::Column::ChannelExpiresAt.lt(now + RENEW_AHEAD))
        .all(&ctx.db)
        .await?;
    let mut renewed = 0;
    for calendar in due {
        let result = match load(ctx, calendar.id).await? {
            Some((_, connection, Provider::Microsoft))
                if connection.status == ConnectionStatus::Active =>
            {
                renew_subscription(ctx, &calendar, &connection).await
            }
            Some((_, connection, _)) if connection.status == ConnectionStatus::Active => {
                open_channel(ctx, calendar.id).await
            }
            _ => Ok(()),
        };
        match result {
            Ok(()) => renewed += 1,
            Err(e) => tracing::warn!(calendar = %calendar.id, error = %e, "channel renewal failed"),
        }
    }
    Ok(renewed)
}

async fn renew_subscription(
    ctx: &AppContext,
    calendar: &calendars::Model,
    connection: &connections::Model,
) -> Result<(), SyncError> {
    let Some(id) = calendar.channel_id.clone() else {
        return Ok(());
    };
    let graph = &ctx.providers.microsoft;
    let renewed = tokens::with_credential(ctx, connection, |token| {
        let id = &id;
        let now = ctx.clock.now();
        async move { graph.renew(&token, id, now).await }
    })
    .await;
    match renewed {
        Ok(channel) => {
            calendars::ActiveModel {
                id: Set(calendar.id),
                channel_expires_at: Set(channel.expires_at),
                ..Default::default()
            }
            .update(&ctx.db)
            .await?;
            Ok(())
        }
        // Gone at Graph: subscribe afresh.
        Err(tokens::TokenError::Provider(ProviderError::NotFound)) => {
            open_channel(ctx, calendar.id).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The calendar's channel secret, if it has one that opens.
fn channel_secret(ctx: &AppContext, calendar: &calendars::Model) -> Option<String> {
    let sealed = calendar.channel_secret_enc.as_ref()?;
    ctx.vault
        .open(sealed, Slot::new(Column::ChannelSecret, calendar.id))
        .ok()
}

fn secret_matches(ctx: &AppContext, calendar: &calendars::Model, presented: &[u8]) -> bool {
    let Some(secret) = channel_secret(ctx, calendar) else {
        return false;
    };
    bool::from(secret.as_bytes().ct_eq(presented))
}

async fn pushed(ctx: &AppContext, calendar: &calendars::Model) -> Result<(), SyncError> {
    calendars::Entity::update_many()
        .col_expr(
            calendars::Column::LastPushAt,
            Expr::value(Some(ctx.clock.now())),
        )
        .filter(calendars::Column::Id.eq(calendar.id))
        .exec(&ctx.db)
        .await?;
    sync::request(ctx, calendar.id, Trigger::Push).await
}

/// What Google sends (headers only; the body is empty).
pub struct GoogleNotice {
    pub channel_id: String,
    pub token: String,
    pub resource_id: String,
    pub state: String,
}

/// Returns whether the notice was genuine (for logs and tests; the sender gets 200 either way).
pub async fn google_notice(ctx: &AppContext, notice: GoogleNotice) -> Result<bool, SyncError> {
    let calendar = calendars::Entity::find()
        .filter(calendars::Column::ChannelId.eq(notice.channel_id.as_str()))
        .one(&ctx.db)
        .await?;
    let Some(calendar) = calendar else {
        return Ok(false);
    };
    let genuine = secret_matches(ctx, &calendar, notice.token.as_bytes())
        && calendar
            .channel_resource_id
            .as_deref()
            .is_none_or(|r| r == notice.resource_id);
    if !genuine {
        tracing::warn!(calendar = %calendar.id, "a Google notification failed verification");
        return Ok(false);
    }
    // `sync` only confirms a new channel; `exists` / `not_exists` mean "something changed".
    if notice.state != "sync" {
        pushed(ctx, &calendar).await?;
    }
    Ok(true)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GraphNotification {
    subscription_id: String,
    client_state: Option<String>,
    lifecycle_event: Option<String>,
}

#[derive(Deserialize)]
struct GraphNotifications {
    #[serde(default)]
    value: Vec<GraphNotification>,
}

/// A Graph batch (change and lifecycle notifications). Returns how many items were genuine.
pub async fn microsoft_notices(ctx: &AppContext, body: &[u8]) -> Result<usize, SyncError> {
    let Ok(batch) = serde_json::from_slice::<GraphNotifications>(body) else {
        return Ok(0);
    };
    let mut genuine = 0;
    for item in batch.value {
        let calendar = calendars::Entity::find()
            .filter(calendars::Column::ChannelId.eq(item.subscription_id.as_str()))
            .one(&ctx.db)
            .await?;
        let Some(calendar) = calendar else { continue };
        let state = item.client_state.unwrap_or_default();
        if !secret_matches(ctx, &calendar, state.as_bytes()) {
            tracing::warn!(calendar = %calendar.id, "a Graph notification failed verification");
            continue;
        }
        genuine += 1;
        match item.lifecycle_event.as_deref() {
            Some("reauthorizationRequired") => {
                if let Some((_, connection, _)) = load(ctx, calendar.id).await? {
                    renew_subscription(ctx, &calendar, &connection).await?;
                }
            }
            Some("subscriptionRemoved") => {
                open_channel(ctx, calendar.id).await?;
                pushed(ctx, &calendar).await?;
            }
            // `missed`, and every change notification: catch up with a delta round.
            _ => pushed(ctx, &calendar).await?,
        }
    }
    Ok(genuine)
}

/// A Cal.com delivery for `calendar_id`, signed with `X-Cal-Signature-256`.
pub async fn calcom_notice(
    ctx: &AppContext,
    calendar_id: Uuid,
    signature: &str,
    body: &[u8],
) -> Result<bool, SyncError> {
    let Some(calendar) = calendars::Entity::find_by_id(calendar_id)
        .one(&ctx.db)
        .await?
    else {
        return Ok(false);
    };
    let Some(secret) = channel_secret(ctx, &calendar) else {
        return Ok(false);
    };
    let signature = signature.trim();
    let signature = signature.strip_prefix("sha256=").unwrap_or(signature);
    let Ok(expected) = hex::decode(signature.to_ascii_lowercase()) else {
        return Ok(false);
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(body);
    // `verify_slice` compares in constant time.
    if mac.verify_slice(&expected).is_err() {
        tracing::warn!(calendar = %calendar.id, "a Cal.com delivery failed verification");
        return Ok(false);
    }
    pushed(ctx, &calendar).await?;
    Ok(true)
}
