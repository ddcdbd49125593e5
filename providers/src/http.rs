//! The one HTTP client and the one place where provider status codes become [`ProviderError`]s.

use std::time::Duration;

use reqwest::header::HeaderMap;
use reqwest::{Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::ProviderError;

pub(crate) const USER_AGENT: &str = concat!("freeslot/", env!("CARGO_PKG_VERSION"));

/// Timeouts keep a hanging provider from holding a worker; redirects are off so that a token
/// never follows a redirect to a host it was not meant for.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("a TLS provider is installed at start-up")
}

/// `base` with `segments` appended as path segments (each percent-encoded: calendar ids hold
/// `@`, `#` and `/`).
pub fn join(base: &url::Url, segments: &[&str]) -> url::Url {
    let mut url = base.clone();
    url.path_segments_mut()
        .expect("an http(s) base URL")
        .pop_if_empty()
        .extend(segments);
    url
}

/// Passes a 2xx through; everything else becomes the error the caller should act on.
pub async fn check(response: Response) -> Result<Response, ProviderError> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let headers = response.headers().clone();
    let body = response.text().await.unwrap_or_default();
    Err(classify(status, &headers, &body))
}

pub async fn json<T: DeserializeOwned>(response: Response) -> Result<T, ProviderError> {
    let bytes = check(response).await?.bytes().await?;
    serde_json::from_slice(&bytes).map_err(|e| ProviderError::Protocol(e.to_string()))
}

/// The error names the status only: what a provider or a feed's server wrote in its body is
/// never shown to a caller (a user's URL may point at a server that was never meant to answer
/// them); it goes to the debug log.
pub fn classify(status: StatusCode, headers: &HeaderMap, body: &str) -> ProviderError {
    if !status.is_success() {
        tracing::debug!(%status, detail = %error_detail(body), "provider error body");
    }
    match status.as_u16() {
        401 => ProviderError::Unauthorized,
        404 => ProviderError::NotFound,
        410 => ProviderError::Gone,
        429 => ProviderError::RateLimited {
            retry_after: retry_after(headers),
        },
        // Google answers quota trouble with 403 as often as with 429; other 403s are permanent.
        403 if [
            "rateLimitExceeded",
            "userRateLimitExceeded",
            "quotaExceeded",
        ]
        .iter()
        .any(|reason| body.contains(reason)) =>
        {
            ProviderError::RateLimited {
                retry_after: retry_after(headers),
            }
        }
        // Graph reports an expired delta token as a 4xx with one of these codes.
        400..=499 if body.contains("syncStateNotFound") || body.contains("resyncRequired") => {
            ProviderError::Gone
        }
        500..=599 => ProviderError::Transient(format!("HTTP {status}")),
        _ => ProviderError::Rejected(format!("HTTP {status}")),
    }
}

/// `Retry-After` in (possibly fractional) seconds, else Cal.com's reset header.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    ["retry-after", "x-ratelimit-reset-default"]
        .iter()
        .filter_map(|name| headers.get(*name)?.to_str().ok())
        .filter_map(|v| v.trim().parse::<f64>().ok())
        .find(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

/// The human part of an error body, short enough for a log line or `last_error`.
fn error_detail(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let message = parsed.as_ref().and_then(|v| {
        v.pointer("/error/message")
            .or_else(|| v.pointer("/error_description"))
            .or_else(|| v.pointer("/error/code"))
            .or_else(|| v.pointer("/error"))
            .and_then(|m| m.as_str())
            .map(str::to_owned)
    });
    let mut text = message.unwrap_or_else(|| body.trim().to_owned());
    if text.len() > 200 {
        let mut cut = 200;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn statuses_map_to_what_the_caller_does() {
        let h = HeaderMap::new();
        assert_eq!(
            classify(StatusCode::UNAUTHORIZED, &h, ""),
            ProviderError::Unauthorized
        );
        assert_eq!(classify(StatusCode::GONE, &h, ""), ProviderError::Gone);
        let graph_expired = r#"{"error":{"code":"syncStateNotFound","message":"x"}}"#;
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, &h, graph_expired),
            ProviderError::Gone
        );
        let quota = r#"{"error":{"errors":[{"reason":"rateLimitExceeded"}],"code":403}}"#;
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, &h, quota),
            ProviderError::RateLimited { .. }
        ));
        assert!(matches!(
            classify(StatusCode::FORBIDDEN, &h, r#"{"error":{"message":"no"}}"#),
            ProviderError::Rejected(m) if m == "HTTP 403 Forbidden"
        ));
        // What a server wrote is never part of the error.
        let secret = classify(
            StatusCode::INTERNAL_SERVER_ERROR,
            &h,
            "redis_version:7.0.15",
        );
        assert!(!secret.to_string().contains("redis"));
        assert!(classify(StatusCode::BAD_GATEWAY, &h, "<html>").is_retryable());
    }

    #[test]
    fn retry_after_may_be_fractional_or_calcoms_reset() {
        let mut h = HeaderMap::new();
        h.insert("retry-after", HeaderValue::from_static("2.128"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(2128)));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-reset-default", HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        assert_eq!(retry_after(&HeaderMap::new()), None);
    }
}
