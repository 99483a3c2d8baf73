//! The jobs this build has. Each is a plain async function behind [`Job`], registered by name:
//! `orders.dispatch`, `orders.sync_status`, `services.sync`, `providers.check_balances`,
//! `refills.dispatch`, `refills.sync_status` and `refills.auto` (functions of `smmd-fulfil`),
//! `billing.rentals` (hourly billing, [`crate::billing`]), `affiliates.release` (commissions
//! past their hold) and `affiliates.payouts_all` / `affiliates.payouts_returning` (the calendar
//! payout runs, [`crate::affiliates`]), `rates.ecb` (display currencies' exchange rates,
//! [`crate::rates`]), `maintenance.cleanup` (prunes history, archives old orders, database upkeep) and `scheduler.canary`
//! (the opt-in end-to-end check of the scheduler itself).

use std::sync::Arc;

use async_trait::async_trait;
use smmd_domain::affiliate::referral::RECENT_LOGIN_DAYS;
use smmd_domain::clock::DAY_MS;
use smmd_domain::Clock;
use smmd_fulfil::Fulfil;
use smmd_store::{CanaryEffect, Store};

use crate::engine::{Counters, Engine, Job, JobContext, JobError};

/// What `maintenance.cleanup` keeps and moves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Maintenance {
    /// Finished schedule runs and canary rows are kept this long (ms).
    pub run_retention_ms: i64,
    /// Terminal orders whose refill guarantee is over are moved to the archive tables this long
    /// after they ended (ms); 0 = never archive.
    pub archive_after_ms: i64,
    /// Notifications (and their finished deliveries) are kept this long (ms); one with a
    /// delivery still pending stays until it ends.
    pub notification_retention_ms: i64,
    /// Rows per statement: each batch is its own short transaction, so other writers (the
    /// sync, placements) get the database between batches.
    pub batch: i64,
}

impl Default for Maintenance {
    fn default() -> Self {
        Maintenance {
            run_retention_ms: 30 * 86_400_000,
            archive_after_ms: 90 * 86_400_000,
            notification_retention_ms: 90 * 86_400_000,
            batch: 1_000,
        }
    }
}

/// Runs `step` (one batch, returning the rows it handled) until a batch comes back short,
/// yielding between batches. Returns the total.
async fn in_batches<F, Fut>(batch: i64, mut step: F) -> Result<i64, JobError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = smmd_store::StoreResult<u64>>,
{
    let mut total = 0i64;
    loop {
        let n = step()
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        total = total.saturating_add(i64::try_from(n).unwrap_or(i64::MAX));
        if n < u64::try_from(batch).unwrap_or(1) {
            return Ok(total);
        }
        tokio::task::yield_now().await;
    }
}

/// `maintenance.cleanup`: prunes finished schedule runs and canary rows past retention,
/// expired sessions and log-in addresses and devices the self-referral check no longer reads
/// (older than [`RECENT_LOGIN_DAYS`]); archives terminal orders past their guarantee and the archive age (with
/// their refills) into tables every order read still sees; then runs the store's upkeep
/// (`VACUUM (ANALYZE)` on PostgreSQL, `PRAGMA optimize` and an incremental vacuum on SQLite).
/// Every deletion and move goes in batches of [`Maintenance::batch`] rows.
///
/// Counters: `runs_pruned`, `canary_pruned`, `sessions_pruned`, `logins_pruned`, `orders_archived`,
/// `refills_archived`, `upkeep_statements`.
pub struct Cleanup {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub settings: Maintenance,
}

#[async_trait]
impl Job for Cleanup {
    async fn run(&self, _ctx: JobContext) -> Result<Counters, JobError> {
        let now = self.clock.now_ms();
        let (store, m) = (&self.store, self.settings);
        let runs = in_batches(m.batch, || {
            store.prune_schedule_runs(now - m.run_retention_ms, m.batch)
        })
        .await?;
        let canary = in_batches(m.batch, || {
            store.prune_canary(now - m.run_retention_ms, m.batch)
        })
        .await?;
        let sessions = in_batches(m.batch, || store.prune_sessions(now, m.batch)).await?;
        // Reset and confirmation links a day past their expiry: nothing reads them any more
        // (the hourly limit counts the last hour's).
        let tokens = in_batches(m.batch, || {
            store.prune_account_tokens(now - DAY_MS, m.batch)
        })
        .await?;
        let logins_before = now - RECENT_LOGIN_DAYS * DAY_MS;
        let logins =
            in_batches(m.batch, || store.prune_login_traces(logins_before, m.batch)).await?;
        let notifications = in_batches(m.batch, || {
            store.prune_notifications(now - m.notification_retention_ms, m.batch)
        })
        .await?;
        let mut refills = 0u64;
        let orders = if m.archive_after_ms > 0 {
            let refills = &mut refills;
            let mut moved = 0i64;
            loop {
                let a = store
                    .archive_orders(now - m.archive_after_ms, now, m.batch)
                    .await
                    .map_err(|e| JobError::Transient(e.to_string()))?;
                moved += i64::try_from(a.orders).unwrap_or(i64::MAX);
                *refills += a.refills;
                if a.orders < u64::try_from(m.batch).unwrap_or(1) {
                    break moved;
                }
                tokio::task::yield_now().await;
            }
        } else {
            0
        };
        let upkeep = store
            .upkeep()
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        Ok(Counters::from([
            ("runs_pruned".to_string(), runs),
            ("canary_pruned".to_string(), canary),
            ("sessions_pruned".to_string(), sessions),
            ("tokens_pruned".to_string(), tokens),
            ("logins_pruned".to_string(), logins),
            ("notifications_pruned".to_string(), notifications),
            ("orders_archived".to_string(), orders),
            (
                "refills_archived".to_string(),
                i64::try_from(refills).unwrap_or(i64::MAX),
            ),
            ("upkeep_statements".to_string(), upkeep.len() as i64),
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

/// The schedules a panel that runs on demand (`scheduler.run_on_demand`: hosted children)
/// runs when work arrives instead of on a fixed pace: dispatch when an order is placed,
/// notices when a run changed orders, refills when one is requested, and the status and
/// refill sync when the root's feed shows one of the renter's orders (or refills) moved, or
/// a cancel was requested. Their calendar is only the sweep, [`ON_DEMAND_SWEEP`], that
/// catches what no wake-up announced: a retry, a wake lost with its instance, and the
/// progress of an order in flight (`remains` moves without a status event).
pub const ON_DEMAND: &[&str] = &[
    DISPATCH,
    NOTIFICATIONS_DELIVER,
    SYNC_STATUS,
    REFILLS_DISPATCH,
    REFILLS_SYNC,
];

/// The sweep of an [`ON_DEMAND`] schedule on a panel that runs on demand. Idle, a child then
/// runs one job a minute instead of five (each run is several statements on the root's
/// database: with hundreds of children, most of their idle cost).
pub const ON_DEMAND_SWEEP: &str = "@every 5m";

/// `notifications.deliver`: notify finished orders, refills and admin alerts; send e-mails
/// and webhooks from the outbox.
pub const NOTIFICATIONS_DELIVER: &str = "notifications.deliver";

/// [`smmd_notify::run`] as a [`Job`]; a store failure is transient (the cursors and the outbox
/// make the next run carry on where this one stopped).
///
/// A run that found new events held back behind a transaction in flight (the report's
/// [`smmd_notify::HELD_BACK`]: one of this database's transactions open for over the run's
/// 1 s settle) wakes its own schedule, so the next run starts as this one ends instead of at
/// the next tick (10 s by default; a hosted child's sweep is 5 min): the events behind it are
/// notified moments after it ends. At most [`FOLLOW_UPS`] such runs in a row, so a transaction
/// left open for good costs the schedule's pace, not a run every second.
struct DeliverJob {
    notifier: smmd_notify::Notifier,
    wake: crate::Wake,
    follow_ups: FollowUps,
}

#[async_trait]
impl Job for DeliverJob {
    async fn run(&self, _ctx: JobContext) -> Result<Counters, JobError> {
        let report = smmd_notify::run(&self.notifier)
            .await
            .map_err(|e| JobError::Transient(e.to_string()))?;
        let held = report.get(smmd_notify::HELD_BACK).is_some_and(|n| *n > 0);
        if self.follow_ups.after(held) {
            self.wake.wake(NOTIFICATIONS_DELIVER);
        }
        Ok(report.into_iter().collect())
    }
}

/// The most runs of `notifications.deliver` in a row that a held-back run brings forward
/// (each waits up to 1 s for the feed to settle: about a minute of following a transaction).
pub const FOLLOW_UPS: u32 = 60;

/// Counts the runs in a row that found events held back ([`DeliverJob`]).
#[derive(Default)]
struct FollowUps(std::sync::atomic::AtomicU32);

impl FollowUps {
    /// Whether the run that just ended (`held`: it found events held back) asks for the next
    /// one now: yes for the first [`FOLLOW_UPS`] held runs in a row; a run that was not held
    /// starts the count again.
    fn after(&self, held: bool) -> bool {
        use std::sync::atomic::Ordering::Relaxed;
        if !held {
            self.0.store(0, Relaxed);
            return false;
        }
        self.0.fetch_add(1, Relaxed).saturating_add(1) <= FOLLOW_UPS
    }
}

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
    /// Woken with `notifications.deliver` after a run that changed orders.
    notices: Option<crate::Wake>,
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
        // Orders (or refills) that changed have notices to send: send them now.
        if let Some(wake) = &self.notices {
            if report.get("changed").is_some_and(|n| *n > 0) {
                wake.wake(NOTIFICATIONS_DELIVER);
            }
        }
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
    /// `maintenance.cleanup` retention and archive age.
    pub maintenance: Maintenance,
    /// Notifications; `None` registers no `notifications.deliver`.
    pub notify: Option<smmd_notify::Notifier>,
    /// The exchange-rate feed of `rates.ecb` (an empty address: the job does nothing).
    pub rates: crate::rates::RatesSettings,
    /// A fulfilment run that changed orders wakes `notifications.deliver` on the engine
    /// (`scheduler.run_on_demand`), instead of the notices waiting for its next tick.
    pub run_on_demand: bool,
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
                    notices: deps.run_on_demand.then(|| engine.wake()),
                }),
            );
        }
    }
    if let Some(notifier) = deps.notify {
        let job = DeliverJob {
            notifier,
            wake: engine.wake(),
            follow_ups: FollowUps::default(),
        };
        engine.register(NOTIFICATIONS_DELIVER, Arc::new(job));
    }
    engine.register(
        crate::rates::RATES_ECB,
        Arc::new(crate::rates::RatesJob::new(
            deps.store.clone(),
            deps.clock.clone(),
            deps.rates,
        )),
    );
    engine.register(
        crate::billing::BILLING_RENTALS,
        Arc::new(crate::billing::BillRentals {
            store: deps.store.clone(),
            clock: deps.clock.clone(),
        }),
    );
    engine.register(
        crate::affiliates::AFFILIATES_RELEASE,
        Arc::new(crate::affiliates::Release {
            store: deps.store.clone(),
            clock: deps.clock.clone(),
        }),
    );
    for kind in smmd_domain::affiliate::calendar::RunKind::ALL {
        engine.register(
            kind.job(),
            Arc::new(crate::affiliates::PayoutRunJob {
                kind,
                store: deps.store.clone(),
                clock: deps.clock.clone(),
            }),
        );
    }
    engine.register(
        "maintenance.cleanup",
        Arc::new(Cleanup {
            store: deps.store.clone(),
            clock: deps.clock.clone(),
            settings: deps.maintenance,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn held_runs_follow_up_at_most_the_bound_in_a_row_and_a_clear_run_resets() {
        let f = FollowUps::default();
        assert!(!f.after(false), "a run that was not held asks for nothing");
        for n in 1..=FOLLOW_UPS {
            assert!(f.after(true), "held run {n} in a row follows up");
        }
        assert!(
            !f.after(true),
            "past the bound the schedule's pace takes over"
        );
        assert!(!f.after(true));
        assert!(!f.after(false));
        assert!(f.after(true), "after a clear run the count starts again");
    }
}
