//! The authorization server half that Google, Microsoft and Cal.com share, with each one's
//! quirks: Google issues a refresh token only for `access_type=offline` and never rotates it;
//! Microsoft needs `offline_access` and rotates (keeping the old one valid); Cal.com rotates
//! and retires the old one, and writes `token_type: "bearer"` in lower case.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{Fault, Faults, fault_response, opaque};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    Google,
    Microsoft,
    CalDotCom,
}

#[derive(Clone, Debug)]
struct AuthRequest {
    redirect_uri: String,
    state: Option<String>,
    challenge: Option<String>,
    scope: String,
    wants_refresh: bool,
}

#[derive(Clone, Debug)]
struct IssuedCode {
    request: AuthRequest,
    issued: Instant,
}

#[derive(Clone, Debug)]
pub struct RefreshRecord {
    pub account: String,
    pub revoked: bool,
    pub uses: u32,
}

pub struct OAuthServer {
    pub flavor: Flavor,
    pub client_id: String,
    pub client_secret: String,
    /// The account whoever approves the consent page signs in as.
    pub account: String,
    pub expires_in: i64,
    pending: HashMap<String, AuthRequest>,
    codes: HashMap<String, IssuedCode>,
    access_tokens: HashMap<String, (String, Instant)>,
    pub refresh_tokens: HashMap<String, RefreshRecord>,
    consented: HashSet<String>,
    /// Every authorization request's query, and every token request's form, in order.
    pub authorize_log: Vec<HashMap<String, String>>,
    pub token_log: Vec<HashMap<String, String>>,
    pub revoked_log: Vec<String>,
    pub token_faults: Faults,
}

impl OAuthServer {
    pub fn new(flavor: Flavor, account: &str) -> Self {
        Self {
            flavor,
            client_id: format!("{flavor:?}-client").to_lowercase(),
            client_secret: format!("{flavor:?}-secret").to_lowercase(),
            account: account.to_owned(),
            expires_in: 3600,
            pending: HashMap::new(),
            codes: HashMap::new(),
            access_tokens: HashMap::new(),
            refresh_tokens: HashMap::new(),
            consented: HashSet::new(),
            authorize_log: Vec::new(),
            token_log: Vec::new(),
            revoked_log: Vec::new(),
            token_faults: Faults::default(),
        }
    }

    /// The consent page: Allow and Deny buttons posting to `decide_path`.
    pub fn authorize(&mut self, query: HashMap<String, String>, decide_path: &str) -> HttpResponse {
        self.authorize_log.push(query.clone());
        let get = |k: &str| query.get(k).cloned();
        if get("client_id").as_deref() != Some(self.client_id.as_str()) {
            return HttpResponse::BadRequest().body("Error 401: invalid_client");
        }
        let Some(redirect_uri) = get("redirect_uri") else {
            return HttpResponse::BadRequest().body("Error 400: redirect_uri is required");
        };
        if get("response_type").as_deref() != Some("code") {
            return HttpResponse::BadRequest().body("Error 400: unsupported_response_type");
        }
        let challenge = get("code_challenge");
        if challenge.is_some() && get("code_challenge_method").as_deref() != Some("S256") {
            return HttpResponse::BadRequest().body("this fake only accepts S256 challenges");
        }
        let scope = get("scope").unwrap_or_default();
        let wants_refresh = match self.flavor {
            Flavor::Google => {
                get("access_type").as_deref() == Some("offline")
                    && (get("prompt").is_some_and(|p| p.split(' ').any(|p| p == "consent"))
                        || !self.consented.contains(&self.account))
            }
            Flavor::Microsoft => scope.split(' ').any(|s| s == "offline_access"),
            Flavor::CalDotCom => true,
        };
        let id = opaque("req-");
        self.pending.insert(
            id.clone(),
            AuthRequest {
                redirect_uri,
                state: get("state"),
                challenge,
                scope: scope.clone(),
                wants_refresh,
            },
        );
        let html = format!(
            "<!doctype html><html><head><title>Sign in - {flavor:?}</title></head><body>\
             <h1>{flavor:?} wants to know</h1><p>freeslot asks to read your calendars ({scope}) \
             as <b>{account}</b>.</p>\
             <form method=\"post\" action=\"{decide_path}\">\
             <input type=\"hidden\" name=\"request\" value=\"{id}\">\
             <button id=\"deny\" name=\"decision\" value=\"deny\">Deny</button>\
             <button id=\"allow\" name=\"decision\" value=\"allow\">Allow</button>\
             </form></body></html>",
            flavor = self.flavor,
            account = self.account,
        );
        HttpResponse::Ok()
            .content_type(ContentType::html())
            .body(html)
    }

    /// The consent page's buttons: back to the client with a code, or with `access_denied`.
    pub fn decide(&mut self, form: HashMap<String, String>) -> HttpResponse {
        let Some(request) = form.get("request").and_then(|id| self.pending.remove(id)) else {
            return HttpResponse::BadRequest().body("unknown authorization request");
        };
        let mut target = url::Url::parse(&request.redirect_uri).expect("redirect uri");
        {
            let mut q = target.query_pairs_mut();
            if form.get("decision").map(String::as_str) == Some("allow") {
                let code = opaque("code-");
                q.append_pair("code", &code);
                self.consented.insert(self.account.clone());
                self.codes.insert(
                    code,
                    IssuedCode {
                        request: request.clone(),
                        issued: Instant::now(),
                    },
                );
            } else {
                q.append_pair("error", "access_denied");
                if self.flavor == Flavor::Microsoft {
                    q.append_pair("error_description", "the user canceled the authentication");
                }
            }
            if let Some(state) = &request.state {
                q.append_pair("state", state);
            }
        }
        HttpResponse::Found()
            .insert_header(("Location", target.as_str()))
            .finish()
    }

    fn error(&self, status: u16, code: &str, description: &str) -> HttpResponse {
        let body = match self.flavor {
            Flavor::Microsoft => json!({
                "error": code,
                "error_description": format!("AADSTS70008: {description}"),
                "error_codes": [70008],
                "timestamp": "2026-11-22 06:00:00Z",
                "trace_id": "0000aaaa-11bb-cccc-dd22-eeeeee333333",
                "correlation_id": "aaaa0000-bb11-2222-33cc-444444dddddd"
            }),
            _ => json!({"error": code, "error_description": description}),
        };
        HttpResponse::build(actix_web::http::StatusCode::from_u16(status).expect("status"))
            .json(body)
    }

    /// The token endpoint: authorization codes (with PKCE) and refresh tokens.
    pub fn token(&mut self, form: HashMap<String, String>) -> HttpResponse {
        self.token_log.push(form.clone());
        if let Some(fault) = self.token_faults.pop()
            && let Some(res) = fault_response(&fault, json!({"error": "temporarily_unavailable"}))
        {
            return res;
        }
        let get = |k: &str| form.get(k).cloned();
        if get("client_id").as_deref() != Some(self.client_id.as_str())
            || get("client_secret").as_deref() != Some(self.client_secret.as_str())
        {
            return self.error(401, "invalid_client", "invalid_client_credentials");
        }
        match get("grant_type").as_deref() {
            Some("authorization_code") => {
                let Some(issued) = get("code").and_then(|c| self.codes.remove(&c)) else {
                    return self.error(400, "invalid_grant", "code_invalid_or_expired");
                };
                if issued.issued.elapsed() > Duration::from_secs(600) {
                    return self.error(400, "invalid_grant", "code_invalid_or_expired");
                }
                if get("redirect_uri").as_deref() != Some(issued.request.redirect_uri.as_str()) {
                    return self.error(400, "invalid_grant", "redirect_uri_mismatch");
                }
                if let Some(challenge) = &issued.request.challenge {
                    let verifier = get("code_verifier").unwrap_or_default();
                    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                    if &computed != challenge {
                        return self.error(400, "invalid_grant", "PKCE verification failed");
                    }
                }
                let refresh = issued.request.wants_refresh.then(|| self.new_refresh());
                self.tokens(refresh, &issued.request.scope)
            }
            Some("refresh_token") => {
                let presented = get("refresh_token").unwrap_or_default();
                let Some(record) = self.refresh_tokens.get_mut(&presented) else {
                    return self.error(400, "invalid_grant", "invalid_refresh_token");
                };
                if record.revoked {
                    return self.error(400, "invalid_grant", "Token has been expired or revoked.");
                }
                record.uses += 1;
                let rotated = match self.flavor {
                    Flavor::Google => None,
                    Flavor::Microsoft => Some(self.new_refresh()),
                    Flavor::CalDotCom => {
                        self.refresh_tokens.remove(&presented);
                        Some(self.new_refresh())
                    }
                };
                self.tokens(rotated, "")
            }
            _ => self.error(
                400,
                "unsupported_grant_type",
                "grant_type must be 'authorization_code' or 'refresh_token'",
            ),
        }
    }

    fn new_refresh(&mut self) -> String {
        let token = opaque("rt-");
        self.refresh_tokens.insert(
            token.clone(),
            RefreshRecord {
                account: self.account.clone(),
                revoked: false,
                uses: 0,
            },
        );
        token
    }

    fn tokens(&mut self, refresh: Option<String>, scope: &str) -> HttpResponse {
        let (access, _) = self.issue_access();
        let mut body = json!({
            "access_token": access,
            "expires_in": self.expires_in,
            "token_type": if self.flavor == Flavor::CalDotCom { "bearer" } else { "Bearer" },
        });
        if !scope.is_empty() {
            body["scope"] = Value::String(scope.to_owned());
        }
        if let Some(refresh) = refresh {
            body["refresh_token"] = Value::String(refresh);
        }
        HttpResponse::Ok().json(body)
    }

    /// An access token for the current account, as a completed flow would give.
    pub fn issue_access(&mut self) -> (String, String) {
        let token = opaque("at-");
        let expires = Instant::now() + Duration::from_secs(self.expires_in.max(0) as u64);
        self.access_tokens
            .insert(token.clone(), (self.account.clone(), expires));
        (token, self.account.clone())
    }

    /// The account an `Authorization: Bearer` header belongs to, if the token is alive.
    pub fn bearer_account(&self, req: &actix_web::HttpRequest) -> Option<String> {
        let header = req.headers().get("authorization")?.to_str().ok()?;
        let token = header.strip_prefix("Bearer ")?;
        let (account, expires) = self.access_tokens.get(token)?;
        (Instant::now() < *expires).then(|| account.clone())
    }

    /// Revocation (Google's `/revoke?token=`, or the RFC 7009 form).
    pub fn revoke(&mut self, token: &str) -> HttpResponse {
        self.revoked_log.push(token.to_owned());
        if let Some(record) = self.refresh_tokens.get_mut(token) {
            record.revoked = true;
            return HttpResponse::Ok().finish();
        }
        if self.access_tokens.remove(token).is_some() {
            return HttpResponse::Ok().finish();
        }
        self.error(400, "invalid_token", "Token expired or revoked")
    }

    /// The user revoked access at the provider: every refresh token dies, and access tokens too.
    pub fn revoke_everything(&mut self) {
        for record in self.refresh_tokens.values_mut() {
            record.revoked = true;
        }
        self.access_tokens.clear();
    }

    /// Access tokens stop working (as when they expire), refresh tokens still do.
    pub fn expire_access_tokens(&mut self) {
        self.access_tokens.clear();
    }

    /// Every access and refresh token handed out and still known.
    pub fn all_tokens(&self) -> Vec<String> {
        self.access_tokens
            .keys()
            .chain(self.refresh_tokens.keys())
            .cloned()
            .collect()
    }

    pub fn live_refresh_tokens(&self) -> Vec<String> {
        self.refresh_tokens
            .iter()
            .filter(|(_, r)| !r.revoked)
            .map(|(t, _)| t.clone())
            .collect()
    }
}

/// A form body (`application/x-www-form-urlencoded`) or a JSON object, as Cal.com accepts both.
pub fn parse_body(content_type: Option<&str>, body: &[u8]) -> HashMap<String, String> {
    if content_type.is_some_and(|c| c.starts_with("application/json")) {
        let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
        return value
            .as_object()
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        (
                            k.clone(),
                            v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
    }
    url::form_urlencoded::parse(body).into_owned().collect()
}

/// A fault queued for an API call, answered in the provider's error envelope.
pub fn api_fault(fault: Option<Fault>, body: Value) -> Result<Option<Duration>, HttpResponse> {
    match fault {
        None => Ok(None),
        Some(Fault::Delay(d)) => Ok(Some(d)),
        Some(f) => Err(fault_response(&f, body).expect("a non-delay fault")),
    }
}
