//! Which UTC hours of a rental are billed (`docs/billing.md`, "Which hours are billed"), from
//! the facts alone: the rental's state log and the billing pauses, never the instants the job
//! happened to run, so every schedule, instance and catch-up computes the same hours.
//!
//! - Hour `h` is `[h, h+1h)`. It is billable when the rental was `active` or `grace` at **any
//!   instant** of it: activated 10:59:59 and canceled 11:00:01 is hours 10 and 11; suspended at
//!   exactly 11:00:00.000 leaves hour 11 unbilled; five suspend/resume cycles inside one hour are
//!   that one hour.
//! - A billable hour whose **start** lies inside a billing pause is waived (recorded, amount 0)
//!   instead of charged. By its start, because billing is in advance: an hour charged when it
//!   began stays charged when a pause opens during it, and the same rule holds for a job that
//!   catches the hour up later.

use std::collections::BTreeSet;

use super::rental::RentalState;
use super::{hour_of, HOUR_MS};

/// An entry of a rental's state log: from `at_ms` on (epoch ms) the rental is in `state`, until
/// the next entry; the last one holds on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateChange {
    pub at_ms: i64,
    pub state: RentalState,
}

/// A billing pause: billable hours that start in `[from_ms, until_ms)` are waived; `until_ms`
/// `None` while billing is still paused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pause {
    pub from_ms: i64,
    pub until_ms: Option<i64>,
}

impl Pause {
    /// Whether an hour starting at `at_ms` is inside the pause (waived).
    pub fn covers(&self, at_ms: i64) -> bool {
        self.from_ms <= at_ms && self.until_ms.is_none_or(|until| at_ms < until)
    }
}

/// What a billable hour owes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HourBilling {
    /// Charged by the money rule (paid, or due when the wallet is short).
    Charge,
    /// Inside a billing pause: recorded with amount 0.
    Waive,
}

/// The billable hours of a rental in `[from_hour_ms, until_hour_ms)` (hour starts), oldest
/// first, each charged or waived. `log` need not be sorted (it is read in `at_ms` order, later
/// entries winning ties); hours outside the range, and a range that is empty or reversed, give
/// nothing.
pub fn billable_hours(
    log: &[StateChange],
    pauses: &[Pause],
    from_hour_ms: i64,
    until_hour_ms: i64,
) -> Vec<(i64, HourBilling)> {
    let from = hour_of(from_hour_ms);
    if until_hour_ms <= from {
        return Vec::new();
    }
    let mut log = log.to_vec();
    log.sort_by_key(|c| c.at_ms);
    let mut hours = BTreeSet::new();
    for (i, change) in log.iter().enumerate() {
        if !change.state.is_billable() {
            continue;
        }
        // The state holds on [start, end); a zero-length stretch holds at no instant.
        let start = change.at_ms;
        let end = log.get(i + 1).map_or(i64::MAX, |next| next.at_ms);
        if end <= start || end <= from || start >= until_hour_ms {
            continue;
        }
        let mut h = hour_of(start).max(from);
        while h < end && h < until_hour_ms {
            hours.insert(h);
            h = match h.checked_add(HOUR_MS) {
                Some(next) => next,
                None => break,
            };
        }
    }
    hours
        .into_iter()
        .map(|h| {
            let billing = match pauses.iter().any(|p| p.covers(h)) {
                true => HourBilling::Waive,
                false => HourBilling::Charge,
            };
            (h, billing)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::billing::rental::SuspendReason;

    /// 2026-03-10T00:00:00Z.
    const DAY0: i64 = 1_773_100_800_000;
    const H: i64 = HOUR_MS;
    const S: i64 = 1_000;

    fn at(hour: i64, seconds: i64) -> i64 {
        DAY0 + hour * H + seconds * S
    }

    fn change(at_ms: i64, state: RentalState) -> StateChange {
        StateChange { at_ms, state }
    }

    fn hours_of(list: &[(i64, HourBilling)]) -> Vec<i64> {
        list.iter().map(|(h, _)| (h - DAY0) / H).collect()
    }

    #[test]
    fn partial_hours_round_up_and_the_hour_boundary_is_exact() {
        use RentalState::*;
        let all = |log: &[StateChange]| hours_of(&billable_hours(log, &[], DAY0, DAY0 + 48 * H));
        // Activated 10:59:59, canceled 11:00:01: hours 10 and 11.
        assert_eq!(
            all(&[change(at(10, 3599), Active), change(at(11, 1), Canceled)]),
            [10, 11]
        );
        // Suspended at exactly 11:00:00.000: hour 11 is not billed.
        let suspended = Suspended(SuspendReason::NonPayment);
        assert_eq!(
            all(&[change(at(9, 0), Active), change(at(11, 0), suspended)]),
            [9, 10]
        );
        // Five suspend/resume cycles inside one hour: that hour, once.
        let mut log = vec![change(at(5, 0), Pending)];
        for i in 0..5 {
            log.push(change(at(5, 100 + i * 600), Active));
            log.push(change(
                at(5, 400 + i * 600),
                Suspended(SuspendReason::Admin),
            ));
        }
        assert_eq!(all(&log), [5]);
        // Grace is billed like active; an activation and suspension at one instant is no hour.
        assert_eq!(
            all(&[
                change(at(1, 0), Active),
                change(at(2, 30), Grace),
                change(at(4, 0), suspended),
                change(at(7, 0), Active),
                change(at(7, 0), suspended),
            ]),
            [1, 2, 3]
        );
        // Still active: every hour up to the end of the range; the range is half-open.
        assert_eq!(
            hours_of(&billable_hours(
                &[change(at(0, 0), Active)],
                &[],
                at(3, 0),
                at(6, 0)
            )),
            [3, 4, 5]
        );
        assert!(billable_hours(&[change(at(0, 0), Active)], &[], at(6, 0), at(6, 0)).is_empty());
        assert!(billable_hours(&[change(at(0, 0), Active)], &[], at(6, 0), at(3, 0)).is_empty());
    }

    #[test]
    fn hours_that_start_in_a_pause_are_waived() {
        let log = [change(at(0, 0), RentalState::Active)];
        let pauses = [
            Pause {
                from_ms: at(10, 1800),
                until_ms: Some(at(12, 900)),
            },
            Pause {
                from_ms: at(20, 0),
                until_ms: None,
            },
        ];
        let got = billable_hours(&log, &pauses, at(9, 0), at(23, 0));
        let waived: Vec<i64> = got
            .iter()
            .filter(|(_, b)| *b == HourBilling::Waive)
            .map(|(h, _)| (h - DAY0) / H)
            .collect();
        // Hour 10 began before the pause (it was charged in advance); 11 and 12 began inside
        // it; from 20 on billing is still paused.
        assert_eq!(waived, [11, 12, 20, 21, 22]);
        assert_eq!(got.len(), 14);
    }

    proptest! {
        /// The hours do not depend on how the range is cut: reconciling in any steps (a job
        /// every hour, every 6 hours, a 3-day catch-up) gives the same hours as one pass.
        #[test]
        fn any_split_of_the_range_gives_the_same_hours(
            steps in proptest::collection::vec((0i64..400 * 3600, 0usize..4), 1..12),
            cuts in proptest::collection::vec(1i64..400, 0..8),
        ) {
            let states = [
                RentalState::Active,
                RentalState::Grace,
                RentalState::Suspended(SuspendReason::NonPayment),
                RentalState::Canceled,
            ];
            let log: Vec<StateChange> = steps
                .iter()
                .map(|(s, i)| change(DAY0 + s * S, states[*i]))
                .collect();
            let end = DAY0 + 400 * H;
            let whole = billable_hours(&log, &[], DAY0, end);
            let mut bounds: Vec<i64> = cuts.iter().map(|c| DAY0 + c * H).collect();
            bounds.push(DAY0);
            bounds.push(end);
            bounds.sort_unstable();
            bounds.dedup();
            let mut pieces = Vec::new();
            for w in bounds.windows(2) {
                pieces.extend(billable_hours(&log, &[], w[0], w[1]));
            }
            prop_assert_eq!(pieces, whole);
        }
    }
}
