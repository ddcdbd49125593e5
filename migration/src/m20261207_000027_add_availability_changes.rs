use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    AvailabilityFrom,
    AvailabilityTo,
    AvailabilityToldAt,
}

/// `availability.changed`, at most one per user per 5 s: every write that changes what a user's
/// availability is computed from widens the pending span (`availability_from`/`_to`) in its own
/// transaction; the notification that reports the span empties it and stamps
/// `availability_told_at`. One column per statement: SQLite alters one at a time.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Users::AvailabilityFrom,
            Users::AvailabilityTo,
            Users::AvailabilityToldAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .add_column(
                            ColumnDef::new(column)
                                .timestamp_with_time_zone()
                                .null()
                                .to_owned(),
                        )
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            Users::AvailabilityFrom,
            Users::AvailabilityTo,
            Users::AvailabilityToldAt,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Users::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
