//! Secrets: argon2id password hashes, random tokens (API keys, session tokens, webhook secrets,
//! request ids) from the OS CSPRNG, and the SHA-256 form under which tokens are stored.
//! Nothing here touches the store.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `n` random bytes from the OS CSPRNG as lower-case hex (`2n` characters).
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The argon2id PHC string of a password (default parameters: 19 MiB, 2 passes).
///
/// Errors: only if the hasher fails (not for any password input).
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing password: {e}"))
}

/// Whether `password` matches the PHC string; a malformed hash never matches.
pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A new API key: 32 random bytes as 64 hex characters.
pub fn new_api_key() -> String {
    random_hex(32)
}

/// A new webhook signing secret: `whsec_` and 32 random bytes in hex.
pub fn new_webhook_secret() -> String {
    format!("whsec_{}", random_hex(32))
}

/// The stored form of an API key or session token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsE", &h));
        assert!(!verify_password("correct horse", "not a phc string"));
    }

    #[test]
    fn tokens_are_random_hex_and_hash_to_sha256() {
        let (a, b) = (new_api_key(), new_api_key());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert!(new_webhook_secret().starts_with("whsec_"));
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
