//! Cal.com API v2 over reqwest + serde (there is no maintained Rust client).
//!
//! Bookings have no delta token. A round lists the bookings of the window (`afterStart` /
//! `beforeEnd`); later rounds ask for bookings updated *or* created since the cursor (a booking
//! never updated has `updatedAt: null`). The cursor is the start of the previous round minus
//! five minutes, so a booking changed during a round is seen again (harmless: upserts are
//! idempotent) rather than missed.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use domain::EventStatus;
use serde::Deserialize;
use url::Url;

use crate::ProviderError;
use crate::http::json;
use crate::model::*;
use crate::source::CalendarSource;

/// `GET /v2/bookings` in the offset-paged shape.
pub const BOOKINGS_API_VERSION: &str = "2024-08-13";
const PAGE_SIZE: usize = 100;
/// The one calendar a Cal.com connection has.
pub const BOOKINGS_CALENDAR_ID: &str = "bookings";

pub struct CalDotCom {
    http: reqwest::Client,
    base: Url,
}

impl CalDotCom {
    pub fn new(http: reqwest::Client, base: Url) -> Self {
        Self { http, base }
    }

    fn url(&self, segments: &[&str]) -> Url {
        crate::http::join(&self.base, segments)
    }

    async fn me(&self, token: &str) -> Result<Me, ProviderError> {
        let envelope: Envelope<Me> = json(
            self.http
                .get(self.url(&["me"]))
                .bearer_auth(token)
                .send()
                .await?,
        )
        .await?;
        Ok(envelope.data)
    }
}

#[derive(Deserialize)]
struct Envelope<T> {
    data: T,
    pagination: Option<Pagination>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Pagination {
    #[serde(default)]
    has_next_page: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Me {
    id: serde_json::Value,
    email: Option<String>,
    username: Option<String>,
    time_zone: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Person {
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Booking {
    uid: String,
    title: Option<String>,
    description: Option<String>,
    status: Option<String>,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    location: Option<String>,
    #[serde(default)]
    hosts: Vec<Person>,
    #[serde(default)]
    attendees: Vec<Person>,
    ics_uid: Option<String>,
    updated_at: Option<DateTime<Utc>>,
    created_at: Option<DateTime<Utc>>,
}

fn map_booking(b: Booking) -> Change {
    let status = match b.status.as_deref().map(str::to_ascii_lowercase).as_deref() {
        Some("cancelled" | "rejected") => return Change::Delete { id: b.uid },
        Some("pending" | "unconfirmed") => EventStatus::Tentative,
        _ => EventStatus::Confirmed,
    };
    Change::Upsert(Box::new(RemoteEvent {
        ical_uid: b.ics_uid.or_else(|| Some(b.uid.clone())),
        id: b.uid,
        recurring_event_id: None,
        original_start: None,
        title: b.title.unwrap_or_default(),
        description: b.description.filter(|d| !d.is_empty()),
        location: b.location.filter(|l| !l.is_empty()),
        time: RemoteTime::Timed {
            start: b.start,
            end: b.end,
        },
        timezone: None,
        status,
        busy: true,
        out_of_office: false,
        self_response: None,
        rrule: None,
        exdates: vec![],
        rdates: vec![],
        organizer_email: b.hosts.into_iter().find_map(|h| h.email),
        attendee_emails: b.attendees.into_iter().filter_map(|a| a.email).collect(),
        etag: None,
        updated: b.updated_at.or(b.created_at),
    }))
}

/// Where a round is: which query (`w`indow, `u`pdated since, `c`reated since), from which
/// instant, at which offset, and when the round began.
struct Position {
    phase: char,
    since: DateTime<Utc>,
    skip: usize,
    began: DateTime<Utc>,
}

impl Position {
    fn encode(&self) -> String {
        format!(
            "{} {} {} {}",
            self.phase,
            self.since.to_rfc3339(),
            self.skip,
            self.began.to_rfc3339()
        )
    }

    fn decode(token: &str) -> Option<Self> {
        let mut parts = token.split(' ');
        let phase = parts.next()?.chars().next()?;
        let since = parts.next()?.parse().ok()?;
        let skip = parts.next()?.parse().ok()?;
        let began = parts.next()?.parse().ok()?;
        Some(Position {
            phase,
            since,
            skip,
            began,
        })
    }
}

#[async_trait]
impl CalendarSource for CalDotCom {
    async fn identity(&self, credential: Credential<'_>) -> Result<Identity, ProviderError> {
        let me = self.me(credential.bearer()?).await?;
        let id = match &me.id {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        Ok(Identity {
            display: me.email.or(me.username).unwrap_or_else(|| id.clone()),
            id,
            timezone: me.time_zone,
        })
    }

    async fn calendars(
        &self,
        credential: Credential<'_>,
    ) -> Result<Vec<RemoteCalendar>, ProviderError> {
        let me = self.me(credential.bearer()?).await?;
        Ok(vec![RemoteCalendar {
            id: BOOKINGS_CALENDAR_ID.into(),
            name: "Cal.com bookings".into(),
            color: None,
            timezone: me.time_zone,
            primary: true,
        }])
    }

    async fn changes(
        &self,
        credential: Credential<'_>,
        _calendar_id: &str,
        request: &SyncRequest,
    ) -> Result<ChangePage, ProviderError> {
        let token = credential.bearer()?;
        let window = request.window();
        let now = window.now;
        let position = match request {
            SyncRequest::Full { .. } => Position {
                phase: 'w',
                since: now,
                skip: 0,
                began: now,
            },
            SyncRequest::Since { cursor, .. } => Position {
                phase: 'u',
                since: cursor.parse().map_err(|_| ProviderError::Gone)?,
                skip: 0,
                began: now,
            },
            SyncRequest::Page { token, .. } => Position::decode(token)
                .ok_or_else(|| ProviderError::Protocol("malformed page token".into()))?,
        };
        let mut url = self.url(&["bookings"]);
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("take", &PAGE_SIZE.to_string())
                .append_pair("skip", &position.skip.to_string());
            let since = position.since.to_rfc3339();
            match position.phase {
                'w' => {
                    q.append_pair("afterStart", &window.start.to_rfc3339())
                        .append_pair("beforeEnd", &window.end.to_rfc3339())
                        .append_pair("sortStart", "asc");
                }
                'u' => {
                    q.append_pair("afterUpdatedAt", &since)
                        .append_pair("sortUpdatedAt", "asc");
                }
                _ => {
                    q.append_pair("afterCreatedAt", &since)
                        .append_pair("sortCreated", "asc");
                }
            }
        }
        let response = self
            .http
            .get(url)
            .bearer_auth(token)
            .header("cal-api-version", BOOKINGS_API_VERSION)
            .send()
            .await?;
        let page: Envelope<Vec<Booking>> = json(response).await?;
        let returned = page.data.len();
        let changes = page
            .data
            .into_iter()
            // The `c`reated pass skips what the `u`pdated pass already reported.
            .filter(|b| position.phase != 'c' || b.updated_at.is_none_or(|u| u < position.since))
            .map(map_booking)
            .collect();
        let more = page.pagination.is_some_and(|p| p.has_next_page) && returned > 0;
        let next = if more {
            Next::Page(
                Position {
                    skip: position.skip + returned,
                    ..position
                }
                .encode(),
            )
        } else if position.phase == 'u' {
            Next::Page(
                Position {
                    phase: 'c',
                    skip: 0,
                    ..position
                }
                .encode(),
            )
        } else {
            Next::Done(Some((position.began - Duration::minutes(5)).to_rfc3339()))
        };
        Ok(ChangePage {
            changes,
            next,
            snapshot: position.phase == 'w',
            not_modified: false,
            warnings: Vec::new(),
        })
    }
}

/// The booking events freeslot listens for.
pub const WEBHOOK_TRIGGERS: [&str; 3] = [
    "BOOKING_CREATED",
    "BOOKING_RESCHEDULED",
    "BOOKING_CANCELLED",
];

impl CalDotCom {
    /// `POST /v2/webhooks`: Cal.com signs every delivery with `secret`.
    pub async fn create_webhook(
        &self,
        token: &str,
        subscriber_url: &str,
        secret: &str,
    ) -> Result<Channel, ProviderError> {
        #[derive(Deserialize)]
        struct Webhook {
            id: serde_json::Value,
        }
        let response = self
            .http
            .post(self.url(&["webhooks"]))
            .bearer_auth(token)
            .json(&serde_json::json!({
                "subscriberUrl": subscriber_url, "triggers": WEBHOOK_TRIGGERS,
                "active": true, "secret": secret,
            }))
            .send()
            .await?;
        let created: Envelope<Webhook> = json(response).await?;
        let id = match created.data.id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        Ok(Channel {
            id,
            resource_id: None,
            expires_at: None,
        })
    }

    pub async fn delete_webhook(&self, token: &str, webhook_id: &str) -> Result<(), ProviderError> {
        let response = self
            .http
            .delete(self.url(&["webhooks", webhook_id]))
            .bearer_auth(token)
            .send()
            .await?;
        crate::http::check(response).await.map(|_| ())
    }
}

/// `/v2/schedules` speaks this version.
pub const SCHEDULES_API_VERSION: &str = "2024-06-11";

/// A Cal.com API v2 schedule, as created (`POST`) or updated (`PATCH`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleBody {
    pub name: String,
    pub time_zone: String,
    pub is_default: bool,
    pub availability: Vec<ScheduleHours>,
    pub overrides: Vec<ScheduleOverride>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleHours {
    /// `Monday` … `Sunday`.
    pub days: Vec<String>,
    /// `HH:MM`, 00:00–23:59.
    pub start_time: String,
    pub end_time: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScheduleOverride {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub start_time: String,
    pub end_time: String,
}

impl CalDotCom {
    /// `POST /v2/schedules`; answers the new schedule's id.
    pub async fn create_schedule(
        &self,
        token: &str,
        body: &ScheduleBody,
    ) -> Result<String, ProviderError> {
        #[derive(Deserialize)]
        struct Created {
            id: serde_json::Value,
        }
        let response = self
            .http
            .post(self.url(&["schedules"]))
            .bearer_auth(token)
            .header("cal-api-version", SCHEDULES_API_VERSION)
            .json(body)
            .send()
            .await?;
        let created: Envelope<Created> = json(response).await?;
        Ok(match created.data.id {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        })
    }

    /// `PATCH /v2/schedules/{id}` with everything but `isDefault`, which stays the person's
    /// choice at Cal.com. A schedule deleted there answers [`ProviderError::NotFound`].
    pub async fn update_schedule(
        &self,
        token: &str,
        schedule_id: &str,
        body: &ScheduleBody,
    ) -> Result<(), ProviderError> {
        let response = self
            .http
            .patch(self.url(&["schedules", schedule_id]))
            .bearer_auth(token)
            .header("cal-api-version", SCHEDULES_API_VERSION)
            .json(&serde_json::json!({
                "name": body.name, "timeZone": body.time_zone,
                "availability": body.availability, "overrides": body.overrides,
            }))
            .send()
            .await?;
        crate::http::check(response).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cancelled_bookings_are_deletions() {
        let b: Booking = serde_json::from_value(serde_json::json!({
            "uid": "u1", "status": "cancelled",
            "start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"
        }))
        .unwrap();
        assert_eq!(map_booking(b), Change::Delete { id: "u1".into() });
        let b: Booking = serde_json::from_value(serde_json::json!({
            "uid": "u2", "status": "pending", "title": "Intro",
            "start": "2026-12-01T09:00:00+00:00", "end": "2026-12-01T10:00:00Z"
        }))
        .unwrap();
        let Change::Upsert(e) = map_booking(b) else {
            panic!()
        };
        assert_eq!(e.status, EventStatus::Tentative);
        assert!(e.busy);
    }
}
