//! What this server offers, for clients that adapt to it (the web app): its clock, which
//! connections it can make, whether it takes new accounts. Public: the sign-up page reads it.

use actix_web::http::header::CACHE_CONTROL;
use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use service::AppContext;
use utoipa::ToSchema;

#[derive(Serialize, ToSchema)]
pub struct ServerInfo {
    /// The server's clock. Clients take "today" from here, not from the machine they run on.
    now: DateTime<Utc>,
    version: &'static str,
    /// `open`, or `closed` (only the first account can still be created).
    #[schema(example = "open")]
    registration: &'static str,
    sync_interval_minutes: i64,
    connect: ConnectOptions,
}

/// How each kind of calendar can be connected here.
#[derive(Serialize, ToSchema)]
pub struct ConnectOptions {
    /// Google OAuth is configured.
    google: bool,
    /// Microsoft OAuth is configured.
    microsoft: bool,
    /// `oauth` when a Cal.com OAuth client is configured, else `api_key`.
    #[schema(example = "api_key")]
    caldotcom: &'static str,
}

/// The server's clock and what it can connect.
#[utoipa::path(get, path = "/api/server", tag = "probes", responses((status = 200, body = ServerInfo)))]
#[get("/server")]
pub async fn info(ctx: web::Data<AppContext>) -> HttpResponse {
    let settings = &ctx.settings;
    let body = ServerInfo {
        now: ctx.clock.now(),
        version: env!("CARGO_PKG_VERSION"),
        registration: if settings.access.registration_open {
            "open"
        } else {
            "closed"
        },
        sync_interval_minutes: settings.sync_every().num_minutes(),
        connect: ConnectOptions {
            google: settings.providers.google.is_some(),
            microsoft: settings.providers.microsoft.is_some(),
            caldotcom: if settings.providers.calcom.is_some() {
                "oauth"
            } else {
                "api_key"
            },
        },
    };
    HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(body)
}
