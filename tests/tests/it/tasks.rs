//! Tasks planned into free time (contract, "Tasks scheduled into free time"), through the real
//! HTTP API and worker, around meetings synced from the Google fake. Every expected block is
//! computed by hand from the contract's rule. The tests' "now" is Monday 2026-11-23 07:00 UTC;
//! the user works the default Monday–Friday 09:00–17:00 in Berlin (08:00–16:00 UTC).

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{Backend, TestApp, TestUser, backend_tests, error_code, fakes, test_worker_options};

async fn google_app(backend: Backend) -> (fakes::google::FakeGoogle, TestApp) {
    let google = fakes::google::start("ada@example.com").await;
    google.state().put_event(
        "ada@example.com",
        fakes::google::event(
            "standup",
            "Client call",
            "2026-11-23T09:00:00Z",
            "2026-11-23T10:00:00Z",
        ),
    );
    let env = google.env().into_iter().collect();
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;
    (google, app)
}

async fn create(app: &TestApp, user: &TestUser, body: Value) -> Value {
    let res = app.post_json("/api/tasks", &body, Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{body}");
    res.json().await.unwrap()
}

/// The plan's blocks of the week, as (title, start, end, at_risk).
async fn week_plan(app: &TestApp, user: &TestUser) -> Vec<(String, String, String, bool)> {
    let res = app
        .get_query(
            "/api/plan",
            &user.token,
            &[
                ("start", "2026-11-23T00:00:00Z"),
                ("end", "2026-11-30T00:00:00Z"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["blocks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["title"].as_str().unwrap().to_owned(),
                b["start"].as_str().unwrap().to_owned(),
                b["end"].as_str().unwrap().to_owned(),
                b["at_risk"].as_bool().unwrap(),
            )
        })
        .collect()
}

/// Monday's free intervals from `GET /api/availability`.
async fn monday_free(app: &TestApp, user: &TestUser) -> Vec<(String, String)> {
    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2026-11-23T00:00:00Z"),
                ("end", "2026-11-24T00:00:00Z"),
                ("duration", "30"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["free"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["start"].as_str().unwrap().to_owned(),
                f["end"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Waits until the plan is `expected` (the re-plan runs as a job, within seconds).
async fn plan_becomes(app: &TestApp, user: &TestUser, expected: &[(&str, &str, &str, bool)]) {
    let expected: Vec<(String, String, String, bool)> = expected
        .iter()
        .map(|(t, s, e, r)| (t.to_string(), s.to_string(), e.to_string(), *r))
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let got = week_plan(app, user).await;
        if got == expected {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the plan is {got:#?}, expected {expected:#?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Three tasks around a synced meeting, placed exactly by the contract's rule; a meeting synced
/// later moves a block; one that takes a task's last chance before its due makes it at risk,
/// told once in the feed.
async fn tasks_are_planned_around_meetings_and_move_with_them(backend: Backend) {
    let (google, app) = google_app(backend).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let calendar = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let proposal = create(
        &app,
        &user,
        json!({"title": "Write proposal", "duration_minutes": 180, "min_chunk_minutes": 60,
               "max_chunk_minutes": 120, "due": "2026-11-27T16:00:00Z", "priority": 2,
               "tags": ["acme", "writing"]}),
    )
    .await;
    assert_eq!(proposal["status"], "open");
    assert_eq!(proposal["tags"], json!(["acme", "writing"]));
    create(
        &app,
        &user,
        json!({"title": "Invoice", "duration_minutes": 30, "due": "2026-11-23T12:00:00Z",
               "priority": 1, "reminder_minutes": 60}),
    )
    .await;
    create(
        &app,
        &user,
        json!({"title": "Review", "duration_minutes": 60}),
    )
    .await;

    // Invoice (due first) takes 08:00–08:30; the proposal skips 08:30–09:00 (shorter than a
    // piece) and takes 10:00–12:00, then — one piece per free interval — Tuesday 08:00–09:00;
    // the review (no due) fits at 12:00–13:00.
    plan_becomes(
        &app,
        &user,
        &[
            (
                "Invoice",
                "2026-11-23T08:00:00Z",
                "2026-11-23T08:30:00Z",
                false,
            ),
            (
                "Write proposal",
                "2026-11-23T10:00:00Z",
                "2026-11-23T12:00:00Z",
                false,
            ),
            (
                "Review",
                "2026-11-23T12:00:00Z",
                "2026-11-23T13:00:00Z",
                false,
            ),
            (
                "Write proposal",
                "2026-11-24T08:00:00Z",
                "2026-11-24T09:00:00Z",
                false,
            ),
        ],
    )
    .await;
    let one: Value = app
        .get(
            &format!("/api/tasks/{}", proposal["id"].as_str().unwrap()),
            Some(&user.token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        one["blocks"],
        json!([{"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T12:00:00Z"},
               {"start": "2026-11-24T08:00:00Z", "end": "2026-11-24T09:00:00Z"}])
    );
    assert_eq!(one["at_risk"], false);
    assert_eq!(one["unscheduled_minutes"], 0);

    // A client books 10:30–11:30 over the proposal: it moves after the meeting.
    google.state().put_event(
        "ada@example.com",
        fakes::google::event(
            "kickoff",
            "Kickoff",
            "2026-11-23T10:30:00Z",
            "2026-11-23T11:30:00Z",
        ),
    );
    app.sync_calendar(&user.token, &calendar).await;
    plan_becomes(
        &app,
        &user,
        &[
            (
                "Invoice",
                "2026-11-23T08:00:00Z",
                "2026-11-23T08:30:00Z",
                false,
            ),
            (
                "Write proposal",
                "2026-11-23T11:30:00Z",
                "2026-11-23T13:30:00Z",
                false,
            ),
            (
                "Review",
                "2026-11-23T13:30:00Z",
                "2026-11-23T14:30:00Z",
                false,
            ),
            (
                "Write proposal",
                "2026-11-24T08:00:00Z",
                "2026-11-24T09:00:00Z",
                false,
            ),
        ],
    )
    .await;

    // The morning fills up: the invoice can only be done after its due.
    google.state().put_event(
        "ada@example.com",
        fakes::google::event(
            "workshop",
            "Workshop",
            "2026-11-23T08:00:00Z",
            "2026-11-23T09:00:00Z",
        ),
    );
    google.state().put_event(
        "ada@example.com",
        fakes::google::event(
            "lunch",
            "Lunch with Acme",
            "2026-11-23T11:30:00Z",
            "2026-11-23T12:00:00Z",
        ),
    );
    google.state().put_event(
        "ada@example.com",
        fakes::google::event(
            "brief",
            "Briefing",
            "2026-11-23T10:00:00Z",
            "2026-11-23T10:30:00Z",
        ),
    );
    app.sync_calendar(&user.token, &calendar).await;
    // Monday is free only from 12:00: the invoice goes there, past its due; what it leaves of
    // the afternoon is the next tasks'.
    plan_becomes(
        &app,
        &user,
        &[
            (
                "Invoice",
                "2026-11-23T12:00:00Z",
                "2026-11-23T12:30:00Z",
                true,
            ),
            (
                "Write proposal",
                "2026-11-23T12:30:00Z",
                "2026-11-23T14:30:00Z",
                false,
            ),
            (
                "Review",
                "2026-11-23T14:30:00Z",
                "2026-11-23T15:30:00Z",
                false,
            ),
            (
                "Write proposal",
                "2026-11-24T08:00:00Z",
                "2026-11-24T09:00:00Z",
                false,
            ),
        ],
    )
    .await;
    // By default only the at-risk task's block counts as busy in availability.
    assert_eq!(
        monday_free(&app, &user).await,
        [(
            "2026-11-23T12:30:00Z".to_owned(),
            "2026-11-23T16:00:00Z".to_owned()
        )]
    );
    let office = json!({"monday": [{"start": "09:00", "end": "17:00"}],
        "tuesday": [{"start": "09:00", "end": "17:00"}], "wednesday": [{"start": "09:00", "end": "17:00"}],
        "thursday": [{"start": "09:00", "end": "17:00"}], "friday": [{"start": "09:00", "end": "17:00"}]});
    for (task_blocks, free) in [
        (
            "busy",
            vec![("2026-11-23T15:30:00Z", "2026-11-23T16:00:00Z")],
        ),
        (
            "free",
            vec![("2026-11-23T12:00:00Z", "2026-11-23T16:00:00Z")],
        ),
    ] {
        let res = app
            .post_json(
                "/api/availability/rules",
                &json!({"weekly": office, "task_blocks": task_blocks}),
                Some(&user.token),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let rules: Value = res.json().await.unwrap();
        assert_eq!(rules["task_blocks"], task_blocks);
        let free: Vec<(String, String)> = free
            .into_iter()
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        assert_eq!(
            monday_free(&app, &user).await,
            free,
            "task_blocks {task_blocks}"
        );
    }
    // The feeds: the full one shows every block under its task's title; the busy one only the
    // blocks that count (none, with `free`; then all, with `busy`).
    let urls: Value = app
        .get("/api/feeds", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    let fetch = |url: String| async move { reqwest::get(url).await.unwrap().text().await.unwrap() };
    let full = fetch(urls["full"].as_str().unwrap().to_owned()).await;
    assert!(full.contains("SUMMARY:Write proposal"), "{full}");
    assert!(full.contains("X-FREESLOT-TASK:"), "{full}");
    let proposal_block = "DTSTART:20261123T123000Z";
    let busy = fetch(urls["busy"].as_str().unwrap().to_owned()).await;
    assert!(!busy.contains(proposal_block), "free: {busy}");
    let res = app
        .post_json(
            "/api/availability/rules",
            &json!({"weekly": office, "task_blocks": "busy"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let busy = fetch(urls["busy"].as_str().unwrap().to_owned()).await;
    assert!(busy.contains(proposal_block), "busy: {busy}");
    assert!(
        !busy.contains("Write proposal"),
        "the busy feed names nothing"
    );

    let res = app
        .post_json(
            "/api/availability/rules",
            &json!({"weekly": office, "task_blocks": "sometimes"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "invalid_task_blocks");

    let feed: Value = app
        .get_query("/api/notifications", &user.token, &[])
        .await
        .json()
        .await
        .unwrap();
    let at_risk: Vec<&Value> = feed["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "task.at_risk")
        .collect();
    assert_eq!(at_risk.len(), 1, "{feed}");
    assert_eq!(at_risk[0]["data"]["task"]["title"], "Invoice");
    assert_eq!(at_risk[0]["data"]["task"]["at_risk"], true);
}

/// Completing a repeating task opens the next occurrence, the wall-clock time kept across the
/// spring DST change; a plain one is just done. Bad input is a 422 that changes nothing.
async fn tasks_repeat_complete_and_validate(backend: Backend) {
    let app = TestApp::spawn_with(backend, Default::default(), test_worker_options()).await;
    let user = app.register_user().await;
    let weekly = create(
        &app,
        &user,
        json!({"title": "Weekly report", "duration_minutes": 30,
               "due": "2027-03-26T16:00:00Z", "rrule": "FREQ=WEEKLY;BYDAY=FR"}),
    )
    .await;
    let res = app
        .post_json(
            &format!("/api/tasks/{}/complete", weekly["id"].as_str().unwrap()),
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let next: Value = res.json().await.unwrap();
    assert_ne!(next["id"], weekly["id"]);
    assert_eq!(next["status"], "open");
    // Friday 17:00 in Berlin: 16:00 UTC before the change, 15:00 UTC after it.
    assert_eq!(next["due"], "2027-04-02T15:00:00Z");
    let done: Value = app
        .get(
            &format!("/api/tasks/{}", weekly["id"].as_str().unwrap()),
            Some(&user.token),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["status"], "done");
    assert!(done["completed_at"].as_str().is_some());

    for (body, code) in [
        (json!({"duration_minutes": 30}), "invalid_title"),
        (
            json!({"title": "x", "duration_minutes": 4}),
            "invalid_duration",
        ),
        (
            json!({"title": "x", "duration_minutes": 10081}),
            "invalid_duration",
        ),
        (
            json!({"title": "x", "duration_minutes": 60, "priority": 5}),
            "invalid_priority",
        ),
        (
            json!({"title": "x", "duration_minutes": 60, "min_chunk_minutes": 90}),
            "invalid_chunks",
        ),
        (
            json!({"title": "x", "duration_minutes": 60, "min_chunk_minutes": 40, "max_chunk_minutes": 30}),
            "invalid_chunks",
        ),
        (
            json!({"title": "x", "duration_minutes": 60, "max_chunk_minutes": 61}),
            "invalid_chunks",
        ),
        (
            json!({"title": "x", "duration_minutes": 60, "client_id": uuid::Uuid::new_v4()}),
            "unknown_client",
        ),
        (
            json!({"title": "x", "duration_minutes": 60, "rrule": "FREQ=WEEKLY"}),
            "invalid_rrule",
        ),
        (
            json!({"title": "x", "duration_minutes": 60, "due": "2026-12-01T10:00:00Z", "rrule": "FREQ=SOMETIMES"}),
            "invalid_rrule",
        ),
        (
            json!({"title": "x", "duration_minutes": 60, "reminder_minutes": 30}),
            "invalid_reminder",
        ),
    ] {
        let res = app.post_json("/api/tasks", &body, Some(&user.token)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_code(res).await, code, "{body}");
    }
    let res = app
        .post_json(
            "/api/tasks",
            &json!({"title": "x", "duration_minutes": "long"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Lists: filters, search, sort, pages; nothing of the refused ones.
    create(
        &app,
        &user,
        json!({"title": "Tax return", "duration_minutes": 120, "priority": 1, "tags": ["Home"],
               "notes": "Receipts in the blue folder", "due": "2026-12-10T12:00:00Z"}),
    )
    .await;
    create(
        &app,
        &user,
        json!({"title": "Call the bank", "duration_minutes": 15, "priority": 2, "tags": ["home"]}),
    )
    .await;
    let titles = |body: &Value| -> Vec<String> {
        body["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["title"].as_str().unwrap().to_owned())
            .collect()
    };
    let list = |query: Vec<(&'static str, &'static str)>| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let res = app.get_query("/api/tasks", &token, &query).await;
            assert_eq!(res.status(), StatusCode::OK);
            res.json::<Value>().await.unwrap()
        }
    };
    assert_eq!(
        titles(&list(vec![("status", "open")]).await),
        ["Tax return", "Weekly report", "Call the bank"]
    );
    assert_eq!(
        titles(&list(vec![("tag", "HOME"), ("sort", "priority")]).await),
        ["Tax return", "Call the bank"]
    );
    assert_eq!(
        titles(&list(vec![("q", "blue folder")]).await),
        ["Tax return"]
    );
    assert_eq!(
        titles(&list(vec![("status", "done")]).await),
        ["Weekly report"]
    );
    assert_eq!(
        titles(&list(vec![("due_before", "2027-01-01T00:00:00Z")]).await),
        ["Tax return"]
    );
    let first = list(vec![("limit", "2"), ("status", "open")]).await;
    assert_eq!(titles(&first), ["Tax return", "Weekly report"]);
    let token = first["next_page_token"].as_str().unwrap().to_owned();
    let res = app
        .get_query(
            "/api/tasks",
            &user.token,
            &[("limit", "2"), ("status", "open"), ("page_token", &token)],
        )
        .await;
    let second: Value = res.json().await.unwrap();
    assert_eq!(titles(&second), ["Call the bank"]);
    assert!(second["next_page_token"].is_null());
    let res = app
        .get_query("/api/tasks", &user.token, &[("sort", "sideways")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Another user sees none of it.
    let stranger = app.register_user().await;
    let res = app
        .get(
            &format!("/api/tasks/{}", next["id"].as_str().unwrap()),
            Some(&stranger.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .delete(
            &format!("/api/tasks/{}", next["id"].as_str().unwrap()),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let audit = app
        .get_query("/api/audit", &user.token, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("task.completed") && audit.contains("task.deleted"));
}

async fn reminders(app: &TestApp, token: String) -> Vec<Value> {
    let feed: Value = app
        .get_query("/api/notifications", &token, &[])
        .await
        .json()
        .await
        .unwrap();
    feed["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "task.reminder")
        .cloned()
        .collect()
}

/// A reminder is told once, when `due − reminder_minutes` comes.
async fn a_reminder_is_told_once_when_it_is_time(backend: Backend) {
    let app = TestApp::spawn_with(backend, Default::default(), test_worker_options()).await;
    let user = app.register_user().await;
    let due = (tests::clock::now() + chrono::Duration::hours(2)).to_rfc3339();
    let task = create(
        &app,
        &user,
        json!({"title": "Send the invoice", "duration_minutes": 15, "due": due, "reminder_minutes": 60}),
    )
    .await;
    // The plan has run (a job like the reminder's), and no reminder yet.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let one: Value = app
            .get(
                &format!("/api/tasks/{}", task["id"].as_str().unwrap()),
                Some(&user.token),
            )
            .await
            .json()
            .await
            .unwrap();
        if !one["blocks"].as_array().unwrap().is_empty() || one["at_risk"] == true {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never planned: {one}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(reminders(&app, user.token.clone()).await.is_empty());

    tests::clock::clock().advance(chrono::Duration::minutes(61));
    let user = app.login(&user).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let told = loop {
        let told = reminders(&app, user.token.clone()).await;
        if !told.is_empty() {
            break told;
        }
        assert!(std::time::Instant::now() < deadline, "no reminder");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(told[0]["data"]["task"]["id"], task["id"]);
    assert_eq!(told[0]["data"]["task"]["title"], "Send the invoice");
    // Later looks find it told.
    tests::clock::clock().advance(chrono::Duration::minutes(10));
    let user = app.login(&user).await;
    let again = create(
        &app,
        &user,
        json!({"title": "marker", "duration_minutes": 5}),
    )
    .await;
    assert!(again["id"].as_str().is_some());
    assert_eq!(reminders(&app, user.token.clone()).await.len(), 1);
}

/// The open conflicts whose pair holds a task block, once detection (a job) has seen them.
async fn block_conflicts(app: &TestApp, user: &TestUser, status: &str) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let body: Value = app
            .get_query("/api/conflicts", &user.token, &[("status", status)])
            .await
            .json()
            .await
            .unwrap();
        let found: Vec<Value> = body["conflicts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| !c["task_blocks"].as_array().unwrap().is_empty())
            .cloned()
            .collect();
        if !found.is_empty() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no {status} conflict with a task block: {body}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Task blocks count in conflicts as the rules' `task_blocks` say: a meeting booked over a
/// block that has begun (which stays where it is) is an overlap with the task, shown with it;
/// when blocks stop counting, the conflict resolves by itself.
async fn a_meeting_over_a_begun_block_clashes_with_the_task(backend: Backend) {
    let (google, app) = google_app(backend).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let calendar = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let office = json!({"monday": [{"start": "09:00", "end": "17:00"}],
        "tuesday": [{"start": "09:00", "end": "17:00"}], "wednesday": [{"start": "09:00", "end": "17:00"}],
        "thursday": [{"start": "09:00", "end": "17:00"}], "friday": [{"start": "09:00", "end": "17:00"}]});
    let res = app
        .post_json(
            "/api/availability/rules",
            &json!({"weekly": office, "task_blocks": "busy"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let task = create(
        &app,
        &user,
        json!({"title": "Deep work", "duration_minutes": 60, "due": "2026-11-27T16:00:00Z"}),
    )
    .await;
    // 08:00–09:00 UTC, before the client call.
    let block = (
        "Deep work",
        "2026-11-23T08:00:00Z",
        "2026-11-23T09:00:00Z",
        false,
    );
    plan_becomes(&app, &user, &[block]).await;

    // 08:30: the block has begun when a call is booked over it.
    tests::clock::clock().advance(chrono::Duration::minutes(90));
    let user = app.login(&user).await;
    google.state().put_event(
        "ada@example.com",
        fakes::google::event(
            "surprise",
            "Surprise call",
            "2026-11-23T08:15:00Z",
            "2026-11-23T08:45:00Z",
        ),
    );
    app.sync_calendar(&user.token, &calendar).await;
    let found = block_conflicts(&app, &user, "open").await;
    assert_eq!(found.len(), 1, "{found:#?}");
    let c = &found[0];
    let key = format!("task:{}/2026-11-23T08:00:00Z", task["id"].as_str().unwrap());
    assert_eq!(c["kind"], "overlap");
    assert_eq!(c["severity"], "high");
    assert_eq!(c["start"], "2026-11-23T08:15:00Z");
    assert_eq!(c["end"], "2026-11-23T08:45:00Z");
    assert_eq!(c["event_ids"][0], key.as_str());
    assert_eq!(c["events"][0]["title"], "Surprise call");
    assert_eq!(c["events"].as_array().unwrap().len(), 1);
    assert_eq!(
        c["task_blocks"],
        json!([{"id": key, "task_id": task["id"], "title": "Deep work",
                "start": "2026-11-23T08:00:00Z", "end": "2026-11-23T09:00:00Z", "at_risk": false}])
    );
    // The begun block stayed where it was.
    plan_becomes(&app, &user, &[block]).await;
    // Told like any conflict, with the task's block.
    let feed: Value = app
        .get_query("/api/notifications", &user.token, &[])
        .await
        .json()
        .await
        .unwrap();
    let opened: Vec<&Value> = feed["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["type"] == "conflict.opened")
        .collect();
    assert_eq!(opened.len(), 1, "{feed}");
    assert_eq!(
        opened[0]["data"]["conflict"]["task_blocks"][0]["title"],
        "Deep work"
    );

    // Task blocks no longer count as busy: the clash is gone by itself.
    let res = app
        .post_json(
            "/api/availability/rules",
            &json!({"weekly": office, "task_blocks": "free"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let resolved = block_conflicts(&app, &user, "resolved").await;
    assert_eq!(resolved[0]["id"], c["id"]);
    assert_eq!(resolved[0]["resolution"], "auto");
}

/// Time alone moves the plan's 28-day horizon: a task that began beyond it is placed once the
/// housekeeping's re-plan of unscheduled tasks runs after the horizon reached it.
async fn a_task_beyond_the_horizon_is_placed_when_time_reaches_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, Default::default(), test_worker_options()).await;
    let user = app.register_user().await;
    // Now + 28 days is Monday 2026-12-21 07:00 UTC; the task may start two hours later.
    let task = create(
        &app,
        &user,
        json!({"title": "Year-end report", "duration_minutes": 30,
               "earliest_start": "2026-12-21T09:00:00Z"}),
    )
    .await;
    let id = task["id"].as_str().unwrap().to_owned();
    let read = |token: String| {
        let app = &app;
        let id = id.clone();
        async move {
            let res = app.get(&format!("/api/tasks/{id}"), Some(&token)).await;
            res.json::<Value>().await.unwrap()
        }
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let one = read(user.token.clone()).await;
        if one["unscheduled_minutes"] == 30 {
            assert_eq!(one["at_risk"], true, "{one}");
            assert_eq!(one["blocks"], json!([]));
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never planned: {one}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    tests::clock::clock().advance(chrono::Duration::days(1));
    let user = app.login(&user).await;
    assert_eq!(
        service::tasks::plan::enqueue_unscheduled(&app.ctx)
            .await
            .unwrap(),
        1
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let one = read(user.token.clone()).await;
        if one["unscheduled_minutes"] == 0 {
            // 09:00–17:00 in Berlin is 08:00–16:00 UTC in December.
            assert_eq!(
                one["blocks"],
                json!([{"start": "2026-12-21T09:00:00Z", "end": "2026-12-21T09:30:00Z"}])
            );
            assert_eq!(one["at_risk"], false);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never re-planned: {one}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        service::tasks::plan::enqueue_unscheduled(&app.ctx)
            .await
            .unwrap(),
        0,
        "nothing left to place"
    );
}

backend_tests!(
    a_task_beyond_the_horizon_is_placed_when_time_reaches_it,
    a_meeting_over_a_begun_block_clashes_with_the_task,
    a_reminder_is_told_once_when_it_is_time,
    tasks_are_planned_around_meetings_and_move_with_them,
    tasks_repeat_complete_and_validate,
);
