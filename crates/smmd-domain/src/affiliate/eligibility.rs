//! Who a payout run pays (`docs/affiliates.md`, Payout runs): one rule, checked in a fixed
//! order so every candidate gets exactly its **first** failing reason, the same in a run's
//! items and on the affiliate's page ("eligibility now").

use crate::clock::DAY_MS;
use crate::money::Money;

use super::calendar::RunKind;

/// Why a candidate is not paid by a run, in the order they are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Blocker {
    /// The account is blocked or deleted.
    AccountInactive,
    /// A first-time affiliate is paid only by the first-Monday run.
    FirstTimeWaitsForFirstMonday,
    /// No payout method is approved.
    NoApprovedMethod,
    /// The method was approved fewer than `cool_down_days` ago.
    MethodCoolingDown,
    /// An earlier payout is still `pending`.
    PreviousPayoutOpen,
    /// An admin put the affiliate's payouts on hold.
    OnHold,
    /// The balance (micro-units, may be negative) is below the minimum payout.
    BelowMinimum(Money),
}

impl Blocker {
    /// What the affiliate is told.
    pub fn message(self) -> String {
        match self {
            Blocker::AccountInactive => "Your account is blocked.".into(),
            Blocker::FirstTimeWaitsForFirstMonday => {
                "Your first payout is made on the first Monday of a month.".into()
            }
            Blocker::NoApprovedMethod => "Add a payout method and wait for its approval.".into(),
            Blocker::MethodCoolingDown => {
                "Your payout method was approved recently; it is used after the cool-down.".into()
            }
            Blocker::PreviousPayoutOpen => "Your previous payout is still being processed.".into(),
            Blocker::OnHold => "Your payouts are on hold; contact support.".into(),
            Blocker::BelowMinimum(b) => format!("Your balance ({b}) is below the minimum payout."),
        }
    }

    /// The stored reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Blocker::AccountInactive => "account_inactive",
            Blocker::FirstTimeWaitsForFirstMonday => "first_time_waits_for_first_monday",
            Blocker::NoApprovedMethod => "no_approved_method",
            Blocker::MethodCoolingDown => "method_cooling_down",
            Blocker::PreviousPayoutOpen => "previous_payout_open",
            Blocker::OnHold => "on_hold",
            Blocker::BelowMinimum(_) => "below_minimum",
        }
    }

    /// Every stored reason, in check order.
    pub const REASONS: [&'static str; 7] = [
        "account_inactive",
        "first_time_waits_for_first_monday",
        "no_approved_method",
        "method_cooling_down",
        "previous_payout_open",
        "on_hold",
        "below_minimum",
    ];
}

/// What "returning" means (`docs/affiliates.md`): the rule as given counts any earlier payout
/// invoice whatever its outcome; owners may choose the stricter "has been paid before".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ReturningRule {
    #[default]
    AnyInvoice,
    PaidPayout,
}

impl ReturningRule {
    pub const fn as_str(self) -> &'static str {
        match self {
            ReturningRule::AnyInvoice => "any_invoice",
            ReturningRule::PaidPayout => "paid_payout",
        }
    }

    pub fn parse(text: &str) -> Option<ReturningRule> {
        [ReturningRule::AnyInvoice, ReturningRule::PaidPayout]
            .into_iter()
            .find(|r| r.as_str() == text)
    }

    /// Whether an affiliate with `invoices` earlier payouts, `paid` of them paid, returns.
    pub fn is_returning(self, invoices: i64, paid: i64) -> bool {
        match self {
            ReturningRule::AnyInvoice => invoices > 0,
            ReturningRule::PaidPayout => paid > 0,
        }
    }
}

/// One affiliate as a run sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// The account is active (not blocked, not deleted).
    pub active: bool,
    /// Has an earlier payout, by the panel's [`ReturningRule`].
    pub returning: bool,
    /// When the current payout method was approved, epoch ms; `None` without one.
    pub method_approved_at: Option<i64>,
    /// An earlier payout is still pending.
    pub open_payout: bool,
    /// Payouts are on hold by an admin.
    pub on_hold: bool,
    /// The affiliate balance, micro-units (may be negative after clawbacks).
    pub balance: Money,
}

/// The thresholds of the rule (program settings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayoutRules {
    /// The smallest balance paid out (100.00 by default).
    pub min_payout: Money,
    /// Days a newly approved method waits (7).
    pub cool_down_days: i64,
}

/// Every reason `c` is not paid by a run of `kind` at `now_ms`, in check order (empty when it
/// is paid): the affiliate page shows them all; a run records the first.
pub fn blockers(kind: RunKind, c: &Candidate, rules: &PayoutRules, now_ms: i64) -> Vec<Blocker> {
    let cooling = c.method_approved_at.is_some_and(|approved| {
        now_ms < approved.saturating_add(rules.cool_down_days.saturating_mul(DAY_MS))
    });
    [
        (!c.active, Blocker::AccountInactive),
        (
            kind == RunKind::Returning && !c.returning,
            Blocker::FirstTimeWaitsForFirstMonday,
        ),
        (c.method_approved_at.is_none(), Blocker::NoApprovedMethod),
        (cooling, Blocker::MethodCoolingDown),
        (c.open_payout, Blocker::PreviousPayoutOpen),
        (c.on_hold, Blocker::OnHold),
        (
            c.balance < rules.min_payout || !c.balance.is_positive(),
            Blocker::BelowMinimum(c.balance),
        ),
    ]
    .into_iter()
    .filter_map(|(fails, b)| fails.then_some(b))
    .collect()
}

/// Whether `c` is paid by a run of `kind` at `now_ms`: the amount (the whole balance), or the
/// first failing reason in the order of [`Blocker`].
pub fn check(
    kind: RunKind,
    c: &Candidate,
    rules: &PayoutRules,
    now_ms: i64,
) -> Result<Money, Blocker> {
    match blockers(kind, c, rules, now_ms).first() {
        Some(b) => Err(*b),
        None => Ok(c.balance),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> PayoutRules {
        PayoutRules {
            min_payout: Money::parse("100").expect("m"),
            cool_down_days: 7,
        }
    }

    fn ok() -> Candidate {
        Candidate {
            active: true,
            returning: true,
            method_approved_at: Some(0),
            open_payout: false,
            on_hold: false,
            balance: Money::parse("100").expect("m"),
        }
    }

    #[test]
    fn each_reason_is_reported_only_when_every_earlier_check_passes() {
        let now = 7 * DAY_MS;
        assert_eq!(
            check(RunKind::Returning, &ok(), &rules(), now),
            Ok(ok().balance)
        );
        type Break = fn(&mut Candidate);
        let cases: [(Break, &str); 7] = [
            (|c| c.active = false, "account_inactive"),
            (|c| c.returning = false, "first_time_waits_for_first_monday"),
            (|c| c.method_approved_at = None, "no_approved_method"),
            (|c| c.method_approved_at = Some(1), "method_cooling_down"),
            (|c| c.open_payout = true, "previous_payout_open"),
            (|c| c.on_hold = true, "on_hold"),
            (
                |c| c.balance = Money::from_micros(99_999_999),
                "below_minimum",
            ),
        ];
        for (i, (break_it, reason)) in cases.iter().enumerate() {
            // This check fails, and every later one fails too: still only this reason.
            let mut c = ok();
            for (later, _) in &cases[i..] {
                later(&mut c);
            }
            break_it(&mut c);
            let got = check(RunKind::Returning, &c, &rules(), now).map_err(Blocker::as_str);
            assert_eq!(got, Err(*reason));
            // The page lists this reason first, then the later ones in order (a method cannot
            // be both missing and cooling down, so one of those two may be absent).
            let all: Vec<usize> = blockers(RunKind::Returning, &c, &rules(), now)
                .into_iter()
                .filter_map(|b| Blocker::REASONS.iter().position(|r| *r == b.as_str()))
                .collect();
            assert_eq!(all.first(), Some(&i));
            assert!(all.windows(2).all(|w| w[0] < w[1]), "{all:?}");
            assert!(all.len() + 1 >= Blocker::REASONS.len() - i, "{all:?}");
            assert_eq!(Blocker::REASONS[i], *reason);
        }
        // A first-time affiliate is paid on the first Monday.
        let first = Candidate {
            returning: false,
            ..ok()
        };
        assert!(check(RunKind::All, &first, &rules(), now).is_ok());
        // A negative balance is below the minimum, with its amount.
        let owed = Candidate {
            balance: Money::from_micros(-5),
            ..ok()
        };
        assert_eq!(
            check(RunKind::All, &owed, &rules(), now),
            Err(Blocker::BelowMinimum(Money::from_micros(-5)))
        );
    }

    #[test]
    fn the_returning_rule_counts_invoices_or_paid_payouts() {
        assert!(ReturningRule::AnyInvoice.is_returning(1, 0));
        assert!(!ReturningRule::PaidPayout.is_returning(1, 0));
        assert!(ReturningRule::PaidPayout.is_returning(2, 1));
        assert!(!ReturningRule::AnyInvoice.is_returning(0, 0));
        assert_eq!(
            ReturningRule::parse("paid_payout"),
            Some(ReturningRule::PaidPayout)
        );
        assert_eq!(ReturningRule::parse("paid"), None);
    }
}
