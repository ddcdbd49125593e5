//! What can go wrong when talking to a provider, typed by what the caller should do about it.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// Slow down: try again after `retry_after` (or a backoff of the caller's choosing).
    #[error("the provider is rate limiting us")]
    RateLimited { retry_after: Option<Duration> },
    /// The access token was refused: refresh it once and retry.
    #[error("the provider refused the access token")]
    Unauthorized,
    /// The sync cursor expired (Google 410, Graph 410 / `syncStateNotFound`): sync fully again.
    #[error("the provider no longer accepts the sync cursor; a full sync is needed")]
    Gone,
    #[error("not found at the provider")]
    NotFound,
    /// The grant itself is dead (refresh token revoked or expired): the user must reconnect.
    #[error("the provider refused the grant ({0}); the account must be reconnected")]
    InvalidGrant(String),
    /// Network trouble, timeouts, 5xx: worth retrying later.
    #[error("the provider is unavailable: {0}")]
    Transient(String),
    /// A permanent refusal of this request (4xx other than the above).
    #[error("the provider refused the request: {0}")]
    Rejected(String),
    /// A user's URL (feed, CalDAV server) points into an internal network (`outbound`).
    #[error("the address is in a private, loopback or otherwise internal network")]
    AddressNotAllowed,
    /// The answer did not have the shape the provider documents.
    #[error("unexpected answer from the provider: {0}")]
    Protocol(String),
}

impl ProviderError {
    /// Whether the same request may succeed later without anyone changing anything.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Transient(_))
    }

    /// A short machine-readable name, for sync status and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::RateLimited { .. } => "rate_limited",
            Self::Unauthorized => "unauthorized",
            Self::Gone => "cursor_expired",
            Self::NotFound => "not_found",
            Self::InvalidGrant(_) => "invalid_grant",
            Self::Transient(_) => "provider_unavailable",
            Self::Rejected(_) => "provider_rejected",
            Self::Protocol(_) => "provider_protocol",
            Self::AddressNotAllowed => "address_not_allowed",
        }
    }
}

impl From<reqwest::Error> for ProviderError {
    fn from(e: reqwest::Error) -> Self {
        if crate::outbound::is_refused(&e) {
            return Self::AddressNotAllowed;
        }
        if e.is_decode() {
            return Self::Protocol(e.to_string());
        }
        // Connect errors, timeouts, resets: the URL (which may hold a feed secret) stays out.
        Self::Transient(e.without_url().to_string())
    }
}
