//! Exact money: [`Money`] is a signed count of **micro-units** (10⁻⁶ of the panel currency) in an
//! `i64`, so the largest amount is about 9.2 × 10¹² currency units. No `f64` ever touches an amount.
//!
//! Every rounding rule of smmd lives in this module, stated once:
//! - [`Money::parse`] is strict: at most 6 decimals, anything else is an error (user and admin
//!   input, config, our own wire values).
//! - [`Money::parse_lenient`] accepts any number of decimals and rounds to the nearest
//!   micro-unit, ties away from zero (provider values such as `"0.08011655652"`).
//! - [`Money::charge_for`]: `charge = rate_per_1000 × quantity / 1000`, rounded **up** to the next
//!   micro-unit (the panel never sells below its rate).
//! - [`Money::prorate_down`]: `amount × part / whole` rounded **down** (refunds never exceed what
//!   was paid).
//! - [`Money::apply_markup_bp`]: `cost × (10000 + bp) / 10000`, rounded **up**.

use std::fmt;
use std::ops::Neg;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Micro-units per currency unit.
pub const MICROS_PER_UNIT: i64 = 1_000_000;

/// An exact amount of money in micro-units (10⁻⁶) of one currency.
///
/// Serialises as its decimal string (`"0.27819"`), never as a float.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Money(i64);

/// Why a decimal string is not an amount.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("amount is empty")]
    Empty,
    #[error("amount `{0}` is not a decimal number")]
    Invalid(String),
    #[error("amount `{0}` has more than 6 decimals")]
    TooPrecise(String),
    #[error("amount `{0}` is out of range")]
    OutOfRange(String),
}

impl Money {
    pub const ZERO: Money = Money(0);

    /// The largest balance and the largest single amount any money operation takes:
    /// 1 000 000 000 000 currency units (10^18 micro-units). Two such values add without
    /// overflowing `i64`, so every sum the store computes is exact (issue 15, "overflow").
    pub const MAX_AMOUNT: Money = Money(1_000_000_000_000_000_000);

    /// An amount from micro-units.
    pub const fn from_micros(micros: i64) -> Money {
        Money(micros)
    }

    /// The amount in micro-units.
    pub const fn micros(self) -> i64 {
        self.0
    }

    /// A whole number of currency units; `None` on overflow.
    pub fn from_units(units: i64) -> Option<Money> {
        units.checked_mul(MICROS_PER_UNIT).map(Money)
    }

    pub fn is_negative(self) -> bool {
        self.0 < 0
    }

    pub fn is_positive(self) -> bool {
        self.0 > 0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    /// Sum that stops at the `i64` bounds (for totals of reports, never for balances).
    pub fn saturating_add(self, other: Money) -> Money {
        Money(self.0.saturating_add(other.0))
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }

    /// `self × factor`, `None` on overflow.
    pub fn checked_mul(self, factor: i64) -> Option<Money> {
        self.0.checked_mul(factor).map(Money)
    }

    /// Strict parse: optional sign, digits, optional `.` and at most 6 decimals; surrounding
    /// whitespace is ignored. `"0.27819"` → 278190 µ. Errors: empty, not a number, more than 6
    /// decimals, out of range.
    pub fn parse(text: &str) -> Result<Money, MoneyError> {
        parse_decimal(text, false)
    }

    /// Lenient parse for provider values: any number of decimals, rounded to the nearest
    /// micro-unit, ties away from zero (`"0.08011655652"` → 80117 µ). Also accepts an exponent
    /// (`"1e-3"`), which some JSON encoders emit for small floats.
    pub fn parse_lenient(text: &str) -> Result<Money, MoneyError> {
        parse_decimal(text, true)
    }

    /// `charge = rate_per_1000 × quantity / 1000`, rounded up to the next micro-unit.
    /// `None` when negative inputs or overflow make no sense as a charge.
    pub fn charge_for(rate_per_1000: Money, quantity: i64) -> Option<Money> {
        if rate_per_1000.0 < 0 || quantity < 0 {
            return None;
        }
        let product = i128::from(rate_per_1000.0) * i128::from(quantity);
        let charge = (product + 999) / 1000;
        i64::try_from(charge).ok().map(Money)
    }

    /// `self × part / whole`, rounded toward zero, for refunds of the undelivered share.
    /// `None` when `whole` is not positive or `part` is outside `0..=whole`.
    pub fn prorate_down(self, part: i64, whole: i64) -> Option<Money> {
        if whole <= 0 || part < 0 || part > whole {
            return None;
        }
        let v = i128::from(self.0) * i128::from(part) / i128::from(whole);
        i64::try_from(v).ok().map(Money)
    }

    /// Converts into another currency at `rate_micros` (target units per source unit, in
    /// micro-units: 1.0 = 1 000 000), rounded up to the next micro-unit so a converted cost is
    /// never understated. `None` for a non-positive rate or overflow.
    pub fn convert_up(self, rate_micros: i64) -> Option<Money> {
        if rate_micros <= 0 {
            return None;
        }
        let num = i128::from(self.0) * i128::from(rate_micros);
        let d = i128::from(MICROS_PER_UNIT);
        let v = if num >= 0 { (num + d - 1) / d } else { num / d };
        i64::try_from(v).ok().map(Money)
    }

    /// Selling price from a cost and a markup in basis points (5000 = +50 %), rounded up.
    pub fn apply_markup_bp(self, markup_bp: i64) -> Option<Money> {
        if markup_bp < -10_000 {
            return None;
        }
        let num = i128::from(self.0) * i128::from(10_000 + markup_bp);
        let v = if num >= 0 {
            (num + 9_999) / 10_000
        } else {
            num / 10_000
        };
        i64::try_from(v).ok().map(Money)
    }

    /// The canonical decimal text: `.` separator, no exponent, no thousands separator, at least 2
    /// and at most 6 decimals with trailing zeros removed (`"0.90"`, `"100.84292"`, `"5.00"`).
    /// This is what API v2 `rate`, `charge` and `balance` carry (spec §7.1).
    pub fn to_decimal_string(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let units = abs / MICROS_PER_UNIT as u64;
        let frac = abs % MICROS_PER_UNIT as u64;
        let mut digits = format!("{frac:06}");
        while digits.len() > 2 && digits.ends_with('0') {
            digits.pop();
        }
        write!(f, "{sign}{units}.{digits}")
    }
}

impl FromStr for Money {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Money::parse(s)
    }
}

impl Neg for Money {
    type Output = Money;
    fn neg(self) -> Money {
        Money(self.0.saturating_neg())
    }
}

impl Serialize for Money {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Money {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Money::parse(&text).map_err(serde::de::Error::custom)
    }
}

fn parse_decimal(text: &str, lenient: bool) -> Result<Money, MoneyError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(MoneyError::Empty);
    }
    let invalid = || MoneyError::Invalid(t.to_string());
    let (negative, body) = match t.as_bytes()[0] {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) if lenient => {
            let exp: i32 = body[i + 1..].parse().map_err(|_| invalid())?;
            (&body[..i], exp)
        }
        Some(_) => return Err(invalid()),
        None => (body, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => (i, f),
        None => (mantissa, ""),
    };
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    // All digits as one string with the decimal point moved by the exponent.
    let digits: String = format!("{int_part}{frac_part}");
    let point = i64::try_from(int_part.len()).map_err(|_| invalid())? + i64::from(exponent);
    // micros = digits × 10^(6 - (len - point))
    let scale = 6 - (i64::try_from(digits.len()).map_err(|_| invalid())? - point);
    let out_of_range = || MoneyError::OutOfRange(t.to_string());
    let trimmed = digits.trim_start_matches('0');
    let micros: i128 = if scale >= 0 {
        if trimmed.len() as i64 + scale > 20 {
            return Err(out_of_range());
        }
        let base: i128 = if trimmed.is_empty() {
            0
        } else {
            trimmed.parse().map_err(|_| out_of_range())?
        };
        base * 10i128.pow(scale as u32)
    } else {
        // More than 6 decimals: the dropped digits decide rounding.
        let drop = usize::try_from(-scale).map_err(|_| out_of_range())?;
        let (keep, dropped) = if drop >= digits.len() {
            ("", digits.as_str())
        } else {
            digits.split_at(digits.len() - drop)
        };
        if !lenient && dropped.bytes().any(|b| b != b'0') {
            return Err(MoneyError::TooPrecise(t.to_string()));
        }
        let keep = keep.trim_start_matches('0');
        if keep.len() > 20 {
            return Err(out_of_range());
        }
        let base: i128 = if keep.is_empty() {
            0
        } else {
            keep.parse().map_err(|_| out_of_range())?
        };
        // Ties away from zero: round up when the first dropped digit is 5..9 and it is the
        // first dropped digit (the full dropped run is at position 0 only when drop <= len).
        let round_up =
            drop <= digits.len() && dropped.as_bytes().first().is_some_and(|d| *d >= b'5');
        base + i128::from(round_up)
    };
    let signed = if negative { -micros } else { micros };
    i64::try_from(signed).map(Money).map_err(|_| out_of_range())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).expect("valid amount")
    }

    #[test]
    fn parses_protocol_amounts_exactly() {
        assert_eq!(m("0.27819").micros(), 278_190);
        assert_eq!(m("100.84292").micros(), 100_842_920);
        assert_eq!(m("0.90").micros(), 900_000);
        assert_eq!(m("8").micros(), 8_000_000);
        assert_eq!(m(" 5.00 ").micros(), 5_000_000);
        assert_eq!(m(".5").micros(), 500_000);
        assert_eq!(m("-1.5").micros(), -1_500_000);
        assert_eq!(m("95200").micros(), 95_200_000_000);
    }

    #[test]
    fn strict_parse_rejects_more_than_six_decimals_and_garbage() {
        assert!(matches!(
            Money::parse("0.08011655652"),
            Err(MoneyError::TooPrecise(_))
        ));
        assert_eq!(
            m("0.1234560000").micros(),
            123_456,
            "trailing zeros are not precision"
        );
        for bad in [
            "", " ", "abc", "1.2.3", "1,5", "$12", "1e3", ".", "-", "NaN", "inf", "1 000",
        ] {
            assert!(Money::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(matches!(
            Money::parse("99999999999999999999999"),
            Err(MoneyError::OutOfRange(_))
        ));
    }

    #[test]
    fn lenient_parse_rounds_half_away_from_zero() {
        assert_eq!(
            Money::parse_lenient("0.08011655652").map(Money::micros),
            Ok(80_117)
        );
        assert_eq!(Money::parse_lenient("0.0000005").map(Money::micros), Ok(1));
        assert_eq!(
            Money::parse_lenient("0.0000004999").map(Money::micros),
            Ok(0)
        );
        assert_eq!(
            Money::parse_lenient("-0.0000005").map(Money::micros),
            Ok(-1)
        );
        assert_eq!(Money::parse_lenient("1e-3").map(Money::micros), Ok(1_000));
        assert_eq!(
            Money::parse_lenient("1.5E2").map(Money::micros),
            Ok(150_000_000)
        );
        assert_eq!(
            Money::parse_lenient("0.00000000001").map(Money::micros),
            Ok(0)
        );
    }

    #[test]
    fn displays_canonical_decimal_text() {
        assert_eq!(m("0.9").to_string(), "0.90");
        assert_eq!(m("100.84292").to_string(), "100.84292");
        assert_eq!(m("5").to_string(), "5.00");
        assert_eq!(m("0.024").to_string(), "0.024");
        assert_eq!(m("-0.000001").to_string(), "-0.000001");
        assert_eq!(
            Money::from_micros(i64::MIN).to_string(),
            "-9223372036854.775808"
        );
    }

    #[test]
    fn charge_rounds_up_to_the_micro_unit() {
        assert_eq!(Money::charge_for(m("0.90"), 100), Some(m("0.09")));
        assert_eq!(Money::charge_for(m("0.90"), 200), Some(m("0.18")));
        assert_eq!(Money::charge_for(m("8"), 3), Some(m("0.024")));
        assert_eq!(
            Money::charge_for(m("0.000001"), 1),
            Some(Money::from_micros(1))
        );
        assert_eq!(
            Money::charge_for(m("0.001"), 1),
            Some(Money::from_micros(1))
        );
        assert_eq!(Money::charge_for(m("1"), -1), None);
        assert_eq!(
            Money::charge_for(Money::from_micros(i64::MAX), i64::MAX),
            None
        );
    }

    #[test]
    fn prorate_rounds_down_and_rejects_nonsense() {
        assert_eq!(m("1").prorate_down(1, 3), Some(Money::from_micros(333_333)));
        assert_eq!(m("0.09").prorate_down(100, 100), Some(m("0.09")));
        assert_eq!(m("1").prorate_down(4, 3), None);
        assert_eq!(m("1").prorate_down(1, 0), None);
    }

    #[test]
    fn markup_rounds_up() {
        assert_eq!(m("0.60").apply_markup_bp(5_000), Some(m("0.90")));
        assert_eq!(
            Money::from_micros(1).apply_markup_bp(5_000),
            Some(Money::from_micros(2))
        );
        assert_eq!(m("1").apply_markup_bp(-20_000), None);
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(micros in any::<i64>()) {
            let money = Money::from_micros(micros);
            prop_assert_eq!(Money::parse(&money.to_string()), Ok(money));
        }

        #[test]
        fn charge_is_monotonic_and_never_below_exact(rate in 0i64..1_000_000_000_000, q in 0i64..10_000_000) {
            let c = Money::charge_for(Money::from_micros(rate), q).expect("in range").micros();
            let exact_times_1000 = i128::from(rate) * i128::from(q);
            prop_assert!(i128::from(c) * 1000 >= exact_times_1000);
            prop_assert!(i128::from(c) * 1000 - exact_times_1000 < 1000);
            let next = Money::charge_for(Money::from_micros(rate), q + 1).expect("in range").micros();
            prop_assert!(next >= c);
        }

        #[test]
        fn prorated_refunds_never_exceed_the_amount(amount in 0i64..i64::MAX / 2, whole in 1i64..1_000_000_000, part_seed in any::<u32>()) {
            let part = i64::from(part_seed) % (whole + 1);
            let r = Money::from_micros(amount).prorate_down(part, whole).expect("valid").micros();
            prop_assert!(r >= 0 && r <= amount);
            let rest = Money::from_micros(amount).prorate_down(whole - part, whole).expect("valid").micros();
            prop_assert!(r + rest <= amount && amount - (r + rest) <= 1);
        }

        #[test]
        fn lenient_parse_is_within_half_a_micro(int in 0u64..1_000_000_000, frac in "[0-9]{1,15}") {
            let text = format!("{int}.{frac}");
            let got = Money::parse_lenient(&text).expect("valid").micros();
            // exact value × 10^15 vs got × 10^9 (pad the fraction to 15 digits)
            let padded = format!("{frac:0<15}");
            let exact = i128::from(int) * 1_000_000_000_000_000 + padded.parse::<i128>().expect("digits");
            let diff = (i128::from(got) * 1_000_000_000 - exact).abs();
            prop_assert!(diff <= 500_000_000, "{} -> {} (diff {})", text, got, diff);
        }
    }

    #[test]
    fn convert_up_never_understates_a_cost() {
        let m = |t: &str| Money::parse(t).expect("money");
        assert_eq!(m("2.00").convert_up(1_000_000), Some(m("2.00")));
        assert_eq!(m("0.000001").convert_up(1_500_000), Some(m("0.000002")));
        assert_eq!(m("10").convert_up(92_000), Some(m("0.92")));
        assert_eq!(m("1").convert_up(0), None);
    }
}
