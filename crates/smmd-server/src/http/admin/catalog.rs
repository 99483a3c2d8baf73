//! Admin catalog: every service with its provider mapping and the edit of its selling terms;
//! every category with its markup.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use smmd_app::catalog;
use smmd_domain::ServiceId;
use smmd_store::Service;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminUser;
use crate::error::AppError;
use crate::http::smm::{category_list, CategoryList};
use crate::http::{ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// A service with its provider mapping, as admins see it.
#[derive(Serialize, ToSchema)]
pub struct AdminServiceDto {
    id: i64,
    name: String,
    category_id: i64,
    category: String,
    #[serde(rename = "type")]
    service_type: &'static str,
    /// Selling rate per 1000, decimal string, panel currency.
    rate: String,
    min: i64,
    max: i64,
    enabled: bool,
    refill: bool,
    guarantee_days: i64,
    cancel: bool,
    dripfeed: bool,
    auto_refill: bool,
    /// Markup over cost in basis points; null = the category's or the panel's.
    markup_bp: Option<i64>,
    provider_id: Option<i64>,
    provider_service_id: Option<String>,
    /// The provider's rate per 1000 in its currency, decimal string.
    provider_rate: Option<String>,
    provider_currency: Option<String>,
    /// Fields set by hand that service sync leaves alone.
    overrides: Vec<String>,
    description: String,
}

fn admin_service_dto(s: &Service) -> AdminServiceDto {
    AdminServiceDto {
        id: s.id.0,
        name: s.name.clone(),
        category_id: s.category_id.0,
        category: s.category.clone(),
        service_type: s.service_type.as_str(),
        rate: s.rate.to_string(),
        min: s.min,
        max: s.max,
        enabled: s.enabled,
        refill: s.refill,
        guarantee_days: s.guarantee_days,
        cancel: s.cancel,
        dripfeed: s.dripfeed,
        auto_refill: s.auto_refill,
        markup_bp: s.markup_bp,
        provider_id: s.provider_id.map(|p| p.0),
        provider_service_id: s.provider_service_id.clone(),
        provider_rate: s.provider_rate.map(|r| r.to_string()),
        provider_currency: s.provider_currency.clone(),
        overrides: s.overrides.clone(),
        description: s.description.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdminServiceList {
    items: Vec<AdminServiceDto>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminServiceFilters {
    /// Category id.
    category: Option<i64>,
    /// Provider id.
    provider: Option<i64>,
    enabled: Option<bool>,
    /// Case-insensitive text in the name or category.
    q: Option<String>,
}

/// Every service (disabled ones too), by category then id.
#[utoipa::path(get, path = "/api/admin/services", tag = "admin", params(AdminServiceFilters),
    responses((status = 200, body = AdminServiceList)))]
pub async fn list_services(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiQuery(f): ApiQuery<AdminServiceFilters>,
) -> Result<Json<AdminServiceList>, AppError> {
    let needle =
        f.q.as_deref()
            .map(|q| q.trim().to_lowercase())
            .filter(|q| !q.is_empty());
    let items = st
        .store
        .list_services(false)
        .await?
        .iter()
        .filter(|s| f.category.is_none_or(|c| s.category_id.0 == c))
        .filter(|s| {
            f.provider
                .is_none_or(|p| s.provider_id.map(|x| x.0) == Some(p))
        })
        .filter(|s| f.enabled.is_none_or(|e| s.enabled == e))
        .filter(|s| {
            needle.as_deref().is_none_or(|n| {
                s.name.to_lowercase().contains(n) || s.category.to_lowercase().contains(n)
            })
        })
        .map(admin_service_dto)
        .collect();
    Ok(Json(AdminServiceList { items }))
}

/// Fields to change; absent ones stay. `name`, `rate`, `min`, `max` and `enabled` become
/// overrides that service sync leaves alone.
#[derive(Deserialize, ToSchema, Default)]
#[serde(default)]
pub struct ServicePatch {
    /// 1 to 200 characters.
    name: Option<String>,
    /// Selling rate per 1000, decimal string.
    rate: Option<String>,
    #[schema(minimum = 0)]
    min: Option<i64>,
    #[schema(minimum = 1)]
    max: Option<i64>,
    enabled: Option<bool>,
    /// Basis points, 0–100000; send `clear_markup: true` to fall back to the category's.
    #[schema(minimum = 0, maximum = 100000)]
    markup_bp: Option<i64>,
    clear_markup: bool,
    auto_refill: Option<bool>,
    /// What customers read on the services page and the order form; at most 5000 characters.
    description: Option<String>,
    /// Refill guarantee in days, 0–365 (copied onto each order at purchase).
    #[schema(minimum = 0, maximum = 365)]
    guarantee_days: Option<i64>,
}

/// Edits a service (validated as a whole: `min ≤ max`); logged in its change history.
#[utoipa::path(patch, path = "/api/admin/services/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Service id")), request_body = ServicePatch,
    responses((status = 200, body = AdminServiceDto)))]
pub async fn edit_service(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(p): JsonBody<ServicePatch>,
) -> Result<Json<AdminServiceDto>, AppError> {
    let patch = catalog::ServicePatch {
        name: p.name,
        rate: p.rate,
        min: p.min,
        max: p.max,
        enabled: p.enabled,
        markup_bp: if p.clear_markup {
            Some(None)
        } else {
            p.markup_bp.map(Some)
        },
        auto_refill: p.auto_refill,
        description: p.description,
        guarantee_days: p.guarantee_days,
    };
    let s = catalog::edit_service(st.app(), &AppState::actor(&admin), ServiceId(id), patch).await?;
    st.catalog_changed();
    Ok(Json(admin_service_dto(&s)))
}

/// Every category, with its markup.
#[utoipa::path(get, path = "/api/admin/categories", tag = "admin",
    responses((status = 200, body = CategoryList)))]
pub async fn list_categories(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<CategoryList>, AppError> {
    Ok(Json(category_list(&st, true).await?))
}

#[derive(Deserialize, ToSchema)]
pub struct CategoryPatch {
    /// Basis points 0–100000 for the category's services; null = the panel default.
    #[schema(minimum = 0, maximum = 100000)]
    markup_bp: Option<i64>,
}

/// Sets a category's markup (applied by the next service sync).
#[utoipa::path(patch, path = "/api/admin/categories/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Category id")), request_body = CategoryPatch,
    responses((status = 200, body = CategoryList, description = "Every category after the change")))]
pub async fn edit_category(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(p): JsonBody<CategoryPatch>,
) -> Result<Json<CategoryList>, AppError> {
    catalog::set_category_markup(
        st.app(),
        &AppState::actor(&admin),
        catalog::CategoryRef::Id(id),
        p.markup_bp,
    )
    .await?;
    st.catalog_changed();
    Ok(Json(category_list(&st, true).await?))
}
