//! The `AuthUser` extractor: a route that takes one requires a valid `Authorization: Bearer` token
//! whose session is still open and whose user still exists (one lookup per request: the session
//! joined with its user, both by primary key).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use service::AppContext;
use service::auth::jwt::{TokenError, Verified};
use uuid::Uuid;

use crate::error::ApiError;

/// The caller, proven by their access token.
#[derive(Clone, Copy, Debug)]
pub struct AuthUser {
    pub id: Uuid,
    /// The token's session: what logging out closes.
    pub session: Uuid,
    /// The user's versions, read by the same lookup that proved the account exists:
    /// `GET /api/availability` uses them instead of asking again.
    pub versions: service::version::Versions,
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let ctx = req
            .app_data::<web::Data<AppContext>>()
            .expect("AppContext is registered on the App")
            .clone();
        let verified = verify(req, &ctx);
        Box::pin(async move {
            let user = verified?;
            // A signed token outlives nothing: a session closed since it was issued (logout, a
            // password change, a deleted account) makes it worthless on every route.
            match service::sessions::check(&ctx.db, user.token()).await {
                Ok(Some(versions)) => Ok(AuthUser { versions, ..user }),
                Ok(None) => Err(ApiError::unauthorized(
                    "invalid_token",
                    "The access token is not valid.",
                )),
                Err(e) => Err(ApiError::internal(e.into())),
            }
        })
    }
}

impl AuthUser {
    /// What the token proved, for the service's session functions.
    pub fn token(&self) -> Verified {
        Verified {
            user_id: self.id,
            session_id: self.session,
        }
    }
}

fn verify(req: &HttpRequest, ctx: &AppContext) -> Result<AuthUser, ApiError> {
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
        Ok(v) => Ok(AuthUser {
            id: v.user_id,
            session: v.session_id,
            versions: Default::default(),
        }),
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
