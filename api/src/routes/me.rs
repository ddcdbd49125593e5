use actix_web::http::StatusCode;
use actix_web::{HttpResponse, delete, get, patch, post, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::users::{self, PasswordError, ProfileChanges, ProfileError};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
use crate::json::Json;
use crate::routes::ok_json;

#[derive(Serialize, ToSchema)]
pub struct Profile {
    id: Uuid,
    email: String,
    name: String,
    timezone: String,
    created_at: DateTime<Utc>,
}

impl From<entity::users::Model> for Profile {
    fn from(u: entity::users::Model) -> Self {
        Self {
            id: u.id,
            email: u.email,
            name: u.name,
            timezone: u.timezone,
            created_at: u.created_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    name: Option<String>,
    /// IANA zone.
    timezone: Option<String>,
}

impl From<ProfileError> for ApiError {
    fn from(e: ProfileError) -> Self {
        match e {
            ProfileError::Invalid(i) => crate::routes::invalid(i),
            // A valid token for an account that no longer exists proves nothing.
            ProfileError::NotFound => {
                ApiError::unauthorized("invalid_token", "The account no longer exists.")
            }
            ProfileError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/me", tag = "accounts", security(("bearer" = [])), responses(
    (status = 200, body = Profile),
    (status = 401, body = ErrorBody),
))]
#[get("/me")]
pub async fn get_me(ctx: web::Data<AppContext>, user: AuthUser) -> Result<HttpResponse, ApiError> {
    let profile = Profile::from(users::get(&ctx.db, user.id).await?);
    Ok(ok_json(&profile))
}

/// Change the caller's name or timezone; fields left out stay as they are.
#[utoipa::path(patch, path = "/api/me", tag = "accounts", security(("bearer" = [])), request_body = ProfilePatch, responses(
    (status = 200, body = Profile),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "invalid_name, unknown_timezone"),
))]
#[patch("/me")]
pub async fn patch_me(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<ProfilePatch>,
) -> Result<HttpResponse, ApiError> {
    let ProfilePatch { name, timezone } = body.into_inner();
    let updated = users::update_profile(
        &ctx.db,
        user.id,
        ProfileChanges { name, timezone },
        ctx.clock.now(),
    )
    .await?;
    Ok(ok_json(&Profile::from(updated)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    /// At least 10 characters.
    new_password: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountDeletion {
    /// The account's password, to prove it is its owner asking.
    password: String,
}

impl From<PasswordError> for ApiError {
    fn from(e: PasswordError) -> Self {
        match e {
            // Not 401: the token is fine, and a client must not read this as "signed out".
            PasswordError::WrongPassword => ApiError::new(
                StatusCode::FORBIDDEN,
                "invalid_credentials",
                "The password is wrong.",
            ),
            PasswordError::Invalid(i) => crate::routes::invalid(i),
            PasswordError::TooManyAttempts { retry_after } => ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                e.to_string(),
            )
            .with_retry_after(crate::routes::accounts::seconds(retry_after)),
            PasswordError::Busy => crate::routes::accounts::busy(),
            PasswordError::NotFound => {
                ApiError::unauthorized("invalid_token", "The account no longer exists.")
            }
            PasswordError::Internal(e) => ApiError::internal(e),
        }
    }
}

/// Change the password. Every other token of the account stops working; this one stays valid.
#[utoipa::path(post, path = "/api/me/password", tag = "accounts", security(("bearer" = [])), request_body = PasswordChange, responses(
    (status = 204, description = "changed; other sessions are signed out"),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "invalid_credentials: the current password is wrong"),
    (status = 413, body = ErrorBody),
    (status = 415, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "weak_password, invalid_text"),
    (status = 429, body = ErrorBody, description = "too_many_attempts"),
    (status = 503, body = ErrorBody, description = "busy or database_unavailable"),
))]
#[post("/me/password")]
pub async fn change_password(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    users::change_password(
        &ctx,
        user.token(),
        &body.current_password,
        &body.new_password,
        ctx.clock.now(),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Delete the account and everything it holds: connections (revoked at the providers where
/// they allow it), calendars, events, rules, clients, feeds and the audit log. Every token of
/// the account stops working.
#[utoipa::path(delete, path = "/api/me", tag = "accounts", security(("bearer" = [])), request_body = AccountDeletion, responses(
    (status = 204, description = "the account and its data are gone"),
    (status = 400, body = ErrorBody),
    (status = 401, body = ErrorBody),
    (status = 403, body = ErrorBody, description = "invalid_credentials: the password is wrong"),
    (status = 413, body = ErrorBody),
    (status = 415, body = ErrorBody),
    (status = 422, body = ErrorBody, description = "invalid_text"),
    (status = 429, body = ErrorBody, description = "too_many_attempts"),
    (status = 503, body = ErrorBody, description = "busy or database_unavailable"),
))]
#[delete("/me")]
pub async fn delete_me(
    ctx: web::Data<AppContext>,
    user: AuthUser,
    body: Json<AccountDeletion>,
) -> Result<HttpResponse, ApiError> {
    service::account_removal::delete_account(&ctx, user.token(), &body.password).await?;
    Ok(HttpResponse::NoContent().finish())
}
