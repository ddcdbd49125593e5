//! Working hours, manual events and free slots through the HTTP api, to the letter of the contract.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{Backend, TestApp, backend_tests, error_code};

fn berlin_rules() -> Value {
    let day = json!([{"start": "09:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}]);
    json!({
        "timezone": "Europe/Berlin",
        "weekly": {"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day},
        "days_off": ["2027-10-29"],
        "tentative_is_busy": false
    })
}

fn spans(body: &Value, key: &str) -> Vec<(String, String)> {
    body[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["start"].as_str().unwrap().to_owned(),
                s["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn z(s: &str) -> String {
    format!("2027-{s}:00Z")
}

async fn the_contract_example_across_the_october_dst_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/availability/rules",
            &berlin_rules(),
            Some(&user.token),
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "{}",
        res.text().await.unwrap()
    );

    // Tuesdays 10:00–11:00 Berlin, three times, across the 2027-10-31 fall-back.
    let series = app
        .create_event(&user.token, json!({"title": "Weekly sync", "start": "2027-10-19T10:00:00+02:00", "end": "2027-10-19T11:00:00+02:00", "timezone": "Europe/Berlin", "rrule": "FREQ=WEEKLY;COUNT=3"}))
        .await;
    app.create_event(&user.token, json!({"title": "Conference", "all_day": true, "start_date": "2027-10-28", "end_date": "2027-10-29"})).await;
    app.create_event(&user.token, json!({"title": "Maybe lunch", "start": "2027-10-27T13:00:00+02:00", "end": "2027-10-27T14:00:00+02:00", "status": "tentative"})).await;

    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2027-10-25T00:00:00+02:00"),
                ("end", "2027-11-03T00:00:00+01:00"),
                ("duration", "60"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["timezone"], "UTC");
    assert_eq!(body["duration_minutes"], 60);
    let expected_free: Vec<(String, String)> = [
        ("10-25T07:00", "10-25T10:00"),
        ("10-25T11:00", "10-25T15:00"),
        // Tuesday: the weekly sync 08:00–09:00Z (10:00 CEST).
        ("10-26T07:00", "10-26T08:00"),
        ("10-26T09:00", "10-26T10:00"),
        ("10-26T11:00", "10-26T15:00"),
        // Wednesday: the tentative lunch does not block (tentative_is_busy = false).
        ("10-27T07:00", "10-27T10:00"),
        ("10-27T11:00", "10-27T15:00"),
        // Thursday all-day, Friday off. Monday after the change: one hour later in UTC.
        ("11-01T08:00", "11-01T11:00"),
        ("11-01T12:00", "11-01T16:00"),
        // Tuesday: the weekly sync is at 10:00 CET = 09:00Z now.
        ("11-02T08:00", "11-02T09:00"),
        ("11-02T10:00", "11-02T11:00"),
        ("11-02T12:00", "11-02T16:00"),
    ]
    .iter()
    .map(|(a, b)| (z(a), z(b)))
    .collect();
    assert_eq!(spans(&body, "free"), expected_free);

    let slots = spans(&body, "slots");
    assert_eq!(slots.len(), 12 + 9 + 12 + 12 + 9);
    assert_eq!(slots[0], (z("10-25T07:00"), z("10-25T08:00")));
    assert!(slots.contains(&(z("10-26T09:00"), z("10-26T10:00"))));
    assert!(
        !slots
            .iter()
            .any(|(s, _)| s.starts_with("2027-10-28") || s.starts_with("2027-10-29"))
    );
    assert_eq!(slots.last().unwrap(), &(z("11-02T15:00"), z("11-02T16:00")));

    // Default output zone: the rules' zone, with the offset of each instant.
    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2027-10-25T00:00:00Z"),
                ("end", "2027-11-03T00:00:00Z"),
                ("duration", "60"),
            ],
        )
        .await;
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["timezone"], "Europe/Berlin");
    assert_eq!(body["free"][0]["start"], "2027-10-25T09:00:00+02:00");
    assert_eq!(
        body["free"].as_array().unwrap().last().unwrap()["end"],
        "2027-11-02T17:00:00+01:00"
    );

    // The series lists as occurrences, each at 10:00 Berlin wall-clock time.
    let res = app
        .get_query(
            "/api/events",
            &user.token,
            &[
                ("start", "2027-10-01T00:00:00Z"),
                ("end", "2027-12-01T00:00:00Z"),
                ("q", "weekly"),
            ],
        )
        .await;
    let listed: Value = res.json().await.unwrap();
    let occurrences = listed["events"].as_array().unwrap();
    let series_id = series["id"].as_str().unwrap();
    let starts: Vec<&str> = occurrences
        .iter()
        .map(|e| e["start"].as_str().unwrap())
        .collect();
    assert_eq!(
        starts,
        vec![
            "2027-10-19T08:00:00Z",
            "2027-10-26T08:00:00Z",
            "2027-11-02T09:00:00Z"
        ]
    );
    assert!(occurrences.iter().all(|e| e["series_id"] == series_id));
    assert_eq!(
        occurrences[2]["id"],
        format!("{series_id}/20271102T090000Z")
    );
}

async fn tentative_blocks_by_default_and_buffers_widen_meetings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    // No rules saved: Monday–Friday 09:00–17:00 in the user's zone (Europe/Berlin).
    app.create_event(&user.token, json!({"title": "Maybe", "start": "2027-02-02T10:00:00+01:00", "end": "2027-02-02T11:00:00+01:00", "status": "tentative"})).await;
    let q = [
        ("start", "2027-02-02T00:00:00+01:00"),
        ("end", "2027-02-03T00:00:00+01:00"),
        ("duration", "30"),
    ];
    let body: Value = app
        .get_query("/api/availability", &user.token, &q)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        spans(&body, "free"),
        vec![
            (
                "2027-02-02T09:00:00+01:00".to_owned(),
                "2027-02-02T10:00:00+01:00".to_owned()
            ),
            (
                "2027-02-02T11:00:00+01:00".to_owned(),
                "2027-02-02T17:00:00+01:00".to_owned()
            ),
        ]
    );
    let rules = json!({"weekly": {"tuesday": [{"start": "09:00", "end": "17:00"}]}, "buffer_before_minutes": 15, "buffer_after_minutes": 30});
    assert_eq!(
        app.post_json("/api/availability/rules", &rules, Some(&user.token))
            .await
            .status(),
        StatusCode::OK
    );
    let body: Value = app
        .get_query("/api/availability", &user.token, &q)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        spans(&body, "free"),
        vec![
            (
                "2027-02-02T09:00:00+01:00".to_owned(),
                "2027-02-02T09:45:00+01:00".to_owned()
            ),
            (
                "2027-02-02T11:30:00+01:00".to_owned(),
                "2027-02-02T17:00:00+01:00".to_owned()
            ),
        ]
    );
    let saved: Value = app
        .get("/api/availability/rules", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        saved["timezone"], "Europe/Berlin",
        "the user's zone when none is given"
    );
    assert_eq!(saved["slot_interval_minutes"], 30);
    assert_eq!(saved["weekly"]["monday"], json!([]));
    assert_eq!(saved["buffer_after_minutes"], 30);
}

async fn default_rules_are_office_hours_in_the_users_zone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let rules: Value = app
        .get("/api/availability/rules", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rules["timezone"], "Europe/Berlin");
    assert_eq!(
        rules["weekly"]["monday"],
        json!([{"start": "09:00", "end": "17:00"}])
    );
    assert_eq!(rules["weekly"]["saturday"], json!([]));
    assert_eq!(rules["slot_interval_minutes"], 30);
    assert_eq!(rules["tentative_is_busy"], true);
}

async fn bad_rules_and_bad_queries_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let before: Value = app
        .get("/api/availability/rules", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    for rules in [
        json!({"weekly": {"monday": [{"start": "09:00", "end": "12:00"}, {"start": "11:00", "end": "13:00"}]}}),
        json!({"weekly": {"monday": [{"start": "12:00", "end": "09:00"}]}}),
        json!({"weekly": {"monday": [{"start": "09:00", "end": "24:30"}]}}),
        json!({"weekly": {"someday": []}}),
        json!({"timezone": "Mars/Base"}),
        json!({"buffer_before_minutes": -5}),
        json!({"minimum_notice_minutes": -1}),
        json!({"slot_interval_minutes": 0}),
        json!({"days_off": ["2026-02-30"]}),
    ] {
        let res = app
            .post_json("/api/availability/rules", &rules, Some(&user.token))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{rules}");
        error_code(res).await;
    }
    let after: Value = app
        .get("/api/availability/rules", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(before, after, "refused rules change nothing");

    let cases: [(&[(&str, &str)], StatusCode); 7] = [
        (
            &[
                ("start", "2027-01-01T00:00:00Z"),
                ("end", "2027-04-04T00:00:00Z"),
                ("duration", "30"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &[
                ("start", "2027-01-02T00:00:00Z"),
                ("end", "2027-01-01T00:00:00Z"),
                ("duration", "30"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &[
                ("start", "2027-01-01T00:00:00Z"),
                ("end", "2027-01-01T00:00:00Z"),
                ("duration", "30"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &[
                ("start", "2027-01-01T00:00:00Z"),
                ("end", "2027-01-02T00:00:00Z"),
                ("duration", "0"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &[
                ("start", "2027-01-01T00:00:00Z"),
                ("end", "2027-01-02T00:00:00Z"),
                ("duration", "30"),
                ("timezone", "Nowhere/Land"),
            ],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            &[("end", "2027-01-02T00:00:00Z"), ("duration", "30")],
            StatusCode::BAD_REQUEST,
        ),
        (
            &[
                ("start", "tomorrow"),
                ("end", "2027-01-02T00:00:00Z"),
                ("duration", "30"),
            ],
            StatusCode::BAD_REQUEST,
        ),
    ];
    for (q, status) in cases {
        let res = app.get_query("/api/availability", &user.token, q).await;
        assert_eq!(res.status(), status, "{q:?}");
        error_code(res).await;
    }
    // Exactly 92 days (2027-01-01 to 2027-04-03) is allowed; the 93 days above are not.
    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2027-01-01T00:00:00Z"),
                ("end", "2027-04-03T00:00:00Z"),
                ("duration", "30"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "92 days");
}

async fn manual_events_validate_and_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    for (body, code) in [
        (
            json!({"title": "x", "start": "2027-01-01T10:00:00Z", "end": "2027-01-01T09:00:00Z"}),
            "invalid_time_range",
        ),
        (
            json!({"title": "x", "start": "2027-01-01T10:00:00", "end": "2027-01-01T11:00:00Z"}),
            "invalid_datetime",
        ),
        (
            json!({"title": "x", "start": "2027-01-01T10:00:00Z", "end": "2027-01-01T11:00:00Z", "rrule": "FREQ=OFTEN"}),
            "invalid_rrule",
        ),
        (
            json!({"title": "x", "start": "2027-01-01T10:00:00Z", "end": "2027-01-01T11:00:00Z", "timezone": "Moon/Base"}),
            "unknown_timezone",
        ),
        (
            json!({"title": "x", "start": "2027-01-01T10:00:00Z", "end": "2027-01-01T11:00:00Z", "status": "cancelled"}),
            "invalid_status",
        ),
        (
            json!({"title": "x", "all_day": true, "start_date": "2027-01-02", "end_date": "2027-01-02"}),
            "invalid_time_range",
        ),
        (json!({"title": "x"}), "missing_field"),
        (
            json!({"title": "x", "start": "2027-01-01T10:00:00Z", "end": "2027-01-01T10:01:00Z", "rrule": "FREQ=MINUTELY"}),
            "too_many_occurrences",
        ),
        (
            json!({"title": "x", "start": "2027-01-01T10:00:00Z", "end": "2027-01-01T10:00:01Z", "rrule": "FREQ=SECONDLY;COUNT=100000"}),
            "too_many_occurrences",
        ),
    ] {
        let res = app.post_json("/api/events", &body, Some(&user.token)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_code(res).await, code, "{body}");
    }
    let window = [
        ("start", "2027-01-01T00:00:00Z"),
        ("end", "2027-02-01T00:00:00Z"),
    ];
    let empty: Value = app
        .get_query("/api/events", &user.token, &window)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(empty["events"], json!([]), "refused events were not stored");

    for day in 1..=5 {
        app.create_event(&user.token, json!({"title": format!("Day {day}"), "start": format!("2027-01-0{day}T09:00:00Z"), "end": format!("2027-01-0{day}T10:00:00Z")})).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = window.to_vec();
        q.push(("limit", "2"));
        if let Some(t) = &token {
            q.push(("page_token", t));
        }
        let page: Value = app
            .get_query("/api/events", &user.token, &q)
            .await
            .json()
            .await
            .unwrap();
        for e in page["events"].as_array().unwrap() {
            seen.push(e["title"].as_str().unwrap().to_owned());
        }
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, vec!["Day 1", "Day 2", "Day 3", "Day 4", "Day 5"]);
}

async fn ids_in(app: &TestApp, token: &str, window: &[(&str, &str)]) -> Vec<String> {
    let body: Value = app
        .get_query("/api/events", token, window)
        .await
        .json()
        .await
        .unwrap();
    body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn series_change_as_a_whole_and_occurrences_can_be_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let series = app
        .create_event(&user.token, json!({"title": "Standup", "start": "2027-03-01T09:00:00+01:00", "end": "2027-03-01T09:15:00+01:00", "rrule": "FREQ=DAILY;COUNT=5"}))
        .await;
    let id = series["id"].as_str().unwrap();
    let window = [
        ("start", "2027-03-01T00:00:00Z"),
        ("end", "2027-04-01T00:00:00Z"),
    ];
    assert_eq!(ids_in(&app, &user.token, &window).await.len(), 5);
    let third = format!("{id}/20270303T080000Z");
    let one: Value = app
        .get(&format!("/api/events/{third}"), Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(one["start"], "2027-03-03T08:00:00Z");
    assert_eq!(
        app.delete(&format!("/api/events/{third}"), &user.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let ids = ids_in(&app, &user.token, &window).await;
    assert_eq!(ids.len(), 4);
    assert!(!ids.contains(&third));
    // Editing one occurrence is refused; editing the series moves them all.
    let res = app
        .patch_json(
            &format!("/api/events/{}", ids[0]),
            &json!({"title": "x"}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let res = app.patch_json(&format!("/api/events/{id}"), &json!({"title": "Daily", "start": "2027-03-01T10:00:00+01:00", "end": "2027-03-01T10:15:00+01:00"}), &user.token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = app
        .get_query("/api/events", &user.token, &window)
        .await
        .json()
        .await
        .unwrap();
    assert!(
        body["events"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["title"] == "Daily" && e["start"].as_str().unwrap().ends_with("T09:00:00Z"))
    );
    assert_eq!(
        app.delete(&format!("/api/events/{id}"), &user.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    assert!(ids_in(&app, &user.token, &window).await.is_empty());
}

async fn other_users_data_answers_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let owner = app.register_user().await;
    let intruder = app.register_user().await;
    let event = app.create_event(&owner.token, json!({"title": "Private", "start": "2027-01-04T09:00:00Z", "end": "2027-01-04T10:00:00Z"})).await;
    app.create_event(
        &owner.token,
        json!({"title": "Clash", "start": "2027-01-04T09:30:00Z", "end": "2027-01-04T10:30:00Z"}),
    )
    .await;
    let id = event["id"].as_str().unwrap();
    let conflicts: Value = app
        .get("/api/conflicts", Some(&owner.token))
        .await
        .json()
        .await
        .unwrap();
    let conflict_id = conflicts["conflicts"][0]["id"].as_str().unwrap().to_owned();

    assert_eq!(
        app.get(&format!("/api/events/{id}"), Some(&intruder.token))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.patch_json(
            &format!("/api/events/{id}"),
            &json!({"title": "mine"}),
            &intruder.token
        )
        .await
        .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&format!("/api/events/{id}"), &intruder.token)
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let res = app
        .post_json(
            &format!("/api/conflicts/{conflict_id}/resolve"),
            &json!({}),
            Some(&intruder.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .get_query(
            "/api/availability",
            &intruder.token,
            &[
                ("start", "2027-01-04T00:00:00Z"),
                ("end", "2027-01-05T00:00:00Z"),
                ("duration", "30"),
                ("calendar_ids", event["calendar_id"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let theirs: Value = app
        .get_query(
            "/api/events",
            &intruder.token,
            &[
                ("start", "2027-01-01T00:00:00Z"),
                ("end", "2027-02-01T00:00:00Z"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["events"], json!([]));
    let theirs: Value = app
        .get("/api/conflicts", Some(&intruder.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["conflicts"], json!([]));
    // Still the owner's, unchanged.
    let mine: Value = app
        .get(&format!("/api/events/{id}"), Some(&owner.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mine["title"], "Private");
}

/// Availability is served from a per-process cache; a change made through another process (or
/// anything that bumps the user's version) must show at once, and buffers of events just outside
/// the range must still reach into it.
async fn cached_availability_follows_changes_from_another_process(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let other = app.spawn_sibling().await;
    let user = app.register_user().await;
    let rules = json!({"timezone": "UTC", "weekly": {"tuesday": [{"start": "09:00", "end": "17:00"}]}, "buffer_after_minutes": 60});
    assert_eq!(
        app.post_json("/api/availability/rules", &rules, Some(&user.token))
            .await
            .status(),
        StatusCode::OK
    );
    let first = app.create_event(&user.token, json!({"title": "Early", "start": "2027-02-02T07:30:00Z", "end": "2027-02-02T08:30:00Z"})).await;
    let q = [
        ("start", "2027-02-02T09:00:00Z"),
        ("end", "2027-02-02T17:00:00Z"),
        ("duration", "30"),
    ];
    let body: Value = app
        .get_query("/api/availability", &user.token, &q)
        .await
        .json()
        .await
        .unwrap();
    // The meeting ended before the range, but its 60-minute buffer reaches 09:30.
    assert_eq!(
        spans(&body, "free"),
        vec![(
            "2027-02-02T09:30:00Z".to_owned(),
            "2027-02-02T17:00:00Z".to_owned()
        )]
    );

    // Another process adds a meeting: this one must not answer from what it cached.
    other.create_event(&user.token, json!({"title": "Late", "start": "2027-02-02T12:00:00Z", "end": "2027-02-02T13:00:00Z"})).await;
    let body: Value = app
        .get_query("/api/availability", &user.token, &q)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        spans(&body, "free"),
        vec![
            (
                "2027-02-02T09:30:00Z".to_owned(),
                "2027-02-02T12:00:00Z".to_owned()
            ),
            (
                "2027-02-02T14:00:00Z".to_owned(),
                "2027-02-02T17:00:00Z".to_owned()
            ),
        ]
    );
    // The uncached path (explicit calendars) agrees.
    let mut explicit = q.to_vec();
    let calendar = first["calendar_id"].as_str().unwrap().to_owned();
    explicit.push(("calendar_ids", &calendar));
    let direct: Value = app
        .get_query("/api/availability", &user.token, &explicit)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(spans(&direct, "free"), spans(&body, "free"));

    // Deleting through the other process frees the time again here.
    let id = first["id"].as_str().unwrap();
    assert_eq!(
        other
            .delete(&format!("/api/events/{id}"), &user.token)
            .await
            .status(),
        StatusCode::NO_CONTENT
    );
    let body: Value = app
        .get_query("/api/availability", &user.token, &q)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(spans(&body, "free")[0].0, "2027-02-02T09:00:00Z");
}

/// Default rules follow the user's own zone, also after the zone changes.
async fn default_hours_move_with_the_users_zone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let q = [
        ("start", "2027-02-02T00:00:00Z"),
        ("end", "2027-02-03T00:00:00Z"),
        ("duration", "30"),
        ("timezone", "UTC"),
    ];
    let body: Value = app
        .get_query("/api/availability", &user.token, &q)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        spans(&body, "free"),
        vec![(
            "2027-02-02T08:00:00Z".to_owned(),
            "2027-02-02T16:00:00Z".to_owned()
        )]
    );
    assert_eq!(
        app.patch_me(&user.token, &json!({"timezone": "America/New_York"}))
            .await
            .status(),
        StatusCode::OK
    );
    let body: Value = app
        .get_query("/api/availability", &user.token, &q)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        spans(&body, "free"),
        vec![(
            "2027-02-02T14:00:00Z".to_owned(),
            "2027-02-02T22:00:00Z".to_owned()
        )]
    );
}

backend_tests!(
    default_hours_move_with_the_users_zone,
    cached_availability_follows_changes_from_another_process,
    the_contract_example_across_the_october_dst_change,
    tentative_blocks_by_default_and_buffers_widen_meetings,
    default_rules_are_office_hours_in_the_users_zone,
    bad_rules_and_bad_queries_are_refused,
    manual_events_validate_and_page,
    series_change_as_a_whole_and_occurrences_can_be_deleted,
    other_users_data_answers_404,
);
