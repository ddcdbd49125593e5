use sea_orm::entity::prelude::*;

/// One notification on its way to one endpoint (migration 26): written with the notification,
/// tried until delivered or given up.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_messages")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub endpoint_id: Uuid,
    pub user_id: Uuid,
    /// The `webhook-id` header: the notification's id, the same on every attempt.
    pub webhook_id: String,
    pub kind: String,
    /// The exact request body every attempt sends.
    pub body: String,
    pub attempts: i32,
    /// `pending`, `delivered`, `failed` (given up) or `cancelled` (the endpoint was turned off).
    pub state: String,
    /// When to try next; null once the message is settled.
    pub next_attempt_at: Option<DateTimeUtc>,
    /// Held by a queued delivery job until then.
    pub queued_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
