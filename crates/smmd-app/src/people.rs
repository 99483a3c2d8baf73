//! The admin's view of customers (issue 18): searching accounts, a customer's detail (orders,
//! ledger, sessions, notes, custom rates), notes, disabling and enabling an account (its
//! sessions end and its API key stops at once; the pages and the key work again once enabled),
//! ending its sessions, and custom rates (a discount or a fixed rate per service), which
//! [`crate::pricing`] applies wherever a price is shown or charged.

use smmd_domain::custom_rate::{check_custom_rate, CustomPrice, CustomRate};
use smmd_domain::{Money, ServiceId, UserId};
use smmd_store::{
    LedgerEntry, NewUserNote, Order, OrderQuery, SessionSummary, StoreError, UserNote, UserQuery,
    UserSummary,
};

use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::{Actor, App};

/// Most characters in an admin's note.
pub const MAX_NOTE: usize = 2_000;
/// Orders and ledger rows the detail shows.
pub const DETAIL_ROWS: i64 = 20;

/// Accounts matching `q`, newest first.
pub async fn search(app: App<'_>, q: &UserQuery) -> Result<Vec<UserSummary>, StoreError> {
    app.store.search_users(q).await
}

/// Everything the admin's page of one customer shows.
#[derive(Clone, Debug)]
pub struct CustomerDetail {
    pub summary: UserSummary,
    /// The newest [`DETAIL_ROWS`] orders.
    pub orders: Vec<Order>,
    /// The newest [`DETAIL_ROWS`] ledger rows.
    pub ledger: Vec<LedgerEntry>,
    pub sessions: Vec<SessionSummary>,
    pub notes: Vec<UserNote>,
    pub rates: Vec<CustomRate>,
}

/// One customer's detail. Errors: `not_found`.
pub async fn customer(app: App<'_>, user: UserId) -> Result<CustomerDetail, UseCaseError> {
    let summary = app
        .store
        .user_summary(user)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(CustomerDetail {
        orders: app
            .store
            .search_orders(&OrderQuery::of_user(user, DETAIL_ROWS))
            .await?,
        ledger: app.store.ledger(user, None, DETAIL_ROWS).await?,
        sessions: app.store.user_sessions(user, app.now()).await?,
        notes: app.store.user_notes(user, 100).await?,
        rates: app.store.custom_rates(user).await?,
        summary,
    })
}

/// Writes an admin's note about a customer (1 to [`MAX_NOTE`] characters, trimmed).
///
/// Errors: `invalid_note`, `not_found`.
pub async fn add_note(
    app: App<'_>,
    actor: &Actor,
    user: UserId,
    body: &str,
) -> Result<UserNote, UseCaseError> {
    let body = body.trim();
    if body.is_empty() || body.chars().count() > MAX_NOTE {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidNote,
            format!("A note has 1 to {MAX_NOTE} characters"),
        ));
    }
    Ok(app
        .store
        .add_user_note(NewUserNote {
            user_id: user,
            author_id: actor.id,
            author: actor.name.clone(),
            body: body.to_string(),
            now: app.now(),
        })
        .await?)
}

/// Disables (`true`) or enables an account, audited `user.block` / `user.unblock`. Disabled,
/// its sessions end in the same transaction, it cannot log in and its API key stops (the
/// interfaces drop their key caches); enabled, everything works again.
///
/// Errors: `invalid_role` (an admin disabling themselves), `not_found`.
pub async fn set_blocked(
    app: App<'_>,
    actor: &Actor,
    user: UserId,
    blocked: bool,
) -> Result<(), UseCaseError> {
    if blocked && actor.id == Some(user) {
        return Err(UseCaseError::refused(
            ErrorCode::InvalidRole,
            "An admin cannot block their own account",
        ));
    }
    let now = app.now();
    let audit = actor.audit(
        if blocked {
            "user.block"
        } else {
            "user.unblock"
        },
        format!("user:{}", user.0),
        String::new(),
        now,
    );
    app.store
        .set_user_blocked(user, blocked, now, Some(audit))
        .await?;
    Ok(())
}

/// Ends every session of a customer (audited `user.sessions_end`); how many ended.
pub async fn end_sessions(app: App<'_>, actor: &Actor, user: UserId) -> Result<u64, UseCaseError> {
    app.store.user(user).await?.ok_or(StoreError::NotFound)?;
    let audit = actor.audit(
        "user.sessions_end",
        format!("user:{}", user.0),
        String::new(),
        app.now(),
    );
    Ok(app.store.end_user_sessions(user, Some(audit)).await?)
}

fn bad_rate(message: impl Into<String>) -> Refusal {
    Refusal::new(ErrorCode::InvalidCustomRate, message)
}

/// A custom price from what an admin typed: a discount in percent (`12.5`, up to two
/// decimals) or a fixed rate per 1000 (`0.42`); both empty is `None` (remove the rate).
///
/// Errors: `invalid_custom_rate` (both given, not a number, out of range).
pub fn parse_price(
    discount_percent: Option<&str>,
    rate: Option<&str>,
) -> Result<Option<CustomPrice>, Refusal> {
    let discount = discount_percent.map(str::trim).filter(|s| !s.is_empty());
    let rate = rate.map(str::trim).filter(|s| !s.is_empty());
    match (discount, rate) {
        (None, None) => Ok(None),
        (Some(_), Some(_)) => Err(bad_rate("Give a discount or a fixed rate, not both")),
        (Some(d), None) => {
            // Percent with up to two decimals, as basis points, exactly.
            let m = Money::parse(d)
                .ok()
                .filter(|m| m.micros() % 10_000 == 0)
                .ok_or_else(|| bad_rate("A discount is a percentage such as 10 or 12.5"))?;
            Ok(Some(CustomPrice::Discount(m.micros() / 10_000)))
        }
        (None, Some(r)) => Money::parse(r)
            .map(|m| Some(CustomPrice::Fixed(m)))
            .map_err(|_| bad_rate("A fixed rate is an amount per 1000 such as 0.42")),
    }
}

/// Sets (`Some`) or removes (`None`) a customer's custom rate for `service` (or every
/// service), audited `user.rate`; returns the customer's rates after it.
///
/// Errors: `invalid_custom_rate`, `not_found` (no account, or no such service).
pub async fn set_custom_rate(
    app: App<'_>,
    actor: &Actor,
    user: UserId,
    service: Option<ServiceId>,
    price: Option<CustomPrice>,
) -> Result<Vec<CustomRate>, UseCaseError> {
    if let Some(p) = price {
        check_custom_rate(&CustomRate {
            service_id: service.map(|s| s.0),
            price: p,
        })
        .map_err(|e| bad_rate(e.to_string()))?;
    }
    let what = service.map_or("every service".to_string(), |s| format!("service {}", s.0));
    let detail = match price {
        None => format!("{what}: custom rate removed"),
        Some(CustomPrice::Discount(bp)) => {
            format!("{what}: {}.{:02} % off", bp / 100, bp % 100)
        }
        Some(CustomPrice::Fixed(m)) => format!("{what}: {m} per 1000"),
    };
    let now = app.now();
    let audit = actor.audit("user.rate", format!("user:{}", user.0), detail, now);
    app.store
        .set_custom_rate(user, service, price, now, Some(audit))
        .await?;
    Ok(app.store.custom_rates(user).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_prices_become_basis_points_or_rates() {
        assert_eq!(parse_price(None, Some(" ")), Ok(None));
        assert_eq!(
            parse_price(Some("12.5"), None),
            Ok(Some(CustomPrice::Discount(1_250)))
        );
        assert_eq!(
            parse_price(Some("10"), None),
            Ok(Some(CustomPrice::Discount(1_000)))
        );
        assert_eq!(
            parse_price(None, Some("0.42")),
            Ok(Some(CustomPrice::Fixed(Money::parse("0.42").expect("m"))))
        );
        for (d, r) in [
            (Some("12.345"), None),
            (Some("ten"), None),
            (None, Some("x")),
            (Some("5"), Some("1")),
        ] {
            assert_eq!(
                parse_price(d, r).map_err(|e| e.code),
                Err(ErrorCode::InvalidCustomRate),
                "{d:?} {r:?}"
            );
        }
    }
}
