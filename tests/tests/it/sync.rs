//! Calendars converge to what the providers hold: first syncs after connecting, changes
//! through `POST /api/calendars/{id}/sync`, expired cursors, failures half-way, races.

use std::collections::HashMap;
use std::time::Duration;

use entity::sync_runs;
use reqwest::StatusCode;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use service::sync::{self, Trigger};
use tests::fakes::{self, Fault};
use tests::{Backend, TestApp, TestUser, backend_tests, test_worker_options};

const FROM: &str = "2026-11-01T00:00:00Z";
const TO: &str = "2027-03-01T00:00:00Z";

async fn app_with(backend: Backend, env: Vec<(String, String)>) -> TestApp {
    let mut vars: HashMap<String, String> = env.into_iter().collect();
    // A window that holds the fixed dates these tests use, whatever today is.
    vars.insert("SYNC_WINDOW_PAST_DAYS".into(), "400".into());
    vars.insert("SYNC_WINDOW_FUTURE_DAYS".into(), "800".into());
    TestApp::spawn_with(backend, vars, test_worker_options()).await
}

/// Waits (up to 5 s) until no run holds the calendar's lease: a re-run may follow the first.
async fn no_run_in_flight(app: &TestApp, id: uuid::Uuid) {
    for _ in 0..100 {
        let row = entity::calendars::Entity::find_by_id(id)
            .one(&app.ctx.db)
            .await
            .unwrap()
            .unwrap();
        if row.sync_lease_until.is_none() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `(provider_event_id, title, start)` of every event, sorted.
async fn events(app: &TestApp, user: &TestUser) -> Vec<(String, String, String)> {
    let res = app
        .get_query(
            "/api/events",
            &user.token,
            &[("start", FROM), ("end", TO), ("limit", "2500")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    let mut list: Vec<(String, String, String)> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["provider_event_id"].as_str().unwrap().to_owned(),
                e["title"].as_str().unwrap().to_owned(),
                e["start"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    list.sort();
    list
}

/// Polls until the events are `expected` (ids only), or fails with what they were.
async fn converge(
    app: &TestApp,
    user: &TestUser,
    expected: &[&str],
) -> Vec<(String, String, String)> {
    let mut want: Vec<String> = expected.iter().map(|s| (*s).to_owned()).collect();
    want.sort();
    let mut seen = Vec::new();
    for _ in 0..150 {
        seen = events(app, user).await;
        let ids: Vec<String> = seen.iter().map(|e| e.0.clone()).collect();
        if ids == want {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("events did not converge to {want:?}; they are {seen:?}");
}

async fn sync_now(app: &TestApp, user: &TestUser, calendar_id: &str) {
    let res = app
        .post_json(
            &format!("/api/calendars/{calendar_id}/sync"),
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
}

async fn wait_idle(app: &TestApp, user: &TestUser) -> Vec<Value> {
    let mut calendars = Vec::new();
    for _ in 0..150 {
        calendars = app.calendars(&user.token).await;
        if calendars.iter().all(|c| {
            c["sync_status"] != "queued"
                && c["sync_status"] != "syncing"
                && !c["last_synced_at"].is_null()
                || c["sync_status"] == "error"
        }) {
            return calendars;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("calendars did not settle: {calendars:?}");
}

/// One "Busy" hour (09:00 UTC) per id, spread over the first 28 days of `month` (`YYYY-MM`).
fn put_busy_mornings(s: &mut fakes::google::GoogleState, cal: &str, ids: &[String], month: &str) {
    for (i, id) in ids.iter().enumerate() {
        let day = 1 + i % 28;
        s.put_event(
            cal,
            fakes::google::event(
                id,
                "Busy",
                &format!("{month}-{day:02}T09:00:00Z"),
                &format!("{month}-{day:02}T10:00:00Z"),
            ),
        );
    }
}

async fn google_calendars_converge_through_changes(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let cal = "ada@example.com";
    {
        let mut s = google.state();
        s.put_event(
            cal,
            fakes::google::event(
                "g1",
                "Kickoff",
                "2026-12-01T09:00:00+01:00",
                "2026-12-01T10:00:00+01:00",
            ),
        );
        s.put_event(
            cal,
            fakes::google::event(
                "g2",
                "Review",
                "2026-12-02T14:00:00Z",
                "2026-12-02T15:00:00Z",
            ),
        );
        s.put_event(
            cal,
            json!({"id": "h1", "summary": "Holiday", "start": {"date": "2026-12-24"},
            "end": {"date": "2026-12-26"}, "transparency": "transparent"}),
        );
    }
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let first = converge(&app, &user, &["g1", "g2", "h1"]).await;
    assert!(
        first.contains(&("g1".into(), "Kickoff".into(), "2026-12-01T08:00:00Z".into())),
        "{first:?}"
    );
    let calendars = wait_idle(&app, &user).await;
    assert_eq!(calendars[0]["sync_status"], "idle");
    assert!(calendars[0]["last_error"].is_null());

    // The synced event blocks time; the transparent holiday does not.
    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2026-12-01T00:00:00Z"),
                ("end", "2026-12-02T00:00:00Z"),
                ("duration", "60"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    let body: Value = res.json().await.unwrap();
    let slots: Vec<&str> = body["slots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["start"].as_str().unwrap())
        .collect();
    assert!(!slots.contains(&"2026-12-01T08:00:00Z"), "{slots:?}");
    assert!(slots.contains(&"2026-12-01T09:00:00Z"), "{slots:?}");

    // Moved, deleted, added at Google.
    {
        let mut s = google.state();
        s.put_event(
            cal,
            fakes::google::event(
                "g1",
                "Kickoff (moved)",
                "2026-12-03T09:00:00Z",
                "2026-12-03T10:00:00Z",
            ),
        );
        s.delete_event(cal, "g2");
        s.put_event(
            cal,
            fakes::google::event(
                "g3",
                "Retro",
                "2026-12-04T09:00:00Z",
                "2026-12-04T10:00:00Z",
            ),
        );
    }
    sync_now(&app, &user, calendars[0]["id"].as_str().unwrap()).await;
    let after = converge(&app, &user, &["g1", "g3", "h1"]).await;
    assert!(after.contains(&(
        "g1".into(),
        "Kickoff (moved)".into(),
        "2026-12-03T09:00:00Z".into()
    )));

    // The sync token expires: a full resync ends with exactly Google's events.
    {
        let mut s = google.state();
        s.expire_sync_tokens();
        s.delete_event(cal, "g3");
    }
    sync_now(&app, &user, calendars[0]["id"].as_str().unwrap()).await;
    converge(&app, &user, &["g1", "h1"]).await;
    wait_idle(&app, &user).await;
    let resets = sync_runs::Entity::find()
        .filter(sync_runs::Column::CursorReset.eq(true))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(resets, 1);
}

fn graph_event(id: &str, day: u32) -> Value {
    json!({"id": id, "subject": format!("Graph {id}"), "showAs": "busy",
        "start": {"dateTime": format!("2026-12-{day:02}T09:00:00.0000000"), "timeZone": "UTC"},
        "end": {"dateTime": format!("2026-12-{day:02}T09:30:00.0000000"), "timeZone": "UTC"}})
}

async fn microsoft_recovers_from_a_delta_expiry_in_the_middle_of_a_round(backend: Backend) {
    let microsoft = fakes::microsoft::start("ada@contoso.com").await;
    let cal = microsoft.state().default_calendar_id();
    let ids: Vec<String> = (0..300).map(|i| format!("m{i:03}")).collect();
    {
        let mut s = microsoft.state();
        for (i, id) in ids.iter().enumerate() {
            s.put_event(&cal, graph_event(id, 1 + (i % 28) as u32));
        }
        // The first round's second page finds the delta state gone.
        s.expire_mid_round = true;
    }
    let app = app_with(backend, microsoft.env()).await;
    let user = app.register_user().await;
    app.oauth_dance("microsoft", &user.token, "allow").await;
    let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    converge(&app, &user, &expected).await;
    wait_idle(&app, &user).await;
    let resets = sync_runs::Entity::find()
        .filter(sync_runs::Column::CursorReset.eq(true))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(resets, 1, "the round started over");

    {
        let mut s = microsoft.state();
        s.delete_event(&cal, "m000");
        s.put_event(&cal, graph_event("m001", 27));
    }
    let calendar_id = app.calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_idle(&app, &user).await;
    sync_now(&app, &user, &calendar_id).await;
    let after = converge(&app, &user, &expected[1..]).await;
    assert!(
        after
            .iter()
            .any(|e| e.0 == "m001" && e.2 == "2026-12-27T09:00:00Z")
    );
}

async fn calcom_bookings_and_ics_feeds_converge(backend: Backend) {
    let calcom = fakes::calcom::start("ada@cal.example").await;
    let ics = fakes::ics::start().await;
    let key = calcom.state().issue_api_key();
    calcom.state().put_booking(json!({"uid": "b1", "title": "Intro", "start": "2026-12-07T10:00:00Z", "end": "2026-12-07T10:30:00Z"}));
    ics.state().publish(
        "rota",
        &feed(&[("r1", "20261208T090000Z"), ("r2", "20261209T090000Z")]),
    );
    let app = app_with(backend, calcom.env()).await;
    let user = app.register_user().await;
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
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/rota.ics")}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    converge(&app, &user, &["b1", "r1", "r2"]).await;
    let calendars = wait_idle(&app, &user).await;

    calcom.state().put_booking(json!({"uid": "b1", "title": "Intro", "status": "cancelled", "start": "2026-12-07T10:00:00Z", "end": "2026-12-07T10:30:00Z"}));
    calcom.state().put_booking(json!({"uid": "b2", "title": "Follow-up", "start": "2026-12-10T10:00:00Z", "end": "2026-12-10T11:00:00Z"}));
    ics.state().publish(
        "rota",
        &feed(&[("r2", "20261209T100000Z"), ("r3", "20261210T090000Z")]),
    );
    for c in &calendars {
        sync_now(&app, &user, c["id"].as_str().unwrap()).await;
    }
    let after = converge(&app, &user, &["b2", "r2", "r3"]).await;
    assert!(after.contains(&(
        "r2".into(),
        "Shift r2".into(),
        "2026-12-09T10:00:00Z".into()
    )));

    // Unchanged feed: answered 304, nothing rewritten.
    let ics_calendar = calendars.iter().find(|c| c["provider"] == "ics").unwrap();
    wait_idle(&app, &user).await;
    sync_now(&app, &user, ics_calendar["id"].as_str().unwrap()).await;
    wait_idle(&app, &user).await;
    assert_eq!(
        ics.state().requests.last().unwrap().1.as_deref(),
        Some("\"v2\"")
    );
    converge(&app, &user, &["b2", "r2", "r3"]).await;
}

fn feed(events: &[(&str, &str)]) -> String {
    let mut text = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n");
    for (uid, start) in events {
        text.push_str(&format!(
            "BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTAMP:20261120T000000Z\r\nDTSTART:{start}\r\nDURATION:PT1H\r\nSUMMARY:Shift {uid}\r\nEND:VEVENT\r\n"
        ));
    }
    text.push_str("END:VCALENDAR\r\n");
    text
}

async fn a_round_that_fails_half_way_converges_on_the_next_run(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let cal = "ada@example.com";
    let ids: Vec<String> = (0..400).map(|i| format!("e{i:03}")).collect();
    {
        let mut s = google.state();
        put_busy_mornings(&mut s, cal, &ids, "2026-12");
        // Page one goes through, page two is refused for longer than a run waits.
        s.list_faults.push(Fault::Delay(Duration::ZERO));
        s.list_faults.push(Fault::RateLimited {
            retry_after: Some("120".into()),
        });
    }
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let calendars = wait_idle(&app, &user).await;
    assert_eq!(calendars[0]["sync_status"], "error", "{calendars:?}");
    assert!(
        calendars[0]["last_error"]
            .as_str()
            .unwrap()
            .contains("rate"),
        "{calendars:?}"
    );
    let half = events(&app, &user).await.len();
    assert_eq!(half, 250, "the first page was written");

    // A change meanwhile, then the next run: no duplicates, nothing missing.
    google.state().delete_event(cal, "e000");
    sync_now(&app, &user, calendars[0]["id"].as_str().unwrap()).await;
    let expected: Vec<&str> = ids[1..].iter().map(String::as_str).collect();
    converge(&app, &user, &expected).await;
    let calendars = wait_idle(&app, &user).await;
    assert_eq!(calendars[0]["sync_status"], "idle");
}

async fn two_syncs_of_one_calendar_never_run_at_once(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    google.state().put_event(
        "ada@example.com",
        fakes::google::event("g1", "One", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"),
    );
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    converge(&app, &user, &["g1"]).await;
    let calendars = wait_idle(&app, &user).await;
    let id: uuid::Uuid = calendars[0]["id"].as_str().unwrap().parse().unwrap();
    // No run of any kind in flight (a re-run may follow the first one).
    no_run_in_flight(&app, id).await;
    let runs_before = sync_runs::Entity::find().count(&app.ctx.db).await.unwrap();

    // The first run is slow at Google; the second arrives meanwhile.
    google
        .state()
        .api_faults
        .push(Fault::Delay(Duration::from_millis(800)));
    let (a, b) = tokio::join!(sync::run(&app.ctx, id, Trigger::Manual), async {
        tokio::time::sleep(Duration::from_millis(200)).await;
        sync::run(&app.ctx, id, Trigger::Manual).await
    });
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.is_some() && b.is_none(), "exactly one ran: {a:?} {b:?}");
    let runs_after = sync_runs::Entity::find().count(&app.ctx.db).await.unwrap();
    assert_eq!(
        runs_after - runs_before,
        2,
        "the waiting request became exactly one more run"
    );
    converge(&app, &user, &["g1"]).await;
}

/// The user deletes a calendar while its sync is between two pages: the delete answers 204
/// (it neither waits for the run nor deadlocks with it), the run stops at its next write
/// without an error or a stray row, and nothing of the calendar is left.
async fn a_calendar_deleted_during_its_sync_stops_the_run_cleanly(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let cal = "ada@example.com";
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let calendars = wait_idle(&app, &user).await;
    let id: uuid::Uuid = calendars[0]["id"].as_str().unwrap().parse().unwrap();
    let stored = || async {
        entity::events::Entity::find()
            .filter(entity::events::Column::CalendarId.eq(id))
            .count(&app.ctx.db)
            .await
            .unwrap()
    };
    // No run in flight any more (a re-run may follow the first one).
    no_run_in_flight(&app, id).await;

    // 600 new events, three pages; the second comes slowly.
    let ids: Vec<String> = (0..600).map(|i| format!("d{i:03}")).collect();
    {
        let mut s = google.state();
        put_busy_mornings(&mut s, cal, &ids, "2027-01");
        s.list_faults.push(Fault::Delay(Duration::ZERO));
        s.list_faults.push(Fault::Delay(Duration::from_secs(2)));
    }
    let run = tokio::spawn({
        let ctx = app.ctx.clone();
        async move { sync::run(&ctx, id, Trigger::Manual).await }
    });
    for _ in 0..250 {
        if stored().await >= 250 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(stored().await >= 250, "the first page was written");

    let res = app
        .delete(&format!("/api/calendars/{id}"), &user.token)
        .await;
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    let outcome = run.await.unwrap();
    assert!(
        outcome.is_ok(),
        "the run stops without an error: {outcome:?}"
    );
    assert_eq!(stored().await, 0, "no row of the calendar is left");
    assert!(app.calendars(&user.token).await.is_empty());
    let runs = sync_runs::Entity::find()
        .filter(sync_runs::Column::CalendarId.eq(id))
        .count(&app.ctx.db)
        .await
        .unwrap();
    assert_eq!(runs, 0, "its runs went with it");
}

async fn a_revoked_grant_stops_syncing_and_says_so(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    google.state().put_event(
        "ada@example.com",
        fakes::google::event("g1", "One", "2026-12-01T09:00:00Z", "2026-12-01T10:00:00Z"),
    );
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    converge(&app, &user, &["g1"]).await;
    let calendars = wait_idle(&app, &user).await;

    // The user revokes freeslot at Google: the access token is refused, the refresh too.
    google.state().oauth.revoke_everything();
    sync_now(&app, &user, calendars[0]["id"].as_str().unwrap()).await;
    let mut calendar = Value::Null;
    for _ in 0..100 {
        calendar = app.calendars(&user.token).await[0].clone();
        if calendar["connection_status"] == "needs_reauth" && calendar["sync_status"] == "error" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(calendar["connection_status"], "needs_reauth", "{calendar}");
    assert_eq!(calendar["sync_status"], "error", "{calendar}");
    // The last known events stay visible.
    converge(&app, &user, &["g1"]).await;
}

/// The worker stops for good between two pages of a round (the run is dropped mid-flight, as a
/// killed process leaves it) and the app starts again: a sync asked for meanwhile is not lost,
/// the next run takes the round up again once the dead run's lease lapses, and the calendar
/// ends with exactly Google's events; the dead run is recorded as interrupted.
async fn a_worker_stopped_between_two_pages_converges_after_a_restart(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    let cal = "ada@example.com";
    let app = app_with(backend, google.env()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let calendars = wait_idle(&app, &user).await;
    let id: uuid::Uuid = calendars[0]["id"].as_str().unwrap().parse().unwrap();
    async fn row(app: &TestApp, id: uuid::Uuid) -> entity::calendars::Model {
        entity::calendars::Entity::find_by_id(id)
            .one(&app.ctx.db)
            .await
            .unwrap()
            .unwrap()
    }
    async fn stored(app: &TestApp, id: uuid::Uuid) -> u64 {
        entity::events::Entity::find()
            .filter(entity::events::Column::CalendarId.eq(id))
            .count(&app.ctx.db)
            .await
            .unwrap()
    }
    no_run_in_flight(&app, id).await;
    let cursor = row(&app, id).await.sync_cursor;
    assert!(cursor.is_some());

    // 600 new events: an incremental round of three pages, the second of which hangs.
    let ids: Vec<String> = (0..600).map(|i| format!("w{i:03}")).collect();
    {
        let mut s = google.state();
        put_busy_mornings(&mut s, cal, &ids, "2027-01");
        s.list_faults.push(Fault::Delay(Duration::ZERO));
        s.list_faults.push(Fault::Delay(Duration::from_secs(120)));
    }
    let run = sync::run(&app.ctx, id, Trigger::Manual);
    let first_page_written = async {
        while stored(&app, id).await < 250 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // While the page hangs, the run's heartbeat keeps renewing its lease (every 10 s).
        let written = row(&app, id).await.sync_lease_until.unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while row(&app, id).await.sync_lease_until.unwrap() <= written {
            assert!(
                std::time::Instant::now() < deadline,
                "the lease was not renewed"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    };
    tokio::select! {
        outcome = run => panic!("the run should hang on page two, it ended with {outcome:?}"),
        () = first_page_written => {}
    }
    // What the dead run left: page one, the old cursor, its lease.
    assert_eq!(stored(&app, id).await, 250);
    let left = row(&app, id).await;
    assert_eq!(
        left.sync_cursor, cursor,
        "the cursor moves only with the last page"
    );
    assert!(left.sync_lease_until.is_some());

    let app = app.restart().await;
    // Asked for while the dead run's lease still holds the calendar: noted, not lost.
    sync_now(&app, &user, &id.to_string()).await;
    for _ in 0..100 {
        if row(&app, id).await.sync_pending {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(row(&app, id).await.sync_pending, "the request was noted");
    assert_eq!(
        stored(&app, id).await,
        250,
        "nothing ran while the lease held"
    );

    // The dead run's heartbeat stopped with it: 30 s later its lease has lapsed (time passes on
    // the app's clock rather than waiting), and the minute's schedule finds the request even
    // though the calendar synced a moment ago.
    tests::clock::clock().advance(chrono::Duration::seconds(31));
    assert!(row(&app, id).await.sync_lease_until.unwrap() < tests::clock::now());
    let due = sync::schedule::enqueue_due(&app.ctx, tests::clock::now())
        .await
        .unwrap();
    assert_eq!(due, 1);
    let expected: Vec<&str> = ids.iter().map(String::as_str).collect();
    converge(&app, &user, &expected).await;
    let calendars = wait_idle(&app, &user).await;
    assert_eq!(calendars[0]["sync_status"], "idle", "{calendars:?}");
    assert!(!row(&app, id).await.sync_pending);

    let runs = sync_runs::Entity::find()
        .filter(sync_runs::Column::CalendarId.eq(id))
        .all(&app.ctx.db)
        .await
        .unwrap();
    assert!(
        runs.iter()
            .all(|r| r.status != entity::SyncRunStatus::Running),
        "{runs:?}"
    );
    let interrupted: Vec<_> = runs
        .iter()
        .filter(|r| {
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("interrupted"))
        })
        .collect();
    assert_eq!(interrupted.len(), 1, "{runs:?}");
    assert_eq!(interrupted[0].status, entity::SyncRunStatus::Failed);
}

/// A feed no one should write: a series every second without end and an event lasting
/// 999,999,999,999,999,999 weeks. The connect answers, the sane event arrives, the impossible one
/// is left out, and a day of the series is cut at the contract's 5,000 occurrences.
async fn hostile_feeds_are_read_within_bounds(backend: Backend) {
    let ics = fakes::ics::start().await;
    ics.state().publish(
        "hostile",
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n\
         BEGIN:VEVENT\r\nUID:secondly@x\r\nDTSTART:20261201T090000Z\r\nDURATION:PT1S\r\n\
         RRULE:FREQ=SECONDLY\r\nSUMMARY:Every second\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:forever@x\r\nDTSTART:20261202T090000Z\r\n\
         DURATION:P999999999999999999W\r\nSUMMARY:Forever\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:ok@x\r\nDTSTART:20261203T090000Z\r\nDURATION:PT1H\r\n\
         SUMMARY:Fine\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    let app = app_with(backend, vec![]).await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/hostile.ics")}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let calendars = wait_idle(&app, &user).await;
    // The sync succeeded, and says what it left out.
    assert_eq!(calendars[0]["sync_status"], "idle", "{calendars:?}");
    let said = calendars[0]["last_error"].as_str().unwrap_or_default();
    assert!(
        said.contains("\"Every second\"") && said.contains("5000"),
        "{said}"
    );

    let day = [
        ("start", "2026-12-03T00:00:00Z"),
        ("end", "2026-12-04T00:00:00Z"),
    ];
    let mut ids: HashMap<String, usize> = HashMap::new();
    let mut token: Option<String> = None;
    loop {
        let mut q = day.to_vec();
        q.push(("limit", "2500"));
        if let Some(t) = &token {
            q.push(("page_token", t));
        }
        let res = app.get_query("/api/events", &user.token, &q).await;
        assert_eq!(res.status(), StatusCode::OK);
        let page: Value = res.json().await.unwrap();
        for e in page["events"].as_array().unwrap() {
            *ids.entry(e["provider_event_id"].as_str().unwrap().to_owned())
                .or_default() += 1;
        }
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_owned()),
            None => break,
        }
    }
    assert_eq!(ids.get("ok@x"), Some(&1), "{ids:?}");
    assert_eq!(ids.get("forever@x"), None, "{ids:?}");
    assert_eq!(ids.get("secondly@x"), Some(&5_000), "{ids:?}");

    let mut q = day.to_vec();
    q.push(("duration", "30"));
    let res = app.get_query("/api/availability", &user.token, &q).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}

backend_tests!(
    hostile_feeds_are_read_within_bounds,
    a_worker_stopped_between_two_pages_converges_after_a_restart,
    a_calendar_deleted_during_its_sync_stops_the_run_cleanly,
    google_calendars_converge_through_changes,
    microsoft_recovers_from_a_delta_expiry_in_the_middle_of_a_round,
    calcom_bookings_and_ics_feeds_converge,
    a_round_that_fails_half_way_converges_on_the_next_run,
    two_syncs_of_one_calendar_never_run_at_once,
    a_revoked_grant_stops_syncing_and_says_so,
);

/// Redis goes away for a while: the api keeps answering from the database, a sync asked for
/// meanwhile is refused with 503 (not lost silently), and once Redis is back jobs run again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(freeslot_sqlite_only, ignore = "FREESLOT_TEST_BACKENDS=sqlite")]
async fn a_redis_outage_loses_nothing_and_jobs_resume() {
    let backend = Backend::postgres();
    let redis = backend
        .redis_url()
        .expect("Backend::postgres has Redis")
        .to_owned();
    let proxy = tests::TcpProxy::start(
        redis
            .trim_start_matches("redis://")
            .trim_end_matches('/')
            .to_owned(),
    )
    .await;
    let backend = match backend {
        Backend::Postgres { server_url, .. } => Backend::Postgres {
            server_url,
            redis_url: Some(proxy.url("redis")),
        },
        other => other,
    };
    let ics = fakes::ics::start().await;
    ics.state()
        .publish("rota", &feed(&[("r1", "20261208T090000Z")]));
    let app = app_with(backend, vec![]).await;
    let user = app.register_user().await;
    let res = app
        .post_json(
            "/api/auth/connect/ics",
            &json!({"url": ics.url("/rota.ics")}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    converge(&app, &user, &["r1"]).await;
    let calendar = wait_idle(&app, &user).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    proxy.cut();
    ics.state()
        .publish("rota", &feed(&[("r2", "20261209T090000Z")]));
    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2026-12-08T00:00:00Z"),
                ("end", "2026-12-09T00:00:00Z"),
                ("duration", "30"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "availability needs no queue");
    let res = app
        .post_json(
            &format!("/api/calendars/{calendar}/sync"),
            &json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(tests::error_code(res).await, "queue_unavailable");
    assert_eq!(
        events(&app, &user).await.len(),
        1,
        "nothing changed meanwhile"
    );
    assert_eq!(app.calendars(&user.token).await[0]["sync_status"], "idle");

    proxy.restore();
    let mut accepted = false;
    for _ in 0..100 {
        let res = app
            .post_json(
                &format!("/api/calendars/{calendar}/sync"),
                &json!({}),
                Some(&user.token),
            )
            .await;
        if res.status() == StatusCode::ACCEPTED {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(accepted, "the queue takes jobs again");
    converge(&app, &user, &["r2"]).await;
}
