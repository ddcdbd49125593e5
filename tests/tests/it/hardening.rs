//! "Accounts, limits and abuse": tokens that can be revoked, accounts that can be deleted, limits
//! on registering and logging in, outbound addresses, and input that must not get through.

use std::collections::HashMap;

use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use tests::{Backend, TestApp, TestUser, backend_tests, error_code, fakes, test_worker_options};

use crate::auth_extractor::refused_everywhere;

const PASSWORD: &str = "correct horse battery";

async fn spawn(backend: Backend, vars: &[(&str, &str)]) -> TestApp {
    let vars: HashMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    TestApp::spawn_with(backend, vars, test_worker_options()).await
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.post_login(&json!({"email": email, "password": password}))
        .await
}

async fn token_of(res: reqwest::Response) -> String {
    assert_eq!(res.status(), StatusCode::OK);
    res.json::<Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn register_body(email: &str) -> Value {
    json!({"email": email, "password": PASSWORD, "name": "Ada", "timezone": "Europe/Berlin"})
}

async fn logout_revokes_that_token_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let second = token_of(login(&app, &user.email, PASSWORD).await).await;

    let res = app
        .post_json("/api/auth/logout", &json!({}), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    refused_everywhere(&app, &user.token).await;
    // Logging out twice is not a way to learn anything either.
    let res = app
        .post_json("/api/auth/logout", &json!({}), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

    assert_eq!(app.get_me(&second).await.status(), StatusCode::OK);
}

async fn a_password_change_signs_out_every_other_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let other = token_of(login(&app, &user.email, PASSWORD).await).await;
    let change =
        |current: &str, new: &str| json!({"current_password": current, "new_password": new});

    // A wrong current password, a weak new one, a NUL: refused, nothing changes.
    let res = app
        .post_json(
            "/api/me/password",
            &change("not it at all", "a brand new password"),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(res).await, "invalid_credentials");
    let res = app
        .post_json(
            "/api/me/password",
            &change(PASSWORD, "short"),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "weak_password");
    assert_eq!(app.get_me(&other).await.status(), StatusCode::OK);

    let res = app
        .post_json(
            "/api/me/password",
            &change(PASSWORD, "a brand new password"),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.get_me(&user.token).await.status(), StatusCode::OK);
    refused_everywhere(&app, &other).await;
    assert_eq!(
        login(&app, &user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    token_of(login(&app, &user.email, "a brand new password").await).await;
}

async fn deleting_the_account_deletes_everything_it_owns(backend: Backend) {
    let ics = fakes::ics::start().await;
    ics.state().publish(
        "home",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:h@x\r\nDTSTART:20261124T090000Z\r\n\
         DTEND:20261124T100000Z\r\nSUMMARY:Home\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let bystander = app.register_user().await;
    for u in [&user, &bystander] {
        let res = app
            .post_json(
                "/api/auth/connect/ics",
                &json!({"url": ics.url("/home.ics")}),
                Some(&u.token),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        app.create_event(
            &u.token,
            json!({"title": "Mine", "start": "2026-11-25T10:00:00Z", "end": "2026-11-25T11:00:00Z"}),
        )
        .await;
        let res = app
            .post_json("/api/clients", &json!({"name": "Acme"}), Some(&u.token))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let res = app
            .post_json(
                "/api/webhook-endpoints",
                &json!({"url": "https://hooks.example.com/freeslot"}),
                Some(&u.token),
            )
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(
            app.get("/api/feeds", Some(&u.token)).await.status(),
            StatusCode::OK
        );
    }
    let other_session = token_of(login(&app, &user.email, PASSWORD).await).await;

    // The wrong password deletes nothing.
    let res = app
        .client
        .delete(app.url("/api/me"))
        .bearer_auth(&user.token)
        .json(&json!({"password": "not the password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.get_me(&user.token).await.status(), StatusCode::OK);

    let res = app
        .client
        .delete(app.url("/api/me"))
        .bearer_auth(&user.token)
        .json(&json!({"password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    refused_everywhere(&app, &user.token).await;
    refused_everywhere(&app, &other_session).await;
    assert_eq!(
        login(&app, &user.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let id: uuid::Uuid = user.id.parse().unwrap();
    let db = &app.ctx.db;
    macro_rules! rows_of {
        ($table:ident, $user:expr) => {
            entity::$table::Entity::find()
                .filter(entity::$table::Column::UserId.eq($user))
                .count(db)
                .await
                .unwrap()
        };
    }
    assert_eq!(
        [
            rows_of!(calendar_connections, id),
            rows_of!(calendars, id),
            rows_of!(events, id),
            rows_of!(clients, id),
            rows_of!(feed_tokens, id),
            rows_of!(sessions, id),
            rows_of!(audit_log, Some(id)),
            rows_of!(notifications, id),
            rows_of!(webhook_endpoints, id),
            rows_of!(webhook_messages, id),
        ],
        [0; 10]
    );
    assert!(
        entity::users::Entity::find_by_id(id)
            .one(db)
            .await
            .unwrap()
            .is_none()
    );
    // The other account is untouched.
    let kept: uuid::Uuid = bystander.id.parse().unwrap();
    assert!(rows_of!(events, kept) >= 1 && rows_of!(calendars, kept) >= 2);
    assert_eq!(app.get_me(&bystander.token).await.status(), StatusCode::OK);
}

async fn closed_registration_still_lets_the_first_account_in(backend: Backend) {
    let app = spawn(backend, &[("REGISTRATION", "closed")]).await;
    let res = app.post_register(&register_body("owner@example.com")).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app.post_register(&register_body("guest@example.com")).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(res).await, "registration_closed");
    assert_eq!(
        login(&app, "guest@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

async fn registrations_and_logins_are_limited_per_client_address(backend: Backend) {
    let app = spawn(
        backend,
        &[
            ("REGISTER_RATE_PER_HOUR", "3"),
            ("LOGIN_RATE_PER_MINUTE", "4"),
            ("TRUSTED_PROXIES", "127.0.0.1/32"),
        ],
    )
    .await;
    let register_from = |email: String, forwarded: &'static str| {
        let mut req = app
            .client
            .post(app.url("/api/auth/register"))
            .json(&register_body(&email));
        if !forwarded.is_empty() {
            req = req.header("x-forwarded-for", forwarded);
        }
        req.send()
    };
    // Behind the trusted proxy, the right-most untrusted hop is the client: what the client
    // wrote to the left of it changes nothing.
    for n in 0..3 {
        let res = register_from(format!("a{n}@example.com"), "6.6.6.{n}, 198.51.100.7")
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
    }
    let res = register_from("a3@example.com".into(), "198.51.100.7")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=3600).contains(&retry), "{retry}");
    assert_eq!(error_code(res).await, "too_many_requests");
    // Another client is not affected, and the refused attempt created nothing.
    let res = register_from("b0@example.com".into(), "198.51.100.8")
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(
        login(&app, "a3@example.com", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );

    // Logins: four a minute from one address, right or wrong.
    for _ in 0..3 {
        login(&app, "a0@example.com", PASSWORD).await;
    }
    let res = login(&app, "a0@example.com", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(error_code(res).await, "too_many_requests");
}

async fn forty_concurrent_guesses_are_never_more_than_ten_evaluated(backend: Backend) {
    let app = spawn(backend, &[("LOGIN_RATE_PER_MINUTE", "0")]).await;
    let user = app.register_user().await;
    let guesses = (0..40).map(|n| {
        login(
            &app,
            &user.email,
            if n % 2 == 0 {
                "wrong guess one"
            } else {
                "wrong guess two"
            },
        )
    });
    let answers = futures::future::join_all(guesses).await;
    let mut by_status: HashMap<u16, usize> = HashMap::new();
    for res in answers {
        *by_status.entry(res.status().as_u16()).or_default() += 1;
    }
    assert_eq!(by_status.get(&401), Some(&10), "{by_status:?}");
    assert_eq!(by_status.get(&429), Some(&30), "{by_status:?}");
    // Locked now, even for the right password.
    let res = login(&app, &user.email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_code(res).await, "too_many_attempts");
}

/// Kilobytes of `/proc/self/status` field `name` (the app runs in this process).
fn status_kb(name: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

async fn a_hundred_concurrent_logins_stay_within_bounded_memory(backend: Backend) {
    let app = spawn(backend, &[("LOGIN_RATE_PER_MINUTE", "0")]).await;
    let users: Vec<TestUser> =
        futures::future::join_all((0..10).map(|_| app.register_user())).await;
    let before = status_kb("VmRSS:");
    // Resets the peak (VmHWM) to the current size.
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
    let logins = (0..100).map(|n| login(&app, &users[n % 10].email, "a wrong password"));
    let answers = futures::future::join_all(logins).await;
    let peak = status_kb("VmHWM:");
    for res in answers {
        let status = res.status();
        // Each is a verdict, or the queue's "busy" (never a 500, never a hang).
        assert!(
            [
                StatusCode::UNAUTHORIZED,
                StatusCode::TOO_MANY_REQUESTS,
                StatusCode::SERVICE_UNAVAILABLE
            ]
            .contains(&status),
            "{status}"
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert_eq!(error_code(res).await, "busy");
        }
    }
    let grown_mb = peak.saturating_sub(before) / 1024;
    eprintln!("100 concurrent logins: the process grew by {grown_mb} MB at its peak");
    assert!(grown_mb < 200, "the process grew by {grown_mb} MB");
}

async fn internal_addresses_are_refused_and_answers_never_echoed(backend: Backend) {
    let ics = fakes::ics::start().await;
    ics.state()
        .publish("intranet", "SECRET-INTRANET-PAGE redis_version:7.0.15");
    let guarded = spawn(backend.clone(), &[("FEEDS_ALLOW_PRIVATE", "false")]).await;
    let user = guarded.register_user().await;
    let port = url::Url::parse(&ics.url("/")).unwrap().port().unwrap();
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for url in [
        ics.url("/intranet.ics"),
        format!("http://localhost:{port}/intranet.ics"),
        format!("http://[::1]:{port}/intranet.ics"),
        format!("http://127.0.0.1:{closed}/nothing.ics"),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://10.0.0.1/feed.ics".to_owned(),
        format!("webcal://localhost:{port}/intranet.ics"),
    ] {
        let res = guarded
            .post_json(
                "/api/auth/connect/ics",
                &json!({"url": url}),
                Some(&user.token),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        let text = res.text().await.unwrap();
        assert!(text.contains("address_not_allowed"), "{url}: {text}");
        assert!(!text.contains("SECRET"), "{url}: {text}");
    }
    assert!(guarded.calendars(&user.token).await.is_empty());
    assert!(ics.state().requests.is_empty(), "nothing was fetched");

    // Allowed (as the test apps are by default): the body is still never shown.
    let open = TestApp::spawn(backend).await;
    let user = open.register_user().await;
    let res = open
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/intranet.ics")}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let text = res.text().await.unwrap();
    assert!(
        text.contains("invalid_feed") && !text.contains("SECRET"),
        "{text}"
    );
    let res = open
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/missing.ics")}),
            Some(&user.token),
        )
        .await;
    let text = res.text().await.unwrap();
    assert!(!text.contains("no such feed"), "{text}");
}

async fn a_feed_that_moved_inside_is_refused_at_the_next_sync(backend: Backend) {
    let ics = fakes::ics::start().await;
    ics.state().publish(
        "home",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:h@x\r\nDTSTART:20261124T090000Z\r\n\
         DTEND:20261124T100000Z\r\nSUMMARY:Home\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    // Connected while the operator allowed private addresses…
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/home.ics")}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id = res.json::<Value>().await.unwrap()["calendars"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // …then they stopped allowing them: every fetch is checked, not only the first.
    let app = app
        .restart_with(
            HashMap::from([("FEEDS_ALLOW_PRIVATE".to_owned(), "false".to_owned())]),
            test_worker_options(),
        )
        .await;
    let before = ics.state().requests.len();
    let res = app
        .post_json(
            &format!("/api/calendars/{id}/sync"),
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let calendar = loop {
        let calendar = app
            .calendars(&user.token)
            .await
            .into_iter()
            .find(|c| c["id"] == id.as_str())
            .unwrap();
        if calendar["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("internal network"))
        {
            break calendar;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no error recorded: {calendar}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(ics.state().requests.len(), before, "{calendar}");
}

async fn nul_characters_in_text_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    for (path, body) in [
        (
            "/api/events",
            json!({"title": "a\u{0}b", "start": "2026-11-25T10:00:00Z", "end": "2026-11-25T11:00:00Z"}),
        ),
        ("/api/clients", json!({"name": "Ac\u{0}me"})),
    ] {
        let res = app.post_json(path, &body, Some(&user.token)).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(error_code(res).await, "invalid_text", "{path}");
    }
    let res = app.patch_me(&user.token, &json!({"name": "\u{0}"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = app.post_register(&json!({"email": "n@example.com", "password": "correct horse\u{0}battery", "name": "N", "timezone": "UTC"})).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // Nothing was created.
    let events = app
        .get_query(
            "/api/events",
            &user.token,
            &[
                ("start", "2026-11-25T00:00:00Z"),
                ("end", "2026-11-26T00:00:00Z"),
            ],
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(events["events"].as_array().unwrap().len(), 0);
    let clients = app
        .get("/api/clients", Some(&user.token))
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(
        clients.as_array().map_or(0, Vec::len) + clients["clients"].as_array().map_or(0, Vec::len),
        0
    );
    // The characters themselves, escaped, are fine.
    app.create_event(
        &user.token,
        json!({"title": "literally \\u0000", "start": "2026-11-25T10:00:00Z", "end": "2026-11-25T11:00:00Z"}),
    )
    .await;
}

const FEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:h@x\r\n\
    DTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\nSUMMARY:Home\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";

/// Connects `user` to the fake's feed `name`; returns the connection row.
async fn connect_feed(
    app: &TestApp,
    ics: &fakes::ics::FakeIcs,
    user: &TestUser,
    name: &str,
) -> entity::calendar_connections::Model {
    ics.state().publish(name, FEED);
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url(&format!("/{name}.ics"))}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let id: uuid::Uuid = user.id.parse().unwrap();
    entity::calendar_connections::Entity::find()
        .filter(entity::calendar_connections::Column::UserId.eq(id))
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap()
}

async fn set_credentials(app: &TestApp, connection: uuid::Uuid, sealed: &str) {
    use sea_orm::sea_query::Expr;
    entity::calendar_connections::Entity::update_many()
        .col_expr(
            entity::calendar_connections::Column::CredentialsEnc,
            Expr::value(sealed),
        )
        .filter(entity::calendar_connections::Column::Id.eq(connection))
        .exec(&app.ctx.db)
        .await
        .unwrap();
}

async fn a_sealed_value_copied_to_another_row_does_not_open(backend: Backend) {
    let ics = fakes::ics::start().await;
    let app = TestApp::spawn(backend).await;
    let (ada, bea) = (app.register_user().await, app.register_user().await);
    let ada_row = connect_feed(&app, &ics, &ada, "ada-private").await;
    let bea_row = connect_feed(&app, &ics, &bea, "bea").await;
    for user in [&ada, &bea] {
        settled(&app, user).await;
    }
    // Someone with write access to the database moves Ada's sealed feed address to Bea's row.
    set_credentials(
        &app,
        bea_row.id,
        ada_row.credentials_enc.as_deref().unwrap(),
    )
    .await;
    let asked = || {
        ics.state()
            .requests
            .iter()
            .filter(|(n, _)| n == "ada-private")
            .count()
    };
    let before = asked();
    let calendar = app.calendars(&bea.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let res = app
        .post_json(
            &format!("/api/calendars/{calendar}/sync"),
            &json!({}),
            Some(&bea.token),
        )
        .await;
    assert!(res.status().is_success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let c = app.calendars(&bea.token).await.remove(0);
        if c["sync_status"] == "error" || !c["last_error"].is_null() {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sync did not fail: {c}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(asked(), before, "Bea's sync must not fetch Ada's feed");
}

/// Waits until the user's calendars have finished their first sync.
async fn settled(app: &TestApp, user: &TestUser) {
    app.synced_calendars(&user.token).await;
}

/// A value in the format before associated data, as it sits in an older database.
fn legacy_seal(plaintext: &str) -> String {
    use aes_gcm::aead::{Aead, Generate, KeyInit};
    use base64::Engine;
    use sha2::Digest;
    let key = base64::engine::general_purpose::STANDARD
        .decode(tests::TEST_ENCRYPTION_KEY)
        .unwrap();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
    let nonce = aes_gcm::Nonce::generate();
    let mut payload = nonce.to_vec();
    payload.extend(cipher.encrypt(&nonce, plaintext.as_bytes()).unwrap());
    let kid = hex::encode(&sha2::Sha256::digest(&key)[..4]);
    format!(
        "v1.{kid}.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(payload)
    )
}

async fn values_sealed_before_binding_are_resealed_at_start(backend: Backend) {
    let ics = fakes::ics::start().await;
    let app = TestApp::spawn(backend).await;
    let ada = app.register_user().await;
    let row = connect_feed(&app, &ics, &ada, "ada").await;
    let url = ics.url("/ada.ics");
    set_credentials(&app, row.id, &legacy_seal(&url)).await;

    let app = app.restart().await;
    let stored = entity::calendar_connections::Entity::find_by_id(row.id)
        .one(&app.ctx.db)
        .await
        .unwrap()
        .unwrap()
        .credentials_enc
        .unwrap();
    assert!(stored.starts_with("v2."), "{stored}");
    let slot = service::vault::Slot::new(service::vault::Column::ConnectionCredentials, row.id);
    assert_eq!(app.ctx.vault.open(&stored, slot).unwrap(), url);
}

/// A feed is not refused for a NUL in its text (it is not the user's typing): the character is
/// dropped and the event stored, on Postgres too.
async fn nul_characters_from_a_feed_are_dropped(backend: Backend) {
    let ics = fakes::ics::start().await;
    let app = TestApp::spawn(backend).await;
    let ada = app.register_user().await;
    ics.state().publish(
        "nul",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:n\u{0}@x\r\n\
         DTSTART:20261124T090000Z\r\nDTEND:20261124T100000Z\r\nSUMMARY:Ni\u{0}ght\r\n\
         LOCATION:Ro\u{0}om\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/nul.ics")}),
            Some(&ada.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    settled(&app, &ada).await;
    let calendars = app.calendars(&ada.token).await;
    assert!(calendars[0]["last_error"].is_null(), "{calendars:?}");
    let events = app
        .get_query(
            "/api/events",
            &ada.token,
            &[
                ("start", "2026-11-24T00:00:00Z"),
                ("end", "2026-11-25T00:00:00Z"),
            ],
        )
        .await
        .json::<Value>()
        .await
        .unwrap();
    assert_eq!(events["events"][0]["title"], "Night", "{events}");
}

backend_tests!(
    nul_characters_from_a_feed_are_dropped,
    a_sealed_value_copied_to_another_row_does_not_open,
    values_sealed_before_binding_are_resealed_at_start,
    logout_revokes_that_token_only,
    a_password_change_signs_out_every_other_session,
    deleting_the_account_deletes_everything_it_owns,
    closed_registration_still_lets_the_first_account_in,
    registrations_and_logins_are_limited_per_client_address,
    forty_concurrent_guesses_are_never_more_than_ten_evaluated,
    a_hundred_concurrent_logins_stay_within_bounded_memory,
    internal_addresses_are_refused_and_answers_never_echoed,
    a_feed_that_moved_inside_is_refused_at_the_next_sync,
    nul_characters_in_text_are_refused,
);
