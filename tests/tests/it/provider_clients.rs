//! The provider clients against the fakes: paging, cursors, expired cursors, removals, typed
//! errors. (The app drives the same clients; these tests pin the protocol details down.)

use std::time::Duration;

use chrono::{DateTime, Utc};
use providers::calcom::CalDotCom;
use providers::google::Google;
use providers::ics::IcsFeed;
use providers::microsoft::Microsoft;
use providers::{
    CalendarSource, Change, Credential, ProviderError, RemoteTime, SyncRequest, Window, list_all,
};
use serde_json::json;
use tests::fakes::{self, Fault};

fn http() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    providers::http::client()
}

fn window() -> Window {
    Window {
        start: "2026-09-01T00:00:00Z".parse().unwrap(),
        end: "2027-12-01T00:00:00Z".parse().unwrap(),
        now: tests::clock::now(),
    }
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn upserts(changes: &[Change]) -> Vec<String> {
    let mut ids: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Upsert(e) => Some(e.id.clone()),
            Change::Delete { .. } | Change::Resource { .. } => None,
        })
        .collect();
    ids.sort();
    ids
}

fn deletes(changes: &[Change]) -> Vec<String> {
    let mut ids: Vec<String> = changes
        .iter()
        .filter_map(|c| match c {
            Change::Delete { id } => Some(id.clone()),
            Change::Upsert(_) | Change::Resource { .. } => None,
        })
        .collect();
    ids.sort();
    ids
}

fn google_event(id: &str, day: u32) -> serde_json::Value {
    json!({"id": id, "summary": format!("Meeting {id}"),
        "start": {"dateTime": format!("2026-12-{day:02}T09:00:00+01:00"), "timeZone": "Europe/Berlin"},
        "end": {"dateTime": format!("2026-12-{day:02}T10:00:00+01:00"), "timeZone": "Europe/Berlin"}})
}

#[tokio::test]
async fn google_pages_then_syncs_incrementally_and_reports_an_expired_token() {
    let fake = fakes::google::start("ada@example.com").await;
    let calendar = "ada@example.com";
    {
        let mut s = fake.state();
        for i in 0..300 {
            s.put_event(
                calendar,
                google_event(&format!("e{i:03}"), 1 + (i % 28) as u32),
            );
        }
        // Outside the window: not part of a full sync.
        s.put_event(
            calendar,
            json!({"id": "old", "start": {"date": "2025-01-01"}, "end": {"date": "2025-01-02"}}),
        );
    }
    let token = fake.state().oauth.issue_access().0;
    let google = Google::new(http(), fake.url("/calendar/v3").parse().unwrap());
    let credential = Credential::Bearer(&token);

    let first = google
        .changes(
            credential,
            calendar,
            &SyncRequest::Full { window: window() },
        )
        .await
        .unwrap();
    assert_eq!(first.changes.len(), 250, "pages of 250");
    assert!(first.snapshot);
    let (all, cursor) = list_all(
        &google,
        credential,
        calendar,
        SyncRequest::Full { window: window() },
    )
    .await
    .unwrap();
    assert_eq!(upserts(&all).len(), 300);
    let cursor = cursor.expect("a sync token after the last page");

    // Changes at Google: one moved, one deleted, one new.
    {
        let mut s = fake.state();
        s.put_event(calendar, google_event("e001", 20));
        s.delete_event(calendar, "e002");
        s.put_event(calendar, google_event("new", 21));
    }
    let since = SyncRequest::Since {
        cursor: cursor.clone(),
        window: window(),
    };
    let (changes, next) = list_all(&google, credential, calendar, since)
        .await
        .unwrap();
    assert_eq!(upserts(&changes), ["e001", "new"]);
    assert_eq!(deletes(&changes), ["e002"]);
    let next = next.unwrap();
    assert_ne!(next, cursor);
    let requests = fake.state().requests.clone();
    let incremental = requests
        .iter()
        .rev()
        .find(|r| r.contains("syncToken"))
        .unwrap();
    assert!(
        !incremental.contains("timeMin"),
        "no disallowed parameters with a sync token: {incremental}"
    );

    // Nothing changed: an empty round with a new token.
    let (changes, _) = list_all(
        &google,
        credential,
        calendar,
        SyncRequest::Since {
            cursor: next.clone(),
            window: window(),
        },
    )
    .await
    .unwrap();
    assert!(changes.is_empty());

    fake.state().expire_sync_tokens();
    let err = google
        .changes(
            credential,
            calendar,
            &SyncRequest::Since {
                cursor: next,
                window: window(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err, ProviderError::Gone);

    fake.state()
        .api_faults
        .push(Fault::RateLimited { retry_after: None });
    let err = google.calendars(credential).await.unwrap_err();
    assert_eq!(err, ProviderError::RateLimited { retry_after: None });
    fake.state().api_faults.push(Fault::ServerError);
    assert!(
        google
            .calendars(credential)
            .await
            .unwrap_err()
            .is_retryable()
    );
    let err = google
        .calendars(Credential::Bearer("wrong"))
        .await
        .unwrap_err();
    assert_eq!(err, ProviderError::Unauthorized);
}

fn graph_event(id: &str, start: &str, end: &str) -> serde_json::Value {
    json!({"id": id, "subject": format!("Graph {id}"), "showAs": "busy", "isAllDay": false,
        "start": {"dateTime": start, "timeZone": "UTC"}, "end": {"dateTime": end, "timeZone": "UTC"},
        "iCalUId": format!("uid-{id}")})
}

#[tokio::test]
async fn graph_follows_links_verbatim_and_reports_removals_and_expiry() {
    let fake = fakes::microsoft::start("ada@contoso.com").await;
    let calendar = fake.state().default_calendar_id();
    {
        let mut s = fake.state();
        for i in 0..260 {
            let day = 1 + i % 28;
            s.put_event(
                &calendar,
                graph_event(
                    &format!("m{i:03}"),
                    &format!("2026-12-{day:02}T09:00:00.0000000"),
                    &format!("2026-12-{day:02}T10:00:00.0000000"),
                ),
            );
        }
    }
    let token = fake.state().oauth.issue_access().0;
    let graph = Microsoft::new(http(), fake.url("/v1.0").parse().unwrap());
    let credential = Credential::Bearer(&token);
    let (all, delta) = list_all(
        &graph,
        credential,
        &calendar,
        SyncRequest::Full { window: window() },
    )
    .await
    .unwrap();
    assert_eq!(upserts(&all).len(), 260);
    let delta = delta.unwrap();
    assert!(
        delta.starts_with(&fake.url("/v1.0/")) && delta.contains("$deltatoken="),
        "{delta}"
    );
    {
        let s = fake.state();
        let (first, prefer) = &s
            .requests
            .iter()
            .find(|(p, _)| p.contains("calendarView/delta"))
            .unwrap()
            .clone();
        assert!(
            first.contains("startDateTime=2026-09-01T00%3A00%3A00Z")
                || first.contains("startDateTime=2026-09-01T00:00:00Z"),
            "{first}"
        );
        assert!(prefer.iter().any(|p| p.contains("odata.maxpagesize=250")));
        assert!(
            prefer
                .iter()
                .any(|p| p.contains("outlook.timezone=\"UTC\""))
        );
        assert!(
            s.requests.iter().any(|(p, _)| p.contains("$skiptoken=")),
            "the nextLink was followed"
        );
    }

    // A deletion and a move out of the window both come back as removals.
    {
        let mut s = fake.state();
        s.delete_event(&calendar, "m000");
        s.put_event(
            &calendar,
            graph_event(
                "m001",
                "2030-01-01T09:00:00.0000000",
                "2030-01-01T10:00:00.0000000",
            ),
        );
        s.put_event(
            &calendar,
            graph_event(
                "m002",
                "2026-12-24T12:00:00.0000000",
                "2026-12-24T13:00:00.0000000",
            ),
        );
    }
    let (changes, next) = list_all(
        &graph,
        credential,
        &calendar,
        SyncRequest::Since {
            cursor: delta.clone(),
            window: window(),
        },
    )
    .await
    .unwrap();
    assert_eq!(deletes(&changes), ["m000", "m001"]);
    assert_eq!(upserts(&changes), ["m002"]);
    let moved = changes
        .iter()
        .find_map(|c| match c {
            Change::Upsert(e) => Some(e),
            _ => None,
        })
        .unwrap();
    assert_eq!(
        moved.time,
        RemoteTime::Timed {
            start: t("2026-12-24T12:00:00Z"),
            end: t("2026-12-24T13:00:00Z")
        }
    );

    fake.state().expire_delta_tokens();
    let err = graph
        .changes(
            credential,
            &calendar,
            &SyncRequest::Since {
                cursor: next.unwrap(),
                window: window(),
            },
        )
        .await
        .unwrap_err();
    assert_eq!(err, ProviderError::Gone);

    fake.state().api_faults.push(Fault::RateLimited {
        retry_after: Some("2.128".into()),
    });
    let err = graph.calendars(credential).await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::RateLimited {
            retry_after: Some(Duration::from_millis(2128))
        }
    );
}

#[tokio::test]
async fn calcom_pages_bookings_with_its_api_version_and_sees_updates() {
    let fake = fakes::calcom::start("ada@cal.example").await;
    let key = fake.state().issue_api_key();
    {
        let mut s = fake.state();
        for i in 0..150 {
            let day = 1 + i % 28;
            s.put_booking(json!({"uid": format!("b{i:03}"), "title": "Intro call",
                "start": format!("2026-12-{day:02}T09:00:00.000Z"), "end": format!("2026-12-{day:02}T09:30:00.000Z"),
                "attendees": [{"email": "client@acme.test"}]}));
        }
    }
    let calcom = CalDotCom::new(http(), fake.url("/v2").parse().unwrap());
    let credential = Credential::Bearer(&key);
    let identity = calcom.identity(credential).await.unwrap();
    assert_eq!(identity.display, "ada@cal.example");
    let (all, cursor) = list_all(
        &calcom,
        credential,
        "bookings",
        SyncRequest::Full { window: window() },
    )
    .await
    .unwrap();
    assert_eq!(upserts(&all).len(), 150);
    {
        let s = fake.state();
        let bookings: Vec<_> = s
            .requests
            .iter()
            .filter(|(p, _)| p.starts_with("/v2/bookings"))
            .collect();
        assert_eq!(bookings.len(), 2, "100 a page");
        assert!(
            bookings
                .iter()
                .all(|(_, v)| v.as_deref() == Some("2024-08-13"))
        );
    }

    // Cancelled at Cal.com: a removal on the next round.
    {
        let mut s = fake.state();
        s.put_booking(
            json!({"uid": "b000", "title": "Intro call", "status": "cancelled",
            "start": "2026-12-01T09:00:00.000Z", "end": "2026-12-01T09:30:00.000Z"}),
        );
        s.put_booking(json!({"uid": "fresh", "title": "New", "start": "2026-12-05T15:00:00Z", "end": "2026-12-05T16:00:00Z"}));
    }
    let (changes, _) = list_all(
        &calcom,
        credential,
        "bookings",
        SyncRequest::Since {
            cursor: cursor.unwrap(),
            window: window(),
        },
    )
    .await
    .unwrap();
    assert_eq!(deletes(&changes), ["b000"]);
    assert!(upserts(&changes).contains(&"fresh".to_owned()));

    let err = calcom
        .identity(Credential::Bearer("cal_live_not_a_key"))
        .await
        .unwrap_err();
    assert_eq!(err, ProviderError::Unauthorized);
    fake.state().remaining = 0;
    let err = calcom.identity(credential).await.unwrap_err();
    assert_eq!(
        err,
        ProviderError::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
}

const FEED_V1: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a@test\r\nDTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\nSUMMARY:A\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
const FEED_V2: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:b@test\r\nDTSTART:20261202T090000Z\r\nDTEND:20261202T100000Z\r\nSUMMARY:B\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

#[tokio::test]
async fn ics_feeds_use_etags_and_replace_everything_when_changed() {
    let fake = fakes::ics::start().await;
    fake.state().publish("team", FEED_V1);
    let feed = IcsFeed::new(http(), true);
    let url = fake.url("/team.ics");
    let credential = Credential::Feed(&url);
    let first = feed
        .changes(credential, "feed", &SyncRequest::Full { window: window() })
        .await
        .unwrap();
    assert!(first.snapshot);
    assert_eq!(upserts(&first.changes), ["a@test"]);
    let providers::Next::Done(Some(cursor)) = first.next else {
        panic!("a cursor")
    };

    let same = feed
        .changes(
            credential,
            "feed",
            &SyncRequest::Since {
                cursor: cursor.clone(),
                window: window(),
            },
        )
        .await
        .unwrap();
    assert!(same.not_modified && same.changes.is_empty());
    assert_eq!(
        fake.state().requests.last().unwrap().1.as_deref(),
        Some("\"v1\"")
    );

    fake.state().publish("team", FEED_V2);
    let changed = feed
        .changes(
            credential,
            "feed",
            &SyncRequest::Since {
                cursor,
                window: window(),
            },
        )
        .await
        .unwrap();
    assert!(changed.snapshot && !changed.not_modified);
    assert_eq!(upserts(&changed.changes), ["b@test"]);

    fake.state().faults.push(Fault::ServerError);
    let err = feed
        .changes(credential, "feed", &SyncRequest::Full { window: window() })
        .await
        .unwrap_err();
    assert!(err.is_retryable());
    let missing = fake.url("/nope.ics");
    let err = feed
        .calendars(Credential::Feed(&missing))
        .await
        .unwrap_err();
    assert_eq!(err, ProviderError::NotFound);
}

#[tokio::test]
async fn a_provider_that_hangs_times_out_as_a_transient_error() {
    let fake = fakes::ics::start().await;
    fake.state().publish("slow", FEED_V1);
    fake.state()
        .faults
        .push(Fault::Delay(Duration::from_secs(5)));
    let _ = http();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let feed = IcsFeed::new(client, true);
    let url = fake.url("/slow.ics");
    let err = feed
        .changes(
            Credential::Feed(&url),
            "feed",
            &SyncRequest::Full { window: window() },
        )
        .await
        .unwrap_err();
    assert!(matches!(err, ProviderError::Transient(_)), "{err:?}");
    assert!(
        !err.to_string().contains("slow.ics"),
        "feed addresses stay out of errors"
    );
}
