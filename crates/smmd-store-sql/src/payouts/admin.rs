//! The admin's side: payout holds, blocked accounts, commissions in review, flagged referrals,
//! balance adjustments and the program report.

use super::*;

pub(super) async fn set_hold(
    s: &SqlStore,
    user: UserId,
    on_hold: bool,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE affiliates SET on_hold = $1 WHERE user_id = $2")
        .bind(flag(on_hold))
        .bind(user.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(super) async fn set_blocked(
    s: &SqlStore,
    user: UserId,
    blocked: bool,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query("UPDATE users SET blocked_at = $1 WHERE id = $2")
        .bind(blocked.then_some(now))
        .bind(user.0)
        .execute(&mut *tx)
        .await
        .db()?;
    crate::found(&done)?;
    if blocked {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user.0)
            .execute(&mut *tx)
            .await
            .db()?;
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(super) async fn in_review(
    s: &SqlStore,
    limit: i64,
) -> StoreResult<Vec<smmd_store::Commission>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM commissions WHERE status = 'review' ORDER BY id LIMIT $1",
        crate::affiliates::COMMISSION_COLS
    ))
    .bind(limit.clamp(1, 1_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(crate::affiliates::commission_row).collect()
}

pub(super) async fn review(
    s: &SqlStore,
    ids: &[i64],
    decision: ReviewDecision,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<i64> {
    let to = match decision {
        ReviewDecision::Approve => "held",
        ReviewDecision::Void => "void",
    };
    let mut tx = s.begin().await?;
    let mut changed = 0;
    for id in ids {
        let done = sqlx::query(
            "UPDATE commissions SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'review'",
        )
        .bind(to)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
        changed += done.rows_affected() as i64;
    }
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(changed)
}

pub(super) async fn flagged(s: &SqlStore, limit: i64) -> StoreResult<Vec<smmd_store::Referral>> {
    let rows = sqlx::query(&format!(
        "SELECT {} FROM referrals WHERE status = 'flagged' ORDER BY updated_at DESC, user_id DESC LIMIT $1",
        crate::affiliates::REFERRAL_COLS
    ))
    .bind(limit.clamp(1, 1_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(crate::affiliates::referral_row).collect()
}

pub(super) async fn clear(
    s: &SqlStore,
    user: UserId,
    now: i64,
    audit: Option<NewAudit>,
) -> StoreResult<()> {
    let mut tx = s.begin().await?;
    let done = sqlx::query(
        "UPDATE referrals SET status = 'cleared', updated_at = $1 WHERE user_id = $2 AND status = 'flagged'",
    )
    .bind(now)
    .bind(user.0)
    .execute(&mut *tx)
    .await
    .db()?;
    crate::found(&done)?;
    sqlx::query(
        "UPDATE commissions SET status = 'held', updated_at = $1 WHERE referred_id = $2 AND status = 'review'",
    )
    .bind(now)
    .bind(user.0)
    .execute(&mut *tx)
    .await
    .db()?;
    crate::fulfil::resolve_alert_in(
        &mut tx,
        smmd_domain::alert::AlertKind::ReferralFlagged.as_str(),
        &smmd_domain::alert::referral_subject(user),
        now,
    )
    .await?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await
}

pub(super) async fn flag_later(
    s: &SqlStore,
    user: UserId,
    what: &str,
    now: i64,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let changed = crate::affiliates::flag_in(&mut tx, user, what, now).await?;
    s.commit(tx).await?;
    Ok(changed)
}

pub(super) async fn adjust(
    s: &SqlStore,
    user: UserId,
    amount: Money,
    key: &str,
    reason: &str,
    now: i64,
    audit: Option<NewAudit>,
) -> Result<smmd_store::AffiliateEntry, PayoutError> {
    if amount == Money::ZERO
        || amount.micros().unsigned_abs() > Money::MAX_AMOUNT.micros().unsigned_abs()
    {
        return Err(PayoutError::Store(StoreError::Other(anyhow::anyhow!(
            "an adjustment is non-zero and at most {}",
            Money::MAX_AMOUNT
        ))));
    }
    let mut tx = s.begin().await?;
    let exists: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM affiliates WHERE user_id = $1")
        .bind(user.0)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    if exists == 0 {
        return Err(PayoutError::NoAccount);
    }
    let entry = post(
        &mut tx,
        Posting {
            user,
            amount,
            kind: EntryKind::Adjustment,
            key: &format!("adjust:{key}"),
            reason,
            commission_id: None,
            now,
        },
    )
    .await?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(entry)
}

pub(super) async fn report(s: &SqlStore, from: i64, to: i64) -> StoreResult<AffiliateReport> {
    let sum = |sql: &'static str| async move {
        let v: i64 = sqlx::query_scalar(sql)
            .bind(from)
            .bind(to)
            .fetch_one(&s.read)
            .await
            .db()?;
        Ok::<Money, StoreError>(Money::from_micros(v))
    };
    let earned = sum(
        "SELECT CAST(COALESCE(SUM(CASE WHEN status = 'approved' THEN credited ELSE amount END), 0) AS BIGINT) \
         FROM commissions WHERE created_at >= $1 AND created_at < $2",
    )
    .await?;
    let ledger_sum = |kind: &'static str| {
        let sql: &'static str = match kind {
            "commission" => "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM affiliate_ledger WHERE kind = 'commission' AND created_at >= $1 AND created_at < $2",
            "clawback" => "SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) FROM affiliate_ledger WHERE kind = 'clawback' AND created_at >= $1 AND created_at < $2",
            _ => "SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) FROM affiliate_ledger WHERE kind = 'transfer_out' AND created_at >= $1 AND created_at < $2",
        };
        sum(sql)
    };
    let approved = ledger_sum("commission").await?;
    let clawed_back = ledger_sum("clawback").await?;
    let transferred = ledger_sum("transfer_out").await?;
    let paid = sum(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payouts \
         WHERE status = 'paid' AND decided_at >= $1 AND decided_at < $2",
    )
    .await?;
    let forfeited = sum(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payouts \
         WHERE status = 'rejected_forfeited' AND decided_at >= $1 AND decided_at < $2",
    )
    .await?;
    let net_revenue = sum(
        "SELECT CAST(COALESCE(-SUM(amount), 0) AS BIGINT) FROM ledger \
         WHERE kind IN ('charge', 'refund') AND created_at >= $1 AND created_at < $2",
    )
    .await?;
    let now_sum = |sql: &'static str| async move {
        let v: i64 = sqlx::query_scalar(sql).fetch_one(&s.read).await.db()?;
        Ok::<Money, StoreError>(Money::from_micros(v))
    };
    let pending_now = now_sum(
        "SELECT CAST(COALESCE(SUM(amount), 0) AS BIGINT) FROM payouts WHERE status = 'pending'",
    )
    .await?;
    let balances_now =
        now_sum("SELECT CAST(COALESCE(SUM(balance), 0) AS BIGINT) FROM affiliates").await?;
    let cost = approved.micros().saturating_sub(clawed_back.micros());
    let cost_bp = (net_revenue.is_positive()).then(|| {
        i64::try_from(i128::from(cost) * 10_000 / i128::from(net_revenue.micros()))
            .unwrap_or(i64::MAX)
    });
    Ok(AffiliateReport {
        earned,
        approved,
        clawed_back,
        paid,
        forfeited,
        transferred,
        pending_now,
        balances_now,
        net_revenue,
        cost_bp,
    })
}

pub(super) async fn figures(s: &SqlStore) -> StoreResult<smmd_store::AffiliateFigures> {
    let pairs = |rows: Vec<Row>| -> StoreResult<Vec<(String, i64)>> {
        rows.iter()
            .map(|r| Ok((get(r, "k")?, get(r, "n")?)))
            .collect()
    };
    let commissions = sqlx::query(
        "SELECT status AS k, COUNT(*) AS n FROM commissions GROUP BY status ORDER BY status",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    let skipped = sqlx::query(
        "SELECT CASE WHEN note LIKE 'never%' THEN 'missed' ELSE 'late' END AS k, COUNT(*) AS n \
         FROM payout_runs WHERE status = 'skipped' GROUP BY 1 ORDER BY 1",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    let payouts = sqlx::query(
        "SELECT status AS k, COUNT(*) AS n, CAST(COALESCE(SUM(amount), 0) AS BIGINT) AS total \
         FROM payouts GROUP BY status ORDER BY status",
    )
    .fetch_all(&s.read)
    .await
    .db()?;
    Ok(smmd_store::AffiliateFigures {
        commissions: pairs(commissions)?,
        skipped_runs: pairs(skipped)?,
        payouts: payouts
            .iter()
            .map(|r| Ok((get(r, "k")?, get(r, "n")?, money(r, "total")?)))
            .collect::<StoreResult<_>>()?,
    })
}
