//! Refills: the stored request and why one is refused.

use serde::Serialize;
use smmd_domain::refill::{RefillError, RefillStatus};
use smmd_domain::{OrderId, ProviderId, RefillId, UserId};

use crate::*;

/// A refill request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refill {
    pub id: RefillId,
    pub order_id: OrderId,
    pub user_id: UserId,
    pub status: RefillStatus,
    pub provider_refill_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Why a refill request was refused.
#[derive(Debug, thiserror::Error)]
pub enum RefillRequestError {
    #[error("Incorrect order ID")]
    NotFound,
    #[error(transparent)]
    Ineligible(#[from] RefillError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Refills: requests with their eligibility, the dispatch claim, the batched status sync and auto-refill candidates.
#[async_trait::async_trait]
pub trait RefillStore: Send + Sync {
    /// Refills matching `query` (live and archived), newest first.
    async fn search_refills(&self, query: &RefillQuery) -> StoreResult<Vec<Refill>>;

    /// Creates a `pending` refill if the order is eligible (domain rules; one active refill per
    /// order is also enforced by a unique index).
    async fn request_refill(
        &self,
        user: UserId,
        order: OrderId,
        now: i64,
    ) -> Result<Refill, RefillRequestError>;

    /// The user's refills among `ids`.
    async fn refills_of_user(&self, user: UserId, ids: &[RefillId]) -> StoreResult<Vec<Refill>>;

    /// Sets a refill's status (refill sync, admin).
    async fn set_refill_status(
        &self,
        id: RefillId,
        status: RefillStatus,
        now: i64,
    ) -> StoreResult<()>;

    /// Claims up to `limit` pending refills not yet sent, of enabled providers, oldest first,
    /// stamping `submitted_at` before the call. Refills stamped before `stale_before` without a
    /// provider refill id (the sender died) are released first and sent again: a refill request
    /// costs nothing and providers refuse duplicates.
    async fn claim_refills(
        &self,
        limit: i64,
        stale_before: i64,
        now: i64,
    ) -> StoreResult<Vec<RefillTask>>;

    /// Records the provider's answer to a refill request: its refill id, or a refusal (the
    /// refill becomes `rejected` with the message as its note).
    async fn record_refill_sent(
        &self,
        id: RefillId,
        answer: Result<String, String>,
        now: i64,
    ) -> StoreResult<()>;

    /// Active refills of a provider that have a provider refill id, oldest-checked first.
    async fn refill_sync_targets(
        &self,
        provider: ProviderId,
        limit: i64,
    ) -> StoreResult<Vec<RefillSyncTarget>>;

    /// Applies synced refill states (guarded: only active refills change) and stamps every
    /// listed refill as checked, in one transaction. Returns how many changed.
    async fn apply_refill_sync(
        &self,
        changes: &[(RefillId, RefillStatus)],
        checked: &[RefillId],
        now: i64,
    ) -> StoreResult<u64>;

    /// Completed or Partial orders of auto-refill services still inside their guarantee at
    /// `now`, with no active refill, oldest first.
    async fn auto_refill_candidates(&self, now: i64, limit: i64) -> StoreResult<Vec<Order>>;
}
