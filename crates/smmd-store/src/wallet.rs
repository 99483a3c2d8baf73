//! The wallet: ledger kinds and entries, balance changes and their refusals, the consistency check.

use serde::{Deserialize, Serialize};
use smmd_domain::{Money, OrderId, UserId};

use crate::*;

/// What a ledger row records.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// Funds added (payment, demo top-up, admin credit).
    Deposit,
    /// Admin debit or correction.
    Adjustment,
    /// An order's price.
    Charge,
    /// Money back for a canceled or partial order.
    Refund,
    /// A billed hour of a rental, or its setup fee (`docs/billing.md`).
    Rent,
    /// An admin's refund of billed hours.
    RentCredit,
    /// Money moved from the user's affiliate balance (`docs/affiliates.md`, transfer).
    AffiliateTransfer,
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Deposit => "deposit",
            LedgerKind::Adjustment => "adjustment",
            LedgerKind::Charge => "charge",
            LedgerKind::Refund => "refund",
            LedgerKind::Rent => "rent",
            LedgerKind::RentCredit => "rent_credit",
            LedgerKind::AffiliateTransfer => "affiliate_transfer",
        }
    }

    pub fn parse(s: &str) -> Option<LedgerKind> {
        [
            LedgerKind::Deposit,
            LedgerKind::Adjustment,
            LedgerKind::Charge,
            LedgerKind::Refund,
            LedgerKind::Rent,
            LedgerKind::RentCredit,
            LedgerKind::AffiliateTransfer,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// One append-only wallet movement. `amount` is signed (credit > 0, debit < 0).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LedgerEntry {
    pub id: i64,
    pub user_id: UserId,
    pub amount: Money,
    pub balance_after: Money,
    /// Unique idempotency key (`order:42:charge`, `admin:<request>`).
    pub key: String,
    pub kind: LedgerKind,
    pub reason: String,
    pub order_id: Option<OrderId>,
    pub actor_id: Option<UserId>,
    pub created_at: i64,
}

/// A balance change requested by an admin or a payment.
#[derive(Clone, Debug)]
pub struct BalanceChange {
    pub user_id: UserId,
    /// Signed amount; a debit never takes the balance below zero.
    pub amount: Money,
    pub kind: LedgerKind,
    /// Unique key; applying the same key twice returns the first entry and changes nothing.
    pub key: String,
    pub reason: String,
    pub actor_id: Option<UserId>,
    pub now: i64,
    /// The admin action this change is, written to the audit log in the same transaction
    /// (never without the change, never twice for a replayed key). `None` for system changes.
    pub audit: Option<NewAudit>,
}

/// Why a balance change was refused.
#[derive(Debug, thiserror::Error)]
pub enum BalanceError {
    #[error("Not enough funds on balance")]
    InsufficientFunds,
    /// The amount, or the balance after it, would pass `max` (at most [`Money::MAX_AMOUNT`]).
    #[error("The balance would pass the panel's maximum of {max}")]
    AboveLimit { max: Money },
    #[error("amount must not be zero")]
    ZeroAmount,
    #[error("the idempotency key was already used for a different change")]
    KeyReused,
    #[error("user not found")]
    UnknownUser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A user whose cached balance differs from the sum of its ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerMismatch {
    pub user_id: UserId,
    pub balance: Money,
    pub ledger_sum: Money,
}

/// The wallet: keyed balance changes, the ledger and its consistency check.
#[async_trait::async_trait]
pub trait WalletStore: Send + Sync {
    /// Applies a signed balance change with its ledger row. Idempotent on `key`: a repeat with the
    /// same user and amount returns the original entry; a different change under a used key is
    /// `KeyReused`.
    async fn change_balance(&self, change: BalanceChange) -> Result<LedgerEntry, BalanceError>;

    /// Newest first, at most `limit`, strictly before ledger id `before`.
    async fn ledger(
        &self,
        user: UserId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<LedgerEntry>>;

    /// Users whose cached balance is not Σ ledger (should always be empty).
    /// The ledger rows of one order (its charge and refunds), oldest first.
    async fn order_ledger(&self, order: OrderId) -> StoreResult<Vec<LedgerEntry>>;

    async fn ledger_mismatches(&self) -> StoreResult<Vec<LedgerMismatch>>;
}
