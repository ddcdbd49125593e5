//! Being told (contract, "Notifications"): the outbox as a feed and as a live stream that
//! resumes with no gap and no duplicate, across restarts and across processes.

use reqwest::StatusCode;
use sea_orm::EntityTrait;
use serde_json::{Value, json};
use tests::smtp::Smtp;
use tests::sse::Sse;
use tests::{Backend, TestApp, TestUser, backend_tests, fakes, test_worker_options};

/// The feed after `after`, without `availability.changed`: those follow every change on their
/// own schedule (at most one per 5 s) and have tests of their own (`availability_feed`).
async fn feed(app: &TestApp, user: &TestUser, after: &str) -> Vec<Value> {
    all_of_feed(app, user, after)
        .await
        .into_iter()
        .filter(|n| n["type"] != AVAILABILITY)
        .collect()
}

const AVAILABILITY: &str = "availability.changed";

async fn all_of_feed(app: &TestApp, user: &TestUser, after: &str) -> Vec<Value> {
    let res = app
        .get_query("/api/notifications", &user.token, &[("after", after)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["notifications"].as_array().unwrap().clone()
}

async fn stream(app: &TestApp, token: &str, last_event_id: Option<&str>) -> Sse {
    let mut req = app
        .client
        .get(app.url("/api/notifications/stream"))
        .bearer_auth(token)
        // A stream lives longer than the helpers' 30 s request timeout.
        .timeout(std::time::Duration::from_secs(3600));
    if let Some(id) = last_event_id {
        req = req.header("Last-Event-ID", id);
    }
    Sse::new(req.send().await.unwrap())
}

async fn google_app(backend: Backend) -> (fakes::google::FakeGoogle, TestApp) {
    let google = fakes::google::start("ada@example.com").await;
    google.state().put_event(
        "ada@example.com",
        fakes::google::event(
            "g1",
            "Planning",
            "2026-12-01T09:00:00Z",
            "2026-12-01T10:00:00Z",
        ),
    );
    let env = google.env().into_iter().collect();
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;
    (google, app)
}

/// A Google grant revoked at Google: `connection.needs_reauth` on the open stream and in the
/// feed — once, however often the sync fails after — with the sync's own failures beside it.
async fn a_revoked_grant_is_told_on_the_stream_and_in_the_feed(backend: Backend) {
    let (google, app) = google_app(backend).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let calendars = app.synced_calendars(&user.token).await;
    let id = calendars[0]["id"].as_str().unwrap().to_owned();

    let first = feed(&app, &user, "0").await;
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["type"], "calendar.synced");
    assert_eq!(
        first[0]["data"],
        json!({"calendar_id": id, "added": 1, "updated": 0, "removed": 0})
    );

    let mut live = stream(&app, &user.token, None).await;
    google.state().oauth.revoke_everything();
    app.sync_calendar(&user.token, &id).await;
    let (told, before) = live.until("connection.needs_reauth").await;
    assert!(before.iter().all(|f| matches!(
        f.event.as_deref(),
        Some("calendar.sync_failed" | AVAILABILITY)
    )));
    assert_eq!(told.data["type"], "connection.needs_reauth");
    assert_eq!(
        told.data["data"],
        json!({"provider": "google", "account": "ada@example.com", "calendar_ids": [id]})
    );
    assert_eq!(told.id.as_deref(), told.data["id"].as_str());

    // A second failing sync: another sync_failed, but the connection was already reported.
    app.sync_calendar(&user.token, &id).await;
    let all = feed(&app, &user, "0").await;
    let kinds: Vec<&str> = all.iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds
            .iter()
            .filter(|k| **k == "connection.needs_reauth")
            .count(),
        1,
        "{kinds:?}"
    );
    let failed: Vec<&Value> = all
        .iter()
        .filter(|n| n["type"] == "calendar.sync_failed")
        .collect();
    assert_eq!(failed.len(), 2, "{kinds:?}");
    assert_eq!(failed[1]["data"]["consecutive_failures"], 2);
    let ids: Vec<&str> = all.iter().map(|n| n["id"].as_str().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(ids, sorted, "ids sort in creation order, none twice");
    // The audit log has it too, as freeslot's own doing.
    let audit: Value = app
        .get_query("/api/audit", &user.token, &[])
        .await
        .json()
        .await
        .unwrap();
    let entry = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "connection.needs_reauth")
        .cloned()
        .unwrap_or_else(|| panic!("{audit}"));
    assert_eq!(entry["actor"], "system");
}

/// `Last-Event-ID` after a restart: every later notification once, in order; then new ones.
async fn a_stream_resumes_across_a_restart(backend: Backend) {
    let (google, app) = google_app(backend).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let id = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // Two more changes, on days of their own (a clash would be a notification too).
    for (n, title) in [(2, "Review"), (3, "Retro")] {
        google.state().put_event(
            "ada@example.com",
            fakes::google::event(
                &format!("g{n}"),
                title,
                &format!("2026-12-0{n}T09:00:00Z"),
                &format!("2026-12-0{n}T10:00:00Z"),
            ),
        );
        app.sync_calendar(&user.token, &id).await;
    }
    let all = feed(&app, &user, "0").await;
    assert_eq!(all.len(), 3, "{all:?}");
    let app = app.restart().await;

    let mut live = stream(&app, &user.token, all[0]["id"].as_str()).await;
    let second = live.next_except(AVAILABILITY).await;
    let third = live.next_except(AVAILABILITY).await;
    assert_eq!(second.id.as_deref(), all[1]["id"].as_str());
    assert_eq!(third.id.as_deref(), all[2]["id"].as_str());
    assert_eq!(third.data, all[2]);
    // And it goes on live.
    google.state().put_event(
        "ada@example.com",
        fakes::google::event("g4", "Demo", "2026-12-04T09:00:00Z", "2026-12-04T10:00:00Z"),
    );
    app.sync_calendar(&user.token, &id).await;
    let fourth = live.next_except(AVAILABILITY).await;
    assert_eq!(fourth.event.as_deref(), Some("calendar.synced"));
    assert_eq!(fourth.data["data"]["added"], 1);
    assert!(fourth.id.as_deref() > third.id.as_deref());
}

/// A notification written by another instance (its worker, on another machine) reaches a stream
/// opened on this one.
async fn a_notification_from_another_instance_reaches_the_stream(backend: Backend) {
    let (google, app) = google_app(backend).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let id = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.spawn_sibling().await;
    let mut live = stream(&app, &user.token, None).await;
    google.state().put_event(
        "ada@example.com",
        fakes::google::event("g2", "Sync", "2026-12-02T09:00:00Z", "2026-12-02T10:00:00Z"),
    );
    // The sibling's api takes the request; either worker may run it: the stream hears it.
    other.sync_calendar(&user.token, &id).await;
    let frame = live.next_except(AVAILABILITY).await;
    assert_eq!(frame.event.as_deref(), Some("calendar.synced"));
    assert_eq!(frame.data["data"]["calendar_id"], id.as_str());
}

/// Browsers' `EventSource` cannot send a header: a ticket opens the stream once.
async fn a_ticket_opens_the_stream_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let res = app
        .post_json("/api/notifications/ticket", &json!({}), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let ticket = res.json::<Value>().await.unwrap()["ticket"]
        .as_str()
        .unwrap()
        .to_owned();
    let url = app.url("/api/notifications/stream");
    let opened = app
        .client
        .get(&url)
        .query(&[("ticket", &ticket)])
        .send()
        .await
        .unwrap();
    let _live = Sse::new(opened);
    let again = app
        .client
        .get(&url)
        .query(&[("ticket", &ticket)])
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let body: Value = again.json().await.unwrap();
    assert_eq!(body["error"]["code"], "invalid_ticket");
    let bare = app.client.get(&url).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::UNAUTHORIZED);
    let bad = app
        .get_query("/api/notifications", &user.token, &[("after", "soon")])
        .await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

/// Conflicts: `conflict.opened` carries the conflict exactly as `GET /api/conflicts` shows it;
/// resolving it (by hand, or by the clash going away) is `conflict.resolved`.
async fn conflicts_opened_and_resolved_are_told(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    app.create_event(
        &user.token,
        event("Kickoff", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"),
    )
    .await;
    app.create_event(
        &user.token,
        event("Dentist", "2026-12-01T09:30:00Z", "2026-12-01T10:30:00Z"),
    )
    .await;
    let listed: Value = app
        .get_query("/api/conflicts", &user.token, &[("status", "open")])
        .await
        .json()
        .await
        .unwrap();
    let conflict = listed["conflicts"][0].clone();
    let all = feed(&app, &user, "0").await;
    let opened: Vec<&Value> = all
        .iter()
        .filter(|n| n["type"] == "conflict.opened")
        .collect();
    assert_eq!(opened.len(), 1, "{all:?}");
    assert_eq!(
        opened[0]["data"]["conflict"], conflict,
        "the same shape as the list"
    );

    let res = app
        .post_json(
            &format!(
                "/api/conflicts/{}/resolve",
                conflict["id"].as_str().unwrap()
            ),
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let last = feed(&app, &user, opened[0]["id"].as_str().unwrap()).await;
    assert_eq!(last.len(), 1, "{last:?}");
    assert_eq!(last[0]["type"], "conflict.resolved");
    assert_eq!(
        last[0]["data"],
        json!({"conflict_id": conflict["id"], "resolution": "user"})
    );

    // A clash that goes away by itself.
    let lunch = app
        .create_event(
            &user.token,
            event("Lunch", "2026-12-02T12:00:00Z", "2026-12-02T13:00:00Z"),
        )
        .await;
    app.create_event(
        &user.token,
        event("Call", "2026-12-02T12:30:00Z", "2026-12-02T13:30:00Z"),
    )
    .await;
    app.get_query("/api/conflicts", &user.token, &[]).await;
    let since = last[0]["id"].as_str().unwrap().to_owned();
    let res = app
        .delete(
            &format!("/api/events/{}", lunch["id"].as_str().unwrap()),
            &user.token,
        )
        .await;
    assert!(res.status().is_success());
    let listed: Value = app
        .get_query("/api/conflicts", &user.token, &[("status", "resolved")])
        .await
        .json()
        .await
        .unwrap();
    let auto = listed["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["resolution"] == "auto")
        .cloned()
        .unwrap_or_else(|| panic!("{listed}"));
    let later = feed(&app, &user, &since).await;
    let kinds: Vec<&str> = later.iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["conflict.opened", "conflict.resolved"], "{later:?}");
    assert_eq!(
        later[1]["data"],
        json!({"conflict_id": auto["id"], "resolution": "auto"})
    );
}

/// A schedule that reached Cal.com is `export.pushed`; one that did not, `export.failed`.
async fn exports_are_told(backend: Backend) {
    let calcom = fakes::calcom::start("ada@example.com").await;
    let env = calcom.env().into_iter().collect();
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;
    let user = app.register_user().await;
    let key = calcom.state().issue_api_key();
    let res = app
        .post_json(
            "/api/auth/connect/caldotcom",
            &json!({"api_key": key}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app
        .post_json(
            "/api/availability/export/calcom",
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let pushed: Value = res.json().await.unwrap();
    let told = feed(&app, &user, "0").await;
    let exports: Vec<&Value> = told
        .iter()
        .filter(|n| n["type"].as_str().unwrap().starts_with("export."))
        .collect();
    assert_eq!(exports.len(), 1, "{told:?}");
    assert_eq!(exports[0]["type"], "export.pushed");
    assert_eq!(
        exports[0]["data"],
        json!({"schedule_id": pushed["schedule_id"]})
    );

    // Pushing the same schedule again sends nothing and tells nothing; a failure is told.
    app.post_json(
        "/api/availability/export/calcom",
        &json!({}),
        Some(&user.token),
    )
    .await;
    // Then the schedule changes, and Cal.com's rate limit lasts longer than freeslot waits.
    app.create_event(
        &user.token,
        json!({"title": "Busy", "start": "2026-11-24T09:00:00Z", "end": "2026-11-24T10:00:00Z"}),
    )
    .await;
    calcom.state().remaining = 0;
    let res = app
        .post_json(
            "/api/availability/export/calcom",
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let after = feed(&app, &user, exports[0]["id"].as_str().unwrap()).await;
    let kinds: Vec<&str> = after
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .filter(|k| k.starts_with("export."))
        .collect();
    assert_eq!(kinds, ["export.failed"], "{after:?}");
    let failed = after.iter().find(|n| n["type"] == "export.failed").unwrap();
    assert!(failed["data"]["error"].as_str().is_some(), "{failed}");
}

/// The alerts job has looked at every notification the user has (a positive signal that it ran).
async fn alerts_caught_up(app: &TestApp, user: &TestUser) {
    let id: uuid::Uuid = user.id.parse().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let row = entity::users::Entity::find_by_id(id)
            .one(&app.ctx.db)
            .await
            .unwrap()
            .unwrap();
        if row.alerted_seq == row.notification_seq {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the alerts job did not run"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

fn smtp_env(smtp: &Smtp) -> Vec<(String, String)> {
    vec![
        ("SMTP_URL".into(), smtp.url()),
        ("ALERT_FROM".into(), "freeslot <alerts@example.com>".into()),
    ]
}

/// A revoked grant is one e-mail, however many syncs fail after it.
async fn a_revoked_grant_is_one_email(backend: Backend) {
    let smtp = Smtp::start().await;
    let google = fakes::google::start("ada@example.com").await;
    let mut env: std::collections::HashMap<String, String> = google.env().into_iter().collect();
    env.extend(smtp_env(&smtp));
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let id = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    google.state().oauth.revoke_everything();
    app.sync_calendar(&user.token, &id).await;
    let mail = smtp.wait_for(1).await.remove(0);
    assert!(
        mail.contains("Subject: freeslot: Google (ada@example.com) needs reconnecting"),
        "{mail}"
    );
    assert!(mail.contains(&user.email), "{mail}");
    assert!(mail.contains(&app.url("/")), "the app's link: {mail}");
    app.sync_calendar(&user.token, &id).await;
    alerts_caught_up(&app, &user).await;
    assert_eq!(smtp.messages().len(), 1, "one e-mail per incident");
}

/// A calendar that has failed to sync for an hour is one e-mail (not one per failed run).
async fn a_calendar_failing_for_an_hour_is_one_email(backend: Backend) {
    let smtp = Smtp::start().await;
    let ics = fakes::ics::start().await;
    ics.state().publish(
        "team",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nEND:VCALENDAR\r\n",
    );
    let app = TestApp::spawn_with(
        backend,
        smtp_env(&smtp).into_iter().collect(),
        test_worker_options(),
    )
    .await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/team.ics"), "name": "Team"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The feed goes away: syncs fail from now on.
    ics.state().feeds.clear();
    app.sync_calendar(&user.token, &id).await;
    alerts_caught_up(&app, &user).await;
    assert_eq!(
        smtp.messages().len(),
        0,
        "one failed run is not an incident yet"
    );
    tests::clock::clock().advance(chrono::Duration::minutes(61));
    app.sync_calendar(&user.token, &id).await;
    let mail = smtp.wait_for(1).await.remove(0);
    assert!(
        mail.contains("Subject: freeslot: Team has not synced for an hour"),
        "{mail}"
    );
    tests::clock::clock().advance(chrono::Duration::minutes(30));
    app.sync_calendar(&user.token, &id).await;
    alerts_caught_up(&app, &user).await;
    assert_eq!(smtp.messages().len(), 1, "one e-mail per incident");
}

fn event(title: &str, start: &str, end: &str) -> Value {
    json!({"title": title, "start": start, "end": end})
}

/// Waits until the feed holds `n` `availability.changed` notifications; returns them.
async fn availability_feed(app: &TestApp, user: &TestUser, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let told: Vec<Value> = all_of_feed(app, user, "0")
            .await
            .into_iter()
            .filter(|n| n["type"] == AVAILABILITY)
            .collect();
        if told.len() >= n {
            return told;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{n} availability changes, got {told:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `availability.changed` names the span whose free time changed — a manual event's own time —
/// and changes within 5 s of the last one told become one notification that covers them all.
async fn availability_changes_are_told_at_most_every_five_seconds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    app.create_event(
        &user.token,
        event("Focus", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"),
    )
    .await;
    let told = availability_feed(&app, &user, 1).await;
    assert_eq!(
        told[0]["data"],
        json!({"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"})
    );
    // Two more at once: held back until five seconds have passed, then told as one.
    let review = app
        .create_event(
            &user.token,
            event("Review", "2026-12-03T09:00:00Z", "2026-12-03T10:00:00Z"),
        )
        .await;
    app.create_event(
        &user.token,
        event("Retro", "2026-12-05T15:00:00Z", "2026-12-05T16:00:00Z"),
    )
    .await;
    tests::clock::clock().advance(chrono::Duration::seconds(5));
    let told = availability_feed(&app, &user, 2).await;
    assert_eq!(told.len(), 2, "{told:?}");
    assert_eq!(
        told[1]["data"],
        json!({"start": "2026-12-03T09:00:00Z", "end": "2026-12-05T16:00:00Z"})
    );
    // Moving an event changes where it was and where it is.
    tests::clock::clock().advance(chrono::Duration::seconds(5));
    let res = app
        .patch_json(
            &format!("/api/events/{}", review["id"].as_str().unwrap()),
            &json!({"start": "2026-12-04T11:00:00Z", "end": "2026-12-04T12:00:00Z"}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let told = availability_feed(&app, &user, 3).await;
    assert_eq!(
        told[2]["data"],
        json!({"start": "2026-12-03T09:00:00Z", "end": "2026-12-04T12:00:00Z"})
    );
}

/// A sync that changes a calendar tells the span of what changed: a meeting moved at Google
/// frees its old time and takes its new one; a deleted one frees its time.
async fn a_synced_change_tells_its_span(backend: Backend) {
    let (google, app) = google_app(backend).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let id = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let told = availability_feed(&app, &user, 1).await;
    assert_eq!(
        told[0]["data"],
        json!({"start": "2026-12-01T09:00:00Z", "end": "2026-12-01T10:00:00Z"})
    );
    tests::clock::clock().advance(chrono::Duration::seconds(5));
    google.state().put_event(
        "ada@example.com",
        fakes::google::event(
            "g1",
            "Planning",
            "2026-12-02T14:00:00Z",
            "2026-12-02T15:00:00Z",
        ),
    );
    app.sync_calendar(&user.token, &id).await;
    let told = availability_feed(&app, &user, 2).await;
    assert_eq!(
        told[1]["data"],
        json!({"start": "2026-12-01T09:00:00Z", "end": "2026-12-02T15:00:00Z"})
    );
    tests::clock::clock().advance(chrono::Duration::seconds(5));
    google.state().delete_event("ada@example.com", "g1");
    app.sync_calendar(&user.token, &id).await;
    let told = availability_feed(&app, &user, 3).await;
    assert_eq!(
        told[2]["data"],
        json!({"start": "2026-12-02T14:00:00Z", "end": "2026-12-02T15:00:00Z"})
    );
}

backend_tests!(
    availability_changes_are_told_at_most_every_five_seconds,
    a_synced_change_tells_its_span,
    a_revoked_grant_is_one_email,
    a_calendar_failing_for_an_hour_is_one_email,
    exports_are_told,
    conflicts_opened_and_resolved_are_told,
    a_revoked_grant_is_told_on_the_stream_and_in_the_feed,
    a_stream_resumes_across_a_restart,
    a_notification_from_another_instance_reaches_the_stream,
    a_ticket_opens_the_stream_once,
);
