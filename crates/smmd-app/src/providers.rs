//! Provider administration: adding a provider from operator input and editing one (validated
//! by one function, the API key tested when asked and sealed with the panel's secret, the
//! per-provider limits of issue 15 in range), and switching one on or off, audited with the
//! change.

use smmd_domain::{Money, ProviderId};
use smmd_fulfil::Clients;
use smmd_store::{NewProvider, Provider, ProviderLimits, StoreError};

use crate::audit::Actor;
use crate::error::{ErrorCode, UseCaseError};
use crate::App;

/// What an operator types to add a provider (or, merged onto the current one, to edit it).
#[derive(Clone, Debug)]
pub struct ProviderInput {
    pub name: String,
    /// The exact API v2 URL (`https://panel.example/api/v2`).
    pub url: String,
    /// The API key; on an edit, empty keeps the current one.
    pub key: String,
    /// ISO code of the provider's account currency.
    pub currency: String,
    /// Panel currency per one provider currency unit, a decimal (`"1"`, `"0.011"`).
    pub exchange_rate: String,
    /// Alert when the provider balance is below this (provider currency), a decimal.
    pub alert_below: Option<String>,
    /// Whole-request timeout, milliseconds (100 to 600 000).
    pub timeout_ms: i64,
    /// Calls in flight at once (1 to 256).
    pub max_concurrency: i64,
    /// Requests per second (1 to 100 000); `None` = unlimited.
    pub rate_per_sec: Option<i64>,
    /// Answer caps (bytes) and the price-jump hold (percent); see [`LIMIT_RANGES`].
    pub limits: ProviderLimits,
    /// Ask the provider for its balance with this key before saving (`--no-check` skips; an
    /// edit asks only when the URL or key changes).
    pub check_key: bool,
}

/// What an edit changes: each `Some` field replaces the provider's; `key` empty or `None`
/// keeps the sealed key.
#[derive(Clone, Debug, Default)]
pub struct ProviderPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub key: Option<String>,
    pub currency: Option<String>,
    pub exchange_rate: Option<String>,
    /// `Some("")` removes the threshold.
    pub alert_below: Option<String>,
    pub timeout_ms: Option<i64>,
    pub max_concurrency: Option<i64>,
    /// `Some(0)` removes the rate limit.
    pub rate_per_sec: Option<i64>,
    pub answer_max_bytes: Option<i64>,
    pub services_max_bytes: Option<i64>,
    pub price_jump_pct: Option<i64>,
    /// Test the key when the URL or key changes (default on the pages and API: yes).
    pub check_key: bool,
}

/// The accepted range of each per-provider limit: `answer_max_bytes` 1 KiB to 64 MiB,
/// `services_max_bytes` 64 KiB to 1 GiB, `price_jump_pct` 110 (x1.1) to 100 000 (x1000).
pub const LIMIT_RANGES: [(&str, i64, i64); 3] = [
    ("answer_max_bytes", 1 << 10, 64 << 20),
    ("services_max_bytes", 64 << 10, 1 << 30),
    ("price_jump_pct", 110, 100_000),
];

fn invalid(msg: impl Into<String>) -> UseCaseError {
    UseCaseError::refused(ErrorCode::InvalidProvider, msg)
}

/// Checks `input` and turns it into the row to store (`api_key_enc` sealed when a key is
/// given, else empty). `key_required` on an add.
fn validate(
    clients: &Clients,
    input: &ProviderInput,
    key_required: bool,
) -> Result<NewProvider, UseCaseError> {
    let name = input.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "the name must have 1 to 100 characters, without control characters",
        ));
    }
    let url = url::Url::parse(input.url.trim())
        .map_err(|e| invalid(format!("the URL is not valid: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid("the URL must be http(s)://host/…"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "the URL must not carry a user name or password; the key goes in its own field",
        ));
    }
    let key = input.key.trim();
    if key_required && key.is_empty() {
        return Err(invalid("the API key is empty"));
    }
    if key.len() > 1000 || key.chars().any(char::is_control) {
        return Err(invalid(
            "the API key must have at most 1000 characters, without control characters",
        ));
    }
    let currency = input.currency.trim().to_ascii_uppercase();
    if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(invalid("the currency must be a 3-letter ISO code"));
    }
    let rate = Money::parse(input.exchange_rate.trim())
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
    let l = input.limits;
    for ((field, low, high), value) in
        LIMIT_RANGES
            .iter()
            .zip([l.answer_max_bytes, l.services_max_bytes, l.price_jump_pct])
    {
        if !(*low..=*high).contains(&value) {
            return Err(invalid(format!(
                "{field} must be between {low} and {high}, not {value}"
            )));
        }
    }
    Ok(NewProvider {
        name: name.to_string(),
        url: url.to_string(),
        currency,
        exchange_rate: rate.micros(),
        api_key_enc: if key.is_empty() {
            String::new()
        } else {
            clients.seal_key(key)
        },
        timeout_ms: input.timeout_ms,
        max_concurrency: input.max_concurrency,
        rate_per_sec: input.rate_per_sec,
        balance_alert_below: alert_below,
        limits: l,
    })
}

/// Asks the provider at `url` for its balance with `key` (API v2 `action=balance`); returns
/// what it answered (`"12.50 USD"`), or why the key was not accepted.
async fn check_key(url: &str, key: &str, timeout_ms: i64) -> Result<String, UseCaseError> {
    let mut cfg = smmd_provider::ProviderConfig::new(url.to_string(), key);
    cfg.timeout = std::time::Duration::from_millis(timeout_ms.max(0) as u64);
    let client = smmd_provider::ProviderClient::new(cfg)
        .map_err(|e| invalid(format!("the URL cannot be used: {e}")))?;
    let b = client.balance().await.map_err(|e| {
        invalid(format!(
            "the provider did not accept the key ({e}); check the URL and key, or save without the check"
        ))
    })?;
    Ok(
        format!("{} {}", b.amount, b.currency.as_deref().unwrap_or(""))
            .trim()
            .to_string(),
    )
}

fn name_taken(e: StoreError) -> UseCaseError {
    match e {
        StoreError::Conflict("providers.name") => UseCaseError::refused(
            ErrorCode::ProviderNameTaken,
            "a provider with this name exists",
        ),
        e => e.into(),
    }
}

/// Validates `input`, tests the key when `check_key` (API v2 `action=balance`), seals the key
/// with the panel's secret and stores the provider, audited as `provider.add` when an `actor`
/// adds it (the CLI adds without one). Returns the provider and, when checked, what it answered
/// (`"12.50 USD"`).
///
/// Errors: `invalid_provider` (a field out of range, or the key refused by the provider),
/// `provider_name_taken`.
pub async fn add_provider(
    app: App<'_>,
    clients: &Clients,
    actor: Option<&Actor>,
    input: ProviderInput,
) -> Result<(Provider, Option<String>), UseCaseError> {
    let row = validate(clients, &input, true)?;
    let answered = match input.check_key {
        true => Some(check_key(&row.url, input.key.trim(), input.timeout_ms).await?),
        false => None,
    };
    let now = app.now();
    let audit = actor.map(|a| {
        a.audit(
            "provider.add",
            format!("name:{}", row.name),
            row.url.clone(),
            now,
        )
    });
    let provider = app
        .store
        .create_provider(row, now, audit)
        .await
        .map_err(name_taken)?;
    Ok((provider, answered))
}

/// Edits provider `id`: `patch` merged onto its settings, validated as an add; a new key is
/// sealed, an empty one keeps the current key. When `patch.check_key` and the URL or key
/// changes, the provider is asked for its balance first. Audited as `provider.edit` with the
/// fields that changed. Returns the provider and what it answered when checked.
///
/// Errors: `not_found`, `invalid_provider`, `provider_name_taken`.
pub async fn edit_provider(
    app: App<'_>,
    clients: &Clients,
    actor: &Actor,
    id: ProviderId,
    patch: ProviderPatch,
) -> Result<(Provider, Option<String>), UseCaseError> {
    let old = app.store.provider(id).await?.ok_or(StoreError::NotFound)?;
    let money = |m: i64| Money::from_micros(m).to_string();
    let input = ProviderInput {
        name: patch.name.unwrap_or_else(|| old.name.clone()),
        url: patch.url.unwrap_or_else(|| old.url.clone()),
        key: patch.key.unwrap_or_default(),
        currency: patch.currency.unwrap_or_else(|| old.currency.clone()),
        exchange_rate: patch
            .exchange_rate
            .unwrap_or_else(|| money(old.exchange_rate)),
        alert_below: match patch.alert_below {
            Some(a) => Some(a),
            None => old.balance_alert_below.map(|m| m.to_string()),
        },
        timeout_ms: patch.timeout_ms.unwrap_or(old.timeout_ms),
        max_concurrency: patch.max_concurrency.unwrap_or(old.max_concurrency),
        rate_per_sec: match patch.rate_per_sec {
            Some(0) => None,
            Some(r) => Some(r),
            None => old.rate_per_sec,
        },
        limits: ProviderLimits {
            answer_max_bytes: patch
                .answer_max_bytes
                .unwrap_or(old.limits.answer_max_bytes),
            services_max_bytes: patch
                .services_max_bytes
                .unwrap_or(old.limits.services_max_bytes),
            price_jump_pct: patch.price_jump_pct.unwrap_or(old.limits.price_jump_pct),
        },
        check_key: patch.check_key,
    };
    let row = validate(clients, &input, false)?;
    let new_key = !row.api_key_enc.is_empty();
    let answered = if input.check_key && (new_key || row.url != old.url) {
        let key = match new_key {
            true => input.key.trim().to_string(),
            false => clients
                .open_key(&old.api_key_enc)
                .map_err(|e| invalid(format!("the current key cannot be read: {e}")))?,
        };
        Some(check_key(&row.url, &key, row.timeout_ms).await?)
    } else {
        None
    };
    let changed = changes(&old, &row, new_key);
    if changed.is_empty() {
        return Ok((old, answered));
    }
    let now = app.now();
    let audit = actor.audit("provider.edit", format!("provider:{}", id.0), changed, now);
    let provider = app
        .store
        .update_provider(id, &row, new_key, now, Some(audit))
        .await
        .map_err(name_taken)?;
    Ok((provider, answered))
}

/// The fields `row` changes on `old`, for the audit line (`name, url, key, …`).
fn changes(old: &Provider, row: &NewProvider, new_key: bool) -> String {
    let mut out = Vec::new();
    let mut note = |field: &str, differs: bool| {
        if differs {
            out.push(field.to_string());
        }
    };
    note("name", old.name != row.name);
    note("url", old.url != row.url);
    note("key", new_key);
    note("currency", old.currency != row.currency);
    note("exchange_rate", old.exchange_rate != row.exchange_rate);
    note(
        "alert_below",
        old.balance_alert_below != row.balance_alert_below,
    );
    note("timeout_ms", old.timeout_ms != row.timeout_ms);
    note(
        "max_concurrency",
        old.max_concurrency != row.max_concurrency,
    );
    note("rate_per_sec", old.rate_per_sec != row.rate_per_sec);
    note(
        "answer_max_bytes",
        old.limits.answer_max_bytes != row.limits.answer_max_bytes,
    );
    note(
        "services_max_bytes",
        old.limits.services_max_bytes != row.limits.services_max_bytes,
    );
    note(
        "price_jump_pct",
        old.limits.price_jump_pct != row.limits.price_jump_pct,
    );
    out.join(", ")
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

/// How far back the order figures of [`health`] look: the last 24 hours, ms.
pub const HEALTH_WINDOW_MS: i64 = 24 * 3_600_000;

/// One provider's health (issue 20): its calls from this process over the last 15 minutes
/// ([`smmd_provider::health`]) and its orders placed over the last [`HEALTH_WINDOW_MS`].
#[derive(Clone, Debug, serde::Serialize)]
pub struct ProviderHealth {
    pub provider_id: ProviderId,
    pub name: String,
    /// `None` when this process has no client for it (no panel secret set).
    pub calls: Option<smmd_provider::HealthSnapshot>,
    pub circuit_open: bool,
    /// Failed calls (not a refusal of one request), per mille of the calls.
    pub error_permille: Option<i64>,
    pub orders: i64,
    /// Orders sent in the window that ended canceled / partial / climbed the stuck ladder, per
    /// mille of the orders sent.
    pub cancel_permille: Option<i64>,
    pub partial_permille: Option<i64>,
    pub stuck_permille: Option<i64>,
    /// Orders sent in the window that came to it from another offer (offer failover).
    pub taken_over: i64,
    /// How offer failover sees it now: `healthy`, `degraded`, or the code of the reason its
    /// offers are left ([`smmd_domain::failover::Reason`]: `provider_failing` while its circuit
    /// is open, `out_of_funds` since a refusal for funds until it accepts an order).
    pub route_state: &'static str,
    /// When it last refused an order for lack of funds (epoch ms), until it accepts one.
    pub out_of_funds_at: Option<i64>,
    /// What it charged in the window, its currency.
    pub spent: Money,
    /// Hours its last known balance lasts at the window's rate of spend; `None` without spend
    /// or a known balance.
    pub runway_hours: Option<i64>,
}

/// The health of every provider, in the providers' order.
///
/// Errors: only the store's.
pub async fn health(
    app: App<'_>,
    clients: Option<&Clients>,
) -> Result<Vec<ProviderHealth>, UseCaseError> {
    use smmd_domain::failover::{OfferFacts, OfferState};
    use smmd_domain::health::{permille, runway_hours};
    let providers = app.store.providers().await?;
    let figures = app
        .store
        .provider_order_figures(app.now() - HEALTH_WINDOW_MS)
        .await?;
    Ok(providers
        .into_iter()
        .map(|p| {
            let client = clients.and_then(|c| c.get(&p).ok());
            let calls = client.as_ref().map(smmd_provider::ProviderClient::health);
            let f = figures.iter().find(|f| f.provider_id == p.id);
            let orders = f.map_or(0, |f| f.orders);
            let spent = f.map_or(Money::ZERO, |f| f.spent);
            let circuit_open = client.as_ref().is_some_and(|c| c.circuit_open());
            let state = OfferState::classify(OfferFacts {
                provider_failing: circuit_open,
                out_of_funds: p.out_of_funds_at.is_some(),
                service_missing: false,
                calls: calls.as_ref().map_or(0, |c| c.calls),
                failed_calls: calls.as_ref().map_or(0, |c| c.failed_calls()),
            });
            ProviderHealth {
                provider_id: p.id,
                name: p.name.clone(),
                circuit_open,
                taken_over: f.map_or(0, |f| f.taken_over),
                route_state: match state {
                    OfferState::Healthy => "healthy",
                    OfferState::Degraded => "degraded",
                    OfferState::Failing(r) => r.as_str(),
                },
                out_of_funds_at: p.out_of_funds_at,
                error_permille: calls
                    .as_ref()
                    .and_then(|c| c.error_permille())
                    .map(|v| v as i64),
                calls,
                orders,
                cancel_permille: f.and_then(|f| permille(f.canceled, orders)),
                partial_permille: f.and_then(|f| permille(f.partial, orders)),
                stuck_permille: f.and_then(|f| permille(f.stuck, orders)),
                spent,
                runway_hours: p
                    .balance
                    .and_then(|b| runway_hours(b, spent, HEALTH_WINDOW_MS)),
            }
        })
        .collect())
}
