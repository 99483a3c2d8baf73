//! The guarded update of an order: the state machine's check against the row as read (and
//! locked, on PostgreSQL), one `UPDATE … WHERE status = expected`, and the refund it makes due
//! posted to the ledger under the order's refund key in the same transaction. Batches of
//! refund-free changes (status sync) are written in one `UPDATE … FROM (VALUES …)`. Shared by
//! sync, admin actions, cancels and the margin guard's holds.

use smmd_domain::margin::Hold;
use smmd_domain::order::{self, EventKind, OrderEvent, OrderStatus};
use smmd_domain::{Money, OrderId};
use smmd_store::*;
use sqlx::{Any, Transaction};

use crate::events;
use crate::rows::{self, ORDER_COLS};
use crate::wallet::{post, Posting};
use crate::{flag, SqlResultExt, SqlStore};

pub(super) async fn lock_order(
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
pub(super) async fn apply_in_tx(
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

/// The hold an event sets on the order (the margin guard), if any.
fn hold_of(event: OrderEvent) -> Option<Hold> {
    match event {
        OrderEvent::MarginHold => Some(Hold::Margin),
        OrderEvent::MarginRelease => Some(Hold::Released),
        _ => None,
    }
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
         provider_service_id = COALESCE($14, provider_service_id), note = COALESCE($15, note), \
         hold = COALESCE($16, hold), route_reason = COALESCE($17, route_reason) \
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
    .bind(hold_of(u.event).map(Hold::as_str))
    .bind(u.route_reason.map(|r| r.as_str()))
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    let Some(row) = row else {
        return Ok(UpdateOutcome::Stale);
    };
    let updated = rows::order(&row)?;
    if next != current.status || due.is_positive() || hold_of(u.event).is_some() {
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
            && u.route_reason.is_none()
            && u.note.is_none()
            && hold_of(u.event).is_none()
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
