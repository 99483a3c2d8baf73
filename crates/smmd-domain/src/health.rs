//! Provider health figures (issue 20): the pure arithmetic behind the admin Providers page and
//! Prometheus — shares in per mille and a balance's runway at the recent rate of spend.

use crate::Money;

/// `part` of `whole` in per mille (rounded down); `None` when `whole` is not positive.
pub fn permille(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| {
        let p = i128::from(part.clamp(0, whole)) * 1000 / i128::from(whole);
        p as i64
    })
}

/// How many hours `balance` lasts when spending goes on as `spent` over the last `window_ms`
/// (both in the provider's currency), rounded down; `None` when nothing was spent (no runway
/// to speak of), `Some(0)` when the balance is gone.
pub fn runway_hours(balance: Money, spent: Money, window_ms: i64) -> Option<i64> {
    if !spent.is_positive() || window_ms <= 0 {
        return None;
    }
    if !balance.is_positive() {
        return Some(0);
    }
    let hours = i128::from(balance.micros()) * i128::from(window_ms)
        / (i128::from(spent.micros()) * 3_600_000);
    Some(i64::try_from(hours).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).expect("money")
    }

    #[test]
    fn permille_is_a_bounded_share() {
        assert_eq!(permille(1, 3), Some(333));
        assert_eq!(permille(3, 3), Some(1000));
        assert_eq!(permille(5, 3), Some(1000), "never above the whole");
        assert_eq!(permille(-1, 3), Some(0));
        assert_eq!(permille(1, 0), None);
    }

    #[test]
    fn runway_is_the_balance_at_the_recent_rate_of_spend() {
        const DAY: i64 = 86_400_000;
        // 100 spent in a day, 250 left: 60 hours.
        assert_eq!(runway_hours(m("250"), m("100"), DAY), Some(60));
        // 30 spent in an hour, 10 left: 20 minutes, rounded down to 0 hours.
        assert_eq!(runway_hours(m("10"), m("30"), 3_600_000), Some(0));
        assert_eq!(runway_hours(m("0"), m("30"), DAY), Some(0));
        assert_eq!(runway_hours(m("-5"), m("30"), DAY), Some(0));
        assert_eq!(runway_hours(m("250"), m("0"), DAY), None, "nothing spent");
        assert_eq!(runway_hours(m("250"), m("1"), 0), None);
        // Huge balances saturate instead of wrapping.
        assert!(runway_hours(Money::from_micros(i64::MAX), Money::from_micros(1), DAY).is_some());
    }
}
