//! Records of the margin guard (issue 20, [`smmd_domain::margin`]): the live provider costs every
//! services call reads, the minimum margin and breach action of services and categories, and the
//! orders the guard holds.

use std::collections::HashMap;

use serde::Serialize;
use smmd_domain::margin::MarginAction;
use smmd_domain::{Money, ProviderId, ServiceId};

use crate::*;

/// A service's margin settings as set, with its category's margin (resolve with
/// [`smmd_domain::margin::effective_margin`]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MarginTerms {
    pub service_id: ServiceId,
    /// The service's own minimum margin, basis points; `None` = its category's.
    pub min_margin_bp: Option<i64>,
    /// The category's minimum margin, basis points; `None` = the panel default.
    pub category_margin_bp: Option<i64>,
    pub action: MarginAction,
}

/// A service with orders the margin guard holds, for the admin queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct HeldService {
    pub service_id: ServiceId,
    pub name: String,
    /// Selling price per 1000 now, panel currency.
    pub rate: Money,
    /// Held orders and what their customers paid for them (panel currency).
    pub orders: i64,
    pub charged: Money,
    /// When the oldest held order was placed (epoch ms).
    pub oldest_at: i64,
}

/// The margin guard's records.
#[async_trait::async_trait]
pub trait MarginStore: Send + Sync {
    /// Records the rates (per 1000, provider currency) a services call of `provider` answered,
    /// `(upstream service id, rate)`, and stamps the read at `now`; `None` = the call failed
    /// (only the stamp is written). Only changed rates are written; a known service absent from
    /// the answer is marked missing since `now` (offer failover's "service disabled"), a
    /// listed one is unmarked. Returns how many rates changed.
    async fn record_provider_costs(
        &self,
        provider: ProviderId,
        costs: Option<&[(String, Money)]>,
        now: i64,
    ) -> StoreResult<usize>;

    /// Marks `provider`'s upstream service `id` missing since `now` (it refused an order as an
    /// unknown service), if its cost is known; the next services read that lists it unmarks it.
    async fn mark_provider_service_missing(
        &self,
        provider: ProviderId,
        id: &str,
        now: i64,
    ) -> StoreResult<()>;

    /// Which of these upstream services of `provider` are marked missing.
    async fn provider_services_missing(
        &self,
        provider: ProviderId,
        ids: &[String],
    ) -> StoreResult<std::collections::HashSet<String>>;

    /// When `provider`'s costs were last read (epoch ms); `None` = never.
    async fn provider_costs_read_at(&self, provider: ProviderId) -> StoreResult<Option<i64>>;

    /// The live rates of these upstream services of `provider` (unknown ones are absent).
    async fn provider_costs(
        &self,
        provider: ProviderId,
        ids: &[String],
    ) -> StoreResult<HashMap<String, Money>>;

    /// The margin terms of these services (unknown ones are absent).
    async fn margin_terms(
        &self,
        services: &[ServiceId],
    ) -> StoreResult<HashMap<ServiceId, MarginTerms>>;

    /// Sets a service's minimum margin (`None` = its category's) and breach action. Errors:
    /// `NotFound`.
    async fn set_service_margin(
        &self,
        id: ServiceId,
        min_margin_bp: Option<i64>,
        action: MarginAction,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Sets a category's minimum margin (`None` = the panel default). Errors: `NotFound`.
    async fn set_category_margin(
        &self,
        name: &str,
        min_margin_bp: Option<i64>,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Queued orders the guard holds, oldest first, of one service or all.
    async fn held_orders(&self, service: Option<ServiceId>, limit: i64) -> StoreResult<Vec<Order>>;

    /// The services with held orders, the most held first.
    async fn held_services(&self) -> StoreResult<Vec<HeldService>>;
}
