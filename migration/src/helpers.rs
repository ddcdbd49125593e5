//! Column shapes every table shares, so that all timestamps and references look alike.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// A UTC instant, never null.
pub fn instant<T: IntoIden>(name: T) -> ColumnDef {
    timestamp_with_time_zone(name)
}

/// A UTC instant that may be absent.
pub fn instant_null<T: IntoIden>(name: T) -> ColumnDef {
    timestamp_with_time_zone_null(name)
}

/// `created_at`/`updated_at`, filled by the database when the application leaves them out.
pub fn created_at() -> ColumnDef {
    timestamp_with_time_zone(Alias::new("created_at"))
        .default(Expr::current_timestamp())
        .take()
}

pub fn updated_at() -> ColumnDef {
    timestamp_with_time_zone(Alias::new("updated_at"))
        .default(Expr::current_timestamp())
        .take()
}

/// A foreign key from `table.column` to `parent.id` that disappears with its parent.
pub fn cascade(
    table: impl IntoIden,
    column: impl IntoIden,
    parent: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(parent, Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .on_update(ForeignKeyAction::Cascade)
        .take()
}

/// A foreign key whose column is emptied when the parent goes (history that must outlive it).
pub fn set_null(
    table: impl IntoIden,
    column: impl IntoIden,
    parent: impl IntoIden,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(parent, Alias::new("id"))
        .on_delete(ForeignKeyAction::SetNull)
        .on_update(ForeignKeyAction::Cascade)
        .take()
}

pub async fn drop(
    manager: &SchemaManager<'_>,
    table: impl IntoIden + 'static,
) -> Result<(), DbErr> {
    manager
        .drop_table(Table::drop().table(table).if_exists().to_owned())
        .await
}
