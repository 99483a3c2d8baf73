//! Order links (issue 15, "order links"): what a customer may send as the `link` of an order,
//! and the one form it is stored, shown, exported and forwarded in.
//!
//! Accepted: an `http` or `https` URL with a host, no user name or password, at most
//! [`MAX_LINK_LEN`](crate::service::MAX_LINK_LEN) bytes; `instagram.com/x` without a scheme gets
//! `https://`. Refused: every other scheme (`javascript:`, `file:`, `data:`), markup and spaces,
//! control characters, bidirectional and zero-width formatting characters (U+202E and friends,
//! which make a link read differently than it goes), and U+FFFD (what invalid UTF-8 becomes).
//! The host is normalised by the URL standard (lower case, IDNA to punycode). When the service
//! names a platform ([`crate::service::platform_of`]) with known hosts, the host must be one of
//! them or their subdomain: an Instagram service gets an instagram.com link.

use crate::service::MAX_LINK_LEN;

/// Why a link is refused. `Display` starts with "Incorrect link" (the API v2 phrasing clients
/// match on) and says what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error("Incorrect link: it is empty or longer than 2048 characters")]
    Length,
    #[error("Incorrect link: remove spaces, control or invisible formatting characters")]
    Characters,
    #[error("Incorrect link: use a full https:// address")]
    Scheme,
    #[error("Incorrect link: it has no valid host")]
    Host,
    #[error("Incorrect link: put no user name or password in it")]
    Credentials,
    #[error("Incorrect link: this service takes {0} links")]
    Platform(&'static str),
}

/// The hosts (and their subdomains) of each platform that has a fixed set; a platform not listed
/// here (`website`, `other`) takes any host.
const PLATFORM_HOSTS: &[(&str, &[&str])] = &[
    ("instagram", &["instagram.com", "instagr.am"]),
    ("tiktok", &["tiktok.com"]),
    ("youtube", &["youtube.com", "youtu.be"]),
    ("twitter", &["twitter.com", "x.com"]),
    ("facebook", &["facebook.com", "fb.com", "fb.watch"]),
    (
        "telegram",
        &["t.me", "telegram.me", "telegram.org", "telegram.dog"],
    ),
    ("threads", &["threads.net", "threads.com"]),
    ("spotify", &["spotify.com", "spotify.link"]),
    ("twitch", &["twitch.tv"]),
    ("linkedin", &["linkedin.com", "lnkd.in"]),
    ("discord", &["discord.gg", "discord.com"]),
    ("soundcloud", &["soundcloud.com", "on.soundcloud.com"]),
    ("snapchat", &["snapchat.com"]),
    ("pinterest", &["pinterest.com", "pin.it"]),
    ("reddit", &["reddit.com", "redd.it"]),
];

/// The hosts a link for `platform` may have; `None` = any host.
pub fn platform_hosts(platform: &str) -> Option<&'static [&'static str]> {
    PLATFORM_HOSTS
        .iter()
        .find(|(p, _)| *p == platform)
        .map(|(_, hosts)| *hosts)
}

/// Characters never allowed in a link or a username: controls, bidirectional and zero-width
/// formatting, the BOM, and the replacement character.
pub fn is_forbidden_char(c: char) -> bool {
    c.is_control()
        || c.is_whitespace()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFD}'
        )
}

/// Checks and normalises `raw` for a service of `platform` (`"other"`/`"website"` take any
/// host). Returns the link to store.
pub fn normalize_link(raw: &str, platform: &str) -> Result<String, LinkError> {
    let text = raw.trim();
    if text.is_empty() || text.len() > MAX_LINK_LEN {
        return Err(LinkError::Length);
    }
    if text.chars().any(is_forbidden_char) || text.contains(['<', '>', '"', '`']) {
        return Err(LinkError::Characters);
    }
    let with_scheme = match text.find(':') {
        // `host:port/…` has digits after the colon; `javascript:…`, `file:…` a scheme.
        Some(i) if !text[i + 1..].starts_with(|c: char| c.is_ascii_digit()) => text.to_string(),
        _ => format!("https://{text}"),
    };
    let url = url::Url::parse(&with_scheme).map_err(|_| LinkError::Host)?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(LinkError::Scheme);
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(LinkError::Credentials);
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) if d.contains('.') && !d.ends_with('.') => d.to_string(),
        Some(url::Host::Ipv4(_) | url::Host::Ipv6(_)) if platform_hosts(platform).is_none() => {
            String::new()
        }
        _ => return Err(LinkError::Host),
    };
    if let Some(hosts) = platform_hosts(platform) {
        let ok = hosts
            .iter()
            .any(|h| host == *h || host.ends_with(&format!(".{h}")));
        if !ok {
            return Err(LinkError::Platform(hosts[0]));
        }
    }
    let out = url.to_string();
    if out.len() > MAX_LINK_LEN {
        return Err(LinkError::Length);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_links_are_normalised() {
        let n = |s: &str| normalize_link(s, "other");
        assert_eq!(
            n("https://Example.COM/p/1?a=b").as_deref(),
            Ok("https://example.com/p/1?a=b")
        );
        assert_eq!(
            n("  instagram.com/someone ").as_deref(),
            Ok("https://instagram.com/someone")
        );
        assert_eq!(
            n("http://bücher.example/x").as_deref(),
            Ok("http://xn--bcher-kva.example/x")
        );
        assert_eq!(
            n("example.com:8080/a").as_deref(),
            Ok("https://example.com:8080/a")
        );
        assert_eq!(n("https://1.2.3.4/x").as_deref(), Ok("https://1.2.3.4/x"));
    }

    #[test]
    fn hostile_links_are_refused_with_a_reason() {
        let n = |s: &str| normalize_link(s, "other");
        assert_eq!(n("javascript:alert(1)"), Err(LinkError::Scheme));
        assert_eq!(n("JavaScript:alert(1)"), Err(LinkError::Scheme));
        assert_eq!(n("file:///etc/passwd"), Err(LinkError::Scheme));
        assert_eq!(n("data:text/html,hi"), Err(LinkError::Scheme));
        assert_eq!(n("=1+2"), Err(LinkError::Host));
        assert_eq!(n("<script>alert(1)</script>"), Err(LinkError::Characters));
        assert_eq!(
            n("https://a.com/\u{202E}gpj.exe"),
            Err(LinkError::Characters)
        );
        assert_eq!(n("https://a.com/\u{200B}x"), Err(LinkError::Characters));
        assert_eq!(n("https://a.com/\u{7}"), Err(LinkError::Characters));
        assert_eq!(n("https://a.com/\u{FFFD}"), Err(LinkError::Characters));
        assert_eq!(n("https://a.com/a b"), Err(LinkError::Characters));
        assert_eq!(n("https://user:pw@a.com/"), Err(LinkError::Credentials));
        assert_eq!(n("https://localhost/"), Err(LinkError::Host));
        assert_eq!(n("someone"), Err(LinkError::Host));
        assert_eq!(n(""), Err(LinkError::Length));
        assert_eq!(
            n(&format!("https://a.com/{}", "a".repeat(2_100))),
            Err(LinkError::Length)
        );
        assert!(matches!(n("javascript:x"), Err(e) if e.to_string().starts_with("Incorrect link")));
    }

    #[test]
    fn a_platform_service_takes_only_its_hosts() {
        let ig = |s: &str| normalize_link(s, "instagram");
        assert!(ig("https://www.instagram.com/p/abc").is_ok());
        assert!(ig("https://instagram.com/someone").is_ok());
        assert!(ig("instagr.am/p/x").is_ok());
        assert_eq!(
            ig("https://evil.example/instagram.com"),
            Err(LinkError::Platform("instagram.com"))
        );
        assert_eq!(
            ig("https://instagram.com.evil.example/"),
            Err(LinkError::Platform("instagram.com"))
        );
        assert_eq!(
            ig("https://notinstagram.com/"),
            Err(LinkError::Platform("instagram.com"))
        );
        assert_eq!(ig("https://1.2.3.4/"), Err(LinkError::Host));
        assert!(normalize_link("https://youtu.be/x", "youtube").is_ok());
        assert!(normalize_link("https://any.example/", "website").is_ok());
        assert!(crate::service::PLATFORMS
            .iter()
            .all(|p| platform_hosts(p).is_some() || matches!(*p, "website" | "other")));
    }
}
