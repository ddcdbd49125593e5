use sea_orm::entity::prelude::*;

/// A task to plan into free time (migration 28). A repeating task is one row per occurrence.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tasks")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub user_id: Uuid,
    pub title: String,
    pub notes: Option<String>,
    pub duration_minutes: i32,
    pub due: Option<DateTimeUtc>,
    pub earliest_start: Option<DateTimeUtc>,
    /// 1 (most urgent) to 4.
    pub priority: i32,
    /// A JSON list of tags.
    pub tags: Json,
    pub min_chunk_minutes: i32,
    pub max_chunk_minutes: i32,
    pub client_id: Option<Uuid>,
    pub reminder_minutes: Option<i32>,
    /// `due − reminder_minutes`, kept for the reminder tick's index.
    pub remind_at: Option<DateTimeUtc>,
    pub rrule: Option<String>,
    /// The occurrences of one repeating task share it.
    pub series_id: Option<Uuid>,
    /// The first occurrence's due: where the rule is anchored.
    pub series_start: Option<DateTimeUtc>,
    /// `open` or `done`.
    pub status: String,
    pub completed_at: Option<DateTimeUtc>,
    pub at_risk: bool,
    pub unscheduled_minutes: i32,
    pub reminded_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
