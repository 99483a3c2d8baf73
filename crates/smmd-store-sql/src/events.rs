//! The order event log (`order_events`): one append-only row per thing that happened to an
//! order, written inside the transaction of the change it records: placement, every status
//! change (with the refund it paid), a cancel request, and every refill status. One change is
//! left out on purpose: the dispatch claim (`queued → submitting`), a state that lasts one
//! provider call and is claimed in bulk; its outcome (`processing`, `queued`, `canceled`,
//! `needs_review`) is logged. Nothing here opens a transaction of its own.

use smmd_domain::order::EventKind;
use smmd_domain::{Money, OrderId, RefillId};
use smmd_store::{OrderLogEntry, StoreResult};
use sqlx::{Any, Transaction};

use crate::rows;
use crate::{SqlResultExt, SqlStore};

const COLS: &str = "id, order_id, kind, status, amount, detail, created_at";

/// One event of an order.
pub(crate) struct Event<'a> {
    pub order_id: OrderId,
    pub user_id: smmd_domain::UserId,
    pub kind: EventKind,
    pub status: &'a str,
    pub amount: Option<Money>,
    pub detail: &'a str,
    pub now: i64,
}

/// An order event: order, user, kind, status, amount (micro-units), detail, time (epoch ms),
/// `$1`…`$7`.
pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) async fn record(tx: &mut Transaction<'static, Any>, e: Event<'_>) -> StoreResult<()> {
    sqlx::query(INSERT_EVENT)
        .bind(e.order_id.0)
        .bind(e.user_id.0)
        .bind(e.kind.as_str())
        .bind(e.status)
        .bind(e.amount.map(Money::micros))
        .bind(e.detail)
        .bind(e.now)
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(())
}

/// Status events for many orders in one statement: `(order, user, new status)`, all at `now`.
/// Every value is an integer or a fixed status name, so they are written as literals.
pub(crate) async fn record_statuses(
    tx: &mut Transaction<'static, Any>,
    changes: &[(i64, i64, &'static str)],
    now: i64,
) -> StoreResult<()> {
    if changes.is_empty() {
        return Ok(());
    }
    let values: Vec<String> = changes
        .iter()
        .map(|(o, u, st)| {
            let kind = EventKind::Status.as_str();
            format!("({o}, {u}, '{kind}', '{st}', NULL, '', {now})")
        })
        .collect();
    sqlx::query(&format!(
        "INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at) VALUES {}",
        values.join(", ")
    ))
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// A `refill` event with the refill's current status, read from its row.
pub(crate) async fn record_refill(
    tx: &mut Transaction<'static, Any>,
    id: RefillId,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at) \
         SELECT order_id, user_id, '{}', status, NULL, 'Refill #' || id || COALESCE(': ' || note, ''), $2 \
         FROM refills WHERE id = $1",
        EventKind::Refill.as_str()
    ))
    .bind(id.0)
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn of_order(s: &SqlStore, order: OrderId) -> StoreResult<Vec<OrderLogEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM order_events WHERE order_id = $1 ORDER BY id"
    ))
    .bind(order.0)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(OrderLogEntry {
                id: rows::get(r, "id")?,
                order_id: OrderId(rows::get(r, "order_id")?),
                kind: rows::event_kind(&rows::get::<String>(r, "kind")?)?,
                status: rows::get(r, "status")?,
                amount: rows::get::<Option<i64>>(r, "amount")?.map(Money::from_micros),
                detail: rows::get(r, "detail")?,
                created_at: rows::get(r, "created_at")?,
            })
        })
        .collect()
}
