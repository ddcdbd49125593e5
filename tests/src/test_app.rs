use std::collections::HashMap;
use std::sync::{Arc, Once};
use std::time::Duration;

use freeslot::WorkerOptions;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};
use service::{AppContext, Settings};
use tokio::sync::watch;

use crate::backend::{Backend, TestDatabase};

/// The JWT secret every test app signs with, so tests can forge expired or foreign tokens.
pub const TEST_JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123456789";
/// The vault key of every test app, so tests can write values as older versions sealed them.
pub const TEST_ENCRYPTION_KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

/// The real application (api + worker, as `freeslot serve`), on a random port.
pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub ctx: Arc<AppContext>,
    pub backend: Backend,
    pub db: TestDatabase,
    vars: HashMap<String, String>,
    worker: WorkerOptions,
    /// A second handle on the app's listening socket (see `start`).
    listener: std::net::TcpListener,
    stop: watch::Sender<bool>,
    done: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    /// The OAuth binding cookie a browser would keep (see `connect.rs`).
    pub(crate) oauth_cookie: std::sync::Mutex<Option<String>>,
    /// What the helpers below saw, checked against the OpenAPI document when the app goes.
    pub(crate) answers: crate::answers::Answers,
}

#[derive(Clone, Debug)]
pub struct TestUser {
    pub id: String,
    pub email: String,
    pub password: String,
    pub token: String,
}

static CRYPTO: Once = Once::new();

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, HashMap::new(), test_worker_options()).await
    }

    /// `vars` override the environment the app would read; `worker` its schedules.
    pub async fn spawn_with(
        backend: Backend,
        vars: HashMap<String, String>,
        worker: WorkerOptions,
    ) -> Self {
        let db = TestDatabase::create(&backend).await;
        // OAuth redirect URIs carry PUBLIC_BASE_URL, so the port must be known before start:
        // the app gets this very listener.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
        let port = listener.local_addr().expect("bound").port();
        let mut all = HashMap::from([
            ("DATABASE_URL".to_owned(), db.url.clone()),
            ("BIND_ADDR".to_owned(), format!("127.0.0.1:{port}")),
            (
                "PUBLIC_BASE_URL".to_owned(),
                format!("http://127.0.0.1:{port}"),
            ),
            ("JWT_SECRET".to_owned(), TEST_JWT_SECRET.to_owned()),
            (
                "TOKEN_ENCRYPTION_KEY".to_owned(),
                TEST_ENCRYPTION_KEY.to_owned(),
            ),
            (
                "JOB_QUEUE".to_owned(),
                format!("test-{}", uuid::Uuid::new_v4().simple()),
            ),
            // The fakes listen on 127.0.0.1; the outbound guard has tests of its own.
            ("FEEDS_ALLOW_PRIVATE".to_owned(), "true".to_owned()),
        ]);
        if let Some(redis) = backend.redis_url() {
            all.insert("REDIS_URL".to_owned(), redis.to_owned());
        }
        all.extend(vars);
        Self::start(backend, db, all, worker, Some(listener)).await
    }

    /// Starts on `listener`, or else on a fresh one at `BIND_ADDR`.
    async fn start(
        backend: Backend,
        db: TestDatabase,
        vars: HashMap<String, String>,
        worker: WorkerOptions,
        listener: Option<std::net::TcpListener>,
    ) -> Self {
        CRYPTO.call_once(|| {
            let _ = rustls::crypto::ring::default_provider().install_default();
            // `TEST_LOG=debug cargo nextest run …` shows the app's logs for a failing test.
            if let Ok(filter) = std::env::var("TEST_LOG") {
                let _ = tracing_subscriber::fmt()
                    .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                    .with_test_writer()
                    .try_init();
            }
        });
        // An empty value means "unset", as in the environment.
        let settings = Settings::from_lookup(|k| vars.get(k).cloned().filter(|v| !v.is_empty()))
            .expect("test settings are valid");
        let listener = listener.unwrap_or_else(|| {
            std::net::TcpListener::bind(settings.bind_addr).expect("the app's port is free")
        });
        let ctx = AppContext::init_with_clock(settings, crate::clock::clock().clone())
            .await
            .expect("the app starts");
        let (stop, stop_rx) = watch::channel(false);
        // The socket stays ours while the app runs and after it stops, so a restart serves the
        // same port (the one in PUBLIC_BASE_URL) without racing anyone for it.
        let kept = listener.try_clone().expect("a listener's second handle");
        let running = freeslot::start(ctx.clone(), Some(listener), Some(worker.clone()), stop_rx)
            .expect("the app starts serving");
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .expect("http client");
        TestApp {
            address: format!("http://127.0.0.1:{}", running.port),
            client,
            ctx,
            backend,
            db,
            vars,
            worker,
            listener: kept,
            stop,
            done: Some(running.done),
            oauth_cookie: std::sync::Mutex::new(None),
            answers: Default::default(),
        }
    }

    /// A second instance of the app on the same database and queue, as a second `freeslot`
    /// process would be.
    pub async fn spawn_sibling(&self) -> TestApp {
        let db = TestDatabase {
            url: self.db.url.clone(),
            dir: None,
            postgres: None,
        };
        let mut vars = self.vars.clone();
        vars.insert("BIND_ADDR".to_owned(), "127.0.0.1:0".to_owned());
        Self::start(self.backend.clone(), db, vars, self.worker.clone(), None).await
    }

    /// Stops gracefully (in-flight work finishes) and starts again on the same database.
    pub async fn restart(mut self) -> Self {
        self.shutdown().await;
        let TestApp {
            backend,
            db,
            vars,
            worker,
            listener,
            ..
        } = self;
        Self::start(backend, db, vars, worker, Some(listener)).await
    }

    /// Like `restart`, with some variables changed and other worker options.
    pub async fn restart_with(
        mut self,
        changed: HashMap<String, String>,
        worker: WorkerOptions,
    ) -> Self {
        self.shutdown().await;
        let TestApp {
            backend,
            db,
            mut vars,
            listener,
            ..
        } = self;
        vars.extend(changed);
        Self::start(backend, db, vars, worker, Some(listener)).await
    }

    pub async fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(done) = self.done.take() {
            tokio::time::timeout(Duration::from_secs(40), done)
                .await
                .expect("the app stops within its shutdown timeout")
                .expect("the app task did not panic")
                .expect("the app stopped cleanly");
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        let mut req = self.client.get(self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.seen("get", req.send().await.expect("request sent"))
    }

    /// Notes an answer for the OpenAPI check and hands it on.
    pub(crate) fn seen(&self, method: &str, res: Response) -> Response {
        self.answers
            .record(method, res.url().as_str(), res.status().as_u16());
        res
    }

    pub async fn get_query(&self, path: &str, token: &str, query: &[(&str, &str)]) -> Response {
        let res = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .query(query)
            .send()
            .await
            .expect("request sent");
        self.seen("get", res)
    }

    pub async fn patch_json(&self, path: &str, body: &Value, token: &str) -> Response {
        let res = self
            .client
            .patch(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request sent");
        self.seen("patch", res)
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        let res = self
            .client
            .delete(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request sent");
        self.seen("delete", res)
    }

    /// Creates a manual event and returns its JSON; panics unless the api answers 201.
    pub async fn create_event(&self, token: &str, body: Value) -> Value {
        let res = self.post_json("/api/events", &body, Some(token)).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    pub async fn post_json(&self, path: &str, body: &Value, token: Option<&str>) -> Response {
        let mut req = self.client.post(self.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        self.seen("post", req.send().await.expect("request sent"))
    }

    pub async fn post_register(&self, body: &Value) -> Response {
        self.post_json("/api/auth/register", body, None).await
    }

    pub async fn post_login(&self, body: &Value) -> Response {
        self.post_json("/api/auth/login", body, None).await
    }

    /// Logs `user` in again (after the clock moved past their token's lifetime).
    pub async fn login(&self, user: &TestUser) -> TestUser {
        let res = self
            .post_login(&serde_json::json!({"email": user.email, "password": user.password}))
            .await;
        assert_eq!(res.status(), reqwest::StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        TestUser {
            token: body["access_token"].as_str().unwrap().to_owned(),
            ..user.clone()
        }
    }

    pub async fn get_me(&self, token: &str) -> Response {
        self.get("/api/me", Some(token)).await
    }

    pub async fn patch_me(&self, token: &str, body: &Value) -> Response {
        self.patch_json("/api/me", body, token).await
    }

    /// Registers a fresh user and returns their credentials and token.
    pub async fn register_user(&self) -> TestUser {
        let email = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
        let password = "correct horse battery".to_owned();
        let res = self
            .post_register(&json!({
                "email": email, "password": password, "name": "Test User", "timezone": "Europe/Berlin"
            }))
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let body: Value = res.json().await.unwrap();
        TestUser {
            id: body["user"]["id"].as_str().unwrap().to_owned(),
            email,
            password,
            token: body["access_token"].as_str().unwrap().to_owned(),
        }
    }
}

/// A port that was free a moment ago (the kernel does not hand it out again right away).
/// Schedules far apart, so that only what a test triggers runs; quick polling, so it runs soon.
pub fn test_worker_options() -> WorkerOptions {
    WorkerOptions {
        cleanup_schedule: "0 0 0 1 1 *".to_owned(),
        token_refresh_schedule: "0 0 0 1 1 *".to_owned(),
        sync_schedule: "0 0 0 1 1 *".to_owned(),
        // Every second: a retry a test moved the clock to is sent at once.
        webhook_schedule: "* * * * * *".to_owned(),
        poll_interval: Duration::from_millis(100),
        shutdown_timeout: Duration::from_secs(10),
    }
}

/// Reads a JSON error body and returns its `error.code`, checking the contract's shape on the way.
pub async fn error_code(res: Response) -> String {
    let body: Value = res.json().await.expect("error body is JSON");
    let error = body
        .get("error")
        .unwrap_or_else(|| panic!("no `error` in {body}"));
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "no message in {body}"
    );
    error["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code in {body}"))
        .to_owned()
}
