use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Calendars {
    Table,
    BusyTentative,
    BusyAllDay,
    BusyOutOfOffice,
    BusyIgnoreTitles,
}

#[derive(DeriveIden)]
enum Events {
    Table,
    OutOfOffice,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    CalendarsVersion,
}

/// Busy rules per calendar (contract, "Busy rules per calendar"): `busy_tentative` and
/// `busy_all_day` are `busy`, `free` or null (the user's rules decide), `busy_out_of_office` is
/// `busy` or `free`, `busy_ignore_titles` a JSON array of titles. Events learn whether they are
/// out of office; rows synced before read as not (the next sync that touches them says).
/// `users.calendars_version` counts changes to what the freshness of an availability answer is
/// read from (a calendar synced, renamed, included, removed; a connection's status), as
/// `events_version` does for what availability is computed from (`service::version`).
/// One column per statement: SQLite alters one at a time.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Calendars::BusyTentative)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Calendars::BusyAllDay)
                .string()
                .null()
                .to_owned(),
            ColumnDef::new(Calendars::BusyOutOfOffice)
                .string()
                .not_null()
                .default("busy")
                .to_owned(),
            ColumnDef::new(Calendars::BusyIgnoreTitles)
                .json()
                .null()
                .to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Calendars::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .add_column(
                        ColumnDef::new(Events::OutOfOffice)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::CalendarsVersion)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::CalendarsVersion)
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Events::Table)
                    .drop_column(Events::OutOfOffice)
                    .to_owned(),
            )
            .await?;
        for column in [
            Calendars::BusyIgnoreTitles,
            Calendars::BusyOutOfOffice,
            Calendars::BusyAllDay,
            Calendars::BusyTentative,
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Calendars::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
