use reqwest::StatusCode;
use serde_json::Value;
use tests::{Backend, TcpProxy, TestApp, backend_tests, error_code, test_worker_options};

async fn health_and_ready_answer(backend: Backend) {
    let app = TestApp::spawn(backend.clone()).await;
    let res = app.get("/health", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().contains_key("x-request-id"),
        "every response carries its request id"
    );
    let res = app.get("/ready", None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["database"], "ok");
    assert_eq!(body["queue"], "ok");
    let expected_queue = match &backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres {
            redis_url: Some(_), ..
        } => "redis",
        Backend::Postgres {
            redis_url: None, ..
        } => "postgres",
    };
    assert_eq!(body["queue_backend"], expected_queue);
}

async fn unknown_routes_answer_json_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let res = app.get("/api/nothing-here", None).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(error_code(res).await, "not_found");
}

async fn openapi_document_and_offline_docs_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc: Value = app
        .get("/api/openapi.json", None)
        .await
        .json()
        .await
        .unwrap();
    for path in [
        "/api/auth/register",
        "/api/auth/login",
        "/api/me",
        "/health",
        "/ready",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert_eq!(
        doc["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );

    let res = app.get("/api/docs", None).await;
    assert!(res.status().is_redirection());
    let page = app.get("/api/docs/", None).await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"));
    // Every asset the page loads is served by freeslot itself.
    for asset in [
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "swagger-initializer.js",
    ] {
        let res = app.get(&format!("/api/docs/{asset}"), None).await;
        assert_eq!(res.status(), StatusCode::OK, "{asset}");
        let text = res.text().await.unwrap();
        if asset == "swagger-initializer.js" {
            assert!(text.contains("/api/openapi.json"));
        }
    }
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads nothing from the internet"
    );
}

backend_tests!(
    health_and_ready_answer,
    unknown_routes_answer_json_404,
    openapi_document_and_offline_docs_page
);

/// The database-backed queue on Postgres (no `REDIS_URL`) reports itself too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(freeslot_sqlite_only, ignore = "FREESLOT_TEST_BACKENDS=sqlite")]
async fn ready_with_the_queue_in_postgres() {
    let backend = Backend::postgres();
    health_and_ready_answer(backend.without_redis()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(freeslot_sqlite_only, ignore = "FREESLOT_TEST_BACKENDS=sqlite")]
async fn ready_names_the_database_when_it_is_gone() {
    let backend = Backend::postgres();
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);
    app.db.drop_now().await;
    let res = app.get("/ready", None).await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "not_ready");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("database") && !message.contains("queue"),
        "{message}"
    );
    // Liveness does not depend on the database.
    assert_eq!(app.get("/health", None).await.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(freeslot_sqlite_only, ignore = "FREESLOT_TEST_BACKENDS=sqlite")]
async fn ready_names_the_queue_when_redis_is_unreachable() {
    let backend = Backend::postgres();
    let redis = backend
        .redis_url()
        .expect("Backend::postgres has Redis")
        .to_owned();
    let target = redis
        .trim_start_matches("redis://")
        .trim_end_matches('/')
        .to_owned();
    let proxy = TcpProxy::start(target).await;
    let backend = match backend {
        Backend::Postgres { server_url, .. } => Backend::Postgres {
            server_url,
            redis_url: Some(proxy.url("redis")),
        },
        other => other,
    };
    let app = TestApp::spawn_with(backend, Default::default(), test_worker_options()).await;
    assert_eq!(app.get("/ready", None).await.status(), StatusCode::OK);

    proxy.cut();
    // The proxy closes its connections as it learns of the cut: a PING already on its way may
    // still be answered, so wait (with a deadline) for the first answer after that.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let res = loop {
        let res = app.get("/ready", None).await;
        if res.status() == StatusCode::SERVICE_UNAVAILABLE {
            break res;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still ready with Redis cut: {}",
            res.status()
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    let body: Value = res.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("queue") && !message.contains("database"),
        "{message}"
    );
    // The api keeps answering what needs no queue.
    let user = app.register_user().await;
    assert_eq!(app.get_me(&user.token).await.status(), StatusCode::OK);

    proxy.restore();
    let mut ready = false;
    for _ in 0..50 {
        if app.get("/ready", None).await.status() == StatusCode::OK {
            ready = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(ready, "readiness comes back once Redis is reachable again");
}

/// Postgres connections killed under load (`pg_terminate_backend`, as a failover or an
/// administrator does): every answer meanwhile is a success or a 503 the client may retry —
/// never a 500, never a hang — and the api answers normally again once the pool reconnects.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(freeslot_sqlite_only, ignore = "FREESLOT_TEST_BACKENDS=sqlite")]
async fn killed_postgres_connections_answer_503_never_500() {
    use sea_orm::ConnectionTrait;
    let app = tests::TestApp::spawn(tests::Backend::postgres()).await;
    let user = app.register_user().await;
    let event = |i: usize| {
        serde_json::json!({"title": format!("Call {i}"), "start": "2027-01-04T09:00:00Z",
                           "end": "2027-01-04T10:00:00Z"})
    };
    let load = |round: usize| {
        let app = &app;
        let token = user.token.clone();
        async move {
            let mut statuses = Vec::new();
            for i in 0..20 {
                let res = app
                    .post_json("/api/events", &event(round * 100 + i), Some(&token))
                    .await;
                statuses.push(res.status().as_u16());
                let res = app
                    .get_query(
                        "/api/availability",
                        &token,
                        &[
                            ("start", "2027-01-04T00:00:00Z"),
                            ("end", "2027-01-11T00:00:00Z"),
                            ("duration", "30"),
                        ],
                    )
                    .await;
                statuses.push(res.status().as_u16());
            }
            statuses
        }
    };
    let kill = async {
        for _ in 0..10 {
            app.ctx
                .db
                .execute_unprepared(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = current_database() AND pid <> pg_backend_pid()",
                )
                .await
                .ok();
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
        }
    };
    let (a, b, ()) = tokio::join!(load(1), load(2), kill);
    let statuses: Vec<u16> = a.into_iter().chain(b).collect();
    assert!(
        statuses.iter().all(|s| matches!(s, 200 | 201 | 503)),
        "only successes and 503s while connections die: {statuses:?}"
    );
    // Back to normal without a restart.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let res = app
            .post_json("/api/events", &event(999), Some(&user.token))
            .await;
        if res.status() == reqwest::StatusCode::CREATED {
            break;
        }
        assert_eq!(res.status(), reqwest::StatusCode::SERVICE_UNAVAILABLE);
        assert!(
            std::time::Instant::now() < deadline,
            "the api did not recover"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
