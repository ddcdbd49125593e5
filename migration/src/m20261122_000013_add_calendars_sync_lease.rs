use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Calendars {
    Table,
    SyncLeaseUntil,
    SyncPending,
}

/// A sync of one calendar runs in one place at a time: the run that sets `sync_lease_until` syncs;
/// a request that finds the lease taken sets `sync_pending`, and the running sync goes once more.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Calendars::Table)
                    .add_column(
                        ColumnDef::new(Calendars::SyncLeaseUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Calendars::Table)
                    .add_column(
                        ColumnDef::new(Calendars::SyncPending)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite cannot drop two in one ALTER TABLE.
        for column in [Calendars::SyncPending, Calendars::SyncLeaseUntil] {
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
