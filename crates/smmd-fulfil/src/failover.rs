//! Offer failover at dispatch (issue 20, rules in [`smmd_domain::failover`]): an unsent order
//! whose offer is failing goes to the healthiest other offer of its service that meets the
//! margin, with the reason code on the order (`orders.route_reason`) and on its note.
//!
//! When an order may move (never once a provider can have it):
//! - before its `add`, in its provider's lane ([`before_send`]): the provider is failing (its
//!   breaker tripped and a `balance` probe failed too, so no order is risked as the probe), it
//!   refused an order for lack of funds within [`Settings::funds_retry_ms`](crate::Settings), or
//!   the upstream service is missing from its last service list;
//! - after a refusal ([`after_refusal`]): only to a later offer, never back to one that refused;
//! - after a call that was not executed (connect failure, 429, open circuit, key refused),
//!   to an offer that is not failing, else it waits on its own;
//! - instead of a margin hold, to an offer whose known cost meets the margin ([`crate::margin`]).
//!
//! An `add` whose answer was lost goes to review as before: the order never moves.
//!
//! A [`Board`] is one batch's view of the providers: their rows, breaker and health window,
//! and each tripped provider's probe, made once per batch.

use std::collections::{HashMap, HashSet};

use smmd_domain::failover::{pick, Candidate, OfferFacts, OfferState, Reason, Scope};
use smmd_domain::margin::{effective_margin, meets_margin, order_cost};
use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::ProviderId;
use smmd_store::{Offer, Order, OrderUpdate, Provider, UpdateOutcome};
use tokio::sync::Mutex;

use crate::{bump, Fulfil, Report};

/// One batch's view of the providers' health.
pub struct Board<'a> {
    f: &'a Fulfil,
    providers: HashMap<ProviderId, Provider>,
    /// Whether each provider probed so far is failing (tripped breaker, probe failed).
    probed: Mutex<HashMap<ProviderId, bool>>,
}

impl<'a> Board<'a> {
    /// Reads the providers. Errors: the store's.
    pub async fn load(f: &'a Fulfil) -> anyhow::Result<Board<'a>> {
        let providers = f
            .store
            .providers()
            .await?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        Ok(Board {
            f,
            providers,
            probed: Mutex::new(HashMap::new()),
        })
    }

    /// The provider row, if it exists and is enabled.
    fn provider(&self, id: ProviderId) -> Option<&Provider> {
        self.providers.get(&id).filter(|p| p.enabled)
    }

    /// Whether `p`'s breaker tripped and a `balance` probe (admitted once its cooldown passed)
    /// did not succeed. Probed once per provider per batch.
    async fn failing(&self, p: &Provider) -> bool {
        let Ok(client) = self.f.clients.get(p) else {
            return true;
        };
        if !client.tripped() {
            return false;
        }
        let mut probed = self.probed.lock().await;
        if let Some(failing) = probed.get(&p.id) {
            return *failing;
        }
        let failing = client.balance().await.is_err();
        probed.insert(p.id, failing);
        failing
    }

    /// Provider `id`'s facts, with `service_missing` for the offer's upstream service.
    async fn facts(&self, id: ProviderId, service_missing: bool) -> OfferFacts {
        let Some(p) = self.provider(id) else {
            return OfferFacts {
                provider_failing: true,
                ..OfferFacts::default()
            };
        };
        let now = self.f.clock.now_ms();
        let out_of_funds = p
            .out_of_funds_at
            .is_some_and(|at| now - at < self.f.settings.funds_retry_ms);
        let (calls, failed_calls) = match self.f.clients.get(p) {
            Ok(c) => {
                let h = c.health();
                (h.calls, h.failed_calls())
            }
            Err(_) => (0, 0),
        };
        OfferFacts {
            provider_failing: self.failing(p).await,
            out_of_funds,
            service_missing,
            calls,
            failed_calls,
        }
    }

    /// The state of offer `o`.
    async fn state(&self, o: &Offer) -> anyhow::Result<OfferState> {
        let missing = self
            .f
            .store
            .provider_services_missing(o.provider_id, std::slice::from_ref(&o.provider_service_id))
            .await?
            .contains(&o.provider_service_id);
        Ok(OfferState::classify(
            self.facts(o.provider_id, missing).await,
        ))
    }
}

/// Splits a claimed batch of provider `p` before any call: orders whose offer is failing and
/// that another offer can take are moved there (`queued`, counter `rerouted`); the rest are
/// returned to be sent. Orders of single-offer services are never looked at twice.
pub(crate) async fn before_send(
    f: &Fulfil,
    board: &Board<'_>,
    p: &Provider,
    claimed: Vec<Order>,
    packages: &HashSet<smmd_domain::ServiceId>,
    report: &mut Report,
) -> anyhow::Result<Vec<Order>> {
    let ids = upstream_ids(&claimed);
    let missing = f.store.provider_services_missing(p.id, &ids).await?;
    let healthy = board.facts(p.id, false).await;
    if !missing.is_empty() || OfferState::classify(healthy).failing().is_some() {
        let mut send = Vec::with_capacity(claimed.len());
        for o in claimed {
            let gone = o
                .provider_service_id
                .as_ref()
                .is_some_and(|id| missing.contains(id));
            let state = OfferState::classify(OfferFacts {
                service_missing: gone,
                ..healthy
            });
            let moved = match state.failing() {
                Some(reason) => {
                    let package = packages.contains(&o.service_id);
                    let why = format!("{} is {}", p.name, describe(reason));
                    reroute(f, board, &o, package, reason, Scope::Healthy, &why).await?
                }
                None => false,
            };
            match moved {
                true => bump(report, "rerouted", 1),
                false => send.push(o),
            }
        }
        return Ok(send);
    }
    Ok(claimed)
}

/// The distinct upstream service ids of `orders` (a batch's `provider_service_id`s).
pub(crate) fn upstream_ids(orders: &[Order]) -> Vec<String> {
    orders
        .iter()
        .filter_map(|o| o.provider_service_id.clone())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect()
}

/// Moves claimed order `o` (`submitting`) to the best other offer of its service in `scope`,
/// back to `queued` with `reason`. Returns whether it moved (`false`: no offer qualifies, or
/// the order changed meanwhile).
pub(crate) async fn reroute(
    f: &Fulfil,
    board: &Board<'_>,
    o: &Order,
    package: bool,
    reason: Reason,
    scope: Scope,
    why: &str,
) -> anyhow::Result<bool> {
    let Some((index, offer)) = alternative(f, board, o, package, scope).await? else {
        return Ok(false);
    };
    let u = move_update(f, board, o, index, offer, reason, why);
    Ok(matches!(
        f.store.apply_order_update(u).await?,
        UpdateOutcome::Applied { .. }
    ))
}

/// The update that moves `o` to offer `index` for `reason` (`submitting` → `queued`).
pub(crate) fn move_update(
    f: &Fulfil,
    board: &Board<'_>,
    o: &Order,
    index: i64,
    offer: Offer,
    reason: Reason,
    why: &str,
) -> OrderUpdate {
    let to = board
        .providers
        .get(&offer.provider_id)
        .map_or_else(|| format!("#{}", offer.provider_id.0), |p| p.name.clone());
    let mut u = OrderUpdate::new(
        o.id,
        OrderStatus::Submitting,
        OrderEvent::ProviderRejected { next_offer: true },
        f.clock.now_ms(),
    );
    u.note = Some(format!(
        "Moved from offer {} to offer {index} ({to}) [{reason}]: {why}",
        o.offer_index
    ));
    u.offer = Some((index, offer));
    u.route_reason = Some(reason);
    u
}

/// The offer a refused order goes to next: a later one, healthiest first, failing ones last;
/// `None` = none left (the order is canceled).
pub(crate) async fn after_refusal(
    f: &Fulfil,
    board: &Board<'_>,
    o: &Order,
    package: bool,
) -> anyhow::Result<Option<(i64, Offer)>> {
    alternative(f, board, o, package, Scope::After).await
}

/// The best other offer for `o` in `scope`, with its index.
pub(crate) async fn alternative(
    f: &Fulfil,
    board: &Board<'_>,
    o: &Order,
    package: bool,
    scope: Scope,
) -> anyhow::Result<Option<(i64, Offer)>> {
    let offers = f.store.service_offers(o.service_id).await?;
    if offers.len() < 2 {
        return Ok(None);
    }
    let terms = f.store.margin_terms(&[o.service_id]).await?;
    let t = terms.get(&o.service_id);
    let margin = effective_margin(
        t.and_then(|t| t.min_margin_bp),
        t.and_then(|t| t.category_margin_bp),
        f.settings.default_min_margin_bp,
    );
    let released = o.hold == Some(smmd_domain::margin::Hold::Released);
    let mut candidates = Vec::with_capacity(offers.len());
    for (i, offer) in offers.iter().enumerate() {
        let index = i as i64;
        if index == o.offer_index || (scope == Scope::After && index < o.offer_index) {
            continue;
        }
        let state = board.state(offer).await?;
        let meets = match released {
            true => Some(true),
            false => offer_meets_margin(f, board, o, offer, package, margin).await?,
        };
        candidates.push(Candidate {
            index,
            state,
            meets_margin: meets,
        });
    }
    Ok(pick(&candidates, o.offer_index, scope).and_then(|i| {
        offers
            .get(usize::try_from(i).ok()?)
            .cloned()
            .map(|x| (i, x))
    }))
}

/// Whether `o`'s charge covers `offer`'s live cost plus `margin` (bp); `None` when the cost is
/// unknown (never read) or the provider is gone.
async fn offer_meets_margin(
    f: &Fulfil,
    board: &Board<'_>,
    o: &Order,
    offer: &Offer,
    package: bool,
    margin: i64,
) -> anyhow::Result<Option<bool>> {
    let Some(p) = board.provider(offer.provider_id) else {
        return Ok(None);
    };
    let costs = f
        .store
        .provider_costs(
            offer.provider_id,
            std::slice::from_ref(&offer.provider_service_id),
        )
        .await?;
    Ok(costs
        .get(&offer.provider_service_id)
        .and_then(|rate| order_cost(*rate, p.exchange_rate, o.total_quantity, package))
        .map(|cost| meets_margin(o.charge, cost, margin)))
}

/// The reason of a refusal of `kind`.
pub(crate) fn refusal_reason(kind: smmd_provider::RejectKind) -> Reason {
    use smmd_provider::RejectKind as K;
    match kind {
        K::InsufficientFunds => Reason::OutOfFunds,
        K::Service => Reason::ServiceDisabled,
        _ => Reason::Refused,
    }
}

fn describe(reason: Reason) -> &'static str {
    match reason {
        Reason::ProviderFailing => "failing (repeated errors, and a balance probe failed)",
        Reason::ProviderUnavailable => "not taking calls",
        Reason::OutOfFunds => "out of funds (it refused an order for lack of funds)",
        Reason::ServiceDisabled => "no longer listing this service",
        Reason::Refused => "refusing the order",
        Reason::BelowMargin => "above the price minus the minimum margin",
    }
}
