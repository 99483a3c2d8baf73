//! REST for the admin's view of customers (issue 18): search, one customer's detail (orders,
//! ledger, sessions, notes, custom rates), notes, ending sessions and custom rates. Use cases:
//! `smmd_app::people`. Disabling and enabling an account is `POST
//! /api/admin/users/{user_id}/block`.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use smmd_domain::custom_rate::{CustomPrice, CustomRate};
use smmd_domain::{ServiceId, UserId};
use smmd_store::{Role, UserQuery};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::users::{ledger_dto, LedgerEntryDto};
use crate::auth::AdminUser;
use crate::error::{AppError, ErrorCode};
use crate::http::api::{account_dto, AccountDto};
use crate::http::smm::{order_dto, OrderDto};
use crate::http::{clamp_limit, ApiPath, ApiQuery, JsonBody};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    paths(search_users, customer, add_note, end_sessions, set_rate),
    components(schemas(
        CustomerRow,
        CustomerPage,
        CustomerDto,
        SessionDto,
        NoteDto,
        NoteBody,
        RateDto,
        RateBody,
        RatesDto,
        Ended
    ))
)]
pub struct CustomersDoc;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// A substring of the e-mail (any case), or an account id (`42`, `#42`).
    #[param(max_length = 254)]
    q: Option<String>,
    /// `user` or `admin`.
    role: Option<String>,
    /// `true`: disabled accounts only; `false`: active ones only.
    blocked: Option<bool>,
    /// Accounts with a smaller id than this (the previous page's `next_before`).
    before: Option<i64>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// An account in the admin's search.
#[derive(Serialize, ToSchema)]
pub struct CustomerRow {
    account: AccountDto,
    /// Epoch ms it was disabled; null while active.
    blocked_at: Option<i64>,
    /// Orders ever placed.
    orders: i64,
    two_factor: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CustomerPage {
    items: Vec<CustomerRow>,
    /// Pass as `before` for the next page.
    next_before: Option<i64>,
}

fn row(s: &smmd_store::UserSummary, currency: &str) -> CustomerRow {
    CustomerRow {
        account: account_dto(&s.user, currency),
        blocked_at: s.blocked_at,
        orders: s.orders,
        two_factor: s.user.two_factor,
    }
}

/// Accounts by e-mail, id, role or state, newest first.
#[utoipa::path(get, path = "/api/admin/users/search", tag = "admin", params(SearchQuery),
    responses((status = 200, body = CustomerPage)))]
pub async fn search_users(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> Result<Json<CustomerPage>, AppError> {
    let role =
        match q.role.as_deref() {
            None | Some("") => None,
            Some(r) => Some(Role::parse(r).ok_or_else(|| {
                AppError::new(ErrorCode::InvalidQuery, "role is `user` or `admin`")
            })?),
        };
    let limit = clamp_limit(q.limit, 50, 200);
    let found = smmd_app::people::search(
        st.app(),
        &UserQuery {
            text: q.q.map(|t| t.chars().take(254).collect()),
            role,
            blocked: q.blocked,
            before: q.before.map(UserId),
            limit,
        },
    )
    .await?;
    let cur = &st.config.panel.currency;
    Ok(Json(CustomerPage {
        next_before: (found.len() as i64 == limit)
            .then(|| found.last().map(|s| s.user.id.0))
            .flatten(),
        items: found.iter().map(|s| row(s, cur)).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct SessionDto {
    created_at: i64,
    expires_at: i64,
    /// When it last passed a two-factor code.
    factor_at: Option<i64>,
    /// Still waiting for its two-factor code.
    pending_factor: bool,
}

#[derive(Serialize, ToSchema)]
pub struct NoteDto {
    id: i64,
    /// The admin who wrote it.
    author: String,
    body: String,
    created_at: i64,
}

/// A custom rate: for `service_id` (null: every service), a discount in basis points or a
/// fixed rate per 1000 (decimal string, panel currency).
#[derive(Serialize, ToSchema)]
pub struct RateDto {
    service_id: Option<i64>,
    discount_bp: Option<i64>,
    rate: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct RatesDto {
    items: Vec<RateDto>,
}

fn rates_dto(rates: &[CustomRate]) -> RatesDto {
    RatesDto {
        items: rates
            .iter()
            .map(|r| RateDto {
                service_id: r.service_id,
                discount_bp: match r.price {
                    CustomPrice::Discount(bp) => Some(bp),
                    CustomPrice::Fixed(_) => None,
                },
                rate: match r.price {
                    CustomPrice::Fixed(m) => Some(m.to_string()),
                    CustomPrice::Discount(_) => None,
                },
            })
            .collect(),
    }
}

/// One customer as the admin sees them.
#[derive(Serialize, ToSchema)]
pub struct CustomerDto {
    #[serde(flatten)]
    row: CustomerRow,
    /// The newest 20 orders.
    orders_recent: Vec<OrderDto>,
    /// The newest 20 ledger rows.
    ledger: Vec<LedgerEntryDto>,
    /// Live sessions.
    sessions: Vec<SessionDto>,
    /// Admins' notes, newest first (the customer never sees them).
    notes: Vec<NoteDto>,
    rates: RatesDto,
}

fn note_dto(n: &smmd_store::UserNote) -> NoteDto {
    NoteDto {
        id: n.id,
        author: n.author.clone(),
        body: n.body.clone(),
        created_at: n.created_at,
    }
}

/// One customer's detail.
#[utoipa::path(get, path = "/api/admin/users/{id}", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = CustomerDto)))]
pub async fn customer(
    State(st): State<AppState>,
    _admin: AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CustomerDto>, AppError> {
    let d = smmd_app::people::customer(st.app(), UserId(id)).await?;
    let cur = &st.config.panel.currency;
    let now = st.clock.now_ms();
    Ok(Json(CustomerDto {
        row: row(&d.summary, cur),
        orders_recent: d
            .orders
            .iter()
            .map(|o| order_dto(o, cur, false, now))
            .collect(),
        ledger: d.ledger.iter().map(ledger_dto).collect(),
        sessions: d
            .sessions
            .iter()
            .map(|s| SessionDto {
                created_at: s.created_at,
                expires_at: s.expires_at,
                factor_at: s.factor_at,
                pending_factor: s.pending_factor,
            })
            .collect(),
        notes: d.notes.iter().map(note_dto).collect(),
        rates: rates_dto(&d.rates),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// 1 to 2000 characters.
    body: String,
}

/// Writes an admin's note about a customer. 422 `invalid_note`.
#[utoipa::path(post, path = "/api/admin/users/{id}/notes", tag = "admin",
    params(("id" = i64, Path, description = "User id")), request_body = NoteBody,
    responses((status = 200, body = NoteDto)))]
pub async fn add_note(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<NoteBody>,
) -> Result<Json<NoteDto>, AppError> {
    let n =
        smmd_app::people::add_note(st.app(), &AppState::actor(&admin), UserId(id), &b.body).await?;
    Ok(Json(note_dto(&n)))
}

#[derive(Serialize, ToSchema)]
pub struct Ended {
    /// Sessions ended.
    ended: u64,
}

/// Ends every session of a customer (audited `user.sessions_end`).
#[utoipa::path(post, path = "/api/admin/users/{id}/sessions/end", tag = "admin",
    params(("id" = i64, Path, description = "User id")),
    responses((status = 200, body = Ended)))]
pub async fn end_sessions(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Ended>, AppError> {
    let ended =
        smmd_app::people::end_sessions(st.app(), &AppState::actor(&admin), UserId(id)).await?;
    Ok(Json(Ended { ended }))
}

/// Sets or removes a custom rate. Both `discount_percent` and `rate` empty or absent removes
/// the rate of `service_id` (or of every service).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateBody {
    /// The service; absent or null: every service (discounts only).
    service_id: Option<i64>,
    /// A discount in percent, up to two decimals (`"12.5"`).
    #[schema(max_length = 20)]
    discount_percent: Option<String>,
    /// A fixed rate per 1000 (decimal string, panel currency), for one service.
    #[schema(max_length = 30)]
    rate: Option<String>,
}

/// Sets or removes a customer's custom rate (audited `user.rate`); the customer's rates after
/// it. Every price the customer sees and pays follows at once (`/api/v2` `services` included).
/// 422 `invalid_custom_rate`, 404 for no such customer or service.
#[utoipa::path(put, path = "/api/admin/users/{id}/rates", tag = "admin",
    params(("id" = i64, Path, description = "User id")), request_body = RateBody,
    responses((status = 200, body = RatesDto)))]
pub async fn set_rate(
    State(st): State<AppState>,
    AdminUser(admin): AdminUser,
    ApiPath(id): ApiPath<i64>,
    JsonBody(b): JsonBody<RateBody>,
) -> Result<Json<RatesDto>, AppError> {
    let price = smmd_app::people::parse_price(b.discount_percent.as_deref(), b.rate.as_deref())
        .map_err(|r| AppError::new(r.code, r.message))?;
    let rates = smmd_app::people::set_custom_rate(
        st.app(),
        &AppState::actor(&admin),
        UserId(id),
        b.service_id.map(ServiceId),
        price,
    )
    .await?;
    Ok(Json(rates_dto(&rates)))
}
