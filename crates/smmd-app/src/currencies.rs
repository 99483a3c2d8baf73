//! Display currencies (issue 18): which currencies a customer may see amounts in, the
//! conversion the pages and REST use to show them (`≈ 9.24 EUR`, [`smmd_domain::fx`]), the
//! customer's choice, and the admin's hand-pinned rates. The `rates.ecb` job
//! ([`smmd_jobs::rates`]) keeps the feed's rates current. Money never moves here: every charge,
//! balance and ledger entry stays in the panel currency.

use std::collections::BTreeMap;

use smmd_domain::{fx, Money, UserId};
use smmd_store::CurrencyRate;

use crate::{Actor, App, ErrorCode, UseCaseError};

/// The rates in use, by currency, with the panel currency's: what converting needs.
#[derive(Clone, Debug, Default)]
pub struct Converter {
    panel: String,
    /// Units per euro (micro-units) of every currency with a rate, EUR included.
    per_eur: BTreeMap<String, i64>,
}

impl Converter {
    /// The converter of `rates` for a panel whose currency is `panel` (`USD`).
    pub fn new(panel: &str, rates: &[CurrencyRate]) -> Converter {
        let mut per_eur: BTreeMap<String, i64> = rates
            .iter()
            .map(|r| (r.currency.clone(), r.per_eur))
            .collect();
        per_eur.insert(fx::BASE.to_string(), 1_000_000);
        Converter {
            panel: panel.to_string(),
            per_eur,
        }
    }

    /// The currencies a customer may choose to see amounts in: every currency with a rate
    /// but the panel's own, sorted; none while the panel currency itself has no rate.
    pub fn choices(&self) -> Vec<&str> {
        if !self.per_eur.contains_key(&self.panel) {
            return Vec::new();
        }
        self.per_eur
            .keys()
            .map(String::as_str)
            .filter(|c| *c != self.panel)
            .collect()
    }

    /// `amount` (panel currency) in `currency`, unrounded (micro-units); `None` without a
    /// rate for either.
    pub fn convert(&self, amount: Money, currency: &str) -> Option<Money> {
        let from = *self.per_eur.get(&self.panel)?;
        let to = *self.per_eur.get(currency)?;
        fx::convert(amount, from, to)
    }

    /// `amount` as a customer who chose `currency` sees it beside the panel's: `≈ 9.24 EUR`;
    /// `None` for no choice, the panel's own currency, or a currency without a rate.
    pub fn approx(&self, amount: Money, currency: Option<&str>) -> Option<String> {
        let c = currency.filter(|c| *c != self.panel)?;
        self.convert(amount, c).map(|m| fx::approx_text(m, c))
    }

    /// The rates converting the panel currency into `currency`: (panel's per euro, its per
    /// euro), micro-units — what a page hands its script to follow a live balance.
    pub fn pair(&self, currency: &str) -> Option<(i64, i64)> {
        Some((
            *self.per_eur.get(&self.panel)?,
            *self.per_eur.get(currency)?,
        ))
    }

    /// The panel currency.
    pub fn panel(&self) -> &str {
        &self.panel
    }
}

/// The converter of the stored rates for the panel currency `panel`.
pub async fn converter(app: App<'_>, panel: &str) -> Result<Converter, UseCaseError> {
    Ok(Converter::new(panel, &app.store.currency_rates().await?))
}

/// Every stored rate (feed and pinned), by code.
pub async fn rates(app: App<'_>) -> Result<Vec<CurrencyRate>, UseCaseError> {
    Ok(app.store.currency_rates().await?)
}

/// Sets the currency `user` sees amounts in besides the panel's: one of
/// [`Converter::choices`]; `None`, empty or the panel's own clears it.
///
/// Errors: `invalid_display_currency` for a currency without a rate; nothing written.
pub async fn set_display_currency(
    app: App<'_>,
    user: UserId,
    panel: &str,
    currency: Option<&str>,
) -> Result<Option<String>, UseCaseError> {
    let code = check_display_currency(app, panel, currency).await?;
    app.store
        .set_display_currency(user, code.as_deref())
        .await?;
    Ok(code)
}

/// Sets both of a user's preferences (REST `PUT /api/account/preferences`): the language
/// ([`crate::notifications::set_language`]'s rule) and the display currency
/// ([`set_display_currency`]'s). Both are checked before either is written.
///
/// Errors: `invalid_language`, `invalid_display_currency`; nothing written.
pub async fn set_preferences(
    app: App<'_>,
    user: UserId,
    panel: &str,
    language: Option<&str>,
    currency: Option<&str>,
) -> Result<(), UseCaseError> {
    let lang = crate::notifications::check_language(language)?;
    let code = check_display_currency(app, panel, currency).await?;
    app.store
        .set_display_currency(user, code.as_deref())
        .await?;
    crate::notifications::set_language(app, user, lang.map(|l| l.code())).await?;
    Ok(())
}

/// The display currency `currency` names, upper-cased; `None` for none or the panel's own.
async fn check_display_currency(
    app: App<'_>,
    panel: &str,
    currency: Option<&str>,
) -> Result<Option<String>, UseCaseError> {
    let code = currency
        .map(|c| c.trim().to_ascii_uppercase())
        .filter(|c| !c.is_empty() && c != panel);
    if let Some(c) = &code {
        let conv = converter(app, panel).await?;
        if !conv.choices().contains(&c.as_str()) {
            return Err(UseCaseError::refused(
                ErrorCode::InvalidDisplayCurrency,
                format!(
                    "No rate for `{c}`: choose one of {}",
                    match conv.choices().join(", ") {
                        s if s.is_empty() => "(none yet)".to_string(),
                        s => s,
                    }
                ),
            ));
        }
    }
    Ok(code)
}

fn invalid_rate(message: impl Into<String>) -> UseCaseError {
    UseCaseError::refused(ErrorCode::InvalidRate, message)
}

/// Pins `currency` at `rate` (units per euro, `"1.0850"`) by hand: the feed no longer moves
/// it until it is unpinned. Audited (`currency.pin`, subject `currency:<code>`).
///
/// Errors: `invalid_rate` (not a three-letter code, EUR itself, or not a positive decimal of
/// at most 6 decimals up to 10 000 000); nothing written.
pub async fn pin_rate(
    app: App<'_>,
    actor: &Actor,
    currency: &str,
    rate: &str,
) -> Result<CurrencyRate, UseCaseError> {
    let code = currency.trim().to_ascii_uppercase();
    if !fx::valid_code(&code) || code == fx::BASE {
        return Err(invalid_rate(
            "A currency is a three-letter ISO code other than EUR (rates are per euro)",
        ));
    }
    let per_eur = fx::parse_rate(rate.trim()).ok_or_else(|| {
        invalid_rate("A rate is the units of the currency per one euro, such as 1.0850")
    })?;
    let now = app.now();
    let audit = actor.audit(
        "currency.pin",
        format!("currency:{code}"),
        format!("{} {code} per EUR", Money::from_micros(per_eur)),
        now,
    );
    app.store.pin_rate(&code, per_eur, now, Some(audit)).await?;
    rates(app)
        .await?
        .into_iter()
        .find(|r| r.currency == code)
        .ok_or_else(|| UseCaseError::Store(smmd_store::StoreError::NotFound))
}

/// Unpins `currency`: the feed's last rate is in use again (a currency only pinned goes).
/// Audited (`currency.unpin`).
///
/// Errors: `not_found` when it is not pinned.
pub async fn unpin_rate(app: App<'_>, actor: &Actor, currency: &str) -> Result<(), UseCaseError> {
    let code = currency.trim().to_ascii_uppercase();
    let now = app.now();
    let audit = actor.audit(
        "currency.unpin",
        format!("currency:{code}"),
        String::new(),
        now,
    );
    if app.store.unpin_rate(&code, now, Some(audit)).await? {
        Ok(())
    } else {
        Err(UseCaseError::refused(
            ErrorCode::NotFound,
            format!("{code} is not pinned"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(code: &str, per_eur: i64) -> CurrencyRate {
        CurrencyRate {
            currency: code.into(),
            per_eur,
            pinned: false,
            feed_per_eur: Some(per_eur),
            feed_date: Some("2026-12-02".into()),
            updated_at: 0,
        }
    }

    #[test]
    fn a_usd_panel_shows_euros_and_pounds_through_the_euro() {
        let c = Converter::new("USD", &[rate("USD", 1_161_200), rate("GBP", 879_350)]);
        assert_eq!(c.choices(), ["EUR", "GBP"]);
        let ten = Money::from_units(10).expect("m");
        assert_eq!(c.approx(ten, Some("EUR")).as_deref(), Some("≈ 8.61 EUR"));
        assert_eq!(c.approx(ten, Some("GBP")).as_deref(), Some("≈ 7.57 GBP"));
        // No choice, the panel's own, or no rate: nothing to add.
        assert_eq!(c.approx(ten, None), None);
        assert_eq!(c.approx(ten, Some("USD")), None);
        assert_eq!(c.approx(ten, Some("JPY")), None);
    }

    #[test]
    fn a_panel_currency_without_a_rate_offers_nothing() {
        let c = Converter::new("RUB", &[rate("USD", 1_161_200)]);
        assert!(c.choices().is_empty());
        assert_eq!(
            c.approx(Money::from_units(1).expect("m"), Some("USD")),
            None
        );
        // A euro panel converts with any rate.
        let e = Converter::new("EUR", &[rate("USD", 1_161_200)]);
        assert_eq!(e.choices(), ["USD"]);
    }
}
