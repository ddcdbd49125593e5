use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Calendars {
    Table,
    FailingSince,
    AlertSentAt,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    AlertedSeq,
}

/// E-mail alerts, one per incident: `calendars.failing_since` is when the current run of failed
/// syncs began (null while it syncs), `alert_sent_at` when that calendar last caused an e-mail;
/// `users.alerted_seq` is the last notification the alerts job has looked at. One column per
/// statement: SQLite alters one at a time.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for mut column in [
            ColumnDef::new(Calendars::FailingSince)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
            ColumnDef::new(Calendars::AlertSentAt)
                .timestamp_with_time_zone()
                .null()
                .to_owned(),
        ] {
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
                    .table(Users::Table)
                    .add_column(
                        ColumnDef::new(Users::AlertedSeq)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Calendars::FailingSince, Calendars::AlertSentAt] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Calendars::Table)
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Users::Table)
                    .drop_column(Users::AlertedSeq)
                    .to_owned(),
            )
            .await
    }
}
