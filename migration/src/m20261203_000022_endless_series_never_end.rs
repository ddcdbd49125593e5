use sea_orm::sea_query::{Expr, ExprTrait, Query};
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Events {
    Table,
    Rrule,
    RangeEndAt,
}

/// Series without COUNT or UNTIL used to end two years after they began, and their
/// `range_end_at` (what the window query compares) said so. They now repeat without end: their
/// rows get the range end every new endless series gets (`domain::recurrence::endless`, 9999),
/// so a daily meeting created long ago is found in today's windows again. `down` leaves them:
/// the old end cannot be told apart from data, and an endless end is never wrong, only slower.
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let endless = chrono::DateTime::<chrono::Utc>::from_naive_utc_and_offset(
            chrono::NaiveDate::from_ymd_opt(9999, 1, 1)
                .expect("a date")
                .and_time(chrono::NaiveTime::MIN),
            chrono::Utc,
        );
        let update = Query::update()
            .table(Events::Table)
            .value(Events::RangeEndAt, endless)
            .and_where(Expr::col(Events::Rrule).is_not_null())
            .and_where(Expr::col(Events::Rrule).not_like("%COUNT=%"))
            .and_where(Expr::col(Events::Rrule).not_like("%UNTIL=%"))
            .to_owned();
        manager.exec_stmt(update).await
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
