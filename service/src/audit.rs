//! The audit log: who changed what. Details must never carry secrets.

use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::sea_query::Condition;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use uuid::Uuid;

#[derive(Clone, Copy, Debug)]
pub enum Actor {
    User,
    Worker,
    System,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::User => "user",
            Actor::Worker => "worker",
            Actor::System => "system",
        }
    }
}

pub struct Entry<'a> {
    pub user_id: Option<Uuid>,
    pub actor: Actor,
    pub action: &'a str,
    pub entity_type: &'a str,
    pub entity_id: Option<String>,
    pub details: Option<serde_json::Value>,
    /// When it happened, by the application's clock.
    pub at: DateTime<Utc>,
}

impl<'a> Entry<'a> {
    /// `actor` did `action` to the user's `entity_type` `entity_id`.
    pub fn new(
        actor: Actor,
        user_id: Uuid,
        action: &'a str,
        entity_type: &'a str,
        entity_id: impl ToString,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            user_id: Some(user_id),
            actor,
            action,
            entity_type,
            entity_id: Some(entity_id.to_string()),
            details: None,
            at,
        }
    }

    /// What changed, in a few words: never a secret.
    pub fn details(mut self, details: serde_json::Value) -> Self {
        self.details = Some(details);
        self
    }
}

/// The user's entries, newest first: at most `limit`, after the entry `after` (a page token);
/// and the token of the next page, when there may be one.
pub async fn page(
    db: &impl ConnectionTrait,
    user_id: Uuid,
    limit: u64,
    after: Option<Uuid>,
) -> Result<(Vec<audit_log::Model>, Option<Uuid>), DbErr> {
    let mut query = audit_log::Entity::find().filter(audit_log::Column::UserId.eq(user_id));
    if let Some(after) = after {
        let Some(last) = audit_log::Entity::find_by_id(after)
            .filter(audit_log::Column::UserId.eq(user_id))
            .one(db)
            .await?
        else {
            return Ok((Vec::new(), None));
        };
        query = query.filter(
            Condition::any()
                .add(audit_log::Column::CreatedAt.lt(last.created_at))
                .add(
                    Condition::all()
                        .add(audit_log::Column::CreatedAt.eq(last.created_at))
                        .add(audit_log::Column::Id.lt(last.id)),
                ),
        );
    }
    let entries = query
        .order_by_desc(audit_log::Column::CreatedAt)
        .order_by_desc(audit_log::Column::Id)
        .limit(limit)
        .all(db)
        .await?;
    let next = (entries.len() as u64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok((entries, next))
}

pub async fn record(db: &impl ConnectionTrait, entry: Entry<'_>) -> Result<(), DbErr> {
    audit_log::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(entry.user_id),
        actor: Set(entry.actor.as_str().to_owned()),
        action: Set(entry.action.to_owned()),
        entity_type: Set(entry.entity_type.to_owned()),
        entity_id: Set(entry.entity_id),
        details: Set(entry.details),
        created_at: Set(entry.at),
    }
    .insert(db)
    .await
    .map(drop)
}
