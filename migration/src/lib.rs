//! The schema of freeslot, as SeaORM migrations that run unchanged on Postgres and SQLite.
//!
//! One file per migration; a table is created with its foreign keys inline because SQLite cannot
//! add them later. Every `down` drops exactly what its `up` created.

pub use sea_orm_migration::prelude::*;

mod helpers;
mod m20261122_000001_create_users;
mod m20261122_000002_create_calendar_connections;
mod m20261122_000003_create_calendars;
mod m20261122_000004_create_events;
mod m20261122_000005_create_clients;
mod m20261122_000006_create_conflicts;
mod m20261122_000007_create_availability_rules;
mod m20261122_000008_create_sync_runs;
mod m20261122_000009_create_oauth_states;
mod m20261122_000010_create_audit_log;
mod m20261122_000011_add_users_events_version;
mod m20261122_000012_add_connections_refresh_lease;
mod m20261122_000013_add_calendars_sync_lease;
mod m20261122_000014_create_calcom_exports;
mod m20261122_000015_create_feed_tokens;
mod m20261122_000016_event_clients_allow_none;
mod m20261122_000017_events_one_calendar_key;
mod m20261122_000018_create_login_failures;
mod m20261203_000019_create_sessions;
mod m20261203_000020_create_attempts;
mod m20261203_000021_add_oauth_states_browser;
mod m20261203_000022_endless_series_never_end;
mod m20261204_000023_add_busy_rules;
mod m20261207_000024_create_notifications;
mod m20261207_000025_add_alert_state;
mod m20261207_000026_create_webhooks;
mod m20261207_000027_add_availability_changes;
mod m20261208_000028_create_tasks;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_users::Migration),
            Box::new(m20261122_000002_create_calendar_connections::Migration),
            Box::new(m20261122_000003_create_calendars::Migration),
            Box::new(m20261122_000004_create_events::Migration),
            Box::new(m20261122_000005_create_clients::Migration),
            Box::new(m20261122_000006_create_conflicts::Migration),
            Box::new(m20261122_000007_create_availability_rules::Migration),
            Box::new(m20261122_000008_create_sync_runs::Migration),
            Box::new(m20261122_000009_create_oauth_states::Migration),
            Box::new(m20261122_000010_create_audit_log::Migration),
            Box::new(m20261122_000011_add_users_events_version::Migration),
            Box::new(m20261122_000012_add_connections_refresh_lease::Migration),
            Box::new(m20261122_000013_add_calendars_sync_lease::Migration),
            Box::new(m20261122_000014_create_calcom_exports::Migration),
            Box::new(m20261122_000015_create_feed_tokens::Migration),
            Box::new(m20261122_000016_event_clients_allow_none::Migration),
            Box::new(m20261122_000017_events_one_calendar_key::Migration),
            Box::new(m20261122_000018_create_login_failures::Migration),
            Box::new(m20261203_000019_create_sessions::Migration),
            Box::new(m20261203_000020_create_attempts::Migration),
            Box::new(m20261203_000021_add_oauth_states_browser::Migration),
            Box::new(m20261203_000022_endless_series_never_end::Migration),
            Box::new(m20261204_000023_add_busy_rules::Migration),
            Box::new(m20261207_000024_create_notifications::Migration),
            Box::new(m20261207_000025_add_alert_state::Migration),
            Box::new(m20261207_000026_create_webhooks::Migration),
            Box::new(m20261207_000027_add_availability_changes::Migration),
            Box::new(m20261208_000028_create_tasks::Migration),
        ]
    }
}
