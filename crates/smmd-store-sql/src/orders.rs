//! Orders and refills: placement (debit + ledger + row in one transaction), guarded state
//! changes with their refunds, cancels and refill requests.
//!
//! Placement inserts the order first, then debits: the active-link rule is a partial unique index
//! (so a concurrent duplicate waits for, then fails against, the first one's commit), and the
//! conditional debit takes the user's row lock (PostgreSQL) only for the last two statements.

use smmd_domain::cancel::{check_cancel, CancelFacts, CancelPath};
use smmd_domain::order::{self, EventKind, OrderEvent, OrderStatus};
use smmd_domain::refill::{check_refill, RefillError, RefillFacts, RefillStatus};
use smmd_domain::service::{OrderError, OrderSpec};
use smmd_domain::{Money, OrderId, RefillId, UserId};
use smmd_store::*;
use sqlx::{Any, Transaction};

use crate::events;
use crate::queries::{archived_owner, first_of_both, Filter, ORDER_TABLES, REFILL_TABLES};
use crate::rows::{self, ORDER_COLS, REFILL_COLS};
use crate::wallet::{post, Posting};
use crate::{flag, Dialect, Row, SqlResultExt, SqlStore};

/// Rows of `SELECT {cols} FROM {table} WHERE user_id = $1` whose `id` is among `ids`, from the
/// live and the archive table, each in one query with the list bound as a single parameter
/// ([`Dialect::id_in`]).
async fn owned_by_ids(
    s: &SqlStore,
    cols: &str,
    tables: [&str; 2],
    user: UserId,
    ids: &[i64],
) -> StoreResult<Vec<Row>> {
    let mut out = Vec::new();
    let list = s.dialect.id_list(ids.iter().copied());
    for table in tables {
        if out.len() == ids.len() {
            break;
        }
        let sql = format!(
            "SELECT {cols} FROM {table} WHERE user_id = $1 AND {}",
            s.dialect.id_in("id", 2)
        );
        out.extend(
            sqlx::query(&sql)
                .bind(user.0)
                .bind(&list)
                .fetch_all(&s.read)
                .await
                .db()?,
        );
    }
    Ok(out)
}

pub(crate) async fn place_order(
    s: &SqlStore,
    user: UserId,
    svc: &Service,
    spec: &OrderSpec,
    placement: Placement<'_>,
    now: i64,
) -> Result<Order, PlaceOrderError> {
    let mut tx = s.begin().await?;
    // 1. The order row. The unique index `orders_active_link` refuses a second active order for
    //    the same (user, service, link) when the service enforces the rule (`link_key` set).
    let extras = serde_json::to_string(&spec.extras).map_err(|e| StoreError::Other(e.into()))?;
    let link_key = spec.link.as_deref().filter(|_| svc.link_rule);
    let row = sqlx::query(&format!(
        "INSERT INTO orders (user_id, service_id, status, link, link_key, quantity, runs, interval_minutes, total_quantity, \
         charge, extras, guarantee_days, refill, cancel, provider_id, provider_service_id, created_at, updated_at, \
         reference, request_key, panel_id) \
         VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $16, $15, $15, $17, $18, $19) \
         RETURNING {ORDER_COLS}"
    ))
    .bind(user.0)
    .bind(svc.id.0)
    .bind(spec.link.as_deref())
    .bind(link_key)
    .bind(spec.quantity)
    .bind(spec.runs)
    .bind(spec.interval)
    .bind(spec.total_quantity)
    .bind(spec.charge.micros())
    .bind(extras)
    .bind(if svc.refill { svc.guarantee_days } else { 0 })
    .bind(flag(svc.refill))
    .bind(flag(svc.cancel))
    .bind(svc.provider_id.map(|p| p.0))
    .bind(now)
    .bind(svc.provider_service_id.as_deref())
    .bind(new_reference())
    .bind(placement.request_key)
    .bind(placement.panel)
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::map_err)
    .map_err(|e| match e {
        StoreError::Conflict("orders.active_link") => PlaceOrderError::Rejected(OrderError::ActiveOrderWithLink),
        e => PlaceOrderError::Store(e),
    })?;
    let placed = rows::order(&row)?;
    // 2. The conditional debit and its ledger row, last, so the user's row lock (PostgreSQL) is
    //    held only for the debit, one insert and the commit.
    if spec.charge.is_positive() {
        let reason = format!("Order #{}", placed.id);
        let key = smmd_domain::ledger::charge_key(placed.id.0);
        let posted = post(
            &mut tx,
            s.dialect,
            Posting {
                user_id: user,
                amount: -spec.charge,
                kind: LedgerKind::Charge,
                key: &key,
                reason: &reason,
                order_id: Some(placed.id),
                actor_id: None,
                now,
            },
        )
        .await;
        match posted {
            Ok(_) => {}
            Err(BalanceError::InsufficientFunds) => {
                return Err(OrderError::InsufficientFunds.into())
            }
            Err(BalanceError::Store(e)) => return Err(e.into()),
            Err(other) => {
                return Err(StoreError::Other(anyhow::anyhow!("charging order: {other}")).into())
            }
        }
        // 3. A referred user's order earns its affiliate a commission, in this transaction.
        crate::affiliates::on_charge(
            &mut tx,
            placed.id,
            user,
            spec.charge,
            spec.link.as_deref(),
            now,
        )
        .await?;
    }
    events::record(
        &mut tx,
        events::Event {
            order_id: placed.id,
            user_id: user,
            kind: EventKind::Placed,
            status: placed.status.as_str(),
            amount: Some(-spec.charge),
            detail: "",
            now,
        },
    )
    .await?;
    s.commit(tx).await?;
    Ok(placed)
}

pub(crate) async fn import_orders(s: &SqlStore, list: &[ImportedOrder]) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    for o in list {
        sqlx::query(
            "INSERT INTO orders (id, user_id, service_id, status, link, quantity, total_quantity, charge, start_count, \
             remains, created_at, updated_at, completed_at, refill, guarantee_days, cancel, reference) \
             SELECT $1, $2, $3, $4, $5, $6, $6, $7, $8, $9, $10, $10, $11, s.refill, s.guarantee_days, s.cancel, $12 \
             FROM services s WHERE s.id = $3",
        )
        .bind(o.id.0)
        .bind(o.user_id.0)
        .bind(o.service_id.0)
        .bind(o.status.as_str())
        .bind(o.link.as_deref())
        .bind(o.quantity)
        .bind(o.charge.micros())
        .bind(o.start_count)
        .bind(o.remains)
        .bind(o.created_at)
        .bind(o.completed_at)
        .bind(new_reference())
        .execute(&mut *tx)
        .await
        .db()?;
    }
    if s.dialect == Dialect::Postgres {
        // Explicit ids do not advance the identity sequence; move it past them.
        sqlx::query(
            "SELECT setval(pg_get_serial_sequence('orders', 'id'), (SELECT MAX(id) FROM orders))",
        )
        .execute(&mut *tx)
        .await
        .db()?;
    }
    s.commit(tx).await
}

/// A new public order reference: 6 random bytes as 12 lower-case hex characters.
fn new_reference() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// An order by id, live or archived.
pub(crate) async fn order(s: &SqlStore, id: OrderId) -> StoreResult<Option<Order>> {
    let mut f = Filter::default();
    f.int("id = ?", Some(id.0));
    let row = first_of_both(s, ORDER_COLS, ORDER_TABLES, &f).await?;
    row.as_ref().map(rows::order).transpose()
}

/// The user's orders not Completed, Partial or Canceled (archived orders are all terminal).
pub(crate) async fn active_orders(s: &SqlStore, user: UserId) -> StoreResult<i64> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM orders WHERE user_id = $1 \
         AND status NOT IN ('completed', 'partial', 'canceled')",
    )
    .bind(user.0)
    .fetch_one(&s.read)
    .await
    .db()?;
    rows::get(&row, "n")
}

pub(crate) async fn orders_of_user(
    s: &SqlStore,
    user: UserId,
    ids: &[OrderId],
) -> StoreResult<Vec<Order>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let rows = owned_by_ids(s, ORDER_COLS, ORDER_TABLES, user, &ids).await?;
    rows.iter().map(rows::order).collect()
}

pub(crate) async fn order_statuses(
    s: &SqlStore,
    user: UserId,
    ids: &[OrderId],
) -> StoreResult<Vec<OrderStatusView>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let rows = owned_by_ids(
        s,
        "id, status, charge, refunded, start_count, remains, total_quantity",
        ORDER_TABLES,
        user,
        &ids,
    )
    .await?;
    rows.iter().map(rows::status_view).collect()
}

async fn lock_order(
    s: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    id: OrderId,
) -> StoreResult<Option<Order>> {
    let row = sqlx::query(&format!(
        "SELECT {ORDER_COLS} FROM orders WHERE id = $1{}",
        s.dialect.for_update()
    ))
    .bind(id.0)
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    row.as_ref().map(rows::order).transpose()
}

/// The guarded transition and its refund, inside `tx`. Shared by sync, admin actions and cancel.
async fn apply_in_tx(
    s: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    u: &OrderUpdate,
) -> StoreResult<UpdateOutcome> {
    let Some(current) = lock_order(s, tx, u.order_id).await? else {
        return Err(StoreError::NotFound);
    };
    apply_loaded(s, tx, &current, u).await
}

/// What a legal update of a loaded order writes.
struct Planned {
    next: OrderStatus,
    remains: Option<i64>,
    target: Money,
    due: Money,
    completed_at: Option<i64>,
    cancel_requested: bool,
}

/// The state machine and refund rule applied to `current`; `Err` is the outcome when nothing
/// may be written (stale or illegal).
fn plan(current: &Order, u: &OrderUpdate) -> Result<Planned, UpdateOutcome> {
    if current.status != u.expected {
        return Err(UpdateOutcome::Stale);
    }
    let next = order::transition(current.status, u.event).map_err(UpdateOutcome::Illegal)?;
    let remains = u.remains.or(current.remains);
    let target = order::refund_target(next, current.charge, current.total_quantity, remains);
    Ok(Planned {
        next,
        remains,
        target,
        due: order::refund_due(target, current.refunded),
        completed_at: match (next.is_terminal(), current.completed_at) {
            (true, None) => Some(u.now),
            (_, existing) => existing,
        },
        cancel_requested: current.cancel_requested && !next.is_terminal(),
    })
}

/// The guarded transition of `current` (read in `tx`, locked on PostgreSQL) and its refund: one
/// `UPDATE … RETURNING` plus, when a refund is due, its ledger posting.
async fn apply_loaded(
    s: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    current: &Order,
    u: &OrderUpdate,
) -> StoreResult<UpdateOutcome> {
    let Planned {
        next,
        remains,
        target,
        due,
        completed_at,
        cancel_requested,
    } = match plan(current, u) {
        Ok(p) => p,
        Err(outcome) => return Ok(outcome),
    };
    let (offer_index, offer_provider, offer_service) = match &u.offer {
        Some((i, o)) => (
            Some(*i),
            Some(o.provider_id.0),
            Some(o.provider_service_id.as_str()),
        ),
        None => (None, None, None),
    };
    let row = sqlx::query(&format!(
        "UPDATE orders SET status = $1, start_count = COALESCE($2, start_count), remains = $3, \
         provider_order_id = COALESCE($4, provider_order_id), provider_charge = COALESCE($5, provider_charge), \
         refunded = refunded + $6, completed_at = $7, cancel_requested = $8, updated_at = $9, checked_at = $9, \
         offer_index = COALESCE($12, offer_index), provider_id = COALESCE($13, provider_id), \
         provider_service_id = COALESCE($14, provider_service_id), note = COALESCE($15, note) \
         WHERE id = $10 AND status = $11 RETURNING {ORDER_COLS}"
    ))
    .bind(next.as_str())
    .bind(u.start_count)
    .bind(remains)
    .bind(u.provider_order_id.as_deref())
    .bind(u.provider_charge.map(|m| m.micros()))
    .bind(due.micros())
    .bind(completed_at)
    .bind(flag(cancel_requested))
    .bind(u.now)
    .bind(u.order_id.0)
    .bind(u.expected.as_str())
    .bind(offer_index)
    .bind(offer_provider)
    .bind(offer_service)
    .bind(u.note.as_deref())
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    let Some(row) = row else {
        return Ok(UpdateOutcome::Stale);
    };
    let updated = rows::order(&row)?;
    if next != current.status || due.is_positive() {
        events::record(
            tx,
            events::Event {
                order_id: current.id,
                user_id: current.user_id,
                kind: EventKind::Status,
                status: next.as_str(),
                amount: Some(due).filter(|d| d.is_positive()),
                detail: u.note.as_deref().unwrap_or(""),
                now: u.now,
            },
        )
        .await?;
    }
    if due.is_positive() {
        let key = if current.refunded == Money::ZERO {
            smmd_domain::ledger::refund_key(current.id.0)
        } else {
            smmd_domain::ledger::refund_top_up_key(current.id.0, target.micros())
        };
        let reason = format!("Refund for order #{} ({})", current.id, next.wire());
        post(
            tx,
            s.dialect,
            Posting {
                user_id: current.user_id,
                amount: due,
                kind: LedgerKind::Refund,
                key: &key,
                reason: &reason,
                order_id: Some(current.id),
                actor_id: None,
                now: u.now,
            },
        )
        .await
        .map_err(|e| match e {
            BalanceError::Store(e) => e,
            other => StoreError::Other(anyhow::anyhow!("refund failed: {other}")),
        })?;
        // The order's commission follows the refund in the same transaction.
        crate::affiliates::on_refund(tx, current.id, due, &key, u.now).await?;
    }
    Ok(UpdateOutcome::Applied {
        order: Box::new(updated),
        refunded: due,
    })
}

pub(crate) async fn apply_order_update(s: &SqlStore, u: OrderUpdate) -> StoreResult<UpdateOutcome> {
    let mut tx = s.begin().await?;
    let outcome = apply_in_tx(s, &mut tx, &u).await?;
    if matches!(outcome, UpdateOutcome::Applied { .. }) {
        crate::queries::audit_in(&mut tx, u.audit.as_ref()).await?;
        s.commit(tx).await?;
    }
    Ok(outcome)
}

/// One guarded `UPDATE … FROM (VALUES …)` for refund-free changes; returns the ids written.
/// Every value is an integer or one of the fixed status names, written as literals.
async fn bulk_update(
    tx: &mut Transaction<'static, Any>,
    updates: &[OrderUpdate],
    bulk: &[(usize, Planned)],
) -> StoreResult<std::collections::HashSet<i64>> {
    let int = |v: Option<i64>| {
        v.map_or("CAST(NULL AS BIGINT)".to_string(), |n| {
            format!("CAST({n} AS BIGINT)")
        })
    };
    let rows: Vec<String> = bulk
        .iter()
        .map(|(i, p)| {
            let u = &updates[*i];
            format!(
                "({}, '{}', '{}', {}, {}, {}, {}, {}, {})",
                int(Some(u.order_id.0)),
                p.next.as_str(),
                u.expected.as_str(),
                int(u.start_count),
                int(p.remains),
                int(u.provider_charge.map(|m| m.micros())),
                int(p.completed_at),
                int(Some(flag(p.cancel_requested))),
                int(Some(u.now)),
            )
        })
        .collect();
    let sql = format!(
        "WITH v (oid, next, expected, start_count, remains, provider_charge, completed_at, cancel_requested, now) \
         AS (VALUES {}) \
         UPDATE orders SET status = v.next, start_count = COALESCE(v.start_count, orders.start_count), \
         remains = v.remains, provider_charge = COALESCE(v.provider_charge, orders.provider_charge), \
         completed_at = v.completed_at, cancel_requested = v.cancel_requested, updated_at = v.now, checked_at = v.now \
         FROM v WHERE orders.id = v.oid AND orders.status = v.expected RETURNING id",
        rows.join(", ")
    );
    let written = sqlx::query(&sql).fetch_all(&mut **tx).await.db()?;
    written
        .iter()
        .map(|r| sqlx::Row::try_get::<i64, _>(r, 0).db())
        .collect()
}

pub(crate) async fn apply_order_updates(
    s: &SqlStore,
    updates: &[OrderUpdate],
) -> StoreResult<Vec<UpdateOutcome>> {
    if updates.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = s.begin().await?;
    // One read (and lock, on PostgreSQL) of every order of the batch.
    let rows = sqlx::query(&format!(
        "SELECT {ORDER_COLS} FROM orders WHERE {}{}",
        s.dialect.id_in("id", 1),
        s.dialect.for_update()
    ))
    .bind(s.dialect.id_list(updates.iter().map(|u| u.order_id.0)))
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let mut current: std::collections::HashMap<OrderId, Order> = rows
        .iter()
        .map(|r| rows::order(r).map(|o| (o.id, o)))
        .collect::<StoreResult<_>>()?;
    // Updates that only move status, counts and cost (no refund, no id, offer or note) are
    // written together in one guarded `UPDATE … FROM` of a VALUES list; the rest one by one.
    let mut out: Vec<Option<UpdateOutcome>> = vec![None; updates.len()];
    let mut bulk: Vec<(usize, Planned)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (i, u) in updates.iter().enumerate() {
        let o = current.get(&u.order_id).ok_or(StoreError::NotFound)?;
        let simple = u.offer.is_none()
            && u.note.is_none()
            && u.provider_order_id.is_none()
            && seen.insert(u.order_id);
        match plan(o, u) {
            Err(outcome) => out[i] = Some(outcome),
            Ok(p) if simple && !p.due.is_positive() => bulk.push((i, p)),
            Ok(_) => {
                let outcome = apply_loaded(s, &mut tx, o, u).await?;
                if let UpdateOutcome::Applied { order, .. } = &outcome {
                    current.insert(order.id, (**order).clone());
                }
                out[i] = Some(outcome);
            }
        }
    }
    if !bulk.is_empty() {
        let written = bulk_update(&mut tx, updates, &bulk).await?;
        let moved: Vec<(i64, i64, &'static str)> = bulk
            .iter()
            .filter(|(i, _)| written.contains(&updates[*i].order_id.0))
            .filter_map(|(i, p)| {
                let o = current.get(&updates[*i].order_id)?;
                (o.status != p.next).then(|| (o.id.0, o.user_id.0, p.next.as_str()))
            })
            .collect();
        let now = updates.iter().map(|u| u.now).max().unwrap_or(0);
        events::record_statuses(&mut tx, &moved, now).await?;
        for (i, p) in bulk {
            let u = &updates[i];
            out[i] = Some(
                match (written.contains(&u.order_id.0), current.get(&u.order_id)) {
                    (true, Some(o)) => {
                        let mut o = o.clone();
                        o.status = p.next;
                        o.start_count = u.start_count.or(o.start_count);
                        o.remains = p.remains;
                        o.provider_charge = u.provider_charge.or(o.provider_charge);
                        o.completed_at = p.completed_at;
                        o.cancel_requested = p.cancel_requested;
                        o.updated_at = u.now;
                        UpdateOutcome::Applied {
                            order: Box::new(o),
                            refunded: Money::ZERO,
                        }
                    }
                    _ => UpdateOutcome::Stale,
                },
            );
        }
    }
    s.commit(tx).await?;
    Ok(out
        .into_iter()
        .map(|o| o.unwrap_or(UpdateOutcome::Stale))
        .collect())
}

pub(crate) async fn cancel_orders(
    s: &SqlStore,
    user: UserId,
    ids: &[OrderId],
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<Vec<(OrderId, Result<CancelOutcome, CancelError>)>> {
    let mut results = Vec::with_capacity(ids.len());
    for &id in ids {
        let mut tx = s.begin().await?;
        let result = match lock_order(s, &mut tx, id).await? {
            Some(o) if o.user_id == user => cancel_one(s, &mut tx, &o, now).await?,
            Some(_) => Err(CancelError::NotFound),
            // Only terminal orders are archived.
            None if archived_owner(&mut tx, id).await? == Some(user) => {
                Err(CancelError::AlreadyFinished)
            }
            None => Err(CancelError::NotFound),
        };
        if result.is_ok() {
            crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
            s.commit(tx).await?;
        }
        results.push((id, result));
    }
    Ok(results)
}

async fn cancel_one(
    s: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    o: &Order,
    now: i64,
) -> StoreResult<Result<CancelOutcome, CancelError>> {
    let path = check_cancel(&CancelFacts {
        status: o.status,
        service_cancel: o.cancel,
        cancel_requested: o.cancel_requested,
    });
    match path {
        Err(refusal) => Ok(Err(refusal.into())),
        Ok(CancelPath::Local) => {
            let update = OrderUpdate::new(o.id, o.status, OrderEvent::LocalCancel, now);
            match apply_in_tx(s, tx, &update).await? {
                UpdateOutcome::Applied { refunded, .. } => {
                    Ok(Ok(CancelOutcome::Canceled { refunded }))
                }
                _ => Ok(Err(CancelError::AlreadyFinished)),
            }
        }
        Ok(CancelPath::Upstream) => {
            sqlx::query("UPDATE orders SET cancel_requested = 1, updated_at = $1 WHERE id = $2")
                .bind(now)
                .bind(o.id.0)
                .execute(&mut **tx)
                .await
                .db()?;
            events::record(
                tx,
                events::Event {
                    order_id: o.id,
                    user_id: o.user_id,
                    kind: EventKind::CancelRequested,
                    status: o.status.as_str(),
                    amount: None,
                    detail: "",
                    now,
                },
            )
            .await?;
            Ok(Ok(CancelOutcome::Requested))
        }
    }
}

pub(crate) async fn request_refill(
    s: &SqlStore,
    user: UserId,
    id: OrderId,
    now: i64,
) -> Result<Refill, RefillRequestError> {
    let mut tx = s.begin().await?;
    let o = match lock_order(s, &mut tx, id).await? {
        Some(o) if o.user_id == user => o,
        Some(_) => return Err(RefillRequestError::NotFound),
        // Only orders past their guarantee are archived.
        None if archived_owner(&mut tx, id).await? == Some(user) => {
            return Err(RefillError::GuaranteeExpired.into())
        }
        None => return Err(RefillRequestError::NotFound),
    };
    let active = sqlx::query("SELECT id FROM refills WHERE order_id = $1 AND status IN ('pending', 'in_progress') LIMIT 1")
        .bind(o.id.0)
        .fetch_optional(&mut *tx)
        .await
        .db()?;
    check_refill(&RefillFacts {
        service_refill: o.refill,
        status: o.status,
        completed_at_ms: o.completed_at,
        guarantee_days: o.guarantee_days,
        has_active_refill: active.is_some(),
        now_ms: now,
    })?;
    let row = sqlx::query(&format!(
        "INSERT INTO refills (order_id, user_id, status, created_at, updated_at) VALUES ($1, $2, 'pending', $3, $3) \
         RETURNING {REFILL_COLS}"
    ))
    .bind(o.id.0)
    .bind(user.0)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::map_err)
    .map_err(|e| match e {
        StoreError::Conflict("refills.active") => RefillRequestError::Ineligible(RefillError::AlreadyActive),
        e => RefillRequestError::Store(e),
    })?;
    let refill = rows::refill(&row)?;
    events::record_refill(&mut tx, refill.id, now).await?;
    s.commit(tx).await?;
    Ok(refill)
}

pub(crate) async fn refills_of_user(
    s: &SqlStore,
    user: UserId,
    ids: &[RefillId],
) -> StoreResult<Vec<Refill>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = ids.iter().map(|i| i.0).collect();
    let rows = owned_by_ids(s, REFILL_COLS, REFILL_TABLES, user, &ids).await?;
    rows.iter().map(rows::refill).collect()
}

pub(crate) async fn set_refill_status(
    s: &SqlStore,
    id: RefillId,
    status: RefillStatus,
    now: i64,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE refills SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status.as_str())
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    events::record_refill(&mut tx, id, now).await?;
    s.commit(tx).await
}

/// The [`OrderStore`](smmd_store::OrderStore) and [`RefillStore`](smmd_store::RefillStore) sections on SQL: each method is one of the functions above.
mod section {

    use smmd_domain::service::OrderSpec;
    use smmd_domain::{OrderId, ProviderId, RefillId, ServiceId, UserId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl OrderStore for SqlStore {
        async fn place_order(
            &self,
            user: UserId,
            service: &Service,
            spec: &OrderSpec,
            placement: Placement<'_>,
            now: i64,
        ) -> Result<Order, PlaceOrderError> {
            crate::orders::place_order(self, user, service, spec, placement, now).await
        }

        async fn order_by_request_key(
            &self,
            user: UserId,
            key: &str,
        ) -> StoreResult<Option<Order>> {
            crate::queries::order_by_request_key(self, user, key).await
        }

        async fn order_by_reference(&self, reference: &str) -> StoreResult<Option<Order>> {
            crate::queries::order_by_reference(self, reference).await
        }

        async fn order_log(&self, order: OrderId) -> StoreResult<Vec<OrderLogEntry>> {
            crate::events::of_order(self, order).await
        }

        async fn search_orders(&self, query: &OrderQuery) -> StoreResult<Vec<Order>> {
            crate::queries::search_orders(self, query).await
        }

        async fn order_stats(&self, since: i64) -> StoreResult<OrderStats> {
            crate::queries::order_stats(self, since).await
        }

        async fn completion_samples(
            &self,
            service: ServiceId,
            limit: i64,
        ) -> StoreResult<Vec<CompletionSample>> {
            crate::queries::completion_samples(self, service, limit).await
        }

        async fn import_orders(&self, list: &[ImportedOrder]) -> StoreResult<()> {
            crate::orders::import_orders(self, list).await
        }

        async fn order(&self, id: OrderId) -> StoreResult<Option<Order>> {
            crate::orders::order(self, id).await
        }

        async fn active_orders(&self, user: UserId) -> StoreResult<i64> {
            crate::orders::active_orders(self, user).await
        }

        async fn orders_of_user(&self, user: UserId, ids: &[OrderId]) -> StoreResult<Vec<Order>> {
            crate::orders::orders_of_user(self, user, ids).await
        }

        async fn order_statuses(
            &self,
            user: UserId,
            ids: &[OrderId],
        ) -> StoreResult<Vec<OrderStatusView>> {
            crate::orders::order_statuses(self, user, ids).await
        }

        async fn apply_order_update(&self, update: OrderUpdate) -> StoreResult<UpdateOutcome> {
            crate::orders::apply_order_update(self, update).await
        }

        async fn apply_order_updates(
            &self,
            updates: &[OrderUpdate],
        ) -> StoreResult<Vec<UpdateOutcome>> {
            crate::orders::apply_order_updates(self, updates).await
        }

        async fn cancel_orders(
            &self,
            user: UserId,
            ids: &[OrderId],
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<Vec<(OrderId, Result<CancelOutcome, CancelError>)>> {
            crate::orders::cancel_orders(self, user, ids, now, audit).await
        }
    }

    #[async_trait::async_trait]
    impl RefillStore for SqlStore {
        async fn search_refills(&self, query: &RefillQuery) -> StoreResult<Vec<Refill>> {
            crate::queries::search_refills(self, query).await
        }

        async fn request_refill(
            &self,
            user: UserId,
            order: OrderId,
            now: i64,
        ) -> Result<Refill, RefillRequestError> {
            crate::orders::request_refill(self, user, order, now).await
        }

        async fn refills_of_user(
            &self,
            user: UserId,
            ids: &[RefillId],
        ) -> StoreResult<Vec<Refill>> {
            crate::orders::refills_of_user(self, user, ids).await
        }

        async fn set_refill_status(
            &self,
            id: RefillId,
            status: smmd_domain::refill::RefillStatus,
            now: i64,
        ) -> StoreResult<()> {
            crate::orders::set_refill_status(self, id, status, now).await
        }

        async fn claim_refills(
            &self,
            limit: i64,
            stale_before: i64,
            now: i64,
        ) -> StoreResult<Vec<RefillTask>> {
            crate::fulfil::claim_refills(self, limit, stale_before, now).await
        }

        async fn record_refill_sent(
            &self,
            id: RefillId,
            answer: Result<String, String>,
            now: i64,
        ) -> StoreResult<()> {
            crate::fulfil::record_refill_sent(self, id, answer, now).await
        }

        async fn refill_sync_targets(
            &self,
            provider: ProviderId,
            limit: i64,
        ) -> StoreResult<Vec<RefillSyncTarget>> {
            crate::fulfil::refill_sync_targets(self, provider, limit).await
        }

        async fn apply_refill_sync(
            &self,
            changes: &[(RefillId, smmd_domain::refill::RefillStatus)],
            checked: &[RefillId],
            now: i64,
        ) -> StoreResult<u64> {
            crate::fulfil::apply_refill_sync(self, changes, checked, now).await
        }

        async fn auto_refill_candidates(&self, now: i64, limit: i64) -> StoreResult<Vec<Order>> {
            crate::fulfil::auto_refill_candidates(self, now, limit).await
        }
    }
}
