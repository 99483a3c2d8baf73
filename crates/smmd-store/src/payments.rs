//! Records of manual payments: a user's request to have funds added (paid outside the panel),
//! and why an admin decision was refused. The methods are on [`crate::Store`]; money is in the
//! panel currency, times are epoch ms.

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
