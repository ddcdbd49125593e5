//! Availability exported as a Cal.com schedule: the body (contract.md, "Export to Cal.com"), and
//! pushing it to a Cal.com account by hand and after syncs.

use std::collections::HashMap;
use std::time::Duration;

use chrono::{Duration as Days, NaiveDate, Utc, Weekday};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::dates::{berlin, next};
use tests::fakes::{self, Fault};
use tests::{Backend, TestApp, TestUser, backend_tests, error_code, test_worker_options};

async fn export(app: &TestApp, user: &TestUser, days: &str) -> Value {
    let res = app
        .get_query("/api/availability/export", &user.token, &[("days", days)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

fn overrides_on(body: &Value, date: NaiveDate) -> Vec<(String, String)> {
    let date = date.to_string();
    body["overrides"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["date"] == date.as_str())
        .map(|o| {
            (
                o["startTime"].as_str().unwrap().to_owned(),
                o["endTime"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_owned(), b.to_owned())
}

async fn the_export_is_weekly_hours_plus_overrides(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let wednesday = next(Weekday::Wed);
    let (thursday, friday) = (wednesday + Days::days(1), wednesday + Days::days(2));
    let res = app
        .post_json(
            "/api/availability/rules",
            &json!({"timezone": "Europe/Berlin",
                "weekly": {"monday": [{"start": "09:00", "end": "17:00"}],
                           "tuesday": [{"start": "09:00", "end": "17:00"}],
                           "wednesday": [{"start": "09:00", "end": "17:00"}],
                           "thursday": [{"start": "09:00", "end": "17:00"}],
                           "friday": [{"start": "09:00", "end": "17:00"}],
                           "saturday": [{"start": "10:00", "end": "24:00"}]},
                "days_off": [thursday.to_string()],
                "buffer_after_minutes": 15, "minimum_notice_minutes": 10080}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = export(&app, &user, "14").await;
    assert_eq!(body["name"], "freeslot");
    assert_eq!(body["timeZone"], "Europe/Berlin");
    assert_eq!(body["isDefault"], false);
    assert_eq!(
        body["availability"],
        json!([{"days": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"], "startTime": "09:00", "endTime": "17:00"},
               {"days": ["Saturday"], "startTime": "10:00", "endTime": "23:59"}])
    );
    // Only the day off differs; minimum notice (a week) does not apply to the export.
    assert_eq!(
        body["overrides"],
        json!([{"date": thursday.to_string(), "startTime": "00:00", "endTime": "00:00"}])
    );

    // A meeting splits its day (buffer included, seconds rounded inward); a busy day is cancelled.
    app.create_event(
        &user.token,
        json!({"title": "Review", "start": berlin(wednesday, "10:30"),
        "end": berlin(wednesday, "11:59").replace(":00+", ":30+")}),
    )
    .await;
    app.create_event(
        &user.token,
        json!({"title": "Workshop", "start": berlin(friday, "08:00"),
        "end": berlin(friday, "18:00")}),
    )
    .await;
    // Free time (not busy) and an event beyond the range change nothing.
    app.create_event(
        &user.token,
        json!({"title": "Maybe", "busy": false, "start": berlin(wednesday, "14:00"),
        "end": berlin(wednesday, "15:00")}),
    )
    .await;
    let far = next(Weekday::Tue) + Days::days(21);
    app.create_event(
        &user.token,
        json!({"title": "Later", "start": berlin(far, "10:00"),
        "end": berlin(far, "11:00")}),
    )
    .await;
    let body = export(&app, &user, "14").await;
    assert_eq!(
        overrides_on(&body, wednesday),
        vec![pair("09:00", "10:30"), pair("12:15", "17:00")],
        "{body}"
    );
    assert_eq!(overrides_on(&body, friday), vec![pair("00:00", "00:00")]);
    assert_eq!(body["overrides"].as_array().unwrap().len(), 4, "{body}");
    // With a longer reach the later event shows too.
    let longer = export(&app, &user, "60").await;
    assert_eq!(
        overrides_on(&longer, far),
        vec![pair("09:00", "10:00"), pair("11:15", "17:00")]
    );
    assert_eq!(
        overrides_on(&export(&app, &user, "7").await, far),
        Vec::<(String, String)>::new()
    );

    for (days, status) in [
        ("0", StatusCode::UNPROCESSABLE_ENTITY),
        ("366", StatusCode::UNPROCESSABLE_ENTITY),
        ("soon", StatusCode::BAD_REQUEST),
    ] {
        let res = app
            .get_query("/api/availability/export", &user.token, &[("days", days)])
            .await;
        assert_eq!(res.status(), status, "days={days}");
    }
    // Without Cal.com there is nowhere to push it.
    let res = app
        .post_json(
            "/api/availability/export/calcom",
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(res).await, "calcom_not_connected");
}

/// What the fake Cal.com holds, as the export endpoint would show it.
fn held(calcom: &fakes::calcom::FakeCalcom) -> (usize, Vec<Value>) {
    let s = calcom.state();
    (s.schedule_writes, s.schedules.clone())
}

fn same_schedule(at_calcom: &Value, ours: &Value) {
    for field in ["name", "timeZone", "availability", "overrides"] {
        assert_eq!(
            at_calcom[field], ours[field],
            "{field}: {at_calcom} vs {ours}"
        );
    }
}

async fn push(app: &TestApp, user: &TestUser) -> reqwest::Response {
    app.post_json(
        "/api/availability/export/calcom",
        &json!({}),
        Some(&user.token),
    )
    .await
}

async fn pushed(app: &TestApp, user: &TestUser, expected: &str) -> Value {
    let res = push(app, user).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], expected, "{body}");
    body
}

async fn sync_and_wait(app: &TestApp, user: &TestUser, titles: usize) {
    for calendar in app.calendars(&user.token).await {
        let res = app
            .post_json(
                &format!("/api/calendars/{}/sync", calendar["id"].as_str().unwrap()),
                &json!({}),
                Some(&user.token),
            )
            .await;
        assert_eq!(res.status(), StatusCode::ACCEPTED);
    }
    let (from, to) = (
        tests::clock::now().to_rfc3339(),
        (tests::clock::now() + Days::days(60)).to_rfc3339(),
    );
    for _ in 0..150 {
        let body: Value = app
            .get_query(
                "/api/events",
                &user.token,
                &[("start", &from), ("end", &to)],
            )
            .await
            .json()
            .await
            .unwrap();
        if body["events"].as_array().unwrap().len() == titles {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the calendars did not reach {titles} events");
}

fn google_event(id: &str, date: NaiveDate, from: &str, to: &str) -> Value {
    json!({"id": id, "summary": id, "start": {"dateTime": berlin(date, from)},
        "end": {"dateTime": berlin(date, to)}})
}

fn graph_event(id: &str, date: NaiveDate, from: &str, to: &str) -> Value {
    let utc = |hm: &str| {
        chrono::DateTime::parse_from_rfc3339(&berlin(date, hm))
            .unwrap()
            .with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%S.0000000")
            .to_string()
    };
    json!({"id": id, "subject": id, "showAs": "busy",
        "start": {"dateTime": utc(from), "timeZone": "UTC"},
        "end": {"dateTime": utc(to), "timeZone": "UTC"}})
}

/// Google and Microsoft connected; their combined availability goes to Cal.com with one call,
/// again only when it changed, and by itself after syncs once switched on.
async fn combined_availability_reaches_calcom(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let microsoft = fakes::microsoft::start("ada@contoso.com").await;
    let calcom = fakes::calcom::start("ada@cal.example").await;
    let graph_calendar = microsoft.state().default_calendar_id();
    let (tuesday, wednesday) = (next(Weekday::Tue), next(Weekday::Wed));
    google.state().put_event(
        "ada@example.com",
        google_event("g1", tuesday, "10:00", "11:00"),
    );
    microsoft.state().put_event(
        &graph_calendar,
        graph_event("m1", tuesday, "15:00", "17:00"),
    );

    let mut env: HashMap<String, String> = HashMap::new();
    env.extend(google.env());
    env.extend(microsoft.env());
    env.extend(calcom.env());
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;
    let user = app.register_user().await; // Europe/Berlin, default hours Mon–Fri 09:00–17:00
    app.oauth_dance("google", &user.token, "allow").await;
    app.oauth_dance("microsoft", &user.token, "allow").await;
    let key = calcom.state().issue_api_key();
    let res = app
        .post_json(
            "/api/auth/connect/caldotcom",
            &json!({"api_key": key}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    sync_and_wait(&app, &user, 2).await;

    // One call creates the schedule; what Cal.com holds is what freeslot computed.
    let first = pushed(&app, &user, "created").await;
    let ours = export(&app, &user, "60").await;
    assert_eq!(
        overrides_on(&ours, tuesday),
        vec![pair("09:00", "10:00"), pair("11:00", "15:00")]
    );
    let (writes, schedules) = held(&calcom);
    assert_eq!((writes, schedules.len()), (1, 1));
    assert_eq!(first["schedule_id"], json!(schedules[0]["id"].to_string()));
    assert_eq!(schedules[0]["isDefault"], false);
    same_schedule(&schedules[0], &ours);
    // Unchanged: nothing is sent.
    pushed(&app, &user, "unchanged").await;
    assert_eq!(held(&calcom).0, 1);
    let version = |calcom: &fakes::calcom::FakeCalcom| -> Vec<Option<String>> {
        calcom
            .state()
            .requests
            .iter()
            .filter(|(path, _)| path.starts_with("/v2/schedules"))
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert_eq!(version(&calcom), vec![Some("2024-06-11".to_owned())]);

    // A new busy event at Microsoft: the same schedule is updated.
    microsoft.state().put_event(
        &graph_calendar,
        graph_event("m2", wednesday, "09:00", "12:00"),
    );
    sync_and_wait(&app, &user, 3).await;
    pushed(&app, &user, "updated").await;
    let (writes, schedules) = held(&calcom);
    assert_eq!((writes, schedules.len()), (2, 1));
    let ours = export(&app, &user, "60").await;
    assert_eq!(overrides_on(&ours, wednesday), vec![pair("12:00", "17:00")]);
    same_schedule(&schedules[0], &ours);

    // Rate limited for longer than freeslot waits: 429 with Retry-After, nothing changes.
    google.state().put_event(
        "ada@example.com",
        google_event("g2", wednesday, "13:00", "14:00"),
    );
    sync_and_wait(&app, &user, 4).await;
    calcom.state().remaining = 0;
    let res = push(&app, &user).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(res.headers()["retry-after"], "60");
    assert_eq!(error_code(res).await, "provider_rate_limited");
    assert_eq!(held(&calcom).0, 2);
    let status: Value = app
        .get("/api/availability/export/calcom", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert!(status["last_error"].as_str().is_some(), "{status}");
    // A short Retry-After is waited out.
    calcom.state().remaining = 120;
    calcom.state().api_faults.push(Fault::RateLimited {
        retry_after: Some("1".into()),
    });
    pushed(&app, &user, "updated").await;
    let ours = export(&app, &user, "60").await;
    same_schedule(&held(&calcom).1[0], &ours);

    // Deleted at Cal.com: created again.
    calcom.state().schedules.clear();
    google.state().put_event(
        "ada@example.com",
        google_event("g3", tuesday, "12:00", "13:00"),
    );
    sync_and_wait(&app, &user, 5).await;
    pushed(&app, &user, "created").await;
    assert_eq!(held(&calcom).1.len(), 1);

    // Switched on: every sync that changes something exports by itself.
    let res = app
        .patch_json(
            "/api/availability/export/calcom",
            &json!({"auto_export": true, "days": 30}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let settings: Value = res.json().await.unwrap();
    assert_eq!(
        (settings["auto_export"].clone(), settings["days"].clone()),
        (json!(true), json!(30))
    );
    let thursday = wednesday + Days::days(1);
    microsoft.state().put_event(
        &graph_calendar,
        graph_event("m3", thursday, "09:00", "17:00"),
    );
    sync_and_wait(&app, &user, 6).await;
    let mut at_calcom = Vec::new();
    for _ in 0..150 {
        at_calcom = held(&calcom).1;
        if at_calcom.first().is_some_and(|s| {
            s["overrides"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["date"] == thursday.to_string().as_str())
        }) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    same_schedule(&at_calcom[0], &export(&app, &user, "30").await);
    // So does a manual event (any change to what availability is computed from).
    let friday = wednesday + Days::days(2);
    app.create_event(
        &user.token,
        json!({"title": "Offsite", "start": berlin(friday, "08:00"),
        "end": berlin(friday, "18:00")}),
    )
    .await;
    let friday = friday.to_string();
    for _ in 0..150 {
        at_calcom = held(&calcom).1;
        if at_calcom[0]["overrides"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["date"] == friday.as_str())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    same_schedule(&at_calcom[0], &export(&app, &user, "30").await);
    let res = app
        .patch_json(
            "/api/availability/export/calcom",
            &json!({"days": 0}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

backend_tests!(
    the_export_is_weekly_hours_plus_overrides,
    combined_availability_reaches_calcom
);
