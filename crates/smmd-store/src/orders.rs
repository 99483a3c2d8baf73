//! Orders: the stored order, its status view, placement refusals, imports, guarded updates and their outcomes, cancels.

use serde::Serialize;
use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::service::{OrderError, OrderExtras, OrderSpec};
use smmd_domain::{Money, OrderId, ProviderId, ServiceId, UserId};

use crate::*;

/// The reads of a placement ([`OrderStore::order_context`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OrderContext {
    /// The service with its category name; `None` if there is no such service.
    pub service: Option<Service>,
    /// The user's live rentals (`active` or `grace`): `(entitlement, settings JSON)`.
    pub live: Vec<(String, String)>,
    /// The user's custom rates for every service (`service_id` `None`) and for this service.
    pub custom: Vec<smmd_domain::custom_rate::CustomRate>,
}

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: OrderId,
    /// The public reference the REST API and pages show (`smmd_domain::reference`): the id in 9
    /// or more lower-case hex digits, then 4 random ones (12 random ones before migration 0036).
    pub reference: String,
    pub user_id: UserId,
    pub service_id: ServiceId,
    pub status: OrderStatus,
    pub link: Option<String>,
    /// Units per run (the whole order when not drip-fed).
    pub quantity: i64,
    pub runs: Option<i64>,
    /// Minutes between runs.
    pub interval: Option<i64>,
    pub total_quantity: i64,
    pub charge: Money,
    /// Refunded so far (Σ of this order's refund ledger rows).
    pub refunded: Money,
    pub start_count: Option<i64>,
    pub remains: Option<i64>,
    pub extras: OrderExtras,
    /// Refill guarantee copied from the service at purchase; 0 = none.
    pub guarantee_days: i64,
    pub refill: bool,
    pub cancel: bool,
    pub cancel_requested: bool,
    pub provider_id: Option<ProviderId>,
    /// The provider's service id of the offer this order is (or will be) sent to.
    pub provider_service_id: Option<String>,
    /// Which offer of the service: 0 = its own provider, then the fallbacks in order.
    pub offer_index: i64,
    pub provider_order_id: Option<String>,
    /// The last provider message or review reason (why it needs review, why it was refused).
    pub note: Option<String>,
    /// What the provider charged us (its currency), for profit.
    pub provider_charge: Option<Money>,
    /// Why a queued order is not sent (the margin guard), or that the owner released it.
    pub hold: Option<smmd_domain::margin::Hold>,
    /// Why the order last moved to another offer (offer failover); `None` if it never moved.
    pub route_reason: Option<smmd_domain::failover::Reason>,
    pub created_at: i64,
    pub updated_at: i64,
    /// When the order reached a terminal status; starts the refill guarantee.
    pub completed_at: Option<i64>,
}

/// The fields API v2 `status` shows, read without the rest of the order (the resellers' hot path).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrderStatusView {
    pub id: OrderId,
    pub status: OrderStatus,
    pub charge: Money,
    pub refunded: Money,
    pub start_count: Option<i64>,
    pub remains: Option<i64>,
    pub total_quantity: i64,
}

impl From<&Order> for OrderStatusView {
    fn from(o: &Order) -> Self {
        OrderStatusView {
            id: o.id,
            status: o.status,
            charge: o.charge,
            refunded: o.refunded,
            start_count: o.start_count,
            remains: o.remains,
            total_quantity: o.total_quantity,
        }
    }
}

/// Why an order was not placed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceOrderError {
    #[error(transparent)]
    Rejected(#[from] OrderError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A historical order brought over from another panel (keeps its id; no wallet effect).
#[derive(Clone, Debug)]
pub struct ImportedOrder {
    pub id: OrderId,
    pub user_id: UserId,
    pub service_id: ServiceId,
    pub status: OrderStatus,
    pub link: Option<String>,
    pub quantity: i64,
    pub charge: Money,
    pub start_count: Option<i64>,
    pub remains: Option<i64>,
    pub created_at: i64,
    pub completed_at: Option<i64>,
}

/// A state change of one order, applied only if the order is still in `expected`.
#[derive(Clone, Debug)]
pub struct OrderUpdate {
    pub order_id: OrderId,
    pub expected: OrderStatus,
    pub event: OrderEvent,
    pub start_count: Option<i64>,
    pub remains: Option<i64>,
    pub provider_order_id: Option<String>,
    pub provider_charge: Option<Money>,
    /// Moves the order to another offer (`(offer index, offer)`), with a rejection that tries it.
    pub offer: Option<(i64, Offer)>,
    /// Replaces the order's note (provider message, review reason).
    pub note: Option<String>,
    /// Why the order moves to `offer` (kept on the order); only with `offer`.
    pub route_reason: Option<smmd_domain::failover::Reason>,
    pub now: i64,
    /// The admin action this change is, written to the audit log in the same transaction
    /// (never without the change, never twice for a stale update). `None` for system changes.
    pub audit: Option<NewAudit>,
}

impl OrderUpdate {
    /// An update with only the event set.
    pub fn new(order_id: OrderId, expected: OrderStatus, event: OrderEvent, now: i64) -> Self {
        OrderUpdate {
            order_id,
            expected,
            event,
            start_count: None,
            remains: None,
            provider_order_id: None,
            provider_charge: None,
            offer: None,
            note: None,
            route_reason: None,
            now,
            audit: None,
        }
    }
}

/// The result of [`Store::apply_order_update`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UpdateOutcome {
    /// Applied; `refunded` is what this update paid back (zero if nothing).
    Applied { order: Box<Order>, refunded: Money },
    /// The order was no longer in the expected state; nothing was written.
    Stale,
    /// The state machine forbids this event in the current state; nothing was written.
    Illegal(smmd_domain::order::IllegalTransition),
}

/// Why a cancel of one order was refused. `Display` is the API v2 per-order error text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CancelError {
    #[error("Incorrect order ID")]
    NotFound,
    #[error("Cancel is not available for this service")]
    NotCancelable,
    #[error("Order is already completed")]
    AlreadyFinished,
    #[error("Cancel is already requested")]
    AlreadyRequested,
}

impl From<smmd_domain::cancel::CancelRefusal> for CancelError {
    fn from(r: smmd_domain::cancel::CancelRefusal) -> Self {
        use smmd_domain::cancel::CancelRefusal as R;
        match r {
            R::NotCancelable => CancelError::NotCancelable,
            R::AlreadyFinished => CancelError::AlreadyFinished,
            R::AlreadyRequested => CancelError::AlreadyRequested,
        }
    }
}

/// What a successful cancel did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelOutcome {
    /// Never sent upstream: canceled now and fully refunded.
    Canceled { refunded: Money },
    /// Sent upstream: the provider will be asked; refund follows the synced outcome.
    Requested,
}

/// How an order is placed, beside what is ordered ([`OrderSpec`]): the request key that makes
/// a retry safe, and the hosted child panel whose dedicated `/api/v2` key placed it (the root
/// admin's orders and revenue per panel, `docs/child-panels.md`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Placement<'a> {
    /// REST `Idempotency-Key` (1–200 characters), unique per user.
    pub request_key: Option<&'a str>,
    /// The registry id of the child panel whose key placed the order.
    pub panel: Option<i64>,
}

impl<'a> Placement<'a> {
    /// A placement under request key `key`.
    pub fn keyed(key: &'a str) -> Placement<'a> {
        Placement {
            request_key: Some(key),
            panel: None,
        }
    }
}

/// Orders: placement, reads and searches, state changes with their refunds, cancels, the event log and the dashboard figures.
#[async_trait::async_trait]
pub trait OrderStore: Send + Sync {
    /// Places a validated order in one transaction: the active-link rule (if the service has it),
    /// the conditional debit, the ledger row `order:<id>:charge` and the order row `queued`.
    /// The service's guarantee, refill and cancel flags are copied onto the order.
    ///
    /// `placement.request_key` (REST `Idempotency-Key`) is unique per user: a second placement
    /// with the same key writes nothing and fails with `Conflict("orders.request_key")`; the
    /// first order is then found with [`Store::order_by_request_key`]. `placement.panel` is
    /// stored on the order (`orders.panel_id`, what [`Store::panel_activity`] counts).
    async fn place_order(
        &self,
        user: UserId,
        service: &Service,
        spec: &OrderSpec,
        placement: Placement<'_>,
        now: i64,
    ) -> Result<Order, PlaceOrderError>;

    /// What a placement reads before it writes, in one go: the service `service` with its
    /// category (`None` if there is none, enabled or not, as [`Store::service`]), `user`'s
    /// live rentals as `(entitlement, settings JSON)` in rental order (as
    /// [`Store::live_entitlements`]) and those of the user's custom rates that can price this
    /// service: the one for every service and the one for it (as [`Store::custom_rates`],
    /// filtered). On PostgreSQL one statement instead of three (`add` from 100 resellers,
    /// issue 20); on SQLite the three direct reads.
    async fn order_context(&self, user: UserId, service: ServiceId) -> StoreResult<OrderContext>;

    /// The user's order placed with this `Idempotency-Key`, if any (live orders only).
    async fn order_by_request_key(&self, user: UserId, key: &str) -> StoreResult<Option<Order>>;

    /// The order with this public reference, live or archived.
    async fn order_by_reference(&self, reference: &str) -> StoreResult<Option<Order>>;

    /// The order's event log, oldest first: placement, status changes with their refunds
    /// (all but the transient dispatch claim to `submitting`), cancel requests and refill
    /// statuses. Each row was written in the transaction of its change.
    async fn order_log(&self, order: OrderId) -> StoreResult<Vec<OrderLogEntry>>;

    /// Orders matching `query` (live and archived), newest first.
    async fn search_orders(&self, query: &OrderQuery) -> StoreResult<Vec<Order>>;

    /// The admin dashboard's figures: live orders by status, and what orders placed at or after
    /// `since` (epoch ms) were charged and cost.
    async fn order_stats(&self, since: i64) -> StoreResult<OrderStats>;

    /// The last `limit` Completed orders of `service` (most recent completion first), with how
    /// long each took: the new-order page's average completion time.
    async fn completion_samples(
        &self,
        service: ServiceId,
        limit: i64,
    ) -> StoreResult<Vec<CompletionSample>>;

    /// Inserts historical orders with their own ids (migration from another panel). No wallet
    /// effect. `Conflict("orders.id")` if an id exists.
    async fn import_orders(&self, orders: &[ImportedOrder]) -> StoreResult<()>;

    async fn order(&self, id: OrderId) -> StoreResult<Option<Order>>;

    /// How many of the user's orders are active (not Completed, Partial or Canceled): the
    /// dashboard's "Active orders" card and the live socket's `hello`.
    async fn active_orders(&self, user: UserId) -> StoreResult<i64>;

    /// The user's orders among `ids` (others' and unknown ids are simply absent).
    async fn orders_of_user(&self, user: UserId, ids: &[OrderId]) -> StoreResult<Vec<Order>>;

    /// Status fields of the user's orders among `ids` (others' and unknown ids are absent).
    async fn order_statuses(
        &self,
        user: UserId,
        ids: &[OrderId],
    ) -> StoreResult<Vec<OrderStatusView>>;

    /// The user's orders (live and archived), newest first, at most `limit`, strictly before id
    /// `before`.
    async fn list_orders(
        &self,
        user: UserId,
        before: Option<OrderId>,
        limit: i64,
    ) -> StoreResult<Vec<Order>> {
        self.search_orders(&OrderQuery {
            before,
            ..OrderQuery::of_user(user, limit)
        })
        .await
    }

    /// Applies `update.event` through the domain state machine with a guarded update, and pays
    /// the refund due for the new state in the same transaction (key `order:<id>:refund`, top-ups
    /// `order:<id>:refund:<target µ>`). An illegal event is an error; a stale one is `Stale`.
    async fn apply_order_update(&self, update: OrderUpdate) -> StoreResult<UpdateOutcome>;

    /// [`Store::apply_order_update`] for many orders in one transaction (status sync applies a
    /// batch of up to 100 at once). Outcomes are in input order; a store error applies none.
    async fn apply_order_updates(&self, updates: &[OrderUpdate])
        -> StoreResult<Vec<UpdateOutcome>>;

    /// Cancels each of the user's orders: never-sent ones are canceled and fully refunded at
    /// once; sent ones whose service allows cancel get `cancel_requested`.
    async fn cancel_orders(
        &self,
        user: UserId,
        ids: &[OrderId],
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<Vec<(OrderId, Result<CancelOutcome, CancelError>)>>;
}
