use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OauthStates {
    Table,
    BrowserHash,
}

/// Binds an OAuth state to the browser that started the flow: SHA-256 of the value of the
/// HttpOnly cookie set with the authorization URL. The callback refuses a state whose cookie is
/// missing or different. Null for states created before this migration (they expire within
/// minutes and are refused like any unbound state).
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OauthStates::Table)
                    .add_column(ColumnDef::new(OauthStates::BrowserHash).string().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(OauthStates::Table)
                    .drop_column(OauthStates::BrowserHash)
                    .to_owned(),
            )
            .await
    }
}
