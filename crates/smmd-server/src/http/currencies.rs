//! REST for languages and display currencies (issue 18): a user's preferences (the language
//! of their pages and e-mails, the currency they see amounts in beside the panel's), the
//! exchange rates in use, and the admin's hand-pinned rates. Money is never converted: every
//! amount the API answers elsewhere stays in the panel currency. Use cases:
//! `smmd_app::notifications::set_language`, `smmd_app::currencies`.

use axum::extract::State;
use axum::routing::{get, put};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_store::CurrencyRate;
use utoipa::{OpenApi, ToSchema};

use super::{ApiPath, JsonBody};
use crate::auth::{AdminUser, AuthUser};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/account/preferences",
            get(preferences).put(save_preferences),
        )
        .route("/api/currency-rates", get(currency_rates))
        .route(
            "/api/admin/currency-rates/{currency}",
            put(pin_rate).delete(unpin_rate),
        )
}

#[derive(OpenApi)]
#[openapi(
    paths(preferences, save_preferences, currency_rates, pin_rate, unpin_rate),
    components(schemas(
        PreferencesDto,
        PreferencesBody,
        CurrencyRatesDto,
        CurrencyRateDto,
        PinBody
    ))
)]
pub struct CurrenciesDoc;

/// A user's language and display currency, with the choices this panel offers.
#[derive(Serialize, ToSchema)]
pub struct PreferencesDto {
    /// `en`, `es`, `ru` or `ar`; null: the browser's (pages) and English (e-mails).
    language: Option<String>,
    /// Every language this panel ships.
    languages: Vec<&'static str>,
    /// The currency amounts are also shown in (`EUR`); null: the panel's only.
    display_currency: Option<String>,
    /// The currencies with a rate that can be chosen.
    display_currencies: Vec<String>,
    /// The panel currency: what is charged and what every balance is in.
    panel_currency: String,
}

async fn preferences_of(
    st: &AppState,
    user: smmd_domain::UserId,
) -> Result<PreferencesDto, AppError> {
    let account = st
        .store
        .user(user)
        .await?
        .ok_or_else(|| AppError::not_found("User"))?;
    let conv = st.converter().await;
    Ok(PreferencesDto {
        language: account.language,
        languages: smmd_i18n::Lang::ALL.iter().map(|l| l.code()).collect(),
        display_currency: account.display_currency,
        display_currencies: conv.choices().into_iter().map(str::to_string).collect(),
        panel_currency: st.config.panel.currency.clone(),
    })
}

/// The caller's language and display currency.
#[utoipa::path(get, path = "/api/account/preferences", tag = "account",
    responses((status = 200, body = PreferencesDto)))]
async fn preferences(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<PreferencesDto>, AppError> {
    Ok(Json(preferences_of(&st, user.id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesBody {
    /// `en`, `es`, `ru` or `ar` (a region is dropped: `es-MX` is `es`); null or empty: the
    /// browser's.
    #[schema(max_length = 35)]
    language: Option<String>,
    /// One of `display_currencies`; null, empty or the panel's own: none.
    #[schema(max_length = 3)]
    display_currency: Option<String>,
}

/// Sets both preferences. 422 `invalid_language` or `invalid_display_currency`; nothing is
/// written when either is refused.
#[utoipa::path(put, path = "/api/account/preferences", tag = "account",
    request_body = PreferencesBody, responses((status = 200, body = PreferencesDto)))]
async fn save_preferences(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    JsonBody(b): JsonBody<PreferencesBody>,
) -> Result<Json<PreferencesDto>, AppError> {
    smmd_app::currencies::set_preferences(
        st.app(),
        user.id,
        &st.config.panel.currency,
        b.language.as_deref(),
        b.display_currency.as_deref(),
    )
    .await?;
    Ok(Json(preferences_of(&st, user.id).await?))
}

/// One currency's rate.
#[derive(Serialize, ToSchema)]
pub struct CurrencyRateDto {
    /// ISO 4217 code.
    currency: String,
    /// The rate in use: units of the currency per one euro (decimal text, `"1.1612"`).
    per_eur: String,
    /// Set by an admin; the feed does not move it.
    pinned: bool,
    /// The feed's last rate (decimal text) and its date (`2026-12-02`); null for a currency
    /// only pinned.
    feed_per_eur: Option<String>,
    feed_date: Option<String>,
    /// Epoch ms of the last change.
    updated_at: i64,
}

fn rate_dto(r: CurrencyRate) -> CurrencyRateDto {
    let text = |micros: i64| smmd_domain::Money::from_micros(micros).to_string();
    CurrencyRateDto {
        currency: r.currency,
        per_eur: text(r.per_eur),
        pinned: r.pinned,
        feed_per_eur: r.feed_per_eur.map(text),
        feed_date: r.feed_date,
        updated_at: r.updated_at,
    }
}

#[derive(Serialize, ToSchema)]
pub struct CurrencyRatesDto {
    /// The panel currency: what is charged and what every balance is in.
    panel_currency: String,
    /// The currencies a user may choose to see amounts in.
    display_currencies: Vec<String>,
    /// Every stored rate (per euro), by code.
    rates: Vec<CurrencyRateDto>,
}

/// The exchange rates in use (the ECB's daily reference rates, or an admin's pinned ones).
#[utoipa::path(get, path = "/api/currency-rates", tag = "account",
    responses((status = 200, body = CurrencyRatesDto)))]
async fn currency_rates(
    State(st): State<AppState>,
    _user: AuthUser,
) -> Result<Json<CurrencyRatesDto>, AppError> {
    let rates = smmd_app::currencies::rates(st.app()).await?;
    let conv = smmd_app::currencies::Converter::new(&st.config.panel.currency, &rates);
    Ok(Json(CurrencyRatesDto {
        panel_currency: st.config.panel.currency.clone(),
        display_currencies: conv.choices().into_iter().map(str::to_string).collect(),
        rates: rates.into_iter().map(rate_dto).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PinBody {
    /// Units of the currency per one euro, decimal text of at most 6 decimals (`"1.0850"`).
    #[schema(max_length = 24)]
    rate: String,
}

/// Pins a currency's rate by hand (audited as `currency.pin`): the feed no longer moves it.
/// 422 `invalid_rate`.
#[utoipa::path(put, path = "/api/admin/currency-rates/{currency}", tag = "admin",
    params(("currency" = String, Path, description = "ISO 4217 code other than EUR")),
    request_body = PinBody, responses((status = 200, body = CurrencyRateDto)))]
async fn pin_rate(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(currency): ApiPath<String>,
    JsonBody(b): JsonBody<PinBody>,
) -> Result<Json<CurrencyRateDto>, AppError> {
    let r = smmd_app::currencies::pin_rate(st.app(), &AppState::actor(&admin), &currency, &b.rate)
        .await?;
    st.converter.invalidate();
    Ok(Json(rate_dto(r)))
}

/// Unpins a currency (audited as `currency.unpin`): the feed's last rate is in use again; a
/// currency only pinned is removed. 404 when it is not pinned.
#[utoipa::path(delete, path = "/api/admin/currency-rates/{currency}", tag = "admin",
    params(("currency" = String, Path, description = "ISO 4217 code")),
    responses((status = 204, description = "Unpinned")))]
async fn unpin_rate(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(currency): ApiPath<String>,
) -> Result<axum::http::StatusCode, AppError> {
    smmd_app::currencies::unpin_rate(st.app(), &AppState::actor(&admin), &currency).await?;
    st.converter.invalidate();
    Ok(axum::http::StatusCode::NO_CONTENT)
}
