//! SeaORM entities, one file per table. The schema itself is owned by the `migration` crate;
//! these mirror it column for column.

pub mod attempts;
pub mod audit_log;
pub mod availability_rules;
pub mod calcom_exports;
pub mod calendar_connections;
pub mod calendars;
pub mod clients;
pub mod conflicts;
pub mod event_clients;
pub mod events;
pub mod feed_tokens;
pub mod notification_tickets;
pub mod notifications;
pub mod oauth_states;
pub mod sessions;
pub mod states;
pub mod sync_runs;
pub mod task_blocks;
pub mod tasks;
pub mod users;
pub mod webhook_attempts;
pub mod webhook_endpoints;
pub mod webhook_messages;

pub use states::{ConnectionStatus, Provider, SyncRunStatus, SyncStatus, UnknownProvider};

pub mod prelude {
    pub use super::attempts::Entity as Attempts;
    pub use super::audit_log::Entity as AuditLog;
    pub use super::availability_rules::Entity as AvailabilityRules;
    pub use super::calcom_exports::Entity as CalcomExports;
    pub use super::calendar_connections::Entity as CalendarConnections;
    pub use super::calendars::Entity as Calendars;
    pub use super::clients::Entity as Clients;
    pub use super::conflicts::Entity as Conflicts;
    pub use super::event_clients::Entity as EventClients;
    pub use super::events::Entity as Events;
    pub use super::feed_tokens::Entity as FeedTokens;
    pub use super::oauth_states::Entity as OauthStates;
    pub use super::sessions::Entity as Sessions;
    pub use super::sync_runs::Entity as SyncRuns;
    pub use super::task_blocks::Entity as TaskBlocks;
    pub use super::tasks::Entity as Tasks;
    pub use super::users::Entity as Users;
    pub use super::webhook_attempts::Entity as WebhookAttempts;
    pub use super::webhook_endpoints::Entity as WebhookEndpoints;
    pub use super::webhook_messages::Entity as WebhookMessages;
}
