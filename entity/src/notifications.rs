use sea_orm::entity::prelude::*;

/// One notification of the outbox (migration 24): `seq` orders a user's notifications and is
/// what the API calls their id.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub seq: i64,
    /// `calendar.synced`, `connection.needs_reauth`, … (contract, "Notifications").
    pub kind: String,
    pub data: Json,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
