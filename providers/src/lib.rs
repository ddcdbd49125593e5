//! Calendar providers: the OAuth flow, and one client per provider behind [`CalendarSource`],
//! each mapping the provider's events into [`RemoteEvent`] with the contract's busy rules.

pub mod calcom;
pub mod error;
pub mod google;
pub mod http;
pub mod ics;
pub mod microsoft;
pub mod model;
pub mod oauth;
pub mod source;
pub mod zones;

pub use error::ProviderError;
pub use model::*;
pub use oauth::{AuthorizationStart, OAuthApp, TokenSet};
pub use source::{CalendarSource, list_all};

use std::fmt;
use std::str::FromStr;

/// A source of events, as written in routes (`/api/auth/connect/{provider}`) and stored in rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Provider {
    Google,
    Microsoft,
    CalDotCom,
    Ics,
    /// The user's own manual events.
    Local,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a provider (google, microsoft, caldotcom, ics)")]
pub struct UnknownProvider(pub String);

impl Provider {
    pub const ALL: [Provider; 5] = [
        Provider::Google,
        Provider::Microsoft,
        Provider::CalDotCom,
        Provider::Ics,
        Provider::Local,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Google => "google",
            Provider::Microsoft => "microsoft",
            Provider::CalDotCom => "caldotcom",
            Provider::Ics => "ics",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Provider::ALL {
            assert_eq!(p.as_str().parse::<Provider>().unwrap(), p);
        }
        assert!("Google".parse::<Provider>().is_err());
        assert!("outlook".parse::<Provider>().is_err());
    }
}
