//! Admin order actions: resolving an order in `needs_review` (attach the provider's order id,
//! send it again, or cancel and refund), cancel and refund from any state, ending an order as
//! Partial, and cancelling on the customer's behalf. Each goes through the order state machine
//! with a guarded update; the refund, the note, the review alert and the audit line commit
//! with it.

use smmd_domain::alert::AlertKind;
use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::{Money, OrderId};
use smmd_store::{CancelOutcome, Order, OrderUpdate, UpdateOutcome};

use crate::audit::{self, Actor};
use crate::error::{ErrorCode, UseCaseError};
use crate::App;

/// How an admin resolves an order in `needs_review`.
#[derive(Clone, Debug)]
pub enum Resolution {
    /// The provider has it: record its order id (1–100 characters); status sync takes over.
    Attach { provider_order_id: String },
    /// The provider does not have it: queue it for dispatch again.
    Resend,
    /// Give up: cancel and refund the whole charge.
    CancelAndRefund,
}

impl Resolution {
    /// The resolution named `attach`, `resend` or `cancel` (REST and page forms).
    pub fn parse(action: &str, provider_order_id: Option<String>) -> Option<Resolution> {
        match action {
            "attach" => Some(Resolution::Attach {
                provider_order_id: provider_order_id.unwrap_or_default(),
            }),
            "resend" => Some(Resolution::Resend),
            "cancel" => Some(Resolution::CancelAndRefund),
            _ => None,
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Resolution::Attach { .. } => "attach",
            Resolution::Resend => "resend",
            Resolution::CancelAndRefund => "cancel",
        }
    }
}

/// The order `id`, or `not_found` ("no such order").
async fn order(app: App<'_>, id: OrderId) -> Result<Order, UseCaseError> {
    app.store
        .order(id)
        .await?
        .ok_or_else(|| UseCaseError::refused(ErrorCode::NotFound, "no such order"))
}

fn not_in_review(id: OrderId, status: OrderStatus) -> UseCaseError {
    UseCaseError::refused(
        ErrorCode::NotInReview,
        format!("order #{} is {status}, not waiting for review", id.0),
    )
}

/// Applies `resolution` to a `needs_review` order, with a reason of 1–500 characters (audited
/// as `order.resolve.<attach|resend|cancel>`). The order's review alert is resolved.
///
/// Errors: `reason_required`, `not_found`, `not_in_review` (also when another admin resolved
/// it first), `invalid_provider_order_id`; nothing written.
pub async fn resolve_review(
    app: App<'_>,
    actor: &Actor,
    id: OrderId,
    resolution: Resolution,
    reason: &str,
) -> Result<Order, UseCaseError> {
    let reason = audit::reason(reason)?;
    let o = order(app, id).await?;
    if o.status != OrderStatus::NeedsReview {
        return Err(not_in_review(id, o.status));
    }
    let now = app.now();
    let (event, note) = match &resolution {
        Resolution::Attach { .. } => (
            OrderEvent::ReviewAttach,
            "Provider order id attached by an admin",
        ),
        Resolution::Resend => (OrderEvent::ReviewResend, "Queued again by an admin"),
        Resolution::CancelAndRefund => {
            (OrderEvent::AdminCancel, "Canceled and refunded by an admin")
        }
    };
    let mut u = OrderUpdate::new(id, OrderStatus::NeedsReview, event, now);
    u.note = Some(note.to_string());
    u.audit = Some(actor.audit(
        &format!("order.resolve.{}", resolution.name()),
        format!("order:{}", id.0),
        reason.to_string(),
        now,
    ));
    if let Resolution::Attach { provider_order_id } = resolution {
        let pid = provider_order_id.trim();
        if pid.is_empty() || pid.chars().count() > 100 {
            return Err(UseCaseError::refused(
                ErrorCode::InvalidProviderOrderId,
                "the provider order id must have 1 to 100 characters",
            ));
        }
        u.provider_order_id = Some(pid.to_string());
    }
    match app.store.apply_order_update(u).await? {
        UpdateOutcome::Applied { order, .. } => {
            let subject = smmd_domain::alert::order_subject(id);
            if let Err(e) = app
                .store
                .resolve_alert(AlertKind::OrderNeedsReview, &subject, now)
                .await
            {
                tracing::warn!(error = %e, order = id.0, "resolving the review alert failed");
            }
            Ok(*order)
        }
        UpdateOutcome::Stale => {
            let now_status = app.store.order(id).await?.map_or(o.status, |o| o.status);
            Err(not_in_review(id, now_status))
        }
        UpdateOutcome::Illegal(e) => Err(UseCaseError::refused(
            ErrorCode::InvalidTransition,
            e.to_string(),
        )),
    }
}

/// An admin decision on an order outside review.
#[derive(Clone, Copy, Debug)]
pub enum OrderAction {
    /// Cancel and refund whatever was not refunded yet (from any state but canceled).
    Refund,
    /// End the order as Partial with `remains` undelivered; refunds `charge × remains / total`.
    SetPartial { remains: i64 },
}

/// Applies `action` to order `id` with a guarded update (the refund in the same transaction,
/// keyed per order so it is paid once). `reason` (1–500 characters) goes on the order's note
/// and the audit line (`order.refund`, `order.partial`).
///
/// Errors: `reason_required`, `not_found`, `invalid_remains` (outside 0..=quantity),
/// `invalid_transition` (the state machine forbids it, or the order changed meanwhile).
pub async fn act_on_order(
    app: App<'_>,
    actor: &Actor,
    id: OrderId,
    action: OrderAction,
    reason: &str,
) -> Result<Order, UseCaseError> {
    let reason = audit::reason(reason)?;
    let o = order(app, id).await?;
    let now = app.now();
    let (mut u, name, detail) = match action {
        OrderAction::Refund => (
            OrderUpdate::new(id, o.status, OrderEvent::AdminCancel, now),
            "order.refund",
            reason.to_string(),
        ),
        OrderAction::SetPartial { remains } => {
            if !(0..=o.total_quantity).contains(&remains) {
                return Err(UseCaseError::refused(
                    ErrorCode::InvalidRemains,
                    format!("remains must be 0 to {}", o.total_quantity),
                ));
            }
            let mut u = OrderUpdate::new(id, o.status, OrderEvent::AdminSetPartial, now);
            u.remains = Some(remains);
            (u, "order.partial", format!("remains {remains}: {reason}"))
        }
    };
    u.note = Some(format!("Admin: {reason}"));
    u.audit = Some(actor.audit(name, format!("order:{}", id.0), detail, now));
    match app.store.apply_order_update(u).await? {
        UpdateOutcome::Applied { order, .. } => Ok(*order),
        UpdateOutcome::Stale => Err(UseCaseError::refused(
            ErrorCode::InvalidTransition,
            "the order changed meanwhile; look at it again",
        )),
        UpdateOutcome::Illegal(e) => Err(UseCaseError::refused(
            ErrorCode::InvalidTransition,
            format!("an order that is {} cannot take this action", e.from),
        )),
    }
}

/// Cancels order `id` the way its owner would (at once if never sent, else by asking the
/// provider), with a reason audited as `order.cancel`. Returns the outcome, the refund paid
/// now and the order after it.
pub async fn cancel_for_customer(
    app: App<'_>,
    actor: &Actor,
    id: OrderId,
    reason: &str,
) -> Result<(CancelOutcome, Money, Order), UseCaseError> {
    let reason = audit::reason(reason)?;
    let o = order(app, id).await?;
    let audit = actor.audit(
        "order.cancel",
        format!("order:{}", id.0),
        reason.to_string(),
        app.now(),
    );
    let outcome = crate::orders::cancel_as(app, o.user_id, id, Some(audit)).await?;
    let refunded = match outcome {
        CancelOutcome::Canceled { refunded } => refunded,
        CancelOutcome::Requested => Money::ZERO,
    };
    let o = order(app, id).await?;
    Ok((outcome, refunded, o))
}
