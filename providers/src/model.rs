//! The normalized shapes every provider maps into.

use chrono::{DateTime, NaiveDate, Utc};
use domain::{EventStatus, SelfResponse};

/// Who the connected account is at the provider.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Stable id at the provider; reconnecting the same account finds the same connection by it.
    pub id: String,
    /// What a person recognises: usually an email address.
    pub display: String,
    pub timezone: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteCalendar {
    pub id: String,
    pub name: String,
    pub color: Option<String>,
    pub timezone: Option<String>,
    pub primary: bool,
}

/// `[start, end)` in UTC: what a full sync asks for, drawn around `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// When the sync began, by the application's clock: providers whose cursors are times
    /// (Cal.com) take it from here, never from the system clock.
    pub now: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RemoteTime {
    Timed {
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    },
    /// Local dates, end exclusive.
    AllDay { start: NaiveDate, end: NaiveDate },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemoteEvent {
    /// The provider's id for this event (or instance), unique within its calendar.
    pub id: String,
    pub ical_uid: Option<String>,
    /// For an instance of a series: the series id and where the instance originally started.
    pub recurring_event_id: Option<String>,
    pub original_start: Option<DateTime<Utc>>,
    pub title: String,
    pub description: Option<String>,
    pub location: Option<String>,
    pub time: RemoteTime,
    /// IANA zone the event was written in, when the provider says.
    pub timezone: Option<String>,
    pub status: EventStatus,
    /// False when the provider marks the time as free (transparent, showAs free or workingElsewhere).
    pub busy: bool,
    /// Out of office (Google `eventType: outOfOffice`, Graph `showAs: oof`, ICS
    /// `X-MICROSOFT-CDO-BUSYSTATUS:OOF`); blocks time unless its calendar's rules say otherwise.
    pub out_of_office: bool,
    pub self_response: Option<SelfResponse>,
    /// RFC 5545 recurrence of a series the provider did not expand (ICS feeds).
    pub rrule: Option<String>,
    pub exdates: Vec<DateTime<Utc>>,
    pub rdates: Vec<DateTime<Utc>>,
    pub organizer_email: Option<String>,
    pub attendee_emails: Vec<String>,
    pub etag: Option<String>,
    pub updated: Option<DateTime<Utc>>,
}

impl RemoteEvent {
    /// The instant range the event covers (all-day dates read as UTC days, which is close enough
    /// for deciding whether it touches a sync window of months).
    pub fn rough_range(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        match &self.time {
            RemoteTime::Timed { start, end } => (*start, *end),
            RemoteTime::AllDay { start, end } => (
                start.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
                end.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            ),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    Upsert(Box<RemoteEvent>),
    Delete {
        id: String,
    },
    /// Every event of one resource (a CalDAV object), whose ids all begin with `prefix`
    /// followed by [`RESOURCE_SEPARATOR`]: exactly these now, and any other stored event of the
    /// resource is gone (an override removed, or the whole resource when `events` is empty).
    Resource {
        prefix: String,
        events: Vec<RemoteEvent>,
    },
}

/// Between a resource's prefix and the id of one of its events (`Change::Resource`). A raw `#`
/// cannot be part of an href (it starts a fragment), so the first one ends the prefix.
pub const RESOURCE_SEPARATOR: char = '#';

/// One request of a sync, as the sync engine walks it page by page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SyncRequest {
    /// Everything in the window, from the start.
    Full { window: Window },
    /// Changes since the cursor a previous sync stored.
    Since { cursor: String, window: Window },
    /// The next page of the sync in progress (an opaque token from the previous page).
    Page { token: String, window: Window },
}

impl SyncRequest {
    pub fn window(&self) -> Window {
        match self {
            Self::Full { window } | Self::Since { window, .. } | Self::Page { window, .. } => {
                *window
            }
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Next {
    /// More pages: ask again with `SyncRequest::Page`.
    Page(String),
    /// The round is complete; store this cursor (with the page's writes) for the next `Since`.
    Done(Option<String>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    pub next: Next,
    /// The pages of this round list every event there is (a full sync, or an ICS feed that
    /// changed): whatever they did not mention is gone.
    pub snapshot: bool,
    /// The provider said nothing changed (ICS 304).
    pub not_modified: bool,
    /// What the user should hear although the page was read (an ICS time zone nothing resolves,
    /// read as UTC).
    pub warnings: Vec<String>,
}

/// How freeslot proves itself to a provider.
#[derive(Clone, Copy, Debug)]
pub enum Credential<'a> {
    /// An OAuth access token, or a Cal.com API key.
    Bearer(&'a str),
    /// The address of an ICS feed (which is itself the secret).
    Feed(&'a str),
    /// A CalDAV login: `caldav::Login` as JSON (server, username, password).
    Login(&'a str),
}

impl Credential<'_> {
    pub(crate) fn bearer(&self) -> Result<&str, crate::ProviderError> {
        match self {
            Credential::Bearer(token) => Ok(token),
            Credential::Feed(_) | Credential::Login(_) => Err(crate::ProviderError::Rejected(
                "this provider needs an access token".into(),
            )),
        }
    }
}

/// A push channel as the provider confirmed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Channel {
    /// Google channel id, Graph subscription id, Cal.com webhook id.
    pub id: String,
    /// Google's `resourceId` (needed to stop the channel).
    pub resource_id: Option<String>,
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}
