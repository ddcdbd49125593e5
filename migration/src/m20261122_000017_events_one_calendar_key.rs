use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// On Postgres, an event's two foreign keys (to its user and to its calendar) become one, to the
/// calendar *of that user*: `(calendar_id, user_id) → calendars (id, user_id)`. An event can no
/// longer name a user other than its calendar's, deleting a user still removes their events
/// (through their calendars), and an insert checks one key instead of two — the checks were a
/// quarter of Postgres's work in a full sync.
///
/// SQLite keeps the two keys: it cannot alter a constraint, and rebuilding `events` there would
/// need foreign keys switched off (dropping the table would otherwise cascade into
/// `event_clients`), which SQLite does not allow inside the migration's transaction.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX ux_calendars_id_user ON calendars (id, user_id);
                 ALTER TABLE events
                     ADD CONSTRAINT fk_events_calendar_of_user FOREIGN KEY (calendar_id, user_id)
                         REFERENCES calendars (id, user_id) ON DELETE CASCADE ON UPDATE CASCADE,
                     DROP CONSTRAINT events_calendar_id_fkey,
                     DROP CONSTRAINT events_user_id_fkey;",
            )
            .await
            .map(|_| ())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        manager
            .get_connection()
            .execute_unprepared(
                "ALTER TABLE events
                     ADD CONSTRAINT events_user_id_fkey FOREIGN KEY (user_id)
                         REFERENCES users (id) ON DELETE CASCADE ON UPDATE CASCADE,
                     ADD CONSTRAINT events_calendar_id_fkey FOREIGN KEY (calendar_id)
                         REFERENCES calendars (id) ON DELETE CASCADE ON UPDATE CASCADE,
                     DROP CONSTRAINT fk_events_calendar_of_user;
                 DROP INDEX ux_calendars_id_user;",
            )
            .await
            .map(|_| ())
    }
}
