//! The `AuthUser` extractor: a route that takes one requires a valid `Authorization: Bearer` token.

use std::future::{Ready, ready};

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use service::AppContext;
use service::auth::jwt::TokenError;
use uuid::Uuid;

use crate::error::ApiError;

/// The caller, proven by their access token.
#[derive(Clone, Copy, Debug)]
pub struct AuthUser {
    pub id: Uuid,
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<AuthUser, ApiError> {
    let ctx = req
        .app_data::<web::Data<AppContext>>()
        .expect("AppContext is registered on the App");
    let value = req.headers().get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::unauthorized(
            "missing_token",
            "Send `Authorization: Bearer <access token>`.",
        )
    })?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "invalid_token",
                "The Authorization header must read `Bearer <access token>`.",
            )
        })?;
    match ctx.jwt.verify(token, ctx.clock.now()) {
        Ok(id) => Ok(AuthUser { id }),
        Err(TokenError::Expired) => Err(ApiError::unauthorized(
            "token_expired",
            "The access token has expired; log in again.",
        )),
        Err(TokenError::Invalid) => Err(ApiError::unauthorized(
            "invalid_token",
            "The access token is not valid.",
        )),
    }
}
