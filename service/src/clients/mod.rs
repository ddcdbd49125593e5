//! The freelancer's clients (or projects): who their time is booked to.

pub mod hours;

use chrono::{DateTime, Utc};
use entity::clients;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    Set, SqlErr,
};
use uuid::Uuid;

use crate::fields::{Color, DisplayName, Invalid};

/// At most this many domains and keywords per client, each at most 100 characters.
const MAX_RULES: usize = 50;
const MAX_RULE_LEN: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("no such client")]
    NotFound,
    #[error("a client with this name exists")]
    NameTaken,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<DbErr> for ClientError {
    fn from(e: DbErr) -> Self {
        match e.sql_err() {
            Some(SqlErr::UniqueConstraintViolation(_)) => ClientError::NameTaken,
            _ => ClientError::Internal(e.into()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct ClientView {
    pub id: Uuid,
    pub name: String,
    pub color: Option<String>,
    pub email_domains: Vec<String>,
    pub keywords: Vec<String>,
    pub archived: bool,
    pub created_at: chrono::DateTime<Utc>,
    pub updated_at: chrono::DateTime<Utc>,
}

impl From<clients::Model> for ClientView {
    fn from(c: clients::Model) -> Self {
        let list = |v: Option<serde_json::Value>| -> Vec<String> {
            v.and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or_default()
        };
        Self {
            id: c.id,
            name: c.name,
            color: c.color,
            email_domains: list(c.email_domains),
            keywords: list(c.keywords),
            archived: c.archived,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// A new client, or the fields of one to change (`None`: leave as is).
#[derive(Debug, Default)]
pub struct ClientInput {
    pub name: Option<String>,
    /// `Some(None)` clears the color.
    pub color: Option<Option<String>>,
    pub email_domains: Option<Vec<String>>,
    pub keywords: Option<Vec<String>>,
    pub archived: Option<bool>,
}

/// The input, parsed: every field that is present is valid.
struct Parsed {
    name: Option<String>,
    color: Option<Option<String>>,
    email_domains: Option<serde_json::Value>,
    keywords: Option<serde_json::Value>,
    archived: Option<bool>,
}

impl ClientInput {
    fn parse(self) -> Result<Parsed, Invalid> {
        let name = self
            .name
            .map(|n| DisplayName::parse(&n).map(DisplayName::into_inner))
            .transpose()?;
        let color = self
            .color
            .map(|c| {
                c.map(|c| Color::parse(&c).map(Color::into_inner))
                    .transpose()
            })
            .transpose()?;
        let email_domains = self
            .email_domains
            .map(|d| rule_list("email_domains", d, parse_domain))
            .transpose()?;
        let keywords = self
            .keywords
            .map(|k| rule_list("keywords", k, parse_keyword))
            .transpose()?;
        Ok(Parsed {
            name,
            color,
            email_domains,
            keywords,
            archived: self.archived,
        })
    }
}

fn rule_list(
    field: &'static str,
    items: Vec<String>,
    parse: fn(&str) -> Option<String>,
) -> Result<serde_json::Value, Invalid> {
    if items.len() > MAX_RULES {
        return Err(Invalid::new(
            field,
            "too_many_rules",
            format!("`{field}` may hold at most {MAX_RULES} entries"),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let parsed = parse(&item).ok_or_else(|| {
            Invalid::new(
                field,
                "invalid_rule",
                format!("`{item}` is not a valid entry of `{field}`"),
            )
        })?;
        if !out.contains(&parsed) {
            out.push(parsed);
        }
    }
    Ok(serde_json::Value::from(out))
}

/// `acme.com` or `@acme.com`, lower-cased: labels of letters, digits and hyphens.
fn parse_domain(raw: &str) -> Option<String> {
    let d = raw.trim().trim_start_matches('@').to_ascii_lowercase();
    let ok = d.len() <= MAX_RULE_LEN
        && d.contains('.')
        && d.split('.').all(|label| {
            !label.is_empty() && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        });
    ok.then_some(d)
}

fn parse_keyword(raw: &str) -> Option<String> {
    let k = raw.trim();
    let n = k.chars().count();
    ((1..=MAX_RULE_LEN).contains(&n) && !k.chars().any(char::is_control)).then(|| k.to_owned())
}

pub async fn list(db: &DatabaseConnection, user_id: Uuid) -> Result<Vec<ClientView>, DbErr> {
    Ok(clients::Entity::find()
        .filter(clients::Column::UserId.eq(user_id))
        .order_by_asc(clients::Column::Name)
        .all(db)
        .await?
        .into_iter()
        .map(ClientView::from)
        .collect())
}

async fn owned(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    id: Uuid,
) -> Result<clients::Model, ClientError> {
    clients::Entity::find_by_id(id)
        .filter(clients::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or(ClientError::NotFound)
}

pub async fn get(
    db: &DatabaseConnection,
    user_id: Uuid,
    id: Uuid,
) -> Result<ClientView, ClientError> {
    owned(db, user_id, id).await.map(ClientView::from)
}

/// Rules decide at read time, so creating, changing or deleting a client changes the client of
/// matching events at once.
pub async fn create(
    db: &DatabaseConnection,
    user_id: Uuid,
    input: ClientInput,
    now: DateTime<Utc>,
) -> Result<ClientView, ClientError> {
    let p = input.parse()?;
    let name = p
        .name
        .ok_or_else(|| Invalid::new("name", "invalid_name", "`name` is required"))?;
    let txn = crate::db::begin_write(db).await?;
    let row = clients::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user_id),
        name: Set(name),
        color: Set(p.color.flatten()),
        email_domains: Set(p.email_domains),
        keywords: Set(p.keywords),
        archived: Set(p.archived.unwrap_or(false)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&txn)
    .await?;
    audit_change(&txn, user_id, "client.created", row.id, now).await?;
    txn.commit().await?;
    Ok(row.into())
}

async fn audit_change(
    db: &impl sea_orm::ConnectionTrait,
    user_id: Uuid,
    action: &str,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use crate::audit::{self, Actor};
    audit::record(
        db,
        audit::Entry::new(Actor::User, user_id, action, "client", id, now),
    )
    .await
}

pub async fn update(
    db: &DatabaseConnection,
    user_id: Uuid,
    id: Uuid,
    input: ClientInput,
    now: DateTime<Utc>,
) -> Result<ClientView, ClientError> {
    let p = input.parse()?;
    let mut row: clients::ActiveModel = owned(db, user_id, id).await?.into();
    if let Some(name) = p.name {
        row.name = Set(name);
    }
    if let Some(color) = p.color {
        row.color = Set(color);
    }
    if let Some(domains) = p.email_domains {
        row.email_domains = Set(Some(domains));
    }
    if let Some(keywords) = p.keywords {
        row.keywords = Set(Some(keywords));
    }
    if let Some(archived) = p.archived {
        row.archived = Set(archived);
    }
    row.updated_at = Set(now);
    let txn = crate::db::begin_write(db).await?;
    let row = row.update(&txn).await?;
    audit_change(&txn, user_id, "client.updated", id, now).await?;
    txn.commit().await?;
    Ok(row.into())
}

/// Deletes the client; its events keep existing, with no client (explicit choices of it go too).
pub async fn delete(
    db: &DatabaseConnection,
    user_id: Uuid,
    id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ClientError> {
    let txn = crate::db::begin_write(db).await?;
    let client = owned(&txn, user_id, id).await?;
    clients::Entity::delete_by_id(client.id).exec(&txn).await?;
    audit_change(&txn, user_id, "client.deleted", id, now).await?;
    txn.commit().await?;
    Ok(())
}
