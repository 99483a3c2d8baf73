//! Payout runs: the candidates as a run sees them, the run row (unique per (date, kind)),
//! its steps and its items.

use super::*;

/// Everything the rule needs about an affiliate, one row each.
pub(super) const CANDIDATE_SELECT: &str = "SELECT a.user_id, a.balance, a.on_hold, u.blocked_at, \
     m.approved_at, m.kind AS method_kind, m.details AS method_details, \
     (SELECT COUNT(*) FROM payouts p WHERE p.user_id = a.user_id) AS invoices, \
     (SELECT COUNT(*) FROM payouts p WHERE p.user_id = a.user_id AND p.status IN ('paid', 'returned')) AS paid, \
     (SELECT COUNT(*) FROM payouts p WHERE p.user_id = a.user_id AND p.status = 'pending') AS open \
     FROM affiliates a JOIN users u ON u.id = a.user_id \
     LEFT JOIN payout_methods m ON m.user_id = a.user_id AND m.status = 'approved'";

pub(super) fn candidate_row(
    row: &Row,
    rule: smmd_domain::affiliate::eligibility::ReturningRule,
) -> StoreResult<Candidate> {
    Ok(Candidate {
        active: get::<Option<i64>>(row, "blocked_at")?.is_none(),
        returning: rule.is_returning(get(row, "invoices")?, get(row, "paid")?),
        method_approved_at: get(row, "approved_at")?,
        open_payout: get::<i64>(row, "open")? > 0,
        on_hold: get::<i64>(row, "on_hold")? != 0,
        balance: money(row, "balance")?,
    })
}

pub(super) async fn candidate(s: &SqlStore, user: UserId) -> StoreResult<Option<Candidate>> {
    let mut conn = s.read.acquire().await.db()?;
    let rule = settings_in(&mut conn).await?.returning_rule;
    let row = sqlx::query(&format!("{CANDIDATE_SELECT} WHERE a.user_id = $1"))
        .bind(user.0)
        .fetch_optional(&mut *conn)
        .await
        .db()?;
    row.as_ref().map(|r| candidate_row(r, rule)).transpose()
}

pub(super) async fn run_by_name(
    conn: &mut sqlx::AnyConnection,
    r: &NewPayoutRun,
) -> StoreResult<Option<PayoutRun>> {
    let row = sqlx::query(&format!(
        "SELECT {RUN_COLS} FROM payout_runs WHERE run_date = $1 AND kind = $2"
    ))
    .bind(r.date.to_string())
    .bind(r.kind.as_str())
    .fetch_optional(&mut *conn)
    .await
    .db()?;
    row.as_ref().map(run_row).transpose()
}

/// Creates the run row if it does not exist (unique per (date, kind)) and returns it.
pub(super) async fn open_run(
    s: &SqlStore,
    r: &NewPayoutRun,
    status: RunStatus,
    note: &str,
    now: i64,
) -> StoreResult<PayoutRun> {
    let mut tx = s.begin().await?;
    sqlx::query(
        "INSERT INTO payout_runs (kind, run_date, status, scheduled_at, started_at, finished_at, note) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (run_date, kind) DO NOTHING",
    )
    .bind(r.kind.as_str())
    .bind(r.date.to_string())
    .bind(status.as_str())
    .bind(r.scheduled_at)
    .bind(now)
    .bind((status != RunStatus::Running).then_some(now))
    .bind(note)
    .execute(&mut *tx)
    .await
    .db()?;
    let run = run_by_name(&mut tx, r).await?.ok_or(StoreError::NotFound)?;
    s.commit(tx).await?;
    Ok(run)
}

pub(super) async fn skip_run(
    s: &SqlStore,
    r: &NewPayoutRun,
    note: &str,
    now: i64,
) -> StoreResult<PayoutRun> {
    open_run(s, r, RunStatus::Skipped, note, now).await
}

pub(super) async fn run_step(
    s: &SqlStore,
    r: &NewPayoutRun,
    after: i64,
    limit: i64,
    now: i64,
) -> StoreResult<RunStep> {
    let limit = limit.clamp(1, 5_000);
    let mut run = {
        let mut conn = s.read.acquire().await.db()?;
        run_by_name(&mut conn, r).await?
    };
    if run.is_none() {
        run = Some(open_run(s, r, RunStatus::Running, "", now).await?);
    }
    let run = run.ok_or(StoreError::NotFound)?;
    let mut step = RunStep {
        run: run.clone(),
        checked: 0,
        created: 0,
        paid_out: Money::ZERO,
        cursor: after,
        more: false,
        tx_us: 0,
    };
    if run.status != RunStatus::Running {
        return Ok(step);
    }
    let mut tx = s.begin().await?;
    let held = std::time::Instant::now();
    let settings = settings_in(&mut tx).await?;
    let rules = settings.payout_rules();
    let lock = match s.dialect {
        Dialect::Postgres => " FOR UPDATE OF a",
        Dialect::Sqlite => "",
    };
    let rows = sqlx::query(&format!(
        "{CANDIDATE_SELECT} WHERE a.user_id > $1 AND a.balance <> 0 \
         ORDER BY a.user_id LIMIT $2{lock}"
    ))
    .bind(after)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let mut cut = false;
    for (i, row) in rows.iter().enumerate() {
        // Past SQLite's budget the rest waits for the next step (from the cursor).
        if i > 0 && s.over_budget(held) {
            cut = true;
            break;
        }
        let user: i64 = get(row, "user_id")?;
        step.cursor = user;
        let c = candidate_row(row, settings.returning_rule)?;
        let verdict = eligibility::check(r.kind, &c, &rules, now);
        let (reason, amount) = match verdict {
            Ok(amount) => (None, amount),
            Err(b) => (Some(b.as_str()), c.balance),
        };
        // The item first, keyed (run, user): an instance that lost the race for this candidate
        // inserts nothing and moves on. A paid item's payout is the run's payout of the user.
        let claimed = sqlx::query(
            "INSERT INTO payout_run_items (run_id, user_id, reason, amount) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (run_id, user_id) DO NOTHING",
        )
        .bind(run.id)
        .bind(user)
        .bind(reason)
        .bind(amount.micros())
        .execute(&mut *tx)
        .await
        .db()?;
        if claimed.rows_affected() == 0 {
            continue;
        }
        step.checked += 1;
        if reason.is_some() {
            continue;
        }
        let payout: i64 = sqlx::query_scalar(
            "INSERT INTO payouts (run_id, user_id, amount, status, method_kind, method_details, created_at) \
             VALUES ($1, $2, $3, 'pending', $4, $5, $6) RETURNING id",
        )
        .bind(run.id)
        .bind(user)
        .bind(amount.micros())
        .bind(get::<Option<String>>(row, "method_kind")?.unwrap_or_default())
        .bind(get::<Option<String>>(row, "method_details")?.unwrap_or_default())
        .bind(now)
        .fetch_one(&mut *tx)
        .await
        .db()?;
        post(
            &mut tx,
            Posting {
                user: UserId(user),
                amount: -amount,
                kind: EntryKind::Payout,
                key: &format!("payout:{}:{user}", run.id),
                reason: &format!(
                    "Payout #{payout} ({} run of {})",
                    run.kind.as_str(),
                    run.date
                ),
                commission_id: None,
                now,
            },
        )
        .await?;
        let masked = smmd_domain::affiliate::method::mask(
            &get::<Option<String>>(row, "method_details")?.unwrap_or_default(),
        );
        crate::billing::runway::notice(
            &mut tx,
            UserId(user),
            "payout.created",
            None,
            None,
            &format!("Payout #{payout} of {amount} to {masked}"),
            now,
        )
        .await?;
        step.created += 1;
        step.paid_out = step.paid_out.saturating_add(amount);
    }
    step.more = cut || rows.len() as i64 == limit;
    // The run's figures grow with each step by its own items (an instance still stepping after
    // another finished adds its own too), so the last step does not count a whole run.
    sqlx::query(
        "UPDATE payout_runs SET candidates = candidates + $1, payouts = payouts + $2, \
         total = total + $3, status = CASE WHEN $4 = 1 THEN 'done' ELSE status END, \
         finished_at = CASE WHEN $4 = 1 THEN COALESCE(finished_at, $5) ELSE finished_at END \
         WHERE id = $6",
    )
    .bind(step.checked)
    .bind(step.created)
    .bind(step.paid_out.micros())
    .bind(i64::from(!step.more))
    .bind(now)
    .bind(run.id)
    .execute(&mut *tx)
    .await
    .db()?;
    let after_step = sqlx::query(&format!("SELECT {RUN_COLS} FROM payout_runs WHERE id = $1"))
        .bind(run.id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    s.commit(tx).await?;
    step.tx_us = crate::micros_since(held);
    step.run = run_row(&after_step)?;
    Ok(step)
}

pub(super) async fn runs(
    s: &SqlStore,
    kind: Option<RunKind>,
    limit: i64,
) -> StoreResult<Vec<PayoutRun>> {
    let rows = sqlx::query(&format!(
        "SELECT {RUN_COLS} FROM payout_runs WHERE ($1 = '' OR kind = $1) \
         ORDER BY scheduled_at DESC, id DESC LIMIT $2"
    ))
    .bind(kind.map_or("", RunKind::as_str))
    .bind(limit.clamp(1, 1_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(run_row).collect()
}

pub(super) async fn run_by_id(s: &SqlStore, id: i64) -> StoreResult<Option<PayoutRun>> {
    let row = sqlx::query(&format!("SELECT {RUN_COLS} FROM payout_runs WHERE id = $1"))
        .bind(id)
        .fetch_optional(&s.read)
        .await
        .db()?;
    row.as_ref().map(run_row).transpose()
}

pub(super) async fn run_items(
    s: &SqlStore,
    run: i64,
    after: i64,
    limit: i64,
) -> StoreResult<Vec<RunItem>> {
    let rows = sqlx::query(
        "SELECT i.run_id, i.user_id, i.reason, i.amount, p.id AS payout_id FROM payout_run_items i \
         LEFT JOIN payouts p ON p.run_id = i.run_id AND p.user_id = i.user_id \
         WHERE i.run_id = $1 AND i.user_id > $2 ORDER BY i.user_id LIMIT $3",
    )
    .bind(run)
    .bind(after)
    .bind(limit.clamp(1, 10_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(RunItem {
                run_id: get(r, "run_id")?,
                user_id: UserId(get(r, "user_id")?),
                reason: get(r, "reason")?,
                amount: money(r, "amount")?,
                payout_id: get(r, "payout_id")?,
            })
        })
        .collect()
}
