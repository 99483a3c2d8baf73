//! Tolerant decoding of upstream API v2 answers (spec §6, client vectors C1–C18 of §9.2).
//!
//! Three layers, as spec §11 suggests: [`parse_body`] turns raw bytes into a JSON value (BOM and
//! whitespace stripped, PHP notices skipped, HTML and empty bodies recognised), [`api_error`]
//! recognises every error envelope seen in the wild, and the `*_from` functions extract typed
//! results with explicit fallbacks: numbers as strings or not, booleans as `1`/`"true"`,
//! `"Unknown"` counts, bare-string per-item errors, keys in any case. Nothing here does I/O.

use std::collections::HashMap;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde_json::{Map, Value};
use smmd_domain::service::{normalise_words, ServiceType};

/// Why a body is not a JSON value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Nothing but whitespace (C18).
    #[error("empty response")]
    Empty,
    /// An HTML page (Cloudflare challenge, maintenance page) — C14. Holds the first characters.
    #[error("HTML page instead of JSON: {0}")]
    Html(String),
    /// Text that is neither JSON nor HTML. Holds the first characters.
    #[error("malformed JSON: {0}")]
    Malformed(String),
}

/// Longest body excerpt kept in an error (characters).
pub const SNIPPET_CHARS: usize = 160;

/// The first [`SNIPPET_CHARS`] characters of `text` on one line.
pub fn snippet(text: &str) -> String {
    text.chars()
        .take(SNIPPET_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Raw body → JSON value (spec §6.1 rule 1): strips a UTF-8 BOM and surrounding whitespace;
/// salvages the first JSON value after a PHP notice printed before it; a body starting with `<`
/// with no JSON after it is [`BodyError::Html`].
pub fn parse_body(bytes: &[u8]) -> Result<Value, BodyError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if text.is_empty() {
        return Err(BodyError::Empty);
    }
    if let Ok(v) = serde_json::from_str::<Value>(text) {
        return Ok(v);
    }
    if text.starts_with('<') {
        // `<br />\n<b>Notice</b>: … {"balance": …}`: the first `{`/`[` that starts a JSON value
        // running to the end of the body.
        if !looks_like_html_document(text) {
            for (i, c) in text.char_indices() {
                if c == '{' || c == '[' {
                    if let Ok(v) = serde_json::from_str::<Value>(&text[i..]) {
                        return Ok(v);
                    }
                }
            }
        }
        return Err(BodyError::Html(snippet(text)));
    }
    Err(BodyError::Malformed(snippet(text)))
}

fn looks_like_html_document(text: &str) -> bool {
    let head: String = text
        .chars()
        .take(64)
        .collect::<String>()
        .to_ascii_lowercase();
    head.starts_with("<!doctype") || head.starts_with("<html") || head.starts_with("<head")
}

/// A member of `obj` by name, exact first, then case-insensitively (spec §6.2 rule 7).
pub fn field<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The error message of an error envelope, if `v` is one (spec §6.2 rule 1): `{"error": "…"}`
/// (a truthy `error` only: `"error": null` is not an error), `{"error": {"message": "…"}}`,
/// `{"status": "error" | "fail" | "failed", "message" | "msg": "…"}`,
/// `{"success": false, "msg" | "message": "…"}`. A `status` member alone is not an error
/// (rule 2): order status objects have one.
pub fn api_error(v: &Value) -> Option<String> {
    let obj = v.as_object()?;
    if let Some(e) = field(obj, "error") {
        match e {
            Value::Null | Value::Bool(false) => {}
            Value::String(s) if s.trim().is_empty() => {}
            Value::Object(inner) => {
                let msg = ["message", "msg", "error"]
                    .iter()
                    .find_map(|k| field(inner, k).and_then(text_of))
                    .unwrap_or_else(|| Value::Object(inner.clone()).to_string());
                return Some(msg);
            }
            other => return Some(text_of(other).unwrap_or_else(|| other.to_string())),
        }
    }
    let message = || {
        ["message", "msg", "error_message"]
            .iter()
            .find_map(|k| field(obj, k).and_then(text_of))
    };
    if let Some(status) = field(obj, "status").and_then(Value::as_str) {
        let s = status.trim().to_ascii_lowercase();
        if matches!(s.as_str(), "error" | "fail" | "failed") {
            if let Some(m) = message() {
                return Some(m);
            }
        }
    }
    if let Some(Value::Bool(false)) = field(obj, "success") {
        return Some(message().unwrap_or_else(|| "request failed".to_string()));
    }
    None
}

/// What kind of refusal an error message is, by case-insensitive substring (spec §6.4, §11).
/// For classification only; the message itself is always kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RejectKind {
    /// "Invalid API key", "Incorrect API key", SmartPanel's "API is Disable for this user…".
    Auth,
    /// "Not enough funds on balance".
    InsufficientFunds,
    /// "Incorrect link", "Bad link".
    Link,
    /// "Incorrect service ID", "Service ID does not exists", a disabled service.
    Service,
    /// "Quantity less than minimal N", "Quantity more than maximum N".
    Quantity,
    /// "You have active order with this link…".
    ActiveOrder,
    /// "Incorrect order ID", "Refill not found".
    NotFound,
    /// Anything else ("Invalid Interval in minutes").
    Other,
}

impl RejectKind {
    /// Classifies `message`.
    pub fn of(message: &str) -> RejectKind {
        let m = message.to_ascii_lowercase();
        let has = |s: &str| m.contains(s);
        if has("api key") || has("api is disable") || has("apikey") || has("unauthori") {
            RejectKind::Auth
        } else if has("funds") || has("balance") {
            RejectKind::InsufficientFunds
        } else if has("active order") {
            RejectKind::ActiveOrder
        } else if has("link") {
            RejectKind::Link
        } else if has("quantity") {
            RejectKind::Quantity
        } else if has("service") {
            RejectKind::Service
        } else if has("order id") || has("not found") || has("incorrect order") {
            RejectKind::NotFound
        } else {
            RejectKind::Other
        }
    }
}

/// An exact decimal from a JSON number or string (spec §6.3 rule 1): `"0.27819"`, `0.08011655652`,
/// `"100"`, `" 12.30 "`. Strings (the canonical form) are exact at any length. A JSON number is
/// read back from its shortest round-trip text, which is exact up to 15 significant digits
/// (serde_json holds numbers as `f64`; no arithmetic is done on them). `None` for anything else
/// (empty, `"Unknown"`, `"1,234.56"`).
pub fn decimal(v: &Value) -> Option<Decimal> {
    let text = match v {
        Value::String(s) => s.trim().to_string(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    if text.is_empty() {
        return None;
    }
    Decimal::from_str_exact(&text)
        .or_else(|_| Decimal::from_scientific(&text))
        .ok()
        .map(|d| d.normalize())
}

/// A count from a JSON integer or an integer string, negatives tolerated (spec §6.3 rule 5):
/// `"157"`, `0`, `"-3"`. `None` for `"Unknown"`, `null`, `""` and fractions other than `.0`.
pub fn count(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            let d = Decimal::from_str(&n.to_string()).ok()?;
            if d.fract().is_zero() {
                i64::try_from(d.trunc().mantissa()).ok()
            } else {
                None
            }
        }),
        Value::String(s) => {
            let t = s.trim();
            let t = t.strip_suffix(".0").unwrap_or(t);
            t.parse::<i64>().ok()
        }
        _ => None,
    }
}

/// A boolean from `true/false`, `1/0`, `"1"/"0"`, `"true"/"false"`, `"yes"/"no"` (spec §6.3
/// rule 4). `None` when absent, null or anything else (unknown).
pub fn flag(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|i| i != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" => Some(true),
            "0" | "false" | "no" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An id as opaque text (spec §6.3 rule 3): `23501` and `"23501"` are both `"23501"`.
pub fn id(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An upstream order status after normalisation (spec §5.1, §6.3 rule 6, C6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum OrderState {
    /// `Pending`, `Awaiting`.
    Pending,
    /// `Processing`.
    Processing,
    /// `In progress`, `In Progress`, `inprogress`, `in_progress`, `Active`.
    InProgress,
    Completed,
    Partial,
    /// `Canceled`, `Cancelled`, `Refunded`.
    Canceled,
    /// `Fail`, `Failed`, `Error`: ended without delivery, refund state unknown. smmd does not
    /// refund on it automatically; the order is flagged for an admin.
    Failed,
    /// Anything else, kept raw: non-terminal, alerted.
    Unknown(String),
}

fn squash(text: &str) -> String {
    normalise_words(text)
        .to_ascii_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

impl OrderState {
    /// Case-insensitive after trimming and collapsing spaces, `_` and `-`.
    pub fn parse(raw: &str) -> OrderState {
        match squash(raw).as_str() {
            "pending" | "awaiting" | "queued" => OrderState::Pending,
            "processing" => OrderState::Processing,
            "inprogress" | "active" | "running" => OrderState::InProgress,
            "completed" | "complete" | "done" => OrderState::Completed,
            "partial" => OrderState::Partial,
            "canceled" | "cancelled" | "refunded" => OrderState::Canceled,
            "fail" | "failed" | "error" => OrderState::Failed,
            _ => OrderState::Unknown(raw.trim().to_string()),
        }
    }
}

/// An upstream refill status after normalisation (spec §5.2).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RefillState {
    /// `Pending`, `Awaiting`.
    Pending,
    /// `In progress`, `Processing`.
    InProgress,
    /// `Completed`, `Processed`.
    Completed,
    /// `Rejected`, `Error`, `Failed`, `Canceled`/`Cancelled`.
    Rejected,
    Unknown(String),
}

impl RefillState {
    pub fn parse(raw: &str) -> RefillState {
        match squash(raw).as_str() {
            "pending" | "awaiting" => RefillState::Pending,
            "inprogress" | "processing" => RefillState::InProgress,
            "completed" | "processed" | "complete" => RefillState::Completed,
            "rejected" | "error" | "failed" | "fail" | "canceled" | "cancelled" => {
                RefillState::Rejected
            }
            _ => RefillState::Unknown(raw.trim().to_string()),
        }
    }
}

/// One upstream service (API v2 `services`, spec §4.1, C1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamService {
    /// The provider's service id, as text.
    pub id: String,
    pub name: String,
    /// The known type, or `None` with the raw text in `type_raw`.
    pub service_type: Option<ServiceType>,
    pub type_raw: String,
    pub category: String,
    /// Price per 1000 units (per package for package types) in the provider's currency.
    pub rate: Decimal,
    pub min: i64,
    pub max: i64,
    /// `None` when the provider does not say.
    pub refill: Option<bool>,
    pub cancel: Option<bool>,
    pub dripfeed: Option<bool>,
    pub description: String,
}

/// Why an answer could not be read as the expected shape.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ShapeError {
    /// The provider answered with an error envelope.
    #[error("{0}")]
    Api(String),
    /// A well-formed JSON value of the wrong shape.
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

fn unexpected(v: &Value) -> ShapeError {
    ShapeError::Unexpected(snippet(&v.to_string()))
}

fn check(v: &Value) -> Result<(), ShapeError> {
    match api_error(v) {
        Some(m) => Err(ShapeError::Api(m)),
        None => Ok(()),
    }
}

/// `action=services` (spec §4.1, §6.2 rule 6, C1): a list, a list wrapped in `services`/`data`,
/// or SmartPanel's `{"status":"success","data":"Empty Data"}` for none. Entries without an id or
/// a rate are skipped (returned in the second list as raw text for the sync report).
///
/// Takes the answer by value and frees each entry as it is read, so a large catalogue is not
/// held twice (as JSON and as services) at once.
pub fn services_from(v: Value) -> Result<(Vec<UpstreamService>, Vec<String>), ShapeError> {
    check(&v)?;
    let list = match v {
        Value::Array(a) => a,
        Value::Object(mut o) => {
            let key = ["services", "data"].iter().find_map(|k| {
                o.keys()
                    .find(|name| name.as_str() == *k)
                    .or_else(|| o.keys().find(|name| name.eq_ignore_ascii_case(k)))
                    .cloned()
            });
            match key.and_then(|k| o.remove(&k)) {
                Some(Value::Array(a)) => a,
                Some(Value::String(_)) => return Ok((Vec::new(), Vec::new())),
                _ => return Err(unexpected(&Value::Object(o))),
            }
        }
        other => return Err(unexpected(&other)),
    };
    let mut out = Vec::with_capacity(list.len());
    let mut skipped = Vec::new();
    for item in list {
        match service_item(&item) {
            Some(s) => out.push(s),
            None => skipped.push(snippet(&item.to_string())),
        }
    }
    Ok((out, skipped))
}

fn service_item(item: &Value) -> Option<UpstreamService> {
    let o = item.as_object()?;
    let id = field(o, "service").and_then(id)?;
    let rate = field(o, "rate").and_then(decimal)?;
    if rate.is_sign_negative() {
        return None;
    }
    let type_raw = field(o, "type").and_then(text_of).unwrap_or_default();
    let min = field(o, "min").and_then(count).unwrap_or(1).max(0);
    let max = field(o, "max").and_then(count).unwrap_or(min).max(min);
    Some(UpstreamService {
        id,
        name: field(o, "name").and_then(text_of).unwrap_or_default(),
        service_type: if type_raw.is_empty() {
            Some(ServiceType::Default)
        } else {
            ServiceType::parse(&type_raw)
        },
        type_raw,
        category: field(o, "category").and_then(text_of).unwrap_or_default(),
        rate,
        min,
        max,
        refill: flag(field(o, "refill")),
        cancel: flag(field(o, "cancel")),
        dripfeed: flag(field(o, "dripfeed")),
        description: ["desc", "description"]
            .iter()
            .find_map(|k| field(o, k).and_then(text_of))
            .unwrap_or_default(),
    })
}

/// `action=add` (spec §4.2, C2, C3): the provider order id from `{"order": 23501}`,
/// `{"order": "23501"}` or `{"status": "success", "order": 151}`.
pub fn add_from(v: &Value) -> Result<String, ShapeError> {
    check(v)?;
    v.as_object()
        .and_then(|o| field(o, "order"))
        .and_then(id)
        .ok_or_else(|| unexpected(v))
}

/// One order's upstream status (spec §4.3, C5, C7).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpstreamStatus {
    pub state: OrderState,
    /// What the provider charged for the order (after its own partial refund), its currency.
    pub charge: Option<Decimal>,
    pub start_count: Option<i64>,
    /// Undelivered units; `None` when unknown.
    pub remains: Option<i64>,
    pub currency: Option<String>,
}

fn status_object(o: &Map<String, Value>) -> Option<UpstreamStatus> {
    let raw = field(o, "status").and_then(Value::as_str)?;
    Some(UpstreamStatus {
        state: OrderState::parse(raw),
        charge: field(o, "charge").and_then(decimal),
        start_count: field(o, "start_count").and_then(count),
        remains: field(o, "remains").and_then(count),
        currency: field(o, "currency")
            .and_then(text_of)
            .filter(|c| !c.is_empty()),
    })
}

/// `action=status&order=ID` (spec §4.3 single form).
pub fn status_from(v: &Value) -> Result<UpstreamStatus, ShapeError> {
    check(v)?;
    v.as_object()
        .and_then(status_object)
        .ok_or_else(|| unexpected(v))
}

/// A status push (issue 20, provider webhooks): the provider's order id and its status, from
/// either smmd's own webhook body (`{"type": "order.completed", "order": {"id": 7, "status":
/// "completed", "start_count": …, "remains": …, "charge": "0.90"}}`, where `charge` is what
/// the pushing panel charged us) or a flat API v2 status with the id beside it (`{"order":
/// "7", "status": "Completed", "remains": "0", …}`). Numbers and strings are read alike.
pub fn push_from(v: &Value) -> Result<(String, UpstreamStatus), ShapeError> {
    let obj = v.as_object().ok_or_else(|| unexpected(v))?;
    let (id, status) = match field(obj, "order") {
        Some(Value::Object(o)) => (field(o, "id").and_then(text_of), status_object(o)),
        Some(other) => (text_of(other), status_object(obj)),
        None => (None, None),
    };
    match (id.filter(|i| !i.trim().is_empty()), status) {
        (Some(id), Some(s)) => Ok((id.trim().to_string(), s)),
        _ => Err(unexpected(v)),
    }
}

/// One requested id's entry in a multi answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item<T> {
    Found(T),
    /// A per-item error (`{"error": "Incorrect order ID"}` or a bare string, C8).
    Error(String),
    /// The id was requested but is absent from the answer (C8).
    Missing,
}

/// `action=status&orders=…` (spec §4.3 multi form, §6.2 rule 3, C8, C9). A top-level error
/// envelope fails the whole call (C9). Every requested id gets an [`Item`].
pub fn statuses_from(
    v: &Value,
    requested: &[String],
) -> Result<HashMap<String, Item<UpstreamStatus>>, ShapeError> {
    check(v)?;
    let obj = v.as_object().ok_or_else(|| unexpected(v))?;
    // Some panels answer a multi call with one id in the single shape.
    if requested.len() == 1 && field(obj, "status").is_some_and(Value::is_string) {
        let s = status_object(obj).ok_or_else(|| unexpected(v))?;
        return Ok(HashMap::from([(requested[0].clone(), Item::Found(s))]));
    }
    let mut out = HashMap::with_capacity(requested.len());
    for id in requested {
        let entry = obj
            .get(id)
            .or_else(|| obj.iter().find(|(k, _)| k.trim() == id).map(|(_, v)| v));
        let item = match entry {
            None => Item::Missing,
            Some(Value::String(s)) => Item::Error(s.clone()),
            Some(e) => match api_error(e) {
                Some(m) => Item::Error(m),
                None => match e.as_object().and_then(status_object) {
                    Some(s) => Item::Found(s),
                    None => Item::Error(format!("unreadable entry: {}", snippet(&e.to_string()))),
                },
            },
        };
        out.insert(id.clone(), item);
    }
    Ok(out)
}

/// `action=refill&order=ID` (spec §4.4, C10): the refill id from `{"refill": "1"}` or
/// `{"success": "…", "refill": 12345}`.
pub fn refill_from(v: &Value) -> Result<String, ShapeError> {
    check(v)?;
    let refill = v.as_object().and_then(|o| field(o, "refill"));
    match refill {
        Some(r) => match api_error(r) {
            Some(m) => Err(ShapeError::Api(m)),
            None => id(r).ok_or_else(|| unexpected(v)),
        },
        None => Err(unexpected(v)),
    }
}

/// Items of a multi answer keyed by `key_name` inside each element (the canonical array), or an
/// object keyed by id (spec §6.2 rule 4). Returns id → the element's `value_name` member (or
/// the whole element when it has none).
fn keyed_items<'a>(v: &'a Value, key_name: &str, value_name: &str) -> HashMap<String, &'a Value> {
    let mut out = HashMap::new();
    match v {
        Value::Array(items) => {
            for it in items {
                if let Some(o) = it.as_object() {
                    if let Some(k) = field(o, key_name).and_then(id) {
                        out.insert(k, field(o, value_name).unwrap_or(it));
                    }
                }
            }
        }
        Value::Object(o) => {
            for (k, it) in o {
                let inner = it
                    .as_object()
                    .and_then(|io| field(io, value_name))
                    .unwrap_or(it);
                out.insert(k.trim().to_string(), inner);
            }
        }
        _ => {}
    }
    out
}

/// `action=refill&orders=…` (spec §4.4 multi): order id → refill id or per-item error.
pub fn refills_from(
    v: &Value,
    requested: &[String],
) -> Result<HashMap<String, Item<String>>, ShapeError> {
    check(v)?;
    if !v.is_array() {
        return Err(unexpected(v));
    }
    let items = keyed_items(v, "order", "refill");
    Ok(requested
        .iter()
        .map(|r| {
            let item = match items.get(r) {
                None => Item::Missing,
                Some(x) => match api_error(x) {
                    Some(m) => Item::Error(m),
                    None => id(x).map_or_else(|| Item::Error(x.to_string()), Item::Found),
                },
            };
            (r.clone(), item)
        })
        .collect())
}

/// `action=refill_status&refills=…` (spec §4.5, C11): refill id → state or per-item error, from
/// the canonical array or an object keyed by refill id.
pub fn refill_statuses_from(
    v: &Value,
    requested: &[String],
) -> Result<HashMap<String, Item<RefillState>>, ShapeError> {
    check(v)?;
    if let (1, Some(Value::String(s))) = (
        requested.len(),
        v.as_object().and_then(|o| field(o, "status")),
    ) {
        return Ok(HashMap::from([(
            requested[0].clone(),
            Item::Found(RefillState::parse(s)),
        )]));
    }
    let items = keyed_items(v, "refill", "status");
    Ok(requested
        .iter()
        .map(|r| {
            let item = match items.get(r) {
                None => Item::Missing,
                Some(Value::String(s)) => Item::Found(RefillState::parse(s)),
                Some(x) => Item::Error(api_error(x).unwrap_or_else(|| x.to_string())),
            };
            (r.clone(), item)
        })
        .collect())
}

/// `action=cancel&orders=…` (spec §4.6, C12): order id → accepted (`1`, `true`, `"1"`) or a
/// per-item error. `{"success": …}` / `{"status":"success"}` answers to a one-id request count
/// as accepted.
pub fn cancels_from(
    v: &Value,
    requested: &[String],
) -> Result<HashMap<String, Item<()>>, ShapeError> {
    check(v)?;
    if let (1, Value::Object(o)) = (requested.len(), v) {
        let ok = field(o, "success").is_some()
            || field(o, "status")
                .and_then(Value::as_str)
                .is_some_and(|s| s.eq_ignore_ascii_case("success"));
        if ok {
            return Ok(HashMap::from([(requested[0].clone(), Item::Found(()))]));
        }
    }
    let items = keyed_items(v, "order", "cancel");
    Ok(requested
        .iter()
        .map(|r| {
            let item = match items.get(r) {
                None => Item::Missing,
                Some(x) => match (api_error(x), flag(Some(x))) {
                    (Some(m), _) => Item::Error(m),
                    (None, Some(true)) => Item::Found(()),
                    (None, _) => Item::Error(format!("cancel refused: {x}")),
                },
            };
            (r.clone(), item)
        })
        .collect())
}

/// A provider account balance (spec §4.7, C13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Balance {
    pub amount: Decimal,
    /// `None` when the provider does not say (use the provider's configured currency).
    pub currency: Option<String>,
}

/// `action=balance` (spec §4.7, C13).
pub fn balance_from(v: &Value) -> Result<Balance, ShapeError> {
    check(v)?;
    let o = v.as_object().ok_or_else(|| unexpected(v))?;
    let amount = field(o, "balance")
        .and_then(decimal)
        .ok_or_else(|| unexpected(v))?;
    Ok(Balance {
        amount,
        currency: field(o, "currency")
            .and_then(text_of)
            .filter(|c| !c.is_empty()),
    })
}

#[cfg(test)]
mod tests;
