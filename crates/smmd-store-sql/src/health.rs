//! Provider health figures from the orders on SQL ([`smmd_store::HealthStore`]).

use smmd_domain::{Money, ProviderId};
use smmd_store::*;

use crate::rows::get;
use crate::{SqlResultExt, SqlStore};

pub(crate) async fn provider_order_figures(
    s: &SqlStore,
    since: i64,
) -> StoreResult<Vec<ProviderOrderFigures>> {
    let rows = sqlx::query(
        "SELECT o.provider_id, COUNT(*) AS orders, \
         SUM(CASE WHEN o.status = 'canceled' THEN 1 ELSE 0 END) AS canceled, \
         SUM(CASE WHEN o.status = 'partial' THEN 1 ELSE 0 END) AS partial, \
         SUM(CASE WHEN EXISTS (SELECT 1 FROM order_stuck_steps x WHERE x.order_id = o.id) \
             THEN 1 ELSE 0 END) AS stuck, \
         SUM(CASE WHEN o.route_reason IS NOT NULL THEN 1 ELSE 0 END) AS taken_over, \
         CAST(COALESCE(SUM(o.provider_charge), 0) AS BIGINT) AS spent \
         FROM orders o WHERE o.provider_id IS NOT NULL AND o.provider_order_id IS NOT NULL \
         AND o.created_at >= $1 GROUP BY o.provider_id ORDER BY o.provider_id",
    )
    .bind(since)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(ProviderOrderFigures {
                provider_id: ProviderId(get(r, "provider_id")?),
                orders: get(r, "orders")?,
                canceled: get(r, "canceled")?,
                partial: get(r, "partial")?,
                stuck: get(r, "stuck")?,
                taken_over: get(r, "taken_over")?,
                spent: Money::from_micros(get(r, "spent")?),
            })
        })
        .collect()
}

mod section {
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl HealthStore for SqlStore {
        async fn provider_order_figures(
            &self,
            since: i64,
        ) -> StoreResult<Vec<ProviderOrderFigures>> {
            super::provider_order_figures(self, since).await
        }
    }
}
