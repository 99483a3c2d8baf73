//! Scheduling decisions as pure functions, so the store's claim transaction only persists them:
//! [`plan_ticks`] turns a schedule's cursor (`next_run_at`) and the current time into the ticks to
//! run, the ticks to record as skipped (with the reason) and the new cursor (F1, F6);
//! [`RetryPolicy::delay_ms`] gives the backoff before the next attempt (F8).
//!
//! Every nominal tick between the cursor and now is accounted for: it either runs or leaves a
//! `skipped` row. A tick is *on time* when it is at most `grace_ms` old at claim time; older
//! ticks are *missed* and follow the misfire policy.

use std::collections::VecDeque;

use crate::calendar::Calendar;

pub use smmd_domain::schedule::{Misfire, Overlap};

/// Policies of one schedule that decide its ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TickPolicy {
    pub misfire: Misfire,
    /// Ticks older than this at claim time are missed (ms).
    pub grace_ms: i64,
    /// `FireAll` only: missed ticks older than this are skipped anyway (ms).
    pub catch_up_window_ms: i64,
}

/// Most ticks one claim will account for; beyond it the oldest are collapsed into one
/// `skipped: bound` note so an outage of a 1-second schedule cannot create millions of rows.
pub const MAX_TICKS_PER_CLAIM: usize = 10_000;

/// Why a tick did not run. Stored as the snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SkipReason {
    /// Missed while down, and the misfire policy said skip.
    Misfire,
    /// Missed, `FireAll`, but older than the catch-up window.
    OutsideCatchUpWindow,
    /// More missed ticks than [`MAX_TICKS_PER_CLAIM`]; the oldest are collapsed into one note.
    Bound,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Misfire => "misfire",
            SkipReason::OutsideCatchUpWindow => "outside_catch_up_window",
            SkipReason::Bound => "bound",
        }
    }
}

use SkipReason as Reason;

/// The outcome of one claim for one schedule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TickPlan {
    /// Nominal ticks (epoch ms) to create runs for, oldest first.
    pub run: Vec<i64>,
    /// Nominal ticks to record as skipped, oldest first.
    pub skipped: Vec<(i64, Reason)>,
    /// How many further ticks were collapsed by [`MAX_TICKS_PER_CLAIM`] (recorded as one note).
    pub collapsed: u64,
    /// The new cursor: the first tick strictly after `now`.
    pub next_cursor: Option<i64>,
}

/// Plans the ticks of a schedule whose cursor is `cursor` (the next nominal tick not yet
/// accounted for) at time `now`. Ticks `> now` are left for later. Pure and deterministic.
pub fn plan_ticks(cal: &Calendar, cursor: i64, now: i64, policy: TickPolicy) -> TickPlan {
    let mut due = VecDeque::new();
    let mut collapsed = 0u64;
    let mut t = cursor;
    let mut next_cursor = Some(cursor);
    while t <= now {
        if due.len() == MAX_TICKS_PER_CLAIM {
            // Keep the newest MAX ticks: drop the oldest, count it.
            due.pop_front();
            collapsed += 1;
        }
        due.push_back(t);
        next_cursor = cal.next_after(t);
        match next_cursor {
            Some(n) => t = n,
            None => break,
        }
    }
    let (missed, on_time): (Vec<i64>, Vec<i64>) = due
        .into_iter()
        .partition(|tick| now - tick > policy.grace_ms);
    let mut run = Vec::new();
    let mut skipped = Vec::new();
    match policy.misfire {
        Misfire::Skip => skipped.extend(missed.iter().map(|t| (*t, Reason::Misfire))),
        Misfire::FireOnce => {
            if let Some((last, older)) = missed.split_last() {
                skipped.extend(older.iter().map(|t| (*t, Reason::Misfire)));
                run.push(*last);
            }
        }
        Misfire::FireAll => {
            for t in &missed {
                if now - t > policy.catch_up_window_ms {
                    skipped.push((*t, Reason::OutsideCatchUpWindow));
                } else {
                    run.push(*t);
                }
            }
        }
    }
    run.extend(on_time);
    if collapsed > 0 {
        skipped.insert(0, (cursor, Reason::Bound));
    }
    TickPlan {
        run,
        skipped,
        collapsed,
        next_cursor: next_cursor.filter(|n| *n > now),
    }
}

/// Attempts and backoff for failed runs (scheduler.md F8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total attempts including the first (1 = no retry).
    pub max_attempts: u32,
    /// Delay before the second attempt (ms); doubles each attempt.
    pub base_delay_ms: i64,
    /// Upper bound of one delay (ms).
    pub max_delay_ms: i64,
}

impl RetryPolicy {
    /// The delay before attempt `next_attempt` (2 = first retry), or `None` when attempts are
    /// used up. Exponential (`base × 2^(n−2)`, capped) with "equal jitter": a value in
    /// `[d/2, d]` chosen by `jitter_permille` (0–1000, from the caller's RNG, so tests are exact).
    pub fn delay_ms(&self, next_attempt: u32, jitter_permille: u32) -> Option<i64> {
        if next_attempt < 2 || next_attempt > self.max_attempts {
            return None;
        }
        let exp = (next_attempt - 2).min(30);
        let full = self
            .base_delay_ms
            .saturating_mul(1i64 << exp)
            .min(self.max_delay_ms)
            .max(0);
        let half = full / 2;
        Some(half + (full - half) * i64::from(jitter_permille.min(1000)) / 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_767_225_600_000;
    const S30: i64 = 30_000;

    fn cal30() -> Calendar {
        Calendar::parse("*/30 * * * * *", "UTC").expect("valid")
    }

    fn policy(misfire: Misfire) -> TickPolicy {
        TickPolicy {
            misfire,
            grace_ms: 5_000,
            catch_up_window_ms: 48 * 3_600_000,
        }
    }

    #[test]
    fn an_on_time_tick_runs_under_every_policy() {
        for m in [Misfire::Skip, Misfire::FireOnce, Misfire::FireAll] {
            let plan = plan_ticks(&cal30(), T0, T0 + 120, policy(m));
            assert_eq!(plan.run, vec![T0], "{m:?}");
            assert!(plan.skipped.is_empty());
            assert_eq!(plan.next_cursor, Some(T0 + S30));
        }
        let early = plan_ticks(&cal30(), T0, T0 - 1, policy(Misfire::FireAll));
        assert!(early.run.is_empty() && early.skipped.is_empty());
        assert_eq!(early.next_cursor, Some(T0), "nothing due: the cursor stays");
    }

    /// scheduler.md: "Stopped 10 min with a 30 s schedule: skip → 0 catch-up runs,
    /// fire_once → 1, fire_all → 20 (bounded); misses recorded."
    #[test]
    fn ten_minutes_down_with_a_30_second_schedule() {
        // Tick T0 ran; the process stopped and came back 10 min 10 s later.
        let cursor = T0 + S30;
        let now = T0 + 600_000 + 10_000;
        let ticks: Vec<i64> = (1..=20).map(|i| T0 + i * S30).collect();
        let skip = plan_ticks(&cal30(), cursor, now, policy(Misfire::Skip));
        assert!(skip.run.is_empty());
        assert_eq!(
            skip.skipped.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            ticks,
            "every miss recorded"
        );
        assert!(skip.skipped.iter().all(|(_, r)| *r == Reason::Misfire));
        let once = plan_ticks(&cal30(), cursor, now, policy(Misfire::FireOnce));
        assert_eq!(
            once.run,
            vec![T0 + 20 * S30],
            "the newest missed tick, once"
        );
        assert_eq!(once.skipped.len(), 19);
        let all = plan_ticks(&cal30(), cursor, now, policy(Misfire::FireAll));
        assert_eq!(all.run, ticks);
        assert!(all.skipped.is_empty());
        for plan in [skip, once, all] {
            assert_eq!(
                plan.next_cursor,
                Some(T0 + 21 * S30),
                "the next regular tick is kept"
            );
        }
    }

    #[test]
    fn fire_all_is_bounded_by_its_catch_up_window() {
        let p = TickPolicy {
            misfire: Misfire::FireAll,
            grace_ms: 5_000,
            catch_up_window_ms: 5 * 60_000,
        };
        let now = T0 + 600_000 + 10_000;
        let plan = plan_ticks(&cal30(), T0 + S30, now, p);
        assert!(plan.run.iter().all(|t| now - t <= 5 * 60_000));
        assert_eq!(plan.run.len() + plan.skipped.len(), 20);
        assert!(plan
            .skipped
            .iter()
            .all(|(_, r)| *r == Reason::OutsideCatchUpWindow));
    }

    #[test]
    fn a_huge_outage_is_collapsed_not_materialised() {
        let every_second = Calendar::parse("* * * * * *", "UTC").expect("valid");
        let now = T0 + 3 * 86_400_000; // three days of a 1 s schedule: 259,200 ticks
        let plan = plan_ticks(&every_second, T0, now, policy(Misfire::FireOnce));
        let on_time: Vec<i64> = (0..=5).rev().map(|s| now - s * 1_000).collect();
        assert_eq!(plan.run[0], now - 6_000, "the newest missed tick, once");
        assert_eq!(
            plan.run[1..],
            on_time[..],
            "then the ticks inside the grace, on time"
        );
        assert_eq!(
            plan.run.len() + plan.skipped.len(),
            MAX_TICKS_PER_CLAIM + 1,
            "the newest ticks plus one bound note"
        );
        assert_eq!(plan.skipped[0], (T0, Reason::Bound));
        assert!(plan.collapsed > 249_000);
        assert_eq!(plan.next_cursor, Some(now + 1_000));
    }

    /// scheduler.md: "A weekly job while the process restarts every hour for 3 simulated weeks
    /// still fires every week." The cursor survives restarts, so each claim after a restart
    /// still sees the week's tick.
    #[test]
    fn a_weekly_job_survives_hourly_restarts() {
        let weekly = Calendar::parse("0 0 3 * * MON", "Europe/London").expect("valid");
        let mut cursor = weekly.next_after(T0).expect("first");
        let mut fired = Vec::new();
        let hour = 3_600_000;
        let mut t = T0;
        while t < T0 + 21 * 86_400_000 {
            // Each hour: the process is up for the first 10 minutes only, polling every 30 s.
            let mut poll = t;
            while poll < t + 10 * 60_000 {
                let plan = plan_ticks(&weekly, cursor, poll, policy(Misfire::FireOnce));
                fired.extend(plan.run);
                if let Some(n) = plan.next_cursor {
                    cursor = n;
                }
                poll += 30_000;
            }
            t += hour;
        }
        assert_eq!(fired.len(), 3, "once a week for three weeks: {fired:?}");
        assert!(fired.windows(2).all(|w| w[1] - w[0] == 7 * 86_400_000));
    }

    #[test]
    fn retries_back_off_exponentially_with_bounded_jitter() {
        let r = RetryPolicy {
            max_attempts: 4,
            base_delay_ms: 1_000,
            max_delay_ms: 3_000,
        };
        assert_eq!(r.delay_ms(1, 0), None, "the first attempt is not a retry");
        assert_eq!(r.delay_ms(2, 1000), Some(1_000));
        assert_eq!(r.delay_ms(2, 0), Some(500));
        assert_eq!(r.delay_ms(3, 1000), Some(2_000));
        assert_eq!(r.delay_ms(4, 1000), Some(3_000), "capped");
        assert_eq!(r.delay_ms(5, 500), None, "attempts used up");
        for j in 0..=1000 {
            let d = r.delay_ms(3, j).expect("delay");
            assert!((1_000..=2_000).contains(&d));
        }
    }

    #[test]
    fn misfire_names_round_trip() {
        for m in [Misfire::Skip, Misfire::FireOnce, Misfire::FireAll] {
            assert_eq!(Misfire::parse(m.as_str()), Some(m));
        }
        assert_eq!(Misfire::parse("sometimes"), None);
        assert_eq!(
            Reason::OutsideCatchUpWindow.as_str(),
            "outside_catch_up_window"
        );
    }
}
