//! Busy rules per calendar (contract, "Busy rules per calendar"): how one calendar's events count,
//! beside the user's own rules. `Event::blocks_time` is the one test that reads them.

use std::sync::Arc;

/// How one rule of a calendar decides: as the user's rules say, or always busy, or always free.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Counts {
    /// The user's rules decide (`tentative_is_busy`; all-day events by the general test).
    #[default]
    AsRules,
    Busy,
    Free,
}

impl Counts {
    /// `"busy"`, `"free"`, or nothing.
    pub fn parse(value: Option<&str>) -> Result<Self, BusyRulesError> {
        match value {
            None => Ok(Self::AsRules),
            Some("busy") => Ok(Self::Busy),
            Some("free") => Ok(Self::Free),
            Some(_) => Err(BusyRulesError::NotBusyOrFree),
        }
    }

    pub fn as_str(self) -> Option<&'static str> {
        match self {
            Self::AsRules => None,
            Self::Busy => Some("busy"),
            Self::Free => Some("free"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BusyRulesError {
    #[error("must be \"busy\" or \"free\"")]
    NotBusyOrFree,
    #[error("a title to ignore must hold a word (at most 200 characters)")]
    EmptyTitle,
    #[error("at most 50 titles to ignore")]
    TooManyTitles,
}

/// Titles longer than this, or more of them, are refused: each is matched against every event.
const MAX_TITLE_CHARS: usize = 200;
const MAX_TITLES: usize = 50;

/// A title to ignore, as the words it matches (lowercase, separated by single spaces).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IgnoredTitle {
    /// As the user wrote it, for showing back.
    pub text: String,
    /// ` word word ` — spaces on both ends, so that a match is on whole words.
    words: String,
}

impl IgnoredTitle {
    pub fn parse(text: &str) -> Result<Self, BusyRulesError> {
        let words = words_of(text);
        if words.trim().is_empty() || text.chars().count() > MAX_TITLE_CHARS {
            return Err(BusyRulesError::EmptyTitle);
        }
        Ok(Self {
            text: text.trim().to_owned(),
            words,
        })
    }

    /// Whether `title` holds these words, in order and whole (case-insensitive): "lunch" matches
    /// "Team lunch" and "LUNCH!", not "Lunchtime".
    pub fn matches(&self, title: &str) -> bool {
        words_of(title).contains(&self.words)
    }
}

/// ` word word `: the alphanumeric runs of `text`, lowercased, between single spaces.
fn words_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        out.extend(word.chars().flat_map(char::to_lowercase));
        out.push(' ');
    }
    out
}

/// One calendar's rules.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct BusyRules {
    pub tentative: Counts,
    pub all_day: Counts,
    /// Out-of-office events block unless this is `Free` (`AsRules` is never stored: the
    /// contract's default is busy).
    pub out_of_office: Counts,
    pub ignore_titles: Vec<IgnoredTitle>,
}

impl Default for BusyRules {
    fn default() -> Self {
        Self {
            tentative: Counts::AsRules,
            all_day: Counts::AsRules,
            out_of_office: Counts::Busy,
            ignore_titles: Vec::new(),
        }
    }
}

impl BusyRules {
    pub fn new(
        tentative: Counts,
        all_day: Counts,
        out_of_office: Counts,
        ignore_titles: &[String],
    ) -> Result<Self, BusyRulesError> {
        if ignore_titles.len() > MAX_TITLES {
            return Err(BusyRulesError::TooManyTitles);
        }
        let ignore_titles = ignore_titles
            .iter()
            .map(|t| IgnoredTitle::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            tentative,
            all_day,
            out_of_office: match out_of_office {
                Counts::Free => Counts::Free,
                _ => Counts::Busy,
            },
            ignore_titles,
        })
    }

    pub fn ignores(&self, title: &str) -> bool {
        self.ignore_titles.iter().any(|t| t.matches(title))
    }
}

/// The calendar an event comes from, as the engine needs it: to name it when explaining, and
/// its rules. Shared by all of the calendar's events.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct SourceCalendar {
    pub id: String,
    pub rules: BusyRules,
}

impl SourceCalendar {
    pub fn new(id: impl Into<String>, rules: BusyRules) -> Arc<Self> {
        Arc::new(Self {
            id: id.into(),
            rules,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_match_on_whole_words_in_any_case() {
        let lunch = IgnoredTitle::parse("Lunch").unwrap();
        assert!(lunch.matches("Team lunch"));
        assert!(lunch.matches("LUNCH!"));
        assert!(lunch.matches("lunch/break"));
        assert!(!lunch.matches("Lunchtime"));
        assert!(!lunch.matches("brunch"));
        let focus = IgnoredTitle::parse("focus  time").unwrap();
        assert!(focus.matches("Deep focus time (blocked)"));
        assert!(!focus.matches("time focus"));
        let umlaut = IgnoredTitle::parse("Mittagspause").unwrap();
        assert!(umlaut.matches("MITTAGSPAUSE – Büro"));
        assert_eq!(
            IgnoredTitle::parse("  ,, "),
            Err(BusyRulesError::EmptyTitle)
        );
    }

    #[test]
    fn out_of_office_is_busy_unless_free() {
        let rules = BusyRules::new(Counts::AsRules, Counts::AsRules, Counts::AsRules, &[]).unwrap();
        assert_eq!(rules.out_of_office, Counts::Busy);
        assert_eq!(rules, BusyRules::default());
        assert_eq!(
            Counts::parse(Some("maybe")),
            Err(BusyRulesError::NotBusyOrFree)
        );
    }
}
