use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendar_connections")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub provider: crate::Provider,
    pub account: String,
    pub provider_account_id: String,
    /// Vault ciphertexts; see `service::vault`.
    pub access_token_enc: Option<String>,
    pub refresh_token_enc: Option<String>,
    pub credentials_enc: Option<String>,
    pub token_expires_at: Option<DateTimeUtc>,
    pub scopes: String,
    pub status: crate::ConnectionStatus,
    pub last_error: Option<String>,
    pub last_refreshed_at: Option<DateTimeUtc>,
    /// While set and in the future, one process is refreshing the token.
    pub refreshing_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::users::Entity",
        from = "Column::UserId",
        to = "super::users::Column::Id",
        on_delete = "Cascade"
    )]
    User,
    #[sea_orm(has_many = "super::calendars::Entity")]
    Calendars,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::calendars::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Calendars.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
