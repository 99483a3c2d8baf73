//! Row decoding: one column list and one decoder per record, shared by every query that returns
//! that record. Columns are portable types only (`BIGINT`, `TEXT`); flags are 0/1.

use anyhow::{anyhow, Context};
use smmd_domain::failover::Reason;
use smmd_domain::margin::Hold;
use smmd_domain::order::OrderStatus;
use smmd_domain::refill::RefillStatus;
use smmd_domain::service::ServiceType;
use smmd_domain::{CategoryId, Money, OrderId, ProviderId, RefillId, ServiceId, UserId};
use smmd_store::{
    LedgerEntry, LedgerKind, Order, OrderStatusView, Refill, Role, Service, StoreError,
    StoreResult, User,
};
use sqlx::Row as _;

use crate::Row;

/// A row of either driver: sqlx's [`Row`], or a `rusqlite` row of the SQLite direct reader
/// ([`crate::direct`]). Columns are portable types only, so integers and text are all there is.
pub(crate) trait Cols {
    fn int(&self, col: &str) -> anyhow::Result<Option<i64>>;
    fn text(&self, col: &str) -> anyhow::Result<Option<String>>;
}

impl Cols for Row {
    fn int(&self, col: &str) -> anyhow::Result<Option<i64>> {
        Ok(self.try_get(col)?)
    }
    fn text(&self, col: &str) -> anyhow::Result<Option<String>> {
        Ok(self.try_get(col)?)
    }
}

/// A `rusqlite` row with its statement's column names, read once per statement: `rusqlite`
/// finds a column by name by asking SQLite for every name before it (a C string each), which
/// for an order's 28 columns is ~400 calls per row; here it is 28 per statement and a
/// comparison of short strings per value.
pub(crate) struct Named<'r, 's> {
    pub(crate) row: &'r rusqlite::Row<'s>,
    pub(crate) names: &'r [String],
}

impl Named<'_, '_> {
    /// The column names of `stmt`, for [`Named`].
    pub(crate) fn names_of(stmt: &rusqlite::Statement<'_>) -> Vec<String> {
        stmt.column_names().into_iter().map(str::to_owned).collect()
    }

    fn at(&self, col: &str) -> anyhow::Result<usize> {
        self.names
            .iter()
            .position(|n| n == col)
            .ok_or_else(|| anyhow!("no column {col}"))
    }
}

impl Cols for Named<'_, '_> {
    fn int(&self, col: &str) -> anyhow::Result<Option<i64>> {
        Ok(self.row.get(self.at(col)?)?)
    }
    fn text(&self, col: &str) -> anyhow::Result<Option<String>> {
        Ok(self.row.get(self.at(col)?)?)
    }
}

/// A value [`get`] reads from a column.
pub(crate) trait Col: Sized {
    fn read<R: Cols + ?Sized>(row: &R, col: &str) -> anyhow::Result<Self>;
}

impl Col for Option<i64> {
    fn read<R: Cols + ?Sized>(row: &R, col: &str) -> anyhow::Result<Self> {
        row.int(col)
    }
}

impl Col for Option<String> {
    fn read<R: Cols + ?Sized>(row: &R, col: &str) -> anyhow::Result<Self> {
        row.text(col)
    }
}

impl Col for i64 {
    fn read<R: Cols + ?Sized>(row: &R, col: &str) -> anyhow::Result<Self> {
        row.int(col)?.ok_or_else(|| anyhow!("NULL"))
    }
}

impl Col for String {
    fn read<R: Cols + ?Sized>(row: &R, col: &str) -> anyhow::Result<Self> {
        row.text(col)?.ok_or_else(|| anyhow!("NULL"))
    }
}

/// Column `col` of `row` (either driver).
pub(crate) fn get<T: Col>(row: &(impl Cols + ?Sized), col: &str) -> StoreResult<T> {
    T::read(row, col)
        .with_context(|| format!("column {col}"))
        .map_err(StoreError::Other)
}

pub(crate) fn money<R: Cols + ?Sized>(row: &R, col: &str) -> StoreResult<Money> {
    get::<i64>(row, col).map(Money::from_micros)
}

fn opt_money<R: Cols + ?Sized>(row: &R, col: &str) -> StoreResult<Option<Money>> {
    get::<Option<i64>>(row, col).map(|v| v.map(Money::from_micros))
}

pub(crate) fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Other(anyhow!("unexpected {what} `{value}` in database"))
}

/// The columns [`user`] reads. `totp_secret` is read only to say whether two-factor is on.
pub(crate) const USER_COLS: &str =
    "id, email, role, balance, created_at, totp_secret, email_pending_since, language, display_currency";

pub(crate) fn user<R: Cols + ?Sized>(row: &R) -> StoreResult<User> {
    let role: String = get(row, "role")?;
    Ok(User {
        id: UserId(get(row, "id")?),
        email: get(row, "email")?,
        role: Role::parse(&role).ok_or_else(|| bad("role", &role))?,
        balance: money(row, "balance")?,
        created_at: get(row, "created_at")?,
        two_factor: get::<Option<String>>(row, "totp_secret")?.is_some(),
        email_pending: get::<Option<i64>>(row, "email_pending_since")?.is_some(),
        language: get(row, "language")?,
        display_currency: get(row, "display_currency")?,
    })
}

pub(crate) const LEDGER_COLS: &str =
    "id, user_id, amount, balance_after, idem_key, kind, reason, order_id, actor_id, created_at";

pub(crate) fn ledger(row: &Row) -> StoreResult<LedgerEntry> {
    let kind: String = get(row, "kind")?;
    Ok(LedgerEntry {
        id: get(row, "id")?,
        user_id: UserId(get(row, "user_id")?),
        amount: money(row, "amount")?,
        balance_after: money(row, "balance_after")?,
        key: get(row, "idem_key")?,
        kind: LedgerKind::parse(&kind).ok_or_else(|| bad("ledger kind", &kind))?,
        reason: get(row, "reason")?,
        order_id: get::<Option<i64>>(row, "order_id")?.map(OrderId),
        actor_id: get::<Option<i64>>(row, "actor_id")?.map(UserId),
        created_at: get(row, "created_at")?,
    })
}

pub(crate) const SERVICE_COLS: &str = "s.id, s.category_id, c.name AS category, s.name, s.service_type, s.rate, \
     s.min_qty, s.max_qty, s.refill, s.guarantee_days, s.cancel, s.dripfeed, s.link_rule, s.description, s.enabled, \
     s.markup_bp, s.provider_id, s.provider_service_id, s.provider_rate, s.provider_currency, s.overrides, s.auto_refill";

pub(crate) fn service<R: Cols + ?Sized>(row: &R) -> StoreResult<Service> {
    let t: String = get(row, "service_type")?;
    Ok(Service {
        id: ServiceId(get(row, "id")?),
        category_id: CategoryId(get(row, "category_id")?),
        category: get(row, "category")?,
        name: get(row, "name")?,
        service_type: ServiceType::parse(&t).ok_or_else(|| bad("service type", &t))?,
        rate: money(row, "rate")?,
        min: get(row, "min_qty")?,
        max: get(row, "max_qty")?,
        refill: get::<i64>(row, "refill")? != 0,
        guarantee_days: get(row, "guarantee_days")?,
        cancel: get::<i64>(row, "cancel")? != 0,
        dripfeed: get::<i64>(row, "dripfeed")? != 0,
        link_rule: get::<i64>(row, "link_rule")? != 0,
        description: get(row, "description")?,
        enabled: get::<i64>(row, "enabled")? != 0,
        markup_bp: get(row, "markup_bp")?,
        provider_id: get::<Option<i64>>(row, "provider_id")?.map(ProviderId),
        provider_service_id: get(row, "provider_service_id")?,
        provider_rate: opt_money(row, "provider_rate")?,
        provider_currency: get(row, "provider_currency")?,
        overrides: get::<String>(row, "overrides")?
            .split(',')
            .filter(|f| !f.is_empty())
            .map(str::to_string)
            .collect(),
        auto_refill: get::<i64>(row, "auto_refill")? != 0,
    })
}

pub(crate) const ORDER_COLS: &str = "id, reference, user_id, service_id, status, link, quantity, runs, interval_minutes, \
     total_quantity, charge, refunded, start_count, remains, extras, guarantee_days, refill, cancel, \
     cancel_requested, provider_id, provider_service_id, offer_index, provider_order_id, note, provider_charge, \
     hold, route_reason, created_at, updated_at, completed_at";

/// A column list with every column prefixed by `table.` (for joins and `UPDATE … FROM`).
pub(crate) fn qualified(cols: &str, table: &str) -> String {
    cols.split(',')
        .map(|c| format!("{table}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn order<R: Cols + ?Sized>(row: &R) -> StoreResult<Order> {
    let status: String = get(row, "status")?;
    let extras: String = get(row, "extras")?;
    Ok(Order {
        id: OrderId(get(row, "id")?),
        reference: get::<Option<String>>(row, "reference")?.unwrap_or_default(),
        user_id: UserId(get(row, "user_id")?),
        service_id: ServiceId(get(row, "service_id")?),
        status: OrderStatus::parse(&status).ok_or_else(|| bad("order status", &status))?,
        link: get(row, "link")?,
        quantity: get(row, "quantity")?,
        runs: get(row, "runs")?,
        interval: get(row, "interval_minutes")?,
        total_quantity: get(row, "total_quantity")?,
        charge: money(row, "charge")?,
        refunded: money(row, "refunded")?,
        start_count: get(row, "start_count")?,
        remains: get(row, "remains")?,
        extras: serde_json::from_str(&extras).map_err(|_| bad("order extras", &extras))?,
        guarantee_days: get(row, "guarantee_days")?,
        refill: get::<i64>(row, "refill")? != 0,
        cancel: get::<i64>(row, "cancel")? != 0,
        cancel_requested: get::<i64>(row, "cancel_requested")? != 0,
        provider_id: get::<Option<i64>>(row, "provider_id")?.map(ProviderId),
        provider_service_id: get(row, "provider_service_id")?,
        offer_index: get(row, "offer_index")?,
        provider_order_id: get(row, "provider_order_id")?,
        note: get(row, "note")?,
        provider_charge: opt_money(row, "provider_charge")?,
        hold: match get::<Option<String>>(row, "hold")? {
            None => None,
            Some(h) => Some(Hold::parse(&h).ok_or_else(|| bad("order hold", &h))?),
        },
        route_reason: match get::<Option<String>>(row, "route_reason")? {
            None => None,
            Some(r) => Some(Reason::parse(&r).ok_or_else(|| bad("order route reason", &r))?),
        },
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
        completed_at: get(row, "completed_at")?,
    })
}

/// Decodes `id, status, charge, refunded, start_count, remains, total_quantity`.
pub(crate) fn status_view<R: Cols + ?Sized>(row: &R) -> StoreResult<OrderStatusView> {
    let status: String = get(row, "status")?;
    Ok(OrderStatusView {
        id: OrderId(get(row, "id")?),
        status: OrderStatus::parse(&status).ok_or_else(|| bad("order status", &status))?,
        charge: money(row, "charge")?,
        refunded: money(row, "refunded")?,
        start_count: get(row, "start_count")?,
        remains: get(row, "remains")?,
        total_quantity: get(row, "total_quantity")?,
    })
}

pub(crate) const REFILL_COLS: &str =
    "id, order_id, user_id, status, provider_refill_id, created_at, updated_at";

pub(crate) fn refill(row: &Row) -> StoreResult<Refill> {
    let status: String = get(row, "status")?;
    Ok(Refill {
        id: RefillId(get(row, "id")?),
        order_id: OrderId(get(row, "order_id")?),
        user_id: UserId(get(row, "user_id")?),
        status: RefillStatus::parse(&status).ok_or_else(|| bad("refill status", &status))?,
        provider_refill_id: get(row, "provider_refill_id")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) const PROVIDER_COLS: &str =
    "id, name, url, currency, exchange_rate, enabled, api_key_enc, timeout_ms, \
     max_concurrency, rate_per_sec, balance, balance_checked_at, balance_alert_below, out_of_funds_at, push_secret_enc, push_at, created_at, \
     answer_max_bytes, services_max_bytes, price_jump_pct";

pub(crate) fn provider(row: &Row) -> StoreResult<smmd_store::Provider> {
    Ok(smmd_store::Provider {
        id: ProviderId(get(row, "id")?),
        name: get(row, "name")?,
        url: get(row, "url")?,
        currency: get(row, "currency")?,
        exchange_rate: get(row, "exchange_rate")?,
        enabled: get::<i64>(row, "enabled")? != 0,
        api_key_enc: get(row, "api_key_enc")?,
        timeout_ms: get(row, "timeout_ms")?,
        max_concurrency: get(row, "max_concurrency")?,
        rate_per_sec: get(row, "rate_per_sec")?,
        balance: opt_money(row, "balance")?,
        balance_checked_at: get(row, "balance_checked_at")?,
        balance_alert_below: opt_money(row, "balance_alert_below")?,
        out_of_funds_at: get(row, "out_of_funds_at")?,
        push_secret_enc: get(row, "push_secret_enc")?,
        push_at: get(row, "push_at")?,
        limits: smmd_store::ProviderLimits {
            answer_max_bytes: get(row, "answer_max_bytes")?,
            services_max_bytes: get(row, "services_max_bytes")?,
            price_jump_pct: get(row, "price_jump_pct")?,
        },
        created_at: get(row, "created_at")?,
    })
}

pub(crate) fn sync_target(row: &Row) -> StoreResult<smmd_store::SyncTarget> {
    let status: String = get(row, "status")?;
    Ok(smmd_store::SyncTarget {
        id: OrderId(get(row, "id")?),
        status: OrderStatus::parse(&status).ok_or_else(|| bad("order status", &status))?,
        provider_order_id: get(row, "provider_order_id")?,
        start_count: get(row, "start_count")?,
        remains: get(row, "remains")?,
        provider_charge: opt_money(row, "provider_charge")?,
        cancel_requested: get::<i64>(row, "cancel_requested")? != 0,
        total_quantity: get(row, "total_quantity")?,
    })
}

/// An `order_events.kind` read back; an unknown name is a store error, never a guess.
pub(crate) fn event_kind(text: &str) -> StoreResult<smmd_domain::order::EventKind> {
    smmd_domain::order::EventKind::parse(text).ok_or_else(|| bad("order event kind", text))
}

pub(crate) const ALERT_COLS: &str = "id, kind, subject, message, created_at, updated_at";

pub(crate) fn alert(row: &Row) -> StoreResult<smmd_store::Alert> {
    Ok(smmd_store::Alert {
        id: get(row, "id")?,
        kind: get(row, "kind")?,
        subject: get(row, "subject")?,
        message: get(row, "message")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) const CHANGE_COLS: &str =
    "id, service_id, field, old_value, new_value, source, created_at";

pub(crate) fn service_change(row: &Row) -> StoreResult<smmd_store::ServiceChange> {
    Ok(smmd_store::ServiceChange {
        id: get(row, "id")?,
        service_id: ServiceId(get(row, "service_id")?),
        field: get(row, "field")?,
        old: get(row, "old_value")?,
        new: get(row, "new_value")?,
        source: get(row, "source")?,
        created_at: get(row, "created_at")?,
    })
}
