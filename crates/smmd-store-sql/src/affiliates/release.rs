//! `affiliates.release` on SQL: pending commissions of final orders settle (held, review or
//! void), held ones past their date are approved and credited, each in transactions that stay
//! within SQLite's writer budget.

use super::*;

/// Settles pending commissions of final orders: held until `completed_at + hold_days`, review
/// for a flagged referral, void when they earn nothing. One transaction of at most `limit`,
/// fewer on SQLite past [`crate::TX_BUDGET`].
pub(super) async fn settle(
    s: &SqlStore,
    hold_days: i64,
    now: i64,
    limit: i64,
    r: &mut ReleaseReport,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let held = std::time::Instant::now();
    let rows = sqlx::query(
        "SELECT c.id, c.amount, o.completed_at, f.status AS referral \
         FROM commissions c JOIN orders o ON o.id = c.order_id \
         JOIN referrals f ON f.user_id = c.referred_id \
         WHERE c.status = 'pending' AND o.completed_at IS NOT NULL ORDER BY c.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let mut cut = false;
    for (i, row) in rows.iter().enumerate() {
        if i > 0 && s.over_budget(held) {
            cut = true;
            break;
        }
        let id: i64 = get(row, "id")?;
        let amount: i64 = get(row, "amount")?;
        let completed: i64 = get(row, "completed_at")?;
        let referral: String = get(row, "referral")?;
        let status = if amount == 0 {
            r.voided += 1;
            CommissionStatus::Void
        } else if referral == ReferralStatus::Flagged.as_str() {
            r.to_review += 1;
            CommissionStatus::Review
        } else {
            r.settled += 1;
            CommissionStatus::Held
        };
        sqlx::query(
            "UPDATE commissions SET status = $1, approve_at = $2, updated_at = $3 \
             WHERE id = $4 AND status = 'pending'",
        )
        .bind(status.as_str())
        .bind(completed.saturating_add(hold_days.saturating_mul(DAY_MS)))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    s.commit(tx).await?;
    r.longest_tx_us = r.longest_tx_us.max(crate::micros_since(held));
    Ok(cut || rows.len() as i64 == limit)
}

/// Approves held commissions whose date has come, crediting each in the same transaction (at
/// most `limit`, fewer on SQLite once the transaction has run [`crate::TX_BUDGET`]).
pub(super) async fn approve(
    s: &SqlStore,
    now: i64,
    limit: i64,
    r: &mut ReleaseReport,
) -> StoreResult<bool> {
    let mut tx = s.begin().await?;
    let held = std::time::Instant::now();
    let rows = sqlx::query(
        "SELECT id, affiliate_id, order_id, amount FROM commissions \
         WHERE status = 'held' AND approve_at <= $1 ORDER BY approve_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let mut approved: std::collections::BTreeMap<i64, (i64, Money)> = Default::default();
    let mut cut = false;
    for (i, row) in rows.iter().enumerate() {
        if i > 0 && s.over_budget(held) {
            cut = true;
            break;
        }
        let id: i64 = get(row, "id")?;
        let amount = money(row, "amount")?;
        let to = if amount.is_positive() {
            CommissionStatus::Approved
        } else {
            CommissionStatus::Void
        };
        // Guarded: an instance that lost the race for this row updates nothing.
        let done = sqlx::query(
            "UPDATE commissions SET status = $1, credited = amount, approved_at = $2, updated_at = $2 \
             WHERE id = $3 AND status = 'held'",
        )
        .bind(to.as_str())
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await
        .db()?;
        if done.rows_affected() == 0 {
            continue;
        }
        if to == CommissionStatus::Void {
            r.voided += 1;
            continue;
        }
        let order: i64 = get(row, "order_id")?;
        post(
            &mut tx,
            Posting {
                user: UserId(get(row, "affiliate_id")?),
                amount,
                kind: EntryKind::Commission,
                key: &format!("commission:{id}"),
                reason: &format!("Commission on order #{order}"),
                commission_id: Some(id),
                now,
            },
        )
        .await?;
        r.approved += 1;
        r.credited = r.credited.saturating_add(amount);
        let e = approved
            .entry(get::<i64>(row, "affiliate_id")?)
            .or_insert((0, Money::ZERO));
        *e = (e.0 + 1, e.1.saturating_add(amount));
    }
    // One notice per affiliate and step, not one per commission.
    for (affiliate, (n, total)) in approved {
        let what = if n == 1 {
            "a commission".to_string()
        } else {
            format!("{n} commissions")
        };
        crate::billing::runway::notice(
            &mut tx,
            UserId(affiliate),
            "commission.approved",
            None,
            None,
            &format!("{total} joined your affiliate balance ({what})"),
            now,
        )
        .await?;
    }
    s.commit(tx).await?;
    r.longest_tx_us = r.longest_tx_us.max(crate::micros_since(held));
    Ok(cut || rows.len() as i64 == limit)
}

pub(super) async fn release(s: &SqlStore, now: i64, limit: i64) -> StoreResult<ReleaseReport> {
    let limit = limit.clamp(1, 10_000);
    let hold_days = settings(s).await?.hold_days;
    let mut report = ReleaseReport::default();
    let more_settled = settle(s, hold_days, now, limit, &mut report).await?;
    let more_approved = approve(s, now, limit, &mut report).await?;
    report.more = more_settled || more_approved;
    Ok(report)
}
