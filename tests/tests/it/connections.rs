//! Connecting calendars through the HTTP API, against the fake providers.

use std::collections::HashMap;
use std::time::Duration;

use entity::{calendar_connections, oauth_states};
use reqwest::StatusCode;
use sea_orm::{EntityTrait, QuerySelect};
use serde_json::{Value, json};
use tests::fakes::{self, Fault};
use tests::{Backend, TestApp, backend_tests, error_code, test_worker_options};

async fn app_with(backend: Backend, env: Vec<(String, String)>) -> TestApp {
    TestApp::spawn_with(backend, env.into_iter().collect(), test_worker_options()).await
}

/// Every stored connection row as text, to search for secrets.
async fn raw_connections(app: &TestApp) -> String {
    let rows = calendar_connections::Entity::find()
        .into_json()
        .all(&app.ctx.db)
        .await
        .unwrap();
    serde_json::to_string(&rows).unwrap()
}

async fn google_connects_through_consent_and_lists_calendars(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    google
        .state()
        .add_calendar("team@group.calendar.google.com", "Team");
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;

    let dance = app.oauth_dance("google", &user.token, "allow").await;
    assert_eq!(dance.landing_param("connected").as_deref(), Some("google"));
    assert_eq!(
        dance.landing.origin(),
        url::Url::parse(&app.address).unwrap().origin()
    );

    let asked: HashMap<String, String> =
        dance.authorization_url.query_pairs().into_owned().collect();
    assert_eq!(
        asked["redirect_uri"],
        format!("{}/api/auth/callback/google", app.address)
    );
    assert_eq!(asked["code_challenge_method"], "S256");
    assert_eq!(asked["access_type"], "offline");
    assert_eq!(asked["prompt"], "consent");
    assert!(
        asked["scope"]
            .split(' ')
            .any(|s| s == "https://www.googleapis.com/auth/calendar.readonly")
    );
    assert!(asked["state"].len() >= 22, "at least 128 bits of state");
    {
        let fake = google.state();
        let exchange = &fake.oauth.token_log[0];
        assert_eq!(exchange["grant_type"], "authorization_code");
        assert_eq!(
            exchange["client_secret"], fake.oauth.client_secret,
            "secret in the form body"
        );
        assert!(exchange.contains_key("code_verifier"));
    }

    let calendars = app.calendars(&user.token).await;
    assert_eq!(calendars.len(), 2, "{calendars:?}");
    let names: Vec<&str> = calendars
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ada@example.com") && names.contains(&"Team"));
    for c in &calendars {
        assert_eq!(c["provider"], "google");
        assert_eq!(c["account"], "ada@example.com");
        assert_eq!(c["connection_status"], "active");
        assert_eq!(c["include_in_availability"], true);
        // The first sync was queued at connect; it may have run already.
        let status = c["sync_status"].as_str().unwrap();
        assert!(["queued", "syncing", "idle"].contains(&status), "{status}");
        assert!(c["last_error"].is_null());
    }

    // Nothing secret is stored in plain text: neither tokens nor the PKCE verifier.
    let raw = raw_connections(&app).await;
    let tokens = google.state().oauth.all_tokens();
    assert!(tokens.len() >= 2);
    for token in tokens {
        assert!(!raw.contains(&token), "a token is stored in plain text");
    }
    let verifier = google.state().oauth.token_log[0]["code_verifier"].clone();
    let states = oauth_states::Entity::find()
        .into_json()
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert!(!serde_json::to_string(&states).unwrap().contains(&verifier));
}

async fn reconnecting_updates_the_connection_instead_of_duplicating_it(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    google.state().add_calendar("team@group", "Team");
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let first = app.calendars(&user.token).await;
    let team = first.iter().find(|c| c["name"] == "Team").unwrap();
    let res = app
        .patch_json(
            &format!("/api/calendars/{}", team["id"].as_str().unwrap()),
            &json!({"name": "Client A", "include_in_availability": false}),
            &user.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    // The team calendar goes away at Google; a new one appears.
    google.state().calendars.retain(|c| c.id != "team@group");
    google.state().add_calendar("other@group", "Other");
    google.state().add_calendar("team@group", "Team");
    let dance = app.oauth_dance("google", &user.token, "allow").await;
    assert_eq!(dance.landing_param("connected").as_deref(), Some("google"));
    let second = app.calendars(&user.token).await;
    assert_eq!(second.len(), 3, "{second:?}");
    let rows = calendar_connections::Entity::find()
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one connection per account");
    let kept = second
        .iter()
        .find(|c| c["id"] == team["id"])
        .expect("same calendar id");
    assert_eq!(
        kept["name"], "Client A",
        "the user's choices survive a reconnect"
    );
    assert_eq!(kept["include_in_availability"], false);
}

async fn a_denied_consent_lands_with_access_denied(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    let dance = app.oauth_dance("google", &user.token, "deny").await;
    assert_eq!(
        dance.landing_param("error").as_deref(),
        Some("access_denied")
    );
    assert_eq!(dance.landing_param("provider").as_deref(), Some("google"));
    assert!(app.calendars(&user.token).await.is_empty());
    assert!(
        google.state().oauth.token_log.is_empty(),
        "no exchange after a denial"
    );
}

async fn a_state_works_once_and_only_for_its_flow(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;

    let url = app.authorization_url("google", &user.token).await;
    let callback = app.consent(&url, "allow").await;
    let first = app.follow_callback(&callback).await;
    assert!(first.query().unwrap().contains("connected=google"));
    let replay = app.follow_callback(&callback).await;
    assert!(
        replay.query().unwrap().contains("error=invalid_state"),
        "{replay}"
    );

    let forged = format!(
        "{}/api/auth/callback/google?code=abc&state=made-up",
        app.address
    );
    let landing = app.follow_callback(&forged).await;
    assert!(landing.query().unwrap().contains("error=invalid_state"));
    let bare = format!("{}/api/auth/callback/google", app.address);
    let landing = app.follow_callback(&bare).await;
    assert!(landing.query().unwrap().contains("error=invalid_request"));

    // A state issued for Google does not finish a Microsoft flow.
    let url = app.authorization_url("google", &user.token).await;
    let callback = app.consent(&url, "allow").await;
    let crossed = callback.replace("/callback/google", "/callback/microsoft");
    let landing = app.follow_callback(&crossed).await;
    assert!(landing.query().unwrap().contains("error="), "{landing}");
}

/// An attacker starts a flow in their own browser and sends the consent link to a victim: the
/// victim's browser has no binding cookie, so the callback refuses the state and nothing is
/// attached to the attacker's account (nor can a stranger's cookie stand in for the right one).
async fn a_state_finishes_only_in_the_browser_that_started_it(backend: Backend) {
    let google = fakes::google::start("victim@example.com").await;
    let app = app_with(backend, google.env()).await;
    let attacker = app.register_user().await;
    let url = app.authorization_url("google", &attacker.token).await;
    let attackers_cookie = app.oauth_cookie().unwrap();
    // The victim consents and comes back, without the cookie.
    let callback = app.consent(&url, "allow").await;
    let landing = app.follow_callback_with(&callback, None).await;
    assert!(
        landing.query().unwrap().contains("error=invalid_state"),
        "{landing}"
    );
    // With another browser's cookie: refused too.
    let stranger = app.register_user().await;
    app.new_browser();
    app.authorization_url("google", &stranger.token).await;
    let strangers_cookie = app.oauth_cookie().unwrap();
    assert_ne!(
        strangers_cookie, attackers_cookie,
        "a fresh browser gets a fresh binding"
    );
    let landing = app
        .follow_callback_with(&callback, Some(&strangers_cookie))
        .await;
    assert!(
        landing.query().unwrap().contains("error=invalid_state"),
        "{landing}"
    );
    assert!(app.calendars(&attacker.token).await.is_empty());
    assert!(
        google.state().oauth.token_log.is_empty(),
        "no code was exchanged"
    );
    // The browser that started it still can (a refused attempt does not use the state up).
    let landing = app
        .follow_callback_with(&callback, Some(&attackers_cookie))
        .await;
    assert!(
        landing.query().unwrap().contains("connected=google"),
        "{landing}"
    );
}

async fn an_expired_state_is_refused(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    let url = app.authorization_url("google", &user.token).await;
    let callback = app.consent(&url, "allow").await;
    // Eleven minutes pass (the clock is the database's expiry column).
    oauth_states::Entity::update_many()
        .col_expr(
            oauth_states::Column::ExpiresAt,
            sea_orm::sea_query::Expr::value(tests::clock::now() - chrono::Duration::minutes(1)),
        )
        .exec(&app.ctx.db)
        .await
        .unwrap();
    let landing = app.follow_callback(&callback).await;
    assert!(
        landing.query().unwrap().contains("error=state_expired"),
        "{landing}"
    );
    assert!(app.calendars(&user.token).await.is_empty());
}

async fn a_code_injected_into_another_flow_fails_pkce(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    // An attacker's code (flow A) delivered with the victim's state (flow B).
    let a = app.authorization_url("google", &user.token).await;
    let b = app.authorization_url("google", &user.token).await;
    let callback_a = url::Url::parse(&app.consent(&a, "allow").await).unwrap();
    let code_a = callback_a
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let state_b = b
        .query_pairs()
        .find(|(k, _)| k == "state")
        .unwrap()
        .1
        .into_owned();
    let injected = format!(
        "{}/api/auth/callback/google?code={code_a}&state={state_b}",
        app.address
    );
    let landing = app.follow_callback(&injected).await;
    assert!(
        landing.query().unwrap().contains("error=invalid_grant"),
        "{landing}"
    );
    assert!(app.calendars(&user.token).await.is_empty());
}

async fn a_failed_token_exchange_is_reported_not_a_500(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    google.state().oauth.token_faults.push(Fault::ServerError);
    let dance = app.oauth_dance("google", &user.token, "allow").await;
    assert_eq!(
        dance.landing_param("error").as_deref(),
        Some("token_exchange_failed")
    );
    assert!(app.calendars(&user.token).await.is_empty());
}

async fn connect_needs_a_configured_provider_and_a_login(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let res = app.get("/api/auth/connect/google", Some(&user.token)).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "provider_disabled");
    let res = app
        .get("/api/auth/connect/caldotcom", Some(&user.token))
        .await;
    assert_eq!(error_code(res).await, "provider_disabled");
    let res = app
        .get("/api/auth/connect/myspace", Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app.get("/api/auth/connect/google", None).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
}

async fn connect_can_redirect_the_browser_itself(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    let res = app
        .get("/api/auth/connect/google?redirect=true", Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::FOUND);
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&google.url("/o/oauth2/v2/auth?")),
        "{location}"
    );
}

async fn microsoft_uses_the_tenant_and_retries_once_after_a_401(backend: Backend) {
    let microsoft = fakes::microsoft::start("ada@contoso.com").await;
    microsoft.state().add_calendar("AAMkSecond=", "Client B");
    let mut env = microsoft.env();
    env.push(("MICROSOFT_TENANT_ID".into(), "contoso-tenant".into()));
    let app = app_with(backend, env).await;
    let user = app.register_user().await;
    // The first Graph call refuses the brand-new token: freeslot refreshes once and goes on.
    microsoft.state().api_faults.push(Fault::Unauthorized);
    let dance = app.oauth_dance("microsoft", &user.token, "allow").await;
    assert_eq!(
        dance.landing_param("connected").as_deref(),
        Some("microsoft")
    );
    let asked: HashMap<String, String> =
        dance.authorization_url.query_pairs().into_owned().collect();
    let scopes: Vec<&str> = asked["scope"].split(' ').collect();
    for s in ["offline_access", "Calendars.Read", "User.Read"] {
        assert!(scopes.contains(&s), "{scopes:?}");
    }
    {
        let fake = microsoft.state();
        assert!(
            fake.tenants.iter().all(|t| t == "contoso-tenant"),
            "{:?}",
            fake.tenants
        );
        let grants: Vec<&str> = fake
            .oauth
            .token_log
            .iter()
            .map(|f| f["grant_type"].as_str())
            .collect();
        assert_eq!(grants, ["authorization_code", "refresh_token"]);
    }
    let calendars = app.calendars(&user.token).await;
    assert_eq!(calendars.len(), 2);
    assert!(calendars.iter().all(|c| c["account"] == "ada@contoso.com"));
}

/// The refresh schedule runs every second here.
fn fast_refresh() -> worker::WorkerOptions {
    let mut options = test_worker_options();
    options.token_refresh_schedule = "* * * * * *".to_owned();
    options
}

async fn wait_for<F: Fn() -> bool>(what: &str, check: F) {
    for _ in 0..300 {
        if check() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn rotated_refresh_tokens_are_stored_and_a_revoked_grant_needs_reauth(backend: Backend) {
    let microsoft = fakes::microsoft::start("ada@contoso.com").await;
    // Tokens that live a minute are always "about to expire": the schedule refreshes them.
    microsoft.state().oauth.expires_in = 60;
    let app = TestApp::spawn_with(
        backend,
        microsoft.env().into_iter().collect(),
        fast_refresh(),
    )
    .await;
    let user = app.register_user().await;
    app.oauth_dance("microsoft", &user.token, "allow").await;

    wait_for("two refreshes", || {
        microsoft
            .state()
            .oauth
            .token_log
            .iter()
            .filter(|f| f["grant_type"] == "refresh_token")
            .count()
            >= 2
    })
    .await;
    {
        let fake = microsoft.state();
        let refreshes: Vec<&HashMap<String, String>> = fake
            .oauth
            .token_log
            .iter()
            .filter(|f| f["grant_type"] == "refresh_token")
            .collect();
        assert_ne!(
            refreshes[0]["refresh_token"], refreshes[1]["refresh_token"],
            "the second refresh uses the token the first one rotated in"
        );
    }

    microsoft.state().oauth.revoke_everything();
    let mut status = Value::Null;
    for _ in 0..100 {
        let calendars = app.calendars(&user.token).await;
        status = calendars[0].clone();
        if status["connection_status"] == "needs_reauth" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status["connection_status"], "needs_reauth", "{status}");
    assert!(
        status["last_error"].as_str().unwrap().contains("refresh"),
        "{status}"
    );
    // Never retried: the token endpoint hears nothing more.
    let seen = microsoft.state().oauth.token_log.len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(microsoft.state().oauth.token_log.len(), seen);

    // Connecting again heals it.
    microsoft.state().oauth.expires_in = 3600;
    app.oauth_dance("microsoft", &user.token, "allow").await;
    let calendars = app.calendars(&user.token).await;
    assert_eq!(calendars[0]["connection_status"], "active");
}

async fn google_keeps_its_refresh_token_and_old_keys_still_open_it(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let old_key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
    let new_key = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=";
    let mut env: HashMap<String, String> = google.env().into_iter().collect();
    env.insert("TOKEN_ENCRYPTION_KEY".into(), old_key.into());
    // Tokens that live a minute are due for the refresh schedule (off in the first run).
    google.state().oauth.expires_in = 60;
    let app = TestApp::spawn_with(backend, env.clone(), test_worker_options()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let before = raw_connections(&app).await;

    // The key is rotated; the old one is kept for reading.
    let _ = env;
    let changed = HashMap::from([
        ("TOKEN_ENCRYPTION_KEY".to_owned(), new_key.to_owned()),
        ("TOKEN_ENCRYPTION_KEYS_OLD".to_owned(), old_key.to_owned()),
    ]);
    // The first run may have refreshed too (its first sync found the token about to expire).
    let refreshes = |fake: &tests::fakes::google::FakeGoogle| {
        fake.state()
            .oauth
            .token_log
            .iter()
            .filter(|f| f["grant_type"] == "refresh_token")
            .count()
    };
    let earlier = refreshes(&google);
    let second = app.restart_with(changed, fast_refresh()).await;
    wait_for("two refreshes by the restarted app", || {
        refreshes(&google) >= earlier + 2
    })
    .await;
    {
        let fake = google.state();
        let issued: Vec<&String> = fake.oauth.refresh_tokens.keys().collect();
        assert_eq!(issued.len(), 1, "Google never rotates");
        for f in fake
            .oauth
            .token_log
            .iter()
            .filter(|f| f["grant_type"] == "refresh_token")
        {
            assert_eq!(
                &f["refresh_token"], issued[0],
                "the original refresh token, opened with the old key"
            );
        }
    }
    let old_id = key_id(old_key);
    let new_id = key_id(new_key);
    // The restart re-sealed everything under the new key before the first refresh (and each
    // refresh seals again under it).
    let mut after = raw_connections(&second).await;
    for _ in 0..100 {
        if !after.contains(&format!("v2.{old_id}.")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        after = raw_connections(&second).await;
    }
    assert_ne!(before, after);
    assert!(before.contains(&format!("v2.{old_id}.")));
    assert!(
        !after.contains(&format!("v2.{old_id}.")),
        "re-sealed under the new key: {after}"
    );
    assert!(after.contains(&format!("v2.{new_id}.")));
}

fn key_id(b64: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    hex::encode(&sha2::Sha256::digest(key)[..4])
}

async fn calcom_connects_with_an_api_key(backend: Backend) {
    let calcom = fakes::calcom::start("ada@cal.example").await;
    let key = calcom.state().issue_api_key();
    let app = app_with(backend, calcom.env()).await;
    let user = app.register_user().await;

    let res = app
        .post_json(
            "/api/auth/connect/caldotcom",
            &json!({"api_key": "sk_live_123456"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "invalid_api_key");
    let res = app
        .post_json(
            "/api/auth/connect/caldotcom",
            &json!({"api_key": "cal_live_unknown0000"}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_code(res).await, "invalid_credentials");
    let res = app
        .post_json("/api/auth/connect/caldotcom", &json!({}), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(app.calendars(&user.token).await.is_empty());

    let res = app
        .post_json(
            "/api/auth/connect/caldotcom",
            &json!({"api_key": key}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    let calendars = body["calendars"].as_array().unwrap();
    assert_eq!(calendars.len(), 1);
    assert_eq!(calendars[0]["provider"], "caldotcom");
    assert_eq!(calendars[0]["account"], "ada@cal.example");
    assert_eq!(calendars[0]["timezone"], "Europe/Berlin");
    assert!(
        !raw_connections(&app).await.contains(&key),
        "the API key is sealed"
    );
    // The same key again: the same connection.
    let res = app
        .post_json(
            "/api/auth/connect/caldotcom",
            &json!({"api_key": key}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.calendars(&user.token).await.len(), 1);
}

async fn calcom_connects_with_oauth_when_configured(backend: Backend) {
    let calcom = fakes::calcom::start("ada@cal.example").await;
    let app = app_with(backend, calcom.oauth_env()).await;
    let user = app.register_user().await;
    let dance = app.oauth_dance("caldotcom", &user.token, "allow").await;
    assert_eq!(
        dance.landing_param("connected").as_deref(),
        Some("caldotcom")
    );
    let calendars = app.calendars(&user.token).await;
    assert_eq!(calendars.len(), 1);
    assert_eq!(calendars[0]["name"], "Cal.com bookings");
}

const FEED: &str = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nX-WR-CALNAME:Team rota\r\n\
BEGIN:VEVENT\r\nUID:1@test\r\nDTSTAMP:20261120T000000Z\r\nDTSTART:20261201T090000Z\r\nDTEND:20261201T100000Z\r\nSUMMARY:Rota\r\nEND:VEVENT\r\n\
END:VCALENDAR\r\n";

async fn ics_feeds_subscribe_with_webcal_and_keep_the_address_secret(backend: Backend) {
    let ics = fakes::ics::start().await;
    ics.state().publish("s3cr3t-feed-token", FEED);
    ics.state()
        .publish("garbage", "<html>not a calendar</html>");
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let connect = |url: String, name: Option<&str>| {
        let mut body = json!({"url": url});
        if let Some(n) = name {
            body["name"] = json!(n);
        }
        body
    };

    for (url, code) in [
        ("ftp://example.com/a.ics".to_owned(), "invalid_url"),
        ("not a url".to_owned(), "invalid_url"),
        (ics.url("/missing.ics"), "not_found_at_provider"),
        (ics.url("/garbage.ics"), "invalid_feed"),
    ] {
        let res = app
            .post_json(
                "/api/auth/connect/ics",
                &connect(url.clone(), None),
                Some(&user.token),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(error_code(res).await, code, "{url}");
    }
    assert!(app.calendars(&user.token).await.is_empty());

    let feed_url = ics.url("/s3cr3t-feed-token.ics");
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &connect(feed_url.clone(), None),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["calendars"][0]["name"], "Team rota");
    assert_eq!(body["calendars"][0]["provider"], "ics");
    assert_eq!(body["calendars"][0]["account"], "127.0.0.1");

    // webcal:// is the same feed over https; a name given wins over the feed's own.
    let webcal = feed_url.replace("http://", "webcal://");
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &connect(webcal, Some("Rota")),
            Some(&user.token),
        )
        .await;
    // The fake speaks plain http, so the https fetch fails: the error names the provider.
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(error_code(res).await, "provider_unavailable");

    let raw = raw_connections(&app).await;
    assert!(
        !raw.contains("s3cr3t-feed-token"),
        "the feed address is sealed: {raw}"
    );
}

async fn disconnect_revokes_and_removes_everything_of_that_provider(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let calcom = fakes::calcom::start("ada@cal.example").await;
    let key = calcom.state().issue_api_key();
    let mut env = google.env();
    env.extend(calcom.env());
    let app = app_with(backend, env).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let res = app
        .post_json(
            "/api/auth/connect/caldotcom",
            &json!({"api_key": key}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(app.calendars(&user.token).await.len(), 2);
    let refresh = google.state().oauth.live_refresh_tokens();

    let res = app
        .post_json("/api/auth/disconnect/google", &json!({}), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        google.state().oauth.revoked_log,
        refresh,
        "the grant is revoked at Google"
    );
    let left = app.calendars(&user.token).await;
    assert_eq!(left.len(), 1);
    assert_eq!(left[0]["provider"], "caldotcom");
    let rows = calendar_connections::Entity::find()
        .select_only()
        .column(calendar_connections::Column::Provider)
        .into_tuple::<String>()
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(rows, ["caldotcom"]);

    let res = app
        .post_json("/api/auth/disconnect/google", &json!({}), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "not_connected");
    let res = app
        .post_json("/api/auth/disconnect/yahoo", &json!({}), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

async fn calendars_are_patched_and_deleted_by_their_owner_only(backend: Backend) {
    let calcom = fakes::calcom::start("ada@cal.example").await;
    let key = calcom.state().issue_api_key();
    let app = app_with(backend, calcom.env()).await;
    let ada = app.register_user().await;
    let eve = app.register_user().await;
    app.post_json(
        "/api/auth/connect/caldotcom",
        &json!({"api_key": key}),
        Some(&ada.token),
    )
    .await;
    let id = app.calendars(&ada.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/api/calendars/{id}");

    for (body, code) in [
        (json!({"name": "  "}), "invalid_name"),
        (json!({"color": "blue"}), "invalid_color"),
    ] {
        let res = app.patch_json(&path, &body, &ada.token).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(error_code(res).await, code);
    }
    let res = app
        .patch_json(
            &path,
            &json!({"include_in_availability": "yes"}),
            &ada.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let res = app
        .patch_json(
            &path,
            &json!({"name": "Bookings", "color": "#3366FF"}),
            &eve.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.calendars(&ada.token).await[0]["name"],
        "Cal.com bookings",
        "nothing changed"
    );

    let res = app
        .patch_json(
            &path,
            &json!({"name": "Bookings", "color": "#3366FF", "include_in_availability": false}),
            &ada.token,
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["name"], "Bookings");
    assert_eq!(body["color"], "#3366ff");
    assert_eq!(body["include_in_availability"], false);
    let res = app
        .patch_json(&path, &json!({"color": null}), &ada.token)
        .await;
    let body: Value = res.json().await.unwrap();
    assert!(body["color"].is_null());
    assert_eq!(body["name"], "Bookings");

    assert_eq!(
        app.delete(&path, &eve.token).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.delete(&path, &ada.token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert!(app.calendars(&ada.token).await.is_empty());
    assert_eq!(
        app.delete(&path, &ada.token).await.status(),
        StatusCode::NOT_FOUND
    );
}

backend_tests!(
    google_connects_through_consent_and_lists_calendars,
    reconnecting_updates_the_connection_instead_of_duplicating_it,
    a_denied_consent_lands_with_access_denied,
    a_state_works_once_and_only_for_its_flow,
    an_expired_state_is_refused,
    a_state_finishes_only_in_the_browser_that_started_it,
    a_code_injected_into_another_flow_fails_pkce,
    a_failed_token_exchange_is_reported_not_a_500,
    connect_needs_a_configured_provider_and_a_login,
    connect_can_redirect_the_browser_itself,
    microsoft_uses_the_tenant_and_retries_once_after_a_401,
    rotated_refresh_tokens_are_stored_and_a_revoked_grant_needs_reauth,
    google_keeps_its_refresh_token_and_old_keys_still_open_it,
    calcom_connects_with_an_api_key,
    calcom_connects_with_oauth_when_configured,
    ics_feeds_subscribe_with_webcal_and_keep_the_address_secret,
    disconnect_revokes_and_removes_everything_of_that_provider,
    calendars_are_patched_and_deleted_by_their_owner_only,
);
