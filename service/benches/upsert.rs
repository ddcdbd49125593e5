//! The sync's write path: one page (250 events) upserted into SQLite, new and unchanged.
//!
//! `cargo bench -p service --bench upsert`; results in docs/benchmarks.md. (The end-to-end sync
//! into Postgres is `cargo bench -p tests --bench sync`.)

use std::hint::black_box;

use chrono::{Duration, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use entity::{calendars, users};
use providers::{RemoteEvent, RemoteTime};
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use service::sync::rows::{self, Target};
use uuid::Uuid;

/// A fixed "now": the bench writes the same rows whatever the date.
fn bench_now() -> chrono::DateTime<Utc> {
    "2026-11-23T07:00:00Z".parse().unwrap()
}

fn page(prefix: &str, n: usize) -> Vec<RemoteEvent> {
    let start = bench_now();
    (0..n)
        .map(|i| RemoteEvent {
            id: format!("{prefix}-{i:04}"),
            ical_uid: Some(format!("{prefix}-{i:04}@google.com")),
            recurring_event_id: None,
            original_start: None,
            title: format!("Meeting {i}"),
            description: None,
            location: Some("Room 1".into()),
            time: RemoteTime::Timed {
                start: start + Duration::hours(i as i64),
                end: start + Duration::hours(i as i64) + Duration::minutes(45),
            },
            timezone: Some("Europe/Berlin".into()),
            status: domain::EventStatus::Confirmed,
            busy: true,
            out_of_office: false,
            self_response: Some(domain::SelfResponse::Accepted),
            rrule: None,
            exdates: vec![],
            rdates: vec![],
            organizer_email: Some("boss@acme.test".into()),
            attendee_emails: vec!["ada@example.com".into(), "client@acme.test".into()],
            etag: Some(format!("\"{i}\"")),
            updated: Some(start),
        })
        .collect()
}

async fn setup() -> (DatabaseConnection, Uuid, Uuid, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
    let db = service::db::connect(&url).await.unwrap();
    service::db::migrate(&db).await.unwrap();
    let (user_id, calendar_id, now) = (Uuid::now_v7(), Uuid::now_v7(), bench_now());
    users::ActiveModel {
        id: Set(user_id),
        email: Set("bench@example.com".into()),
        password_hash: Set("x".into()),
        name: Set("Bench".into()),
        timezone: Set("Europe/Berlin".into()),
        events_version: Set(0),
        calendars_version: Set(0),
        notification_seq: Set(0),
        alerted_seq: Set(0),
        availability_from: Set(None),
        availability_to: Set(None),
        availability_told_at: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&db)
    .await
    .unwrap();
    calendars::ActiveModel {
        id: Set(calendar_id),
        provider_calendar_id: Set("primary".into()),
        ..service::calendars::new_row(
            user_id,
            None,
            entity::Provider::Google,
            "Bench",
            Some("Europe/Berlin".into()),
            now,
        )
    }
    .insert(&db)
    .await
    .unwrap();
    (db, user_id, calendar_id, dir)
}

fn upserts(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let (db, user_id, calendar_id, _dir) = rt.block_on(setup());
    let target = Target {
        user_id,
        calendar_id,
        provider: entity::Provider::Google,
        calendar_zone: Some("Europe/Berlin"),
        now: bench_now(),
    };
    let unchanged: Vec<_> = page("same", 250)
        .iter()
        .map(|e| rows::to_row(&target, e))
        .collect();
    rt.block_on(rows::upsert(&db, calendar_id, unchanged.clone()))
        .unwrap();

    let mut group = c.benchmark_group("sync_page");
    let mut round = 0u64;
    group.bench_function("upsert 250 new events (sqlite)", |b| {
        b.iter_batched(
            || {
                round += 1;
                page(&format!("new{round}"), 250)
                    .iter()
                    .map(|e| rows::to_row(&target, e))
                    .collect::<Vec<_>>()
            },
            |rows_| {
                rt.block_on(rows::upsert(&db, calendar_id, black_box(rows_)))
                    .unwrap()
            },
            BatchSize::LargeInput,
        )
    });
    group.bench_function("upsert 250 unchanged events (sqlite)", |b| {
        b.iter(|| {
            rt.block_on(rows::upsert(&db, calendar_id, black_box(unchanged.clone())))
                .unwrap()
        })
    });
    group.bench_function("map 250 provider events to rows", |b| {
        let events = page("map", 250);
        b.iter(|| {
            events
                .iter()
                .map(|e| rows::to_row(&target, black_box(e)))
                .collect::<Vec<_>>()
        })
    });
    group.finish();
}

criterion_group!(benches, upserts);
criterion_main!(benches);
