//! The [`MarginStore`](smmd_store::MarginStore) section on SQL: live provider costs (one row per
//! upstream service, written only when its rate changes, and the time of each provider's last
//! read, and which services a read no longer listed), margin terms of services and categories, and the held-orders queue.

use std::collections::{HashMap, HashSet};

use smmd_domain::margin::{Hold, MarginAction};
use smmd_domain::{Money, ProviderId, ServiceId};
use smmd_store::*;

use crate::rows::{self, get, money, ORDER_COLS};
use crate::{SqlResultExt, SqlStore};

pub(crate) async fn record_provider_costs(
    s: &SqlStore,
    provider: ProviderId,
    costs: Option<&[(String, Money)]>,
    now: i64,
) -> StoreResult<usize> {
    let mut tx = s.begin().await?;
    let mut changed = 0;
    if let Some(costs) = costs {
        let known: HashMap<String, (i64, Option<i64>)> = sqlx::query(
            "SELECT provider_service_id, rate, missing_since FROM provider_costs WHERE provider_id = $1",
        )
        .bind(provider.0)
        .fetch_all(&mut *tx)
        .await
        .db()?
        .iter()
        .map(|r| {
            Ok((
                get(r, "provider_service_id")?,
                (get(r, "rate")?, get(r, "missing_since")?),
            ))
        })
        .collect::<StoreResult<_>>()?;
        let listed: HashSet<&str> = costs.iter().map(|(id, _)| id.as_str()).collect();
        for (id, rate) in costs {
            let was = known.get(id);
            if was.is_some_and(|(r, missing)| *r == rate.micros() && missing.is_none()) {
                continue;
            }
            sqlx::query(
                "INSERT INTO provider_costs (provider_id, provider_service_id, rate, changed_at) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (provider_id, provider_service_id) \
                 DO UPDATE SET rate = excluded.rate, missing_since = NULL, \
                 changed_at = CASE WHEN provider_costs.rate = excluded.rate \
                 THEN provider_costs.changed_at ELSE excluded.changed_at END",
            )
            .bind(provider.0)
            .bind(id.as_str())
            .bind(rate.micros())
            .bind(now)
            .execute(&mut *tx)
            .await
            .db()?;
            if was.is_none_or(|(r, _)| *r != rate.micros()) {
                changed += 1;
            }
        }
        for (id, (_, missing)) in &known {
            if missing.is_none() && !listed.contains(id.as_str()) {
                mark_missing(&mut *tx, provider, id, now).await?;
            }
        }
    }
    sqlx::query(
        "INSERT INTO provider_costs_read (provider_id, read_at) VALUES ($1, $2) \
         ON CONFLICT (provider_id) DO UPDATE SET read_at = excluded.read_at",
    )
    .bind(provider.0)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await?;
    Ok(changed)
}

async fn mark_missing<'c, E>(exec: E, provider: ProviderId, id: &str, now: i64) -> StoreResult<()>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    sqlx::query(
        "UPDATE provider_costs SET missing_since = $1 \
         WHERE provider_id = $2 AND provider_service_id = $3 AND missing_since IS NULL",
    )
    .bind(now)
    .bind(provider.0)
    .bind(id)
    .execute(exec)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn mark_provider_service_missing(
    s: &SqlStore,
    provider: ProviderId,
    id: &str,
    now: i64,
) -> StoreResult<()> {
    mark_missing(&s.write, provider, id, now).await
}

pub(crate) async fn provider_services_missing(
    s: &SqlStore,
    provider: ProviderId,
    ids: &[String],
) -> StoreResult<HashSet<String>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT provider_service_id FROM provider_costs WHERE provider_id = $1 AND {} \
         AND missing_since IS NOT NULL",
        ids_in(s, "$2")
    ))
    .bind(provider.0)
    .bind(json_list(ids)?)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(|r| get(r, "provider_service_id")).collect()
}

/// `provider_service_id IN` the JSON array text bound at `param` (upstream ids are text; read
/// the same way on both backends).
fn ids_in(s: &SqlStore, param: &str) -> String {
    match s.dialect {
        crate::Dialect::Sqlite => {
            format!("provider_service_id IN (SELECT value FROM json_each({param}))")
        }
        crate::Dialect::Postgres => {
            format!(
                "provider_service_id IN (SELECT jsonb_array_elements_text({param}::text::jsonb))"
            )
        }
    }
}

fn json_list(ids: &[String]) -> StoreResult<String> {
    serde_json::to_string(ids).map_err(|e| StoreError::Other(e.into()))
}

pub(crate) async fn provider_costs_read_at(
    s: &SqlStore,
    provider: ProviderId,
) -> StoreResult<Option<i64>> {
    let row = sqlx::query("SELECT read_at FROM provider_costs_read WHERE provider_id = $1")
        .bind(provider.0)
        .fetch_optional(&s.read)
        .await
        .db()?;
    row.map(|r| get(&r, "read_at")).transpose()
}

pub(crate) async fn provider_costs(
    s: &SqlStore,
    provider: ProviderId,
    ids: &[String],
) -> StoreResult<HashMap<String, Money>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT provider_service_id, rate FROM provider_costs WHERE provider_id = $1 AND {}",
        ids_in(s, "$2")
    ))
    .bind(provider.0)
    .bind(json_list(ids)?)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| Ok((get(r, "provider_service_id")?, money(r, "rate")?)))
        .collect()
}

pub(crate) async fn margin_terms(
    s: &SqlStore,
    services: &[ServiceId],
) -> StoreResult<HashMap<ServiceId, MarginTerms>> {
    if services.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = sqlx::query(&format!(
        "SELECT s.id, s.min_margin_bp, s.margin_action, c.min_margin_bp AS category_margin_bp \
         FROM services s JOIN categories c ON c.id = s.category_id WHERE {}",
        s.dialect.id_in("s.id", 1)
    ))
    .bind(s.dialect.id_list(services.iter().map(|id| id.0)))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            let id = ServiceId(get(r, "id")?);
            let action: String = get(r, "margin_action")?;
            let terms = MarginTerms {
                service_id: id,
                min_margin_bp: get(r, "min_margin_bp")?,
                category_margin_bp: get(r, "category_margin_bp")?,
                action: MarginAction::parse(&action)
                    .ok_or_else(|| rows::bad("margin action", &action))?,
            };
            Ok((id, terms))
        })
        .collect()
}

pub(crate) async fn set_service_margin(
    s: &SqlStore,
    id: ServiceId,
    min_margin_bp: Option<i64>,
    action: MarginAction,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done =
        sqlx::query("UPDATE services SET min_margin_bp = $1, margin_action = $2 WHERE id = $3")
            .bind(min_margin_bp)
            .bind(action.as_str())
            .bind(id.0)
            .execute(&mut *tx)
            .await
            .db()?;
    crate::found(&done)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(crate) async fn set_category_margin(
    s: &SqlStore,
    name: &str,
    min_margin_bp: Option<i64>,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE categories SET min_margin_bp = $1 WHERE name = $2")
        .bind(min_margin_bp)
        .bind(name.trim())
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(crate) async fn held_orders(
    s: &SqlStore,
    service: Option<ServiceId>,
    limit: i64,
) -> StoreResult<Vec<Order>> {
    let rows = sqlx::query(&format!(
        "SELECT {ORDER_COLS} FROM orders WHERE hold = '{}' AND status = 'queued' \
         AND ($1 = 0 OR service_id = $1) ORDER BY id LIMIT $2",
        Hold::Margin.as_str()
    ))
    .bind(service.map_or(0, |id| id.0))
    .bind(limit.clamp(1, 10_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::order).collect()
}

pub(crate) async fn held_services(s: &SqlStore) -> StoreResult<Vec<HeldService>> {
    let rows = sqlx::query(&format!(
        "SELECT o.service_id, s.name, s.rate, COUNT(*) AS orders, CAST(SUM(o.charge) AS BIGINT) AS charged, \
         MIN(o.created_at) AS oldest_at FROM orders o JOIN services s ON s.id = o.service_id \
         WHERE o.hold = '{}' AND o.status = 'queued' \
         GROUP BY o.service_id, s.name, s.rate ORDER BY orders DESC, o.service_id",
        Hold::Margin.as_str()
    ))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(HeldService {
                service_id: ServiceId(get(r, "service_id")?),
                name: get(r, "name")?,
                rate: money(r, "rate")?,
                orders: get(r, "orders")?,
                charged: money(r, "charged")?,
                oldest_at: get(r, "oldest_at")?,
            })
        })
        .collect()
}

mod section {
    use std::collections::{HashMap, HashSet};

    use smmd_domain::margin::MarginAction;
    use smmd_domain::{Money, ProviderId, ServiceId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl MarginStore for SqlStore {
        async fn record_provider_costs(
            &self,
            provider: ProviderId,
            costs: Option<&[(String, Money)]>,
            now: i64,
        ) -> StoreResult<usize> {
            crate::margin::record_provider_costs(self, provider, costs, now).await
        }

        async fn mark_provider_service_missing(
            &self,
            provider: ProviderId,
            id: &str,
            now: i64,
        ) -> StoreResult<()> {
            crate::margin::mark_provider_service_missing(self, provider, id, now).await
        }

        async fn provider_services_missing(
            &self,
            provider: ProviderId,
            ids: &[String],
        ) -> StoreResult<HashSet<String>> {
            crate::margin::provider_services_missing(self, provider, ids).await
        }

        async fn provider_costs_read_at(&self, provider: ProviderId) -> StoreResult<Option<i64>> {
            crate::margin::provider_costs_read_at(self, provider).await
        }

        async fn provider_costs(
            &self,
            provider: ProviderId,
            ids: &[String],
        ) -> StoreResult<HashMap<String, Money>> {
            crate::margin::provider_costs(self, provider, ids).await
        }

        async fn margin_terms(
            &self,
            services: &[ServiceId],
        ) -> StoreResult<HashMap<ServiceId, MarginTerms>> {
            crate::margin::margin_terms(self, services).await
        }

        async fn set_service_margin(
            &self,
            id: ServiceId,
            min_margin_bp: Option<i64>,
            action: MarginAction,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            crate::margin::set_service_margin(self, id, min_margin_bp, action, audit).await
        }

        async fn set_category_margin(
            &self,
            name: &str,
            min_margin_bp: Option<i64>,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            crate::margin::set_category_margin(self, name, min_margin_bp, audit).await
        }

        async fn held_orders(
            &self,
            service: Option<ServiceId>,
            limit: i64,
        ) -> StoreResult<Vec<Order>> {
            crate::margin::held_orders(self, service, limit).await
        }

        async fn held_services(&self) -> StoreResult<Vec<HeldService>> {
            crate::margin::held_services(self).await
        }
    }
}
