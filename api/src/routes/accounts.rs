use actix_web::http::StatusCode;
use actix_web::{HttpResponse, post, web};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::users::{self, LoginError, RegisterError};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorBody};
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
            RegisterError::Invalid(i) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, i.code, i.message)
            }
            RegisterError::EmailTaken => {
                ApiError::new(StatusCode::CONFLICT, "email_taken", e.to_string())
            }
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
            .with_retry_after(retry_after.num_seconds().max(1) as u64),
            LoginError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// Create an account and get an access token for it.
#[utoipa::path(post, path = "/api/auth/register", tag = "accounts", request_body = RegisterRequest, responses(
    (status = 201, body = RegisterResponse),
    (status = 400, body = ErrorBody, description = "malformed JSON or missing fields"),
    (status = 409, body = ErrorBody, description = "email_taken"),
    (status = 422, body = ErrorBody, description = "invalid_email, weak_password, invalid_name, unknown_timezone"),
))]
#[post("/auth/register")]
pub async fn register(
    ctx: web::Data<AppContext>,
    body: web::Json<RegisterRequest>,
) -> Result<HttpResponse, ApiError> {
    let RegisterRequest {
        email,
        password,
        name,
        timezone,
    } = body.into_inner();
    let user = users::register(
        &ctx.db,
        users::NewUser {
            email,
            password,
            name,
            timezone,
        },
        ctx.clock.now(),
    )
    .await?;
    let token = ctx.jwt.issue(user.id, ctx.clock.now());
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
    (status = 429, body = ErrorBody, description = "too_many_attempts: 10 failed logins for the address within 15 minutes; Retry-After says when to try again"),
))]
#[post("/auth/login")]
pub async fn login(
    ctx: web::Data<AppContext>,
    body: web::Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let user = users::login(&ctx.db, &body.email, &body.password, ctx.clock.now()).await?;
    let token = ctx.jwt.issue(user.id, ctx.clock.now());
    Ok(HttpResponse::Ok().json(LoginResponse {
        access_token: token.token,
        token_type: "Bearer",
        expires_in: token.expires_in.as_secs(),
    }))
}
