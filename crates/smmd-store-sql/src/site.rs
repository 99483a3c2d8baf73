//! The storefront's content ([`smmd_store::SiteStore`]): brand values and pages (migration
//! 0019), and the public catalogue's figures read from the orders.

use std::collections::HashMap;

use smmd_domain::rating::{RatingError, RatingStatus};
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

const RATING_COLS: &str =
    "order_id, service_id, user_id, stars, comment, status, created_at, moderated_at";

fn rating(r: &crate::Row) -> StoreResult<ServiceRating> {
    let status: String = get(r, "status")?;
    Ok(ServiceRating {
        order_id: OrderId(get(r, "order_id")?),
        service_id: ServiceId(get(r, "service_id")?),
        user_id: smmd_domain::UserId(get(r, "user_id")?),
        stars: get(r, "stars")?,
        comment: get(r, "comment")?,
        status: RatingStatus::parse(&status)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("rating status {status}")))?,
        created_at: get(r, "created_at")?,
        moderated_at: get(r, "moderated_at")?,
    })
}

async fn rate_order(
    s: &SqlStore,
    user: smmd_domain::UserId,
    order: OrderId,
    stars: i64,
    comment: &str,
    status: RatingStatus,
    now: i64,
) -> StoreResult<Result<ServiceRating, RatingError>> {
    // Live or archived; an ended order's status no longer changes but for an admin's
    // Completed → Partial, and both may be rated.
    let o = crate::orders::order(s, order)
        .await?
        .filter(|o| o.user_id == user)
        .ok_or(StoreError::NotFound)?;
    if !smmd_domain::rating::can_rate(o.status) {
        return Ok(Err(RatingError::NotDelivered));
    }
    let mut tx = s.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO service_ratings (order_id, service_id, user_id, stars, comment, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_id) DO NOTHING",
    )
    .bind(order.0)
    .bind(o.service_id.0)
    .bind(user.0)
    .bind(stars)
    .bind(comment)
    .bind(status.as_str())
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?
    .rows_affected();
    if inserted == 0 {
        return Ok(Err(RatingError::AlreadyRated));
    }
    s.commit(tx).await?;
    Ok(Ok(ServiceRating {
        order_id: order,
        service_id: o.service_id,
        user_id: user,
        stars,
        comment: comment.to_string(),
        status,
        created_at: now,
        moderated_at: None,
    }))
}

async fn moderate_ratings(
    s: &SqlStore,
    orders: &[OrderId],
    status: RatingStatus,
    admin: smmd_domain::UserId,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<u64> {
    let mut tx = s.begin().await?;
    let mut moved = 0;
    for o in orders {
        moved += sqlx::query(
            "UPDATE service_ratings SET status = $1, moderated_at = $2, moderated_by = $3 \
             WHERE order_id = $4 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(now)
        .bind(admin.0)
        .bind(o.0)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
    }
    if moved > 0 {
        crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    }
    s.commit(tx).await?;
    Ok(moved)
}

async fn ratings(s: &SqlStore, q: &RatingQuery) -> StoreResult<Vec<ServiceRating>> {
    let mut sql = format!("SELECT {RATING_COLS} FROM service_ratings WHERE 1 = 1");
    let mut n = 0;
    let mut arg = || {
        n += 1;
        format!("${n}")
    };
    if q.status.is_some() {
        sql += &format!(" AND status = {}", arg());
    }
    if q.service.is_some() {
        sql += &format!(" AND service_id = {}", arg());
    }
    if q.order.is_some() {
        sql += &format!(" AND order_id = {}", arg());
    }
    if q.before.is_some() {
        sql += &format!(" AND order_id < {}", arg());
    }
    sql += &format!(" ORDER BY order_id DESC LIMIT {}", arg());
    let mut query = sqlx::query(&sql);
    if let Some(st) = q.status {
        query = query.bind(st.as_str());
    }
    if let Some(sv) = q.service {
        query = query.bind(sv.0);
    }
    if let Some(o) = q.order {
        query = query.bind(o.0);
    }
    if let Some(b) = q.before {
        query = query.bind(b.0);
    }
    let rows = query
        .bind(q.limit.clamp(1, 500))
        .fetch_all(&s.read)
        .await
        .db()?;
    rows.iter().map(rating).collect()
}

async fn rating_figures(s: &SqlStore) -> StoreResult<Vec<RatingFigures>> {
    let rows = sqlx::query(
        "SELECT service_id, COUNT(*) AS n, SUM(stars) AS stars FROM service_ratings \
         WHERE status = 'approved' GROUP BY service_id ORDER BY service_id",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(RatingFigures {
                service_id: ServiceId(get(r, "service_id")?),
                count: get(r, "n")?,
                stars: get(r, "stars")?,
            })
        })
        .collect()
}

mod imp {
    use smmd_domain::rating::{RatingError, RatingStatus};
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

    #[async_trait::async_trait]
    impl RatingStore for SqlStore {
        async fn rate_order(
            &self,
            user: smmd_domain::UserId,
            order: smmd_domain::OrderId,
            stars: i64,
            comment: &str,
            status: RatingStatus,
            now: i64,
        ) -> StoreResult<Result<ServiceRating, RatingError>> {
            super::rate_order(self, user, order, stars, comment, status, now).await
        }

        async fn moderate_ratings(
            &self,
            orders: &[smmd_domain::OrderId],
            status: RatingStatus,
            admin: smmd_domain::UserId,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<u64> {
            super::moderate_ratings(self, orders, status, admin, now, audit).await
        }

        async fn ratings(&self, query: &RatingQuery) -> StoreResult<Vec<ServiceRating>> {
            super::ratings(self, query).await
        }

        async fn rating_figures(&self) -> StoreResult<Vec<RatingFigures>> {
            super::rating_figures(self).await
        }
    }
}
