//! Microsoft: the identity platform (tenant-aware authorize and token, rotating refresh tokens)
//! and Graph (`/me`, `/me/calendars`, `calendarView/delta` with absolute `nextLink` and
//! `deltaLink`, `@removed`, 410 with `Location`).

use std::collections::{BTreeMap, HashMap};

use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Value, json};

use super::oauth::{Flavor, OAuthServer, api_fault, parse_body};
use super::{FakeServer, Faults, Shared};

pub struct GraphCalendar {
    pub id: String,
    pub name: String,
    pub default: bool,
    /// id → (event JSON, change number, deleted)
    pub events: BTreeMap<String, (Value, u64, bool)>,
}

pub struct MicrosoftState {
    pub oauth: OAuthServer,
    /// Where links point: the fake's own base, set at start.
    base: String,
    pub user_id: String,
    pub calendars: Vec<GraphCalendar>,
    seq: u64,
    epoch: u64,
    pub api_faults: Faults,
    /// The next `$skiptoken` page finds its delta state gone (an expiry in the middle of a round).
    pub expire_mid_round: bool,
    pub subscriptions: Vec<GraphSubscription>,
    /// The longest subscription Graph grants, in minutes.
    pub max_subscription_minutes: i64,
    /// Tenants seen in authorize and token requests.
    pub tenants: Vec<String>,
    /// Path, query and `Prefer` headers of every Graph request.
    pub requests: Vec<(String, Vec<String>)>,
}

pub type FakeMicrosoft = FakeServer<MicrosoftState>;

pub async fn start(account: &str) -> FakeMicrosoft {
    let state = MicrosoftState {
        oauth: OAuthServer::new(Flavor::Microsoft, account),
        base: String::new(),
        user_id: "ddfcd489-628b-40d7-b48b-57002df800e5".into(),
        calendars: vec![GraphCalendar {
            id: "AAMkAGI2TGuLAAA=".into(),
            name: "Calendar".into(),
            default: true,
            events: BTreeMap::new(),
        }],
        seq: 0,
        epoch: 0,
        api_faults: Faults::default(),
        expire_mid_round: false,
        subscriptions: Vec::new(),
        max_subscription_minutes: 4230,
        tenants: Vec::new(),
        requests: Vec::new(),
    };
    let fake = FakeServer::start(state, routes).await;
    fake.state().base = fake.base.clone();
    fake
}

#[derive(Clone, Debug)]
pub struct GraphSubscription {
    pub id: String,
    pub resource: String,
    pub notification_url: String,
    pub client_state: String,
    pub expires: DateTime<Utc>,
}

impl FakeServer<MicrosoftState> {
    /// A change notification for every subscription on `calendar`'s events; the statuses.
    pub async fn notify(&self, calendar: &str) -> Vec<u16> {
        self.send_to(calendar, |s| {
            json!({"subscriptionId": s.id, "subscriptionExpirationDateTime": s.expires.to_rfc3339(),
                "clientState": s.client_state, "changeType": "updated", "resource": s.resource,
                "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95",
                "resourceData": {"@odata.type": "#Microsoft.Graph.Event", "id": "AAMk"}})
        })
        .await
    }

    /// A lifecycle notification (`reauthorizationRequired`, `subscriptionRemoved`, `missed`).
    pub async fn lifecycle(&self, calendar: &str, event: &str) -> Vec<u16> {
        self.send_to(calendar, |s| {
            json!({"subscriptionId": s.id, "subscriptionExpirationDateTime": s.expires.to_rfc3339(),
                "tenantId": "84bd8158-6d4d-4958-8b9f-9d6445542f95", "clientState": s.client_state,
                "lifecycleEvent": event})
        })
        .await
    }

    async fn send_to(
        &self,
        calendar: &str,
        item: impl Fn(&GraphSubscription) -> Value,
    ) -> Vec<u16> {
        let targets: Vec<(String, Value)> = self
            .state()
            .subscriptions
            .iter()
            .filter(|s| s.resource == format!("me/calendars/{calendar}/events"))
            .map(|s| (s.notification_url.clone(), json!({"value": [item(s)]})))
            .collect();
        let mut statuses = Vec::new();
        for (url, body) in targets {
            let status = super::client()
                .post(url)
                .json(&body)
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0);
            statuses.push(status);
        }
        statuses
    }

    pub fn env(&self) -> Vec<(String, String)> {
        let (id, secret) = {
            let s = self.state();
            (s.oauth.client_id.clone(), s.oauth.client_secret.clone())
        };
        vec![
            ("MICROSOFT_CLIENT_ID".into(), id),
            ("MICROSOFT_CLIENT_SECRET".into(), secret),
            (
                "MICROSOFT_AUTH_URL".into(),
                self.url("/{tenant}/oauth2/v2.0/authorize"),
            ),
            (
                "MICROSOFT_TOKEN_URL".into(),
                self.url("/{tenant}/oauth2/v2.0/token"),
            ),
            ("MICROSOFT_GRAPH_BASE_URL".into(), self.url("/v1.0")),
        ]
    }
}

impl MicrosoftState {
    pub fn add_calendar(&mut self, id: &str, name: &str) {
        self.calendars.push(GraphCalendar {
            id: id.into(),
            name: name.into(),
            default: false,
            events: BTreeMap::new(),
        });
    }

    fn calendar(&mut self, id: &str) -> Option<&mut GraphCalendar> {
        self.calendars.iter_mut().find(|c| c.id == id)
    }

    pub fn default_calendar_id(&self) -> String {
        self.calendars[0].id.clone()
    }

    /// Creates or replaces an event (Graph JSON with `id`; times as `{dateTime, timeZone}`).
    pub fn put_event(&mut self, calendar: &str, mut event: Value) {
        self.seq += 1;
        let seq = self.seq;
        let id = event["id"].as_str().expect("event id").to_owned();
        event["@odata.etag"] = json!(format!("W/\"{seq}\""));
        event["lastModifiedDateTime"] = json!(crate::clock::now().to_rfc3339());
        self.calendar(calendar)
            .expect("calendar")
            .events
            .insert(id, (event, seq, false));
    }

    pub fn delete_event(&mut self, calendar: &str, id: &str) {
        self.seq += 1;
        let seq = self.seq;
        if let Some(entry) = self
            .calendar(calendar)
            .expect("calendar")
            .events
            .get_mut(id)
        {
            entry.1 = seq;
            entry.2 = true;
        }
    }

    /// Every delta token handed out so far expires (410 + `Location`, `syncStateNotFound`).
    pub fn expire_delta_tokens(&mut self) {
        self.epoch += 1;
    }
}

fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/{tenant}/oauth2/v2.0/authorize", web::get().to(authorize))
        .route(
            "/{tenant}/oauth2/v2.0/authorize/decide",
            web::post().to(decide),
        )
        .route("/{tenant}/oauth2/v2.0/token", web::post().to(token))
        .route("/v1.0/me", web::get().to(me))
        .route("/v1.0/me/calendars", web::get().to(calendars))
        .route("/v1.0/me/calendarView/delta", web::get().to(primary_delta))
        .route("/v1.0/subscriptions", web::post().to(subscribe))
        .route("/v1.0/subscriptions/{id}", web::patch().to(renew))
        .route("/v1.0/subscriptions/{id}", web::delete().to(unsubscribe))
        .route(
            "/v1.0/me/calendars/{id}/calendarView/delta",
            web::get().to(delta),
        );
}

async fn authorize(
    state: Shared<MicrosoftState>,
    tenant: web::Path<String>,
    query: web::Query<HashMap<String, String>>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    s.tenants.push(tenant.clone());
    let decide = format!("/{tenant}/oauth2/v2.0/authorize/decide");
    s.oauth.authorize(query.into_inner(), &decide)
}

async fn decide(
    state: Shared<MicrosoftState>,
    form: web::Form<HashMap<String, String>>,
) -> HttpResponse {
    super::lock(&state).oauth.decide(form.into_inner())
}

async fn token(
    state: Shared<MicrosoftState>,
    tenant: web::Path<String>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let form = parse_body(
        req.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        &body,
    );
    let mut s = super::lock(&state);
    s.tenants.push(tenant.into_inner());
    s.oauth.token(form)
}

fn graph_error(status: u16, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).json(json!({
        "error": {"code": code, "message": message,
                  "innerError": {"request-id": "94fb3b52-452a-4535-a601-69e0a90e3aa2", "date": "2026-11-22T06:00:00"}}
    }))
}

fn gate(
    s: &mut MicrosoftState,
    req: &HttpRequest,
) -> Result<Option<std::time::Duration>, HttpResponse> {
    let prefer = req
        .headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    s.requests
        .push((format!("{}?{}", req.path(), req.query_string()), prefer));
    let delay = api_fault(
        s.api_faults.pop(),
        json!({"error": {"code": "TooManyRequests", "message": "Please retry again later."}}),
    )?;
    if s.oauth.bearer_account(req).is_none() {
        return Err(graph_error(
            401,
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        ));
    }
    Ok(delay)
}

async fn me(state: Shared<MicrosoftState>, req: HttpRequest) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    HttpResponse::Ok().json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#users/$entity", s.base),
        "id": s.user_id, "displayName": "Ada", "mail": s.oauth.account,
        "userPrincipalName": s.oauth.account
    }))
}

async fn calendars(state: Shared<MicrosoftState>, req: HttpRequest) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    let value: Vec<Value> = s
        .calendars
        .iter()
        .map(|c| {
            json!({"id": c.id, "name": c.name, "color": "auto", "hexColor": if c.default { "" } else { "#ff8c00" },
                   "isDefaultCalendar": c.default, "canEdit": true,
                   "owner": {"name": "Ada", "address": s.oauth.account}})
        })
        .collect();
    HttpResponse::Ok().json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#me/calendars", s.base),
        "value": value
    }))
}

fn encode(parts: &[i64]) -> String {
    let text: Vec<String> = parts.iter().map(i64::to_string).collect();
    URL_SAFE_NO_PAD.encode(text.join(":"))
}

fn decode(token: &str) -> Option<Vec<i64>> {
    let text = String::from_utf8(URL_SAFE_NO_PAD.decode(token).ok()?).ok()?;
    text.split(':').map(|n| n.parse().ok()).collect()
}

fn graph_time(value: &Value) -> Option<DateTime<Utc>> {
    let text = value["dateTime"].as_str()?;
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|t| t.and_utc())
}

fn page_size(req: &HttpRequest) -> usize {
    req.headers()
        .get_all("prefer")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix("odata.maxpagesize=")?.parse().ok())
        .unwrap_or(10)
}

async fn primary_delta(state: Shared<MicrosoftState>, req: HttpRequest) -> HttpResponse {
    let id = super::lock(&state).default_calendar_id();
    delta_for(state, req, id).await
}

async fn delta(
    state: Shared<MicrosoftState>,
    req: HttpRequest,
    path: web::Path<String>,
) -> HttpResponse {
    delta_for(state, req, path.into_inner()).await
}

/// Tokens: skip = [kind(0 initial, 1 delta), offset, snapshot, start, end, since, epoch],
/// delta = [epoch, snapshot, start, end].
async fn delta_for(
    state: Shared<MicrosoftState>,
    req: HttpRequest,
    calendar_id: String,
) -> HttpResponse {
    let query: HashMap<String, String> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .into_owned()
        .collect();
    let (delay, res) = {
        let mut s = super::lock(&state);
        let delay = match gate(&mut s, &req) {
            Err(res) => return res,
            Ok(d) => d,
        };
        let link = format!(
            "{}/v1.0/me/calendars/{calendar_id}/calendarView/delta",
            s.base
        );
        if query.contains_key("$skiptoken") && std::mem::take(&mut s.expire_mid_round) {
            s.epoch += 1;
        }
        let (epoch, now_seq) = (s.epoch, s.seq as i64);
        let (kind, offset, snapshot, start, end, since) = if let Some(t) = query.get("$skiptoken") {
            match decode(t) {
                Some(v) if v.len() == 7 && v[6] == epoch as i64 => {
                    (v[0], v[1] as usize, v[2], v[3], v[4], v[5])
                }
                _ => {
                    return graph_error(
                        400,
                        "syncStateNotFound",
                        "The sync state generation is not found.",
                    );
                }
            }
        } else if let Some(t) = query.get("$deltatoken") {
            match decode(t) {
                Some(v) if v.len() == 4 && v[0] == epoch as i64 => {
                    (1, 0, now_seq, v[2], v[3], v[1])
                }
                Some(v) if v.len() == 4 => {
                    let location = format!(
                        "{link}?startDateTime={}&endDateTime={}",
                        DateTime::from_timestamp(v[2], 0)
                            .unwrap()
                            .format("%Y-%m-%dT%H:%M:%SZ"),
                        DateTime::from_timestamp(v[3], 0)
                            .unwrap()
                            .format("%Y-%m-%dT%H:%M:%SZ"),
                    );
                    return HttpResponse::Gone()
                        .insert_header(("Location", location))
                        .json(json!({"error": {"code": "syncStateNotFound",
                            "message": "The sync state generation is not found. The delta token is expired and data must be synchronized again."}}));
                }
                _ => return graph_error(400, "badRequest", "Invalid delta token"),
            }
        } else {
            let parse = |k: &str| {
                query
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(k))
                    .and_then(|(_, v)| DateTime::parse_from_rfc3339(v).ok())
                    .map(|t| t.timestamp())
            };
            match (parse("startDateTime"), parse("endDateTime")) {
                (Some(a), Some(b)) if a < b => (0, 0, now_seq, a, b, 0),
                _ => {
                    return graph_error(
                        400,
                        "ErrorInvalidParameter",
                        "startDateTime and endDateTime are required",
                    );
                }
            }
        };
        let Some(calendar) = s.calendars.iter().find(|c| c.id == calendar_id) else {
            return graph_error(
                404,
                "ErrorItemNotFound",
                "The specified object was not found in the store.",
            );
        };
        let (win_start, win_end) = (
            DateTime::from_timestamp(start, 0).unwrap(),
            DateTime::from_timestamp(end, 0).unwrap(),
        );
        let in_window = |e: &Value| {
            graph_time(&e["start"]).is_some_and(|st| st < win_end)
                && graph_time(&e["end"]).is_some_and(|en| en > win_start)
        };
        let items: Vec<Value> = calendar
            .events
            .values()
            .filter(|(_, seq, _)| *seq as i64 <= snapshot && (kind == 0 || *seq as i64 > since))
            .filter_map(|(event, _, deleted)| {
                let removed = json!({"@odata.type": "#microsoft.graph.event", "id": event["id"],
                    "@removed": {"reason": "deleted"}});
                match (kind, *deleted, in_window(event)) {
                    (0, false, true) => Some(event.clone()),
                    (0, _, _) => None,
                    // Deleted, or moved out of the window: both come as removals.
                    (_, true, _) | (_, false, false) => Some(removed),
                    _ => Some(event.clone()),
                }
            })
            .collect();
        let size = page_size(&req);
        let page: Vec<Value> = items.iter().skip(offset).take(size).cloned().collect();
        let mut body = json!({"@odata.context": format!("{}/v1.0/$metadata#Collection(event)", s.base), "value": page});
        if offset + size < items.len() {
            let token = encode(&[
                kind,
                (offset + size) as i64,
                snapshot,
                start,
                end,
                since,
                epoch as i64,
            ]);
            body["@odata.nextLink"] = json!(format!("{link}?$skiptoken={token}"));
        } else {
            let token = encode(&[epoch as i64, snapshot, start, end]);
            body["@odata.deltaLink"] = json!(format!("{link}?$deltatoken={token}"));
        }
        (delay, HttpResponse::Ok().json(body))
    };
    super::respond(delay, res).await
}

async fn subscribe(
    state: Shared<MicrosoftState>,
    req: HttpRequest,
    body: web::Json<Value>,
) -> HttpResponse {
    let (url, max) = {
        let mut s = super::lock(&state);
        if let Err(res) = gate(&mut s, &req) {
            return res;
        }
        (
            body["notificationUrl"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            s.max_subscription_minutes,
        )
    };
    let expires = body["expirationDateTime"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let Some(expires) =
        expires.filter(|e| *e <= crate::clock::now() + chrono::Duration::minutes(max))
    else {
        return graph_error(
            400,
            "ExtensionError",
            "Subscription expiration can only be 4230 minutes in the future.",
        );
    };
    // The validation handshake: the receiver must echo the token as text/plain.
    let token = super::opaque("Validation: ");
    let echoed = super::client()
        .post(&url)
        .query(&[("validationToken", token.as_str())])
        .header("Content-Type", "text/plain; charset=utf-8")
        .send()
        .await;
    let valid = match echoed {
        Ok(res) => {
            let plain = res
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.starts_with("text/plain"));
            res.status().as_u16() == 200
                && plain
                && res.text().await.ok().as_deref() == Some(token.as_str())
        }
        Err(_) => false,
    };
    if !valid {
        return graph_error(
            400,
            "ValidationError",
            "Subscription validation request failed.",
        );
    }
    let mut s = super::lock(&state);
    let subscription = GraphSubscription {
        id: uuid::Uuid::new_v4().to_string(),
        resource: body["resource"].as_str().unwrap_or_default().to_owned(),
        notification_url: url,
        client_state: body["clientState"].as_str().unwrap_or_default().to_owned(),
        expires,
    };
    s.subscriptions.push(subscription.clone());
    HttpResponse::Created().json(json!({
        "@odata.context": format!("{}/v1.0/$metadata#subscriptions/$entity", s.base),
        "id": subscription.id, "resource": subscription.resource, "changeType": body["changeType"],
        "notificationUrl": subscription.notification_url, "clientState": subscription.client_state,
        "expirationDateTime": expires.to_rfc3339(), "applicationId": "24d3b144-21ae-4080-943f-7067b395b913",
        "creatorId": s.user_id, "notificationContentType": "application/json"
    }))
}

async fn renew(
    state: Shared<MicrosoftState>,
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Json<Value>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    let max = s.max_subscription_minutes;
    let expires = body["expirationDateTime"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let Some(expires) =
        expires.filter(|e| *e <= crate::clock::now() + chrono::Duration::minutes(max))
    else {
        return graph_error(
            400,
            "ExtensionError",
            "Subscription expiration can only be 4230 minutes in the future.",
        );
    };
    let Some(sub) = s.subscriptions.iter_mut().find(|x| x.id == *id) else {
        return graph_error(404, "ResourceNotFound", "The object was not found.");
    };
    sub.expires = expires;
    let sub = sub.clone();
    HttpResponse::Ok().json(json!({"id": sub.id, "resource": sub.resource,
        "expirationDateTime": sub.expires.to_rfc3339(), "clientState": sub.client_state}))
}

async fn unsubscribe(
    state: Shared<MicrosoftState>,
    req: HttpRequest,
    id: web::Path<String>,
) -> HttpResponse {
    let mut s = super::lock(&state);
    if let Err(res) = gate(&mut s, &req) {
        return res;
    }
    let before = s.subscriptions.len();
    s.subscriptions.retain(|x| x.id != *id);
    if s.subscriptions.len() == before {
        return graph_error(404, "ResourceNotFound", "The object was not found.");
    }
    HttpResponse::NoContent().finish()
}
