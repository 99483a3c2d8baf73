//! The money rule of hourly billing (`docs/billing.md`, "The money rule"): cap modes, UTC
//! calendar months and the charge of the k-th billable hour.

use serde::{Deserialize, Serialize};

use super::HOUR_MS;
use crate::clock::DAY_MS;
use crate::Money;

/// How a plan's monthly price is spread over the hours of a month: the divisor `D`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CapMode {
    /// D = 730 (the default): a month of 672–744 hours costs at most the price.
    H730,
    /// D = 672: every full month (28 days or more) costs exactly the price.
    H672,
    /// D = the hours of that calendar month (672, 696, 720 or 744).
    Calendar,
}

impl CapMode {
    pub const ALL: [CapMode; 3] = [CapMode::H730, CapMode::H672, CapMode::Calendar];

    /// The stored and API name: `h730`, `h672`, `calendar`.
    pub fn as_str(self) -> &'static str {
        match self {
            CapMode::H730 => "h730",
            CapMode::H672 => "h672",
            CapMode::Calendar => "calendar",
        }
    }

    /// The mode named `text` (as [`as_str`](Self::as_str) writes it); `None` for anything else.
    pub fn parse(text: &str) -> Option<CapMode> {
        CapMode::ALL.into_iter().find(|m| m.as_str() == text)
    }

    /// The divisor D of `month` in this mode.
    pub fn divisor(self, month: Month) -> i64 {
        match self {
            CapMode::H730 => 730,
            CapMode::H672 => 672,
            CapMode::Calendar => month.hours(),
        }
    }
}

/// A UTC calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

impl Month {
    /// The month holding `at_ms`.
    pub fn of(at_ms: i64) -> Month {
        let (year, month, _) = civil_from_days(at_ms.div_euclid(DAY_MS));
        Month { year, month }
    }

    /// Its first instant, epoch ms.
    pub fn start_ms(self) -> i64 {
        days_from_civil(self.year, self.month, 1) * DAY_MS
    }

    /// The first instant of the next month, epoch ms.
    pub fn end_ms(self) -> i64 {
        self.next().start_ms()
    }

    pub fn next(self) -> Month {
        match self.month {
            12 => Month {
                year: self.year + 1,
                month: 1,
            },
            m => Month {
                year: self.year,
                month: m + 1,
            },
        }
    }

    /// How many hours it has: 672, 696, 720 or 744.
    pub fn hours(self) -> i64 {
        (self.end_ms() - self.start_ms()) / HOUR_MS
    }
}

impl std::fmt::Display for Month {
    /// `2026-12`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub(crate) fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01 (H. Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + i64::from(month <= 2)) as i32;
    (year, month, day)
}

/// `ceil(P·n / D)` in i128, for `0 ≤ n`, `0 ≤ P`, `D > 0`.
fn ceil_share(price: i64, n: i64, divisor: i64) -> i128 {
    let num = i128::from(price) * i128::from(n);
    let d = i128::from(divisor);
    (num + d - 1) / d
}

/// The charge of the `k`-th billable hour of a (rental, month, plan) line:
/// `c(k) = ceil(P·k/D) − ceil(P·(k−1)/D)` for `1 ≤ k ≤ D`, and zero for `k > D` (the month's
/// cap is reached) or `k < 1`. Exact (i128): over a whole line the charges add up to `P`, and
/// each is `⌊P/D⌋` or `⌈P/D⌉`.
///
/// `price` is the monthly price (≥ 0, at most [`Money::MAX_AMOUNT`]); `divisor` is D (> 0). A
/// price or divisor out of range charges nothing: plans are validated before they are stored.
pub fn hour_charge(price: Money, divisor: i64, k: i64) -> Money {
    let p = price.micros();
    if k < 1 || k > divisor || divisor <= 0 || p <= 0 || price > Money::MAX_AMOUNT {
        return Money::ZERO;
    }
    let c = ceil_share(p, k, divisor) - ceil_share(p, k - 1, divisor);
    // c ≤ ⌈P/D⌉ ≤ P, which fits i64.
    Money::from_micros(c as i64)
}

/// What the first `n` billable hours of a line cost together: `min(P, ceil(P·n/D))`, the sum
/// of [`hour_charge`] for k = 1..=n. What the plan preview and the statements show.
pub fn charge_for_hours(price: Money, divisor: i64, n: i64) -> Money {
    let p = price.micros();
    if n < 1 || divisor <= 0 || p <= 0 || price > Money::MAX_AMOUNT {
        return Money::ZERO;
    }
    Money::from_micros(ceil_share(p, n.min(divisor), divisor) as i64)
}

/// One billable hour as the billing engine records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HourCharge {
    /// The hour's start, epoch ms.
    pub hour_ms: i64,
    pub month: Month,
    /// Its place in the month's line (1 = the first charged hour); 0 for a waived hour.
    pub k: i64,
    /// [`hour_charge`] of `k` (zero once the month's cap is reached, and for a waived hour).
    pub amount: Money,
    pub waived: bool,
}

/// Prices a rental's billable hours (oldest first, as [`billable_hours`] gives them) on one
/// plan: each charged hour is the next `k` of its calendar month's line, after the
/// `charged_before(month)` hours that line already has; waived hours take no place in the line
/// and cost nothing. What the job records and the plan preview shows.
///
/// [`billable_hours`]: super::hours::billable_hours
pub fn price_hours(
    hours: &[(i64, super::hours::HourBilling)],
    price: Money,
    mode: CapMode,
    mut charged_before: impl FnMut(Month) -> i64,
) -> Vec<HourCharge> {
    let mut line: Option<(Month, i64)> = None;
    hours
        .iter()
        .map(|&(hour_ms, billing)| {
            let month = Month::of(hour_ms);
            let k = match line {
                Some((m, k)) if m == month => k,
                _ => charged_before(month).max(0),
            };
            if billing == super::hours::HourBilling::Waive {
                line = Some((month, k));
                return HourCharge {
                    hour_ms,
                    month,
                    k: 0,
                    amount: Money::ZERO,
                    waived: true,
                };
            }
            let k = k + 1;
            line = Some((month, k));
            HourCharge {
                hour_ms,
                month,
                k,
                amount: hour_charge(price, mode.divisor(month), k),
                waived: false,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::billing::hours::{billable_hours, HourBilling, StateChange};
    use crate::billing::rental::RentalState;

    const DIVISORS: [i64; 5] = [672, 696, 720, 730, 744];

    proptest! {
        #[test]
        fn a_line_costs_exactly_the_price_in_near_equal_hours(
            p in 1i64..=1_000_000_000_000,
            d in proptest::sample::select(DIVISORS.to_vec()),
        ) {
            let price = Money::from_micros(p);
            let (low, high) = (p / d, (p + d - 1) / d);
            let mut sum = 0i64;
            for k in 1..=d {
                let c = hour_charge(price, d, k).micros();
                prop_assert!(c == low || c == high, "c({k}) = {c}, not {low} or {high}");
                sum += c;
                prop_assert_eq!(sum, charge_for_hours(price, d, k).micros());
            }
            prop_assert_eq!(sum, p);
            for k in [d + 1, d + 2, 10_000] {
                prop_assert_eq!(hour_charge(price, d, k), Money::ZERO);
            }
            prop_assert_eq!(charge_for_hours(price, d, d + 50), price);
        }

        #[test]
        fn n_hours_cost_the_capped_share(
            p in 1i64..=1_000_000_000_000_000_000,
            d in proptest::sample::select(DIVISORS.to_vec()),
            n in 0i64..2_000,
        ) {
            let price = Money::from_micros(p);
            let want = if n == 0 {
                0
            } else {
                let share = (i128::from(p) * i128::from(n) + i128::from(d) - 1) / i128::from(d);
                share.min(i128::from(p)) as i64
            };
            prop_assert_eq!(charge_for_hours(price, d, n).micros(), want);
        }

        #[test]
        fn months_round_trip_through_their_instants(day in -200_000i64..200_000, ms in 0i64..DAY_MS) {
            let at = day * DAY_MS + ms;
            let m = Month::of(at);
            prop_assert!(m.start_ms() <= at && at < m.end_ms());
            prop_assert!([672, 696, 720, 744].contains(&m.hours()));
            prop_assert_eq!(Month::of(m.start_ms()), m);
            prop_assert_eq!(Month::of(m.end_ms() - 1), m);
        }
    }

    #[test]
    fn the_examples_of_the_design_doc() {
        // 25.00 a month at 730: 0.034247 or 0.034248 an hour, never more than 25.00.
        let p = Money::parse("25").expect("m");
        assert_eq!(hour_charge(p, 730, 1), Money::parse("0.034247").expect("m"));
        assert_eq!(charge_for_hours(p, 730, 730), p);
        assert_eq!(charge_for_hours(p, 730, 744), p, "a 31-day month is capped");
        // h672: a 28-day month costs exactly the price.
        assert_eq!(charge_for_hours(p, 672, 672), p);
        // A price below one micro-unit an hour: some hours are free, the month still sums to P.
        let tiny = Money::from_micros(100);
        assert_eq!(hour_charge(tiny, 730, 1), Money::from_micros(1));
        assert_eq!(hour_charge(tiny, 730, 2), Money::ZERO);
        assert_eq!(charge_for_hours(tiny, 730, 730), tiny);
        // Nonsense in, nothing charged.
        assert_eq!(hour_charge(p, 0, 1), Money::ZERO);
        assert_eq!(hour_charge(Money::from_micros(-5), 730, 1), Money::ZERO);
        assert_eq!(hour_charge(p, 730, 0), Money::ZERO);
    }

    /// Days in a month by the Gregorian rule, written out here rather than taken from
    /// [`Month`]: the independent calendar the ten-year test checks against.
    fn days_in(year: i32, month: u32) -> i64 {
        match month {
            4 | 6 | 9 | 11 => 30,
            2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
            2 => 28,
            _ => 31,
        }
    }

    /// Ten years of one always-active rental per cap mode: each month's charges add up to
    /// min(P, ceil(P·hours/D)) with the month's hours from the independent calendar; 87,648
    /// hours, each once, in order.
    #[test]
    fn ten_years_of_a_rental_cost_the_capped_price_every_month() {
        let start = Month {
            year: 2026,
            month: 1,
        }
        .start_ms();
        let end = Month {
            year: 2036,
            month: 1,
        }
        .start_ms();
        let log = [StateChange {
            at_ms: start,
            state: RentalState::Active,
        }];
        let hours = billable_hours(&log, &[], start, end);
        assert_eq!(hours.len(), 87_648);
        assert!(
            hours.windows(2).all(|w| w[1].0 - w[0].0 == HOUR_MS),
            "no gap, no duplicate"
        );
        let price = Money::parse("25.000001").expect("m");
        for mode in CapMode::ALL {
            // Priced in 97-hour pieces, as a job catching up in steps would: the line carries on.
            let mut charged: std::collections::HashMap<Month, i64> = Default::default();
            let mut rows = Vec::new();
            for piece in hours.chunks(97) {
                let priced = price_hours(piece, price, mode, |m| {
                    charged.get(&m).copied().unwrap_or(0)
                });
                for r in &priced {
                    charged.insert(r.month, r.k);
                }
                rows.extend(priced);
            }
            let mut by_month: std::collections::BTreeMap<(i32, u32), (i64, i64)> =
                Default::default();
            for r in &rows {
                let e = by_month.entry((r.month.year, r.month.month)).or_default();
                e.0 += r.amount.micros();
                e.1 += 1;
            }
            assert_eq!(by_month.len(), 120);
            for ((y, m), (sum, n)) in by_month {
                let hours_in_month = days_in(y, m) * 24;
                assert_eq!(n, hours_in_month, "{y}-{m}");
                let d = match mode {
                    CapMode::H730 => 730,
                    CapMode::H672 => 672,
                    CapMode::Calendar => hours_in_month,
                };
                let p = i128::from(price.micros());
                let want = ((p * i128::from(n) + i128::from(d) - 1) / i128::from(d)).min(p);
                assert_eq!(i128::from(sum), want, "{mode:?} {y}-{m}");
            }
        }
    }

    #[test]
    fn waived_hours_cost_nothing_and_take_no_place_in_the_line() {
        let h0 = Month {
            year: 2026,
            month: 3,
        }
        .start_ms();
        let hours = [
            (h0, HourBilling::Charge),
            (h0 + HOUR_MS, HourBilling::Waive),
            (h0 + 2 * HOUR_MS, HourBilling::Charge),
            // The next month starts its own line at k = 1.
            (
                Month {
                    year: 2026,
                    month: 4,
                }
                .start_ms(),
                HourBilling::Charge,
            ),
        ];
        let p = Money::parse("7.30").expect("m");
        let rows = price_hours(&hours, p, CapMode::H730, |_| 10);
        assert_eq!(
            rows.iter()
                .map(|r| (r.k, r.amount.micros(), r.waived))
                .collect::<Vec<_>>(),
            [
                (11, 10_000, false),
                (0, 0, true),
                (12, 10_000, false),
                (11, 10_000, false)
            ]
        );
        // A line already at its cap charges nothing more.
        let capped = price_hours(&hours[..1], p, CapMode::H730, |_| 730);
        assert_eq!((capped[0].k, capped[0].amount), (731, Money::ZERO));
    }

    #[test]
    fn calendar_months_have_their_real_hours() {
        let month = |y, m| Month { year: y, month: m };
        assert_eq!(month(2026, 2).hours(), 672);
        assert_eq!(month(2028, 2).hours(), 696, "leap year");
        assert_eq!(month(2100, 2).hours(), 672, "not a leap year");
        assert_eq!(month(2000, 2).hours(), 696, "leap year");
        assert_eq!(month(2026, 4).hours(), 720);
        assert_eq!(month(2026, 12).hours(), 744);
        assert_eq!(month(2026, 12).next(), month(2027, 1));
        // 2026-01-01T00:00:00Z
        assert_eq!(month(2026, 1).start_ms(), 1_767_225_600_000);
        assert_eq!(Month::of(1_767_225_599_999), month(2025, 12));
        assert_eq!(month(2026, 1).to_string(), "2026-01");
        assert_eq!(CapMode::Calendar.divisor(month(2026, 2)), 672);
        assert_eq!(CapMode::H730.divisor(month(2026, 2)), 730);
        for m in CapMode::ALL {
            assert_eq!(CapMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(CapMode::parse("H730"), None);
    }
}
