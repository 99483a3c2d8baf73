//! Display currencies: exchange rates and what a customer sees with them. The ledger, every
//! charge and every balance stay in the panel's currency; a customer may choose another to
//! *see* amounts in, converted at reference rates and marked "≈" (rounded to the cent, never
//! what is charged). Rates are kept as the ECB publishes them: units of a currency per one
//! euro, in micro-units (`1.0824` USD per EUR = 1 082 400), so any two currencies convert
//! through the euro with integer arithmetic. A day's new rate that moves more than a set
//! share from the last one is refused (a bad feed must not reprice every page) and alerts.

use crate::money::{Money, MICROS_PER_UNIT};

/// The currency every rate is quoted against (the ECB reference rates' base).
pub const BASE: &str = "EUR";

/// The largest rate accepted (units per euro): well above any currency's (IDR ~17 000),
/// so a mistyped rate is refused rather than stored.
pub const MAX_PER_EUR: Money = Money::from_micros(10_000_000 * MICROS_PER_UNIT);

/// Whether `code` is an ISO 4217-shaped currency code: three ASCII capital letters.
pub fn valid_code(code: &str) -> bool {
    code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase())
}

/// A rate as text (`"1.0824"`, units per euro) in micro-units; `None` unless it is a plain
/// positive decimal of at most 6 decimals, at most [`MAX_PER_EUR`].
pub fn parse_rate(text: &str) -> Option<i64> {
    let m = Money::parse(text).ok()?;
    (m.is_positive() && m <= MAX_PER_EUR).then_some(m.micros())
}

/// `amount` (micro-units of the currency quoted `from_per_eur` per euro) in the currency
/// quoted `to_per_eur`, rounded to the nearest micro-unit (ties away from zero). `None` for a
/// non-positive rate or overflow.
pub fn convert(amount: Money, from_per_eur: i64, to_per_eur: i64) -> Option<Money> {
    if from_per_eur <= 0 || to_per_eur <= 0 {
        return None;
    }
    let num = i128::from(amount.micros()) * i128::from(to_per_eur);
    let den = i128::from(from_per_eur);
    let half = den / 2;
    let v = if num >= 0 {
        (num + half) / den
    } else {
        (num - half) / den
    };
    i64::try_from(v).ok().map(Money::from_micros)
}

/// A converted amount as the pages show it: rounded to the cent (ties away from zero), two
/// decimals, the code after it: `"≈ 9.23 EUR"`.
pub fn approx_text(amount: Money, code: &str) -> String {
    let cent = MICROS_PER_UNIT / 100;
    let m = amount.micros();
    let cents = if m >= 0 {
        (m + cent / 2) / cent
    } else {
        (m - cent / 2) / cent
    };
    let sign = if cents < 0 { "-" } else { "" };
    let abs = cents.unsigned_abs();
    format!("≈ {sign}{}.{:02} {code}", abs / 100, abs % 100)
}

/// How far `new` moved from `old`, in basis points of `old` (1 % = 100), rounded up; `None`
/// when `old` is not positive (a first rate has nothing to jump from).
pub fn jump_bp(old: i64, new: i64) -> Option<i64> {
    if old <= 0 {
        return None;
    }
    let diff = (i128::from(new) - i128::from(old)).abs() * 10_000;
    let old = i128::from(old);
    i64::try_from((diff + old - 1) / old).ok()
}

/// Whether a feed's `new` rate may replace `old` under a limit of `max_jump_bp` (basis
/// points): always for a first rate, else when it moved at most the limit.
pub fn acceptable(old: Option<i64>, new: i64, max_jump_bp: i64) -> bool {
    match old.and_then(|o| jump_bp(o, new)) {
        None => true,
        Some(j) => j <= max_jump_bp,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_rates_are_checked() {
        assert!(valid_code("USD") && valid_code("EUR"));
        for bad in ["usd", "US", "USDT", "U1D", "", "ÉUR"] {
            assert!(!valid_code(bad), "{bad}");
        }
        assert_eq!(parse_rate("1.0824"), Some(1_082_400));
        assert_eq!(parse_rate("16384.55"), Some(16_384_550_000));
        for bad in ["0", "-1.2", "abc", "1.1234567", "", "99999999"] {
            assert_eq!(parse_rate(bad), None, "{bad}");
        }
    }

    #[test]
    fn conversion_goes_through_the_euro_and_rounds_to_nearest() {
        // 10.00 USD at 1.0824 USD/EUR is 9.238... EUR.
        let eur = convert(Money::from_units(10).expect("m"), 1_082_400, 1_000_000).expect("c");
        assert_eq!(eur, Money::from_micros(9_238_729));
        assert_eq!(approx_text(eur, "EUR"), "≈ 9.24 EUR");
        // USD → GBP through EUR: 100 USD × 0.8455 / 1.0824.
        let gbp = convert(Money::from_units(100).expect("m"), 1_082_400, 845_500).expect("c");
        assert_eq!(gbp, Money::from_micros(78_113_452));
        // Same currency: the same amount.
        let same = Money::from_micros(1_234_567);
        assert_eq!(convert(same, 1_082_400, 1_082_400), Some(same));
        // Negative amounts round away from zero too; bad rates convert nothing.
        assert_eq!(
            convert(Money::from_micros(-1), 3, 2),
            Some(Money::from_micros(-1))
        );
        assert_eq!(convert(same, 0, 1), None);
        assert_eq!(convert(same, 1, -1), None);
        assert_eq!(
            approx_text(Money::from_micros(-5_000), "EUR"),
            "≈ -0.01 EUR"
        );
        assert_eq!(approx_text(Money::from_micros(4_999), "JPY"), "≈ 0.00 JPY");
    }

    #[test]
    fn a_jump_above_the_limit_is_refused() {
        assert_eq!(jump_bp(1_000_000, 1_100_000), Some(1_000));
        assert_eq!(jump_bp(1_000_000, 900_000), Some(1_000));
        assert_eq!(jump_bp(1_000_000, 1_000_001), Some(1));
        assert_eq!(jump_bp(0, 5), None);
        assert!(acceptable(None, 5, 0));
        assert!(acceptable(Some(1_000_000), 1_100_000, 1_000));
        assert!(!acceptable(Some(1_000_000), 1_100_001, 1_000));
        assert!(!acceptable(Some(1_000_000), 450_000, 1_000));
    }
}
