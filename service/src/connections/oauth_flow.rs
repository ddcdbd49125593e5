//! Starting an OAuth connection and finishing it at the callback.
//!
//! The `state` is 128 random bits, stored only as its SHA-256 with the user who asked, the
//! provider, the sealed PKCE verifier and an expiry ten minutes out. The callback consumes it
//! with one conditional UPDATE, so a replayed state can never win twice.
//!
//! The state is also bound to the browser that asked for the authorization URL: the api hands
//! that browser an HttpOnly cookie (`BrowserBinding`), its SHA-256 is stored with the state,
//! and the callback only consumes a state whose cookie comes back. A victim who opens an
//! authorization link someone else started has no such cookie, so their calendar cannot be
//! attached to the other person's account.

use chrono::Duration;
use entity::Provider;
use entity::oauth_states;
use providers::ProviderError;
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};
use url::Url;
use uuid::Uuid;

use super::store::{self, Grant};
use crate::AppContext;
use crate::vault::{Column, Slot};

pub const STATE_TTL_MINUTES: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0} is not configured on this server")]
    Disabled(Provider),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// The random value of a browser's binding cookie (256 bits, base64url).
pub struct BrowserBinding(String);

impl BrowserBinding {
    pub fn generate() -> Self {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random source");
        Self(base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            bytes,
        ))
    }

    /// A value the browser sent back, if it has the shape of one we made (anything else is
    /// replaced by a new binding).
    pub fn parse(value: &str) -> Option<Self> {
        (value.len() == 43
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'))
        .then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn hash(&self) -> String {
        crate::secrets::sha256_hex(&self.0)
    }
}

/// Creates a state for `user_id`, bound to `browser`, and returns the provider's authorization
/// URL.
pub async fn start(
    ctx: &AppContext,
    user_id: Uuid,
    provider: Provider,
    browser: &BrowserBinding,
) -> Result<Url, StartError> {
    let app = crate::credentials::oauth_app(&ctx.settings, provider)
        .ok_or(StartError::Disabled(provider))?;
    let start = app.start();
    let now = ctx.clock.now();
    let id = Uuid::now_v7();
    oauth_states::ActiveModel {
        id: Set(id),
        state_hash: Set(state_hash(&start.state)),
        user_id: Set(user_id),
        provider: Set(provider),
        pkce_verifier_enc: Set(ctx
            .vault
            .seal(&start.pkce_verifier, Slot::new(Column::PkceVerifier, id))),
        expires_at: Set(now + Duration::minutes(STATE_TTL_MINUTES)),
        used_at: Set(None),
        browser_hash: Set(Some(browser.hash())),
        created_at: Set(now),
    }
    .insert(&ctx.db)
    .await
    .map_err(anyhow::Error::from)?;
    tracing::info!(%user_id, %provider, "OAuth connection started");
    Ok(start.url)
}

fn state_hash(state: &str) -> String {
    crate::secrets::sha256_hex(state)
}

/// What the provider sent the browser back with.
#[derive(Debug, Default, Clone)]
pub struct CallbackParams {
    pub code: Option<String>,
    pub state: Option<String>,
    pub error: Option<String>,
}

/// Each ends as `FRONTEND_URL?error=<code>`; none is a 500.
#[derive(Debug, thiserror::Error)]
pub enum CallbackError {
    #[error("the user declined access at the provider")]
    AccessDenied,
    #[error("the provider reported an error: {0}")]
    ProviderError(String),
    #[error("the callback lacks `code` or `state`")]
    InvalidRequest,
    #[error("the state is unknown, was already used, or was started in another browser")]
    InvalidState,
    #[error("the state expired; start again")]
    StateExpired,
    #[error("{0} is not configured on this server")]
    Disabled(Provider),
    #[error("the provider refused the authorization code ({0})")]
    InvalidGrant(String),
    #[error("the token exchange failed: {0}")]
    TokenExchange(ProviderError),
    #[error("the provider did not grant calendar access")]
    InsufficientScope,
    #[error("the account or its calendars could not be read: {0}")]
    Discovery(ProviderError),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

impl CallbackError {
    /// The `error` query parameter the frontend receives.
    pub fn code(&self) -> &'static str {
        match self {
            Self::AccessDenied => "access_denied",
            Self::ProviderError(_) => "provider_error",
            Self::InvalidRequest => "invalid_request",
            Self::InvalidState => "invalid_state",
            Self::StateExpired => "state_expired",
            Self::Disabled(_) => "provider_disabled",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::TokenExchange(_) => "token_exchange_failed",
            Self::InsufficientScope => "insufficient_scope",
            Self::Discovery(_) => "discovery_failed",
            Self::Internal(_) => "internal_error",
        }
    }
}

/// Consumes the state (only with the cookie of the browser that started it), exchanges the code
/// (with the PKCE verifier), stores the connection and its calendars. Returns the user the
/// connection belongs to.
pub async fn finish(
    ctx: &AppContext,
    provider: Provider,
    params: CallbackParams,
    browser: Option<&BrowserBinding>,
) -> Result<Uuid, CallbackError> {
    let app = crate::credentials::oauth_app(&ctx.settings, provider)
        .ok_or(CallbackError::Disabled(provider))?;
    let state = params
        .state
        .as_deref()
        .ok_or(CallbackError::InvalidRequest)?;
    let browser = browser.ok_or(CallbackError::InvalidState)?;
    let hash = state_hash(state);
    let now = ctx.clock.now();
    // Single use: only the first request to flip `used_at` gets the row, and only from the
    // browser that started the flow (another browser's attempt leaves it untouched).
    let consumed = oauth_states::Entity::update_many()
        .col_expr(oauth_states::Column::UsedAt, Expr::value(now))
        .filter(oauth_states::Column::StateHash.eq(hash.as_str()))
        .filter(oauth_states::Column::BrowserHash.eq(browser.hash()))
        .filter(oauth_states::Column::UsedAt.is_null())
        .exec(&ctx.db)
        .await
        .map_err(anyhow::Error::from)?
        .rows_affected;
    if consumed != 1 {
        return Err(CallbackError::InvalidState);
    }
    let row = oauth_states::Entity::find()
        .filter(oauth_states::Column::StateHash.eq(hash.as_str()))
        .one(&ctx.db)
        .await
        .map_err(anyhow::Error::from)?
        .ok_or(CallbackError::InvalidState)?;
    if row.provider != provider {
        return Err(CallbackError::InvalidState);
    }
    if row.expires_at < now {
        return Err(CallbackError::StateExpired);
    }
    if let Some(error) = params.error {
        return Err(if error == "access_denied" {
            CallbackError::AccessDenied
        } else {
            CallbackError::ProviderError(error)
        });
    }
    let code = params.code.ok_or(CallbackError::InvalidRequest)?;
    let verifier = ctx
        .vault
        .open(
            &row.pkce_verifier_enc,
            Slot::new(Column::PkceVerifier, row.id),
        )
        .map_err(|e| anyhow::anyhow!("PKCE verifier: {e}"))?;
    let tokens = app
        .exchange(&ctx.http, &code, &verifier, ctx.clock.now())
        .await
        .map_err(|e| match e {
            ProviderError::InvalidGrant(why) => CallbackError::InvalidGrant(why),
            other => CallbackError::TokenExchange(other),
        })?;
    // Google lets people untick scopes on the consent screen.
    if provider == Provider::Google
        && !tokens.scopes.is_empty()
        && !tokens.scopes.iter().any(|s| s.contains("auth/calendar"))
    {
        return Err(CallbackError::InsufficientScope);
    }
    store::connect(ctx, row.user_id, provider, Grant::OAuth(tokens))
        .await
        .map_err(|e| match e {
            store::ConnectError::Provider(p) => CallbackError::Discovery(p),
            other => CallbackError::Internal(anyhow::anyhow!(other)),
        })?;
    Ok(row.user_id)
}
