//! Admin providers: list them with their last balance, add one and edit one (the use cases of
//! `smmd_app::providers`: the key tested, sealed, never shown), test one (`action=balance`,
//! nothing recorded), read and record its balance, import its catalogue now, and enable or
//! disable it.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use smmd_domain::{Money, ProviderId};
use smmd_store::User;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminUser;
use crate::error::{AppError, ErrorCode};
use crate::http::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// Records an admin action that is not one transaction of its own (a provider test reads; a
/// sync writes in many): the line is written after it, and a failure to write it is logged.
async fn record(st: &AppState, admin: &User, action: &str, id: i64, detail: String) {
    let entry =
        AppState::actor(admin).audit(action, format!("provider:{id}"), detail, st.clock.now_ms());
    if let Err(e) = st.store.record_audit(entry).await {
        tracing::error!(error = %e, action, "recording an audit entry failed");
    }
}

/// A provider (its key is never shown).
#[derive(Serialize, ToSchema)]
pub struct ProviderDto {
    id: i64,
    name: String,
    url: String,
    currency: String,
    /// Panel currency per one provider currency unit, decimal string.
    exchange_rate: String,
    enabled: bool,
    /// Last balance read, provider currency, decimal string.
    balance: Option<String>,
    balance_checked_at: Option<i64>,
    balance_alert_below: Option<String>,
    timeout_ms: i64,
    max_concurrency: i64,
    rate_per_sec: Option<i64>,
    /// Largest answer read for any action but `services`, bytes.
    answer_max_bytes: i64,
    /// Largest `services` answer read, bytes.
    services_max_bytes: i64,
    /// A services sync holds a provider rate change beyond this factor (percent, 200 = x2).
    price_jump_pct: i64,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderList {
    items: Vec<ProviderDto>,
}

fn provider_dto(p: &smmd_store::Provider) -> ProviderDto {
    ProviderDto {
        id: p.id.0,
        name: p.name.clone(),
        url: p.url.clone(),
        currency: p.currency.clone(),
        exchange_rate: Money::from_micros(p.exchange_rate).to_string(),
        enabled: p.enabled,
        balance: p.balance.map(|b| b.to_string()),
        balance_checked_at: p.balance_checked_at,
        balance_alert_below: p.balance_alert_below.map(|b| b.to_string()),
        timeout_ms: p.timeout_ms,
        max_concurrency: p.max_concurrency,
        rate_per_sec: p.rate_per_sec,
        answer_max_bytes: p.limits.answer_max_bytes,
        services_max_bytes: p.limits.services_max_bytes,
        price_jump_pct: p.limits.price_jump_pct,
    }
}

/// A provider to add. Defaults: currency `USD`, exchange rate `1`, timeout 30 000 ms, 8 calls
/// at once, no rate limit, the limits of `smmd_store::ProviderLimits::default` (1 MiB, 16 MiB,
/// 200 %), and the key tested (`check_key`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddProviderBody {
    name: String,
    /// The exact API v2 URL.
    url: String,
    key: String,
    #[serde(default = "usd")]
    currency: String,
    /// Panel currency per one provider currency unit, decimal string.
    #[serde(default = "one")]
    exchange_rate: String,
    /// Alert below this balance (provider currency), decimal string.
    alert_below: Option<String>,
    #[serde(default = "thirty_seconds")]
    timeout_ms: i64,
    #[serde(default = "eight")]
    max_concurrency: i64,
    rate_per_sec: Option<i64>,
    answer_max_bytes: Option<i64>,
    services_max_bytes: Option<i64>,
    price_jump_pct: Option<i64>,
    /// Ask the provider for its balance with the key before adding it (default true).
    #[serde(default = "yes")]
    check_key: bool,
}

fn usd() -> String {
    "USD".into()
}
fn one() -> String {
    "1".into()
}
fn thirty_seconds() -> i64 {
    30_000
}
fn eight() -> i64 {
    8
}
fn yes() -> bool {
    true
}

/// What an edit changes: every field is optional and keeps its value when absent; an empty
/// `key` keeps the key, an empty `alert_below` removes the threshold, `rate_per_sec: 0` the
/// rate limit. When the URL or key changes the provider is asked for its balance first unless
/// `check_key` is false.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditProviderBody {
    name: Option<String>,
    url: Option<String>,
    key: Option<String>,
    currency: Option<String>,
    exchange_rate: Option<String>,
    alert_below: Option<String>,
    timeout_ms: Option<i64>,
    max_concurrency: Option<i64>,
    rate_per_sec: Option<i64>,
    answer_max_bytes: Option<i64>,
    services_max_bytes: Option<i64>,
    price_jump_pct: Option<i64>,
    #[serde(default = "yes")]
    check_key: bool,
}

/// A provider after an add or edit, with what it answered when its key was tested.
#[derive(Serialize, ToSchema)]
pub struct ProviderSaved {
    provider: ProviderDto,
    /// The balance the provider answered with the key (`"12.50 USD"`); absent when not tested.
    answered: Option<String>,
}

fn clients(st: &AppState) -> Result<&smmd_fulfil::Clients, AppError> {
    st.fulfil.as_ref().map(|f| &f.clients).ok_or_else(|| {
        AppError::new(
            ErrorCode::ProvidersUnavailable,
            "Set security.secret_key to use providers",
        )
    })
}

/// Adds a provider (audited as `provider.add`); its key is tested with `action=balance` first
/// unless `check_key` is false. 422 `invalid_provider` for a field out of range or a key the
/// provider refuses, 409 `provider_name_taken`.
#[utoipa::path(post, path = "/api/admin/providers", tag = "admin",
    request_body = AddProviderBody,
    responses((status = 201, body = ProviderSaved)))]
pub async fn add_provider(
    State(st): State<AppState>,
    crate::auth::AdminAuth(auth): crate::auth::AdminAuth,
    headers: axum::http::HeaderMap,
    JsonBody(b): JsonBody<AddProviderBody>,
) -> Result<(axum::http::StatusCode, Json<ProviderSaved>), AppError> {
    auth.step_up(&st, crate::auth::code_header(&headers))
        .await?;
    let admin = auth.user;
    let defaults = smmd_store::ProviderLimits::default();
    let input = smmd_app::providers::ProviderInput {
        name: b.name,
        url: b.url,
        key: b.key,
        currency: b.currency,
        exchange_rate: b.exchange_rate,
        alert_below: b.alert_below,
        timeout_ms: b.timeout_ms,
        max_concurrency: b.max_concurrency,
        rate_per_sec: b.rate_per_sec,
        limits: smmd_store::ProviderLimits {
            answer_max_bytes: b.answer_max_bytes.unwrap_or(defaults.answer_max_bytes),
            services_max_bytes: b.services_max_bytes.unwrap_or(defaults.services_max_bytes),
            price_jump_pct: b.price_jump_pct.unwrap_or(defaults.price_jump_pct),
        },
        check_key: b.check_key,
    };
    let (p, answered) = smmd_app::providers::add_provider(
        st.app(),
        clients(&st)?,
        Some(&AppState::actor(&admin)),
        input,
    )
    .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        Json(ProviderSaved {
            provider: provider_dto(&p),
            answered,
        }),
    ))
}

/// Edits a provider (audited as `provider.edit` with the fields changed): its settings, key
/// and per-provider limits; the next call uses them. 404, 422 `invalid_provider`, 409
/// `provider_name_taken`.
#[utoipa::path(patch, path = "/api/admin/providers/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")), request_body = EditProviderBody,
    responses((status = 200, body = ProviderSaved)))]
pub async fn edit_provider(
    State(st): State<AppState>,
    crate::auth::AdminAuth(auth): crate::auth::AdminAuth,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<EditProviderBody>,
) -> Result<Json<ProviderSaved>, AppError> {
    // A new key is a security change: the step-up first.
    if b.key.is_some() {
        auth.step_up(&st, crate::auth::code_header(&headers))
            .await?;
    }
    let admin = auth.user;
    let patch = smmd_app::providers::ProviderPatch {
        name: b.name,
        url: b.url,
        key: b.key,
        currency: b.currency,
        exchange_rate: b.exchange_rate,
        alert_below: b.alert_below,
        timeout_ms: b.timeout_ms,
        max_concurrency: b.max_concurrency,
        rate_per_sec: b.rate_per_sec,
        answer_max_bytes: b.answer_max_bytes,
        services_max_bytes: b.services_max_bytes,
        price_jump_pct: b.price_jump_pct,
        check_key: b.check_key,
    };
    let (p, answered) = smmd_app::providers::edit_provider(
        st.app(),
        clients(&st)?,
        &AppState::actor(&admin),
        ProviderId(id),
        patch,
    )
    .await?;
    Ok(Json(ProviderSaved {
        provider: provider_dto(&p),
        answered,
    }))
}

/// Every provider with its last balance.
#[utoipa::path(get, path = "/api/admin/providers", tag = "admin",
    responses((status = 200, body = ProviderList)))]
pub async fn list_providers(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<ProviderList>, AppError> {
    let items = st
        .store
        .providers()
        .await?
        .iter()
        .map(provider_dto)
        .collect();
    Ok(Json(ProviderList { items }))
}

async fn provider_and_fulfil(
    st: &AppState,
    id: i64,
) -> Result<(smmd_store::Provider, &smmd_fulfil::Fulfil), AppError> {
    let p = st
        .store
        .provider(ProviderId(id))
        .await?
        .ok_or_else(|| AppError::not_found("Provider"))?;
    let f = st.fulfil.as_ref().ok_or_else(|| {
        AppError::new(
            ErrorCode::ProvidersUnavailable,
            "Set security.secret_key to use providers",
        )
    })?;
    Ok((p, f))
}

fn provider_error(e: impl std::fmt::Display) -> AppError {
    AppError::new(ErrorCode::ProviderError, e.to_string())
}

/// A provider's live balance.
#[derive(Serialize, ToSchema)]
pub struct ProviderCheck {
    /// Decimal string, `currency`.
    balance: String,
    currency: String,
    /// Under the provider's alert threshold (only from `balance`, which records it).
    low: bool,
}

/// Calls the provider's `action=balance` and shows the answer; records nothing.
#[utoipa::path(post, path = "/api/admin/providers/{id}/test", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")),
    responses((status = 200, body = ProviderCheck)))]
pub async fn test_provider(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProviderCheck>, AppError> {
    let (p, f) = provider_and_fulfil(&st, id).await?;
    let b = f
        .clients
        .get(&p)
        .map_err(provider_error)?
        .balance()
        .await
        .map_err(provider_error)?;
    record(&st, &admin, "provider.test", id, String::new()).await;
    Ok(Json(ProviderCheck {
        balance: b.amount.to_string(),
        currency: b.currency.unwrap_or(p.currency),
        low: false,
    }))
}

/// Reads and records the provider's balance now (as `providers.check_balances` does, alert
/// included).
#[utoipa::path(post, path = "/api/admin/providers/{id}/balance", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")),
    responses((status = 200, body = ProviderCheck)))]
pub async fn check_balance(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProviderCheck>, AppError> {
    use smmd_fulfil::balances::{check, CheckError};
    let (p, f) = provider_and_fulfil(&st, id).await?;
    let ((amount, currency), low) = check(f, &p).await.map_err(|e| match e {
        CheckError::Provider(m) => provider_error(m),
        CheckError::Store(e) => e.into(),
    })?;
    Ok(Json(ProviderCheck {
        balance: amount.to_string(),
        currency,
        low,
    }))
}

/// What a service sync did: counters such as `created`, `updated`, `disabled`, `unchanged`.
#[derive(Serialize, ToSchema)]
pub struct SyncReport {
    #[schema(value_type = Object)]
    counters: std::collections::BTreeMap<String, i64>,
}

/// `?approve_price_jumps=true` applies rate changes a sync would hold.
#[derive(Deserialize, IntoParams)]
pub struct SyncQuery {
    #[serde(default)]
    approve_price_jumps: bool,
}

/// Imports the provider's catalog now (`services.sync` for one provider: prices with markup,
/// admin overrides kept, a mass disable refused, provider rate changes beyond the provider's
/// jump factor held unless `approve_price_jumps`; counter `held_price_jumps`).
#[utoipa::path(post, path = "/api/admin/providers/{id}/sync", tag = "admin",
    params(("id" = i64, Path, description = "Provider id"), SyncQuery),
    responses((status = 200, body = SyncReport)))]
pub async fn sync_provider(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<SyncQuery>,
) -> Result<Json<SyncReport>, AppError> {
    use smmd_fulfil::catalog::SyncError;
    let (p, f) = provider_and_fulfil(&st, id).await?;
    let counters = smmd_fulfil::catalog::sync_provider(f, &p, q.approve_price_jumps)
        .await
        .map_err(|e| match e {
            SyncError::Store(e) => e.into(),
            e @ SyncError::TooManyDisabled { .. } => {
                AppError::new(ErrorCode::Conflict, e.to_string())
            }
            e => provider_error(e),
        })?;
    st.catalog_changed();
    record(&st, &admin, "provider.sync", id, format!("{counters:?}")).await;
    Ok(Json(SyncReport { counters }))
}

#[derive(Deserialize, ToSchema)]
pub struct EnableBody {
    enabled: bool,
}

/// Enables or disables a provider (dispatch and sync skip disabled ones).
#[utoipa::path(post, path = "/api/admin/providers/{id}/enable", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")), request_body = EnableBody,
    responses((status = 200, body = ProviderDto)))]
pub async fn enable_provider(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<EnableBody>,
) -> Result<Json<ProviderDto>, AppError> {
    let p = smmd_app::providers::set_provider_enabled(
        st.app(),
        &AppState::actor(&admin),
        ProviderId(id),
        b.enabled,
    )
    .await?;
    Ok(Json(provider_dto(&p)))
}
