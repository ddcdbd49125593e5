use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::users::{self, LoginError, RegisterError};
use utoipa::ToSchema;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::me::Profile;

#[derive(Deserialize, ToSchema)]
pub struct RegisterRequest {
    #[schema(example = "ada@example.com")]
    email: String,
    /// At least 10 characters.
    password: String,
    #[schema(example = "Ada Lovelace")]
    name: String,
    /// IANA zone.
    #[schema(example = "Europe/Berlin")]
    timezone: String,
}

#[derive(Serialize, ToSchema)]
pub struct RegisterResponse {
    user: Profile,
    access_token: String,
    token_type: &'static str,
    expires_in: u64,
}

#[derive(Deserialize, ToSchema)]
pub struct LoginRequest {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    access_token: String,
    #[schema(example = "Bearer")]
    token_type: &'static str,
    /// Seconds until the token expires.
    expires_in: u64,
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Invalid(i) => crate::routes::invalid(i),
            RegisterError::EmailTaken => {
                ApiError::new(StatusCode::CONFLICT, "email_taken", e.to_string())
            }
            RegisterError::Closed => ApiError::new(
                StatusCode::FORBIDDEN,
                "registration_closed",
                "Registration is closed on this server; ask its operator for an account.",
            ),
            RegisterError::TooManyRequests { retry_after } => too_many_requests(retry_after),
            RegisterError::Busy => busy(),
            RegisterError::Internal(e) => ApiError::internal(e),
        }
    }
}

impl From<LoginError> for ApiError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::InvalidCredentials => {
                ApiError::unauthorized("invalid_credentials", e.to_string())
            }
            LoginError::TooManyAttempts { retry_after } => ApiError::new(
                actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                e.to_string(),
            )
            .with_retry_after(seconds(retry_after)),
            LoginError::TooManyRequests { retry_after } => too_many_requests(retry_after),
            LoginError::Busy => busy(),
            LoginError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// Whole seconds for `Retry-After`, rounded up and at least 1.
pub(crate) fn seconds(wait: chrono::Duration) -> u64 {
    let ms = wait.num_milliseconds().max(1) as u64;
    ms.div_ceil(1000)
}

fn too_many_requests(retry_after: chrono::Duration) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!(
            "Too many attempts from your address; try again in {} seconds.",
            seconds(retry_after)
        ),
    )
    .with_retry_after(seconds(retry_after))
}

pub(crate) fn busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "The server is checking too many passwords at once; try again in a few seconds.",
    )
    .with_retry_after(5)
}

/// Create an account and get an access token for it.
#[utoipa::path(post, path = "/api/auth/register", tag = "accounts", request_body = RegisterRequest, responses(
    (status = 201, body = RegisterResponse),
    (status = 400, body = ErrorBody, description = "malformed JSON or missing fields"),
    (status = 403, body = ErrorBody, description = "registration_closed (REGISTRATION=closed and an account exists)"),
    (status = 409, body = ErrorBody, description = "email_taken"),
    (status = 413, body = ErrorBody, description = "payload_too_large"),
    (status = 415, body = ErrorBody, description = "unsupported_media_type"),
    (status = 422, body = ErrorBody, description = "invalid_email, weak_password, invalid_name, unknown_timezone, invalid_text"),
    (status = 429, body = ErrorBody, description = "too_many_requests: REGISTER_RATE_PER_HOUR reached for the client's address; Retry-After says when to try again"),
    (status = 503, body = ErrorBody, description = "busy (too many password hashes at once) or database_unavailable"),
))]
#[post("/auth/register")]
pub async fn register(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let RegisterRequest {
        email,
        password,
        name,
        timezone,
    } = body.into_inner();
    let (user, token) = users::register(
        &ctx,
        crate::client_addr::limit_key_of(&req, &ctx),
        users::NewUser {
            email,
            password,
            name,
            timezone,
        },
        ctx.clock.now(),
    )
    .await?;
    Ok(HttpResponse::Created().json(RegisterResponse {
        user: Profile::from(user),
        access_token: token.token,
        token_type: "Bearer",
        expires_in: token.expires_in.as_secs(),
    }))
}

/// Exchange email and password for an access token.
#[utoipa::path(post, path = "/api/auth/login", tag = "accounts", request_body = LoginRequest, responses(
    (status = 200, body = LoginResponse),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody, description = "invalid_credentials (the same for an unknown email and a wrong password)"),
    (status = 413, body = ErrorBody, description = "payload_too_large"),
    (status = 415, body = ErrorBody, description = "unsupported_media_type"),
    (status = 422, body = ErrorBody, description = "invalid_text"),
    (status = 429, body = ErrorBody, description = "too_many_attempts: 10 failed logins for the email address within 15 minutes; too_many_requests: LOGIN_RATE_PER_MINUTE reached for the client's address. Retry-After says when to try again"),
    (status = 503, body = ErrorBody, description = "busy (too many password checks at once) or database_unavailable"),
))]
#[post("/auth/login")]
pub async fn login(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let client = crate::client_addr::limit_key_of(&req, &ctx);
    let token = users::login(&ctx, client, &body.email, &body.password, ctx.clock.now()).await?;
    Ok(HttpResponse::Ok().json(LoginResponse {
        access_token: token.token,
        token_type: "Bearer",
        expires_in: token.expires_in.as_secs(),
    }))
}

/// Revoke the access token this request is made with; other sessions stay signed in.
#[utoipa::path(post, path = "/api/auth/logout", tag = "accounts", security(("bearer" = [])), responses(
    (status = 204, description = "the token no longer works"),
    (status = 401, body = ErrorBody, description = "missing_token, invalid_token, token_expired"),
    (status = 503, body = ErrorBody, description = "database_unavailable"),
))]
#[post("/auth/logout")]
pub async fn logout(ctx: web::Data<AppContext>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    service::sessions::close(&ctx.db, user.token())
        .await
        .map_err(|e| ApiError::internal(e.into()))?;
    Ok(HttpResponse::NoContent().finish())
}
