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
        options
            .max_connections(20)
            .map_sqlx_postgres_pool_opts(|pool| {
                pool.after_connect(|_, _| {
                    Box::pin(async {
                        nodelay::apply();
                        Ok(())
                    })
                })
            });
    }
    Database::connect(options).await
}

/// sqlx 0.9.0 stopped setting `TCP_NODELAY` on its sockets (sqlx issue #4335, fixed upstream,
/// not released). Without it, every statement larger than the socket's send buffer waits for
/// the server's delayed ACK: 40 ms, which made a page of 250 synced events take 90 ms instead
/// of 10. sqlx gives no access to its socket, so after each new connection this sets the
/// option on every TCP socket of the process (connections to Postgres among them; for any
/// other TCP socket it only removes the same delay). Linux only; remove with sqlx 0.9.1.
mod nodelay {
    #[cfg(target_os = "linux")]
    pub fn apply() {
        use std::mem::ManuallyDrop;
        use std::os::fd::FromRawFd;
        let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
            return;
        };
        for entry in entries.flatten() {
            let is_socket = std::fs::read_link(entry.path())
                .is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
            let Some(fd) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<i32>().ok())
            else {
                continue;
            };
            if !is_socket {
                continue;
            }
            // SAFETY: the descriptor is only borrowed (ManuallyDrop never closes it) for two
            // socket options calls, which fail harmlessly on a socket that is not TCP.
            let stream = ManuallyDrop::new(unsafe { std::net::TcpStream::from_raw_fd(fd) });
            if stream.peer_addr().is_ok() {
                let _ = stream.set_nodelay(true);
            }
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn apply() {}
}

/// Applies pending migrations. On Postgres they run in one transaction that first takes a
/// transaction-scoped advisory lock, so several `api`/`worker` processes starting at once take
/// turns instead of racing through the same DDL (and the lock cannot outlive the transaction,
/// as a session lock on a pooled connection would).
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    migrate_step(db, Step::Up(None)).await
}

/// What `freeslot migrate` may ask for.
#[derive(Clone, Copy, Debug)]
pub enum Step {
    /// Apply pending migrations (all, or this many).
    Up(Option<u32>),
    /// Undo this many.
    Down(u32),
    /// Undo all.
    Reset,
}

/// Runs migrations in one transaction on one connection. On Postgres a transaction-scoped
/// advisory lock makes concurrent starts take turns. On SQLite a migration that rebuilds a table
/// (drop, then rename the copy) must run where it sees its own drop: another pooled connection
/// may still read an older schema and refuse the rename. Either way a failure leaves nothing
/// half-done.
pub async fn migrate_step(db: &DatabaseConnection, step: Step) -> Result<(), DbErr> {
    const LOCK_KEY: i64 = 0x6672_6565_736c_6f74; // "freeslot"
    let txn = begin_write(db).await?;
    if db.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(Statement::from_string(
            DbBackend::Postgres,
            format!("SELECT pg_advisory_xact_lock({LOCK_KEY})"),
        ))
        .await?;
    }
    match step {
        Step::Up(steps) => Migrator::up(&txn, steps).await?,
        Step::Down(steps) => Migrator::down(&txn, Some(steps)).await?,
        Step::Reset => Migrator::reset(&txn).await?,
    }
    txn.commit().await
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

/// Whether `err` says the database is unavailable for now rather than that the request or our
/// code is wrong: no connection to be had, a connection that broke (the server restarted, an
/// administrator terminated the backend), or a transaction the server gave up on (deadlock,
/// serialization failure). The api answers these with 503, which a client may retry.
pub fn is_transient(err: &DbErr) -> bool {
    use sea_orm::sqlx::Error as Sqlx;
    let runtime = match err {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => return true,
        DbErr::Exec(r) | DbErr::Query(r) => r,
        _ => return false,
    };
    let sea_orm::RuntimeErr::SqlxError(sqlx) = runtime else {
        return false;
    };
    match sqlx.as_ref() {
        Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed => true,
        Sqlx::Protocol(_) => true,
        // SQLSTATE classes 08 (connection exception) and 57 (operator intervention: a
        // terminated backend, a shutdown), 40001/40P01 (serialization failure, deadlock), and
        // SQLite's "database is locked"/"busy".
        Sqlx::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08")
                || code.starts_with("57")
                || code == "40001"
                || code == "40P01"
                || code == "5"
                || code == "6"
        }),
        _ => false,
    }
}
