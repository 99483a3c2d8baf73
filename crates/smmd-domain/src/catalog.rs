//! Catalog edit rules: the bounds an admin edit (REST, pages, CLI) must keep, checked by the
//! use case before writing and by the store on the merged row, with the same function.

use crate::money::Money;

/// Most characters in a service name.
pub const MAX_SERVICE_NAME: usize = 200;

/// Highest markup, in basis points (100000 bp = +1000 %).
pub const MAX_MARKUP_BP: i64 = 100_000;

/// Why service terms are refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TermsError {
    #[error("The name has 1 to 200 characters")]
    Name,
    #[error("The rate cannot be negative")]
    NegativeRate,
    #[error("Need 0 <= min <= max and max >= 1")]
    Quantities,
    #[error("Markup is 0 to 100000 basis points")]
    Markup,
    #[error("The description has at most 5000 characters")]
    Description,
    #[error("The refill guarantee is 0 to 365 days")]
    Guarantee,
}

/// Most characters in a service description.
pub const MAX_DESCRIPTION: usize = 5_000;
/// The longest refill guarantee, in days.
pub const MAX_GUARANTEE_DAYS: i64 = 365;

/// A service's description (at most [`MAX_DESCRIPTION`] characters) and refill guarantee
/// (0–[`MAX_GUARANTEE_DAYS`] days), each when given.
pub fn check_service_text(
    description: Option<&str>,
    guarantee_days: Option<i64>,
) -> Result<(), TermsError> {
    if description.is_some_and(|d| d.chars().count() > MAX_DESCRIPTION) {
        return Err(TermsError::Description);
    }
    if guarantee_days.is_some_and(|g| !(0..=MAX_GUARANTEE_DAYS).contains(&g)) {
        return Err(TermsError::Guarantee);
    }
    Ok(())
}

/// A service's selling terms after an edit: a name of 1–200 characters (not only spaces), a
/// rate per 1000 ≥ 0 (panel currency), and `0 ≤ min ≤ max`, `max ≥ 1`.
pub fn check_service_terms(name: &str, rate: Money, min: i64, max: i64) -> Result<(), TermsError> {
    if name.trim().is_empty() || name.chars().count() > MAX_SERVICE_NAME {
        return Err(TermsError::Name);
    }
    if rate.is_negative() {
        return Err(TermsError::NegativeRate);
    }
    if min < 0 || max < 1 || min > max {
        return Err(TermsError::Quantities);
    }
    Ok(())
}

/// A markup of a service or category, basis points; `None` falls back to the next level.
pub fn check_markup(bp: Option<i64>) -> Result<(), TermsError> {
    match bp {
        Some(b) if !(0..=MAX_MARKUP_BP).contains(&b) => Err(TermsError::Markup),
        _ => Ok(()),
    }
}

/// Whether a provider rate moving from `old` to `new` is a jump a services sync must hold for
/// the admin's approval: more than `factor_pct` percent of the other, up or down (200 = ×2; a
/// factor of 100 or less turns the hold off). A rate appearing from zero is a jump. Exact
/// integer arithmetic (issue 15, "prices that jump": a panel that multiplied every price by 111).
pub fn is_price_jump(old: Money, new: Money, factor_pct: i64) -> bool {
    if factor_pct <= 100 || old == new {
        return false;
    }
    let (old, new, f) = (
        i128::from(old.micros()),
        i128::from(new.micros()),
        i128::from(factor_pct),
    );
    new * 100 > old * f || old * 100 > new * f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptions_and_guarantees_are_bounded() {
        assert_eq!(check_service_text(Some("Real accounts"), Some(60)), Ok(()));
        assert_eq!(check_service_text(None, None), Ok(()));
        assert_eq!(
            check_service_text(Some(&"é".repeat(MAX_DESCRIPTION)), Some(0)),
            Ok(())
        );
        assert_eq!(
            check_service_text(Some(&"é".repeat(MAX_DESCRIPTION + 1)), None),
            Err(TermsError::Description)
        );
        for bad in [-1, MAX_GUARANTEE_DAYS + 1] {
            assert_eq!(
                check_service_text(None, Some(bad)),
                Err(TermsError::Guarantee)
            );
        }
    }

    #[test]
    fn price_jumps_beyond_the_factor_either_way() {
        let m = |s: &str| Money::parse(s).expect("m");
        assert!(is_price_jump(m("1.08"), m("119.88"), 200));
        assert!(is_price_jump(m("1.00"), m("2.01"), 200));
        assert!(!is_price_jump(m("1.00"), m("2.00"), 200));
        assert!(is_price_jump(m("1.00"), m("0.49"), 200));
        assert!(!is_price_jump(m("1.00"), m("0.50"), 200));
        assert!(is_price_jump(Money::ZERO, m("0.01"), 200));
        assert!(!is_price_jump(m("1.00"), m("500"), 100), "factor 100 = off");
        assert!(!is_price_jump(m("1.00"), m("1.40"), 150));
        assert!(is_price_jump(m("1.00"), m("1.51"), 150));
        let big = Money::from_micros(i64::MAX);
        assert!(is_price_jump(m("0.000001"), big, 200), "no overflow");
    }

    #[test]
    fn terms_keep_a_name_a_non_negative_rate_and_ordered_quantities() {
        let r = Money::from_micros(1_500_000);
        assert_eq!(check_service_terms("Followers", r, 10, 1000), Ok(()));
        assert_eq!(check_service_terms("F", Money::ZERO, 0, 1), Ok(()));
        assert_eq!(
            check_service_terms("  ", r, 10, 1000),
            Err(TermsError::Name)
        );
        let long = "é".repeat(MAX_SERVICE_NAME + 1);
        assert_eq!(
            check_service_terms(&long, r, 10, 1000),
            Err(TermsError::Name)
        );
        let exact = "é".repeat(MAX_SERVICE_NAME);
        assert_eq!(check_service_terms(&exact, r, 10, 1000), Ok(()));
        assert_eq!(
            check_service_terms("F", Money::from_micros(-1), 10, 1000),
            Err(TermsError::NegativeRate)
        );
        for (min, max) in [(-1, 10), (0, 0), (11, 10)] {
            assert_eq!(
                check_service_terms("F", r, min, max),
                Err(TermsError::Quantities)
            );
        }
    }

    #[test]
    fn markups_are_zero_to_a_hundred_thousand_basis_points() {
        for ok in [None, Some(0), Some(5_000), Some(MAX_MARKUP_BP)] {
            assert_eq!(check_markup(ok), Ok(()));
        }
        for bad in [Some(-1), Some(MAX_MARKUP_BP + 1), Some(i64::MIN)] {
            assert_eq!(check_markup(bad), Err(TermsError::Markup));
        }
    }
}
