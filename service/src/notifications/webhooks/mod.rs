//! Webhooks (contract, "Notifications": webhooks): a user's endpoints, and the messages that carry
//! their notifications there. `queue` runs inside `notifications::record`, in the transaction
//! that writes the notification, so a delivery exists exactly when its notification does;
//! `delivery` sends them from the worker.
//!
//! Secrets are sealed in the vault; the plain secret leaves this module only in the answer to
//! creation and rotation.

pub mod address;
pub mod delivery;
pub mod signing;

use chrono::{DateTime, Duration, Utc};
use entity::{webhook_attempts, webhook_endpoints, webhook_messages};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::Kind;
use crate::AppContext;
use crate::audit::{self, Actor, Entry};
use crate::fields::Invalid;
use crate::vault::{Column, Slot};

/// Endpoints one user may have.
pub const MAX_ENDPOINTS: u64 = 20;
const MAX_DESCRIPTION: usize = 500;
/// How long the secret a rotation replaced still signs.
pub const ROTATION_OVERLAP: Duration = Duration::hours(24);
/// The type of `POST …/test` deliveries (never in the feed).
pub const TEST_TYPE: &str = "webhook.test";

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no such webhook endpoint")]
    NotFound,
    #[error("the endpoint is disabled")]
    Disabled,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for WebhookError {
    fn from(e: DbErr) -> Self {
        WebhookError::Internal(e.into())
    }
}

#[derive(Clone, Debug)]
pub struct EndpointView {
    pub id: Uuid,
    pub url: String,
    /// Every type it receives (all of them when it was created without a list).
    pub types: Vec<String>,
    pub description: String,
    pub enabled: bool,
    pub disabled_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<webhook_endpoints::Model> for EndpointView {
    fn from(m: webhook_endpoints::Model) -> Self {
        Self {
            types: subscribed(&m)
                .map(|t| t.to_vec())
                .unwrap_or_else(|| Kind::ALL.iter().map(|k| k.as_str().to_owned()).collect()),
            id: m.id,
            url: m.url,
            description: m.description,
            enabled: m.enabled,
            disabled_reason: m.disabled_reason,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

/// The endpoint's own list of types; None for all.
fn subscribed(m: &webhook_endpoints::Model) -> Option<Vec<String>> {
    m.types
        .as_ref()
        .and_then(|v| serde_json::from_value::<Vec<String>>(v.clone()).ok())
}

/// A new endpoint (`url` required), or the fields of one to change (`None`: leave as is).
#[derive(Debug, Default)]
pub struct EndpointInput {
    pub url: Option<String>,
    /// `Some(None)`: every type.
    pub types: Option<Option<Vec<String>>>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
}

/// A type list, parsed: known types, each once, at least one.
fn parse_types(types: Vec<String>) -> Result<Value, Invalid> {
    let mut seen: Vec<String> = Vec::new();
    for t in types {
        let t = t.trim().to_owned();
        if Kind::parse(&t).is_none() {
            return Err(Invalid::new(
                "types",
                "invalid_types",
                format!("`{t}` is not a notification type."),
            ));
        }
        if !seen.contains(&t) {
            seen.push(t);
        }
    }
    if seen.is_empty() {
        return Err(Invalid::new(
            "types",
            "invalid_types",
            "Name at least one type, or leave `types` out to receive every type.",
        ));
    }
    Ok(json!(seen))
}

fn parse_description(d: String) -> Result<String, Invalid> {
    let d = d.trim().to_owned();
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(Invalid::new(
            "description",
            "invalid_description",
            format!("The description may be at most {MAX_DESCRIPTION} characters."),
        ));
    }
    Ok(d)
}

fn policy(ctx: &AppContext) -> address::Policy {
    address::Policy {
        allow_http: ctx.settings.access.webhooks_allow_http,
        allow_private: ctx.settings.access.webhooks_allow_private,
    }
}

/// A created endpoint with its secret, shown this once.
pub struct Created {
    pub endpoint: EndpointView,
    pub secret: String,
}

pub async fn create(
    ctx: &AppContext,
    user_id: Uuid,
    input: EndpointInput,
    now: DateTime<Utc>,
) -> Result<Created, WebhookError> {
    let Some(raw_url) = input.url else {
        return Err(Invalid::new("url", "invalid_url", "`url` is required.").into());
    };
    let url = address::check(&raw_url, policy(ctx)).await?;
    let types = input.types.flatten().map(parse_types).transpose()?;
    let description = input
        .description
        .map(parse_description)
        .transpose()?
        .unwrap_or_default();
    let count = webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::UserId.eq(user_id))
        .count(&ctx.db)
        .await?;
    if count >= MAX_ENDPOINTS {
        return Err(Invalid::new(
            "url",
            "too_many_endpoints",
            format!("An account may have at most {MAX_ENDPOINTS} webhook endpoints."),
        )
        .into());
    }
    let id = Uuid::now_v7();
    let secret = signing::new_secret();
    let txn = crate::db::begin_write(&ctx.db).await?;
    let row = webhook_endpoints::ActiveModel {
        id: Set(id),
        user_id: Set(user_id),
        url: Set(url.to_string()),
        types: Set(types),
        description: Set(description),
        enabled: Set(input.enabled.unwrap_or(true)),
        secret_enc: Set(ctx
            .vault
            .seal(&secret, Slot::new(Column::WebhookSecret, id))),
        previous_secret_enc: Set(None),
        previous_secret_until: Set(None),
        disabled_reason: Set(None),
        failing_since: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit::record(
        &txn,
        Entry::new(
            Actor::User,
            user_id,
            "webhook_endpoint.created",
            "webhook_endpoint",
            id,
            now,
        )
        .details(json!({"url": row.url, "types": row.types})),
    )
    .await?;
    txn.commit().await?;
    Ok(Created {
        endpoint: row.into(),
        secret,
    })
}

async fn find(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<webhook_endpoints::Model, WebhookError> {
    webhook_endpoints::Entity::find_by_id(id)
        .filter(webhook_endpoints::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(WebhookError::NotFound)
}

pub async fn list(ctx: &AppContext, user_id: Uuid) -> Result<Vec<EndpointView>, WebhookError> {
    Ok(webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::UserId.eq(user_id))
        .order_by_asc(webhook_endpoints::Column::CreatedAt)
        .order_by_asc(webhook_endpoints::Column::Id)
        .all(&ctx.db)
        .await?
        .into_iter()
        .map(EndpointView::from)
        .collect())
}

pub async fn get(ctx: &AppContext, user_id: Uuid, id: Uuid) -> Result<EndpointView, WebhookError> {
    Ok(find(&ctx.db, user_id, id).await?.into())
}

pub async fn update(
    ctx: &AppContext,
    user_id: Uuid,
    id: Uuid,
    input: EndpointInput,
    now: DateTime<Utc>,
) -> Result<EndpointView, WebhookError> {
    let url = match &input.url {
        Some(raw) => Some(address::check(raw, policy(ctx)).await?.to_string()),
        None => None,
    };
    let types = input
        .types
        .map(|t| t.map(parse_types).transpose())
        .transpose()?;
    let description = input.description.map(parse_description).transpose()?;
    let txn = crate::db::begin_write(&ctx.db).await?;
    let current = find(&txn, user_id, id).await?;
    let mut row: webhook_endpoints::ActiveModel = current.clone().into();
    let mut changed = serde_json::Map::new();
    if let Some(url) = url {
        changed.insert("url".into(), json!(url));
        row.url = Set(url);
    }
    if let Some(types) = types {
        changed.insert("types".into(), json!(types));
        row.types = Set(types);
    }
    if let Some(d) = description {
        changed.insert("description".into(), json!(d));
        row.description = Set(d);
    }
    if let Some(enabled) = input.enabled {
        changed.insert("enabled".into(), json!(enabled));
        row.enabled = Set(enabled);
        if enabled && !current.enabled {
            // Switched on again: a fresh start, not five more days of the old failures.
            row.disabled_reason = Set(None);
            row.failing_since = Set(None);
        }
        if !enabled && current.enabled {
            cancel_pending(&txn, id).await?;
        }
    }
    row.updated_at = Set(now);
    let row = row.update(&txn).await?;
    audit::record(
        &txn,
        Entry::new(
            Actor::User,
            user_id,
            "webhook_endpoint.updated",
            "webhook_endpoint",
            id,
            now,
        )
        .details(Value::Object(changed)),
    )
    .await?;
    txn.commit().await?;
    Ok(row.into())
}

pub async fn delete(
    ctx: &AppContext,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), WebhookError> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let endpoint = find(&txn, user_id, id).await?;
    // The log and the messages go with it (foreign keys cascade; spelled out for SQLite
    // connections that do not enforce them).
    webhook_attempts::Entity::delete_many()
        .filter(webhook_attempts::Column::EndpointId.eq(id))
        .exec(&txn)
        .await?;
    webhook_messages::Entity::delete_many()
        .filter(webhook_messages::Column::EndpointId.eq(id))
        .exec(&txn)
        .await?;
    webhook_endpoints::Entity::delete_by_id(id)
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        Entry::new(
            Actor::User,
            user_id,
            "webhook_endpoint.deleted",
            "webhook_endpoint",
            id,
            now,
        )
        .details(json!({"url": endpoint.url})),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// A new secret; the old one keeps signing beside it for `ROTATION_OVERLAP`.
pub async fn rotate_secret(
    ctx: &AppContext,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<Created, WebhookError> {
    let txn = crate::db::begin_write(&ctx.db).await?;
    let current = find(&txn, user_id, id).await?;
    let old = ctx
        .vault
        .open(&current.secret_enc, Slot::new(Column::WebhookSecret, id))
        .map_err(|e| WebhookError::Internal(e.into()))?;
    let secret = signing::new_secret();
    let mut row: webhook_endpoints::ActiveModel = current.into();
    row.secret_enc = Set(ctx
        .vault
        .seal(&secret, Slot::new(Column::WebhookSecret, id)));
    row.previous_secret_enc = Set(Some(
        ctx.vault
            .seal(&old, Slot::new(Column::WebhookPreviousSecret, id)),
    ));
    row.previous_secret_until = Set(Some(now + ROTATION_OVERLAP));
    row.updated_at = Set(now);
    let row = row.update(&txn).await?;
    audit::record(
        &txn,
        Entry::new(
            Actor::User,
            user_id,
            "webhook_endpoint.secret_rotated",
            "webhook_endpoint",
            id,
            now,
        ),
    )
    .await?;
    txn.commit().await?;
    Ok(Created {
        endpoint: row.into(),
        secret,
    })
}

/// The secrets a delivery at `now` is signed with: the current one, and the replaced one during
/// the overlap.
pub(crate) fn signing_secrets(
    ctx: &AppContext,
    endpoint: &webhook_endpoints::Model,
    now: DateTime<Utc>,
) -> Result<Vec<String>, crate::vault::VaultError> {
    let mut secrets = vec![ctx.vault.open(
        &endpoint.secret_enc,
        Slot::new(Column::WebhookSecret, endpoint.id),
    )?];
    if let (Some(old), Some(until)) = (
        &endpoint.previous_secret_enc,
        endpoint.previous_secret_until,
    ) && now < until
    {
        secrets.push(
            ctx.vault
                .open(old, Slot::new(Column::WebhookPreviousSecret, endpoint.id))?,
        );
    }
    Ok(secrets)
}

/// Queues a `webhook.test` delivery to the endpoint; returns its `webhook-id`.
pub async fn send_test(
    ctx: &AppContext,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<String, WebhookError> {
    let endpoint = find(&ctx.db, user_id, id).await?;
    if !endpoint.enabled {
        return Err(WebhookError::Disabled);
    }
    let webhook_id = format!("test_{}", Uuid::now_v7().simple());
    let body = body(TEST_TYPE, now, &json!({"endpoint_id": id}));
    let txn = crate::db::begin_write(&ctx.db).await?;
    insert_message(&txn, &endpoint, &webhook_id, TEST_TYPE, body, now).await?;
    audit::record(
        &txn,
        Entry::new(
            Actor::User,
            user_id,
            "webhook_endpoint.tested",
            "webhook_endpoint",
            id,
            now,
        ),
    )
    .await?;
    txn.commit().await?;
    delivery::enqueue_due(ctx, Some(user_id), now).await;
    Ok(webhook_id)
}

/// A delivery's body: the same bytes on every attempt.
fn body(kind: &str, created_at: DateTime<Utc>, data: &Value) -> String {
    json!({"type": kind, "timestamp": created_at, "data": data}).to_string()
}

async fn insert_message(
    db: &impl ConnectionTrait,
    endpoint: &webhook_endpoints::Model,
    webhook_id: &str,
    kind: &str,
    body: String,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    webhook_messages::ActiveModel {
        id: Set(Uuid::now_v7()),
        endpoint_id: Set(endpoint.id),
        user_id: Set(endpoint.user_id),
        webhook_id: Set(webhook_id.to_owned()),
        kind: Set(kind.to_owned()),
        body: Set(body),
        attempts: Set(0),
        state: Set(delivery::PENDING.to_owned()),
        next_attempt_at: Set(Some(now)),
        queued_until: Set(None),
        created_at: Set(now),
    }
    .insert(db)
    .await
    .map(drop)
}

/// In `record`'s transaction: a message for each of the user's enabled endpoints that takes
/// this type.
pub(crate) async fn queue(
    txn: &impl ConnectionTrait,
    user_id: Uuid,
    webhook_id: &str,
    kind: Kind,
    data: &Value,
    now: DateTime<Utc>,
) -> Result<usize, DbErr> {
    let endpoints = webhook_endpoints::Entity::find()
        .filter(webhook_endpoints::Column::UserId.eq(user_id))
        .filter(webhook_endpoints::Column::Enabled.eq(true))
        .all(txn)
        .await?;
    let mut queued = 0;
    for endpoint in endpoints {
        let takes =
            subscribed(&endpoint).is_none_or(|types| types.iter().any(|t| t == kind.as_str()));
        if takes {
            let body = body(kind.as_str(), now, data);
            insert_message(txn, &endpoint, webhook_id, kind.as_str(), body, now).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

/// Settles an endpoint's waiting messages when it is turned off.
async fn cancel_pending(db: &impl ConnectionTrait, endpoint_id: Uuid) -> Result<(), DbErr> {
    webhook_messages::Entity::update_many()
        .col_expr(
            webhook_messages::Column::State,
            Expr::value(delivery::CANCELLED),
        )
        .col_expr(
            webhook_messages::Column::NextAttemptAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(webhook_messages::Column::EndpointId.eq(endpoint_id))
        .filter(webhook_messages::Column::NextAttemptAt.is_not_null())
        .exec(db)
        .await
        .map(drop)
}

/// One entry of an endpoint's delivery log.
#[derive(Clone, Debug)]
pub struct AttemptView {
    pub id: Uuid,
    pub notification_id: String,
    pub attempt: i32,
    pub at: DateTime<Utc>,
    pub status_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i64,
}

/// The endpoint's delivery log, newest first: at most `limit`, after the entry `after`; and the
/// token of the next page.
pub async fn deliveries(
    ctx: &AppContext,
    user_id: Uuid,
    id: Uuid,
    limit: u64,
    after: Option<Uuid>,
) -> Result<(Vec<AttemptView>, Option<Uuid>), WebhookError> {
    find(&ctx.db, user_id, id).await?;
    let mut query =
        webhook_attempts::Entity::find().filter(webhook_attempts::Column::EndpointId.eq(id));
    if let Some(after) = after {
        let Some(last) = webhook_attempts::Entity::find_by_id(after)
            .filter(webhook_attempts::Column::EndpointId.eq(id))
            .one(&ctx.db)
            .await?
        else {
            return Ok((Vec::new(), None));
        };
        query = query.filter(
            Condition::any()
                .add(webhook_attempts::Column::At.lt(last.at))
                .add(
                    Condition::all()
                        .add(webhook_attempts::Column::At.eq(last.at))
                        .add(webhook_attempts::Column::Id.lt(last.id)),
                ),
        );
    }
    let rows = query
        .order_by_desc(webhook_attempts::Column::At)
        .order_by_desc(webhook_attempts::Column::Id)
        .limit(limit)
        .all(&ctx.db)
        .await?;
    let next = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let views = rows
        .into_iter()
        .map(|r| AttemptView {
            id: r.id,
            notification_id: r.webhook_id,
            attempt: r.attempt,
            at: r.at,
            status_code: r.status_code,
            error: r.error,
            duration_ms: r.duration_ms,
        })
        .collect();
    Ok((views, next))
}

/// Housekeeping: settled messages and log entries older than the outbox keeps notifications.
pub async fn purge(db: &impl ConnectionTrait, before: DateTime<Utc>) -> Result<(), DbErr> {
    webhook_attempts::Entity::delete_many()
        .filter(webhook_attempts::Column::At.lt(before))
        .exec(db)
        .await?;
    webhook_messages::Entity::delete_many()
        .filter(webhook_messages::Column::CreatedAt.lt(before))
        .filter(webhook_messages::Column::NextAttemptAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
