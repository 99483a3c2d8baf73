//! Referral codes and the self-referral checks at sign-up (`docs/affiliates.md`, Referral and
//! attribution): a sign-up by the affiliate themself is rejected, one that looks like the
//! affiliate under another name is accepted but flagged, and a flagged referral's commissions
//! wait for an admin.

use std::net::IpAddr;

/// The characters of a referral code: no 0/O, 1/I/L, so a code read aloud is typed right.
pub const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// Characters in a referral code.
pub const CODE_LEN: usize = 8;

/// A referral code as typed or linked (`/?ref=…`): trimmed and upper-cased, exactly
/// [`CODE_LEN`] characters of [`CODE_ALPHABET`]; `None` otherwise.
pub fn parse_code(text: &str) -> Option<String> {
    let code = text.trim().to_ascii_uppercase();
    (code.len() == CODE_LEN && code.bytes().all(|b| CODE_ALPHABET.contains(&b))).then_some(code)
}

/// A code from `CODE_LEN` random bytes (each taken modulo the alphabet; the bias of 256 mod 31
/// is irrelevant for a code that is only unique, not secret).
pub fn code_from(random: [u8; CODE_LEN]) -> String {
    random
        .iter()
        .map(|b| CODE_ALPHABET[usize::from(*b) % CODE_ALPHABET.len()] as char)
        .collect()
}

/// The mailbox an e-mail address reaches: lower case, `+tag` removed, and for Gmail
/// (`gmail.com`, `googlemail.com`) dots removed and the domain `gmail.com`. Two addresses with
/// the same normal form are one person's.
pub fn normalise_email(email: &str) -> String {
    let email = email.trim().to_lowercase();
    let Some((local, domain)) = email.rsplit_once('@') else {
        return email;
    };
    let local = local.split('+').next().unwrap_or(local);
    match domain {
        "gmail.com" | "googlemail.com" => format!("{}@gmail.com", local.replace('.', "")),
        _ => format!("{local}@{domain}"),
    }
}

/// Whether two addresses share a network: the same IPv4 /24 or IPv6 /64 (an IPv4-mapped IPv6
/// address counts as its IPv4).
pub fn same_network(a: IpAddr, b: IpAddr) -> bool {
    let canon = |ip: IpAddr| match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4),
        v4 => v4,
    };
    match (canon(a), canon(b)) {
        (IpAddr::V4(x), IpAddr::V4(y)) => x.octets()[..3] == y.octets()[..3],
        (IpAddr::V6(x), IpAddr::V6(y)) => x.octets()[..8] == y.octets()[..8],
        _ => false,
    }
}

/// Why a referral is flagged for review.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Flag {
    /// Signed up from the network of a recent log-in of the affiliate.
    SameNetwork,
    /// Signed up with the affiliate's device cookie.
    SameDevice,
    /// Too many sign-ups with one code from one address.
    Burst,
    /// Paid with the affiliate's payer or payment reference.
    SamePayer,
    /// Ordered for a link the affiliate ordered for in the last 90 days.
    LinkOverlap,
}

impl Flag {
    pub const ALL: [Flag; 5] = [
        Flag::SameNetwork,
        Flag::SameDevice,
        Flag::Burst,
        Flag::SamePayer,
        Flag::LinkOverlap,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Flag::SameNetwork => "same_network",
            Flag::SameDevice => "same_device",
            Flag::Burst => "burst",
            Flag::SamePayer => "same_payer",
            Flag::LinkOverlap => "link_overlap",
        }
    }

    pub fn parse(text: &str) -> Option<Flag> {
        Flag::ALL.into_iter().find(|f| f.as_str() == text)
    }
}

/// The affiliate a code names, as the sign-up check needs them.
#[derive(Clone, Debug)]
pub struct Affiliate<'a> {
    pub email: &'a str,
    /// Addresses of the affiliate's recent log-ins.
    pub recent_ips: &'a [IpAddr],
    /// The device cookies of the affiliate's recent log-ins.
    pub recent_devices: &'a [String],
}

/// A sign-up carrying a code.
#[derive(Clone, Debug)]
pub struct SignUp<'a> {
    pub email: &'a str,
    pub ip: Option<IpAddr>,
    pub device: Option<&'a str>,
    /// Sign-ups with this code from this address in the burst window, this one excluded.
    pub recent_from_ip: i64,
}

/// Days of the affiliate's log-ins (addresses and device cookies) the sign-up check looks
/// back over; older ones are pruned.
pub const RECENT_LOGIN_DAYS: i64 = 30;

/// Sign-ups with one code from one address within a day past which they are a burst.
pub const BURST_LIMIT: i64 = 3;

/// Why a referral is refused outright.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("you cannot refer yourself")]
    SelfReferral,
}

/// The sign-up check: `Err` when the new account is the affiliate's own e-mail (normalised);
/// otherwise the flags it raises (none: a clean referral).
pub fn assess(affiliate: &Affiliate<'_>, signup: &SignUp<'_>) -> Result<Vec<Flag>, Refused> {
    if normalise_email(affiliate.email) == normalise_email(signup.email) {
        return Err(Refused::SelfReferral);
    }
    let mut flags = Vec::new();
    if let Some(ip) = signup.ip {
        if affiliate.recent_ips.iter().any(|a| same_network(*a, ip)) {
            flags.push(Flag::SameNetwork);
        }
    }
    if let Some(device) = signup.device.filter(|d| !d.is_empty()) {
        if affiliate.recent_devices.iter().any(|d| d == device) {
            flags.push(Flag::SameDevice);
        }
    }
    if signup.recent_from_ip >= BURST_LIMIT {
        flags.push(Flag::Burst);
    }
    Ok(flags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail_dots_and_tags_are_one_mailbox() {
        assert_eq!(normalise_email(" A.B+x@Gmail.com "), "ab@gmail.com");
        assert_eq!(normalise_email("ab@googlemail.com"), "ab@gmail.com");
        assert_eq!(normalise_email("a.b+shop@example.com"), "a.b@example.com");
        assert_ne!(
            normalise_email("a.b@example.com"),
            normalise_email("ab@example.com")
        );
        assert_eq!(normalise_email("no-at-sign"), "no-at-sign");
    }

    #[test]
    fn networks_are_v4_slash_24_and_v6_slash_64() {
        let ip = |s: &str| s.parse::<IpAddr>().expect("ip");
        assert!(same_network(ip("203.0.113.7"), ip("203.0.113.250")));
        assert!(!same_network(ip("203.0.113.7"), ip("203.0.114.7")));
        assert!(same_network(
            ip("2001:db8:1:2::1"),
            ip("2001:db8:1:2:ffff::9")
        ));
        assert!(!same_network(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1")));
        assert!(same_network(ip("::ffff:203.0.113.7"), ip("203.0.113.8")));
        assert!(!same_network(ip("203.0.113.7"), ip("2001:db8::1")));
    }

    #[test]
    fn codes_use_the_readable_alphabet_and_parse_case_blind() {
        let code = code_from([0, 30, 31, 255, 7, 100, 200, 62]);
        assert_eq!(code.len(), CODE_LEN);
        assert_eq!(parse_code(&code.to_lowercase()), Some(code.clone()));
        for bad in [
            "ABCDEFG",
            "ABCDEFGHJ",
            "ABCDEFG0",
            "ABCDEFGI",
            "ABCD EFG",
            "",
        ] {
            assert_eq!(parse_code(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_affiliate_themself_is_refused_and_lookalikes_are_flagged() {
        let ips = ["198.51.100.20".parse().expect("ip")];
        let devices = ["dev-0".to_string(), "dev-1".to_string()];
        let aff = Affiliate {
            email: "ab@gmail.com",
            recent_ips: &ips,
            recent_devices: &devices,
        };
        let signup = |email, ip: &str, device, recent| SignUp {
            email,
            ip: ip.parse().ok(),
            device,
            recent_from_ip: recent,
        };
        assert_eq!(
            assess(&aff, &signup("A.B+x@gmail.com", "192.0.2.1", None, 0)),
            Err(Refused::SelfReferral)
        );
        assert_eq!(
            assess(&aff, &signup("c@x.io", "192.0.2.1", None, 0)),
            Ok(vec![])
        );
        assert_eq!(
            assess(&aff, &signup("c@x.io", "198.51.100.99", Some("dev-1"), 3)),
            Ok(vec![Flag::SameNetwork, Flag::SameDevice, Flag::Burst])
        );
        assert_eq!(
            assess(&aff, &signup("c@x.io", "", Some("dev-2"), 2)),
            Ok(vec![])
        );
        assert_eq!(
            assess(&aff, &signup("c@x.io", "", Some(""), 0)),
            Ok(vec![]),
            "an empty cookie matches nothing"
        );
    }
}
