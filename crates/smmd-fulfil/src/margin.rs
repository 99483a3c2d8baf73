//! The margin guard at dispatch (issue 20, rules in [`smmd_domain::margin`]): no order leaves
//! for less than its offer's live cost plus the minimum margin.
//!
//! Before a claimed batch is sent, the provider's live costs are read again with a `services`
//! call when the last read is older than [`Settings::cost_max_age_ms`](crate::Settings) (0 =
//! before every batch); a failed read keeps the last known costs and counts as a read, so it is
//! tried again only after that age. Each order whose charge is below the floor goes back to
//! `queued` with the hold `margin` (event `MarginHold`, the reason on its note and timeline),
//! and its service raises `margin_hold` (subject `service:<id>`) for the admins. Held orders are
//! never claimed again until the owner releases them (sent whatever the margin) or refunds them
//! (`smmd_app::margin`). An order released by the owner, or whose offer has no known cost (never
//! read), is sent unchecked.

use std::collections::{HashMap, HashSet};

use smmd_domain::alert::{service_subject, AlertKind};
use smmd_domain::failover::{Reason, Scope};
use smmd_domain::margin::{effective_margin, floor, meets_margin, order_cost, Hold};
use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::service::ServiceType;
use smmd_domain::ServiceId;
use smmd_store::{Order, OrderUpdate, Provider, UpdateOutcome};

use crate::catalog::cost_micros;
use crate::{bump, Fulfil, Report};

/// Reads `p`'s costs again when they are older than the settings allow (or never read).
/// Counters: `costs_read`, `costs_changed`, `cost_read_errors`.
pub async fn refresh_costs(f: &Fulfil, p: &Provider, report: &mut Report) -> anyhow::Result<()> {
    let now = f.clock.now_ms();
    let fresh = f
        .store
        .provider_costs_read_at(p.id)
        .await?
        .is_some_and(|at| now - at < f.settings.cost_max_age_ms);
    if fresh {
        return Ok(());
    }
    let read = match f.clients.get(p) {
        Ok(client) => client.services().await.map_err(anyhow::Error::from),
        Err(e) => Err(anyhow::Error::from(e)),
    };
    match read {
        Ok((upstream, _)) => {
            let costs: Vec<(String, smmd_domain::Money)> = upstream
                .iter()
                .filter_map(|u| Some((u.id.clone(), cost_micros(&u.rate)?)))
                .collect();
            let changed = f
                .store
                .record_provider_costs(p.id, Some(&costs), now)
                .await?;
            bump(report, "costs_read", 1);
            bump(report, "costs_changed", changed as i64);
        }
        Err(e) => {
            tracing::warn!(provider = p.id.0, error = %e, "reading costs before dispatch failed; the last known costs apply");
            // The attempt counts as a read: a provider whose `services` fails is asked again
            // after `cost_max_age_ms`, not before every batch.
            f.store.record_provider_costs(p.id, None, now).await?;
            bump(report, "cost_read_errors", 1);
        }
    }
    Ok(())
}

/// Splits a claimed batch of provider `p`: the orders to send, and the ones below margin —
/// moved to another offer whose known cost meets it ([`crate::failover`], counter `rerouted`)
/// or else held (already moved back to `queued` with the hold, their services alerted,
/// counter `margin_held`).
pub async fn guard(
    f: &Fulfil,
    board: &crate::failover::Board<'_>,
    p: &Provider,
    claimed: Vec<Order>,
    types: &HashMap<ServiceId, ServiceType>,
    report: &mut Report,
) -> anyhow::Result<Vec<Order>> {
    if claimed.iter().all(|o| o.hold == Some(Hold::Released)) {
        return Ok(claimed);
    }
    refresh_costs(f, p, report).await?;
    let ids = crate::failover::upstream_ids(&claimed);
    let costs = f.store.provider_costs(p.id, &ids).await?;
    let services: Vec<ServiceId> = claimed
        .iter()
        .map(|o| o.service_id)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let terms = f.store.margin_terms(&services).await?;
    let now = f.clock.now_ms();
    let mut send = Vec::with_capacity(claimed.len());
    let mut held: HashMap<ServiceId, (i64, String)> = HashMap::new();
    for o in claimed {
        let rate = o.provider_service_id.as_ref().and_then(|id| costs.get(id));
        let (Some(rate), None) = (rate, o.hold.filter(|h| *h == Hold::Released)) else {
            send.push(o);
            continue;
        };
        let package = types.get(&o.service_id).is_some_and(|t| t.is_package());
        let t = terms.get(&o.service_id);
        let margin = effective_margin(
            t.and_then(|t| t.min_margin_bp),
            t.and_then(|t| t.category_margin_bp),
            f.settings.default_min_margin_bp,
        );
        let cost = order_cost(*rate, p.exchange_rate, o.total_quantity, package);
        let Some(cost) = cost.filter(|c| !meets_margin(o.charge, *c, margin)) else {
            if cost.is_none() {
                tracing::warn!(order = o.id.0, "order cost overflows; sent unchecked");
            }
            send.push(o);
            continue;
        };
        let least = floor(cost, margin).map_or_else(|| "—".to_string(), |m| m.to_string());
        // Another offer whose known cost meets the margin takes it rather than a hold.
        let why = format!("its cost {cost} leaves less than the minimum margin (least price {least}), sold for {}", o.charge);
        let (reason, scope) = (Reason::BelowMargin, Scope::MeetingMargin);
        if crate::failover::reroute(f, board, &o, package, reason, scope, &why).await? {
            bump(report, "rerouted", 1);
            continue;
        }
        let why = format!(
            "Held: the offer now costs {cost} (plus a {}.{:02} % minimum margin: {least}), the order was sold for {}. \
             Release it to send it anyway, or refund it.",
            margin / 100,
            margin % 100,
            o.charge
        );
        let mut u = OrderUpdate::new(o.id, OrderStatus::Submitting, OrderEvent::MarginHold, now);
        u.note = Some(why.clone());
        if let UpdateOutcome::Applied { .. } = f.store.apply_order_update(u).await? {
            bump(report, "margin_held", 1);
            let e = held.entry(o.service_id).or_insert((0, why));
            e.0 += 1;
        }
    }
    for (service, (n, why)) in held {
        let message = format!(
            "Service #{}: {n} order(s) held below cost plus margin. {why}",
            service.0
        );
        if let Err(e) = f
            .store
            .raise_alert(
                AlertKind::MarginHold,
                &service_subject(service),
                &message,
                now,
            )
            .await
        {
            tracing::warn!(error = %e, "raising the margin alert failed");
        }
    }
    Ok(send)
}
