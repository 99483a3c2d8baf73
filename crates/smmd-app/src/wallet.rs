//! The wallet's use cases: admin credits and debits, the demo's instant test funds, and manual
//! payment requests with their admin decisions. Every deposit then collects the user's rent
//! dues ([`crate::billing::bill_user`], before and after the credit). Every balance change is one ledger row under a
//! key from [`smmd_domain::ledger`], written with its audit line in one transaction.

use smmd_domain::alert::{payment_subject, AlertKind};
use smmd_domain::{ledger, Money, UserId};
use smmd_store::{BalanceChange, LedgerEntry, LedgerKind, PaymentRequest};

use crate::audit::{self, Actor};
use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::{secrets, App};

/// An admin credit (positive `amount`) or debit (negative), in the panel currency, with a
/// reason of 1–500 characters. `request_id` makes it idempotent (ledger key
/// `admin:<request_id>`): a retry returns the first entry and writes nothing, not even a second
/// audit line; without one a random id is used.
///
/// Errors: `invalid_amount` (not a decimal, or zero), `reason_required`, `insufficient_funds`
/// (a debit below zero), `request_id_reused` (the id was used for another change), `not_found`.
pub async fn adjust_balance(
    app: App<'_>,
    actor: &Actor,
    user: UserId,
    amount: &str,
    reason: &str,
    request_id: Option<&str>,
) -> Result<LedgerEntry, UseCaseError> {
    let amount = Money::parse(amount.trim())
        .map_err(|e| Refusal::new(ErrorCode::InvalidAmount, e.to_string()))?;
    let reason = audit::reason(reason)?;
    let request_id = match request_id.map(str::trim) {
        Some(r) if !r.is_empty() => r.to_string(),
        _ => secrets::random_hex(16),
    };
    let (kind, action) = if amount.is_positive() {
        (LedgerKind::Deposit, "user.credit")
    } else {
        (LedgerKind::Adjustment, "user.debit")
    };
    if amount.is_positive() {
        check_room(app, user, amount).await?;
    }
    // Rent up to now is billed with the balance as it was before this change.
    crate::billing::bill_user(app, user).await;
    let now = app.now();
    let entry = app
        .store
        .change_balance(BalanceChange {
            user_id: user,
            amount,
            kind,
            key: ledger::admin_key(&request_id),
            reason: reason.to_string(),
            actor_id: actor.id,
            now,
            audit: Some(actor.audit(
                action,
                format!("user:{}", user.0),
                format!("{amount}: {reason}"),
                now,
            )),
        })
        .await?;
    if amount.is_positive() {
        crate::billing::bill_user(app, user).await;
    }
    Ok(entry)
}

/// Refuses a credit that would take `user`'s balance past the panel's `max_balance` (checked
/// arithmetic: a sum past `i64` is refused too). The store enforces the hard ceiling
/// ([`Money::MAX_AMOUNT`]) atomically whatever this read saw.
async fn check_room(app: App<'_>, user: UserId, amount: Money) -> Result<(), UseCaseError> {
    let max = app.limits.max_balance;
    let Some(u) = app.store.user(user).await? else {
        return Err(Refusal::new(ErrorCode::NotFound, "No such user").into());
    };
    match u.balance.checked_add(amount) {
        Some(after) if after <= max => Ok(()),
        _ => Err(Refusal::new(
            ErrorCode::AboveLimit,
            format!(
                "The balance would pass the panel's maximum of {max} (it is {} now)",
                u.balance
            ),
        )
        .into()),
    }
}

/// The demo's instant test funds: 10.00 in the panel currency, one credit per click (its own
/// key `test-top-up:<user>:<nonce>`). Interfaces offer it only when `[payments] test_top_up`
/// is on.
pub async fn test_top_up(app: App<'_>, user: UserId) -> Result<LedgerEntry, UseCaseError> {
    crate::billing::bill_user(app, user).await;
    let entry = app
        .store
        .change_balance(BalanceChange {
            user_id: user,
            amount: Money::from_micros(10_000_000),
            kind: LedgerKind::Deposit,
            key: ledger::test_top_up_key(user.0, &secrets::random_hex(8)),
            reason: "Test top-up (demo)".into(),
            actor_id: None,
            now: app.now(),
            audit: None,
        })
        .await?;
    crate::billing::bill_user(app, user).await;
    Ok(entry)
}

/// The demo customer's starting balance (`amount`, a decimal in the panel currency), credited
/// once per database under [`ledger::DEMO_SEED_KEY`]; later calls change nothing.
pub async fn demo_seed_balance(
    app: App<'_>,
    user: UserId,
    amount: &str,
) -> Result<LedgerEntry, UseCaseError> {
    let amount =
        Money::parse(amount).map_err(|e| Refusal::new(ErrorCode::InvalidAmount, e.to_string()))?;
    Ok(app
        .store
        .change_balance(BalanceChange {
            user_id: user,
            amount,
            kind: LedgerKind::Deposit,
            key: ledger::DEMO_SEED_KEY.to_string(),
            reason: "Demo top-up".into(),
            actor_id: None,
            now: app.now(),
            audit: None,
        })
        .await?)
}

/// What payment requests the panel takes (`[payments]`): amounts from `min_amount` to
/// `max_amount` (panel currency, decimal strings) and one of `methods`.
#[derive(Clone, Copy, Debug)]
pub struct PaymentTerms<'a> {
    pub min_amount: &'a str,
    pub max_amount: &'a str,
    pub methods: &'a [String],
}

/// Most characters in a payment reference.
pub const MAX_PAYMENT_NOTE: usize = 200;

/// Records a manual payment request after checking it against `terms`: the amount within
/// min–max (exact decimal), one of the methods, a note of at most 200 characters.
///
/// Errors: `invalid_payment` with the reason; nothing written.
pub async fn request_payment(
    app: App<'_>,
    terms: PaymentTerms<'_>,
    user: UserId,
    amount: &str,
    method: &str,
    note: &str,
) -> Result<PaymentRequest, UseCaseError> {
    let bad = |m: String| UseCaseError::refused(ErrorCode::InvalidPayment, m);
    let min = Money::parse(terms.min_amount).unwrap_or(Money::from_micros(1_000_000));
    let max = Money::parse(terms.max_amount).unwrap_or(min);
    let amount = Money::parse(amount.trim())
        .ok()
        .filter(|a| *a >= min && *a <= max)
        .ok_or_else(|| bad(format!("Enter an amount between {min} and {max}")))?;
    if !terms.methods.iter().any(|m| m == method) {
        return Err(bad("Choose one of the payment methods".into()));
    }
    let note = note.trim();
    if note.chars().count() > MAX_PAYMENT_NOTE || note.contains('\0') {
        return Err(bad(
            "The payment reference is longer than 200 characters".into()
        ));
    }
    let request = app
        .store
        .create_payment_request(user, amount, method, note, app.now())
        .await?;
    // The admins hear of it (in-app, e-mail, their channels); the request stands even if the
    // alert cannot be written, and the admin's payments page lists it either way.
    let message = format!(
        "User #{} asks to credit {} paid by {method}{}",
        user.0,
        request.amount,
        if note.is_empty() {
            String::new()
        } else {
            format!(" (reference: {note})")
        }
    );
    if let Err(e) = app
        .store
        .raise_alert(
            AlertKind::PaymentPending,
            &payment_subject(request.id),
            &message,
            app.now(),
        )
        .await
    {
        tracing::warn!(payment = request.id, error = %e, "payment alert not raised");
    }
    Ok(request)
}

/// Approves (crediting the amount under `payment:<id>`) or rejects a pending request, with a
/// reason; the decision, the credit and the audit line commit together.
///
/// Errors: `reason_required`, `not_found`, `already_decided`.
pub async fn decide_payment(
    app: App<'_>,
    actor: &Actor,
    id: i64,
    approve: bool,
    reason: &str,
) -> Result<PaymentRequest, UseCaseError> {
    let reason = audit::reason(reason)?;
    let admin = actor.id.ok_or_else(|| {
        UseCaseError::refused(ErrorCode::AdminOnly, "Payments are decided by an admin")
    })?;
    let now = app.now();
    let action = if approve {
        "payment.approve"
    } else {
        "payment.reject"
    };
    // The store prefixes the detail with the amount and the user it decided.
    let audit = actor.audit(action, format!("payment:{id}"), reason.to_string(), now);
    // Like every deposit, an approval first bills the user's rentals up to now with the old
    // balance, so the hours come out as a punctual hourly run would have billed them.
    if approve {
        if let Some(p) = app.store.payment_request(id).await? {
            crate::billing::bill_user(app, p.user_id).await;
        }
    }
    let decided = app
        .store
        .decide_payment(id, approve, admin, reason, now, Some(audit))
        .await?;
    if approve {
        crate::billing::bill_user(app, decided.user_id).await;
    }
    if let Err(e) = app
        .store
        .resolve_alert(AlertKind::PaymentPending, &payment_subject(id), app.now())
        .await
    {
        tracing::warn!(payment = id, error = %e, "payment alert not resolved");
    }
    Ok(decided)
}
