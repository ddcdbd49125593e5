//! Requests to addresses a user typed in (ICS feeds, later CalDAV servers) must not reach into
//! the network freeslot runs in: a feed URL of `http://169.254.169.254/` or `http://localhost:6379/`
//! would otherwise make the server fetch internal services for anyone with an account.
//!
//! The check is on the address actually connected to, not on the URL's text: the client's
//! resolver drops every non-public address a name resolves to (so a name pointing at 127.0.0.1
//! is refused, and DNS cannot change its answer between check and connection), and IP literals —
//! which never reach the resolver — are checked in the URL, for the first request and for every
//! redirect. Operators whose calendar server lives on their own network turn this off
//! (`FEEDS_ALLOW_PRIVATE=true`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// Redirects followed for a user's URL (feeds move; each hop is checked like the first).
const MAX_REDIRECTS: usize = 5;

/// The error a refused address surfaces as, found again in reqwest's error chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the address is in a private, loopback or otherwise internal network")]
pub struct AddressNotAllowed;

/// Whether `ip` is an address of the public internet: not loopback, private, link-local,
/// multicast, unspecified, broadcast, shared (CGNAT) or "this network".
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => is_public_v4(a),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(a),
        },
    }
}

fn is_public_v4(a: Ipv4Addr) -> bool {
    let [first, second, ..] = a.octets();
    !(a.is_loopback()
        || a.is_private()
        || a.is_link_local()
        || a.is_multicast()
        || a.is_unspecified()
        || a.is_broadcast()
        || first == 0
        || (first == 100 && (64..128).contains(&second)))
}

fn is_public_v6(a: Ipv6Addr) -> bool {
    let first = a.segments()[0];
    !(a.is_loopback()
        || a.is_unspecified()
        || a.is_multicast()
        || a.is_unique_local()
        || a.is_unicast_link_local()
        // deprecated site-local fec0::/10, still routed by some networks
        || (first & 0xffc0) == 0xfec0
        // IPv4-compatible ::a.b.c.d (deprecated) embeds a v4 address
        || a.to_ipv4().is_some_and(|v4| !is_public_v4(v4)))
}

/// Refuses a URL whose host is an IP literal outside the public internet (names are checked
/// by the resolver when they are looked up).
pub fn check_url(url: &Url, allow_private: bool) -> Result<(), AddressNotAllowed> {
    if allow_private {
        return Ok(());
    }
    let literal = match url.host() {
        Some(Host::Ipv4(a)) => Some(IpAddr::V4(a)),
        Some(Host::Ipv6(a)) => Some(IpAddr::V6(a)),
        _ => None,
    };
    match literal {
        Some(ip) if !is_public(ip) => Err(AddressNotAllowed),
        _ => Ok(()),
    }
}

/// Whether `err` (or anything it wraps) is a refused address.
pub fn is_refused(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if e.downcast_ref::<AddressNotAllowed>().is_some() {
            return true;
        }
        cause = e.source();
    }
    false
}

/// Resolves with the system resolver and keeps only public addresses.
struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(AddressNotAllowed) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// [`client`] without following redirects: for callers that follow them themselves (a CalDAV
/// PROPFIND must stay a PROPFIND), checking each address with [`check_url`].
pub fn client_without_redirects(allow_private: bool) -> reqwest::Client {
    builder(allow_private, reqwest::redirect::Policy::none())
        .build()
        .expect("a TLS provider is installed at start-up")
}

fn builder(allow_private: bool, policy: reqwest::redirect::Policy) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .user_agent(crate::http::USER_AGENT)
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        .no_proxy()
        .redirect(policy);
    if !allow_private {
        builder = builder.dns_resolver(Arc::new(PublicOnly));
    }
    builder
}

/// The client for users' URLs: the provider client's timeouts, no proxy (a proxy would resolve
/// names where we cannot check them), and redirects followed only to allowed addresses.
pub fn client(allow_private: bool) -> reqwest::Client {
    let policy = reqwest::redirect::Policy::custom(move |attempt| {
        if attempt.previous().len() >= MAX_REDIRECTS {
            attempt.error("too many redirects")
        } else if !matches!(attempt.url().scheme(), "http" | "https") {
            attempt.error("a redirect to something other than http(s)")
        } else if let Err(refused) = check_url(attempt.url(), allow_private) {
            attempt.error(refused)
        } else {
            attempt.follow()
        }
    });
    builder(allow_private, policy)
        .build()
        .expect("a TLS provider is installed at start-up")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_not_public() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
        ] {
            assert!(!is_public(internal.parse().unwrap()), "{internal}");
        }
        for public in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:1.1.1.1",
        ] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn literal_hosts_are_checked_names_are_left_to_the_resolver() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(check_url(&url("http://127.0.0.1:6379/"), false).is_err());
        assert!(check_url(&url("http://[::1]/x.ics"), false).is_err());
        assert!(check_url(&url("http://2130706433/"), false).is_err()); // 127.0.0.1 as one number
        assert!(check_url(&url("http://127.0.0.1/"), true).is_ok());
        assert!(check_url(&url("https://calendar.example.com/x.ics"), false).is_ok());
        assert!(check_url(&url("http://8.8.8.8/"), false).is_ok());
    }

    #[tokio::test]
    async fn names_of_internal_addresses_are_refused_at_resolution() {
        let refused = PublicOnly
            .resolve("localhost".parse::<Name>().unwrap())
            .await
            .err()
            .expect("localhost is loopback");
        assert!(is_refused(&*refused));
    }

    #[tokio::test]
    async fn a_request_to_an_internal_name_fails_as_refused() {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let err = client(false)
            .get("http://localhost:9/feed.ics")
            .send()
            .await
            .unwrap_err();
        assert!(is_refused(&err), "{err:?}");
    }
}
