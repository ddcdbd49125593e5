//! Credentials of freeslot's own users: passwords and access tokens.

pub mod jwt;
pub mod password;
