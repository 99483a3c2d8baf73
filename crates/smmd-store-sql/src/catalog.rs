//! Categories and services: a category is created by name the first time a service names it;
//! offers; the services sync plan with its change log; admin service edits and category markup.

use smmd_domain::{CategoryId, ProviderId, ServiceId};
use smmd_store::*;
use sqlx::{Any, Row as _, Transaction};

use crate::rows::{self, CHANGE_COLS, SERVICE_COLS};
use crate::{flag, Dialect, SqlResultExt, SqlStore};

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
    let sql = format!("SELECT {SERVICE_COLS} FROM services s JOIN categories c ON c.id = s.category_id WHERE s.id = $1");
    if let Some(direct) = &s.direct {
        return direct.optional(&sql, &[&id.0], |r| rows::service(r));
    }
    let row = sqlx::query(&sql)
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
        "SELECT c.id, c.name, c.markup_bp, c.min_margin_bp, CAST(COUNT(s.id) AS BIGINT) AS n FROM categories c \
         LEFT JOIN services s ON s.category_id = c.id AND s.enabled = 1 \
         GROUP BY c.id, c.name, c.sort, c.markup_bp, c.min_margin_bp ORDER BY c.sort, c.id",
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
                min_margin_bp: r.try_get("min_margin_bp").db()?,
            })
        })
        .collect()
}

pub(crate) async fn add_service_offer(
    s: &SqlStore,
    service: ServiceId,
    offer: Offer,
    audit: Option<NewAudit>,
) -> StoreResult<i64> {
    let mut tx = s.begin().await?;
    let pos: i64 = sqlx::query(
        "SELECT COALESCE(MAX(position), 0) + 1 FROM service_offers WHERE service_id = $1",
    )
    .bind(service.0)
    .fetch_one(&mut *tx)
    .await
    .db()?
    .try_get(0)
    .db()?;
    sqlx::query(
        "INSERT INTO service_offers (service_id, position, provider_id, provider_service_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(service.0)
    .bind(pos)
    .bind(offer.provider_id.0)
    .bind(&offer.provider_service_id)
    .execute(&mut *tx)
    .await
    .map_err(crate::map_err)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(pos)
}

pub(crate) async fn remove_service_offer(
    s: &SqlStore,
    service: ServiceId,
    offer: &Offer,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "DELETE FROM service_offers WHERE service_id = $1 AND provider_id = $2 \
         AND provider_service_id = $3",
    )
    .bind(service.0)
    .bind(offer.provider_id.0)
    .bind(&offer.provider_service_id)
    .execute(&mut *tx)
    .await
    .db()?;
    crate::found(&done)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(crate) async fn fallback_offers(
    s: &SqlStore,
) -> StoreResult<std::collections::HashMap<ServiceId, Vec<Offer>>> {
    let rows = sqlx::query(
        "SELECT service_id, provider_id, provider_service_id FROM service_offers \
         ORDER BY service_id, position",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    let mut out: std::collections::HashMap<ServiceId, Vec<Offer>> = Default::default();
    for r in rows {
        out.entry(ServiceId(r.try_get(0).db()?))
            .or_default()
            .push(Offer {
                provider_id: ProviderId(r.try_get(1).db()?),
                provider_service_id: r.try_get(2).db()?,
            });
    }
    Ok(out)
}

pub(crate) async fn service_offers(s: &SqlStore, service: ServiceId) -> StoreResult<Vec<Offer>> {
    let mut out = Vec::new();
    let own = sqlx::query(
        "SELECT provider_id, provider_service_id FROM services WHERE id = $1 \
         AND provider_id IS NOT NULL AND provider_service_id IS NOT NULL",
    )
    .bind(service.0)
    .fetch_optional(&s.read)
    .await
    .db()?;
    if let Some(r) = own {
        out.push(Offer {
            provider_id: ProviderId(r.try_get(0).db()?),
            provider_service_id: r.try_get(1).db()?,
        });
    }
    let rows = sqlx::query(
        "SELECT provider_id, provider_service_id FROM service_offers WHERE service_id = $1 ORDER BY position",
    )
    .bind(service.0)
    .fetch_all(&s.read)
    .await
    .db()?;
    for r in rows {
        out.push(Offer {
            provider_id: ProviderId(r.try_get(0).db()?),
            provider_service_id: r.try_get(1).db()?,
        });
    }
    Ok(out)
}

pub(crate) async fn provider_services(
    s: &SqlStore,
    provider: ProviderId,
) -> StoreResult<Vec<Service>> {
    let rows = sqlx::query(&format!(
        "SELECT {SERVICE_COLS} FROM services s JOIN categories c ON c.id = s.category_id \
         WHERE s.provider_id = $1 ORDER BY s.id"
    ))
    .bind(provider.0)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::service).collect()
}

async fn log_change(
    tx: &mut Transaction<'static, Any>,
    service: ServiceId,
    c: &FieldChange,
    source: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO service_changes (service_id, field, old_value, new_value, source, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(service.0)
    .bind(&c.field)
    .bind(c.old.as_deref())
    .bind(c.new.as_deref())
    .bind(source)
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn apply_service_sync(
    s: &SqlStore,
    ops: Vec<ServiceSyncOp>,
    source: &str,
    now: i64,
) -> StoreResult<(u64, u64, u64)> {
    let mut tx = s.begin().await?;
    let (mut created, mut updated, mut disabled) = (0, 0, 0);
    for op in ops {
        match op {
            ServiceSyncOp::Create(draft) => {
                let svc = crate::catalog::save_service_in(s, &mut tx, None, &draft, now).await?;
                let c = FieldChange {
                    field: "created".into(),
                    old: None,
                    new: Some(format!("{} @ {}", draft.name, draft.rate)),
                };
                log_change(&mut tx, svc, &c, source, now).await?;
                created += 1;
            }
            ServiceSyncOp::Update { id, draft, changes } => {
                crate::catalog::save_service_in(s, &mut tx, Some(id), &draft, now).await?;
                for c in &changes {
                    log_change(&mut tx, id, c, source, now).await?;
                }
                updated += 1;
            }
            ServiceSyncOp::Disable { id } => {
                let done = sqlx::query(
                    "UPDATE services SET enabled = 0, updated_at = $1 WHERE id = $2 AND enabled = 1",
                )
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await
                .db()?;
                if done.rows_affected() == 1 {
                    let c = FieldChange {
                        field: "enabled".into(),
                        old: Some("true".into()),
                        new: Some("false (gone upstream)".into()),
                    };
                    log_change(&mut tx, id, &c, source, now).await?;
                    disabled += 1;
                }
            }
        }
    }
    s.commit(tx).await?;
    Ok((created, updated, disabled))
}

pub(crate) async fn edit_service(
    s: &SqlStore,
    id: ServiceId,
    edit: ServiceEdit,
    source: &str,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<Service> {
    let mut tx = s.begin().await?;
    let row = sqlx::query(&format!(
        "SELECT {SERVICE_COLS} FROM services s JOIN categories c ON c.id = s.category_id WHERE s.id = $1{}",
        match s.dialect {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE OF s",
        }
    ))
    .bind(id.0)
    .fetch_optional(&mut *tx)
    .await
    .db()?
    .ok_or(StoreError::NotFound)?;
    let cur = rows::service(&row)?;
    let mut overrides = cur.overrides.clone();
    let mut changes = Vec::new();
    let mut note = |field: &str, old: String, new: String, is_override: bool| {
        if old != new {
            changes.push(FieldChange {
                field: field.into(),
                old: Some(old),
                new: Some(new),
            });
        }
        if is_override && !overrides.iter().any(|o| o == field) {
            overrides.push(field.to_string());
        }
    };
    let name = edit.name.clone().unwrap_or(cur.name.clone());
    if let Some(n) = &edit.name {
        note("name", cur.name.clone(), n.clone(), true);
    }
    let rate_overridden = cur.overrides.iter().any(|o| o == "rate");
    let rate = match (edit.rate, edit.priced_rate) {
        (Some(r), _) => {
            note("rate", cur.rate.to_string(), r.to_string(), true);
            r
        }
        (None, Some(r)) if !rate_overridden => {
            note("rate", cur.rate.to_string(), r.to_string(), false);
            r
        }
        _ => cur.rate,
    };
    let min = edit.min.unwrap_or(cur.min);
    if let Some(v) = edit.min {
        note("min", cur.min.to_string(), v.to_string(), true);
    }
    let max = edit.max.unwrap_or(cur.max);
    if let Some(v) = edit.max {
        note("max", cur.max.to_string(), v.to_string(), true);
    }
    let enabled = edit.enabled.unwrap_or(cur.enabled);
    if let Some(v) = edit.enabled {
        note("enabled", cur.enabled.to_string(), v.to_string(), true);
    }
    let markup = edit.markup_bp.unwrap_or(cur.markup_bp);
    if let Some(v) = edit.markup_bp {
        let show = |m: Option<i64>| m.map_or("default".to_string(), |b| b.to_string());
        note("markup_bp", show(cur.markup_bp), show(v), false);
    }
    let auto_refill = edit.auto_refill.unwrap_or(cur.auto_refill);
    if let Some(v) = edit.auto_refill {
        note(
            "auto_refill",
            cur.auto_refill.to_string(),
            v.to_string(),
            false,
        );
    }
    let description = edit.description.clone().unwrap_or(cur.description.clone());
    if let Some(d) = &edit.description {
        note("description", cur.description.clone(), d.clone(), true);
    }
    let guarantee_days = edit.guarantee_days.unwrap_or(cur.guarantee_days);
    if let Some(g) = edit.guarantee_days {
        note(
            "guarantee_days",
            cur.guarantee_days.to_string(),
            g.to_string(),
            true,
        );
    }
    // The use case checked the edit against what it read; a concurrent edit can still make
    // the merged terms invalid (min of one edit above max of the other): refuse, not store it.
    if smmd_domain::catalog::check_service_terms(&name, rate, min, max).is_err() {
        return Err(StoreError::Conflict("services.terms"));
    }
    sqlx::query(
        "UPDATE services SET name = $1, rate = $2, min_qty = $3, max_qty = $4, enabled = $5, markup_bp = $6, \
         overrides = $7, updated_at = $8, auto_refill = $10, description = $11, guarantee_days = $12 \
         WHERE id = $9",
    )
    .bind(name.trim())
    .bind(rate.micros())
    .bind(min)
    .bind(max)
    .bind(flag(enabled))
    .bind(markup)
    .bind(overrides.join(","))
    .bind(now)
    .bind(id.0)
    .bind(flag(auto_refill))
    .bind(&description)
    .bind(guarantee_days)
    .execute(&mut *tx)
    .await
    .db()?;
    for c in &changes {
        log_change(&mut tx, id, c, source, now).await?;
    }
    let audit = audit.map(|mut a| {
        if a.detail.is_empty() {
            a.detail = changes
                .iter()
                .map(|c| {
                    let show = |v: &Option<String>| v.clone().unwrap_or_default();
                    if c.field == "description" {
                        // Long text: the change history keeps both versions.
                        let n = c.new.as_deref().map_or(0, |d| d.chars().count());
                        return format!("description: {n} characters");
                    }
                    format!("{}: {} -> {}", c.field, show(&c.old), show(&c.new))
                })
                .collect::<Vec<_>>()
                .join("; ");
            if a.detail.is_empty() {
                // Sent, but every field already had the value: say so, never a blank line.
                a.detail = "no field changed".into();
            }
        }
        a
    });
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    let row = sqlx::query(&format!(
        "SELECT {SERVICE_COLS} FROM services s JOIN categories c ON c.id = s.category_id WHERE s.id = $1"
    ))
    .bind(id.0)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let svc = rows::service(&row)?;
    s.commit(tx).await?;
    Ok(svc)
}

pub(crate) async fn service_changes(
    s: &SqlStore,
    id: ServiceId,
    limit: i64,
) -> StoreResult<Vec<ServiceChange>> {
    let rows = sqlx::query(&format!(
        "SELECT {CHANGE_COLS} FROM service_changes WHERE service_id = $1 ORDER BY id DESC LIMIT $2"
    ))
    .bind(id.0)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::service_change).collect()
}

pub(crate) async fn set_category_markup(
    s: &SqlStore,
    name: &str,
    markup_bp: Option<i64>,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE categories SET markup_bp = $1 WHERE name = $2")
        .bind(markup_bp)
        .bind(name.trim())
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(crate) async fn catalog_updates(s: &SqlStore, limit: i64) -> StoreResult<Vec<CatalogUpdate>> {
    let rows = sqlx::query(
        "SELECT x.service_id, s.name, c.name AS category, x.field, x.old_value, x.new_value, x.created_at \
         FROM service_changes x JOIN services s ON s.id = x.service_id \
         JOIN categories c ON c.id = s.category_id \
         WHERE x.field IN ('rate', 'enabled') ORDER BY x.id DESC LIMIT $1",
    )
    .bind(limit.clamp(1, 1_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(CatalogUpdate {
                service_id: ServiceId(r.try_get("service_id").db()?),
                name: r.try_get("name").db()?,
                category: r.try_get("category").db()?,
                field: r.try_get("field").db()?,
                old: r.try_get("old_value").db()?,
                new: r.try_get("new_value").db()?,
                at: r.try_get("created_at").db()?,
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

        async fn add_service_offer(
            &self,
            service: ServiceId,
            offer: Offer,
            audit: Option<NewAudit>,
        ) -> StoreResult<i64> {
            crate::catalog::add_service_offer(self, service, offer, audit).await
        }

        async fn remove_service_offer(
            &self,
            service: ServiceId,
            offer: &Offer,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            crate::catalog::remove_service_offer(self, service, offer, audit).await
        }

        async fn service_offers(&self, service: ServiceId) -> StoreResult<Vec<Offer>> {
            crate::catalog::service_offers(self, service).await
        }

        async fn fallback_offers(
            &self,
        ) -> StoreResult<std::collections::HashMap<ServiceId, Vec<Offer>>> {
            crate::catalog::fallback_offers(self).await
        }

        async fn provider_services(&self, provider: ProviderId) -> StoreResult<Vec<Service>> {
            crate::catalog::provider_services(self, provider).await
        }

        async fn apply_service_sync(
            &self,
            ops: Vec<ServiceSyncOp>,
            source: &str,
            now: i64,
        ) -> StoreResult<(u64, u64, u64)> {
            crate::catalog::apply_service_sync(self, ops, source, now).await
        }

        async fn edit_service(
            &self,
            id: ServiceId,
            edit: ServiceEdit,
            source: &str,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<Service> {
            crate::catalog::edit_service(self, id, edit, source, now, audit).await
        }

        async fn service_changes(
            &self,
            id: ServiceId,
            limit: i64,
        ) -> StoreResult<Vec<ServiceChange>> {
            crate::catalog::service_changes(self, id, limit).await
        }

        async fn catalog_updates(&self, limit: i64) -> StoreResult<Vec<CatalogUpdate>> {
            crate::catalog::catalog_updates(self, limit).await
        }

        async fn set_category_markup(
            &self,
            name: &str,
            markup_bp: Option<i64>,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            crate::catalog::set_category_markup(self, name, markup_bp, audit).await
        }
    }
}
