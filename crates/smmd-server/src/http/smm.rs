//! The panel's REST API for apps and scripts under `/api/smm` (session cookie with `X-CSRF-Token`
//! on writes, or `Authorization: Bearer <api key>`): the catalog with filters, placing an order
//! (the same domain placement as API v2, idempotent on `Idempotency-Key`), the user's orders by
//! public reference with their timeline, cancel, refill, and refills. A user only ever sees their
//! own orders and refills: another user's reference is a 404, exactly like an unknown one.
//!
//! Money is a decimal string in the panel currency (`"0.090000"` style, exact micro-units); times
//! are epoch milliseconds (UTC). The shapes are the OpenAPI document's (`GET /api/openapi.json`).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use smmd_app::orders;
use smmd_domain::order::{EventKind, OrderStatus};
use smmd_domain::service::{platform_of, OrderInput, ServiceType, PLATFORMS};
use smmd_domain::{OrderId, RefillId};
use smmd_store::{CancelOutcome, Order, OrderQuery, Refill, RefillQuery, Service};
use utoipa::{IntoParams, OpenApi, ToSchema};

use super::{clamp_limit, ApiPath, ApiQuery, JsonBody};
use crate::auth::AuthUser;
use crate::error::{AppError, ErrorCode};
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/smm/categories", get(categories))
        .route("/api/smm/services", get(services))
        .route("/api/smm/services/{id}", get(service))
        .route("/api/smm/orders", get(orders).post(create_order))
        .route("/api/smm/orders/{reference}", get(order))
        .route("/api/smm/orders/{reference}/cancel", post(cancel))
        .route("/api/smm/orders/{reference}/refill", post(refill))
        .route("/api/smm/refills", get(refills))
}

/// The user part of the OpenAPI document.
#[derive(OpenApi)]
#[openapi(
    paths(
        categories,
        services,
        service,
        create_order,
        orders,
        order,
        cancel,
        refill,
        refills
    ),
    components(schemas(
        CategoryDto,
        CategoryList,
        ServiceDto,
        ServicePage,
        NewOrder,
        OrderDto,
        OrderPage,
        OrderDetail,
        TimelineEvent,
        CancelDto,
        RefillDto,
        RefillPage
    ))
)]
pub struct SmmDoc;

// ---- catalog --------------------------------------------------------------------------------

/// A category with the number of enabled services in it.
#[derive(Serialize, ToSchema)]
pub struct CategoryDto {
    id: i64,
    name: String,
    services: i64,
    /// Markup of its services in basis points (admins only; absent = the panel default).
    #[serde(skip_serializing_if = "Option::is_none")]
    markup_bp: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct CategoryList {
    items: Vec<CategoryDto>,
}

/// The categories: for customers those with an enabled service and without markup; for
/// admins all of them with their markup.
pub async fn category_list(st: &AppState, admin: bool) -> Result<CategoryList, AppError> {
    let items = st
        .store
        .list_categories()
        .await?
        .into_iter()
        .filter(|c| admin || c.services > 0)
        .map(|c| CategoryDto {
            id: c.id.0,
            name: c.name,
            services: c.services,
            markup_bp: c.markup_bp.filter(|_| admin),
        })
        .collect();
    Ok(CategoryList { items })
}

/// Categories that hold at least one enabled service, in catalog order.
#[utoipa::path(get, path = "/api/smm/categories", tag = "catalog",
    responses((status = 200, body = CategoryList)))]
async fn categories(
    State(st): State<AppState>,
    _u: AuthUser,
) -> Result<Json<CategoryList>, AppError> {
    Ok(Json(category_list(&st, false).await?))
}

/// A service as customers see it. `rate` is the price per 1000 units (per package for package
/// types) in `currency`.
#[derive(Serialize, ToSchema)]
pub struct ServiceDto {
    id: i64,
    name: String,
    category_id: i64,
    category: String,
    /// Read from the category and name: `instagram`, `tiktok`, … or `other`.
    platform: &'static str,
    /// The API v2 type (`Default`, `Package`, `Custom Comments`, …).
    #[serde(rename = "type")]
    service_type: &'static str,
    /// Decimal string, per 1000.
    rate: String,
    currency: String,
    min: i64,
    max: i64,
    refill: bool,
    /// Refill guarantee in days (0 = none).
    guarantee_days: i64,
    cancel: bool,
    dripfeed: bool,
    description: String,
}

pub fn service_dto(s: &Service, currency: &str) -> ServiceDto {
    ServiceDto {
        id: s.id.0,
        name: s.name.clone(),
        category_id: s.category_id.0,
        category: s.category.clone(),
        platform: platform_of(&s.category, &s.name),
        service_type: s.service_type.as_str(),
        rate: s.rate.to_string(),
        currency: currency.to_string(),
        min: s.min,
        max: s.max,
        refill: s.refill,
        guarantee_days: if s.refill { s.guarantee_days } else { 0 },
        cancel: s.cancel,
        dripfeed: s.dripfeed,
        description: s.description.clone(),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ServicePage {
    items: Vec<ServiceDto>,
    /// Services matching the filters, over all pages.
    total: i64,
    page: i64,
    per_page: i64,
}

/// Service filters; all optional, combined with AND.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceFilters {
    /// Category id.
    category: Option<i64>,
    /// `instagram`, `tiktok`, `youtube`, `twitter`, `facebook`, `telegram`, `threads`,
    /// `spotify`, `twitch`, `linkedin`, `discord`, `soundcloud`, `snapchat`, `pinterest`,
    /// `reddit`, `website` or `other`.
    platform: Option<String>,
    /// API v2 type, any case (`default`, `package`, `custom comments`).
    #[serde(rename = "type")]
    #[param(rename = "type")]
    service_type: Option<String>,
    /// Only services with (true) or without (false) refill.
    refill: Option<bool>,
    /// Case-insensitive text in the name, category or description.
    q: Option<String>,
    /// 1-based page, default 1.
    #[param(minimum = 1)]
    page: Option<i64>,
    /// 1–500, default 100.
    #[param(minimum = 1, maximum = 500)]
    per_page: Option<i64>,
}

/// The enabled catalog filtered and paged (served from a 2 s cache, so a listing may lag an
/// admin change by that much; placing an order always reads the service itself).
#[utoipa::path(get, path = "/api/smm/services", tag = "catalog", params(ServiceFilters),
    responses((status = 200, body = ServicePage)))]
async fn services(
    State(st): State<AppState>,
    u: AuthUser,
    ApiQuery(f): ApiQuery<ServiceFilters>,
) -> Result<Json<ServicePage>, AppError> {
    let book = smmd_app::pricing::price_book(st.app(), u.user.id).await?;
    let wanted_type = match f.service_type.as_deref().filter(|t| !t.trim().is_empty()) {
        None => None,
        Some(t) => Some(ServiceType::parse(t).ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidQuery,
                format!("Unknown service type `{t}`"),
            )
        })?),
    };
    let platform = match f.platform.as_deref().filter(|p| !p.is_empty()) {
        None => None,
        Some(p) => Some(
            PLATFORMS
                .iter()
                .find(|k| k.eq_ignore_ascii_case(p))
                .ok_or_else(|| {
                    AppError::new(ErrorCode::InvalidQuery, format!("Unknown platform `{p}`"))
                })?,
        ),
    };
    let needle =
        f.q.as_deref()
            .map(str::trim)
            .filter(|q| !q.is_empty())
            .map(str::to_lowercase);
    let page = f.page.unwrap_or(1).max(1);
    let per_page = clamp_limit(f.per_page, 100, 500);
    let list = st.enabled_services().await?;
    let matching: Vec<&Service> = list
        .iter()
        .filter(|s| f.category.is_none_or(|c| s.category_id.0 == c))
        .filter(|s| wanted_type.is_none_or(|t| s.service_type == t))
        .filter(|s| f.refill.is_none_or(|r| s.refill == r))
        .filter(|s| platform.is_none_or(|p| platform_of(&s.category, &s.name) == *p))
        .filter(|s| {
            needle.as_deref().is_none_or(|n| {
                s.name.to_lowercase().contains(n)
                    || s.category.to_lowercase().contains(n)
                    || s.description.to_lowercase().contains(n)
            })
        })
        .collect();
    let currency = &st.config.panel.currency;
    let skip = usize::try_from((page - 1).saturating_mul(per_page)).unwrap_or(usize::MAX);
    let items = matching
        .iter()
        .skip(skip)
        .take(usize::try_from(per_page).unwrap_or(0))
        .map(|s| service_dto(&smmd_app::pricing::priced(&book, s), currency))
        .collect();
    Ok(Json(ServicePage {
        items,
        total: matching.len() as i64,
        page,
        per_page,
    }))
}

/// One enabled service.
#[utoipa::path(get, path = "/api/smm/services/{id}", tag = "catalog",
    params(("id" = i64, Path, description = "Service id")),
    responses((status = 200, body = ServiceDto)))]
async fn service(
    State(st): State<AppState>,
    u: AuthUser,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ServiceDto>, AppError> {
    let book = smmd_app::pricing::price_book(st.app(), u.user.id).await?;
    let s = st
        .store
        .service(smmd_domain::ServiceId(id))
        .await?
        .filter(|s| s.enabled)
        .ok_or_else(|| AppError::not_found("Service"))?;
    Ok(Json(service_dto(
        &smmd_app::pricing::priced(&book, &s),
        &st.config.panel.currency,
    )))
}

// ---- orders ---------------------------------------------------------------------------------

/// A new order. `service` and the fields its type needs (API v2 `action=add`, spec §4): `link`
/// and `quantity` for most types; `runs` and `interval` (minutes) for drip-feed; `comments` /
/// `usernames` (one per line) for the custom-list types; `username`, `min`, `max`, `posts`,
/// `old_posts`, `delay`, `expiry` (`d/m/Y`) for subscriptions; and so on.
#[derive(Deserialize, Serialize, ToSchema, Default)]
#[serde(default)]
pub struct NewOrder {
    service: i64,
    link: Option<String>,
    quantity: Option<i64>,
    runs: Option<i64>,
    /// Minutes between drip-feed runs.
    interval: Option<i64>,
    comments: Option<String>,
    usernames: Option<String>,
    hashtags: Option<String>,
    hashtag: Option<String>,
    username: Option<String>,
    media: Option<String>,
    answer_number: Option<String>,
    groups: Option<String>,
    min: Option<i64>,
    max: Option<i64>,
    posts: Option<i64>,
    old_posts: Option<i64>,
    /// Minutes.
    delay: Option<i64>,
    /// `d/m/Y`.
    expiry: Option<String>,
    country: Option<String>,
    device: Option<String>,
    type_of_traffic: Option<String>,
    google_keyword: Option<String>,
    referring_url: Option<String>,
}

impl NewOrder {
    fn input(&self) -> OrderInput {
        let n = |v: Option<i64>| v.map(|v| v.to_string());
        OrderInput {
            link: self.link.clone(),
            quantity: n(self.quantity),
            runs: n(self.runs),
            interval: n(self.interval),
            comments: self.comments.clone(),
            usernames: self.usernames.clone(),
            hashtags: self.hashtags.clone(),
            hashtag: self.hashtag.clone(),
            username: self.username.clone(),
            media: self.media.clone(),
            answer_number: self.answer_number.clone(),
            groups: self.groups.clone(),
            min: n(self.min),
            max: n(self.max),
            posts: n(self.posts),
            old_posts: n(self.old_posts),
            delay: n(self.delay),
            expiry: self.expiry.clone(),
            country: self.country.clone(),
            device: self.device.clone(),
            type_of_traffic: self.type_of_traffic.clone(),
            google_keyword: self.google_keyword.clone(),
            referring_url: self.referring_url.clone(),
        }
    }
}

/// An order as its owner sees it.
#[derive(Serialize, ToSchema)]
pub struct OrderDto {
    /// The API v2 order id.
    id: i64,
    /// The public reference used in REST URLs: the order id in 9 (or more) lower-case hex
    /// digits, then 4 random ones; 12 random hex digits for orders placed before migration 0036.
    reference: String,
    service_id: i64,
    /// `queued`, `submitting`, `needs_review`, `processing`, `in_progress`, `completed`,
    /// `partial` or `canceled`.
    status: &'static str,
    link: Option<String>,
    /// Units per run (the whole order when not drip-fed).
    quantity: i64,
    runs: Option<i64>,
    /// Minutes between runs.
    interval: Option<i64>,
    total_quantity: i64,
    /// Decimal string.
    charge: String,
    /// Decimal string: refunded so far.
    refunded: String,
    currency: String,
    start_count: Option<i64>,
    remains: Option<i64>,
    guarantee_days: i64,
    /// A cancel can be asked now.
    can_cancel: bool,
    /// A refill can be asked now (guarantee running, no refill in progress).
    can_refill: bool,
    cancel_requested: bool,
    created_at: i64,
    updated_at: i64,
    completed_at: Option<i64>,
}

pub fn order_dto(o: &Order, currency: &str, active_refill: bool, now: i64) -> OrderDto {
    OrderDto {
        id: o.id.0,
        reference: o.reference.clone(),
        service_id: o.service_id.0,
        status: o.status.as_str(),
        link: o.link.clone(),
        quantity: o.quantity,
        runs: o.runs,
        interval: o.interval,
        total_quantity: o.total_quantity,
        charge: o.charge.to_string(),
        refunded: o.refunded.to_string(),
        currency: currency.to_string(),
        start_count: o.start_count,
        remains: o.remains,
        guarantee_days: o.guarantee_days,
        can_cancel: orders::can_cancel(o),
        can_refill: orders::can_refill(o, active_refill, now),
        cancel_requested: o.cancel_requested,
        created_at: o.created_at,
        updated_at: o.updated_at,
        completed_at: o.completed_at,
    }
}

/// The `Idempotency-Key` header: 1–200 visible ASCII characters.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = v
        .to_str()
        .ok()
        .and_then(orders::request_key)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidIdempotencyKey,
                "Idempotency-Key must be 1 to 200 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_string()))
}

/// Places an order. With an `Idempotency-Key`, a retry returns the first order (same status and
/// body, plus `Idempotent-Replayed: true`) and never places a second one, even when the retries
/// race; the same key with different parameters is refused.
#[utoipa::path(post, path = "/api/smm/orders", tag = "orders",
    params(("Idempotency-Key" = Option<String>, Header, description = "1-200 visible ASCII characters; retries with the same key return the first order")),
    request_body(content = NewOrder, content_type = "application/json"),
    responses((status = 201, body = OrderDto, description = "Placed (or replayed for a known Idempotency-Key)")))]
async fn create_order(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    headers: HeaderMap,
    JsonBody(body): JsonBody<NewOrder>,
) -> Result<Response, AppError> {
    let key = idempotency_key(&headers)?;
    let currency = &st.config.panel.currency;
    let now = st.clock.now_ms();
    let input = body.input();
    let Some(key) = key else {
        let o = orders::place_order(st.app(), user.id, body.service, &input, Default::default())
            .await?;
        return Ok((
            StatusCode::CREATED,
            Json(order_dto(&o, currency, false, now)),
        )
            .into_response());
    };
    match orders::place_order_once(st.app(), user.id, body.service, &input, &key, None).await? {
        orders::Placed::New(o) => Ok((
            StatusCode::CREATED,
            Json(order_dto(&o, currency, false, now)),
        )
            .into_response()),
        orders::Placed::Replayed(first) => replay(&first, &body, &input, currency, now),
    }
}

/// The first order of a key, if `body` asks for the same thing.
fn replay(
    first: &Order,
    body: &NewOrder,
    input: &OrderInput,
    currency: &str,
    now: i64,
) -> Result<Response, AppError> {
    if !orders::asks_for_same(first, body.service, input) {
        return Err(AppError::new(
            ErrorCode::IdempotencyKeyReused,
            "This Idempotency-Key was used for a different order",
        ));
    }
    let mut resp = (
        StatusCode::CREATED,
        Json(order_dto(first, currency, false, now)),
    )
        .into_response();
    resp.headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(resp)
}

#[derive(Serialize, ToSchema)]
pub struct OrderPage {
    items: Vec<OrderDto>,
    /// Pass as `cursor` for the next page; absent on the last page.
    next_cursor: Option<String>,
}

/// Order filters; all optional, combined with AND.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderFilters {
    /// `queued`, `submitting`, `needs_review`, `processing`, `in_progress`, `completed`,
    /// `partial` or `canceled`.
    status: Option<String>,
    /// Service id.
    service: Option<i64>,
    /// Case-insensitive text in the link.
    link: Option<String>,
    /// Placed at or after (epoch ms).
    from: Option<i64>,
    /// Placed before (epoch ms).
    to: Option<i64>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// Parses the status filter.
pub fn status_filter(s: Option<&str>) -> Result<Option<OrderStatus>, AppError> {
    match s.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => OrderStatus::parse(s)
            .map(Some)
            .ok_or_else(|| AppError::new(ErrorCode::InvalidQuery, format!("Unknown status `{s}`"))),
    }
}

/// Parses an opaque cursor (the last id of the previous page).
pub fn cursor(c: Option<&str>) -> Result<Option<i64>, AppError> {
    match c.filter(|c| !c.is_empty()) {
        None => Ok(None),
        Some(c) => c
            .parse::<i64>()
            .ok()
            .filter(|v| *v > 0)
            .map(Some)
            .ok_or_else(|| AppError::new(ErrorCode::InvalidCursor, "Unknown cursor")),
    }
}

/// The next cursor of a page of `limit` items whose last id is `last`.
pub fn next_cursor(len: usize, limit: i64, last: Option<i64>) -> Option<String> {
    (len as i64 == limit)
        .then(|| last.map(|id| id.to_string()))
        .flatten()
}

/// The user's orders (archived ones included), newest first.
#[utoipa::path(get, path = "/api/smm/orders", tag = "orders", params(OrderFilters),
    responses((status = 200, body = OrderPage)))]
async fn orders(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiQuery(f): ApiQuery<OrderFilters>,
) -> Result<Json<OrderPage>, AppError> {
    let limit = clamp_limit(f.limit, 50, 200);
    let list = st
        .store
        .search_orders(&OrderQuery {
            user: Some(user.id),
            status: status_filter(f.status.as_deref())?,
            service: f.service.map(smmd_domain::ServiceId),
            provider: None,
            link: f.link,
            created_from: f.from,
            created_to: f.to,
            before: cursor(f.cursor.as_deref())?.map(OrderId),
            limit,
            active: false,
        })
        .await?;
    let now = st.clock.now_ms();
    let currency = &st.config.panel.currency;
    Ok(Json(OrderPage {
        next_cursor: next_cursor(list.len(), limit, list.last().map(|o| o.id.0)),
        items: list
            .iter()
            .map(|o| order_dto(o, currency, false, now))
            .collect(),
    }))
}

/// One step in an order's life, from the order's event log (written with each change).
#[derive(Serialize, ToSchema)]
pub struct TimelineEvent {
    /// Epoch ms.
    at: i64,
    /// `placed`, a status the order moved to (`submitting`, `processing`, `in_progress`,
    /// `completed`, `partial`, `canceled`, `needs_review`, `queued`), `cancel_requested`, or
    /// `refill_pending`, `refill_in_progress`, `refill_completed`, `refill_rejected`, or a step
    /// of the stuck-order ladder: `stuck_refresh`, `stuck_speed_up`, `stuck_cancel`,
    /// `stuck_ticket`.
    event: String,
    /// The wallet effect, decimal string: negative when placed (the charge), positive for a
    /// refund.
    amount: Option<String>,
    /// The provider message, review or admin reason; `Refill #N` for refills.
    detail: String,
}

/// An order with its timeline and refills.
#[derive(Serialize, ToSchema)]
pub struct OrderDetail {
    order: OrderDto,
    timeline: Vec<TimelineEvent>,
    refills: Vec<RefillDto>,
}

/// The caller's order with this reference (another user's is "not found").
pub(crate) async fn own_order(
    st: &AppState,
    user: smmd_domain::UserId,
    reference: &str,
) -> Result<Order, AppError> {
    let o = if smmd_domain::reference::is_reference(reference) {
        st.store
            .order_by_reference(&reference.to_ascii_lowercase())
            .await?
    } else {
        None
    };
    o.filter(|o| o.user_id == user)
        .ok_or_else(|| AppError::not_found("Order"))
}

/// The order's timeline, oldest first.
pub async fn timeline(st: &AppState, o: &Order) -> Result<Vec<TimelineEvent>, AppError> {
    Ok(st
        .store
        .order_log(o.id)
        .await?
        .into_iter()
        .map(|e| TimelineEvent {
            at: e.created_at,
            event: match e.kind {
                EventKind::Status => e.status,
                EventKind::Refill => format!("refill_{}", e.status),
                EventKind::Stuck => format!("stuck_{}", e.status),
                kind => kind.as_str().to_string(),
            },
            amount: e.amount.map(|a| a.to_string()),
            detail: e.detail,
        })
        .collect())
}

/// One of the user's orders by its public reference, with its timeline and refills.
#[utoipa::path(get, path = "/api/smm/orders/{reference}", tag = "orders",
    params(("reference" = String, Path, description = "Public order reference: 13 lower-case hex characters (the order id in 9, then 4 random), 12 for orders placed before migration 0036")),
    responses((status = 200, body = OrderDetail)))]
async fn order(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(reference): ApiPath<String>,
) -> Result<Json<OrderDetail>, AppError> {
    let o = own_order(&st, user.id, &reference).await?;
    let refills = st
        .store
        .search_refills(&RefillQuery {
            order: Some(o.id),
            limit: 100,
            ..RefillQuery::default()
        })
        .await?;
    let active = refills.iter().any(|r| !refill_done(r));
    Ok(Json(OrderDetail {
        order: order_dto(&o, &st.config.panel.currency, active, st.clock.now_ms()),
        timeline: timeline(&st, &o).await?,
        refills: refills
            .iter()
            .map(|r| refill_dto(r, &o.reference))
            .collect(),
    }))
}

/// What a cancel did.
#[derive(Serialize, ToSchema)]
pub struct CancelDto {
    /// `canceled`: never sent, canceled and refunded now. `cancel_requested`: the provider is
    /// asked; the refund follows its answer.
    result: &'static str,
    /// Decimal string refunded by this cancel.
    refunded: String,
    order: OrderDto,
}

/// The REST error of a refused cancel.
/// Cancels the order: at once with a full refund if it was never sent, otherwise by asking the
/// provider (services with cancel only).
#[utoipa::path(post, path = "/api/smm/orders/{reference}/cancel", tag = "orders",
    params(("reference" = String, Path, description = "Public order reference")),
    responses((status = 200, body = CancelDto)))]
async fn cancel(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(reference): ApiPath<String>,
) -> Result<Json<CancelDto>, AppError> {
    let o = own_order(&st, user.id, &reference).await?;
    let now = st.clock.now_ms();
    let (result, refunded) = match orders::cancel_order(st.app(), user.id, o.id).await? {
        CancelOutcome::Canceled { refunded } => ("canceled", refunded),
        CancelOutcome::Requested => ("cancel_requested", smmd_domain::Money::ZERO),
    };
    let o = st
        .store
        .order(o.id)
        .await?
        .ok_or_else(|| AppError::not_found("Order"))?;
    Ok(Json(CancelDto {
        result,
        refunded: refunded.to_string(),
        order: order_dto(&o, &st.config.panel.currency, false, now),
    }))
}

/// A refill request.
#[derive(Serialize, ToSchema)]
pub struct RefillDto {
    id: i64,
    order_id: i64,
    order_reference: String,
    /// `pending`, `in_progress`, `completed` or `rejected`.
    status: &'static str,
    created_at: i64,
    updated_at: i64,
}

pub fn refill_dto(r: &Refill, order_reference: &str) -> RefillDto {
    RefillDto {
        id: r.id.0,
        order_id: r.order_id.0,
        order_reference: order_reference.to_string(),
        status: r.status.as_str(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// The REST error of a refused refill.
/// Requests a refill of a completed or partial order inside its guarantee.
#[utoipa::path(post, path = "/api/smm/orders/{reference}/refill", tag = "orders",
    params(("reference" = String, Path, description = "Public order reference")),
    responses((status = 201, body = RefillDto)))]
async fn refill(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiPath(reference): ApiPath<String>,
) -> Result<(StatusCode, Json<RefillDto>), AppError> {
    let o = own_order(&st, user.id, &reference).await?;
    let r = orders::request_refill(st.app(), user.id, o.id).await?;
    Ok((StatusCode::CREATED, Json(refill_dto(&r, &o.reference))))
}

#[derive(Serialize, ToSchema)]
pub struct RefillPage {
    items: Vec<RefillDto>,
    next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RefillFilters {
    /// Only refills of this order (public reference); another user's or an unknown reference
    /// matches nothing.
    order: Option<String>,
    cursor: Option<String>,
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// The user's refills, newest first.
#[utoipa::path(get, path = "/api/smm/refills", tag = "orders", params(RefillFilters),
    responses((status = 200, body = RefillPage)))]
async fn refills(
    State(st): State<AppState>,
    AuthUser { user, .. }: AuthUser,
    ApiQuery(f): ApiQuery<RefillFilters>,
) -> Result<Json<RefillPage>, AppError> {
    let limit = clamp_limit(f.limit, 50, 200);
    let order = match f.order.as_deref().filter(|r| !r.is_empty()) {
        // Not one of the caller's orders: nothing matches (and nothing is revealed).
        Some(r) => match own_order(&st, user.id, r).await {
            Ok(o) => Some(o.id),
            Err(_) => {
                return Ok(Json(RefillPage {
                    items: Vec::new(),
                    next_cursor: None,
                }))
            }
        },
        None => None,
    };
    let list = st
        .store
        .search_refills(&RefillQuery {
            user: Some(user.id),
            order,
            before: cursor(f.cursor.as_deref())?.map(RefillId),
            limit,
        })
        .await?;
    let ids: Vec<OrderId> = list.iter().map(|r| r.order_id).collect();
    let orders = st.store.orders_of_user(user.id, &ids).await?;
    let reference = |id: OrderId| {
        orders
            .iter()
            .find(|o| o.id == id)
            .map_or(String::new(), |o| o.reference.clone())
    };
    Ok(Json(RefillPage {
        next_cursor: next_cursor(list.len(), limit, list.last().map(|r| r.id.0)),
        items: list
            .iter()
            .map(|r| refill_dto(r, &reference(r.order_id)))
            .collect(),
    }))
}

/// Whether a refill has reached its outcome.
fn refill_done(r: &Refill) -> bool {
    matches!(
        r.status,
        smmd_domain::refill::RefillStatus::Completed | smmd_domain::refill::RefillStatus::Rejected
    )
}
