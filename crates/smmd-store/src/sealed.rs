//! Secrets at rest (provider API keys, the Telegram bot token, the Discord webhook address):
//! sealed with ChaCha20-Poly1305 under the panel's 32-byte secret key (`security.secret_key`), as
//! `v1:<base64 of nonce ‖ ciphertext>`. A fresh random nonce per seal. The store keeps only the
//! sealed text; whoever holds the panel secret opens it.

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use rand::RngCore;

/// Why a sealed key could not be opened.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the panel secret key must be 64 hex characters")]
    BadSecret,
    #[error("the stored secret is not in the v1 format")]
    Format,
    #[error("the stored secret does not open with this panel's secret key")]
    Open,
}

/// The panel secret as cipher key bytes, from its 64-character hex form.
pub fn secret_from_hex(hex_text: &str) -> Result<[u8; 32], KeyError> {
    let bytes = hex::decode(hex_text.trim()).map_err(|_| KeyError::BadSecret)?;
    bytes.try_into().map_err(|_| KeyError::BadSecret)
}

/// Seals `plaintext` (a provider API key, a bot token).
pub fn seal(secret: &[u8; 32], plaintext: &str) -> String {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(secret));
    let mut nonce = [0u8; 12];
    rand::thread_rng().fill_bytes(&mut nonce);
    // Encryption with a valid key and nonce cannot fail for inputs this size.
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
        .unwrap_or_default();
    let mut out = nonce.to_vec();
    out.extend(ct);
    format!(
        "v1:{}",
        base64::engine::general_purpose::STANDARD.encode(out)
    )
}

/// Opens a value made by [`seal`].
pub fn open(secret: &[u8; 32], sealed: &str) -> Result<String, KeyError> {
    let b64 = sealed.strip_prefix("v1:").ok_or(KeyError::Format)?;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| KeyError::Format)?;
    if raw.len() < 12 + 16 {
        return Err(KeyError::Format);
    }
    let (nonce, ct) = raw.split_at(12);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(secret));
    let plain = cipher
        .decrypt(Nonce::from_slice(nonce), ct)
        .map_err(|_| KeyError::Open)?;
    String::from_utf8(plain).map_err(|_| KeyError::Open)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_never_appear_in_the_sealed_text() {
        let secret = [7u8; 32];
        let a = seal(&secret, "provider-key-123");
        let b = seal(&secret, "provider-key-123");
        assert_ne!(a, b, "fresh nonce each time");
        assert!(!a.contains("provider-key-123"));
        assert_eq!(open(&secret, &a).as_deref(), Ok("provider-key-123"));
        assert_eq!(open(&[8u8; 32], &a), Err(KeyError::Open));
        assert_eq!(open(&secret, "plain"), Err(KeyError::Format));
        assert_eq!(secret_from_hex("zz"), Err(KeyError::BadSecret));
        assert_eq!(secret_from_hex(&"ab".repeat(32)).map(|k| k[0]), Ok(0xab));
    }
}
