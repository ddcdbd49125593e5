//! An ICS feed server: feeds by name, `ETag` and `Last-Modified`, 304 on a match.

use std::collections::HashMap;

use actix_web::{HttpRequest, HttpResponse, web};

use super::{FakeServer, Faults, Shared, fault_response};

pub struct Feed {
    pub body: String,
    pub version: u64,
}

#[derive(Default)]
pub struct IcsState {
    pub feeds: HashMap<String, Feed>,
    pub faults: Faults,
    /// `(name, If-None-Match)` of every request.
    pub requests: Vec<(String, Option<String>)>,
}

pub type FakeIcs = FakeServer<IcsState>;

pub async fn start() -> FakeIcs {
    FakeServer::start(IcsState::default(), routes).await
}

impl IcsState {
    /// Publishes (or replaces) a feed's text; its ETag changes with every version.
    pub fn publish(&mut self, name: &str, body: &str) {
        let version = self.feeds.get(name).map_or(1, |f| f.version + 1);
        self.feeds.insert(
            name.to_owned(),
            Feed {
                body: body.to_owned(),
                version,
            },
        );
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{name}.ics", web::get().to(feed));
}

async fn feed(state: Shared<IcsState>, req: HttpRequest, name: web::Path<String>) -> HttpResponse {
    let (delay, res) = {
        let mut s = super::lock(&state);
        let if_none_match = req
            .headers()
            .get("if-none-match")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        s.requests.push((name.clone(), if_none_match.clone()));
        let mut delay = None;
        if let Some(fault) = s.faults.pop() {
            match fault_response(&fault, serde_json::json!({})) {
                Some(res) => return res,
                None => {
                    if let super::Fault::Delay(d) = fault {
                        delay = Some(d);
                    }
                }
            }
        }
        let res = match s.feeds.get(name.as_str()) {
            None => HttpResponse::NotFound().body("no such feed"),
            Some(feed) => {
                let etag = format!("\"v{}\"", feed.version);
                if if_none_match.as_deref() == Some(etag.as_str()) {
                    HttpResponse::NotModified()
                        .insert_header(("ETag", etag))
                        .finish()
                } else {
                    HttpResponse::Ok()
                        .content_type("text/calendar; charset=utf-8")
                        .insert_header(("ETag", etag))
                        .insert_header(("Last-Modified", "Sun, 22 Nov 2026 06:00:00 GMT"))
                        .body(feed.body.clone())
                }
            }
        };
        (delay, res)
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    res
}
