use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "calendars")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    /// None for the user's own calendar of manual events.
    pub connection_id: Option<Uuid>,
    pub provider: crate::Provider,
    pub provider_calendar_id: String,
    pub name: String,
    pub color: Option<String>,
    pub timezone: Option<String>,
    pub is_primary: bool,
    pub include_in_availability: bool,
    pub sync_cursor: Option<String>,
    pub sync_status: crate::SyncStatus,
    pub last_synced_at: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTimeUtc>,
    pub consecutive_failures: i32,
    pub paused_until: Option<DateTimeUtc>,
    pub channel_id: Option<String>,
    pub channel_resource_id: Option<String>,
    pub channel_secret_enc: Option<String>,
    pub channel_expires_at: Option<DateTimeUtc>,
    pub last_push_at: Option<DateTimeUtc>,
    /// While set and in the future, one worker is syncing this calendar.
    pub sync_lease_until: Option<DateTimeUtc>,
    /// A sync was asked for while one ran: run once more when it ends.
    pub sync_pending: bool,
    /// Busy rules (contract, "Busy rules per calendar"): `busy`, `free`, or null = the user's
    /// rules decide.
    pub busy_tentative: Option<String>,
    pub busy_all_day: Option<String>,
    /// `busy` or `free`.
    pub busy_out_of_office: String,
    /// Titles whose events never block, as a JSON array of strings.
    pub busy_ignore_titles: Option<Json>,
    /// When the current run of failed syncs began; null while the calendar syncs.
    pub failing_since: Option<DateTimeUtc>,
    /// When this calendar last caused an e-mail alert.
    pub alert_sent_at: Option<DateTimeUtc>,
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
    #[sea_orm(
        belongs_to = "super::calendar_connections::Entity",
        from = "Column::ConnectionId",
        to = "super::calendar_connections::Column::Id",
        on_delete = "Cascade"
    )]
    Connection,
    #[sea_orm(has_many = "super::events::Entity")]
    Events,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::calendar_connections::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Connection.def()
    }
}

impl Related<super::events::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Events.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
