//! The child panel registry on SQL ([`smmd_store::PanelStore`], migration 0026): `panels`
//! joined with its rental (state) and plan (`retain_days`), and `panel_hosts` (one row per
//! hostname, the primary key keeping each name on one panel).

use std::collections::HashMap;

use anyhow::anyhow;
use smmd_domain::billing::entitlement::Entitlement;
use smmd_domain::billing::rental::RentalState;
use smmd_domain::panel::{ChildPanelPlan, PanelPhase, ProvisionStep};
use smmd_domain::UserId;
use smmd_store::*;

use crate::rows::get;
use crate::{Dialect, Row, SqlResultExt, SqlStore};

const COLS: &str =
    "p.id, p.owner_id, p.rental_id, p.name, p.currency, p.markup_bp, p.admin_email, \
    p.admin_password_hash, p.storage, p.phase, p.step, p.error, p.api_key_hash, p.api_key_enc, \
    p.created_at, p.updated_at, r.state AS rental_state, r.reason AS rental_reason, \
    r.state_at AS rental_state_at, pl.settings AS plan_settings";
const FROM: &str =
    "FROM panels p JOIN rentals r ON r.id = p.rental_id JOIN plans pl ON pl.id = r.plan_id";

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Other(anyhow!("unexpected {what} `{value}` in database"))
}

fn panel_row(row: &Row, hostnames: Vec<String>) -> StoreResult<PanelRecord> {
    let phase: String = get(row, "phase")?;
    let step: String = get(row, "step")?;
    let state: String = get(row, "rental_state")?;
    let reason: Option<String> = get(row, "rental_reason")?;
    let settings: String = get(row, "plan_settings")?;
    Ok(PanelRecord {
        id: get(row, "id")?,
        owner_id: UserId(get(row, "owner_id")?),
        rental_id: get(row, "rental_id")?,
        hostnames,
        name: get(row, "name")?,
        currency: get(row, "currency")?,
        markup_bp: get(row, "markup_bp")?,
        admin_email: get(row, "admin_email")?,
        admin_password_hash: get(row, "admin_password_hash")?,
        storage: get(row, "storage")?,
        phase: PanelPhase::parse(&phase).ok_or_else(|| bad("panel phase", &phase))?,
        step: ProvisionStep::parse(&step).ok_or_else(|| bad("provisioning step", &step))?,
        error: get(row, "error")?,
        api_key_hash: get(row, "api_key_hash")?,
        api_key_enc: get(row, "api_key_enc")?,
        rental_state: RentalState::parse(&state, reason.as_deref())
            .ok_or_else(|| bad("rental state", &state))?,
        rental_state_at: get(row, "rental_state_at")?,
        retain_days: ChildPanelPlan::from_settings(&settings).retain_days,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// The panels the `WHERE` clause `filter` (binding `arg` as `$1`, if any) selects, in `order`,
/// each with its hostnames.
async fn select(
    s: &SqlStore,
    filter: &str,
    arg: Option<Arg<'_>>,
    order: &str,
) -> StoreResult<Vec<PanelRecord>> {
    let sql = format!("SELECT {COLS} {FROM} {filter} ORDER BY {order}");
    let mut q = sqlx::query(&sql);
    match arg {
        Some(Arg::Id(v)) => q = q.bind(v),
        Some(Arg::Text(v)) => q = q.bind(v),
        None => {}
    }
    let rows = q.fetch_all(&s.read).await.db()?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids = rows
        .iter()
        .map(|r| get::<i64>(r, "id"))
        .collect::<StoreResult<Vec<i64>>>()?;
    let host_sql = format!(
        "SELECT hostname, panel_id FROM panel_hosts WHERE {} ORDER BY panel_id, position",
        s.dialect.id_in("panel_id", 1)
    );
    let hosts = sqlx::query(&host_sql)
        .bind(s.dialect.id_list(ids.iter().copied()))
        .fetch_all(&s.read)
        .await
        .db()?;
    let mut by_panel: HashMap<i64, Vec<String>> = HashMap::new();
    for h in &hosts {
        by_panel
            .entry(get(h, "panel_id")?)
            .or_default()
            .push(get(h, "hostname")?);
    }
    rows.iter()
        .zip(ids)
        .map(|(r, id)| panel_row(r, by_panel.remove(&id).unwrap_or_default()))
        .collect()
}

enum Arg<'a> {
    Id(i64),
    Text(&'a str),
}

async fn one(s: &SqlStore, id: i64) -> StoreResult<Option<PanelRecord>> {
    Ok(select(s, "WHERE p.id = $1", Some(Arg::Id(id)), "p.id")
        .await?
        .pop())
}

async fn rent_panel(s: &SqlStore, new: &NewPanel, now: i64) -> Result<PanelRecord, RentPanelError> {
    let mut tx = s.begin().await?;
    let plan = crate::billing::plan_in(&mut tx, new.plan_id)
        .await?
        .ok_or(BillingError::PlanNotFound)?;
    if Entitlement::parse(&plan.entitlement) != Some(Entitlement::ChildPanel) {
        return Err(RentPanelError::NotChildPanelPlan);
    }
    for name in &new.hostnames {
        let taken = sqlx::query("SELECT panel_id FROM panel_hosts WHERE hostname = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await
            .db()?;
        if taken.is_some() {
            return Err(RentPanelError::HostnameTaken(name.clone()));
        }
    }
    let rental =
        crate::billing::engine::rent(&mut tx, s.dialect, new.owner, new.plan_id, now).await?;
    let row = sqlx::query(
        "INSERT INTO panels (owner_id, rental_id, name, currency, markup_bp, admin_email, \
         admin_password_hash, storage, phase, step, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $8, $5, $6, '', 'provisioning', 'storage', $7, $7) RETURNING id",
    )
    .bind(new.owner.0)
    .bind(rental.id)
    .bind(&new.name)
    .bind(&new.currency)
    .bind(&new.admin_email)
    .bind(&new.admin_password_hash)
    .bind(now)
    .bind(new.markup_bp)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let id: i64 = get(&row, "id")?;
    let storage = match s.dialect {
        Dialect::Sqlite => format!("sqlite:panels/{id}/smmd.db"),
        Dialect::Postgres => format!("schema:{}", smmd_domain::panel::schema_name(id)),
    };
    sqlx::query("UPDATE panels SET storage = $1 WHERE id = $2")
        .bind(&storage)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
    for (position, name) in new.hostnames.iter().enumerate() {
        sqlx::query("INSERT INTO panel_hosts (hostname, panel_id, position) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(id)
            .bind(i64::try_from(position).unwrap_or(i64::MAX))
            .execute(&mut *tx)
            .await
            .map_err(|e| match crate::map_err(e) {
                StoreError::Conflict(_) => RentPanelError::HostnameTaken(name.clone()),
                e => e.into(),
            })?;
    }
    s.commit(tx).await?;
    Ok(one(s, id).await?.ok_or(StoreError::NotFound)?)
}

async fn advance_panel(
    s: &SqlStore,
    id: i64,
    from: ProvisionStep,
    to: Option<ProvisionStep>,
    now: i64,
) -> StoreResult<bool> {
    let (phase, step) = match to {
        Some(step) => (PanelPhase::Provisioning, step),
        None => (PanelPhase::Ready, from),
    };
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE panels SET phase = $1, step = $2, error = NULL, updated_at = $3 \
         WHERE id = $4 AND phase = 'provisioning' AND step = $5",
    )
    .bind(phase.as_str())
    .bind(step.as_str())
    .bind(now)
    .bind(id)
    .bind(from.as_str())
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await?;
    Ok(done.rows_affected() == 1)
}

async fn set_panel_error(s: &SqlStore, id: i64, error: Option<&str>, now: i64) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE panels SET error = $1, updated_at = $2 WHERE id = $3")
        .bind(error)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    s.commit(tx).await
}

async fn set_panel_key(
    s: &SqlStore,
    id: i64,
    hash: &str,
    enc: &str,
    now: i64,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE panels SET api_key_hash = $1, api_key_enc = $2, updated_at = $3 \
         WHERE id = $4 AND api_key_hash IS NULL",
    )
    .bind(hash)
    .bind(enc)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await?;
    Ok(done.rows_affected() == 1)
}

async fn remove_panel(s: &SqlStore, id: i64, now: i64, audit: Option<NewAudit>) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE panels SET phase = 'removed', api_key_hash = NULL, api_key_enc = NULL, \
         updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await
    .db()?;
    crate::found(&done)?;
    sqlx::query("DELETE FROM panel_hosts WHERE panel_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

async fn claim_panel(
    s: &SqlStore,
    id: i64,
    holder: &str,
    now: i64,
    lease_ms: i64,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE panels SET lease_holder = $1, lease_until = $2 WHERE id = $3 \
         AND (lease_until IS NULL OR lease_until <= $4 OR lease_holder = $1)",
    )
    .bind(holder)
    .bind(now.saturating_add(lease_ms))
    .bind(id)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await?;
    Ok(done.rows_affected() == 1)
}

async fn release_panel(s: &SqlStore, id: i64, holder: &str) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    sqlx::query(
        "UPDATE panels SET lease_holder = NULL, lease_until = NULL \
         WHERE id = $1 AND lease_holder = $2",
    )
    .bind(id)
    .bind(holder)
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await
}

async fn panel_activity(s: &SqlStore) -> StoreResult<Vec<PanelActivity>> {
    let rows = sqlx::query(
        "SELECT p.id, COUNT(o.id) AS orders, CAST(COALESCE(SUM(o.charge - o.refunded), 0) AS BIGINT) AS revenue, \
         MAX(o.created_at) AS last_at FROM panels p \
         LEFT JOIN orders o ON o.panel_id = p.id \
         GROUP BY p.id ORDER BY p.id",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(PanelActivity {
                panel_id: get(r, "id")?,
                orders: get(r, "orders")?,
                revenue: smmd_domain::Money::from_micros(get(r, "revenue")?),
                last_order_at: get(r, "last_at")?,
            })
        })
        .collect()
}

mod imp {
    use super::*;

    #[async_trait::async_trait]
    impl PanelStore for SqlStore {
        async fn rent_panel(
            &self,
            new: &NewPanel,
            now: i64,
        ) -> Result<PanelRecord, RentPanelError> {
            super::rent_panel(self, new, now).await
        }

        async fn panels(&self) -> StoreResult<Vec<PanelRecord>> {
            select(self, "", None, "p.id").await
        }

        async fn panel(&self, id: i64) -> StoreResult<Option<PanelRecord>> {
            one(self, id).await
        }

        async fn panel_by_api_key(&self, key_hash: &str) -> StoreResult<Option<PanelRecord>> {
            Ok(select(
                self,
                "WHERE p.api_key_hash = $1 AND p.phase <> 'removed' \
                 AND p.owner_id IN (SELECT id FROM users WHERE blocked_at IS NULL)",
                Some(Arg::Text(key_hash)),
                "p.id",
            )
            .await?
            .pop())
        }

        async fn panel_activity(&self) -> StoreResult<Vec<PanelActivity>> {
            super::panel_activity(self).await
        }

        async fn panels_of(&self, owner: UserId) -> StoreResult<Vec<PanelRecord>> {
            select(
                self,
                "WHERE p.owner_id = $1",
                Some(Arg::Id(owner.0)),
                "p.id DESC",
            )
            .await
        }

        async fn advance_panel(
            &self,
            id: i64,
            from: ProvisionStep,
            to: Option<ProvisionStep>,
            now: i64,
        ) -> StoreResult<bool> {
            super::advance_panel(self, id, from, to, now).await
        }

        async fn set_panel_error(&self, id: i64, error: Option<&str>, now: i64) -> StoreResult<()> {
            super::set_panel_error(self, id, error, now).await
        }

        async fn set_panel_key(
            &self,
            id: i64,
            key_hash: &str,
            key_enc: &str,
            now: i64,
        ) -> StoreResult<bool> {
            super::set_panel_key(self, id, key_hash, key_enc, now).await
        }

        async fn claim_panel(
            &self,
            id: i64,
            holder: &str,
            now: i64,
            lease_ms: i64,
        ) -> StoreResult<bool> {
            super::claim_panel(self, id, holder, now, lease_ms).await
        }

        async fn release_panel(&self, id: i64, holder: &str) -> StoreResult<()> {
            super::release_panel(self, id, holder).await
        }

        async fn remove_panel(
            &self,
            id: i64,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::remove_panel(self, id, now, audit).await
        }
    }
}
