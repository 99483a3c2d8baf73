//! Records of fulfilment: upstream providers, their offers for our services, what dispatch and
//! status sync read and write, the service change log and admin alerts. The use cases are methods
//! of [`crate::Store`]; this module holds their inputs and outputs.

use crate::*;
use serde::{Deserialize, Serialize};
use smmd_domain::order::OrderStatus;
use smmd_domain::refill::RefillStatus;
use smmd_domain::{Money, OrderId, ProviderId, RefillId, ServiceId};

use crate::ServiceDraft;

/// One micro-unit exchange rate of 1.0 (panel currency per provider currency unit).
pub const RATE_ONE: i64 = 1_000_000;

/// An upstream provider panel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Provider {
    pub id: ProviderId,
    /// Unique display name.
    pub name: String,
    /// The exact API v2 URL.
    pub url: String,
    /// The provider's account currency (ISO code).
    pub currency: String,
    /// Panel currency per one unit of the provider's currency, in micro-units (1.0 = 1 000 000).
    pub exchange_rate: i64,
    pub enabled: bool,
    /// The API key, encrypted with the panel's secret key (never serialised).
    #[serde(skip)]
    pub api_key_enc: String,
    /// Whole-request timeout, milliseconds.
    pub timeout_ms: i64,
    pub max_concurrency: i64,
    /// Requests per second allowed; `None` = unlimited.
    pub rate_per_sec: Option<i64>,
    /// Last balance read, provider currency.
    pub balance: Option<Money>,
    pub balance_checked_at: Option<i64>,
    /// Raise an admin alert when the balance is below this (provider currency).
    pub balance_alert_below: Option<Money>,
    /// When the provider last refused an order for lack of funds (epoch ms); cleared when it
    /// accepts one. Offer failover treats it as failing for the funds retry period after this.
    pub out_of_funds_at: Option<i64>,
    /// The secret its status pushes are signed with, sealed like the API key; empty = pushes
    /// are not accepted (never serialised).
    #[serde(skip)]
    pub push_secret_enc: String,
    /// When its last accepted status push arrived (epoch ms).
    pub push_at: Option<i64>,
    /// Answer size caps and the price-jump hold.
    pub limits: ProviderLimits,
    pub created_at: i64,
}

/// What smmd accepts from one provider before it stops trusting the answer (issue 15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderLimits {
    /// Largest answer read for any action but `services`, bytes (default 1 MiB). A longer body is
    /// cut off unread and the call fails as a provider error.
    pub answer_max_bytes: i64,
    /// Largest `services` answer read, bytes (default 16 MiB).
    pub services_max_bytes: i64,
    /// A services sync holds a rate change for the admin's approval when the new provider rate
    /// is more than this factor (percent: 200 = x2) above or below the old one (default 200).
    pub price_jump_pct: i64,
}

impl Default for ProviderLimits {
    fn default() -> ProviderLimits {
        ProviderLimits {
            answer_max_bytes: 1 << 20,
            services_max_bytes: 16 << 20,
            price_jump_pct: 200,
        }
    }
}

/// A provider to add.
#[derive(Clone, Debug)]
pub struct NewProvider {
    pub name: String,
    pub url: String,
    pub currency: String,
    pub exchange_rate: i64,
    pub api_key_enc: String,
    pub timeout_ms: i64,
    pub max_concurrency: i64,
    pub rate_per_sec: Option<i64>,
    pub balance_alert_below: Option<Money>,
    pub limits: ProviderLimits,
}

/// Where an order can be bought: a provider and its service id. Offer 0 is the service's own
/// mapping; fallbacks follow in position order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Offer {
    pub provider_id: ProviderId,
    pub provider_service_id: String,
}

/// An active order as status sync needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyncTarget {
    pub id: OrderId,
    pub status: OrderStatus,
    pub provider_order_id: String,
    pub start_count: Option<i64>,
    pub remains: Option<i64>,
    pub provider_charge: Option<Money>,
    pub cancel_requested: bool,
    /// Units ordered in all (quantity × runs for drip-feed): the bound for `remains`.
    pub total_quantity: i64,
}

/// A change `services.sync` wants; applied with [`crate::Store::apply_service_sync`].
#[derive(Clone, Debug)]
pub enum ServiceSyncOp {
    /// A service new upstream.
    Create(ServiceDraft),
    /// Changed fields of an existing service; `draft` is the whole new state.
    Update {
        id: ServiceId,
        draft: ServiceDraft,
        changes: Vec<FieldChange>,
    },
    /// Gone upstream: disabled (never deleted; orders reference it).
    Disable { id: ServiceId },
}

/// One field's change, for the service change log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
}

/// A row of the service change log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceChange {
    pub id: i64,
    pub service_id: ServiceId,
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// `sync:<provider id>` or `admin:<user id>`.
    pub source: String,
    pub created_at: i64,
}

/// An admin's edit of a service; each set field becomes an override that sync never touches.
#[derive(Clone, Debug, Default)]
pub struct ServiceEdit {
    pub name: Option<String>,
    /// Selling rate per 1000, panel currency.
    pub rate: Option<Money>,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub enabled: Option<bool>,
    /// Markup in basis points (not an override: it changes how sync prices).
    pub markup_bp: Option<Option<i64>>,
    /// Request refills automatically when a drop is detected (not an override).
    pub auto_refill: Option<bool>,
    /// The description customers read (an override: sync stops importing it).
    pub description: Option<String>,
    /// The refill guarantee in days (an override: sync stops reading it from the name).
    pub guarantee_days: Option<i64>,
    /// A selling rate from the pricing function (cost × exchange rate × markup), applied like a
    /// sync's: not an override, and ignored when `rate` is given or the rate is overridden.
    pub priced_rate: Option<Money>,
}

/// A refill to send upstream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefillTask {
    pub id: RefillId,
    pub order_id: OrderId,
    pub provider_id: ProviderId,
    pub provider_order_id: String,
}

/// An active refill as refill sync needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefillSyncTarget {
    pub id: RefillId,
    pub status: RefillStatus,
    pub provider_refill_id: String,
}

/// An open admin alert.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub id: i64,
    /// `provider_balance_low`, `services_sync_refused`, `order_needs_review`, `unknown_status`…
    pub kind: String,
    /// What it is about (`provider:3`, `order:42`).
    pub subject: String,
    pub message: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Fulfilment: providers, the dispatch claim, status-sync targets, cancels to send, the review queue and admin alerts.
#[async_trait::async_trait]
pub trait FulfilStore: Send + Sync {
    /// Adds a provider, with its audit entry in the same transaction.
    /// `Conflict("providers.name")` if the name exists.
    async fn create_provider(
        &self,
        p: NewProvider,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<Provider>;

    /// Replaces a provider's settings with `p` (name, URL, currency and exchange rate, timeout,
    /// concurrency, rate limit, alert threshold, limits), and its sealed key with
    /// `p.api_key_enc` only when `replace_key`; with its audit entry in the same transaction.
    /// `NotFound` if absent; `Conflict("providers.name")` if another provider has the name.
    async fn update_provider(
        &self,
        id: ProviderId,
        p: &NewProvider,
        replace_key: bool,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<Provider>;

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

    /// Records that `id` refused an order for lack of funds at `at` (epoch ms), or clears it
    /// (`None`, an order was accepted). Offer failover reads it from [`Provider::out_of_funds_at`].
    async fn set_provider_out_of_funds(&self, id: ProviderId, at: Option<i64>) -> StoreResult<()>;

    /// Sets `id`'s sealed push secret (`""` = pushes off), audited. `NotFound` if absent.
    async fn set_provider_push_secret(
        &self,
        id: ProviderId,
        sealed: &str,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// The active order of `provider` it knows as `provider_order_id` (`processing` or
    /// `in_progress`), as the status sync reads it; `None` if there is none.
    async fn push_target(
        &self,
        provider: ProviderId,
        provider_order_id: &str,
    ) -> StoreResult<Option<SyncTarget>>;

    /// Records push `delivery` of `provider` (for `order`) at `now`, and the provider's
    /// `push_at`. Returns `false` when the delivery was already recorded.
    async fn record_push(
        &self,
        provider: ProviderId,
        delivery: &str,
        order: Option<OrderId>,
        now: i64,
    ) -> StoreResult<bool>;

    /// Whether `provider` already recorded push `delivery`.
    async fn push_seen(&self, provider: ProviderId, delivery: &str) -> StoreResult<bool>;

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

    /// Claims up to `limit` queued orders of enabled providers (`provider` = that one only),
    /// oldest first: marks them `submitting` and commits before any provider call (architecture
    /// §2 step 2). On PostgreSQL concurrent claimers skip each other's rows.
    async fn claim_dispatch(
        &self,
        provider: Option<ProviderId>,
        limit: i64,
        now: i64,
    ) -> StoreResult<Vec<Order>>;

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

    /// Orders still active (queued, submitting, processing, in progress) that were due before
    /// `cutoff` (epoch ms): placed before it, or for a drip-feed order of `runs` runs every
    /// `interval_minutes`, whose last run was due before it. Oldest first, up to `limit`.
    /// Orders waiting for review are not here: they have their own alert.
    async fn stuck_orders(&self, cutoff: i64, limit: i64) -> StoreResult<Vec<Order>>;

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
}
