//! Test support: the real application on a random port, against a fresh database per test.
//!
//! SQLite and Postgres + Redis (`TEST_DATABASE_URL`, `TEST_REDIS_URL`, by default the local
//! servers); a Postgres test fails when they are unreachable, unless the suite was built with
//! `FREESLOT_TEST_BACKENDS=sqlite`, which compiles the Postgres half as ignored (nextest shows
//! it as skipped).
//! Nothing is mocked: the app under test is built exactly as `freeslot serve` builds it.

mod answers;
mod backend;
pub mod browser;
pub mod clock;
mod connect;
pub mod dates;
pub mod fakes;
pub mod prometheus;
pub mod radicale;
pub mod receiver;
pub mod smtp;
pub mod sse;
mod tcp_proxy;
mod test_app;

pub use backend::{Backend, TestDatabase};
pub use connect::Dance;
pub use tcp_proxy::TcpProxy;
pub use test_app::{
    TEST_ENCRYPTION_KEY, TEST_JWT_SECRET, TestApp, TestUser, error_code, test_worker_options,
};

/// Runs a test body once per backend: `sqlite`, and `postgres` (Postgres + Redis, which must be
/// reachable; skipped only when the suite is built with `FREESLOT_TEST_BACKENDS=sqlite`).
///
/// ```ignore
/// async fn register_works(backend: Backend) { ... }
/// backend_tests!(register_works);
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[cfg_attr(freeslot_sqlite_only, ignore = "FREESLOT_TEST_BACKENDS=sqlite")]
            async fn postgres() {
                super::$name($crate::Backend::postgres()).await
            }
        }
    )*};
}
