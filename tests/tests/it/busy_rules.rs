//! Busy rules per calendar, explained availability and freshness (contract, "Busy rules per
//! calendar, explained availability, freshness"), hand-computed through HTTP.
//!
//! The user works Monday to Friday, 09:00–17:00 in Berlin (08:00–16:00 UTC in December), with
//! a 15-minute buffer after meetings. "Day job" (Google primary) holds out-of-office time, a
//! tentative hold and a team lunch; "Consulting" (a second Google calendar) a dentist's
//! appointment marked out of office and an all-day out-of-office day.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{Backend, TestApp, TestUser, backend_tests, error_code, fakes, test_worker_options};

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

/// `free` of `GET /api/availability` over the week of 2026-11-30, as UTC (start, end) strings.
async fn free_week(app: &TestApp, user: &TestUser) -> (Vec<(String, String)>, Value) {
    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2026-12-01T00:00:00Z"),
                ("end", "2026-12-08T00:00:00Z"),
                ("duration", "30"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let spans = body["free"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let (s, e) = (instant(&f["start"]), instant(&f["end"]));
            (
                s.format("%d %H:%M").to_string(),
                e.format("%d %H:%M").to_string(),
            )
        })
        .collect();
    (spans, body)
}

fn spans(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

async fn open_conflicts(app: &TestApp, user: &TestUser) -> usize {
    let body: Value = app
        .get_query("/api/conflicts", &user.token, &[("status", "open")])
        .await
        .json()
        .await
        .unwrap();
    body["conflicts"].as_array().unwrap().len()
}

async fn busy_feed(app: &TestApp, user: &TestUser) -> String {
    let body: Value = app
        .get("/api/feeds", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    let url = body["busy"].as_str().unwrap().to_owned();
    reqwest::get(url).await.unwrap().text().await.unwrap()
}

async fn a_day_jobs_out_of_office_and_holds_stop_blocking_consulting_hours(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    {
        let mut g = google.state();
        g.add_calendar("consult", "Consulting");
        let event = |id: &str, title: &str, start: &str, end: &str| {
            json!({"id": id, "summary": title, "iCalUID": format!("{id}@google"),
                "start": {"dateTime": start}, "end": {"dateTime": end}})
        };
        let mut ooo = event(
            "ooo-a",
            "Out of office",
            "2026-12-01T08:00:00Z",
            "2026-12-01T16:00:00Z",
        );
        ooo["eventType"] = json!("outOfOffice");
        g.put_event("ada@example.com", ooo);
        let mut hold = event(
            "hold-a",
            "Maybe: planning",
            "2026-12-02T09:00:00Z",
            "2026-12-02T10:00:00Z",
        );
        hold["status"] = json!("tentative");
        g.put_event("ada@example.com", hold);
        g.put_event(
            "ada@example.com",
            event(
                "lunch-a",
                "Team Lunch",
                "2026-12-03T11:00:00Z",
                "2026-12-03T12:00:00Z",
            ),
        );
        // Google marks all-day events free unless told otherwise.
        g.put_event(
            "ada@example.com",
            json!({"id": "conf-a", "summary": "Conference", "transparency": "transparent",
                "start": {"date": "2026-12-03"}, "end": {"date": "2026-12-04"}}),
        );
        g.put_event(
            "ada@example.com",
            json!({"id": "vac-a", "summary": "Vacation", "eventType": "outOfOffice",
                "start": {"date": "2026-12-04"}, "end": {"date": "2026-12-05"}}),
        );
        let mut dentist = event(
            "dentist-b",
            "Dentist",
            "2026-12-01T13:00:00Z",
            "2026-12-01T14:00:00Z",
        );
        dentist["eventType"] = json!("outOfOffice");
        g.put_event("consult", dentist);
        g.put_event(
            "consult",
            json!({"id": "off-b", "summary": "Away", "eventType": "outOfOffice",
                "start": {"date": "2026-12-07"}, "end": {"date": "2026-12-08"}}),
        );
    }
    let vars: HashMap<String, String> = google.env().into_iter().collect();
    let app = TestApp::spawn_with(backend, vars, test_worker_options()).await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/availability/rules",
            &json!({"timezone": "Europe/Berlin", "buffer_after_minutes": 15,
                "weekly": {"monday": [{"start": "09:00", "end": "17:00"}],
                           "tuesday": [{"start": "09:00", "end": "17:00"}],
                           "wednesday": [{"start": "09:00", "end": "17:00"}],
                           "thursday": [{"start": "09:00", "end": "17:00"}],
                           "friday": [{"start": "09:00", "end": "17:00"}]}}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    app.oauth_dance("google", &user.token, "allow").await;
    let calendars = app.synced_calendars(&user.token).await;
    let id_of = |name: &str| {
        calendars
            .iter()
            .find(|c| c["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {calendars:?}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (day_job, consulting) = (id_of("ada@example.com"), id_of("Consulting"));
    let day_job_calendar = calendars
        .iter()
        .find(|c| c["id"] == day_job.as_str())
        .unwrap();
    assert_eq!(
        day_job_calendar["busy_rules"],
        json!({"tentative": null, "all_day": null, "out_of_office": "busy", "ignore_titles": []})
    );
    // Events say they are out of office.
    let body: Value = app
        .get_query(
            "/api/events",
            &user.token,
            &[
                ("start", "2026-12-01T00:00:00Z"),
                ("end", "2026-12-02T00:00:00Z"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let ooo: Vec<(&str, bool)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["title"].as_str().unwrap(),
                e["out_of_office"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(ooo, [("Out of office", true), ("Dentist", true)], "{body}");

    // By default everything blocks: Tuesday and Friday are gone, the hold and the lunch block
    // (each with the buffer after it), and the two out-of-office events on Tuesday collide.
    let (free, answer) = free_week(&app, &user).await;
    assert_eq!(
        free,
        spans(&[
            ("02 08:00", "02 09:00"),
            ("02 10:15", "02 16:00"),
            ("03 08:00", "03 11:00"),
            ("03 12:15", "03 16:00"),
        ]),
        "{answer}"
    );
    assert_eq!(answer["complete"], true, "{answer}");
    let used: Vec<&str> = answer["calendars"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert!(
        used.contains(&day_job.as_str()) && used.contains(&consulting.as_str()),
        "{answer}"
    );
    assert!(
        answer["calendars"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["fresh"] == true)
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while open_conflicts(&app, &user).await != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "no conflict on Tuesday"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        busy_feed(&app, &user)
            .await
            .contains("DTSTART:20261201T080000Z")
    );

    // A rule that is not one changes nothing.
    let res = app
        .patch_json(
            &format!("/api/calendars/{day_job}"),
            &json!({"busy_rules": {"tentative": "maybe"}}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "invalid_busy_rules");
    let res = app
        .patch_json(
            &format!("/api/calendars/{day_job}"),
            &json!({"busy_rules": {"ignore_titles": ["   "]}}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(free_week(&app, &user).await.0.len(), 4);

    // The day job's out-of-office time, holds and lunches do not block consulting hours.
    let res = app
        .patch_json(
            &format!("/api/calendars/{day_job}"),
            &json!({"busy_rules": {"out_of_office": "free", "tentative": "free",
                "ignore_titles": ["lunch"]}}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(
        patched["busy_rules"],
        json!({"tentative": "free", "all_day": null, "out_of_office": "free",
            "ignore_titles": ["lunch"]})
    );
    // Only the consulting calendar's dentist (and its buffer) and its day away still block.
    let (free, answer) = free_week(&app, &user).await;
    assert_eq!(
        free,
        spans(&[
            ("01 08:00", "01 13:00"),
            ("01 14:15", "01 16:00"),
            ("02 08:00", "02 16:00"),
            ("03 08:00", "03 16:00"),
            ("04 08:00", "04 16:00"),
        ]),
        "{answer}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while open_conflicts(&app, &user).await != 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the conflict stayed open"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let feed = busy_feed(&app, &user).await;
    assert!(!feed.contains("DTSTART:20261201T080000Z"), "{feed}");
    assert!(feed.contains("DTSTART:20261201T130000Z"), "{feed}");

    // Explained: Tuesday names the event and the buffer behind every blocked minute.
    let res = app
        .get_query(
            "/api/availability/explain",
            &user.token,
            &[
                ("start", "2026-12-01T00:00:00Z"),
                ("end", "2026-12-02T00:00:00Z"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let explained: Value = res.json().await.unwrap();
    let dentist = |kind: &str| {
        json!([{"kind": kind, "event_id": body["events"][1]["id"], "calendar_id": consulting,
            "title": "Dentist"}])
    };
    let outside = json!([{"kind": "outside_working_hours"}]);
    let expected = json!([
        {"start": "2026-12-01T00:00:00Z", "end": "2026-12-01T08:00:00Z", "state": "closed", "reasons": outside},
        {"start": "2026-12-01T08:00:00Z", "end": "2026-12-01T13:00:00Z", "state": "free", "reasons": []},
        {"start": "2026-12-01T13:00:00Z", "end": "2026-12-01T14:00:00Z", "state": "busy", "reasons": dentist("event")},
        {"start": "2026-12-01T14:00:00Z", "end": "2026-12-01T14:15:00Z", "state": "busy", "reasons": dentist("buffer")},
        {"start": "2026-12-01T14:15:00Z", "end": "2026-12-01T16:00:00Z", "state": "free", "reasons": []},
        {"start": "2026-12-01T16:00:00Z", "end": "2026-12-02T00:00:00Z", "state": "closed", "reasons": outside},
    ]);
    assert_eq!(explained["intervals"], expected, "{explained}");
    // Over the whole week its free intervals are availability's.
    let res = app
        .get_query(
            "/api/availability/explain",
            &user.token,
            &[
                ("start", "2026-12-01T00:00:00Z"),
                ("end", "2026-12-08T00:00:00Z"),
            ],
        )
        .await;
    let week: Value = res.json().await.unwrap();
    let explained_free: Vec<(String, String)> = week["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["state"] == "free")
        .map(|f| {
            let (s, e) = (instant(&f["start"]), instant(&f["end"]));
            (
                s.format("%d %H:%M").to_string(),
                e.format("%d %H:%M").to_string(),
            )
        })
        .collect();
    assert_eq!(explained_free, free);
    // Monday the 7th: the consulting calendar's day away, named.
    let monday: Vec<&Value> = week["intervals"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| {
            instant(&i["start"]) >= "2026-12-07T08:00:00Z".parse::<DateTime<Utc>>().unwrap()
        })
        .collect();
    assert_eq!(monday[0]["state"], "busy", "{week}");
    assert_eq!(monday[0]["reasons"][0]["title"], "Away", "{week}");
    assert_eq!(monday[0]["reasons"][0]["calendar_id"], consulting.as_str());

    // All-day events: the day job's conference (marked free) blocks once all-day events count as
    // busy there; the consulting calendar's day away stops blocking once they count as free.
    for (calendar, rule) in [(&day_job, "busy"), (&consulting, "free")] {
        let res = app
            .patch_json(
                &format!("/api/calendars/{calendar}"),
                &json!({"busy_rules": {"all_day": rule}}),
                &user.token,
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let (free, answer) = free_week(&app, &user).await;
    assert_eq!(
        free,
        spans(&[
            ("01 08:00", "01 13:00"),
            ("01 14:15", "01 16:00"),
            ("02 08:00", "02 16:00"),
            ("04 08:00", "04 16:00"),
            ("07 08:00", "07 16:00"),
        ]),
        "{answer}"
    );

    // Bad input is refused in words.
    let res = app
        .get_query(
            "/api/availability/explain",
            &user.token,
            &[
                ("start", "2026-12-01T00:00:00Z"),
                ("end", "2027-06-01T00:00:00Z"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A feed that cannot be read for longer than two sync intervals makes answers incomplete; a
/// good sync makes them complete again.
async fn an_unreachable_feed_makes_answers_incomplete_until_it_syncs(backend: Backend) {
    let ics = fakes::ics::start().await;
    ics.state().publish(
        "rota",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:r1\r\nDTSTART:20261201T090000Z\r\n\
         DTEND:20261201T100000Z\r\nSUMMARY:Shift\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let vars: HashMap<String, String> = [("SYNC_INTERVAL_MINUTES".to_owned(), "1".to_owned())]
        .into_iter()
        .collect();
    let app = TestApp::spawn_with(backend, vars, test_worker_options()).await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/rota.ics")}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let calendar = app.synced_calendars(&user.token).await.remove(0);
    let id = calendar["id"].as_str().unwrap().to_owned();
    let complete = |body: &Value| {
        let listed = body["calendars"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == id.as_str())
            .cloned()
            .unwrap_or_default();
        (
            body["complete"].as_bool().unwrap(),
            listed["fresh"].as_bool().unwrap(),
        )
    };
    assert_eq!(complete(&free_week(&app, &user).await.1), (true, true));

    // The server goes down; past two intervals the answer says it may be wrong.
    for _ in 0..20 {
        ics.state().faults.push(tests::fakes::Fault::ServerError);
    }
    tests::clock::clock().advance(chrono::Duration::minutes(3));
    let c = app.sync_calendar(&user.token, &id).await;
    assert!(!c["last_error"].is_null(), "the sync did not fail: {c}");
    let (_, answer) = free_week(&app, &user).await;
    assert_eq!(complete(&answer), (false, false), "{answer}");

    // Back up: a good sync, and the answer is complete again.
    ics.state().faults = Default::default();
    app.sync_calendar(&user.token, &id).await;
    // The version that guards the cached states moves right after the sync's write.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (_, answer) = free_week(&app, &user).await;
        if complete(&answer) == (true, true) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still incomplete: {answer}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

backend_tests!(
    a_day_jobs_out_of_office_and_holds_stop_blocking_consulting_hours,
    an_unreachable_feed_makes_answers_incomplete_until_it_syncs
);
