use migration::{Migrator, MigratorTrait, SchemaManager};
use sea_orm::{ConnectionTrait, Statement};
use service::db::{Step, migrate_step};
use tests::{Backend, TestDatabase, backend_tests};

const TABLES: [&str; 22] = [
    "users",
    "calendar_connections",
    "calendars",
    "events",
    "clients",
    "event_clients",
    "conflicts",
    "availability_rules",
    "sync_runs",
    "oauth_states",
    "audit_log",
    "calcom_exports",
    "feed_tokens",
    "sessions",
    "attempts",
    "notifications",
    "notification_tickets",
    "webhook_endpoints",
    "webhook_messages",
    "webhook_attempts",
    "tasks",
    "task_blocks",
];

async fn present_tables(db: &sea_orm::DatabaseConnection) -> Vec<&'static str> {
    let manager = SchemaManager::new(db);
    let mut present = Vec::new();
    for table in TABLES {
        if manager.has_table(table).await.unwrap() {
            present.push(table);
        }
    }
    present
}

async fn migrations_go_up_down_and_up_again(backend: Backend) {
    let test_db = TestDatabase::create(&backend).await;
    let db = service::db::connect(&test_db.url).await.unwrap();

    migrate_step(&db, Step::Up(None)).await.unwrap();
    assert_eq!(present_tables(&db).await, TABLES.to_vec());
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );

    // One step down undoes exactly the last migration, and so on back to a table.
    let manager = SchemaManager::new(&db);
    let event_keys = || async {
        if db.get_database_backend() != sea_orm::DbBackend::Postgres {
            return Vec::new();
        }
        let rows = db
            .query_all_raw(Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass \
                 AND contype = 'f' ORDER BY conname"
                    .to_owned(),
            ))
            .await
            .unwrap();
        rows.iter()
            .map(|r| r.try_get::<String>("", "conname").unwrap())
            .collect::<Vec<_>>()
    };
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    // 28: tasks and their plan.
    assert!(manager.has_table("tasks").await.unwrap());
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(!manager.has_table("tasks").await.unwrap());
    assert!(!manager.has_table("task_blocks").await.unwrap());
    // 27: the pending availability change.
    assert!(
        manager
            .has_column("users", "availability_from")
            .await
            .unwrap()
    );
    migrate_step(&db, Step::Down(1)).await.unwrap();
    for column in [
        "availability_from",
        "availability_to",
        "availability_told_at",
    ] {
        assert!(
            !manager.has_column("users", column).await.unwrap(),
            "{column}"
        );
    }
    // 26: webhooks.
    for table in ["webhook_endpoints", "webhook_messages", "webhook_attempts"] {
        assert!(manager.has_table(table).await.unwrap(), "{table}");
    }
    migrate_step(&db, Step::Down(1)).await.unwrap();
    for table in ["webhook_endpoints", "webhook_messages", "webhook_attempts"] {
        assert!(!manager.has_table(table).await.unwrap(), "{table}");
    }
    // 25: the e-mail alerts' state.
    assert!(
        manager
            .has_column("calendars", "failing_since")
            .await
            .unwrap()
    );
    assert!(manager.has_column("users", "alerted_seq").await.unwrap());
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(
        !manager
            .has_column("calendars", "failing_since")
            .await
            .unwrap()
    );
    assert!(
        !manager
            .has_column("calendars", "alert_sent_at")
            .await
            .unwrap()
    );
    assert!(!manager.has_column("users", "alerted_seq").await.unwrap());
    // 24: the notifications outbox.
    assert!(manager.has_table("notifications").await.unwrap());
    assert!(
        manager
            .has_column("users", "notification_seq")
            .await
            .unwrap()
    );
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(!manager.has_table("notifications").await.unwrap());
    assert!(!manager.has_table("notification_tickets").await.unwrap());
    assert!(
        !manager
            .has_column("users", "notification_seq")
            .await
            .unwrap()
    );
    // 23: busy rules and out of office.
    assert!(
        manager
            .has_column("calendars", "busy_ignore_titles")
            .await
            .unwrap()
    );
    assert!(manager.has_column("events", "out_of_office").await.unwrap());
    migrate_step(&db, Step::Down(1)).await.unwrap();
    for column in [
        "busy_tentative",
        "busy_all_day",
        "busy_out_of_office",
        "busy_ignore_titles",
    ] {
        assert!(
            !manager.has_column("calendars", column).await.unwrap(),
            "{column}"
        );
    }
    assert!(!manager.has_column("events", "out_of_office").await.unwrap());
    assert!(
        !manager
            .has_column("users", "calendars_version")
            .await
            .unwrap()
    );
    // 22: endless series (data only); 21: the OAuth browser binding; 20: attempts back to
    // login_failures; 19: sessions.
    migrate_step(&db, Step::Down(3)).await.unwrap();
    assert!(!present_tables(&db).await.contains(&"attempts"));
    assert!(
        SchemaManager::new(&db)
            .has_table("login_failures")
            .await
            .unwrap()
    );
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(!present_tables(&db).await.contains(&"sessions"));
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(
        !SchemaManager::new(&db)
            .has_table("login_failures")
            .await
            .unwrap()
    );
    if postgres {
        assert_eq!(event_keys().await, ["fk_events_calendar_of_user"]);
    }
    migrate_step(&db, Step::Down(1)).await.unwrap();
    if postgres {
        assert_eq!(
            event_keys().await,
            ["events_calendar_id_fkey", "events_user_id_fkey"]
        );
    }
    client_choices_survive_the_rebuilds(&db).await;
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(present_tables(&db).await.contains(&"event_clients"));
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(!present_tables(&db).await.contains(&"feed_tokens"));
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(!present_tables(&db).await.contains(&"calcom_exports"));
    assert!(
        manager
            .has_column("calendars", "sync_pending")
            .await
            .unwrap()
    );
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(
        !manager
            .has_column("calendars", "sync_pending")
            .await
            .unwrap()
    );
    assert!(
        !manager
            .has_column("calendars", "sync_lease_until")
            .await
            .unwrap()
    );
    assert!(
        manager
            .has_column("calendar_connections", "refreshing_until")
            .await
            .unwrap()
    );
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(
        !manager
            .has_column("calendar_connections", "refreshing_until")
            .await
            .unwrap()
    );
    assert!(manager.has_column("users", "events_version").await.unwrap());
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(!manager.has_column("users", "events_version").await.unwrap());
    assert_eq!(present_tables(&db).await, TABLES[..11].to_vec());
    migrate_step(&db, Step::Down(1)).await.unwrap();
    assert!(!present_tables(&db).await.contains(&"audit_log"));
    assert_eq!(
        Migrator::get_pending_migrations(&db).await.unwrap().len(),
        19
    );

    // All the way down leaves nothing of ours behind.
    migrate_step(&db, Step::Reset).await.unwrap();
    assert!(present_tables(&db).await.is_empty());

    migrate_step(&db, Step::Up(None)).await.unwrap();
    assert_eq!(present_tables(&db).await, TABLES.to_vec());
}

/// Rebuilding `event_clients` (to allow "no client") keeps every assignment; going back down keeps
/// those that name a client.
async fn client_choices_survive_the_rebuilds(db: &sea_orm::DatabaseConnection) {
    let kind = db.get_database_backend();
    let exec = |sql: String| db.execute_raw(Statement::from_string(kind, sql));
    let lit = |u: uuid::Uuid| match kind {
        sea_orm::DbBackend::Postgres => format!("'{u}'"),
        _ => format!("X'{}'", u.simple()),
    };
    let (user, cal, client) = (
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
        uuid::Uuid::new_v4(),
    );
    let (kept, cleared) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    exec(format!(
        "INSERT INTO users (id, email, password_hash, name, timezone) VALUES ({}, 'm@example.com', 'h', 'M', 'UTC')",
        lit(user)
    ))
    .await
    .unwrap();
    exec(format!(
        "INSERT INTO calendars (id, user_id, provider, provider_calendar_id, name) VALUES ({}, {}, 'local', 'local', 'Mine')",
        lit(cal),
        lit(user)
    ))
    .await
    .unwrap();
    exec(format!(
        "INSERT INTO clients (id, user_id, name) VALUES ({}, {}, 'Acme')",
        lit(client),
        lit(user)
    ))
    .await
    .unwrap();
    for (i, event) in [kept, cleared].into_iter().enumerate() {
        exec(format!(
            "INSERT INTO events (id, user_id, calendar_id, provider, provider_event_id, start_at, end_at, range_end_at) \
             VALUES ({}, {}, {}, 'local', 'e{i}', '2026-12-01 08:00:00+00:00', '2026-12-01 09:00:00+00:00', '2026-12-01 09:00:00+00:00')",
            lit(event),
            lit(user),
            lit(cal)
        ))
        .await
        .unwrap();
    }
    exec(format!(
        "INSERT INTO event_clients (event_id, client_id) VALUES ({}, {}), ({}, NULL)",
        lit(kept),
        lit(client),
        lit(cleared)
    ))
    .await
    .unwrap();
    let count = || async {
        db.query_one_raw(Statement::from_string(
            kind,
            "SELECT COUNT(*) AS n FROM event_clients".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap()
    };
    migrate_step(db, Step::Down(1)).await.unwrap();
    assert_eq!(count().await, 1, "the assignment naming a client is kept");
    migrate_step(db, Step::Up(Some(1))).await.unwrap();
    assert_eq!(count().await, 1);
    // The rebuilt table still cascades: deleting the client removes its assignment.
    exec(format!("DELETE FROM clients WHERE id = {}", lit(client)))
        .await
        .unwrap();
    assert_eq!(count().await, 0);
    exec(format!("DELETE FROM users WHERE id = {}", lit(user)))
        .await
        .unwrap();
}

async fn the_schema_enforces_its_keys(backend: Backend) {
    let test_db = TestDatabase::create(&backend).await;
    let db = service::db::connect(&test_db.url).await.unwrap();
    service::db::migrate(&db).await.unwrap();
    let backend_kind = db.get_database_backend();
    let exec = |sql: &str| db.execute_raw(Statement::from_string(backend_kind, sql.to_owned()));

    let user = uuid::Uuid::new_v4();
    let cal = uuid::Uuid::new_v4();
    let uuid_lit = |u: uuid::Uuid| match backend_kind {
        sea_orm::DbBackend::Postgres => format!("'{u}'"),
        _ => format!("X'{}'", u.simple()),
    };
    exec(&format!(
        "INSERT INTO users (id, email, password_hash, name, timezone) VALUES ({}, 'a@example.com', 'h', 'A', 'UTC')",
        uuid_lit(user)
    ))
    .await
    .unwrap();
    exec(&format!(
        "INSERT INTO calendars (id, user_id, provider, provider_calendar_id, name) VALUES ({}, {}, 'local', 'local', 'Mine')",
        uuid_lit(cal),
        uuid_lit(user)
    ))
    .await
    .unwrap();
    let event = |id: uuid::Uuid| {
        format!(
            "INSERT INTO events (id, user_id, calendar_id, provider, provider_event_id, start_at, end_at, range_end_at) \
             VALUES ({}, {}, {}, 'local', 'evt-1', '2026-12-01 08:00:00+00:00', '2026-12-01 09:00:00+00:00', '2026-12-01 09:00:00+00:00')",
            uuid_lit(id),
            uuid_lit(user),
            uuid_lit(cal)
        )
    };
    exec(&event(uuid::Uuid::new_v4())).await.unwrap();
    if backend_kind == sea_orm::DbBackend::Postgres {
        // An event belongs to the user whose calendar holds it (one composite key on Postgres).
        let other = uuid::Uuid::new_v4();
        exec(&format!(
            "INSERT INTO users (id, email, password_hash, name, timezone) VALUES ({}, 'o@example.com', 'h', 'O', 'UTC')",
            uuid_lit(other)
        ))
        .await
        .unwrap();
        let foreign = event(uuid::Uuid::new_v4())
            .replacen(&uuid_lit(user), &uuid_lit(other), 1)
            .replace("'evt-1'", "'evt-2'");
        assert!(
            exec(&foreign).await.is_err(),
            "an event of another user's calendar accepted"
        );
    }
    // One row per calendar and provider event id.
    assert!(
        exec(&event(uuid::Uuid::new_v4())).await.is_err(),
        "duplicate provider event id accepted"
    );
    // Emails are unique.
    assert!(
        exec(&format!(
            "INSERT INTO users (id, email, password_hash, name, timezone) VALUES ({}, 'a@example.com', 'h', 'B', 'UTC')",
            uuid_lit(uuid::Uuid::new_v4())
        ))
        .await
        .is_err()
    );
    // Deleting the user takes their calendars and events along.
    exec(&format!("DELETE FROM users WHERE id = {}", uuid_lit(user)))
        .await
        .unwrap();
    let left = db
        .query_one_raw(Statement::from_string(
            backend_kind,
            "SELECT COUNT(*) AS n FROM events".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(left, 0);
}

backend_tests!(
    migrations_go_up_down_and_up_again,
    the_schema_enforces_its_keys
);

/// Several processes starting at once (an api and a worker) apply migrations one at a time, and
/// the lock is gone once they are done: a later start does not wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(freeslot_sqlite_only, ignore = "FREESLOT_TEST_BACKENDS=sqlite")]
async fn concurrent_starts_take_turns_on_postgres() {
    let backend = Backend::postgres();
    let test_db = TestDatabase::create(&backend).await;
    let a = service::db::connect(&test_db.url).await.unwrap();
    let b = service::db::connect(&test_db.url).await.unwrap();
    let (ra, rb) = tokio::join!(service::db::migrate(&a), service::db::migrate(&b));
    ra.unwrap();
    rb.unwrap();
    assert_eq!(present_tables(&a).await, TABLES.to_vec());
    // Both pools stay open; a third start must not find the lock still held by one of them.
    let c = service::db::connect(&test_db.url).await.unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(20), service::db::migrate(&c))
        .await
        .expect("the migration lock was released")
        .unwrap();
}
