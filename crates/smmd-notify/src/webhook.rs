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

/// Sends one webhook delivery at `now_s` (Unix seconds).
pub async fn send(http: &reqwest::Client, d: &Delivery, now_s: i64) -> Result<(), AttemptError> {
    let Some(secret) = d.secret.as_deref().filter(|s| !s.is_empty()) else {
        return Err(("the webhook secret was removed".into(), true));
    };
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

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "could not connect".into()
    } else {
        e.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
