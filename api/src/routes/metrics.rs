//! `GET /metrics`: the Prometheus text format (contract, "Metrics"), and the middleware that
//! counts every request by its route pattern.

use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, get, web};
use service::AppContext;

use crate::error::ApiError;

/// The process's metrics. With `METRICS_TOKEN` set it needs `Authorization: Bearer <token>`.
#[utoipa::path(get, path = "/metrics", tag = "probes", responses(
    (status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
    (status = 401, body = crate::error::ErrorBody, description = "`METRICS_TOKEN` is set and was not given"),
))]
#[get("/metrics")]
pub async fn metrics(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let presented = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if !service::meters::authorized(ctx.settings.metrics_token.as_deref(), presented) {
        return Err(ApiError::unauthorized(
            "unauthorized",
            "The metrics need `Authorization: Bearer <METRICS_TOKEN>`.",
        ));
    }
    let body = service::meters::render(&ctx.db).await;
    Ok(HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body))
}

/// Counts the request under its route pattern (`/api/tasks/{id}`; `unmatched` when no route
/// matched, so a scan of random paths adds one series, not one per path).
pub async fn count_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let method = req.method().as_str().to_owned();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let res = next.call(req).await;
    let status = match &res {
        Ok(res) => res.status().as_u16(),
        Err(e) => e.as_response_error().status_code().as_u16(),
    };
    service::meters::http_request(&method, &route, status, started.elapsed());
    res
}
