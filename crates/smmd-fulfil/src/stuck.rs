//! Stuck orders: an order still active (queued, submitting, processing, in progress)
//! [`Settings::stuck_after_ms`](crate::Settings::stuck_after_ms) after it was due — placed, or
//! for a drip-feed, its last run — raises `order_stuck` (subject `order:<id>`) for the admins and
//! their alert channels; the alert is resolved once the order is no longer stuck (finished,
//! canceled, or sent to review, which has its own alert). Checked at the end of every
//! `orders.sync_status` run, after the statuses moved.

use std::collections::HashSet;

use smmd_domain::alert::{order_subject, AlertKind};

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
