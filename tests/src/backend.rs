use std::time::{SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};

pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name)
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Where a test's data and jobs live.
#[derive(Clone, Debug)]
pub enum Backend {
    /// A fresh SQLite file; jobs in the same database.
    Sqlite,
    /// A fresh database on the Postgres server of `server_url`; jobs on Redis when `redis_url` is
    /// set, else in the database.
    Postgres {
        server_url: String,
        redis_url: Option<String>,
    },
}

impl Backend {
    /// Postgres with Redis: `TEST_DATABASE_URL` and `TEST_REDIS_URL`, by default the servers CI
    /// and the README's test command use. They must be reachable — a test that needs them fails
    /// rather than skips (`FREESLOT_TEST_BACKENDS=sqlite` compiles such tests as ignored).
    pub fn postgres() -> Self {
        Backend::Postgres {
            server_url: env_or("TEST_DATABASE_URL", DEFAULT_DATABASE_URL),
            redis_url: Some(env_or("TEST_REDIS_URL", DEFAULT_REDIS_URL)),
        }
    }

    pub fn without_redis(self) -> Self {
        match self {
            Backend::Postgres { server_url, .. } => Backend::Postgres {
                server_url,
                redis_url: None,
            },
            sqlite => sqlite,
        }
    }

    pub fn redis_url(&self) -> Option<&str> {
        match self {
            Backend::Postgres { redis_url, .. } => redis_url.as_deref(),
            Backend::Sqlite => None,
        }
    }

    pub fn is_sqlite(&self) -> bool {
        matches!(self, Backend::Sqlite)
    }
}

/// A database that exists for one test only.
pub struct TestDatabase {
    pub url: String,
    /// Keeps the SQLite file's directory alive as long as the test runs.
    pub dir: Option<tempfile::TempDir>,
    /// Set for Postgres: the server URL and the name to drop later.
    pub postgres: Option<(String, String)>,
}

impl TestDatabase {
    pub async fn create(backend: &Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("freeslot.db").display()
                );
                TestDatabase {
                    url,
                    dir: Some(dir),
                    postgres: None,
                }
            }
            Backend::Postgres { server_url, .. } => {
                let admin = Database::connect(server_url.as_str())
                    .await
                    .unwrap_or_else(|e| {
                        panic!(
                            "Postgres is unreachable at {server_url} (TEST_DATABASE_URL): {e}; \
                         start it, or run only the SQLite half with FREESLOT_TEST_BACKENDS=sqlite"
                        )
                    });
                drop_stale_databases(&admin).await;
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap()
                    .as_secs();
                let name = format!("freeslot_test_{now}_{}", uuid::Uuid::new_v4().simple());
                admin
                    .execute_raw(Statement::from_string(
                        DbBackend::Postgres,
                        format!("CREATE DATABASE \"{name}\""),
                    ))
                    .await
                    .expect("create test database");
                let url = replace_database(server_url, &name);
                TestDatabase {
                    url,
                    dir: None,
                    postgres: Some((server_url.clone(), name)),
                }
            }
        }
    }

    /// Drops a Postgres test database while the app may still hold connections to it.
    pub async fn drop_now(&self) {
        if let Some((server, name)) = &self.postgres {
            let admin = Database::connect(server.as_str())
                .await
                .expect("admin connection");
            admin
                .execute_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                ))
                .await
                .expect("drop test database");
        }
    }
}

/// `postgres://u@h:5432/test?x=y` with the database `name` instead of `test`.
fn replace_database(server_url: &str, name: &str) -> String {
    let (base, query) = match server_url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (server_url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| i + scheme_end);
    let mut url = format!("{}/{}", &base[..path_start], name);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Test databases carry their creation time in the name; those over an hour old belong to runs
/// that ended without cleaning up.
async fn drop_stale_databases(admin: &sea_orm::DatabaseConnection) {
    let Ok(rows) = admin
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT datname FROM pg_database WHERE datname LIKE 'freeslot_test_%'".to_owned(),
        ))
        .await
    else {
        return;
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    for row in rows {
        let Ok(name) = row.try_get::<String>("", "datname") else {
            continue;
        };
        let created = name
            .strip_prefix("freeslot_test_")
            .and_then(|rest| rest.split('_').next())
            .and_then(|t| t.parse::<u64>().ok());
        if created.is_some_and(|t| now.saturating_sub(t) > 3600) {
            let _ = admin
                .execute_raw(Statement::from_string(
                    DbBackend::Postgres,
                    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                ))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::replace_database;

    #[test]
    fn swaps_the_database_name() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/test", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/test?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
