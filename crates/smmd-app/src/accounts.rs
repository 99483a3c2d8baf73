//! Accounts: registration, credentials, sessions, API keys, passwords and roles.
//!
//! Passwords are argon2id; API keys and session tokens are random and stored only as SHA-256
//! ([`crate::secrets`]). Rate limiting of log-ins belongs to the interfaces that receive them
//! (it is per network peer); the check of the password itself is here.

use smmd_domain::UserId;
use smmd_store::{NewUser, Role, StoreError, User};

use crate::audit::Actor;
use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::secrets;
use crate::App;

/// Fewest characters in a password.
pub const MIN_PASSWORD: usize = 8;
/// Most bytes in a password (argon2 hashes whatever it gets; this bounds the work).
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A deliberately simple e-mail check: one `@`, something on both sides, a dot in the domain
/// (not at its ends), no spaces or control characters, at most 254 bytes.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Password rules for sign-up and password changes: 8 characters to 1024 bytes.
pub fn check_password_strength(password: &str) -> Result<(), Refusal> {
    if password.chars().count() < MIN_PASSWORD || password.len() > MAX_PASSWORD_BYTES {
        return Err(Refusal::new(
            ErrorCode::WeakPassword,
            "Password must be 8 to 1024 characters long",
        ));
    }
    Ok(())
}

/// Creates an account with an argon2id password and a fresh API key; returns the key, which
/// is shown this once. With an `actor` (an admin creating it), the audit line `user.create` is
/// written with the account.
///
/// Errors: `invalid_email`, `weak_password`, `email_taken` (case-insensitive); nothing written.
pub async fn register(
    app: App<'_>,
    email: &str,
    password: &str,
    role: Role,
    actor: Option<&Actor>,
) -> Result<(User, String), UseCaseError> {
    create(app, email, password, role, actor, None).await
}

/// A visitor's own sign-up ([`register`] as a user) carrying what the referral link left:
/// a valid code of another person makes the referral, written with the account (first touch,
/// `docs/affiliates.md`); a code that cannot be used is ignored, and the third value says why.
///
/// Errors: as [`register`]; nothing written.
pub async fn sign_up(
    app: App<'_>,
    email: &str,
    password: &str,
    ctx: &crate::affiliates::SignUpContext<'_>,
) -> Result<(User, String, Option<crate::affiliates::Ignored>), UseCaseError> {
    let (referral, ignored) =
        match crate::affiliates::referral_for_signup(app, email.trim(), ctx).await? {
            Ok(r) => (r, None),
            Err(why) => (None, Some(why)),
        };
    let (user, key) = create(app, email, password, Role::User, None, referral).await?;
    // The sign-up is the account's first log-in: its address and device feed the
    // self-referral checks of the people it refers later. Noting it never fails the sign-up.
    if let Err(e) = crate::affiliates::record_login(app, user.id, ctx.ip, ctx.device).await {
        tracing::warn!(error = %e, "recording the sign-up's address failed");
    }
    Ok((user, key, ignored))
}

async fn create(
    app: App<'_>,
    email: &str,
    password: &str,
    role: Role,
    actor: Option<&Actor>,
    referral: Option<smmd_store::NewReferral>,
) -> Result<(User, String), UseCaseError> {
    let email = email.trim();
    if !valid_email(email) {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidEmail,
            "Enter a valid e-mail address",
        ));
    }
    check_password_strength(password)?;
    let api_key = secrets::new_api_key();
    let now = app.now();
    let audit = actor.map(|a| {
        // The store names the new account in the subject once it has an id.
        a.audit(
            "user.create",
            String::new(),
            format!("role {}", role.as_str()),
            now,
        )
    });
    let user = app
        .store
        .create_user(NewUser {
            email: email.to_string(),
            password_hash: secrets::hash_password(password)?,
            role,
            api_key_hash: Some(secrets::token_hash(&api_key)),
            now,
            audit,
            referral,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict("users.email") => UseCaseError::refused(
                ErrorCode::EmailTaken,
                "An account with this e-mail already exists",
            ),
            e => e.into(),
        })?;
    Ok((user, api_key))
}

/// The account whose e-mail and password these are, or `None` for a wrong pair (one answer
/// for an unknown e-mail and a wrong password).
pub async fn check_credentials(
    app: App<'_>,
    email: &str,
    password: &str,
) -> Result<Option<User>, StoreError> {
    Ok(app
        .store
        .user_credentials(email)
        .await?
        .filter(|c| secrets::verify_password(password, &c.password_hash))
        .map(|c| c.user))
}

/// A new session: the token for the cookie (stored only as its hash) and its CSRF token.
#[derive(Debug)]
pub struct Session {
    pub token: String,
    pub csrf: String,
    /// Lifetime in seconds (the cookie's `Max-Age`).
    pub max_age_s: i64,
}

/// Opens a session of `hours` for `user`; with `pending_factor` (an account with two-factor)
/// it authenticates nothing until [`crate::security::complete_login`] passes its code.
pub async fn open_session(
    app: App<'_>,
    user: UserId,
    hours: i64,
    pending_factor: bool,
) -> Result<Session, StoreError> {
    let token = secrets::random_hex(32);
    let csrf = secrets::random_hex(16);
    let now = app.now();
    app.store
        .create_session(
            &secrets::token_hash(&token),
            user,
            &csrf,
            now,
            now + hours * 3_600_000,
            pending_factor,
        )
        .await?;
    Ok(Session {
        token,
        csrf,
        max_age_s: hours * 3600,
    })
}

/// Ends the session of `token`; returns the token's hash, under which live connections of the
/// session are known.
pub async fn end_session(app: App<'_>, token: &str) -> Result<String, StoreError> {
    let hash = secrets::token_hash(token);
    app.store.delete_session(&hash).await?;
    Ok(hash)
}

/// The user of an API key, if any (keys are looked up by their hash).
pub async fn user_by_api_key(app: App<'_>, key: &str) -> Result<Option<User>, StoreError> {
    app.store.user_by_api_key(&secrets::token_hash(key)).await
}

/// Replaces the user's API key; the old one stops working. Returns the new key (shown once).
pub async fn rotate_api_key(app: App<'_>, user: UserId) -> Result<String, StoreError> {
    let key = secrets::new_api_key();
    app.store
        .set_api_key(user, &secrets::token_hash(&key))
        .await?;
    Ok(key)
}

/// Sets a password that passed [`check_password_strength`] (the caller has checked the
/// current one, or is an operator) and ends every other session of the user in the same
/// transaction: all but `keep_session` (the raw session token of the browser that changed it).
/// Live sockets of ended sessions close at their next session check, on every instance.
pub async fn set_password(
    app: App<'_>,
    user: UserId,
    password: &str,
    keep_session: Option<&str>,
) -> Result<(), UseCaseError> {
    check_password_strength(password)?;
    let hash = secrets::hash_password(password)?;
    let keep = keep_session.map(secrets::token_hash);
    app.store.set_password(user, &hash, keep.as_deref()).await?;
    Ok(())
}

/// Changes a signed-in user's password after checking the current one.
///
/// Errors: `invalid_credentials` for a wrong current password, `weak_password`.
pub async fn change_password(
    app: App<'_>,
    user: &User,
    current: &str,
    new: &str,
) -> Result<(), UseCaseError> {
    if check_credentials(app, &user.email, current)
        .await?
        .is_none_or(|u| u.id != user.id)
    {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidCredentials,
            "The current password is wrong",
        ));
    }
    set_password(app, user.id, new, None).await
}

/// Sets `user`'s role (`user` or `admin`) and audits it in the same transaction, which also
/// ends every session of the user (and so their live sockets, at the next check). An admin
/// cannot remove their own admin role, so a panel always keeps one.
///
/// Errors: `invalid_role` (unknown role text or self-demotion), `not_found`.
pub async fn set_role(
    app: App<'_>,
    actor: &Actor,
    user: UserId,
    role: &str,
) -> Result<User, UseCaseError> {
    let role = Role::parse(role)
        .ok_or_else(|| Refusal::new(ErrorCode::InvalidRole, "Role is `user` or `admin`"))?;
    if actor.id == Some(user) && role != Role::Admin {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidRole,
            "You cannot remove your own admin role",
        ));
    }
    let current = app.store.user(user).await?.ok_or(StoreError::NotFound)?;
    let audit = actor.audit(
        "user.role",
        format!("user:{}", user.0),
        format!("{} -> {}", current.role.as_str(), role.as_str()),
        app.now(),
    );
    app.store.set_role(user, role, Some(audit)).await?;
    Ok(app.store.user(user).await?.ok_or(StoreError::NotFound)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_check_accepts_ordinary_addresses_only() {
        for ok in ["a@b.io", "first.last+tag@example.co.uk"] {
            assert!(valid_email(ok), "{ok}");
        }
        for bad in [
            "", "a", "a@b", "@b.io", "a@.io", "a@b.", "a b@c.io", "a@b@c.io",
        ] {
            assert!(!valid_email(bad), "{bad}");
        }
    }

    #[test]
    fn passwords_have_eight_characters_to_1024_bytes() {
        assert!(check_password_strength("12345678").is_ok());
        assert!(check_password_strength("ééééééé").is_err(), "7 characters");
        assert!(check_password_strength(&"a".repeat(1024)).is_ok());
        assert_eq!(
            check_password_strength(&"a".repeat(1025)).map_err(|e| e.code),
            Err(ErrorCode::WeakPassword)
        );
    }
}
