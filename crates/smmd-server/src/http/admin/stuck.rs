//! Admin stuck-order ladder (issue 20): a service's and a category's "stuck after" and floor,
//! and the queue of active orders on the ladder with their steps and the counts per provider.
//! Each handler calls one `smmd_app::stuck` use case.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use smmd_app::stuck;
use smmd_domain::stuck::StuckOverride;
use smmd_domain::ServiceId;
use utoipa::ToSchema;

use super::orders::{admin_order_dto, AdminOrderDto};
use crate::auth::AdminUser;
use crate::error::AppError;
use crate::http::{ApiPath, JsonBody};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
pub struct StuckRuleBody {
    /// Stuck after this share of the service's average completion time, percent 100–10000;
    /// null = the next level's (category, then the panel's `fulfil.stuck_after_pct`).
    #[schema(minimum = 100, maximum = 10000)]
    after_pct: Option<i64>,
    /// Never stuck sooner than this after the order was due, minutes 1–129600; null = the next
    /// level's (category, then `fulfil.stuck_after_hours`).
    #[schema(minimum = 1, maximum = 129600)]
    floor_minutes: Option<i64>,
}

impl StuckRuleBody {
    fn rule(&self) -> StuckOverride {
        StuckOverride {
            after_pct: self.after_pct,
            floor_minutes: self.floor_minutes,
        }
    }
}

/// Sets a service's own "stuck after" and floor (audited as `service.stuck`).
#[utoipa::path(put, path = "/api/admin/services/{id}/stuck", tag = "admin",
    params(("id" = i64, Path, description = "Service id")), request_body = StuckRuleBody,
    responses((status = 204, description = "Saved")))]
pub async fn set_service_stuck(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<StuckRuleBody>,
) -> Result<axum::http::StatusCode, AppError> {
    stuck::set_service_stuck(st.app(), &AppState::actor(&admin), ServiceId(id), b.rule()).await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// Sets a category's own "stuck after" and floor (audited as `category.stuck`).
#[utoipa::path(put, path = "/api/admin/categories/{id}/stuck", tag = "admin",
    params(("id" = i64, Path, description = "Category id")), request_body = StuckRuleBody,
    responses((status = 204, description = "Saved")))]
pub async fn set_category_stuck(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<StuckRuleBody>,
) -> Result<axum::http::StatusCode, AppError> {
    stuck::set_category_stuck(
        st.app(),
        &AppState::actor(&admin),
        smmd_app::catalog::CategoryRef::Id(id),
        b.rule(),
    )
    .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}

/// One step an order took.
#[derive(Serialize, ToSchema)]
pub struct StuckStepDto {
    /// `refresh`, `speed_up`, `cancel` or `ticket`.
    step: String,
    /// Epoch ms.
    taken_at: i64,
    /// What came of it (the provider's answer, the ticket opened); empty while under way.
    detail: String,
}

/// An active order on the ladder.
#[derive(Serialize, ToSchema)]
pub struct StuckOrderDto {
    order: AdminOrderDto,
    provider_name: Option<String>,
    steps: Vec<StuckStepDto>,
}

/// Active orders on the ladder at one provider.
#[derive(Serialize, ToSchema)]
pub struct ProviderStuckDto {
    provider_id: i64,
    name: String,
    orders: i64,
}

#[derive(Serialize, ToSchema)]
pub struct StuckList {
    /// Oldest first, at most 500.
    items: Vec<StuckOrderDto>,
    /// The most first.
    per_provider: Vec<ProviderStuckDto>,
}

/// The active orders on the stuck-order ladder with every step taken, and the counts per
/// provider.
#[utoipa::path(get, path = "/api/admin/stuck", tag = "admin",
    responses((status = 200, body = StuckList)))]
pub async fn queue(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<StuckList>, AppError> {
    let q = stuck::queue(st.app()).await?;
    Ok(Json(StuckList {
        items: q
            .orders
            .iter()
            .map(|e| StuckOrderDto {
                order: admin_order_dto(&st, &e.order),
                provider_name: e.provider_name.clone(),
                steps: e
                    .steps
                    .iter()
                    .map(|s| StuckStepDto {
                        step: s.step.as_str().to_string(),
                        taken_at: s.taken_at,
                        detail: s.detail.clone(),
                    })
                    .collect(),
            })
            .collect(),
        per_provider: q
            .per_provider
            .into_iter()
            .map(|p| ProviderStuckDto {
                provider_id: p.provider_id.0,
                name: p.name,
                orders: p.orders,
            })
            .collect(),
    }))
}
