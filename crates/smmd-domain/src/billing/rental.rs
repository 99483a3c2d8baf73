//! The rental state machine and the rules of non-payment (`docs/billing.md`, "Non-payment").
//!
//! ```text
//! pending ──activate──► active ◄──────── all dues paid (non-payment only) ───┐
//!                         │ an hour not payable                              │
//!                         ▼                                                  │
//!                       grace ── first due hour + suspend_after_hours ─► suspended(non_payment)
//!                                                                            │ + terminate_after_days
//!  admin suspend(reason) → suspended(admin): only an admin lifts it          ▼
//!  user cancel: ends now, the current hour stays paid                      terminated
//! ```
//!
//! Plus the dunning instants, the runway warning (one per dip) and statement numbers.

use serde::{Deserialize, Serialize};

use super::HOUR_MS;
use crate::clock::DAY_MS;
use crate::Money;

/// Why a rental is suspended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspendReason {
    /// Dues unpaid past the grace period; paying them resumes the rental.
    NonPayment,
    /// An admin's decision; only an admin lifts it, a top-up does not.
    Admin,
}

impl SuspendReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SuspendReason::NonPayment => "non_payment",
            SuspendReason::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<SuspendReason> {
        [SuspendReason::NonPayment, SuspendReason::Admin]
            .into_iter()
            .find(|r| r.as_str() == text)
    }
}

/// A rental's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RentalState {
    /// Created, not paid yet.
    Pending,
    /// Paid up; billed every hour.
    Active,
    /// An hour could not be paid: the product still works, hours accrue as due.
    Grace,
    /// The product stops; not billed.
    Suspended(SuspendReason),
    /// Ended after a long suspension or by an admin; dues written off. Final.
    Terminated,
    /// Ended by its user; the hour it ended in stays paid. Final.
    Canceled,
}

impl RentalState {
    /// The stored state name (`suspended` for both reasons; see [`reason`](Self::reason)).
    pub fn as_str(self) -> &'static str {
        match self {
            RentalState::Pending => "pending",
            RentalState::Active => "active",
            RentalState::Grace => "grace",
            RentalState::Suspended(_) => "suspended",
            RentalState::Terminated => "terminated",
            RentalState::Canceled => "canceled",
        }
    }

    /// The suspension reason, for a suspended rental.
    pub fn reason(self) -> Option<SuspendReason> {
        match self {
            RentalState::Suspended(r) => Some(r),
            _ => None,
        }
    }

    /// The state stored as `state` (and `reason` when suspended); `None` for anything else.
    pub fn parse(state: &str, reason: Option<&str>) -> Option<RentalState> {
        Some(match (state, reason) {
            ("pending", None) => RentalState::Pending,
            ("active", None) => RentalState::Active,
            ("grace", None) => RentalState::Grace,
            ("suspended", Some(r)) => RentalState::Suspended(SuspendReason::parse(r)?),
            ("terminated", None) => RentalState::Terminated,
            ("canceled", None) => RentalState::Canceled,
            _ => return None,
        })
    }

    /// Billed by the hour: `active` and `grace`.
    pub fn is_billable(self) -> bool {
        matches!(self, RentalState::Active | RentalState::Grace)
    }

    /// `terminated` and `canceled`: nothing changes it any more.
    pub fn is_final(self) -> bool {
        matches!(self, RentalState::Terminated | RentalState::Canceled)
    }
}

/// What happens to a rental.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RentalEvent {
    /// The first hour (and any setup fee) is paid: `pending → active`.
    Activate,
    /// An hour could not be paid: `active | grace → grace`.
    HourDue,
    /// Every due hour is paid: `grace → active`, and `suspended(non_payment) → active`.
    DuesPaid,
    /// The grace period ran out: `grace → suspended(non_payment)`.
    SuspendForNonPayment,
    /// An admin suspends: any live state but `pending` → `suspended(admin)`.
    AdminSuspend,
    /// An admin lifts an admin suspension: to `grace` when dues remain, else `active`.
    AdminUnsuspend { dues: bool },
    /// `suspended` past its delay, or an admin ending a live rental: `→ terminated`.
    Terminate,
    /// The user ends it: any live state → `canceled`.
    Cancel,
}

/// A transition the state machine does not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a {} rental cannot take {event:?}", from.as_str())]
pub struct IllegalTransition {
    pub from: RentalState,
    pub event: RentalEvent,
}

/// The state after `event` in `from`, or why not.
pub fn next_state(from: RentalState, event: RentalEvent) -> Result<RentalState, IllegalTransition> {
    use RentalEvent as E;
    use RentalState as S;
    use SuspendReason::{Admin, NonPayment};
    let to = match (from, event) {
        (S::Pending, E::Activate) => S::Active,
        (S::Active | S::Grace, E::HourDue) => S::Grace,
        (S::Grace | S::Suspended(NonPayment), E::DuesPaid) => S::Active,
        (S::Grace, E::SuspendForNonPayment) => S::Suspended(NonPayment),
        (S::Active | S::Grace | S::Suspended(NonPayment), E::AdminSuspend) => S::Suspended(Admin),
        (S::Suspended(Admin), E::AdminUnsuspend { dues: true }) => S::Grace,
        (S::Suspended(Admin), E::AdminUnsuspend { dues: false }) => S::Active,
        (S::Active | S::Grace | S::Suspended(_), E::Terminate) => S::Terminated,
        (S::Pending | S::Active | S::Grace | S::Suspended(_), E::Cancel) => S::Canceled,
        _ => return Err(IllegalTransition { from, event }),
    };
    Ok(to)
}

/// The delays of non-payment (settings `suspend_after_hours`, default 72, and
/// `terminate_after_days`, default 30).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dunning {
    pub suspend_after_hours: i64,
    pub terminate_after_days: i64,
}

impl Default for Dunning {
    fn default() -> Dunning {
        Dunning {
            suspend_after_hours: 72,
            terminate_after_days: 30,
        }
    }
}

impl Dunning {
    /// When a rental in `grace` is suspended: its first due hour's start plus the delay (ms).
    pub fn suspend_at(&self, first_due_hour_ms: i64) -> i64 {
        first_due_hour_ms.saturating_add(self.suspend_after_hours.saturating_mul(HOUR_MS))
    }

    /// When a rental suspended for non-payment at `suspended_at_ms` is terminated (ms).
    pub fn terminate_at(&self, suspended_at_ms: i64) -> i64 {
        suspended_at_ms.saturating_add(self.terminate_after_days.saturating_mul(DAY_MS))
    }
}

/// Whole hours `balance` pays at `hourly` (the current hourly charge of the user's active
/// rentals): `⌊balance / hourly⌋`, 0 when the balance is not positive; `None` when nothing is
/// charged by the hour.
pub fn runway_hours(balance: Money, hourly: Money) -> Option<i64> {
    if !hourly.is_positive() {
        return None;
    }
    Some(balance.micros().max(0) / hourly.micros())
}

/// One runway warning threshold (72 h, 24 h): it fires once when the runway falls below the
/// threshold, and re-arms only when the runway rises 25 % above it, so a balance that hovers
/// near the line warns once per dip.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunwayAlarm {
    pub threshold_hours: i64,
    pub armed: bool,
}

impl RunwayAlarm {
    /// An armed alarm at `threshold_hours`.
    pub fn new(threshold_hours: i64) -> RunwayAlarm {
        RunwayAlarm {
            threshold_hours,
            armed: true,
        }
    }

    /// Observes the runway (`None`: nothing billed by the hour); returns whether to warn now.
    pub fn observe(&mut self, runway: Option<i64>) -> bool {
        match runway {
            Some(hours) if hours < self.threshold_hours => {
                let fire = self.armed;
                self.armed = false;
                fire
            }
            // Re-armed at threshold × 1.25 or more (in integers: 4·runway ≥ 5·threshold).
            Some(hours) if i128::from(hours) * 4 >= i128::from(self.threshold_hours) * 5 => {
                self.armed = true;
                false
            }
            None => {
                self.armed = true;
                false
            }
            Some(_) => false,
        }
    }
}

/// A final statement's number: `ST-YYYY-NNNNNN` (the year of its month, then its place in the
/// gapless sequence of that year, from 1).
pub fn statement_number(year: i32, seq: i64) -> String {
    format!("ST-{year:04}-{seq:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL_STATES: [RentalState; 7] = [
        RentalState::Pending,
        RentalState::Active,
        RentalState::Grace,
        RentalState::Suspended(SuspendReason::NonPayment),
        RentalState::Suspended(SuspendReason::Admin),
        RentalState::Terminated,
        RentalState::Canceled,
    ];
    const ALL_EVENTS: [RentalEvent; 9] = [
        RentalEvent::Activate,
        RentalEvent::HourDue,
        RentalEvent::DuesPaid,
        RentalEvent::SuspendForNonPayment,
        RentalEvent::AdminSuspend,
        RentalEvent::AdminUnsuspend { dues: false },
        RentalEvent::AdminUnsuspend { dues: true },
        RentalEvent::Terminate,
        RentalEvent::Cancel,
    ];

    #[test]
    fn the_state_machine_has_exactly_the_designed_transitions() {
        let legal: Vec<(RentalState, RentalEvent, RentalState)> = ALL_STATES
            .iter()
            .flat_map(|s| ALL_EVENTS.iter().map(move |e| (*s, *e)))
            .filter_map(|(s, e)| next_state(s, e).ok().map(|to| (s, e, to)))
            .collect();
        assert_eq!(legal.len(), 20, "{legal:#?}");
        use RentalEvent as E;
        use RentalState as S;
        use SuspendReason::{Admin, NonPayment};
        for (from, event, to) in [
            (S::Pending, E::Activate, S::Active),
            (S::Active, E::HourDue, S::Grace),
            (S::Grace, E::DuesPaid, S::Active),
            (S::Grace, E::SuspendForNonPayment, S::Suspended(NonPayment)),
            (S::Suspended(NonPayment), E::DuesPaid, S::Active),
            (S::Suspended(NonPayment), E::Terminate, S::Terminated),
            (S::Active, E::AdminSuspend, S::Suspended(Admin)),
            (
                S::Suspended(Admin),
                E::AdminUnsuspend { dues: true },
                S::Grace,
            ),
            (
                S::Suspended(Admin),
                E::AdminUnsuspend { dues: false },
                S::Active,
            ),
            (S::Grace, E::Cancel, S::Canceled),
        ] {
            assert_eq!(next_state(from, event), Ok(to), "{from:?} + {event:?}");
        }
        // A top-up never lifts an admin suspension; finals stay final; pending is not billed.
        assert!(next_state(S::Suspended(Admin), E::DuesPaid).is_err());
        for s in [S::Terminated, S::Canceled] {
            assert!(s.is_final());
            assert!(ALL_EVENTS.iter().all(|e| next_state(s, *e).is_err()));
        }
        assert!(next_state(S::Pending, E::HourDue).is_err());
        let err = next_state(S::Canceled, E::Activate).expect_err("final");
        assert_eq!(err.to_string(), "a canceled rental cannot take Activate");
    }

    #[test]
    fn states_round_trip_through_their_stored_names() {
        for s in ALL_STATES {
            assert_eq!(
                RentalState::parse(s.as_str(), s.reason().map(SuspendReason::as_str)),
                Some(s)
            );
        }
        assert_eq!(RentalState::parse("suspended", None), None);
        assert_eq!(RentalState::parse("active", Some("admin")), None);
        assert_eq!(RentalState::parse("Active", None), None);
        assert!(RentalState::Grace.is_billable() && !RentalState::Pending.is_billable());
    }

    #[test]
    fn the_dunning_ladder_falls_on_its_exact_instants() {
        let d = Dunning::default();
        let first_due = 1_773_100_800_000;
        assert_eq!(d.suspend_at(first_due) - first_due, 72 * HOUR_MS);
        assert_eq!(d.terminate_at(first_due) - first_due, 30 * DAY_MS);
        assert_eq!(
            Dunning {
                suspend_after_hours: i64::MAX,
                terminate_after_days: 1
            }
            .suspend_at(first_due),
            i64::MAX,
            "saturates, never wraps"
        );
    }

    #[test]
    fn the_runway_warns_once_per_dip() {
        let hourly = Money::parse("0.5").expect("m");
        assert_eq!(
            runway_hours(Money::parse("36").expect("m"), hourly),
            Some(72)
        );
        assert_eq!(
            runway_hours(Money::parse("35.99").expect("m"), hourly),
            Some(71)
        );
        assert_eq!(runway_hours(Money::from_micros(-5), hourly), Some(0));
        assert_eq!(
            runway_hours(Money::parse("10").expect("m"), Money::ZERO),
            None
        );

        let mut alarm = RunwayAlarm::new(72);
        let mut warnings = 0;
        for _dip in 0..10 {
            // Down through the threshold, hovering around it, then a top-up above 90 h.
            for runway in [100, 80, 71, 70, 73, 71, 60, 89, 71] {
                warnings += usize::from(alarm.observe(Some(runway)));
            }
            warnings += usize::from(alarm.observe(Some(90)));
        }
        assert_eq!(warnings, 10, "one warning per dip, not per crossing");
        // Nothing billed by the hour re-arms it.
        let mut alarm = RunwayAlarm::new(24);
        assert!(alarm.observe(Some(3)));
        assert!(!alarm.observe(Some(2)));
        assert!(!alarm.observe(None));
        assert!(alarm.observe(Some(1)));
    }

    #[test]
    fn statement_numbers_are_fixed_width() {
        assert_eq!(statement_number(2026, 42), "ST-2026-000042");
        assert_eq!(statement_number(2027, 1), "ST-2027-000001");
    }
}
