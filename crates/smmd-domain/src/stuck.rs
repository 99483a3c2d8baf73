//! The stuck-order escalation ladder (issue 20): when a forwarded order is still `processing` or
//! `in_progress` far beyond its service's normal time, smmd climbs four steps, each once:
//!
//! 1. [`Step::Refresh`] — ask the provider for the order's status again, now;
//! 2. [`Step::SpeedUp`] — ask the provider to push it (API v2 `refill` where the offer has
//!    refill; API v2 has no other speed-up action), else record that there is none;
//! 3. [`Step::Cancel`] — ask the provider to cancel; the refund is paid only when a later status
//!    confirms `Canceled` or `Partial` (the sync's guarded update), never on the request;
//! 4. [`Step::Ticket`] — open a support ticket with the order attached and notify the customer.
//!
//! When (all times epoch ms, durations ms):
//! - an order is *due* when it was placed, or for a drip-feed at its last run;
//! - it is *stuck* `stuck_after` after it was due: the larger of the floor and `after_pct` % of
//!   its expected time (the service's average time per 1000 × quantity / 1000; no average = the
//!   floor alone);
//! - step *k* (1–4) is due at `due + stuck_after + (k − 1) × step_ms`, and never sooner than
//!   `step_ms` after the step before it was taken (a ladder that starts late does not rush);
//! - at most one step per order per pass, in order; an order that ends (completed, partial,
//!   canceled) or goes to review leaves the ladder.
//!
//! The rule is the service's, else its category's, else the panel default, field by field.

use serde::Serialize;

/// Least and most `after_pct` a service or category may set (1× to 100× the average time).
pub const MIN_AFTER_PCT: i64 = 100;
pub const MAX_AFTER_PCT: i64 = 10_000;
/// Most floor a service or category may set, minutes (90 days).
pub const MAX_FLOOR_MINUTES: i64 = 90 * 24 * 60;

/// One rung of the ladder, in the order it is climbed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Refresh,
    SpeedUp,
    Cancel,
    Ticket,
}

impl Step {
    pub const ALL: [Step; 4] = [Step::Refresh, Step::SpeedUp, Step::Cancel, Step::Ticket];

    /// Its place on the ladder, 1–4 (stored in `order_stuck_steps.step`).
    pub const fn number(self) -> i64 {
        match self {
            Step::Refresh => 1,
            Step::SpeedUp => 2,
            Step::Cancel => 3,
            Step::Ticket => 4,
        }
    }

    /// The step numbered `n` (1–4); `None` otherwise.
    pub fn from_number(n: i64) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.number() == n)
    }

    /// The stored and wire name: `refresh`, `speed_up`, `cancel`, `ticket` (also the order
    /// event's status).
    pub const fn as_str(self) -> &'static str {
        match self {
            Step::Refresh => "refresh",
            Step::SpeedUp => "speed_up",
            Step::Cancel => "cancel",
            Step::Ticket => "ticket",
        }
    }

    pub fn parse(text: &str) -> Option<Step> {
        Step::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// When a service's orders count as stuck and how far apart the steps are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StuckRule {
    /// Stuck after this share of the expected time, percent (300 = three times the average).
    pub after_pct: i64,
    /// Never stuck sooner than this after it was due, ms.
    pub floor_ms: i64,
    /// Time between two steps, ms.
    pub step_ms: i64,
}

/// A service's or category's own settings (`None` = the next level's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StuckOverride {
    pub after_pct: Option<i64>,
    pub floor_minutes: Option<i64>,
}

impl StuckRule {
    /// The rule for a service: each field from the service, else its category, else `self`
    /// (the panel default).
    pub fn resolve(self, service: StuckOverride, category: StuckOverride) -> StuckRule {
        StuckRule {
            after_pct: service
                .after_pct
                .or(category.after_pct)
                .unwrap_or(self.after_pct),
            floor_ms: service
                .floor_minutes
                .or(category.floor_minutes)
                .map_or(self.floor_ms, |m| m.saturating_mul(60_000)),
            step_ms: self.step_ms,
        }
    }

    /// How long after it was due an order of `quantity` units is stuck, ms: the larger of the
    /// floor and `after_pct` % of `avg_ms_per_1000 × quantity / 1000`.
    pub fn stuck_after_ms(&self, avg_ms_per_1000: Option<i64>, quantity: i64) -> i64 {
        let expected = avg_ms_per_1000.map_or(0, |avg| {
            let ms = i128::from(avg.max(0)) * i128::from(quantity.max(0)) / 1000
                * i128::from(self.after_pct.max(0))
                / 100;
            i64::try_from(ms).unwrap_or(i64::MAX)
        });
        expected.max(self.floor_ms.max(0))
    }

    /// When `step` is scheduled for an order due at `due_at` (epoch ms).
    pub fn step_at(
        &self,
        due_at: i64,
        avg_ms_per_1000: Option<i64>,
        quantity: i64,
        step: Step,
    ) -> i64 {
        due_at
            .saturating_add(self.stuck_after_ms(avg_ms_per_1000, quantity))
            .saturating_add((step.number() - 1).saturating_mul(self.step_ms.max(0)))
    }

    /// The step to take at `now`, if any, for an order due at `due_at` that has climbed
    /// `taken` steps (0–4), the last at `last_taken_at`.
    pub fn next_step(
        &self,
        due_at: i64,
        avg_ms_per_1000: Option<i64>,
        quantity: i64,
        taken: i64,
        last_taken_at: Option<i64>,
        now: i64,
    ) -> Option<Step> {
        let step = Step::from_number(taken.max(0) + 1)?;
        let scheduled = self.step_at(due_at, avg_ms_per_1000, quantity, step);
        let rested = last_taken_at.map_or(i64::MIN, |t| t.saturating_add(self.step_ms.max(0)));
        (now >= scheduled.max(rested)).then_some(step)
    }
}

/// Checks a service's or category's settings. Errors: a message for the field out of range.
pub fn check_override(o: StuckOverride) -> Result<(), String> {
    if let Some(p) = o.after_pct {
        if !(MIN_AFTER_PCT..=MAX_AFTER_PCT).contains(&p) {
            return Err(format!(
                "Stuck after is {MIN_AFTER_PCT} to {MAX_AFTER_PCT} % of the average time"
            ));
        }
    }
    if let Some(m) = o.floor_minutes {
        if !(1..=MAX_FLOOR_MINUTES).contains(&m) {
            return Err(format!(
                "The stuck floor is 1 to {MAX_FLOOR_MINUTES} minutes"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn rule() -> StuckRule {
        StuckRule {
            after_pct: 300,
            floor_ms: 2 * H,
            step_ms: H,
        }
    }

    #[test]
    fn steps_round_trip_by_name_and_number() {
        for s in Step::ALL {
            assert_eq!(Step::parse(s.as_str()), Some(s));
            assert_eq!(Step::from_number(s.number()), Some(s));
        }
        assert_eq!(Step::from_number(0), None);
        assert_eq!(Step::from_number(5), None);
        assert_eq!(Step::parse("Refresh"), None);
    }

    #[test]
    fn stuck_after_is_the_larger_of_the_floor_and_the_multiple_of_the_average() {
        let r = rule();
        // No average: the floor.
        assert_eq!(r.stuck_after_ms(None, 1000), 2 * H);
        // 1 h per 1000, 1000 units, 300 %: 3 h.
        assert_eq!(r.stuck_after_ms(Some(H), 1000), 3 * H);
        // 500 units: 1.5 h expected × 3 = 4.5 h.
        assert_eq!(r.stuck_after_ms(Some(H), 1500), 4 * H + H / 2);
        // Fast service: the floor wins.
        assert_eq!(r.stuck_after_ms(Some(60_000), 1000), 2 * H);
        // Absurd figures saturate instead of wrapping.
        assert_eq!(r.stuck_after_ms(Some(i64::MAX), i64::MAX), i64::MAX);
    }

    #[test]
    fn each_step_is_due_once_in_order_a_step_apart() {
        let r = rule();
        let due = 1_000 * H;
        let at = |s| r.step_at(due, None, 100, s);
        assert_eq!(at(Step::Refresh), due + 2 * H);
        assert_eq!(at(Step::Ticket), due + 5 * H);
        // Before the first instant nothing; at it, the first step only.
        assert_eq!(r.next_step(due, None, 100, 0, None, due + 2 * H - 1), None);
        assert_eq!(
            r.next_step(due, None, 100, 0, None, due + 2 * H),
            Some(Step::Refresh)
        );
        // Taken on time: the next is due one step later, not sooner.
        let t1 = due + 2 * H;
        assert_eq!(r.next_step(due, None, 100, 1, Some(t1), t1 + H - 1), None);
        assert_eq!(
            r.next_step(due, None, 100, 1, Some(t1), t1 + H),
            Some(Step::SpeedUp)
        );
        // All four taken: nothing more, ever.
        assert_eq!(r.next_step(due, None, 100, 4, Some(t1), i64::MAX), None);
    }

    #[test]
    fn a_ladder_that_starts_late_still_waits_a_step_between_rungs() {
        let r = rule();
        let due = 0;
        // The job was off for a day: the first step now, the second an hour later.
        let late = 24 * H;
        assert_eq!(
            r.next_step(due, None, 10, 0, None, late),
            Some(Step::Refresh)
        );
        assert_eq!(r.next_step(due, None, 10, 1, Some(late), late + 1), None);
        assert_eq!(
            r.next_step(due, None, 10, 1, Some(late), late + H),
            Some(Step::SpeedUp)
        );
    }

    #[test]
    fn a_service_overrides_its_category_which_overrides_the_default() {
        let d = rule();
        let none = StuckOverride::default();
        assert_eq!(d.resolve(none, none), d);
        let cat = StuckOverride {
            after_pct: Some(500),
            floor_minutes: Some(30),
        };
        let svc = StuckOverride {
            after_pct: Some(200),
            floor_minutes: None,
        };
        let r = d.resolve(svc, cat);
        assert_eq!((r.after_pct, r.floor_ms, r.step_ms), (200, 30 * 60_000, H));
    }

    #[test]
    fn settings_out_of_range_are_refused() {
        let ok = StuckOverride {
            after_pct: Some(300),
            floor_minutes: Some(60),
        };
        assert!(check_override(ok).is_ok());
        assert!(check_override(StuckOverride::default()).is_ok());
        for bad in [
            StuckOverride {
                after_pct: Some(99),
                ..ok
            },
            StuckOverride {
                after_pct: Some(10_001),
                ..ok
            },
            StuckOverride {
                floor_minutes: Some(0),
                ..ok
            },
            StuckOverride {
                floor_minutes: Some(MAX_FLOOR_MINUTES + 1),
                ..ok
            },
        ] {
            assert!(check_override(bad).is_err(), "{bad:?}");
        }
    }
}
