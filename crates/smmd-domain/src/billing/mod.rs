//! Hourly billing of rentals (`docs/billing.md`): the pure rules the billing engine, the pages
//! and the plan preview share.
//!
//! - [`charge`]: cap modes, UTC calendar months and the money rule `c(k)`: the k-th billable
//!   hour of a (rental, month, plan) line costs `ceil(P·k/D) − ceil(P·(k−1)/D)`, so a month never
//!   costs more than the plan's price and a full month costs exactly that.
//! - [`hours`]: which UTC hours of a rental are billed or waived, from its state log and the
//!   billing pauses alone (never from when the job ran).
//! - [`entitlement`]: what a plan grants (`reseller_tier`) and its settings' rules.
//! - [`rental`]: the rental state machine (`pending → active ⇄ grace → suspended →
//!   terminated`, `canceled`), the dunning instants, the runway warning and statement numbers.
//!
//! Times are epoch milliseconds (UTC); money is [`Money`](crate::Money) micro-units of the panel
//! currency.

pub mod charge;
pub mod entitlement;
pub mod hours;
pub mod rental;

/// One hour, milliseconds.
pub const HOUR_MS: i64 = 3_600_000;

/// Hours between the billing watermark (every hour before it is reconciled, epoch ms) and the
/// end of the UTC hour holding `now_ms`: 0 when the last run billed the current hour, 1 an
/// hour later, and so on; `None` before the first run. Above [`LAG_ALERT_HOURS`] billing is
/// late (`docs/billing.md`, Surfaces).
pub fn lag_hours(watermark: Option<i64>, now_ms: i64) -> Option<i64> {
    watermark.map(|w| (hour_of(now_ms) + HOUR_MS - w).max(0) / HOUR_MS)
}

/// A lag above this many hours is late: the `billing_lag` alert, the status's `lagging`.
pub const LAG_ALERT_HOURS: i64 = 1;

/// The start of the UTC hour holding `at_ms` (hours before 1970 round down too).
pub fn hour_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(HOUR_MS) * HOUR_MS
}
