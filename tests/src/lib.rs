//! Test support: the real application on a random port, against a fresh database per test.
//!
//! SQLite always; Postgres (+ Redis) when `TEST_DATABASE_URL` (and `TEST_REDIS_URL`) are set.
//! Nothing is mocked: the app under test is built exactly as `freeslot serve` builds it.

mod backend;
pub mod browser;
mod connect;
pub mod dates;
pub mod fakes;
mod tcp_proxy;
mod test_app;

pub use backend::{Backend, TestDatabase};
pub use connect::Dance;
pub use tcp_proxy::TcpProxy;
pub use test_app::{TEST_JWT_SECRET, TestApp, TestUser, error_code, test_worker_options};

/// Runs a test body once per backend: `sqlite` always, `postgres` when `TEST_DATABASE_URL` is set.
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
            async fn postgres() {
                match $crate::Backend::postgres_from_env() {
                    Some(backend) => super::$name(backend).await,
                    None => eprintln!("SKIPPED: TEST_DATABASE_URL is not set"),
                }
            }
        }
    )*};
}
