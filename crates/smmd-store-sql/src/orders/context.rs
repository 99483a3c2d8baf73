//! The reads of a placement in one go ([`OrderStore::order_context`], issue 20): the service,
//! the user's live rentals (their reseller tiers price it) and the user's custom rates that can
//! price it. On PostgreSQL every read is a round trip and a statement's set-up on both sides:
//! with the batch writer (`group_pg`) `add` from 100 resellers spent more on these three reads
//! than on its share of the batch (`smmd-bench add100`: 2,852 → 3,958 `add`/s at c32 with the
//! two price-book reads left out), so there they are one statement, the price book coming back
//! as two JSON arrays. On SQLite the reads are direct (in process, microseconds) and stay three.

use smmd_domain::{ServiceId, UserId};
use smmd_store::*;

use crate::billing::LIVE_RENTALS;
use crate::people::{custom_rate, CUSTOM_RATE_COLS};
use crate::rows::{self, get, SERVICE_COLS};
use crate::{Dialect, SqlResultExt, SqlStore};

/// The one statement of [`order_context`] on PostgreSQL (`$1` user, `$2` service), built once.
static PG_ORDER_CONTEXT: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT {SERVICE_COLS}, \
         (SELECT COALESCE(json_agg(json_build_array(p.entitlement, p.settings) ORDER BY r.id), \
          '[]')::text {LIVE_RENTALS}) AS live_json, \
         (SELECT COALESCE(json_agg(json_build_array({CUSTOM_RATE_COLS}) ORDER BY service_id), \
          '[]')::text FROM custom_rates WHERE user_id = $1 AND service_id IN (0, $2)) AS custom_json \
         FROM services s JOIN categories c ON c.id = s.category_id WHERE s.id = $2"
    )
});

pub(crate) async fn order_context(
    s: &SqlStore,
    user: UserId,
    service: ServiceId,
) -> StoreResult<OrderContext> {
    if s.dialect != Dialect::Postgres {
        let Some(found) = crate::catalog::service(s, service).await? else {
            return Ok(OrderContext::default());
        };
        let live = BillingStore::live_entitlements(s, user).await?;
        let custom = PeopleStore::custom_rates(s, user)
            .await?
            .into_iter()
            .filter(|r| r.service_id.is_none_or(|id| id == service.0))
            .collect();
        return Ok(OrderContext {
            service: Some(found),
            live,
            custom,
        });
    }
    let row = sqlx::query(PG_ORDER_CONTEXT.as_str())
        .bind(user.0)
        .bind(service.0)
        .fetch_optional(&s.read)
        .await
        .db()?;
    let Some(row) = row else {
        return Ok(OrderContext::default());
    };
    let json = |column: &str| -> StoreResult<String> { get(&row, column) };
    let live: Vec<(String, String)> = serde_json::from_str(&json("live_json")?)
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("live rentals")))?;
    let custom: Vec<(i64, Option<i64>, Option<i64>)> = serde_json::from_str(&json("custom_json")?)
        .map_err(|e| StoreError::Other(anyhow::Error::new(e).context("custom rates")))?;
    Ok(OrderContext {
        service: Some(rows::service(&row)?),
        live,
        custom: custom
            .into_iter()
            .map(|(service, discount, fixed)| custom_rate(service, discount, fixed))
            .collect::<StoreResult<_>>()?,
    })
}
