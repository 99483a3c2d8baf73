//! REST for signed-in users (session cookie or Bearer API key): log-in and log-out, the account
//! with its balance, the ledger, and API key rotation.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;
use smmd_store::{LedgerEntry, User};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{clamp_limit, ApiQuery, JsonBody};
use crate::auth::{self, AuthUser};
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/auth/login", post(login))
        .route("/api/auth/logout", post(logout))
        .route("/api/account", get(account))
        .route("/api/account/transactions", get(transactions))
        .route("/api/account/api-key", post(rotate_key))
}

/// The account part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(login, logout, account, transactions, rotate_key),
    components(schemas(Login, LoginDto, AccountDto, LedgerDto, LedgerPage, ApiKeyDto))
)]
pub struct AccountDoc;

#[derive(Deserialize, ToSchema)]
pub struct Login {
    email: String,
    password: String,
}

/// An account and its balance.
#[derive(Serialize, ToSchema)]
pub struct AccountDto {
    id: i64,
    email: String,
    /// `user` or `admin`.
    role: String,
    /// Decimal string in `currency`.
    balance: String,
    currency: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginDto {
    user: AccountDto,
    /// Echo in `X-CSRF-Token` on every cookie-authenticated write.
    csrf_token: String,
}

/// One ledger row: a signed amount and the balance after it.
#[derive(Serialize, ToSchema)]
pub struct LedgerDto {
    id: i64,
    /// Signed decimal string: credits > 0, debits < 0.
    amount: String,
    balance_after: String,
    /// `deposit`, `adjustment`, `charge` or `refund`.
    kind: String,
    reason: String,
    /// The order it pays for, if any (API v2 id).
    order_id: Option<i64>,
    created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct LedgerPage {
    items: Vec<LedgerDto>,
    /// Pass as `before` for the next page; absent on the last page.
    next_before: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiKeyDto {
    /// The new key, shown this once.
    api_key: String,
}

pub fn account_dto(u: &User, currency: &str) -> AccountDto {
    AccountDto {
        id: u.id.0,
        email: u.email.clone(),
        role: u.role.as_str().to_string(),
        balance: u.balance.to_string(),
        currency: currency.to_string(),
    }
}

/// The JSON view of an account.
pub fn user_json(u: &User, currency: &str) -> serde_json::Value {
    json!({ "id": u.id, "email": u.email, "role": u.role, "balance": u.balance, "currency": currency })
}

/// Checks the password and opens a session: sets the `HttpOnly; SameSite=Lax` cookie and returns
/// the CSRF token the client must echo in `X-CSRF-Token` on state-changing requests.
#[utoipa::path(post, path = "/api/auth/login", tag = "account", request_body = Login,
    responses((status = 200, body = LoginDto, description = "Logged in; the session cookie is set"),
        (status = 401, body = crate::error::ErrorBody, description = "`invalid_credentials`"),
        (status = 429, body = crate::error::ErrorBody, description = "`too_many_attempts`: per client address 20 attempts then one every 3 s, and per address and account 10 then one every 6 s; see `Retry-After`",
            headers(("Retry-After" = u64, description = "Seconds to wait")))))]
async fn login(
    State(st): State<AppState>,
    auth::ClientAddr(client): auth::ClientAddr,
    headers: axum::http::HeaderMap,
    JsonBody(body): JsonBody<Login>,
) -> Result<Response, AppError> {
    let device = auth::known_device(&headers);
    let user = match auth::check_login(&st, client, device.as_deref(), &body.email, &body.password)
        .await
    {
        Ok(u) => u,
        Err(auth::LoginError::Wrong) => {
            return Err(AppError::new(
                ErrorCode::InvalidCredentials,
                "Wrong e-mail or password",
            ))
        }
        Err(auth::LoginError::TooMany(secs)) => {
            let mut resp = AppError::new(
                ErrorCode::TooManyAttempts,
                format!("Too many log-in attempts from this client; try again in {secs} s"),
            )
            .into_response();
            resp.headers_mut().insert(header::RETRY_AFTER, secs.into());
            return Ok(resp);
        }
        Err(auth::LoginError::Store(e)) => return Err(e.into()),
    };
    let (cookie, csrf) = auth::open_session(&st, &user).await?;
    let mut resp = Json(LoginDto {
        user: account_dto(&user, &st.config.panel.currency),
        csrf_token: csrf,
    })
    .into_response();
    resp.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(resp)
}

/// Ends the session of the cookie (a Bearer call ends nothing).
#[utoipa::path(post, path = "/api/auth/logout", tag = "account", responses((status = 204, description = "Logged out")))]
async fn logout(
    State(st): State<AppState>,
    _user: AuthUser,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    auth::end_session(&st, &headers).await?;
    let mut resp = StatusCode::NO_CONTENT.into_response();
    let clear = auth::clear_session_cookie(&st);
    resp.headers_mut().insert(header::SET_COOKIE, clear);
    Ok(resp)
}

/// The caller's account and balance.
#[utoipa::path(get, path = "/api/account", tag = "account", responses((status = 200, body = AccountDto)))]
async fn account(State(st): State<AppState>, AuthUser { user, .. }: AuthUser) -> Json<AccountDto> {
    Json(account_dto(&user, &st.config.panel.currency))
}

/// Paging of newest-first lists: `limit` (1–200, default 50) items strictly before `before`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Page {
    /// `next_before` of the previous page.
    pub before: Option<i64>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
}

/// The caller's ledger (deposits, charges, refunds, adjustments), newest first.
#[utoipa::path(get, path = "/api/account/transactions", tag = "account", params(Page),
    responses((status = 200, body = LedgerPage)))]
async fn transactions(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiQuery(page): ApiQuery<Page>,
) -> Result<Json<LedgerPage>, AppError> {
    let limit = clamp_limit(page.limit, 50, 200);
    let entries: Vec<LedgerEntry> = st.store.ledger(user.id, page.before, limit).await?;
    let next = (entries.len() as i64 == limit)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(LedgerPage {
        items: entries
            .iter()
            .map(|e| LedgerDto {
                id: e.id,
                amount: e.amount.to_string(),
                balance_after: e.balance_after.to_string(),
                kind: e.kind.as_str().to_string(),
                reason: e.reason.clone(),
                order_id: e.order_id.map(|o| o.0),
                created_at: e.created_at,
            })
            .collect(),
        next_before: next,
    }))
}

/// Replaces the caller's API key; the old one stops working at once on this instance (within
/// 10 s on others).
#[utoipa::path(post, path = "/api/account/api-key", tag = "account", responses((status = 200, body = ApiKeyDto)))]
async fn rotate_key(
    State(st): State<AppState>,
    auth: AuthUser,
    headers: axum::http::HeaderMap,
) -> Result<Json<ApiKeyDto>, AppError> {
    auth.step_up(&st, crate::auth::code_header(&headers))
        .await?;
    let user = &auth.user;
    let key = smmd_app::accounts::rotate_api_key(st.app(), user.id).await?;
    st.api_keys.invalidate_user(user.id);
    Ok(Json(ApiKeyDto { api_key: key }))
}
