//! The stuck-order ladder's records on SQL (`order_stuck_steps`, the `stuck_*` columns of
//! `services` and `categories`); see [`smmd_store::StuckStore`].

use std::collections::HashMap;

use smmd_domain::order::EventKind;
use smmd_domain::stuck::{Step, StuckOverride};
use smmd_domain::{OrderId, ProviderId, ServiceId};
use smmd_store::*;

use crate::events;
use crate::rows::{self, get, qualified, ORDER_COLS};
use crate::{SqlResultExt, SqlStore};

/// When an order was due, in SQL over `o`: placed, or its last drip-feed run.
const DUE_SQL: &str = "o.created_at + COALESCE((o.runs - 1) * o.interval_minutes * 60000, 0)";

fn overrides(r: &crate::Row, prefix: &str) -> StoreResult<StuckOverride> {
    Ok(StuckOverride {
        after_pct: get(r, &format!("{prefix}_after_pct"))?,
        floor_minutes: get(r, &format!("{prefix}_floor_minutes"))?,
    })
}

pub(crate) async fn stuck_candidates(
    s: &SqlStore,
    default_floor_ms: i64,
    now: i64,
    limit: i64,
) -> StoreResult<Vec<StuckCandidate>> {
    let rows = sqlx::query(&format!(
        "SELECT {cols}, {DUE_SQL} AS due_at, \
         s.stuck_after_pct AS svc_after_pct, s.stuck_floor_minutes AS svc_floor_minutes, \
         c.stuck_after_pct AS cat_after_pct, c.stuck_floor_minutes AS cat_floor_minutes, \
         (SELECT COUNT(*) FROM order_stuck_steps x WHERE x.order_id = o.id) AS taken, \
         (SELECT MAX(x.taken_at) FROM order_stuck_steps x WHERE x.order_id = o.id) AS last_taken_at \
         FROM orders o JOIN services s ON s.id = o.service_id JOIN categories c ON c.id = s.category_id \
         WHERE o.status IN ('processing', 'in_progress') AND o.provider_order_id IS NOT NULL \
         AND {DUE_SQL} + COALESCE(s.stuck_floor_minutes * 60000, c.stuck_floor_minutes * 60000, $1) <= $2 \
         AND (SELECT COUNT(*) FROM order_stuck_steps x WHERE x.order_id = o.id) < 4 \
         ORDER BY o.id LIMIT $3",
        cols = qualified(ORDER_COLS, "o"),
    ))
    .bind(default_floor_ms)
    .bind(now)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(StuckCandidate {
                order: rows::order(r)?,
                due_at: get(r, "due_at")?,
                service_rule: overrides(r, "svc")?,
                category_rule: overrides(r, "cat")?,
                taken: get(r, "taken")?,
                last_taken_at: get(r, "last_taken_at")?,
            })
        })
        .collect()
}

pub(crate) async fn claim_stuck_step(
    s: &SqlStore,
    order: OrderId,
    step: Step,
    provider: Option<ProviderId>,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO order_stuck_steps (order_id, step, provider_id, taken_at, detail) \
         VALUES ($1, $2, $3, $4, '') ON CONFLICT (order_id, step) DO NOTHING",
    )
    .bind(order.0)
    .bind(step.number())
    .bind(provider.map(|p| p.0))
    .bind(now)
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn finish_stuck_step(
    s: &SqlStore,
    order: &Order,
    step: Step,
    detail: &str,
    now: i64,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done =
        sqlx::query("UPDATE order_stuck_steps SET detail = $1 WHERE order_id = $2 AND step = $3")
            .bind(detail)
            .bind(order.id.0)
            .bind(step.number())
            .execute(&mut *tx)
            .await
            .db()?;
    crate::found(&done)?;
    events::record(
        &mut tx,
        events::Event {
            order_id: order.id,
            user_id: order.user_id,
            kind: EventKind::Stuck,
            status: step.as_str(),
            amount: None,
            // The customer's timeline says which step; what the provider answered stays in
            // the admin's queue.
            detail: "",
            now,
        },
    )
    .await?;
    s.commit(tx).await
}

fn step_record(r: &crate::Row) -> StoreResult<StuckStepRecord> {
    let n: i64 = get(r, "step")?;
    Ok(StuckStepRecord {
        step: Step::from_number(n).ok_or_else(|| rows::bad("stuck step", &n.to_string()))?,
        taken_at: get(r, "taken_at")?,
        detail: get(r, "detail")?,
    })
}

pub(crate) async fn stuck_steps(s: &SqlStore, order: OrderId) -> StoreResult<Vec<StuckStepRecord>> {
    let rows = sqlx::query(
        "SELECT step, taken_at, detail FROM order_stuck_steps WHERE order_id = $1 ORDER BY step",
    )
    .bind(order.0)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(step_record).collect()
}

/// Active orders with a step: everything but the terminal statuses.
const ACTIVE: &str = "o.status NOT IN ('completed', 'partial', 'canceled')";

pub(crate) async fn stuck_queue(s: &SqlStore, limit: i64) -> StoreResult<StuckQueue> {
    let rows = sqlx::query(&format!(
        "SELECT {cols}, p.name AS provider_name FROM orders o \
         LEFT JOIN providers p ON p.id = o.provider_id \
         WHERE {ACTIVE} AND EXISTS (SELECT 1 FROM order_stuck_steps x WHERE x.order_id = o.id) \
         ORDER BY o.id LIMIT $1",
        cols = qualified(ORDER_COLS, "o"),
    ))
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    let mut orders = Vec::with_capacity(rows.len());
    let mut at = HashMap::with_capacity(rows.len());
    for r in &rows {
        let order = rows::order(r)?;
        at.insert(order.id.0, orders.len());
        orders.push(StuckEntry {
            order,
            provider_name: get(r, "provider_name")?,
            steps: Vec::new(),
        });
    }
    if !orders.is_empty() {
        let steps = sqlx::query(&format!(
            "SELECT order_id, step, taken_at, detail FROM order_stuck_steps WHERE {} \
             ORDER BY order_id, step",
            s.dialect.id_in("order_id", 1)
        ))
        .bind(s.dialect.id_list(orders.iter().map(|e| e.order.id.0)))
        .fetch_all(&s.read)
        .await
        .db()?;
        for r in &steps {
            let id: i64 = get(r, "order_id")?;
            if let Some(&i) = at.get(&id) {
                orders[i].steps.push(step_record(r)?);
            }
        }
    }
    let counts = sqlx::query(&format!(
        "SELECT o.provider_id, p.name, COUNT(*) AS n FROM orders o JOIN providers p ON p.id = o.provider_id \
         WHERE {ACTIVE} AND EXISTS (SELECT 1 FROM order_stuck_steps x WHERE x.order_id = o.id) \
         GROUP BY o.provider_id, p.name ORDER BY n DESC, o.provider_id"
    ))
    .fetch_all(&s.read)
    .await
    .db()?;
    let per_provider = counts
        .iter()
        .map(|r| {
            Ok(ProviderStuck {
                provider_id: ProviderId(get(r, "provider_id")?),
                name: get(r, "name")?,
                orders: get(r, "n")?,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(StuckQueue {
        orders,
        per_provider,
    })
}

pub(crate) async fn stuck_rules(
    s: &SqlStore,
    ids: &[ServiceId],
) -> StoreResult<HashMap<ServiceId, (StuckOverride, StuckOverride)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT s.id, s.stuck_after_pct AS svc_after_pct, s.stuck_floor_minutes AS svc_floor_minutes, \
         c.stuck_after_pct AS cat_after_pct, c.stuck_floor_minutes AS cat_floor_minutes \
         FROM services s JOIN categories c ON c.id = s.category_id WHERE {}",
        s.dialect.id_in("s.id", 1)
    ))
    .bind(s.dialect.id_list(ids.iter().map(|id| id.0)))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok((
                ServiceId(get(r, "id")?),
                (overrides(r, "svc")?, overrides(r, "cat")?),
            ))
        })
        .collect()
}

/// Sets the `stuck_*` columns of the row of `table` where `key` = `value`, with the audit line.
async fn set_rule<T>(
    s: &SqlStore,
    table: &str,
    key: &str,
    value: T,
    rule: StuckOverride,
    audit: Option<NewAudit>,
) -> StoreResult<()>
where
    T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send + 'static,
{
    let mut tx = s.begin().await?;
    let done = sqlx::query(&format!(
        "UPDATE {table} SET stuck_after_pct = $1, stuck_floor_minutes = $2 WHERE {key} = $3"
    ))
    .bind(rule.after_pct)
    .bind(rule.floor_minutes)
    .bind(value)
    .execute(&mut *tx)
    .await
    .db()?;
    crate::found(&done)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

mod section {
    use std::collections::HashMap;

    use smmd_domain::stuck::{Step, StuckOverride};
    use smmd_domain::{OrderId, ProviderId, ServiceId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl StuckStore for SqlStore {
        async fn stuck_candidates(
            &self,
            default_floor_ms: i64,
            now: i64,
            limit: i64,
        ) -> StoreResult<Vec<StuckCandidate>> {
            super::stuck_candidates(self, default_floor_ms, now, limit).await
        }

        async fn claim_stuck_step(
            &self,
            order: OrderId,
            step: Step,
            provider: Option<ProviderId>,
            now: i64,
        ) -> StoreResult<bool> {
            super::claim_stuck_step(self, order, step, provider, now).await
        }

        async fn finish_stuck_step(
            &self,
            order: &Order,
            step: Step,
            detail: &str,
            now: i64,
        ) -> StoreResult<()> {
            super::finish_stuck_step(self, order, step, detail, now).await
        }

        async fn stuck_steps(&self, order: OrderId) -> StoreResult<Vec<StuckStepRecord>> {
            super::stuck_steps(self, order).await
        }

        async fn stuck_queue(&self, limit: i64) -> StoreResult<StuckQueue> {
            super::stuck_queue(self, limit).await
        }

        async fn stuck_rules(
            &self,
            ids: &[ServiceId],
        ) -> StoreResult<HashMap<ServiceId, (StuckOverride, StuckOverride)>> {
            super::stuck_rules(self, ids).await
        }

        async fn set_service_stuck(
            &self,
            id: ServiceId,
            rule: StuckOverride,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::set_rule(self, "services", "id", id.0, rule, audit).await
        }

        async fn set_category_stuck(
            &self,
            name: &str,
            rule: StuckOverride,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::set_rule(
                self,
                "categories",
                "name",
                name.trim().to_string(),
                rule,
                audit,
            )
            .await
        }
    }
}
