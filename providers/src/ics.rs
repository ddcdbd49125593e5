//! ICS feeds (RFC 5545) fetched over http(s) or `webcal://`, with `ETag` / `If-Modified-Since`.
//!
//! A feed has no delta: when it changed, its events are the whole truth (a snapshot); when the
//! server answers 304, nothing changed. Series stay series (RRULE, EXDATE, RDATE are kept and
//! expanded by the engine like manual events); an overriding instance (RECURRENCE-ID) becomes an
//! event of its own and an EXDATE of its series.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use domain::EventStatus;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::model::*;
use crate::source::CalendarSource;
use crate::{ProviderError, vtimezone, zones};

/// Feeds larger than this are refused: a calendar is not a video.
const MAX_FEED_BYTES: usize = 20 * 1024 * 1024;
pub const FEED_CALENDAR_ID: &str = "feed";
/// The rule of a series made of DTSTART and RDATEs only.
const ONLY_DTSTART: &str = "FREQ=DAILY;COUNT=1";

pub struct IcsFeed {
    /// An `outbound::client`: users' URLs reach only public addresses unless allowed.
    http: reqwest::Client,
    allow_private: bool,
}

/// `webcal://` is `https://` by another name; anything but http(s) is refused.
pub fn normalize_url(raw: &str) -> Result<Url, String> {
    let raw = raw.trim();
    let rewritten = match raw.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("webcal") => format!("https://{rest}"),
        _ => raw.to_owned(),
    };
    let url = Url::parse(&rewritten).map_err(|e| format!("`url` is not a valid URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
        return Err("`url` must be an http, https or webcal URL with a host".into());
    }
    Ok(url)
}

#[derive(Serialize, Deserialize, Default)]
struct Validators {
    etag: Option<String>,
    last_modified: Option<String>,
}

impl IcsFeed {
    /// `http` must be an [`outbound::client`](crate::outbound::client) built with the same
    /// `allow_private`.
    pub fn new(http: reqwest::Client, allow_private: bool) -> Self {
        Self {
            http,
            allow_private,
        }
    }

    fn feed_url(credential: Credential<'_>) -> Result<Url, ProviderError> {
        match credential {
            Credential::Feed(url) => normalize_url(url).map_err(ProviderError::Rejected),
            Credential::Bearer(_) | Credential::Login(_) => {
                Err(ProviderError::Rejected("a feed needs its URL".into()))
            }
        }
    }

    async fn fetch(
        &self,
        url: Url,
        validators: &Validators,
    ) -> Result<Option<(String, Validators)>, ProviderError> {
        crate::outbound::check_url(&url, self.allow_private)
            .map_err(|_| ProviderError::AddressNotAllowed)?;
        let mut request = self.http.get(url);
        if let Some(etag) = &validators.etag {
            request = request.header("If-None-Match", etag);
        }
        if let Some(modified) = &validators.last_modified {
            request = request.header("If-Modified-Since", modified);
        }
        let response = request.send().await?;
        if response.status() == StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let mut response = crate::http::check(response).await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let next = Validators {
            etag: header("etag"),
            last_modified: header("last-modified"),
        };
        if response
            .content_length()
            .is_some_and(|n| n as usize > MAX_FEED_BYTES)
        {
            return Err(ProviderError::Rejected(
                "the feed is larger than 20 MB".into(),
            ));
        }
        // Read in chunks against the cap: a server that sends no length (or lies about it)
        // cannot make us hold more than the cap.
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await? {
            if bytes.len() + chunk.len() > MAX_FEED_BYTES {
                return Err(ProviderError::Rejected(
                    "the feed is larger than 20 MB".into(),
                ));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(Some((String::from_utf8_lossy(&bytes).into_owned(), next)))
    }
}

#[async_trait]
impl CalendarSource for IcsFeed {
    async fn identity(&self, credential: Credential<'_>) -> Result<Identity, ProviderError> {
        let url = Self::feed_url(credential)?;
        // The address may hold a secret (private feed links do): only the host is shown.
        Ok(Identity {
            id: url.as_str().to_owned(),
            display: url.host_str().unwrap_or_default().to_owned(),
            timezone: None,
        })
    }

    async fn calendars(
        &self,
        credential: Credential<'_>,
    ) -> Result<Vec<RemoteCalendar>, ProviderError> {
        let url = Self::feed_url(credential)?;
        let Some((text, _)) = self.fetch(url, &Validators::default()).await? else {
            return Err(ProviderError::Protocol("304 without validators".into()));
        };
        let calendar = parse(&text).map_err(ProviderError::Protocol)?;
        Ok(vec![RemoteCalendar {
            id: FEED_CALENDAR_ID.into(),
            name: calendar.name.unwrap_or_else(|| "ICS feed".into()),
            color: None,
            timezone: calendar.timezone,
            primary: true,
        }])
    }

    async fn changes(
        &self,
        credential: Credential<'_>,
        _calendar_id: &str,
        request: &SyncRequest,
    ) -> Result<ChangePage, ProviderError> {
        let url = Self::feed_url(credential)?;
        let validators = match request {
            SyncRequest::Since { cursor, .. } => serde_json::from_str(cursor).unwrap_or_default(),
            _ => Validators::default(),
        };
        let Some((text, next)) = self.fetch(url, &validators).await? else {
            return Ok(ChangePage {
                changes: vec![],
                next: Next::Done(serde_json::to_string(&validators).ok()),
                snapshot: false,
                not_modified: true,
                warnings: Vec::new(),
            });
        };
        let calendar = parse(&text).map_err(ProviderError::Protocol)?;
        Ok(ChangePage {
            changes: calendar
                .events
                .into_iter()
                .map(|e| Change::Upsert(Box::new(e)))
                .collect(),
            next: Next::Done(serde_json::to_string(&next).ok()),
            snapshot: true,
            not_modified: false,
            warnings: calendar.warnings,
        })
    }
}

pub struct ParsedCalendar {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub events: Vec<RemoteEvent>,
    /// Time zones nothing resolved (their times are read as UTC), in words for `last_error`.
    pub warnings: Vec<String>,
}

/// One content line: `NAME;PARAM=VALUE:value`.
struct Property {
    name: String,
    params: HashMap<String, String>,
    value: String,
}

fn unfold(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for raw in text.split('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        if let Some(rest) = line.strip_prefix([' ', '\t'])
            && let Some(last) = lines.last_mut()
        {
            last.push_str(rest);
            continue;
        }
        if !line.is_empty() {
            lines.push(line.to_owned());
        }
    }
    lines
}

fn property(line: &str) -> Option<Property> {
    // The value starts at the first colon outside a quoted parameter value.
    let mut in_quotes = false;
    let colon = line.char_indices().find_map(|(i, c)| match c {
        '"' => {
            in_quotes = !in_quotes;
            None
        }
        ':' if !in_quotes => Some(i),
        _ => None,
    })?;
    let (head, value) = (&line[..colon], &line[colon + 1..]);
    let mut parts = head.split(';');
    let name = parts.next()?.trim().to_ascii_uppercase();
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_ascii_uppercase(), v.trim_matches('"').to_owned()))
        .collect();
    Some(Property {
        name,
        params,
        value: value.to_owned(),
    })
}

fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n' | 'N') => out.push('\n'),
                Some(other) => out.push(other),
                None => {}
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A DATE or DATE-TIME value: `(instant, the date if it is a DATE)`.
fn date_value(
    p: &Property,
    value: &str,
    default_zone: Option<&str>,
) -> Option<(DateTime<Utc>, Option<NaiveDate>)> {
    let value = value.trim();
    // A value of eight digits is a date; `VALUE=DATE` beside a date-time (`20110804T120000`)
    // is read as the date-time it holds, as other readers read it.
    if value.len() == 8 {
        let date = NaiveDate::parse_from_str(value, "%Y%m%d").ok()?;
        return Some((date.and_hms_opt(0, 0, 0)?.and_utc(), Some(date)));
    }
    if let Some(utc) = value.strip_suffix('Z') {
        let t = NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()?;
        return Some((t.and_utc(), None));
    }
    let t = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S").ok()?;
    // Floating times are read in the feed's zone (X-WR-TIMEZONE), else UTC.
    let zone = p.params.get("TZID").map(String::as_str).or(default_zone);
    Some((zones::local_to_utc(t, zone), None))
}

/// RFC 5545 durations such as `PT1H30M`, `P1D`, `-PT15M`, `P2W`; `None` for anything else,
/// including amounts beyond what a time can hold (`P999999999999999999W`).
fn duration(value: &str) -> Option<Duration> {
    let (negative, rest) = match value.trim().strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, value.trim().trim_start_matches('+')),
    };
    let rest = rest.strip_prefix('P')?;
    let mut total = Duration::zero();
    let mut number = String::new();
    for c in rest.chars() {
        match c {
            'T' => {}
            '0'..='9' => number.push(c),
            unit => {
                let n: i64 = number.parse().ok()?;
                number.clear();
                let part = match unit {
                    'W' => Duration::try_weeks(n),
                    'D' => Duration::try_days(n),
                    'H' => Duration::try_hours(n),
                    'M' => Duration::try_minutes(n),
                    'S' => Duration::try_seconds(n),
                    _ => None,
                }?;
                total = total.checked_add(&part)?;
            }
        }
    }
    Some(if negative { -total } else { total })
}

#[derive(Default)]
struct Raw {
    props: Vec<Property>,
}

impl Raw {
    fn get(&self, name: &str) -> Option<&Property> {
        self.props.iter().find(|p| p.name == name)
    }
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Property> + 'a {
        self.props.iter().filter(move |p| p.name == name)
    }
}

pub fn parse(text: &str) -> Result<ParsedCalendar, String> {
    parse_as(text, &[])
}

/// [`parse`] for an account: where one of `me` (email addresses, any case) is an ATTENDEE, its
/// PARTSTAT is the event's `self_response` (a CalDAV calendar is the account's own; a feed is
/// read for nobody).
pub fn parse_as(text: &str, me: &[String]) -> Result<ParsedCalendar, String> {
    let lines = unfold(text.trim_start_matches('\u{feff}'));
    if !lines
        .first()
        .is_some_and(|l| l.eq_ignore_ascii_case("BEGIN:VCALENDAR"))
    {
        return Err("not an iCalendar feed (no BEGIN:VCALENDAR)".into());
    }
    let mut name = None;
    let mut timezone = None;
    let mut raws: Vec<Raw> = Vec::new();
    // Nesting: only properties directly inside a VEVENT belong to it (not its VALARMs).
    let mut stack: Vec<String> = Vec::new();
    let mut current: Option<Raw> = None;
    let mut definitions: Vec<vtimezone::Definition> = Vec::new();
    let mut definition: Option<vtimezone::Definition> = None;
    let mut observance: Option<vtimezone::Observance> = None;
    for line in &lines {
        let Some(p) = property(line) else { continue };
        match p.name.as_str() {
            "BEGIN" => {
                let component = p.value.trim().to_ascii_uppercase();
                let parent = stack.last().map(String::as_str);
                match (component.as_str(), parent) {
                    ("VEVENT", Some("VCALENDAR")) => current = Some(Raw::default()),
                    ("VTIMEZONE", Some("VCALENDAR")) => definition = Some(Default::default()),
                    ("STANDARD" | "DAYLIGHT", Some("VTIMEZONE")) => {
                        observance = Some(Default::default());
                    }
                    _ => {}
                }
                stack.push(component);
            }
            "END" => match stack.pop().as_deref() {
                Some("VEVENT") => {
                    if let Some(raw) = current.take() {
                        raws.push(raw);
                    }
                }
                Some("STANDARD" | "DAYLIGHT") => {
                    if let (Some(o), Some(d)) = (observance.take(), definition.as_mut()) {
                        d.observances.push(o);
                    }
                }
                Some("VTIMEZONE") => definitions.extend(definition.take()),
                _ => {}
            },
            _ => match stack.last().map(String::as_str) {
                Some("VEVENT") => {
                    if let Some(raw) = current.as_mut() {
                        raw.props.push(p);
                    }
                }
                Some("VTIMEZONE") if p.name == "TZID" => {
                    if let Some(d) = definition.as_mut() {
                        d.tzid = unescape(p.value.trim());
                    }
                }
                Some("STANDARD" | "DAYLIGHT") => {
                    if let Some(o) = observance.as_mut() {
                        // A date onset is its midnight; a stray `Z` is ignored.
                        let local = |v: &str| {
                            let v = v.trim().trim_end_matches('Z');
                            NaiveDateTime::parse_from_str(v, "%Y%m%dT%H%M%S")
                                .ok()
                                .or_else(|| {
                                    NaiveDate::parse_from_str(v, "%Y%m%d")
                                        .ok()
                                        .map(|d| d.and_time(chrono::NaiveTime::MIN))
                                })
                        };
                        match p.name.as_str() {
                            "DTSTART" => o.start = local(&p.value),
                            "TZOFFSETFROM" => o.offset_from = vtimezone::parse_offset(&p.value),
                            "TZOFFSETTO" => o.offset_to = vtimezone::parse_offset(&p.value),
                            "RRULE" => o.rrule = Some(p.value.trim().to_owned()),
                            "RDATE" => o.rdates.extend(p.value.split(',').filter_map(local)),
                            _ => {}
                        }
                    }
                }
                Some("VCALENDAR") => match p.name.as_str() {
                    "X-WR-CALNAME" => name = Some(unescape(&p.value)),
                    "X-WR-TIMEZONE" => timezone = zones::iana(&p.value),
                    _ => {}
                },
                _ => {}
            },
        }
    }
    let unknown = resolve_zones(&mut raws, &definitions);
    let events = to_events(raws, timezone.as_deref(), me);
    let warnings = unknown
        .into_iter()
        .map(|tzid| {
            format!("the time zone \"{tzid}\" is neither defined in the feed nor known; its times are read as UTC")
        })
        .collect();
    Ok(ParsedCalendar {
        name,
        timezone,
        events,
        warnings,
    })
}

/// Rewrites every TZID that is not an IANA name to the IANA zone it stands for: the zone that
/// behaves as the file's own VTIMEZONE definition (over the years the file uses it in), else
/// the one its name maps to (Windows names, vendor prefixes, odd case). A definition no zone
/// follows and no name maps is applied itself: its local times are rewritten to UTC. A TZID
/// nothing resolves stays as it is and is read as UTC (`zones::local_to_utc` logs it); those
/// are returned.
fn resolve_zones(raws: &mut [Raw], definitions: &[vtimezone::Definition]) -> Vec<String> {
    let mut resolved: HashMap<String, Option<String>> = HashMap::new();
    let mut direct: HashMap<String, (vtimezone::Offsets, Option<chrono_tz::Tz>)> = HashMap::new();
    let mut years: HashMap<String, Vec<i32>> = HashMap::new();
    for p in raws.iter().flat_map(|r| r.props.iter()) {
        if let Some(tzid) = p.params.get("TZID")
            && let Some(year) = p.value.get(0..4).and_then(|y| y.parse::<i32>().ok())
        {
            years.entry(tzid.clone()).or_default().push(year);
        }
    }
    for (tzid, mut used) in years {
        if tzid.parse::<chrono_tz::Tz>().is_ok() {
            continue;
        }
        used.sort_unstable();
        let sample: Vec<i32> = {
            let (first, last) = (used[0], used[used.len() - 1]);
            let mut s = vec![first, first + 1, last];
            s.dedup();
            s
        };
        let named = zones::parse(&tzid);
        let definition = definitions.iter().find(|d| d.tzid == tzid);
        let defined = definition.and_then(|d| vtimezone::matching_zone(d, &sample, named));
        if let (None, None, Some(d)) = (defined, named, definition)
            && let Some(offsets) = vtimezone::Offsets::of(d, used[used.len() - 1])
        {
            // No zone behaves as the definition over those years: its own offsets turn each
            // time into UTC, and a series repeats in the zone that agrees over its first year
            // (UTC without one).
            let first_year = vtimezone::matching_zone(d, &sample[..1], None);
            direct.insert(tzid.clone(), (offsets, first_year));
            resolved.insert(
                tzid,
                Some(first_year.map_or("UTC", |tz| tz.name()).to_owned()),
            );
            continue;
        }
        resolved.insert(tzid, defined.or(named).map(|tz| tz.name().to_owned()));
    }
    for p in raws.iter_mut().flat_map(|r| r.props.iter_mut()) {
        if let Some(tzid) = p.params.get("TZID")
            && let Some((offsets, _)) = direct.get(tzid.as_str())
        {
            p.value = in_utc(&p.value, offsets);
        }
        if let Some(tzid) = p.params.get_mut("TZID")
            && let Some(Some(iana)) = resolved.get(tzid.as_str())
        {
            *tzid = iana.clone();
        }
    }
    let mut unknown: Vec<String> = resolved
        .into_iter()
        .filter_map(|(tzid, iana)| iana.is_none().then_some(tzid))
        .collect();
    unknown.sort();
    unknown
}

/// A property value's local date-times (lists and periods included) as UTC by `offsets`;
/// dates and durations stay as they are.
fn in_utc(value: &str, offsets: &vtimezone::Offsets) -> String {
    let one = |v: &str| match NaiveDateTime::parse_from_str(v.trim(), "%Y%m%dT%H%M%S") {
        Ok(local) => offsets.utc_of(local).format("%Y%m%dT%H%M%SZ").to_string(),
        Err(_) => v.to_owned(),
    };
    value
        .split(',')
        .map(|item| item.split('/').map(one).collect::<Vec<_>>().join("/"))
        .collect::<Vec<_>>()
        .join(",")
}

fn to_events(raws: Vec<Raw>, default_zone: Option<&str>, me: &[String]) -> Vec<RemoteEvent> {
    let mut events: Vec<RemoteEvent> = Vec::new();
    // (series uid, instant) of every overriding or cancelled instance.
    // With the date the RECURRENCE-ID was written with: an all-day series is matched by it.
    let mut overridden: Vec<(String, DateTime<Utc>, Option<NaiveDate>)> = Vec::new();
    // (series uid, instant, index of the override in `events`) of RANGE=THISANDFUTURE ones.
    let mut and_future: Vec<(String, DateTime<Utc>, Option<String>)> = Vec::new();
    for (index, raw) in raws.iter().enumerate() {
        let Some(start_prop) = raw.get("DTSTART") else {
            continue;
        };
        let Some((start, start_date)) = date_value(start_prop, &start_prop.value, default_zone)
        else {
            continue;
        };
        let zone = start_prop
            .params
            .get("TZID")
            .and_then(|z| zones::iana(z))
            .or_else(|| default_zone.map(str::to_owned));
        let end = match (raw.get("DTEND"), raw.get("DURATION")) {
            (Some(p), _) => date_value(p, &p.value, default_zone),
            (None, Some(d)) => duration(&d.value).and_then(|d| {
                let end = start.checked_add_signed(d)?;
                // A DATE start with a duration of hours is a timed event from midnight (as
                // other readers take it); whole days keep it all-day.
                let end_date = match start_date {
                    Some(s) if d.num_seconds() % 86_400 == 0 => Some(s.checked_add_signed(d)?),
                    _ => None,
                };
                Some((end, end_date))
            }),
            // RFC 5545: no end means one day for a DATE, an instant for a DATE-TIME.
            (None, None) => Some(match start_date {
                Some(d) => (start + Duration::days(1), Some(d + Duration::days(1))),
                None => (start, None),
            }),
        };
        let Some((end, end_date)) = end else { continue };
        let uid = raw
            .get("UID")
            .map(|p| p.value.trim().to_owned())
            .unwrap_or_else(|| format!("no-uid-{index}-{}", start.timestamp()));
        // A DATE in EXDATE, RDATE or RECURRENCE-ID names a day of the event's own calendar:
        // local midnight in its zone, which is how its all-day occurrences are expanded (read
        // as midnight UTC it missed them by the zone's offset).
        let tz: chrono_tz::Tz = zone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        let instant_of = |(t, date): (DateTime<Utc>, Option<NaiveDate>)| match date {
            Some(d) => domain::local::resolve_rfc5545(tz, d.and_time(chrono::NaiveTime::MIN)),
            None => t,
        };
        let recurrence_id = raw
            .get("RECURRENCE-ID")
            .and_then(|p| date_value(p, &p.value, default_zone))
            .map(instant_of);
        let recurrence_date = raw
            .get("RECURRENCE-ID")
            .and_then(|p| NaiveDate::parse_from_str(p.value.trim().get(..8)?, "%Y%m%d").ok());
        let status = match raw
            .get("STATUS")
            .map(|p| p.value.trim().to_ascii_uppercase())
        {
            Some(s) if s == "CANCELLED" => EventStatus::Cancelled,
            Some(s) if s == "TENTATIVE" => EventStatus::Tentative,
            _ => EventStatus::Confirmed,
        };
        let this_and_future = raw.get("RECURRENCE-ID").is_some_and(|p| {
            p.params
                .get("RANGE")
                .is_some_and(|r| r.eq_ignore_ascii_case("THISANDFUTURE"))
        });
        if let Some(original) = recurrence_id {
            if this_and_future {
                let carrier = (status != EventStatus::Cancelled)
                    .then(|| format!("{uid}/{}", original.format("%Y%m%dT%H%M%SZ")));
                and_future.push((uid.clone(), original, carrier));
            } else {
                overridden.push((uid.clone(), original, recurrence_date));
            }
            if status == EventStatus::Cancelled {
                continue;
            }
        }
        // Every value type: DATE, DATE-TIME, and PERIOD (its start; the occurrence lasts as
        // long as the event, as every occurrence does here).
        let instants = |name: &str| -> Vec<DateTime<Utc>> {
            raw.all(name)
                .flat_map(|p| {
                    p.value
                        .split(',')
                        .filter_map(|v| {
                            let start = v.split('/').next().unwrap_or(v);
                            date_value(p, start, default_zone).map(instant_of)
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let rdates = instants("RDATE");
        let time = match (start_date, end_date) {
            // An all-day event ending where it starts (or before) is one day, as other readers
            // take it.
            (Some(s), Some(e)) => RemoteTime::AllDay {
                start: s,
                end: if e > s { e } else { s + Duration::days(1) },
            },
            // DTEND before DTSTART: the two were swapped (as other readers take it).
            _ => RemoteTime::Timed {
                start: start.min(end),
                end: end.max(start),
            },
        };
        let text = |name: &str| {
            raw.get(name)
                .map(|p| unescape(&p.value))
                .filter(|s| !s.is_empty())
        };
        let mailto = |p: &Property| {
            let v = p.value.trim();
            v.strip_prefix("mailto:")
                .or_else(|| v.strip_prefix("MAILTO:"))
                .unwrap_or(v)
                .to_owned()
        };
        events.push(RemoteEvent {
            id: match recurrence_id {
                Some(original) => format!("{uid}/{}", original.format("%Y%m%dT%H%M%SZ")),
                None => uid.clone(),
            },
            ical_uid: Some(uid),
            recurring_event_id: None,
            original_start: recurrence_id,
            title: text("SUMMARY").unwrap_or_default(),
            description: text("DESCRIPTION"),
            location: text("LOCATION"),
            time,
            timezone: zone,
            status,
            busy: !raw
                .get("TRANSP")
                .is_some_and(|p| p.value.trim().eq_ignore_ascii_case("TRANSPARENT")),
            // Outlook and Exchange say so in their own property.
            out_of_office: raw
                .get("X-MICROSOFT-CDO-BUSYSTATUS")
                .is_some_and(|p| p.value.trim().eq_ignore_ascii_case("OOF")),
            self_response: raw
                .all("ATTENDEE")
                .find(|p| me.iter().any(|m| m.eq_ignore_ascii_case(&mailto(p))))
                .and_then(
                    |p| match p.params.get("PARTSTAT")?.to_ascii_uppercase().as_str() {
                        "ACCEPTED" => Some(domain::SelfResponse::Accepted),
                        "DECLINED" => Some(domain::SelfResponse::Declined),
                        "TENTATIVE" => Some(domain::SelfResponse::Tentative),
                        "NEEDS-ACTION" => Some(domain::SelfResponse::NeedsAction),
                        _ => None,
                    },
                ),
            rrule: recurrence_id
                .is_none()
                .then(|| {
                    // Several RRULEs are one per line (`domain::Recurrence::parse_all`).
                    let rules: Vec<String> = raw
                        .all("RRULE")
                        .map(|p| lenient_rule(&p.value))
                        .filter(|r| !r.is_empty())
                        .collect();
                    match rules.is_empty() {
                        false => Some(rules.join("\n")),
                        // RDATEs without a rule are a series too: DTSTART, then each RDATE.
                        true => (!rdates.is_empty()).then(|| ONLY_DTSTART.to_owned()),
                    }
                })
                .flatten(),
            exdates: instants("EXDATE"),
            rdates,
            organizer_email: raw.get("ORGANIZER").map(mailto),
            attendee_emails: raw.all("ATTENDEE").map(mailto).collect(),
            etag: raw.get("SEQUENCE").map(|p| p.value.trim().to_owned()),
            updated: raw
                .get("LAST-MODIFIED")
                .or_else(|| raw.get("DTSTAMP"))
                .and_then(|p| date_value(p, &p.value, None))
                .map(|(t, _)| t),
        });
    }
    // RANGE=THISANDFUTURE: the part of the series the instance falls in ends before it, and the
    // override carries the rest (that part's rule from its own start, so the move applies to
    // every later instance, with the exceptions that follow, moved alike). Each split leaves a
    // segment: where it begins on the series' original timeline, the event that carries it, and
    // how far it is moved; later overrides — ranged or single — name original instants and go to
    // the segment they fall in. A COUNT is shared: the part before keeps the instances before
    // the change, the rest the remaining count. Moves and cuts are taken on the series' wall
    // clock, as its instances are expanded.
    // A component written twice (same UID, same RECURRENCE-ID or none) is the later one, as a
    // sync page's last word per id is: overrides must land on the copy that is kept.
    let mut last_of: HashMap<String, usize> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        last_of.insert(e.id.clone(), i);
    }
    let mut position = 0;
    events.retain(|e| {
        let keep = last_of.get(&e.id) == Some(&position);
        position += 1;
        keep
    });
    and_future.sort_by_key(|(_, original, _)| *original);
    let mut segments: HashMap<String, Vec<Segment>> = HashMap::new();
    // Series heads left without an instance (the change began at their first one).
    let mut emptied: Vec<String> = Vec::new();
    for (uid, original, carrier_id) in and_future {
        let index = carrier_id.and_then(|id| events.iter().position(|e| e.id == id));
        let Some(series_at) = events.iter().position(|e| {
            e.rrule.is_some()
                && e.original_start.is_none()
                && e.ical_uid.as_deref() == Some(uid.as_str())
        }) else {
            continue;
        };
        let tz = zone_of(&events[series_at]);
        let parts = segments.entry(uid.clone()).or_insert_with(|| {
            vec![Segment {
                from: DateTime::<Utc>::MIN_UTC,
                id: events[series_at].id.clone(),
                shift: Duration::zero(),
            }]
        });
        let part = parts
            .iter()
            .rev()
            .find(|p| p.from <= original)
            .cloned()
            .expect("the first segment starts at the beginning of time");
        let Some(carrier) = events.iter().position(|e| e.id == part.id) else {
            continue;
        };
        let at = moved(tz, original, part.shift);
        let rule = events[carrier].rrule.clone().unwrap_or_default();
        let Some((head, rest)) = split_rule(&rule, tz, local_start(&events[carrier], tz), at)
        else {
            // Several rules with a COUNT: the instance alone is replaced.
            overridden.push((uid, original, None));
            if let Some(i) = index {
                events[i].rrule = None;
            }
            continue;
        };
        if local_start(&events[carrier], tz) >= local_in(tz, at) {
            emptied.push(events[carrier].id.clone());
        }
        let later = |dates: &[DateTime<Utc>]| -> Vec<DateTime<Utc>> {
            dates.iter().copied().filter(|x| *x >= at).collect()
        };
        let later_exdates = later(&events[carrier].exdates);
        // RDATEs from the change on belong to the rest, moved like it.
        let later_rdates = later(&events[carrier].rdates);
        events[carrier].rdates.retain(|x| *x < at);
        events[carrier].rrule = Some(head);
        if let Some(i) = index {
            // The move, on the series' wall clock (an all-day series moves by whole days
            // across DST too).
            let shift = local_start(&events[i], tz) - local_in(tz, original);
            let onward = |dates: Vec<DateTime<Utc>>| -> Vec<DateTime<Utc>> {
                dates
                    .into_iter()
                    .map(|x| moved(tz, x, shift - part.shift))
                    .collect()
            };
            events[i].rrule = rest;
            events[i].exdates = onward(later_exdates);
            events[i].rdates = onward(later_rdates);
            parts.push(Segment {
                from: original,
                id: events[i].id.clone(),
                shift,
            });
        }
    }
    // A modified instance whose series lists it in EXDATE was deleted after it was modified
    // (Google writes it so): it is gone.
    let deleted: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.original_start.is_some_and(|original| {
                events.iter().any(|series| {
                    series.original_start.is_none()
                        && series.rrule.is_some()
                        && series.ical_uid == e.ical_uid
                        && series.exdates.contains(&original)
                })
            })
        })
        .map(|(i, _)| i)
        .collect();
    for i in deleted.into_iter().rev() {
        events.remove(i);
    }
    events.retain(|e| !emptied.contains(&e.id));
    for (uid, original, date) in overridden {
        // The segment the instance falls in (the series itself unless it was split).
        let part = segments
            .get(&uid)
            .and_then(|parts| parts.iter().rev().find(|p| p.from <= original));
        let carrier = match part {
            Some(p) => events
                .iter_mut()
                .find(|e| e.id == p.id && e.rrule.is_some()),
            None => events
                .iter_mut()
                .find(|e| e.rrule.is_some() && e.ical_uid.as_deref() == Some(uid.as_str())),
        };
        let shift = part.map_or(Duration::zero(), |p| p.shift);
        if let Some(series) = carrier {
            let tz = zone_of(series);
            let original = moved(tz, original, shift);
            // An all-day series' instance is a day: the one the RECURRENCE-ID names, however it
            // was written (Outlook writes local midnight in its own zone as a DATE-TIME).
            let excluded = match (&series.time, date) {
                (RemoteTime::AllDay { .. }, Some(d)) => moved(tz, local_midnight(tz, d), shift),
                _ => original,
            };
            if !series.exdates.contains(&excluded) {
                series.exdates.push(excluded);
            }
        }
    }
    events
}

/// The zone a series is expanded in (its start's, else the calendar's; UTC without either).
fn zone_of(event: &RemoteEvent) -> chrono_tz::Tz {
    event
        .timezone
        .as_deref()
        .and_then(|z| z.parse().ok())
        .unwrap_or(chrono_tz::UTC)
}

fn local_in(tz: chrono_tz::Tz, t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&tz).naive_local()
}

fn local_midnight(tz: chrono_tz::Tz, date: NaiveDate) -> DateTime<Utc> {
    domain::local::resolve_rfc5545(tz, date.and_time(chrono::NaiveTime::MIN))
}

/// `t` moved by `shift` on `tz`'s wall clock.
fn moved(tz: chrono_tz::Tz, t: DateTime<Utc>, shift: Duration) -> DateTime<Utc> {
    match local_in(tz, t).checked_add_signed(shift) {
        Some(local) => domain::local::resolve_rfc5545(tz, local),
        None => t,
    }
}

/// Where an event starts on `tz`'s wall clock (an all-day event at the midnight of its date).
fn local_start(event: &RemoteEvent, tz: chrono_tz::Tz) -> NaiveDateTime {
    match &event.time {
        RemoteTime::AllDay { start, .. } => start.and_time(chrono::NaiveTime::MIN),
        RemoteTime::Timed { start, .. } => local_in(tz, *start),
    }
}

/// A series' rules split at `at` by a RANGE=THISANDFUTURE change: the rules of the part before
/// it (ending one second earlier), and those of the rest (from the change's own start; `None`
/// when a COUNT ran out before `at`). `None` for several rules with a COUNT among them, whose
/// merged count the reader does not split.
fn split_rule(
    rule: &str,
    tz: chrono_tz::Tz,
    first_local: NaiveDateTime,
    at: DateTime<Utc>,
) -> Option<(String, Option<String>)> {
    let cut = (at - Duration::seconds(1))
        .format("%Y%m%dT%H%M%SZ")
        .to_string();
    let count_of = |line: &str| {
        line.split(';').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.eq_ignore_ascii_case("COUNT")
                .then(|| v.trim().parse::<usize>().ok())
                .flatten()
        })
    };
    let lines: Vec<&str> = rule.lines().filter(|l| !l.trim().is_empty()).collect();
    if !lines.iter().any(|l| count_of(l).is_some()) {
        let head: Vec<String> = lines.iter().map(|l| until_at_most(l, at, &cut)).collect();
        return Some((head.join("\n"), Some(rule.to_owned())));
    }
    let [line] = lines.as_slice() else {
        return None;
    };
    let count = count_of(line)?;
    let before = domain::Recurrence::parse(line, tz, Vec::new(), Vec::new())
        .ok()?
        .count_before(tz, first_local, local_in(tz, at));
    let without_count = |line: &str| -> Vec<String> {
        line.split(';')
            .filter(|p| {
                !p.split_once('=')
                    .is_some_and(|(k, _)| k.eq_ignore_ascii_case("COUNT"))
            })
            .map(str::to_owned)
            .collect()
    };
    let head = until_at_most(&without_count(line).join(";"), at, &cut);
    let rest = (count > before).then(|| {
        let mut parts = without_count(line);
        parts.push(format!("COUNT={}", count - before));
        parts.join(";")
    });
    Some((head, rest))
}

/// One part of a series split by RANGE=THISANDFUTURE overrides.
#[derive(Clone)]
struct Segment {
    /// Where it begins, on the series' original timeline.
    from: DateTime<Utc>,
    /// The event that carries it.
    id: String,
    /// How far its instances are moved from the original timeline, on the series' wall clock.
    shift: Duration,
}

/// An RRULE as producers write it, made readable: a COUNT that is not a positive number
/// (`COUNT=-1`) or that comes beside an UNTIL (RFC 5545 forbids both) is dropped, as other
/// readers drop it.
fn lenient_rule(value: &str) -> String {
    let parts: Vec<&str> = value.trim().split(';').filter(|p| !p.is_empty()).collect();
    let has_until = parts
        .iter()
        .any(|p| p.to_ascii_uppercase().starts_with("UNTIL="));
    parts
        .into_iter()
        .filter(|p| match p.split_once('=') {
            Some((k, v)) if k.eq_ignore_ascii_case("COUNT") => {
                !has_until && v.trim().parse::<u32>().is_ok_and(|n| n > 0)
            }
            _ => true,
        })
        .collect::<Vec<_>>()
        .join(";")
}

/// `line` with an UNTIL no later than `cut` (`original` − 1 s, written as UTC).
fn until_at_most(line: &str, original: DateTime<Utc>, cut: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut has_until = false;
    for part in line.trim().split(';') {
        match part.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("UNTIL") => {
                has_until = true;
                let earlier = date_value(
                    &Property {
                        name: "UNTIL".into(),
                        params: HashMap::new(),
                        value: value.into(),
                    },
                    value,
                    None,
                )
                .is_some_and(|(t, _)| t < original);
                parts.push(if earlier {
                    part.to_owned()
                } else {
                    format!("UNTIL={cut}")
                });
            }
            _ => parts.push(part.to_owned()),
        }
    }
    if !has_until {
        parts.push(format!("UNTIL={cut}"));
    }
    parts.join(";")
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    const FEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nX-WR-CALNAME:Team\r\nX-WR-TIMEZONE:Europe/Berlin\r\n\
BEGIN:VEVENT\r\nUID:a@x\r\nDTSTART;TZID=Europe/Berlin:20261201T090000\r\nDTEND;TZID=Europe/Berlin:20261201T100000\r\n\
SUMMARY:Stand\\, up\r\n  meeting\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEXDATE;TZID=Europe/Berlin:20261203T090000\r\n\
BEGIN:VALARM\r\nTRIGGER:-PT15M\r\nDESCRIPTION:alarm\r\nEND:VALARM\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:a@x\r\nRECURRENCE-ID;TZID=Europe/Berlin:20261202T090000\r\nDTSTART:20261202T120000Z\r\nDURATION:PT30M\r\nSUMMARY:Moved\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:h@x\r\nDTSTART;VALUE=DATE:20261224\r\nDTEND;VALUE=DATE:20261226\r\nTRANSP:TRANSPARENT\r\nSUMMARY:Holiday\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

    #[test]
    fn parses_series_overrides_and_all_day_events() {
        let cal = parse(FEED).unwrap();
        assert_eq!(cal.name.as_deref(), Some("Team"));
        assert_eq!(cal.events.len(), 3);
        let series = &cal.events[0];
        assert_eq!(series.title, "Stand, up meeting");
        assert_eq!(series.rrule.as_deref(), Some("FREQ=DAILY;COUNT=5"));
        assert_eq!(series.timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(
            series.exdates,
            vec![
                "2026-12-03T08:00:00Z".parse::<DateTime<Utc>>().unwrap(),
                "2026-12-02T08:00:00Z".parse().unwrap()
            ]
        );
        let moved = &cal.events[1];
        assert_eq!(moved.id, "a@x/20261202T080000Z");
        assert_eq!(
            moved.time,
            RemoteTime::Timed {
                start: "2026-12-02T12:00:00Z".parse().unwrap(),
                end: "2026-12-02T12:30:00Z".parse().unwrap()
            }
        );
        let holiday = &cal.events[2];
        assert!(!holiday.busy);
        assert!(matches!(holiday.time, RemoteTime::AllDay { .. }));
    }

    #[test]
    fn webcal_is_https_and_other_schemes_are_refused() {
        assert_eq!(
            normalize_url("webcal://example.com/a.ics")
                .unwrap()
                .as_str(),
            "https://example.com/a.ics"
        );
        assert!(normalize_url("ftp://example.com/a.ics").is_err());
        assert!(normalize_url("not a url").is_err());
        assert!(parse("hello").is_err());
    }

    #[test]
    fn durations_beyond_any_time_are_refused_not_a_panic() {
        for d in [
            "P999999999999999999W",
            "PT9223372036854775807S",
            "P99999999999999999999D",
        ] {
            let feed = format!(
                "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x@y\r\nDTSTART:20261201T090000Z\r\n\
                 DURATION:{d}\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:ok@y\r\n\
                 DTSTART:20261201T090000Z\r\nDURATION:PT1H\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
            );
            let cal = parse(&feed).unwrap();
            let ids: Vec<&str> = cal.events.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(ids, ["ok@y"], "{d}");
        }
        assert_eq!(duration("-PT15M"), Some(-Duration::minutes(15)));
        assert_eq!(
            duration("P1W2DT3H"),
            Duration::try_hours(7 * 24 + 2 * 24 + 3)
        );
    }

    #[test]
    fn nul_characters_do_not_lose_the_event() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:n\u{0}@x\r\nDTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\nSUMMARY:Ni\u{0}ght\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let parsed = super::parse(text).unwrap();
        assert_eq!(parsed.events.len(), 1);
    }

    #[test]
    fn outlooks_out_of_office_is_read() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:o@x\r\nDTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\nX-MICROSOFT-CDO-BUSYSTATUS:OOF\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:b@x\r\nDTSTART:20261124T110000Z\r\nDTEND:20261124T120000Z\r\nX-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let parsed = super::parse(text).unwrap();
        let ooo: Vec<bool> = parsed.events.iter().map(|e| e.out_of_office).collect();
        assert_eq!(ooo, [true, false]);
    }

    #[test]
    fn a_change_from_the_first_instance_on_replaces_the_whole_series() {
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n\
BEGIN:VEVENT\r\nUID:s@x\r\nDTSTART:20261123T090000Z\r\nDTEND:20261123T100000Z\r\nRRULE:FREQ=DAILY;COUNT=3\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nUID:s@x\r\nRECURRENCE-ID;RANGE=THISANDFUTURE:20261123T090000Z\r\nDTSTART:20261123T140000Z\r\nDTEND:20261123T150000Z\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";
        let parsed = super::parse(text).unwrap();
        assert_eq!(parsed.events.len(), 1, "{:?}", parsed.events);
        assert_eq!(parsed.events[0].id, "s@x/20261123T090000Z");
        assert_eq!(
            parsed.events[0].rrule.as_deref(),
            Some("FREQ=DAILY;COUNT=3")
        );
    }

    #[test]
    fn a_count_is_shared_between_the_parts_of_a_split_series() {
        let at = Utc.with_ymd_and_hms(2026, 11, 26, 9, 0, 0).unwrap();
        let first = NaiveDate::from_ymd_opt(2026, 11, 23)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap();
        let (head, rest) = split_rule("FREQ=DAILY;COUNT=5", chrono_tz::UTC, first, at).unwrap();
        assert_eq!(head, "FREQ=DAILY;UNTIL=20261126T085959Z");
        assert_eq!(rest.as_deref(), Some("FREQ=DAILY;COUNT=2"));
        // The count ran out before the change: the rest is the change alone.
        let late = Utc.with_ymd_and_hms(2026, 12, 26, 9, 0, 0).unwrap();
        let (_, rest) = split_rule("FREQ=DAILY;COUNT=5", chrono_tz::UTC, first, late).unwrap();
        assert_eq!(rest, None);
        // Several rules with a COUNT: not split.
        assert!(split_rule("FREQ=DAILY;COUNT=5\nFREQ=WEEKLY", chrono_tz::UTC, first, at).is_none());
    }
}
