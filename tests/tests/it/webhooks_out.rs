//! Signed webhooks (contract, "Notifications": webhooks), through the real HTTP API and worker,
//! to a real receiver; every signature is checked by the reference `standardwebhooks` package.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::receiver::{self, Delivery, ReceiverServer};
use tests::{Backend, TestApp, TestUser, backend_tests, error_code, fakes, test_worker_options};

/// Receivers in these tests live on 127.0.0.1 over plain http.
fn open_env() -> HashMap<String, String> {
    HashMap::from([
        ("WEBHOOK_ALLOW_HTTP".to_owned(), "true".to_owned()),
        ("WEBHOOK_ALLOW_PRIVATE".to_owned(), "true".to_owned()),
    ])
}

async fn open_app(backend: Backend) -> TestApp {
    TestApp::spawn_with(backend, open_env(), test_worker_options()).await
}

/// Creates an endpoint; returns its id and secret.
async fn endpoint(app: &TestApp, user: &TestUser, body: Value) -> (String, String) {
    let res = app
        .post_json("/api/webhook-endpoints", &body, Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    (
        created["id"].as_str().unwrap().to_owned(),
        created["secret"].as_str().unwrap().to_owned(),
    )
}

/// The endpoint as `GET /api/webhook-endpoints/{id}` shows it now.
async fn endpoint_now(app: &TestApp, user: &TestUser, id: &str) -> Value {
    app.get(&format!("/api/webhook-endpoints/{id}"), Some(&user.token))
        .await
        .json()
        .await
        .unwrap()
}

async fn send_test(app: &TestApp, user: &TestUser, id: &str) -> String {
    let res = app
        .post_json(
            &format!("/api/webhook-endpoints/{id}/test"),
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let body: Value = res.json().await.unwrap();
    body["webhook_id"].as_str().unwrap().to_owned()
}

async fn log(app: &TestApp, user: &TestUser, id: &str) -> Vec<Value> {
    let res = app
        .get_query(
            &format!("/api/webhook-endpoints/{id}/deliveries"),
            &user.token,
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["deliveries"].as_array().unwrap().clone()
}

/// Waits until the endpoint's delivery log has `n` entries.
async fn log_of(app: &TestApp, user: &TestUser, id: &str, n: usize) -> Vec<Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let entries = log(app, user, id).await;
        if entries.len() >= n {
            return entries;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log has {entries:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn hook(receiver: &ReceiverServer) -> String {
    receiver.url("/hooks/freeslot")
}

/// A Google grant revoked at Google reaches the receiver as `connection.needs_reauth`, signed,
/// with the feed's id as `webhook-id`; the endpoint that takes only other types gets nothing.
async fn a_revoked_grant_reaches_the_receiver_signed(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let mut env = open_env();
    env.extend(google.env());
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;
    let user = app.register_user().await;
    let receiver = receiver::start().await;
    let other = receiver::start().await;
    let (all_id, secret) = endpoint(&app, &user, json!({"url": hook(&receiver)})).await;
    endpoint(
        &app,
        &user,
        json!({"url": hook(&other), "types": ["export.pushed"]}),
    )
    .await;

    app.oauth_dance("google", &user.token, "allow").await;
    let calendar = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    google.state().oauth.revoke_everything();
    app.sync_calendar(&user.token, &calendar).await;

    let got = receiver::wait_for(&receiver, "connection.needs_reauth", |d| {
        d.iter()
            .any(|d| d.json()["type"] == "connection.needs_reauth")
    })
    .await;
    assert!(receiver::verify(&secret, &got).iter().all(|ok| *ok));
    let told = got
        .iter()
        .find(|d| d.json()["type"] == "connection.needs_reauth")
        .unwrap();
    let body = told.json();
    assert_eq!(
        body["data"],
        json!({"provider": "google", "account": "ada@example.com", "calendar_ids": [calendar]})
    );
    assert!(body["timestamp"].as_str().is_some(), "{body}");
    assert_eq!(body.as_object().unwrap().len(), 3, "type, timestamp, data");
    let feed: Value = app
        .get_query("/api/notifications", &user.token, &[])
        .await
        .json()
        .await
        .unwrap();
    let in_feed = feed["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["type"] == "connection.needs_reauth")
        .cloned()
        .unwrap();
    assert_eq!(in_feed["id"].as_str(), Some(told.id.as_str()));
    assert_eq!(in_feed["data"], body["data"]);

    let entries = log_of(&app, &user, &all_id, got.len()).await;
    assert!(
        entries
            .iter()
            .all(|e| e["status_code"] == 200 && e["error"].is_null())
    );
    assert!(
        entries
            .iter()
            .any(|e| e["notification_id"] == in_feed["id"])
    );
    assert!(other.state().received.is_empty(), "types are respected");
}

/// A receiver that fails twice, then answers: the same `webhook-id` three times, 5 s and 5 min
/// apart by the app's clock, each signed; the log shows all three, newest first.
async fn a_failing_receiver_gets_the_same_id_until_it_answers(backend: Backend) {
    let app = open_app(backend).await;
    let user = app.register_user().await;
    let receiver = receiver::start().await;
    receiver.state().answers.extend([500, 503]);
    let (id, secret) = endpoint(&app, &user, json!({"url": hook(&receiver)})).await;
    let sent = send_test(&app, &user, &id).await;

    // Each verified on arrival: the verifier refuses timestamps five minutes old.
    let first = receiver::wait_for(&receiver, "the first attempt", |d| d.len() == 1).await;
    assert_eq!(receiver::verify(&secret, &first), [true]);
    log_of(&app, &user, &id, 1).await;
    tests::clock::clock().advance(chrono::Duration::seconds(5));
    let second = receiver::wait_for(&receiver, "the retry after 5 s", |d| d.len() == 2).await;
    assert_eq!(receiver::verify(&secret, &second[1..]), [true]);
    log_of(&app, &user, &id, 2).await;
    // The next retry waits five minutes.
    tests::clock::clock().advance(chrono::Duration::minutes(5));
    let got = receiver::wait_for(&receiver, "the retry after 5 min", |d| d.len() == 3).await;

    assert!(got.iter().all(|d| d.id == sent), "{got:#?}");
    assert_eq!(got[0].json()["type"], "webhook.test");
    assert!(got.iter().all(|d| d.body == got[0].body), "the same body");
    assert_eq!(receiver::verify(&secret, &got[2..]), [true]);
    let entries = log_of(&app, &user, &id, 3).await;
    let summary: Vec<(i64, i64)> = entries
        .iter()
        .map(|e| {
            (
                e["attempt"].as_i64().unwrap(),
                e["status_code"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(summary, [(3, 200), (2, 503), (1, 500)]);
    assert!(
        entries[1]["error"]
            .as_str()
            .is_some_and(|e| e.contains("503"))
    );
    assert!(entries.iter().all(|e| e["duration_ms"].as_i64().is_some()));
    // A new message has an id of its own.
    send_test(&app, &user, &id).await;
    let got = receiver::wait_for(&receiver, "the next test", |d| d.len() == 4).await;
    assert_ne!(got[3].id, sent);
}

/// `410 Gone` turns the endpoint off and tells the user — in the feed and at their other
/// endpoint — and the endpoint receives nothing more.
async fn gone_disables_the_endpoint(backend: Backend) {
    let app = open_app(backend).await;
    let user = app.register_user().await;
    let gone = receiver::start().await;
    gone.state().answers.push_back(410);
    let watcher = receiver::start().await;
    let (id, _) = endpoint(&app, &user, json!({"url": hook(&gone)})).await;
    let (_, watcher_secret) = endpoint(
        &app,
        &user,
        json!({"url": hook(&watcher), "types": ["webhook.disabled"]}),
    )
    .await;
    send_test(&app, &user, &id).await;

    let told = receiver::wait_for(&watcher, "webhook.disabled", |d| !d.is_empty()).await;
    assert_eq!(receiver::verify(&watcher_secret, &told), [true]);
    let body = told[0].json();
    assert_eq!(body["type"], "webhook.disabled");
    assert_eq!(body["data"]["endpoint_id"], id);
    assert!(body["data"]["reason"].as_str().unwrap().contains("410"));
    let now: Value = endpoint_now(&app, &user, &id).await;
    assert_eq!(now["enabled"], false);
    assert!(now["disabled_reason"].as_str().unwrap().contains("410"));
    let res = app
        .post_json(
            &format!("/api/webhook-endpoints/{id}/test"),
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(error_code(res).await, "endpoint_disabled");
    let feed: Value = app
        .get_query("/api/notifications", &user.token, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(feed["notifications"][0]["type"], "webhook.disabled");
    assert_eq!(gone.state().received.len(), 1);
    // Turned on again by its owner, it receives again.
    let res = app
        .patch_json(
            &format!("/api/webhook-endpoints/{id}"),
            &json!({"enabled": true}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["enabled"], true);
    assert!(body["disabled_reason"].is_null());
    send_test(&app, &user, &id).await;
    receiver::wait_for(&gone, "a delivery after re-enabling", |d| d.len() == 2).await;
}

/// Five days of failures with nothing delivered turn an endpoint off; one success resets the count.
async fn five_days_of_failures_disable_the_endpoint(backend: Backend) {
    let app = open_app(backend).await;
    let user = app.register_user().await;
    let receiver = receiver::start().await;
    receiver.state().answers.extend([500, 200, 500]);
    let (id, _) = endpoint(&app, &user, json!({"url": hook(&receiver)})).await;
    let clock = tests::clock::clock();

    // Fails, then (5 s later) arrives: the endpoint is healthy again.
    send_test(&app, &user, &id).await;
    log_of(&app, &user, &id, 1).await;
    clock.advance(chrono::Duration::seconds(5));
    log_of(&app, &user, &id, 2).await;
    // Fails; a day short of five later, another failure leaves it on.
    clock.advance(chrono::Duration::hours(1));
    let user = app.login(&user).await;
    send_test(&app, &user, &id).await;
    log_of(&app, &user, &id, 3).await;
    receiver.state().answers.extend([500; 20]);
    clock.advance(chrono::Duration::days(4));
    let user = app.login(&user).await;
    let before = log(&app, &user, &id).await.len();
    send_test(&app, &user, &id).await;
    log_of(&app, &user, &id, before + 1).await;
    let on: Value = endpoint_now(&app, &user, &id).await;
    assert_eq!(on["enabled"], true);
    // Five days after the first failure since the last success, the next failed attempt (the
    // retries still due) turns it off.
    clock.advance(chrono::Duration::days(1));
    let user = app.login(&user).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let off = loop {
        let now: Value = endpoint_now(&app, &user, &id).await;
        if now["enabled"] == false {
            break now;
        }
        assert!(std::time::Instant::now() < deadline, "still on: {now}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(off["disabled_reason"].as_str().unwrap().contains("5 days"));
    let feed: Value = app
        .get_query("/api/notifications", &user.token, &[])
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(feed["notifications"][0]["type"], "webhook.disabled");
    assert_eq!(feed["notifications"][0]["data"]["endpoint_id"], id);
}

/// After a rotation deliveries carry both signatures for 24 hours, then only the new one.
async fn a_rotated_secret_signs_beside_the_old_one_for_a_day(backend: Backend) {
    let app = open_app(backend).await;
    let user = app.register_user().await;
    let receiver = receiver::start().await;
    let (id, old) = endpoint(&app, &user, json!({"url": hook(&receiver)})).await;
    let res = app
        .post_json(
            &format!("/api/webhook-endpoints/{id}/rotate-secret"),
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap().to_owned();
    assert!(new.starts_with("whsec_") && new != old);

    send_test(&app, &user, &id).await;
    let got = receiver::wait_for(&receiver, "a delivery", |d| d.len() == 1).await;
    assert_eq!(got[0].signature.split(' ').count(), 2, "{:?}", got[0]);
    assert_eq!(receiver::verify(&old, &got), [true]);
    assert_eq!(receiver::verify(&new, &got), [true]);

    tests::clock::clock().advance(chrono::Duration::hours(25));
    let user = app.login(&user).await;
    send_test(&app, &user, &id).await;
    let got: Vec<Delivery> =
        receiver::wait_for(&receiver, "a delivery a day later", |d| d.len() == 2)
            .await
            .split_off(1);
    assert_eq!(got[0].signature.split(' ').count(), 1);
    assert_eq!(receiver::verify(&old, &got), [false]);
    assert_eq!(receiver::verify(&new, &got), [true]);
}

/// Endpoints are the caller's own; bad input is a 422 that changes nothing; the secret is only
/// in the answers to creation and rotation, never in the audit log.
async fn endpoints_are_managed_and_validated(backend: Backend) {
    let app = open_app(backend).await;
    let user = app.register_user().await;
    let stranger = app.register_user().await;
    for (body, code) in [
        (json!({}), "invalid_url"),
        (json!({"url": "not a url"}), "invalid_url"),
        (json!({"url": "ftp://hooks.example.com/"}), "invalid_url"),
        (
            json!({"url": "https://hooks.example.com/", "types": []}),
            "invalid_types",
        ),
        (
            json!({"url": "https://hooks.example.com/", "types": ["calendar.exploded"]}),
            "invalid_types",
        ),
    ] {
        let res = app
            .post_json("/api/webhook-endpoints", &body, Some(&user.token))
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        assert_eq!(error_code(res).await, code, "{body}");
    }
    let list: Value = app
        .get("/api/webhook-endpoints", Some(&user.token))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!({"webhook_endpoints": []}));

    let res = app
        .post_json(
            "/api/webhook-endpoints",
            &json!({"url": "https://hooks.example.com/a", "types": ["calendar.synced", "calendar.synced"], "description": "CRM"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert_eq!(created["types"], json!(["calendar.synced"]));
    assert_eq!(created["enabled"], true);
    assert_eq!(created["description"], "CRM");
    assert!(created["created_at"].as_str().is_some());

    let one: Value = endpoint_now(&app, &user, &id).await;
    assert!(one.get("secret").is_none(), "{one}");
    let res = app
        .patch_json(
            &format!("/api/webhook-endpoints/{id}"),
            &json!({"types": null, "enabled": false}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["enabled"], false);
    assert!(
        patched["types"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t == "connection.needs_reauth"),
        "null means every type: {patched}"
    );
    let res = app
        .patch_json(
            &format!("/api/webhook-endpoints/{id}"),
            &json!({"url": "gopher://x"}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let still: Value = endpoint_now(&app, &user, &id).await;
    assert_eq!(still["url"], "https://hooks.example.com/a");

    // Another user's endpoint does not exist for them.
    for res in [
        app.get(
            &format!("/api/webhook-endpoints/{id}"),
            Some(&stranger.token),
        )
        .await,
        app.delete(&format!("/api/webhook-endpoints/{id}"), &stranger.token)
            .await,
        app.get_query(
            &format!("/api/webhook-endpoints/{id}/deliveries"),
            &stranger.token,
            &[],
        )
        .await,
    ] {
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }

    let audit = app
        .get_query("/api/audit", &user.token, &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(audit.contains("webhook_endpoint.created"), "{audit}");
    assert!(!audit.contains(&secret), "no secret in the audit log");

    let res = app
        .delete(&format!("/api/webhook-endpoints/{id}"), &user.token)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let res = app
        .get(&format!("/api/webhook-endpoints/{id}"), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

/// Without `WEBHOOK_ALLOW_HTTP`/`WEBHOOK_ALLOW_PRIVATE`: plain http and internal addresses are
/// refused at creation (in every spelling), and again at delivery for an endpoint saved when
/// they were allowed.
async fn internal_addresses_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    for (url, code) in [
        ("http://hooks.example.com/", "insecure_url"),
        ("https://127.0.0.1/hook", "private_address"),
        ("https://localhost/hook", "private_address"),
        ("https://0x7f000001/hook", "private_address"),
        ("https://[::1]/hook", "private_address"),
        ("https://[::ffff:10.0.0.1]/hook", "private_address"),
        (
            "https://169.254.169.254/latest/meta-data",
            "private_address",
        ),
        ("https://192.168.1.10/hook", "private_address"),
        ("https://user:pass@hooks.example.com/", "invalid_url"),
    ] {
        let res = app
            .post_json(
                "/api/webhook-endpoints",
                &json!({"url": url}),
                Some(&user.token),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], code, "{url}: {body}");
    }

    // An endpoint saved under laxer settings (written here directly) is refused at delivery.
    let receiver = receiver::start().await;
    let created = app
        .post_json(
            "/api/webhook-endpoints",
            &json!({"url": "https://hooks.example.com/"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let id: String = created.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    use sea_orm::{ActiveModelTrait, EntityTrait, Set};
    let row = entity::webhook_endpoints::Entity::find_by_id(id.parse::<uuid::Uuid>().unwrap())
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap();
    let mut row: entity::webhook_endpoints::ActiveModel = row.into();
    row.url = Set(receiver.url("/hook").replace("http://", "https://"));
    row.update(&app.ctx.db).await.unwrap();
    send_test(&app, &user, &id).await;
    let entries = log_of(&app, &user, &id, 1).await;
    assert!(entries[0]["status_code"].is_null());
    assert!(
        entries[0]["error"]
            .as_str()
            .unwrap()
            .contains("internal network"),
        "{entries:?}"
    );
    assert!(receiver.state().received.is_empty());
}

/// A receiver that does not answer holds only its own delivery: another endpoint's arrives
/// while the first is still waiting.
async fn a_slow_receiver_holds_nobody_else(backend: Backend) {
    let app = open_app(backend).await;
    let user = app.register_user().await;
    let slow = receiver::start().await;
    slow.state().delay = Some(Duration::from_secs(8));
    let fast = receiver::start().await;
    let (slow_id, _) = endpoint(&app, &user, json!({"url": hook(&slow)})).await;
    let (fast_id, _) = endpoint(&app, &user, json!({"url": hook(&fast)})).await;
    send_test(&app, &user, &slow_id).await;
    receiver::wait_for(&slow, "the slow receiver's request", |d| d.len() == 1).await;
    send_test(&app, &user, &fast_id).await;
    receiver::wait_for(&fast, "the fast receiver's request", |d| d.len() == 1).await;
    log_of(&app, &user, &fast_id, 1).await;
    assert!(
        log(&app, &user, &slow_id).await.is_empty(),
        "the slow delivery is still waiting for its answer"
    );
}

/// A delivery whose job was lost (a worker killed after taking it) is sent once its lease lapses.
async fn a_lost_delivery_job_only_delays(backend: Backend) {
    let app = open_app(backend).await;
    let user = app.register_user().await;
    let receiver = receiver::start().await;
    let (id, secret) = endpoint(&app, &user, json!({"url": hook(&receiver)})).await;
    // A message leased by a job that died: written as such, so no job holds it.
    use sea_orm::{ActiveModelTrait, Set};
    let now = tests::clock::now();
    entity::webhook_messages::ActiveModel {
        id: Set(uuid::Uuid::now_v7()),
        endpoint_id: Set(id.parse().unwrap()),
        user_id: Set(user.id.parse().unwrap()),
        webhook_id: Set("000000000042".into()),
        kind: Set("calendar.synced".into()),
        body: Set(
            r#"{"type":"calendar.synced","timestamp":"2026-11-23T07:00:00Z","data":{}}"#.into(),
        ),
        attempts: Set(0),
        state: Set("pending".into()),
        next_attempt_at: Set(Some(now)),
        queued_until: Set(Some(now + chrono::Duration::minutes(2))),
        created_at: Set(now),
    }
    .insert(&app.ctx.db)
    .await
    .unwrap();
    tests::clock::clock().advance(chrono::Duration::minutes(2) + chrono::Duration::seconds(1));
    let got =
        receiver::wait_for(&receiver, "the delivery after the lease", |d| !d.is_empty()).await;
    assert_eq!(got[0].id, "000000000042");
    assert_eq!(receiver::verify(&secret, &got), [true]);
}

backend_tests!(
    a_lost_delivery_job_only_delays,
    a_revoked_grant_reaches_the_receiver_signed,
    a_failing_receiver_gets_the_same_id_until_it_answers,
    gone_disables_the_endpoint,
    five_days_of_failures_disable_the_endpoint,
    a_rotated_secret_signs_beside_the_old_one_for_a_day,
    endpoints_are_managed_and_validated,
    internal_addresses_are_refused,
    a_slow_receiver_holds_nobody_else,
);
