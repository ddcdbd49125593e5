//! Clients: CRUD, assignment by hand and by rule, and hours per week.

use std::collections::HashMap;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::fakes;
use tests::{Backend, TestApp, TestUser, backend_tests, error_code, test_worker_options};

async fn create_client(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app
        .post_json("/api/clients", &body, Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json().await.unwrap()
}

async fn clients_are_created_changed_and_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let acme = create_client(
        &app,
        &user,
        json!({"name": " Acme ", "color": "#FF8800", "email_domains": ["@Acme.com", "acme.com"],
               "keywords": ["acme", " Project X "]}),
    )
    .await;
    assert_eq!(acme["name"], "Acme");
    assert_eq!(acme["color"], "#ff8800");
    assert_eq!(acme["email_domains"], json!(["acme.com"]));
    assert_eq!(acme["keywords"], json!(["acme", "Project X"]));
    assert_eq!(acme["archived"], false);
    let id = acme["id"].as_str().unwrap();

    // Bad input is refused and changes nothing.
    for (body, code) in [
        (json!({"name": "Acme"}), "client_exists"),
        (json!({}), "invalid_name"),
        (json!({"name": "B", "color": "orange"}), "invalid_color"),
        (
            json!({"name": "B", "email_domains": ["not a domain"]}),
            "invalid_rule",
        ),
        (json!({"name": "B", "keywords": [""]}), "invalid_rule"),
    ] {
        let res = app
            .post_json("/api/clients", &body, Some(&user.token))
            .await;
        assert!(res.status().is_client_error(), "{body}");
        assert_eq!(error_code(res).await, code, "{body}");
    }
    let res = app
        .post_json(
            "/api/clients",
            &json!({"name": "B", "rate": 1}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let list: Value = app
        .get("/api/clients", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["clients"].as_array().unwrap().len(), 1, "{list}");

    let res = app
        .patch_json(
            &format!("/api/clients/{id}"),
            &json!({"name": "Acme Corp", "color": null, "archived": true}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["name"], "Acme Corp");
    assert!(changed["color"].is_null());
    assert_eq!(changed["archived"], true);
    assert_eq!(changed["keywords"], acme["keywords"]);

    // Another user sees none of it.
    let other = app.register_user().await;
    for res in [
        app.get(&format!("/api/clients/{id}"), Some(&other.token))
            .await,
        app.delete(&format!("/api/clients/{id}"), &other.token)
            .await,
        app.get_query(
            &format!("/api/clients/{id}/hours"),
            &other.token,
            &[("start", "2026-12-01"), ("end", "2026-12-08")],
        )
        .await,
    ] {
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    let res = app.delete(&format!("/api/clients/{id}"), &user.token).await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .get(&format!("/api/clients/{id}"), Some(&user.token))
        .await;
    assert_eq!(error_code(res).await, "client_not_found");
}

async fn hours_count_booked_time_per_week(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await; // Europe/Berlin
    let acme = create_client(&app, &user, json!({"name": "Acme", "keywords": ["acme"]})).await;
    let acme_id = acme["id"].as_str().unwrap();
    let other = create_client(&app, &user, json!({"name": "Globex"})).await;

    // By rule: a weekly series, three times (60 minutes in each of three weeks).
    let weekly = app
        .create_event(
            &user.token,
            json!({"title": "ACME weekly", "start": "2026-12-01T10:00:00+01:00",
        "end": "2026-12-01T11:00:00+01:00", "rrule": "FREQ=WEEKLY;COUNT=3"}),
        )
        .await;
    // By hand, and overlapping a rule match: 09:00–12:00 counts once (180 minutes).
    let design = app
        .create_event(
            &user.token,
            json!({"title": "Design work", "start": "2026-12-02T09:00:00+01:00",
        "end": "2026-12-02T11:30:00+01:00"}),
        )
        .await;
    app.create_event(
        &user.token,
        json!({"title": "Acme deep dive", "start": "2026-12-02T11:00:00+01:00",
        "end": "2026-12-02T12:00:00+01:00"}),
    )
    .await;
    // Across Monday midnight: 30 minutes in each week.
    app.create_event(
        &user.token,
        json!({"title": "Acme late call", "start": "2026-12-06T23:30:00+01:00",
        "end": "2026-12-07T00:30:00+01:00"}),
    )
    .await;
    // Matched by rule, but taken away by hand; all-day; another client's; a word that only contains "acme".
    let lunch = app
        .create_event(
            &user.token,
            json!({"title": "Acme lunch", "start": "2026-12-03T12:00:00+01:00",
        "end": "2026-12-03T13:00:00+01:00"}),
        )
        .await;
    app.create_event(
        &user.token,
        json!({"title": "Acme offsite", "all_day": true, "start_date": "2026-12-10",
        "end_date": "2026-12-11"}),
    )
    .await;
    let globex = app
        .create_event(
            &user.token,
            json!({"title": "Acme intro for Globex", "start": "2026-12-09T09:00:00+01:00",
        "end": "2026-12-09T10:00:00+01:00"}),
        )
        .await;
    app.create_event(
        &user.token,
        json!({"title": "Acmeville trip", "start": "2026-12-09T14:00:00+01:00",
        "end": "2026-12-09T15:00:00+01:00"}),
    )
    .await;

    let assign = |event: &Value, client: Value| {
        let path = format!("/api/events/{}/client", event["id"].as_str().unwrap());
        let body = json!({"client_id": client});
        let app = &app;
        let token = user.token.clone();
        async move { app.patch_json(&path, &body, &token).await }
    };
    let res = assign(&design, json!(acme_id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.json::<Value>().await.unwrap()["client_id"],
        json!(acme_id)
    );
    let res = assign(&lunch, Value::Null).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.json::<Value>().await.unwrap()["client_id"].is_null());
    assert_eq!(
        assign(&globex, other["id"].clone()).await.status(),
        StatusCode::OK
    );
    // Bad assignments change nothing.
    let res = assign(&design, json!(uuid::Uuid::new_v4())).await;
    assert_eq!(error_code(res).await, "unknown_client");
    let res = assign(&json!({"id": uuid::Uuid::new_v4()}), json!(acme_id)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    // An occurrence stands for its series.
    let occurrence = format!("{}/20261208T090000Z", weekly["id"].as_str().unwrap());
    let res = assign(&json!({"id": occurrence}), json!(acme_id)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(
        (body["id"].as_str(), &body["client_id"]),
        (Some(occurrence.as_str()), &json!(acme_id))
    );

    // The events list filters by the client each event ends up with.
    let listed: Value = app
        .get_query(
            "/api/events",
            &user.token,
            &[
                ("start", "2026-11-30T00:00:00Z"),
                ("end", "2026-12-21T00:00:00Z"),
                ("client_id", acme_id),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let mut titles: Vec<&str> = listed["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["title"].as_str().unwrap())
        .collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            "ACME weekly",
            "ACME weekly",
            "ACME weekly",
            "Acme deep dive",
            "Acme late call",
            "Acme offsite",
            "Design work"
        ]
    );

    let res = app
        .get_query(
            &format!("/api/clients/{acme_id}/hours"),
            &user.token,
            &[("start", "2026-11-30"), ("end", "2026-12-21")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let hours: Value = res.json().await.unwrap();
    assert_eq!(
        hours,
        json!({"client_id": acme_id, "total_minutes": 420, "weeks": [
            {"week_start": "2026-11-30", "minutes": 270},
            {"week_start": "2026-12-07", "minutes": 90},
            {"week_start": "2026-12-14", "minutes": 60}]})
    );
    // Times clip the range; a mid-week start still reports its whole week's Monday.
    let hours: Value = app
        .get_query(
            &format!("/api/clients/{acme_id}/hours"),
            &user.token,
            &[
                ("start", "2026-12-02T10:00:00Z"),
                ("end", "2026-12-08T00:00:00+01:00"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        hours,
        json!({"client_id": acme_id, "total_minutes": 120, "weeks": [
            {"week_start": "2026-11-30", "minutes": 90},
            {"week_start": "2026-12-07", "minutes": 30}]})
    );
    for (query, status) in [
        (
            vec![("start", "2026-12-08"), ("end", "2026-12-01")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![("start", "2026-01-01"), ("end", "2029-01-01")],
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            vec![("start", "yesterday"), ("end", "2026-12-01")],
            StatusCode::BAD_REQUEST,
        ),
        (vec![("end", "2026-12-01")], StatusCode::BAD_REQUEST),
    ] {
        let res = app
            .get_query(
                &format!("/api/clients/{acme_id}/hours"),
                &user.token,
                &query,
            )
            .await;
        assert_eq!(res.status(), status, "{query:?}");
    }

    // Deleting a client leaves its events, without a client.
    app.delete(
        &format!("/api/clients/{}", other["id"].as_str().unwrap()),
        &user.token,
    )
    .await;
    let event: Value = app
        .get(
            &format!("/api/events/{}", globex["id"].as_str().unwrap()),
            Some(&user.token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(event["client_id"], json!(acme_id), "the rule applies again");
}

/// An attendee from the client's domain books a synced event to the client.
async fn synced_events_follow_domain_rules(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    google.state().put_event(
        "ada@example.com",
        json!({"id": "g1", "summary": "Quarterly review", "iCalUID": "g1@google",
            "start": {"dateTime": "2026-12-01T09:00:00Z"}, "end": {"dateTime": "2026-12-01T10:30:00Z"},
            "attendees": [{"email": "ada@example.com", "self": true, "responseStatus": "accepted"},
                          {"email": "cfo@eu.initech.com", "responseStatus": "accepted"}]}),
    );
    let mut vars: HashMap<String, String> = google.env().into_iter().collect();
    vars.insert("SYNC_WINDOW_PAST_DAYS".into(), "400".into());
    vars.insert("SYNC_WINDOW_FUTURE_DAYS".into(), "800".into());
    let app = TestApp::spawn_with(backend, vars, test_worker_options()).await;
    let user = app.register_user().await;
    let initech = create_client(
        &app,
        &user,
        json!({"name": "Initech", "email_domains": ["initech.com"]}),
    )
    .await;
    app.oauth_dance("google", &user.token, "allow").await;
    let mut event = Value::Null;
    for _ in 0..150 {
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
        if let Some(e) = body["events"].as_array().and_then(|a| a.first()) {
            event = e.clone();
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(event["client_id"], initech["id"], "{event}");
    let hours: Value = app
        .get_query(
            &format!("/api/clients/{}/hours", initech["id"].as_str().unwrap()),
            &user.token,
            &[("start", "2026-11-30"), ("end", "2026-12-07")],
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(hours["total_minutes"], 90, "{hours}");
}

backend_tests!(
    clients_are_created_changed_and_deleted,
    hours_count_booked_time_per_week,
    synced_events_follow_domain_rules
);
