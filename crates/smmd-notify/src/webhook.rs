//! Signed webhooks. Each delivery is one `POST` of a JSON body to the user's URL with:
//!
//! - `X-Smmd-Timestamp`: Unix seconds when it was sent;
//! - `X-Smmd-Signature`: `sha256=` + hex HMAC-SHA256, keyed by the user's webhook secret, of
//!   `"{timestamp}.{body}"` — the body and the time together, so a receiver that checks the
//!   signature and refuses old timestamps (say, over 5 minutes) cannot be replayed;
//! - `X-Smmd-Delivery`: the delivery id (the same on every retry: receivers can deduplicate).
//!
//! A 2xx answer is delivered. 410 Gone stops at once; any other answer, a timeout or a
//! connection error is retried. Redirects are not followed.
//!
//! A customer's URL must not reach the panel's own network. Saving it refuses `localhost` and
//! special-purpose IP literals ([`crate::address`]: the IANA registries, IPv4 embedded in IPv6
//! forms, the host's own addresses); sending refuses the same literals again and resolves host
//! names through [`PublicOnly`], which keeps only allowed addresses, so a name pointed (or
//! re-pointed after saving) at 127.0.0.1, 10.0.0.0/8 or 169.254.169.254 is refused at connection
//! time. `allow_private_webhooks` turns all of it off.

use std::net::SocketAddr;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use smmd_store::Delivery;

use crate::AttemptError;

/// Header names, shared with receivers' documentation and tests.
pub const TIMESTAMP_HEADER: &str = "x-smmd-timestamp";
pub const SIGNATURE_HEADER: &str = "x-smmd-signature";
pub const DELIVERY_HEADER: &str = "x-smmd-delivery";

/// The signature header value of `body` sent at `timestamp` (Unix seconds).
pub fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC accepts keys of any length: new_from_slice cannot fail for it.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks a signature the way a receiver should: constant-time, and only for timestamps within
/// `tolerance_s` of `now_s`.
pub fn verify(
    secret: &str,
    timestamp: i64,
    body: &str,
    signature: &str,
    now_s: i64,
    tolerance_s: i64,
) -> bool {
    if (now_s - timestamp).abs() > tolerance_s {
        return false;
    }
    let Some(hex_sig) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(bytes) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    mac.verify_slice(&bytes).is_ok()
}

pub use crate::address::{is_public, is_webhook_target};

/// The webhook client's DNS resolver: the system's answers for a host name, keeping only
/// [`is_webhook_target`] addresses; a name with none left fails to connect with [`PrivateOnly`].
#[derive(Clone, Copy, Debug, Default)]
pub struct PublicOnly;

/// A webhook host name resolved only to addresses a webhook may not reach.
#[derive(Debug, thiserror::Error)]
#[error("{0} resolves only to private or local addresses")]
pub struct PrivateOnly(pub String);

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((host.as_str(), 0)).await?;
            let public: Vec<SocketAddr> = found.filter(|a| is_webhook_target(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(PrivateOnly(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Whether `target`'s host is an IP literal a webhook may not reach (the resolver only sees
/// host names, so literals are checked here, at every send).
pub fn refused_literal(target: &str) -> bool {
    match url::Url::parse(target)
        .ok()
        .and_then(|u| u.host().map(|h| h.to_owned()))
    {
        Some(url::Host::Ipv4(ip)) => !is_webhook_target(ip.into()),
        Some(url::Host::Ipv6(ip)) => !is_webhook_target(ip.into()),
        _ => false,
    }
}

/// Sends one webhook delivery at `now_s` (Unix seconds). Unless `allow_private`, a target
/// whose host is a special-purpose IP literal fails for good without a connection.
pub async fn send(
    http: &reqwest::Client,
    d: &Delivery,
    now_s: i64,
    allow_private: bool,
) -> Result<(), AttemptError> {
    let Some(secret) = d.secret.as_deref().filter(|s| !s.is_empty()) else {
        return Err(("the webhook secret was removed".into(), true));
    };
    if !allow_private && refused_literal(&d.target) {
        return Err((
            "the webhook URL points to a private, local or special-purpose address".into(),
            true,
        ));
    }
    let answer = http
        .post(&d.target)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(TIMESTAMP_HEADER, now_s.to_string())
        .header(SIGNATURE_HEADER, sign(secret, now_s, &d.payload))
        .header(DELIVERY_HEADER, d.id.to_string())
        .body(d.payload.clone())
        .send()
        .await
        .map_err(|e| (describe(&e), false))?;
    let status = answer.status();
    if status.is_success() {
        Ok(())
    } else {
        Err((
            format!("HTTP {}", status.as_u16()),
            status == reqwest::StatusCode::GONE,
        ))
    }
}

/// A request error as text for the outbox and the pages, without the address (a Telegram
/// address carries the bot token; a Discord one its webhook token).
pub(crate) fn describe(e: &reqwest::Error) -> String {
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if let Some(refused) = inner.downcast_ref::<PrivateOnly>() {
            return format!("refused: {refused}");
        }
        source = inner.source();
    }
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        let text = e.to_string();
        match e.url() {
            Some(url) => text.replace(url.as_str(), "the address"),
            None => text,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_special_purpose_literal_is_refused_at_send_without_a_connection() {
        // A listener on loopback that counts connections: a NAT64 form of 127.0.0.1 must not
        // reach it, nor any other special-purpose literal.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(2))
            .build()
            .expect("client");
        for host in [
            "[64:ff9b::7f00:1]",
            "[::ffff:127.0.0.1]",
            "127.0.0.1",
            "[2002:7f00:1::]",
        ] {
            let d = Delivery {
                id: 1,
                notification_id: 1,
                user_id: smmd_domain::UserId(1),
                channel: smmd_store::Channel::Webhook,
                target: format!("http://{host}:{port}/hook"),
                subject: String::new(),
                payload: "{}".into(),
                attempts: 1,
                secret: Some("whsec_x".into()),
            };
            let (why, permanent) = send(&http, &d, 1, false).await.expect_err("refused");
            assert!(
                permanent && why.contains("special-purpose"),
                "{host}: {why}"
            );
        }
        listener.set_nonblocking(true).expect("nonblocking");
        assert!(listener.accept().is_err(), "no connection was made");
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_with_only_local_addresses() {
        use reqwest::dns::Resolve;
        let name: reqwest::dns::Name = "localhost".parse().expect("name");
        let err = match PublicOnly.resolve(name).await {
            Ok(addrs) => panic!("localhost resolved to {:?}", addrs.collect::<Vec<_>>()),
            Err(e) => e,
        };
        assert_eq!(
            err.to_string(),
            "localhost resolves only to private or local addresses"
        );
    }

    #[test]
    fn signatures_match_a_reference_hmac_and_verify_only_when_fresh() {
        // python3: hmac.new(b"whsec_test", b'1767225600.{"id":"evt_1"}', sha256).hexdigest()
        let sig = sign("whsec_test", 1_767_225_600, r#"{"id":"evt_1"}"#);
        assert_eq!(
            sig,
            "sha256=45b40331de0325606dc5400202ade162460fbe48daf9401adfdcd0d7b4f35470"
        );
        let body = r#"{"id":"evt_1"}"#;
        assert!(verify(
            "whsec_test",
            1_767_225_600,
            body,
            &sig,
            1_767_225_650,
            300
        ));
        assert!(!verify(
            "whsec_test",
            1_767_225_600,
            body,
            &sig,
            1_767_226_000,
            300
        ));
        assert!(!verify(
            "other",
            1_767_225_600,
            body,
            &sig,
            1_767_225_600,
            300
        ));
        assert!(!verify(
            "whsec_test",
            1_767_225_601,
            body,
            &sig,
            1_767_225_600,
            300
        ));
        assert!(!verify(
            "whsec_test",
            1_767_225_600,
            "{}",
            &sig,
            1_767_225_600,
            300
        ));
        assert!(!verify(
            "whsec_test",
            1_767_225_600,
            body,
            "sha256=zz",
            1_767_225_600,
            300
        ));
    }
}
