//! Stateful stand-ins for Google, Microsoft, Cal.com and ICS servers, speaking their real
//! protocols on 127.0.0.1 with a random port. freeslot only sees different base URLs.
//!
//! Each fake keeps its state behind a mutex that tests reach through `FakeServer::state`, to
//! change calendars at "the provider" and to inject faults (401, 429 with Retry-After, 5xx,
//! slow answers, revoked refresh tokens).

// Handlers return the provider's own error response as their `Err`; boxing it would only add
// noise to test code.
#![allow(clippy::result_large_err)]

pub mod calcom;
pub mod google;
pub mod ics;
pub mod microsoft;
pub mod oauth;

use std::collections::VecDeque;
use std::net::TcpListener;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};

/// One answer a fake gives instead of the real one, once.
#[derive(Clone, Debug)]
pub enum Fault {
    Unauthorized,
    RateLimited {
        retry_after: Option<String>,
    },
    ServerError,
    /// Answer normally, but only after this long (longer than the client's timeout = a timeout).
    Delay(Duration),
}

#[derive(Default, Debug)]
pub struct Faults {
    queue: VecDeque<Fault>,
}

impl Faults {
    pub fn push(&mut self, fault: Fault) {
        self.queue.push_back(fault);
    }

    pub fn pop(&mut self) -> Option<Fault> {
        self.queue.pop_front()
    }
}

/// The response a fault stands for; a delay is applied by the caller and gives None here.
pub fn fault_response(fault: &Fault, body: serde_json::Value) -> Option<HttpResponse> {
    match fault {
        Fault::Unauthorized => Some(HttpResponse::Unauthorized().json(body)),
        Fault::RateLimited { retry_after } => {
            let mut res = HttpResponse::TooManyRequests();
            if let Some(after) = retry_after {
                res.insert_header(("Retry-After", after.as_str()));
            }
            Some(res.json(body))
        }
        Fault::ServerError => Some(HttpResponse::ServiceUnavailable().json(body)),
        Fault::Delay(_) => None,
    }
}

/// Answers `res`, after the delay a `Fault::Delay` asked for.
pub async fn respond(delay: Option<std::time::Duration>, res: HttpResponse) -> HttpResponse {
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    res
}

/// A fake's HTTP server and its state.
pub struct FakeServer<S: Send + 'static> {
    pub base: String,
    state: web::Data<Mutex<S>>,
    handle: ServerHandle,
}

impl<S: Send + 'static> FakeServer<S> {
    pub async fn start(state: S, routes: fn(&mut web::ServiceConfig)) -> Self {
        // Fakes send requests too (push notifications); reqwest needs a TLS provider to build.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a fake");
        let port = listener.local_addr().expect("fake address").port();
        let state = web::Data::new(Mutex::new(state));
        let data = state.clone();
        let server = HttpServer::new(move || App::new().app_data(data.clone()).configure(routes))
            .workers(1)
            .disable_signals()
            .listen(listener)
            .expect("listen")
            .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeServer {
            base: format!("http://127.0.0.1:{port}"),
            state,
            handle,
        }
    }

    pub fn state(&self) -> MutexGuard<'_, S> {
        lock(&self.state)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl<S: Send + 'static> Drop for FakeServer<S> {
    fn drop(&mut self) {
        let handle = self.handle.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { handle.stop(false).await });
        }
    }
}

pub type Shared<S> = web::Data<Mutex<S>>;

/// A failed assertion while a test held the lock must not turn every later request into a panic.
pub fn lock<S>(state: &Mutex<S>) -> MutexGuard<'_, S> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A random opaque token such as providers hand out.
pub fn opaque(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::new_v4().simple())
}

/// A client for the fakes' own outgoing requests (notifications to freeslot).
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .expect("client")
}
