//! Use cases shared by every interface (reseller API v2, REST, pages, CLI, demo): they combine
//! the pure domain with the store so each rule runs in one place.

use smmd_domain::service::{validate_order, OrderError, OrderInput};
use smmd_domain::{Clock, Money, ServiceId, UserId};
use smmd_store::{
    BalanceChange, BalanceError, LedgerEntry, LedgerKind, NewUser, Order, PlaceOrderError, Role,
    Store, StoreError, User,
};

use crate::auth;

/// Places an order for `user` on service `service_id` from raw input: the service must exist and
/// be enabled, the input must validate for its type (domain), then the store debits and records
/// it in one transaction. `request_key` is the REST `Idempotency-Key` (see
/// [`Store::place_order`]).
pub async fn place_order(
    store: &dyn Store,
    clock: &dyn Clock,
    user: UserId,
    service_id: i64,
    input: &OrderInput,
    request_key: Option<&str>,
) -> Result<Order, PlaceOrderError> {
    let service = store
        .service(ServiceId(service_id))
        .await?
        .filter(|s| s.enabled)
        .ok_or(OrderError::IncorrectService)?;
    let spec = validate_order(&service.rules(), input)?;
    store
        .place_order(user, &service, &spec, request_key, clock.now_ms())
        .await
}

/// Creates an account with an argon2id password and a fresh API key; returns the key once.
pub async fn register(
    store: &dyn Store,
    clock: &dyn Clock,
    email: &str,
    password: &str,
    role: Role,
) -> Result<(User, String), RegisterError> {
    let email = email.trim();
    if !valid_email(email) {
        return Err(RegisterError::InvalidEmail);
    }
    if password.chars().count() < 8 || password.len() > 1024 {
        return Err(RegisterError::WeakPassword);
    }
    let api_key = auth::new_api_key();
    let user = store
        .create_user(NewUser {
            email: email.to_string(),
            password_hash: auth::hash_password(password)?,
            role,
            api_key_hash: Some(auth::token_hash(&api_key)),
            now: clock.now_ms(),
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict("users.email") => RegisterError::EmailTaken,
            e => RegisterError::Store(e),
        })?;
    Ok((user, api_key))
}

/// Why an account was not created.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    #[error("Enter a valid e-mail address")]
    InvalidEmail,
    #[error("Password must be 8 to 1024 characters long")]
    WeakPassword,
    #[error("An account with this e-mail already exists")]
    EmailTaken,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// A deliberately simple check: one `@`, something on both sides, a dot in the domain, no spaces.
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

/// Replaces the user's API key; the old one stops working. Returns the new key (shown once).
pub async fn rotate_api_key(store: &dyn Store, user: UserId) -> Result<String, StoreError> {
    let key = auth::new_api_key();
    store.set_api_key(user, &auth::token_hash(&key)).await?;
    Ok(key)
}

/// An admin credit (positive) or debit (negative) with a reason, idempotent on `key`.
pub async fn adjust_balance(
    store: &dyn Store,
    clock: &dyn Clock,
    admin: Option<UserId>,
    user: UserId,
    amount: Money,
    reason: &str,
    key: &str,
) -> Result<LedgerEntry, BalanceError> {
    let kind = if amount.is_positive() {
        LedgerKind::Deposit
    } else {
        LedgerKind::Adjustment
    };
    store
        .change_balance(BalanceChange {
            user_id: user,
            amount,
            kind,
            key: format!("admin:{key}"),
            reason: reason.trim().to_string(),
            actor_id: admin,
            now: clock.now_ms(),
        })
        .await
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
}
