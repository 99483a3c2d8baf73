//! Payout invoices and the admin's decisions on them (gapless numbers, `payout_return`), and
//! transfers from the affiliate balance to the spending wallet.

use super::*;

pub(super) async fn payouts(s: &SqlStore, q: &PayoutQuery) -> StoreResult<Vec<Payout>> {
    let rows = sqlx::query(&format!(
        "SELECT {PAYOUT_COLS} FROM payouts WHERE ($1 = '' OR status = $1) \
         AND ($2 = 0 OR user_id = $2) AND ($3 = 0 OR run_id = $3) AND id < $4 \
         ORDER BY id DESC LIMIT $5"
    ))
    .bind(q.status.map_or("", PayoutStatus::as_str))
    .bind(q.user.map_or(0, |u| u.0))
    .bind(q.run.unwrap_or(0))
    .bind(q.before.unwrap_or(i64::MAX))
    .bind(q.limit.clamp(1, 10_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(payout_row).collect()
}

pub(super) async fn payout_in(
    conn: &mut sqlx::AnyConnection,
    id: i64,
) -> StoreResult<Option<Payout>> {
    let row = sqlx::query(&format!("SELECT {PAYOUT_COLS} FROM payouts WHERE id = $1"))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
        .db()?;
    row.as_ref().map(payout_row).transpose()
}

pub(super) async fn payout(s: &SqlStore, id: i64) -> StoreResult<Option<Payout>> {
    let mut conn = s.read.acquire().await.db()?;
    payout_in(&mut conn, id).await
}

pub(super) async fn decide(
    s: &SqlStore,
    id: i64,
    decision: Decision,
    text: &str,
    now: i64,
    audit: Option<NewAudit>,
) -> Result<Payout, PayoutError> {
    let mut tx = s.begin().await?;
    let p = payout_in(&mut tx, id).await?.ok_or(PayoutError::NotFound)?;
    if decision == Decision::MarkPaid
        && p.status == PayoutStatus::Paid
        && p.reference.as_deref() == Some(text)
    {
        // The same mark-paid again (a bulk file replayed): nothing to do.
        return Ok(p);
    }
    let to = decision.apply(p.status)?;
    let number: Option<i64> = if decision == Decision::MarkPaid {
        Some(
            sqlx::query_scalar(
                "UPDATE payout_numbers SET last = last + 1 WHERE id = 1 RETURNING last",
            )
            .fetch_one(&mut *tx)
            .await
            .db()?,
        )
    } else {
        p.number
    };
    let (reference, reason) = if decision == Decision::MarkPaid {
        (Some(text.to_string()), p.reason.clone())
    } else {
        (p.reference.clone(), text.to_string())
    };
    // Guarded by the state read above: a concurrent decision updates nothing here.
    let done = sqlx::query(
        "UPDATE payouts SET status = $1, number = $2, reference = $3, reason = $4, decided_at = $5 \
         WHERE id = $6 AND status = $7",
    )
    .bind(to.as_str())
    .bind(number)
    .bind(reference.as_deref())
    .bind(&reason)
    .bind(now)
    .bind(id)
    .bind(p.status.as_str())
    .execute(&mut *tx)
    .await
    .db()?;
    if done.rows_affected() == 0 {
        // Another decision came first (PostgreSQL): judge this one against the new state.
        let now_p = payout_in(&mut tx, id).await?.ok_or(PayoutError::NotFound)?;
        decision.apply(now_p.status)?;
        return Err(PayoutError::NotFound);
    }
    if decision.returns_money() {
        post(
            &mut tx,
            Posting {
                user: p.user_id,
                amount: p.amount,
                kind: EntryKind::PayoutReturn,
                key: &format!("payout_return:{id}"),
                reason: &format!("Payout #{id} {}: {reason}", to.as_str()),
                commission_id: None,
                now,
            },
        )
        .await?;
    }
    let event = match to {
        PayoutStatus::Paid => "payout.paid",
        PayoutStatus::Returned => "payout.returned",
        _ => "payout.rejected",
    };
    let detail = match to {
        PayoutStatus::Paid => format!("Payout #{id} of {} was sent (reference {text})", p.amount),
        PayoutStatus::RejectedForfeited => {
            format!("Payout #{id} of {} was rejected: {text}", p.amount)
        }
        _ => format!(
            "Payout #{id} of {} is back on your affiliate balance: {text}",
            p.amount
        ),
    };
    crate::billing::runway::notice(&mut tx, p.user_id, event, None, None, &detail, now).await?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    let after = payout_in(&mut tx, id).await?.ok_or(PayoutError::NotFound)?;
    s.commit(tx).await?;
    Ok(after)
}

pub(super) async fn transfer(
    s: &SqlStore,
    user: UserId,
    amount: Money,
    request_id: &str,
    now: i64,
) -> Result<(Transfer, Option<LedgerEntry>), PayoutError> {
    let stored = |row: &Row| -> StoreResult<Transfer> {
        Ok(Transfer {
            user_id: user,
            request_id: get(row, "request_id")?,
            amount: money(row, "amount")?,
            created_at: get(row, "created_at")?,
            replayed: true,
        })
    };
    let select = "SELECT request_id, amount, created_at FROM affiliate_transfers \
                  WHERE user_id = $1 AND request_id = $2";
    let mut tx = s.begin().await?;
    // The request row first: a replay (or a concurrent twin, which waits here) finds it.
    let claimed = sqlx::query(
        "INSERT INTO affiliate_transfers (user_id, request_id, amount, created_at) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (user_id, request_id) DO NOTHING",
    )
    .bind(user.0)
    .bind(request_id)
    .bind(amount.micros())
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    if claimed.rows_affected() == 0 {
        let row = sqlx::query(select)
            .bind(user.0)
            .bind(request_id)
            .fetch_one(&mut *tx)
            .await
            .db()?;
        let t = stored(&row)?;
        if t.amount != amount {
            return Err(PayoutError::RequestReused { amount: t.amount });
        }
        return Ok((t, None));
    }
    // The conditional debit of the affiliate balance.
    let debited: Option<i64> = sqlx::query_scalar(
        "UPDATE affiliates SET balance = balance - $1 WHERE user_id = $2 AND balance >= $1 \
         RETURNING balance",
    )
    .bind(amount.micros())
    .bind(user.0)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    let Some(balance_after) = debited else {
        let balance: Option<i64> =
            sqlx::query_scalar("SELECT balance FROM affiliates WHERE user_id = $1")
                .bind(user.0)
                .fetch_optional(&mut *tx)
                .await
                .db()?;
        return Err(match balance {
            None => PayoutError::NoAccount,
            Some(b) => PayoutError::InsufficientBalance {
                balance: Money::from_micros(b),
            },
        });
    };
    let key = format!("transfer:{}:{request_id}", user.0);
    sqlx::query(
        "INSERT INTO affiliate_ledger (user_id, amount, balance_after, kind, idem_key, reason, created_at) \
         VALUES ($1, $2, $3, 'transfer_out', $4, 'Transfer to the wallet', $5)",
    )
    .bind(user.0)
    .bind((-amount).micros())
    .bind(balance_after)
    .bind(&key)
    .bind(now)
    .execute(&mut *tx)
    .await
    .db()?;
    let entry = crate::wallet::post(
        &mut tx,
        s.dialect,
        crate::wallet::Posting {
            user_id: user,
            amount,
            kind: LedgerKind::AffiliateTransfer,
            key: &key,
            reason: "From the affiliate balance",
            order_id: None,
            actor_id: None,
            now,
        },
    )
    .await
    .map_err(|e| match e {
        BalanceError::Store(e) => PayoutError::Store(e),
        other => PayoutError::Store(StoreError::Other(anyhow::anyhow!("transfer: {other}"))),
    })?;
    let row = sqlx::query(select)
        .bind(user.0)
        .bind(request_id)
        .fetch_one(&mut *tx)
        .await
        .db()?;
    s.commit(tx).await?;
    let t = Transfer {
        replayed: false,
        ..stored(&row)?
    };
    Ok((t, Some(entry)))
}
