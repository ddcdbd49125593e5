//! Microsoft Graph (Outlook calendars) over reqwest + serde models.
//!
//! Why not `graph-rs-sdk`: it refuses any host but Microsoft's (so `MICROSOFT_GRAPH_BASE_URL`
//! could not be honoured), is https-only, returns untyped JSON and doubles the HTTP stack in the
//! build. Four calls are needed: `/me`, `/me/calendars`, `calendarView/delta`, `/subscriptions`.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDateTime, Utc};
use domain::{EventStatus, SelfResponse};
use serde::Deserialize;
use url::Url;

use crate::http::json;
use crate::model::*;
use crate::source::CalendarSource;
use crate::{ProviderError, zones};

const PAGE_SIZE: u32 = 250;

pub struct Microsoft {
    http: reqwest::Client,
    base: Url,
}

impl Microsoft {
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
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .header("Prefer", format!("odata.maxpagesize={PAGE_SIZE}"))
            .header("Prefer", "outlook.timezone=\"UTC\"")
            .send()
            .await?;
        json(response).await
    }
}

#[derive(Deserialize)]
struct Collection<T> {
    #[serde(default = "Vec::new")]
    value: Vec<T>,
    #[serde(rename = "@odata.nextLink")]
    next_link: Option<String>,
    #[serde(rename = "@odata.deltaLink")]
    delta_link: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MsCalendar {
    id: String,
    name: Option<String>,
    hex_color: Option<String>,
    #[serde(default)]
    is_default_calendar: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DateTimeTimeZone {
    date_time: String,
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmailAddress {
    address: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Recipient {
    email_address: Option<EmailAddress>,
}

#[derive(Deserialize)]
struct ResponseStatus {
    response: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    display_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Body {
    content: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MsEvent {
    id: String,
    #[serde(rename = "@removed")]
    removed: Option<serde_json::Value>,
    #[serde(rename = "@odata.etag")]
    etag: Option<String>,
    subject: Option<String>,
    body: Option<Body>,
    location: Option<Location>,
    start: Option<DateTimeTimeZone>,
    end: Option<DateTimeTimeZone>,
    #[serde(default)]
    is_all_day: bool,
    #[serde(default)]
    is_cancelled: bool,
    show_as: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    series_master_id: Option<String>,
    original_start: Option<DateTime<Utc>>,
    response_status: Option<ResponseStatus>,
    #[serde(rename = "iCalUId")]
    ical_uid: Option<String>,
    organizer: Option<Recipient>,
    #[serde(default)]
    attendees: Vec<Recipient>,
    last_modified_date_time: Option<DateTime<Utc>>,
}

/// Graph writes `2016-12-09T20:30:00.0000000` and the zone separately.
fn local_time(t: &DateTimeTimeZone) -> Result<NaiveDateTime, ProviderError> {
    NaiveDateTime::parse_from_str(&t.date_time, "%Y-%m-%dT%H:%M:%S%.f")
        .map_err(|e| ProviderError::Protocol(format!("bad dateTime `{}`: {e}", t.date_time)))
}

fn map_event(e: MsEvent) -> Result<Option<Change>, ProviderError> {
    if e.removed.is_some() {
        return Ok(Some(Change::Delete { id: e.id }));
    }
    // A delta of a calendar view lists occurrences, never masters; skip one if it slips in.
    if e.kind.as_deref() == Some("seriesMaster") {
        return Ok(None);
    }
    let (Some(start), Some(end)) = (&e.start, &e.end) else {
        return Err(ProviderError::Protocol(format!(
            "event {} has no start/end",
            e.id
        )));
    };
    let (local_start, local_end) = (local_time(start)?, local_time(end)?);
    let time = if e.is_all_day {
        RemoteTime::AllDay {
            start: local_start.date(),
            end: local_end.date(),
        }
    } else {
        RemoteTime::Timed {
            start: zones::local_to_utc(local_start, start.time_zone.as_deref()),
            end: zones::local_to_utc(local_end, end.time_zone.as_deref()),
        }
    };
    let show_as = e.show_as.as_deref().unwrap_or("busy").to_ascii_lowercase();
    let self_response = e.response_status.and_then(|r| r.response).and_then(|r| {
        match r.to_ascii_lowercase().as_str() {
            "accepted" => Some(SelfResponse::Accepted),
            "declined" => Some(SelfResponse::Declined),
            "tentativelyaccepted" => Some(SelfResponse::Tentative),
            "notresponded" => Some(SelfResponse::NeedsAction),
            _ => None,
        }
    });
    let status = if e.is_cancelled {
        EventStatus::Cancelled
    } else if show_as == "tentative" {
        EventStatus::Tentative
    } else {
        EventStatus::Confirmed
    };
    Ok(Some(Change::Upsert(Box::new(RemoteEvent {
        id: e.id,
        ical_uid: e.ical_uid,
        recurring_event_id: e.series_master_id,
        original_start: e.original_start,
        title: e.subject.unwrap_or_default(),
        description: e.body.and_then(|b| b.content).filter(|c| !c.is_empty()),
        location: e
            .location
            .and_then(|l| l.display_name)
            .filter(|l| !l.is_empty()),
        time,
        timezone: start.time_zone.as_deref().and_then(zones::iana),
        status,
        busy: !matches!(show_as.as_str(), "free" | "workingelsewhere"),
        out_of_office: show_as == "oof",
        self_response,
        rrule: None,
        exdates: vec![],
        rdates: vec![],
        organizer_email: e.organizer.and_then(|o| o.email_address?.address),
        attendee_emails: e
            .attendees
            .into_iter()
            .filter_map(|a| a.email_address?.address)
            .collect(),
        etag: e.etag,
        updated: e.last_modified_date_time,
    }))))
}

#[async_trait]
impl CalendarSource for Microsoft {
    async fn identity(&self, credential: Credential<'_>) -> Result<Identity, ProviderError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Me {
            id: String,
            mail: Option<String>,
            user_principal_name: Option<String>,
        }
        let me: Me = self.get(credential.bearer()?, self.url(&["me"])).await?;
        Ok(Identity {
            display: me
                .mail
                .or(me.user_principal_name)
                .unwrap_or_else(|| me.id.clone()),
            id: me.id,
            timezone: None,
        })
    }

    async fn calendars(
        &self,
        credential: Credential<'_>,
    ) -> Result<Vec<RemoteCalendar>, ProviderError> {
        let token = credential.bearer()?;
        let mut url = self.url(&["me", "calendars"]);
        let mut calendars = Vec::new();
        loop {
            let page: Collection<MsCalendar> = self.get(token, url).await?;
            calendars.extend(page.value.into_iter().map(|c| RemoteCalendar {
                name: c.name.unwrap_or_else(|| "Calendar".into()),
                color: c.hex_color.filter(|h| !h.is_empty()),
                timezone: None,
                primary: c.is_default_calendar,
                id: c.id,
            }));
            match page.next_link {
                Some(next) => {
                    url = Url::parse(&next).map_err(|e| ProviderError::Protocol(e.to_string()))?
                }
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
        let (url, snapshot) = match request {
            SyncRequest::Full { window } => {
                let mut url = self.url(&["me", "calendars", calendar_id, "calendarView", "delta"]);
                // Request times in UTC, whatever the server's or the user's zone.
                url.query_pairs_mut()
                    .append_pair("startDateTime", &utc(window.start))
                    .append_pair("endDateTime", &utc(window.end));
                (url.to_string(), true)
            }
            // Links are followed verbatim: they are the provider's, tokens and all.
            SyncRequest::Since { cursor, .. } => (cursor.clone(), false),
            SyncRequest::Page { token, .. } => {
                let (kind, url) = token
                    .split_once(' ')
                    .ok_or_else(|| ProviderError::Protocol("malformed page token".into()))?;
                (url.to_owned(), kind == "full")
            }
        };
        let url = Url::parse(&url).map_err(|e| ProviderError::Protocol(e.to_string()))?;
        let page: Collection<MsEvent> = self.get(token, url).await?;
        let mut changes = Vec::with_capacity(page.value.len());
        for event in page.value {
            changes.extend(map_event(event)?);
        }
        let next = match (page.next_link, page.delta_link) {
            (Some(next), _) => Next::Page(format!(
                "{} {next}",
                if snapshot { "full" } else { "delta" }
            )),
            (None, Some(delta)) => Next::Done(Some(delta)),
            (None, None) => {
                return Err(ProviderError::Protocol(
                    "a delta page with neither nextLink nor deltaLink".into(),
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

fn utc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Graph caps event subscriptions at 4,230 minutes; ask for a little less.
pub const SUBSCRIPTION_MINUTES: i64 = 4200;

impl Microsoft {
    /// `POST /subscriptions` for a calendar's events. Graph checks `notification_url` with a
    /// validation request before it answers.
    pub async fn subscribe(
        &self,
        token: &str,
        calendar_id: &str,
        notification_url: &str,
        client_state: &str,
        now: DateTime<Utc>,
    ) -> Result<Channel, ProviderError> {
        let expires = now + chrono::Duration::minutes(SUBSCRIPTION_MINUTES);
        let response = self
            .http
            .post(self.url(&["subscriptions"]))
            .bearer_auth(token)
            .json(&serde_json::json!({
                "changeType": "created,updated,deleted",
                "notificationUrl": notification_url,
                "lifecycleNotificationUrl": notification_url,
                "resource": format!("me/calendars/{calendar_id}/events"),
                "expirationDateTime": expires.to_rfc3339(),
                "clientState": client_state,
            }))
            .send()
            .await?;
        subscription(response).await
    }

    /// Extends a subscription (also the answer to `reauthorizationRequired`).
    pub async fn renew(
        &self,
        token: &str,
        subscription_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Channel, ProviderError> {
        let expires = now + chrono::Duration::minutes(SUBSCRIPTION_MINUTES);
        let response = self
            .http
            .patch(self.url(&["subscriptions", subscription_id]))
            .bearer_auth(token)
            .json(&serde_json::json!({"expirationDateTime": expires.to_rfc3339()}))
            .send()
            .await?;
        subscription(response).await
    }

    pub async fn unsubscribe(
        &self,
        token: &str,
        subscription_id: &str,
    ) -> Result<(), ProviderError> {
        let response = self
            .http
            .delete(self.url(&["subscriptions", subscription_id]))
            .bearer_auth(token)
            .send()
            .await?;
        crate::http::check(response).await.map(|_| ())
    }
}

async fn subscription(response: reqwest::Response) -> Result<Channel, ProviderError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Subscription {
        id: String,
        expiration_date_time: Option<DateTime<Utc>>,
    }
    let s: Subscription = json(response).await?;
    Ok(Channel {
        id: s.id,
        resource_id: None,
        expires_at: s.expiration_date_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_events_map_to_the_contract() {
        let e: MsEvent = serde_json::from_value(serde_json::json!({
            "id": "x", "subject": "Review", "showAs": "workingElsewhere",
            "start": {"dateTime": "2026-12-01T09:00:00.0000000", "timeZone": "W. Europe Standard Time"},
            "end": {"dateTime": "2026-12-01T10:00:00.0000000", "timeZone": "W. Europe Standard Time"},
            "responseStatus": {"response": "tentativelyAccepted"}
        }))
        .unwrap();
        let Some(Change::Upsert(e)) = map_event(e).unwrap() else {
            panic!()
        };
        assert!(!e.busy && !e.out_of_office);
        assert_eq!(e.self_response, Some(SelfResponse::Tentative));
        let away: MsEvent = serde_json::from_value(serde_json::json!({
            "id": "o", "subject": "Away", "showAs": "oof",
            "start": {"dateTime": "2026-12-01T09:00:00.0000000", "timeZone": "UTC"},
            "end": {"dateTime": "2026-12-01T10:00:00.0000000", "timeZone": "UTC"}
        }))
        .unwrap();
        let Some(Change::Upsert(away)) = map_event(away).unwrap() else {
            panic!()
        };
        assert!(away.busy && away.out_of_office);
        assert_eq!(e.timezone.as_deref(), Some("Europe/Berlin"));
        assert_eq!(
            e.time,
            RemoteTime::Timed {
                start: "2026-12-01T08:00:00Z".parse().unwrap(),
                end: "2026-12-01T09:00:00Z".parse().unwrap()
            }
        );
        let removed: MsEvent = serde_json::from_value(
            serde_json::json!({"id": "y", "@removed": {"reason": "deleted"}}),
        )
        .unwrap();
        assert_eq!(
            map_event(removed).unwrap(),
            Some(Change::Delete { id: "y".into() })
        );
    }
}
