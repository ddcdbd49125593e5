use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub email: String,
    pub password_hash: String,
    pub name: String,
    pub timezone: String,
    /// Incremented by every change to the user's events or rules (cache validation).
    pub events_version: i64,
    /// Bumped by every change to what availability answers' freshness is read from
    /// (`service::version::touch_calendars`).
    pub calendars_version: i64,
    /// The last `seq` given to one of the user's notifications (`service::notifications`).
    pub notification_seq: i64,
    /// The last notification the e-mail alerts looked at (`service::alerts`).
    pub alerted_seq: i64,
    /// The span whose free time changed and is not yet told (`availability.changed`).
    pub availability_from: Option<DateTimeUtc>,
    pub availability_to: Option<DateTimeUtc>,
    /// When `availability.changed` was last told.
    pub availability_told_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::calendar_connections::Entity")]
    CalendarConnections,
    #[sea_orm(has_many = "super::calendars::Entity")]
    Calendars,
    #[sea_orm(has_many = "super::events::Entity")]
    Events,
}

impl Related<super::calendar_connections::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::CalendarConnections.def()
    }
}

impl Related<super::calendars::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Calendars.def()
    }
}

impl Related<super::events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Events.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
