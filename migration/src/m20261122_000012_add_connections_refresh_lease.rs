use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CalendarConnections {
    Table,
    RefreshingUntil,
}

/// A lease on refreshing a connection's token. Providers that rotate refresh tokens (Cal.com
/// retires the old one) must never see two refreshes with the same token, and several workers
/// may want to refresh at once; the one that sets the lease refreshes, the others wait for it.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarConnections::Table)
                    .add_column(
                        ColumnDef::new(CalendarConnections::RefreshingUntil)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CalendarConnections::Table)
                    .drop_column(CalendarConnections::RefreshingUntil)
                    .to_owned(),
            )
            .await
    }
}
