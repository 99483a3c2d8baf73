//! Custom rates (issue 18): what an admin sets for one customer, beside the list price and the
//! reseller tiers they rent: a discount (basis points) on every service or on one service, or a
//! fixed rate per 1000 for one service. [`crate::billing::entitlement::PriceBook`] applies them
//! with the tiers: a fixed rate for the service wins; otherwise the best discount of the
//! tiers, the service's custom discount and the all-services custom discount.

use crate::billing::entitlement::MAX_DISCOUNT_BP;
use crate::money::Money;

/// The highest fixed rate an admin may set, per 1000 (panel currency): 1,000,000.
pub const MAX_FIXED_RATE: Money = Money::from_micros(1_000_000 * 1_000_000);

/// A customer's custom price.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CustomPrice {
    /// Basis points off the list rate (1 to [`MAX_DISCOUNT_BP`]).
    Discount(i64),
    /// The rate per 1000 (panel currency micro-units), for one service only.
    Fixed(Money),
}

/// One custom rate of a customer: for `service_id`, or for every service (`None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CustomRate {
    pub service_id: Option<i64>,
    pub price: CustomPrice,
}

/// Why a custom rate is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CustomRateError {
    #[error("A discount is 0.01 % to 90 % (1 to 9000 basis points)")]
    Discount,
    #[error("A fixed rate is above 0 and at most 1000000 per 1000")]
    Fixed,
    #[error("A fixed rate is for one service: choose the service")]
    FixedNeedsService,
}

/// Checks a custom rate before it is stored.
pub fn check_custom_rate(rate: &CustomRate) -> Result<(), CustomRateError> {
    match rate.price {
        CustomPrice::Discount(bp) if !(1..=MAX_DISCOUNT_BP).contains(&bp) => {
            Err(CustomRateError::Discount)
        }
        CustomPrice::Fixed(_) if rate.service_id.is_none() => {
            Err(CustomRateError::FixedNeedsService)
        }
        CustomPrice::Fixed(r) if !r.is_positive() || r > MAX_FIXED_RATE => {
            Err(CustomRateError::Fixed)
        }
        _ => Ok(()),
    }
}

/// The fixed rate for `service` among `rates`, if any.
pub fn fixed_for(rates: &[CustomRate], service: i64) -> Option<Money> {
    rates.iter().find_map(|r| match r.price {
        CustomPrice::Fixed(m) if r.service_id == Some(service) => Some(m),
        _ => None,
    })
}

/// The best custom discount for `service` among `rates` (its own or every service's), bp.
pub fn discount_for(rates: &[CustomRate], service: i64) -> i64 {
    rates
        .iter()
        .filter(|r| r.service_id.is_none() || r.service_id == Some(service))
        .filter_map(|r| match r.price {
            CustomPrice::Discount(bp) => Some(bp),
            CustomPrice::Fixed(_) => None,
        })
        .max()
        .unwrap_or(0)
        .clamp(0, MAX_DISCOUNT_BP)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).expect("money")
    }

    #[test]
    fn custom_rates_are_checked() {
        let all = |price| CustomRate {
            service_id: None,
            price,
        };
        let one = |price| CustomRate {
            service_id: Some(3),
            price,
        };
        assert!(check_custom_rate(&all(CustomPrice::Discount(1))).is_ok());
        assert!(check_custom_rate(&all(CustomPrice::Discount(9_000))).is_ok());
        for bad in [0, -5, 9_001] {
            assert_eq!(
                check_custom_rate(&all(CustomPrice::Discount(bad))),
                Err(CustomRateError::Discount)
            );
        }
        assert_eq!(
            check_custom_rate(&all(CustomPrice::Fixed(m("1")))),
            Err(CustomRateError::FixedNeedsService)
        );
        assert!(check_custom_rate(&one(CustomPrice::Fixed(m("0.000001")))).is_ok());
        for bad in ["0", "-1", "1000000.000001"] {
            assert_eq!(
                check_custom_rate(&one(CustomPrice::Fixed(m(bad)))),
                Err(CustomRateError::Fixed),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_service_s_fixed_rate_and_the_best_discount_are_found() {
        let rates = [
            CustomRate {
                service_id: None,
                price: CustomPrice::Discount(500),
            },
            CustomRate {
                service_id: Some(2),
                price: CustomPrice::Discount(1_500),
            },
            CustomRate {
                service_id: Some(3),
                price: CustomPrice::Fixed(m("0.42")),
            },
        ];
        assert_eq!(fixed_for(&rates, 3), Some(m("0.42")));
        assert_eq!(fixed_for(&rates, 2), None);
        assert_eq!(discount_for(&rates, 2), 1_500);
        assert_eq!(discount_for(&rates, 7), 500, "every service's");
        assert_eq!(discount_for(&[], 7), 0);
    }
}
