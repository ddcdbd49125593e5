use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use service::AppContext;
use utoipa::ToSchema;

use crate::error::ApiError;

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

#[derive(Serialize, ToSchema)]
pub struct ReadyReport {
    status: &'static str,
    database: &'static str,
    queue: &'static str,
    queue_backend: &'static str,
}

/// The process is alive. Never touches a dependency.
#[utoipa::path(get, path = "/health", tag = "probes", responses((status = 200, body = Health)))]
#[get("/health")]
pub async fn health() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "ok" })
}

/// The database and the job queue are reachable; 503 names the one that is not.
#[utoipa::path(get, path = "/ready", tag = "probes", responses(
    (status = 200, body = ReadyReport),
    (status = 503, body = crate::error::ErrorBody, description = "a dependency is down"),
))]
#[get("/ready")]
pub async fn ready(ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let report = ctx.readiness().await;
    let down: Vec<String> = [("database", &report.database), ("queue", &report.queue)]
        .into_iter()
        .filter_map(|(name, r)| r.as_ref().err().map(|e| format!("{name}: {e}")))
        .collect();
    if !down.is_empty() {
        tracing::warn!(problems = ?down, "not ready");
        let names: Vec<&str> = [("database", &report.database), ("queue", &report.queue)]
            .into_iter()
            .filter(|(_, r)| r.is_err())
            .map(|(n, _)| n)
            .collect();
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            format!("Unreachable: {}.", names.join(", ")),
        ));
    }
    Ok(HttpResponse::Ok().json(ReadyReport {
        status: "ready",
        database: "ok",
        queue: "ok",
        queue_backend: ctx.queue.backend_name(),
    }))
}
