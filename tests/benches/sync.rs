//! How fast a calendar syncs: a full sync of 50,000 events (pages of 250) from the fake Google
//! into Postgres, a full resync of the same events, then incremental syncs of 10 changes, with
//! the heap's peak growth during each. Run: `TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test
//! TEST_REDIS_URL=redis://127.0.0.1:6379 cargo bench -p tests --bench sync` (numbers in
//! docs/benchmarks.md).
//!
//! The fake runs in the same process and on the same two cores, so every time here includes
//! its time serving pages; "fetch only" lists the same pages without writing anything (the sync
//! fetches the next page while it writes the previous one, so the two overlap).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use entity::calendars;
use providers::google::Google;
use providers::{Credential, SyncRequest, Window, list_all};
use sea_orm::{ActiveModelTrait, Set};
use serde_json::json;
use service::sync::{self, Trigger};
use tests::fakes;
use tests::{Backend, TestApp, test_worker_options};

/// Counts live heap bytes and their high-water mark.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn reset_peak() -> usize {
    let live = LIVE.load(Ordering::Relaxed);
    PEAK.store(live, Ordering::Relaxed);
    live
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `BENCH_EVENTS` overrides the 50,000 for a quicker look.
fn events_count() -> usize {
    std::env::var("BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    #[allow(non_snake_case)]
    let EVENTS = events_count();
    // Postgres + Redis: TEST_DATABASE_URL and TEST_REDIS_URL, by default the local servers.
    let backend = Backend::postgres();
    let google = fakes::google::start("ada@example.com").await;
    let mut env: std::collections::HashMap<String, String> = google.env().into_iter().collect();
    env.insert("RUST_LOG".into(), "warn".into());
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    // Let the (empty) first sync finish; from here on only this benchmark syncs.
    let calendar_id = loop {
        let calendars = app.calendars(&user.token).await;
        if let Some(c) = calendars.first()
            && !c["last_synced_at"].is_null()
        {
            break c["id"].as_str().unwrap().parse::<uuid::Uuid>().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(500)).await;

    let now = tests::clock::now();
    {
        let mut s = google.state();
        for i in 0..EVENTS {
            // 50,000 events fill the sync window (90 days back, 365 ahead) only at one every
            // 13 minutes; 10 minutes long, they do not overlap (an overlapping layout would
            // measure conflict detection over hundreds of thousands of pairs, running beside).
            let start = now - chrono::Duration::days(89)
                + chrono::Duration::minutes(13 * i as i64 % (454 * 24 * 60));
            s.put_event("ada@example.com", json!({
                "id": format!("evt{i:06}"), "summary": format!("Meeting {i}"),
                "iCalUID": format!("evt{i:06}@google.com"),
                "start": {"dateTime": start.to_rfc3339()},
                "end": {"dateTime": (start + chrono::Duration::minutes(10)).to_rfc3339()},
                "attendees": [{"email": "ada@example.com", "self": true, "responseStatus": "accepted"},
                              {"email": "client@acme.test", "responseStatus": "accepted"}],
            }));
        }
    }

    // The provider's share: the same pages, fetched and parsed, nothing written.
    let token = google.state().oauth.issue_access().0;
    let client = Google::new(
        providers::http::client(),
        google.url("/calendar/v3").parse().unwrap(),
    );
    let window = Window {
        start: now - chrono::Duration::days(90),
        end: now + chrono::Duration::days(365),
        now,
    };
    let started = Instant::now();
    let (listed, _) = list_all(
        &client,
        Credential::Bearer(&token),
        "ada@example.com",
        SyncRequest::Full { window },
    )
    .await
    .unwrap();
    let fetch_only = started.elapsed();
    assert_eq!(listed.len(), EVENTS);
    drop(listed);

    // The first sync of the calendar: every event is new.
    eprintln!("full sync starting");
    let base = reset_peak();
    let started = Instant::now();
    let outcome = sync::run(&app.ctx, calendar_id, Trigger::Manual)
        .await
        .unwrap()
        .unwrap();
    let total = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed) - base;
    assert_eq!(outcome.upserted as usize, EVENTS);
    println!(
        "full sync: {EVENTS} events, {} pages in {:.2} s = {:.0} events/s end to end \
         (fetch only: {:.2} s); peak heap growth {:.1} MiB",
        outcome.pages,
        total.as_secs_f64(),
        EVENTS as f64 / total.as_secs_f64(),
        fetch_only.as_secs_f64(),
        mib(peak),
    );

    // A full resync over what is stored (as after a 410): every row is compared, none rewritten.
    // The first sync's conflict detection (a job in this process) finishes first.
    tokio::time::sleep(Duration::from_secs(8)).await;
    calendars::ActiveModel {
        id: Set(calendar_id),
        sync_cursor: Set(None),
        ..Default::default()
    }
    .update(&app.ctx.db)
    .await
    .unwrap();
    let base = reset_peak();
    let started = Instant::now();
    let outcome = sync::run(&app.ctx, calendar_id, Trigger::Manual)
        .await
        .unwrap()
        .unwrap();
    let total = started.elapsed();
    assert_eq!(outcome.upserted, 0);
    println!(
        "full resync of the same {EVENTS} events (nothing changed): {:.2} s = {:.0} events/s; \
         peak heap growth {:.1} MiB",
        total.as_secs_f64(),
        EVENTS as f64 / total.as_secs_f64(),
        mib(PEAK.load(Ordering::Relaxed) - base),
    );

    let mut timings = Vec::new();
    for round in 0..20 {
        // Each changed sync starts conflict detection over the 50,000 events (a job in this
        // process); measure the sync, not the two competing for the two cores.
        tokio::time::sleep(Duration::from_secs(2)).await;
        {
            let mut s = google.state();
            for i in 0..10 {
                let n = round * 10 + i;
                let start = now + chrono::Duration::days(3) + chrono::Duration::hours(n as i64);
                s.put_event(
                    "ada@example.com",
                    json!({
                        "id": format!("evt{n:06}"), "summary": format!("Moved {n}"),
                        "start": {"dateTime": start.to_rfc3339()},
                        "end": {"dateTime": (start + chrono::Duration::minutes(30)).to_rfc3339()},
                    }),
                );
            }
        }
        let base = reset_peak();
        let started = Instant::now();
        let outcome = sync::run(&app.ctx, calendar_id, Trigger::Manual)
            .await
            .unwrap()
            .unwrap();
        let took = started.elapsed();
        assert_eq!(outcome.upserted, 10);
        timings.push((took, PEAK.load(Ordering::Relaxed) - base));
    }
    let mut ms: Vec<f64> = timings
        .iter()
        .map(|(t, _)| t.as_secs_f64() * 1000.0)
        .collect();
    ms.sort_by(f64::total_cmp);
    let peak = timings.iter().map(|(_, p)| *p).max().unwrap_or(0);
    println!(
        "incremental sync of 10 changes (20 rounds): median {:.1} ms, min {:.1} ms, max {:.1} ms end to end; peak heap growth {:.2} MiB",
        ms[ms.len() / 2],
        ms[0],
        ms[ms.len() - 1],
        mib(peak)
    );
    println!(
        "process heap now: {:.1} MiB (the fake's 50,000 events included)",
        mib(LIVE.load(Ordering::Relaxed))
    );
}
