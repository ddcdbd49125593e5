//! CalDAV (RFC 4791) for iCloud, Fastmail, Nextcloud and any other server: discovery by RFC 6764
//! and the principal's `calendar-home-set`, collections that hold VEVENTs as calendars, and
//! sync by RFC 6578 `sync-collection`. Resources are read by the one iCalendar reader
//! (`crate::ics::parse`), as feeds are.
//!
//! A round: `sync-collection` with the stored token. Nothing changed → an empty page and the
//! new token. Something changed → the changed members through `calendar-multiget`, each as a
//! whole resource (`Change::Resource`: its events now, so an override or EXDATE'd instance it
//! no longer holds goes too), the gone ones as empty resources. No token yet, or one the server
//! forgot (`ProviderError::Gone`, and the sync starts over) → every member, as a snapshot.
//! Event ids are `<href>#<id the iCalendar reader gives>`: one calendar may hold the same UID in
//! two resources, and a resource's events are found by their prefix.
//!
//! Requests go through the client for users' URLs (`crate::outbound`), with redirects followed
//! here — a PROPFIND must stay a PROPFIND, which an HTTP client's redirect policy does not
//! keep — each to an allowed address only.

pub mod xml;

use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::model::*;
use crate::source::CalendarSource;
use crate::{ProviderError, zones};
use xml::{APPLE, CALDAV, DAV, Multistatus};

/// What a person asked to connect, checked: a preset fills in the server (Nextcloud's is the
/// person's own, so it needs `url`: its `remote.php/dav` is where CalDAV starts), and without a
/// preset `url` is the server. The error names the field and says why, in words.
pub fn login(
    preset: Option<&str>,
    url: Option<&str>,
    username: &str,
    password: &str,
) -> Result<Login, (&'static str, String)> {
    let url = url.map(str::trim).filter(|u| !u.is_empty());
    let server = match (preset, url) {
        (Some("icloud"), _) => "https://caldav.icloud.com/".to_owned(),
        (Some("fastmail"), _) => "https://caldav.fastmail.com/".to_owned(),
        (Some("nextcloud"), Some(u)) => {
            let base = start_url(u).map_err(|e| ("url", e.to_string()))?;
            let mut base = base.to_string();
            if let Some(origin) = base.strip_suffix(".well-known/caldav") {
                base = origin.to_owned();
            }
            if base.contains("/remote.php/") {
                base
            } else {
                format!("{}/remote.php/dav/", base.trim_end_matches('/'))
            }
        }
        (Some("nextcloud"), None) => {
            return Err(("url", "Nextcloud needs the address of your server".into()));
        }
        (Some(other), _) => {
            return Err((
                "preset",
                format!("`{other}` is not a preset (icloud, fastmail, nextcloud, or none)"),
            ));
        }
        (None, Some(u)) => start_url(u)
            .map_err(|e| ("url", e.to_string()))?
            .to_string(),
        (None, None) => return Err(("url", "the address of the CalDAV server is missing".into())),
    };
    let username = username.trim();
    if username.is_empty() || username.chars().count() > 320 {
        return Err((
            "username",
            "the username must be 1 to 320 characters".into(),
        ));
    }
    if password.is_empty() || password.chars().count() > 1000 {
        return Err((
            "password",
            "the password must be 1 to 1000 characters".into(),
        ));
    }
    Ok(Login {
        url: server,
        username: username.to_owned(),
        password: password.to_owned(),
    })
}

/// What a CalDAV connection holds (sealed as one JSON value by the vault).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Login {
    /// Where discovery starts: the server, or any URL below it.
    pub url: String,
    pub username: String,
    pub password: String,
}

impl Login {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("strings serialize")
    }

    fn from_credential(credential: Credential<'_>) -> Result<Self, ProviderError> {
        match credential {
            Credential::Login(json) => serde_json::from_str(json).map_err(|_| {
                ProviderError::Rejected("a CalDAV login is url, username, password".into())
            }),
            _ => Err(ProviderError::Rejected("CalDAV needs a login".into())),
        }
    }
}

/// How many resources one `calendar-multiget` asks for.
const MULTIGET_BATCH: usize = 250;
const MAX_REDIRECTS: usize = 5;
/// The largest multistatus answer read (a multiget of 250 large resources stays far below).
const MAX_ANSWER_BYTES: usize = 50 * 1024 * 1024;

pub struct CalDav {
    http: reqwest::Client,
    allow_private: bool,
}

/// A page token within a round: the members still to read, those gone, the token the round
/// ends with, and whether the round lists every member.
#[derive(Serialize, Deserialize)]
struct Pending {
    hrefs: Vec<String>,
    #[serde(default)]
    gone: Vec<String>,
    sync_token: Option<String>,
    #[serde(default)]
    snapshot: bool,
    /// The account's addresses, once a page of the round has asked for them.
    #[serde(default)]
    me: Option<Vec<String>>,
}

/// The cursor of a server without `sync-collection`: `ETAGS` + this as JSON.
const ETAGS: &str = "etags:";

#[derive(Serialize, Deserialize, Default)]
struct Etags {
    /// The collection's `getctag` (Apple's calendarserver extension), when it has one.
    ctag: Option<String>,
    /// Every member's ETag, by href.
    etags: std::collections::BTreeMap<String, String>,
}

impl Etags {
    fn cursor(&self) -> String {
        format!(
            "{ETAGS}{}",
            serde_json::to_string(self).expect("strings serialize")
        )
    }

    /// Members new or changed since `self`, and members gone.
    fn diff(&self, now: &std::collections::BTreeMap<String, String>) -> (Vec<String>, Vec<String>) {
        let changed = now
            .iter()
            .filter(|(href, etag)| self.etags.get(*href) != Some(*etag))
            .map(|(href, _)| href.clone())
            .collect();
        let gone = self
            .etags
            .keys()
            .filter(|href| !now.contains_key(*href))
            .cloned()
            .collect();
        (changed, gone)
    }
}

/// What `sync-collection` said changed since a token: members it sent with their data, members
/// still to read, members gone.
struct Delta {
    read: Vec<(String, String)>,
    changed: Vec<String>,
    gone: Vec<String>,
    sync_token: Option<String>,
}

fn body_propfind(props: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
         <d:propfind xmlns:d=\"DAV:\" xmlns:c=\"{CALDAV}\" xmlns:a=\"{APPLE}\"><d:prop>{props}</d:prop></d:propfind>"
    )
}

impl CalDav {
    /// `http` must not follow redirects (see the module's note); `allow_private` lets tests
    /// reach a server on 127.0.0.1.
    pub fn new(http: reqwest::Client, allow_private: bool) -> Self {
        Self {
            http,
            allow_private,
        }
    }

    /// Sends `method` with `body` to `url`, following redirects (same method, same body) to
    /// allowed addresses, and returns the multistatus it answered with.
    async fn dav(
        &self,
        login: &Login,
        method: &str,
        url: Url,
        depth: &str,
        body: String,
    ) -> Result<(Url, Multistatus), ProviderError> {
        let method = Method::from_bytes(method.as_bytes()).expect("a WebDAV method");
        let mut url = url;
        for _ in 0..=MAX_REDIRECTS {
            crate::outbound::check_url(&url, self.allow_private)
                .map_err(|_| ProviderError::AddressNotAllowed)?;
            let response = self
                .http
                .request(method.clone(), url.clone())
                .basic_auth(&login.username, Some(&login.password))
                .header("Depth", depth)
                .header("Content-Type", "application/xml; charset=utf-8")
                .body(body.clone())
                .send()
                .await?;
            let status = response.status();
            if status.is_redirection() {
                let next = response
                    .headers()
                    .get("location")
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
                    .ok_or_else(|| {
                        ProviderError::Protocol("a redirect without a Location".into())
                    })?;
                // Credentials go to https, or to where the user's own URL already pointed.
                if next.scheme() != "https" && next.origin() != url.origin() {
                    return Err(ProviderError::Rejected("a redirect away from https".into()));
                }
                url = next;
                continue;
            }
            if status == StatusCode::UNAUTHORIZED {
                return Err(ProviderError::Unauthorized);
            }
            if status != StatusCode::MULTI_STATUS {
                // An error status becomes its error; a 2xx that is not a multistatus means
                // this is not a WebDAV server.
                crate::http::check(response).await?;
                return Err(ProviderError::Protocol(format!(
                    "the server answered {status} to {method}, not a WebDAV multistatus"
                )));
            }
            let bytes = read_capped(response).await?;
            let text = String::from_utf8_lossy(&bytes);
            let parsed = xml::parse(&text).map_err(ProviderError::Protocol)?;
            return Ok((url, parsed));
        }
        Err(ProviderError::Protocol("too many redirects".into()))
    }

    /// The principal a PROPFIND of `url` names (`DAV:current-user-principal`, RFC 5397), if any.
    async fn principal_at(&self, login: &Login, url: Url) -> Result<Option<Url>, ProviderError> {
        let body = body_propfind("<d:current-user-principal/>");
        let (at, m) = self.dav(login, "PROPFIND", url, "0", body).await?;
        Ok(m.responses
            .iter()
            .find_map(|r| {
                r.prop(DAV, "current-user-principal")?
                    .hrefs
                    .first()
                    .cloned()
            })
            .and_then(|h| at.join(&h).ok()))
    }

    /// The start URL, the principal, the calendar home (RFC 6764 §6, RFC 4791 §6.2.1).
    async fn home(&self, login: &Login) -> Result<Url, ProviderError> {
        let start = start_url(&login.url)?;
        let mut principal = None;
        let well_known = start.join("/.well-known/caldav").expect("an absolute path");
        let mut candidates = vec![start.clone()];
        if start != well_known {
            candidates.push(well_known);
        }
        for candidate in candidates {
            match self.principal_at(login, candidate).await {
                Ok(Some(found)) => {
                    principal = Some(found);
                    break;
                }
                Ok(None) => {}
                Err(ProviderError::Unauthorized) => return Err(ProviderError::Unauthorized),
                Err(ProviderError::AddressNotAllowed) => {
                    return Err(ProviderError::AddressNotAllowed);
                }
                Err(ProviderError::Transient(e)) => return Err(ProviderError::Transient(e)),
                Err(_) => {}
            }
        }
        let principal = principal
            .ok_or_else(|| ProviderError::Protocol("no CalDAV principal at this address".into()))?;
        let (at, m) = self
            .dav(
                login,
                "PROPFIND",
                principal,
                "0",
                body_propfind("<c:calendar-home-set/>"),
            )
            .await?;
        let home = m
            .responses
            .iter()
            .find_map(|r| r.prop(CALDAV, "calendar-home-set")?.hrefs.first().cloned())
            .ok_or_else(|| ProviderError::Protocol("the principal has no calendar home".into()))?;
        at.join(&home)
            .map_err(|_| ProviderError::Protocol("a calendar home that is not a URL".into()))
    }

    /// The data of each of `hrefs`, by href; an href the server no longer has is left out.
    async fn multiget(
        &self,
        login: &Login,
        collection: &Url,
        hrefs: &[String],
    ) -> Result<Vec<(String, String)>, ProviderError> {
        let mut body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><c:calendar-multiget xmlns:d=\"DAV:\" xmlns:c=\"{CALDAV}\">\
             <d:prop><d:getetag/><c:calendar-data/></d:prop>"
        );
        for href in hrefs {
            body.push_str("<d:href>");
            body.push_str(&quick_xml::escape::escape(href.as_str()));
            body.push_str("</d:href>");
        }
        body.push_str("</c:calendar-multiget>");
        let (_, m) = self
            .dav(login, "REPORT", collection.clone(), "1", body)
            .await?;
        Ok(m.responses
            .iter()
            .filter_map(|r| {
                let data = r.prop(CALDAV, "calendar-data")?;
                Some((r.href.clone(), data.text.clone()))
            })
            .collect())
    }

    /// `sync-collection` from `token` (none: from the start): the members it names as changed or
    /// new, those it names as gone, and the new token. `Ok(None)` when the server does not
    /// accept the token.
    async fn sync_collection(
        &self,
        login: &Login,
        collection: &Url,
        token: Option<&str>,
    ) -> Result<Option<Delta>, ProviderError> {
        // The members' data in the same answer (one request instead of one per 250 members;
        // 6 s instead of 8.5 s for 10,000 at Radicale); too large an answer is asked again for
        // the list alone, and multiget reads the rest.
        match self.sync_report(login, collection, token, true).await {
            Err(ProviderError::Rejected(why)) if why == TOO_LARGE => {
                self.sync_report(login, collection, token, false).await
            }
            other => other,
        }
    }

    async fn sync_report(
        &self,
        login: &Login,
        collection: &Url,
        token: Option<&str>,
        with_data: bool,
    ) -> Result<Option<Delta>, ProviderError> {
        let token = quick_xml::escape::escape(token.unwrap_or(""));
        let data = if with_data { "<c:calendar-data/>" } else { "" };
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><d:sync-collection xmlns:d=\"DAV:\" xmlns:c=\"{CALDAV}\">\
             <d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>\
             <d:prop><d:getetag/>{data}</d:prop></d:sync-collection>"
        );
        match self
            .dav(login, "REPORT", collection.clone(), "0", body)
            .await
        {
            Ok((_, m)) => {
                let mut changed = Vec::new();
                let mut read = Vec::new();
                let mut gone = Vec::new();
                for r in &m.responses {
                    // The collection itself may be listed; only its members are resources.
                    if is_itself(collection, &r.href) {
                        continue;
                    }
                    match (r.status, r.prop(CALDAV, "calendar-data")) {
                        (Some(404), _) => gone.push(r.href.clone()),
                        (_, Some(data)) => read.push((r.href.clone(), data.text.clone())),
                        (_, None) => changed.push(r.href.clone()),
                    }
                }
                Ok(Some(Delta {
                    read,
                    changed,
                    gone,
                    sync_token: m.sync_token,
                }))
            }
            // RFC 6578 §3.2: an invalid token is refused with 403 (valid-sync-token) or 409.
            Err(ProviderError::Rejected(_)) | Err(ProviderError::NotFound) if !token.is_empty() => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The account's addresses: its username when that is one (iCloud, Fastmail), and the
    /// `mailto:`s of its principal's `calendar-user-address-set` (RFC 6638) where the server
    /// says. A server that says nothing leaves the username.
    async fn addresses(&self, login: &Login, collection: &Url) -> Vec<String> {
        let mut out: Vec<String> = login
            .username
            .contains('@')
            .then(|| login.username.clone())
            .into_iter()
            .collect();
        let principal = self
            .principal_at(login, collection.clone())
            .await
            .ok()
            .flatten();
        if let Some(principal) = principal
            && let Ok((_, m)) = self
                .dav(
                    login,
                    "PROPFIND",
                    principal,
                    "0",
                    body_propfind("<c:calendar-user-address-set/>"),
                )
                .await
        {
            for r in &m.responses {
                if let Some(p) = r.prop(CALDAV, "calendar-user-address-set") {
                    for href in &p.hrefs {
                        let lower = href.to_ascii_lowercase();
                        if let Some(address) = lower.strip_prefix("mailto:") {
                            out.push(href[href.len() - address.len()..].to_owned());
                        }
                    }
                }
            }
        }
        out.sort();
        out.dedup();
        out
    }

    /// The collection's ctag and (with `depth` 1) its members' ETags, by PROPFIND.
    async fn etags(
        &self,
        login: &Login,
        collection: &Url,
        depth: &str,
    ) -> Result<(Option<String>, std::collections::BTreeMap<String, String>), ProviderError> {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><d:propfind xmlns:d=\"DAV:\" xmlns:cs=\"{}\">\
             <d:prop><d:getetag/><cs:getctag/><d:resourcetype/></d:prop></d:propfind>",
            xml::CALSERVER
        );
        let (_, m) = self
            .dav(login, "PROPFIND", collection.clone(), depth, body)
            .await?;
        let mut ctag = None;
        let mut etags = std::collections::BTreeMap::new();
        for r in &m.responses {
            if is_itself(collection, &r.href) {
                ctag = r.prop(xml::CALSERVER, "getctag").map(|p| p.text.clone());
                continue;
            }
            let is_collection = r
                .prop(DAV, "resourcetype")
                .is_some_and(|p| !p.children.is_empty());
            if let (false, Some(etag)) = (is_collection, r.prop(DAV, "getetag")) {
                etags.insert(r.href.clone(), etag.text.clone());
            }
        }
        Ok((ctag, etags))
    }

    /// The collection's members (read, or still to read), with the token a sync from here on
    /// starts from.
    async fn members(&self, login: &Login, collection: &Url) -> Result<Delta, ProviderError> {
        match self.sync_collection(login, collection, None).await? {
            Some(delta) => Ok(delta),
            None => Err(ProviderError::Protocol(
                "sync-collection refused without a token".into(),
            )),
        }
    }

    /// `ready` (members already read) and the next batch of `pending`, each resource whole
    /// (`Change::Resource`), those gone as empty ones.
    async fn page(
        &self,
        login: &Login,
        collection: &Url,
        pending: Pending,
        ready: Vec<(String, String)>,
    ) -> Result<ChangePage, ProviderError> {
        let (now, rest) = pending
            .hrefs
            .split_at(pending.hrefs.len().min(MULTIGET_BATCH));
        let mut changes: Vec<Change> = pending
            .gone
            .iter()
            .map(|href| Change::Resource {
                prefix: href.clone(),
                events: Vec::new(),
            })
            .collect();
        let mut warnings = Vec::new();
        // The account's own answer to invitations is its PARTSTAT where it is an attendee.
        let me = match pending.me {
            Some(me) => me,
            None if ready.is_empty() && now.is_empty() => Vec::new(),
            None => self.addresses(login, collection).await,
        };
        let mut read = ready;
        if !now.is_empty() {
            let mut got = self.multiget(login, collection, now).await?;
            got.sort();
            for href in now {
                match got.binary_search_by(|(h, _)| h.as_str().cmp(href)) {
                    Ok(at) => read.push(std::mem::take(&mut got[at])),
                    // Asked for but not answered: gone since it was listed.
                    Err(_) => changes.push(Change::Resource {
                        prefix: href.clone(),
                        events: Vec::new(),
                    }),
                }
            }
        }
        {
            for (href, data) in &read {
                // One resource that cannot be read does not hold back the calendar.
                match crate::ics::parse_as(data, &me) {
                    Ok(calendar) => {
                        warnings.extend(calendar.warnings);
                        let events = calendar
                            .events
                            .into_iter()
                            .map(|mut e| {
                                e.id = format!("{href}{RESOURCE_SEPARATOR}{}", e.id);
                                e
                            })
                            .collect();
                        changes.push(Change::Resource {
                            prefix: href.clone(),
                            events,
                        });
                    }
                    Err(e) => warnings.push(format!("a resource could not be read: {e}")),
                }
            }
        }
        warnings.sort();
        warnings.dedup();
        let next = if rest.is_empty() {
            Next::Done(pending.sync_token)
        } else {
            Next::Page(
                serde_json::to_string(&Pending {
                    hrefs: rest.to_vec(),
                    gone: Vec::new(),
                    sync_token: pending.sync_token,
                    snapshot: pending.snapshot,
                    me: Some(me),
                })
                .expect("strings serialize"),
            )
        };
        Ok(ChangePage {
            changes,
            next,
            snapshot: pending.snapshot,
            not_modified: false,
            warnings,
        })
    }
}

/// Whether `href` (as a multistatus names it) is `collection` itself rather than a member.
fn is_itself(collection: &Url, href: &str) -> bool {
    let path = |u: &Url| u.path().trim_end_matches('/').to_owned();
    collection
        .join(href)
        .is_ok_and(|u| path(&u) == path(collection))
}

/// Where discovery starts: the URL as given (https unless it says http), its server's
/// `/.well-known/caldav` when it names no path.
fn start_url(raw: &str) -> Result<Url, ProviderError> {
    let raw = raw.trim();
    let with_scheme = if raw.contains("://") {
        raw.to_owned()
    } else {
        format!("https://{raw}")
    };
    let url = Url::parse(&with_scheme)
        .map_err(|_| ProviderError::Rejected("the server address is not a URL".into()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ProviderError::Rejected(
            "the server address must be http(s)".into(),
        ));
    }
    if url.path() == "/" || url.path().is_empty() {
        return Ok(url.join("/.well-known/caldav").expect("an absolute path"));
    }
    Ok(url)
}

/// Why an answer was not read to its end.
const TOO_LARGE: &str = "the server's answer is larger than 50 MB";

async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, ProviderError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(ProviderError::Rejected(TOO_LARGE.into()));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Apple's `#RRGGBBAA` (and any `#RRGGBB`) as `#rrggbb`.
fn color(text: &str) -> Option<String> {
    let hex = text.trim().strip_prefix('#')?;
    let rgb = hex.get(..6)?;
    rgb.bytes()
        .all(|b| b.is_ascii_hexdigit())
        .then(|| format!("#{}", rgb.to_ascii_lowercase()))
}

/// The TZID a `calendar-timezone` (a VCALENDAR with one VTIMEZONE) defines, as an IANA name.
fn zone_of(vcalendar: &str) -> Option<String> {
    vcalendar
        .lines()
        .find_map(|l| l.trim().strip_prefix("TZID:"))
        .and_then(zones::iana)
}

#[async_trait]
impl CalendarSource for CalDav {
    async fn identity(&self, credential: Credential<'_>) -> Result<Identity, ProviderError> {
        let login = Login::from_credential(credential)?;
        let home = self.home(&login).await?;
        Ok(Identity {
            id: format!("{}|{}", home.origin().ascii_serialization(), login.username),
            display: login.username.clone(),
            timezone: None,
        })
    }

    async fn calendars(
        &self,
        credential: Credential<'_>,
    ) -> Result<Vec<RemoteCalendar>, ProviderError> {
        let login = Login::from_credential(credential)?;
        let home = self.home(&login).await?;
        let body = body_propfind(
            "<d:resourcetype/><d:displayname/><a:calendar-color/><c:calendar-timezone/>\
             <c:supported-calendar-component-set/>",
        );
        let (at, m) = self.dav(&login, "PROPFIND", home, "1", body).await?;
        let mut out = Vec::new();
        for r in &m.responses {
            let is_calendar = r.prop(DAV, "resourcetype").is_some_and(|p| {
                p.children
                    .contains(&(CALDAV.to_owned(), "calendar".to_owned()))
            });
            let holds_events = r
                .prop(CALDAV, "supported-calendar-component-set")
                .is_none_or(|p| {
                    p.components.is_empty() || p.components.iter().any(|c| c == "VEVENT")
                });
            if !is_calendar || !holds_events {
                continue;
            }
            let Ok(url) = at.join(&r.href) else { continue };
            let name = r
                .prop(DAV, "displayname")
                .map(|p| p.text.clone())
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| {
                    url.path_segments()
                        .and_then(|mut s| s.rfind(|x| !x.is_empty()).map(str::to_owned))
                        .unwrap_or_else(|| "Calendar".into())
                });
            out.push(RemoteCalendar {
                id: url.to_string(),
                name,
                color: r.prop(APPLE, "calendar-color").and_then(|p| color(&p.text)),
                timezone: r
                    .prop(CALDAV, "calendar-timezone")
                    .and_then(|p| zone_of(&p.text)),
                primary: out.is_empty(),
            });
        }
        Ok(out)
    }

    async fn changes(
        &self,
        credential: Credential<'_>,
        calendar_id: &str,
        request: &SyncRequest,
    ) -> Result<ChangePage, ProviderError> {
        let login = Login::from_credential(credential)?;
        let collection = Url::parse(calendar_id)
            .map_err(|_| ProviderError::Protocol("a calendar id that is not a URL".into()))?;
        match request {
            SyncRequest::Page { token, .. } => {
                let pending: Pending = serde_json::from_str(token)
                    .map_err(|_| ProviderError::Protocol("a page token of another round".into()))?;
                self.page(&login, &collection, pending, Vec::new()).await
            }
            SyncRequest::Since { cursor, .. } if cursor.starts_with(ETAGS) => {
                let stored: Etags = serde_json::from_str(&cursor[ETAGS.len()..])
                    .map_err(|_| ProviderError::Gone)?;
                let (ctag, _) = self.etags(&login, &collection, "0").await?;
                if ctag.is_some() && ctag == stored.ctag {
                    return Ok(ChangePage {
                        changes: Vec::new(),
                        next: Next::Done(Some(cursor.clone())),
                        snapshot: false,
                        not_modified: true,
                        warnings: Vec::new(),
                    });
                }
                let (ctag, now) = self.etags(&login, &collection, "1").await?;
                let (changed, gone) = stored.diff(&now);
                let pending = Pending {
                    hrefs: changed,
                    gone,
                    sync_token: Some(Etags { ctag, etags: now }.cursor()),
                    snapshot: false,
                    me: None,
                };
                self.page(&login, &collection, pending, Vec::new()).await
            }
            SyncRequest::Since { cursor, .. } => {
                match self
                    .sync_collection(&login, &collection, Some(cursor))
                    .await?
                {
                    // Nothing changed since the token.
                    Some(delta)
                        if delta.read.is_empty()
                            && delta.changed.is_empty()
                            && delta.gone.is_empty() =>
                    {
                        Ok(ChangePage {
                            changes: Vec::new(),
                            next: Next::Done(delta.sync_token.or_else(|| Some(cursor.clone()))),
                            snapshot: false,
                            not_modified: true,
                            warnings: Vec::new(),
                        })
                    }
                    // Only what changed is read.
                    Some(delta) => {
                        let pending = Pending {
                            hrefs: delta.changed,
                            gone: delta.gone,
                            sync_token: delta.sync_token,
                            snapshot: false,
                            me: None,
                        };
                        self.page(&login, &collection, pending, delta.read).await
                    }
                    // The server forgot the token: start over.
                    None => Err(ProviderError::Gone),
                }
            }
            SyncRequest::Full { .. } => {
                let pending = match self.members(&login, &collection).await {
                    Ok(delta) => {
                        let pending = Pending {
                            hrefs: delta.changed,
                            gone: Vec::new(),
                            sync_token: delta.sync_token,
                            snapshot: true,
                            me: None,
                        };
                        return self.page(&login, &collection, pending, delta.read).await;
                    }
                    // No sync-collection here (RFC 6578 is optional): the collection's ctag and
                    // its members' ETags, kept in the cursor, tell what changed from now on.
                    Err(ProviderError::Rejected(_) | ProviderError::Protocol(_)) => {
                        let (ctag, etags) = self.etags(&login, &collection, "1").await?;
                        let hrefs = etags.keys().cloned().collect();
                        Pending {
                            hrefs,
                            gone: Vec::new(),
                            sync_token: Some(Etags { ctag, etags }.cursor()),
                            snapshot: true,
                            me: None,
                        }
                    }
                    Err(e) => return Err(e),
                };
                self.page(&login, &collection, pending, Vec::new()).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_tell_what_changed() {
        let then = Etags {
            ctag: Some("1".into()),
            etags: [
                ("/a.ics", "\"1\""),
                ("/b.ics", "\"1\""),
                ("/c.ics", "\"1\""),
            ]
            .into_iter()
            .map(|(h, e)| (h.to_owned(), e.to_owned()))
            .collect(),
        };
        let now = [
            ("/a.ics", "\"1\""),
            ("/b.ics", "\"2\""),
            ("/d.ics", "\"1\""),
        ]
        .into_iter()
        .map(|(h, e)| (h.to_owned(), e.to_owned()))
        .collect();
        assert_eq!(
            then.diff(&now),
            (
                vec!["/b.ics".to_owned(), "/d.ics".to_owned()],
                vec!["/c.ics".to_owned()]
            )
        );
        let cursor = then.cursor();
        assert!(cursor.starts_with(ETAGS));
        let back: Etags = serde_json::from_str(&cursor[ETAGS.len()..]).unwrap();
        assert_eq!(back.etags, then.etags);
    }

    #[test]
    fn addresses_and_colors_read_as_people_write_them() {
        assert_eq!(
            start_url("cloud.example.com").unwrap().as_str(),
            "https://cloud.example.com/.well-known/caldav"
        );
        assert_eq!(
            start_url("https://cloud.example.com/remote.php/dav")
                .unwrap()
                .as_str(),
            "https://cloud.example.com/remote.php/dav"
        );
        assert!(start_url("ftp://x").is_err());
        assert_eq!(color("#FF2968FF").as_deref(), Some("#ff2968"));
        assert_eq!(color("#0088cc").as_deref(), Some("#0088cc"));
        assert_eq!(color("red"), None);
        assert_eq!(
            zone_of("BEGIN:VCALENDAR\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\nEND:VTIMEZONE\r\nEND:VCALENDAR").as_deref(),
            Some("Europe/Berlin")
        );
    }
}
