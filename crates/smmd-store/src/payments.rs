//! Records of manual payments: a user's request to have funds added (paid outside the panel),
//! and why an admin decision was refused. The methods are on [`crate::Store`]; money is in the
//! panel currency, times are epoch ms.

use crate::*;
use serde::Serialize;
use smmd_domain::{Money, UserId};

/// A manual payment: a user asks for funds they paid outside the panel; an admin decides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PaymentRequest {
    pub id: i64,
    pub user_id: UserId,
    /// Panel currency.
    pub amount: Money,
    /// How the user paid (`Bank transfer`, `USDT`…), free text.
    pub method: String,
    /// The user's payment reference or note.
    pub note: String,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    pub decided_by: Option<UserId>,
    pub reason: String,
    pub created_at: i64,
    pub decided_at: Option<i64>,
}

/// Why a payment decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    #[error("no such payment request")]
    NotFound,
    #[error("This payment request was already {0}")]
    AlreadyDecided(String),
    #[error(transparent)]
    Store(#[from] crate::StoreError),
}

/// Manual payment requests and their decisions.
#[async_trait::async_trait]
pub trait PaymentStore: Send + Sync {
    /// Records a user's payment request (amount > 0, panel currency).
    async fn create_payment_request(
        &self,
        user: UserId,
        amount: Money,
        method: &str,
        note: &str,
        now: i64,
    ) -> StoreResult<PaymentRequest>;

    /// Payment requests newest first: of one user, and/or with one status.
    async fn payment_requests(
        &self,
        user: Option<UserId>,
        status: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<PaymentRequest>>;

    /// One payment request.
    async fn payment_request(&self, id: i64) -> StoreResult<Option<PaymentRequest>>;

    /// Approves (crediting the amount through the ledger, key `payment:<id>`, in the same
    /// transaction) or rejects a pending request. A decided request is refused with
    /// `AlreadyDecided`, so a payment is credited at most once.
    async fn decide_payment(
        &self,
        id: i64,
        approve: bool,
        admin: UserId,
        reason: &str,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<PaymentRequest, PaymentError>;
}
