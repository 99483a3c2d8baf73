//! Records of the REST API and of database maintenance: order and refill searches (live and
//! archived rows alike), the admin audit log, and what an archive or upkeep pass did.

use crate::*;
use serde::Serialize;
use smmd_domain::order::OrderStatus;
use smmd_domain::{Money, OrderId, ProviderId, RefillId, ServiceId, UserId};

/// Most rows one search returns.
pub const MAX_PAGE: i64 = 500;

/// Filters of an order search. Every filter is optional and they combine with AND. Results are
/// newest first (by id), strictly before `before`, at most `limit` (clamped to 1–[`MAX_PAGE`]),
/// and include archived orders.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderQuery {
    pub user: Option<UserId>,
    pub status: Option<OrderStatus>,
    /// Only orders that have not reached an outcome ([`OrderStatus::is_active`]); applied in
    /// the query, so a page holds `limit` active orders and the cursor skips none.
    pub active: bool,
    pub service: Option<ServiceId>,
    pub provider: Option<ProviderId>,
    /// Case-insensitive substring of the link (`%` and `_` match themselves).
    pub link: Option<String>,
    /// `created_at >= created_from` (epoch ms).
    pub created_from: Option<i64>,
    /// `created_at < created_to` (epoch ms).
    pub created_to: Option<i64>,
    /// Cursor: only orders with a smaller id.
    pub before: Option<OrderId>,
    pub limit: i64,
}

impl OrderQuery {
    /// The newest `limit` orders of `user`.
    pub fn of_user(user: UserId, limit: i64) -> OrderQuery {
        OrderQuery {
            user: Some(user),
            limit,
            ..OrderQuery::default()
        }
    }
}

/// Filters of a refill search: newest first, strictly before `before`, at most `limit`
/// (1–[`MAX_PAGE`]), archived refills included.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefillQuery {
    pub user: Option<UserId>,
    pub order: Option<OrderId>,
    pub before: Option<RefillId>,
    pub limit: i64,
}

/// An admin action to record in the audit log.
#[derive(Clone, Debug)]
pub struct NewAudit {
    pub actor_id: Option<UserId>,
    /// The actor's e-mail (kept even if the account is later renamed).
    pub actor: String,
    /// What was done, dotted: `order.refund`, `user.credit`, `service.edit`.
    pub action: String,
    /// What it was done to: `order:42`, `user:7`, `service:3`, `provider:1`.
    pub subject: String,
    /// The reason and the values, free text.
    pub detail: String,
    pub now: i64,
}

/// One audit log row.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub actor_id: Option<UserId>,
    pub actor: String,
    pub action: String,
    pub subject: String,
    pub detail: String,
    pub created_at: i64,
}

/// What one archive pass moved.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Archived {
    pub orders: u64,
    pub refills: u64,
}

/// One row of an order's event log, written in the transaction of the change it records.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrderLogEntry {
    pub id: i64,
    pub order_id: OrderId,
    pub kind: smmd_domain::order::EventKind,
    /// The order's new status (`queued` when placed); the refill's for `refill`.
    pub status: String,
    /// The wallet effect: `-charge` when placed, the refund a status change paid.
    pub amount: Option<Money>,
    /// The provider message, review or admin reason; `Refill #N` for refills.
    pub detail: String,
    pub created_at: i64,
}

/// The admin dashboard's order figures (`Store::order_stats`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct OrderStats {
    /// Live (not archived) orders per status; statuses without orders are left out.
    pub by_status: Vec<(OrderStatus, i64)>,
    /// Orders placed at or after `since`.
    pub placed: i64,
    /// Σ charge − Σ refunded of those orders: what customers paid, panel currency.
    pub revenue: Money,
    /// Σ `provider_charge` of those orders per provider, in that provider's currency (convert
    /// with its `exchange_rate`). Orders the provider has not priced yet count nothing.
    pub cost_by_provider: Vec<(ProviderId, Money)>,
}

/// One completed order's delivery time, for a service's average (`Store::completion_samples`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CompletionSample {
    pub order: OrderId,
    /// Units delivered (the whole order: `total_quantity`).
    pub quantity: i64,
    /// `completed_at − created_at`, milliseconds.
    pub duration_ms: i64,
}

/// The average time to deliver 1000 units over `samples`, milliseconds: each order's
/// `duration × 1000 / quantity`, averaged (so one huge order does not outweigh nine small
/// ones). `None` without samples; orders of quantity 0 are skipped.
pub fn avg_ms_per_1000(samples: &[CompletionSample]) -> Option<i64> {
    let per_1000: Vec<i128> = samples
        .iter()
        .filter(|s| s.quantity > 0 && s.duration_ms >= 0)
        .map(|s| i128::from(s.duration_ms) * 1000 / i128::from(s.quantity))
        .collect();
    if per_1000.is_empty() {
        return None;
    }
    let mean = per_1000.iter().sum::<i128>() / per_1000.len() as i128;
    i64::try_from(mean).ok()
}

/// The admin audit log and the maintenance passes: archiving old orders and the database upkeep.
#[async_trait::async_trait]
pub trait AdminStore: Send + Sync {
    /// Moves at most `batch` terminal orders (completed, partial, canceled) that ended before
    /// `ended_before`, whose refill guarantee is over at `now` and that have no active refill,
    /// into the archive tables with their refills, in one short transaction. Every order and
    /// refill read still finds them.
    async fn archive_orders(
        &self,
        ended_before: i64,
        now: i64,
        batch: i64,
    ) -> StoreResult<Archived>;

    /// The store's own upkeep: `ANALYZE` and `VACUUM` of the busy tables on PostgreSQL,
    /// `PRAGMA optimize` and an incremental vacuum on SQLite. Returns what it ran.
    async fn upkeep(&self) -> StoreResult<Vec<String>>;

    /// Records an admin action.
    async fn record_audit(&self, entry: NewAudit) -> StoreResult<AuditEntry>;

    /// The audit log, newest first, strictly before id `before`, at most `limit` (1–500).
    async fn audit_log(&self, before: Option<i64>, limit: i64) -> StoreResult<Vec<AuditEntry>>;
}

#[cfg(test)]
mod avg_tests {
    use super::*;

    fn sample(quantity: i64, duration_ms: i64) -> CompletionSample {
        CompletionSample {
            order: OrderId(1),
            quantity,
            duration_ms,
        }
    }

    #[test]
    fn the_average_is_per_order_and_per_1000_units() {
        // 500 units in 10 min = 20 min per 1000; 2000 units in 20 min = 10 min per 1000.
        let s = [sample(500, 600_000), sample(2000, 1_200_000)];
        assert_eq!(avg_ms_per_1000(&s), Some(900_000));
    }

    #[test]
    fn no_samples_or_empty_orders_give_no_average() {
        assert_eq!(avg_ms_per_1000(&[]), None);
        assert_eq!(avg_ms_per_1000(&[sample(0, 5_000)]), None);
        assert_eq!(
            avg_ms_per_1000(&[sample(0, 5_000), sample(100, 1_000)]),
            Some(10_000)
        );
    }
}
