//! Admin service offers (issue 20, offer failover): list a service's offers in dispatch order,
//! add a fallback provider, remove one. Each handler calls one `smmd_app::offers` use case.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use smmd_app::offers;
use smmd_domain::{ProviderId, ServiceId};
use utoipa::ToSchema;

use crate::auth::AdminUser;
use crate::error::AppError;
use crate::http::{ApiPath, JsonBody};
use crate::state::AppState;

/// One offer of a service.
#[derive(Serialize, ToSchema)]
pub struct OfferDto {
    /// 0 = the service's own provider, then the fallbacks in dispatch order.
    index: i64,
    provider_id: i64,
    provider_name: String,
    /// The provider's id for the service (API v2 `service`).
    provider_service_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct OfferList {
    items: Vec<OfferDto>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewOffer {
    provider_id: i64,
    /// 1–100 characters.
    provider_service_id: String,
}

/// A service's offers in dispatch order.
#[utoipa::path(get, path = "/api/admin/services/{id}/offers", tag = "admin",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = OfferList), (status = 404, description = "No such service")))]
pub async fn list_offers(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<OfferList>, AppError> {
    offer_list(&st, id).await
}

async fn offer_list(st: &AppState, id: i64) -> Result<Json<OfferList>, AppError> {
    let items = offers::list(st.app(), ServiceId(id))
        .await?
        .into_iter()
        .map(|o| OfferDto {
            index: o.index,
            provider_id: o.provider_id.0,
            provider_name: o.provider_name,
            provider_service_id: o.provider_service_id,
        })
        .collect();
    Ok(Json(OfferList { items }))
}

/// Adds a fallback offer (audited as `service.offer_add`); answers the service's offers.
#[utoipa::path(post, path = "/api/admin/services/{id}/offers", tag = "admin",
    params(("id" = i64, Path, description = "Service id")), request_body = NewOffer,
    responses((status = 200, body = OfferList), (status = 422, description = "invalid_offer")))]
pub async fn add_offer(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<NewOffer>,
) -> Result<Json<OfferList>, AppError> {
    offers::add(
        st.app(),
        &AppState::actor(&admin),
        ServiceId(id),
        ProviderId(b.provider_id),
        &b.provider_service_id,
    )
    .await?;
    offer_list(&st, id).await
}

/// Removes fallback offer `index` (audited as `service.offer_remove`); answers the service's
/// offers.
#[utoipa::path(delete, path = "/api/admin/services/{id}/offers/{index}", tag = "admin",
    params(("id" = i64, Path, description = "Service id"), ("index" = i64, Path, description = "Offer index (not the service's own, 0)")),
    responses((status = 200, body = OfferList), (status = 404, description = "No such offer"),
        (status = 422, description = "invalid_offer: offer 0 is the service's own provider")))]
pub async fn remove_offer(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath((id, index)): ApiPath<(i64, i64)>,
) -> Result<Json<OfferList>, AppError> {
    offers::remove(st.app(), &AppState::actor(&admin), ServiceId(id), index).await?;
    offer_list(&st, id).await
}
