//! Connecting accounts: OAuth (start and callback), Cal.com API keys, ICS feeds, disconnecting.

use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::StatusCode;
use actix_web::http::header::{CACHE_CONTROL, LOCATION};
use actix_web::{HttpRequest, HttpResponse, get, post, web};
use entity::Provider;
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::connections::oauth_flow::{self, BrowserBinding, StartError};
use service::connections::store::{self, ConnectError, Grant};
use service::connections::{CallbackError, CallbackParams};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::calendars::{CalendarList, calendar_list};

/// A provider named in a path; `local` and unknown names are not connectable.
fn connectable(name: &str) -> Result<Provider, ApiError> {
    match name.parse::<Provider>() {
        Ok(p) if p != Provider::Local => Ok(p),
        _ => Err(ApiError::not_found(format!(
            "`{name}` is not a provider (google, microsoft, caldotcom, ics, caldav)."
        ))),
    }
}

/// The cookie that binds an OAuth state to the browser that started the flow. Scoped to the
/// OAuth routes, HttpOnly (no script reads it), SameSite=Lax (sent on the provider's top-level
/// redirect back to the callback, not on cross-site subrequests).
const BINDING_COOKIE: &str = "freeslot_oauth";

fn binding_of(req: &HttpRequest) -> Option<BrowserBinding> {
    req.cookie(BINDING_COOKIE)
        .and_then(|c| BrowserBinding::parse(c.value()))
}

fn binding_cookie(ctx: &AppContext, binding: &BrowserBinding) -> Cookie<'static> {
    Cookie::build(BINDING_COOKIE, binding.as_str().to_owned())
        .path("/api/auth")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(ctx.settings.public_base_url.scheme() == "https")
        .max_age(actix_web::cookie::time::Duration::minutes(
            oauth_flow::STATE_TTL_MINUTES,
        ))
        .finish()
}

fn oauth_provider(name: &str) -> Result<Provider, ApiError> {
    match connectable(name)? {
        Provider::Ics => Err(ApiError::not_found(
            "ICS feeds have no OAuth; subscribe with POST /api/auth/connect/ics.",
        )),
        Provider::CalDav => Err(ApiError::not_found(
            "CalDAV has no OAuth; connect with POST /api/auth/connect/caldav.",
        )),
        p => Ok(p),
    }
}

impl From<ConnectError> for ApiError {
    fn from(e: ConnectError) -> Self {
        use providers::ProviderError as P;
        match e {
            ConnectError::Invalid(message) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
            }
            ConnectError::NotConnected(p) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_connected",
                format!("No {p} account is connected."),
            ),
            ConnectError::Provider(P::Unauthorized | P::InvalidGrant(_)) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_credentials",
                "The provider refused these credentials.",
            ),
            ConnectError::Provider(P::NotFound) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_found_at_provider",
                "The provider answered 404 for this address.",
            ),
            ConnectError::Provider(P::Protocol(why)) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_feed",
                format!("The provider's answer could not be read: {why}"),
            ),
            ConnectError::Provider(P::AddressNotAllowed) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "address_not_allowed",
                "The address is in a private, loopback or otherwise internal network; \
                 freeslot only fetches calendars from the public internet here.",
            ),
            ConnectError::Provider(P::Rejected(why)) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "provider_rejected",
                format!("The provider refused the request: {why}"),
            ),
            ConnectError::Provider(other) => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "provider_unavailable",
                format!("The provider could not be reached: {other}"),
            ),
            ConnectError::Internal(e) => ApiError::internal(e),
        }
    }
}

#[derive(Deserialize, IntoParams)]
pub struct ConnectQuery {
    /// `true`: answer with a 302 to the provider instead of JSON.
    redirect: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct AuthorizationUrl {
    authorization_url: String,
}

/// Start connecting an account: the provider's authorization URL (PKCE S256, single-use state
/// valid for 10 minutes).
#[utoipa::path(get, path = "/api/auth/connect/{provider}", tag = "connections", security(("bearer" = [])),
    params(("provider" = String, Path, description = "google, microsoft or caldotcom"), ConnectQuery),
    responses(
        (status = 200, body = AuthorizationUrl),
        (status = 302, description = "with ?redirect=true"),
        (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody, description = "unknown provider, or provider_disabled"),
    ))]
#[get("/auth/connect/{provider}")]
pub async fn start(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    user: AuthUser,
    path: web::Path<String>,
    query: web::Query<ConnectQuery>,
) -> Result<HttpResponse, ApiError> {
    let provider = oauth_provider(&path)?;
    // One binding per browser: a second tab's flow reuses the cookie the first one set.
    let binding = binding_of(&req).unwrap_or_else(BrowserBinding::generate);
    let url = oauth_flow::start(&ctx, user.id, provider, &binding)
        .await
        .map_err(|e| match e {
            StartError::Disabled(p) => ApiError::new(
                StatusCode::NOT_FOUND,
                "provider_disabled",
                match p {
                    Provider::CalDotCom => "Cal.com OAuth is not configured on this server; connect with an API key: POST /api/auth/connect/caldotcom.".to_owned(),
                    p => format!("{p} is not configured on this server (its client id and secret are unset)."),
                },
            ),
            StartError::Internal(e) => ApiError::internal(e),
        })?;
    let cookie = binding_cookie(&ctx, &binding);
    if query.redirect == Some(true) {
        return Ok(HttpResponse::Found()
            .insert_header((LOCATION, url.as_str()))
            .insert_header((CACHE_CONTROL, "no-store"))
            .cookie(cookie)
            .finish());
    }
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .cookie(cookie)
        .json(AuthorizationUrl {
            authorization_url: url.into(),
        }))
}

#[derive(Deserialize, IntoParams)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// Where the provider sends the browser back. Always a 302 to `FRONTEND_URL`, with
/// `?connected={provider}` or `?error={code}&provider={provider}`. The state must come with the
/// `freeslot_oauth` cookie of the browser that asked for the authorization URL, else
/// `?error=invalid_state`.
#[utoipa::path(get, path = "/api/auth/callback/{provider}", tag = "connections",
    params(("provider" = String, Path), CallbackQuery),
    responses((status = 302, description = "to FRONTEND_URL with connected= or error=")))]
#[get("/auth/callback/{provider}")]
pub async fn callback(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    path: web::Path<String>,
    query: web::Query<CallbackQuery>,
) -> HttpResponse {
    let query = query.into_inner();
    let mut target = ctx.settings.frontend_url.clone();
    let outcome = match oauth_provider(&path) {
        Err(_) => Err("unknown_provider"),
        Ok(provider) => {
            let params = CallbackParams {
                code: query.code,
                state: query.state,
                error: query.error,
            };
            match oauth_flow::finish(&ctx, provider, params, binding_of(&req).as_ref()).await {
                Ok(user_id) => {
                    tracing::info!(%user_id, %provider, "OAuth connection finished");
                    Ok(provider)
                }
                Err(e) => {
                    log_failure(provider, &e);
                    Err(e.code())
                }
            }
        }
    };
    {
        let mut pairs = target.query_pairs_mut();
        match outcome {
            Ok(provider) => {
                pairs.append_pair("connected", provider.as_str());
            }
            Err(code) => {
                pairs.append_pair("error", code);
                pairs.append_pair("provider", &path);
            }
        }
    }
    HttpResponse::Found()
        .insert_header((LOCATION, target.as_str()))
        .insert_header((CACHE_CONTROL, "no-store"))
        .finish()
}

fn log_failure(provider: Provider, e: &CallbackError) {
    match e {
        CallbackError::Internal(_) => {
            tracing::error!(%provider, error = %e, "OAuth callback failed")
        }
        _ => tracing::warn!(%provider, code = e.code(), error = %e, "OAuth callback refused"),
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyBody {
    /// A Cal.com API key (`cal_…` or `cal_live_…`).
    api_key: String,
}

/// Connect Cal.com with an API key instead of OAuth.
#[utoipa::path(post, path = "/api/auth/connect/caldotcom", tag = "connections", security(("bearer" = [])),
    request_body = ApiKeyBody,
    responses(
        (status = 201, body = CalendarList),
        (status = 422, body = ErrorBody, description = "invalid_api_key, invalid_credentials"),
        (status = 503, body = ErrorBody, description = "provider_unavailable"),
    ))]
#[post("/auth/connect/caldotcom")]
pub async fn connect_calcom(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<ApiKeyBody>,
) -> Result<HttpResponse, ApiError> {
    let key = body.into_inner().api_key.trim().to_owned();
    if !key.starts_with("cal_") || key.len() < 8 || key.chars().any(char::is_whitespace) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_api_key",
            "`api_key` must be a Cal.com API key (it starts with `cal_` or `cal_live_`).",
        ));
    }
    let connected = store::connect(&ctx, user.id, Provider::CalDotCom, Grant::ApiKey(key)).await?;
    created(&ctx, user.id, &connected.calendar_ids).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CalDavBody {
    /// `icloud`, `fastmail`, `nextcloud` (needs `url`), or null/absent (needs `url`).
    preset: Option<String>,
    /// The server (any URL on it; discovery finds the calendars).
    url: Option<String>,
    username: String,
    /// iCloud and Fastmail want an app password, not the account's own.
    password: String,
}

/// Connect a CalDAV account (iCloud, Fastmail, Nextcloud, any server): discovery finds its
/// calendars that hold events.
#[utoipa::path(post, path = "/api/auth/connect/caldav", tag = "connections", security(("bearer" = [])),
    request_body = CalDavBody,
    responses(
        (status = 201, body = CalendarList),
        (status = 422, body = ErrorBody, description = "invalid_request (preset, url, username, password), invalid_credentials, unreachable, not_caldav, address_not_allowed, invalid_text"),
    ))]
#[post("/auth/connect/caldav")]
pub async fn connect_caldav(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<CalDavBody>,
) -> Result<HttpResponse, ApiError> {
    use providers::ProviderError as P;
    let body = body.into_inner();
    let login = providers::caldav::login(
        body.preset.as_deref(),
        body.url.as_deref(),
        &body.username,
        &body.password,
    )
    .map_err(|(field, message)| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_request",
            format!("`{field}`: {message}"),
        )
    })?;
    let connected = match store::connect(&ctx, user.id, Provider::CalDav, Grant::Login(login)).await
    {
        Ok(c) => c,
        // What a person can act on, in CalDAV's words.
        Err(ConnectError::Provider(P::Transient(_) | P::RateLimited { .. })) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unreachable",
                "The CalDAV server could not be reached; check the address.",
            ));
        }
        Err(ConnectError::Provider(P::Protocol(_) | P::NotFound | P::Rejected(_) | P::Gone)) => {
            return Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "not_caldav",
                "No CalDAV calendars were found at this address.",
            ));
        }
        Err(e) => return Err(e.into()),
    };
    created(&ctx, user.id, &connected.calendar_ids).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedBody {
    /// http, https or webcal URL of the feed.
    url: String,
    /// A name for the calendar; the feed's own name (X-WR-CALNAME) otherwise.
    name: Option<String>,
}

/// Subscribe to an ICS feed.
#[utoipa::path(post, path = "/api/auth/connect/ics", tag = "connections", security(("bearer" = [])),
    request_body = FeedBody,
    responses(
        (status = 201, body = CalendarList),
        (status = 422, body = ErrorBody, description = "invalid_url, invalid_feed, not_found_at_provider, provider_rejected, address_not_allowed (the URL resolves to a loopback, private, link-local, multicast or unspecified address and FEEDS_ALLOW_PRIVATE is off), invalid_text"),
        (status = 503, body = ErrorBody, description = "provider_unavailable"),
    ))]
#[post("/auth/connect/ics")]
pub async fn connect_ics(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<FeedBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let url = providers::ics::normalize_url(&body.url)
        .map_err(|m| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_url", m))?;
    let name = body
        .name
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_name",
            "`name` must be at most 200 characters",
        ));
    }
    let grant = Grant::Feed {
        url: url.into(),
        name,
    };
    let connected = store::connect(&ctx, user.id, Provider::Ics, grant).await?;
    created(&ctx, user.id, &connected.calendar_ids).await
}

async fn created(
    ctx: &AppContext,
    user_id: uuid::Uuid,
    ids: &[uuid::Uuid],
) -> Result<HttpResponse, ApiError> {
    let mut list = calendar_list(ctx, user_id).await?;
    list.calendars.retain(|c| ids.contains(&c.id));
    Ok(HttpResponse::Created().json(list))
}

/// Disconnect every account of a provider: revoke where the provider allows, remove its
/// calendars and events.
#[utoipa::path(post, path = "/api/auth/disconnect/{provider}", tag = "connections", security(("bearer" = [])),
    params(("provider" = String, Path)),
    responses(
        (status = 204),
        (status = 404, body = ErrorBody, description = "unknown provider, or not_connected"),
    ))]
#[post("/auth/disconnect/{provider}")]
pub async fn disconnect(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let provider = connectable(&path)?;
    store::disconnect(&ctx, user.id, provider).await?;
    Ok(HttpResponse::NoContent().finish())
}
