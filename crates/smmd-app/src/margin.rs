//! Margin guard use cases (issue 20, rules in [`smmd_domain::margin`]): an admin sets a
//! service's or a category's minimum margin and a service's breach action, reads the queue of
//! orders held below cost plus margin, and releases (send anyway) or refunds them. Each held
//! order moves through the order state machine with a guarded update, the refund in the same
//! transaction under the order's refund key, so a decision repeated or raced pays once.

use smmd_domain::alert::{service_subject, AlertKind};
use smmd_domain::margin::{check_min_margin, MarginAction};
use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::{Money, ServiceId};
use smmd_store::{HeldService, Order, OrderUpdate, StoreError, UpdateOutcome};

use crate::audit::{self, Actor};
use crate::catalog::CategoryRef;
use crate::error::{ErrorCode, Refusal, UseCaseError};
use crate::App;

/// Most held orders one decision moves (the rest stay in the queue for the next decision).
pub const DECISION_LIMIT: i64 = 10_000;

fn invalid(msg: impl Into<String>) -> UseCaseError {
    Refusal::new(ErrorCode::InvalidMargin, msg).into()
}

/// Sets service `id`'s minimum margin (basis points 0–100000, `None` = its category's) and its
/// breach action (`hold` or `reprice`), audited as `service.margin`.
///
/// Errors: `invalid_margin`, `not_found`; nothing written.
pub async fn set_service_margin(
    app: App<'_>,
    actor: &Actor,
    id: ServiceId,
    min_margin_bp: Option<i64>,
    action: &str,
) -> Result<(), UseCaseError> {
    check_min_margin(min_margin_bp).map_err(|e| invalid(e.to_string()))?;
    let action = MarginAction::parse(action)
        .ok_or_else(|| invalid("the breach action is `hold` or `reprice`"))?;
    let detail = format!(
        "minimum margin {}, on breach {}",
        min_margin_bp.map_or("from the category".to_string(), |b| format!("{b} bp")),
        action.as_str()
    );
    let audit = actor.audit(
        "service.margin",
        format!("service:{}", id.0),
        detail,
        app.now(),
    );
    app.store
        .set_service_margin(id, min_margin_bp, action, Some(audit))
        .await?;
    Ok(())
}

/// Sets a category's minimum margin (basis points 0–100000, `None` = the panel default),
/// audited as `category.margin`.
///
/// Errors: `invalid_margin`, `not_found`; nothing written.
pub async fn set_category_margin(
    app: App<'_>,
    actor: &Actor,
    category: CategoryRef<'_>,
    min_margin_bp: Option<i64>,
) -> Result<(), UseCaseError> {
    check_min_margin(min_margin_bp).map_err(|e| invalid(e.to_string()))?;
    let c = crate::catalog::find_category(app, category).await?;
    let detail = min_margin_bp.map_or("panel default".to_string(), |b| format!("{b} bp"));
    let audit = actor.audit(
        "category.margin",
        format!("category:{}", c.id.0),
        detail,
        app.now(),
    );
    app.store
        .set_category_margin(&c.name, min_margin_bp, Some(audit))
        .await?;
    Ok(())
}

/// The services with orders held below cost plus margin, the most held first.
pub async fn held_services(app: App<'_>) -> Result<Vec<HeldService>, UseCaseError> {
    Ok(app.store.held_services().await?)
}

/// The held orders of service `id`, oldest first (at most `limit`, 1–10000).
pub async fn held_orders(
    app: App<'_>,
    id: ServiceId,
    limit: i64,
) -> Result<Vec<Order>, UseCaseError> {
    Ok(app.store.held_orders(Some(id), limit).await?)
}

/// The owner's choice for a service's held orders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HoldDecision {
    /// Send them at the next dispatch whatever the margin (the owner accepts the loss).
    Release,
    /// Cancel them with a full refund to their customers.
    Refund,
}

impl HoldDecision {
    /// `release` or `refund` (REST and page forms).
    pub fn parse(s: &str) -> Result<HoldDecision, UseCaseError> {
        match s.trim() {
            "release" => Ok(HoldDecision::Release),
            "refund" => Ok(HoldDecision::Refund),
            _ => Err(Refusal::new(
                ErrorCode::InvalidHoldDecision,
                "the decision is `release` or `refund`",
            )
            .into()),
        }
    }

    fn name(self) -> &'static str {
        match self {
            HoldDecision::Release => "release",
            HoldDecision::Refund => "refund",
        }
    }
}

/// What one decision did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct DecisionReport {
    /// Held orders released or refunded.
    pub orders: i64,
    /// Paid back to customers, panel currency.
    pub refunded: Money,
    /// Orders that changed meanwhile (canceled by their customer, decided by another admin).
    pub skipped: i64,
}

/// Applies `decision` to every order of service `id` held by the margin guard (up to
/// [`DECISION_LIMIT`]), with a reason of 1–500 characters (on each order's note and timeline;
/// one audit line `service.held.<release|refund>` with the counts). The service's
/// `margin_hold` alert is resolved when no held order is left.
///
/// Errors: `reason_required`, `not_found` (no such service); nothing written.
pub async fn decide_held(
    app: App<'_>,
    actor: &Actor,
    id: ServiceId,
    decision: HoldDecision,
    reason: &str,
) -> Result<DecisionReport, UseCaseError> {
    let reason = audit::reason(reason)?;
    app.store.service(id).await?.ok_or(StoreError::NotFound)?;
    let held = app.store.held_orders(Some(id), DECISION_LIMIT).await?;
    let mut report = DecisionReport::default();
    for o in held {
        let now = app.now();
        let (event, note) = match decision {
            HoldDecision::Release => (
                OrderEvent::MarginRelease,
                format!("Released by an admin below margin: {reason}"),
            ),
            HoldDecision::Refund => (
                OrderEvent::AdminCancel,
                format!("Refunded by an admin: the offer costs more than the price ({reason})"),
            ),
        };
        let mut u = OrderUpdate::new(o.id, OrderStatus::Queued, event, now);
        u.note = Some(note);
        match app.store.apply_order_update(u).await? {
            UpdateOutcome::Applied { refunded, .. } => {
                report.orders += 1;
                report.refunded = report
                    .refunded
                    .checked_add(refunded)
                    .unwrap_or(report.refunded);
            }
            UpdateOutcome::Stale | UpdateOutcome::Illegal(_) => report.skipped += 1,
        }
    }
    let now = app.now();
    app.store
        .record_audit(actor.audit(
            &format!("service.held.{}", decision.name()),
            format!("service:{}", id.0),
            format!(
                "{} order(s), {} refunded, {} skipped: {reason}",
                report.orders, report.refunded, report.skipped
            ),
            now,
        ))
        .await?;
    // Released orders leave with the next dispatch run; wake it instead of waiting for a tick.
    if let (HoldDecision::Release, true, Some(wake)) = (decision, report.orders > 0, app.wake) {
        wake.wake(smmd_jobs::jobs::DISPATCH);
    }
    if app.store.held_orders(Some(id), 1).await?.is_empty() {
        app.store
            .resolve_alert(AlertKind::MarginHold, &service_subject(id), now)
            .await?;
    }
    Ok(report)
}
