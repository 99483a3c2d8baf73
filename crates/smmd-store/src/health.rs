//! What the orders say about each provider's health (issue 20): over a recent window, the orders
//! it was sent, how many it canceled or left partial, how many climbed the stuck-order ladder,
//! and what it charged (its currency), for the runway of its balance.

use serde::Serialize;
use smmd_domain::{Money, ProviderId};

use crate::*;

/// One provider's orders sent since a given instant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProviderOrderFigures {
    pub provider_id: ProviderId,
    /// Orders sent (with a provider order id), placed since the instant.
    pub orders: i64,
    /// Of those, ended `canceled` / `partial`.
    pub canceled: i64,
    pub partial: i64,
    /// Of those, took at least one step of the stuck-order ladder.
    pub stuck: i64,
    /// Of those, came to it from another offer of their service (offer failover).
    pub taken_over: i64,
    /// What the provider charged for them, its currency (micro-units summed exactly).
    pub spent: Money,
}

#[async_trait::async_trait]
pub trait HealthStore: Send + Sync {
    /// Per provider with at least one order sent, the figures of the orders placed at or after
    /// `since` (epoch ms) that are still in the live orders table.
    async fn provider_order_figures(&self, since: i64) -> StoreResult<Vec<ProviderOrderFigures>>;
}
