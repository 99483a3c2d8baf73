//! REST for manual payments: a user asks for funds they paid outside the panel
//! (`/api/account/payments`), an admin approves — crediting the wallet through the ledger once —
//! or rejects, with a reason (`/api/admin/payments`). Decisions go to the audit log.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_store::PaymentRequest;
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{ApiPath, ApiQuery, JsonBody};
use crate::auth::{AdminUser, AuthUser};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/account/payments",
            get(my_payments).post(request_payment),
        )
        .route("/api/admin/payments", get(list_payments))
        .route("/api/admin/payments/{id}/approve", post(approve_payment))
        .route("/api/admin/payments/{id}/reject", post(reject_payment))
}

#[derive(OpenApi)]
#[openapi(
    paths(
        my_payments,
        request_payment,
        list_payments,
        approve_payment,
        reject_payment
    ),
    components(schemas(PaymentDto, PaymentBody, DecisionBody))
)]
pub struct PaymentsDoc;

/// A payment request.
#[derive(Serialize, ToSchema)]
pub struct PaymentDto {
    id: i64,
    user_id: i64,
    /// Decimal string in `currency`.
    amount: String,
    currency: String,
    method: String,
    note: String,
    /// `pending`, `approved` or `rejected`.
    status: String,
    reason: String,
    created_at: i64,
    decided_at: Option<i64>,
}

pub fn payment_dto(p: &PaymentRequest, currency: &str) -> PaymentDto {
    PaymentDto {
        id: p.id,
        user_id: p.user_id.0,
        amount: p.amount.to_string(),
        currency: currency.to_string(),
        method: p.method.clone(),
        note: p.note.clone(),
        status: p.status.clone(),
        reason: p.reason.clone(),
        created_at: p.created_at,
        decided_at: p.decided_at,
    }
}

#[derive(Deserialize, ToSchema)]
pub struct PaymentBody {
    /// Decimal string in the panel currency, within `[payments]` min–max.
    amount: String,
    /// One of the panel's payment methods.
    method: String,
    /// Your payment reference (at most 200 characters).
    #[serde(default)]
    note: String,
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    /// Why (1–500 characters); kept on the request and in the audit log.
    reason: String,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PaymentFilter {
    /// `pending`, `approved` or `rejected`.
    status: Option<String>,
}

/// The caller's payment requests, newest first (100).
#[utoipa::path(get, path = "/api/account/payments", tag = "account",
    responses((status = 200, body = Vec<PaymentDto>)))]
async fn my_payments(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<Vec<PaymentDto>>, AppError> {
    let list = st.store.payment_requests(Some(user.id), None, 100).await?;
    let cur = &st.config.panel.currency;
    Ok(Json(list.iter().map(|p| payment_dto(p, cur)).collect()))
}

/// Asks to have funds added for a payment made outside the panel; an admin confirms it.
#[utoipa::path(post, path = "/api/account/payments", tag = "account", request_body = PaymentBody,
    responses((status = 201, body = PaymentDto)))]
async fn request_payment(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    JsonBody(body): JsonBody<PaymentBody>,
) -> Result<(StatusCode, Json<PaymentDto>), AppError> {
    let p = smmd_app::wallet::request_payment(
        st.app(),
        st.config.payments.terms(),
        user.id,
        &body.amount,
        &body.method,
        &body.note,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(payment_dto(&p, &st.config.panel.currency)),
    ))
}

/// Payment requests of every user, newest first (200), optionally by status.
#[utoipa::path(get, path = "/api/admin/payments", tag = "admin", params(PaymentFilter),
    responses((status = 200, body = Vec<PaymentDto>)))]
async fn list_payments(
    State(st): State<AppState>,
    AdminUser(_admin): AdminUser,
    ApiQuery(f): ApiQuery<PaymentFilter>,
) -> Result<Json<Vec<PaymentDto>>, AppError> {
    let status = match f.status.as_deref() {
        None | Some("") => None,
        Some(s @ ("pending" | "approved" | "rejected")) => Some(s),
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::InvalidQuery,
                "status is pending, approved or rejected",
            ))
        }
    };
    let list = st.store.payment_requests(None, status, 200).await?;
    let cur = &st.config.panel.currency;
    Ok(Json(list.iter().map(|p| payment_dto(p, cur)).collect()))
}

async fn decide(
    st: &AppState,
    admin: &smmd_store::User,
    id: i64,
    approve: bool,
    reason: &str,
) -> Result<PaymentDto, AppError> {
    let p =
        smmd_app::wallet::decide_payment(st.app(), &AppState::actor(admin), id, approve, reason)
            .await?;
    Ok(payment_dto(&p, &st.config.panel.currency))
}

/// Approves a pending request: credits its amount to the user (ledger key `payment:<id>`) in
/// the same transaction; 409 `already_decided` if it was decided before.
#[utoipa::path(post, path = "/api/admin/payments/{id}/approve", tag = "admin",
    params(("id" = i64, Path)), request_body = DecisionBody, responses((status = 200, body = PaymentDto)))]
async fn approve_payment(
    State(st): State<AppState>,
    crate::auth::AdminAuth(auth): crate::auth::AdminAuth,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<PaymentDto>, AppError> {
    auth.step_up(&st, crate::auth::code_header(&headers))
        .await?;
    decide(&st, &auth.user, id, true, &body.reason)
        .await
        .map(Json)
}

/// Rejects a pending request; nothing is credited.
#[utoipa::path(post, path = "/api/admin/payments/{id}/reject", tag = "admin",
    params(("id" = i64, Path)), request_body = DecisionBody, responses((status = 200, body = PaymentDto)))]
async fn reject_payment(
    State(st): State<AppState>,
    crate::auth::AdminAuth(auth): crate::auth::AdminAuth,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<DecisionBody>,
) -> Result<Json<PaymentDto>, AppError> {
    auth.step_up(&st, crate::auth::code_header(&headers))
        .await?;
    decide(&st, &auth.user, id, false, &body.reason)
        .await
        .map(Json)
}
