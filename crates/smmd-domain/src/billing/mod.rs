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

/// The start of the UTC hour holding `at_ms` (hours before 1970 round down too).
pub fn hour_of(at_ms: i64) -> i64 {
    at_ms.div_euclid(HOUR_MS) * HOUR_MS
}
