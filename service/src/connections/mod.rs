//! Connected accounts: the OAuth flow, API keys and feed subscriptions, the calendars they bring,
//! and disconnecting them again. The credentials themselves (apps, clients, tokens) live in
//! `credentials`.

pub mod oauth_flow;
pub mod store;

pub use oauth_flow::{CallbackError, CallbackParams};
pub use store::{ConnectError, disconnect};
