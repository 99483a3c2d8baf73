//! Account security (issue 18): password reset and e-mail confirmation by single-use links
//! sent by e-mail, two-factor authentication (TOTP, RFC 6238, through `totp-rs`) with backup
//! codes, the step-up asked again before money and security actions, and the owner's policy
//! (two-factor required for admins, e-mail confirmation at sign-up).
//!
//! Rules:
//! - A reset link works once, for [`RESET_TTL_MS`]; asking never says whether the e-mail has an
//!   account (one answer, and nothing is written for an unknown e-mail); at most
//!   [`TOKENS_PER_HOUR`] e-mails per account and purpose an hour; a reset ends every session.
//! - A code is accepted once (RFC 6238 §5.2: the step must be above the last accepted one), at
//!   most one step early or late (30 s); a backup code works once.
//! - A step-up passes when the session passed a code in the last [`STEP_UP_WINDOW_MS`], or with
//!   a good code (which restarts the window of the session). Accounts without two-factor pass.
//!
//! The e-mails go through the outbox (`deliveries`), written with the token in one transaction
//! and sent by `notifications.deliver` with its retries: the request never waits for SMTP.

use smmd_domain::UserId;
use smmd_store::{NewAccountToken, StoreError, TokenIssue, TokenPurpose, User};
use totp_rs::{Algorithm, Builder, Secret, Totp};

use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::{accounts, secrets, Actor, App};

/// How long a password reset link works: one hour (ms).
pub const RESET_TTL_MS: i64 = 3_600_000;
/// How long an e-mail confirmation link works: two days (ms).
pub const CONFIRM_TTL_MS: i64 = 48 * 3_600_000;
/// Account e-mails (of one purpose) one account may be sent in an hour.
pub const TOKENS_PER_HOUR: i64 = 3;
/// How long a passed code covers the session's money and security actions by default: ten
/// minutes (ms; `security.step_up_seconds`).
pub const STEP_UP_WINDOW_MS: i64 = 10 * 60_000;
/// Backup codes made at once.
pub const BACKUP_CODES: usize = 10;
/// TOTP step (s), digits and the steps of skew accepted: the RFC 6238 defaults every
/// authenticator app uses.
pub const STEP_S: u64 = 30;
const DIGITS: u8 = 6;

/// Names of the policy values (`site_settings`).
const ADMIN_TWO_FACTOR: &str = "security.admin_two_factor";
const CONFIRM_EMAIL: &str = "security.confirm_email";

/// The owner's account-security policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Policy {
    /// Admins must have two-factor on: without it, admin pages and routes send them to set it
    /// up first.
    pub admin_two_factor: bool,
    /// A sign-up must confirm its e-mail (a link sent to it) before it can log in.
    pub confirm_email: bool,
}

/// The policy as stored (both off by default).
pub async fn policy(app: App<'_>) -> Result<Policy, StoreError> {
    let values = app.store.site_settings().await?;
    let on = |name: &str| values.iter().any(|(k, v)| k == name && v == "on");
    Ok(Policy {
        admin_two_factor: on(ADMIN_TWO_FACTOR),
        confirm_email: on(CONFIRM_EMAIL),
    })
}

/// Sets the policy, with the audit line `security.policy`. Turning on the admin requirement
/// needs the acting admin to have two-factor on (so the owner cannot lock themselves out).
///
/// Errors: `two_factor_required` (the admin requirement, by an admin without two-factor).
pub async fn set_policy(
    app: App<'_>,
    actor: &Actor,
    actor_user: Option<&User>,
    p: Policy,
) -> Result<Policy, UseCaseError> {
    if p.admin_two_factor && actor_user.is_some_and(|u| !u.two_factor) {
        return Err(UseCaseError::refused(
            ErrorCode::TwoFactorRequired,
            "Turn on two-factor for your own account before requiring it of admins",
        ));
    }
    let flag = |b: bool| Some(if b { "on" } else { "off" }.to_string());
    let values = vec![
        (ADMIN_TWO_FACTOR.to_string(), flag(p.admin_two_factor)),
        (CONFIRM_EMAIL.to_string(), flag(p.confirm_email)),
    ];
    let now = app.now();
    let audit = actor.audit(
        "security.policy",
        "panel".into(),
        format!(
            "admin two-factor {}, e-mail confirmation {}",
            if p.admin_two_factor {
                "required"
            } else {
                "optional"
            },
            if p.confirm_email { "on" } else { "off" },
        ),
        now,
    );
    app.store
        .set_site_settings(&values, now, Some(audit))
        .await?;
    Ok(policy(app).await?)
}

/// Whether `user` may use admin pages and routes under `policy`: `two_factor_required` for an
/// admin without two-factor when the owner requires it.
pub fn admin_gate(policy: Policy, user: &User) -> Result<(), Refusal> {
    if policy.admin_two_factor && !user.two_factor {
        return Err(Refusal::new(
            ErrorCode::TwoFactorRequired,
            "This panel requires two-factor authentication for admins: turn it on in Settings → Security first",
        ));
    }
    Ok(())
}

/// What account e-mails need to say and link: the panel's name and public address (no
/// trailing slash), and the language to write in (the requesting page's: the account is not
/// looked up to choose it, so the answer never depends on whether it exists). `None` where
/// the panel has no SMTP server: e-mail is off.
#[derive(Clone, Copy, Debug)]
pub struct Mailer<'a> {
    pub panel: &'a str,
    pub base_url: &'a str,
    pub lang: smmd_i18n::Lang,
}

fn email_off() -> UseCaseError {
    UseCaseError::refused(
        ErrorCode::EmailUnavailable,
        "This panel does not send e-mail: ask its owner to reset your password",
    )
}

/// Sends a password reset link to `email` if an account has it. The answer is the same for an
/// unknown e-mail (nothing is written then) and past the hourly limit.
///
/// Errors: `email_unavailable` (no SMTP), `invalid_email` (not an address at all).
pub async fn request_password_reset(
    app: App<'_>,
    mail: Option<Mailer<'_>>,
    email: &str,
) -> Result<(), UseCaseError> {
    let mail = mail.ok_or_else(email_off)?;
    let email = email.trim();
    if !accounts::valid_email(email) {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidEmail,
            "Enter a valid e-mail address",
        ));
    }
    let token = secrets::random_hex(32);
    let link = format!("{}/reset?token={token}", mail.base_url);
    let l = mail.lang;
    let panel = || smmd_i18n::Arg::from(mail.panel);
    let text = format!(
        "{}\n\n{}\n\n{link}\n\n{}\n{}\n",
        l.ta("mail-reset-asked", &[("panel", panel())]),
        l.t("mail-reset-open"),
        l.t("mail-reset-sessions-end"),
        l.t("mail-reset-not-you"),
    );
    issue(
        app,
        email,
        TokenPurpose::Reset,
        &token,
        RESET_TTL_MS,
        l.ta("mail-reset-subject", &[("panel", panel())]),
        text,
    )
    .await
    .map(|_| ())
}

async fn issue(
    app: App<'_>,
    email: &str,
    purpose: TokenPurpose,
    token: &str,
    ttl_ms: i64,
    subject: String,
    text: String,
) -> Result<TokenIssue, UseCaseError> {
    let now = app.now();
    let issued = app
        .store
        .issue_account_token(NewAccountToken {
            email: email.to_string(),
            purpose,
            token_hash: secrets::token_hash(token),
            now,
            expires_at: now + ttl_ms,
            subject,
            text,
            per_hour: TOKENS_PER_HOUR,
        })
        .await?;
    if let TokenIssue::Throttled(user) = issued {
        tracing::info!(
            user = user.0,
            purpose = purpose.as_str(),
            "account e-mail throttled"
        );
    }
    Ok(issued)
}

fn bad_link() -> UseCaseError {
    UseCaseError::refused(
        ErrorCode::InvalidToken,
        "This link is unknown, was already used or has expired: ask for a new one",
    )
}

/// A token from a link: 64 hex digits (anything else is no token, checked before the store).
fn link_token(token: &str) -> Result<String, UseCaseError> {
    let t = token.trim();
    if t.len() != 64 || !t.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(bad_link());
    }
    Ok(secrets::token_hash(&t.to_ascii_lowercase()))
}

/// Sets a new password with a reset link's token: the token is spent, every session of the
/// account ends and a pending e-mail confirmation is done (the mailbox was proven).
///
/// Errors: `weak_password` (the token stays good), `invalid_token`.
pub async fn reset_password(
    app: App<'_>,
    token: &str,
    password: &str,
) -> Result<UserId, UseCaseError> {
    let hash = link_token(token)?;
    accounts::check_password_strength(password)?;
    let phc = secrets::hash_password(password)?;
    app.store
        .redeem_reset_token(&hash, &phc, app.now())
        .await?
        .ok_or_else(bad_link)
}

/// Sends the e-mail confirmation link of a sign-up (or again, from the log-in page) to `email`
/// if it has an account waiting for one; the answer is the same otherwise.
///
/// Errors: `email_unavailable`.
pub async fn send_confirmation(
    app: App<'_>,
    mail: Option<Mailer<'_>>,
    email: &str,
) -> Result<(), UseCaseError> {
    let mail = mail.ok_or_else(email_off)?;
    let pending = app
        .store
        .user_credentials(email)
        .await?
        .is_some_and(|c| c.user.email_pending);
    if !pending {
        return Ok(());
    }
    let token = secrets::random_hex(32);
    let link = format!("{}/confirm?token={token}", mail.base_url);
    let l = mail.lang;
    let panel = || smmd_i18n::Arg::from(mail.panel);
    let text = format!(
        "{}\n\n{}\n\n{link}\n\n{}\n",
        l.ta("mail-welcome", &[("panel", panel())]),
        l.t("mail-confirm-open"),
        l.t("mail-confirm-not-you"),
    );
    issue(
        app,
        email,
        TokenPurpose::Verify,
        &token,
        CONFIRM_TTL_MS,
        l.ta("mail-confirm-subject", &[("panel", panel())]),
        text,
    )
    .await
    .map(|_| ())
}

/// Marks a new account as waiting for its e-mail confirmation and sends the link (the
/// sign-up under [`Policy::confirm_email`]).
pub async fn require_confirmation(
    app: App<'_>,
    mail: Option<Mailer<'_>>,
    user: &User,
) -> Result<(), UseCaseError> {
    app.store
        .set_email_pending(user.id, Some(app.now()))
        .await?;
    send_confirmation(app, mail, &user.email).await
}

/// Confirms an e-mail with a link's token; the account can log in from now on.
///
/// Errors: `invalid_token`.
pub async fn confirm_email(app: App<'_>, token: &str) -> Result<UserId, UseCaseError> {
    let hash = link_token(token)?;
    app.store
        .redeem_verify_token(&hash, app.now())
        .await?
        .ok_or_else(bad_link)
}

/// A two-factor set-up to show: the secret (base32, 160 bits, for typing in) and the
/// `otpauth://` URL (for the QR code), for `account` at `issuer`.
#[derive(Clone, Debug)]
pub struct Enrolment {
    pub secret: String,
    pub otpauth_url: String,
}

fn totp(secret_b32: &str, issuer: Option<&str>, account: &str) -> Option<Totp> {
    let secret = Secret::try_from_base32(secret_b32.trim().to_ascii_uppercase()).ok()?;
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(DIGITS)
        .with_skew(1)
        .with_step_duration(STEP_S)
        .with_secret(secret)
        .with_issuer(issuer.map(|i| i.replace(':', " ")))
        .with_account_name(account.replace(':', " "))
        .build()
        .ok()
}

/// A new secret (160 random bits) for `account` (the e-mail) at `issuer` (the panel's name).
pub fn new_enrolment(issuer: &str, account: &str) -> Enrolment {
    let mut bytes = [0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
    let secret = Secret::new_stack(bytes).to_base32();
    let otpauth_url = totp(&secret, Some(issuer), account)
        .and_then(|t| t.to_url().ok())
        .unwrap_or_default();
    Enrolment {
        secret,
        otpauth_url,
    }
}

/// The step of `code` under `secret_b32` at `now_ms`, one step of skew either side; `None` for
/// a wrong code or a malformed secret. Spaces in the code are ignored.
pub fn totp_step(secret_b32: &str, code: &str, now_ms: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret_b32, None, "account")?;
    let now_s = u64::try_from(now_ms / 1000).ok()?;
    t.check(&code, now_s).and_then(|s| i64::try_from(s).ok())
}

/// The current code of `secret_b32` at `now_ms` (for tests and the CLI's checks).
pub fn totp_code(secret_b32: &str, now_ms: i64) -> Option<String> {
    let t = totp(secret_b32, None, "account")?;
    Some(t.generate(u64::try_from(now_ms / 1000).ok()?).to_string())
}

/// Ten new backup codes (`xxxxx-xxxxx`, lower-case letters and digits, 50 bits each) and the
/// hashes the store keeps.
fn backup_codes() -> (Vec<String>, Vec<String>) {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let codes: Vec<String> = (0..BACKUP_CODES)
        .map(|_| {
            let mut bytes = [0u8; 10];
            rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
            let chars: String = bytes
                .iter()
                .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
                .collect();
            format!("{}-{}", &chars[..5], &chars[5..])
        })
        .collect();
    let hashes = codes.iter().map(|c| backup_hash(c)).collect();
    (codes, hashes)
}

/// The stored form of a backup code: SHA-256 of its letters and digits, lower-cased.
fn backup_hash(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    secrets::token_hash(&norm)
}

fn wrong_code() -> UseCaseError {
    UseCaseError::refused(
        ErrorCode::InvalidCode,
        "The code is wrong or was already used: enter the current code from your authenticator app, or a backup code",
    )
}

fn wrong_password() -> UseCaseError {
    UseCaseError::refused(ErrorCode::InvalidCredentials, "The password is wrong")
}

async fn password_ok(app: App<'_>, user: &User, password: &str) -> Result<bool, StoreError> {
    Ok(accounts::check_credentials(app, &user.email, password)
        .await?
        .is_some_and(|u| u.id == user.id))
}

/// Turns two-factor on after checking the password and a code of the new `secret` (which
/// proves the app has it); returns the backup codes, shown this once. Audit `user.2fa_on`.
///
/// Errors: `invalid_credentials`, `invalid_code` (wrong code or malformed secret),
/// `conflict` (already on).
pub async fn enable_two_factor(
    app: App<'_>,
    user: &User,
    password: &str,
    secret: &str,
    code: &str,
) -> Result<Vec<String>, UseCaseError> {
    if !password_ok(app, user, password).await? {
        return Err(wrong_password());
    }
    let step = totp_step(secret, code, app.now()).ok_or_else(wrong_code)?;
    let (codes, hashes) = backup_codes();
    let audit = Actor::admin(user).audit(
        "user.2fa_on",
        format!("user:{}", user.id.0),
        "two-factor turned on".into(),
        app.now(),
    );
    let secret = secret.trim().to_ascii_uppercase();
    if !app
        .store
        .enable_two_factor(user.id, &secret, step, &hashes, Some(audit))
        .await?
    {
        return Err(UseCaseError::refused(
            ErrorCode::Conflict,
            "Two-factor is already on",
        ));
    }
    Ok(codes)
}

/// Turns two-factor off after the password and a code (or backup code). Audit `user.2fa_off`.
///
/// Errors: `invalid_credentials`, `invalid_code`.
pub async fn disable_two_factor(
    app: App<'_>,
    user: &User,
    password: &str,
    code: &str,
) -> Result<(), UseCaseError> {
    if !password_ok(app, user, password).await? {
        return Err(wrong_password());
    }
    if !check_code(app, user.id, code).await? {
        return Err(wrong_code());
    }
    let audit = Actor::admin(user).audit(
        "user.2fa_off",
        format!("user:{}", user.id.0),
        "two-factor turned off".into(),
        app.now(),
    );
    app.store.disable_two_factor(user.id, Some(audit)).await?;
    Ok(())
}

/// New backup codes after a code (the old ones stop working); shown this once.
///
/// Errors: `invalid_code`.
pub async fn renew_backup_codes(
    app: App<'_>,
    user: &User,
    code: &str,
) -> Result<Vec<String>, UseCaseError> {
    if !check_code(app, user.id, code).await? {
        return Err(wrong_code());
    }
    let (codes, hashes) = backup_codes();
    let audit = Actor::admin(user).audit(
        "user.2fa_codes",
        format!("user:{}", user.id.0),
        "backup codes renewed".into(),
        app.now(),
    );
    app.store
        .replace_backup_codes(user.id, &hashes, Some(audit))
        .await?;
    Ok(codes)
}

/// Whether `code` is the account's current TOTP code (not used before) or one of its unused
/// backup codes; a good code is spent. `false` for an account without two-factor.
pub async fn check_code(app: App<'_>, user: UserId, code: &str) -> Result<bool, StoreError> {
    let code = code.trim();
    if code.is_empty() || code.len() > 64 {
        return Ok(false);
    }
    let state = app.store.two_factor(user).await?;
    let Some(secret) = state.secret else {
        return Ok(false);
    };
    if code.chars().filter(char::is_ascii_digit).count() == usize::from(DIGITS)
        && code.chars().all(|c| c.is_ascii_digit() || c == ' ')
    {
        return match totp_step(&secret, code, app.now()) {
            Some(step) => app.store.accept_totp_step(user, step).await,
            None => Ok(false),
        };
    }
    app.store
        .use_backup_code(user, &backup_hash(code), app.now())
        .await
}

/// The second step of a log-in: the code of the account of the waiting session
/// (`session_hash`, its token's hash); the session then authenticates.
///
/// Errors: `invalid_code`.
pub async fn complete_login(
    app: App<'_>,
    user: UserId,
    session_hash: &str,
    code: &str,
) -> Result<(), UseCaseError> {
    if !check_code(app, user, code).await? {
        return Err(wrong_code());
    }
    app.store
        .pass_second_factor(session_hash, app.now())
        .await?;
    Ok(())
}

/// Whether a code passed at `at` still covers actions now ([`App::step_up_window_ms`]).
pub fn in_window(app: App<'_>, at: i64) -> bool {
    let now = app.now();
    at <= now && now - at < app.step_up_window_ms
}

/// The session a request came with, for the step-up: its token's hash and when it last
/// passed a code.
#[derive(Clone, Copy, Debug)]
pub struct SessionFactor<'a> {
    pub token_hash: &'a str,
    pub factor_at: Option<i64>,
}

/// The step-up before a money or security action (API key rotation, balance adjustments,
/// payment decisions, provider keys, payout methods): passes for an account without
/// two-factor, for a session that passed a code within [`STEP_UP_WINDOW_MS`], or with a good
/// `code` (which restarts the session's window). The window is the app's
/// ([`App::step_up_window_ms`], [`STEP_UP_WINDOW_MS`] by default).
///
/// Errors: `two_factor_required` (no code given), `invalid_code`.
pub async fn step_up(
    app: App<'_>,
    user: &User,
    session: Option<SessionFactor<'_>>,
    code: Option<&str>,
) -> Result<(), UseCaseError> {
    if !user.two_factor {
        return Ok(());
    }
    let now = app.now();
    if session
        .and_then(|s| s.factor_at)
        .is_some_and(|at| in_window(app, at))
    {
        return Ok(());
    }
    let Some(code) = code.filter(|c| !c.trim().is_empty()) else {
        return Err(UseCaseError::refused(
            ErrorCode::TwoFactorRequired,
            "Confirm with a code from your authenticator app (or a backup code)",
        ));
    };
    if !check_code(app, user.id, code).await? {
        return Err(wrong_code());
    }
    if let Some(s) = session {
        app.store.pass_second_factor(s.token_hash, now).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890" and its 8-digit codes.
    /// The panel uses 6 digits (the last six of the RFC's values, RFC 4226 §5.3 truncation).
    #[test]
    fn codes_match_the_rfc_6238_test_vectors() {
        let secret = Secret::new(b"12345678901234567890".to_vec().into_boxed_slice()).to_base32();
        let vectors: [(u64, &str); 6] = [
            (59, "94287082"),
            (1_111_111_109, "07081804"),
            (1_111_111_111, "14050471"),
            (1_234_567_890, "89005924"),
            (2_000_000_000, "69279037"),
            (20_000_000_000, "65353130"),
        ];
        let eight = Builder::new()
            .with_digits(8)
            .with_secret(Secret::try_from_base32(&secret).expect("base32"))
            .build()
            .expect("rfc seed is 160 bits");
        for (t, code) in vectors {
            assert_eq!(eight.generate(t).to_string(), code, "T = {t}");
            let ms = i64::try_from(t * 1000).expect("fits");
            assert_eq!(
                totp_code(&secret, ms).as_deref(),
                Some(&code[2..]),
                "T = {t}"
            );
            assert_eq!(
                totp_step(&secret, &code[2..], ms),
                i64::try_from(t / 30).ok()
            );
        }
    }

    #[test]
    fn a_code_is_good_one_step_either_side_and_no_further() {
        let e = new_enrolment("Panel", "a@b.io");
        assert_eq!(e.secret.len(), 32, "160 bits in base32");
        assert!(
            e.otpauth_url.starts_with("otpauth://totp/"),
            "{}",
            e.otpauth_url
        );
        assert!(e.otpauth_url.contains("issuer=Panel"), "{}", e.otpauth_url);
        let now = 1_800_000_000_000_i64;
        let code = totp_code(&e.secret, now).expect("code");
        for (offset_ms, good) in [
            (-30_000, true),
            (0, true),
            (30_000, true),
            (-60_000, false),
            (60_000, false),
        ] {
            assert_eq!(
                totp_step(&e.secret, &code, now + offset_ms).is_some(),
                good,
                "{offset_ms} ms"
            );
        }
        assert_eq!(totp_step(&e.secret, "12345", now), None, "five digits");
        assert_eq!(totp_step(&e.secret, "abcdef", now), None);
        assert_eq!(totp_step("not base32!", &code, now), None);
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert!(
            totp_step(&e.secret, &spaced, now).is_some(),
            "spaces ignored"
        );
    }

    #[test]
    fn backup_codes_are_distinct_and_hash_whatever_their_case_and_dash() {
        let (codes, hashes) = backup_codes();
        assert_eq!(codes.len(), BACKUP_CODES);
        let unique: std::collections::HashSet<_> = hashes.iter().collect();
        assert_eq!(unique.len(), BACKUP_CODES);
        let c = &codes[0];
        assert_eq!(c.len(), 11);
        assert_eq!(backup_hash(&c.to_uppercase().replace('-', " ")), hashes[0]);
    }

    #[test]
    fn link_tokens_are_64_hex_digits() {
        assert!(link_token(&"a".repeat(64)).is_ok());
        for bad in ["", "abc", &"g".repeat(64), &"a".repeat(65)] {
            assert_eq!(
                link_token(bad).map_err(|e| crate::Coded::code(&e)),
                Err(ErrorCode::InvalidToken),
                "{bad}"
            );
        }
    }

    #[test]
    fn admins_need_two_factor_only_when_the_owner_requires_it() {
        let mut u = User {
            id: UserId(1),
            email: "a@b.io".into(),
            role: smmd_store::Role::Admin,
            balance: smmd_domain::Money::ZERO,
            created_at: 0,
            two_factor: false,
            email_pending: false,
            language: None,
            display_currency: None,
        };
        let required = Policy {
            admin_two_factor: true,
            confirm_email: false,
        };
        assert!(admin_gate(Policy::default(), &u).is_ok());
        assert_eq!(
            admin_gate(required, &u).map_err(|r| r.code),
            Err(ErrorCode::TwoFactorRequired)
        );
        u.two_factor = true;
        assert!(admin_gate(required, &u).is_ok());
    }
}
