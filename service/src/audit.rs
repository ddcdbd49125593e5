//! The audit log: who changed what. Details must never carry secrets.

use chrono::{DateTime, Utc};
use entity::audit_log;
use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, Set};
use uuid::Uuid;

#[derive(Clone, Copy, Debug)]
pub enum Actor {
    User,
    Worker,
    System,
}

impl Actor {
    fn as_str(self) -> &'static str {
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
