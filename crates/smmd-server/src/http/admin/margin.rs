//! Admin margin guard (issue 20): a service's and a category's minimum margin and a service's
//! breach action, the queue of orders held below cost plus margin, and the owner's decision on
//! them (release or refund). Each handler calls one `smmd_app::margin` use case.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use smmd_app::margin::{self, HoldDecision};
use smmd_domain::ServiceId;
use utoipa::ToSchema;

use crate::auth::AdminUser;
use crate::error::AppError;
use crate::http::{ApiPath, JsonBody};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct ServiceMargin {
    /// Minimum margin over the live cost, basis points 0–100000; null = the category's.
    #[schema(minimum = 0, maximum = 100000)]
    min_margin_bp: Option<i64>,
    /// On a breach: `hold` (orders wait for the owner) or `reprice` (the price rises to the
    /// markup rule on the live cost).
    action: String,
}

/// Sets a service's minimum margin and breach action (audited as `service.margin`).
#[utoipa::path(put, path = "/api/admin/services/{id}/margin", tag = "admin",
    params(("id" = i64, Path, description = "Service id")), request_body = ServiceMargin,
    responses((status = 204, description = "Saved")))]
pub async fn set_service_margin(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<ServiceMargin>,
) -> Result<axum::http::StatusCode, AppError> {
    margin::set_service_margin(
        st.app(),
        &AppState::actor(&admin),
        ServiceId(id),
        b.min_margin_bp,
        &b.action,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct CategoryMargin {
    /// Minimum margin for the category's services, basis points 0–100000; null = the panel's.
    #[schema(minimum = 0, maximum = 100000)]
    min_margin_bp: Option<i64>,
}

/// Sets a category's minimum margin (audited as `category.margin`).
#[utoipa::path(put, path = "/api/admin/categories/{id}/margin", tag = "admin",
    params(("id" = i64, Path, description = "Category id")), request_body = CategoryMargin,
    responses((status = 204, description = "Saved")))]
pub async fn set_category_margin(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<CategoryMargin>,
) -> Result<axum::http::StatusCode, AppError> {
    margin::set_category_margin(
        st.app(),
        &AppState::actor(&admin),
        smmd_app::catalog::CategoryRef::Id(id),
        b.min_margin_bp,
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// A service with held orders.
#[derive(Serialize, ToSchema)]
pub struct HeldServiceDto {
    service_id: i64,
    name: String,
    /// Selling rate per 1000 now, decimal string, panel currency.
    rate: String,
    orders: i64,
    /// What the held orders' customers paid, decimal string, panel currency.
    charged: String,
    /// When the oldest held order was placed, epoch ms.
    oldest_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct HeldList {
    items: Vec<HeldServiceDto>,
}

/// The services with orders held below cost plus margin, the most held first.
#[utoipa::path(get, path = "/api/admin/held", tag = "admin",
    responses((status = 200, body = HeldList)))]
pub async fn held(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<HeldList>, AppError> {
    let items = margin::held_services(st.app())
        .await?
        .into_iter()
        .map(|h| HeldServiceDto {
            service_id: h.service_id.0,
            name: h.name,
            rate: h.rate.to_string(),
            orders: h.orders,
            charged: h.charged.to_string(),
            oldest_at: h.oldest_at,
        })
        .collect();
    Ok(Json(HeldList { items }))
}

#[derive(Deserialize, ToSchema)]
pub struct HeldDecision {
    /// `release` (send them whatever the margin) or `refund` (cancel with a full refund).
    decision: String,
    /// 1 to 500 characters, on each order's note and the audit log.
    reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct HeldOutcome {
    /// Held orders released or refunded.
    orders: i64,
    /// Paid back to customers, decimal string, panel currency.
    refunded: String,
    /// Orders that changed meanwhile and were left alone.
    skipped: i64,
}

/// Releases or refunds every order of a service held below cost plus margin.
#[utoipa::path(post, path = "/api/admin/services/{id}/held", tag = "admin",
    params(("id" = i64, Path, description = "Service id")), request_body = HeldDecision,
    responses((status = 200, body = HeldOutcome)))]
pub async fn decide(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<HeldDecision>,
) -> Result<Json<HeldOutcome>, AppError> {
    let decision = HoldDecision::parse(&b.decision)?;
    let r = margin::decide_held(
        st.app(),
        &AppState::actor(&admin),
        ServiceId(id),
        decision,
        &b.reason,
    )
    .await?;
    Ok(Json(HeldOutcome {
        orders: r.orders,
        refunded: r.refunded.to_string(),
        skipped: r.skipped,
    }))
}
