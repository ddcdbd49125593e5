//! The application: configuration, storage, credentials, and the use-cases the api and the worker
//! call. Route handlers and job handlers stay thin; the rules live here.

// The layers, bottom up (ARCHITECTURE.md draws them; `tests/module_graph.rs` keeps them acyclic):
// plumbing (config, clock, db, secrets, vault, auth, audit, fields, version, jobs, follow_up),
// credentials, users, sync, channels, calendars, events, availability, conflicts, clients, feeds,
// connections, export, maintenance.
pub mod account_removal;
pub mod alerts;
pub mod audit;
pub mod auth;
pub mod availability;
pub mod calendars;
pub mod channels;
pub mod clients;
pub mod clock;
pub mod coalesce;
pub mod config;
pub mod conflicts;
pub mod connections;
pub mod credentials;
pub mod db;
pub mod events;
pub mod export;
pub mod feeds;
pub mod fields;
pub mod follow_up;
pub mod jobs;
pub mod limits;
pub mod maintenance;
pub mod meters;
pub mod notifications;
pub mod reseal;
pub mod secrets;
pub mod series;
pub mod sessions;
pub mod sync;
pub mod tasks;
pub mod users;
pub mod vault;
pub mod version;

use std::sync::Arc;

use sea_orm::DatabaseConnection;

pub use clock::Clock;
pub use config::Settings;
pub use jobs::{Job, JobQueue};

use auth::jwt::JwtKeys;
use vault::Vault;

/// Everything a request or a job needs, built once per process and shared.
pub struct AppContext {
    pub settings: Settings,
    /// The one source of "now" for every use-case, job and route.
    pub clock: Clock,
    /// Rules and expanded events per user, validated against the database on every use.
    pub engine_cache: availability::cache::EngineCache,
    /// One API client per provider.
    pub providers: credentials::Providers,
    pub db: DatabaseConnection,
    pub jwt: JwtKeys,
    /// Password hashing, a bounded number at a time.
    pub hashing: auth::password::Hashing,
    pub vault: Vault,
    pub queue: JobQueue,
    /// One HTTP client (one connection pool) for every provider call.
    pub http: reqwest::Client,
    /// Wake-ups for notification streams, across processes when Redis is configured.
    pub notifier: notifications::Notifier,
    /// The client webhook deliveries go out with: no redirects, public addresses only (unless
    /// `WEBHOOK_ALLOW_PRIVATE`), its own pool so that slow receivers never hold a provider's.
    pub webhook_http: reqwest::Client,
}

#[derive(Debug, thiserror::Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot open the database {url}: {source}")]
    Database {
        url: String,
        #[source]
        source: sea_orm::DbErr,
    },
    #[error("cannot migrate the database: {0}")]
    Migration(#[source] sea_orm::DbErr),
    #[error(transparent)]
    Queue(#[from] jobs::QueueError),
}

/// What `/ready` reports: each dependency, with the reason when it is down.
pub struct Readiness {
    pub database: Result<(), String>,
    pub queue: Result<(), String>,
}

impl AppContext {
    /// Connects the database, applies pending migrations, resolves the secrets (generating them
    /// in the embedded mode) and connects the job queue.
    pub async fn init(settings: Settings) -> Result<Arc<Self>, InitError> {
        Self::init_with_clock(settings, Clock::system()).await
    }

    /// Like `init`, on a clock of the caller's (tests run the app on a settable one).
    pub async fn init_with_clock(settings: Settings, clock: Clock) -> Result<Arc<Self>, InitError> {
        // reqwest is built without a default TLS backend; ring is the one this build carries.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let secrets = secrets::Secrets::resolve(&settings)?;
        let db = db::connect(&settings.database_url)
            .await
            .map_err(|source| InitError::Database {
                url: config::redact_url(&settings.database_url),
                source,
            })?;
        db::migrate(&db).await.map_err(InitError::Migration)?;
        let queue =
            JobQueue::connect(settings.redis_url.as_deref(), &db, &settings.job_queue).await?;
        tracing::info!(
            database = %config::redact_url(&settings.database_url),
            queue = queue.backend_name(),
            "storage ready"
        );
        let vault = Vault::new(
            &secrets.token_encryption_key,
            &secrets.token_encryption_keys_old,
        );
        reseal::run(&db, &vault)
            .await
            .map_err(InitError::Migration)?;
        let http = providers::http::client();
        let webhook_http =
            providers::outbound::client_without_redirects(settings.access.webhooks_allow_private);
        let notifier = match settings.redis_url.as_deref() {
            Some(url) => notifications::Notifier::with_redis(url, &settings.job_queue)
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "notification wake-ups stay in this process");
                    notifications::Notifier::local()
                }),
            None => notifications::Notifier::local(),
        };
        Ok(Arc::new(Self {
            engine_cache: availability::cache::EngineCache::default(),
            providers: credentials::Providers::new(&settings, &http),
            jwt: JwtKeys::new(&secrets.jwt_secret, settings.jwt_ttl),
            hashing: auth::password::Hashing::for_this_machine(),
            vault,
            settings,
            clock,
            db,
            queue,
            http,
            notifier,
            webhook_http,
        }))
    }

    pub async fn readiness(&self) -> Readiness {
        let (database, queue) = tokio::join!(db::ping(&self.db), self.queue.ping(&self.db));
        Readiness {
            database: database.map_err(|e| e.to_string()),
            queue: queue.map_err(|e| e.to_string()),
        }
    }
}
