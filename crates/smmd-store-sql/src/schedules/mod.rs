//! The scheduler's tables. Exactly-one-run-per-tick (F1) rests on the partial unique index
//! `(schedule_id, scheduled_for) WHERE kind = 'tick'` plus a compare-and-swap of `next_run_at`, inside one
//! transaction that also locks the due schedules (`FOR UPDATE SKIP LOCKED` on PostgreSQL, the
//! `BEGIN IMMEDIATE` write lock on SQLite). One running run per schedule (F2) rests on a unique
//! partial index; stale workers are fenced off by `lease_token`. The owner's controls (edits,
//! "run now", pause, and their audit log) are in [`control`].

use smmd_domain::schedule::{Misfire, Overlap, RunKind, RunState};
use smmd_store::{
    BroughtForward, CanaryEffect, ClaimStats, NewSchedule, Planner, RunLease, RunOutcome,
    RunRecord, ScheduleRecord, SchedulerHealth, StoreError, StoreResult,
};
use sqlx::Row as _;

use crate::{Dialect, Row, SqlResultExt, SqlStore};

mod control;
pub(crate) use control::{
    schedule_audit, scheduler_paused, set_scheduler_paused, trigger_run, update_schedule,
};

const SCHEDULE_COLS: &str =
    "id, name, expr, zone, enabled, misfire, grace_ms, catch_up_ms, overlap, max_attempts, \
     retry_base_ms, timeout_ms, next_run_at, version, updated_at, last_success_at";

/// A vocabulary column read back strictly: a name this build does not know is a store error.
fn vocab<T>(r: &Row, column: &str, parse: fn(&str) -> Option<T>) -> StoreResult<T> {
    let text: String = r.try_get(column).db()?;
    parse(&text).ok_or_else(|| {
        StoreError::Other(anyhow::anyhow!("unknown {column} `{text}` in the database"))
    })
}

fn schedule(r: &Row) -> StoreResult<ScheduleRecord> {
    Ok(ScheduleRecord {
        id: r.try_get("id").db()?,
        name: r.try_get("name").db()?,
        expr: r.try_get("expr").db()?,
        zone: r.try_get("zone").db()?,
        enabled: r.try_get::<i64, _>("enabled").db()? != 0,
        misfire: vocab(r, "misfire", Misfire::parse)?,
        grace_ms: r.try_get("grace_ms").db()?,
        catch_up_ms: r.try_get("catch_up_ms").db()?,
        overlap: vocab(r, "overlap", Overlap::parse)?,
        max_attempts: r.try_get("max_attempts").db()?,
        retry_base_ms: r.try_get("retry_base_ms").db()?,
        timeout_ms: r.try_get("timeout_ms").db()?,
        next_run_at: r.try_get("next_run_at").db()?,
        version: r.try_get("version").db()?,
        updated_at: r.try_get("updated_at").db()?,
        last_success_at: r.try_get("last_success_at").db()?,
    })
}

pub(crate) async fn ensure_schedule(s: &SqlStore, n: NewSchedule) -> StoreResult<ScheduleRecord> {
    sqlx::query(
        "INSERT INTO schedules (name, expr, zone, enabled, misfire, grace_ms, catch_up_ms, overlap, max_attempts, \
         retry_base_ms, timeout_ms, next_run_at, updated_at) VALUES ($1, $2, $3, $13, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(&n.name)
    .bind(&n.expr)
    .bind(&n.zone)
    .bind(n.misfire.as_str())
    .bind(n.grace_ms)
    .bind(n.catch_up_ms)
    .bind(n.overlap.as_str())
    .bind(n.max_attempts)
    .bind(n.retry_base_ms)
    .bind(n.timeout_ms)
    .bind(n.next_run_at)
    .bind(n.now)
    .bind(i64::from(n.enabled))
    .execute(&s.write)
    .await
    .db()?;
    let row = sqlx::query(&format!(
        "SELECT {SCHEDULE_COLS} FROM schedules WHERE name = $1"
    ))
    .bind(&n.name)
    .fetch_one(&s.write)
    .await
    .db()?;
    schedule(&row)
}

pub(crate) async fn schedules(s: &SqlStore) -> StoreResult<Vec<ScheduleRecord>> {
    let rows = sqlx::query(&format!(
        "SELECT {SCHEDULE_COLS} FROM schedules ORDER BY name"
    ))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(schedule).collect()
}

/// Inserts one run row; an existing row for the same (schedule, tick, kind) wins (F1).
async fn insert_run(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    schedule_id: i64,
    tick: i64,
    state: &str,
    reason: Option<&str>,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "INSERT INTO schedule_runs (schedule_id, scheduled_for, kind, state, reason, not_before, created_at) \
         VALUES ($1, $2, 'tick', $3, $4, $2, $5) ON CONFLICT (schedule_id, scheduled_for) WHERE kind = 'tick' DO NOTHING",
    )
    .bind(schedule_id)
    .bind(tick)
    .bind(state)
    .bind(reason)
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn claim_ticks(
    s: &SqlStore,
    now: i64,
    planner: Planner<'_>,
) -> StoreResult<ClaimStats> {
    let mut tx = s.begin().await?;
    let lock = match s.dialect {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    // One read: the due schedules (none while the scheduler is paused), each with what is
    // already waiting or running for it (overlap, F7). Every statement counts here: hundreds
    // of hosted children's engines claim on every tick.
    let rows = sqlx::query(&format!(
        "SELECT {SCHEDULE_COLS}, \
         (SELECT COUNT(*) FROM schedule_runs r WHERE r.schedule_id = schedules.id AND r.state = 'pending') AS busy_pending, \
         (SELECT COUNT(*) FROM schedule_runs r WHERE r.schedule_id = schedules.id AND r.state = 'running') AS busy_running \
         FROM schedules WHERE enabled = 1 AND next_run_at <= $1 \
         AND NOT EXISTS (SELECT 1 FROM scheduler_settings WHERE name = 'paused' AND value = 'true') \
         ORDER BY next_run_at LIMIT 100{lock}"
    ))
    .bind(now)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let mut stats = ClaimStats::default();
    for row in &rows {
        let sch = schedule(row)?;
        let decision = planner(&sch, now);
        let pending: i64 = row.try_get("busy_pending").db()?;
        let running: i64 = row.try_get("busy_running").db()?;
        // Only runs from before this pass count: the catch-up ticks of one pass queue up (they
        // run one at a time anyway) instead of skipping each other as overlaps.
        for (tick, reason) in &decision.skipped {
            if insert_run(&mut tx, sch.id, *tick, "skipped", Some(reason), now).await? {
                stats.skipped += 1;
                stats.skips.push((sch.name.clone(), *reason));
            }
        }
        for tick in &decision.run {
            let free = match sch.overlap {
                Overlap::BufferOne => pending == 0,
                Overlap::Skip => pending == 0 && running == 0,
            };
            if free {
                if insert_run(&mut tx, sch.id, *tick, "pending", None, now).await? {
                    stats.runs += 1;
                }
            } else if insert_run(&mut tx, sch.id, *tick, "skipped", Some("overlap"), now).await? {
                stats.skipped += 1;
                stats.skips.push((sch.name.clone(), "overlap"));
            }
        }
        // Compare-and-swap of the cursor: only from the value this pass read.
        let moved =
            sqlx::query("UPDATE schedules SET next_run_at = $1 WHERE id = $2 AND next_run_at = $3")
                .bind(decision.next_cursor)
                .bind(sch.id)
                .bind(sch.next_run_at)
                .execute(&mut *tx)
                .await
                .db()?;
        if moved.rows_affected() != 1 {
            // Another instance advanced it: undo this whole pass, nothing is written twice.
            return Err(StoreError::Conflict("schedules.next_run_at"));
        }
        stats.schedules += 1;
    }
    s.commit_quiet(tx).await?;
    Ok(stats)
}

pub(crate) async fn start_run(
    s: &SqlStore,
    owner: &str,
    now: i64,
    lease_ms: i64,
) -> StoreResult<Option<RunLease>> {
    let lock = match s.dialect {
        Dialect::Postgres => " FOR UPDATE OF r SKIP LOCKED",
        Dialect::Sqlite => "",
    };
    // One statement picks and leases the oldest startable run (none while paused, none of a
    // schedule with a run in flight); with nothing to start that is all a pass costs. The
    // `state = 'pending'` guard and the one-running-run-per-schedule index fence a race.
    let started = sqlx::query(&format!(
        "UPDATE schedule_runs SET state = 'running', attempt = attempt + 1, lease_owner = $1, \
         lease_token = lease_token + 1, lease_expires_at = $2, started_at = $3, finished_at = NULL \
         WHERE id = (SELECT r.id FROM schedule_runs r WHERE r.state = 'pending' AND r.not_before <= $3 \
         AND NOT EXISTS (SELECT 1 FROM schedule_runs x WHERE x.schedule_id = r.schedule_id AND x.state = 'running') \
         AND NOT EXISTS (SELECT 1 FROM scheduler_settings WHERE name = 'paused' AND value = 'true') \
         ORDER BY r.scheduled_for, r.id LIMIT 1{lock}) AND state = 'pending' \
         RETURNING id, schedule_id, scheduled_for, attempt, lease_token"
    ))
    .bind(owner)
    .bind(now + lease_ms)
    .bind(now)
    .fetch_optional(&s.write)
    .await;
    let row = match started.map_err(crate::map_err) {
        Ok(Some(row)) => row,
        // Nothing startable, a lost race, or another run of the schedule started first (the
        // unique partial index).
        Ok(None) | Err(StoreError::Conflict(_)) => return Ok(None),
        Err(e) => return Err(e),
    };
    let run_id: i64 = row.try_get("id").db()?;
    let schedule_id: i64 = row.try_get("schedule_id").db()?;
    let scheduled_for: i64 = row.try_get("scheduled_for").db()?;
    let sch = sqlx::query(
        "SELECT name, timeout_ms, max_attempts, retry_base_ms FROM schedules WHERE id = $1",
    )
    .bind(schedule_id)
    .fetch_one(&s.read)
    .await
    .db()?;
    Ok(Some(RunLease {
        run_id,
        schedule_id,
        schedule_name: sch.try_get("name").db()?,
        scheduled_for,
        attempt: row.try_get("attempt").db()?,
        token: row.try_get("lease_token").db()?,
        timeout_ms: sch.try_get("timeout_ms").db()?,
        max_attempts: sch.try_get("max_attempts").db()?,
        retry_base_ms: sch.try_get("retry_base_ms").db()?,
        idempotency_key: format!("schedule:{schedule_id}:{scheduled_for}"),
    }))
}

pub(crate) async fn heartbeat_run(
    s: &SqlStore,
    run_id: i64,
    token: i64,
    now: i64,
    lease_ms: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE schedule_runs SET lease_expires_at = $1 WHERE id = $2 AND lease_token = $3 AND state = 'running'",
    )
    .bind(now + lease_ms)
    .bind(run_id)
    .bind(token)
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn finish_run(
    s: &SqlStore,
    run_id: i64,
    token: i64,
    outcome: RunOutcome,
    now: i64,
) -> StoreResult<bool> {
    let (state, error, counters, retry_at) = match outcome {
        RunOutcome::Succeeded { counters } => ("succeeded", None, Some(counters), None),
        RunOutcome::Failed { error, retry_at } => ("failed", Some(error), None, retry_at),
        RunOutcome::TimedOut { retry_at } => {
            ("timed_out", Some("timed out".to_string()), None, retry_at)
        }
    };
    let (state, not_before) = match retry_at {
        Some(at) => ("pending", at),
        None => (state, now),
    };
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE schedule_runs SET state = $1, error = COALESCE($2, error), counters = $3, finished_at = $4, not_before = $5, \
         lease_owner = NULL, lease_expires_at = NULL WHERE id = $6 AND lease_token = $7 AND state = 'running' \
         RETURNING schedule_id",
    )
    .bind(state)
    .bind(error)
    .bind(counters)
    .bind(now)
    .bind(not_before)
    .bind(run_id)
    .bind(token)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    let Some(done) = done else {
        return Ok(false);
    };
    if state == "succeeded" {
        sqlx::query("UPDATE schedules SET last_success_at = $1 WHERE id = $2")
            .bind(now)
            .bind(done.try_get::<i64, _>("schedule_id").db()?)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    s.commit_quiet(tx).await?;
    Ok(true)
}

pub(crate) async fn reap_expired_runs(s: &SqlStore, now: i64) -> StoreResult<u64> {
    let done = sqlx::query(
        "UPDATE schedule_runs SET \
         state = CASE WHEN attempt < (SELECT max_attempts FROM schedules s WHERE s.id = schedule_runs.schedule_id) \
                 THEN 'pending' ELSE 'abandoned' END, \
         error = 'abandoned: lease of ' || COALESCE(lease_owner, '?') || ' expired', \
         not_before = $1, finished_at = $1, lease_owner = NULL, lease_expires_at = NULL \
         WHERE state = 'running' AND lease_expires_at < $1",
    )
    .bind(now)
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected())
}

pub(crate) async fn schedule_runs(
    s: &SqlStore,
    schedule_id: i64,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<RunRecord>> {
    let rows = sqlx::query(
        "SELECT id, schedule_id, scheduled_for, kind, state, reason, attempt, lease_owner, started_at, finished_at, \
         error, counters FROM schedule_runs WHERE schedule_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
    )
    .bind(schedule_id)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 10_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(RunRecord {
                id: r.try_get("id").db()?,
                schedule_id: r.try_get("schedule_id").db()?,
                scheduled_for: r.try_get("scheduled_for").db()?,
                kind: vocab(r, "kind", RunKind::parse)?,
                state: vocab(r, "state", RunState::parse)?,
                reason: r.try_get("reason").db()?,
                attempt: r.try_get("attempt").db()?,
                lease_owner: r.try_get("lease_owner").db()?,
                started_at: r.try_get("started_at").db()?,
                finished_at: r.try_get("finished_at").db()?,
                error: r.try_get("error").db()?,
                counters: r.try_get("counters").db()?,
            })
        })
        .collect()
}

pub(crate) async fn prune_schedule_runs(s: &SqlStore, before: i64, batch: i64) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM schedule_runs WHERE id IN (SELECT id FROM schedule_runs WHERE created_at < $1 \
         AND state NOT IN ('pending', 'running') ORDER BY id LIMIT $2)",
    )
    .bind(before)
    .bind(batch.clamp(1, 100_000))
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected())
}

pub(crate) async fn prune_sessions(s: &SqlStore, now: i64, batch: i64) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM sessions WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at <= $1 LIMIT $2)",
    )
    .bind(now)
    .bind(batch.clamp(1, 100_000))
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected())
}

pub(crate) async fn db_now_ms(s: &SqlStore) -> StoreResult<i64> {
    let sql = match s.dialect {
        Dialect::Postgres => {
            "SELECT CAST(FLOOR(EXTRACT(EPOCH FROM clock_timestamp()) * 1000) AS BIGINT) AS now"
        }
        Dialect::Sqlite => {
            "SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER) AS now"
        }
    };
    let row = sqlx::query(sql).fetch_one(&s.read).await.db()?;
    row.try_get("now").db()
}

pub(crate) async fn next_wakeup_ms(s: &SqlStore) -> StoreResult<Option<i64>> {
    let row = sqlx::query(
        "SELECT (SELECT MIN(next_run_at) FROM schedules WHERE enabled = 1) AS cursor, \
         (SELECT MIN(not_before) FROM schedule_runs WHERE state = 'pending') AS pending",
    )
    .fetch_one(&s.read)
    .await
    .db()?;
    let cursor: Option<i64> = row.try_get("cursor").db()?;
    let pending: Option<i64> = row.try_get("pending").db()?;
    Ok(match (cursor, pending) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}

pub(crate) async fn bring_forward(
    s: &SqlStore,
    name: &str,
    now: i64,
) -> StoreResult<BroughtForward> {
    // Two ways a wake was lost until the next tick (a job that wakes its own schedule as it
    // ends met both): a run that ends between the update and the look leaves the schedule free
    // with its cursor ahead, so the update is tried again; and a cursor moved to the very
    // millisecond of the tick just run would be claimed as that tick again, which runs once,
    // so the cursor goes at least a millisecond past the schedule's last tick.
    for _ in 0..3 {
        let moved = sqlx::query(
            "UPDATE schedules SET next_run_at = COALESCE((SELECT CASE WHEN MAX(r.scheduled_for) >= $1 \
             THEN MAX(r.scheduled_for) + 1 END FROM schedule_runs r \
             WHERE r.schedule_id = schedules.id AND r.kind = 'tick'), $1) \
             WHERE name = $2 AND enabled = 1 AND next_run_at > $1 \
             AND NOT EXISTS (SELECT 1 FROM schedule_runs r WHERE r.schedule_id = schedules.id \
             AND r.state IN ('pending', 'running'))",
        )
        .bind(now)
        .bind(name)
        .execute(&s.write)
        .await
        .db()?;
        if moved.rows_affected() == 1 {
            return Ok(BroughtForward::Moved);
        }
        let row = sqlx::query(
            "SELECT next_run_at, (SELECT COUNT(*) FROM schedule_runs r WHERE r.schedule_id = schedules.id \
             AND r.state IN ('pending', 'running')) AS busy FROM schedules WHERE name = $1 AND enabled = 1",
        )
        .bind(name)
        .fetch_optional(&s.read)
        .await
        .db()?;
        let Some(row) = row else {
            return Ok(BroughtForward::Unknown);
        };
        let busy: i64 = row.try_get("busy").db()?;
        let cursor: Option<i64> = row.try_get("next_run_at").db()?;
        match (busy, cursor) {
            (0, Some(at)) if at > now => continue,
            // Not busy and not moved: its cursor is due already, or was just claimed by
            // another pass (which runs it), or it has none (an expression that no longer
            // parses).
            (0, _) => return Ok(BroughtForward::AlreadyDue),
            _ => return Ok(BroughtForward::Busy),
        }
    }
    // Still free and ahead after three tries (runs starting and ending that fast): the engine
    // keeps the wake and asks again at its next pass.
    Ok(BroughtForward::Busy)
}

pub(crate) async fn release_run(
    s: &SqlStore,
    run_id: i64,
    token: i64,
    now: i64,
) -> StoreResult<bool> {
    let done = sqlx::query(
        "UPDATE schedule_runs SET state = 'pending', attempt = attempt - 1, not_before = $1, \
         error = 'released: the instance shut down', lease_owner = NULL, lease_expires_at = NULL \
         WHERE id = $2 AND lease_token = $3 AND state = 'running'",
    )
    .bind(now)
    .bind(run_id)
    .bind(token)
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn record_canary(s: &SqlStore, e: CanaryEffect) -> StoreResult<bool> {
    // One statement: the token check and the insert cannot be split by a pause of this process.
    // The token is the fence: reaping or finishing changes the state, a restart bumps the token.
    let done = sqlx::query(
        "INSERT INTO scheduler_canary (run_id, idempotency_key, scheduled_for, attempt, instance, started_at, written_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7 WHERE EXISTS (SELECT 1 FROM schedule_runs \
         WHERE id = $1 AND lease_token = $8 AND state = 'running')",
    )
    .bind(e.run_id)
    .bind(&e.idempotency_key)
    .bind(e.scheduled_for)
    .bind(e.attempt)
    .bind(&e.instance)
    .bind(e.started_at)
    .bind(e.now)
    .bind(e.token)
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected() == 1)
}

pub(crate) async fn prune_canary(s: &SqlStore, before: i64, batch: i64) -> StoreResult<u64> {
    let done = sqlx::query(
        "DELETE FROM scheduler_canary WHERE id IN (SELECT id FROM scheduler_canary WHERE written_at < $1 ORDER BY id LIMIT $2)",
    )
    .bind(before)
    .bind(batch.clamp(1, 100_000))
    .execute(&s.write)
    .await
    .db()?;
    Ok(done.rows_affected())
}

pub(crate) async fn scheduler_health(s: &SqlStore, now: i64) -> StoreResult<SchedulerHealth> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM schedule_runs WHERE state = 'running') AS running, \
         (SELECT COUNT(*) FROM schedule_runs WHERE state = 'running' AND lease_expires_at < $1) AS stuck, \
         (SELECT COUNT(*) FROM schedule_runs WHERE state = 'pending' AND not_before <= $1) AS pending_due",
    )
    .bind(now)
    .fetch_one(&s.read)
    .await
    .db()?;
    let count = |name: &str| -> StoreResult<u64> {
        Ok(u64::try_from(row.try_get::<i64, _>(name).db()?).unwrap_or(0))
    };
    Ok(SchedulerHealth {
        running: count("running")?,
        stuck_leases: count("stuck")?,
        pending_due: count("pending_due")?,
    })
}

/// The [`SchedulerStore`](smmd_store::SchedulerStore) section on SQL: each method is one of the functions above.
mod section {

    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl SchedulerStore for SqlStore {
        async fn ensure_schedule(&self, schedule: NewSchedule) -> StoreResult<ScheduleRecord> {
            crate::schedules::ensure_schedule(self, schedule).await
        }

        async fn schedules(&self) -> StoreResult<Vec<ScheduleRecord>> {
            crate::schedules::schedules(self).await
        }

        async fn claim_ticks(&self, now: i64, planner: Planner<'_>) -> StoreResult<ClaimStats> {
            crate::schedules::claim_ticks(self, now, planner).await
        }

        async fn start_run(
            &self,
            owner: &str,
            now: i64,
            lease_ms: i64,
        ) -> StoreResult<Option<RunLease>> {
            crate::schedules::start_run(self, owner, now, lease_ms).await
        }

        async fn heartbeat_run(
            &self,
            run_id: i64,
            token: i64,
            now: i64,
            lease_ms: i64,
        ) -> StoreResult<bool> {
            crate::schedules::heartbeat_run(self, run_id, token, now, lease_ms).await
        }

        async fn finish_run(
            &self,
            run_id: i64,
            token: i64,
            outcome: RunOutcome,
            now: i64,
        ) -> StoreResult<bool> {
            crate::schedules::finish_run(self, run_id, token, outcome, now).await
        }

        async fn reap_expired_runs(&self, now: i64) -> StoreResult<u64> {
            crate::schedules::reap_expired_runs(self, now).await
        }

        async fn schedule_runs(
            &self,
            schedule_id: i64,
            before: Option<i64>,
            limit: i64,
        ) -> StoreResult<Vec<RunRecord>> {
            crate::schedules::schedule_runs(self, schedule_id, before, limit).await
        }

        async fn update_schedule(
            &self,
            name: &str,
            edit: ScheduleEdit,
            actor: &str,
            now: i64,
        ) -> StoreResult<ScheduleRecord> {
            crate::schedules::update_schedule(self, name, edit, actor, now).await
        }

        async fn trigger_run(
            &self,
            name: &str,
            request_key: &str,
            actor: &str,
            now: i64,
        ) -> StoreResult<TriggerOutcome> {
            crate::schedules::trigger_run(self, name, request_key, actor, now).await
        }

        async fn set_scheduler_paused(
            &self,
            paused: bool,
            actor: &str,
            now: i64,
        ) -> StoreResult<()> {
            crate::schedules::set_scheduler_paused(self, paused, actor, now).await
        }

        async fn scheduler_paused(&self) -> StoreResult<bool> {
            crate::schedules::scheduler_paused(self).await
        }

        async fn schedule_audit(
            &self,
            schedule_id: Option<i64>,
            limit: i64,
        ) -> StoreResult<Vec<AuditRecord>> {
            crate::schedules::schedule_audit(self, schedule_id, limit).await
        }

        async fn prune_schedule_runs(&self, before: i64, batch: i64) -> StoreResult<u64> {
            crate::schedules::prune_schedule_runs(self, before, batch).await
        }

        async fn db_now_ms(&self) -> StoreResult<i64> {
            crate::schedules::db_now_ms(self).await
        }

        async fn next_wakeup_ms(&self) -> StoreResult<Option<i64>> {
            crate::schedules::next_wakeup_ms(self).await
        }

        async fn release_run(&self, run_id: i64, token: i64, now: i64) -> StoreResult<bool> {
            crate::schedules::release_run(self, run_id, token, now).await
        }

        async fn record_canary(&self, effect: CanaryEffect) -> StoreResult<bool> {
            crate::schedules::record_canary(self, effect).await
        }

        async fn prune_canary(&self, before: i64, batch: i64) -> StoreResult<u64> {
            crate::schedules::prune_canary(self, before, batch).await
        }

        async fn scheduler_health(&self, now: i64) -> StoreResult<SchedulerHealth> {
            crate::schedules::scheduler_health(self, now).await
        }

        async fn bring_forward(&self, name: &str, now: i64) -> StoreResult<BroughtForward> {
            crate::schedules::bring_forward(self, name, now).await
        }
    }
}
