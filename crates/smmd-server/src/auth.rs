//! Authentication: argon2id password hashes, random API keys stored as SHA-256, database
//! sessions behind an `HttpOnly; SameSite=Lax` cookie with a CSRF token, and the extractors
//! [`AuthUser`] / [`AdminUser`] that accept either the session cookie or
//! `Authorization: Bearer <api key>` (an admin's key for admin routes).
//!
//! Cookie-authenticated requests that change state must carry the session's CSRF token in the
//! `X-CSRF-Token` header (or a `csrf_token` form field, checked by the page handlers); Bearer
//! requests need no CSRF token because browsers never attach them on their own.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, Method};
use rand::RngCore;
use sha2::{Digest, Sha256};
use smmd_store::{Role, User};

use crate::error::AppError;
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "smmd_session";

/// `n` random bytes from the OS CSPRNG as lower-case hex.
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The argon2id PHC string of a password (default parameters: 19 MiB, 2 passes).
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

/// The stored form of an API key or session token: hex SHA-256.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Password rules for sign-up and password changes.
pub fn check_password_strength(password: &str) -> Result<(), AppError> {
    if password.chars().count() < 8 || password.len() > 1024 {
        return Err(AppError::invalid(
            "weak_password",
            "Password must be 8 to 1024 characters long",
        ));
    }
    Ok(())
}

/// A logged-in user, from the session cookie or a Bearer API key.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user: User,
    /// `Some(csrf)` when authenticated by cookie.
    pub csrf: Option<String>,
}

/// An authenticated admin.
#[derive(Clone, Debug)]
pub struct AdminUser(pub User);

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The session token from the `Cookie` header, if any.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string())
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if let Some(key) = bearer(parts) {
            let user = state
                .store
                .user_by_api_key(&token_hash(key))
                .await?
                .ok_or_else(AppError::unauthenticated)?;
            return Ok(AuthUser { user, csrf: None });
        }
        let token = session_cookie(&parts.headers).ok_or_else(AppError::unauthenticated)?;
        let (user, csrf) = state
            .store
            .session(&token_hash(&token), state.clock.now_ms())
            .await?
            .ok_or_else(AppError::unauthenticated)?;
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if sent != Some(csrf.as_str()) {
                return Err(AppError::forbidden(
                    "csrf_failed",
                    "Missing or wrong CSRF token",
                ));
            }
        }
        Ok(AuthUser {
            user,
            csrf: Some(csrf),
        })
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let AuthUser { user, .. } = AuthUser::from_request_parts(parts, state).await?;
        if user.role != Role::Admin {
            return Err(AppError::forbidden(
                "admin_only",
                "This action needs an admin account",
            ));
        }
        Ok(AdminUser(user))
    }
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
        assert!(!verify_password("x", "not a phc string"));
    }

    #[test]
    fn api_keys_are_random_and_hashed() {
        let (a, b) = (new_api_key(), new_api_key());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
