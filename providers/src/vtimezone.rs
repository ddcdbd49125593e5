//! Time zones defined inside an iCalendar file (VTIMEZONE), for TZIDs that are not IANA names:
//! Outlook's "Canberra, Melbourne, Sydney", "Екатеринбург", a vendor's own ids.
//!
//! The engine computes in IANA zones (`chrono_tz`), so a definition is read as the IANA zone that
//! behaves the same: the one whose UTC offset equals the definition's at every sampled instant
//! (weekly, over the years the file's events use the TZID in). Among zones that agree, the one
//! its TZID names (a Windows name, a vendor-prefixed IANA name) wins, then one whose city appears
//! in the TZID, then the first alphabetically — all of them give the same times, which is what
//! matters. A definition no zone agrees with is `None` (the caller falls back to the name).

use chrono::{DateTime, Duration, NaiveDateTime, Offset, TimeZone as _, Utc};
use chrono_tz::Tz;
use rrule::RRule;

/// One STANDARD or DAYLIGHT block.
#[derive(Clone, Debug, Default)]
pub struct Observance {
    /// Local onset (in the offset before it).
    pub start: Option<NaiveDateTime>,
    pub offset_from: Option<i32>,
    pub offset_to: Option<i32>,
    pub rrule: Option<String>,
    pub rdates: Vec<NaiveDateTime>,
}

#[derive(Clone, Debug, Default)]
pub struct Definition {
    pub tzid: String,
    pub observances: Vec<Observance>,
}

/// `+0100`, `-0530`, `+013045` → seconds east of UTC.
pub fn parse_offset(text: &str) -> Option<i32> {
    let text = text.trim();
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hours: i32 = digits[0..2].parse().ok()?;
    let minutes: i32 = digits[2..4].parse().ok()?;
    let seconds: i32 = digits.get(4..6).map_or(Some(0), |s| s.parse().ok())?;
    (hours < 24 && minutes < 60 && seconds < 60)
        .then_some(sign * (hours * 3600 + minutes * 60 + seconds))
}

/// Local onsets are expanded at most this far: enough for a definition starting in 1601.
const MAX_ONSETS: usize = 2_000;

impl Definition {
    /// Every transition up to the end of `last_year`, as (UTC instant, offset after it), sorted.
    fn transitions(&self, last_year: i32) -> Vec<(DateTime<Utc>, i32)> {
        let horizon = chrono::NaiveDate::from_ymd_opt(last_year + 1, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0));
        let Some(horizon) = horizon else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for o in &self.observances {
            let (Some(start), Some(from), Some(to)) = (o.start, o.offset_from, o.offset_to) else {
                continue;
            };
            let mut onsets = vec![start];
            onsets.extend(o.rdates.iter().copied());
            // Only ASCII reaches `rrule`, which panics on some non-ASCII BYDAY values.
            if let Some(rule) = &o.rrule
                && rule.is_ascii()
                && let Ok(rule) = rule.trim().parse::<RRule<rrule::Unvalidated>>()
                && let Ok(set) = rule.build(rrule::Tz::UTC.from_utc_datetime(&start))
            {
                onsets.extend(
                    (&set)
                        .into_iter()
                        .take(MAX_ONSETS)
                        .map(|d| d.naive_utc())
                        .take_while(|l| *l < horizon),
                );
            }
            for local in onsets.into_iter().filter(|l| *l < horizon) {
                out.push(((local - Duration::seconds(i64::from(from))).and_utc(), to));
            }
        }
        out.sort_by_key(|(t, _)| *t);
        out
    }
}

/// A definition's offsets, for reading its local times directly when no IANA zone behaves as
/// it does (a made-up zone, or rules no zone followed in those years).
pub struct Offsets {
    transitions: Vec<(DateTime<Utc>, i32)>,
}

impl Offsets {
    pub fn of(def: &Definition, last_year: i32) -> Option<Self> {
        let transitions = def.transitions(last_year);
        (!transitions.is_empty()).then_some(Self { transitions })
    }

    /// The instant a local time of the definition names, by RFC 5545's rules: in a fold the
    /// first of the two, in a gap the time read with the offset before it. Before the first
    /// onset, the first offset applies.
    pub fn utc_of(&self, local: NaiveDateTime) -> DateTime<Utc> {
        let at = |offset: i32| (local - Duration::seconds(i64::from(offset))).and_utc();
        let in_effect =
            |t: DateTime<Utc>| offset_at(&self.transitions, t).unwrap_or(self.transitions[0].1);
        let mut offsets: Vec<i32> = self.transitions.iter().map(|(_, o)| *o).collect();
        offsets.sort_unstable();
        offsets.dedup();
        // Offsets under which the local time reads back as itself; the largest is the
        // earliest instant (the first of a fold).
        let valid = offsets.iter().rev().find(|o| in_effect(at(**o)) == **o);
        match valid {
            Some(offset) => at(*offset),
            // A gap (clocks went forward over it): the offset before the gap is the smaller.
            None => at(in_effect(at(offsets[0]))),
        }
    }
}

fn offset_at(transitions: &[(DateTime<Utc>, i32)], t: DateTime<Utc>) -> Option<i32> {
    let after = transitions.partition_point(|(at, _)| *at <= t);
    match after {
        0 => None,
        n => Some(transitions[n - 1].1),
    }
}

fn zone_offset(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc())
        .fix()
        .local_minus_utc()
}

/// The IANA zone that behaves as `def` does in `years` (see the module's note).
pub fn matching_zone(def: &Definition, years: &[i32], hint: Option<Tz>) -> Option<Tz> {
    let last = *years.iter().max()?;
    let transitions = def.transitions(last);
    let mut samples = Vec::new();
    for &year in years {
        let Some(first) = Utc.with_ymd_and_hms(year, 1, 3, 12, 0, 0).single() else {
            continue;
        };
        samples.extend((0..52).filter_map(|week| {
            let t = first + Duration::weeks(week);
            offset_at(&transitions, t).map(|offset| (t, offset))
        }));
    }
    if samples.is_empty() {
        return None;
    }
    let agrees = |tz: Tz| {
        samples
            .iter()
            .all(|(t, offset)| zone_offset(tz, *t) == *offset)
    };
    if let Some(tz) = hint
        && agrees(tz)
    {
        return Some(tz);
    }
    // A quick look at four seasons first, the full comparison only for zones that pass it.
    let quick: Vec<&(DateTime<Utc>, i32)> = samples.iter().step_by(13).collect();
    let candidates: Vec<Tz> = chrono_tz::TZ_VARIANTS
        .iter()
        .copied()
        .filter(|tz| {
            quick
                .iter()
                .all(|(t, offset)| zone_offset(*tz, *t) == *offset)
        })
        .filter(|tz| agrees(*tz))
        .collect();
    let words: Vec<String> = def
        .tzid
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2)
        .map(str::to_lowercase)
        .collect();
    let named = |tz: &Tz| {
        let city = tz
            .name()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_lowercase();
        words
            .iter()
            .any(|w| city.replace('_', " ").split(' ').any(|c| c == w))
    };
    // Prefer a zone whose city the TZID names, then the canonical-looking (Area/City) ones.
    candidates
        .iter()
        .find(|tz| named(tz))
        .or_else(|| {
            candidates
                .iter()
                .find(|tz| tz.name().contains('/') && !tz.name().starts_with("Etc/"))
        })
        .or_else(|| candidates.first())
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%S").unwrap()
    }

    fn sydney_as_outlook_writes_it() -> Definition {
        Definition {
            tzid: "Canberra, Melbourne, Sydney".into(),
            observances: vec![
                Observance {
                    start: Some(local("16010101T030000")),
                    offset_from: parse_offset("+1100"),
                    offset_to: parse_offset("+1000"),
                    rrule: Some("FREQ=YEARLY;BYDAY=1SU;BYMONTH=4".into()),
                    rdates: vec![],
                },
                Observance {
                    start: Some(local("16010101T020000")),
                    offset_from: parse_offset("+1000"),
                    offset_to: parse_offset("+1100"),
                    rrule: Some("FREQ=YEARLY;BYDAY=1SU;BYMONTH=10".into()),
                    rdates: vec![],
                },
            ],
        }
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("+0100"), Some(3600));
        assert_eq!(parse_offset("-0530"), Some(-19800));
        assert_eq!(parse_offset("+013045"), Some(5445));
        assert_eq!(parse_offset("0100"), None);
        assert_eq!(parse_offset("+2500"), None);
    }

    #[test]
    fn outlooks_sydney_is_read_as_sydney() {
        // Canberra is Sydney by another name (a link in the IANA data); both are named.
        let tz = matching_zone(&sydney_as_outlook_writes_it(), &[2026, 2027], None).unwrap();
        assert!(
            [
                "Australia/Canberra",
                "Australia/Melbourne",
                "Australia/Sydney"
            ]
            .contains(&tz.name()),
            "{tz}"
        );
    }

    #[test]
    fn a_zone_without_dst_matches_by_its_offset() {
        let def = Definition {
            tzid: "Екатеринбург".into(),
            observances: vec![Observance {
                start: Some(local("16010101T000000")),
                offset_from: parse_offset("+0500"),
                offset_to: parse_offset("+0500"),
                rrule: None,
                rdates: vec![],
            }],
        };
        let tz = matching_zone(&def, &[2026], Some(chrono_tz::Asia::Yekaterinburg)).unwrap();
        assert_eq!(tz, chrono_tz::Asia::Yekaterinburg);
        // Without a hint some zone at +05:00 all year is chosen: the same times.
        let any = matching_zone(&def, &[2026], None).unwrap();
        let t = Utc.with_ymd_and_hms(2026, 7, 1, 12, 0, 0).unwrap();
        assert_eq!(zone_offset(any, t), 5 * 3600);
    }

    #[test]
    fn a_non_ascii_rule_in_a_definition_is_ignored_not_a_panic() {
        let mut def = sydney_as_outlook_writes_it();
        def.observances[0].rrule = Some("FREQ=YEARLY;BYDAY=-\u{479}R".into());
        let _ = matching_zone(&def, &[2026], None);
    }

    #[test]
    fn a_definition_no_zone_follows_is_none() {
        let def = Definition {
            tzid: "Mars".into(),
            observances: vec![Observance {
                start: Some(local("20000101T000000")),
                offset_from: parse_offset("+0017"),
                offset_to: parse_offset("+0017"),
                rrule: None,
                rdates: vec![],
            }],
        };
        assert_eq!(matching_zone(&def, &[2026], None), None);
    }

    #[test]
    fn a_definition_no_zone_follows_is_read_by_its_own_offsets() {
        // +12 from 2024-01-01, +10 from 2024-05-05 08:00 local (clocks back two hours).
        let def = Definition {
            tzid: "MyTimezone".into(),
            observances: vec![
                Observance {
                    start: Some(local("20240101T000000")),
                    offset_from: parse_offset("+1000"),
                    offset_to: parse_offset("+1200"),
                    rrule: None,
                    rdates: vec![],
                },
                Observance {
                    start: Some(local("20240505T080000")),
                    offset_from: parse_offset("+1200"),
                    offset_to: parse_offset("+1000"),
                    rrule: None,
                    rdates: vec![],
                },
            ],
        };
        assert_eq!(matching_zone(&def, &[2024], None), None);
        let offsets = Offsets::of(&def, 2024).unwrap();
        let utc = |s: &str| {
            offsets
                .utc_of(local(s))
                .format("%Y%m%dT%H%M%SZ")
                .to_string()
        };
        assert_eq!(utc("20240303T080000"), "20240302T200000Z");
        // In the fold (06:00–08:00 twice) the first reading; after it the new offset.
        assert_eq!(utc("20240505T070001"), "20240504T190001Z");
        assert_eq!(utc("20240505T080001"), "20240504T220001Z");
        assert_eq!(utc("20240803T080000"), "20240802T220000Z");
    }
}
