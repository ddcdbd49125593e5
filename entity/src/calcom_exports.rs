use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calcom_exports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub user_id: Uuid,
    pub auto_export: bool,
    pub days: i32,
    pub connection_id: Option<Uuid>,
    pub schedule_id: Option<String>,
    pub body_hash: Option<String>,
    pub exported_at: Option<DateTimeUtc>,
    pub checked_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub due_at: Option<DateTimeUtc>,
    pub lease_until: Option<DateTimeUtc>,
    pub pending: bool,
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
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
