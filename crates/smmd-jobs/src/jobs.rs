//! The jobs this build has. Each is a plain async function behind [`Job`], registered by name:
//! `orders.dispatch`, `orders.sync_status`, `services.sync`, `providers.check_balances`,
//! `refills.dispatch`, `refills.sync_status` and `refills.auto` (functions of `smmd-fulfil`), `maintenance.cleanup` (prunes history) and `scheduler.canary`
//! (the opt-in end-to-end check of the scheduler itself).

use std::sync::Arc;

use async_trait::async_trait;
use smmd_domain::Clock;
use smmd_fulfil::Fulfil;
use smmd_store::{CanaryEffect, Store};

use crate::engine::{Counters, Engine, Job, JobContext, JobError};

/// Finished runs kept this long (ms): 30 days.
pub const RUN_RETENTION_MS: i64 = 30 * 86_400_000;
/// Rows deleted per statement, so pruning never holds a long lock.
const BATCH: i64 = 1_000;

/// `maintenance.cleanup`: prunes finished schedule runs past retention and expired sessions,
/// in batches.
pub struct Cleanup {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl Job for Cleanup {
    async fn run(&self, _ctx: JobContext) -> Result<Counters, JobError> {
        let now = self.clock.now_ms();
        let mut runs = 0;
        loop {
            let n = self
                .store
                .prune_schedule_runs(now - RUN_RETENTION_MS, BATCH)
                .await
                .map_err(|e| JobError::Transient(e.to_string()))?;
            runs += n;
            if n < BATCH as u64 {
                break;
            }
        }
        let mut canary = 0;
        loop {
            let n = self
                .store
                .prune_canary(now - RUN_RETENTION_MS, BATCH)
                .await
                .map_err(|e| JobError::Transient(e.to_string()))?;
            canary += n;
            if n < BATCH as u64 {
                break;
            }
        }
        let mut sessions = 0;
        loop {
            let n = self
                .store
                .prune_sessions(now, BATCH)
                .await
                .map_err(|e| JobError::Transient(e.to_string()))?;
            sessions += n;
            if n < BATCH as u64 {
                break;
            }
        }
        Ok(Counters::from([
            (
                "runs_pruned".to_string(),
                i64::try_from(runs).unwrap_or(i64::MAX),
            ),
            (
                "canary_pruned".to_string(),
                i64::try_from(canary).unwrap_or(i64::MAX),
            ),
            (
                "sessions_pruned".to_string(),
                i64::try_from(sessions).unwrap_or(i64::MAX),
            ),
        ]))
    }
}

/// The canary's schedule name.
pub const CANARY: &str = "scheduler.canary";

/// `scheduler.canary`: waits `work` (simulated work; 0 by default), then appends one row to
/// `scheduler_canary` — only if the run still holds its lease (a fenced write in one
/// statement). A lost lease is a transient failure, though its outcome is refused anyway.
/// Counting rows per tick checks the scheduler end to end: exactly one per tick.
pub struct Canary {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub work: std::time::Duration,
}

#[async_trait]
impl Job for Canary {
    async fn run(&self, ctx: JobContext) -> Result<Counters, JobError> {
        if !self.work.is_zero() {
            tokio::time::sleep(self.work).await;
        }
        let written = self
            .store
            .record_canary(CanaryEffect {
                run_id: ctx.run_id,
                token: ctx.lease_token,
                idempotency_key: ctx.idempotency_key,
                scheduled_for: ctx.scheduled_for,
                attempt: ctx.attempt,
                instance: ctx.instance,
                started_at: ctx.started_at,
                now: ctx.started_at.max(self.clock.now_ms()),
            })
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        if !written {
            return Err(JobError::Transient(
                "lease lost before the canary row was written".into(),
            ));
        }
        Ok(Counters::from([("written".to_string(), 1)]))
    }
}

/// `orders.dispatch`: send queued orders to their providers.
pub const DISPATCH: &str = "orders.dispatch";
/// `orders.sync_status`: batched status sync, cancels, refunds.
pub const SYNC_STATUS: &str = "orders.sync_status";
/// `services.sync`: import services and prices from every enabled provider.
pub const SERVICES_SYNC: &str = "services.sync";
/// `providers.check_balances`: record balances, alert below thresholds.
pub const CHECK_BALANCES: &str = "providers.check_balances";
/// `refills.dispatch`: send pending refill requests.
pub const REFILLS_DISPATCH: &str = "refills.dispatch";
/// `refills.sync_status`: batched `refill_status`.
pub const REFILLS_SYNC: &str = "refills.sync_status";
/// `refills.auto`: detect drops, request refills inside the guarantee.
pub const REFILLS_AUTO: &str = "refills.auto";

/// Which fulfilment function a job runs.
#[derive(Clone, Copy, Debug)]
enum Work {
    Dispatch,
    SyncStatus,
    ServicesSync,
    CheckBalances,
    RefillsDispatch,
    RefillsSync,
    RefillsAuto,
}

/// A fulfilment function as a [`Job`]: its report becomes the run's counters; a failure of the
/// store or of every provider is transient (the next tick tries again).
struct FulfilJob {
    fulfil: Fulfil,
    work: Work,
}

#[async_trait]
impl Job for FulfilJob {
    async fn run(&self, _ctx: JobContext) -> Result<Counters, JobError> {
        let f = &self.fulfil;
        let report = match self.work {
            Work::Dispatch => smmd_fulfil::dispatch::run(f).await,
            Work::SyncStatus => smmd_fulfil::sync::run(f).await,
            Work::ServicesSync => smmd_fulfil::catalog::run(f, None).await,
            Work::CheckBalances => smmd_fulfil::balances::run(f).await,
            Work::RefillsDispatch => smmd_fulfil::refills::dispatch(f).await,
            Work::RefillsSync => smmd_fulfil::refills::sync(f).await,
            Work::RefillsAuto => smmd_fulfil::refills::auto(f).await,
        }
        .map_err(|e| JobError::Transient(e.to_string()))?;
        Ok(report.into_iter().collect())
    }
}

/// What the jobs of this build need.
#[derive(Clone)]
pub struct JobDeps {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    /// The canary's simulated work.
    pub canary_work: std::time::Duration,
    /// Provider clients and fulfilment settings; `None` registers no fulfilment jobs.
    pub fulfil: Option<Fulfil>,
}

/// Registers every job of this build on `engine`.
pub fn register_all(engine: &mut Engine, deps: JobDeps) {
    if let Some(fulfil) = &deps.fulfil {
        for (name, work) in [
            (DISPATCH, Work::Dispatch),
            (SYNC_STATUS, Work::SyncStatus),
            (SERVICES_SYNC, Work::ServicesSync),
            (CHECK_BALANCES, Work::CheckBalances),
            (REFILLS_DISPATCH, Work::RefillsDispatch),
            (REFILLS_SYNC, Work::RefillsSync),
            (REFILLS_AUTO, Work::RefillsAuto),
        ] {
            engine.register(
                name,
                Arc::new(FulfilJob {
                    fulfil: fulfil.clone(),
                    work,
                }),
            );
        }
    }
    engine.register(
        "maintenance.cleanup",
        Arc::new(Cleanup {
            store: deps.store.clone(),
            clock: deps.clock.clone(),
        }),
    );
    engine.register(
        CANARY,
        Arc::new(Canary {
            store: deps.store,
            clock: deps.clock,
            work: deps.canary_work,
        }),
    );
}
