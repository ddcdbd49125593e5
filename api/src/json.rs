//! The JSON body extractor every route uses: `web::Json`'s checks (content type, size) plus one
//! of ours — a string holding a NUL character is refused with 422 `invalid_text` before any
//! handler sees it. Postgres cannot store NUL in text, and no calendar field needs one, so the
//! answer is the same on every backend.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpMessage, HttpRequest, dev::Payload, web};
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// Bodies larger than this are refused before parsing.
pub const JSON_LIMIT: usize = 256 * 1024;

pub struct Json<T>(pub T);

impl<T> Json<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Json<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let is_json = req.mime_type().ok().flatten().is_some_and(|m| {
            m.subtype() == mime_json() || m.suffix().is_some_and(|s| s == mime_json())
        });
        let body = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "Send the body as JSON with `Content-Type: application/json`.",
                ));
            }
            let bytes = body.await.map_err(|e| {
                if e.as_response_error().status_code() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        StatusCode::PAYLOAD_TOO_LARGE,
                        "payload_too_large",
                        format!("The body is larger than {JSON_LIMIT} bytes."),
                    )
                } else {
                    ApiError::bad_request(format!("The body could not be read: {e}"))
                }
            })?;
            let value = serde_json::from_slice::<T>(&bytes).map_err(|e| {
                ApiError::bad_request(format!("The JSON body is not what this route expects: {e}"))
            })?;
            if holds_nul(&bytes) {
                return Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_text",
                    "Text fields must not contain NUL characters (\\u0000).",
                ));
            }
            Ok(Json(value))
        })
    }
}

fn mime_json() -> &'static str {
    "json"
}

/// Whether valid JSON text holds a `\u0000` escape (the only way a JSON string can carry NUL):
/// a `\u0000` whose backslash is not itself escaped, i.e. preceded by an even number of
/// backslashes.
fn holds_nul(json: &[u8]) -> bool {
    json.windows(6).enumerate().any(|(at, w)| {
        w == b"\\u0000" && json[..at].iter().rev().take_while(|&&b| b == b'\\').count() % 2 == 0
    })
}

#[cfg(test)]
mod tests {
    use super::holds_nul;

    #[test]
    fn only_real_nul_escapes_count() {
        assert!(holds_nul(br#"{"title":"a\u0000b"}"#));
        assert!(holds_nul(br#"{"a\u0000":1}"#));
        assert!(holds_nul(br#"{"title":"\\\u0000"}"#)); // an escaped backslash, then NUL
        assert!(!holds_nul(br#"{"title":"\\u0000"}"#)); // the six characters \u0000
        assert!(!holds_nul(br#"{"title":"plain"}"#));
    }
}
