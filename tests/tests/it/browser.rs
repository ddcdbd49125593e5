//! The connection as a person makes it: in headless Chromium, through the fake consent page.

use std::collections::HashMap;

use tests::browser::Browser;
use tests::fakes;
use tests::{Backend, TestApp, backend_tests, test_worker_options};

async fn connecting_google_in_a_real_browser(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    google
        .state()
        .add_calendar("team@group.calendar.google.com", "Team");
    let frontend = fakes::frontend::start().await;
    let mut env: HashMap<String, String> = google.env().into_iter().collect();
    env.insert("FRONTEND_URL".into(), frontend.url("/app"));
    let consent_page = env["GOOGLE_AUTH_URL"].clone();
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;

    // Log in (the API has no login page), ask for the connect link, hand it to the browser.
    let user = app.register_user().await;
    let login = app
        .post_login(&serde_json::json!({"email": user.email, "password": user.password}))
        .await;
    let token = login.json::<serde_json::Value>().await.unwrap()["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    // The page asks for the link itself, as the web app does: the OAuth binding cookie that
    // comes with it is the browser's own.
    let browser = Browser::start().await;
    browser.goto(&app.url("/health")).await;
    browser
        .execute(
            "fetch('/api/auth/connect/google', {headers: {Authorization: 'Bearer ' + arguments[0]}})
               .then(r => r.json()).then(b => { window.location.href = b.authorization_url; });",
            serde_json::json!([token]),
        )
        .await;
    browser.wait_for_url(&consent_page).await;
    browser.click("#allow").await;
    let landed = browser.wait_for_url(&frontend.url("/app")).await;
    assert!(landed.ends_with("/app?connected=google"), "{landed}");
    assert_eq!(browser.text("#result").await, "Connected google");
    browser.quit().await;

    let calendars = app.calendars(&token).await;
    let mut names: Vec<&str> = calendars
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["Team", "ada@example.com"]);
    assert!(calendars.iter().all(|c| c["connection_status"] == "active"));
}

backend_tests!(connecting_google_in_a_real_browser);
