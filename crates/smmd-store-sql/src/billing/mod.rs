//! Hourly billing on SQL (`billing_settings`, `billing_pauses`, `plans`, `rentals`,
//! `rental_events`, `rental_hours`): settings and pauses, plans, the reads of the billing pages,
//! and the transactions of [`engine`] (renting, reconciling, actions, collection, credits).

pub(crate) mod engine;
mod fast;
pub(crate) mod runway;
mod statements;

use smmd_domain::billing::charge::CapMode;
use smmd_domain::billing::rental::{Dunning, RentalState};
use smmd_domain::{Money, UserId};
use smmd_store::{
    BillReport, BillingError, BillingPause, BillingSettings, BillingSettingsPatch, BillingStatus,
    HourStatus, NewAudit, NewPlan, Plan, PlanPatch, Rental, RentalAction, RentalHour,
    RentalLogEntry, StoreError, StoreResult,
};
use sqlx::AnyConnection;

use crate::rows::get;
use crate::{flag, Row, SqlResultExt, SqlStore};

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("unexpected {what} `{value}` in database"))
}

fn cap_mode(text: &str) -> StoreResult<CapMode> {
    CapMode::parse(text).ok_or_else(|| bad("cap mode", text))
}

fn pause_row(row: &Row) -> StoreResult<BillingPause> {
    Ok(BillingPause {
        id: get(row, "id")?,
        from_at: get(row, "from_at")?,
        until_at: get(row, "until_at")?,
        reason: get(row, "reason")?,
        actor_id: get::<Option<i64>>(row, "actor_id")?.map(UserId),
    })
}

const PAUSE_COLS: &str = "id, from_at, until_at, reason, actor_id";

/// The settings with the open pause, on `conn` (inside a transaction or not).
pub(crate) async fn settings_in(conn: &mut AnyConnection) -> StoreResult<BillingSettings> {
    let row = sqlx::query("SELECT * FROM billing_settings WHERE id = 1")
        .fetch_one(&mut *conn)
        .await
        .db()?;
    let pause = sqlx::query(&format!(
        "SELECT {PAUSE_COLS} FROM billing_pauses WHERE until_at IS NULL ORDER BY id DESC LIMIT 1"
    ))
    .fetch_optional(&mut *conn)
    .await
    .db()?;
    let mode: String = get(&row, "default_cap_mode")?;
    Ok(BillingSettings {
        enabled: get::<i64>(&row, "enabled")? != 0,
        hours_per_month: get(&row, "hours_per_month")?,
        default_cap_mode: cap_mode(&mode)?,
        dunning: Dunning {
            suspend_after_hours: get(&row, "suspend_after_hours")?,
            terminate_after_days: get(&row, "terminate_after_days")?,
        },
        warn_hours: [get(&row, "warn_hours_high")?, get(&row, "warn_hours_low")?],
        statement_grace_days: get(&row, "statement_grace_days")?,
        rent_reserve_hours: get(&row, "rent_reserve_hours")?,
        pause: pause.as_ref().map(pause_row).transpose()?,
        watermark: get(&row, "watermark")?,
        last_run_at: get(&row, "last_run_at")?,
        updated_at: get(&row, "updated_at")?,
    })
}

const PLAN_COLS: &str = "id, code, name, description, price, cap_mode, setup_fee, entitlement, \
                         settings, active, created_at, updated_at";

fn plan_row(row: &Row) -> StoreResult<Plan> {
    let mode: String = get(row, "cap_mode")?;
    Ok(Plan {
        id: get(row, "id")?,
        code: get(row, "code")?,
        name: get(row, "name")?,
        description: get(row, "description")?,
        price: Money::from_micros(get(row, "price")?),
        cap_mode: cap_mode(&mode)?,
        setup_fee: Money::from_micros(get(row, "setup_fee")?),
        entitlement: get(row, "entitlement")?,
        settings: get(row, "settings")?,
        active: get::<i64>(row, "active")? != 0,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(crate) async fn plan_in(conn: &mut AnyConnection, id: i64) -> StoreResult<Option<Plan>> {
    let row = sqlx::query(&format!("SELECT {PLAN_COLS} FROM plans WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
        .db()?;
    row.as_ref().map(plan_row).transpose()
}

pub(crate) const RENTAL_COLS: &str = "id, user_id, plan_id, state, reason, billed_through, \
                                      first_due_hour, state_at, created_at, updated_at";

pub(crate) fn rental_row(row: &Row) -> StoreResult<Rental> {
    let state: String = get(row, "state")?;
    let reason: Option<String> = get(row, "reason")?;
    Ok(Rental {
        id: get(row, "id")?,
        user_id: UserId(get(row, "user_id")?),
        plan_id: get(row, "plan_id")?,
        state: RentalState::parse(&state, reason.as_deref())
            .ok_or_else(|| bad("rental state", &state))?,
        billed_through: get(row, "billed_through")?,
        first_due_hour: get(row, "first_due_hour")?,
        state_at: get(row, "state_at")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

async fn settings(s: &SqlStore) -> StoreResult<BillingSettings> {
    let mut conn = s.read.acquire().await.db()?;
    settings_in(&mut conn).await
}

/// Opens a pause at `now` unless one is open; closes the open one when `!paused`.
async fn pause_in(
    conn: &mut AnyConnection,
    paused: bool,
    reason: &str,
    actor: Option<UserId>,
    now: i64,
) -> StoreResult<()> {
    if paused {
        sqlx::query(
            "INSERT INTO billing_pauses (from_at, reason, actor_id) SELECT $1, $2, $3 \
             WHERE NOT EXISTS (SELECT 1 FROM billing_pauses WHERE until_at IS NULL)",
        )
        .bind(now)
        .bind(reason)
        .bind(actor.map(|a| a.0))
        .execute(&mut *conn)
        .await
        .db()?;
    } else {
        sqlx::query("UPDATE billing_pauses SET until_at = $1 WHERE until_at IS NULL")
            .bind(now)
            .execute(&mut *conn)
            .await
            .db()?;
    }
    Ok(())
}

async fn update_settings(
    s: &SqlStore,
    p: &BillingSettingsPatch,
    actor: Option<UserId>,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<BillingSettings> {
    let mut tx = s.begin().await?;
    let before = settings_in(&mut tx).await?;
    let [high, low] = p.warn_hours.unwrap_or(before.warn_hours);
    sqlx::query(
        "UPDATE billing_settings SET enabled = $1, hours_per_month = $2, default_cap_mode = $3, \
         suspend_after_hours = $4, terminate_after_days = $5, warn_hours_high = $6, \
         warn_hours_low = $7, statement_grace_days = $8, rent_reserve_hours = $9, updated_at = $10 \
         WHERE id = 1",
    )
    .bind(flag(p.enabled.unwrap_or(before.enabled)))
    .bind(p.hours_per_month.unwrap_or(before.hours_per_month))
    .bind(
        p.default_cap_mode
            .unwrap_or(before.default_cap_mode)
            .as_str(),
    )
    .bind(
        p.suspend_after_hours
            .unwrap_or(before.dunning.suspend_after_hours),
    )
    .bind(
        p.terminate_after_days
            .unwrap_or(before.dunning.terminate_after_days),
    )
    .bind(high)
    .bind(low)
    .bind(
        p.statement_grace_days
            .unwrap_or(before.statement_grace_days),
    )
    .bind(p.rent_reserve_hours.unwrap_or(before.rent_reserve_hours))
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    // Disabling billing waives the hours while it is off; enabling ends that pause.
    match p.enabled {
        Some(false) if before.enabled => pause_in(&mut tx, true, "disabled", actor, now).await?,
        Some(true) if !before.enabled => pause_in(&mut tx, false, "", actor, now).await?,
        _ => {}
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    let after = settings_in(&mut tx).await?;
    s.commit(tx).await?;
    Ok(after)
}

async fn set_pause(
    s: &SqlStore,
    paused: bool,
    reason: &str,
    actor: Option<UserId>,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<BillingSettings> {
    let mut tx = s.begin().await?;
    pause_in(&mut tx, paused, reason, actor, now).await?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    let after = settings_in(&mut tx).await?;
    s.commit(tx).await?;
    Ok(after)
}

async fn pauses(s: &SqlStore) -> StoreResult<Vec<BillingPause>> {
    let rows = sqlx::query(&format!(
        "SELECT {PAUSE_COLS} FROM billing_pauses ORDER BY from_at, id"
    ))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(pause_row).collect()
}

async fn create_plan(
    s: &SqlStore,
    p: &NewPlan,
    now: i64,
    audit: Option<NewAudit>,
) -> Result<Plan, BillingError> {
    let mut tx = s.begin().await?;
    let row = sqlx::query(&format!(
        "INSERT INTO plans (code, name, description, price, cap_mode, setup_fee, entitlement, settings, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) RETURNING {PLAN_COLS}"
    ))
    .bind(&p.code)
    .bind(&p.name)
    .bind(&p.description)
    .bind(p.price.micros())
    .bind(p.cap_mode.as_str())
    .bind(p.setup_fee.micros())
    .bind(&p.entitlement)
    .bind(&p.settings)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .db()
    .map_err(|e| match e {
        StoreError::Conflict(_) => BillingError::DuplicateCode,
        e => BillingError::Store(e),
    })?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(plan_row(&row)?)
}

async fn update_plan(
    s: &SqlStore,
    id: i64,
    p: &PlanPatch,
    now: i64,
    audit: Option<NewAudit>,
) -> Result<Plan, BillingError> {
    let mut tx = s.begin().await?;
    let before = plan_in(&mut tx, id)
        .await?
        .ok_or(BillingError::PlanNotFound)?;
    let row = sqlx::query(&format!(
        "UPDATE plans SET name = $1, description = $2, price = $3, cap_mode = $4, setup_fee = $5, \
         settings = $6, active = $7, updated_at = $8 WHERE id = $9 RETURNING {PLAN_COLS}"
    ))
    .bind(p.name.as_ref().unwrap_or(&before.name))
    .bind(p.description.as_ref().unwrap_or(&before.description))
    .bind(p.price.unwrap_or(before.price).micros())
    .bind(p.cap_mode.unwrap_or(before.cap_mode).as_str())
    .bind(p.setup_fee.unwrap_or(before.setup_fee).micros())
    .bind(p.settings.as_ref().unwrap_or(&before.settings))
    .bind(flag(p.active.unwrap_or(before.active)))
    .bind(now)
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(plan_row(&row)?)
}

async fn plans(s: &SqlStore, all: bool) -> StoreResult<Vec<Plan>> {
    let rows = sqlx::query(&format!(
        "SELECT {PLAN_COLS} FROM plans WHERE $1 = 1 OR active = 1 ORDER BY price, id"
    ))
    .bind(flag(all))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(plan_row).collect()
}

async fn rent(s: &SqlStore, user: UserId, plan_id: i64, now: i64) -> Result<Rental, BillingError> {
    let mut tx = s.begin().await?;
    let r = engine::rent(&mut tx, s.dialect, user, plan_id, now).await?;
    s.commit(tx).await?;
    Ok(r)
}

async fn rental_action(
    s: &SqlStore,
    id: i64,
    action: RentalAction,
    owner: Option<UserId>,
    actor: Option<UserId>,
    now: i64,
    audit: Option<NewAudit>,
) -> Result<Rental, BillingError> {
    let mut tx = s.begin().await?;
    let r = engine::act(&mut tx, s.dialect, id, owner, action, actor, now).await?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(r)
}

async fn bill_user(s: &SqlStore, user: UserId, now: i64) -> StoreResult<BillReport> {
    let mut tx = s.begin().await?;
    let mut report = BillReport::default();
    let terms = engine::Terms::load(&mut tx).await?;
    engine::reconcile_user(&mut tx, s.dialect, &terms, user, now, &mut report).await?;
    engine::runway_after(&mut tx, s.dialect, &terms, user, now, &mut report).await?;
    s.commit(tx).await?;
    Ok(report)
}

/// The live rentals (`active` or `grace`) of the user `user` (an SQL expression: `$1`, a
/// column), as `r`, with their plans as `p`: a `FROM … WHERE …` tail.
pub(crate) fn live_rentals(user: &str) -> String {
    format!(
        "FROM rentals r JOIN plans p ON p.id = r.plan_id \
         WHERE r.user_id = {user} AND r.state IN ('active', 'grace')"
    )
}

/// The statement of [`live_entitlements`], built once (every `add` on SQLite runs it).
static LIVE_ENTITLEMENTS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    format!(
        "SELECT p.entitlement, p.settings {} ORDER BY r.id",
        live_rentals("$1")
    )
});

async fn live_entitlements(s: &SqlStore, user: UserId) -> StoreResult<Vec<(String, String)>> {
    let sql = LIVE_ENTITLEMENTS.as_str();
    fn decode(r: &(impl crate::rows::Cols + ?Sized)) -> StoreResult<(String, String)> {
        Ok((get(r, "entitlement")?, get(r, "settings")?))
    }
    if let Some(direct) = &s.direct {
        return direct.all(sql, &[&user.0], |r| decode(r));
    }
    sqlx::query(sql)
        .bind(user.0)
        .fetch_all(&s.read)
        .await
        .db()?
        .iter()
        .map(decode)
        .collect()
}

/// Users per set-based transaction at most, and the hour rows it aims at (measured with
/// `smmd-bench billing`: see the README's figures).
const FAST_GROUP: usize = 500;
const FAST_ROWS: usize = 1_000;

async fn bill_users(s: &SqlStore, users: &[UserId], now: i64) -> StoreResult<BillReport> {
    let mut report = BillReport::default();
    let mut queue = users.to_vec();
    queue.sort_unstable();
    queue.dedup();
    // The set-based path first, a group per transaction sized to about FAST_ROWS hour rows
    // (an hourly run bills one row per rental, a catch-up many).
    let mut left = Vec::new();
    let mut group = FAST_GROUP;
    let mut start = 0;
    if s.billing_engine_only
        .load(std::sync::atomic::Ordering::Relaxed)
    {
        left = std::mem::take(&mut queue);
    }
    while start < queue.len() {
        let chunk = &queue[start..(start + group).min(queue.len())];
        let mut tx = s.begin().await?;
        // Held from here (BEGIN may first wait for another writer).
        let started = std::time::Instant::now();
        let terms = engine::Terms::load(&mut tx).await?;
        let mut batch = BillReport::default();
        let out = fast::bill(
            &mut tx, s.dialect, &terms, chunk, now, FAST_ROWS, &mut batch,
        )
        .await?;
        s.commit(tx).await?;
        batch.longest_tx_us = crate::micros_since(started);
        report.add(&batch);
        left.extend(out.left);
        let done = chunk.len() - out.not_reached.len();
        start += done;
        if out.rows > 0 && done > 0 {
            group = (FAST_ROWS / out.rows.div_ceil(done)).clamp(8, FAST_GROUP);
        }
    }
    // The rest through the engine, user by user, transactions of about TX_BUDGET.
    let mut rest = &left[..];
    while !rest.is_empty() {
        let mut tx = s.begin().await?;
        let started = std::time::Instant::now();
        let terms = engine::Terms::load(&mut tx).await?;
        let mut batch = BillReport::default();
        while let Some((&user, tail)) = rest.split_first() {
            engine::reconcile_user(&mut tx, s.dialect, &terms, user, now, &mut batch).await?;
            engine::runway_after(&mut tx, s.dialect, &terms, user, now, &mut batch).await?;
            rest = tail;
            if started.elapsed() >= crate::TX_BUDGET {
                break;
            }
        }
        s.commit(tx).await?;
        batch.longest_tx_us = crate::micros_since(started);
        report.add(&batch);
    }
    Ok(report)
}

async fn users_to_bill(s: &SqlStore, after: UserId, limit: i64) -> StoreResult<Vec<UserId>> {
    let rows = sqlx::query(
        "SELECT DISTINCT user_id FROM rentals WHERE user_id > $1 AND (state IN ('active', 'grace', 'suspended') \
         OR first_due_hour IS NOT NULL OR (state = 'canceled' AND billed_through <= state_at)) \
         ORDER BY user_id LIMIT $2",
    )
    .bind(after.0)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(|r| get(r, "user_id").map(UserId)).collect()
}

async fn record_run(s: &SqlStore, watermark: i64, now: i64) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    sqlx::query(
        "UPDATE billing_settings SET watermark = CASE WHEN watermark IS NULL OR watermark < $1 \
         THEN $1 ELSE watermark END, last_run_at = $2 WHERE id = 1",
    )
    .bind(watermark)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await
}

async fn credit(
    s: &SqlStore,
    id: i64,
    hours: &[i64],
    actor: Option<UserId>,
    now: i64,
    audit: Option<NewAudit>,
) -> Result<Money, BillingError> {
    let mut tx = s.begin().await?;
    let r = engine::lock_rental(&mut tx, s.dialect, id)
        .await?
        .ok_or(BillingError::RentalNotFound)?;
    let total = engine::credit(&mut tx, s.dialect, &r, hours, actor, now).await?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(total)
}

async fn rental(s: &SqlStore, id: i64) -> StoreResult<Option<Rental>> {
    let row = sqlx::query(&format!("SELECT {RENTAL_COLS} FROM rentals WHERE id = $1"))
        .bind(id)
        .fetch_optional(&s.read)
        .await
        .db()?;
    row.as_ref().map(rental_row).transpose()
}

async fn rentals(
    s: &SqlStore,
    user: Option<UserId>,
    state: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<Rental>> {
    let rows = sqlx::query(&format!(
        "SELECT {RENTAL_COLS} FROM rentals WHERE ($1 IS NULL OR user_id = $1) \
         AND ($2 IS NULL OR state = $2) ORDER BY id DESC LIMIT $3"
    ))
    .bind(user.map(|u| u.0))
    .bind(state)
    .bind(limit.clamp(1, 1000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rental_row).collect()
}

async fn rental_hours(
    s: &SqlStore,
    id: i64,
    from: i64,
    until: i64,
    limit: i64,
) -> StoreResult<Vec<RentalHour>> {
    let rows = sqlx::query(
        "SELECT rental_id, hour, month, plan_id, k, price, divisor, amount, status, paid_at, credited \
         FROM rental_hours WHERE rental_id = $1 AND hour >= $2 AND hour < $3 ORDER BY hour LIMIT $4",
    )
    .bind(id)
    .bind(from)
    .bind(until)
    .bind(limit.max(0))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            let status: String = get(r, "status")?;
            Ok(RentalHour {
                rental_id: get(r, "rental_id")?,
                hour: get(r, "hour")?,
                month: get(r, "month")?,
                plan_id: get(r, "plan_id")?,
                k: get(r, "k")?,
                price: Money::from_micros(get(r, "price")?),
                divisor: get(r, "divisor")?,
                amount: Money::from_micros(get(r, "amount")?),
                status: HourStatus::parse(&status).ok_or_else(|| bad("hour status", &status))?,
                paid_at: get(r, "paid_at")?,
                credited: Money::from_micros(get(r, "credited")?),
            })
        })
        .collect()
}

async fn rental_log(s: &SqlStore, id: i64) -> StoreResult<Vec<RentalLogEntry>> {
    let rows = sqlx::query(
        "SELECT id, rental_id, at, event, state, reason, plan_id, detail, actor_id FROM rental_events \
         WHERE rental_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            let state: String = get(r, "state")?;
            let reason: Option<String> = get(r, "reason")?;
            Ok(RentalLogEntry {
                id: get(r, "id")?,
                rental_id: get(r, "rental_id")?,
                at: get(r, "at")?,
                event: get(r, "event")?,
                state: RentalState::parse(&state, reason.as_deref())
                    .ok_or_else(|| bad("rental state", &state))?,
                plan_id: get(r, "plan_id")?,
                detail: get(r, "detail")?,
                actor_id: get::<Option<i64>>(r, "actor_id")?.map(UserId),
            })
        })
        .collect()
}

async fn status(s: &SqlStore) -> StoreResult<BillingStatus> {
    let settings = settings(s).await?;
    let rows = sqlx::query(
        "SELECT state, reason, COUNT(*) AS n FROM rentals GROUP BY state, reason ORDER BY state, reason",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    let mut by_state = Vec::new();
    for r in &rows {
        let state: String = get(r, "state")?;
        let reason: Option<String> = get(r, "reason")?;
        let name = match reason {
            Some(reason) => format!("{state}:{reason}"),
            None => state,
        };
        by_state.push((name, get(r, "n")?));
    }
    let due = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total, MIN(hour) AS oldest \
         FROM rental_hours WHERE status = 'due'",
    )
    .fetch_one(&s.read)
    .await
    .db()?;
    Ok(BillingStatus {
        settings,
        rentals_by_state: by_state,
        hours_due: get(&due, "n")?,
        due_total: Money::from_micros(get(&due, "total")?),
        oldest_due_hour: get(&due, "oldest")?,
    })
}

/// The [`BillingStore`](smmd_store::BillingStore) section on SQL: each method is one of the
/// functions above.
mod section {
    use smmd_domain::{Money, UserId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl BillingStore for SqlStore {
        async fn billing_settings(&self) -> StoreResult<BillingSettings> {
            super::settings(self).await
        }

        async fn update_billing_settings(
            &self,
            patch: &BillingSettingsPatch,
            actor: Option<UserId>,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<BillingSettings> {
            super::update_settings(self, patch, actor, now, audit).await
        }

        async fn set_billing_pause(
            &self,
            paused: bool,
            reason: &str,
            actor: Option<UserId>,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<BillingSettings> {
            super::set_pause(self, paused, reason, actor, now, audit).await
        }

        async fn billing_pauses(&self) -> StoreResult<Vec<BillingPause>> {
            super::pauses(self).await
        }

        async fn create_plan(
            &self,
            plan: &NewPlan,
            now: i64,
            audit: Option<NewAudit>,
        ) -> Result<Plan, BillingError> {
            super::create_plan(self, plan, now, audit).await
        }

        async fn update_plan(
            &self,
            id: i64,
            patch: &PlanPatch,
            now: i64,
            audit: Option<NewAudit>,
        ) -> Result<Plan, BillingError> {
            super::update_plan(self, id, patch, now, audit).await
        }

        async fn plans(&self, all: bool) -> StoreResult<Vec<Plan>> {
            super::plans(self, all).await
        }

        async fn rent(&self, user: UserId, plan_id: i64, now: i64) -> Result<Rental, BillingError> {
            super::rent(self, user, plan_id, now).await
        }

        async fn rental_action(
            &self,
            id: i64,
            action: RentalAction,
            owner: Option<UserId>,
            actor: Option<UserId>,
            now: i64,
            audit: Option<NewAudit>,
        ) -> Result<Rental, BillingError> {
            super::rental_action(self, id, action, owner, actor, now, audit).await
        }

        async fn bill_user(&self, user: UserId, now: i64) -> StoreResult<BillReport> {
            super::bill_user(self, user, now).await
        }

        async fn bill_users(&self, users: &[UserId], now: i64) -> StoreResult<BillReport> {
            super::bill_users(self, users, now).await
        }

        async fn users_to_bill(&self, after: UserId, limit: i64) -> StoreResult<Vec<UserId>> {
            super::users_to_bill(self, after, limit).await
        }

        async fn record_billing_run(&self, watermark: i64, now: i64) -> StoreResult<()> {
            super::record_run(self, watermark, now).await
        }

        async fn credit_rental_hours(
            &self,
            id: i64,
            hours: &[i64],
            actor: Option<UserId>,
            now: i64,
            audit: Option<NewAudit>,
        ) -> Result<Money, BillingError> {
            super::credit(self, id, hours, actor, now, audit).await
        }

        async fn rental(&self, id: i64) -> StoreResult<Option<Rental>> {
            super::rental(self, id).await
        }

        async fn rentals(
            &self,
            user: Option<UserId>,
            state: Option<&str>,
            limit: i64,
        ) -> StoreResult<Vec<Rental>> {
            super::rentals(self, user, state, limit).await
        }

        async fn rental_hours(
            &self,
            id: i64,
            from: i64,
            until: i64,
            limit: i64,
        ) -> StoreResult<Vec<RentalHour>> {
            super::rental_hours(self, id, from, until, limit).await
        }

        async fn rental_log(&self, id: i64) -> StoreResult<Vec<RentalLogEntry>> {
            super::rental_log(self, id).await
        }

        async fn billing_status(&self) -> StoreResult<BillingStatus> {
            super::status(self).await
        }

        async fn live_entitlements(&self, user: UserId) -> StoreResult<Vec<(String, String)>> {
            super::live_entitlements(self, user).await
        }

        async fn rent_reserve(&self, user: UserId) -> StoreResult<Option<(Money, i64, Money)>> {
            super::runway::reserve(self, user).await
        }

        async fn draft_statements(&self, month: i64, now: i64, limit: i64) -> StoreResult<i64> {
            super::statements::draft(self, month, now, limit).await
        }

        async fn finalize_statements(&self, now: i64, limit: i64) -> StoreResult<i64> {
            super::statements::finalize(self, now, limit).await
        }

        async fn refresh_statement(&self, id: i64, now: i64) -> Result<Statement, BillingError> {
            super::statements::refresh(self, id, now).await
        }

        async fn void_statement(
            &self,
            id: i64,
            reason: &str,
            now: i64,
            audit: Option<NewAudit>,
        ) -> Result<Statement, BillingError> {
            super::statements::void(self, id, reason, now, audit).await
        }

        async fn statement(&self, id: i64) -> StoreResult<Option<Statement>> {
            super::statements::one(self, id).await
        }

        async fn statements(
            &self,
            user: Option<UserId>,
            limit: i64,
        ) -> StoreResult<Vec<Statement>> {
            super::statements::list(self, user, limit).await
        }
    }
}
