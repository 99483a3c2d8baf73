//! Providers, the dispatch claim, status-sync reads, cancels to send, refill claims and their
//! sync, and alerts. (Offers, the services sync with its change log and admin service edits
//! are in `catalog`.)
//!
//! The dispatch claim is one `UPDATE … WHERE id IN (SELECT … LIMIT n) RETURNING`: the orders
//! become `submitting` and are committed before any provider call. On PostgreSQL the inner select
//! uses `FOR UPDATE SKIP LOCKED`, so instances claiming at once take disjoint orders.

use smmd_domain::{Money, OrderId, ProviderId};
use smmd_store::*;
use sqlx::Row as _;

use crate::rows::{self, ALERT_COLS, ORDER_COLS, PROVIDER_COLS};
use crate::{flag, Dialect, SqlResultExt, SqlStore};

/// Binds a provider row's settings as `$1`…`$13`: name, URL, currency, exchange rate, sealed
/// key, timeout, concurrency, rate limit, alert threshold, `now`, then the three limits.
fn bind_provider<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    p: &'q NewProvider,
    now: i64,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    q.bind(p.name.trim())
        .bind(p.url.trim())
        .bind(p.currency.trim().to_ascii_uppercase())
        .bind(p.exchange_rate)
        .bind(&p.api_key_enc)
        .bind(p.timeout_ms)
        .bind(p.max_concurrency)
        .bind(p.rate_per_sec)
        .bind(p.balance_alert_below.map(|m| m.micros()))
        .bind(now)
        .bind(p.limits.answer_max_bytes)
        .bind(p.limits.services_max_bytes)
        .bind(p.limits.price_jump_pct)
}

pub(crate) async fn create_provider(
    s: &SqlStore,
    p: NewProvider,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<Provider> {
    let mut tx = s.begin().await?;
    let sql = format!(
        "INSERT INTO providers (name, url, currency, exchange_rate, enabled, api_key_enc, timeout_ms, \
         max_concurrency, rate_per_sec, balance_alert_below, created_at, updated_at, \
         answer_max_bytes, services_max_bytes, price_jump_pct) \
         VALUES ($1, $2, $3, $4, 1, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13) RETURNING {PROVIDER_COLS}"
    );
    let row = bind_provider(sqlx::query(&sql), &p, now)
        .fetch_one(&mut *tx)
        .await
        .map_err(crate::map_err)?;
    let provider = rows::provider(&row)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(provider)
}

pub(crate) async fn update_provider(
    s: &SqlStore,
    id: ProviderId,
    p: &NewProvider,
    replace_key: bool,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<Provider> {
    let mut tx = s.begin().await?;
    let sql = format!(
        "UPDATE providers SET name = $1, url = $2, currency = $3, exchange_rate = $4, \
         api_key_enc = CASE WHEN $14 = 1 THEN $5 ELSE api_key_enc END, timeout_ms = $6, \
         max_concurrency = $7, rate_per_sec = $8, balance_alert_below = $9, updated_at = $10, \
         answer_max_bytes = $11, services_max_bytes = $12, price_jump_pct = $13 \
         WHERE id = $15 RETURNING {PROVIDER_COLS}"
    );
    let row = bind_provider(sqlx::query(&sql), p, now)
        .bind(flag(replace_key))
        .bind(id.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(crate::map_err)?
        .ok_or(StoreError::NotFound)?;
    let provider = rows::provider(&row)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(provider)
}

pub(crate) async fn providers(s: &SqlStore) -> StoreResult<Vec<Provider>> {
    let rows = sqlx::query(&format!(
        "SELECT {PROVIDER_COLS} FROM providers ORDER BY id"
    ))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::provider).collect()
}

pub(crate) async fn provider(s: &SqlStore, id: ProviderId) -> StoreResult<Option<Provider>> {
    let row = sqlx::query(&format!(
        "SELECT {PROVIDER_COLS} FROM providers WHERE id = $1"
    ))
    .bind(id.0)
    .fetch_optional(&s.read)
    .await
    .db()?;
    row.as_ref().map(rows::provider).transpose()
}

pub(crate) async fn set_provider_endpoint(
    s: &SqlStore,
    id: ProviderId,
    url: &str,
    api_key_enc: &str,
    now: i64,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE providers SET url = $1, api_key_enc = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(url.trim())
    .bind(api_key_enc)
    .bind(now)
    .bind(id.0)
    .execute(&mut *tx)
    .await
    .db()?;
    crate::found(&done)?;
    s.commit(tx).await
}

pub(crate) async fn set_provider_enabled(
    s: &SqlStore,
    id: ProviderId,
    enabled: bool,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE providers SET enabled = $1, updated_at = $2 WHERE id = $3")
        .bind(flag(enabled))
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(crate) async fn set_provider_out_of_funds(
    s: &SqlStore,
    id: ProviderId,
    at: Option<i64>,
) -> StoreResult<()> {
    sqlx::query("UPDATE providers SET out_of_funds_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id.0)
        .execute(&s.write)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn set_provider_push_secret(
    s: &SqlStore,
    id: ProviderId,
    sealed: &str,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE providers SET push_secret_enc = $1 WHERE id = $2")
        .bind(sealed)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(crate) async fn push_target(
    s: &SqlStore,
    provider: ProviderId,
    provider_order_id: &str,
) -> StoreResult<Option<SyncTarget>> {
    let row = sqlx::query(
        "SELECT id, status, provider_order_id, start_count, remains, provider_charge, cancel_requested, \
         total_quantity FROM orders WHERE provider_id = $1 AND provider_order_id = $2 \
         AND status IN ('processing', 'in_progress') ORDER BY id LIMIT 1",
    )
    .bind(provider.0)
    .bind(provider_order_id)
    .fetch_optional(&s.read)
    .await
    .db()?;
    row.as_ref().map(rows::sync_target).transpose()
}

pub(crate) async fn record_push(
    s: &SqlStore,
    provider: ProviderId,
    delivery: &str,
    order: Option<OrderId>,
    now: i64,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "INSERT INTO provider_pushes (provider_id, delivery, order_id, received_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (provider_id, delivery) DO NOTHING",
    )
    .bind(provider.0)
    .bind(delivery)
    .bind(order.map(|o| o.0))
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    sqlx::query("UPDATE providers SET push_at = $1 WHERE id = $2")
        .bind(now)
        .bind(provider.0)
        .execute(&mut *tx)
        .await
        .db()?;
    s.commit(tx).await?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn push_seen(
    s: &SqlStore,
    provider: ProviderId,
    delivery: &str,
) -> StoreResult<bool> {
    let row = sqlx::query("SELECT 1 FROM provider_pushes WHERE provider_id = $1 AND delivery = $2")
        .bind(provider.0)
        .bind(delivery)
        .fetch_optional(&s.read)
        .await
        .db()?;
    Ok(row.is_some())
}

pub(crate) async fn record_provider_balance(
    s: &SqlStore,
    id: ProviderId,
    balance: Money,
    currency: &str,
    now: i64,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done =
        sqlx::query("UPDATE providers SET balance = $1, balance_checked_at = $2 WHERE id = $3")
            .bind(balance.micros())
            .bind(now)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .db()?;
    crate::found(&done)?;
    sqlx::query(
        "INSERT INTO provider_balances (provider_id, balance, currency, checked_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id.0)
    .bind(balance.micros())
    .bind(currency)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await
}

pub(crate) async fn claim_dispatch(
    s: &SqlStore,
    provider: Option<ProviderId>,
    limit: i64,
    now: i64,
) -> StoreResult<Vec<Order>> {
    let skip = match s.dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE OF o SKIP LOCKED",
    };
    let mut tx = s.begin().await?;
    // The pick is a CTE so it runs exactly once: PostgreSQL may re-run an `IN (SELECT … LIMIT n
    // FOR UPDATE SKIP LOCKED)` subquery and claim more than `n` rows.
    let rows = sqlx::query(&format!(
        "WITH picked AS (\
           SELECT o.id FROM orders o JOIN providers p ON p.id = o.provider_id \
           WHERE o.status = 'queued' AND o.provider_id IS NOT NULL AND p.enabled = 1 \
           AND o.provider_service_id IS NOT NULL \
           AND (o.hold IS NULL OR o.hold <> 'margin') \
           AND ($3 = 0 OR o.provider_id = $3) \
           ORDER BY o.id LIMIT $2{skip}) \
         UPDATE orders SET status = 'submitting', updated_at = $1 FROM picked \
         WHERE orders.id = picked.id AND orders.status = 'queued' RETURNING {}",
        rows::qualified(ORDER_COLS, "orders")
    ))
    .bind(now)
    .bind(limit.clamp(1, 10_000))
    .bind(provider.map_or(0, |p| p.0))
    .fetch_all(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await?;
    let mut orders = rows
        .iter()
        .map(rows::order)
        .collect::<StoreResult<Vec<_>>>()?;
    orders.sort_by_key(|o| o.id);
    Ok(orders)
}

pub(crate) async fn stale_submitting(
    s: &SqlStore,
    before: i64,
    limit: i64,
) -> StoreResult<Vec<Order>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORDER_COLS} FROM orders WHERE status = 'submitting' AND updated_at < $1 ORDER BY id LIMIT $2"
    ))
    .bind(before)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::order).collect()
}

/// Active orders past their due time (see [`FulfilStore::stuck_orders`]).
pub(crate) async fn stuck_orders(s: &SqlStore, cutoff: i64, limit: i64) -> StoreResult<Vec<Order>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORDER_COLS} FROM orders \
         WHERE status IN ('queued', 'submitting', 'processing', 'in_progress') \
         AND created_at + COALESCE((runs - 1) * interval_minutes * 60000, 0) < $1 \
         ORDER BY id LIMIT $2"
    ))
    .bind(cutoff)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::order).collect()
}

pub(crate) async fn sync_targets(
    s: &SqlStore,
    provider: ProviderId,
    limit: i64,
) -> StoreResult<Vec<SyncTarget>> {
    // `checked_at` NULL (never checked) sorts first as -1.
    let rows = sqlx::query(
        "SELECT id, status, provider_order_id, start_count, remains, provider_charge, cancel_requested, \
         total_quantity FROM orders WHERE provider_id = $1 AND status IN ('processing', 'in_progress') \
         AND provider_order_id IS NOT NULL ORDER BY COALESCE(checked_at, -1), id LIMIT $2",
    )
    .bind(provider.0)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::sync_target).collect()
}

pub(crate) async fn mark_checked(s: &SqlStore, ids: &[OrderId], now: i64) -> StoreResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut tx = s.begin().await?;
    sqlx::query(&format!(
        "UPDATE orders SET checked_at = $1 WHERE {}",
        s.dialect.id_in("id", 2)
    ))
    .bind(now)
    .bind(s.dialect.id_list(ids.iter().map(|i| i.0)))
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await
}

pub(crate) async fn cancels_to_send(
    s: &SqlStore,
    provider: ProviderId,
    limit: i64,
) -> StoreResult<Vec<(OrderId, String)>> {
    let rows = sqlx::query(
        "SELECT id, provider_order_id FROM orders WHERE provider_id = $1 AND cancel_requested = 1 \
         AND cancel_sent_at IS NULL AND provider_order_id IS NOT NULL \
         AND status IN ('processing', 'in_progress') ORDER BY id LIMIT $2",
    )
    .bind(provider.0)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| Ok((OrderId(r.try_get(0).db()?), r.try_get(1).db()?)))
        .collect()
}

pub(crate) async fn mark_cancel_sent(
    s: &SqlStore,
    sent: &[(OrderId, String)],
    now: i64,
) -> StoreResult<()> {
    if sent.is_empty() {
        return Ok(());
    }
    let mut tx = s.begin().await?;
    for (id, note) in sent {
        sqlx::query("UPDATE orders SET cancel_sent_at = $1, note = $2 WHERE id = $3")
            .bind(now)
            .bind(note)
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    s.commit(tx).await
}

pub(crate) async fn orders_needing_review(s: &SqlStore, limit: i64) -> StoreResult<Vec<Order>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORDER_COLS} FROM orders WHERE status = 'needs_review' ORDER BY id LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::order).collect()
}

pub(crate) async fn raise_alert(
    s: &SqlStore,
    kind: &str,
    subject: &str,
    message: &str,
    now: i64,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let new = raise_alert_in(&mut tx, kind, subject, message, now).await?;
    s.commit(tx).await?;
    Ok(new)
}

/// [`raise_alert`] inside `tx`, with the change it reports.
pub(crate) async fn raise_alert_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    kind: &str,
    subject: &str,
    message: &str,
    now: i64,
) -> StoreResult<bool> {
    let refreshed = sqlx::query(
        "UPDATE alerts SET message = $1, updated_at = $2 WHERE kind = $3 AND subject = $4 AND resolved_at IS NULL",
    )
    .bind(message)
    .bind(now)
    .bind(kind)
    .bind(subject)
    .execute(&mut **tx)
    .await
    .db()?;
    let new = refreshed.rows_affected() == 0;
    if new {
        sqlx::query(
            "INSERT INTO alerts (kind, subject, message, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
             ON CONFLICT DO NOTHING",
        )
        .bind(kind)
        .bind(subject)
        .bind(message)
        .bind(now)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    Ok(new)
}

pub(crate) async fn resolve_alert(
    s: &SqlStore,
    kind: &str,
    subject: &str,
    now: i64,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    resolve_alert_in(&mut tx, kind, subject, now).await?;
    s.commit(tx).await
}

/// [`resolve_alert`] inside `tx`.
pub(crate) async fn resolve_alert_in(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    kind: &str,
    subject: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "UPDATE alerts SET resolved_at = $1 WHERE kind = $2 AND subject = $3 AND resolved_at IS NULL",
    )
    .bind(now)
    .bind(kind)
    .bind(subject)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn open_alerts(s: &SqlStore) -> StoreResult<Vec<Alert>> {
    let rows = sqlx::query(&format!(
        "SELECT {ALERT_COLS} FROM alerts WHERE resolved_at IS NULL ORDER BY updated_at DESC, id DESC"
    ))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::alert).collect()
}

pub(crate) async fn claim_refills(
    s: &SqlStore,
    limit: i64,
    stale_before: i64,
    now: i64,
) -> StoreResult<Vec<RefillTask>> {
    let skip = match s.dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE OF r SKIP LOCKED",
    };
    let mut tx = s.begin().await?;
    sqlx::query(
        "UPDATE refills SET submitted_at = NULL WHERE status = 'pending' AND provider_refill_id IS NULL \
         AND submitted_at IS NOT NULL AND submitted_at < $1",
    )
    .bind(stale_before)
    .execute(&mut *tx)
    .await
    .db()?;
    let rows = sqlx::query(&format!(
        "WITH picked AS (\
           SELECT r.id FROM refills r JOIN orders o ON o.id = r.order_id JOIN providers p ON p.id = o.provider_id \
           WHERE r.status = 'pending' AND r.submitted_at IS NULL AND o.provider_order_id IS NOT NULL \
           AND p.enabled = 1 ORDER BY r.id LIMIT $2{skip}) \
         UPDATE refills SET submitted_at = $1, updated_at = $1 FROM picked \
         WHERE refills.id = picked.id AND refills.status = 'pending' AND refills.submitted_at IS NULL \
         RETURNING refills.id, refills.order_id"
    ))
    .bind(now)
    .bind(limit.clamp(1, 10_000))
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let mut tasks = Vec::with_capacity(rows.len());
    for r in &rows {
        let order_id: i64 = r.try_get(1).db()?;
        let o = sqlx::query("SELECT provider_id, provider_order_id FROM orders WHERE id = $1")
            .bind(order_id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
        tasks.push(RefillTask {
            id: smmd_domain::RefillId(r.try_get(0).db()?),
            order_id: OrderId(order_id),
            provider_id: ProviderId(o.try_get(0).db()?),
            provider_order_id: o.try_get(1).db()?,
        });
    }
    s.commit(tx).await?;
    tasks.sort_by_key(|t| t.id.0);
    Ok(tasks)
}

pub(crate) async fn record_refill_sent(
    s: &SqlStore,
    id: smmd_domain::RefillId,
    answer: Result<String, String>,
    now: i64,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let rejected = answer.is_err();
    let done = match answer {
        Ok(pid) => sqlx::query(
            "UPDATE refills SET provider_refill_id = $1, updated_at = $2, checked_at = $2 WHERE id = $3 AND status = 'pending'",
        )
        .bind(pid)
        .bind(now)
        .bind(id.0),
        Err(note) => sqlx::query(
            "UPDATE refills SET status = 'rejected', note = $1, updated_at = $2 WHERE id = $3 AND status = 'pending'",
        )
        .bind(note)
        .bind(now)
        .bind(id.0),
    }
    .execute(&mut *tx)
    .await
    .db()?;
    // A refused refill ends here; an accepted one keeps its status until refill sync.
    if done.rows_affected() > 0 && rejected {
        crate::events::record_refill(&mut tx, id, now).await?;
    }
    s.commit(tx).await
}

pub(crate) async fn refill_sync_targets(
    s: &SqlStore,
    provider: ProviderId,
    limit: i64,
) -> StoreResult<Vec<RefillSyncTarget>> {
    let rows = sqlx::query(
        "SELECT r.id, r.status, r.provider_refill_id FROM refills r JOIN orders o ON o.id = r.order_id \
         WHERE o.provider_id = $1 AND r.status IN ('pending', 'in_progress') AND r.provider_refill_id IS NOT NULL \
         ORDER BY COALESCE(r.checked_at, -1), r.id LIMIT $2",
    )
    .bind(provider.0)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            let status: String = r.try_get(1).db()?;
            Ok(RefillSyncTarget {
                id: smmd_domain::RefillId(r.try_get(0).db()?),
                status: smmd_domain::refill::RefillStatus::parse(&status).ok_or_else(|| {
                    StoreError::Other(anyhow::anyhow!("unexpected refill status {status}"))
                })?,
                provider_refill_id: r.try_get(2).db()?,
            })
        })
        .collect()
}

pub(crate) async fn apply_refill_sync(
    s: &SqlStore,
    changes: &[(smmd_domain::RefillId, smmd_domain::refill::RefillStatus)],
    checked: &[smmd_domain::RefillId],
    now: i64,
) -> StoreResult<u64> {
    let mut tx = s.begin().await?;
    let mut changed = 0;
    for (id, status) in changes {
        let done = sqlx::query(
            "UPDATE refills SET status = $1, updated_at = $2, checked_at = $2 \
             WHERE id = $3 AND status IN ('pending', 'in_progress') AND status <> $1",
        )
        .bind(status.as_str())
        .bind(now)
        .bind(id.0)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() > 0 {
            crate::events::record_refill(&mut tx, *id, now).await?;
        }
        changed += done.rows_affected();
    }
    if !checked.is_empty() {
        sqlx::query(&format!(
            "UPDATE refills SET checked_at = $1 WHERE {}",
            s.dialect.id_in("id", 2)
        ))
        .bind(now)
        .bind(s.dialect.id_list(checked.iter().map(|i| i.0)))
        .execute(&mut *tx)
        .await
        .db()?;
    }
    s.commit(tx).await?;
    Ok(changed)
}

pub(crate) async fn auto_refill_candidates(
    s: &SqlStore,
    now: i64,
    limit: i64,
) -> StoreResult<Vec<Order>> {
    let cols = rows::qualified(ORDER_COLS, "o");
    let rows = sqlx::query(&format!(
        "SELECT {cols} FROM orders o JOIN services s ON s.id = o.service_id \
         WHERE o.status IN ('completed', 'partial') AND o.refill = 1 AND s.auto_refill = 1 \
         AND o.completed_at IS NOT NULL AND o.completed_at + o.guarantee_days * 86400000 > $1 \
         AND o.link IS NOT NULL AND o.start_count IS NOT NULL \
         AND NOT EXISTS (SELECT 1 FROM refills r WHERE r.order_id = o.id AND r.status IN ('pending', 'in_progress')) \
         ORDER BY o.id LIMIT $2"
    ))
    .bind(now)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::order).collect()
}

/// The [`FulfilStore`](smmd_store::FulfilStore) section on SQL: each method is one of the functions above.
mod section {
    use smmd_domain::alert::AlertKind;

    use smmd_domain::{Money, OrderId, ProviderId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl FulfilStore for SqlStore {
        async fn create_provider(
            &self,
            p: NewProvider,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<Provider> {
            crate::fulfil::create_provider(self, p, now, audit).await
        }

        async fn update_provider(
            &self,
            id: ProviderId,
            p: &NewProvider,
            replace_key: bool,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<Provider> {
            crate::fulfil::update_provider(self, id, p, replace_key, now, audit).await
        }

        async fn providers(&self) -> StoreResult<Vec<Provider>> {
            crate::fulfil::providers(self).await
        }

        async fn provider(&self, id: ProviderId) -> StoreResult<Option<Provider>> {
            crate::fulfil::provider(self, id).await
        }

        async fn set_provider_endpoint(
            &self,
            id: ProviderId,
            url: &str,
            api_key_enc: &str,
            now: i64,
        ) -> StoreResult<()> {
            crate::fulfil::set_provider_endpoint(self, id, url, api_key_enc, now).await
        }

        async fn set_provider_push_secret(
            &self,
            id: ProviderId,
            sealed: &str,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            crate::fulfil::set_provider_push_secret(self, id, sealed, audit).await
        }

        async fn push_target(
            &self,
            provider: ProviderId,
            provider_order_id: &str,
        ) -> StoreResult<Option<SyncTarget>> {
            crate::fulfil::push_target(self, provider, provider_order_id).await
        }

        async fn record_push(
            &self,
            provider: ProviderId,
            delivery: &str,
            order: Option<OrderId>,
            now: i64,
        ) -> StoreResult<bool> {
            crate::fulfil::record_push(self, provider, delivery, order, now).await
        }

        async fn push_seen(&self, provider: ProviderId, delivery: &str) -> StoreResult<bool> {
            crate::fulfil::push_seen(self, provider, delivery).await
        }

        async fn set_provider_out_of_funds(
            &self,
            id: ProviderId,
            at: Option<i64>,
        ) -> StoreResult<()> {
            crate::fulfil::set_provider_out_of_funds(self, id, at).await
        }

        async fn set_provider_enabled(
            &self,
            id: ProviderId,
            enabled: bool,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            crate::fulfil::set_provider_enabled(self, id, enabled, now, audit).await
        }

        async fn record_provider_balance(
            &self,
            id: ProviderId,
            balance: Money,
            currency: &str,
            now: i64,
        ) -> StoreResult<()> {
            crate::fulfil::record_provider_balance(self, id, balance, currency, now).await
        }

        async fn claim_dispatch(
            &self,
            provider: Option<ProviderId>,
            limit: i64,
            now: i64,
        ) -> StoreResult<Vec<Order>> {
            crate::fulfil::claim_dispatch(self, provider, limit, now).await
        }

        async fn stale_submitting(&self, before: i64, limit: i64) -> StoreResult<Vec<Order>> {
            crate::fulfil::stale_submitting(self, before, limit).await
        }

        async fn sync_targets(
            &self,
            provider: ProviderId,
            limit: i64,
        ) -> StoreResult<Vec<SyncTarget>> {
            crate::fulfil::sync_targets(self, provider, limit).await
        }

        async fn mark_checked(&self, ids: &[OrderId], now: i64) -> StoreResult<()> {
            crate::fulfil::mark_checked(self, ids, now).await
        }

        async fn cancels_to_send(
            &self,
            provider: ProviderId,
            limit: i64,
        ) -> StoreResult<Vec<(OrderId, String)>> {
            crate::fulfil::cancels_to_send(self, provider, limit).await
        }

        async fn mark_cancel_sent(&self, sent: &[(OrderId, String)], now: i64) -> StoreResult<()> {
            crate::fulfil::mark_cancel_sent(self, sent, now).await
        }

        async fn orders_needing_review(&self, limit: i64) -> StoreResult<Vec<Order>> {
            crate::fulfil::orders_needing_review(self, limit).await
        }

        async fn stuck_orders(&self, cutoff: i64, limit: i64) -> StoreResult<Vec<Order>> {
            crate::fulfil::stuck_orders(self, cutoff, limit).await
        }

        async fn raise_alert(
            &self,
            kind: AlertKind,
            subject: &str,
            message: &str,
            now: i64,
        ) -> StoreResult<bool> {
            crate::fulfil::raise_alert(self, kind.as_str(), subject, message, now).await
        }

        async fn resolve_alert(&self, kind: AlertKind, subject: &str, now: i64) -> StoreResult<()> {
            crate::fulfil::resolve_alert(self, kind.as_str(), subject, now).await
        }

        async fn open_alerts(&self) -> StoreResult<Vec<Alert>> {
            crate::fulfil::open_alerts(self).await
        }
    }
}
