//! Admin users: list, create (with an API key shown once), credit or debit a balance with a
//! reason (idempotent on `request_id`), and change a role.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use smmd_app::{accounts, wallet};
use smmd_domain::UserId;
use smmd_store::Role;
use utoipa::{IntoParams, ToSchema};

use crate::auth::AdminUser;
use crate::error::AppError;
use crate::http::api::{account_dto, AccountDto};
use crate::http::smm::next_cursor;
use crate::http::{clamp_limit, ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct UserPage {
    items: Vec<AccountDto>,
    /// Pass as `after` for the next page.
    next_after: Option<i64>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsersQuery {
    /// Users with a larger id than this.
    after: Option<i64>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Users by id.
#[utoipa::path(get, path = "/api/admin/users", tag = "admin", params(UsersQuery),
    responses((status = 200, body = UserPage)))]
pub async fn list_users(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiQuery(q): ApiQuery<UsersQuery>,
) -> Result<Json<UserPage>, AppError> {
    let limit = clamp_limit(q.limit, 50, 200);
    let users = st.store.list_users(q.after.map(UserId), limit).await?;
    let currency = &st.config.panel.currency;
    Ok(Json(UserPage {
        next_after: next_cursor(users.len(), limit, users.last().map(|u| u.id.0))
            .and_then(|c| c.parse().ok()),
        items: users.iter().map(|u| account_dto(u, currency)).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
pub struct CreateUser {
    email: String,
    /// 8 to 1024 characters.
    password: String,
    #[serde(default)]
    admin: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedUser {
    user: AccountDto,
    /// The new user's API key, shown this once.
    api_key: String,
}

/// Creates an account (user or admin) with an API key.
#[utoipa::path(post, path = "/api/admin/users", tag = "admin", request_body = CreateUser,
    responses((status = 201, body = CreatedUser)))]
pub async fn create_user(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(body): JsonBody<CreateUser>,
) -> Result<(StatusCode, Json<CreatedUser>), AppError> {
    let role = if body.admin { Role::Admin } else { Role::User };
    let actor = AppState::actor(&admin);
    let (user, key) =
        accounts::register(st.app(), &body.email, &body.password, role, Some(&actor)).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user: account_dto(&user, &st.config.panel.currency),
            api_key: key,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
pub struct Adjust {
    /// Signed decimal string: `"10.00"` credits, `"-2.5"` debits. A debit never takes the
    /// balance below zero.
    amount: String,
    /// 1 to 500 characters, kept on the ledger row.
    reason: String,
    /// Makes the request idempotent; a random one is used when absent.
    request_id: Option<String>,
}

/// The ledger row a balance change wrote.
#[derive(Serialize, ToSchema)]
pub struct LedgerEntryDto {
    id: i64,
    user_id: i64,
    amount: String,
    balance_after: String,
    kind: String,
    reason: String,
    actor_id: Option<i64>,
    created_at: i64,
}

/// Credits or debits a user's balance with a reason (one ledger row, idempotent on
/// `request_id`).
#[utoipa::path(post, path = "/api/admin/users/{id}/balance", tag = "admin",
    params(("id" = i64, Path, description = "User id")), request_body = Adjust,
    responses((status = 200, body = LedgerEntryDto)))]
pub async fn adjust_balance(
    State(st): State<AppState>,
    crate::auth::AdminAuth(auth): crate::auth::AdminAuth,
    headers: axum::http::HeaderMap,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<Adjust>,
) -> Result<Json<LedgerEntryDto>, AppError> {
    auth.step_up(&st, crate::auth::code_header(&headers))
        .await?;
    let admin = &auth.user;
    let e = wallet::adjust_balance(
        st.app(),
        &AppState::actor(admin),
        UserId(id),
        &body.amount,
        &body.reason,
        body.request_id.as_deref(),
    )
    .await?;
    Ok(Json(ledger_dto(&e)))
}

/// The JSON view of a ledger row.
pub(crate) fn ledger_dto(e: &smmd_store::LedgerEntry) -> LedgerEntryDto {
    LedgerEntryDto {
        id: e.id,
        user_id: e.user_id.0,
        amount: e.amount.to_string(),
        balance_after: e.balance_after.to_string(),
        kind: e.kind.as_str().to_string(),
        reason: e.reason.clone(),
        actor_id: e.actor_id.map(|a| a.0),
        created_at: e.created_at,
    }
}

#[derive(Deserialize, ToSchema)]
pub struct RoleBody {
    /// `user` or `admin`.
    role: String,
}

/// Sets a user's role. An admin cannot demote themselves (so a panel always keeps one).
#[utoipa::path(post, path = "/api/admin/users/{id}/role", tag = "admin",
    params(("id" = i64, Path, description = "User id")), request_body = RoleBody,
    responses((status = 200, body = AccountDto)))]
pub async fn set_role(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<RoleBody>,
) -> Result<Json<AccountDto>, AppError> {
    let user =
        accounts::set_role(st.app(), &AppState::actor(&admin), UserId(id), &body.role).await?;
    st.api_keys.invalidate_user(user.id);
    Ok(Json(account_dto(&user, &st.config.panel.currency)))
}
