//! Private ICS feeds: their addresses (JWT) and the feeds themselves (the token is the credential).

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use serde::Serialize;
use service::AppContext;
use service::feeds::{self, FeedKind, FeedUrls};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::routes::ok_json;

#[derive(Serialize, ToSchema)]
pub struct FeedUrlsBody {
    /// Busy blocks only, no titles: safe to share with clients.
    busy: String,
    /// Every event with its calendar's name and color: for yourself.
    full: String,
}

impl From<FeedUrls> for FeedUrlsBody {
    fn from(u: FeedUrls) -> Self {
        Self {
            busy: u.busy,
            full: u.full,
        }
    }
}

/// The caller's private feed addresses (created on first use).
#[utoipa::path(get, path = "/api/feeds", tag = "feeds", security(("bearer" = [])),
    responses((status = 200, body = FeedUrlsBody)))]
#[get("/feeds")]
pub async fn get_urls(
    ctx: web::Data<AppContext>,
    user: AuthUser,
) -> Result<HttpResponse, ApiError> {
    let urls = feeds::urls(&ctx, user.id)
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    Ok(ok_json(&FeedUrlsBody::from(urls)))
}

/// Replace both feed addresses; the old ones answer 404 from now on.
#[utoipa::path(post, path = "/api/feeds/rotate", tag = "feeds", security(("bearer" = [])),
    responses((status = 200, body = FeedUrlsBody)))]
#[post("/feeds/rotate")]
pub async fn rotate(ctx: web::Data<AppContext>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let urls = feeds::rotate(&ctx, user.id)
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    Ok(ok_json(&FeedUrlsBody::from(urls)))
}

/// A feed as iCalendar, with an `ETag`; `If-None-Match` with the current one answers 304.
#[utoipa::path(get, path = "/feeds/{token}/{kind}.ics", tag = "feeds",
    params(("token" = String, Path), ("kind" = String, Path, description = "busy or full")),
    responses(
        (status = 200, content_type = "text/calendar", body = String),
        (status = 304),
        (status = 404, body = ErrorBody),
    ))]
#[get("/feeds/{token}/{kind}.ics")]
pub async fn feed(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (token, kind) = path.into_inner();
    let owner = feeds::lookup(&ctx.db, &token, &kind)
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    let (Some(user_id), Some(kind)) = (owner, FeedKind::parse(&kind)) else {
        return Err(ApiError::not_found("No such feed."));
    };
    let feed = feeds::render(&ctx, user_id, kind, ctx.clock.now())
        .await
        .map_err(ApiError::internal)?;
    let mut response = if matches_etag(&req, &feed.etag) {
        HttpResponse::NotModified().finish()
    } else {
        HttpResponse::Ok()
            .content_type("text/calendar; charset=utf-8")
            .body(feed.body)
    };
    let headers = response.headers_mut();
    if let Ok(etag) = HeaderValue::from_str(&feed.etag) {
        headers.insert(header::ETAG, etag);
    }
    // Subscribers ask often; they must check each time but may keep the body.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    headers.insert(
        header::HeaderName::from_static("x-robots-tag"),
        HeaderValue::from_static("noindex"),
    );
    Ok(response)
}

/// `If-None-Match`: `*`, or any listed tag equal to ours (weak comparison, RFC 9110 §13.1.2).
fn matches_etag(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}
