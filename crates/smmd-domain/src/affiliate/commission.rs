//! Commission on net spend (`docs/affiliates.md`): how much a referred order earns, how a
//! refund lowers it or claws it back, and the states a commission goes through.
//!
//! ```text
//! pending ── order final ──► held ── hold_days later (affiliates.release) ──► approved
//!    │                        │                                               (credited)
//!    │  flagged referral:     └── full refund ──► void
//!    └── order final ──► review ── admin approves ──► approved / admin voids ──► void
//! ```
//!
//! Money is exact: a commission is `⌊net · bp / 10000⌋` micro-units of the panel currency,
//! `net` being the order's charge less its refunds (the panel keeps the fraction).

use crate::money::Money;

/// The commission on `net` (charge − refunds) at `rate_bp` basis points (500 = 5 %):
/// `⌊net · bp / 10000⌋`, zero for a net or rate that is not positive.
pub fn commission(net: Money, rate_bp: i64) -> Money {
    if !net.is_positive() || rate_bp <= 0 {
        return Money::ZERO;
    }
    let v = i128::from(net.micros()) * i128::from(rate_bp) / 10_000;
    // rate_bp ≤ 10000 (checked in the settings), so v ≤ net and fits i64.
    Money::from_micros(i64::try_from(v).unwrap_or(i64::MAX))
}

/// What a refund of `refund` claws back from an approved commission whose order's net was
/// `net_before`: `commission(net_before) − commission(net_before − refund)`, at most
/// `uncovered` (what was credited and not yet clawed back). The differences telescope, so
/// every clawback of one order together is exactly what the credited commission exceeds the
/// commission on the final net: never more than was credited, never a rounding drift.
pub fn clawback(net_before: Money, refund: Money, rate_bp: i64, uncovered: Money) -> Money {
    let after = net_before.checked_sub(refund).unwrap_or(Money::ZERO);
    let diff = commission(net_before, rate_bp)
        .checked_sub(commission(after, rate_bp))
        .unwrap_or(Money::ZERO);
    if diff.micros() > uncovered.micros() {
        uncovered.max(Money::ZERO)
    } else {
        diff.max(Money::ZERO)
    }
}

/// A commission's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CommissionStatus {
    /// The order is still running: the amount follows its refunds.
    Pending,
    /// The order is final: approved by `affiliates.release` once the hold is over.
    Held,
    /// The referral is flagged: waits for an admin.
    Review,
    /// Credited to the affiliate ledger (`commission:<id>`).
    Approved,
    /// Fully refunded before approval, or voided by an admin: earns nothing.
    Void,
}

impl CommissionStatus {
    pub const ALL: [CommissionStatus; 5] = [
        CommissionStatus::Pending,
        CommissionStatus::Held,
        CommissionStatus::Review,
        CommissionStatus::Approved,
        CommissionStatus::Void,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            CommissionStatus::Pending => "pending",
            CommissionStatus::Held => "held",
            CommissionStatus::Review => "review",
            CommissionStatus::Approved => "approved",
            CommissionStatus::Void => "void",
        }
    }

    pub fn parse(text: &str) -> Option<CommissionStatus> {
        CommissionStatus::ALL
            .into_iter()
            .find(|s| s.as_str() == text)
    }

    /// Not yet credited, so a refund lowers the amount instead of clawing back.
    pub fn before_approval(self) -> bool {
        matches!(
            self,
            CommissionStatus::Pending | CommissionStatus::Held | CommissionStatus::Review
        )
    }
}

/// What a refund does to a commission. `net_after` is the order's net after the refund,
/// `refunded_at_ms` when the refund happened, `approved_at_ms` when the commission was credited
/// (if it was) and `credited` / `clawed` what was credited and already clawed back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnRefund {
    /// Before approval: the amount becomes this (and the commission void when it is zero and
    /// the order final).
    Lower(Money),
    /// After approval, inside the clawback window: claw back this much (may be zero).
    ClawBack(Money),
    /// Voided already, or refunded after the clawback window: nothing.
    Nothing,
}

/// The refund rule (`docs/affiliates.md`): a refund before approval lowers the commission; after
/// approval and within `clawback_days` of it, it claws back ([`clawback`]); later, nothing.
#[allow(clippy::too_many_arguments)]
pub fn on_refund(
    status: CommissionStatus,
    rate_bp: i64,
    net_before: Money,
    refund: Money,
    credited: Money,
    clawed: Money,
    approved_at_ms: Option<i64>,
    refunded_at_ms: i64,
    clawback_days: i64,
) -> OnRefund {
    let net_after = net_before.checked_sub(refund).unwrap_or(Money::ZERO);
    match status {
        s if s.before_approval() => OnRefund::Lower(commission(net_after, rate_bp)),
        CommissionStatus::Approved => {
            let window_end = approved_at_ms
                .unwrap_or(i64::MIN)
                .saturating_add(clawback_days.saturating_mul(crate::clock::DAY_MS));
            if refunded_at_ms > window_end {
                return OnRefund::Nothing;
            }
            let uncovered = credited.checked_sub(clawed).unwrap_or(Money::ZERO);
            OnRefund::ClawBack(clawback(net_before, refund, rate_bp, uncovered))
        }
        _ => OnRefund::Nothing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(s: &str) -> Money {
        Money::parse(s).expect("money")
    }

    #[test]
    fn five_percent_of_the_net_rounded_down() {
        assert_eq!(commission(m("10.00"), 500), m("0.50"));
        assert_eq!(commission(m("0.000019"), 500), Money::ZERO);
        assert_eq!(commission(m("0.000039"), 500), m("0.000001"));
        assert_eq!(commission(m("-1"), 500), Money::ZERO);
        assert_eq!(commission(m("1"), 0), Money::ZERO);
    }

    #[test]
    fn a_refund_lowers_before_approval_claws_back_inside_the_window_and_not_after() {
        let day = crate::clock::DAY_MS;
        let pending = on_refund(
            CommissionStatus::Held,
            500,
            m("10"),
            m("4"),
            Money::ZERO,
            Money::ZERO,
            None,
            0,
            90,
        );
        assert_eq!(pending, OnRefund::Lower(m("0.30")));
        let approved = |at: i64| {
            on_refund(
                CommissionStatus::Approved,
                500,
                m("10"),
                m("4"),
                m("0.50"),
                Money::ZERO,
                Some(0),
                at,
                90,
            )
        };
        assert_eq!(approved(90 * day), OnRefund::ClawBack(m("0.20")));
        assert_eq!(approved(90 * day + 1), OnRefund::Nothing);
        let void = on_refund(
            CommissionStatus::Void,
            500,
            m("10"),
            m("4"),
            Money::ZERO,
            Money::ZERO,
            None,
            0,
            90,
        );
        assert_eq!(void, OnRefund::Nothing);
    }

    proptest! {
        /// Any sequence of refunds after approval claws back exactly credited − commission(final
        /// net), never more than was credited, whatever the rounding of each step.
        #[test]
        fn clawbacks_telescope_to_the_final_net(
            charge in 1i64..10_000_000_000,
            rate in 1i64..=10_000,
            cuts in proptest::collection::vec(0u32..=100, 0..8),
        ) {
            let charge = Money::from_micros(charge);
            let credited = commission(charge, rate);
            let (mut net, mut clawed) = (charge, Money::ZERO);
            for pct in cuts {
                let refund = Money::from_micros(net.micros() * i64::from(pct) / 100);
                let uncovered = credited.checked_sub(clawed).expect("sub");
                let c = clawback(net, refund, rate, uncovered);
                prop_assert!(!c.is_negative() && c.micros() <= uncovered.micros());
                clawed = clawed.checked_add(c).expect("add");
                net = net.checked_sub(refund).expect("sub");
            }
            prop_assert_eq!(clawed, credited.checked_sub(commission(net, rate)).expect("sub"));
        }
    }
}
