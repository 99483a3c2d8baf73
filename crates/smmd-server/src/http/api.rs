//! REST for signed-in users (session cookie or Bearer API key): log-in and log-out, the account
//! with its balance, the ledger, and API key rotation.

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::json;
use smmd_store::{LedgerEntry, User};

use super::JsonBody;
use crate::auth::{self, AuthUser, SESSION_COOKIE};
use crate::error::AppError;
use crate::panel;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/account", get(account))
        .route("/api/account/transactions", get(transactions))
        .route("/api/account/api-key", post(rotate_key))
}

#[derive(Deserialize)]
struct Login {
    email: String,
    password: String,
}

/// The JSON view of an account.
pub fn user_json(u: &User, currency: &str) -> serde_json::Value {
    json!({ "id": u.id, "email": u.email, "role": u.role, "balance": u.balance, "currency": currency })
}

/// Checks the password and opens a session: sets the `HttpOnly; SameSite=Lax` cookie and returns
/// the CSRF token the client must echo in `X-CSRF-Token` on state-changing requests.
async fn login(
    State(st): State<AppState>,
    JsonBody(body): JsonBody<Login>,
) -> Result<Response, AppError> {
    let creds = st.store.user_credentials(&body.email).await?;
    let user = match creds {
        Some(c) if auth::verify_password(&body.password, &c.password_hash) => c.user,
        _ => {
            return Err(AppError::new(
                StatusCode::UNAUTHORIZED,
                "invalid_credentials",
                "Wrong e-mail or password",
            ))
        }
    };
    let (cookie, csrf) = open_session(&st, &user).await?;
    let mut resp =
        Json(json!({ "user": user_json(&user, &st.config.panel.currency), "csrf_token": csrf }))
            .into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

/// Creates a session row and the `Set-Cookie` header for it; returns (cookie header, CSRF token).
pub async fn open_session(
    st: &AppState,
    user: &User,
) -> Result<(header::HeaderValue, String), AppError> {
    let token = auth::random_hex(32);
    let csrf = auth::random_hex(16);
    let now = st.clock.now_ms();
    let hours = st.config.security.session_hours;
    st.store
        .create_session(
            &auth::token_hash(&token),
            user.id,
            &csrf,
            now,
            now + hours * 3_600_000,
        )
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}",
        hours * 3600
    );
    let value = header::HeaderValue::from_str(&cookie).map_err(AppError::internal)?;
    Ok((value, csrf))
}

async fn logout(
    State(st): State<AppState>,
    _user: AuthUser,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if let Some(token) = auth::session_cookie(&headers) {
        st.store.delete_session(&auth::token_hash(&token)).await?;
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let clear = header::HeaderValue::from_static(
        "smmd_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0",
    );
    resp.headers_mut().insert(header::SET_COOKIE, clear);
    Ok(resp)
}

async fn account(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Json<serde_json::Value> {
    Json(user_json(&user, &st.config.panel.currency))
}

/// Paging of newest-first lists: `limit` (1–200, default 50) items strictly before `before`.
#[derive(Deserialize)]
pub struct Page {
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

async fn transactions(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    page: Result<Query<Page>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<serde_json::Value>, AppError> {
    let Query(page) = page.map_err(|e| AppError::invalid("invalid_query", e.body_text()))?;
    let limit = page.limit.unwrap_or(50).clamp(1, 200);
    let entries: Vec<LedgerEntry> = st.store.ledger(user.id, page.before, limit).await?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(json!({ "items": entries, "next_before": next })))
}

async fn rotate_key(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
) -> Result<Json<serde_json::Value>, AppError> {
    let key = panel::rotate_api_key(st.store.as_ref(), user.id).await?;
    st.api_keys.invalidate_user(user.id);
    Ok(Json(json!({ "api_key": key })))
}
