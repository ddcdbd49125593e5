//! The notifications feed, its live stream (Server-Sent Events) and the tickets that open the
//! stream for browsers (contract, "Notifications").

use std::convert::Infallible;

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::notifications::{self, stream as live};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::routes::ok_json;

#[derive(Serialize, ToSchema)]
pub struct NotificationBody {
    /// Sorts in creation order (the user's sequence number, zero-padded).
    #[schema(example = "000000000042")]
    id: String,
    /// `calendar.synced`, `calendar.sync_failed`, `connection.needs_reauth`, …
    #[serde(rename = "type")]
    kind: String,
    created_at: DateTime<Utc>,
    #[schema(value_type = Object)]
    data: serde_json::Value,
}

impl From<entity::notifications::Model> for NotificationBody {
    fn from(n: entity::notifications::Model) -> Self {
        Self {
            id: notifications::id_of(n.seq),
            kind: n.kind,
            created_at: n.created_at,
            data: n.data,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct NotificationList {
    notifications: Vec<NotificationBody>,
    /// Pass as `after` for the next page; null when this page reached the newest.
    next_after: Option<String>,
}

#[derive(Deserialize, IntoParams)]
pub struct FeedQuery {
    /// A notification id: only later ones are listed.
    after: Option<String>,
    /// 1–1000, default 100.
    limit: Option<u64>,
}

fn cursor(raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    raw.map(|a| {
        notifications::parse_id(a).ok_or_else(|| {
            ApiError::bad_request("`after` must be a notification id such as 000000000042")
        })
    })
    .transpose()
}

/// The caller's notifications, oldest first.
#[utoipa::path(get, path = "/api/notifications", tag = "notifications", params(FeedQuery),
    security(("bearer" = [])), responses(
        (status = 200, body = NotificationList),
        (status = 400, body = crate::error::ErrorBody, description = "`after` is not a notification id"),
        (status = 422, body = crate::error::ErrorBody, description = "`limit` outside 1–1000 (`invalid_limit`)"),
    ))]
#[get("/notifications")]
pub async fn list(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    query: web::Query<FeedQuery>,
) -> Result<HttpResponse, ApiError> {
    let after = cursor(query.after.as_deref())?.unwrap_or(0);
    let limit = crate::routes::page_limit(query.limit, 100, 1000)?;
    let rows = notifications::after(&ctx.db, user.id, after, limit)
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    let next_after = (rows.len() as u64 == limit)
        .then(|| rows.last().map(|n| notifications::id_of(n.seq)))
        .flatten();
    Ok(ok_json(&NotificationList {
        notifications: rows.into_iter().map(NotificationBody::from).collect(),
        next_after,
    }))
}

#[derive(Serialize, ToSchema)]
pub struct TicketBody {
    /// Opens `GET /api/notifications/stream?ticket=…` once, within 60 seconds.
    ticket: String,
}

/// A single-use ticket for `EventSource`, which cannot send the Authorization header.
#[utoipa::path(post, path = "/api/notifications/ticket", tag = "notifications",
    security(("bearer" = [])), responses((status = 201, body = TicketBody)))]
#[post("/notifications/ticket")]
pub async fn issue_ticket(
    ctx: web::Data<AppContext>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let ticket = notifications::issue_ticket(&ctx.db, user.id, ctx.clock.now())
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    Ok(HttpResponse::Created()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(TicketBody { ticket }))
}

#[derive(Deserialize, IntoParams)]
pub struct StreamQuery {
    /// From `POST /api/notifications/ticket`, instead of the Authorization header.
    ticket: Option<String>,
    /// Resume after this notification id (as `Last-Event-ID` does; the header wins).
    after: Option<String>,
}

/// The caller's notifications as Server-Sent Events: each one `id:`, `event:` (its type) and
/// `data:` (the notification as in the feed); a comment line every 10 s. Without `Last-Event-ID`
/// or `after` it starts with the next notification.
#[utoipa::path(get, path = "/api/notifications/stream", tag = "notifications", params(StreamQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, content_type = "text/event-stream", description = "the stream"),
        (status = 401, body = ErrorBody, description = "no valid token, or an unknown, used or expired ticket"),
    ))]
#[get("/notifications/stream")]
pub async fn follow(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    let user_id = match query.ticket.as_deref() {
        Some(t) => notifications::redeem_ticket(&ctx.db, t, ctx.clock.now())
            .await
            .map_err(|e| ApiError::internal(e.into()))?
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "invalid_ticket",
                    "The ticket is unknown, already used or expired; ask for a new one.",
                )
            })?,
        None => AuthUser::extract(&req).await?.id,
    };
    let resume = req
        .headers()
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| query.after.clone());
    let after = cursor(resume.as_deref())?;
    let events = live::follow(ctx.into_inner(), user_id, after)
        .await
        .map_err(|e| ApiError::internal(e.into()))?
        .map(|item| {
            Ok::<_, Infallible>(Bytes::from(match item {
                live::Item::Notification(n) => {
                    let body = NotificationBody::from(n);
                    let json = serde_json::to_string(&body).unwrap_or_default();
                    format!("id: {}\nevent: {}\ndata: {json}\n\n", body.id, body.kind)
                }
                live::Item::Heartbeat => ": keep-alive\n\n".to_owned(),
            }))
        });
    let opening =
        futures::stream::once(async { Ok(Bytes::from_static(b"retry: 3000\n: connected\n\n")) });
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/event-stream"))
        .insert_header((CACHE_CONTROL, "no-store"))
        .insert_header(("x-accel-buffering", "no"))
        .streaming(opening.chain(events)))
}
