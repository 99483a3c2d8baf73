//! The catalogue: services with their selling terms and provider mapping, drafts, categories.

use serde::Serialize;
use smmd_domain::service::{ServiceRules, ServiceType};
use smmd_domain::{CategoryId, Money, ProviderId, ServiceId};

use crate::*;

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
            platform: smmd_domain::service::platform_of(&self.category, &self.name),
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
    /// Minimum margin over the live cost for the category's services, basis points; `None` =
    /// the panel default ([`smmd_domain::margin`]).
    pub min_margin_bp: Option<i64>,
}

/// The catalogue: services, categories, offers, admin edits and the services sync.
#[async_trait::async_trait]
pub trait CatalogStore: Send + Sync {
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

    /// Appends a fallback offer to a service (next position), with the admin action's audit
    /// row in the same transaction. Returns its position (≥ 1).
    async fn add_service_offer(
        &self,
        service: ServiceId,
        offer: Offer,
        audit: Option<NewAudit>,
    ) -> StoreResult<i64>;

    /// Removes a service's fallback offer `offer` (orders already on it keep their provider).
    /// Errors: `NotFound` when the service has no such fallback.
    async fn remove_service_offer(
        &self,
        service: ServiceId,
        offer: &Offer,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// The service's offers in order: its own mapping (if any) first, then the fallbacks.
    async fn service_offers(&self, service: ServiceId) -> StoreResult<Vec<Offer>>;

    /// The fallback offers (not the own mappings) of every service that has one, each list in
    /// dispatch order (for the admin services page: one read, whatever the catalog's size).
    async fn fallback_offers(
        &self,
    ) -> StoreResult<std::collections::HashMap<ServiceId, Vec<Offer>>>;

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

    /// The public "Updates" feed: changes of selling rate (`rate`) and availability (`enabled`)
    /// of every service, newest first, with the service's name and category. Never the cost.
    async fn catalog_updates(&self, limit: i64) -> StoreResult<Vec<CatalogUpdate>>;
}

/// A price or availability change customers may read ([`CatalogStore::catalog_updates`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CatalogUpdate {
    pub service_id: ServiceId,
    pub name: String,
    pub category: String,
    /// `rate` (selling rate per 1000, panel currency, decimal strings) or `enabled`
    /// (`true`/`false`).
    pub field: String,
    pub old: Option<String>,
    pub new: Option<String>,
    /// Epoch ms.
    pub at: i64,
}
