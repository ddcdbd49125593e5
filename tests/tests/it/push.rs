//! Push notifications: channels opened on connect, verified deliveries enqueue a sync, forged
//! ones change nothing, duplicates are harmless, channels are stopped on disconnect. And the
//! schedule alone, with no push at all, still converges; and four sources converge through both.

use std::collections::HashMap;
use std::time::Duration;

use entity::calendars;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use tests::fakes::{self, google::GoogleChannel};
use tests::{Backend, TestApp, TestUser, backend_tests, test_worker_options};

async fn app_with(backend: Backend, env: Vec<(String, String)>, every_second: bool) -> TestApp {
    let mut vars: HashMap<String, String> = env.into_iter().collect();
    vars.insert("SYNC_WINDOW_PAST_DAYS".into(), "400".into());
    vars.insert("SYNC_WINDOW_FUTURE_DAYS".into(), "800".into());
    let mut worker = test_worker_options();
    if every_second {
        worker.sync_schedule = "* * * * * *".into();
    }
    TestApp::spawn_with(backend, vars, worker).await
}

async fn event_ids(app: &TestApp, user: &TestUser) -> Vec<String> {
    let res = app
        .get_query(
            "/api/events",
            &user.token,
            &[
                ("start", "2026-11-01T00:00:00Z"),
                ("end", "2027-03-01T00:00:00Z"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let mut ids: Vec<String> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["provider_event_id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

async fn converge(app: &TestApp, user: &TestUser, expected: &[&str]) {
    let mut seen = Vec::new();
    for _ in 0..150 {
        seen = event_ids(app, user).await;
        if seen == expected {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("expected {expected:?}, have {seen:?}");
}

async fn wait_until<F: Fn() -> bool>(what: &str, check: F) {
    for _ in 0..150 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn last_push(app: &TestApp) -> Vec<Option<chrono::DateTime<chrono::Utc>>> {
    calendars::Entity::find()
        .filter(calendars::Column::ConnectionId.is_not_null())
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.last_push_at)
        .collect()
}

fn google_event(id: &str, day: u32) -> Value {
    json!({"id": id, "summary": id, "start": {"dateTime": format!("2026-12-{day:02}T09:00:00Z")},
        "end": {"dateTime": format!("2026-12-{day:02}T10:00:00Z")}})
}

async fn google_pushes_are_verified_and_trigger_syncs(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let cal = "ada@example.com";
    google.state().put_event(cal, google_event("g1", 1));
    let app = app_with(backend, google.env(), false).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    converge(&app, &user, &["g1"]).await;
    wait_until("a watch channel", || google.state().channels.len() == 1).await;
    let channel = google.state().channels[0].clone();
    assert_eq!(
        channel.address,
        format!("{}/api/webhooks/google", app.address)
    );
    assert!(channel.token.len() >= 32);

    // A forged notice (wrong token) and one for an unknown channel: 200, and nothing happens.
    let before = last_push(&app).await;
    let forged = GoogleChannel {
        token: "guess".into(),
        ..channel.clone()
    };
    assert_eq!(fakes::google::send_notice(&forged, "exists", 7).await, 200);
    let stranger = GoogleChannel {
        id: "nope".into(),
        ..channel.clone()
    };
    assert_eq!(
        fakes::google::send_notice(&stranger, "exists", 8).await,
        200
    );
    assert_eq!(
        last_push(&app).await,
        before,
        "unverified notices change nothing"
    );

    // A change at Google, announced twice: one converged state, no duplicates.
    google.state().put_event(cal, google_event("g2", 2));
    google.state().delete_event(cal, "g1");
    assert_eq!(google.notify(cal).await, [200]);
    assert_eq!(google.notify(cal).await, [200]);
    converge(&app, &user, &["g2"]).await;
    assert_ne!(last_push(&app).await, before);

    let res = app
        .post_json("/api/auth/disconnect/google", &json!({}), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        google.state().channels.is_empty(),
        "the channel was stopped"
    );
}

fn graph_event(id: &str, day: u32) -> Value {
    json!({"id": id, "subject": id, "start": {"dateTime": format!("2026-12-{day:02}T09:00:00.0000000"), "timeZone": "UTC"},
        "end": {"dateTime": format!("2026-12-{day:02}T10:00:00.0000000"), "timeZone": "UTC"}})
}

async fn graph_subscriptions_handshake_verify_and_renew(backend: Backend) {
    let microsoft = fakes::microsoft::start("ada@contoso.com").await;
    let cal = microsoft.state().default_calendar_id();
    microsoft.state().put_event(&cal, graph_event("m1", 1));
    let app = app_with(backend, microsoft.env(), false).await;
    let user = app.register_user().await;
    app.oauth_dance("microsoft", &user.token, "allow").await;
    converge(&app, &user, &["m1"]).await;
    wait_until("a subscription", || {
        microsoft.state().subscriptions.len() == 1
    })
    .await;
    let sub = microsoft.state().subscriptions[0].clone();
    assert_eq!(
        sub.notification_url,
        format!("{}/api/webhooks/microsoft", app.address)
    );
    assert_eq!(sub.resource, format!("me/calendars/{cal}/events"));

    // A notification with the wrong clientState: accepted (202), ignored.
    let before = last_push(&app).await;
    microsoft.state().subscriptions[0].client_state = "forged".into();
    assert_eq!(microsoft.notify(&cal).await, [202]);
    assert_eq!(last_push(&app).await, before);
    microsoft.state().subscriptions[0].client_state = sub.client_state.clone();

    microsoft.state().put_event(&cal, graph_event("m2", 2));
    assert_eq!(microsoft.notify(&cal).await, [202]);
    converge(&app, &user, &["m1", "m2"]).await;

    // Lifecycle: reauthorization renews the subscription; removal makes a new one.
    microsoft.state().subscriptions[0].expires = tests::clock::now() + chrono::Duration::minutes(5);
    assert_eq!(
        microsoft.lifecycle(&cal, "reauthorizationRequired").await,
        [202]
    );
    let renewed = microsoft.state().subscriptions[0].expires;
    assert!(
        renewed > tests::clock::now() + chrono::Duration::days(2),
        "{renewed}"
    );
    microsoft.state().subscriptions.clear();
    microsoft.state().subscriptions.push(sub.clone());
    assert_eq!(
        microsoft.lifecycle(&cal, "subscriptionRemoved").await,
        [202]
    );
    assert_eq!(
        microsoft.state().subscriptions.len(),
        2,
        "a fresh subscription"
    );
    let stored: Vec<String> = calendars::Entity::find()
        .all(&app.ctx.db)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| c.channel_id)
        .collect();
    assert_eq!(stored, [microsoft.state().subscriptions[1].id.clone()]);
}

async fn calcom_webhooks_are_verified_by_signature(backend: Backend) {
    let calcom = fakes::calcom::start("ada@cal.example").await;
    let key = calcom.state().issue_api_key();
    let app = app_with(backend, calcom.env(), false).await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/auth/connect/caldotcom",
            &json!({"api_key": key}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    wait_until("a webhook", || calcom.state().webhooks.len() == 1).await;
    let hook = calcom.state().webhooks[0].clone();
    assert!(
        hook.subscriber_url
            .starts_with(&format!("{}/api/webhooks/calcom?calendar=", app.address))
    );
    assert!(hook.secret.as_deref().is_some_and(|s| s.len() >= 32));

    let booking = json!({"uid": "b1", "title": "Intro", "start": "2026-12-07T10:00:00Z", "end": "2026-12-07T10:30:00Z"});
    calcom.state().put_booking(booking.clone());
    // Forged and unsigned deliveries: 200, nothing happens.
    let before = last_push(&app).await;
    let body = serde_json::to_vec(&json!({"triggerEvent": "BOOKING_CREATED", "payload": booking}))
        .unwrap();
    let forged = fakes::calcom::sign("not-the-secret", &body);
    assert_eq!(
        fakes::calcom::deliver_raw(&hook.subscriber_url, &forged, body.clone()).await,
        200
    );
    assert_eq!(
        fakes::calcom::deliver_raw(&hook.subscriber_url, "no-secret-provided", body.clone()).await,
        200
    );
    assert_eq!(last_push(&app).await, before);

    assert_eq!(calcom.deliver("BOOKING_CREATED", booking).await, [200]);
    converge(&app, &user, &["b1"]).await;
    calcom
        .state()
        .put_booking(json!({"uid": "b1", "title": "Intro", "status": "cancelled",
        "start": "2026-12-07T10:00:00Z", "end": "2026-12-07T10:30:00Z"}));
    assert_eq!(
        calcom
            .deliver(
                "BOOKING_CANCELLED",
                json!({"uid": "b1", "status": "CANCELLED"})
            )
            .await,
        [200]
    );
    converge(&app, &user, &[]).await;

    let res = app
        .post_json(
            "/api/auth/disconnect/caldotcom",
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert!(
        calcom.state().webhooks.is_empty(),
        "the webhook was deleted"
    );
}

/// The issue's "done": four sources, changed at the providers and announced nowhere (the schedule
/// alone), then announced by each provider's push; every time events, availability and conflicts
/// converge to what the providers hold.
async fn every_source_converges_through_the_schedule_and_through_pushes(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let microsoft = fakes::microsoft::start("ada@contoso.com").await;
    let calcom = fakes::calcom::start("ada@cal.example").await;
    let ics = fakes::ics::start().await;
    let key = calcom.state().issue_api_key();
    let mscal = microsoft.state().default_calendar_id();
    google
        .state()
        .put_event("ada@example.com", google_event("g1", 1));
    microsoft.state().put_event(&mscal, graph_event("m1", 2));
    calcom.state().put_booking(json!({"uid": "b1", "title": "Intro", "start": "2026-12-03T10:00:00Z", "end": "2026-12-03T10:30:00Z"}));
    ics.state().publish("rota", &feed("r1", "20261204T090000Z"));
    let mut env = google.env();
    env.extend(microsoft.env());
    env.extend(calcom.env());
    let app = app_with(backend, env, true).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    app.oauth_dance("microsoft", &user.token, "allow").await;
    app.post_json(
        "/api/auth/connect/caldotcom",
        &json!({"api_key": key}),
        Some(&user.token),
    )
    .await;
    app.post_json(
        "/api/auth/connect/ics",
        &json!({"url": ics.url("/rota.ics")}),
        Some(&user.token),
    )
    .await;
    converge(&app, &user, &["b1", "g1", "m1", "r1"]).await;
    // Every first sync has finished (a run writes its events before it marks itself done).
    for _ in 0..150 {
        let rows = calendars::Entity::find()
            .filter(calendars::Column::ConnectionId.is_not_null())
            .all(&app.ctx.db)
            .await
            .unwrap();
        if rows.len() == 4
            && rows
                .iter()
                .all(|c| c.sync_lease_until.is_none() && c.last_synced_at.is_some())
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Changes everywhere, announced nowhere.
    google
        .state()
        .put_event("ada@example.com", google_event("g2", 5));
    microsoft.state().delete_event(&mscal, "m1");
    calcom.state().put_booking(json!({"uid": "b2", "title": "Call", "start": "2026-12-06T10:00:00Z", "end": "2026-12-06T10:30:00Z"}));
    ics.state().publish("rota", &feed("r2", "20261207T090000Z"));
    // Fifteen minutes pass (for the schedule's idea of "due").
    calendars::Entity::update_many()
        .col_expr(
            calendars::Column::LastSyncedAt,
            sea_orm::sea_query::Expr::value(Some(
                tests::clock::now() - chrono::Duration::minutes(16),
            )),
        )
        .filter(calendars::Column::ConnectionId.is_not_null())
        .exec(&app.ctx.db)
        .await
        .unwrap();
    converge(&app, &user, &["b1", "b2", "g1", "g2", "r2"]).await;

    // Availability and conflicts see the same truth: b1 and g1 do not overlap, g2 is busy.
    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2026-12-05T00:00:00Z"),
                ("end", "2026-12-06T00:00:00Z"),
                ("duration", "60"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let free: Vec<(&str, &str)> = body["free"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["start"].as_str().unwrap(), f["end"].as_str().unwrap()))
        .collect();
    assert!(
        free.iter()
            .all(|(s, e)| *e <= "2026-12-05T09:00:00Z" || *s >= "2026-12-05T10:00:00Z"),
        "{free:?}"
    );
    assert_eq!(open_conflicts(&app, &user).await, Vec::<Vec<String>>::new());

    // Now through pushes alone (every calendar synced a moment ago, so the schedule stays
    // away): Google and Cal.com both put a meeting on 8 December at ten, Microsoft moves on.
    wait_until("a watch channel", || google.state().channels.len() == 1).await;
    wait_until("a subscription", || {
        microsoft.state().subscriptions.len() == 1
    })
    .await;
    wait_until("a webhook", || calcom.state().webhooks.len() == 1).await;
    google.state().put_event(
        "ada@example.com",
        json!({"id": "g3", "summary": "Review", "start": {"dateTime": "2026-12-08T10:00:00Z"},
            "end": {"dateTime": "2026-12-08T11:00:00Z"}}),
    );
    microsoft.state().put_event(&mscal, graph_event("m3", 9));
    let b3 = json!({"uid": "b3", "title": "Intro", "start": "2026-12-08T10:30:00Z", "end": "2026-12-08T11:00:00Z"});
    calcom.state().put_booking(b3.clone());
    assert_eq!(google.notify("ada@example.com").await, [200]);
    assert_eq!(microsoft.notify(&mscal).await, [202]);
    assert_eq!(calcom.deliver("BOOKING_CREATED", b3).await, [200]);
    converge(
        &app,
        &user,
        &["b1", "b2", "b3", "g1", "g2", "g3", "m3", "r2"],
    )
    .await;
    let pushed = last_push(&app).await.iter().filter(|p| p.is_some()).count();
    assert_eq!(
        pushed, 3,
        "Google, Microsoft and Cal.com each announced their change"
    );
    let mut pair = vec!["b3".to_owned(), "g3".to_owned()];
    pair.sort();
    let mut conflicts = Vec::new();
    for _ in 0..100 {
        conflicts = open_conflicts(&app, &user).await;
        if conflicts == [pair.clone()] {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(conflicts, [pair], "Google's and Cal.com's meetings overlap");
    let busy = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2026-12-08T00:00:00Z"),
                ("end", "2026-12-09T00:00:00Z"),
                ("duration", "30"),
                ("timezone", "UTC"),
            ],
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert!(
        busy["free"].as_array().unwrap().iter().all(|f| {
            f["end"].as_str().unwrap() <= "2026-12-08T10:00:00Z"
                || f["start"].as_str().unwrap() >= "2026-12-08T11:00:00Z"
        }),
        "{busy}"
    );

    // The booking is cancelled and announced: the conflict resolves itself.
    calcom
        .state()
        .put_booking(json!({"uid": "b3", "title": "Intro", "status": "cancelled",
        "start": "2026-12-08T10:30:00Z", "end": "2026-12-08T11:00:00Z"}));
    assert_eq!(
        calcom
            .deliver(
                "BOOKING_CANCELLED",
                json!({"uid": "b3", "status": "CANCELLED"})
            )
            .await,
        [200]
    );
    converge(&app, &user, &["b1", "b2", "g1", "g2", "g3", "m3", "r2"]).await;
    assert_eq!(open_conflicts(&app, &user).await, Vec::<Vec<String>>::new());
}

/// The provider event ids of every open conflict, each pair sorted.
async fn open_conflicts(app: &TestApp, user: &TestUser) -> Vec<Vec<String>> {
    let body: Value = app
        .get_query("/api/conflicts", &user.token, &[("status", "open")])
        .await
        .json()
        .await
        .unwrap();
    body["conflicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let mut ids: Vec<String> = c["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["provider_event_id"].as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            ids
        })
        .collect()
}

fn feed(uid: &str, start: &str) -> String {
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:{uid}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

backend_tests!(
    google_pushes_are_verified_and_trigger_syncs,
    graph_subscriptions_handshake_verify_and_renew,
    calcom_webhooks_are_verified_by_signature,
    every_source_converges_through_the_schedule_and_through_pushes,
);
