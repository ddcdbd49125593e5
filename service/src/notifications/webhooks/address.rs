//! Where a webhook may be sent (contract: endpoint URLs). Checked when an endpoint is created or
//! changed, and again at every delivery (a name can be pointed somewhere else later): `https`, or
//! `http` with `WEBHOOK_ALLOW_HTTP`; no credentials in the URL; and no address in a loopback,
//! private, link-local or multicast range unless `WEBHOOK_ALLOW_PRIVATE`.
//!
//! At creation a name is resolved and refused when any of its addresses is internal; a name that
//! does not resolve (yet) is accepted, because the delivery's resolver only ever connects to
//! public addresses anyway (`providers::outbound`).

use std::net::IpAddr;
use std::time::Duration;

use url::{Host, Url};

use crate::fields::Invalid;

const MAX_LEN: usize = 2000;
/// How long creation waits for the name to resolve.
const LOOKUP: Duration = Duration::from_secs(3);

#[derive(Clone, Copy, Debug)]
pub struct Policy {
    pub allow_http: bool,
    pub allow_private: bool,
}

const FIELD: &str = "url";

/// The URL's text and scheme: everything that can be checked without the network.
pub fn parse(raw: &str, policy: Policy) -> Result<Url, Invalid> {
    let raw = raw.trim();
    if raw.is_empty() || raw.len() > MAX_LEN {
        return Err(Invalid::new(
            FIELD,
            "invalid_url",
            format!("The URL must be 1 to {MAX_LEN} characters."),
        ));
    }
    let url = Url::parse(raw).map_err(|_| {
        Invalid::new(
            FIELD,
            "invalid_url",
            "This is not a URL such as https://example.com/hooks/freeslot.",
        )
    })?;
    match url.scheme() {
        "https" => {}
        "http" if policy.allow_http => {}
        "http" => {
            return Err(Invalid::new(
                FIELD,
                "insecure_url",
                "Webhook endpoints must use https.",
            ));
        }
        _ => {
            return Err(Invalid::new(
                FIELD,
                "invalid_url",
                "Webhook endpoints must be https URLs.",
            ));
        }
    }
    if url.host().is_none() {
        return Err(Invalid::new(FIELD, "invalid_url", "The URL has no host."));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Invalid::new(
            FIELD,
            "invalid_url",
            "The URL must not carry a user name or password; webhooks are signed instead.",
        ));
    }
    if !policy.allow_private && providers::outbound::check_url(&url, false).is_err() {
        return Err(private());
    }
    Ok(url)
}

fn private() -> Invalid {
    Invalid::new(
        FIELD,
        "private_address",
        "The URL points into a private, loopback or otherwise internal network.",
    )
}

/// `parse`, then the name's addresses.
pub async fn check(raw: &str, policy: Policy) -> Result<Url, Invalid> {
    let url = parse(raw, policy)?;
    if policy.allow_private {
        return Ok(url);
    }
    if let Some(Host::Domain(name)) = url.host() {
        let port = url.port_or_known_default().unwrap_or(443);
        let lookup = tokio::time::timeout(LOOKUP, tokio::net::lookup_host((name, port))).await;
        if let Ok(Ok(addrs)) = lookup {
            let addrs: Vec<IpAddr> = addrs.map(|a| a.ip()).collect();
            if addrs.iter().any(|ip| !providers::outbound::is_public(*ip)) {
                return Err(private());
            }
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Policy = Policy {
        allow_http: false,
        allow_private: false,
    };

    fn code(raw: &str, policy: Policy) -> &'static str {
        parse(raw, policy).map(|_| "ok").unwrap_or_else(|e| e.code)
    }

    #[test]
    fn only_https_unless_http_is_allowed() {
        assert_eq!(code("https://hooks.example.com/x", STRICT), "ok");
        assert_eq!(code("http://hooks.example.com/x", STRICT), "insecure_url");
        let http = Policy {
            allow_http: true,
            ..STRICT
        };
        assert_eq!(code("http://hooks.example.com/x", http), "ok");
        assert_eq!(code("ftp://hooks.example.com/x", http), "invalid_url");
        assert_eq!(code("not a url", STRICT), "invalid_url");
        assert_eq!(
            code("https://u:p@hooks.example.com/", STRICT),
            "invalid_url"
        );
    }

    #[test]
    fn internal_literals_are_refused_in_every_spelling() {
        for raw in [
            "https://127.0.0.1/",
            "https://2130706433/",
            "https://0x7f000001/",
            "https://10.1.2.3/",
            "https://169.254.169.254/latest",
            "https://[::1]/",
            "https://[::ffff:192.168.0.1]/",
            "https://[fe80::1]/",
            "https://224.0.0.1/",
            "https://0.0.0.0/",
        ] {
            assert_eq!(code(raw, STRICT), "private_address", "{raw}");
        }
        let open = Policy {
            allow_private: true,
            ..STRICT
        };
        assert_eq!(code("https://127.0.0.1/", open), "ok");
    }

    #[tokio::test]
    async fn names_of_internal_addresses_are_refused() {
        let refused = check("https://localhost:9/hook", STRICT).await.unwrap_err();
        assert_eq!(refused.code, "private_address");
        let open = Policy {
            allow_private: true,
            ..STRICT
        };
        assert!(check("https://localhost:9/hook", open).await.is_ok());
    }
}
