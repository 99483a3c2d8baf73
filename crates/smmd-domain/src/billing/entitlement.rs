//! What a plan grants (`docs/billing.md`, "What is rented"). The billing engine never looks
//! inside: it stores an entitlement's name and its settings (a JSON object) and bills the
//! rental. Each entitlement owns its settings' shape and validation here; the code that applies
//! it (pricing for [`ResellerTier`], the child panel later) reads them for the rentals that
//! are live (`active` or `grace`). A new entitlement is one more [`Entitlement`] variant.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::Money;

/// The entitlements this build knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entitlement {
    /// A discount on every service (or per category) and a higher API rate limit.
    ResellerTier,
    /// A hosted child panel (`docs/child-panels.md`), settings [`crate::panel::ChildPanelPlan`].
    ChildPanel,
}

impl Entitlement {
    pub const ALL: &'static [Entitlement] = &[Entitlement::ResellerTier, Entitlement::ChildPanel];

    pub fn as_str(self) -> &'static str {
        match self {
            Entitlement::ResellerTier => "reseller_tier",
            Entitlement::ChildPanel => "child_panel",
        }
    }

    pub fn parse(text: &str) -> Option<Entitlement> {
        Entitlement::ALL
            .iter()
            .copied()
            .find(|e| e.as_str() == text)
    }

    /// Checks `settings` (JSON text) for this entitlement and returns them normalised (the
    /// text stored), or why not.
    pub fn validate(self, settings: &str) -> Result<String, String> {
        match self {
            Entitlement::ResellerTier => {
                let value: serde_json::Value = serde_json::from_str(settings)
                    .map_err(|e| format!("settings are not JSON: {e}"))?;
                if !value.is_object() {
                    return Err("settings are a JSON object".into());
                }
                let tier: ResellerTier = serde_json::from_value(value)
                    .map_err(|e| format!("reseller_tier settings: {e}"))?;
                tier.check()?;
                serde_json::to_string(&tier).map_err(|e| e.to_string())
            }
            Entitlement::ChildPanel => {
                let value: serde_json::Value = serde_json::from_str(settings)
                    .map_err(|e| format!("settings are not JSON: {e}"))?;
                if !value.is_object() {
                    return Err("settings are a JSON object".into());
                }
                let plan: crate::panel::ChildPanelPlan = serde_json::from_value(value)
                    .map_err(|e| format!("child_panel settings: {e}"))?;
                plan.check()?;
                serde_json::to_string(&plan).map_err(|e| e.to_string())
            }
        }
    }
}

/// The settings of `reseller_tier`. Discounts are basis points off the service's price (100 =
/// 1 %, at most 9,000 = 90 %): `category_discount_bp` (category id → bp) overrides
/// `discount_bp` for its category. `api_rate_per_minute` raises the renter's `/api/v2` limit
/// (0 = the panel's default).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResellerTier {
    #[serde(default)]
    pub discount_bp: i64,
    #[serde(default)]
    pub category_discount_bp: BTreeMap<i64, i64>,
    #[serde(default)]
    pub api_rate_per_minute: i64,
}

/// The highest discount a tier may give, basis points (90 %).
pub const MAX_DISCOUNT_BP: i64 = 9_000;

impl ResellerTier {
    fn check(&self) -> Result<(), String> {
        let ok = |bp: i64| (0..=MAX_DISCOUNT_BP).contains(&bp);
        if !ok(self.discount_bp) || !self.category_discount_bp.values().all(|&bp| ok(bp)) {
            return Err(format!("discounts are 0 to {MAX_DISCOUNT_BP} basis points"));
        }
        if !(0..=100_000).contains(&self.api_rate_per_minute) {
            return Err("api_rate_per_minute is 0 to 100000".into());
        }
        Ok(())
    }

    /// The discount of a service in `category`, basis points.
    pub fn discount_for(&self, category: i64) -> i64 {
        self.category_discount_bp
            .get(&category)
            .copied()
            .unwrap_or(self.discount_bp)
    }
}

/// What one user pays: the `reseller_tier` settings of their live rentals (`active` or
/// `grace`), the best discount per category winning. Empty, it is the list price. The one
/// pricing rule every interface applies (`/api/v2` `services` and `add`, REST, pages, mass
/// order), through `smmd_app::pricing`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PriceBook {
    tiers: Vec<ResellerTier>,
    /// The customer's own rates an admin set ([`crate::custom_rate`]).
    custom: Vec<crate::custom_rate::CustomRate>,
    /// How many live rentals it was read from (of any entitlement).
    live: usize,
}

impl PriceBook {
    /// From the `(entitlement, settings JSON)` of the user's live rentals; other
    /// entitlements, and settings this build cannot read, grant no discount.
    pub fn new(live: &[(String, String)]) -> PriceBook {
        let tiers = live
            .iter()
            .filter(|(e, _)| Entitlement::parse(e) == Some(Entitlement::ResellerTier))
            .filter_map(|(_, settings)| serde_json::from_str::<ResellerTier>(settings).ok())
            .filter(|t| t.check().is_ok())
            .collect();
        PriceBook {
            tiers,
            custom: Vec::new(),
            live: live.len(),
        }
    }

    /// The same book with the customer's custom rates (checked ones; others are left out).
    pub fn with_custom(mut self, custom: Vec<crate::custom_rate::CustomRate>) -> PriceBook {
        self.custom = custom
            .into_iter()
            .filter(|r| crate::custom_rate::check_custom_rate(r).is_ok())
            .collect();
        self
    }

    /// Whether the user has a live rental at all (so a rent reserve can apply).
    pub fn rents_anything(&self) -> bool {
        self.live > 0
    }

    /// No discount anywhere: everyone's list prices.
    pub fn is_list(&self) -> bool {
        self.custom.is_empty()
            && self
                .tiers
                .iter()
                .all(|t| t.discount_bp == 0 && t.category_discount_bp.values().all(|&bp| bp == 0))
    }

    /// The discount on a service of `category`, basis points (the best of the tiers).
    pub fn discount_bp(&self, category: i64) -> i64 {
        self.tiers
            .iter()
            .map(|t| t.discount_for(category))
            .max()
            .unwrap_or(0)
            .clamp(0, MAX_DISCOUNT_BP)
    }

    /// The rate (per 1000, micro-units) this user pays for `service` of `category` listed at
    /// `rate`: the custom fixed rate for the service if the admin set one, else
    /// `ceil(rate · (10000 − bp) / 10000)` with the best discount of the tiers and the custom
    /// rates, exact (the rounding is the panel's).
    pub fn rate(&self, rate: Money, category: i64, service: i64) -> Money {
        if let Some(fixed) = crate::custom_rate::fixed_for(&self.custom, service) {
            return fixed;
        }
        let bp = self
            .discount_bp(category)
            .max(crate::custom_rate::discount_for(&self.custom, service));
        if bp == 0 || !rate.is_positive() {
            return rate;
        }
        let num = i128::from(rate.micros()) * i128::from(10_000 - bp);
        // ≤ rate, so it fits i64.
        Money::from_micros(((num + 9_999) / 10_000) as i64)
    }

    /// The `/api/v2` requests per minute this user may make (0: the panel's default).
    pub fn api_rate_per_minute(&self) -> i64 {
        self.tiers
            .iter()
            .map(|t| t.api_rate_per_minute)
            .max()
            .unwrap_or(0)
    }

    /// The `/api/v2` requests per minute this user may make on a panel whose default is
    /// `default` (`server.api_rate_per_minute`): the higher of the default and the tiers'.
    /// 0 means no limit; a panel without a default limit (0) limits no one, tier or not.
    pub fn api_limit(&self, default: u32) -> u32 {
        if default == 0 {
            return 0;
        }
        default.max(u32::try_from(self.api_rate_per_minute()).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::custom_rate::{CustomPrice, CustomRate};

    #[test]
    fn the_price_book_takes_the_best_live_discount_per_category() {
        let tier = |json: &str| ("reseller_tier".to_string(), json.to_string());
        let list = PriceBook::new(&[]);
        assert!(list.is_list());
        let rate = Money::parse("1.234567").expect("m");
        assert_eq!(list.rate(rate, 1, 0), rate);
        let book = PriceBook::new(&[
            tier(r#"{"discount_bp": 1000}"#),
            tier(r#"{"discount_bp": 500, "category_discount_bp": {"7": 2500}}"#),
            ("child_panel".into(), "{}".into()),
            tier("not json"),
            tier(r#"{"discount_bp": 99999}"#),
        ]);
        assert!(!book.is_list());
        assert_eq!((book.discount_bp(1), book.discount_bp(7)), (1000, 2500));
        // 1.234567 × 0.90 = 1.1111103, rounded up to the micro-unit.
        assert_eq!(book.rate(rate, 1, 0), Money::parse("1.111111").expect("m"));
        assert_eq!(book.rate(rate, 7, 0), Money::parse("0.925926").expect("m"));
        assert_eq!(book.rate(Money::ZERO, 7, 0), Money::ZERO);
        // Custom rates: a fixed rate for service 5 wins; a 30 % custom discount on service 6
        // beats the tier's 10 %; elsewhere the tier's best stays.
        let custom = book.clone().with_custom(vec![
            CustomRate {
                service_id: Some(5),
                price: CustomPrice::Fixed(Money::parse("2").expect("m")),
            },
            CustomRate {
                service_id: Some(6),
                price: CustomPrice::Discount(3_000),
            },
            CustomRate {
                service_id: None,
                price: CustomPrice::Discount(99_999),
            },
        ]);
        assert_eq!(custom.rate(rate, 1, 5), Money::parse("2").expect("m"));
        assert_eq!(
            custom.rate(rate, 1, 6),
            Money::parse("0.864197").expect("m")
        );
        assert_eq!(
            custom.rate(rate, 1, 9),
            book.rate(rate, 1, 9),
            "the bad rate is left out"
        );
        assert!(!PriceBook::new(&[])
            .with_custom(vec![CustomRate {
                service_id: None,
                price: CustomPrice::Discount(100)
            }])
            .is_list());
        assert_eq!(
            PriceBook::new(&[tier(r#"{"api_rate_per_minute": 600}"#)]).api_rate_per_minute(),
            600
        );
    }

    #[test]
    fn the_api_limit_is_the_higher_of_the_default_and_the_tiers() {
        let tier = |json: &str| ("reseller_tier".to_string(), json.to_string());
        let none = PriceBook::new(&[]);
        let fast = PriceBook::new(&[
            tier(r#"{"api_rate_per_minute": 600}"#),
            tier(r#"{"api_rate_per_minute": 1200}"#),
        ]);
        let slow = PriceBook::new(&[tier(r#"{"api_rate_per_minute": 30}"#)]);
        assert_eq!(none.api_limit(120), 120);
        assert_eq!(fast.api_limit(120), 1200);
        // A tier never lowers the default, and 0 in a tier means "the default".
        assert_eq!(slow.api_limit(120), 120);
        assert_eq!(PriceBook::new(&[tier("{}")]).api_limit(120), 120);
        // A panel without a default limit limits no one.
        assert_eq!(fast.api_limit(0), 0);
    }

    #[test]
    fn reseller_tier_settings_are_checked_and_normalised() {
        let e = Entitlement::parse("reseller_tier").expect("known");
        assert_eq!(Entitlement::parse("reseller-tier"), None);
        let child = Entitlement::parse("child_panel").expect("known");
        assert_eq!(child.validate("{}").as_deref(), Ok(r#"{"retain_days":30}"#));
        assert!(child.validate(r#"{"retain_days": 0}"#).is_err());
        assert!(
            child.validate(r#"{"discount_bp": 10}"#).is_err(),
            "not its setting"
        );
        assert!(child.validate("[]").is_err());
        let text = e
            .validate(r#"{"discount_bp": 1500, "category_discount_bp": {"3": 2500}}"#)
            .expect("valid");
        let tier: ResellerTier = serde_json::from_str(&text).expect("stored form");
        assert_eq!((tier.discount_for(3), tier.discount_for(4)), (2500, 1500));
        for bad in [
            r#"{"discount_bp": 9001}"#,
            r#"{"discount_bp": -1}"#,
            r#"{"category_discount_bp": {"1": 10000}}"#,
            r#"{"api_rate_per_minute": 100001}"#,
            r#"{"discount": 10}"#,
            r#"[1]"#,
            "not json",
        ] {
            assert!(e.validate(bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(
            e.validate("{}").expect("empty is no discount"),
            r#"{"discount_bp":0,"category_discount_bp":{},"api_rate_per_minute":0}"#
        );
    }
}
