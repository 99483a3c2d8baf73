//! Which IP addresses a customer's webhook may reach: globally reachable unicast only, per the
//! IANA IPv4 and IPv6 Special-Purpose Address Registries (issue 15, "webhook targets"), never the
//! host's own interface addresses.
//!
//! The tables below mirror the registries' blocks that are not globally reachable, plus
//! multicast, broadcast and the reserved 240.0.0.0/4. IPv6 forms that carry an IPv4 address are
//! judged by that address: IPv4-mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, 6to4
//! `2002:AABB:CCDD::/48`; the deprecated IPv4-compatible `::a.b.c.d` (`::7f00:1`) and the
//! local-use NAT64 prefix `64:ff9b:1::/48` are refused whole.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

/// IPv4 blocks (address, prefix length) a webhook may not reach.
const V4_BLOCKED: &[([u8; 4], u8)] = &[
    ([0, 0, 0, 0], 8),       // "this network" (RFC 791)
    ([10, 0, 0, 0], 8),      // private use (RFC 1918)
    ([100, 64, 0, 0], 10),   // shared address space (RFC 6598)
    ([127, 0, 0, 0], 8),     // loopback
    ([169, 254, 0, 0], 16),  // link-local, cloud metadata
    ([172, 16, 0, 0], 12),   // private use
    ([192, 0, 0, 0], 24),    // IETF protocol assignments (RFC 6890)
    ([192, 0, 2, 0], 24),    // documentation TEST-NET-1
    ([192, 88, 99, 0], 24),  // 6to4 relay anycast (deprecated)
    ([192, 168, 0, 0], 16),  // private use
    ([198, 18, 0, 0], 15),   // benchmarking (RFC 2544)
    ([198, 51, 100, 0], 24), // documentation TEST-NET-2
    ([203, 0, 113, 0], 24),  // documentation TEST-NET-3
    ([224, 0, 0, 0], 4),     // multicast
    ([240, 0, 0, 0], 4),     // reserved, and the limited broadcast address
];

/// IPv6 blocks (address, prefix length) a webhook may not reach, besides the IPv4-carrying
/// forms decoded in [`embedded_v4`].
const V6_BLOCKED: &[(Ipv6Addr, u8)] = &[
    (Ipv6Addr::new(0, 0, 0, 0, 0, 0, 0, 0), 96), // ::, ::1 and IPv4-compatible (deprecated)
    (Ipv6Addr::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0), 48), // local-use NAT64 (RFC 8215)
    (Ipv6Addr::new(0x100, 0, 0, 0, 0, 0, 0, 0), 64), // discard-only (RFC 6666)
    (Ipv6Addr::new(0x100, 0, 0, 1, 0, 0, 0, 0), 64), // dummy prefix (RFC 9780)
    (Ipv6Addr::new(0x2001, 0, 0, 0, 0, 0, 0, 0), 23), // IETF protocol assignments, Teredo
    (Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0), 32), // documentation
    (Ipv6Addr::new(0x3fff, 0, 0, 0, 0, 0, 0, 0), 20), // documentation (RFC 9637)
    (Ipv6Addr::new(0x5f00, 0, 0, 0, 0, 0, 0, 0), 16), // segment routing SIDs (RFC 9602)
    (Ipv6Addr::new(0xfc00, 0, 0, 0, 0, 0, 0, 0), 7), // unique local
    (Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0), 10), // link-local
    (Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 0), 10), // site-local (deprecated)
    (Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0), 8), // multicast
];

fn v4_in(ip: Ipv4Addr, (net, len): ([u8; 4], u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn v6_in(ip: Ipv6Addr, (net, len): (Ipv6Addr, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// The IPv4 address an IPv6 address stands for: IPv4-mapped, NAT64 well-known prefix, 6to4.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let bits = u128::from(ip);
    if v6_in(ip, (Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0), 96)) {
        return Some(Ipv4Addr::from(bits as u32));
    }
    if v6_in(ip, (Ipv6Addr::new(0x2002, 0, 0, 0, 0, 0, 0, 0), 16)) {
        return Some(Ipv4Addr::from((bits >> 80) as u32));
    }
    None
}

/// Whether `ip` is globally reachable unicast by the IANA special-purpose registries (see the
/// module doc). Pure: the host's own addresses are checked by [`is_webhook_target`].
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => !V4_BLOCKED.iter().any(|b| v4_in(v4, *b)),
        IpAddr::V6(v6) => match embedded_v4(v6) {
            Some(v4) => is_public(IpAddr::V4(v4)),
            None => !V6_BLOCKED.iter().any(|b| v6_in(v6, *b)),
        },
    }
}

/// The addresses of this host's network interfaces, read once.
fn own_addresses() -> &'static HashSet<IpAddr> {
    static OWN: OnceLock<HashSet<IpAddr>> = OnceLock::new();
    OWN.get_or_init(|| {
        if_addrs::get_if_addrs()
            .map(|list| list.into_iter().map(|i| i.ip()).collect())
            .unwrap_or_default()
    })
}

/// Whether a webhook may be sent to `ip`: [`is_public`] and not one of the host's own interface
/// addresses (a public address of this very server).
pub fn is_webhook_target(ip: IpAddr) -> bool {
    let own = |ip: IpAddr| own_addresses().contains(&ip);
    is_public(ip)
        && !own(ip)
        && match ip {
            IpAddr::V6(v6) => embedded_v4(v6).is_none_or(|v4| !own(IpAddr::V4(v4))),
            IpAddr::V4(_) => true,
        }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn special_purpose_ranges_are_refused_in_every_form() {
        for s in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "0.1.2.3",
            "255.255.255.255",
            "240.0.0.1",
            "224.0.0.1",
            "239.255.255.250",
            "192.0.0.8",
            "192.0.2.1",
            "198.51.100.7",
            "203.0.113.9",
            "198.18.0.1",
            "198.19.255.254",
            "::1",
            "::",
            "::7f00:1",
            "::a00:1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::7f00:1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::808:808",
            "2002:7f00:1::",
            "2002:c0a8:101::1",
            "2002:a9fe:a9fe::",
            "fc00::1",
            "fd12::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "2001:db8::1",
            "3fff::1",
            "2001::1",
            "100::1",
        ] {
            assert!(!is_public(ip(s)), "{s} must be refused");
            assert!(!is_webhook_target(ip(s)), "{s} must be refused");
        }
    }

    #[test]
    fn global_unicast_is_allowed_in_every_form() {
        for s in [
            "8.8.8.8",
            "1.1.1.1",
            "100.128.0.1",
            "198.20.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
        ] {
            assert!(is_public(ip(s)), "{s} is global");
        }
    }

    #[test]
    fn the_hosts_own_addresses_are_refused() {
        for own in own_addresses() {
            assert!(!is_webhook_target(*own), "{own}");
        }
    }
}
