use std::fmt;
use std::str::FromStr;

/// An IANA time zone such as `Europe/Berlin`, known to the bundled tz database.
///
/// Parsing is the only way to get one, so a `TimeZone` is always usable for conversions.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeZone(chrono_tz::Tz);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a known IANA time zone (for example `Europe/Berlin`)")]
pub struct UnknownTimeZone(pub String);

impl TimeZone {
    pub const UTC: TimeZone = TimeZone(chrono_tz::Tz::UTC);

    pub fn parse(name: &str) -> Result<Self, UnknownTimeZone> {
        let trimmed = name.trim();
        chrono_tz::Tz::from_str(trimmed)
            .map(TimeZone)
            .map_err(|_| UnknownTimeZone(trimmed.to_owned()))
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl FromStr for TimeZone {
    type Err = UnknownTimeZone;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for TimeZone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iana_names() {
        assert_eq!(
            TimeZone::parse("Europe/Berlin").unwrap().name(),
            "Europe/Berlin"
        );
        assert_eq!(
            TimeZone::parse(" Asia/Kathmandu ").unwrap().name(),
            "Asia/Kathmandu"
        );
        assert_eq!(TimeZone::parse("UTC").unwrap(), TimeZone::UTC);
    }

    #[test]
    fn rejects_offsets_abbreviations_and_garbage() {
        for bad in [
            "",
            "+01:00",
            "Mars/Olympus",
            "europe/berlin ",
            "Europe/Berlin/x",
        ] {
            assert!(TimeZone::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
