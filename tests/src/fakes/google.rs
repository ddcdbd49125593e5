//! Google: OAuth (consent page, token, revoke) and Calendar v3 (primary calendar, calendarList,
//! events.list with paging, sync tokens, cancelled items and 410).

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::oauth::{Flavor, OAuthServer, api_fault, parse_body};
use super::{FakeServer, Faults, Shared};

pub struct GoogleCalendar {
    pub id: String,
    pub summary: String,
    pub time_zone: String,
    pub primary: bool,
    pub color: String,
    /// id → (event JSON, change number)
    pub events: BTreeMap<String, (Value, u64)>,
}

pub struct GoogleState {
    pub oauth: OAuthServer,
    pub calendars: Vec<GoogleCalendar>,
    seq: u64,
    /// Bumped to invalidate every sync token (the next incremental sync gets 410).
    epoch: u64,
    pub api_faults: Faults,
    /// Faults for `events.list` only, after `api_faults` (to aim at one page of a sync).
    pub list_faults: Faults,
    /// Path and query of every Calendar API request.
    pub requests: Vec<String>,
    /// Open watch channels.
    pub channels: Vec<GoogleChannel>,
    message_number: u64,
}

#[derive(Clone, Debug)]
pub struct GoogleChannel {
    pub id: String,
    pub resource_id: String,
    pub calendar: String,
    pub address: String,
    pub token: String,
}

pub type FakeGoogle = FakeServer<GoogleState>;

pub async fn start(account: &str) -> FakeGoogle {
    let state = GoogleState {
        oauth: OAuthServer::new(Flavor::Google, account),
        calendars: vec![GoogleCalendar {
            id: account.to_owned(),
            summary: account.to_owned(),
            time_zone: "Europe/Berlin".into(),
            primary: true,
            color: "#9fe1e7".into(),
            events: BTreeMap::new(),
        }],
        seq: 0,
        epoch: 0,
        api_faults: Faults::default(),
        list_faults: Faults::default(),
        requests: Vec::new(),
        channels: Vec::new(),
        message_number: 0,
    };
    FakeServer::start(state, routes).await
}

impl FakeServer<GoogleState> {
    /// What Google does after a change: an `exists` message to every channel of `calendar`.
    /// Returns the statuses freeslot answered.
    pub async fn notify(&self, calendar: &str) -> Vec<u16> {
        let messages: Vec<(GoogleChannel, u64)> = {
            let mut s = self.state();
            let channels: Vec<GoogleChannel> = s
                .channels
                .iter()
                .filter(|c| c.calendar == calendar)
                .cloned()
                .collect();
            channels
                .into_iter()
                .map(|c| {
                    s.message_number += 1;
                    (c, s.message_number)
                })
                .collect()
        };
        let mut statuses = Vec::new();
        for (channel, number) in messages {
            statuses.push(send_notice(&channel, "exists", number).await);
        }
        statuses
    }

    /// The variables that point freeslot at this fake.
    pub fn env(&self) -> Vec<(String, String)> {
        let (id, secret) = {
            let s = self.state();
            (s.oauth.client_id.clone(), s.oauth.client_secret.clone())
        };
        vec![
            ("GOOGLE_CLIENT_ID".into(), id),
            ("GOOGLE_CLIENT_SECRET".into(), secret),
            ("GOOGLE_AUTH_URL".into(), self.url("/o/oauth2/v2/auth")),
            ("GOOGLE_TOKEN_URL".into(), self.url("/token")),
            ("GOOGLE_REVOKE_URL".into(), self.url("/revoke")),
            ("GOOGLE_API_BASE_URL".into(), self.url("/calendar/v3")),
        ]
    }
}

impl GoogleState {
    pub fn add_calendar(&mut self, id: &str, summary: &str) {
        self.calendars.push(GoogleCalendar {
            id: id.into(),
            summary: summary.into(),
            time_zone: "UTC".into(),
            primary: false,
            color: "#3366ff".into(),
            events: BTreeMap::new(),
        });
    }

    fn calendar(&mut self, id: &str) -> &mut GoogleCalendar {
        let primary = self.calendars[0].id.clone();
        let id = if id == "primary" {
            primary.as_str()
        } else {
            id
        };
        self.calendars
            .iter_mut()
            .find(|c| c.id == id)
            .expect("a calendar of the fake")
    }

    /// Creates or replaces an event (`event["id"]` required), as a change at Google.
    pub fn put_event(&mut self, calendar: &str, mut event: Value) {
        self.seq += 1;
        let seq = self.seq;
        let id = event["id"].as_str().expect("event id").to_owned();
        event["kind"] = json!("calendar#event");
        event["etag"] = json!(format!("\"{seq}\""));
        event["updated"] = json!(crate::clock::now().to_rfc3339());
        event
            .as_object_mut()
            .expect("object")
            .entry("status")
            .or_insert(json!("confirmed"));
        self.calendar(calendar).events.insert(id, (event, seq));
    }

    /// Deletes an event: incremental syncs then see it as cancelled, with only its id.
    pub fn delete_event(&mut self, calendar: &str, id: &str) {
        self.seq += 1;
        let seq = self.seq;
        let cancelled = json!({"kind": "calendar#event", "id": id, "status": "cancelled"});
        self.calendar(calendar)
            .events
            .insert(id.to_owned(), (cancelled, seq));
    }

    /// Every sync token handed out so far stops working (410 `fullSyncRequired`).
    pub fn expire_sync_tokens(&mut self) {
        self.epoch += 1;
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/o/oauth2/v2/auth", web::get().to(authorize))
        .route("/o/oauth2/v2/auth/decide", web::post().to(decide))
        .route("/token", web::post().to(token))
        .route("/revoke", web::post().to(revoke))
        .route("/calendar/v3/calendars/primary", web::get().to(primary))
        .route(
            "/calendar/v3/users/me/calendarList",
            web::get().to(calendar_list),
        )
        .route(
            "/calendar/v3/calendars/{id}/events",
            web::get().to(events_list),
        )
        .route(
            "/calendar/v3/calendars/{id}/events/watch",
            web::post().to(watch),
        )
        .route("/calendar/v3/channels/stop", web::post().to(stop));
}

async fn authorize(
    state: Shared<GoogleState>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    s.oauth
        .authorize(query.into_inner(), "/o/oauth2/v2/auth/decide")
}

async fn decide(
    state: Shared<GoogleState>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    super::lock(&state).oauth.decide(form.into_inner())
}

async fn token(state: Shared<GoogleState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = parse_body(
        req.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        &body,
    );
    super::lock(&state).oauth.token(form)
}

async fn revoke(state: Shared<GoogleState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let form = parse_body(None, &body);
    let token = query
        .get("token")
        .or(form.get("token"))
        .cloned()
        .unwrap_or_default();
    super::lock(&state).oauth.revoke(&token)
}

fn google_error(code: u16, reason: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(code).unwrap()).json(json!({
        "error": {"errors": [{"domain": "global", "reason": reason, "message": message}],
                  "code": code, "message": message}
    }))
}

/// Authenticates, logs and applies a queued fault; Ok(delay) to go on.
fn gate(
    s: &mut GoogleState,
    req: &HttpRequest,
) -> Result<Option<std::time::Duration>, HttpResponse> {
    s.requests
        .push(format!("{}?{}", req.path(), req.query_string()));
    let fault = s.api_faults.pop();
    let delay = api_fault(
        fault,
        json!({"error": {"errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded",
            "message": "Rate Limit Exceeded"}], "code": 429, "message": "Rate Limit Exceeded"}}),
    )?;
    if s.oauth.bearer_account(req).is_none() {
        return Err(google_error(401, "authError", "Invalid Credentials"));
    }
    Ok(delay)
}

async fn primary(state: Shared<GoogleState>, req: HttpRequest) -> HttpResponse {
    let (delay, res) = {
        let mut s = super::lock(&state);
        match gate(&mut s, &req) {
            Err(res) => return res,
            Ok(delay) => {
                let c = &s.calendars[0];
                (delay, HttpResponse::Ok().json(json!({
                    "kind": "calendar#calendar", "id": c.id, "summary": c.summary, "timeZone": c.time_zone
                })))
            }
        }
    };
    super::respond(delay, res).await
}

fn encode(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// A page token: the listing's snapshot and the last event id handed out.
fn decode_page(token: &str) -> Option<(Option<String>, u64)> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    let (snapshot, last) = text.split_once(':')?;
    Some((Some(last.to_owned()), snapshot.parse().ok()?))
}

fn decode(token: &str) -> Option<Vec<u64>> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    text.split(':').map(|n| n.parse().ok()).collect()
}

async fn calendar_list(
    state: Shared<GoogleState>,
    req: HttpRequest,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let (delay, res) = {
        let mut s = super::lock(&state);
        let delay = match gate(&mut s, &req) {
            Err(res) => return res,
            Ok(d) => d,
        };
        let max: usize = query
            .get("maxResults")
            .and_then(|m| m.parse().ok())
            .unwrap_or(100)
            .min(250);
        let offset = match query.get("pageToken") {
            Some(t) => match decode(t) {
                Some(v) => v[0] as usize,
                None => return google_error(400, "invalid", "Invalid page token"),
            },
            None => 0,
        };
        let items: Vec<Value> = s
            .calendars
            .iter()
            .skip(offset)
            .take(max)
            .map(|c| {
                json!({"kind": "calendar#calendarListEntry", "etag": "\"1\"", "id": c.id,
                       "summary": c.summary, "timeZone": c.time_zone, "accessRole": "owner",
                       "primary": c.primary, "backgroundColor": c.color, "selected": true})
            })
            .collect();
        let mut body = json!({"kind": "calendar#calendarList", "etag": "\"p32g9nb5bt3ft80o\"", "items": items});
        if offset + max < s.calendars.len() {
            body["nextPageToken"] = json!(encode(&(offset + max).to_string()));
        } else {
            body["nextSyncToken"] = json!(encode("0"));
        }
        (delay, HttpResponse::Ok().json(body))
    };
    super::respond(delay, res).await
}

fn time_of(event: &Value, edge: &str) -> Option<DateTime<Utc>> {
    let t = &event[edge];
    if let Some(dt) = t["dateTime"].as_str() {
        return DateTime::parse_from_rfc3339(dt)
            .ok()
            .map(|d| d.with_timezone(&Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(t["date"].as_str()?, "%Y-%m-%d").ok()?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc())
}

const DISALLOWED_WITH_SYNC_TOKEN: &[&str] = &[
    "iCalUID",
    "orderBy",
    "privateExtendedProperty",
    "q",
    "sharedExtendedProperty",
    "timeMin",
    "timeMax",
    "updatedMin",
];

async fn events_list(
    state: Shared<GoogleState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    let query: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (delay, res) = {
        let mut s = super::lock(&state);
        let mut delay = match gate(&mut s, &req) {
            Err(res) => return res,
            Ok(d) => d,
        };
        let fault = s.list_faults.pop();
        match api_fault(
            fault,
            json!({"error": {"errors": [{"domain": "usageLimits", "reason": "rateLimitExceeded",
                "message": "Rate Limit Exceeded"}], "code": 429, "message": "Rate Limit Exceeded"}}),
        ) {
            Err(res) => return res,
            Ok(d) => delay = delay.or(d),
        }
        let (epoch, now_seq) = (s.epoch, s.seq);
        let calendar_id = path.into_inner();
        if !s
            .calendars
            .iter()
            .any(|c| c.id == calendar_id || calendar_id == "primary")
        {
            return google_error(404, "notFound", "Not Found");
        }
        let max: usize = get("maxResults")
            .and_then(|m| m.parse().ok())
            .unwrap_or(250)
            .clamp(1, 2500);
        let sync_token = get("syncToken");
        if sync_token.is_some()
            && (DISALLOWED_WITH_SYNC_TOKEN.iter().any(|p| get(p).is_some())
                || get("showDeleted").as_deref() == Some("false"))
        {
            return google_error(400, "invalid", "Invalid parameters with a sync token");
        }
        let since = match &sync_token {
            None => None,
            Some(t) => match decode(t) {
                Some(v) if v.len() == 2 && v[0] == epoch => Some(v[1]),
                Some(_) => {
                    return HttpResponse::Gone().json(json!({"error": {"errors": [{"domain": "calendar",
                        "reason": "fullSyncRequired", "message": "Sync token is no longer valid, a full sync is required.",
                        "locationType": "parameter", "location": "syncToken"}], "code": 410,
                        "message": "Sync token is no longer valid, a full sync is required."}}));
                }
                None => return google_error(400, "invalid", "Invalid sync token"),
            },
        };
        // A page token names the last event handed out, so every page costs only its own
        // events (an offset would make a 50,000-event listing quadratic).
        let (after, snapshot) = match get("pageToken") {
            Some(t) => match decode_page(&t) {
                Some(v) => v,
                None => return google_error(400, "invalid", "Invalid page token"),
            },
            None => (None, now_seq),
        };
        let time_min = get("timeMin").and_then(|t| DateTime::parse_from_rfc3339(&t).ok());
        let time_max = get("timeMax").and_then(|t| DateTime::parse_from_rfc3339(&t).ok());
        let show_deleted = get("showDeleted").as_deref() == Some("true");
        let calendar = s.calendar(&calendar_id);
        let matches = |event: &Value, seq: u64| match since {
            Some(since) => seq > since && seq <= snapshot,
            None => {
                let cancelled = event["status"] == "cancelled";
                let in_window = time_min
                    .is_none_or(|min| time_of(event, "end").is_some_and(|e| e > min))
                    && time_max
                        .is_none_or(|max| time_of(event, "start").is_some_and(|st| st < max));
                (!cancelled || show_deleted) && (cancelled || in_window)
            }
        };
        let rest = match &after {
            Some(id) => calendar
                .events
                .range::<String, _>((Bound::Excluded(id.clone()), Bound::Unbounded)),
            None => calendar.events.range::<String, _>(..),
        };
        let mut items: Vec<Value> = Vec::new();
        let mut last: Option<&String> = None;
        let mut more = false;
        for (id, (event, seq)) in rest {
            if !matches(event, *seq) {
                continue;
            }
            if items.len() == max {
                more = true;
                break;
            }
            items.push(event.clone());
            last = Some(id);
        }
        let next_page = match (more, last) {
            (true, Some(last)) => Some(encode(&format!("{snapshot}:{last}"))),
            _ => None,
        };
        let mut body = json!({"kind": "calendar#events", "etag": "\"e\"", "summary": calendar.summary,
            "timeZone": calendar.time_zone, "accessRole": "owner", "items": items});
        match next_page {
            Some(token) => body["nextPageToken"] = json!(token),
            None => body["nextSyncToken"] = json!(encode(&format!("{epoch}:{snapshot}"))),
        }
        (delay, HttpResponse::Ok().json(body))
    };
    super::respond(delay, res).await
}

/// One notification as Google sends it: headers only, an empty body.
pub async fn send_notice(channel: &GoogleChannel, state: &str, number: u64) -> u16 {
    super::client()
        .post(&channel.address)
        .header("Content-Type", "application/json; utf-8")
        .header("X-Goog-Channel-ID", &channel.id)
        .header("X-Goog-Channel-Token", &channel.token)
        .header("X-Goog-Channel-Expiration", "Tue, 01 Dec 2026 01:13:52 GMT")
        .header("X-Goog-Resource-ID", &channel.resource_id)
        .header(
            "X-Goog-Resource-URI",
            format!(
                "https://www.googleapis.com/calendar/v3/calendars/{}/events",
                channel.calendar
            ),
        )
        .header("X-Goog-Resource-State", state)
        .header("X-Goog-Message-Number", number.to_string())
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

async fn watch(
    state: Shared<GoogleState>,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<Value>,
) -> HttpResponse {
    let channel = {
        let mut s = super::lock(&state);
        if let Err(res) = gate(&mut s, &req) {
            return res;
        }
        let calendar = path.into_inner();
        let id = body["id"].as_str().unwrap_or_default().to_owned();
        let address = body["address"].as_str().unwrap_or_default().to_owned();
        if id.is_empty()
            || address.is_empty()
            || !matches!(body["type"].as_str(), Some("web_hook" | "webhook"))
        {
            return google_error(400, "required", "id, type and address are required");
        }
        let channel = GoogleChannel {
            id,
            resource_id: super::opaque("res-"),
            calendar,
            address,
            token: body["token"].as_str().unwrap_or_default().to_owned(),
        };
        s.channels.push(channel.clone());
        channel
    };
    let expiration = (crate::clock::now() + chrono::Duration::days(7)).timestamp_millis();
    // The first message, `sync`, may arrive before the watch response does.
    let first = channel.clone();
    actix_web::rt::spawn(async move {
        send_notice(&first, "sync", 1).await;
    });
    HttpResponse::Ok().json(json!({
        "kind": "api#channel", "id": channel.id, "resourceId": channel.resource_id,
        "resourceUri": format!("https://www.googleapis.com/calendar/v3/calendars/{}/events", channel.calendar),
        "token": channel.token, "expiration": expiration.to_string()
    }))
}

async fn stop(
    state: Shared<GoogleState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    let before = s.channels.len();
    s.channels
        .retain(|c| !(body["id"] == c.id.as_str() && body["resourceId"] == c.resource_id.as_str()));
    if s.channels.len() == before {
        return google_error(404, "notFound", "Channel not found");
    }
    HttpResponse::NoContent().finish()
}

/// A timed event as Calendar v3 returns it (`iCalUID` `{id}@google`).
pub fn event(id: &str, title: &str, start: &str, end: &str) -> Value {
    json!({"id": id, "summary": title, "iCalUID": format!("{id}@google"),
        "start": {"dateTime": start}, "end": {"dateTime": end}})
}
