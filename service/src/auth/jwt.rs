//! HS256 access tokens. The subject is the user's id and `sid` the session the token belongs to
//! (`sessions`, which is what makes a token revocable); nothing else about the user is in it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::config::JwtSecret;

const ISSUER: &str = "freeslot";
/// Seconds of clock skew between api processes that a token's expiry tolerates.
const LEEWAY_SECONDS: i64 = 5;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    /// Optional when reading only so that an expired token without one (issued before sessions
    /// existed) still reads as expired; a live token without a session is not valid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sid: Option<Uuid>,
    iat: i64,
    exp: i64,
    iss: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the access token has expired")]
    Expired,
    #[error("the access token is not valid")]
    Invalid,
}

/// What a valid token proves: who, and under which session.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub user_id: Uuid,
    pub session_id: Uuid,
}

pub struct AccessToken {
    pub token: String,
    pub expires_in: Duration,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

impl JwtKeys {
    pub fn new(secret: &JwtSecret, ttl: Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "sub", "iss"]);
        // Expiry is checked against the application's clock, not the library's reading of the
        // system time.
        validation.validate_exp = false;
        Self {
            encoding: EncodingKey::from_secret(secret.0.as_bytes()),
            decoding: DecodingKey::from_secret(secret.0.as_bytes()),
            validation,
            ttl,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    pub fn issue(&self, user_id: Uuid, session_id: Uuid, now: DateTime<Utc>) -> AccessToken {
        let now = now.timestamp();
        let claims = Claims {
            sub: user_id,
            sid: Some(session_id),
            iat: now,
            exp: now + self.ttl.as_secs() as i64,
            iss: ISSUER.to_owned(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing with an in-memory key cannot fail");
        AccessToken {
            token,
            expires_in: self.ttl,
        }
    }

    /// The user and session a valid token was issued for, if it has not expired at `now`. A
    /// token without a session (issued before sessions existed) is not valid.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<Verified, TokenError> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|_| TokenError::Invalid)?
            .claims;
        if claims.exp + LEEWAY_SECONDS < now.timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(Verified {
            user_id: claims.sub,
            session_id: claims.sid.ok_or(TokenError::Invalid)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tests hand the keys a fixed "now": the system clock plays no part in a verdict.
    fn now() -> DateTime<Utc> {
        "2030-01-01T00:00:00Z".parse().unwrap()
    }

    fn keys(secret: &str, ttl: u64) -> JwtKeys {
        JwtKeys::new(&JwtSecret(secret.repeat(32)), Duration::from_secs(ttl))
    }

    #[test]
    fn issued_tokens_verify_to_their_user() {
        let k = keys("a", 60);
        let (user_id, session_id) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(
            k.verify(&k.issue(user_id, session_id, now()).token, now()),
            Ok(Verified {
                user_id,
                session_id
            })
        );
    }

    #[test]
    fn wrong_key_garbage_and_expiry_are_rejected() {
        let k = keys("a", 60);
        let now = now();
        let token = k.issue(Uuid::new_v4(), Uuid::new_v4(), now).token;
        assert_eq!(keys("b", 60).verify(&token, now), Err(TokenError::Invalid));
        assert_eq!(k.verify("not.a.jwt", now), Err(TokenError::Invalid));
        // Expiry follows the clock it is given: valid within the TTL, expired after it.
        assert!(
            k.verify(&token, now + chrono::Duration::seconds(60))
                .is_ok()
        );
        assert_eq!(
            k.verify(&token, now + chrono::Duration::seconds(120)),
            Err(TokenError::Expired)
        );
        let claims = Claims {
            sub: Uuid::new_v4(),
            sid: Some(Uuid::new_v4()),
            iat: 0,
            exp: now.timestamp() - 3600,
            iss: ISSUER.into(),
        };
        let expired =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap();
        assert_eq!(k.verify(&expired, now), Err(TokenError::Expired));
    }

    #[test]
    fn a_live_token_without_a_session_is_not_valid() {
        let k = keys("a", 60);
        let claims = Claims {
            sub: Uuid::new_v4(),
            sid: None,
            iat: 0,
            exp: now().timestamp() + 3600,
            iss: ISSUER.into(),
        };
        let token =
            jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &k.encoding).unwrap();
        assert_eq!(k.verify(&token, now()), Err(TokenError::Invalid));
    }

    #[test]
    fn other_algorithms_are_refused() {
        let k = keys("a", 60);
        let claims = Claims {
            sub: Uuid::new_v4(),
            sid: Some(Uuid::new_v4()),
            iat: 0,
            exp: now().timestamp() + 3600,
            iss: ISSUER.into(),
        };
        let hs512 =
            jsonwebtoken::encode(&Header::new(Algorithm::HS512), &claims, &k.encoding).unwrap();
        assert_eq!(k.verify(&hs512, now()), Err(TokenError::Invalid));
    }
}
