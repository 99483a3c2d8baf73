//! Stuck orders, two ways, both run at the end of every `orders.sync_status` run, after the
//! statuses moved:
//!
//! - [`check`]: an order still active (queued, submitting, processing, in progress)
//!   [`Settings::stuck_after_ms`](crate::Settings::stuck_after_ms) after it was due — placed, or
//!   for a drip-feed, its last run — raises `order_stuck` (subject `order:<id>`) for the admins
//!   and their alert channels; the alert is resolved once the order is no longer stuck
//!   (finished, canceled, or sent to review, which has its own alert);
//! - [`ladder`]: a forwarded order past its service's "stuck after"
//!   ([`smmd_domain::stuck`]) climbs the escalation ladder — ask the status again, ask the
//!   provider to push it, cancel upstream (refunded only when a later status confirms), open a
//!   support ticket and tell the customer — each step once (claimed in the store before it is
//!   taken) and logged on the order's timeline.

use std::collections::{HashMap, HashSet};

use smmd_domain::alert::{order_subject, AlertKind};
use smmd_domain::stuck::{Step, StuckRule};
use smmd_domain::ticket::TicketTopic;
use smmd_domain::{ProviderId, ServiceId};
use smmd_provider::Item;
use smmd_store::{avg_ms_per_1000, NewTicket, Order, Provider, StuckCandidate, SyncTarget};

use crate::{bump, Fulfil, Report};

/// Most stuck orders alerted at once (the oldest first; the rest follow as these resolve).
pub const STUCK_LIMIT: i64 = 200;

/// Raises the alert for newly stuck orders and resolves it for orders no longer stuck;
/// counters `stuck_raised`, `stuck_resolved`.
pub async fn check(f: &Fulfil) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let after = f.settings.stuck_after_ms;
    if after <= 0 {
        return Ok(report);
    }
    let now = f.clock.now_ms();
    let stuck = f.store.stuck_orders(now - after, STUCK_LIMIT).await?;
    let subjects: HashSet<String> = stuck.iter().map(|o| order_subject(o.id)).collect();
    let kind = AlertKind::OrderStuck.as_str();
    let mut open = HashSet::new();
    for alert in f.store.open_alerts().await? {
        if alert.kind != kind {
            continue;
        }
        if subjects.contains(&alert.subject) {
            open.insert(alert.subject);
        } else {
            f.store
                .resolve_alert(AlertKind::OrderStuck, &alert.subject, now)
                .await?;
            bump(&mut report, "stuck_resolved", 1);
        }
    }
    for o in &stuck {
        let subject = order_subject(o.id);
        if open.contains(&subject) {
            continue;
        }
        let message = format!(
            "Order #{} ({}) is still {} more than {} h after it was due{}",
            o.id.0,
            o.reference,
            o.status.as_str().replace('_', " "),
            after / 3_600_000,
            o.provider_order_id
                .as_deref()
                .map(|p| format!("; provider order {p}"))
                .unwrap_or_default()
        );
        if f.store
            .raise_alert(AlertKind::OrderStuck, &subject, &message, now)
            .await?
        {
            bump(&mut report, "stuck_raised", 1);
        }
    }
    Ok(report)
}

/// Most orders the ladder looks at in one run (the oldest first; the rest follow).
pub const LADDER_LIMIT: i64 = 500;

/// Completed orders averaged for a service's normal time (as on the order form).
const SAMPLES: i64 = 10;

/// Takes the step each stuck order is due for, at most one per order. Counters: `stuck_refresh`,
/// `stuck_speed_up`, `stuck_cancel`, `stuck_ticket` (steps taken), `stuck_step_errors`.
pub async fn ladder(f: &Fulfil) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let floor = f.settings.stuck_after_ms;
    if floor <= 0 {
        return Ok(report);
    }
    let now = f.clock.now_ms();
    let candidates = f.store.stuck_candidates(floor, now, LADDER_LIMIT).await?;
    if candidates.is_empty() {
        return Ok(report);
    }
    let mut averages: HashMap<ServiceId, Option<i64>> = HashMap::new();
    for c in &candidates {
        if let std::collections::hash_map::Entry::Vacant(e) = averages.entry(c.order.service_id) {
            let samples = f
                .store
                .completion_samples(c.order.service_id, SAMPLES)
                .await?;
            e.insert(avg_ms_per_1000(&samples));
        }
    }
    let default = StuckRule {
        after_pct: f.settings.stuck_after_pct,
        floor_ms: floor,
        step_ms: f.settings.stuck_step_ms,
    };
    let due: Vec<(&StuckCandidate, Step)> = candidates
        .iter()
        .filter_map(|c| {
            let rule = default.resolve(c.service_rule, c.category_rule);
            let avg = averages.get(&c.order.service_id).copied().flatten();
            rule.next_step(
                c.due_at,
                avg,
                c.order.total_quantity,
                c.taken,
                c.last_taken_at,
                now,
            )
            .map(|s| (c, s))
        })
        .collect();
    let mut providers: HashMap<ProviderId, Option<Provider>> = HashMap::new();
    for (c, _) in &due {
        if let Some(p) = c.order.provider_id {
            if let std::collections::hash_map::Entry::Vacant(e) = providers.entry(p) {
                e.insert(f.store.provider(p).await?);
            }
        }
    }
    // Claim first: a step is taken at most once, whatever else runs.
    let mut refresh: HashMap<ProviderId, Vec<&Order>> = HashMap::new();
    for (c, step) in due {
        let o = &c.order;
        if !f
            .store
            .claim_stuck_step(o.id, step, o.provider_id, now)
            .await?
        {
            continue;
        }
        bump(&mut report, &format!("stuck_{}", step.as_str()), 1);
        let provider = o
            .provider_id
            .and_then(|p| providers.get(&p).cloned().flatten());
        match (step, provider) {
            (Step::Refresh, Some(p)) => refresh.entry(p.id).or_default().push(o),
            (Step::Ticket, _) => {
                let detail = open_ticket(f, o, now).await;
                finish(f, o, step, &detail, &mut report).await;
            }
            (_, None) => {
                finish(f, o, step, "The order's provider is gone", &mut report).await;
            }
            (step, Some(p)) => {
                let detail = ask_provider(f, &p, o, step).await;
                finish(f, o, step, &detail, &mut report).await;
            }
        }
    }
    // Status asked again, a batch per provider (the sync's own guarded path).
    for (pid, orders) in refresh {
        let Some(Some(p)) = providers.get(&pid) else {
            continue;
        };
        let outcome = match f.clients.get(p) {
            Ok(client) => {
                let targets = orders.iter().filter_map(|o| target(o)).collect();
                crate::sync::sync_batch(f, &client, targets)
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        };
        for o in orders {
            let detail = match &outcome {
                Ok(_) => match f.store.order(o.id).await {
                    Ok(Some(now)) => format!(
                        "Status asked again: {}{}",
                        now.status.as_str().replace('_', " "),
                        now.remains
                            .map(|r| format!(", {r} remain"))
                            .unwrap_or_default()
                    ),
                    _ => "Status asked again".to_string(),
                },
                Err(e) => format!("Status asked again; {e}"),
            };
            finish(f, o, Step::Refresh, &detail, &mut report).await;
        }
    }
    Ok(report)
}

/// The sync target of a forwarded order.
fn target(o: &Order) -> Option<SyncTarget> {
    Some(SyncTarget {
        id: o.id,
        status: o.status,
        provider_order_id: o.provider_order_id.clone()?,
        start_count: o.start_count,
        remains: o.remains,
        provider_charge: o.provider_charge,
        cancel_requested: o.cancel_requested,
        total_quantity: o.total_quantity,
    })
}

/// Records a taken step's outcome; a failure to record is counted, not fatal (the step stays
/// claimed: it never runs twice).
async fn finish(f: &Fulfil, o: &Order, step: Step, detail: &str, report: &mut Report) {
    if let Err(e) = f
        .store
        .finish_stuck_step(o, step, detail, f.clock.now_ms())
        .await
    {
        tracing::warn!(order = o.id.0, step = step.as_str(), error = %e, "a stuck step was not recorded");
        bump(report, "stuck_step_errors", 1);
    }
}

/// The speed-up and cancel steps: one call to the provider; the answer is the step's outcome.
async fn ask_provider(f: &Fulfil, p: &Provider, o: &Order, step: Step) -> String {
    let Some(pid) = o.provider_order_id.clone() else {
        return "The order has no provider order id".into();
    };
    let client = match f.clients.get(p) {
        Ok(c) => c,
        Err(e) => return format!("The provider could not be called: {e}"),
    };
    match step {
        Step::SpeedUp if !o.refill => {
            "The provider offers no speed-up or refill for this service".into()
        }
        Step::SpeedUp => match client.refill(&pid).await {
            Ok(id) => format!("Speed-up asked: the provider opened refill {id}"),
            Err(e) => format!("Speed-up asked; {e}"),
        },
        Step::Cancel if !o.cancel => "The provider does not cancel this service".into(),
        Step::Cancel => match client.cancel(std::slice::from_ref(&pid)).await {
            Ok(answers) => match answers.get(&pid) {
                Some(Item::Found(())) => {
                    "Cancel asked upstream; the refund follows when the provider confirms".into()
                }
                Some(Item::Error(m)) => format!("The provider refused the cancel: {m}"),
                _ => "The provider did not answer the cancel".into(),
            },
            Err(e) => format!("Cancel asked; {e}"),
        },
        Step::Refresh | Step::Ticket => String::new(),
    }
}

/// The last step: a support ticket about the order, opened for its customer (who is notified
/// by the order's `stuck` event); the admins see it in the support queue.
async fn open_ticket(f: &Fulfil, o: &Order, now: i64) -> String {
    let ticket = NewTicket {
        user_id: o.user_id,
        author: "smmd".into(),
        topic: TicketTopic::Order,
        subject: format!("Order {} is delayed", o.reference),
        order_ids: vec![o.id],
        body: format!(
            "Order {} is taking much longer than this service normally does. We asked the \
             provider for its status, to speed it up and to cancel it; support is looking into \
             it and will answer here. Any part that is not delivered is refunded to your balance.",
            o.reference
        ),
        now,
    };
    match f.store.open_ticket(&ticket).await {
        Ok(t) => format!("Ticket #{} opened; the customer was told", t.id),
        Err(e) => format!("The ticket could not be opened: {e}"),
    }
}
