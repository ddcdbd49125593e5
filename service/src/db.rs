//! The database connection (Postgres or SQLite, chosen by `DATABASE_URL`) and its migrations.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbBackend, DbErr, Statement,
    TransactionTrait,
};

pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // WAL lets the api read while the worker writes; NORMAL is durable in WAL mode.
        options.max_connections(8).map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
        });
    } else {
        options.max_connections(20);
    }
    Database::connect(options).await
}

/// Applies pending migrations. On Postgres they run in one transaction that first takes a
/// transaction-scoped advisory lock, so several `api`/`worker` processes starting at once take
/// turns instead of racing through the same DDL (and the lock cannot outlive the transaction,
/// as a session lock on a pooled connection would).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    const LOCK_KEY: i64 = 0x6672_6565_736c_6f74; // "freeslot"
    if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await?;
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"),
        ))
        .await?;
        Migrator::up(&txn, None).await?;
        txn.commit().await
    } else {
        Migrator::up(db, None).await
    }
}

pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}

/// A transaction that will write. On SQLite it takes the write lock at `BEGIN` (IMMEDIATE), so a
/// transaction that reads first and writes later waits for the lock (busy timeout) instead of
/// failing with "database is locked" when another writer got there in between.
pub async fn begin_write(db: &DatabaseConnection) -> Result<sea_orm::DatabaseTransaction, DbErr> {
    if db.get_database_backend() == DbBackend::Sqlite {
        db.begin_with_options(sea_orm::TransactionOptions {
            sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
            ..Default::default()
        })
        .await
    } else {
        db.begin().await
    }
}
