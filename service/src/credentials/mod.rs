//! What freeslot holds to talk to providers on a user's behalf: the OAuth apps it is registered
//! as, one API client per provider (built once, in the app context), and the users' tokens —
//! sealed by the vault, refreshed before they expire. The connection flows (`connections`) and
//! everything that calls a provider (`sync`, `channels`, `export`) build on this; it builds on
//! nothing of theirs.

pub mod tokens;

use entity::Provider;
use providers::calcom::CalDotCom;
use providers::caldav::CalDav;
use providers::google::Google;
use providers::ics::IcsFeed;
use providers::microsoft::Microsoft;
use providers::{CalendarSource, OAuthApp};

use crate::config::Settings;

pub use tokens::TokenError;

const GOOGLE_SCOPES: &[&str] = &[
    "https://www.googleapis.com/auth/calendar.readonly",
    "openid",
    "email",
];
const MICROSOFT_SCOPES: &[&str] = &["offline_access", "Calendars.Read", "User.Read"];
/// Bookings to sync, the profile for the identity, schedules for the export.
const CALCOM_SCOPES: &[&str] = &[
    "BOOKING_READ",
    "PROFILE_READ",
    "SCHEDULE_READ",
    "SCHEDULE_WRITE",
];

/// The OAuth client for `provider`, or None when it is not configured (or has no OAuth).
pub fn oauth_app(settings: &Settings, provider: Provider) -> Option<OAuthApp> {
    let p = &settings.providers;
    let (client, scopes, extra, revoke) = match provider {
        Provider::Google => (
            p.google.as_ref()?,
            GOOGLE_SCOPES,
            vec![
                ("access_type".to_owned(), "offline".to_owned()),
                ("prompt".to_owned(), "consent".to_owned()),
            ],
            Some(p.google_revoke_url.clone()),
        ),
        // Microsoft has no endpoint to revoke one app's grant; disconnecting forgets the tokens.
        Provider::Microsoft => (p.microsoft.as_ref()?, MICROSOFT_SCOPES, vec![], None),
        Provider::CalDotCom => (p.calcom.as_ref()?, CALCOM_SCOPES, vec![], None),
        Provider::Ics | Provider::CalDav | Provider::Local => return None,
    };
    let redirect = settings.public_url(&format!("/api/auth/callback/{provider}"));
    Some(OAuthApp {
        client_id: client.client_id.clone(),
        client_secret: client.client_secret.clone(),
        auth_url: client.auth_url.clone(),
        token_url: client.token_url.clone(),
        revoke_url: revoke,
        redirect_url: redirect.parse().expect("PUBLIC_BASE_URL is a valid URL"),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        extra_params: extra,
    })
}

/// One API client per provider, pointed at its configured base URL and sharing the app's HTTP
/// connection pool.
pub struct Providers {
    pub google: Google,
    pub microsoft: Microsoft,
    pub calcom: CalDotCom,
    pub ics: IcsFeed,
    pub caldav: CalDav,
}

impl Providers {
    pub fn new(settings: &Settings, http: &reqwest::Client) -> Self {
        let p = &settings.providers;
        Providers {
            google: Google::new(http.clone(), p.google_api_base_url.clone()),
            microsoft: Microsoft::new(http.clone(), p.microsoft_graph_base_url.clone()),
            calcom: CalDotCom::new(http.clone(), p.calcom_api_base_url.clone()),
            // Feed URLs are users' input: their own client, which keeps off internal addresses.
            ics: IcsFeed::new(
                providers::outbound::client(settings.access.feeds_allow_private),
                settings.access.feeds_allow_private,
            ),
            // So are CalDAV servers; this client follows redirects itself (a PROPFIND stays one).
            caldav: CalDav::new(
                providers::outbound::client_without_redirects(settings.access.feeds_allow_private),
                settings.access.feeds_allow_private,
            ),
        }
    }

    /// The client that syncs `provider`'s calendars (none for the local calendar).
    pub fn source(&self, provider: Provider) -> Option<&dyn CalendarSource> {
        Some(match provider {
            Provider::Google => &self.google,
            Provider::Microsoft => &self.microsoft,
            Provider::CalDotCom => &self.calcom,
            Provider::Ics => &self.ics,
            Provider::CalDav => &self.caldav,
            Provider::Local => return None,
        })
    }
}
