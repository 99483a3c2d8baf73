//! The affiliate program's jobs (`docs/affiliates.md`).
//!
//! `affiliates.release` (Commission on net spend): once a day, pending
//! commissions of final orders are settled (held until their approval date, or sent to review
//! for a flagged referral) and held ones whose date has come are approved and credited to the
//! affiliate ledger. Each store call is one short transaction of at most [`STEP`] commissions,
//! so the database is free between them; repeats and several instances change nothing twice
//! (guarded updates, the ledger's `commission:<id>` key).
//!
//! `affiliates.payouts_all` (`0 2 * * MON#1`) and `affiliates.payouts_returning`
//! (`0 2 16-22 * MON`), UTC, misfire `fire_once`: [`pay_out`] names the run by its scheduled
//! date, records runs the panel slept through as skipped, skips a run past its 3-day catch-up
//! window, and otherwise steps the run in short transactions of [`RUN_STEP`] candidates.

use std::sync::Arc;

use async_trait::async_trait;
use smmd_domain::affiliate::calendar::{run_at, Date, RunKind};
use smmd_domain::alert::{payouts_subject, AlertKind};
use smmd_domain::{Clock, Money};
use smmd_store::{NewPayoutRun, PayoutRun, ReleaseReport, RunStatus, Store};

use crate::engine::{Counters, Job, JobContext, JobError};

/// The job's schedule name.
pub const AFFILIATES_RELEASE: &str = "affiliates.release";

/// Commissions per store call (one transaction each step).
pub const STEP: i64 = 100;

/// Releases everything due at `now`: the summed report of as many passes as it takes.
pub async fn release(store: &dyn Store, now: i64) -> Result<ReleaseReport, JobError> {
    let mut total = ReleaseReport::default();
    loop {
        let r = store
            .release_commissions(now, STEP)
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        total.add(&r);
        if !r.more {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// The job: [`release`] at the run's time. Counters: `settled`, `to_review`, `approved`,
/// `voided`, `credited_micros`, `longest_tx_us` (the longest write transaction, µs).
pub struct Release {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl Job for Release {
    async fn run(&self, _ctx: JobContext) -> Result<Counters, JobError> {
        let r = release(self.store.as_ref(), self.clock.now_ms()).await?;
        Ok(Counters::from([
            ("settled".to_string(), r.settled),
            ("to_review".to_string(), r.to_review),
            ("approved".to_string(), r.approved),
            ("voided".to_string(), r.voided),
            ("credited_micros".to_string(), r.credited.micros()),
            ("longest_tx_us".to_string(), r.longest_tx_us),
        ]))
    }
}

/// A payout run's catch-up window (`docs/affiliates.md`, Payout runs): a run that starts more
/// than this after its scheduled instant is recorded as skipped, with an alert, and pays
/// nobody; the balances wait for the next run.
pub const CATCH_UP_MS: i64 = 3 * smmd_domain::clock::DAY_MS;

/// Candidates per store call of a payout run (one short transaction each).
pub const RUN_STEP: i64 = 100;

/// What a payout run did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PayoutReport {
    /// The run (its date) and how it ended.
    pub run: Option<PayoutRun>,
    /// Candidates checked by this call.
    pub checked: i64,
    /// Payouts created by this call.
    pub created: i64,
    /// Σ of those payouts.
    pub paid_out: Money,
    /// Earlier runs of this kind that never started (the panel was down past them), now
    /// recorded as skipped, plus this one when it is past its window.
    pub skipped: i64,
    /// The longest step's write transaction, in microseconds.
    pub longest_tx_us: i64,
}

/// The run of `kind` scheduled at `scheduled_for`, at `now`: records the runs of this kind
/// missed since the last one as skipped, skips this one past [`CATCH_UP_MS`] (balances
/// untouched, alert `payout_run_skipped`), or steps it to its end. Idempotent: a run that is
/// done or skipped is left alone, an interrupted one resumes.
pub async fn pay_out(
    store: &dyn Store,
    kind: RunKind,
    scheduled_for: i64,
    now: i64,
) -> Result<PayoutReport, JobError> {
    let err = |e: smmd_store::StoreError| JobError::Transient(e.to_string());
    let mut report = PayoutReport::default();
    let this = NewPayoutRun {
        kind,
        date: Date::of(scheduled_for),
        scheduled_at: scheduled_for,
    };
    let mut missed: Vec<NewPayoutRun> = Vec::new();
    if let Some(last) = store.payout_runs(Some(kind), 1).await.map_err(err)?.first() {
        let mut at = Date::of(last.scheduled_at);
        loop {
            (at.year, at.month) = if at.month == 12 {
                (at.year + 1, 1)
            } else {
                (at.year, at.month + 1)
            };
            let t = run_at(kind, at.year, at.month);
            if t >= scheduled_for {
                break;
            }
            missed.push(NewPayoutRun {
                kind,
                date: Date::of(t),
                scheduled_at: t,
            });
        }
    }
    let late = now.saturating_sub(scheduled_for) > CATCH_UP_MS;
    if late {
        missed.push(this);
    }
    for m in &missed {
        let note = if m.scheduled_at == scheduled_for {
            format!(
                "started {} h after its scheduled time, past the {} h catch-up window",
                (now - scheduled_for) / 3_600_000,
                CATCH_UP_MS / 3_600_000
            )
        } else {
            "never started: the panel was not running".to_string()
        };
        let run = store.skip_payout_run(m, &note, now).await.map_err(err)?;
        if run.status == RunStatus::Skipped && run.started_at == now {
            report.skipped += 1;
            tracing::warn!(kind = kind.as_str(), date = %m.date, %note, "payout run skipped");
            let message = format!(
                "The {} payout run of {} was skipped ({note}). Nobody was paid by it; balances \
                 stay for the next run.",
                kind.as_str(),
                m.date
            );
            store
                .raise_alert(
                    AlertKind::PayoutRunSkipped,
                    &payouts_subject(kind.as_str()),
                    &message,
                    now,
                )
                .await
                .map_err(err)?;
        }
    }
    if late {
        report.run = store.payout_runs(Some(kind), 1).await.map_err(err)?.pop();
        return Ok(report);
    }
    let mut after = 0;
    loop {
        let step = store
            .run_payouts(&this, after, RUN_STEP, now)
            .await
            .map_err(err)?;
        report.checked += step.checked;
        report.created += step.created;
        report.paid_out = report.paid_out.saturating_add(step.paid_out);
        report.longest_tx_us = report.longest_tx_us.max(step.tx_us);
        after = step.cursor;
        if !step.more {
            report.run = Some(step.run);
            return Ok(report);
        }
        tokio::task::yield_now().await;
    }
}

/// `affiliates.payouts_all` / `affiliates.payouts_returning`: [`pay_out`] for the run's tick.
/// Counters: `checked`, `payouts`, `paid_micros`, `skipped`, `longest_tx_us` (the longest
/// step's write transaction, µs).
pub struct PayoutRunJob {
    pub kind: RunKind,
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl Job for PayoutRunJob {
    async fn run(&self, ctx: JobContext) -> Result<Counters, JobError> {
        let r = pay_out(
            self.store.as_ref(),
            self.kind,
            ctx.scheduled_for,
            self.clock.now_ms(),
        )
        .await?;
        Ok(Counters::from([
            ("checked".to_string(), r.checked),
            ("payouts".to_string(), r.created),
            ("paid_micros".to_string(), r.paid_out.micros()),
            ("skipped".to_string(), r.skipped),
            ("longest_tx_us".to_string(), r.longest_tx_us),
        ]))
    }
}
