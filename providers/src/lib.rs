//! Calendar providers: the OAuth flow, and one client per provider behind [`CalendarSource`],
//! each mapping the provider's events into [`RemoteEvent`] with the contract's busy rules.

pub mod calcom;
pub mod caldav;
pub mod error;
pub mod google;
pub mod http;
pub mod ics;
pub mod microsoft;
pub mod model;
pub mod oauth;
pub mod outbound;
pub mod source;
pub mod vtimezone;
pub mod zones;

pub use error::ProviderError;
pub use model::*;
pub use oauth::{AuthorizationStart, OAuthApp, TokenSet};
pub use source::{CalendarSource, list_all};
