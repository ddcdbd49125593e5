//! Zone names as providers write them: IANA names, and the Windows names Outlook uses.
//!
//! Wall-clock times are read with the domain's one rule for times that do not exist or exist
//! twice (`domain::local::resolve_rfc5545`), so a synced event and a recurring one expanded by the
//! engine agree, even on Lord Howe's half-hour shift.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, NaiveDateTime, Utc};
use chrono_tz::Tz;

/// CLDR's Windows → IANA table, checked in as data (see the file's header).
const WINDOWS_ZONES: &str = include_str!("windows_zones.tsv");

/// Lower-cased Windows name → IANA zone.
static WINDOWS: LazyLock<HashMap<String, Tz>> = LazyLock::new(|| {
    WINDOWS_ZONES
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let (windows, iana) = l.split_once('\t')?;
            Some((windows.to_ascii_lowercase(), iana.trim().parse().ok()?))
        })
        .collect()
});

/// Lower-cased IANA name → zone, for names written in odd case ("Europe/lisbon").
static IANA_ANY_CASE: LazyLock<HashMap<String, Tz>> = LazyLock::new(|| {
    chrono_tz::TZ_VARIANTS
        .iter()
        .map(|tz| (tz.name().to_ascii_lowercase(), *tz))
        .collect()
});

/// An IANA name (in any case, or behind a vendor's prefix such as
/// `/freeassociation.sourceforge.net/Europe/Berlin` or `/mozilla.org/20050126_1/America/New_York`),
/// or a Windows name from CLDR's table; `None` for anything else.
pub fn parse(name: &str) -> Option<Tz> {
    let name = name.trim().trim_matches('"');
    if let Ok(tz) = name.parse::<Tz>() {
        return Some(tz);
    }
    let lower = name.to_ascii_lowercase();
    if let Some(tz) = IANA_ANY_CASE.get(&lower).or_else(|| WINDOWS.get(&lower)) {
        return Some(*tz);
    }
    // A prefix: the longest tail of at most three segments that is a zone name.
    let segments: Vec<&str> = lower.split('/').filter(|s| !s.is_empty()).collect();
    (1..=segments.len().min(3))
        .rev()
        .find_map(|n| IANA_ANY_CASE.get(&segments[segments.len() - n..].join("/")))
        .copied()
}

/// The IANA name for a provider's zone name, if it has one.
pub fn iana(name: &str) -> Option<String> {
    parse(name).map(|tz| tz.name().to_owned())
}

/// A wall-clock time in a named zone (UTC when unnamed or unknown, with a log line).
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
    domain::local::resolve_rfc5545(tz, local)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").unwrap()
    }

    #[test]
    fn windows_and_iana_names() {
        assert_eq!(
            iana("Pacific Standard Time").as_deref(),
            Some("America/Los_Angeles")
        );
        assert_eq!(
            iana("lord howe standard time").as_deref(),
            Some("Australia/Lord_Howe")
        );
        assert_eq!(iana("Europe/Berlin").as_deref(), Some("Europe/Berlin"));
        assert_eq!(iana("Mars/Olympus"), None);
        assert_eq!(iana("Europe/lisbon").as_deref(), Some("Europe/Lisbon"));
        assert_eq!(
            iana("/freeassociation.sourceforge.net/Europe/Berlin").as_deref(),
            Some("Europe/Berlin")
        );
        assert_eq!(
            iana("/mozilla.org/20050126_1/America/Argentina/Buenos_Aires").as_deref(),
            Some("America/Argentina/Buenos_Aires")
        );
    }

    #[test]
    fn every_windows_zone_of_cldr_is_known() {
        let rows: Vec<&str> = WINDOWS_ZONES
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        // CLDR maps every Windows zone (about 140), not a handful.
        assert!(rows.len() >= 140, "{} rows", rows.len());
        for row in rows {
            let (windows, iana) = row.split_once('\t').expect("name<TAB>zone");
            assert!(iana.parse::<Tz>().is_ok(), "{iana} (for {windows})");
            assert!(parse(windows).is_some(), "{windows}");
        }
    }

    #[test]
    fn gaps_follow_the_domain_rule() {
        // Berlin's spring-forward gap: 02:30 is read with the offset before it.
        assert_eq!(
            local_to_utc(t("2026-03-29T02:30:00"), Some("Europe/Berlin")),
            "2026-03-29T01:30:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        // Lord Howe moves by 30 minutes (02:00 → 02:30 on 2026-10-04): 02:15 does not exist and
        // is read at +10:30, the offset before the gap; an hour's shift would miss the day.
        let local = t("2026-10-04T02:15:00");
        assert_eq!(
            local_to_utc(local, Some("Australia/Lord_Howe")),
            domain::local::resolve_rfc5545(chrono_tz::Australia::Lord_Howe, local)
        );
        assert_eq!(
            local_to_utc(local, Some("Lord Howe Standard Time")),
            "2026-10-03T15:45:00Z".parse::<DateTime<Utc>>().unwrap()
        );
    }
}
