//! HTTP only: routes, the JWT extractor, error → status mapping and the OpenAPI document.
//! Every handler parses, calls one service function, and maps the result.

mod auth;
mod client_addr;
mod error;
mod json;
mod openapi;
mod request_log;
mod routes;
mod timefmt;
mod webapp;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::{Server, ServerHandle};
use actix_web::{App, HttpServer, web};
use service::AppContext;
use tracing_actix_web::TracingLogger;

pub use auth::AuthUser;
pub use error::ApiError;
pub use openapi::ApiDoc;

/// The api on its listener but not yet serving. A listener bound to `127.0.0.1:0` has a free
/// port, which is how tests start the real application.
pub struct Application {
    port: u16,
    server: Server,
}

/// Only `GET /metrics`, for a process that runs no api (`freeslot worker` with `METRICS_ADDR`).
pub fn metrics_server(ctx: Arc<AppContext>, listener: TcpListener) -> std::io::Result<Server> {
    let data = web::Data::from(ctx);
    Ok(HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .service(routes::metrics::metrics)
    })
    .listen(listener)?
    .workers(1)
    .disable_signals()
    .shutdown_timeout(5)
    .run())
}

impl Application {
    pub fn build(ctx: Arc<AppContext>, listener: TcpListener) -> std::io::Result<Self> {
        let port = listener.local_addr()?.port();
        let data = web::Data::from(ctx);
        let server = HttpServer::new(move || {
            App::new()
                .wrap(actix_web::middleware::from_fn(
                    routes::metrics::count_requests,
                ))
                .wrap(actix_web::middleware::from_fn(routes::request_id_header))
                .wrap(TracingLogger::<request_log::RedactedRootSpan>::new())
                .app_data(data.clone())
                .configure(routes::configure)
        })
        .listen(listener)?
        // The binary owns the signals, so that api and worker in one process stop together.
        .disable_signals()
        .shutdown_timeout(30)
        .run();
        tracing::info!(port, "api listening");
        Ok(Self { port, server })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server gracefully when `handle.stop(true)` is awaited: in-flight requests finish.
    pub fn handle(&self) -> ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
