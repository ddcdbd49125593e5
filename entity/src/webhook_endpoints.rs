use sea_orm::entity::prelude::*;

/// A user's webhook receiver (migration 26). The secrets are sealed by the vault.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_endpoints")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub url: String,
    /// A JSON list of notification types; null for every type.
    pub types: Option<Json>,
    pub description: String,
    pub enabled: bool,
    pub secret_enc: String,
    /// The secret a rotation replaced, still signed with until `previous_secret_until`.
    pub previous_secret_enc: Option<String>,
    pub previous_secret_until: Option<DateTimeUtc>,
    /// Why freeslot turned the endpoint off (410 Gone, five days of failures).
    pub disabled_reason: Option<String>,
    /// The first failed attempt since the last delivered one.
    pub failing_since: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
