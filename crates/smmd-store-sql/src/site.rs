//! The storefront's content ([`smmd_store::SiteStore`]): brand values and pages (migration
//! 0019), and the public catalogue's figures read from the orders.

use std::collections::HashMap;

use smmd_domain::{OrderId, ServiceId};
use smmd_store::*;

use crate::rows::get;
use crate::{SqlResultExt, SqlStore};

async fn site_settings(s: &SqlStore) -> StoreResult<Vec<(String, String)>> {
    let rows = sqlx::query("SELECT name, value FROM site_settings ORDER BY name")
        .fetch_all(&s.read)
        .await
        .db()?;
    rows.iter()
        .map(|r| Ok((get(r, "name")?, get(r, "value")?)))
        .collect()
}

async fn set_site_settings(
    s: &SqlStore,
    values: &[(String, Option<String>)],
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    for (name, value) in values {
        match value {
            Some(v) => {
                sqlx::query(
                    "INSERT INTO site_settings (name, value, updated_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET value = excluded.value, \
                     updated_at = excluded.updated_at",
                )
                .bind(name)
                .bind(v)
                .bind(now)
                .execute(&mut *tx)
                .await
                .db()?;
            }
            None => {
                sqlx::query("DELETE FROM site_settings WHERE name = $1")
                    .bind(name)
                    .execute(&mut *tx)
                    .await
                    .db()?;
            }
        }
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

async fn site_pages(s: &SqlStore) -> StoreResult<Vec<SitePage>> {
    let rows = sqlx::query("SELECT slug, title, body, updated_at FROM site_pages ORDER BY slug")
        .fetch_all(&s.read)
        .await
        .db()?;
    rows.iter()
        .map(|r| {
            Ok(SitePage {
                slug: get(r, "slug")?,
                title: get(r, "title")?,
                body: get(r, "body")?,
                updated_at: get(r, "updated_at")?,
            })
        })
        .collect()
}

async fn save_site_page(s: &SqlStore, page: &SitePage, audit: Option<NewAudit>) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    if page.body.is_empty() {
        sqlx::query("DELETE FROM site_pages WHERE slug = $1")
            .bind(&page.slug)
            .execute(&mut *tx)
            .await
            .db()?;
    } else {
        sqlx::query(
            "INSERT INTO site_pages (slug, title, body, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (slug) DO UPDATE SET title = excluded.title, body = excluded.body, \
             updated_at = excluded.updated_at",
        )
        .bind(&page.slug)
        .bind(&page.title)
        .bind(&page.body)
        .bind(page.updated_at)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

/// Two reads: orders per service over both order tables, then each service's latest Completed
/// live orders (a window per service), so the whole catalogue costs two queries.
async fn catalog_figures(s: &SqlStore, samples: i64) -> StoreResult<Vec<ServiceFigures>> {
    let counts = sqlx::query(
        "SELECT service_id, COUNT(*) AS n FROM \
         (SELECT service_id FROM orders UNION ALL SELECT service_id FROM orders_archive) o \
         GROUP BY service_id ORDER BY service_id",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    let mut figures: Vec<ServiceFigures> = Vec::with_capacity(counts.len());
    let mut at: HashMap<i64, usize> = HashMap::with_capacity(counts.len());
    for r in &counts {
        let id: i64 = get(r, "service_id")?;
        at.insert(id, figures.len());
        figures.push(ServiceFigures {
            service_id: ServiceId(id),
            orders: get(r, "n")?,
            samples: Vec::new(),
        });
    }
    let rows = sqlx::query(
        "SELECT service_id, id, total_quantity, took FROM ( \
           SELECT service_id, id, total_quantity, completed_at - created_at AS took, \
                  ROW_NUMBER() OVER (PARTITION BY service_id ORDER BY completed_at DESC, id DESC) AS rn \
           FROM orders WHERE status = 'completed' AND completed_at IS NOT NULL) t \
         WHERE rn <= $1 ORDER BY service_id, rn",
    )
    .bind(samples.clamp(1, 100))
    .fetch_all(&s.read)
    .await
    .db()?;
    for r in &rows {
        let id: i64 = get(r, "service_id")?;
        if let Some(&i) = at.get(&id) {
            figures[i].samples.push(CompletionSample {
                order: OrderId(get(r, "id")?),
                quantity: get(r, "total_quantity")?,
                duration_ms: get(r, "took")?,
            });
        }
    }
    Ok(figures)
}

mod imp {
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl SiteStore for SqlStore {
        async fn site_settings(&self) -> StoreResult<Vec<(String, String)>> {
            super::site_settings(self).await
        }

        async fn set_site_settings(
            &self,
            values: &[(String, Option<String>)],
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::set_site_settings(self, values, now, audit).await
        }

        async fn site_pages(&self) -> StoreResult<Vec<SitePage>> {
            super::site_pages(self).await
        }

        async fn save_site_page(
            &self,
            page: &SitePage,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::save_site_page(self, page, audit).await
        }

        async fn catalog_figures(&self, samples: i64) -> StoreResult<Vec<ServiceFigures>> {
            super::catalog_figures(self, samples).await
        }
    }
}
