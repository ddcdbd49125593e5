//! `GET /metrics` (contract, "Metrics"): the Prometheus text format, read by the official
//! client's parser; a failing provider shows as a failed sync run; routes are counted by pattern,
//! never by a path holding an id; `METRICS_TOKEN` closes it.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::StatusCode;
use tests::prometheus::{self, value};
use tests::{Backend, TestApp, backend_tests, fakes, test_worker_options};

async fn scrape(app: &TestApp, token: Option<&str>) -> Vec<prometheus::Family> {
    let res = app.get("/metrics", token).await;
    assert_eq!(res.status(), StatusCode::OK);
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain"), "{kind}");
    prometheus::parse(&res.text().await.unwrap())
}

async fn a_failing_provider_shows_in_the_metrics(backend: Backend) {
    let google = fakes::google::start("ada@example.com").await;
    google.state().put_event(
        "ada@example.com",
        fakes::google::event("g1", "Call", "2026-11-24T09:00:00Z", "2026-11-24T10:00:00Z"),
    );
    let env = google.env().into_iter().collect();
    let app = TestApp::spawn_with(backend, env, test_worker_options()).await;
    let user = app.register_user().await;
    app.oauth_dance("google", &user.token, "allow").await;
    let calendar = app.synced_calendars(&user.token).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let families = scrape(&app, None).await;
    let synced = [("provider", "google"), ("outcome", "succeeded")];
    assert!(value(&families, "freeslot_sync_runs_total", &synced) >= 1.0);
    assert_eq!(
        value(
            &families,
            "freeslot_calendars",
            &[("provider", "google"), ("status", "error")]
        ),
        0.0
    );

    // Google refuses everything now: the next run fails, and says so.
    google.state().oauth.revoke_everything();
    let res = app
        .post_json(
            &format!("/api/calendars/{calendar}/sync"),
            &serde_json::json!({}),
            Some(&user.token),
        )
        .await;
    assert!(res.status().is_success());
    let failed = [("provider", "google"), ("outcome", "failed")];
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let families = loop {
        let families = scrape(&app, None).await;
        if value(&families, "freeslot_sync_runs_total", &failed) >= 1.0
            && value(
                &families,
                "freeslot_calendars",
                &[("provider", "google"), ("status", "error")],
            ) == 1.0
        {
            break families;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no failed sync in the metrics"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let kinds: HashMap<&str, &str> = families
        .iter()
        .map(|f| (f.name.as_str(), f.kind.as_str()))
        .collect();
    // prometheus_client names counter families without `_total`.
    assert_eq!(
        kinds.get("freeslot_sync_runs"),
        Some(&"counter"),
        "{kinds:?}"
    );
    assert_eq!(
        kinds.get("freeslot_sync_duration_seconds"),
        Some(&"histogram")
    );
    assert_eq!(
        kinds.get("http_request_duration_seconds"),
        Some(&"histogram")
    );
    assert_eq!(kinds.get("freeslot_calendars"), Some(&"gauge"));
    assert!(
        value(
            &families,
            "freeslot_jobs_total",
            &[("job", "sync_calendar"), ("outcome", "succeeded")]
        ) >= 2.0
    );
    assert_eq!(
        value(
            &families,
            "freeslot_sync_events_total",
            &[("provider", "google"), ("change", "added")]
        ),
        1.0,
        "the one event Google held"
    );
    assert!(value(&families, "process_resident_memory_bytes", &[]) > 1e6);
    assert!(value(&families, "process_cpu_seconds_total", &[]) > 0.0);

    // A route with an id is counted under its pattern; the id appears nowhere.
    let missing = uuid::Uuid::now_v7().to_string();
    let res = app
        .get(&format!("/api/tasks/{missing}"), Some(&user.token))
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = app
        .get_query(
            "/api/availability",
            &user.token,
            &[
                ("start", "2026-11-24T00:00:00Z"),
                ("end", "2026-11-25T00:00:00Z"),
                ("duration", "30"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = app.get("/metrics", None).await.text().await.unwrap();
    assert!(!body.contains(&missing), "a raw path in the metrics");
    assert!(!body.contains(&calendar), "a raw path in the metrics");
    let families = prometheus::parse(&body);
    let route = [
        ("route", "/api/tasks/{id}"),
        ("method", "GET"),
        ("status", "404"),
    ];
    assert!(value(&families, "http_requests_total", &route) >= 1.0);
    assert!(
        value(
            &families,
            "http_request_duration_seconds_count",
            &[("route", "/api/availability")]
        ) >= 1.0
    );
    let cache = value(
        &families,
        "freeslot_engine_cache_requests_total",
        &[("result", "miss")],
    ) + value(
        &families,
        "freeslot_engine_cache_requests_total",
        &[("result", "hit")],
    );
    assert!(cache >= 1.0, "the availability request looked in the cache");

    // The dashboard in docs/ asks only for series the app exports.
    let dashboard: serde_json::Value =
        serde_json::from_str(include_str!("../../../docs/grafana-dashboard.json")).unwrap();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            for name in expr
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .filter(|w| {
                    w.starts_with("http_")
                        || w.starts_with("freeslot_")
                        || w.starts_with("process_")
                })
            {
                assert!(
                    body.lines().any(|l| l.starts_with(name)),
                    "the dashboard's {name} is not exported"
                );
            }
        }
    }
}

/// With `METRICS_TOKEN` set, only its bearer reads the metrics.
async fn the_metrics_token_closes_the_endpoint(backend: Backend) {
    let vars = HashMap::from([("METRICS_TOKEN".to_owned(), "scrape-secret".to_owned())]);
    let app = TestApp::spawn_with(backend, vars, test_worker_options()).await;
    assert_eq!(
        app.get("/metrics", None).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get("/metrics", Some("wrong")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let families = scrape(&app, Some("scrape-secret")).await;
    assert!(!families.is_empty());
}

backend_tests!(
    a_failing_provider_shows_in_the_metrics,
    the_metrics_token_closes_the_endpoint,
);
