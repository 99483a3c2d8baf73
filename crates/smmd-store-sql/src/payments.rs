//! Manual payments on SQL (`payment_requests`): requests, lists, and the decision, which credits
//! the wallet through [`crate::wallet::post`] (ledger key `payment:<id>`) in the transaction
//! that marks the request approved.

use smmd_domain::{Money, UserId};
use smmd_store::{StoreError, StoreResult};

use crate::rows::get;
use crate::{Row, SqlResultExt, SqlStore};

const PAYMENT_COLS: &str =
    "id, user_id, amount, method, note, status, decided_by, reason, created_at, decided_at";

fn payment(row: &Row) -> StoreResult<smmd_store::PaymentRequest> {
    Ok(smmd_store::PaymentRequest {
        id: get(row, "id")?,
        user_id: UserId(get(row, "user_id")?),
        amount: Money::from_micros(get(row, "amount")?),
        method: get(row, "method")?,
        note: get(row, "note")?,
        status: get(row, "status")?,
        decided_by: get::<Option<i64>>(row, "decided_by")?.map(UserId),
        reason: get(row, "reason")?,
        created_at: get(row, "created_at")?,
        decided_at: get(row, "decided_at")?,
    })
}

pub(crate) async fn create_payment_request(
    s: &SqlStore,
    user: UserId,
    amount: Money,
    method: &str,
    note: &str,
    now: i64,
) -> StoreResult<smmd_store::PaymentRequest> {
    let mut tx = s.begin().await?;
    let row = sqlx::query(&format!(
        "INSERT INTO payment_requests (user_id, amount, method, note, created_at) \
         VALUES ($1, $2, $3, $4, $5) RETURNING {PAYMENT_COLS}"
    ))
    .bind(user.0)
    .bind(amount.micros())
    .bind(method)
    .bind(note)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    s.commit(tx).await?;
    payment(&row)
}

pub(crate) async fn payment_requests(
    s: &SqlStore,
    user: Option<UserId>,
    status: Option<&str>,
    limit: i64,
) -> StoreResult<Vec<smmd_store::PaymentRequest>> {
    let rows = sqlx::query(&format!(
        "SELECT {PAYMENT_COLS} FROM payment_requests WHERE ($1 IS NULL OR user_id = $1) \
         AND ($2 IS NULL OR status = $2) ORDER BY id DESC LIMIT $3"
    ))
    .bind(user.map(|u| u.0))
    .bind(status)
    .bind(limit)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(payment).collect()
}

pub(crate) async fn payment_request(
    s: &SqlStore,
    id: i64,
) -> StoreResult<Option<smmd_store::PaymentRequest>> {
    sqlx::query(&format!(
        "SELECT {PAYMENT_COLS} FROM payment_requests WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&s.read)
    .await
    .db()?
    .as_ref()
    .map(payment)
    .transpose()
}

pub(crate) async fn decide_payment(
    s: &SqlStore,
    id: i64,
    approve: bool,
    admin: UserId,
    reason: &str,
    now: i64,
    audit: Option<smmd_store::NewAudit>,
) -> Result<smmd_store::PaymentRequest, smmd_store::PaymentError> {
    use smmd_store::PaymentError;
    let mut tx = s.begin().await?;
    let row = sqlx::query(&format!(
        "UPDATE payment_requests SET status = $1, decided_by = $2, reason = $3, decided_at = $4 \
         WHERE id = $5 AND status = 'pending' RETURNING {PAYMENT_COLS}"
    ))
    .bind(if approve { "approved" } else { "rejected" })
    .bind(admin.0)
    .bind(reason)
    .bind(now)
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .db()?;
    let Some(row) = row else {
        drop(tx);
        let current = sqlx::query("SELECT status FROM payment_requests WHERE id = $1")
            .bind(id)
            .fetch_optional(&s.read)
            .await
            .db()?;
        return Err(match current {
            Some(r) => PaymentError::AlreadyDecided(get(&r, "status")?),
            None => PaymentError::NotFound,
        });
    };
    let p = payment(&row)?;
    if approve {
        let reason_text = if p.note.is_empty() {
            format!("Payment #{} ({})", p.id, p.method)
        } else {
            format!("Payment #{} ({}, {})", p.id, p.method, p.note)
        };
        crate::wallet::post(
            &mut tx,
            s.dialect,
            crate::wallet::Posting {
                user_id: p.user_id,
                amount: p.amount,
                kind: smmd_store::LedgerKind::Deposit,
                key: &smmd_domain::ledger::payment_key(p.id),
                reason: &reason_text,
                order_id: None,
                actor_id: Some(admin),
                now,
            },
        )
        .await
        .map_err(|e| match e {
            smmd_store::BalanceError::Store(e) => PaymentError::Store(e),
            other => PaymentError::Store(StoreError::Other(anyhow::anyhow!("{other}"))),
        })?;
        // The same-payer signal (docs/affiliates.md): a referred user paying with the payment
        // reference or payer of their affiliate's own approved payments flags the referral.
        if !p.note.trim().is_empty() {
            let same: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM payment_requests pr JOIN referrals r ON r.affiliate_id = pr.user_id \
                 WHERE r.user_id = $1 AND pr.status = 'approved' AND LOWER(TRIM(pr.note)) = LOWER(TRIM($2))",
            )
            .bind(p.user_id.0)
            .bind(&p.note)
            .fetch_one(&mut *tx)
            .await
            .db()?;
            if same > 0 {
                crate::affiliates::flag_in(&mut tx, p.user_id, "same_payer", now).await?;
            }
        }
    }
    // The audit line names what was decided: "<amount> to user:<id>: <reason>".
    let audit = audit.map(|mut a| {
        a.detail = format!("{} to user:{}: {}", p.amount, p.user_id.0, a.detail);
        a
    });
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    s.commit(tx).await?;
    Ok(p)
}

/// The [`PaymentStore`](smmd_store::PaymentStore) section on SQL: each method is one of the functions above.
mod section {

    use smmd_domain::{Money, UserId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl PaymentStore for SqlStore {
        async fn create_payment_request(
            &self,
            user: UserId,
            amount: Money,
            method: &str,
            note: &str,
            now: i64,
        ) -> StoreResult<PaymentRequest> {
            crate::payments::create_payment_request(self, user, amount, method, note, now).await
        }

        async fn payment_requests(
            &self,
            user: Option<UserId>,
            status: Option<&str>,
            limit: i64,
        ) -> StoreResult<Vec<PaymentRequest>> {
            crate::payments::payment_requests(self, user, status, limit).await
        }

        async fn payment_request(&self, id: i64) -> StoreResult<Option<PaymentRequest>> {
            crate::payments::payment_request(self, id).await
        }

        async fn decide_payment(
            &self,
            id: i64,
            approve: bool,
            admin: UserId,
            reason: &str,
            now: i64,
            audit: Option<NewAudit>,
        ) -> Result<PaymentRequest, PaymentError> {
            crate::payments::decide_payment(self, id, approve, admin, reason, now, audit).await
        }
    }
}
