//! Google Calendar API v3 over reqwest + serde models.
//!
//! Why not `google-calendar3`: it reaches a configurable base URL, but reports a 410 (sync token
//! expired) as a generic `BadRequest` and adds its own hyper stack to the build; the five calls
//! freeslot makes are clearer as typed requests that share one error mapping with the others.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use domain::{EventStatus, SelfResponse};
use serde::Deserialize;
use url::Url;

use crate::ProviderError;
use crate::http::json;
use crate::model::*;
use crate::source::CalendarSource;

const PAGE_SIZE: &str = "250";

pub struct Google {
    http: reqwest::Client,
    base: Url,
}

impl Google {
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        Self { http, base }
    }

    fn url(&self, segments: &[&str]) -> Url {
        crate::http::join(&self.base, segments)
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        token: &str,
        url: Url,
    ) -> Result<T, ProviderError> {
        json(self.http.get(url).bearer_auth(token).send().await?).await
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CalendarListPage {
    #[serde(default)]
    items: Vec<CalendarListEntry>,
    next_page_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CalendarListEntry {
    id: String,
    summary: Option<String>,
    summary_override: Option<String>,
    time_zone: Option<String>,
    background_color: Option<String>,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    deleted: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EventsPage {
    #[serde(default)]
    items: Vec<GEvent>,
    next_page_token: Option<String>,
    next_sync_token: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct GTime {
    date: Option<NaiveDate>,
    date_time: Option<DateTime<chrono::FixedOffset>>,
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GPerson {
    email: Option<String>,
    #[serde(default, rename = "self")]
    is_self: bool,
    response_status: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GEvent {
    id: String,
    status: Option<String>,
    summary: Option<String>,
    description: Option<String>,
    location: Option<String>,
    start: Option<GTime>,
    end: Option<GTime>,
    transparency: Option<String>,
    event_type: Option<String>,
    #[serde(rename = "iCalUID")]
    ical_uid: Option<String>,
    recurring_event_id: Option<String>,
    original_start_time: Option<GTime>,
    organizer: Option<GPerson>,
    #[serde(default)]
    attendees: Vec<GPerson>,
    etag: Option<String>,
    updated: Option<DateTime<Utc>>,
}

fn instant(t: &GTime) -> Option<DateTime<Utc>> {
    t.date_time
        .map(|d| d.with_timezone(&Utc))
        .or_else(|| Some(t.date?.and_hms_opt(0, 0, 0)?.and_utc()))
}

fn map_event(e: GEvent) -> Result<Change, ProviderError> {
    if e.status.as_deref() == Some("cancelled") {
        // Cancelled items may carry nothing but their id.
        return Ok(Change::Delete { id: e.id });
    }
    let (start, end) = (e.start.unwrap_or_default(), e.end.unwrap_or_default());
    let time = match (start.date, end.date, start.date_time, end.date_time) {
        (Some(s), Some(en), _, _) => RemoteTime::AllDay { start: s, end: en },
        (_, _, Some(s), Some(en)) => RemoteTime::Timed {
            start: s.with_timezone(&Utc),
            end: en.with_timezone(&Utc),
        },
        _ => {
            return Err(ProviderError::Protocol(format!(
                "event {} has no usable start and end",
                e.id
            )));
        }
    };
    let self_response = e.attendees.iter().find(|a| a.is_self).and_then(|a| {
        match a.response_status.as_deref()? {
            "accepted" => Some(SelfResponse::Accepted),
            "declined" => Some(SelfResponse::Declined),
            "tentative" => Some(SelfResponse::Tentative),
            "needsAction" => Some(SelfResponse::NeedsAction),
            _ => None,
        }
    });
    // A working-location entry says where, not whether: it never blocks time.
    let busy = e.transparency.as_deref() != Some("transparent")
        && e.event_type.as_deref() != Some("workingLocation");
    Ok(Change::Upsert(Box::new(RemoteEvent {
        id: e.id,
        ical_uid: e.ical_uid,
        recurring_event_id: e.recurring_event_id,
        original_start: e.original_start_time.as_ref().and_then(instant),
        title: e.summary.unwrap_or_default(),
        description: e.description,
        location: e.location,
        time,
        timezone: start.time_zone,
        status: match e.status.as_deref() {
            Some("tentative") => EventStatus::Tentative,
            _ => EventStatus::Confirmed,
        },
        busy,
        out_of_office: e.event_type.as_deref() == Some("outOfOffice"),
        self_response,
        rrule: None,
        exdates: vec![],
        rdates: vec![],
        organizer_email: e.organizer.and_then(|o| o.email),
        attendee_emails: e.attendees.into_iter().filter_map(|a| a.email).collect(),
        etag: e.etag,
        updated: e.updated,
    })))
}

#[async_trait]
impl CalendarSource for Google {
    async fn identity(&self, credential: Credential<'_>) -> Result<Identity, ProviderError> {
        // The primary calendar's id is the account's email address.
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Primary {
            id: String,
            time_zone: Option<String>,
        }
        let token = credential.bearer()?;
        let primary: Primary = self.get(token, self.url(&["calendars", "primary"])).await?;
        Ok(Identity {
            display: primary.id.clone(),
            id: primary.id,
            timezone: primary.time_zone,
        })
    }

    async fn calendars(
        &self,
        credential: Credential<'_>,
    ) -> Result<Vec<RemoteCalendar>, ProviderError> {
        let token = credential.bearer()?;
        let mut calendars = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut url = self.url(&["users", "me", "calendarList"]);
            url.query_pairs_mut().append_pair("maxResults", PAGE_SIZE);
            if let Some(t) = &page_token {
                url.query_pairs_mut().append_pair("pageToken", t);
            }
            let page: CalendarListPage = self.get(token, url).await?;
            calendars.extend(page.items.into_iter().filter(|c| !c.deleted).map(|c| {
                RemoteCalendar {
                    name: c
                        .summary_override
                        .or(c.summary)
                        .unwrap_or_else(|| c.id.clone()),
                    id: c.id,
                    color: c.background_color,
                    timezone: c.time_zone,
                    primary: c.primary,
                }
            }));
            match page.next_page_token {
                Some(t) => page_token = Some(t),
                None => return Ok(calendars),
            }
        }
    }

    async fn changes(
        &self,
        credential: Credential<'_>,
        calendar_id: &str,
        request: &SyncRequest,
    ) -> Result<ChangePage, ProviderError> {
        let token = credential.bearer()?;
        // Instances are expanded by Google (`singleEvents`), and the same flags go with every
        // request of a round: a sync token only accepts the parameters of the sync that made it.
        let base = || {
            let mut url = self.url(&["calendars", calendar_id, "events"]);
            url.query_pairs_mut()
                .append_pair("singleEvents", "true")
                .append_pair("maxResults", PAGE_SIZE);
            url
        };
        let (url, snapshot) = match request {
            SyncRequest::Full { window } => {
                let mut url = base();
                url.query_pairs_mut()
                    .append_pair("timeMin", &window.start.to_rfc3339())
                    .append_pair("timeMax", &window.end.to_rfc3339());
                (url, true)
            }
            SyncRequest::Since { cursor, .. } => {
                let mut url = base();
                url.query_pairs_mut()
                    .append_pair("syncToken", cursor)
                    .append_pair("showDeleted", "true");
                (url, false)
            }
            SyncRequest::Page { token, .. } => {
                let (snapshot, url) = token
                    .split_once(' ')
                    .ok_or_else(|| ProviderError::Protocol("malformed page token".into()))?;
                let url = Url::parse(url).map_err(|e| ProviderError::Protocol(e.to_string()))?;
                (url, snapshot == "full")
            }
        };
        let page: EventsPage = self.get(token, url.clone()).await?;
        let changes = page
            .items
            .into_iter()
            .map(map_event)
            .collect::<Result<Vec<_>, _>>()?;
        let next = match (page.next_page_token, page.next_sync_token) {
            (Some(page_token), _) => {
                // The same query again, with the page token in place of any earlier one.
                let mut next = url.clone();
                let kept: Vec<(String, String)> = url
                    .query_pairs()
                    .filter(|(k, _)| k != "pageToken")
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect();
                next.query_pairs_mut()
                    .clear()
                    .extend_pairs(kept)
                    .append_pair("pageToken", &page_token);
                let kind = if snapshot { "full" } else { "delta" };
                Next::Page(format!("{kind} {next}"))
            }
            (None, Some(sync_token)) => Next::Done(Some(sync_token)),
            (None, None) => {
                return Err(ProviderError::Protocol(
                    "a page with neither nextPageToken nor nextSyncToken".into(),
                ));
            }
        };
        Ok(ChangePage {
            changes,
            next,
            snapshot,
            not_modified: false,
            warnings: Vec::new(),
        })
    }
}

impl Google {
    /// `events.watch`: Google posts to `address` (with `token` echoed) when the calendar changes.
    pub async fn watch(
        &self,
        token: &str,
        calendar_id: &str,
        channel_id: &str,
        address: &str,
        channel_token: &str,
    ) -> Result<Channel, ProviderError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Watched {
            id: String,
            resource_id: Option<String>,
            /// Milliseconds, as a number or (discovery clients) a string.
            expiration: Option<serde_json::Value>,
        }
        let url = self.url(&["calendars", calendar_id, "events", "watch"]);
        let response = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(&serde_json::json!({
                "id": channel_id, "type": "web_hook", "address": address, "token": channel_token,
            }))
            .send()
            .await?;
        let watched: Watched = json(response).await?;
        let millis = watched.expiration.and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_i64(),
            serde_json::Value::String(s) => s.parse().ok(),
            _ => None,
        });
        Ok(Channel {
            id: watched.id,
            resource_id: watched.resource_id,
            expires_at: millis.and_then(DateTime::from_timestamp_millis),
        })
    }

    /// `channels.stop`.
    pub async fn stop(
        &self,
        token: &str,
        channel_id: &str,
        resource_id: &str,
    ) -> Result<(), ProviderError> {
        let response = self
            .http
            .post(self.url(&["channels", "stop"]))
            .bearer_auth(token)
            .json(&serde_json::json!({"id": channel_id, "resourceId": resource_id}))
            .send()
            .await?;
        crate::http::check(response).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(json: serde_json::Value) -> Change {
        map_event(serde_json::from_value(json).unwrap()).unwrap()
    }

    #[test]
    fn busy_rules_follow_the_contract() {
        let Change::Upsert(e) = event(serde_json::json!({
            "id": "a", "summary": "Sync", "transparency": "transparent",
            "start": {"dateTime": "2026-12-01T09:00:00+01:00"},
            "end": {"dateTime": "2026-12-01T10:00:00+01:00"},
            "attendees": [{"email": "me@x", "self": true, "responseStatus": "declined"}]
        })) else {
            panic!()
        };
        assert!(!e.busy && !e.out_of_office);
        assert_eq!(e.self_response, Some(SelfResponse::Declined));
        assert_eq!(
            e.time,
            RemoteTime::Timed {
                start: "2026-12-01T08:00:00Z".parse().unwrap(),
                end: "2026-12-01T09:00:00Z".parse().unwrap()
            }
        );
        let Change::Upsert(e) = event(serde_json::json!({
            "id": "b", "start": {"date": "2026-12-24"}, "end": {"date": "2026-12-26"},
            "eventType": "outOfOffice"
        })) else {
            panic!()
        };
        assert!(e.busy && e.out_of_office);
        assert!(matches!(e.time, RemoteTime::AllDay { .. }));
        assert_eq!(
            event(serde_json::json!({"id": "c", "status": "cancelled"})),
            Change::Delete { id: "c".into() }
        );
    }
}
