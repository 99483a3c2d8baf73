//! Authentication at the HTTP edge: the session cookie (`HttpOnly; SameSite=Lax`) and its CSRF
//! token, the per-address log-in limit, and the extractors
//! [`AuthUser`] / [`AdminUser`] that accept either the session cookie or
//! `Authorization: Bearer <api key>` (an admin's key for admin routes).
//!
//! Log-ins are limited per client address and per (address, account) by [`LoginLimiter`], on
//! every interface, through [`check_login`] with the [`ClientAddr`] of the request.
//!
//! Cookie-authenticated requests that change state must carry the session's CSRF token in the
//! `X-CSRF-Token` header (or a `csrf_token` form field, checked by the page handlers); Bearer
//! requests need no CSRF token because browsers never attach them on their own.

use std::net::IpAddr;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, Method};
use smmd_store::{Role, User};

use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "smmd_session";

pub use smmd_app::secrets::{random_hex, token_hash};

/// Log-in attempts one client address may make for one account at once.
pub const LOGIN_BURST: u32 = 10;
/// Seconds per further attempt (per address and account) once the burst is used.
pub const LOGIN_REFILL_S: u64 = 6;
/// Log-in attempts one client address may make at once, whatever the accounts.
pub const ADDRESS_BURST: u32 = 20;
/// Seconds per further attempt from one address once its burst is used.
pub const ADDRESS_REFILL_S: u64 = 3;
/// Keys tracked before idle ones are forgotten (bounds memory under address spraying).
const LOGIN_KEYS: usize = 10_000;

fn keyed<K: std::hash::Hash + Eq + Clone>(
    burst: u32,
    refill_s: u64,
) -> governor::DefaultKeyedRateLimiter<K> {
    let burst = std::num::NonZeroU32::new(burst).unwrap_or(std::num::NonZeroU32::MIN);
    let quota = governor::Quota::with_period(std::time::Duration::from_secs(refill_s))
        .unwrap_or_else(|| governor::Quota::per_minute(burst))
        .allow_burst(burst);
    governor::RateLimiter::keyed(quota)
}

/// Log-in attempts, successful or not, limited per client address and per (address, account):
/// guessing one password is slow, one client cannot spray many accounts, and failures from
/// one address never lock the owner out when logging in from another (issue 15). The argon2
/// work an attacker can make the server do is bounded the same way.
pub struct LoginLimiter {
    per_address: governor::DefaultKeyedRateLimiter<IpAddr>,
    per_account: governor::DefaultKeyedRateLimiter<(IpAddr, String)>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            per_address: keyed(ADDRESS_BURST, ADDRESS_REFILL_S),
            per_account: keyed(LOGIN_BURST, LOGIN_REFILL_S),
        }
    }
}

impl LoginLimiter {
    /// Takes one attempt by `client` for `email`; `Err(seconds)` to wait when none is left.
    pub fn check(&self, client: IpAddr, email: &str) -> Result<(), u64> {
        if self.per_address.len() > LOGIN_KEYS {
            self.per_address.retain_recent();
        }
        if self.per_account.len() > LOGIN_KEYS {
            self.per_account.retain_recent();
        }
        let clock = governor::clock::DefaultClock::default();
        let wait = |not_until: governor::NotUntil<_>| {
            use governor::clock::Clock as _;
            not_until.wait_time_from(clock.now()).as_secs().max(1)
        };
        self.per_account
            .check_key(&(client, email.trim().to_lowercase()))
            .map_err(wait)?;
        self.per_address.check_key(&client).map_err(wait)
    }
}

/// The client's address: the TCP peer ([`crate::serve`] puts it on every request), or with
/// `server.trust_forwarded_for` and a loopback peer (a reverse proxy on this host) the last
/// address of `X-Forwarded-For`. `0.0.0.0` when neither is known (in-process tests).
#[derive(Clone, Copy, Debug)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0.ip());
        let forwarded = || {
            parts
                .headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<IpAddr>().ok())
                .next_back()
        };
        Ok(ClientAddr(match peer {
            Some(p) if p.is_loopback() && st.config.server.trust_forwarded_for => {
                forwarded().unwrap_or(p)
            }
            Some(p) => p,
            None => IpAddr::from([0, 0, 0, 0]),
        }))
    }
}

/// Creates a session row and the `Set-Cookie` header for it; returns (cookie header, CSRF token).
pub async fn open_session(
    st: &AppState,
    user: &User,
) -> Result<(axum::http::HeaderValue, String), AppError> {
    let session = smmd_app::accounts::open_session(
        st.app(),
        user.id,
        st.config.security.session_hours,
        user.two_factor,
    )
    .await?;
    let (token, csrf, max_age) = (session.token, session.csrf, session.max_age_s);
    let secure = if st.config.cookie_secure() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    );
    let value = axum::http::HeaderValue::from_str(&cookie).map_err(AppError::internal)?;
    Ok((value, csrf))
}

/// Whether a browser request comes from a page of this host: its `Origin` names the `Host` it
/// was sent to. A page elsewhere can neither open a socket with the user's cookie (`/ws`) nor
/// sign a visitor into the attacker's account (`/login`, `/signup`: log-in CSRF). Clients that
/// send no `Origin` (not browsers) pass.
pub fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    origin
        .split_once("://")
        .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
}

/// Why a log-in failed.
#[derive(Debug)]
pub enum LoginError {
    /// Unknown e-mail or wrong password (one answer for both).
    Wrong,
    /// Too many attempts from this client (for this account): retry after this many seconds.
    TooMany(u64),
    Store(smmd_store::StoreError),
}

/// Checks an e-mail and password ([`smmd_app::accounts::check_credentials`]) under the log-in
/// limits of `client`; a success notes the address and the browser's `device` cookie.
pub async fn check_login(
    st: &AppState,
    client: IpAddr,
    device: Option<&str>,
    email: &str,
    password: &str,
) -> Result<User, LoginError> {
    st.logins
        .check(client, email)
        .map_err(LoginError::TooMany)?;
    match smmd_app::accounts::check_credentials(st.app(), email, password).await {
        Ok(Some(user)) => {
            // Where log-ins come from feeds the affiliate program's self-referral check; a
            // failure to note it never blocks the log-in.
            if let Err(e) =
                smmd_app::affiliates::record_login(st.app(), user.id, Some(client), device).await
            {
                tracing::warn!(error = %e, "recording the log-in address failed");
            }
            Ok(user)
        }
        Ok(None) => Err(LoginError::Wrong),
        Err(e) => Err(LoginError::Store(e)),
    }
}

/// A logged-in user, from the session cookie or a Bearer API key.
#[derive(Clone, Debug)]
pub struct AuthUser {
    pub user: User,
    /// `Some(csrf)` when authenticated by cookie.
    pub csrf: Option<String>,
    /// The session (cookie only): its token's hash and when it last passed a second factor.
    pub session: Option<(String, Option<i64>)>,
}

/// The header carrying a two-factor code for a step-up over REST.
pub const CODE_HEADER: &str = "x-2fa-code";

impl AuthUser {
    /// The step-up before a money or security action ([`smmd_app::security::step_up`]): the
    /// session's recent code, or a code in `X-2FA-Code` (`code` on pages).
    pub async fn step_up(&self, st: &AppState, code: Option<&str>) -> Result<(), AppError> {
        let session = self
            .session
            .as_ref()
            .map(|(hash, at)| smmd_app::security::SessionFactor {
                token_hash: hash,
                factor_at: *at,
            });
        smmd_app::security::step_up(st.app(), &self.user, session, code)
            .await
            .map_err(AppError::from)
    }
}

/// The `X-2FA-Code` of a request, if any.
pub fn code_header(headers: &HeaderMap) -> Option<&str> {
    headers.get(CODE_HEADER).and_then(|v| v.to_str().ok())
}

/// An authenticated admin (who has two-factor on when the owner requires it of admins).
#[derive(Clone, Debug)]
pub struct AdminUser(pub User);

/// An authenticated admin with the session, for the actions that need a step-up.
#[derive(Clone, Debug)]
pub struct AdminAuth(pub AuthUser);

fn bearer(parts: &Parts) -> Option<&str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The session token from the `Cookie` header, if any.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// The value of the request's cookie `name`, if it sent one.
pub fn cookie(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// The device cookie: an opaque random token (32 hex digits) a browser keeps for 400 days,
/// noted with each log-in and sign-up for the affiliate program's same-device check
/// (`docs/affiliates.md`, self-referral). It names no account and carries nothing else.
pub const DEVICE_COOKIE: &str = "smmd_dev";

/// The browser's device cookie, if it sent a well-formed one.
pub fn known_device(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie(headers, DEVICE_COOKIE)
        .filter(|v| v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The browser's device cookie and, when it sent none (or a malformed one), the `Set-Cookie`
/// header that gives it a new one.
pub fn device(
    st: &AppState,
    headers: &axum::http::HeaderMap,
) -> (String, Option<axum::http::HeaderValue>) {
    if let Some(v) = known_device(headers) {
        return (v, None);
    }
    let token = smmd_app::secrets::random_hex(16);
    let secure = if st.config.cookie_secure() {
        "; Secure"
    } else {
        ""
    };
    let set = axum::http::HeaderValue::from_str(&format!(
        "{DEVICE_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000{secure}"
    ))
    .ok();
    (token, set)
}

/// The `Set-Cookie` value that removes the session cookie.
pub const CLEAR_SESSION_COOKIE: &str = "smmd_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0";

/// The header that removes the session cookie, `Secure` like the cookie it removes.
pub fn clear_session_cookie(st: &AppState) -> axum::http::HeaderValue {
    if st.config.cookie_secure() {
        axum::http::HeaderValue::from_static(
            "smmd_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure",
        )
    } else {
        axum::http::HeaderValue::from_static(CLEAR_SESSION_COOKIE)
    }
}

/// Logs out the session of the request's cookie, if any: deletes it from the store and closes
/// its live sockets on this instance. Errors: the store's.
pub async fn end_session(
    st: &AppState,
    headers: &axum::http::HeaderMap,
) -> Result<(), smmd_store::StoreError> {
    if let Some(token) = session_cookie(headers) {
        let hash = smmd_app::accounts::end_session(st.app(), &token).await?;
        st.live.end_session(&hash);
    }
    Ok(())
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
            return Ok(AuthUser {
                user,
                csrf: None,
                session: None,
            });
        }
        let token = session_cookie(&parts.headers).ok_or_else(AppError::unauthenticated)?;
        let hash = token_hash(&token);
        let session = state
            .store
            .session(&hash, state.clock.now_ms())
            .await?
            .filter(|s| !s.pending_factor)
            .ok_or_else(AppError::unauthenticated)?;
        let (user, csrf) = (session.user, session.csrf);
        let safe = matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok());
            if sent != Some(csrf.as_str()) {
                return Err(AppError::new(
                    ErrorCode::CsrfFailed,
                    "Missing or wrong CSRF token",
                ));
            }
        }
        Ok(AuthUser {
            user,
            csrf: Some(csrf),
            session: Some((hash, session.factor_at)),
        })
    }
}

impl FromRequestParts<AppState> for AdminUser {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let AdminAuth(auth) = AdminAuth::from_request_parts(parts, state).await?;
        Ok(AdminUser(auth.user))
    }
}

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = AuthUser::from_request_parts(parts, state).await?;
        if auth.user.role != Role::Admin {
            return Err(AppError::new(
                ErrorCode::AdminOnly,
                "This action needs an admin account",
            ));
        }
        smmd_app::security::admin_gate(state.policy().await, &auth.user)
            .map_err(|r| AppError::new(r.code, r.message))?;
        Ok(AdminAuth(auth))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ins_are_limited_per_address_and_account_whatever_its_case() {
        let l = LoginLimiter::default();
        let attacker = IpAddr::from([203, 0, 113, 7]);
        let owner = IpAddr::from([198, 51, 100, 9]);
        for _ in 0..LOGIN_BURST {
            assert_eq!(l.check(attacker, "Victim@X.io"), Ok(()));
        }
        let wait = l
            .check(attacker, " victim@x.io ")
            .expect_err("the burst is used");
        assert!((1..=LOGIN_REFILL_S).contains(&wait), "{wait}");
        assert_eq!(
            l.check(owner, "victim@x.io"),
            Ok(()),
            "the owner logging in from elsewhere is not locked out"
        );
    }

    #[test]
    fn one_address_cannot_spray_many_accounts() {
        let l = LoginLimiter::default();
        let sprayer = IpAddr::from([203, 0, 113, 8]);
        let mut allowed = 0;
        for i in 0..25 {
            if l.check(sprayer, &format!("user{i}@x.io")).is_ok() {
                allowed += 1;
            }
        }
        assert_eq!(
            allowed, ADDRESS_BURST,
            "then one every {ADDRESS_REFILL_S} s"
        );
        assert_eq!(
            l.check(IpAddr::from([198, 51, 100, 1]), "user0@x.io"),
            Ok(()),
            "another address is not slowed"
        );
    }
}
