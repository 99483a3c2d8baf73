//! The owner's controls over the scheduler's tables: editing a schedule, "run now", pausing
//! every schedule, and the audit log each of them writes in the same transaction (F8/F9 of
//! `scheduler.md`). The engine's side (claims, leases, runs) is the parent module's.

use smmd_domain::schedule::Overlap;
use smmd_store::{
    AuditRecord, ScheduleEdit, ScheduleRecord, StoreError, StoreResult, TriggerOutcome,
};
use sqlx::Row as _;

use super::{schedule, SCHEDULE_COLS};
use crate::{SqlResultExt, SqlStore};

async fn is_paused(tx: &mut sqlx::Transaction<'static, sqlx::Any>) -> StoreResult<bool> {
    let row = sqlx::query("SELECT value FROM scheduler_settings WHERE name = 'paused'")
        .fetch_optional(&mut **tx)
        .await
        .db()?;
    Ok(match row {
        Some(r) => r.try_get::<String, _>("value").db()? == "true",
        None => false,
    })
}

async fn audit(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    schedule_id: Option<i64>,
    actor: &str,
    action: &str,
    detail: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO schedule_audit (schedule_id, actor, action, detail, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(schedule_id)
        .bind(actor)
        .bind(action)
        .bind(detail)
        .bind(now)
        .execute(&mut **tx)
        .await
        .db()?;
    Ok(())
}

pub(crate) async fn update_schedule(
    s: &SqlStore,
    name: &str,
    e: ScheduleEdit,
    actor: &str,
    now: i64,
) -> StoreResult<ScheduleRecord> {
    let mut tx = s.begin().await?;
    let row = sqlx::query(&format!(
        "SELECT {SCHEDULE_COLS} FROM schedules WHERE name = $1{}",
        s.dialect.for_update()
    ))
    .bind(name)
    .fetch_optional(&mut *tx)
    .await
    .db()?
    .ok_or(StoreError::NotFound)?;
    let cur = schedule(&row)?;
    let next_run_at = e.next_run_at.unwrap_or(cur.next_run_at);
    let updated = sqlx::query(&format!(
        "UPDATE schedules SET expr = $1, zone = $2, enabled = $3, misfire = $4, overlap = $5, max_attempts = $6, \
         timeout_ms = $7, next_run_at = $8, version = version + 1, updated_at = $9 WHERE id = $10 RETURNING {SCHEDULE_COLS}"
    ))
    .bind(e.expr.unwrap_or(cur.expr))
    .bind(e.zone.unwrap_or(cur.zone))
    .bind(i64::from(e.enabled.unwrap_or(cur.enabled)))
    .bind(e.misfire.unwrap_or(cur.misfire).as_str())
    .bind(e.overlap.unwrap_or(cur.overlap).as_str())
    .bind(e.max_attempts.unwrap_or(cur.max_attempts))
    .bind(e.timeout_ms.unwrap_or(cur.timeout_ms))
    .bind(next_run_at)
    .bind(now)
    .bind(cur.id)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let updated = schedule(&updated)?;
    audit(&mut tx, Some(cur.id), actor, "update", &e.detail, now).await?;
    s.commit(tx).await?;
    Ok(updated)
}

pub(crate) async fn trigger_run(
    s: &SqlStore,
    name: &str,
    request_key: &str,
    actor: &str,
    now: i64,
) -> StoreResult<TriggerOutcome> {
    let existing = sqlx::query("SELECT id FROM schedule_runs WHERE request_key = $1")
        .bind(request_key)
        .fetch_optional(&s.write)
        .await
        .db()?;
    if let Some(r) = existing {
        return Ok(TriggerOutcome::Duplicate {
            run_id: r.try_get("id").db()?,
        });
    }
    let mut tx = s.begin().await?;
    let sch = sqlx::query(&format!(
        "SELECT {SCHEDULE_COLS} FROM schedules WHERE name = $1{}",
        s.dialect.for_update()
    ))
    .bind(name)
    .fetch_optional(&mut *tx)
    .await
    .db()?
    .ok_or(StoreError::NotFound)?;
    let sch = schedule(&sch)?;
    let busy = sqlx::query("SELECT state FROM schedule_runs WHERE schedule_id = $1 AND state IN ('pending', 'running')")
        .bind(sch.id)
        .fetch_all(&mut *tx)
        .await
        .db()?;
    let pending = busy
        .iter()
        .filter(|r| {
            r.try_get::<String, _>("state")
                .is_ok_and(|st| st == "pending")
        })
        .count();
    let free = match sch.overlap {
        Overlap::BufferOne => pending == 0,
        Overlap::Skip => busy.is_empty(),
    };
    let (state, reason) = if free {
        ("pending", None)
    } else {
        ("skipped", Some("overlap"))
    };
    let inserted = sqlx::query(
        "INSERT INTO schedule_runs (schedule_id, scheduled_for, kind, state, reason, not_before, request_key, created_at) \
         VALUES ($1, $2, 'manual', $3, $4, $2, $5, $2) RETURNING id",
    )
    .bind(sch.id)
    .bind(now)
    .bind(state)
    .bind(reason)
    .bind(request_key)
    .fetch_one(&mut *tx)
    .await
    .map_err(crate::map_err);
    let run_id: i64 = match inserted {
        Ok(row) => row.try_get("id").db()?,
        Err(StoreError::Conflict(_)) => {
            // A concurrent trigger with the same key (or the same instant) won.
            drop(tx);
            let r = sqlx::query("SELECT id FROM schedule_runs WHERE request_key = $1")
                .bind(request_key)
                .fetch_optional(&s.write)
                .await
                .db()?
                .ok_or(StoreError::Conflict("schedule_runs.manual"))?;
            return Ok(TriggerOutcome::Duplicate {
                run_id: r.try_get("id").db()?,
            });
        }
        Err(e) => return Err(e),
    };
    audit(
        &mut tx,
        Some(sch.id),
        actor,
        "run_now",
        &format!("request {request_key}"),
        now,
    )
    .await?;
    s.commit(tx).await?;
    Ok(if free {
        TriggerOutcome::Queued { run_id }
    } else {
        TriggerOutcome::Overlap { run_id }
    })
}

pub(crate) async fn set_scheduler_paused(
    s: &SqlStore,
    paused: bool,
    actor: &str,
    now: i64,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    sqlx::query(
        "INSERT INTO scheduler_settings (name, value) VALUES ('paused', $1) ON CONFLICT (name) DO UPDATE SET value = $1",
    )
    .bind(if paused { "true" } else { "false" })
    .execute(&mut *tx)
    .await
    .db()?;
    audit(
        &mut tx,
        None,
        actor,
        if paused { "pause_all" } else { "resume_all" },
        "",
        now,
    )
    .await?;
    s.commit(tx).await
}

pub(crate) async fn scheduler_paused(s: &SqlStore) -> StoreResult<bool> {
    let mut tx = s.read.begin().await.db()?;
    let paused = is_paused(&mut tx).await?;
    tx.rollback().await.db()?;
    Ok(paused)
}

pub(crate) async fn schedule_audit(
    s: &SqlStore,
    schedule_id: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<AuditRecord>> {
    let rows = sqlx::query(
        "SELECT id, schedule_id, actor, action, detail, created_at FROM schedule_audit \
         WHERE ($1 = 0 OR schedule_id = $1) ORDER BY id DESC LIMIT $2",
    )
    .bind(schedule_id.unwrap_or(0))
    .bind(limit.clamp(1, 10_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(AuditRecord {
                id: r.try_get("id").db()?,
                schedule_id: r.try_get("schedule_id").db()?,
                actor: r.try_get("actor").db()?,
                action: r.try_get("action").db()?,
                detail: r.try_get("detail").db()?,
                created_at: r.try_get("created_at").db()?,
            })
        })
        .collect()
}
