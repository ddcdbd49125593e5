//! The web app: static files compiled into the binary and served at `/` and `/app/…`, same
//! origin as the API. No build step: the files in `api/webapp/` are what the browser runs
//! (plain HTML, CSS and JavaScript modules; docs/design.md says why).
//!
//! Every answer carries a strict Content-Security-Policy (no inline script or style, nothing
//! from elsewhere) and an ETag of its content, so a browser revalidates cheaply (304) and never
//! runs a stale module after an upgrade.

use std::sync::OnceLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, get, web};

use crate::error::ApiError;

/// `default-src 'self'` is the contract; the rest narrows it further.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! assets {
    ($($name:literal => $type:expr),* $(,)?) => {
        &[$(Asset { name: $name, content_type: $type, body: include_bytes!(concat!("../webapp/", $name)) }),*]
    };
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of `api/webapp/` (a test checks that none is missing).
static ASSETS: &[Asset] = assets! {
    "index.html" => "text/html; charset=utf-8",
    "app.css" => "text/css; charset=utf-8",
    "favicon.svg" => "image/svg+xml",
    "app.js" => JS,
    "api.js" => JS,
    "dom.js" => JS,
    "time.js" => JS,
    "layout.js" => JS,
    "auth.js" => JS,
    "calendars.js" => JS,
    "week.js" => JS,
    "conflicts.js" => JS,
    "hours.js" => JS,
    "publish.js" => JS,
    "clients.js" => JS,
    "notifications.js" => JS,
    "webhooks.js" => JS,
    "tasks.js" => JS,
};

/// FNV-1a: stable across builds and Rust versions, which an ETag needs; not a security hash.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn etags() -> &'static [String] {
    static TAGS: OnceLock<Vec<String>> = OnceLock::new();
    TAGS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| format!("\"{:016x}\"", fnv1a(a.body)))
            .collect()
    })
}

fn serve(req: &HttpRequest, name: &str) -> Result<HttpResponse, ApiError> {
    let Some(index) = ASSETS.iter().position(|a| a.name == name) else {
        return Err(ApiError::not_found(format!(
            "The web app has no file {name}."
        )));
    };
    let asset = &ASSETS[index];
    let etag = &etags()[index];
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut res = if fresh {
        HttpResponse::build(StatusCode::NOT_MODIFIED)
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag.as_str()))
        // Revalidate every time: one round trip that answers 304, and an upgrade is seen at once.
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "no-referrer"));
    if fresh {
        return Ok(res.finish());
    }
    Ok(res
        .insert_header((header::CONTENT_TYPE, asset.content_type))
        .body(asset.body))
}

/// The page itself; it also receives the browser after an OAuth round trip (`?connected=`).
#[get("/")]
pub async fn index_page(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    serve(&req, "index.html")
}

#[get("/app/{name}")]
pub async fn app_file(req: HttpRequest, name: web::Path<String>) -> Result<HttpResponse, ApiError> {
    serve(&req, &name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_of_the_web_app_is_served() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("webapp");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| !n.starts_with('.'))
            .collect();
        files.sort();
        let mut served: Vec<String> = ASSETS.iter().map(|a| a.name.to_owned()).collect();
        served.sort();
        assert_eq!(files, served);
    }

    #[test]
    fn no_inline_script_or_style_in_the_page() {
        let page = std::str::from_utf8(ASSETS[0].body).unwrap();
        assert!(
            !page.contains("<script>") && !page.contains("style="),
            "{page}"
        );
        assert!(!page.contains("<style"));
        assert!(!page.contains("http://") && !page.contains("https://"));
    }
}
