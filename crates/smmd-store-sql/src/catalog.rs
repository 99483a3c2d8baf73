//! Categories and services. A category is created by name the first time a service names it.

use smmd_domain::{CategoryId, ServiceId};
use smmd_store::{Category, Service, ServiceDraft, StoreError, StoreResult};
use sqlx::{Any, Row as _, Transaction};

use crate::rows::{self, SERVICE_COLS};
use crate::{flag, SqlResultExt, SqlStore};

pub(crate) async fn save_service(
    s: &SqlStore,
    id: Option<ServiceId>,
    d: ServiceDraft,
    now: i64,
) -> StoreResult<Service> {
    let mut tx = s.begin().await?;
    let new_id = save_service_in(s, &mut tx, id, &d, now).await?;
    let row = sqlx::query(&format!("SELECT {SERVICE_COLS} FROM services s JOIN categories c ON c.id = s.category_id WHERE s.id = $1"))
        .bind(new_id.0)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    let service = rows::service(&row)?;
    s.commit(tx).await?;
    Ok(service)
}

/// Inserts (`id` = `None`) or replaces a service inside `tx`, creating its category by name.
/// `NotFound` when `id` names no service.
pub(crate) async fn save_service_in(
    _s: &SqlStore,
    tx: &mut Transaction<'static, Any>,
    id: Option<ServiceId>,
    d: &ServiceDraft,
    now: i64,
) -> StoreResult<ServiceId> {
    sqlx::query("INSERT INTO categories (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
        .bind(d.category.trim())
        .execute(&mut **tx)
        .await
        .db()?;
    let cat: i64 = sqlx::query("SELECT id FROM categories WHERE name = $1")
        .bind(d.category.trim())
        .fetch_one(&mut **tx)
        .await
        .db()?
        .try_get(0)
        .db()?;
    let sql = match id {
        None => "INSERT INTO services (category_id, name, service_type, rate, min_qty, max_qty, refill, guarantee_days, \
                 cancel, dripfeed, link_rule, description, enabled, markup_bp, provider_id, provider_service_id, \
                 provider_rate, provider_currency, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19) RETURNING id",
        Some(_) => "UPDATE services SET category_id = $1, name = $2, service_type = $3, rate = $4, min_qty = $5, \
                    max_qty = $6, refill = $7, guarantee_days = $8, cancel = $9, dripfeed = $10, link_rule = $11, \
                    description = $12, enabled = $13, markup_bp = $14, provider_id = $15, provider_service_id = $16, \
                    provider_rate = $17, provider_currency = $18, updated_at = $19 WHERE id = $20 RETURNING id",
    };
    let row = sqlx::query(sql)
        .bind(cat)
        .bind(d.name.trim())
        .bind(d.service_type.as_str())
        .bind(d.rate.micros())
        .bind(d.min)
        .bind(d.max)
        .bind(flag(d.refill))
        .bind(d.guarantee_days)
        .bind(flag(d.cancel))
        .bind(flag(d.dripfeed))
        .bind(flag(d.link_rule))
        .bind(&d.description)
        .bind(flag(d.enabled))
        .bind(d.markup_bp)
        .bind(d.provider_id.map(|p| p.0))
        .bind(d.provider_service_id.as_deref())
        .bind(d.provider_rate.map(|m| m.micros()))
        .bind(d.provider_currency.as_deref())
        .bind(now)
        .bind(id.map_or(0, |i| i.0))
        .fetch_optional(&mut **tx)
        .await
        .db()?
        .ok_or(StoreError::NotFound)?;
    Ok(ServiceId(row.try_get(0).db()?))
}

pub(crate) async fn service(s: &SqlStore, id: ServiceId) -> StoreResult<Option<Service>> {
    let row = sqlx::query(&format!("SELECT {SERVICE_COLS} FROM services s JOIN categories c ON c.id = s.category_id WHERE s.id = $1"))
        .bind(id.0)
        .fetch_optional(&s.read)
        .await
        .db()?;
    row.as_ref().map(rows::service).transpose()
}

pub(crate) async fn list_services(s: &SqlStore, enabled_only: bool) -> StoreResult<Vec<Service>> {
    let rows = sqlx::query(&format!(
        "SELECT {SERVICE_COLS} FROM services s JOIN categories c ON c.id = s.category_id \
         WHERE s.enabled >= $1 ORDER BY c.sort, c.id, s.id"
    ))
    .bind(flag(enabled_only))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::service).collect()
}

pub(crate) async fn list_categories(s: &SqlStore) -> StoreResult<Vec<Category>> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.markup_bp, CAST(COUNT(s.id) AS BIGINT) AS n FROM categories c \
         LEFT JOIN services s ON s.category_id = c.id AND s.enabled = 1 \
         GROUP BY c.id, c.name, c.sort, c.markup_bp ORDER BY c.sort, c.id",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(Category {
                id: CategoryId(r.try_get("id").db()?),
                name: r.try_get("name").db()?,
                services: r.try_get("n").db()?,
                markup_bp: r.try_get("markup_bp").db()?,
            })
        })
        .collect()
}

/// The [`CatalogStore`](smmd_store::CatalogStore) section on SQL: each method is one of the functions above.
mod section {

    use smmd_domain::{ProviderId, ServiceId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl CatalogStore for SqlStore {
        async fn create_service(&self, draft: ServiceDraft, now: i64) -> StoreResult<Service> {
            crate::catalog::save_service(self, None, draft, now).await
        }

        async fn update_service(
            &self,
            id: ServiceId,
            draft: ServiceDraft,
            now: i64,
        ) -> StoreResult<Service> {
            crate::catalog::save_service(self, Some(id), draft, now).await
        }

        async fn service(&self, id: ServiceId) -> StoreResult<Option<Service>> {
            crate::catalog::service(self, id).await
        }

        async fn list_services(&self, enabled_only: bool) -> StoreResult<Vec<Service>> {
            crate::catalog::list_services(self, enabled_only).await
        }

        async fn list_categories(&self) -> StoreResult<Vec<Category>> {
            crate::catalog::list_categories(self).await
        }

        async fn add_service_offer(&self, service: ServiceId, offer: Offer) -> StoreResult<i64> {
            crate::fulfil::add_service_offer(self, service, offer).await
        }

        async fn service_offers(&self, service: ServiceId) -> StoreResult<Vec<Offer>> {
            crate::fulfil::service_offers(self, service).await
        }

        async fn provider_services(&self, provider: ProviderId) -> StoreResult<Vec<Service>> {
            crate::fulfil::provider_services(self, provider).await
        }

        async fn apply_service_sync(
            &self,
            ops: Vec<ServiceSyncOp>,
            source: &str,
            now: i64,
        ) -> StoreResult<(u64, u64, u64)> {
            crate::fulfil::apply_service_sync(self, ops, source, now).await
        }

        async fn edit_service(
            &self,
            id: ServiceId,
            edit: ServiceEdit,
            source: &str,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<Service> {
            crate::fulfil::edit_service(self, id, edit, source, now, audit).await
        }

        async fn service_changes(
            &self,
            id: ServiceId,
            limit: i64,
        ) -> StoreResult<Vec<ServiceChange>> {
            crate::fulfil::service_changes(self, id, limit).await
        }

        async fn set_category_markup(
            &self,
            name: &str,
            markup_bp: Option<i64>,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            crate::fulfil::set_category_markup(self, name, markup_bp, audit).await
        }
    }
}
