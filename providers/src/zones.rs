//! Zone names as providers write them: IANA names, and the Windows names Outlook uses.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// The Windows zone names Outlook writes most, mapped to IANA (CLDR's windowsZones, territory
/// "001"). A name outside the table falls back to UTC, with a log line.
const WINDOWS: &[(&str, &str)] = &[
    ("UTC", "UTC"),
    ("GMT Standard Time", "Europe/London"),
    ("Greenwich Standard Time", "Atlantic/Reykjavik"),
    ("W. Europe Standard Time", "Europe/Berlin"),
    ("Central Europe Standard Time", "Europe/Budapest"),
    ("Romance Standard Time", "Europe/Paris"),
    ("Central European Standard Time", "Europe/Warsaw"),
    ("E. Europe Standard Time", "Europe/Chisinau"),
    ("FLE Standard Time", "Europe/Kiev"),
    ("GTB Standard Time", "Europe/Bucharest"),
    ("Russian Standard Time", "Europe/Moscow"),
    ("Eastern Standard Time", "America/New_York"),
    ("Central Standard Time", "America/Chicago"),
    ("Mountain Standard Time", "America/Denver"),
    ("US Mountain Standard Time", "America/Phoenix"),
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Alaskan Standard Time", "America/Anchorage"),
    ("Hawaiian Standard Time", "Pacific/Honolulu"),
    ("Atlantic Standard Time", "America/Halifax"),
    ("E. South America Standard Time", "America/Sao_Paulo"),
    ("India Standard Time", "Asia/Calcutta"),
    ("China Standard Time", "Asia/Shanghai"),
    ("Tokyo Standard Time", "Asia/Tokyo"),
    ("Singapore Standard Time", "Asia/Singapore"),
    ("AUS Eastern Standard Time", "Australia/Sydney"),
    ("New Zealand Standard Time", "Pacific/Auckland"),
    ("Israel Standard Time", "Asia/Jerusalem"),
    ("Arabian Standard Time", "Asia/Dubai"),
    ("South Africa Standard Time", "Africa/Johannesburg"),
];

pub fn parse(name: &str) -> Option<Tz> {
    let name = name.trim();
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    WINDOWS
        .iter()
        .find(|(windows, _)| windows.eq_ignore_ascii_case(name))
        .and_then(|(_, iana)| iana.parse().ok())
}

/// The IANA name for a provider's zone name, if it has one.
pub fn iana(name: &str) -> Option<String> {
    parse(name).map(|tz| tz.name().to_owned())
}

/// A wall-clock time in a named zone; gaps move forward, folds take the earlier instant.
pub fn local_to_utc(local: NaiveDateTime, zone: Option<&str>) -> DateTime<Utc> {
    let tz = match zone {
        None => Tz::UTC,
        Some(name) => parse(name).unwrap_or_else(|| {
            tracing::warn!(
                zone = name,
                "unknown time zone name; reading the time as UTC"
            );
            Tz::UTC
        }),
    };
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => t.with_timezone(&Utc),
        // In a gap: the same wall time an hour later exists (RFC 5545 §3.3.5).
        None => tz
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| local.and_utc()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_iana_names() {
        assert_eq!(
            iana("Pacific Standard Time").as_deref(),
            Some("America/Los_Angeles")
        );
        assert_eq!(iana("Europe/Berlin").as_deref(), Some("Europe/Berlin"));
        assert_eq!(iana("Mars/Olympus"), None);
        let t = NaiveDateTime::parse_from_str("2026-03-29T02:30:00", "%Y-%m-%dT%H:%M:%S").unwrap();
        assert_eq!(
            local_to_utc(t, Some("Europe/Berlin")),
            "2026-03-29T01:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
