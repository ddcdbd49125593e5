//! Writing iCalendar (RFC 5545) that Apple Calendar, Google Calendar and Outlook subscribe to.
//!
//! Every time is written in UTC (`…Z`) or as a floating `DATE` for all-day events, so no
//! VTIMEZONE is needed; `X-WR-TIMEZONE` tells clients which zone to show by default.

use std::fmt::Write;

use chrono::NaiveDate;
use domain::Instant;

/// How often subscribers should look again (RFC 7986 and the de-facto Microsoft property).
pub const REFRESH: &str = "PT15M";

pub struct Calendar<'a> {
    pub name: &'a str,
    pub timezone: &'a str,
    pub events: Vec<VEvent>,
}

#[derive(Clone, Debug)]
pub enum When {
    Timed {
        start: Instant,
        end: Instant,
    },
    /// End exclusive.
    AllDay {
        start: NaiveDate,
        end: NaiveDate,
    },
}

#[derive(Clone, Debug)]
pub struct VEvent {
    pub uid: String,
    pub stamp: Instant,
    pub when: When,
    pub summary: String,
    pub description: Option<String>,
    pub location: Option<String>,
    /// CONFIRMED or TENTATIVE.
    pub status: &'static str,
    pub busy: bool,
    pub categories: Vec<String>,
    /// Non-standard properties, already valid names (`X-…`), with text values.
    pub extra: Vec<(&'static str, String)>,
}

impl Calendar<'_> {
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(256 + self.events.len() * 320);
        line(&mut out, "BEGIN:VCALENDAR");
        line(&mut out, "VERSION:2.0");
        line(&mut out, "PRODID:-//freeslot//freeslot//EN");
        line(&mut out, "CALSCALE:GREGORIAN");
        line(&mut out, "METHOD:PUBLISH");
        line(&mut out, &format!("NAME:{}", text(self.name)));
        line(&mut out, &format!("X-WR-CALNAME:{}", text(self.name)));
        line(&mut out, &format!("X-WR-TIMEZONE:{}", text(self.timezone)));
        line(
            &mut out,
            &format!("REFRESH-INTERVAL;VALUE=DURATION:{REFRESH}"),
        );
        line(&mut out, &format!("X-PUBLISHED-TTL:{REFRESH}"));
        for event in &self.events {
            event.render(&mut out);
        }
        line(&mut out, "END:VCALENDAR");
        out
    }
}

impl VEvent {
    fn render(&self, out: &mut String) {
        line(out, "BEGIN:VEVENT");
        line(out, &format!("UID:{}", text(&self.uid)));
        line(out, &format!("DTSTAMP:{}", utc(self.stamp)));
        line(out, &format!("LAST-MODIFIED:{}", utc(self.stamp)));
        match &self.when {
            When::Timed { start, end } => {
                line(out, &format!("DTSTART:{}", utc(*start)));
                line(out, &format!("DTEND:{}", utc(*end)));
            }
            When::AllDay { start, end } => {
                line(
                    out,
                    &format!("DTSTART;VALUE=DATE:{}", start.format("%Y%m%d")),
                );
                line(out, &format!("DTEND;VALUE=DATE:{}", end.format("%Y%m%d")));
            }
        }
        line(out, &format!("SUMMARY:{}", text(&self.summary)));
        if let Some(d) = &self.description {
            line(out, &format!("DESCRIPTION:{}", text(d)));
        }
        if let Some(l) = &self.location {
            line(out, &format!("LOCATION:{}", text(l)));
        }
        line(out, &format!("STATUS:{}", self.status));
        line(
            out,
            if self.busy {
                "TRANSP:OPAQUE"
            } else {
                "TRANSP:TRANSPARENT"
            },
        );
        if !self.categories.is_empty() {
            let list: Vec<String> = self.categories.iter().map(|c| text(c)).collect();
            line(out, &format!("CATEGORIES:{}", list.join(",")));
        }
        for (name, value) in &self.extra {
            line(out, &format!("{name}:{}", text(value)));
        }
        line(out, "END:VEVENT");
    }
}

fn utc(t: Instant) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// A TEXT value (§3.3.11): backslash, semicolon, comma and newlines escaped; other control
/// characters dropped.
pub fn text(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

/// One content line, folded at 75 octets (§3.1) without splitting a UTF-8 character, ended by
/// CRLF.
fn line(out: &mut String, content: &str) {
    const MAX: usize = 75;
    let mut width = 0;
    for c in content.chars() {
        let len = c.len_utf8();
        if width + len > MAX {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += len;
    }
    let _ = write!(out, "\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(text("a,b;c\\d\r\ne\nf\u{7}"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let mut out = String::new();
        let value = "é".repeat(100);
        line(&mut out, &format!("SUMMARY:{value}"));
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded, format!("SUMMARY:{value}\r\n"));
    }
}
