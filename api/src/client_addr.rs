//! The client's address, for the per-address limits: the TCP peer, or — when the peer is a
//! trusted proxy (`TRUSTED_PROXIES`) — the right-most `X-Forwarded-For` address that is not a
//! trusted proxy. Everything left of that was written by the client and proves nothing.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use actix_web::HttpRequest;
use ipnet::IpNet;

pub fn of(req: &HttpRequest, trusted: &[IpNet]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok());
    resolve(peer, forwarded, trusted)
}

/// The key the per-address limits count this request by.
pub fn limit_key_of(req: &HttpRequest, ctx: &service::AppContext) -> IpAddr {
    limit_key(of(req, &ctx.settings.access.trusted_proxies))
}

/// The key a limit counts by: the address, or for IPv6 its /64 (one subscriber's network, in
/// which a client can pick any address it likes).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

fn resolve<'a>(
    peer: IpAddr,
    forwarded: impl Iterator<Item = &'a str>,
    trusted: &[IpNet],
) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    // Several headers count as one list, in order.
    let hops: Vec<&str> = forwarded
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut client = peer;
    for hop in hops.iter().rev() {
        let Ok(ip) = hop.parse::<IpAddr>().map(|ip| ip.to_canonical()) else {
            // Not an address a proxy of ours wrote: stop at the last one that was.
            break;
        };
        client = ip;
        if !is_trusted(&ip) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter().map(|n| n.parse().unwrap()).collect()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let t = nets(&["10.0.0.0/8"]);
        assert_eq!(
            resolve(ip("203.0.113.9"), ["1.2.3.4"].into_iter(), &t),
            ip("203.0.113.9")
        );
        assert_eq!(
            resolve(ip("203.0.113.9"), std::iter::empty(), &[]),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let t = nets(&["10.0.0.0/8", "192.168.0.1/32"]);
        // client forged "6.6.6.6"; our edge proxy appended the real address, then an inner one.
        let xff = ["6.6.6.6, 198.51.100.7", "10.1.1.1"];
        assert_eq!(
            resolve(ip("192.168.0.1"), xff.into_iter(), &t),
            ip("198.51.100.7")
        );
        // Only proxies in the list: the left-most of them.
        assert_eq!(
            resolve(ip("10.0.0.2"), ["10.0.0.3"].into_iter(), &t),
            ip("10.0.0.3")
        );
        // No header: the proxy itself.
        assert_eq!(
            resolve(ip("10.0.0.2"), std::iter::empty(), &t),
            ip("10.0.0.2")
        );
        // Garbage is never the answer.
        assert_eq!(
            resolve(ip("10.0.0.2"), ["nonsense, 10.0.0.9"].into_iter(), &t),
            ip("10.0.0.9")
        );
        // A v4 peer seen through a v6 socket is the same peer.
        assert_eq!(
            resolve(ip("::ffff:10.0.0.2"), ["198.51.100.7"].into_iter(), &t),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn ipv6_clients_are_limited_per_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), ip("2001:db8:1:2::"));
        assert_eq!(limit_key(ip("198.51.100.7")), ip("198.51.100.7"));
    }
}
