//! Private ICS feeds, read back with a third-party parser (Python's `icalendar`).

use std::process::Command;

use chrono::{Duration as Days, Weekday};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::dates::{berlin, berlin_utc, next};
use tests::fakes;
use tests::{Backend, TestApp, TestUser, backend_tests, error_code};

/// Parses a feed with `icalendar` and answers its calendar properties and events as JSON.
const PARSE: &str = r#"
import json, sys
import icalendar

cal = icalendar.Calendar.from_ical(sys.stdin.buffer.read())
def text(component, name):
    return str(component[name]) if name in component else None
events = []
for ev in cal.walk("VEVENT"):
    cats = []
    if "CATEGORIES" in ev:
        for c in (ev["CATEGORIES"] if isinstance(ev["CATEGORIES"], list) else [ev["CATEGORIES"]]):
            cats.extend(str(x) for x in c.cats)
    events.append({
        "uid": text(ev, "UID"), "summary": text(ev, "SUMMARY"),
        "start": ev.decoded("DTSTART").isoformat(), "end": ev.decoded("DTEND").isoformat(),
        "status": text(ev, "STATUS"), "transp": text(ev, "TRANSP"),
        "description": text(ev, "DESCRIPTION"), "location": text(ev, "LOCATION"),
        "categories": cats, "calendar": text(ev, "X-FREESLOT-CALENDAR"),
        "color": text(ev, "X-FREESLOT-COLOR"), "has_stamp": "DTSTAMP" in ev,
    })
events.sort(key=lambda e: (e["start"], e["summary"] or ""))
print(json.dumps({
    "version": text(cal, "VERSION"), "prodid": text(cal, "PRODID"), "name": text(cal, "X-WR-CALNAME"),
    "timezone": text(cal, "X-WR-TIMEZONE"), "ttl": text(cal, "X-PUBLISHED-TTL"),
    "refresh": cal["REFRESH-INTERVAL"].to_ical().decode() if "REFRESH-INTERVAL" in cal else None,
    "events": events,
}))
"#;

fn parse(feed: &str) -> Value {
    let python = std::env::var("TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut child = Command::new(&python)
        .args(["-c", PARSE])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {python} (scripts/test.sh installs icalendar): {e}")
        });
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(feed.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "icalendar could not read the feed: {}\n{feed}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

async fn feed_urls(app: &TestApp, user: &TestUser) -> (String, String) {
    let res = app.get("/api/feeds", Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    (
        body["busy"].as_str().unwrap().to_owned(),
        body["full"].as_str().unwrap().to_owned(),
    )
}

async fn fetch(url: &str) -> reqwest::Response {
    reqwest::Client::new().get(url).send().await.unwrap()
}

/// The raw text of a feed, checked for RFC 5545's framing on the way.
async fn text_of(url: &str) -> (String, String) {
    let res = fetch(url).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let body = res.text().await.unwrap();
    assert!(body.ends_with("END:VCALENDAR\r\n"));
    for line in body.split("\r\n") {
        assert!(line.len() <= 75, "a line over 75 octets: {line}");
        assert!(!line.contains('\n'), "a bare LF in {line:?}");
    }
    (body, etag)
}

async fn feeds_publish_busy_time_and_every_event(backend: Backend) {
    let ics = fakes::ics::start().await;
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await; // Europe/Berlin
    let wed = next(Weekday::Wed);
    let thu = wed + Days::days(1);
    let long = "Ünïcödé ".repeat(20);
    app.create_event(&user.token, json!({"title": "Client call, Acme; weekly", "description": format!("Agenda:\n1. money, time\\{long}"),
        "location": "Room 1", "start": berlin(wed, "10:00"), "end": berlin(wed, "11:00")})).await;
    app.create_event(
        &user.token,
        json!({"title": "Focus", "busy": false, "start": berlin(wed, "14:00"),
        "end": berlin(wed, "15:00")}),
    )
    .await;
    app.create_event(
        &user.token,
        json!({"title": "Maybe lunch", "status": "tentative", "start": berlin(thu, "12:00"),
        "end": berlin(thu, "13:00")}),
    )
    .await;
    app.create_event(
        &user.token,
        json!({"title": "Standup", "rrule": "FREQ=WEEKLY;COUNT=3", "start": berlin(thu, "09:00"),
        "end": berlin(thu, "09:15")}),
    )
    .await;
    app.create_event(
        &user.token,
        json!({"title": "Holiday", "all_day": true, "start_date": (wed + Days::days(7)).to_string(),
        "end_date": (wed + Days::days(9)).to_string()}),
    )
    .await;
    // The same call in a subscribed calendar is merged; its own event is not.
    let utc = |d, hm| {
        berlin_utc(d, hm)
            .replace(['-', ':'], "")
            .replace("+0000", "Z")
    };
    ics.state().publish(
        "work",
        &format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n\
             BEGIN:VEVENT\r\nUID:dup@x\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:client call\\, acme\\; weekly \r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:own@x\r\nDTSTART:{}\r\nDTEND:{}\r\nSUMMARY:Review\r\nEND:VEVENT\r\n\
             END:VCALENDAR\r\n",
            utc(wed, "10:00"),
            utc(wed, "11:00"),
            utc(thu, "15:00"),
            utc(thu, "16:00")
        ),
    );
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/work.ics"), "name": "Work rota"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for _ in 0..150 {
        if app.calendars(&user.token).await[0]["last_synced_at"].is_string() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    let (busy_url, full_url) = feed_urls(&app, &user).await;
    assert!(busy_url.ends_with("/busy.ics") && full_url.ends_with("/full.ics"));
    assert!(busy_url.starts_with(&app.url("/feeds/")), "{busy_url}");
    assert_eq!(
        feed_urls(&app, &user).await,
        (busy_url.clone(), full_url.clone())
    );

    // Busy: time only, no titles, places or people; free time left out.
    let (busy_text, _) = text_of(&busy_url).await;
    for secret in [
        "Acme", "Focus", "Room 1", "Standup", "Holiday", "Review", "Agenda",
    ] {
        assert!(
            !busy_text.contains(secret),
            "{secret} leaked into the busy feed"
        );
    }
    let busy = parse(&busy_text);
    assert_eq!(busy["version"], "2.0");
    assert_eq!(busy["timezone"], "Europe/Berlin");
    assert_eq!(busy["ttl"], "PT15M");
    assert_eq!(busy["refresh"], "PT15M");
    let spans: Vec<(String, String, String, String)> = busy["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert_eq!(e["summary"], "Busy");
            assert_eq!(e["transp"], "OPAQUE");
            assert!(e["description"].is_null() && e["location"].is_null());
            assert_eq!(e["has_stamp"], true);
            (
                e["start"].as_str().unwrap().to_owned(),
                e["end"].as_str().unwrap().to_owned(),
                e["status"].as_str().unwrap().to_owned(),
                e["uid"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected = [
        (
            berlin_utc(wed, "10:00"),
            berlin_utc(wed, "11:00"),
            "CONFIRMED",
        ),
        (
            berlin_utc(thu, "09:00"),
            berlin_utc(thu, "09:15"),
            "CONFIRMED",
        ),
        (
            berlin_utc(thu, "12:00"),
            berlin_utc(thu, "13:00"),
            "TENTATIVE",
        ),
        (
            berlin_utc(thu, "15:00"),
            berlin_utc(thu, "16:00"),
            "CONFIRMED",
        ),
        (
            (wed + Days::days(7)).to_string(),
            (wed + Days::days(9)).to_string(),
            "CONFIRMED",
        ),
        (
            berlin_utc(thu + Days::days(7), "09:00"),
            berlin_utc(thu + Days::days(7), "09:15"),
            "CONFIRMED",
        ),
        (
            berlin_utc(thu + Days::days(14), "09:00"),
            berlin_utc(thu + Days::days(14), "09:15"),
            "CONFIRMED",
        ),
    ];
    let mut got: Vec<(String, String, String)> = spans
        .iter()
        .map(|(s, e, st, _)| (s.clone(), e.clone(), st.clone()))
        .collect();
    let mut want: Vec<(String, String, String)> = expected
        .iter()
        .map(|(s, e, st)| (s.clone(), e.clone(), (*st).to_owned()))
        .collect();
    got.sort();
    want.sort();
    assert_eq!(got, want, "{busy}");
    let mut uids: Vec<&String> = spans.iter().map(|s| &s.3).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), spans.len(), "UIDs are unique");

    // Full: every event, with its calendar; the duplicate once, naming both calendars.
    let (full_text, full_etag) = text_of(&full_url).await;
    let full = parse(&full_text);
    let events = full["events"].as_array().unwrap();
    assert_eq!(events.len(), 8, "{full}");
    let call = events
        .iter()
        .find(|e| e["summary"] == "Client call, Acme; weekly")
        .expect("the call, with its punctuation intact");
    assert_eq!(
        call["description"],
        json!(format!("Agenda:\n1. money, time\\{long}"))
    );
    assert_eq!(call["location"], "Room 1");
    assert_eq!(call["categories"], json!(["My events", "Work rota"]));
    assert_eq!(call["calendar"], "My events");
    let focus = events.iter().find(|e| e["summary"] == "Focus").unwrap();
    assert_eq!(focus["transp"], "TRANSPARENT");
    assert_eq!(
        events.iter().filter(|e| e["summary"] == "Standup").count(),
        3
    );
    let review = events.iter().find(|e| e["summary"] == "Review").unwrap();
    assert_eq!(review["categories"], json!(["Work rota"]));

    // Unchanged: the same ETag, and 304 when the client has it. Stable UIDs across fetches.
    let again = fetch(&full_url).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), full_etag);
    let res = reqwest::Client::new()
        .get(&full_url)
        .header("If-None-Match", &full_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_MODIFIED);
    assert!(res.text().await.unwrap().is_empty());
    assert_eq!(parse(&text_of(&busy_url).await.0)["events"], busy["events"]);

    // A change shows, with a new ETag.
    app.create_event(
        &user.token,
        json!({"title": "New", "start": berlin(wed, "16:00"), "end": berlin(wed, "16:30")}),
    )
    .await;
    let res = reqwest::Client::new()
        .get(&full_url)
        .header("If-None-Match", &full_etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_ne!(res.headers()["etag"].to_str().unwrap(), full_etag);

    // A busy token does not open the full feed; forged and rotated tokens find nothing.
    let busy_token = busy_url.rsplit('/').nth(1).unwrap();
    let swapped = full_url.replace(full_url.rsplit('/').nth(1).unwrap(), busy_token);
    assert_eq!(fetch(&swapped).await.status(), StatusCode::NOT_FOUND);
    let forged = app.url(&format!("/feeds/{}/busy.ics", "A".repeat(43)));
    let res = fetch(&forged).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "not_found");
    let res = app
        .post_json("/api/feeds/rotate", &json!({}), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let rotated: Value = res.json().await.unwrap();
    assert_ne!(rotated["busy"], json!(busy_url));
    assert_ne!(rotated["full"], json!(full_url));
    assert_eq!(fetch(&busy_url).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(fetch(&full_url).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        fetch(rotated["busy"].as_str().unwrap()).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        feed_urls(&app, &user).await.0,
        rotated["busy"].as_str().unwrap()
    );
    // The addresses need a login; the feeds do not.
    assert_eq!(
        app.get("/api/feeds", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

backend_tests!(feeds_publish_busy_time_and_every_event);
