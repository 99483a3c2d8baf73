//! Admin REST under `/api/admin` (admin session or an admin's API key): users and balance
//! adjustments with a reason. Every change is idempotent on its `request_id`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use smmd_domain::{Money, UserId};
use smmd_store::{BalanceError, Role};

use super::JsonBody;
use crate::auth::{self, AdminUser};
use crate::error::AppError;
use crate::http::api::user_json;
use crate::panel::{self, RegisterError};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/users", get(list_users).post(create_user))
        .route("/api/admin/users/{id}/balance", post(adjust_balance))
}

#[derive(Deserialize)]
struct UsersPage {
    after: Option<i64>,
    limit: Option<i64>,
}

async fn list_users(
    State(st): State<AppState>,
    _admin: AdminUser,
    page: Result<Query<UsersPage>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, AppError> {
    let Query(page) = page.map_err(|e| AppError::invalid("invalid_query", e.body_text()))?;
    let users = st
        .store
        .list_users(
            page.after.map(UserId),
            page.limit.unwrap_or(50).clamp(1, 200),
        )
        .await?;
    let currency = &st.config.panel.currency;
    Ok(Json(
        json!({ "items": users.iter().map(|u| user_json(u, currency)).collect::<Vec<_>>() }),
    ))
}

#[derive(Deserialize)]
struct CreateUser {
    email: String,
    password: String,
    #[serde(default)]
    admin: bool,
}

async fn create_user(
    State(st): State<AppState>,
    _admin: AdminUser,
    JsonBody(body): JsonBody<CreateUser>,
) -> Result<(StatusCode, Json<serde_json::Value>), AppError> {
    let role = if body.admin { Role::Admin } else { Role::User };
    let (user, key) = panel::register(
        st.store.as_ref(),
        st.clock.as_ref(),
        &body.email,
        &body.password,
        role,
    )
    .await
    .map_err(|e| match e {
        RegisterError::InvalidEmail => AppError::invalid("invalid_email", e.to_string()),
        RegisterError::WeakPassword => AppError::invalid("weak_password", e.to_string()),
        RegisterError::EmailTaken => {
            AppError::new(StatusCode::CONFLICT, "email_taken", e.to_string())
        }
        RegisterError::Store(e) => e.into(),
        RegisterError::Other(e) => AppError::internal(e),
    })?;
    let mut out = user_json(&user, &st.config.panel.currency);
    out["api_key"] = json!(key);
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Deserialize)]
struct Adjust {
    /// Decimal string, signed: `"10.00"` credits, `"-2.5"` debits.
    amount: String,
    reason: String,
    /// Makes the request idempotent; a random one is used when absent.
    request_id: Option<String>,
}

async fn adjust_balance(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<Adjust>,
) -> Result<Json<serde_json::Value>, AppError> {
    let amount = Money::parse(&body.amount)
        .map_err(|e| AppError::invalid("invalid_amount", e.to_string()))?;
    if body.reason.trim().is_empty() || body.reason.len() > 500 {
        return Err(AppError::invalid(
            "reason_required",
            "Give a reason of 1 to 500 characters",
        ));
    }
    let key = body.request_id.unwrap_or_else(|| auth::random_hex(16));
    let entry = panel::adjust_balance(
        st.store.as_ref(),
        st.clock.as_ref(),
        Some(admin.id),
        UserId(id),
        amount,
        &body.reason,
        &key,
    )
    .await
    .map_err(|e| match e {
        BalanceError::InsufficientFunds => AppError::invalid("insufficient_funds", e.to_string()),
        BalanceError::ZeroAmount => AppError::invalid("invalid_amount", e.to_string()),
        BalanceError::KeyReused => {
            AppError::new(StatusCode::CONFLICT, "request_id_reused", e.to_string())
        }
        BalanceError::UnknownUser => AppError::not_found("User"),
        BalanceError::Store(e) => e.into(),
    })?;
    Ok(Json(json!({ "entry": entry })))
}
