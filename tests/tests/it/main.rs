//! End-to-end tests: the real app over HTTP, on SQLite and (when configured) Postgres + Redis.

mod accounts;
mod auth_extractor;
mod availability;
mod busy_rules;
mod caldav;
mod clients;
mod conflicts;
mod connections;
mod corpus;
mod embedded_secrets;
mod export;
mod feeds;
mod hardening;
mod jobs;
mod metrics;
mod migrations;
mod notifications;
mod probes;
mod provider_clients;
mod push;
mod real_world_ics;
mod sync;
mod tasks;
mod webapp;
mod webhooks_out;
