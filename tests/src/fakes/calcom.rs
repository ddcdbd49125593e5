//! Cal.com API v2: OAuth (JSON or form token requests, rotating refresh tokens), API keys with
//! the `cal_` / `cal_live_` prefixes, `/v2/me`, `/v2/bookings` dispatched on `cal-api-version`,
//! `/v2/schedules`, and the rate-limit headers.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::oauth::{Flavor, OAuthServer, api_fault, parse_body};
use super::{FakeServer, Faults, Shared};

pub struct CalcomState {
    pub oauth: OAuthServer,
    pub api_keys: HashSet<String>,
    pub user: Value,
    pub bookings: Vec<Value>,
    pub schedules: Vec<Value>,
    /// Schedules created or updated (accepted writes only).
    pub schedule_writes: usize,
    next_id: i64,
    pub api_faults: Faults,
    pub webhooks: Vec<CalcomWebhook>,
    /// Requests left in the current rate-limit window.
    pub remaining: i64,
    /// Path, query and `cal-api-version` of every API request.
    pub requests: Vec<(String, Option<String>)>,
}

pub type FakeCalcom = FakeServer<CalcomState>;

pub async fn start(account: &str) -> FakeCalcom {
    let state = CalcomState {
        oauth: OAuthServer::new(Flavor::CalDotCom, account),
        api_keys: HashSet::new(),
        user: json!({"id": 478, "username": "ada", "email": account, "name": "Ada",
            "timeFormat": 24, "defaultScheduleId": null, "weekStart": "Monday",
            "timeZone": "Europe/Berlin", "locale": "en", "organizationId": null}),
        bookings: Vec::new(),
        schedules: Vec::new(),
        schedule_writes: 0,
        next_id: 100,
        api_faults: Faults::default(),
        webhooks: Vec::new(),
        remaining: 120,
        requests: Vec::new(),
    };
    FakeServer::start(state, routes).await
}

#[derive(Clone, Debug)]
pub struct CalcomWebhook {
    pub id: i64,
    pub subscriber_url: String,
    pub triggers: Vec<String>,
    pub secret: Option<String>,
}

/// `hex(HMAC-SHA256(secret, body))`, as Cal.com signs deliveries.
pub fn sign(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

impl FakeServer<CalcomState> {
    /// Delivers `trigger` with `payload` to every webhook subscribed to it, signed with its
    /// secret (or `no-secret-provided`). Returns the statuses.
    pub async fn deliver(&self, trigger: &str, payload: Value) -> Vec<u16> {
        let hooks: Vec<CalcomWebhook> = self
            .state()
            .webhooks
            .iter()
            .filter(|w| w.triggers.iter().any(|t| t == trigger))
            .cloned()
            .collect();
        let body = serde_json::to_vec(&json!({"triggerEvent": trigger,
            "createdAt": crate::clock::now().to_rfc3339(), "payload": payload}))
        .unwrap();
        let mut statuses = Vec::new();
        for hook in hooks {
            let signature = hook
                .secret
                .as_deref()
                .map_or_else(|| "no-secret-provided".to_owned(), |s| sign(s, &body));
            statuses.push(deliver_raw(&hook.subscriber_url, &signature, body.clone()).await);
        }
        statuses
    }

    /// Base URL only: Cal.com then connects with API keys.
    pub fn env(&self) -> Vec<(String, String)> {
        vec![("CALCOM_API_BASE_URL".into(), self.url("/v2"))]
    }

    /// Base URL plus an OAuth client.
    pub fn oauth_env(&self) -> Vec<(String, String)> {
        let (id, secret) = {
            let s = self.state();
            (s.oauth.client_id.clone(), s.oauth.client_secret.clone())
        };
        let mut env = self.env();
        env.extend([
            ("CALCOM_CLIENT_ID".into(), id),
            ("CALCOM_CLIENT_SECRET".into(), secret),
            ("CALCOM_AUTH_URL".into(), self.url("/auth/oauth2/authorize")),
            ("CALCOM_TOKEN_URL".into(), self.url("/v2/auth/oauth2/token")),
        ]);
        env
    }
}

impl CalcomState {
    /// A new live API key the fake accepts.
    pub fn issue_api_key(&mut self) -> String {
        let key = format!("cal_live_{}", uuid::Uuid::new_v4().simple());
        self.api_keys.insert(key.clone());
        key
    }

    /// Creates or replaces a booking (by `uid`), stamping `createdAt` / `updatedAt`.
    pub fn put_booking(&mut self, mut booking: Value) {
        let now = crate::clock::now().to_rfc3339();
        let uid = booking["uid"].as_str().expect("booking uid").to_owned();
        if let Some(existing) = self.bookings.iter_mut().find(|b| b["uid"] == uid.as_str()) {
            booking["id"] = existing["id"].clone();
            booking["createdAt"] = existing["createdAt"].clone();
            booking["updatedAt"] = json!(now);
            *existing = booking;
        } else {
            self.next_id += 1;
            booking["id"] = json!(self.next_id);
            booking["createdAt"] = json!(now);
            booking["updatedAt"] = Value::Null;
            booking
                .as_object_mut()
                .unwrap()
                .entry("status")
                .or_insert(json!("accepted"));
            self.bookings.push(booking);
        }
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/auth/oauth2/authorize", web::get().to(authorize))
        .route("/auth/oauth2/authorize/decide", web::post().to(decide))
        .route("/v2/auth/oauth2/token", web::post().to(token))
        .route("/v2/me", web::get().to(me))
        .route("/v2/bookings", web::get().to(bookings))
        .route("/v2/webhooks", web::post().to(create_webhook))
        .route("/v2/webhooks/{id}", web::delete().to(delete_webhook))
        .route("/v2/schedules", web::get().to(list_schedules))
        .route("/v2/schedules", web::post().to(create_schedule))
        .route("/v2/schedules/{id}", web::get().to(get_schedule))
        .route("/v2/schedules/{id}", web::patch().to(update_schedule))
        .route("/v2/schedules/{id}", web::delete().to(delete_schedule));
}

async fn authorize(
    state: Shared<CalcomState>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    state
        .lock()
        .unwrap()
        .oauth
        .authorize(query.into_inner(), "/auth/oauth2/authorize/decide")
}

async fn decide(
    state: Shared<CalcomState>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    super::lock(&state).oauth.decide(form.into_inner())
}

async fn token(state: Shared<CalcomState>, req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let form = parse_body(
        req.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        &body,
    );
    super::lock(&state).oauth.token(form)
}

fn envelope_error(req: &HttpRequest, status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(json!({
        "status": "error", "timestamp": crate::clock::now().to_rfc3339(), "path": req.path(),
        "error": {"code": code, "message": message}
    }))
}

fn limits(res: &mut HttpResponseBuilder, remaining: i64) {
    res.insert_header(("x-ratelimit-limit-default", "120"))
        .insert_header((
            "x-ratelimit-remaining-default",
            remaining.max(0).to_string(),
        ))
        .insert_header(("x-ratelimit-reset-default", "60"));
}

fn gate(
    s: &mut CalcomState,
    req: &HttpRequest,
) -> Result<Option<std::time::Duration>, HttpResponse> {
    let version = req
        .headers()
        .get("cal-api-version")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    s.requests
        .push((format!("{}?{}", req.path(), req.query_string()), version));
    let delay = api_fault(
        s.api_faults.pop(),
        json!({"status": "error", "error": {"code": "ThrottlerException", "message": "Too Many Requests"}}),
    )?;
    s.remaining -= 1;
    if s.remaining < 0 {
        let mut res = HttpResponse::TooManyRequests();
        limits(&mut res, 0);
        return Err(res.json(
            json!({"status": "error", "error": {"code": "ThrottlerException",
            "message": "ThrottlerException: Too Many Requests"}}),
        ));
    }
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|h| h.strip_prefix("Bearer "))
        .unwrap_or_default();
    let by_key = bearer.starts_with("cal_") && s.api_keys.contains(bearer);
    if !by_key && s.oauth.bearer_account(req).is_none() {
        return Err(envelope_error(
            req,
            401,
            "UnauthorizedException",
            "Invalid Access Token.",
        ));
    }
    Ok(delay)
}

fn ok(s: &CalcomState, status: u16, body: Value) -> HttpResponse {
    let mut res = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    limits(&mut res, s.remaining);
    res.json(body)
}

async fn me(state: Shared<CalcomState>, req: HttpRequest) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    ok(&s, 200, json!({"status": "success", "data": s.user}))
}

fn time(b: &Value, field: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(b[field].as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

async fn bookings(state: Shared<CalcomState>, req: HttpRequest) -> HttpResponse {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let at = |k: &str| {
        query
            .get(k)
            .and_then(|v| DateTime::parse_from_rfc3339(v).ok())
    };
    let (delay, res) = {
        let mut s = super::lock(&state);
        let delay = match gate(&mut s, &req) {
            Err(res) => return res,
            Ok(d) => d,
        };
        let version = req
            .headers()
            .get("cal-api-version")
            .and_then(|v| v.to_str().ok());
        let mut matching: Vec<Value> = s
            .bookings
            .iter()
            .filter(|b| at("afterStart").is_none_or(|t| time(b, "start").is_some_and(|s| s >= t)))
            .filter(|b| at("beforeEnd").is_none_or(|t| time(b, "end").is_some_and(|e| e <= t)))
            .filter(|b| {
                at("afterUpdatedAt").is_none_or(|t| time(b, "updatedAt").is_some_and(|u| u >= t))
            })
            .filter(|b| {
                at("afterCreatedAt").is_none_or(|t| time(b, "createdAt").is_some_and(|c| c >= t))
            })
            .cloned()
            .collect();
        matching.sort_by_key(|b| time(b, "start"));
        let res = match version {
            Some("2024-08-13" | "2026-02-25") => {
                let take: usize = query
                    .get("take")
                    .and_then(|t| t.parse().ok())
                    .unwrap_or(100);
                let skip: usize = query.get("skip").and_then(|t| t.parse().ok()).unwrap_or(0);
                let page: Vec<Value> = matching.iter().skip(skip).take(take).cloned().collect();
                let total = matching.len();
                let returned = page.len();
                ok(
                    &s,
                    200,
                    json!({"status": "success", "data": page, "pagination": {
                    "totalItems": total, "remainingItems": total.saturating_sub(skip + returned),
                    "returnedItems": returned, "itemsPerPage": take,
                    "currentPage": skip.checked_div(take).map_or(0, |p| p + 1),
                    "totalPages": if take == 0 { 0 } else { total.div_ceil(take) },
                    "hasNextPage": skip + returned < total, "hasPreviousPage": skip > 0}}),
                )
            }
            // Without a known version the server silently falls back to its oldest shape.
            _ => ok(
                &s,
                200,
                json!({"status": "success", "data": {"bookings": matching}}),
            ),
        };
        (delay, res)
    };
    super::respond(delay, res).await
}

const DAYS: &[&str] = &[
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn valid_time(t: &Value) -> bool {
    t.as_str()
        .is_some_and(|t| t.len() == 5 && chrono::NaiveTime::parse_from_str(t, "%H:%M").is_ok())
}

/// Cal.com's validation of a schedule body (the exact messages are not documented).
fn validate_schedule(body: &Value) -> Result<(), String> {
    for slot in body["availability"].as_array().into_iter().flatten() {
        let days_ok = slot["days"].as_array().is_some_and(|d| {
            !d.is_empty()
                && d.iter()
                    .all(|d| d.as_str().is_some_and(|d| DAYS.contains(&d)))
        });
        if !days_ok || !valid_time(&slot["startTime"]) || !valid_time(&slot["endTime"]) {
            return Err(format!("invalid availability entry {slot}"));
        }
        if slot["startTime"].as_str() >= slot["endTime"].as_str() {
            return Err("endTime must be after startTime".into());
        }
    }
    for o in body["overrides"].as_array().into_iter().flatten() {
        let date_ok = o["date"]
            .as_str()
            .is_some_and(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").is_ok());
        if !date_ok || !valid_time(&o["startTime"]) || !valid_time(&o["endTime"]) {
            return Err(format!("invalid override {o}"));
        }
    }
    Ok(())
}

fn schedules_version_ok(req: &HttpRequest) -> bool {
    req.headers()
        .get("cal-api-version")
        .and_then(|v| v.to_str().ok())
        == Some("2024-06-11")
}

async fn list_schedules(state: Shared<CalcomState>, req: HttpRequest) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    ok(&s, 200, json!({"status": "success", "data": s.schedules}))
}

async fn get_schedule(
    state: Shared<CalcomState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    match s.schedules.iter().find(|x| x["id"] == *id) {
        Some(found) => ok(&s, 200, json!({"status": "success", "data": found})),
        None => envelope_error(&req, 404, "NotFoundException", "Schedule not found"),
    }
}

async fn create_schedule(
    state: Shared<CalcomState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    if !schedules_version_ok(&req) {
        return envelope_error(
            &req,
            400,
            "BadRequestException",
            "unsupported cal-api-version",
        );
    }
    let body = body.into_inner();
    if body["name"].as_str().is_none()
        || body["timeZone"].as_str().is_none()
        || !body["isDefault"].is_boolean()
    {
        return envelope_error(
            &req,
            400,
            "BadRequestException",
            "name, timeZone and isDefault are required",
        );
    }
    if let Err(m) = validate_schedule(&body) {
        return envelope_error(&req, 400, "BadRequestException", &m);
    }
    s.next_id += 1;
    let mut schedule = body;
    schedule["id"] = json!(s.next_id);
    schedule["ownerId"] = s.user["id"].clone();
    let obj = schedule.as_object_mut().unwrap();
    obj.entry("availability").or_insert(json!([{"days": ["Monday","Tuesday","Wednesday","Thursday","Friday"], "startTime": "09:00", "endTime": "17:00"}]));
    obj.entry("overrides").or_insert(json!([]));
    s.schedules.push(schedule.clone());
    s.schedule_writes += 1;
    ok(&s, 201, json!({"status": "success", "data": schedule}))
}

async fn update_schedule(
    state: Shared<CalcomState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<Value>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    if !schedules_version_ok(&req) {
        return envelope_error(
            &req,
            400,
            "BadRequestException",
            "unsupported cal-api-version",
        );
    }
    let body = body.into_inner();
    if let Err(m) = validate_schedule(&body) {
        return envelope_error(&req, 400, "BadRequestException", &m);
    }
    let Some(index) = s.schedules.iter().position(|x| x["id"] == *id) else {
        return envelope_error(&req, 404, "NotFoundException", "Schedule not found");
    };
    for (k, v) in body.as_object().into_iter().flatten() {
        s.schedules[index][k] = v.clone();
    }
    let updated = s.schedules[index].clone();
    s.schedule_writes += 1;
    ok(&s, 200, json!({"status": "success", "data": updated}))
}

async fn delete_schedule(
    state: Shared<CalcomState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    let before = s.schedules.len();
    s.schedules.retain(|x| x["id"] != *id);
    if s.schedules.len() == before {
        return envelope_error(&req, 404, "NotFoundException", "Schedule not found");
    }
    ok(&s, 200, json!({"status": "success"}))
}

/// One signed POST, as Cal.com's `sendPayload` makes it.
pub async fn deliver_raw(url: &str, signature: &str, body: Vec<u8>) -> u16 {
    super::client()
        .post(url)
        .header("Content-Type", "application/json")
        .header("X-Cal-Signature-256", signature)
        .header("X-Cal-Webhook-Version", "2021-10-20")
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

async fn create_webhook(
    state: Shared<CalcomState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    let (Some(url), Some(triggers), Some(active)) = (
        body["subscriberUrl"].as_str(),
        body["triggers"].as_array(),
        body["active"].as_bool(),
    ) else {
        return envelope_error(
            &req,
            400,
            "BadRequestException",
            "subscriberUrl, triggers and active are required",
        );
    };
    s.next_id += 1;
    let hook = CalcomWebhook {
        id: s.next_id,
        subscriber_url: url.to_owned(),
        triggers: triggers
            .iter()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect(),
        secret: body["secret"].as_str().map(str::to_owned),
    };
    s.webhooks.push(hook.clone());
    let user_id = s.user["id"].clone();
    ok(
        &s,
        201,
        json!({"status": "success", "data": {"id": hook.id, "userId": user_id,
        "subscriberUrl": hook.subscriber_url, "active": active, "triggers": hook.triggers,
        "payloadTemplate": null, "secret": hook.secret}}),
    )
}

async fn delete_webhook(
    state: Shared<CalcomState>,
    req: HttpRequest,
    id: web::Path<i64>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    let before = s.webhooks.len();
    s.webhooks.retain(|w| w.id != *id);
    if s.webhooks.len() == before {
        return envelope_error(&req, 404, "NotFoundException", "Webhook not found");
    }
    ok(&s, 200, json!({"status": "success"}))
}
