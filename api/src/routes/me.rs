use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, patch, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use service::AppContext;
use service::users::{self, ProfileChanges, ProfileError};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::AuthUser;
use crate::error::{ApiError, ErrorBody};
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
            ProfileError::Invalid(i) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, i.code, i.message)
            }
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
    body: web::Json<ProfilePatch>,
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
