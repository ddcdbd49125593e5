use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::{Backend, TestApp, backend_tests};

async fn an_overlap_opens_once_and_resolves_itself_when_moved_away(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let a = app.create_event(&user.token, json!({"title": "Client A call", "start": "2027-01-05T10:00:00+01:00", "end": "2027-01-05T11:00:00+01:00"})).await;
    let b = app.create_event(&user.token, json!({"title": "Client B review", "start": "2027-01-05T10:30:00+01:00", "end": "2027-01-05T11:30:00+01:00"})).await;

    let body: Value = app
        .get_query("/api/conflicts", &user.token, &[("status", "open")])
        .await
        .json()
        .await
        .unwrap();
    let list = body["conflicts"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{body}");
    let c = &list[0];
    assert_eq!(c["kind"], "overlap");
    assert_eq!(c["severity"], "high");
    assert_eq!(c["status"], "open");
    assert_eq!(c["event_ids"], json!([a["id"], b["id"]]));
    assert_eq!(c["events"].as_array().unwrap().len(), 2);
    assert_eq!(c["start"], "2027-01-05T09:30:00Z");
    assert_eq!(c["end"], "2027-01-05T10:00:00Z");

    // The refresh the worker's job runs finds nothing new, and reading again does not
    // duplicate it.
    let user_id: uuid::Uuid = user.id.parse().unwrap();
    let stats = service::conflicts::refresh(&app.ctx, user_id, tests::clock::now())
        .await
        .unwrap();
    assert_eq!(stats, service::conflicts::RefreshStats::default());
    let again: Value = app
        .get("/api/conflicts", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["conflicts"].as_array().unwrap().len(), 1);
    assert_eq!(again["conflicts"][0]["id"], c["id"]);

    // Move B away: the conflict resolves itself.
    let res = app
        .patch_json(
            &format!("/api/events/{}", b["id"].as_str().unwrap()),
            &json!({"start": "2027-01-05T14:00:00+01:00", "end": "2027-01-05T15:00:00+01:00"}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let open: Value = app
        .get_query("/api/conflicts", &user.token, &[("status", "open")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["conflicts"], json!([]));
    let resolved: Value = app
        .get_query("/api/conflicts", &user.token, &[("status", "resolved")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(resolved["conflicts"][0]["id"], c["id"]);
    assert_eq!(resolved["conflicts"][0]["resolution"], "auto");
    assert!(resolved["conflicts"][0]["resolved_at"].is_string());
}

async fn the_worker_detects_conflicts_without_a_read(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    app.create_event(
        &user.token,
        json!({"title": "One", "start": "2027-01-06T10:00:00Z", "end": "2027-01-06T11:00:00Z"}),
    )
    .await;
    app.create_event(&user.token, json!({"title": "Two", "start": "2027-01-06T10:30:00Z", "end": "2027-01-06T11:30:00Z", "status": "tentative"})).await;
    let user_id: uuid::Uuid = user.id.parse().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
        let stored = entity::conflicts::Entity::find()
            .filter(entity::conflicts::Column::UserId.eq(user_id))
            .all(&app.ctx.db)
            .await
            .unwrap();
        if let Some(c) = stored.first() {
            assert_eq!(stored.len(), 1);
            assert_eq!(c.severity, "medium");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the detection job never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn buffers_duplicates_and_user_resolution(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let rules = json!({"weekly": {}, "buffer_after_minutes": 15});
    assert_eq!(
        app.post_json("/api/availability/rules", &rules, Some(&user.token))
            .await
            .status(),
        StatusCode::OK
    );
    app.create_event(
        &user.token,
        json!({"title": "Back", "start": "2027-01-07T10:00:00Z", "end": "2027-01-07T11:00:00Z"}),
    )
    .await;
    app.create_event(
        &user.token,
        json!({"title": "To back", "start": "2027-01-07T11:00:00Z", "end": "2027-01-07T12:00:00Z"}),
    )
    .await;
    // The same meeting twice is a duplicate, not a conflict.
    app.create_event(
        &user.token,
        json!({"title": "Retro", "start": "2027-01-08T10:00:00Z", "end": "2027-01-08T11:00:00Z"}),
    )
    .await;
    app.create_event(
        &user.token,
        json!({"title": " retro ", "start": "2027-01-08T10:00:00Z", "end": "2027-01-08T11:00:00Z"}),
    )
    .await;
    // A free event never conflicts.
    app.create_event(&user.token, json!({"title": "Focus", "start": "2027-01-07T10:30:00Z", "end": "2027-01-07T10:45:00Z", "busy": false})).await;

    let body: Value = app
        .get("/api/conflicts", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    let list = body["conflicts"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{body}");
    assert_eq!(list[0]["kind"], "buffer");
    assert_eq!(list[0]["severity"], "low");
    assert_eq!(list[0]["start"], list[0]["end"], "a zero gap");

    let id = list[0]["id"].as_str().unwrap();
    let res = app
        .post_json(
            &format!("/api/conflicts/{id}/resolve"),
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let resolved: Value = res.json().await.unwrap();
    assert_eq!(resolved["status"], "resolved");
    assert_eq!(resolved["resolution"], "user");
    // A user's decision sticks even though the events still collide.
    let open: Value = app
        .get_query("/api/conflicts", &user.token, &[("status", "open")])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(open["conflicts"], json!([]));
    let res = app
        .get_query("/api/conflicts", &user.token, &[("status", "maybe")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Writers and conflict reads at once (each read refreshes conflicts, a write) never fail with
/// a locked database, and end in one consistent set of conflicts.
async fn concurrent_writes_and_reads_do_not_trip_over_each_other(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (client, url, token) = (app.client.clone(), app.address.clone(), user.token.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"title": format!("Clash {i}"), "start": "2027-01-11T10:00:00Z", "end": "2027-01-11T11:00:00Z"});
            client.post(format!("{url}/api/events")).bearer_auth(&token).json(&body).send().await.unwrap().status()
        }));
        let (client, url, token) = (app.client.clone(), app.address.clone(), user.token.clone());
        tasks.push(tokio::spawn(async move {
            client
                .get(format!("{url}/api/conflicts"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    for t in tasks {
        assert!(t.await.unwrap().is_success());
    }
    let body: Value = app
        .get("/api/conflicts", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    // Eight different meetings at the same time: every pair overlaps once.
    assert_eq!(body["conflicts"].as_array().unwrap().len(), 8 * 7 / 2);
}

/// Refreshes asked for at the same moment share runs: every pair is opened once, by one of
/// them, and none of them waits for another while holding a database connection.
async fn simultaneous_refreshes_share_one_run(backend: Backend) {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    for i in 0..6 {
        app.create_event(&user.token, json!({"title": format!("Clash {i}"), "start": "2027-01-12T10:00:00Z", "end": "2027-01-12T11:00:00Z"})).await;
    }
    let user_id: uuid::Uuid = user.id.parse().unwrap();
    let stored = || async {
        entity::conflicts::Entity::find()
            .filter(entity::conflicts::Column::UserId.eq(user_id))
            .all(&app.ctx.db)
            .await
            .unwrap()
            .len()
    };
    // Let the worker's own runs (one per created event) settle, then forget what they found.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while stored().await != 15 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the worker never detected the clashes"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    entity::conflicts::Entity::delete_many()
        .filter(entity::conflicts::Column::UserId.eq(user_id))
        .exec(&app.ctx.db)
        .await
        .unwrap();

    let runs: Vec<_> = (0..12)
        .map(|_| {
            let ctx = app.ctx.clone();
            tokio::spawn(async move {
                service::conflicts::refresh(&ctx, user_id, tests::clock::now())
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut opened = 0;
    for run in runs {
        opened += run.await.unwrap().opened;
    }
    assert_eq!(opened, 15, "each pair opened by exactly one run");
    assert_eq!(stored().await, 15);
}

backend_tests!(
    simultaneous_refreshes_share_one_run,
    concurrent_writes_and_reads_do_not_trip_over_each_other,
    an_overlap_opens_once_and_resolves_itself_when_moved_away,
    the_worker_detects_conflicts_without_a_read,
    buffers_duplicates_and_user_resolution,
);
