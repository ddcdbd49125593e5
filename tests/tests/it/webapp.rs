//! The web app, as a person uses it: headless Chromium through the real app and the provider
//! fakes, driven by the words on the page (contract.md, "The web app").

use std::collections::HashMap;
use std::path::PathBuf;

use chrono::{Datelike, Duration};
use chrono_tz::Europe::Berlin;
use reqwest::StatusCode;
use serde_json::{Value, json};
use tests::browser::Browser;
use tests::fakes;
use tests::{Backend, TestApp, backend_tests, test_worker_options};

/// Where the run writes its screenshots (`SCREENSHOT_DIR=docs/screenshots` refreshes the ones
/// the README shows).
fn screenshot(name: &str) -> PathBuf {
    let dir = std::env::var_os("SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("screenshots"));
    dir.join(format!("{name}.png"))
}

/// A screenshot of the page from its top, as a person first sees it — and, on every page shot,
/// the contract's rule that every visible input has a visible label with words in it.
async fn snap(browser: &Browser, name: &str) {
    let unlabelled = browser
        .execute(
            "return [...document.querySelectorAll('input, select, textarea')]
               .filter((i) => i.type !== 'hidden' && i.checkVisibility())
               .filter((i) => ![...(i.labels || [])].some((l) => l.checkVisibility() && l.innerText.trim()))
               .map((i) => i.outerHTML)",
            json!([]),
        )
        .await;
    assert_eq!(
        unlabelled,
        json!([]),
        "inputs without a visible label on {name}"
    );
    browser.execute("window.scrollTo(0, 0)", json!([])).await;
    browser.screenshot(&screenshot(name)).await;
}

/// Opens the page and signs up as Ada (Berlin), as a person does, until the week is shown.
async fn sign_up_as_ada(browser: &Browser, app: &TestApp) {
    browser.goto(&app.url("/")).await;
    browser.click_text("Sign up").await;
    browser.fill("Name", "Ada").await;
    browser.fill("Email", "ada@example.com").await;
    browser.fill("Password", "correct horse battery").await;
    browser.fill("Time zone", "Europe/Berlin").await;
    browser.click_text("Sign up").await;
    browser.wait_for_text("free this week").await;
}

/// How many seconds of the week the page shows as free, read from its own summary line.
async fn free_hours_text(browser: &Browser) -> String {
    browser
        .wait_until(
            "the week's summary",
            "const m = document.body.innerText.match(/([0-9][^\\n]*) free this week/);
             return m ? m[1] : false;",
            json!([]),
        )
        .await
        .as_str()
        .unwrap()
        .to_owned()
}

async fn conflict_marks(browser: &Browser) -> u64 {
    browser
        .execute(
            "return [...document.querySelectorAll('.event.conflict')].filter((e) => e.innerText.includes('Conflict')).length",
            json!([]),
        )
        .await
        .as_u64()
        .unwrap()
}

/// Sign up → connect Google through the fake consent page → the week shows the synced events →
/// an overlapping event added on the page is a conflict on both → Resolve → working hours change
/// the free time (and a bad value is explained beside its field) → Cal.com by API key and the
/// export pushed → feed links rotated → sign out.
async fn a_freelancer_does_everything_from_the_page(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    // The tests' now is a Monday morning in Berlin: the page opens on this week.
    let today = tests::clock::now().with_timezone(&Berlin).date_naive();
    let monday = today - Duration::days(today.weekday().num_days_from_monday().into());
    let tuesday = monday + Duration::days(1);
    let wednesday = monday + Duration::days(2);
    let at = |d: chrono::NaiveDate, hm: &str| tests::dates::berlin(d, hm);
    {
        let mut s = google.state();
        s.put_event(
            "ada@example.com",
            fakes::google::event(
                "g1",
                "Design review",
                &at(tuesday, "10:00"),
                &at(tuesday, "11:00"),
            ),
        );
        s.put_event(
            "ada@example.com",
            fakes::google::event(
                "g2",
                "Client call",
                &at(wednesday, "14:00"),
                &at(wednesday, "15:30"),
            ),
        );
    }
    let calcom = fakes::calcom::start("ada@example.com").await;
    let api_key = calcom.state().issue_api_key();
    let mut env: HashMap<String, String> = google.env().into_iter().collect();
    env.extend(calcom.env());
    let consent_page = env["GOOGLE_AUTH_URL"].clone();
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;

    let browser = Browser::start().await;
    browser.set_window_size(1366, 900).await;
    browser.goto(&app.url("/")).await;
    browser.wait_for_text("Sign in to freeslot").await;
    snap(&browser, "sign-in").await;

    // A password that is too short is refused in words, beside its field.
    browser.click_text("Sign up").await;
    browser.fill("Name", "Ada Lovelace").await;
    browser.fill("Email", "ada@example.com").await;
    browser.fill("Password", "short").await;
    browser.fill("Time zone", "Europe/Berlin").await;
    browser.click_text("Sign up").await;
    browser
        .wait_for_text("Password must be at least 10 characters.")
        .await;
    browser.fill("Password", "correct horse battery").await;
    browser.click_text("Sign up").await;
    browser.wait_for_text("Welcome, Ada Lovelace").await;
    browser.wait_for_text("Time zone: Europe/Berlin").await;

    // Connect Google: declined first (said in words), then allowed.
    browser.click_text("Calendars").await;
    browser.wait_for_text("Connect a calendar").await;
    browser.click_text("Connect Google").await;
    browser.wait_for_url(&consent_page).await;
    browser.click("#deny").await;
    browser
        .wait_for_text("Google was not connected: you declined access on the consent page.")
        .await;
    browser.click_text("Connect Google").await;
    browser.wait_for_url(&consent_page).await;
    browser.click("#allow").await;
    browser.wait_for_url(&app.url("/")).await;
    browser.wait_for_text("Google connected").await;
    browser.wait_for_text("Up to date").await;
    snap(&browser, "calendars").await;
    assert!(
        !browser.current_url().await.contains("connected="),
        "the outcome is read once and dropped from the address"
    );

    // An ICS feed by its address.
    let thursday = monday + Duration::days(3);
    let ics = fakes::ics::start().await;
    let day = thursday.format("%Y%m%d");
    ics.state().publish(
        "yoga",
        &format!(
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\nUID:yoga@test\r\n\
             DTSTAMP:20261101T000000Z\r\nSUMMARY:Yoga\r\nDTSTART;TZID=Europe/Berlin:{day}T120000\r\n\
             DTEND;TZID=Europe/Berlin:{day}T130000\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
        ),
    );
    browser.fill("Feed URL", &ics.url("/yoga.ics")).await;
    browser.fill("Feed name", "Yoga studio").await;
    browser.click_text("Add ICS feed").await;
    browser.wait_for_text("Feed added.").await;
    browser.wait_for_text("Yoga studio").await;

    // The week shows what Google and the feed hold.
    browser.click_text("Week").await;
    browser.wait_for_text("Design review").await;
    browser.wait_for_text("Client call").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !browser
        .execute("return document.body.innerText.includes('Yoga')", json!([]))
        .await
        .as_bool()
        .unwrap()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the feed's event shows"
        );
        browser.click_text("This week").await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // "Find a slot": the next 90 free minutes are this morning's 09:00–10:30.
    browser.fill("Duration (minutes)", "90").await;
    browser.click_text("Find a slot").await;
    let first_slot = browser
        .wait_until(
            "the slots found",
            "const li = document.querySelector('.slots li'); return li ? li.innerText : false;",
            json!([]),
        )
        .await;
    let first_slot = first_slot.as_str().unwrap();
    assert!(
        first_slot.contains("9:00") && first_slot.contains("10:30"),
        "{first_slot}"
    );
    let free_before = free_hours_text(&browser).await;
    assert_eq!(conflict_marks(&browser).await, 0);

    // An event added on the page that overlaps the review: a conflict on both.
    browser.fill("Title", "Dentist").await;
    browser.fill("Date", &tuesday.to_string()).await;
    browser.fill("Start", "10:30").await;
    browser.fill("End", "11:30").await;
    browser.click_text("Add event").await;
    browser.wait_for_text("Event added.").await;
    browser.wait_for_text("Dentist").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while conflict_marks(&browser).await < 2 {
        assert!(
            std::time::Instant::now() < deadline,
            "the conflict is marked on both events"
        );
        // A person reloads the week to see what changed since.
        browser.click_text("This week").await;
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert_eq!(conflict_marks(&browser).await, 2);
    // The first syncs' progress line goes away by itself once they are done.
    browser
        .wait_until(
            "the sync progress to end",
            "return document.getElementById('sync-progress').hidden",
            json!([]),
        )
        .await;
    snap(&browser, "week").await;

    browser.click_text("Conflicts").await;
    browser.wait_for_text("Overlap").await;
    browser.wait_for_text("Design review").await;
    snap(&browser, "conflicts").await;
    browser.click_text("Resolve").await;
    browser.wait_for_text("Conflict resolved.").await;
    browser.wait_for_text("No conflicts").await;

    // Working hours: a bad number is explained beside its field; a day off takes free time away.
    browser.click_text("Working hours").await;
    browser.wait_for_text("Weekly hours").await;
    browser.fill("Buffer before meetings (minutes)", "-5").await;
    browser.click_text("Save").await;
    let beside = browser
        .wait_until(
            "the buffer's error beside its field",
            "const l = [...document.querySelectorAll('label')].find((e) => e.innerText.startsWith('Buffer before'));
             const err = document.getElementById(l.htmlFor + '-error');
             return err && !err.hidden ? err.innerText : false;",
            json!([]),
        )
        .await;
    assert!(
        beside.as_str().unwrap().to_lowercase().contains("buffer"),
        "{beside}"
    );
    browser.fill("Buffer before meetings (minutes)", "0").await;
    browser.fill("Days off", &wednesday.to_string()).await;
    browser.click_text("Save").await;
    browser.wait_for_text("Saved.").await;
    snap(&browser, "working-hours").await;
    browser.click_text("Week").await;
    browser.wait_for_text("Client call").await;
    let free_after = free_hours_text(&browser).await;
    assert_ne!(free_before, free_after, "a day off changes the free time");

    // Cal.com by API key, then the export pushed to it.
    browser.click_text("Calendars").await;
    browser.fill("API key", &api_key).await;
    browser.click_text("Connect Cal.com").await;
    browser.wait_for_text("Cal.com connected.").await;
    browser.click_text("Publish").await;
    browser.wait_for_text("Weekly hours").await;
    browser.click_text("Push to Cal.com").await;
    browser
        .wait_for_text("Sent: Cal.com now has a freeslot schedule.")
        .await;
    assert_eq!(calcom.state().schedules.len(), 1, "the fake received it");

    // The feed links: rotated, the old one no longer answers.
    let old_link = browser
        .execute(
            "return document.querySelector('.feed-url').value",
            json!([]),
        )
        .await;
    let old_link = old_link.as_str().unwrap().to_owned();
    assert_eq!(
        app.client.get(&old_link).send().await.unwrap().status(),
        StatusCode::OK
    );
    browser.click_text("Rotate feed links").await;
    browser.accept_dialog().await;
    browser.wait_for_text("New feed links made").await;
    let new_link = browser
        .execute(
            "return document.querySelector('.feed-url').value",
            json!([]),
        )
        .await;
    assert_ne!(new_link.as_str().unwrap(), old_link);
    assert_eq!(
        app.client.get(&old_link).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    snap(&browser, "publish").await;

    browser.click_text("Clients").await;
    browser.fill("Client name", "Acme").await;
    browser.fill("Keywords", "design").await;
    browser.click_text("Add client").await;
    browser.wait_for_text("Acme added").await;
    browser.wait_for_text("Hours per week").await;
    snap(&browser, "clients").await;

    browser.click_text("Sign out").await;
    browser.wait_for_text("You are signed out.").await;
    let token = browser
        .execute(
            "return sessionStorage.getItem('freeslot.access_token')",
            json!([]),
        )
        .await;
    assert!(token.is_null(), "{token}");
    browser.quit().await;
}

backend_tests!(a_freelancer_does_everything_from_the_page);

/// The page's own logic, run in the browser it is written for: the tz arithmetic of the week
/// view (23- and 25-hour days, gaps and folds) and the lanes of overlapping blocks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_time_and_layout_logic() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let browser = Browser::start().await;
    browser.goto(&app.url("/")).await;
    browser.wait_for_text("Sign in to freeslot").await;
    let results = browser
        .execute_async(
            "const done = arguments[arguments.length - 1];
             Promise.all([import('/app/time.js'), import('/app/layout.js'), import('/app/week.js')])
               .then(([t, l, w]) => {
                 const berlin = 'Europe/Berlin';
                 const at = (s) => Date.parse(s);
                 const laned = l.lanes([
                   {id: 'a', from: 60, to: 120}, {id: 'b', from: 90, to: 150},
                   {id: 'c', from: 130, to: 140}, {id: 'd', from: 200, to: 210},
                 ]).map((p) => [p.id, p.lane, p.lanes]);
                 const split = l.piecesByDay([{start: at('2026-03-28T22:00:00Z'), end: at('2026-03-29T02:00:00Z')}],
                   [at('2026-03-27T23:00:00Z'), at('2026-03-28T23:00:00Z'), at('2026-03-29T22:00:00Z')])
                   .map((day) => day.map((p) => [p.from, p.to]));
                 const rules = {timezone: berlin, days_off: ['2026-03-30'],
                   weekly: {sunday: [{start: '02:30', end: '24:00'}], monday: [{start: '09:00', end: '17:00'}]}};
                 const windows = w.workingWindows(rules, at('2026-03-29T00:00:00Z'), at('2026-04-07T00:00:00Z'))
                   .map((x) => [new Date(x.start).toISOString(), new Date(x.end).toISOString()]);
                 done({
                   spring: t.dayMinutes('2026-03-29', berlin),
                   autumn: t.dayMinutes('2026-10-25', berlin),
                   plain: t.dayMinutes('2026-12-07', berlin),
                   springHours: t.hourStarts('2026-03-29', berlin).map((m) => m.hour),
                   autumnHours: t.hourStarts('2026-10-25', berlin).length,
                   gap: new Date(t.zonedInstant('2026-03-29', 2, 30, berlin)).toISOString(),
                   fold: new Date(t.zonedInstant('2026-10-25', 2, 30, berlin)).toISOString(),
                   newYork: new Date(t.startOfDay('2026-11-01', 'America/New_York')).toISOString(),
                   santiago: [new Date(t.startOfDay('2026-09-06', 'America/Santiago')).toISOString(),
                     t.dayMinutes('2026-09-06', 'America/Santiago'),
                     t.hourStarts('2026-09-06', 'America/Santiago')[0].hour],
                   monday: t.mondayOf('2026-12-13'),
                   localDate: t.localDate(at('2026-12-06T23:30:00Z'), berlin),
                   laned, split, windows,
                   ink: [l.textOn('#ffffff'), l.textOn('#143f5c')],
                 });
               }, (e) => done({error: String(e)}));",
            json!([]),
        )
        .await;
    assert_eq!(results["error"], Value::Null, "{results}");
    assert_eq!(results["spring"], 23 * 60);
    assert_eq!(results["autumn"], 25 * 60);
    assert_eq!(results["plain"], 24 * 60);
    let spring_hours: Vec<u64> = serde_json::from_value(results["springHours"].clone()).unwrap();
    assert_eq!(spring_hours.len(), 23);
    assert_eq!(
        &spring_hours[..4],
        [0, 1, 3, 4],
        "02:00 does not exist that day"
    );
    assert_eq!(results["autumnHours"], 25);
    // Working hours read as the server reads them: a time in the gap moves to its end, a time
    // in the fold is the earlier instant.
    assert_eq!(results["gap"], "2026-03-29T01:00:00.000Z");
    assert_eq!(results["fold"], "2026-10-25T00:30:00.000Z");
    assert_eq!(results["newYork"], "2026-11-01T04:00:00.000Z");
    // Santiago's clocks jump at midnight: that day begins at 01:00 and lasts 23 hours.
    assert_eq!(
        results["santiago"],
        json!(["2026-09-06T04:00:00.000Z", 1380, 1])
    );
    assert_eq!(results["monday"], "2026-12-07");
    assert_eq!(results["localDate"], "2026-12-07");
    // a and b overlap, c overlaps b: one cluster of two lanes (c reuses a's); d stands alone.
    assert_eq!(
        results["laned"],
        json!([["a", 0, 2], ["b", 1, 2], ["c", 0, 2], ["d", 0, 1]])
    );
    // 23:00 Berlin to 04:00 the next morning, across the spring change: 60 minutes before
    // midnight, 180 elapsed after it (the clock jumps from 02:00 to 03:00).
    assert_eq!(results["split"], json!([[[1380, 1440]], [[0, 180]]]));
    assert_eq!(
        results["windows"],
        json!([
            ["2026-03-29T01:00:00.000Z", "2026-03-29T22:00:00.000Z"],
            ["2026-04-05T00:30:00.000Z", "2026-04-05T22:00:00.000Z"],
            ["2026-04-06T07:00:00.000Z", "2026-04-06T15:00:00.000Z"]
        ])
    );
    assert_eq!(results["ink"], json!(["#111", "#fff"]));
    browser.quit().await;
}

/// The page itself: strict CSP, cache validators, nothing from elsewhere, and it fits a phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_served_strictly_and_fits_a_phone() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let page = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");
    let etag = page.headers()["etag"].to_str().unwrap().to_owned();
    let again = app
        .client
        .get(app.url("/"))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let missing = app
        .client
        .get(app.url("/app/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let server: Value = app
        .client
        .get(app.url("/api/server"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let server_now: chrono::DateTime<chrono::Utc> =
        server["now"].as_str().unwrap().parse().unwrap();
    assert!(
        (server_now - tests::clock::now()).num_seconds().abs() < 60,
        "{server}"
    );
    assert_eq!(server["connect"]["google"], false);
    assert_eq!(server["connect"]["caldotcom"], "api_key");

    // Ten failed sign-ins from this address lock it: the page says how long to wait.
    for _ in 0..10 {
        app.post_login(&json!({"email": "grace@example.com", "password": "not the password"}))
            .await;
    }
    let browser = Browser::start().await;
    browser.set_window_size(360, 780).await;
    browser.goto(&app.url("/")).await;
    browser.wait_for_text("Sign in to freeslot").await;
    browser.fill("Email", "grace@example.com").await;
    browser.fill("Password", "still not the password").await;
    browser.click_text("Sign in").await;
    browser
        .wait_for_text("Too many failed logins for this address; try again later. Wait 15 minutes before trying again.")
        .await;
    browser.click_text("Sign up").await;
    browser.fill("Name", "Grace").await;
    browser.fill("Email", "grace@example.com").await;
    browser.fill("Password", "correct horse battery").await;
    browser.fill("Time zone", "Europe/Berlin").await;
    browser.click_text("Sign up").await;
    browser.wait_for_text("free this week").await;
    browser.wait_for_text("No events yet").await;
    let overflow = browser
        .execute(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
            json!([]),
        )
        .await;
    assert_eq!(overflow, 0, "nothing sticks out sideways at 360 px");
    // Every resource came from freeslot itself, and no CSP violation was reported.
    let foreign = browser
        .execute(
            "return performance.getEntriesByType('resource').map((r) => r.name)
               .filter((n) => !n.startsWith(location.origin))",
            json!([]),
        )
        .await;
    assert_eq!(foreign, json!([]));
    snap(&browser, "week-phone").await;
    let token = browser
        .execute(
            "return [sessionStorage.length, localStorage.length]",
            json!([]),
        )
        .await;
    assert_eq!(token, json!([1, 0]), "the token is in sessionStorage only");
    browser.quit().await;
}

/// A grant revoked at Google shows on the page by itself (the page polls): in the calendar list
/// and as a banner on every section, whose `Reconnect` takes the person through the consent page
/// back to a working connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_connection_is_reconnected_from_the_page() {
    let google = fakes::google::start("ada@example.com").await;
    // The first sync brings one event: its notification is in the list later.
    google.state().put_event(
        "ada@example.com",
        fakes::google::event(
            "g1",
            "Planning",
            "2026-12-01T09:00:00Z",
            "2026-12-01T10:00:00Z",
        ),
    );
    let env: HashMap<String, String> = google.env().into_iter().collect();
    let consent_page = env["GOOGLE_AUTH_URL"].clone();
    let app = TestApp::spawn_with(Backend::Sqlite, env, test_worker_options()).await;
    let browser = Browser::start().await;
    sign_up_as_ada(&browser, &app).await;
    browser.click_text("Calendars").await;
    browser.click_text("Connect Google").await;
    browser.wait_for_url(&consent_page).await;
    browser.click("#allow").await;
    browser.wait_for_text("Up to date").await;

    google.state().oauth.revoke_everything();
    browser.click_text("Sync now").await;
    browser.wait_for_text("Needs reconnecting").await;
    browser
        .wait_for_text("This connection needs you to sign in again")
        .await;
    // The live stream said so at once (the flash is the page's reaction to the notification).
    browser
        .wait_for_text(
            "Google (ada@example.com) needs reconnecting: freeslot can no longer read it.",
        )
        .await;
    browser.click_text("Notifications").await;
    browser.wait_for_text("synced: 1 added").await;
    browser
        .wait_for_text("could not be synced (1 time in a row)")
        .await;
    // The banner says so on every section, with the way to mend it.
    browser.click_text("Week").await;
    browser
        .wait_for_text("Google (ada@example.com) needs reconnecting")
        .await;
    browser.click_text("Reconnect").await;
    browser.wait_for_url(&consent_page).await;
    browser.click("#allow").await;
    browser.wait_for_text("Google connected").await;
    browser.wait_for_text("Up to date").await;
    let reconnect_left = browser
        .execute(
            "return [...document.querySelectorAll('button')].some((b) => b.innerText === 'Reconnect')",
            json!([]),
        )
        .await;
    assert_eq!(reconnect_left, false);
    browser.quit().await;
}

/// Webhook endpoints from the page: a bad address is refused in words, a good one shows its
/// secret once, a test reaches the receiver signed with that secret, and the delivery log says
/// it arrived.
#[tokio::test]
async fn webhook_endpoints_are_kept_from_the_page() {
    let env = HashMap::from([
        ("WEBHOOK_ALLOW_HTTP".to_owned(), "true".to_owned()),
        ("WEBHOOK_ALLOW_PRIVATE".to_owned(), "true".to_owned()),
    ]);
    let app = TestApp::spawn_with(Backend::Sqlite, env, test_worker_options()).await;
    let receiver = tests::receiver::start().await;
    let browser = Browser::start().await;
    sign_up_as_ada(&browser, &app).await;
    browser.click_text("Webhooks").await;
    browser.wait_for_text("No endpoints yet").await;

    browser
        .fill("Endpoint URL", "ftp://hooks.example.com/")
        .await;
    browser.click_text("Add endpoint").await;
    browser
        .wait_for_text("Webhook endpoints must be https URLs.")
        .await;

    let url = receiver.url("/hooks/freeslot");
    browser.fill("Endpoint URL", &url).await;
    browser.fill("Description", "CRM").await;
    browser.click_text("Add endpoint").await;
    browser
        .wait_for_text("Copy it now: it is not shown again.")
        .await;
    let secret = browser.text(".secret-value").await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    browser.wait_for_text("Every notification").await;

    browser.click_text("Send a test").await;
    let got = tests::receiver::wait_for(&receiver, "the test delivery", |d| !d.is_empty()).await;
    assert_eq!(got[0].json()["type"], "webhook.test");
    assert_eq!(tests::receiver::verify(&secret, &got), [true]);
    // The page watches the log until the attempt is there.
    browser.wait_for_text("Delivered (200)").await;
    snap(&browser, "webhooks").await;

    browser.click_text("Turn off").await;
    browser.wait_for_text("Off.").await;
    browser.quit().await;
}

/// Tasks from the page: a bad duration is refused in words beside its field; a task is added,
/// shows where the plan put it, appears in the week, and is marked done.
#[tokio::test]
async fn tasks_are_planned_and_done_from_the_page() {
    let app = TestApp::spawn_with(Backend::Sqlite, HashMap::new(), test_worker_options()).await;
    let browser = Browser::start().await;
    sign_up_as_ada(&browser, &app).await;
    browser.click_text("Tasks").await;
    browser.wait_for_text("Nothing to do").await;

    browser.fill("Task", "Write proposal").await;
    browser.fill("Duration (minutes)", "3").await;
    browser.click_text("Add task").await;
    browser
        .wait_for_text("duration_minutes must be between 5 and 10080 (a week).")
        .await;
    browser.fill("Duration (minutes)", "180").await;
    browser.fill("Shortest piece (minutes)", "60").await;
    browser.fill("Longest piece (minutes)", "120").await;
    browser.fill("Tags", "acme").await;
    browser.click_text("Add task").await;
    browser.wait_for_text("“Write proposal” added.").await;
    // The plan: Monday 09:00–11:00 in Berlin, then what is left in the next free stretch.
    browser.wait_for_text("Planned:").await;
    snap(&browser, "tasks").await;

    browser.click_text("Week").await;
    let blocks = browser
        .wait_until(
            "the task's blocks in the week",
            "const b = [...document.querySelectorAll('.task-block')].map((b) => b.getAttribute('aria-label'));
             return b.length ? b : null",
            json!([]),
        )
        .await;
    assert!(
        blocks.as_array().is_some_and(|b| !b.is_empty()
            && b.iter()
                .all(|l| l.as_str().unwrap().starts_with("Task: Write proposal"))),
        "{blocks}"
    );

    browser.click_text("Tasks").await;
    browser.wait_for_text("Planned:").await;
    // Edited in place: a shorter task, its fields as they were.
    browser.click_text("Edit").await;
    browser.fill("Duration (minutes)", "120").await;
    browser.click_text("Save task").await;
    browser.wait_for_text("“Write proposal” saved.").await;
    browser
        .wait_for_text("2 h · no due date · priority 3 · acme")
        .await;
    browser.wait_for_text("Planned:").await;
    browser.click_text("Done").await;
    browser.wait_for_text("“Write proposal” done.").await;
    browser.wait_for_text("Nothing to do").await;
    browser.quit().await;
}
