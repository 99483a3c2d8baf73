//! The order state machine and refund rules.
//!
//! Life of an order (architecture §2): `queued` → `submitting` (claimed by dispatch, committed
//! before the provider call) → `processing` / `in_progress` (accepted upstream) → `completed`,
//! `partial` or `canceled`. An ambiguous provider answer parks the order in `needs_review` until an
//! admin resolves it. [`transition`] is the only place that decides whether a change is legal; the
//! store applies the result with a guarded update (`where id = ? and status = ?`).
//!
//! Refunds are computed here from a *target*: `Canceled` → the whole charge, `Partial` →
//! `charge × remains / total_quantity` rounded down, anything else → nothing. The store pays
//! `target − already refunded` when positive, under the ledger key `order:<id>:refund`, so a
//! repeated sync pays nothing and a later correction only tops up.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::money::Money;

/// Where an order is in its life. Stored as the snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// Paid, waiting for dispatch.
    Queued,
    /// Claimed by dispatch; the provider call may be in flight.
    Submitting,
    /// The provider answer was ambiguous; an admin must resolve it. Never resent automatically.
    NeedsReview,
    /// Accepted upstream, not started (provider `Pending` / `Processing`).
    Processing,
    /// Delivering (provider `In progress`).
    InProgress,
    Completed,
    Partial,
    Canceled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 8] = [
        OrderStatus::Queued,
        OrderStatus::Submitting,
        OrderStatus::NeedsReview,
        OrderStatus::Processing,
        OrderStatus::InProgress,
        OrderStatus::Completed,
        OrderStatus::Partial,
        OrderStatus::Canceled,
    ];

    /// The stored name (`"needs_review"`).
    pub fn as_str(self) -> &'static str {
        match self {
            OrderStatus::Queued => "queued",
            OrderStatus::Submitting => "submitting",
            OrderStatus::NeedsReview => "needs_review",
            OrderStatus::Processing => "processing",
            OrderStatus::InProgress => "in_progress",
            OrderStatus::Completed => "completed",
            OrderStatus::Partial => "partial",
            OrderStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<OrderStatus> {
        OrderStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The API v2 status string (spec §5.1): everything not yet accepted upstream is `Pending`.
    pub fn wire(self) -> &'static str {
        match self {
            OrderStatus::Queued | OrderStatus::Submitting | OrderStatus::NeedsReview => "Pending",
            OrderStatus::Processing => "Processing",
            OrderStatus::InProgress => "In progress",
            OrderStatus::Completed => "Completed",
            OrderStatus::Partial => "Partial",
            OrderStatus::Canceled => "Canceled",
        }
    }

    /// Completed, Partial and Canceled end the order's delivery.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            OrderStatus::Completed | OrderStatus::Partial | OrderStatus::Canceled
        )
    }

    /// Counts for the "active order with this link" rule.
    pub fn is_active(self) -> bool {
        !self.is_terminal()
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A provider's order status after normalisation (spec §5.1, §6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProviderStatus {
    Pending,
    Processing,
    InProgress,
    Completed,
    Partial,
    Canceled,
}

/// Something that happens to an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderEvent {
    /// Dispatch claims a queued order before calling the provider.
    Claim,
    /// The provider accepted `add`.
    ProviderAccepted,
    /// The provider refused `add`; `next_offer` when another provider offer will be tried.
    ProviderRejected { next_offer: bool },
    /// The `add` outcome is unknown (timeout, 5xx after sending, lease expired mid-call).
    Ambiguous,
    /// Admin attaches the provider order id of a needs-review order.
    ReviewAttach,
    /// Admin decides to send a needs-review order again.
    ReviewResend,
    /// The customer or an admin cancels an order that was never sent: full refund.
    LocalCancel,
    /// Status sync saw this upstream status.
    Provider(ProviderStatus),
    /// Status sync saw a status it cannot apply as reported (a `Partial` saying nothing was
    /// left undelivered; see [`crate::provider_facts`]): an admin decides.
    ProviderImplausible,
    /// An admin ends the order as Partial (remains set by the admin).
    AdminSetPartial,
    /// An admin cancels and fully refunds an order.
    AdminCancel,
    /// Dispatch found the order's charge below its offer's live cost plus the minimum margin
    /// ([`crate::margin`]): back to `queued`, held unsent until the owner decides.
    MarginHold,
    /// The owner releases a held order: it is sent at the next dispatch whatever the margin.
    MarginRelease,
}

/// An event that is not allowed in the order's current state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("order in state `{from}` cannot take event {event:?}")]
pub struct IllegalTransition {
    pub from: OrderStatus,
    pub event: OrderEvent,
}

/// The next state for `event` in state `from`. Pure; every pair is covered by a test.
pub fn transition(from: OrderStatus, event: OrderEvent) -> Result<OrderStatus, IllegalTransition> {
    use OrderEvent as E;
    use OrderStatus as S;
    let next = match (from, event) {
        (S::Queued, E::Claim) => S::Submitting,
        (S::Submitting, E::ProviderAccepted) => S::Processing,
        (S::Submitting, E::ProviderRejected { next_offer: true }) => S::Queued,
        (S::Submitting, E::ProviderRejected { next_offer: false }) => S::Canceled,
        (S::Submitting, E::Ambiguous) => S::NeedsReview,
        (S::Submitting, E::MarginHold) => S::Queued,
        (S::Queued, E::MarginRelease) => S::Queued,
        (S::NeedsReview, E::ReviewAttach) => S::Processing,
        (S::NeedsReview, E::ReviewResend) => S::Queued,
        (S::Queued | S::NeedsReview, E::LocalCancel) => S::Canceled,
        (S::Processing | S::InProgress, E::Provider(p)) => match p {
            ProviderStatus::Pending | ProviderStatus::Processing => S::Processing,
            ProviderStatus::InProgress => S::InProgress,
            ProviderStatus::Completed => S::Completed,
            ProviderStatus::Partial => S::Partial,
            ProviderStatus::Canceled => S::Canceled,
        },
        (S::Processing | S::InProgress, E::ProviderImplausible) => S::NeedsReview,
        // A later upstream correction of a Partial order to Canceled tops the refund up.
        (S::Partial, E::Provider(ProviderStatus::Canceled)) => S::Canceled,
        (S::Processing | S::InProgress | S::Completed | S::NeedsReview, E::AdminSetPartial) => {
            S::Partial
        }
        (
            S::Queued | S::NeedsReview | S::Processing | S::InProgress | S::Completed | S::Partial,
            E::AdminCancel,
        ) => S::Canceled,
        _ => return Err(IllegalTransition { from, event }),
    };
    Ok(next)
}

/// What the customer should have been refunded in total once the order is in `status`.
/// `remains` is the undelivered count (clamped to `0..=total_quantity`; unknown counts as 0).
pub fn refund_target(
    status: OrderStatus,
    charge: Money,
    total_quantity: i64,
    remains: Option<i64>,
) -> Money {
    match status {
        OrderStatus::Canceled => charge,
        OrderStatus::Partial if total_quantity > 0 => {
            let r = remains.unwrap_or(0).clamp(0, total_quantity);
            charge
                .prorate_down(r, total_quantity)
                .unwrap_or(Money::ZERO)
        }
        _ => Money::ZERO,
    }
}

/// The refund still owed: `target − already_refunded` when positive, else zero. A refund is
/// never taken back by a later, lower target.
pub fn refund_due(target: Money, already_refunded: Money) -> Money {
    match target.checked_sub(already_refunded) {
        Some(d) if d.is_positive() => d,
        _ => Money::ZERO,
    }
}

/// What an order event log row records (`order_events.kind`, stored as the snake_case name).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The order was paid and queued.
    Placed,
    /// The order moved to a new status (with the refund it paid, if any).
    Status,
    /// A cancel was asked of the provider.
    CancelRequested,
    /// A refill of the order changed status.
    Refill,
    /// The stuck-order ladder took a step ([`crate::stuck::Step`] name in `status`, its
    /// outcome in `detail`).
    Stuck,
}

impl EventKind {
    pub const ALL: [EventKind; 5] = [
        EventKind::Placed,
        EventKind::Status,
        EventKind::CancelRequested,
        EventKind::Refill,
        EventKind::Stuck,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EventKind::Placed => "placed",
            EventKind::Status => "status",
            EventKind::CancelRequested => "cancel_requested",
            EventKind::Refill => "refill",
            EventKind::Stuck => "stuck",
        }
    }

    pub fn parse(text: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kinds_round_trip_through_their_stored_names() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(EventKind::parse("Status"), None);
    }

    fn all_events() -> Vec<OrderEvent> {
        use OrderEvent as E;
        let mut v = vec![
            E::Claim,
            E::ProviderAccepted,
            E::ProviderRejected { next_offer: true },
            E::ProviderRejected { next_offer: false },
            E::Ambiguous,
            E::ReviewAttach,
            E::ReviewResend,
            E::LocalCancel,
            E::AdminSetPartial,
            E::AdminCancel,
            E::ProviderImplausible,
            E::MarginHold,
            E::MarginRelease,
        ];
        for p in [
            ProviderStatus::Pending,
            ProviderStatus::Processing,
            ProviderStatus::InProgress,
            ProviderStatus::Completed,
            ProviderStatus::Partial,
            ProviderStatus::Canceled,
        ] {
            v.push(E::Provider(p));
        }
        v
    }

    /// The whole table, written out independently of `transition`'s match.
    fn expected(from: OrderStatus, e: OrderEvent) -> Option<OrderStatus> {
        use OrderEvent as E;
        use OrderStatus as S;
        use ProviderStatus as P;
        let allowed: &[(S, E, S)] = &[
            (S::Queued, E::Claim, S::Submitting),
            (S::Queued, E::LocalCancel, S::Canceled),
            (S::Queued, E::AdminCancel, S::Canceled),
            (S::Queued, E::MarginRelease, S::Queued),
            (S::Submitting, E::MarginHold, S::Queued),
            (S::Submitting, E::ProviderAccepted, S::Processing),
            (
                S::Submitting,
                E::ProviderRejected { next_offer: true },
                S::Queued,
            ),
            (
                S::Submitting,
                E::ProviderRejected { next_offer: false },
                S::Canceled,
            ),
            (S::Submitting, E::Ambiguous, S::NeedsReview),
            (S::NeedsReview, E::ReviewAttach, S::Processing),
            (S::NeedsReview, E::ReviewResend, S::Queued),
            (S::NeedsReview, E::LocalCancel, S::Canceled),
            (S::NeedsReview, E::AdminSetPartial, S::Partial),
            (S::Processing, E::ProviderImplausible, S::NeedsReview),
            (S::InProgress, E::ProviderImplausible, S::NeedsReview),
            (S::NeedsReview, E::AdminCancel, S::Canceled),
            (S::Processing, E::Provider(P::Pending), S::Processing),
            (S::Processing, E::Provider(P::Processing), S::Processing),
            (S::Processing, E::Provider(P::InProgress), S::InProgress),
            (S::Processing, E::Provider(P::Completed), S::Completed),
            (S::Processing, E::Provider(P::Partial), S::Partial),
            (S::Processing, E::Provider(P::Canceled), S::Canceled),
            (S::Processing, E::AdminSetPartial, S::Partial),
            (S::Processing, E::AdminCancel, S::Canceled),
            (S::InProgress, E::Provider(P::Pending), S::Processing),
            (S::InProgress, E::Provider(P::Processing), S::Processing),
            (S::InProgress, E::Provider(P::InProgress), S::InProgress),
            (S::InProgress, E::Provider(P::Completed), S::Completed),
            (S::InProgress, E::Provider(P::Partial), S::Partial),
            (S::InProgress, E::Provider(P::Canceled), S::Canceled),
            (S::InProgress, E::AdminSetPartial, S::Partial),
            (S::InProgress, E::AdminCancel, S::Canceled),
            (S::Completed, E::AdminSetPartial, S::Partial),
            (S::Completed, E::AdminCancel, S::Canceled),
            (S::Partial, E::Provider(P::Canceled), S::Canceled),
            (S::Partial, E::AdminCancel, S::Canceled),
        ];
        allowed
            .iter()
            .find(|(f, ev, _)| *f == from && *ev == e)
            .map(|(_, _, to)| *to)
    }

    #[test]
    fn every_state_event_pair_matches_the_table() {
        let mut legal = 0;
        for from in OrderStatus::ALL {
            for e in all_events() {
                let got = transition(from, e).ok();
                assert_eq!(got, expected(from, e), "{from} + {e:?}");
                legal += usize::from(got.is_some());
            }
        }
        assert_eq!(legal, 36, "the table has 36 legal transitions");
    }

    #[test]
    fn canceled_and_submitting_accept_nothing_from_customers() {
        assert!(transition(OrderStatus::Canceled, OrderEvent::AdminCancel).is_err());
        assert!(transition(OrderStatus::Submitting, OrderEvent::LocalCancel).is_err());
        assert!(transition(OrderStatus::Processing, OrderEvent::LocalCancel).is_err());
    }

    #[test]
    fn status_names_round_trip_and_map_to_wire() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(OrderStatus::InProgress.wire(), "In progress");
        assert_eq!(OrderStatus::NeedsReview.wire(), "Pending");
        assert_eq!(OrderStatus::Canceled.wire(), "Canceled");
    }

    #[test]
    fn refund_targets_follow_the_outcome() {
        let charge = Money::parse("0.09").expect("m");
        assert_eq!(
            refund_target(OrderStatus::Canceled, charge, 100, Some(100)),
            charge
        );
        assert_eq!(
            refund_target(OrderStatus::Partial, charge, 100, Some(40)).to_string(),
            "0.036"
        );
        assert_eq!(
            refund_target(OrderStatus::Partial, charge, 100, Some(1000)),
            charge,
            "remains clamped"
        );
        assert_eq!(
            refund_target(OrderStatus::Partial, charge, 100, Some(-5)),
            Money::ZERO
        );
        assert_eq!(
            refund_target(OrderStatus::Partial, charge, 100, None),
            Money::ZERO
        );
        assert_eq!(
            refund_target(OrderStatus::Completed, charge, 100, Some(10)),
            Money::ZERO
        );
    }

    #[test]
    fn refund_due_only_tops_up() {
        let m = |s: &str| Money::parse(s).expect("m");
        assert_eq!(refund_due(m("0.09"), m("0.036")), m("0.054"));
        assert_eq!(refund_due(m("0.036"), m("0.036")), Money::ZERO);
        assert_eq!(refund_due(m("0.01"), m("0.036")), Money::ZERO);
    }
}
