//! Provider push notifications. Each is verified in `service::channels`; whatever the outcome, the
//! sender gets the same short answer, so a forger learns nothing.

use actix_web::http::header::ContentType;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::Deserialize;
use service::AppContext;
use service::channels::{self, GoogleNotice};
use utoipa::IntoParams;
use uuid::Uuid;

fn header(req: &HttpRequest, name: &str) -> String {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

fn log_failure(provider: &str, e: &service::sync::SyncError) {
    tracing::error!(provider, error = %e, "handling a push notification failed");
}

/// Google Calendar `events.watch` notifications (`X-Goog-*` headers, empty body).
#[utoipa::path(post, path = "/api/webhooks/google", tag = "webhooks",
    responses((status = 200, description = "always, verified or not")))]
#[post("/webhooks/google")]
pub async fn google(ctx: web::Data<AppContext>, req: HttpRequest) -> HttpResponse {
    let notice = GoogleNotice {
        channel_id: header(&req, "x-goog-channel-id"),
        token: header(&req, "x-goog-channel-token"),
        resource_id: header(&req, "x-goog-resource-id"),
        state: header(&req, "x-goog-resource-state"),
    };
    match channels::google_notice(&ctx, notice).await {
        Ok(_) => HttpResponse::Ok().finish(),
        // 5xx asks Google to deliver again later, which is what a database hiccup needs.
        Err(e) => {
            log_failure("google", &e);
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct GraphQuery {
    /// Present only on Graph's validation request.
    validation_token: Option<String>,
}

/// Microsoft Graph change and lifecycle notifications, and the subscription handshake.
#[utoipa::path(post, path = "/api/webhooks/microsoft", tag = "webhooks", params(GraphQuery),
    request_body(content = String, content_type = "application/json", description = "Graph's notification batch"),
    responses(
        (status = 200, description = "the validation token echoed as text/plain"),
        (status = 202, description = "notifications accepted"),
    ))]
#[post("/webhooks/microsoft")]
pub async fn microsoft(
    ctx: web::Data<AppContext>,
    query: web::Query<GraphQuery>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(token) = &query.validation_token {
        return HttpResponse::Ok()
            .content_type(ContentType::plaintext())
            .body(token.clone());
    }
    match channels::microsoft_notices(&ctx, &body).await {
        Ok(_) => HttpResponse::Accepted().finish(),
        Err(e) => {
            log_failure("microsoft", &e);
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct CalcomQuery {
    /// The calendar the webhook was created for (part of its subscriber URL).
    calendar: Option<Uuid>,
}

/// Cal.com booking webhooks, signed with `X-Cal-Signature-256` over the raw body.
#[utoipa::path(post, path = "/api/webhooks/calcom", tag = "webhooks", params(CalcomQuery),
    request_body(content = String, content_type = "application/json", description = "Cal.com's delivery, verified over its raw bytes"),
    responses((status = 200, description = "always, verified or not")))]
#[post("/webhooks/calcom")]
pub async fn calcom(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    query: web::Query<CalcomQuery>,
    body: web::Bytes,
) -> HttpResponse {
    let Some(calendar) = query.calendar else {
        return HttpResponse::Ok().finish();
    };
    let signature = header(&req, "x-cal-signature-256");
    match channels::calcom_notice(&ctx, calendar, &signature, &body).await {
        Ok(_) => HttpResponse::Ok().finish(),
        Err(e) => {
            log_failure("calcom", &e);
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}
