//! Admin orders: search every user's orders (archived too; `status=needs_review` is the review
//! queue) and act on one — resolve a review, cancel and refund, cancel as the customer would,
//! end as Partial — each through `smmd_app::review` with a reason, audited with the change.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use smmd_app::review::{self, OrderAction, Resolution};
use smmd_domain::{OrderId, ProviderId, ServiceId, UserId};
use smmd_store::{CancelOutcome, Order, OrderQuery, User};
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminUser;
use crate::error::{AppError, ErrorCode};
use crate::http::smm::{cursor, next_cursor, order_dto, status_filter, OrderDto};
use crate::http::{clamp_limit, ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

/// An order with what only admins see.
#[derive(Serialize, ToSchema)]
pub struct AdminOrderDto {
    #[serde(flatten)]
    order: OrderDto,
    user_id: i64,
    provider_id: Option<i64>,
    provider_service_id: Option<String>,
    provider_order_id: Option<String>,
    /// What the provider charged, its currency, decimal string.
    provider_charge: Option<String>,
    /// Which offer: 0 = the service's own provider, then the fallbacks.
    offer_index: i64,
    /// The last provider message, review reason or admin reason.
    note: Option<String>,
    /// Why the order last moved to another offer (offer failover): `provider_failing`,
    /// `provider_unavailable`, `out_of_funds`, `service_disabled`, `refused`, `below_margin`;
    /// absent if it never moved.
    route_reason: Option<&'static str>,
}

pub(crate) fn admin_order_dto(st: &AppState, o: &Order) -> AdminOrderDto {
    AdminOrderDto {
        order: order_dto(o, &st.config.panel.currency, false, st.clock.now_ms()),
        user_id: o.user_id.0,
        provider_id: o.provider_id.map(|p| p.0),
        provider_service_id: o.provider_service_id.clone(),
        provider_order_id: o.provider_order_id.clone(),
        provider_charge: o.provider_charge.map(|c| c.to_string()),
        offer_index: o.offer_index,
        note: o.note.clone(),
        route_reason: o.route_reason.map(|r| r.as_str()),
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdminOrderPage {
    items: Vec<AdminOrderDto>,
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AdminOrderFilters {
    /// `needs_review` gives the review queue.
    status: Option<String>,
    user: Option<i64>,
    service: Option<i64>,
    provider: Option<i64>,
    /// Case-insensitive text in the link.
    link: Option<String>,
    from: Option<i64>,
    to: Option<i64>,
    cursor: Option<String>,
    /// 1–500, default 50.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<i64>,
}

/// Every user's orders (archived ones included), newest first.
#[utoipa::path(get, path = "/api/admin/orders", tag = "admin", params(AdminOrderFilters),
    responses((status = 200, body = AdminOrderPage)))]
pub async fn list_orders(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiQuery(f): ApiQuery<AdminOrderFilters>,
) -> Result<Json<AdminOrderPage>, AppError> {
    let limit = clamp_limit(f.limit, 50, 500);
    let list = st
        .store
        .search_orders(&OrderQuery {
            user: f.user.map(UserId),
            status: status_filter(f.status.as_deref())?,
            service: f.service.map(ServiceId),
            provider: f.provider.map(ProviderId),
            link: f.link,
            created_from: f.from,
            created_to: f.to,
            before: cursor(f.cursor.as_deref())?.map(OrderId),
            limit,
            active: false,
        })
        .await?;
    Ok(Json(AdminOrderPage {
        next_cursor: next_cursor(list.len(), limit, list.last().map(|o| o.id.0)),
        items: list.iter().map(|o| admin_order_dto(&st, o)).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct Resolve {
    /// `attach` (the provider has it: give `provider_order_id`), `resend` (queue it again) or
    /// `cancel` (cancel and refund in full).
    action: String,
    provider_order_id: Option<String>,
    /// 1 to 500 characters, kept in the audit log.
    reason: String,
}

/// Resolves an order in `needs_review`.
#[utoipa::path(post, path = "/api/admin/orders/{id}/resolve", tag = "admin",
    params(("id" = i64, Path, description = "Order id")), request_body = Resolve,
    responses((status = 200, body = AdminOrderDto)))]
pub async fn resolve_order(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<Resolve>,
) -> Result<Json<AdminOrderDto>, AppError> {
    let resolution = Resolution::parse(&b.action, b.provider_order_id).ok_or_else(|| {
        AppError::new(
            ErrorCode::InvalidBody,
            "action is `attach`, `resend` or `cancel`",
        )
    })?;
    let o = review::resolve_review(
        st.app(),
        &AppState::actor(&admin),
        OrderId(id),
        resolution,
        &b.reason,
    )
    .await?;
    Ok(Json(admin_order_dto(&st, &o)))
}

#[derive(Deserialize, ToSchema)]
pub struct Reason {
    /// 1 to 500 characters.
    reason: String,
}

/// Applies an admin order action with its reason (audited with it).
async fn order_action(
    st: &AppState,
    admin: &User,
    id: i64,
    action: OrderAction,
    reason: &str,
) -> Result<Json<AdminOrderDto>, AppError> {
    let o = review::act_on_order(
        st.app(),
        &AppState::actor(admin),
        OrderId(id),
        action,
        reason,
    )
    .await?;
    Ok(Json(admin_order_dto(st, &o)))
}

/// Cancels the order and refunds what was not refunded yet, whatever its state (except
/// canceled): the admin's "cancel and refund".
#[utoipa::path(post, path = "/api/admin/orders/{id}/refund", tag = "admin",
    params(("id" = i64, Path, description = "Order id")), request_body = Reason,
    responses((status = 200, body = AdminOrderDto)))]
pub async fn refund_order(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<Reason>,
) -> Result<Json<AdminOrderDto>, AppError> {
    order_action(&st, &admin, id, OrderAction::Refund, &b.reason).await
}

#[derive(Serialize, ToSchema)]
pub struct AdminCancelDto {
    /// `canceled` (never sent: canceled and refunded now) or `cancel_requested` (the provider
    /// is asked; the refund follows its answer).
    result: &'static str,
    refunded: String,
    order: AdminOrderDto,
}

/// Cancels the order the way its owner would: at once if it was never sent, else by asking
/// the provider.
#[utoipa::path(post, path = "/api/admin/orders/{id}/cancel", tag = "admin",
    params(("id" = i64, Path, description = "Order id")), request_body = Reason,
    responses((status = 200, body = AdminCancelDto)))]
pub async fn cancel_order(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<Reason>,
) -> Result<Json<AdminCancelDto>, AppError> {
    let (outcome, refunded, o) =
        review::cancel_for_customer(st.app(), &AppState::actor(&admin), OrderId(id), &b.reason)
            .await?;
    let result = match outcome {
        CancelOutcome::Canceled { .. } => "canceled",
        CancelOutcome::Requested => "cancel_requested",
    };
    Ok(Json(AdminCancelDto {
        result,
        refunded: refunded.to_string(),
        order: admin_order_dto(&st, &o),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct Partial {
    /// Undelivered units, 0 to the order's total quantity.
    #[schema(minimum = 0)]
    remains: i64,
    reason: String,
}

/// Ends the order as Partial with `remains` undelivered and refunds that share of the charge.
#[utoipa::path(post, path = "/api/admin/orders/{id}/partial", tag = "admin",
    params(("id" = i64, Path, description = "Order id")), request_body = Partial,
    responses((status = 200, body = AdminOrderDto)))]
pub async fn set_partial(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<Partial>,
) -> Result<Json<AdminOrderDto>, AppError> {
    let action = OrderAction::SetPartial { remains: b.remains };
    order_action(&st, &admin, id, action, &b.reason).await
}
