//! Driving a connection the way a browser would, with plain HTTP: the connect link, the fake's
//! consent page, its Allow or Deny button, and the callback back at freeslot.

use reqwest::StatusCode;
use serde_json::Value;

use crate::TestApp;

/// Where each step of the dance pointed the browser.
pub struct Dance {
    /// The provider's authorization URL as freeslot built it.
    pub authorization_url: url::Url,
    /// The callback URL the provider sent the browser to (code, state or error).
    pub callback_url: String,
    /// Where freeslot finally sent the browser (`FRONTEND_URL?connected=…` or `?error=…`).
    pub landing: url::Url,
}

impl Dance {
    pub fn landing_param(&self, name: &str) -> Option<String> {
        self.landing
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }
}

impl TestApp {
    /// `GET /api/auth/connect/{provider}` → the authorization URL. The OAuth binding cookie it
    /// sets is kept, as a browser keeps it, and sent back by `follow_callback`.
    pub async fn authorization_url(&self, provider: &str, token: &str) -> url::Url {
        let mut req = self
            .client
            .get(self.url(&format!("/api/auth/connect/{provider}")))
            .bearer_auth(token);
        if let Some(cookie) = self.oauth_cookie() {
            req = req.header("cookie", cookie);
        }
        let res = self.seen("get", req.send().await.expect("request sent"));
        assert_eq!(res.status(), StatusCode::OK, "connect/{provider}");
        let cookie = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("freeslot_oauth="))
            .expect("the binding cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api/auth"] {
            assert!(cookie.contains(attribute), "{cookie}");
        }
        let pair = cookie.split(';').next().unwrap().to_owned();
        *self.oauth_cookie.lock().unwrap() = Some(pair);
        let body: Value = res.json().await.unwrap();
        url::Url::parse(
            body["authorization_url"]
                .as_str()
                .expect("authorization_url"),
        )
        .expect("a URL")
    }

    /// Opens the consent page, presses `button` ("allow" or "deny") and returns the callback
    /// URL the provider redirects to (not yet followed).
    pub async fn consent(&self, authorization_url: &url::Url, button: &str) -> String {
        let page = self
            .client
            .get(authorization_url.clone())
            .send()
            .await
            .expect("consent page");
        assert_eq!(page.status(), StatusCode::OK, "consent page");
        let html = page.text().await.unwrap();
        let action = between(&html, "action=\"", "\"");
        let request = between(&html, "name=\"request\" value=\"", "\"");
        let mut decide = authorization_url.clone();
        decide.set_path(&action);
        decide.set_query(None);
        let res = self
            .client
            .post(decide)
            .form(&[("request", request.as_str()), ("decision", button)])
            .send()
            .await
            .expect("decision");
        assert_eq!(res.status(), StatusCode::FOUND, "the fake redirects back");
        location(&res)
    }

    /// Forgets the binding cookie, as a different browser would start without one.
    pub fn new_browser(&self) {
        *self.oauth_cookie.lock().unwrap() = None;
    }

    /// The binding cookie of the last `authorization_url`, as `name=value`.
    pub fn oauth_cookie(&self) -> Option<String> {
        self.oauth_cookie.lock().unwrap().clone()
    }

    /// Follows a callback URL at freeslot, with the binding cookie, and returns where it sends
    /// the browser.
    pub async fn follow_callback(&self, callback_url: &str) -> url::Url {
        self.follow_callback_with(callback_url, self.oauth_cookie().as_deref())
            .await
    }

    /// Follows a callback URL with the given cookie (or none, as another browser would).
    pub async fn follow_callback_with(&self, callback_url: &str, cookie: Option<&str>) -> url::Url {
        let mut req = self.client.get(callback_url);
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        let res = self.seen("get", req.send().await.expect("callback"));
        assert_eq!(
            res.status(),
            StatusCode::FOUND,
            "the callback always redirects"
        );
        url::Url::parse(&location(&res)).expect("landing URL")
    }

    /// The whole connection: connect link, consent (`button`), callback.
    pub async fn oauth_dance(&self, provider: &str, token: &str, button: &str) -> Dance {
        let authorization_url = self.authorization_url(provider, token).await;
        let callback_url = self.consent(&authorization_url, button).await;
        let landing = self.follow_callback(&callback_url).await;
        Dance {
            authorization_url,
            callback_url,
            landing,
        }
    }

    /// The calendars once each has synced at least once and is idle (at most 30 s; a test
    /// waiting for a first sync uses this instead of its own polling loop).
    pub async fn synced_calendars(&self, token: &str) -> Vec<Value> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let calendars = self.calendars(token).await;
            let synced = |c: &Value| !c["last_synced_at"].is_null() && c["sync_status"] == "idle";
            if !calendars.is_empty() && calendars.iter().all(synced) {
                return calendars;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the calendars did not sync: {calendars:?}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// `POST /api/calendars/{id}/sync`, then the calendar once that sync has ended: its last
    /// good sync moved, or it failed (at most 30 s).
    pub async fn sync_calendar(&self, token: &str, id: &str) -> Value {
        let of = |calendars: Vec<Value>| {
            calendars
                .into_iter()
                .find(|c| c["id"] == id)
                .unwrap_or_else(|| panic!("no calendar {id}"))
        };
        let before = of(self.calendars(token).await)["last_synced_at"].clone();
        let res = self
            .post_json(
                &format!("/api/calendars/{id}/sync"),
                &serde_json::json!({}),
                Some(token),
            )
            .await;
        assert!(res.status().is_success(), "sync answered {}", res.status());
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let c = of(self.calendars(token).await);
            let running = c["sync_status"] == "queued" || c["sync_status"] == "syncing";
            if !running && (c["last_synced_at"] != before || c["sync_status"] == "error") {
                return c;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the sync did not end: {c}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// `GET /api/calendars` → the `calendars` array.
    pub async fn calendars(&self, token: &str) -> Vec<Value> {
        let res = self.get("/api/calendars", Some(token)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        body["calendars"].as_array().cloned().unwrap_or_default()
    }
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).expect("marker in page") + start.len();
    let to = text[from..].find(end).expect("end marker") + from;
    text[from..to].to_owned()
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("a Location header")
        .to_owned()
}
