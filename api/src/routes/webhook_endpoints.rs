//! The caller's webhook endpoints (contract, "Notifications": webhooks): CRUD, secret rotation,
//! a test delivery and the delivery log.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::notifications::webhooks::{
    self, AttemptView, Created, EndpointInput, EndpointView, WebhookError,
};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::{invalid, ok_json};

#[derive(Serialize, ToSchema)]
pub struct EndpointBody {
    id: Uuid,
    url: String,
    /// The notification types it receives.
    #[schema(example = json!(["connection.needs_reauth", "calendar.sync_failed"]))]
    types: Vec<String>,
    description: String,
    enabled: bool,
    /// Why freeslot turned it off (`410 Gone`, five days of failures), while it is off for that.
    disabled_reason: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<EndpointView> for EndpointBody {
    fn from(e: EndpointView) -> Self {
        Self {
            id: e.id,
            url: e.url,
            types: e.types,
            description: e.description,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// An endpoint with its signing secret: only in the answers to creation and rotation.
#[derive(Serialize, ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    endpoint: EndpointBody,
    /// `whsec_` + base64 of 24 random bytes.
    #[schema(example = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]
    secret: String,
}

impl From<Created> for EndpointWithSecret {
    fn from(c: Created) -> Self {
        Self {
            endpoint: c.endpoint.into(),
            secret: c.secret,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct EndpointList {
    webhook_endpoints: Vec<EndpointBody>,
}

/// A new endpoint (`url` required), or the fields of one to change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndpointRequest {
    #[schema(example = "https://hooks.example.com/freeslot")]
    url: Option<String>,
    /// Notification types to receive; absent (or null) for every type.
    #[serde(default, deserialize_with = "crate::routes::nullable")]
    #[schema(value_type = Option<Vec<String>>)]
    types: Option<Option<Vec<String>>>,
    description: Option<String>,
    enabled: Option<bool>,
}

impl From<EndpointRequest> for EndpointInput {
    fn from(r: EndpointRequest) -> Self {
        EndpointInput {
            url: r.url,
            types: r.types,
            description: r.description,
            enabled: r.enabled,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct TestSent {
    /// The `webhook-id` of the test delivery, as it appears in the delivery log.
    webhook_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryBody {
    /// The `webhook-id` sent: the notification's id (or the test delivery's).
    notification_id: String,
    /// 1 for the first attempt.
    attempt: i32,
    at: DateTime<Utc>,
    status_code: Option<i32>,
    error: Option<String>,
    duration_ms: i64,
}

impl From<AttemptView> for DeliveryBody {
    fn from(a: AttemptView) -> Self {
        Self {
            notification_id: a.notification_id,
            attempt: a.attempt,
            at: a.at,
            status_code: a.status_code,
            error: a.error,
            duration_ms: a.duration_ms,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    deliveries: Vec<DeliveryBody>,
    next_page_token: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct DeliveryQuery {
    /// 1–500, default 50.
    limit: Option<u64>,
    /// `next_page_token` of the previous page.
    page_token: Option<String>,
}

impl From<WebhookError> for ApiError {
    fn from(e: WebhookError) -> Self {
        match e {
            WebhookError::Invalid(i) => invalid(i),
            WebhookError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "webhook_endpoint_not_found",
                "No such webhook endpoint.",
            ),
            WebhookError::Disabled => ApiError::new(
                StatusCode::CONFLICT,
                "endpoint_disabled",
                "The endpoint is turned off; turn it on to send to it.",
            ),
            WebhookError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// The caller's webhook endpoints, oldest first.
#[utoipa::path(get, path = "/api/webhook-endpoints", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = EndpointList)))]
#[get("/webhook-endpoints")]
pub async fn list(ctx: web::Data<AppContext>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let endpoints = webhooks::list(&ctx, user.id).await?;
    Ok(ok_json(&EndpointList {
        webhook_endpoints: endpoints.into_iter().map(EndpointBody::from).collect(),
    }))
}

/// Add an endpoint; the answer holds its secret, shown this once.
#[utoipa::path(post, path = "/api/webhook-endpoints", tag = "notifications", request_body = EndpointRequest, security(("bearer" = [])),
    responses(
        (status = 201, body = EndpointWithSecret),
        (status = 422, body = ErrorBody, description = "invalid_url, insecure_url, private_address, invalid_types, invalid_description, too_many_endpoints"),
    ))]
#[post("/webhook-endpoints")]
pub async fn create(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<EndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    let created =
        webhooks::create(&ctx, user.id, body.into_inner().into(), ctx.clock.now()).await?;
    Ok(HttpResponse::Created().json(EndpointWithSecret::from(created)))
}

#[utoipa::path(get, path = "/api/webhook-endpoints/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = EndpointBody), (status = 404, body = ErrorBody)))]
#[get("/webhook-endpoints/{id}")]
pub async fn get_one(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    Ok(ok_json(&EndpointBody::from(
        webhooks::get(&ctx, user.id, *id).await?,
    )))
}

/// Change an endpoint's URL, types, description, or turn it on or off.
#[utoipa::path(patch, path = "/api/webhook-endpoints/{id}", tag = "notifications", request_body = EndpointRequest, security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 200, body = EndpointBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_url, insecure_url, private_address, invalid_types, invalid_description"),
    ))]
#[patch("/webhook-endpoints/{id}")]
pub async fn update(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
    body: Json<EndpointRequest>,
) -> Result<HttpResponse, ApiError> {
    let endpoint = webhooks::update(
        &ctx,
        user.id,
        *id,
        body.into_inner().into(),
        ctx.clock.now(),
    )
    .await?;
    Ok(ok_json(&EndpointBody::from(endpoint)))
}

#[utoipa::path(delete, path = "/api/webhook-endpoints/{id}", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
#[delete("/webhook-endpoints/{id}")]
pub async fn remove(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    webhooks::delete(&ctx, user.id, *id, ctx.clock.now()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new secret; for 24 hours deliveries carry signatures with the old and the new one.
#[utoipa::path(post, path = "/api/webhook-endpoints/{id}/rotate-secret", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses((status = 200, body = EndpointWithSecret), (status = 404, body = ErrorBody)))]
#[post("/webhook-endpoints/{id}/rotate-secret")]
pub async fn rotate_secret(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let rotated = webhooks::rotate_secret(&ctx, user.id, *id, ctx.clock.now()).await?;
    Ok(ok_json(&EndpointWithSecret::from(rotated)))
}

/// Sends a `webhook.test` delivery (queued; see the delivery log for how it went).
#[utoipa::path(post, path = "/api/webhook-endpoints/{id}/test", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path)),
    responses(
        (status = 202, body = TestSent),
        (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "endpoint_disabled"),
    ))]
#[post("/webhook-endpoints/{id}/test")]
pub async fn send_test(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let webhook_id = webhooks::send_test(&ctx, user.id, *id, ctx.clock.now()).await?;
    Ok(HttpResponse::Accepted().json(TestSent { webhook_id }))
}

/// The endpoint's delivery log, newest first: one entry per attempt.
#[utoipa::path(get, path = "/api/webhook-endpoints/{id}/deliveries", tag = "notifications", security(("bearer" = [])),
    params(("id" = Uuid, Path), DeliveryQuery),
    responses(
        (status = 200, body = DeliveryPage),
        (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody, description = "invalid_limit"),
    ))]
#[get("/webhook-endpoints/{id}/deliveries")]
pub async fn deliveries(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    id: web::Path<Uuid>,
    query: web::Query<DeliveryQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = crate::routes::page_limit(query.limit, 50, 500)?;
    let after = crate::routes::page_token::<Uuid>(query.page_token.as_deref())?;
    let (rows, next) = webhooks::deliveries(&ctx, user.id, *id, limit, after).await?;
    Ok(ok_json(&DeliveryPage {
        deliveries: rows.into_iter().map(DeliveryBody::from).collect(),
        next_page_token: next.map(|id| id.to_string()),
    }))
}
