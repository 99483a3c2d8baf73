//! Admin REST under `/api/admin` (admin session or an admin's API key): users (list, create,
//! credit/debit with a reason, role), services and categories (list, edit), orders (search,
//! resolve `needs_review`, refund, cancel, set partial — through the order state machine and
//! the ledger, with a reason), providers (list, test, balance, sync now, enable) and the audit
//! log. Every change is written to the audit log with the acting admin; balance changes are
//! idempotent on their `request_id`. Scheduler routes are in `http::jobs`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_domain::{Money, OrderId, ProviderId, ServiceId, UserId};
use smmd_store::{
    BalanceError, CancelOutcome, NewAudit, Order, OrderQuery, Role, Service, ServiceEdit, User,
};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::api::{account_dto, AccountDto};
use super::smm::{
    cancel_error, category_list, cursor, next_cursor, order_dto, status_filter, CategoryList,
    OrderDto,
};
use super::{clamp_limit, ApiPath, ApiQuery, JsonBody};
use crate::auth::{self, AdminUser};
use crate::error::AppError;
use crate::panel::{self, RegisterError};
use crate::providers::{self, AdminError, OrderAction, Resolution};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/admin/users", get(list_users).post(create_user))
        .route("/api/admin/users/{id}/balance", post(adjust_balance))
        .route("/api/admin/users/{id}/role", post(set_role))
        .route("/api/admin/services", get(list_services))
        .route("/api/admin/services/{id}", patch(edit_service))
        .route("/api/admin/categories", get(list_categories))
        .route("/api/admin/categories/{id}", patch(edit_category))
        .route("/api/admin/orders", get(list_orders))
        .route("/api/admin/orders/{id}/resolve", post(resolve_order))
        .route("/api/admin/orders/{id}/refund", post(refund_order))
        .route("/api/admin/orders/{id}/cancel", post(cancel_order))
        .route("/api/admin/orders/{id}/partial", post(set_partial))
        .route("/api/admin/providers", get(list_providers))
        .route("/api/admin/providers/{id}/test", post(test_provider))
        .route("/api/admin/providers/{id}/balance", post(check_balance))
        .route("/api/admin/providers/{id}/sync", post(sync_provider))
        .route("/api/admin/providers/{id}/enable", post(enable_provider))
        .route("/api/admin/audit", get(audit_log))
}

/// The admin part of the OpenAPI document (jobs are in `http::jobs`).
#[derive(OpenApi)]
#[openapi(
    paths(
        list_users,
        create_user,
        adjust_balance,
        set_role,
        list_services,
        edit_service,
        list_categories,
        edit_category,
        list_orders,
        resolve_order,
        refund_order,
        cancel_order,
        set_partial,
        list_providers,
        test_provider,
        check_balance,
        sync_provider,
        enable_provider,
        audit_log
    ),
    components(schemas(
        UserPage,
        CreateUser,
        CreatedUser,
        Adjust,
        LedgerEntryDto,
        RoleBody,
        AdminServiceDto,
        AdminServiceList,
        ServicePatch,
        CategoryPatch,
        AdminOrderDto,
        AdminOrderPage,
        Resolve,
        Reason,
        Partial,
        AdminCancelDto,
        ProviderDto,
        ProviderList,
        ProviderCheck,
        SyncReport,
        EnableBody,
        AuditDto,
        AuditPage
    ))
)]
pub struct AdminDoc;

/// Records an admin action; a failure to record is logged, never undoes the action.
pub(super) async fn audit(
    st: &AppState,
    admin: &User,
    action: &str,
    subject: String,
    detail: String,
) {
    let entry = NewAudit {
        actor_id: Some(admin.id),
        actor: admin.email.clone(),
        action: action.to_string(),
        subject,
        detail,
        now: st.clock.now_ms(),
    };
    if let Err(e) = st.store.record_audit(entry).await {
        tracing::error!(error = %e, action, "recording an audit entry failed");
    }
}

pub(super) fn reason_of(reason: &str) -> Result<&str, AppError> {
    let r = reason.trim();
    if r.is_empty() || r.len() > 500 {
        return Err(AppError::invalid(
            "reason_required",
            "Give a reason of 1 to 500 characters",
        ));
    }
    Ok(r)
}

// ---- users ----------------------------------------------------------------------------------

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
async fn list_users(
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
async fn create_user(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(body): JsonBody<CreateUser>,
) -> Result<(StatusCode, Json<CreatedUser>), AppError> {
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
    audit(
        &st,
        &admin,
        "user.create",
        format!("user:{}", user.id),
        format!("role {}", role.as_str()),
    )
    .await;
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
async fn adjust_balance(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<Adjust>,
) -> Result<Json<LedgerEntryDto>, AppError> {
    let amount = Money::parse(&body.amount)
        .map_err(|e| AppError::invalid("invalid_amount", e.to_string()))?;
    let reason = reason_of(&body.reason)?;
    let key = body.request_id.unwrap_or_else(|| auth::random_hex(16));
    let e = panel::adjust_balance(
        st.store.as_ref(),
        st.clock.as_ref(),
        Some(admin.id),
        UserId(id),
        amount,
        reason,
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
    let action = if amount.is_positive() {
        "user.credit"
    } else {
        "user.debit"
    };
    audit(
        &st,
        &admin,
        action,
        format!("user:{id}"),
        format!("{amount}: {reason}"),
    )
    .await;
    Ok(Json(LedgerEntryDto {
        id: e.id,
        user_id: e.user_id.0,
        amount: e.amount.to_string(),
        balance_after: e.balance_after.to_string(),
        kind: e.kind.as_str().to_string(),
        reason: e.reason,
        actor_id: e.actor_id.map(|a| a.0),
        created_at: e.created_at,
    }))
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
async fn set_role(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(body): JsonBody<RoleBody>,
) -> Result<Json<AccountDto>, AppError> {
    let role = Role::parse(&body.role)
        .ok_or_else(|| AppError::invalid("invalid_role", "Role is `user` or `admin`"))?;
    if admin.id.0 == id && role != Role::Admin {
        return Err(AppError::invalid(
            "invalid_role",
            "You cannot remove your own admin role",
        ));
    }
    let user = st
        .store
        .user(UserId(id))
        .await?
        .ok_or_else(|| AppError::not_found("User"))?;
    st.store.set_role(user.id, role).await?;
    st.api_keys.invalidate_user(user.id);
    audit(
        &st,
        &admin,
        "user.role",
        format!("user:{id}"),
        format!("{} -> {}", user.role.as_str(), role.as_str()),
    )
    .await;
    let user = st
        .store
        .user(UserId(id))
        .await?
        .ok_or_else(|| AppError::not_found("User"))?;
    Ok(Json(account_dto(&user, &st.config.panel.currency)))
}

// ---- services and categories ----------------------------------------------------------------

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
async fn list_services(
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
}

fn check_markup(bp: Option<i64>) -> Result<(), AppError> {
    if bp.is_some_and(|b| !(0..=100_000).contains(&b)) {
        return Err(AppError::invalid(
            "invalid_markup",
            "Markup is 0 to 100000 basis points",
        ));
    }
    Ok(())
}

/// Edits a service (validated as a whole: `min ≤ max`); logged in its change history.
#[utoipa::path(patch, path = "/api/admin/services/{id}", tag = "admin",
    params(("id" = i64, Path, description = "Service id")), request_body = ServicePatch,
    responses((status = 200, body = AdminServiceDto)))]
async fn edit_service(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(p): JsonBody<ServicePatch>,
) -> Result<Json<AdminServiceDto>, AppError> {
    let bad = |m: &str| AppError::invalid("invalid_service_edit", m.to_string());
    let current = st
        .store
        .service(ServiceId(id))
        .await?
        .ok_or_else(|| AppError::not_found("Service"))?;
    if let Some(n) = &p.name {
        if n.trim().is_empty() || n.chars().count() > 200 {
            return Err(bad("The name has 1 to 200 characters"));
        }
    }
    let rate = p
        .rate
        .as_deref()
        .map(Money::parse)
        .transpose()
        .map_err(|e| bad(&format!("rate: {e}")))?;
    if rate.is_some_and(|r| r.is_negative()) {
        return Err(bad("The rate cannot be negative"));
    }
    let (min, max) = (p.min.unwrap_or(current.min), p.max.unwrap_or(current.max));
    if min < 0 || max < 1 || min > max {
        return Err(bad("Need 0 <= min <= max and max >= 1"));
    }
    check_markup(p.markup_bp)?;
    let edit = ServiceEdit {
        name: p.name.map(|n| n.trim().to_string()),
        rate,
        min: p.min,
        max: p.max,
        enabled: p.enabled,
        markup_bp: if p.clear_markup {
            Some(None)
        } else {
            p.markup_bp.map(Some)
        },
        auto_refill: p.auto_refill,
    };
    let s = st
        .store
        .edit_service(
            ServiceId(id),
            edit,
            &format!("admin:{}", admin.email),
            st.clock.now_ms(),
        )
        .await?;
    st.catalog_changed();
    audit(
        &st,
        &admin,
        "service.edit",
        format!("service:{id}"),
        String::new(),
    )
    .await;
    Ok(Json(admin_service_dto(&s)))
}

/// Every category, with its markup.
#[utoipa::path(get, path = "/api/admin/categories", tag = "admin",
    responses((status = 200, body = CategoryList)))]
async fn list_categories(
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
async fn edit_category(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(p): JsonBody<CategoryPatch>,
) -> Result<Json<CategoryList>, AppError> {
    check_markup(p.markup_bp)?;
    let c = st
        .store
        .list_categories()
        .await?
        .into_iter()
        .find(|c| c.id.0 == id)
        .ok_or_else(|| AppError::not_found("Category"))?;
    st.store.set_category_markup(&c.name, p.markup_bp).await?;
    audit(
        &st,
        &admin,
        "category.markup",
        format!("category:{id}"),
        format!("{:?}", p.markup_bp),
    )
    .await;
    Ok(Json(category_list(&st, true).await?))
}

// ---- orders ---------------------------------------------------------------------------------

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
}

fn admin_order_dto(st: &AppState, o: &Order) -> AdminOrderDto {
    AdminOrderDto {
        order: order_dto(o, &st.config.panel.currency, false, st.clock.now_ms()),
        user_id: o.user_id.0,
        provider_id: o.provider_id.map(|p| p.0),
        provider_service_id: o.provider_service_id.clone(),
        provider_order_id: o.provider_order_id.clone(),
        provider_charge: o.provider_charge.map(|c| c.to_string()),
        offer_index: o.offer_index,
        note: o.note.clone(),
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
async fn list_orders(
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
        })
        .await?;
    Ok(Json(AdminOrderPage {
        next_cursor: next_cursor(list.len(), limit, list.last().map(|o| o.id.0)),
        items: list.iter().map(|o| admin_order_dto(&st, o)).collect(),
    }))
}

fn admin_error(e: AdminError) -> AppError {
    match e {
        AdminError::BadRemains(_) => AppError::invalid("invalid_remains", e.to_string()),
        AdminError::ReasonRequired => AppError::invalid("reason_required", e.to_string()),
        // The only free-text input of a review resolution.
        AdminError::Invalid(m) => AppError::invalid("invalid_provider_order_id", m),
        AdminError::NameTaken => AppError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
        AdminError::NoOrder => AppError::not_found("Order"),
        AdminError::NotInReview(..) => {
            AppError::new(StatusCode::CONFLICT, "not_in_review", e.to_string())
        }
        AdminError::NotAllowed(m) => AppError::new(StatusCode::CONFLICT, "invalid_transition", m),
        AdminError::Store(e) => e.into(),
    }
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
async fn resolve_order(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<Resolve>,
) -> Result<Json<AdminOrderDto>, AppError> {
    let reason = reason_of(&b.reason)?;
    let resolution = match b.action.as_str() {
        "attach" => Resolution::Attach {
            provider_order_id: b.provider_order_id.unwrap_or_default(),
        },
        "resend" => Resolution::Resend,
        "cancel" => Resolution::CancelAndRefund,
        _ => {
            return Err(AppError::invalid(
                "invalid_body",
                "action is `attach`, `resend` or `cancel`",
            ))
        }
    };
    let o = providers::resolve_review(
        st.store.as_ref(),
        st.clock.as_ref(),
        OrderId(id),
        resolution,
    )
    .await
    .map_err(admin_error)?;
    audit(
        &st,
        &admin,
        &format!("order.resolve.{}", b.action),
        format!("order:{id}"),
        reason.to_string(),
    )
    .await;
    Ok(Json(admin_order_dto(&st, &o)))
}

#[derive(Deserialize, ToSchema)]
pub struct Reason {
    /// 1 to 500 characters.
    reason: String,
}

/// Applies an admin order action with its reason and audits it.
async fn order_action(
    st: &AppState,
    admin: &User,
    id: i64,
    action: OrderAction,
    reason: &str,
) -> Result<Json<AdminOrderDto>, AppError> {
    let reason = reason_of(reason)?;
    let o = providers::act_on_order(
        st.store.as_ref(),
        st.clock.as_ref(),
        OrderId(id),
        action,
        reason,
    )
    .await
    .map_err(admin_error)?;
    let (name, detail) = match action {
        OrderAction::Refund => ("order.refund", reason.to_string()),
        OrderAction::SetPartial { remains } => {
            ("order.partial", format!("remains {remains}: {reason}"))
        }
    };
    audit(st, admin, name, format!("order:{id}"), detail).await;
    Ok(Json(admin_order_dto(st, &o)))
}

/// Cancels the order and refunds what was not refunded yet, whatever its state (except
/// canceled): the admin's "cancel and refund".
#[utoipa::path(post, path = "/api/admin/orders/{id}/refund", tag = "admin",
    params(("id" = i64, Path, description = "Order id")), request_body = Reason,
    responses((status = 200, body = AdminOrderDto)))]
async fn refund_order(
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
async fn cancel_order(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<Reason>,
) -> Result<Json<AdminCancelDto>, AppError> {
    let reason = reason_of(&b.reason)?;
    let o = st
        .store
        .order(OrderId(id))
        .await?
        .ok_or_else(|| AppError::not_found("Order"))?;
    let mut out = st
        .store
        .cancel_orders(o.user_id, &[o.id], st.clock.now_ms())
        .await?;
    let (_, result) = out
        .pop()
        .ok_or_else(|| AppError::internal("cancel returned nothing"))?;
    let (result, refunded) = match result.map_err(cancel_error)? {
        CancelOutcome::Canceled { refunded } => ("canceled", refunded),
        CancelOutcome::Requested => ("cancel_requested", Money::ZERO),
    };
    audit(
        &st,
        &admin,
        "order.cancel",
        format!("order:{id}"),
        reason.to_string(),
    )
    .await;
    let o = st
        .store
        .order(o.id)
        .await?
        .ok_or_else(|| AppError::not_found("Order"))?;
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
async fn set_partial(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<Partial>,
) -> Result<Json<AdminOrderDto>, AppError> {
    let action = OrderAction::SetPartial { remains: b.remains };
    order_action(&st, &admin, id, action, &b.reason).await
}

// ---- providers ------------------------------------------------------------------------------

/// A provider (its key is never shown).
#[derive(Serialize, ToSchema)]
pub struct ProviderDto {
    id: i64,
    name: String,
    url: String,
    currency: String,
    /// Panel currency per one provider currency unit, decimal string.
    exchange_rate: String,
    enabled: bool,
    /// Last balance read, provider currency, decimal string.
    balance: Option<String>,
    balance_checked_at: Option<i64>,
    balance_alert_below: Option<String>,
    timeout_ms: i64,
    max_concurrency: i64,
    rate_per_sec: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct ProviderList {
    items: Vec<ProviderDto>,
}

fn provider_dto(p: &smmd_store::Provider) -> ProviderDto {
    ProviderDto {
        id: p.id.0,
        name: p.name.clone(),
        url: p.url.clone(),
        currency: p.currency.clone(),
        exchange_rate: Money::from_micros(p.exchange_rate).to_string(),
        enabled: p.enabled,
        balance: p.balance.map(|b| b.to_string()),
        balance_checked_at: p.balance_checked_at,
        balance_alert_below: p.balance_alert_below.map(|b| b.to_string()),
        timeout_ms: p.timeout_ms,
        max_concurrency: p.max_concurrency,
        rate_per_sec: p.rate_per_sec,
    }
}

/// Every provider with its last balance.
#[utoipa::path(get, path = "/api/admin/providers", tag = "admin",
    responses((status = 200, body = ProviderList)))]
async fn list_providers(
    State(st): State<AppState>,
    _admin: AdminUser,
) -> Result<Json<ProviderList>, AppError> {
    let items = st
        .store
        .providers()
        .await?
        .iter()
        .map(provider_dto)
        .collect();
    Ok(Json(ProviderList { items }))
}

async fn provider_and_fulfil(
    st: &AppState,
    id: i64,
) -> Result<(smmd_store::Provider, &smmd_fulfil::Fulfil), AppError> {
    let p = st
        .store
        .provider(ProviderId(id))
        .await?
        .ok_or_else(|| AppError::not_found("Provider"))?;
    let f = st.fulfil.as_ref().ok_or_else(|| {
        AppError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "providers_unavailable",
            "Set security.secret_key to use providers",
        )
    })?;
    Ok((p, f))
}

fn provider_error(e: impl std::fmt::Display) -> AppError {
    AppError::new(StatusCode::BAD_GATEWAY, "provider_error", e.to_string())
}

/// A provider's live balance.
#[derive(Serialize, ToSchema)]
pub struct ProviderCheck {
    /// Decimal string, `currency`.
    balance: String,
    currency: String,
    /// Under the provider's alert threshold (only from `balance`, which records it).
    low: bool,
}

/// Calls the provider's `action=balance` and shows the answer; records nothing.
#[utoipa::path(post, path = "/api/admin/providers/{id}/test", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")),
    responses((status = 200, body = ProviderCheck)))]
async fn test_provider(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProviderCheck>, AppError> {
    let (p, f) = provider_and_fulfil(&st, id).await?;
    let b = f
        .clients
        .get(&p)
        .map_err(provider_error)?
        .balance()
        .await
        .map_err(provider_error)?;
    audit(
        &st,
        &admin,
        "provider.test",
        format!("provider:{id}"),
        String::new(),
    )
    .await;
    Ok(Json(ProviderCheck {
        balance: b.amount.to_string(),
        currency: b.currency.unwrap_or(p.currency),
        low: false,
    }))
}

/// Reads and records the provider's balance now (as `providers.check_balances` does, alert
/// included).
#[utoipa::path(post, path = "/api/admin/providers/{id}/balance", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")),
    responses((status = 200, body = ProviderCheck)))]
async fn check_balance(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ProviderCheck>, AppError> {
    use smmd_fulfil::balances::{check, CheckError};
    let (p, f) = provider_and_fulfil(&st, id).await?;
    let ((amount, currency), low) = check(f, &p).await.map_err(|e| match e {
        CheckError::Provider(m) => provider_error(m),
        CheckError::Store(e) => e.into(),
    })?;
    Ok(Json(ProviderCheck {
        balance: amount.to_string(),
        currency,
        low,
    }))
}

/// What a service sync did: counters such as `created`, `updated`, `disabled`, `unchanged`.
#[derive(Serialize, ToSchema)]
pub struct SyncReport {
    #[schema(value_type = Object)]
    counters: std::collections::BTreeMap<String, i64>,
}

/// Imports the provider's catalog now (`services.sync` for one provider: prices with markup,
/// admin overrides kept, a mass disable refused).
#[utoipa::path(post, path = "/api/admin/providers/{id}/sync", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")),
    responses((status = 200, body = SyncReport)))]
async fn sync_provider(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<SyncReport>, AppError> {
    use smmd_fulfil::catalog::SyncError;
    let (p, f) = provider_and_fulfil(&st, id).await?;
    let counters = smmd_fulfil::catalog::sync_provider(f, &p)
        .await
        .map_err(|e| match e {
            SyncError::Store(e) => e.into(),
            e @ SyncError::TooManyDisabled { .. } => {
                AppError::new(StatusCode::CONFLICT, "conflict", e.to_string())
            }
            e => provider_error(e),
        })?;
    st.catalog_changed();
    audit(
        &st,
        &admin,
        "provider.sync",
        format!("provider:{id}"),
        format!("{counters:?}"),
    )
    .await;
    Ok(Json(SyncReport { counters }))
}

#[derive(Deserialize, ToSchema)]
pub struct EnableBody {
    enabled: bool,
}

/// Enables or disables a provider (dispatch and sync skip disabled ones).
#[utoipa::path(post, path = "/api/admin/providers/{id}/enable", tag = "admin",
    params(("id" = i64, Path, description = "Provider id")), request_body = EnableBody,
    responses((status = 200, body = ProviderDto)))]
async fn enable_provider(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<EnableBody>,
) -> Result<Json<ProviderDto>, AppError> {
    st.store
        .set_provider_enabled(ProviderId(id), b.enabled, st.clock.now_ms())
        .await?;
    let action = if b.enabled {
        "provider.enable"
    } else {
        "provider.disable"
    };
    audit(&st, &admin, action, format!("provider:{id}"), String::new()).await;
    let p = st
        .store
        .provider(ProviderId(id))
        .await?
        .ok_or_else(|| AppError::not_found("Provider"))?;
    Ok(Json(provider_dto(&p)))
}

// ---- audit ----------------------------------------------------------------------------------

#[derive(Serialize, ToSchema)]
pub struct AuditDto {
    id: i64,
    actor_id: Option<i64>,
    /// The admin's e-mail at the time.
    actor: String,
    /// `user.credit`, `order.refund`, `service.edit`, …
    action: String,
    /// `user:7`, `order:42`, `service:3`, `provider:1`, …
    subject: String,
    detail: String,
    created_at: i64,
}

#[derive(Serialize, ToSchema)]
pub struct AuditPage {
    items: Vec<AuditDto>,
    /// Pass as `before` for the next page.
    next_before: Option<i64>,
}

/// Admin actions, newest first (scheduler edits are in each job's history).
#[utoipa::path(get, path = "/api/admin/audit", tag = "admin", params(super::api::Page),
    responses((status = 200, body = AuditPage)))]
async fn audit_log(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiQuery(page): ApiQuery<super::api::Page>,
) -> Result<Json<AuditPage>, AppError> {
    let limit = clamp_limit(page.limit, 50, 200);
    let list = st.store.audit_log(page.before, limit).await?;
    Ok(Json(AuditPage {
        next_before: next_cursor(list.len(), limit, list.last().map(|e| e.id))
            .and_then(|c| c.parse().ok()),
        items: list
            .into_iter()
            .map(|e| AuditDto {
                id: e.id,
                actor_id: e.actor_id.map(|a| a.0),
                actor: e.actor,
                action: e.action,
                subject: e.subject,
                detail: e.detail,
                created_at: e.created_at,
            })
            .collect(),
    }))
}
