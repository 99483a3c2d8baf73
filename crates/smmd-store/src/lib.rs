//! The storage boundary of smmd: the [`Store`] trait, whose methods are whole use cases that each
//! own their transaction, the records they return, and their errors. Nothing outside the backend
//! crate sees SQL or a transaction handle.
//!
//! Money invariants every backend keeps (and the conformance suite in [`testsuite`] checks):
//! - every balance change is one append-only ledger row with a unique idempotency key, written in
//!   the same transaction as the cached balance and the state change it pays for;
//! - a debit is conditional: the balance never goes below zero;
//! - `users.balance = Σ ledger.amount` for every user ([`Store::ledger_mismatches`]).
//!
//! Times are epoch milliseconds (UTC) passed in by the caller from its injected clock.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::refill::{RefillError, RefillStatus};
use smmd_domain::service::{OrderError, OrderExtras, OrderSpec, ServiceRules, ServiceType};
use smmd_domain::{CategoryId, Money, OrderId, ProviderId, RefillId, ServiceId, UserId};

pub mod fulfil;
pub mod notify;
pub mod payments;
pub mod queries;
pub mod schedules;
#[cfg(feature = "testsuite")]
pub mod testsuite;

pub use fulfil::*;
pub use notify::*;
pub use payments::*;
pub use queries::*;
pub use schedules::*;

/// A failure of the storage layer itself. Business refusals have their own error types.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was hit; the name says which (`"users.email"`).
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Account role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

/// A panel account. `balance` is the cached wallet balance (= Σ ledger).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub role: Role,
    pub balance: Money,
    pub created_at: i64,
}

/// A user with the argon2id PHC string of its password, for log-in only.
#[derive(Clone, Debug)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// A new account. `api_key_hash` is the hex SHA-256 of the API key (keys are random, 256 bits).
#[derive(Clone, Debug)]
pub struct NewUser {
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub api_key_hash: Option<String>,
    pub now: i64,
    /// The admin action this change is, written to the audit log in the same transaction
    /// (never without the change, never twice for a replayed key). `None` for system changes.
    pub audit: Option<NewAudit>,
}

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
}

impl LedgerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LedgerKind::Deposit => "deposit",
            LedgerKind::Adjustment => "adjustment",
            LedgerKind::Charge => "charge",
            LedgerKind::Refund => "refund",
        }
    }

    pub fn parse(s: &str) -> Option<LedgerKind> {
        [
            LedgerKind::Deposit,
            LedgerKind::Adjustment,
            LedgerKind::Charge,
            LedgerKind::Refund,
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
    #[error("amount must not be zero")]
    ZeroAmount,
    #[error("the idempotency key was already used for a different change")]
    KeyReused,
    #[error("user not found")]
    UnknownUser,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A catalog service with its selling terms and its provider mapping.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Service {
    pub id: ServiceId,
    pub category_id: CategoryId,
    pub category: String,
    pub name: String,
    pub service_type: ServiceType,
    /// Selling price per 1000 units (per package for package types), panel currency.
    pub rate: Money,
    pub min: i64,
    pub max: i64,
    pub refill: bool,
    /// Refill guarantee in days, copied onto each order at purchase.
    pub guarantee_days: i64,
    pub cancel: bool,
    pub dripfeed: bool,
    /// Enforce "one active order per link" for this service.
    pub link_rule: bool,
    pub description: String,
    pub enabled: bool,
    /// Markup over provider cost in basis points; `None` = category or panel default.
    pub markup_bp: Option<i64>,
    pub provider_id: Option<ProviderId>,
    pub provider_service_id: Option<String>,
    /// The provider's rate per 1000 in its own currency.
    pub provider_rate: Option<Money>,
    pub provider_currency: Option<String>,
    /// Fields an admin set by hand (`name`, `rate`, `min`, `max`, `enabled`); sync leaves them.
    pub overrides: Vec<String>,
    /// Refills are requested without a user when a drop is detected (`refills.auto`).
    pub auto_refill: bool,
}

impl Service {
    pub fn rules(&self) -> ServiceRules {
        ServiceRules {
            service_type: self.service_type,
            rate: self.rate,
            min: self.min,
            max: self.max,
            dripfeed: self.dripfeed,
        }
    }
}

/// Fields of a new or edited service.
#[derive(Clone, Debug)]
pub struct ServiceDraft {
    pub category: String,
    pub name: String,
    pub service_type: ServiceType,
    pub rate: Money,
    pub min: i64,
    pub max: i64,
    pub refill: bool,
    pub guarantee_days: i64,
    pub cancel: bool,
    pub dripfeed: bool,
    pub link_rule: bool,
    pub description: String,
    pub enabled: bool,
    pub markup_bp: Option<i64>,
    pub provider_id: Option<ProviderId>,
    pub provider_service_id: Option<String>,
    pub provider_rate: Option<Money>,
    pub provider_currency: Option<String>,
}

impl ServiceDraft {
    /// A draft with the common defaults: enabled, link rule on, no refill/cancel/drip-feed.
    pub fn new(
        category: &str,
        name: &str,
        service_type: ServiceType,
        rate: Money,
        min: i64,
        max: i64,
    ) -> Self {
        ServiceDraft {
            category: category.to_string(),
            name: name.to_string(),
            service_type,
            rate,
            min,
            max,
            refill: false,
            guarantee_days: 0,
            cancel: false,
            dripfeed: false,
            link_rule: true,
            description: String::new(),
            enabled: true,
            markup_bp: None,
            provider_id: None,
            provider_service_id: None,
            provider_rate: None,
            provider_currency: None,
        }
    }
}

/// A catalog category with how many enabled services it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Category {
    pub id: CategoryId,
    pub name: String,
    pub services: i64,
    /// Markup for the category's services in basis points; `None` = the panel default.
    pub markup_bp: Option<i64>,
}

/// An order as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Order {
    pub id: OrderId,
    /// The public reference (12 lower-case hex characters) the REST API and pages show.
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

/// A user whose cached balance differs from the sum of its ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerMismatch {
    pub user_id: UserId,
    pub balance: Money,
    pub ledger_sum: Money,
}

/// Storage use cases. Each method is one transaction; implementations are `Send + Sync` and
/// shared as `Arc<dyn Store>`.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Cheap round trip for readiness probes.
    async fn ping(&self) -> StoreResult<()>;

    // ---- accounts -------------------------------------------------------------------------

    /// Creates an account with a zero balance. `Conflict("users.email")` if the e-mail exists.
    async fn create_user(&self, user: NewUser) -> StoreResult<User>;
    async fn user(&self, id: UserId) -> StoreResult<Option<User>>;
    /// Case-insensitive e-mail lookup, with the password hash.
    async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>>;
    /// The owner of an API key, by the key's hex SHA-256.
    async fn user_by_api_key(&self, key_hash: &str) -> StoreResult<Option<User>>;
    /// Replaces the user's API key hash (the old key stops working at once).
    async fn set_api_key(&self, user: UserId, key_hash: &str) -> StoreResult<()>;
    async fn set_password(&self, user: UserId, password_hash: &str) -> StoreResult<()>;
    /// Sets the role; `audit` is written in the same transaction.
    async fn set_role(&self, user: UserId, role: Role, audit: Option<NewAudit>) -> StoreResult<()>;
    /// Users ordered by id, at most `limit` after `after`.
    async fn list_users(&self, after: Option<UserId>, limit: i64) -> StoreResult<Vec<User>>;

    /// Stores a session by the hash of its token.
    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()>;
    /// The session's user and CSRF token if it has not expired at `now`.
    async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Option<(User, String)>>;
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    // ---- wallet ---------------------------------------------------------------------------

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

    // ---- catalog --------------------------------------------------------------------------

    /// Creates a service (and its category by name if new).
    async fn create_service(&self, draft: ServiceDraft, now: i64) -> StoreResult<Service>;
    /// Replaces a service's fields.
    async fn update_service(
        &self,
        id: ServiceId,
        draft: ServiceDraft,
        now: i64,
    ) -> StoreResult<Service>;
    async fn service(&self, id: ServiceId) -> StoreResult<Option<Service>>;
    /// Services ordered by category then id; `enabled_only` for customers.
    async fn list_services(&self, enabled_only: bool) -> StoreResult<Vec<Service>>;
    async fn list_categories(&self) -> StoreResult<Vec<Category>>;

    // ---- orders ---------------------------------------------------------------------------

    /// Places a validated order in one transaction: the active-link rule (if the service has it),
    /// the conditional debit, the ledger row `order:<id>:charge` and the order row `queued`.
    /// The service's guarantee, refill and cancel flags are copied onto the order.
    ///
    /// `request_key` (REST `Idempotency-Key`) is unique per user: a second placement with the
    /// same key writes nothing and fails with `Conflict("orders.request_key")`; the first order
    /// is then found with [`Store::order_by_request_key`].
    async fn place_order(
        &self,
        user: UserId,
        service: &Service,
        spec: &OrderSpec,
        request_key: Option<&str>,
        now: i64,
    ) -> Result<Order, PlaceOrderError>;
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
    /// Refills matching `query` (live and archived), newest first.
    async fn search_refills(&self, query: &RefillQuery) -> StoreResult<Vec<Refill>>;
    /// Inserts historical orders with their own ids (migration from another panel). No wallet
    /// effect. `Conflict("orders.id")` if an id exists.
    async fn import_orders(&self, orders: &[ImportedOrder]) -> StoreResult<()>;
    async fn order(&self, id: OrderId) -> StoreResult<Option<Order>>;
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

    // ---- refills --------------------------------------------------------------------------

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
    // ---- scheduler ------------------------------------------------------------------------

    /// Creates the schedule if no schedule has its name; returns the stored one either way
    /// (admin edits are never overwritten by defaults).
    async fn ensure_schedule(&self, schedule: NewSchedule) -> StoreResult<ScheduleRecord>;
    async fn schedules(&self) -> StoreResult<Vec<ScheduleRecord>>;
    /// Claims due ticks (F1): locks enabled schedules with `next_run_at <= now` (skipping ones
    /// another instance holds), asks `planner` what to do, writes pending and skipped rows
    /// (unique per schedule and tick) and moves the cursor with a compare-and-swap, all in one
    /// transaction per pass. Overlap (counting runs from before the pass; the catch-up ticks of
    /// one pass all queue): with `skip`, a tick finding a pending or running run is recorded as
    /// `skipped: overlap`; with `buffer_one`, one pending run may wait behind the running one.
    async fn claim_ticks(&self, now: i64, planner: Planner<'_>) -> StoreResult<ClaimStats>;
    /// Starts the oldest pending run that is due and whose schedule has nothing running (F2):
    /// state `running`, attempt + 1, a new fencing token, lease until `now + lease_ms`.
    async fn start_run(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<RunLease>>;
    /// Extends a lease; `false` if the token is stale (the run was reaped or finished).
    async fn heartbeat_run(
        &self,
        run_id: i64,
        token: i64,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<bool>;
    /// Records the outcome; `false` (nothing written) if the token is stale. A retry puts the run
    /// back to `pending` with `not_before = retry_at`.
    async fn finish_run(
        &self,
        run_id: i64,
        token: i64,
        outcome: RunOutcome,
        now: i64,
    ) -> StoreResult<bool>;
    /// Crash recovery (F10): running runs whose lease expired become `abandoned`, or `pending`
    /// again (with the error noted) while attempts remain. Returns how many were reaped.
    async fn reap_expired_runs(&self, now: i64) -> StoreResult<u64>;
    /// Applies an edit and writes its audit row in one transaction; bumps `version`. A run in
    /// flight keeps the configuration it started with. `NotFound` for an unknown name.
    async fn update_schedule(
        &self,
        name: &str,
        edit: ScheduleEdit,
        actor: &str,
        now: i64,
    ) -> StoreResult<ScheduleRecord>;
    /// "Run now" (F11): a manual run at `now` that does not move the cursor and obeys the
    /// overlap policy; the same `request_key` never creates a second run. Audited.
    async fn trigger_run(
        &self,
        name: &str,
        request_key: &str,
        actor: &str,
        now: i64,
    ) -> StoreResult<TriggerOutcome>;
    /// Pauses or resumes all schedules (claims and starts stop; runs in flight finish). Audited.
    async fn set_scheduler_paused(&self, paused: bool, actor: &str, now: i64) -> StoreResult<()>;
    async fn scheduler_paused(&self) -> StoreResult<bool>;
    /// Audited changes, newest first; of one schedule or of all.
    async fn schedule_audit(
        &self,
        schedule_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>>;
    /// Deletes at most `batch` finished runs (not pending/running) created before `before`.
    async fn prune_schedule_runs(&self, before: i64, batch: i64) -> StoreResult<u64>;
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
    /// Deletes at most `batch` sessions expired at `now`.
    async fn prune_sessions(&self, now: i64, batch: i64) -> StoreResult<u64>;
    /// The database's clock (epoch ms): due-ness and leases are judged by it (scheduler F14), so
    /// instances with skewed clocks agree.
    async fn db_now_ms(&self) -> StoreResult<i64>;
    /// The earliest moment something may become due (epoch ms): the smallest cursor of an
    /// enabled schedule or `not_before` of a pending run; `None` when nothing is scheduled.
    async fn next_wakeup_ms(&self) -> StoreResult<Option<i64>>;
    /// Graceful shutdown (F9): hands a running run back as `pending`, due at `now`, without
    /// counting the attempt. `false` if the token is stale.
    async fn release_run(&self, run_id: i64, token: i64, now: i64) -> StoreResult<bool>;
    /// The canary job's effect, written only while the run still holds its lease (the fenced
    /// write handlers can copy); `false` (nothing written) when the token is stale.
    async fn record_canary(&self, effect: CanaryEffect) -> StoreResult<bool>;
    /// Deletes at most `batch` canary rows written before `before`.
    async fn prune_canary(&self, before: i64, batch: i64) -> StoreResult<u64>;
    /// Lease and queue figures for metrics (F12), judged at `now`.
    async fn scheduler_health(&self, now: i64) -> StoreResult<SchedulerHealth>;
    /// A schedule's runs, newest first, at most `limit`, before run id `before`.
    async fn schedule_runs(
        &self,
        schedule_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<RunRecord>>;

    /// Sets a refill's status (refill sync, admin).
    async fn set_refill_status(
        &self,
        id: RefillId,
        status: RefillStatus,
        now: i64,
    ) -> StoreResult<()>;

    // ---- providers and fulfilment (fulfil.rs) ----

    /// Adds a provider. `Conflict("providers.name")` if the name exists.
    async fn create_provider(&self, p: NewProvider, now: i64) -> StoreResult<Provider>;
    /// Every provider, by id.
    async fn providers(&self) -> StoreResult<Vec<Provider>>;
    async fn provider(&self, id: ProviderId) -> StoreResult<Option<Provider>>;
    /// Points a provider at a new URL and key (sealed). `NotFound` if absent.
    async fn set_provider_endpoint(
        &self,
        id: ProviderId,
        url: &str,
        api_key_enc: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Enables or disables a provider; dispatch and sync skip disabled ones. `NotFound` if absent.
    async fn set_provider_enabled(
        &self,
        id: ProviderId,
        enabled: bool,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;
    /// Records a balance read (history row plus the provider's latest figure).
    async fn record_provider_balance(
        &self,
        id: ProviderId,
        balance: Money,
        currency: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Appends a fallback offer to a service (next position). Returns its position (≥ 1).
    async fn add_service_offer(&self, service: ServiceId, offer: Offer) -> StoreResult<i64>;
    /// The service's offers in order: its own mapping (if any) first, then the fallbacks.
    async fn service_offers(&self, service: ServiceId) -> StoreResult<Vec<Offer>>;

    /// Claims up to `limit` queued orders of enabled providers, oldest first: marks them
    /// `submitting` and commits before any provider call (architecture §2 step 2). On PostgreSQL
    /// concurrent claimers skip each other's rows.
    async fn claim_dispatch(&self, limit: i64, now: i64) -> StoreResult<Vec<Order>>;
    /// Orders left `submitting` since before `before` (the process died mid-call), oldest first.
    async fn stale_submitting(&self, before: i64, limit: i64) -> StoreResult<Vec<Order>>;
    /// Active (`processing`, `in_progress`) orders of a provider with a provider order id,
    /// oldest-checked first (never checked first), at most `limit`.
    async fn sync_targets(&self, provider: ProviderId, limit: i64) -> StoreResult<Vec<SyncTarget>>;
    /// Stamps `checked_at = now` on orders whose sync found nothing new.
    async fn mark_checked(&self, ids: &[OrderId], now: i64) -> StoreResult<()>;
    /// Orders of a provider with a cancel requested and not yet sent: `(id, provider order id)`.
    async fn cancels_to_send(
        &self,
        provider: ProviderId,
        limit: i64,
    ) -> StoreResult<Vec<(OrderId, String)>>;
    /// Records that the cancel of these orders was sent (accepted or refused upstream), with the
    /// provider's answer as the order's note.
    async fn mark_cancel_sent(&self, sent: &[(OrderId, String)], now: i64) -> StoreResult<()>;
    /// Orders waiting for an admin (`needs_review`), oldest first.
    async fn orders_needing_review(&self, limit: i64) -> StoreResult<Vec<Order>>;

    /// The provider's services in our catalog (enabled or not), by id.
    async fn provider_services(&self, provider: ProviderId) -> StoreResult<Vec<Service>>;
    /// Applies a sync plan in one transaction, logging every change with `source`. Returns
    /// `(created, updated, disabled)`.
    async fn apply_service_sync(
        &self,
        ops: Vec<ServiceSyncOp>,
        source: &str,
        now: i64,
    ) -> StoreResult<(u64, u64, u64)>;
    /// An admin edit: sets the fields, records them as overrides, logs each change.
    /// `NotFound` if the service does not exist.
    async fn edit_service(
        &self,
        id: ServiceId,
        edit: ServiceEdit,
        source: &str,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<Service>;
    /// Sets (or with `None` clears) the markup of the category named `name`, basis points.
    /// `NotFound` if no category has that name.
    async fn set_category_markup(
        &self,
        name: &str,
        markup_bp: Option<i64>,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;
    /// The change log of a service, newest first.
    async fn service_changes(&self, id: ServiceId, limit: i64) -> StoreResult<Vec<ServiceChange>>;

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

    /// Opens an alert, or refreshes the open one with the same kind and subject. True if new.
    async fn raise_alert(
        &self,
        kind: smmd_domain::alert::AlertKind,
        subject: &str,
        message: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Resolves the open alert of this kind and subject, if any.
    async fn resolve_alert(
        &self,
        kind: smmd_domain::alert::AlertKind,
        subject: &str,
        now: i64,
    ) -> StoreResult<()>;
    /// Open alerts, newest first.
    async fn open_alerts(&self) -> StoreResult<Vec<Alert>>;

    // --- Notifications (see [`notify`]) ---

    /// The user's notification settings (defaults: e-mail on, no webhook).
    async fn notification_settings(&self, user: UserId) -> StoreResult<NotificationSettings>;
    /// Replaces them. `NotFound` for an unknown user.
    async fn set_notification_settings(
        &self,
        user: UserId,
        settings: &NotificationSettings,
    ) -> StoreResult<()>;
    /// The `cursor` (`order_events` or `alerts`) of `notifications.deliver`.
    async fn notify_cursor(&self, cursor: &str) -> StoreResult<i64>;
    /// Order events after `after` (up to `limit` read, oldest first) that are worth notifying,
    /// with the id of the last event read (≥ `after`) to move the cursor to.
    async fn notifiable_events(
        &self,
        after: i64,
        limit: i64,
    ) -> StoreResult<(Vec<NotifiableEvent>, i64)>;
    /// Alerts created after `after`, oldest first (up to `limit`).
    async fn alerts_after(&self, after: i64, limit: i64) -> StoreResult<Vec<Alert>>;
    /// Admins with their settings: who hears admin alerts.
    async fn alert_recipients(&self) -> StoreResult<Vec<AlertRecipient>>;
    /// Writes a batch's notifications and deliveries (each once per user and source) and moves
    /// its cursor, in one transaction; `None` if the cursor was not at `batch.from` (another run
    /// wrote them), else the number of new notifications.
    async fn record_notifications(
        &self,
        batch: &NotificationBatch,
        now: i64,
    ) -> StoreResult<Option<u64>>;
    /// Claims up to `limit` pending deliveries due at `now`, oldest due first: each gets one
    /// more attempt and is hidden from other claims until `now + lease_ms`.
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>>;
    /// Records how a claimed delivery's attempt ended.
    async fn finish_delivery(
        &self,
        id: i64,
        outcome: &DeliveryOutcome,
        now: i64,
    ) -> StoreResult<()>;
    /// The deliveries of a user's notifications, newest first.
    async fn deliveries_of_user(
        &self,
        user: UserId,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRecord>>;
    /// A user's notifications, newest first, with ids below `before`.
    async fn notifications_of_user(
        &self,
        user: UserId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Notification>>;
    /// How many of the user's notifications are unread.
    async fn unread_notifications(&self, user: UserId) -> StoreResult<i64>;
    /// Marks the user's notifications up to id `up_to` read; returns how many changed.
    async fn mark_notifications_read(&self, user: UserId, up_to: i64, now: i64)
        -> StoreResult<u64>;
    /// Deletes up to `batch` notifications created before `before` with no pending delivery,
    /// with their deliveries; returns how many notifications went.
    async fn prune_notifications(&self, before: i64, batch: i64) -> StoreResult<u64>;

    // --- Manual payments ---

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

    // --- The live feed (see [`notify::FeedItem`]) ---

    /// The newest row of every feed source: where a new hub starts.
    async fn feed_head(&self) -> StoreResult<FeedCursor>;
    /// Up to `limit` rows of each source after `cursor`, in commit-id order per source, and
    /// the cursor after them.
    async fn feed_after(
        &self,
        cursor: FeedCursor,
        limit: i64,
    ) -> StoreResult<(Vec<FeedItem>, FeedCursor)>;
    /// The rows of `user` after `cursor` (their order events, ledger entries and
    /// notifications, and every alert when `admin`): up to `limit` per source, in id order per
    /// source. What a WebSocket that reconnects from a page's position replays.
    async fn feed_of_user_after(
        &self,
        user: UserId,
        admin: bool,
        cursor: FeedCursor,
        limit: i64,
    ) -> StoreResult<Vec<FeedItem>>;
    /// A wake-up for the feed; see [`FeedSignal`].
    async fn feed_signal(&self) -> StoreResult<Box<dyn FeedSignal>>;
}
