//! The reseller API: SMM API v2 at `/api/v2` and `/api/v2/` (spec §4, conformance profile §7).
//!
//! Accepts GET and POST with form, multipart or JSON bodies, query and body merged (body wins).
//! Answers HTTP 200 with `application/json`; errors are `{"error":"…"}` alone, in the
//! PerfectPanel phrasing resellers match on. The one exception is a key over its per-minute
//! limit ([`crate::ratelimit`]): HTTP 429 `{"error":"Too many requests"}` with `Retry-After`. Storage failures are logged and answered with a
//! generic error; nothing is written on a refused request.

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Json, Router};
use bytes::Bytes;
use serde_json::{json, Map, Value};
use smmd_domain::order::OrderStatus;
use smmd_domain::{OrderId, RefillId, UserId};
use smmd_protocol::*;
use smmd_store::{CancelError, OrderStatusView, PlaceOrderError, RefillRequestError};

use crate::auth::token_hash;
use crate::cache::KeyOwner;
use crate::ratelimit::Verdict;
use crate::state::AppState;
use smmd_app::orders;

pub use smmd_protocol::http::MAX_BODY;
const ERR_INTERNAL: &str = "Internal error, please try again later";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v2", any(handle))
        .route("/api/v2/", any(handle))
}

async fn handle(State(st): State<AppState>, req: Request) -> Response {
    match smmd_protocol::http::read_params(req).await {
        Some(params) => dispatch(&st, &params).await,
        None => json_reply(error_value(ERR_INCORRECT_REQUEST)),
    }
}

fn json_reply(body: Value) -> Response {
    (StatusCode::OK, Json(body)).into_response()
}

/// An answer serialised straight from its typed shape, without a [`Value`] tree in between:
/// the same bytes as [`json_reply`] of that shape's value (`serde_json`'s `preserve_order`
/// keeps a tree's members in the shape's order), a few allocations fewer on the hot path.
fn typed_reply(body: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(body) {
        Ok(bytes) => json_bytes(bytes),
        Err(e) => json_reply(internal(e)),
    }
}

/// HTTP 200 with a JSON body already serialised.
fn json_bytes(body: impl IntoResponse) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// The caller's identity from its key: the short-lived cache, else the store — the user's own
/// key, or the dedicated key of a child panel they rent (`docs/child-panels.md`).
async fn authenticate(st: &AppState, key: &str) -> Result<Option<KeyOwner>, Value> {
    let hash = token_hash(key);
    let now = st.clock.now_ms();
    if let Some(owner) = st.api_keys.get(&hash, now) {
        return Ok(Some(owner));
    }
    let owner = match st.store.user_by_api_key(&hash).await.map_err(internal)? {
        Some(u) => KeyOwner {
            user: u.id,
            role: u.role,
            panel: None,
        },
        None => {
            let Some(panel) = st.store.panel_by_api_key(&hash).await.map_err(internal)? else {
                return Ok(None);
            };
            let user = st.store.user(panel.owner_id).await.map_err(internal)?;
            let Some(user) = user else {
                return Ok(None);
            };
            KeyOwner {
                user: user.id,
                role: user.role,
                panel: Some(panel.id),
            }
        }
    };
    st.api_keys.put(&hash, owner, now);
    Ok(Some(owner))
}

/// A child panel's key may place orders and refills only while the panel is active (read
/// from the registry on every such request: a suspension takes effect at the next one).
async fn may_order(st: &AppState, owner: &KeyOwner) -> Result<(), Value> {
    let Some(id) = owner.panel else {
        return Ok(());
    };
    let panel = st.store.panel(id).await.map_err(internal)?;
    match panel.map(|p| p.state()) {
        Some(state) if state.may_order() => Ok(()),
        _ => Err(error_value(ERR_PANEL_SUSPENDED)),
    }
}

/// Refusal of `add` and `refill` from a suspended or ended child panel's key.
pub const ERR_PANEL_SUSPENDED: &str =
    "This child panel is suspended: renew its rental to place orders and refills (status still works)";

async fn dispatch(st: &AppState, p: &Params) -> Response {
    let Some(key) = p.get("key") else {
        return json_reply(error_value(ERR_INVALID_KEY));
    };
    let owner = match authenticate(st, key).await {
        Ok(Some(u)) => u,
        Ok(None) => return json_reply(error_value(ERR_INVALID_KEY)),
        Err(e) => return json_reply(e),
    };
    let verdict = match st.api_limits.check(st.app(), owner.user).await {
        Ok(v) => v,
        Err(e) => return json_reply(internal(e)),
    };
    let mut answer = match verdict {
        Verdict::Refused { .. } => {
            metrics::counter!("smmd_api_v2_rate_limited_total").increment(1);
            (
                StatusCode::TOO_MANY_REQUESTS,
                Json(error_value(ERR_TOO_MANY_REQUESTS)),
            )
                .into_response()
        }
        _ => act(st, &owner, p).await,
    };
    verdict.stamp(answer.headers_mut());
    answer
}

/// One request of a user within their limit.
async fn act(st: &AppState, owner: &KeyOwner, p: &Params) -> Response {
    let Some(action) = p.get("action").and_then(Action::parse) else {
        return json_reply(error_value(ERR_INCORRECT_REQUEST));
    };
    let user = owner.user;
    if matches!(action, Action::Add | Action::Refill) {
        if let Err(refused) = may_order(st, owner).await {
            return json_reply(refused);
        }
    }
    let result = match action {
        Action::Services => return services(st, user).await,
        Action::Balance => return balance(st, user).await,
        // Boxed: placing an order is the largest future here (~3 KB), and every request would
        // otherwise carry (and move) its size through `act` and `dispatch`.
        Action::Add => Box::pin(add(st, user, owner.panel, p)).await,
        Action::Status => return status(st, user, p).await,
        Action::Refill => refill(st, user, p).await,
        Action::RefillStatus => refill_status(st, user, p).await,
        Action::Cancel => cancel(st, user, p).await,
    };
    json_reply(result.unwrap_or_else(|e| e))
}

type V2 = Result<Value, Value>;

fn internal(e: impl std::fmt::Display) -> Value {
    tracing::error!(error = %e, "api v2 request failed");
    error_value(ERR_INTERNAL)
}

fn ids(text: &str) -> Result<Vec<IdToken>, Value> {
    id_list(text).map_err(error_value)
}

async fn balance(st: &AppState, user: UserId) -> Response {
    match st.store.balance(user).await {
        Ok(Some(balance)) => typed_reply(&BalanceItem {
            balance,
            currency: &st.config.panel.currency,
        }),
        Ok(None) => json_reply(error_value(ERR_INVALID_KEY)),
        Err(e) => json_reply(internal(e)),
    }
}

/// The enabled catalog at the caller's prices: list prices are served from
/// [`crate::cache::ServicesCache`] for a short while; a renter of a reseller tier gets the
/// list built with their discounts (`smmd_app::pricing`).
async fn services(st: &AppState, user: UserId) -> Response {
    let book = match smmd_app::pricing::price_book(st.app(), user).await {
        Ok(b) => b,
        Err(e) => return json_reply(internal(e)),
    };
    let built = if book.is_list() {
        st.services
            .get_or_build(st.clock.now_ms(), build_services(st, &book))
            .await
    } else {
        build_services(st, &book).await
    };
    let body = match built {
        Ok(b) => b,
        Err(e) => return json_reply(e),
    };
    json_bytes(body)
}

async fn build_services(
    st: &AppState,
    book: &smmd_domain::billing::entitlement::PriceBook,
) -> Result<Bytes, Value> {
    let list = st.enabled_services().await.map_err(internal)?;
    let items: Vec<ServiceItem> = list
        .iter()
        .map(|s| smmd_app::pricing::priced(book, s))
        .map(|s| ServiceItem {
            service: s.id.0,
            name: s.name,
            service_type: s.service_type.as_str().to_string(),
            category: s.category,
            rate: s.rate.to_string(),
            min: s.min.to_string(),
            max: s.max.to_string(),
            refill: s.refill,
            cancel: s.cancel,
            dripfeed: s.dripfeed,
            description: s.description,
        })
        .collect();
    serde_json::to_vec(&items)
        .map(Bytes::from)
        .map_err(internal)
}

/// `add`; `panel`: the child panel whose dedicated key asks (recorded on the order). With a
/// `request_id` (1 to 200 visible ASCII characters, our extension of API v2) the order is
/// placed at most once per key and caller: a repeat asking for the same service, link and
/// quantity answers the first `{"order":…}` (also when the repeats race, or the first answer
/// was lost to a crash after the commit), a repeat asking for anything else is refused. A
/// first attempt that was refused placed nothing, so its repeat is a new attempt.
async fn add(st: &AppState, user: UserId, panel: Option<i64>, p: &Params) -> V2 {
    let service = p
        .get("service")
        .and_then(|s| smmd_domain::service::parse_count(Some(s)))
        .ok_or_else(|| {
            error_value(&smmd_domain::service::OrderError::IncorrectService.to_string())
        })?;
    let input = p.order_input();
    let placed = match p.get("request_id") {
        // Without a request id: as every panel answers, byte for byte.
        None => {
            let placement = smmd_store::Placement {
                request_key: None,
                panel,
            };
            orders::place_order(st.app(), user, service, &input, placement).await
        }
        Some(raw) => {
            let key = orders::request_key(raw).ok_or_else(|| error_value(ERR_REQUEST_ID))?;
            match orders::place_order_once(st.app(), user, service, &input, key, panel).await {
                Ok(orders::Placed::New(o)) => Ok(o),
                Ok(orders::Placed::Replayed(first)) => {
                    return match orders::asks_for_same(&first, service, &input) {
                        true => Ok(json!({ "order": first.id.0 })),
                        false => Err(error_value(ERR_REQUEST_ID_REUSED)),
                    };
                }
                Err(e) => Err(e),
            }
        }
    };
    match placed {
        Ok(order) => Ok(json!({ "order": order.id.0 })),
        Err(PlaceOrderError::Rejected(e)) => Err(error_value(&e.to_string())),
        Err(PlaceOrderError::Store(e)) => Err(internal(e)),
    }
}

/// `add` with a `request_id` that is not 1 to 200 visible ASCII characters.
const ERR_REQUEST_ID: &str = "request_id must be 1 to 200 visible ASCII characters";
/// `add` with a `request_id` an earlier `add` used for another service, link or quantity.
const ERR_REQUEST_ID_REUSED: &str = "This request_id was used for a different order";

/// One order in the canonical status shape. `charge` is what the customer paid net of refunds.
fn status_item<'a>(o: &OrderStatusView, currency: &'a str) -> StatusItem<'a> {
    let net = o.charge.checked_sub(o.refunded).unwrap_or(o.charge);
    let remains = o.remains.unwrap_or(if o.status == OrderStatus::Completed {
        0
    } else {
        o.total_quantity
    });
    StatusItem {
        charge: net,
        start_count: o.start_count.unwrap_or(0),
        status: o.status.wire(),
        remains,
        currency,
    }
}

/// `status`: one order (`order=`) answered from its typed shape, or the multi form
/// (`orders=`, spec §4.3) as an object keyed by each id as the caller wrote it.
async fn status(st: &AppState, user: UserId, p: &Params) -> Response {
    let currency = st.config.panel.currency.as_str();
    if let Some(list) = p.get("orders") {
        return json_reply(
            status_of_many(st, user, list, currency)
                .await
                .unwrap_or_else(|e| e),
        );
    }
    let Some(id) = single_id(p.get("order")) else {
        return json_reply(error_value(ERR_INCORRECT_ORDER));
    };
    match st.store.order_statuses(user, &[OrderId(id)]).await {
        Ok(found) => match found.first() {
            Some(o) => typed_reply(&status_item(o, currency)),
            None => json_reply(error_value(ERR_INCORRECT_ORDER)),
        },
        Err(e) => json_reply(internal(e)),
    }
}

async fn status_of_many(st: &AppState, user: UserId, list: &str, currency: &str) -> V2 {
    let tokens = ids(list)?;
    let wanted: Vec<OrderId> = tokens.iter().filter_map(|t| t.id.map(OrderId)).collect();
    let found = st
        .store
        .order_statuses(user, &wanted)
        .await
        .map_err(internal)?;
    let mut out = Map::new();
    for t in tokens {
        let item = match found.iter().find(|o| Some(o.id.0) == t.id) {
            Some(o) => serde_json::to_value(status_item(o, currency)).map_err(internal)?,
            None => error_value(ERR_INCORRECT_ORDER),
        };
        out.insert(t.text, item);
    }
    Ok(Value::Object(out))
}

fn single_id(text: Option<&str>) -> Option<i64> {
    id_list(text?).ok()?.into_iter().next()?.id
}

async fn refill_one(st: &AppState, user: UserId, id: Option<i64>) -> Result<i64, Value> {
    let id = id.ok_or_else(|| error_value(ERR_INCORRECT_ORDER))?;
    match orders::request_refill(st.app(), user, OrderId(id)).await {
        Ok(r) => Ok(r.id.0),
        Err(RefillRequestError::NotFound) => Err(error_value(ERR_INCORRECT_ORDER)),
        Err(RefillRequestError::Ineligible(e)) => Err(error_value(&e.to_string())),
        Err(RefillRequestError::Store(e)) => Err(internal(e)),
    }
}

async fn refill(st: &AppState, user: UserId, p: &Params) -> V2 {
    if let Some(list) = p.get("orders") {
        let mut out = Vec::new();
        for t in ids(list)? {
            let refill = match refill_one(st, user, t.id).await {
                Ok(id) => Value::from(id),
                Err(e) => e,
            };
            out.push(json!({ "order": t.json(), "refill": refill }));
        }
        return Ok(Value::Array(out));
    }
    let id = refill_one(st, user, single_id(p.get("order"))).await?;
    Ok(json!({ "refill": id.to_string() }))
}

async fn refill_status(st: &AppState, user: UserId, p: &Params) -> V2 {
    if let Some(list) = p.get("refills") {
        let tokens = ids(list)?;
        let wanted: Vec<RefillId> = tokens.iter().filter_map(|t| t.id.map(RefillId)).collect();
        let found = st
            .store
            .refills_of_user(user, &wanted)
            .await
            .map_err(internal)?;
        let out = tokens
            .iter()
            .map(|t| {
                let status = found
                    .iter()
                    .find(|r| Some(r.id.0) == t.id)
                    .map(|r| Value::from(r.status.wire()))
                    .unwrap_or_else(|| error_value(ERR_REFILL_NOT_FOUND));
                json!({ "refill": t.json(), "status": status })
            })
            .collect();
        return Ok(Value::Array(out));
    }
    let id = single_id(p.get("refill")).ok_or_else(|| error_value(ERR_REFILL_NOT_FOUND))?;
    let found = st
        .store
        .refills_of_user(user, &[RefillId(id)])
        .await
        .map_err(internal)?;
    found
        .first()
        .map(|r| json!({ "status": r.status.wire() }))
        .ok_or_else(|| error_value(ERR_REFILL_NOT_FOUND))
}

async fn cancel(st: &AppState, user: UserId, p: &Params) -> V2 {
    // The documented form is `orders=`; some clients send a single `order=` (spec §4.6).
    let list = p
        .get("orders")
        .or_else(|| p.get("order"))
        .ok_or_else(|| error_value(ERR_INCORRECT_ORDER))?;
    let tokens = ids(list)?;
    let wanted: Vec<OrderId> = tokens.iter().filter_map(|t| t.id.map(OrderId)).collect();
    let results = orders::cancel_orders(st.app(), user, &wanted)
        .await
        .map_err(internal)?;
    let out = tokens
        .iter()
        .map(|t| {
            let outcome = results
                .iter()
                .find(|(id, _)| Some(id.0) == t.id)
                .map(|(_, r)| r.clone());
            let cancel = match outcome.unwrap_or(Err(CancelError::NotFound)) {
                Ok(_) => Value::from(1),
                Err(e) => error_value(&e.to_string()),
            };
            json!({ "order": t.json(), "cancel": cancel })
        })
        .collect();
    Ok(Value::Array(out))
}
