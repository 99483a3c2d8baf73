//! Records of fulfilment: upstream providers, their offers for our services, what dispatch and
//! status sync read and write, the service change log and admin alerts. The use cases are methods
//! of [`crate::Store`]; this module holds their inputs and outputs.

use serde::Serialize;
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
    pub created_at: i64,
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
