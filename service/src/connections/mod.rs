//! Connected accounts: the OAuth flow, API keys and feed subscriptions, the tokens they yield
//! (sealed by the vault), the calendars they bring, and disconnecting them again.

pub mod oauth_flow;
pub mod store;
pub mod tokens;

use entity::Provider;
use providers::calcom::CalDotCom;
use providers::google::Google;
use providers::ics::IcsFeed;
use providers::microsoft::Microsoft;
use providers::{CalendarSource, OAuthApp};

use crate::AppContext;
use crate::config::Settings;

pub use oauth_flow::{CallbackError, CallbackParams};
pub use store::{ConnectError, disconnect};
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
        Provider::Ics | Provider::Local => return None,
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

/// The API client for `provider`, pointed at its configured base URL.
pub fn source(ctx: &AppContext, provider: Provider) -> Option<Box<dyn CalendarSource>> {
    let p = &ctx.settings.providers;
    let http = ctx.http.clone();
    Some(match provider {
        Provider::Google => Box::new(Google::new(http, p.google_api_base_url.clone())),
        Provider::Microsoft => Box::new(Microsoft::new(http, p.microsoft_graph_base_url.clone())),
        Provider::CalDotCom => Box::new(CalDotCom::new(http, p.calcom_api_base_url.clone())),
        Provider::Ics => Box::new(IcsFeed::new(http)),
        Provider::Local => return None,
    })
}
