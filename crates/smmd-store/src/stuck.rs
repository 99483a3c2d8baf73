//! Records of the stuck-order ladder (issue 20, [`smmd_domain::stuck`]): the services' and
//! categories' own "stuck after" settings, the forwarded orders that may be stuck, each step an
//! order took (at most once, by primary key), and the admin's queue of stuck orders.

use std::collections::HashMap;

use serde::Serialize;
use smmd_domain::stuck::{Step, StuckOverride};
use smmd_domain::{OrderId, ProviderId, ServiceId};

use crate::*;

/// A forwarded, active order past its service's floor, with what the ladder needs to judge it.
#[derive(Clone, Debug)]
pub struct StuckCandidate {
    pub order: Order,
    /// When it was due (epoch ms): placed, or its last drip-feed run.
    pub due_at: i64,
    /// Its service's and category's own settings.
    pub service_rule: StuckOverride,
    pub category_rule: StuckOverride,
    /// Steps taken so far (0–3; orders that took all four are not candidates) and when the last
    /// one was taken (epoch ms).
    pub taken: i64,
    pub last_taken_at: Option<i64>,
}

/// One step an order took.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StuckStepRecord {
    pub step: Step,
    /// Epoch ms.
    pub taken_at: i64,
    /// What came of it (empty while under way).
    pub detail: String,
}

/// An active order on the ladder, for the admin queue.
#[derive(Clone, Debug, Serialize)]
pub struct StuckEntry {
    pub order: Order,
    pub provider_name: Option<String>,
    /// Its steps in order.
    pub steps: Vec<StuckStepRecord>,
}

/// How many active orders of one provider are on the ladder.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderStuck {
    pub provider_id: ProviderId,
    pub name: String,
    pub orders: i64,
}

/// The admin's stuck queue: active orders with at least one step, oldest first, and the counts
/// per provider (the most first).
#[derive(Clone, Debug, Default, Serialize)]
pub struct StuckQueue {
    pub orders: Vec<StuckEntry>,
    pub per_provider: Vec<ProviderStuck>,
}

/// The ladder's records.
#[async_trait::async_trait]
pub trait StuckStore: Send + Sync {
    /// Forwarded orders (`processing`, `in_progress`, with a provider order id) due at least
    /// their floor ago at `now` (the service's, else the category's, else `default_floor_ms`)
    /// that took fewer than four steps; the oldest first, at most `limit`.
    async fn stuck_candidates(
        &self,
        default_floor_ms: i64,
        now: i64,
        limit: i64,
    ) -> StoreResult<Vec<StuckCandidate>>;

    /// Claims `step` of `order` at `now`: `true` when this call took it, `false` when it was
    /// taken before (a step happens at most once, whatever runs concurrently).
    async fn claim_stuck_step(
        &self,
        order: OrderId,
        step: Step,
        provider: Option<ProviderId>,
        now: i64,
    ) -> StoreResult<bool>;

    /// Records what a claimed step did: its row's detail (for the admins) and a `stuck` event
    /// on the order's timeline (status = the step's name, no detail: customers see which step,
    /// not what the provider answered), in one transaction.
    async fn finish_stuck_step(
        &self,
        order: &Order,
        step: Step,
        detail: &str,
        now: i64,
    ) -> StoreResult<()>;

    /// Every step `order` took, in order.
    async fn stuck_steps(&self, order: OrderId) -> StoreResult<Vec<StuckStepRecord>>;

    /// The admin queue, at most `limit` orders.
    async fn stuck_queue(&self, limit: i64) -> StoreResult<StuckQueue>;

    /// These services' own settings and their categories', by service (unknown ids absent).
    async fn stuck_rules(
        &self,
        ids: &[ServiceId],
    ) -> StoreResult<HashMap<ServiceId, (StuckOverride, StuckOverride)>>;

    /// Sets a service's own settings (checked by the caller). Errors: `NotFound`.
    async fn set_service_stuck(
        &self,
        id: ServiceId,
        rule: StuckOverride,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Sets a category's own settings (checked by the caller). Errors: `NotFound`.
    async fn set_category_stuck(
        &self,
        name: &str,
        rule: StuckOverride,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;
}
