//! Admin providers: list them with their last balance, test one (`action=balance`, nothing
//! recorded), read and record its balance, import its catalogue now, and enable or disable it.

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
    }
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
