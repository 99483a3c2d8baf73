//! Records of the REST API and of database maintenance: order and refill searches (live and
//! archived rows alike), the admin audit log, and what an archive or upkeep pass did.

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
    /// `placed`, `status`, `cancel_requested` or `refill`.
    pub kind: String,
    /// The order's new status (`queued` when placed); the refill's for `refill`.
    pub status: String,
    /// The wallet effect: `-charge` when placed, the refund a status change paid.
    pub amount: Option<Money>,
    /// The provider message, review or admin reason; `Refill #N` for refills.
    pub detail: String,
    pub created_at: i64,
}
