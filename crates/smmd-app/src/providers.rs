//! Provider administration: adding a provider from operator input (validated, its API key
//! sealed with the panel's secret) and switching one on or off, audited with the change.

use smmd_domain::{Money, ProviderId};
use smmd_fulfil::Clients;
use smmd_store::{NewProvider, Provider, StoreError};

use crate::audit::Actor;
use crate::error::{ErrorCode, UseCaseError};
use crate::App;

/// What an operator types to add a provider.
#[derive(Clone, Debug)]
pub struct ProviderInput {
    pub name: String,
    /// The exact API v2 URL (`https://panel.example/api/v2`).
    pub url: String,
    pub key: String,
    /// ISO code of the provider's account currency.
    pub currency: String,
    /// Panel currency per one provider currency unit, a decimal (`"1"`, `"0.011"`).
    pub exchange_rate: String,
    /// Alert when the provider balance is below this (provider currency), a decimal.
    pub alert_below: Option<String>,
    pub timeout_ms: i64,
    pub max_concurrency: i64,
    pub rate_per_sec: Option<i64>,
    /// Ask the provider for its balance with this key before adding it (`--no-check` skips).
    pub check_key: bool,
}

fn invalid(msg: impl Into<String>) -> UseCaseError {
    UseCaseError::refused(ErrorCode::InvalidProvider, msg)
}

/// Validates `input`, tests the key when `check_key` (API v2 `action=balance`), seals the key
/// with the panel's secret and stores the provider. Returns the provider and, when checked,
/// what it answered (`"12.50 USD"`).
///
/// Errors: `invalid_provider` (name 1–100 characters, an http(s) URL, a key, a 3-letter
/// currency, a positive exchange rate with at most 6 decimals, timeout 100–600000 ms,
/// concurrency 1–256, rate 1–100000 per second; or the provider refused the key or could not be
/// reached, with its answer), `provider_name_taken`; nothing written.
pub async fn add_provider(
    app: App<'_>,
    clients: &Clients,
    input: ProviderInput,
) -> Result<(Provider, Option<String>), UseCaseError> {
    let name = input.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(invalid("the name must have 1 to 100 characters"));
    }
    let url = url::Url::parse(input.url.trim())
        .map_err(|e| invalid(format!("the URL is not valid: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("the URL must be http(s)://host/…"));
    }
    if input.key.trim().is_empty() {
        return Err(invalid("the API key is empty"));
    }
    let currency = input.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid("the currency must be a 3-letter ISO code"));
    }
    let rate = Money::parse(&input.exchange_rate)
        .ok()
        .filter(|m| m.is_positive())
        .ok_or_else(|| {
            invalid("the exchange rate must be a positive decimal with at most 6 decimals")
        })?;
    let alert_below = match input.alert_below.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(t) => Some(
            Money::parse(t)
                .ok()
                .filter(|m| !m.is_negative())
                .ok_or_else(|| invalid("the alert threshold must be a non-negative decimal"))?,
        ),
    };
    if !(100..=600_000).contains(&input.timeout_ms) {
        return Err(invalid("the timeout must be between 100 and 600000 ms"));
    }
    if !(1..=256).contains(&input.max_concurrency) {
        return Err(invalid("the concurrency must be between 1 and 256"));
    }
    if input
        .rate_per_sec
        .is_some_and(|r| !(1..=100_000).contains(&r))
    {
        return Err(invalid(
            "the rate limit must be between 1 and 100000 requests per second",
        ));
    }
    let answered = if input.check_key {
        let mut cfg = smmd_provider::ProviderConfig::new(url.to_string(), input.key.trim());
        cfg.timeout = std::time::Duration::from_millis(input.timeout_ms as u64);
        let client = smmd_provider::ProviderClient::new(cfg)
            .map_err(|e| invalid(format!("the URL cannot be used: {e}")))?;
        let b = client.balance().await.map_err(|e| {
            invalid(format!(
                "the provider did not accept the key ({e}); check the URL and key, or add it without the check"
            ))
        })?;
        Some(
            format!("{} {}", b.amount, b.currency.as_deref().unwrap_or(""))
                .trim()
                .to_string(),
        )
    } else {
        None
    };
    let provider = app
        .store
        .create_provider(
            NewProvider {
                name: name.to_string(),
                url: url.to_string(),
                currency,
                exchange_rate: rate.micros(),
                api_key_enc: clients.seal_key(input.key.trim()),
                timeout_ms: input.timeout_ms,
                max_concurrency: input.max_concurrency,
                rate_per_sec: input.rate_per_sec,
                balance_alert_below: alert_below,
                limits: smmd_store::ProviderLimits::default(),
            },
            app.now(),
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict("providers.name") => UseCaseError::refused(
                ErrorCode::ProviderNameTaken,
                "a provider with this name exists",
            ),
            e => e.into(),
        })?;
    Ok((provider, answered))
}

/// Enables or disables provider `id` (dispatch and sync skip disabled ones); audited as
/// `provider.enable` / `provider.disable`.
///
/// Errors: `not_found`.
pub async fn set_provider_enabled(
    app: App<'_>,
    actor: &Actor,
    id: ProviderId,
    enabled: bool,
) -> Result<Provider, UseCaseError> {
    let now = app.now();
    let action = if enabled {
        "provider.enable"
    } else {
        "provider.disable"
    };
    let audit = actor.audit(action, format!("provider:{}", id.0), String::new(), now);
    app.store
        .set_provider_enabled(id, enabled, now, Some(audit))
        .await?;
    Ok(app.store.provider(id).await?.ok_or(StoreError::NotFound)?)
}
