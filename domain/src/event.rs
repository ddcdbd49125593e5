//! The one normalized event every provider maps into, and the busy test.

use std::sync::{Arc, LazyLock};

use chrono::NaiveDate;
use chrono_tz::Tz;

use crate::busy::{BusyRules, Counts, SourceCalendar};
use crate::interval::{Instant, Interval};
use crate::rules::{TimeOfDay, local_instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventStatus {
    Confirmed,
    Tentative,
    Cancelled,
}

impl EventStatus {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confirmed" => Some(Self::Confirmed),
            "tentative" => Some(Self::Tentative),
            "cancelled" => Some(Self::Cancelled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmed => "confirmed",
            Self::Tentative => "tentative",
            Self::Cancelled => "cancelled",
        }
    }
}

/// The user's own answer to an invitation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SelfResponse {
    Accepted,
    Declined,
    Tentative,
    NeedsAction,
}

impl SelfResponse {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "accepted" => Some(Self::Accepted),
            "declined" => Some(Self::Declined),
            "tentative" => Some(Self::Tentative),
            "needs_action" => Some(Self::NeedsAction),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Declined => "declined",
            Self::Tentative => "tentative",
            Self::NeedsAction => "needs_action",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventTime {
    Timed(Interval),
    /// Local dates, end exclusive; they become instants only in a particular zone.
    AllDay {
        start: NaiveDate,
        end: NaiveDate,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// Stable identity: an event id, or `<series id>/<occurrence start>` for an occurrence.
    pub key: String,
    pub time: EventTime,
    pub status: EventStatus,
    /// False for free/transparent events (Google `transparent`, Graph `free`/`workingElsewhere`).
    pub busy: bool,
    pub self_response: Option<SelfResponse>,
    pub ical_uid: Option<String>,
    pub title: String,
    /// Out of office (Google `eventType: outOfOffice`, Graph `showAs: oof`, ICS
    /// `X-MICROSOFT-CDO-BUSYSTATUS:OOF`).
    pub out_of_office: bool,
    /// Where it comes from; `None` for an event of no particular calendar (the default rules).
    pub calendar: Option<Arc<SourceCalendar>>,
}

static DEFAULT_RULES: LazyLock<BusyRules> = LazyLock::new(BusyRules::default);

impl Event {
    /// Tentative either way: the event is marked tentative, or the user answered "maybe".
    pub fn is_tentative(&self) -> bool {
        self.status == EventStatus::Tentative || self.self_response == Some(SelfResponse::Tentative)
    }

    /// The busy test (contract, "What counts as busy" and "Busy rules per calendar"): blocks time
    /// unless cancelled, declined, titled as its calendar ignores, out of office where that
    /// counts as free, all-day where that counts as free, tentative where that counts as free
    /// (the calendar's rule, else `tentative_is_busy`), or free/transparent — which an all-day
    /// event of a calendar whose all-day rule says `busy` blocks anyway.
    pub fn blocks_time(&self, tentative_is_busy: bool) -> bool {
        let rules = self
            .calendar
            .as_deref()
            .map_or(&*DEFAULT_RULES, |c| &c.rules);
        if self.status == EventStatus::Cancelled
            || self.self_response == Some(SelfResponse::Declined)
            || (self.out_of_office && rules.out_of_office == Counts::Free)
        {
            return false;
        }
        let tentative_counts = match rules.tentative {
            Counts::AsRules => tentative_is_busy,
            Counts::Busy => true,
            Counts::Free => false,
        };
        if self.is_tentative() && !tentative_counts {
            return false;
        }
        let marked_busy = match (self.time, rules.all_day) {
            (EventTime::AllDay { .. }, Counts::Free) => false,
            (EventTime::AllDay { .. }, Counts::Busy) => true,
            _ => self.busy,
        };
        // Last: the title test is the one that costs.
        marked_busy && !rules.ignores(&self.title)
    }

    /// The calendar's id, when the event has one.
    pub fn calendar_id(&self) -> Option<&str> {
        self.calendar.as_deref().map(|c| c.id.as_str())
    }

    /// The time it takes; an all-day event spans local midnight to local midnight in `tz`.
    pub fn interval_in(&self, tz: Tz) -> Option<Interval> {
        match self.time {
            EventTime::Timed(interval) => Some(interval),
            EventTime::AllDay { start, end } => Interval::new(
                local_instant(tz, start, TimeOfDay::MIDNIGHT),
                local_instant(tz, end, TimeOfDay::MIDNIGHT),
            ),
        }
    }

    /// The same meeting seen twice (in two calendars): one iCalendar UID, or the same start, end
    /// and title (case and surrounding spaces ignored).
    pub fn same_meeting(&self, other: &Event) -> bool {
        if let (Some(a), Some(b)) = (&self.ical_uid, &other.ical_uid)
            && !a.is_empty()
            && a == b
            && self.occurrence_suffix() == other.occurrence_suffix()
        {
            return true;
        }
        self.time == other.time && normalize_title(&self.title) == normalize_title(&other.title)
    }

    /// Occurrences of one series share a UID; only the same occurrence is the same meeting.
    fn occurrence_suffix(&self) -> Option<&str> {
        self.key.split_once('/').map(|(_, occurrence)| occurrence)
    }
}

pub fn normalize_title(title: &str) -> String {
    title.trim().to_lowercase()
}

/// `20261201T080000Z`: how an occurrence's start is written in its key.
pub fn occurrence_suffix(start: Instant) -> String {
    start.format("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone as _, Utc};

    use super::*;

    fn event(status: EventStatus, busy: bool, response: Option<SelfResponse>) -> Event {
        let start = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
        Event {
            key: "e".into(),
            time: EventTime::Timed(Interval::new(start, start + Duration::hours(1)).unwrap()),
            status,
            busy,
            self_response: response,
            ical_uid: None,
            title: "Standup".into(),
            out_of_office: false,
            calendar: None,
        }
    }

    fn in_calendar(event: Event, rules: BusyRules) -> Event {
        Event {
            calendar: Some(SourceCalendar::new("cal", rules)),
            ..event
        }
    }

    #[test]
    fn the_busy_test() {
        use EventStatus::*;
        assert!(event(Confirmed, true, None).blocks_time(true));
        assert!(!event(Cancelled, true, None).blocks_time(true));
        assert!(!event(Confirmed, false, None).blocks_time(true));
        assert!(!event(Confirmed, true, Some(SelfResponse::Declined)).blocks_time(true));
        assert!(event(Confirmed, true, Some(SelfResponse::NeedsAction)).blocks_time(true));
        assert!(event(Tentative, true, None).blocks_time(true));
        assert!(!event(Tentative, true, None).blocks_time(false));
        assert!(!event(Confirmed, true, Some(SelfResponse::Tentative)).blocks_time(false));
    }

    #[test]
    fn the_busy_test_with_a_calendars_rules() {
        use EventStatus::*;
        let rules = |tentative, all_day, out_of_office, titles: &[&str]| {
            let titles: Vec<String> = titles.iter().map(|t| (*t).to_owned()).collect();
            BusyRules::new(tentative, all_day, out_of_office, &titles).unwrap()
        };
        let ooo = Event {
            out_of_office: true,
            ..event(Confirmed, true, None)
        };
        assert!(ooo.blocks_time(true));
        let free_ooo = rules(Counts::AsRules, Counts::AsRules, Counts::Free, &[]);
        assert!(!in_calendar(ooo.clone(), free_ooo.clone()).blocks_time(true));
        assert!(in_calendar(event(Confirmed, true, None), free_ooo).blocks_time(true));
        // Tentative: the calendar's rule wins over the user's either way.
        let tentative_free = rules(Counts::Free, Counts::AsRules, Counts::Busy, &[]);
        assert!(!in_calendar(event(Tentative, true, None), tentative_free).blocks_time(true));
        let tentative_busy = rules(Counts::Busy, Counts::AsRules, Counts::Busy, &[]);
        assert!(in_calendar(event(Tentative, true, None), tentative_busy).blocks_time(false));
        // All-day: free never blocks, busy blocks even when marked free (Google's default).
        let day = |busy| Event {
            time: EventTime::AllDay {
                start: NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
                end: NaiveDate::from_ymd_opt(2026, 12, 25).unwrap(),
            },
            ..event(Confirmed, busy, None)
        };
        let all_day_free = rules(Counts::AsRules, Counts::Free, Counts::Busy, &[]);
        assert!(!in_calendar(day(true), all_day_free).blocks_time(true));
        let all_day_busy = rules(Counts::AsRules, Counts::Busy, Counts::Busy, &[]);
        assert!(in_calendar(day(false), all_day_busy.clone()).blocks_time(true));
        assert!(!day(false).blocks_time(true));
        // Never a cancelled or declined one, whatever the rules.
        assert!(
            !in_calendar(
                Event {
                    status: Cancelled,
                    ..day(true)
                },
                all_day_busy
            )
            .blocks_time(true)
        );
        // Ignored titles, on whole words.
        let lunch = rules(Counts::AsRules, Counts::AsRules, Counts::Busy, &["lunch"]);
        let titled = |title: &str| Event {
            title: title.into(),
            ..event(Confirmed, true, None)
        };
        assert!(!in_calendar(titled("Team Lunch"), lunch.clone()).blocks_time(true));
        assert!(in_calendar(titled("Lunchtime talk"), lunch).blocks_time(true));
    }

    #[test]
    fn all_day_spans_local_midnights() {
        let e = Event {
            time: EventTime::AllDay {
                start: NaiveDate::from_ymd_opt(2026, 12, 24).unwrap(),
                end: NaiveDate::from_ymd_opt(2026, 12, 26).unwrap(),
            },
            ..event(EventStatus::Confirmed, true, None)
        };
        let i = e.interval_in(chrono_tz::Europe::Berlin).unwrap();
        assert_eq!(
            i.start(),
            Utc.with_ymd_and_hms(2026, 12, 23, 23, 0, 0).unwrap()
        );
        assert_eq!(
            i.end(),
            Utc.with_ymd_and_hms(2026, 12, 25, 23, 0, 0).unwrap()
        );
    }

    #[test]
    fn duplicates_by_uid_or_by_time_and_title() {
        let a = event(EventStatus::Confirmed, true, None);
        let mut b = a.clone();
        b.key = "other".into();
        b.title = "  STANDUP ".into();
        assert!(a.same_meeting(&b));
        b.title = "Retro".into();
        assert!(!a.same_meeting(&b));
        let (mut x, mut y) = (b.clone(), a.clone());
        x.ical_uid = Some("uid-1".into());
        y.ical_uid = Some("uid-1".into());
        assert!(x.same_meeting(&y));
    }
}
