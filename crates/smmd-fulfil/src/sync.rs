//! `orders.sync_status` (architecture §2 step 3): keep every forwarded order moving.
//!
//! Per enabled provider, each in its own lane ([`crate::lanes`]: a failing or hung provider
//! only holds up its own part):
//! 1. send pending cancel requests (`action=cancel`, ≤ 100 ids a call); the refund waits for the
//!    outcome status;
//! 2. read all active orders oldest-checked first and ask `action=status&orders=…` in batches of
//!    [`BATCH`] — exactly ⌈n / 100⌉ calls for n orders;
//! 3. apply only real changes (status, start count or remains differ) with a guarded update that
//!    pays the refund in the same transaction (`order:<id>:refund`, target − already refunded);
//!    orders with nothing new get `checked_at` stamped in one statement per batch.
//!
//! Upstream `Fail`/unknown statuses and orders the provider no longer knows change nothing and
//! raise an admin alert.

use futures::stream::{self, StreamExt};
use smmd_domain::alert::{order_subject, AlertKind};
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::provider_facts::{self, Reported};
use smmd_domain::{Money, OrderId};
use smmd_provider::{Item, OrderState, ProviderClient, UpstreamStatus};
use smmd_store::{OrderUpdate, Provider, SyncTarget, UpdateOutcome};

use crate::{bump, lanes, merge, Fulfil, Report};

/// Most order ids per `status` call (API v2 limit, spec §2.2).
pub const BATCH: usize = 100;

/// Runs one sync pass over every enabled provider. Counters: `checked`, `changed`, `unchanged`,
/// `refunds`, `refunded_micros`, `status_calls`, `cancels_sent`, `not_found`, `unknown_status`,
/// `to_review`,
/// `provider_errors`, `errors`.
pub async fn run(f: &Fulfil) -> anyhow::Result<Report> {
    let mut report = lanes::per_enabled_provider(f, "sync_status", |f, p| async move {
        sync_provider(&f, &p).await
    })
    .await?;
    // After the statuses moved: what is still active long after it was due, and the ladder.
    match crate::stuck::check(f).await {
        Ok(r) => merge(&mut report, r),
        Err(e) => tracing::warn!(error = %e, "stuck orders not checked"),
    }
    match crate::stuck::ladder(f).await {
        Ok(r) => merge(&mut report, r),
        Err(e) => tracing::warn!(error = %e, "the stuck-order ladder did not run"),
    }
    Ok(report)
}

/// One provider's pass.
pub async fn sync_provider(f: &Fulfil, p: &Provider) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let client = f.clients.get(p)?;
    send_cancels(f, p, &client, &mut report).await?;
    let targets = f.store.sync_targets(p.id, i64::MAX).await?;
    let batches: Vec<Vec<SyncTarget>> = targets.chunks(BATCH).map(<[_]>::to_vec).collect();
    let results: Vec<anyhow::Result<Report>> = stream::iter(batches)
        .map(|b| sync_batch(f, &client, b))
        .buffer_unordered(f.settings.sync_parallel_calls.max(1))
        .collect()
        .await;
    for r in results {
        match r {
            Ok(r) => merge(&mut report, r),
            Err(e) => {
                tracing::warn!(provider = p.id.0, error = %e, "a status batch failed");
                if let Some(pe) = e.downcast_ref::<smmd_provider::ProviderError>() {
                    crate::alert_provider_error(f, p, pe).await;
                }
                bump(&mut report, "provider_errors", 1);
            }
        }
    }
    Ok(report)
}

async fn send_cancels(
    f: &Fulfil,
    p: &Provider,
    client: &ProviderClient,
    report: &mut Report,
) -> anyhow::Result<()> {
    loop {
        let todo = f.store.cancels_to_send(p.id, BATCH as i64).await?;
        if todo.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = todo.iter().map(|(_, pid)| pid.clone()).collect();
        let answers = client.cancel(&ids).await?;
        let sent: Vec<(OrderId, String)> = todo
            .iter()
            .map(|(id, pid)| {
                let note = match answers.get(pid) {
                    Some(Item::Found(())) => "Cancel requested from the provider".to_string(),
                    Some(Item::Error(m)) => format!("The provider refused the cancel: {m}"),
                    _ => "The provider did not answer the cancel".to_string(),
                };
                (*id, note)
            })
            .collect();
        f.store.mark_cancel_sent(&sent, f.clock.now_ms()).await?;
        bump(report, "cancels_sent", sent.len() as i64);
        if todo.len() < BATCH {
            return Ok(());
        }
    }
}

fn provider_status(s: &OrderState) -> Option<ProviderStatus> {
    Some(match s {
        OrderState::Pending => ProviderStatus::Pending,
        OrderState::Processing => ProviderStatus::Processing,
        OrderState::InProgress => ProviderStatus::InProgress,
        OrderState::Completed => ProviderStatus::Completed,
        OrderState::Partial => ProviderStatus::Partial,
        OrderState::Canceled => ProviderStatus::Canceled,
        OrderState::Failed | OrderState::Unknown(_) => return None,
    })
}

/// The state our order would be in after `ps`, for comparison.
fn next_status(ps: ProviderStatus) -> OrderStatus {
    match ps {
        ProviderStatus::Pending | ProviderStatus::Processing => OrderStatus::Processing,
        ProviderStatus::InProgress => OrderStatus::InProgress,
        ProviderStatus::Completed => OrderStatus::Completed,
        ProviderStatus::Partial => OrderStatus::Partial,
        ProviderStatus::Canceled => OrderStatus::Canceled,
    }
}

fn money_of(d: &rust_decimal::Decimal) -> Option<Money> {
    Money::parse_lenient(&d.to_string()).ok()
}

pub(crate) async fn sync_batch(
    f: &Fulfil,
    client: &ProviderClient,
    batch: Vec<SyncTarget>,
) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let ids: Vec<String> = batch.iter().map(|t| t.provider_order_id.clone()).collect();
    bump(&mut report, "status_calls", 1);
    let answers = client.statuses(&ids).await?;
    let now = f.clock.now_ms();
    let mut unchanged: Vec<OrderId> = Vec::new();
    let mut updates: Vec<OrderUpdate> = Vec::new();
    for t in &batch {
        bump(&mut report, "checked", 1);
        match answers.get(&t.provider_order_id) {
            Some(Item::Found(s)) => match planned(f, t, s, now, &mut report).await {
                Some(u) => updates.push(u),
                None => unchanged.push(t.id),
            },
            Some(Item::Error(m)) => {
                bump(&mut report, "not_found", 1);
                unchanged.push(t.id);
                let msg = format!("The provider answers {m:?} for order #{}.", t.id.0);
                alert(f, AlertKind::ProviderLostOrder, t.id, &msg, now).await;
            }
            Some(Item::Missing) | None => {
                bump(&mut report, "not_found", 1);
                unchanged.push(t.id);
            }
        }
    }
    // Every change of the batch, with its refund, in one transaction; guarded per order.
    for outcome in f.store.apply_order_updates(&updates).await? {
        tally(&mut report, outcome);
    }
    f.store.mark_checked(&unchanged, now).await?;
    Ok(report)
}

/// Counts one applied update: `changed` (with `refunds`, `refunded_micros`), `stale` (changed
/// under us — an admin action, another instance: the next pass sees it) or `errors`.
fn tally(report: &mut Report, outcome: UpdateOutcome) {
    match outcome {
        UpdateOutcome::Applied { refunded, .. } => {
            bump(report, "changed", 1);
            if refunded.is_positive() {
                bump(report, "refunds", 1);
                bump(report, "refunded_micros", refunded.micros());
            }
        }
        UpdateOutcome::Stale => bump(report, "stale", 1),
        UpdateOutcome::Illegal(e) => {
            tracing::error!(error = %e, "a provider status produced an illegal transition");
            bump(report, "errors", 1);
        }
    }
}

/// The update upstream status `s` of order `t` calls for, or `None` (unchanged, or a status
/// this build cannot read: alerted). Counters `to_review`, `unchanged`, `unknown_status`.
async fn planned(
    f: &Fulfil,
    t: &SyncTarget,
    s: &UpstreamStatus,
    now: i64,
    report: &mut Report,
) -> Option<OrderUpdate> {
    match change(t, s, now) {
        Change::Update(u) => Some(*u),
        Change::Review(u, reason) => {
            bump(report, "to_review", 1);
            let msg = format!("Order #{}: {reason}", t.id.0);
            alert(f, AlertKind::OrderNeedsReview, t.id, &msg, now).await;
            Some(*u)
        }
        Change::None => {
            bump(report, "unchanged", 1);
            None
        }
        Change::Unknown(raw) => {
            bump(report, "unknown_status", 1);
            let msg = format!(
                "The provider reports status {raw:?} for order #{}; nothing was changed.",
                t.id.0
            );
            alert(f, AlertKind::UnknownStatus, t.id, &msg, now).await;
            None
        }
    }
}

/// Applies a status the provider pushed for order `t` (issue 20, provider webhooks) through
/// exactly the sync's path: the same checks of the provider's numbers, the same guarded update
/// and refund in one transaction, so a push can do nothing a sync could not. A status older
/// than the order's (a push that arrives late) is an illegal or stale transition: nothing
/// changes. Counters as [`sync_batch`]'s: `changed`, `refunds`, `refunded_micros`, `stale`,
/// `unchanged`, `to_review`, `unknown_status`.
pub async fn apply_pushed(
    f: &Fulfil,
    t: &SyncTarget,
    s: &UpstreamStatus,
) -> anyhow::Result<Report> {
    let mut report = Report::new();
    let now = f.clock.now_ms();
    let Some(u) = planned(f, t, s, now, &mut report).await else {
        return Ok(report);
    };
    for outcome in f.store.apply_order_updates(&[u]).await? {
        tally(&mut report, outcome);
    }
    Ok(report)
}

async fn alert(f: &Fulfil, kind: AlertKind, id: OrderId, msg: &str, now: i64) {
    if let Err(e) = f
        .store
        .raise_alert(kind, &order_subject(id), msg, now)
        .await
    {
        tracing::warn!(error = %e, "raising an alert failed");
    }
}

enum Change {
    Update(Box<OrderUpdate>),
    /// The order goes to review (the update), with the reason for the alert.
    Review(Box<OrderUpdate>, String),
    None,
    Unknown(String),
}

/// The update an upstream status calls for, if anything really changed. The provider's
/// numbers are checked against the order first ([`provider_facts::check_status`]): nonsense is
/// clamped or dropped with a note, and a status that cannot be applied goes to review.
fn change(t: &SyncTarget, s: &UpstreamStatus, now: i64) -> Change {
    let Some(ps) = provider_status(&s.state) else {
        let raw = match &s.state {
            OrderState::Unknown(r) => r.clone(),
            other => format!("{other:?}"),
        };
        return Change::Unknown(raw);
    };
    let checked = provider_facts::check_status(
        t.total_quantity,
        &Reported {
            status: ps,
            start_count: s.start_count,
            remains: s.remains,
            charge: s.charge.as_ref().and_then(money_of),
        },
    );
    if let Some(reason) = checked.review {
        let mut u = OrderUpdate::new(t.id, t.status, OrderEvent::ProviderImplausible, now);
        u.start_count = checked.start_count;
        u.provider_charge = checked.charge;
        u.note = Some(reason.clone());
        return Change::Review(Box::new(u), reason);
    }
    let next = next_status(ps);
    let same = next == t.status
        && checked.start_count.is_none_or(|c| Some(c) == t.start_count)
        && checked.remains.is_none_or(|r| Some(r) == t.remains)
        && checked.charge.is_none_or(|c| Some(c) == t.provider_charge);
    if same {
        return Change::None;
    }
    let mut u = OrderUpdate::new(t.id, t.status, OrderEvent::Provider(ps), now);
    u.start_count = checked.start_count;
    u.remains = checked.remains;
    u.provider_charge = checked.charge;
    if !checked.notes.is_empty() {
        u.note = Some(checked.notes.join(" "));
    }
    Change::Update(Box::new(u))
}
