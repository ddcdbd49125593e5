//! Calendar providers: who freeslot can connect to. The OAuth and HTTP clients for each provider
//! arrive with the "connect calendars" work; the names are fixed here because routes, storage and
//! the normalized event type already use them.

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
