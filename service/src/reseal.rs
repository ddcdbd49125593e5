//! The data half of migration 21's change of format: every sealed value not in the vault's
//! current format under the current key — `v1` values without associated data, values under a
//! retired key — is sealed again, bound to its row. Runs at start-up after the schema
//! migrations (it needs the keys, which the `migration` crate never sees), and is idempotent:
//! with nothing to do it reads one indexed column per table.
//!
//! Each row is rewritten with a conditional UPDATE (`WHERE id = … AND column = <what was read>`),
//! so a token refreshed meanwhile by another process is never overwritten with the old one.

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::vault::{Column, Slot, Vault};

/// Re-seals what needs it; returns how many values were rewritten.
pub async fn run(db: &DatabaseConnection, vault: &Vault) -> Result<u64, DbErr> {
    let mut rewritten = 0;
    for column in Column::ALL {
        let (table, name) = column.path().split_once('.').expect("table.column");
        let select = Query::select()
            .column(Alias::new("id"))
            .column(Alias::new(name))
            .from(Alias::new(table))
            .and_where(Expr::col(Alias::new(name)).is_not_null())
            .to_owned();
        let rows = db.query_all(&select).await?;
        for row in rows {
            let id: Uuid = row.try_get("", "id")?;
            let sealed: String = row.try_get("", name)?;
            if !vault.needs_reseal(&sealed) {
                continue;
            }
            let slot = Slot::new(column, id);
            let plaintext = match vault.open_legacy(&sealed, slot) {
                Ok(p) => p,
                Err(e) => {
                    // Left as it is: the reader reports it (a connection to reconnect).
                    tracing::warn!(column = column.path(), %id, error = %e, "a sealed value does not open");
                    continue;
                }
            };
            let update = Query::update()
                .table(Alias::new(table))
                .value(Alias::new(name), vault.seal(&plaintext, slot))
                .and_where(Expr::col(Alias::new("id")).eq(id))
                .and_where(Expr::col(Alias::new(name)).eq(sealed.as_str()))
                .to_owned();
            rewritten += db.execute(&update).await?.rows_affected();
        }
    }
    if rewritten > 0 {
        tracing::info!(
            rewritten,
            "sealed values re-sealed to the current format and key"
        );
    }
    Ok(rewritten)
}
