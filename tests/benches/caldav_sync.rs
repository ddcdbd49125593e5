//! How fast a CalDAV calendar of 10,000 events syncs from a real server (Radicale, on the same
//! two cores): the first sync after connecting, a sync after 10 changes, and one after none.
//! Run: `cargo bench -p tests --bench caldav_sync` (needs Radicale: `scripts/test.sh` installs
//! it; numbers in docs/benchmarks.md). The times include Radicale's own, which dominates.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tests::radicale::Radicale;
use tests::{Backend, TestApp, TestUser};

const EVENTS: usize = 10_000;

fn item(n: usize, hour: usize, sequence: usize) -> String {
    let day = 1 + n % 28;
    format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//bench//EN\r\nBEGIN:VEVENT\r\nUID:ev-{n}@bench\r\n\
         DTSTAMP:20261101T000000Z\r\nSEQUENCE:{sequence}\r\nSUMMARY:Meeting {n}\r\n\
         DTSTART:202612{day:02}T{hour:02}0000Z\r\nDTEND:202612{day:02}T{hour:02}3000Z\r\n\
         END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
}

async fn synced_after(app: &TestApp, user: &TestUser, id: &str, before: &Value) -> Duration {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(300);
    loop {
        let calendars = app.calendars(&user.token).await;
        let c = calendars
            .iter()
            .find(|c| c["id"] == id)
            .expect("the calendar");
        if c["last_synced_at"] != *before && c["sync_status"] == "idle" {
            return started.elapsed();
        }
        assert!(Instant::now() < deadline, "no sync: {c}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sync_now(app: &TestApp, user: &TestUser, id: &str) -> Duration {
    let started = Instant::now();
    let c = app.sync_calendar(&user.token, id).await;
    assert_eq!(c["sync_status"], "idle", "{c}");
    started.elapsed()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dav = Radicale::start().await;
    dav.make_calendar("big", "Big", "#0088CCFF").await;
    let dir = dav.collection_dir("big");
    for n in 0..EVENTS {
        std::fs::write(dir.join(format!("ev-{n}.ics")), item(n, 8 + n % 9, 0)).unwrap();
    }
    let postgres = std::env::var("TEST_DATABASE_URL").is_ok();
    let backend = if postgres {
        Backend::postgres()
    } else {
        Backend::Sqlite
    };
    let app = TestApp::spawn(backend).await;
    let user = app.register_user().await;
    let started = Instant::now();
    let res = app
        .post_json(
            "/api/auth/connect/caldav",
            &json!({"url": dav.url("/"), "username": dav.username, "password": dav.password}),
            Some(&user.token),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let id = body["calendars"][0]["id"].as_str().unwrap().to_owned();
    synced_after(&app, &user, &id, &Value::Null).await;
    let first = started.elapsed();
    let listed: Value = app
        .get_query(
            "/api/events",
            &user.token,
            &[
                ("start", "2026-12-01T00:00:00Z"),
                ("end", "2026-12-02T00:00:00Z"),
                ("limit", "2500"),
            ],
        )
        .await
        .json()
        .await
        .unwrap();
    let day_one = listed["events"].as_array().unwrap().len();
    for n in 0..10 {
        dav.put("big", &format!("ev-{n}"), &item(n, 20, 1)).await;
    }
    let changed = sync_now(&app, &user, &id).await;
    let unchanged = sync_now(&app, &user, &id).await;
    // The same calendar for a second user, now that Radicale has read its items once: what a
    // first sync costs without the server's cold start.
    let second = app.register_user().await;
    let started = Instant::now();
    let res = app
        .post_json(
            "/api/auth/connect/caldav",
            &json!({"url": dav.url("/"), "username": dav.username, "password": dav.password}),
            Some(&second.token),
        )
        .await;
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    let id = body["calendars"][0]["id"].as_str().unwrap().to_owned();
    synced_after(&app, &second, &id, &Value::Null).await;
    let warm = started.elapsed();
    println!(
        "CalDAV ({}), {EVENTS} events ({day_one} on the first day): connect + first sync {:.2} s \
         (server warm: {:.2} s); after 10 changes {:.0} ms; unchanged {:.0} ms",
        if postgres { "Postgres" } else { "SQLite" },
        first.as_secs_f64(),
        warm.as_secs_f64(),
        changed.as_secs_f64() * 1000.0,
        unchanged.as_secs_f64() * 1000.0
    );
}
