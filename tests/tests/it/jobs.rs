use std::collections::HashMap;
use std::time::Duration;

use entity::oauth_states;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use service::Job;
use tests::{Backend, TestApp, backend_tests, test_worker_options};
use uuid::Uuid;

/// One expired and one live OAuth state for a fresh user; returns their ids.
async fn seed_states(app: &TestApp) -> (Uuid, Uuid) {
    let user = app.register_user().await;
    let user_id: Uuid = user.id.parse().unwrap();
    let mut ids = Vec::new();
    for minutes in [-5i64, 10] {
        let id = Uuid::new_v4();
        oauth_states::ActiveModel {
            id: Set(id),
            state_hash: Set(format!("hash-{id}")),
            user_id: Set(user_id),
            provider: Set(entity::Provider::Google),
            pkce_verifier_enc: Set(app.ctx.vault.seal(
                "verifier",
                service::vault::Slot::new(service::vault::Column::PkceVerifier, id),
            )),
            expires_at: Set(tests::clock::now() + chrono::Duration::minutes(minutes)),
            used_at: Set(None),
            browser_hash: Set(None),
            created_at: Set(tests::clock::now()),
        }
        .insert(&app.ctx.db)
        .await
        .unwrap();
        ids.push(id);
    }
    (ids[0], ids[1])
}

/// Waits until the expired state is gone; the live one must stay.
async fn expect_purged(app: &TestApp, expired: Uuid, live: Uuid) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let gone = oauth_states::Entity::find_by_id(expired)
            .one(&app.ctx.db)
            .await
            .unwrap()
            .is_none();
        if gone {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the purge job never ran"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        oauth_states::Entity::find_by_id(live)
            .one(&app.ctx.db)
            .await
            .unwrap()
            .is_some(),
        "a live state was purged"
    );
}

async fn a_queued_job_runs_on_the_worker(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (expired, live) = seed_states(&app).await;
    // Nothing runs it but the job: the schedule is a year away.
    assert!(
        oauth_states::Entity::find_by_id(expired)
            .one(&app.ctx.db)
            .await
            .unwrap()
            .is_some()
    );

    app.ctx.queue.push(Job::Housekeeping).await.unwrap();
    expect_purged(&app, expired, live).await;
}

async fn the_cron_schedule_enqueues_the_cleanup(backend: Backend) {
    let mut worker = test_worker_options();
    worker.cleanup_schedule = "* * * * * *".to_owned();
    let app = TestApp::spawn_with(backend, HashMap::new(), worker).await;
    let (expired, live) = seed_states(&app).await;
    expect_purged(&app, expired, live).await;
}

async fn jobs_queued_before_a_restart_run_after_it(backend: Backend) {
    let mut app = TestApp::spawn(backend).await;
    let (expired, live) = seed_states(&app).await;
    // Stop the worker first, then queue: the job must wait in the queue, not be lost.
    app.shutdown().await;
    app.ctx.queue.push(Job::Housekeeping).await.unwrap();
    let app = app.restart().await;
    expect_purged(&app, expired, live).await;
}

backend_tests!(
    a_queued_job_runs_on_the_worker,
    the_cron_schedule_enqueues_the_cleanup,
    jobs_queued_before_a_restart_run_after_it,
);

/// Postgres without `REDIS_URL`: the queue lives in the database (apalis-postgres).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(freeslot_sqlite_only, ignore = "FREESLOT_TEST_BACKENDS=sqlite")]
async fn the_database_queue_works_on_postgres() {
    let backend = Backend::postgres();
    let app = TestApp::spawn(backend.without_redis()).await;
    assert_eq!(app.ctx.queue.backend_name(), "postgres");
    let (expired, live) = seed_states(&app).await;
    app.ctx.queue.push(Job::Housekeeping).await.unwrap();
    expect_purged(&app, expired, live).await;
}
