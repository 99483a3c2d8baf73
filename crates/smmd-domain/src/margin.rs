//! The margin guard (issue 20): an order is never sent upstream for less than what the offer now
//! costs plus the minimum margin, and a service whose cost rises past its price is either held
//! or repriced, never repriced down.
//!
//! - cost of an order: the offer's live provider rate (per 1000, provider currency) converted to
//!   the panel currency rounded **up** ([`Money::convert_up`]), then charged for the order's
//!   total units exactly as a sale is ([`Money::charge_for`]; a package costs its rate);
//! - floor: cost × (10000 + minimum margin bp) / 10000, rounded **up**;
//! - an order meets the margin when its charge is at least the floor;
//! - the minimum margin is the service's, else its category's, else the panel default;
//! - on a breach a service either holds its orders (`queued`, not sent, until the owner releases
//!   or refunds them) or, with [`MarginAction::Reprice`], takes the markup rule's price on the
//!   live cost (at least the floor): a price only ever goes up by this rule.

use crate::Money;

/// Highest minimum margin, basis points (100000 = +1000 %).
pub const MAX_MARGIN_BP: i64 = 100_000;

/// What a service does when its live cost reaches its price minus the minimum margin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarginAction {
    /// New orders stay `queued` and unsent until the owner releases or refunds them.
    #[default]
    Hold,
    /// The price rises to the markup rule on the live cost; orders keep flowing.
    Reprice,
}

impl MarginAction {
    /// The stored text: `hold` or `reprice`.
    pub const fn as_str(self) -> &'static str {
        match self {
            MarginAction::Hold => "hold",
            MarginAction::Reprice => "reprice",
        }
    }

    /// Parses the stored text; `None` for anything else.
    pub fn parse(s: &str) -> Option<MarginAction> {
        match s.trim() {
            "hold" => Some(MarginAction::Hold),
            "reprice" => Some(MarginAction::Reprice),
            _ => None,
        }
    }
}

/// Why a queued order is not sent (stored in `orders.hold`; no hold = `NULL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    /// Its charge is below its offer's live cost plus the minimum margin: not sent until the
    /// owner releases or refunds it.
    Margin,
    /// The owner released it: sent whatever the margin.
    Released,
}

impl Hold {
    /// The stored text: `margin` or `released`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Hold::Margin => "margin",
            Hold::Released => "released",
        }
    }

    /// Parses the stored text; `None` for anything else.
    pub fn parse(s: &str) -> Option<Hold> {
        match s {
            "margin" => Some(Hold::Margin),
            "released" => Some(Hold::Released),
            _ => None,
        }
    }
}

/// A minimum margin outside `0..=MAX_MARGIN_BP`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("the minimum margin must be between 0 and {MAX_MARGIN_BP} basis points (0 % to 1000 %)")]
pub struct MarginError;

/// Checks a minimum margin in basis points; `None` (fall back to the next level) is valid.
pub fn check_min_margin(bp: Option<i64>) -> Result<(), MarginError> {
    match bp {
        Some(v) if !(0..=MAX_MARGIN_BP).contains(&v) => Err(MarginError),
        _ => Ok(()),
    }
}

/// The minimum margin that applies: the service's, else the category's, else the default.
pub fn effective_margin(service: Option<i64>, category: Option<i64>, default: i64) -> i64 {
    service.or(category).unwrap_or(default)
}

/// What an order of `total_quantity` units costs at `provider_rate` (per 1000, provider
/// currency) and `exchange_rate` (panel currency per provider unit, micro-units), in the panel
/// currency, rounded up. `None` on overflow or a negative input.
pub fn order_cost(
    provider_rate: Money,
    exchange_rate: i64,
    total_quantity: i64,
    package: bool,
) -> Option<Money> {
    let rate = provider_rate.convert_up(exchange_rate)?;
    match package {
        true => Some(rate),
        false => Money::charge_for(rate, total_quantity),
    }
}

/// The least a sale may bring for `cost`: cost × (1 + margin), rounded up.
pub fn floor(cost: Money, min_margin_bp: i64) -> Option<Money> {
    cost.apply_markup_bp(min_margin_bp.clamp(0, MAX_MARGIN_BP))
}

/// Whether a sale of `charge` covers `cost` plus the minimum margin. An overflowing floor
/// never does.
pub fn meets_margin(charge: Money, cost: Money, min_margin_bp: i64) -> bool {
    floor(cost, min_margin_bp).is_some_and(|f| charge >= f)
}

/// The selling rate per 1000 a [`MarginAction::Reprice`] service takes when its live cost
/// (`cost_rate`, per 1000 in the panel currency) breaches the margin: the markup rule's rate,
/// at least the floor, and never below `current`. `None` when `current` already meets the
/// margin (nothing to do) or on overflow.
pub fn reprice(
    current: Money,
    cost_rate: Money,
    min_margin_bp: i64,
    markup_bp: i64,
) -> Option<Money> {
    let floor = floor(cost_rate, min_margin_bp)?;
    if current >= floor {
        return None;
    }
    let marked = cost_rate.apply_markup_bp(markup_bp)?;
    Some(marked.max(floor).max(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> Money {
        Money::parse(s).expect("money")
    }

    #[test]
    fn an_order_costs_its_units_at_the_converted_rate_rounded_up() {
        // 0.90 per 1000 × 1500 units = 1.35.
        assert_eq!(
            order_cost(m("0.90"), 1_000_000, 1_500, false),
            Some(m("1.35"))
        );
        // 100 RUB per 1000 at 0.011 = 1.10 per 1000; 1 unit costs 0.0011.
        assert_eq!(order_cost(m("100"), 11_000, 1, false), Some(m("0.0011")));
        // One micro-unit per 1000 for one unit rounds up to a micro-unit, never to zero.
        assert_eq!(
            order_cost(m("0.000001"), 1_000_000, 1, false),
            Some(m("0.000001"))
        );
        // A package costs its rate whatever the quantity.
        assert_eq!(order_cost(m("5"), 1_000_000, 1, true), Some(m("5")));
        assert_eq!(order_cost(m("-1"), 1_000_000, 1, false), None);
    }

    #[test]
    fn the_margin_is_met_at_the_floor_and_not_a_micro_below() {
        // Cost 1.00 at a 10 % margin: the floor is 1.10.
        assert!(meets_margin(m("1.10"), m("1.00"), 1_000));
        assert!(!meets_margin(m("1.099999"), m("1.00"), 1_000));
        // A zero margin guards the cost itself.
        assert!(meets_margin(m("1.00"), m("1.00"), 0));
        assert!(!meets_margin(m("0.999999"), m("1.00"), 0));
        // The floor rounds up: 0.000001 at 50 % is 0.0000015 → 0.000002.
        assert_eq!(floor(m("0.000001"), 5_000), Some(m("0.000002")));
        assert!(!meets_margin(
            Money::from_micros(i64::MAX),
            Money::from_micros(i64::MAX),
            1
        ));
    }

    #[test]
    fn the_service_margin_wins_then_the_category_then_the_default() {
        assert_eq!(effective_margin(Some(0), Some(500), 1_000), 0);
        assert_eq!(effective_margin(None, Some(500), 1_000), 500);
        assert_eq!(effective_margin(None, None, 1_000), 1_000);
        assert_eq!(check_min_margin(None), Ok(()));
        assert_eq!(check_min_margin(Some(MAX_MARGIN_BP)), Ok(()));
        assert_eq!(check_min_margin(Some(-1)), Err(MarginError));
        assert_eq!(check_min_margin(Some(MAX_MARGIN_BP + 1)), Err(MarginError));
    }

    #[test]
    fn a_reprice_only_ever_raises_the_price() {
        // Cost tripled from 0.60 to 1.80 under a 1.20 price, markup 50 %, margin 10 %: 2.70.
        assert_eq!(reprice(m("1.20"), m("1.80"), 1_000, 5_000), Some(m("2.70")));
        // A markup below the margin still reaches the floor (cost 1.80 + 10 % = 1.98).
        assert_eq!(reprice(m("1.20"), m("1.80"), 1_000, 0), Some(m("1.98")));
        // A price that meets the margin is left alone, even when the markup rule says less.
        assert_eq!(reprice(m("5.00"), m("1.80"), 1_000, 5_000), None);
        assert_eq!(reprice(m("1.98"), m("1.80"), 1_000, 5_000), None);
    }

    #[test]
    fn actions_round_trip_their_stored_text() {
        for a in [MarginAction::Hold, MarginAction::Reprice] {
            assert_eq!(MarginAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(MarginAction::parse("drop"), None);
        for h in [Hold::Margin, Hold::Released] {
            assert_eq!(Hold::parse(h.as_str()), Some(h));
        }
        assert_eq!(Hold::parse("Margin"), None);
        assert_eq!(MarginAction::default(), MarginAction::Hold);
    }
}
