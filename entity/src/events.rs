use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub calendar_id: Uuid,
    pub provider: crate::Provider,
    pub provider_event_id: String,
    pub ical_uid: Option<String>,
    pub recurring_event_id: Option<String>,
    pub original_start_at: Option<DateTimeUtc>,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub start_at: DateTimeUtc,
    pub end_at: DateTimeUtc,
    pub all_day: bool,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub timezone: Option<String>,
    pub status: String,
    pub busy: bool,
    pub out_of_office: bool,
    pub self_response: Option<String>,
    pub rrule: Option<String>,
    pub exdates: Option<Json>,
    pub rdates: Option<Json>,
    pub range_end_at: DateTimeUtc,
    pub organizer_email: Option<String>,
    pub attendees: Option<Json>,
    pub etag: Option<String>,
    pub provider_updated_at: Option<DateTimeUtc>,
    pub deleted_at: Option<DateTimeUtc>,
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
        belongs_to = "super::calendars::Entity",
        from = "Column::CalendarId",
        to = "super::calendars::Column::Id",
        on_delete = "Cascade"
    )]
    Calendar,
}

impl Related<super::users::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl Related<super::calendars::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Calendar.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
