//! The closed sets of values some columns hold, as enums: the database keeps the same strings
//! it always did (no migration), the code can no longer misspell one.

use std::fmt;
use std::str::FromStr;

use sea_orm::entity::prelude::*;

/// A source of events, as written in routes (`/api/auth/connect/{provider}`) and stored in rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum Provider {
    #[sea_orm(string_value = "google")]
    Google,
    #[sea_orm(string_value = "microsoft")]
    Microsoft,
    #[sea_orm(string_value = "caldotcom")]
    CalDotCom,
    #[sea_orm(string_value = "ics")]
    Ics,
    /// iCloud, Fastmail, Nextcloud or any CalDAV server.
    #[sea_orm(string_value = "caldav")]
    CalDav,
    /// The user's own manual events.
    #[sea_orm(string_value = "local")]
    Local,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProvider(pub String);

impl fmt::Display for UnknownProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a provider (google, microsoft, caldotcom, ics, caldav)",
            self.0
        )
    }
}

impl std::error::Error for UnknownProvider {}

impl Provider {
    pub const ALL: [Provider; 6] = [
        Provider::Google,
        Provider::Microsoft,
        Provider::CalDotCom,
        Provider::Ics,
        Provider::CalDav,
        Provider::Local,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
            Provider::CalDotCom => "caldotcom",
            Provider::Ics => "ics",
            Provider::CalDav => "caldav",
            Provider::Local => "local",
        }
    }
}

impl FromStr for Provider {
    type Err = UnknownProvider;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a calendar's sync stands (`calendars.sync_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SyncStatus {
    /// Nothing asked for; the last run (if any) succeeded.
    #[sea_orm(string_value = "idle")]
    Idle,
    /// A sync job is on the queue.
    #[sea_orm(string_value = "queued")]
    Queued,
    /// A worker holds the calendar's lease and is walking its pages.
    #[sea_orm(string_value = "syncing")]
    Syncing,
    /// The last run failed (`last_error` says why).
    #[sea_orm(string_value = "error")]
    Error,
}

impl SyncStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SyncStatus::Idle => "idle",
            SyncStatus::Queued => "queued",
            SyncStatus::Syncing => "syncing",
            SyncStatus::Error => "error",
        }
    }
}

/// Whether a connection's credentials work (`calendar_connections.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum ConnectionStatus {
    #[sea_orm(string_value = "active")]
    Active,
    /// The provider refused the grant: only the user connecting again helps.
    #[sea_orm(string_value = "needs_reauth")]
    NeedsReauth,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionStatus::Active => "active",
            ConnectionStatus::NeedsReauth => "needs_reauth",
        }
    }
}

/// How a sync run ended, or that it has not (`sync_runs.status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum SyncRunStatus {
    #[sea_orm(string_value = "running")]
    Running,
    #[sea_orm(string_value = "succeeded")]
    Succeeded,
    /// Failed, or interrupted when its worker died (`error` says which).
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::*;

    #[test]
    fn provider_names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>(), Ok(p));
            assert_eq!(p.to_value(), p.as_str());
        }
        assert!("outlook".parse::<Provider>().is_err());
    }

    #[test]
    fn stored_strings_are_the_ones_the_schema_always_held() {
        for s in SyncStatus::iter() {
            assert_eq!(s.to_value(), s.as_str());
        }
        for s in ConnectionStatus::iter() {
            assert_eq!(s.to_value(), s.as_str());
        }
        let runs: Vec<String> = SyncRunStatus::iter().map(|s| s.to_value()).collect();
        assert_eq!(runs, ["running", "succeeded", "failed"]);
    }
}
