//! The affiliate program (`docs/affiliates.md`): the pure rules the store, the jobs and the
//! pages share.
//!
//! - [`referral`]: referral codes, normalised e-mails, networks and the self-referral checks.
//! - [`commission`]: the commission on net spend, its refunds and clawbacks, its states.
//! - [`calendar`]: the two payout runs (first Monday; first Monday after the 15th) and their
//!   dates.
//! - [`eligibility`]: who a run pays, or the first reason it does not.
//! - [`method`]: payout methods, their details and masking.
//! - here: the program's settings, the affiliate ledger's kinds and keys, and the payout
//!   decisions.
//!
//! Times are epoch milliseconds (UTC); money is [`Money`] micro-units of the panel currency.

pub mod calendar;
pub mod commission;
pub mod eligibility;
pub mod method;
pub mod referral;

use serde::{Deserialize, Serialize};

use crate::money::Money;
use eligibility::ReturningRule;

/// The program's settings, stored in the database and edited by admins.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    /// Referrals and commissions are recorded.
    pub enabled: bool,
    /// Commission in basis points of net spend (500 = 5 %), 0 to 5,000.
    pub rate_bp: i64,
    /// Commissions only on orders within this many months of the referred user's sign-up;
    /// 0 = for as long as they order.
    pub first_months: i64,
    /// Days a settled commission is held before `affiliates.release` approves it (0 to 365).
    pub hold_days: i64,
    /// Days after approval in which a refund claws back (0 to 3,650).
    pub clawback_days: i64,
    /// The smallest balance a run pays out (≥ 0.01).
    pub min_payout: Money,
    /// Days the referral cookie lasts (1 to 365).
    pub attribution_days: i64,
    /// Days a newly approved payout method waits before it is paid (0 to 90).
    pub cool_down_days: i64,
    /// Who counts as returning for the mid-month run.
    #[serde(with = "returning_rule")]
    pub returning_rule: ReturningRule,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            enabled: true,
            rate_bp: 500,
            first_months: 0,
            hold_days: 30,
            clawback_days: 90,
            min_payout: Money::from_micros(100_000_000),
            attribution_days: 30,
            cool_down_days: 7,
            returning_rule: ReturningRule::AnyInvoice,
        }
    }
}

impl Settings {
    /// Every bound, with the first one broken as a message naming the field.
    pub fn validate(&self) -> Result<(), String> {
        let within = |name: &str, v: i64, lo: i64, hi: i64| {
            if (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(format!("{name} must be {lo} to {hi}"))
            }
        };
        within("rate_bp", self.rate_bp, 0, 5_000)?;
        within("first_months", self.first_months, 0, 120)?;
        within("hold_days", self.hold_days, 0, 365)?;
        within("clawback_days", self.clawback_days, 0, 3_650)?;
        within("attribution_days", self.attribution_days, 1, 365)?;
        within("cool_down_days", self.cool_down_days, 0, 90)?;
        if self.min_payout.micros() < 10_000 || self.min_payout > Money::MAX_AMOUNT {
            return Err("min_payout must be at least 0.01".into());
        }
        Ok(())
    }

    /// The thresholds of the payout rule.
    pub fn payout_rules(&self) -> eligibility::PayoutRules {
        eligibility::PayoutRules {
            min_payout: self.min_payout,
            cool_down_days: self.cool_down_days,
        }
    }

    /// Whether an order placed at `order_at_ms` by a user who signed up at `signed_up_ms`
    /// earns commission under `first_months` (calendar months, the day clamped to the month's
    /// end: signed up 31 January, one month runs to 28/29 February).
    pub fn earns(&self, signed_up_ms: i64, order_at_ms: i64) -> bool {
        self.first_months == 0 || order_at_ms < add_months(signed_up_ms, self.first_months)
    }
}

/// `at_ms` plus `months` calendar months (UTC), the day clamped to the target month's length.
pub fn add_months(at_ms: i64, months: i64) -> i64 {
    use crate::billing::charge::{civil_from_days, days_from_civil};
    use crate::clock::DAY_MS;
    let days = at_ms.div_euclid(DAY_MS);
    let in_day = at_ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let index = i64::from(y) * 12 + i64::from(m) - 1 + months;
    let (ty, tm) = (
        index.div_euclid(12) as i32,
        (index.rem_euclid(12) + 1) as u32,
    );
    let next = if tm == 12 { (ty + 1, 1) } else { (ty, tm + 1) };
    let len = (days_from_civil(next.0, next.1, 1) - days_from_civil(ty, tm, 1)) as u32;
    days_from_civil(ty, tm, d.min(len)) * DAY_MS + in_day
}

mod returning_rule {
    use super::ReturningRule;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(r: &ReturningRule, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(r.as_str())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ReturningRule, D::Error> {
        let text = String::deserialize(d)?;
        ReturningRule::parse(&text)
            .ok_or_else(|| serde::de::Error::custom("returning_rule is any_invoice or paid_payout"))
    }
}

/// The kinds of the affiliate ledger (append-only; its sum per user is their balance).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    /// An approved commission (+), key `commission:<id>`.
    Commission,
    /// A refund after approval (−), key `clawback:<refund ledger key>`.
    Clawback,
    /// The whole balance taken by a run (−), key `payout:<run>:<user>`.
    Payout,
    /// A rejected or returned payout (+), key `payout_return:<payout>`.
    PayoutReturn,
    /// To the spending wallet (−), key `transfer:<user>:<request id>`.
    TransferOut,
    /// An admin's correction (±), with a reason.
    Adjustment,
}

impl EntryKind {
    pub const ALL: [EntryKind; 6] = [
        EntryKind::Commission,
        EntryKind::Clawback,
        EntryKind::Payout,
        EntryKind::PayoutReturn,
        EntryKind::TransferOut,
        EntryKind::Adjustment,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            EntryKind::Commission => "commission",
            EntryKind::Clawback => "clawback",
            EntryKind::Payout => "payout",
            EntryKind::PayoutReturn => "payout_return",
            EntryKind::TransferOut => "transfer_out",
            EntryKind::Adjustment => "adjustment",
        }
    }

    pub fn parse(text: &str) -> Option<EntryKind> {
        EntryKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// A payout invoice's state (`docs/affiliates.md`, Decisions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayoutStatus {
    Pending,
    /// Paid, with a reference and a gapless number.
    Paid,
    /// Rejected; the amount went back to the affiliate balance.
    RejectedReturned,
    /// Rejected as fraud; the money stays out.
    RejectedForfeited,
    /// Paid, then bounced; the amount went back.
    Returned,
}

impl PayoutStatus {
    pub const ALL: [PayoutStatus; 5] = [
        PayoutStatus::Pending,
        PayoutStatus::Paid,
        PayoutStatus::RejectedReturned,
        PayoutStatus::RejectedForfeited,
        PayoutStatus::Returned,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            PayoutStatus::Pending => "pending",
            PayoutStatus::Paid => "paid",
            PayoutStatus::RejectedReturned => "rejected_returned",
            PayoutStatus::RejectedForfeited => "rejected_forfeited",
            PayoutStatus::Returned => "returned",
        }
    }

    pub fn parse(text: &str) -> Option<PayoutStatus> {
        PayoutStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// An admin's decision on a payout.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    /// `pending → paid`, with the payment's reference.
    MarkPaid,
    /// `pending → rejected_returned`: the amount goes back to the balance.
    RejectReturn,
    /// `pending → rejected_forfeited` (confirmed): the money stays out.
    RejectFraud,
    /// `paid → returned` (a bounced transfer): the amount goes back.
    Returned,
}

/// A decision that does not apply to the payout's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {from} payout cannot be {action}")]
pub struct NotAllowed {
    pub from: &'static str,
    pub action: &'static str,
}

impl Decision {
    pub const fn as_str(self) -> &'static str {
        match self {
            Decision::MarkPaid => "mark_paid",
            Decision::RejectReturn => "reject_return",
            Decision::RejectFraud => "reject_fraud",
            Decision::Returned => "returned",
        }
    }

    /// The state `from` moves to, or why it cannot.
    pub fn apply(self, from: PayoutStatus) -> Result<PayoutStatus, NotAllowed> {
        let to = match (self, from) {
            (Decision::MarkPaid, PayoutStatus::Pending) => PayoutStatus::Paid,
            (Decision::RejectReturn, PayoutStatus::Pending) => PayoutStatus::RejectedReturned,
            (Decision::RejectFraud, PayoutStatus::Pending) => PayoutStatus::RejectedForfeited,
            (Decision::Returned, PayoutStatus::Paid) => PayoutStatus::Returned,
            _ => {
                return Err(NotAllowed {
                    from: from.as_str(),
                    action: match self {
                        Decision::MarkPaid => "marked paid",
                        Decision::RejectReturn | Decision::RejectFraud => "rejected",
                        Decision::Returned => "returned",
                    },
                })
            }
        };
        Ok(to)
    }

    /// Whether the amount goes back to the affiliate balance (`payout_return`).
    pub fn returns_money(self) -> bool {
        matches!(self, Decision::RejectReturn | Decision::Returned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::DAY_MS;

    #[test]
    fn decisions_follow_the_diagram_and_nothing_else() {
        use Decision as D;
        use PayoutStatus as S;
        let mut allowed = 0;
        for d in [D::MarkPaid, D::RejectReturn, D::RejectFraud, D::Returned] {
            for s in S::ALL {
                if let Ok(to) = d.apply(s) {
                    allowed += 1;
                    assert!(matches!(
                        (d, s, to),
                        (D::MarkPaid, S::Pending, S::Paid)
                            | (D::RejectReturn, S::Pending, S::RejectedReturned)
                            | (D::RejectFraud, S::Pending, S::RejectedForfeited)
                            | (D::Returned, S::Paid, S::Returned)
                    ));
                }
            }
        }
        assert_eq!(allowed, 4);
        assert_eq!(
            D::MarkPaid.apply(S::Paid).map_err(|e| e.to_string()),
            Err("a paid payout cannot be marked paid".into())
        );
        assert!(D::RejectReturn.returns_money() && D::Returned.returns_money());
        assert!(!D::RejectFraud.returns_money() && !D::MarkPaid.returns_money());
    }

    #[test]
    fn settings_are_bounded_and_round_trip() {
        let s = Settings::default();
        assert_eq!(s.validate(), Ok(()));
        let json = serde_json::to_string(&s).expect("json");
        assert!(json.contains(r#""returning_rule":"any_invoice""#), "{json}");
        assert_eq!(serde_json::from_str::<Settings>(&json).expect("back"), s);
        for broken in [
            Settings {
                rate_bp: 5_001,
                ..s.clone()
            },
            Settings {
                hold_days: -1,
                ..s.clone()
            },
            Settings {
                attribution_days: 0,
                ..s.clone()
            },
            Settings {
                min_payout: Money::ZERO,
                ..s.clone()
            },
        ] {
            assert!(broken.validate().is_err(), "{broken:?}");
        }
        assert!(serde_json::from_str::<Settings>(&json.replace("any_invoice", "some")).is_err());
    }

    #[test]
    fn first_months_count_calendar_months_clamped_to_the_month_end() {
        let jan31 = crate::affiliate::calendar::Date {
            year: 2027,
            month: 1,
            day: 31,
        }
        .start_ms();
        let feb28 = crate::affiliate::calendar::Date {
            year: 2027,
            month: 2,
            day: 28,
        }
        .start_ms();
        assert_eq!(add_months(jan31 + 5, 1), feb28 + 5);
        assert_eq!(add_months(jan31, 13), feb28 + 366 * DAY_MS);
        let s = Settings {
            first_months: 1,
            ..Settings::default()
        };
        assert!(s.earns(jan31, feb28 - 1));
        assert!(!s.earns(jan31, feb28));
        assert!(Settings::default().earns(jan31, jan31 + 10_000 * DAY_MS));
    }
}
