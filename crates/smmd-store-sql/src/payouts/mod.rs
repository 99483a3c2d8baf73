//! Affiliate payouts on SQL (issue 17, `docs/affiliates.md`; migration 0017): payout methods,
//! the calendar payout runs, payout invoices and their decisions, transfers to the spending
//! wallet, the review of flagged commissions, and the program report.
//!
//! A run is made of short steps ([`runs::run_step`]): each checks at most `limit` candidates in one
//! transaction, so the SQLite writer is never held long. Each candidate's item is inserted
//! first and keyed (run, user): an instance that loses the race for a candidate inserts
//! nothing and moves on, so repeated triggers and several instances record one item and at
//! most one payout per candidate. On PostgreSQL the step locks its candidates' affiliate rows
//! (`FOR UPDATE`), so a concurrent transfer waits and then sees the new balance.

use smmd_domain::affiliate::calendar::RunKind;
use smmd_domain::affiliate::eligibility::{self, Candidate};
use smmd_domain::affiliate::method::{self, MethodKind};
use smmd_domain::affiliate::{Decision, EntryKind, PayoutStatus};
use smmd_domain::{Money, UserId};
use smmd_store::{
    AffiliateReport, BalanceError, LedgerEntry, LedgerKind, MethodStatus, NewAudit, NewPayoutRun,
    Payout, PayoutError, PayoutMethod, PayoutQuery, PayoutRun, ReviewDecision, RunItem, RunStatus,
    RunStep, StoreError, StoreResult, Transfer,
};

use crate::affiliates::{post, settings_in, Posting};
use crate::rows::{get, money};
use crate::{flag, Dialect, Row, SqlResultExt, SqlStore};

mod admin;
mod money;
mod runs;

use admin::*;
use money::*;
use runs::*;

const METHOD_COLS: &str =
    "id, user_id, kind, details, status, reason, created_at, decided_at, approved_at";
const RUN_COLS: &str = "id, kind, run_date, status, scheduled_at, started_at, finished_at, \
                        candidates, payouts, total, note";
const PAYOUT_COLS: &str = "id, run_id, user_id, amount, status, method_kind, method_details, \
                           number, reference, reason, created_at, decided_at";

fn bad(what: &str, value: &str) -> StoreError {
    StoreError::Other(anyhow::anyhow!("unknown {what} `{value}` in the database"))
}

fn method_row(row: &Row) -> StoreResult<PayoutMethod> {
    let kind: String = get(row, "kind")?;
    let status: String = get(row, "status")?;
    Ok(PayoutMethod {
        id: get(row, "id")?,
        user_id: UserId(get(row, "user_id")?),
        kind: MethodKind::parse(&kind).ok_or_else(|| bad("payout method kind", &kind))?,
        details: get(row, "details")?,
        status: MethodStatus::parse(&status).ok_or_else(|| bad("payout method status", &status))?,
        reason: get(row, "reason")?,
        created_at: get(row, "created_at")?,
        decided_at: get(row, "decided_at")?,
        approved_at: get(row, "approved_at")?,
    })
}

fn run_row(row: &Row) -> StoreResult<PayoutRun> {
    let kind: String = get(row, "kind")?;
    let status: String = get(row, "status")?;
    Ok(PayoutRun {
        id: get(row, "id")?,
        kind: RunKind::parse(&kind).ok_or_else(|| bad("payout run kind", &kind))?,
        date: get(row, "run_date")?,
        status: RunStatus::parse(&status).ok_or_else(|| bad("payout run status", &status))?,
        scheduled_at: get(row, "scheduled_at")?,
        started_at: get(row, "started_at")?,
        finished_at: get(row, "finished_at")?,
        candidates: get(row, "candidates")?,
        payouts: get(row, "payouts")?,
        total: money(row, "total")?,
        note: get(row, "note")?,
    })
}

fn payout_row(row: &Row) -> StoreResult<Payout> {
    let status: String = get(row, "status")?;
    Ok(Payout {
        id: get(row, "id")?,
        run_id: get(row, "run_id")?,
        user_id: UserId(get(row, "user_id")?),
        amount: money(row, "amount")?,
        status: PayoutStatus::parse(&status).ok_or_else(|| bad("payout status", &status))?,
        method_kind: get(row, "method_kind")?,
        method_details: get(row, "method_details")?,
        number: get(row, "number")?,
        reference: get(row, "reference")?,
        reason: get(row, "reason")?,
        created_at: get(row, "created_at")?,
        decided_at: get(row, "decided_at")?,
    })
}

// ---------------------------------------------------------------------------------------------
// Payout methods

async fn submit_method(
    s: &SqlStore,
    user: UserId,
    kind: MethodKind,
    details: &str,
    now: i64,
) -> Result<PayoutMethod, PayoutError> {
    let mut tx = s.begin().await?;
    let cool_down = settings_in(&mut tx).await?.cool_down_days;
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT MAX(created_at) FROM payout_methods WHERE user_id = $1 \
         AND status IN ('submitted', 'approved', 'replaced')",
    )
    .bind(user.0)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    if let Err(until_ms) = method::change_allowed(last, now, cool_down) {
        return Err(PayoutError::CoolingDown { until_ms });
    }
    sqlx::query(
        "UPDATE payout_methods SET status = 'withdrawn', decided_at = $1 \
         WHERE user_id = $2 AND status = 'submitted'",
    )
    .bind(now)
    .bind(user.0)
    .execute(&mut *tx)
    .await
    .db()?;
    let row = sqlx::query(&format!(
        "INSERT INTO payout_methods (user_id, kind, details, status, created_at) \
         VALUES ($1, $2, $3, 'submitted', $4) RETURNING {METHOD_COLS}"
    ))
    .bind(user.0)
    .bind(kind.as_str())
    .bind(details)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    let m = method_row(&row)?;
    let detail = format!("{} {}", kind.title(), method::mask(details));
    crate::billing::runway::notice(
        &mut tx,
        user,
        "payout_method.submitted",
        None,
        None,
        &detail,
        now,
    )
    .await?;
    s.commit(tx).await?;
    Ok(m)
}

async fn decide_method(
    s: &SqlStore,
    id: i64,
    approve: bool,
    reason: &str,
    now: i64,
    audit: Option<NewAudit>,
) -> Result<PayoutMethod, PayoutError> {
    let mut tx = s.begin().await?;
    let Some(user) = sqlx::query_scalar::<_, i64>(
        "SELECT user_id FROM payout_methods WHERE id = $1 AND status = 'submitted'",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await
    .db()?
    else {
        return Err(PayoutError::NotFound);
    };
    if approve {
        sqlx::query(
            "UPDATE payout_methods SET status = 'replaced', decided_at = $1 \
             WHERE user_id = $2 AND status = 'approved'",
        )
        .bind(now)
        .bind(user)
        .execute(&mut *tx)
        .await
        .db()?;
    }
    let row = sqlx::query(&format!(
        "UPDATE payout_methods SET status = $1, reason = $2, decided_at = $3, approved_at = $4 \
         WHERE id = $5 RETURNING {METHOD_COLS}"
    ))
    .bind(if approve { "approved" } else { "rejected" })
    .bind(reason)
    .bind(now)
    .bind(approve.then_some(now))
    .bind(id)
    .fetch_one(&mut *tx)
    .await
    .db()?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    let m = method_row(&row)?;
    let (event, detail) = if approve {
        (
            "payout_method.approved",
            format!("{} {}", m.kind.title(), m.masked()),
        )
    } else {
        (
            "payout_method.rejected",
            format!("{} {}: {reason}", m.kind.title(), m.masked()),
        )
    };
    crate::billing::runway::notice(&mut tx, UserId(user), event, None, None, &detail, now).await?;
    s.commit(tx).await?;
    Ok(m)
}

async fn methods_of(s: &SqlStore, user: UserId) -> StoreResult<Vec<PayoutMethod>> {
    let rows = sqlx::query(&format!(
        "SELECT {METHOD_COLS} FROM payout_methods WHERE user_id = $1 ORDER BY id DESC LIMIT 20"
    ))
    .bind(user.0)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(method_row).collect()
}

async fn submitted_methods(s: &SqlStore, limit: i64) -> StoreResult<Vec<PayoutMethod>> {
    let rows = sqlx::query(&format!(
        "SELECT {METHOD_COLS} FROM payout_methods WHERE status = 'submitted' ORDER BY id LIMIT $1"
    ))
    .bind(limit.clamp(1, 1_000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(method_row).collect()
}

/// The [`PayoutStore`](smmd_store::PayoutStore) section on SQL.
mod section {
    use smmd_domain::affiliate::calendar::RunKind;
    use smmd_domain::affiliate::eligibility::Candidate;
    use smmd_domain::affiliate::method::MethodKind;
    use smmd_domain::affiliate::Decision;
    use smmd_domain::{Money, UserId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl PayoutStore for SqlStore {
        async fn submit_payout_method(
            &self,
            user: UserId,
            kind: MethodKind,
            details: &str,
            now: i64,
        ) -> Result<PayoutMethod, PayoutError> {
            super::submit_method(self, user, kind, details, now).await
        }

        async fn decide_payout_method(
            &self,
            id: i64,
            approve: bool,
            reason: &str,
            now: i64,
            audit: Option<NewAudit>,
        ) -> Result<PayoutMethod, PayoutError> {
            super::decide_method(self, id, approve, reason, now, audit).await
        }

        async fn payout_methods_of(&self, user: UserId) -> StoreResult<Vec<PayoutMethod>> {
            super::methods_of(self, user).await
        }

        async fn submitted_payout_methods(&self, limit: i64) -> StoreResult<Vec<PayoutMethod>> {
            super::submitted_methods(self, limit).await
        }

        async fn payout_candidate(&self, user: UserId) -> StoreResult<Option<Candidate>> {
            super::candidate(self, user).await
        }

        async fn run_payouts(
            &self,
            run: &NewPayoutRun,
            after: i64,
            limit: i64,
            now: i64,
        ) -> StoreResult<RunStep> {
            super::run_step(self, run, after, limit, now).await
        }

        async fn skip_payout_run(
            &self,
            run: &NewPayoutRun,
            note: &str,
            now: i64,
        ) -> StoreResult<PayoutRun> {
            super::skip_run(self, run, note, now).await
        }

        async fn payout_runs(
            &self,
            kind: Option<RunKind>,
            limit: i64,
        ) -> StoreResult<Vec<PayoutRun>> {
            super::runs(self, kind, limit).await
        }

        async fn payout_run(&self, id: i64) -> StoreResult<Option<PayoutRun>> {
            super::run_by_id(self, id).await
        }

        async fn payout_run_items(
            &self,
            run: i64,
            after: i64,
            limit: i64,
        ) -> StoreResult<Vec<RunItem>> {
            super::run_items(self, run, after, limit).await
        }

        async fn payouts(&self, q: &PayoutQuery) -> StoreResult<Vec<Payout>> {
            super::payouts(self, q).await
        }

        async fn payout(&self, id: i64) -> StoreResult<Option<Payout>> {
            super::payout(self, id).await
        }

        async fn decide_payout(
            &self,
            id: i64,
            decision: Decision,
            text: &str,
            now: i64,
            audit: Option<NewAudit>,
        ) -> Result<Payout, PayoutError> {
            super::decide(self, id, decision, text, now, audit).await
        }

        async fn transfer_to_wallet(
            &self,
            user: UserId,
            amount: Money,
            request_id: &str,
            now: i64,
        ) -> Result<(Transfer, Option<LedgerEntry>), PayoutError> {
            super::transfer(self, user, amount, request_id, now).await
        }

        async fn set_affiliate_hold(
            &self,
            user: UserId,
            on_hold: bool,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::set_hold(self, user, on_hold, audit).await
        }

        async fn set_user_blocked(
            &self,
            user: UserId,
            blocked: bool,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::set_blocked(self, user, blocked, now, audit).await
        }

        async fn commissions_in_review(&self, limit: i64) -> StoreResult<Vec<Commission>> {
            super::in_review(self, limit).await
        }

        async fn review_commissions(
            &self,
            ids: &[i64],
            decision: ReviewDecision,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<i64> {
            super::review(self, ids, decision, now, audit).await
        }

        async fn flagged_referrals(&self, limit: i64) -> StoreResult<Vec<Referral>> {
            super::flagged(self, limit).await
        }

        async fn clear_referral(
            &self,
            user: UserId,
            now: i64,
            audit: Option<NewAudit>,
        ) -> StoreResult<()> {
            super::clear(self, user, now, audit).await
        }

        async fn flag_referral(&self, user: UserId, flag: &str, now: i64) -> StoreResult<bool> {
            super::flag_later(self, user, flag, now).await
        }

        async fn adjust_affiliate_balance(
            &self,
            user: UserId,
            amount: Money,
            key: &str,
            reason: &str,
            now: i64,
            audit: Option<NewAudit>,
        ) -> Result<AffiliateEntry, PayoutError> {
            super::adjust(self, user, amount, key, reason, now, audit).await
        }

        async fn affiliate_figures(&self) -> StoreResult<AffiliateFigures> {
            super::figures(self).await
        }

        async fn affiliate_report(&self, from: i64, to: i64) -> StoreResult<AffiliateReport> {
            super::report(self, from, to).await
        }
    }
}
