//! The engine: one per smmd instance. A pass reaps expired leases (F10), claims due ticks
//! through the store with the pure planner (F1, F6, F7), then starts due runs up to
//! `max_concurrent_runs`, each in its own task under its lease with heartbeats (F2), a timeout
//! and panic capture (F9), finishing with the retry decision (F8).
//!
//! Time: with [`TimeSource::Database`] (what `smmd serve` uses) every pass reads the database
//! clock, and heartbeats use the local clock corrected by the offset measured then, so
//! instances with skewed clocks agree on due-ness and leases (F14). Tests use
//! [`TimeSource::Injected`] with a manual clock and call [`Engine::tick`], which runs everything
//! due to completion. [`Engine::run_until`] sleeps until the next due moment (capped by `poll`,
//! so edits made elsewhere are seen within one poll), and on shutdown starts nothing new, lets
//! runs in flight finish within `shutdown_grace`, and hands the rest back (`release_run`).
//!
//! Wake-ups ([`Wake`], `scheduler.run_on_demand`): a schedule asked to run now is brought
//! forward in the store at the next pass (at once: a wake ends the sleep), so its run is an
//! ordinary claimed tick; a busy one waits for its run to end.
//!
//! Metrics (names in [`metrics_names`]): tick lag and run duration histograms, outcomes, skips
//! by reason and reaped leases as counters.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use rand::Rng;
use smmd_domain::Clock;
use smmd_store::{
    BroughtForward, RunLease, RunOutcome, ScheduleRecord, Store, StoreError, TickDecision,
};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::Instrument;

use smmd_domain::alert::AlertKind;

use crate::calendar::Calendar;
use crate::policy::{plan_ticks, RetryPolicy, TickPolicy};
use crate::wake::Wake;

/// Named counters a job reports (`checked`, `changed`, `refunded`, …).
pub type Counters = BTreeMap<String, i64>;

/// The admin alert kind of a job whose run failed after its last attempt (subject `job:<name>`).
pub const JOB_FAILED: AlertKind = AlertKind::JobFailed;

/// Why a job run failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    /// Worth retrying (a provider timed out, the database was busy).
    #[error("{0}")]
    Transient(String),
    /// Retrying will not help (bad configuration); no further attempts.
    #[error("{0}")]
    Permanent(String),
}

/// What a run knows about itself.
#[derive(Clone, Debug)]
pub struct JobContext {
    /// `schedule:<id>:<scheduled_for>`: the key for the run's effects (billing, payouts).
    pub idempotency_key: String,
    /// The nominal tick, epoch ms.
    pub scheduled_for: i64,
    /// 1 for the first attempt.
    pub attempt: i64,
    /// The run and its fencing token: a handler that must not write once its lease is lost
    /// presents them to the store (see `Store::record_canary`).
    pub run_id: i64,
    pub lease_token: i64,
    /// This instance's name.
    pub instance: String,
    /// When this attempt started (epoch ms, the engine's time source).
    pub started_at: i64,
}

/// A recurring job. Jobs are plain async functions behind this trait, registered by name.
#[async_trait]
pub trait Job: Send + Sync + 'static {
    async fn run(&self, ctx: JobContext) -> Result<Counters, JobError>;
}

/// Where the engine reads "now".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeSource {
    /// The injected clock only (tests drive a manual clock).
    Injected,
    /// The database clock (F14): read at every pass, or, with
    /// [`EngineConfig::lean_passes`], at most once per `poll` (between readings "now" is the
    /// injected clock plus the offset last measured).
    Database,
}

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// This instance's name in leases and history.
    pub instance: String,
    /// Lease length (ms); heartbeats renew it every third of it.
    pub lease_ms: i64,
    /// Longest sleep between passes in `run_until`: edits made by other instances are seen
    /// within it.
    pub poll: Duration,
    /// Runs this instance executes at once (across schedules; one per schedule anyway).
    pub max_concurrent_runs: usize,
    /// Largest retry delay (ms).
    pub max_retry_delay_ms: i64,
    pub time_source: TimeSource,
    /// On shutdown, how long runs in flight may take to finish before they are released.
    pub shutdown_grace: Duration,
    /// Lean passes (hosted child panels, hundreds per process): a pass woken by a run's end
    /// before anything is due only starts pending runs, expired leases are reaped at most
    /// every quarter lease, and the database clock's offset is measured at most once per
    /// `poll`. Off: every pass reaps, claims and reads the database clock.
    pub lean_passes: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            instance: format!("smmd-{}", std::process::id()),
            lease_ms: 30_000,
            poll: Duration::from_millis(1_000),
            max_concurrent_runs: 4,
            max_retry_delay_ms: 3_600_000,
            time_source: TimeSource::Injected,
            shutdown_grace: Duration::from_secs(30),
            lean_passes: false,
        }
    }
}

/// What one [`Engine::tick`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TickReport {
    pub reaped: u64,
    pub claimed_runs: u64,
    pub skipped: u64,
    pub executed: u64,
}

/// Metric names the engine records (Prometheus text at `/metrics`).
pub mod metrics_names {
    /// Histogram {job}: first-attempt start − nominal tick, seconds.
    pub const TICK_LAG: &str = "smmd_job_tick_lag_seconds";
    /// Histogram {job, outcome}: handler wall time, seconds.
    pub const RUN_DURATION: &str = "smmd_job_run_duration_seconds";
    /// Counter {job, outcome}: `succeeded`, `failed`, `retrying`, `timed_out`, `released`,
    /// `lease_lost`.
    pub const RUNS: &str = "smmd_job_runs_total";
    /// Counter {job, reason}: skipped ticks (`misfire`, `overlap`, `invalid_expression`).
    pub const SKIPS: &str = "smmd_job_skips_total";
    /// Counter: expired leases reaped by this instance.
    pub const REAPED: &str = "smmd_scheduler_reaped_leases_total";
}

/// The engine of one instance. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    jobs: HashMap<String, Arc<dyn Job>>,
    /// Database clock − injected clock (ms), measured at the last reading.
    offset_ms: AtomicI64,
    /// When the offset was last measured (injected clock, ms; `i64::MIN`: never).
    offset_read_at: AtomicI64,
    /// Schedules asked to run ahead of their calendar ([`Engine::wake`]).
    wake: Wake,
}

/// The planner the store calls inside its claim transaction: the schedule's calendar and
/// policies through [`plan_ticks`]. A schedule whose stored expression no longer parses gets no
/// runs and no cursor (it stops until an admin fixes it), which the claim records.
pub fn planner(s: &ScheduleRecord, now: i64) -> TickDecision {
    let Some(cursor) = s.next_run_at else {
        return TickDecision::default();
    };
    let Ok(cal) = Calendar::parse(&s.expr, &s.zone) else {
        return TickDecision {
            run: Vec::new(),
            skipped: vec![(cursor, "invalid_expression")],
            next_cursor: None,
        };
    };
    let misfire = s.misfire;
    let plan = plan_ticks(
        &cal,
        cursor,
        now,
        TickPolicy {
            misfire,
            grace_ms: s.grace_ms,
            catch_up_window_ms: s.catch_up_ms,
        },
    );
    TickDecision {
        run: plan.run,
        skipped: plan
            .skipped
            .into_iter()
            .map(|(t, r)| (t, r.as_str()))
            .collect(),
        next_cursor: plan.next_cursor,
    }
}

impl Engine {
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, config: EngineConfig) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                store,
                clock,
                config,
                jobs: HashMap::new(),
                offset_ms: AtomicI64::new(0),
                offset_read_at: AtomicI64::new(i64::MIN),
                wake: Wake::new(),
            }),
        }
    }

    /// Registers the handler of schedule `name`. Call before the engine is cloned or run.
    ///
    /// # Panics
    /// If the engine was already cloned (registration is a start-up step).
    pub fn register(&mut self, name: &str, job: Arc<dyn Job>) {
        Arc::get_mut(&mut self.inner)
            .expect("jobs are registered before the engine is shared")
            .jobs
            .insert(name.to_string(), job);
    }

    /// Uses `wake` for this engine's wake-ups (the handle the panel's use cases were given
    /// before the engine was built). Call before the engine is cloned or run.
    ///
    /// # Panics
    /// If the engine was already cloned.
    pub fn use_wake(&mut self, wake: Wake) {
        Arc::get_mut(&mut self.inner)
            .expect("the wake handle is set before the engine is shared")
            .wake = wake;
    }

    /// The handle that asks this engine to run a schedule ahead of its calendar.
    pub fn wake(&self) -> Wake {
        self.inner.wake.clone()
    }

    /// Brings forward every wanted schedule that is free (see [`Wake`]); a busy one stays
    /// wanted. Returns whether a cursor moved (a claim now has something to do).
    async fn apply_wakes(&self) -> Result<bool, StoreError> {
        let wanted = self.inner.wake.take();
        if wanted.is_empty() {
            return Ok(false);
        }
        // The time the claim that follows reads (the database's, when that is the source): a
        // cursor set from the corrected local clock could sit a millisecond past it.
        let now = match self.pass_now().await {
            Ok(now) => now,
            Err(e) => {
                self.inner.wake.keep(wanted);
                return Err(e);
            }
        };
        let mut busy = Vec::new();
        let mut moved = false;
        let mut wanted = wanted.into_iter();
        while let Some(name) = wanted.next() {
            match self.inner.store.bring_forward(&name, now).await {
                Ok(BroughtForward::Moved | BroughtForward::AlreadyDue) => moved = true,
                Ok(BroughtForward::Busy) => busy.push(name),
                Ok(BroughtForward::Unknown) => {}
                Err(e) => {
                    // Nothing asked for is lost: this one and the rest wait for the next pass.
                    busy.push(name);
                    busy.extend(wanted);
                    self.inner.wake.keep(busy);
                    return Err(e);
                }
            }
        }
        self.inner.wake.keep(busy);
        Ok(moved)
    }

    /// The instance name in leases.
    pub fn instance(&self) -> &str {
        &self.inner.config.instance
    }

    /// One pass that runs everything due to completion: reap, claim, then start and execute
    /// due runs (concurrently up to the limit) until none is left startable. For tests and
    /// `smmd jobs run`; errors are store failures.
    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        self.apply_wakes().await?;
        let (mut report, _) = self.reap_and_claim(true).await?;
        let mut set = JoinSet::new();
        let (_release, released) = watch::channel(false);
        loop {
            report.executed += self.fill(&mut set, &released).await?;
            if set.join_next().await.is_none() {
                break;
            }
        }
        Ok(report)
    }

    /// "Now" by the engine's time source (database time is the injected clock plus the offset
    /// measured at the last pass).
    fn now(&self) -> i64 {
        self.inner.clock.now_ms() + self.inner.offset_ms.load(Ordering::Relaxed)
    }

    /// Reads the time for a pass; with the database source this measures the offset.
    async fn pass_now(&self) -> Result<i64, StoreError> {
        match self.inner.config.time_source {
            TimeSource::Injected => Ok(self.inner.clock.now_ms()),
            TimeSource::Database => {
                let before = self.inner.clock.now_ms();
                let read_at = self.inner.offset_read_at.load(Ordering::Relaxed);
                let poll_ms = i64::try_from(self.inner.config.poll.as_millis()).unwrap_or(1_000);
                if self.inner.config.lean_passes
                    && read_at != i64::MIN
                    && (0..poll_ms).contains(&before.saturating_sub(read_at))
                {
                    return Ok(self.now());
                }
                let db = self.inner.store.db_now_ms().await?;
                let after = self.inner.clock.now_ms();
                self.inner
                    .offset_ms
                    .store(db - (before + after) / 2, Ordering::Relaxed);
                self.inner.offset_read_at.store(after, Ordering::Relaxed);
                Ok(db)
            }
        }
    }

    /// Reaps expired leases (with `reap`) and claims every due tick; returns what it did and
    /// the time it claimed at (engine time, ms).
    async fn reap_and_claim(&self, reap: bool) -> Result<(TickReport, i64), StoreError> {
        let now = self.pass_now().await?;
        let store = &self.inner.store;
        let reaped = match reap {
            true => store.reap_expired_runs(now).await?,
            false => 0,
        };
        if reaped > 0 {
            metrics::counter!(metrics_names::REAPED).increment(reaped);
            tracing::warn!(reaped, "expired leases reaped");
        }
        let mut report = TickReport {
            reaped,
            ..TickReport::default()
        };
        // Claim until no schedule is due (100 per pass); a lost compare-and-swap is retried.
        for _ in 0..100 {
            match store.claim_ticks(now, &planner).await {
                Ok(stats) => {
                    report.claimed_runs += stats.runs;
                    report.skipped += stats.skipped;
                    for (job, reason) in &stats.skips {
                        metrics::counter!(metrics_names::SKIPS, "job" => job.clone(), "reason" => *reason)
                            .increment(1);
                    }
                    if stats.schedules < 100 {
                        break;
                    }
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        Ok((report, now))
    }

    /// Starts due runs while this instance has free slots; each executes in `set`.
    async fn fill(
        &self,
        set: &mut JoinSet<()>,
        release: &watch::Receiver<bool>,
    ) -> Result<u64, StoreError> {
        let mut started = 0;
        while set.len() < self.inner.config.max_concurrent_runs.max(1) && !*release.borrow() {
            let Some(lease) = self
                .inner
                .store
                .start_run(
                    &self.inner.config.instance,
                    self.now(),
                    self.inner.config.lease_ms,
                )
                .await?
            else {
                break;
            };
            started += 1;
            let engine = self.clone();
            let release = release.clone();
            // One span per run: every log line of the job (and of the store and provider calls
            // it makes) carries the job, the run id and the attempt; `outcome` is set at the end.
            let span = tracing::info_span!(
                "job_run",
                job = %lease.schedule_name,
                run_id = lease.run_id,
                attempt = lease.attempt,
                outcome = tracing::field::Empty,
            );
            set.spawn(
                async move {
                    if let Err(e) = engine.execute(lease, release).await {
                        tracing::error!(error = %e, "recording a run failed; its lease will expire");
                    }
                }
                .instrument(span),
            );
        }
        Ok(started)
    }

    /// Runs one leased run to its outcome and records it (fenced by the lease token).
    async fn execute(
        &self,
        lease: RunLease,
        release: watch::Receiver<bool>,
    ) -> Result<(), StoreError> {
        let started_at = self.now();
        let job_name = lease.schedule_name.clone();
        if lease.attempt == 1 {
            metrics::histogram!(metrics_names::TICK_LAG, "job" => job_name.clone())
                .record((started_at - lease.scheduled_for).max(0) as f64 / 1000.0);
        }
        let ctx = JobContext {
            idempotency_key: lease.idempotency_key.clone(),
            scheduled_for: lease.scheduled_for,
            attempt: lease.attempt,
            run_id: lease.run_id,
            lease_token: lease.token,
            instance: self.inner.config.instance.clone(),
            started_at,
        };
        let wall = std::time::Instant::now();
        let result = match self.inner.jobs.get(&lease.schedule_name) {
            None => Err(RunFailure::Job(JobError::Permanent(format!(
                "no handler registered for `{}`",
                lease.schedule_name
            )))),
            Some(job) => {
                self.run_with_heartbeat(job.clone(), ctx, &lease, release)
                    .await
            }
        };
        let elapsed = wall.elapsed().as_secs_f64();
        let now = self.now();
        let policy = RetryPolicy {
            max_attempts: u32::try_from(lease.max_attempts).unwrap_or(1),
            base_delay_ms: lease.retry_base_ms,
            max_delay_ms: self.inner.config.max_retry_delay_ms,
        };
        let retry = |transient: bool| -> Option<i64> {
            let next = u32::try_from(lease.attempt + 1).ok()?;
            transient
                .then(|| policy.delay_ms(next, rand::thread_rng().gen_range(0..=1000)))
                .flatten()
                .map(|d| now + d)
        };
        let outcome = match result {
            Ok(counters) => RunOutcome::Succeeded {
                counters: serde_json::to_string(&counters).unwrap_or_default(),
            },
            Err(RunFailure::TimedOut) => RunOutcome::TimedOut {
                retry_at: retry(true),
            },
            Err(RunFailure::Job(e @ JobError::Transient(_))) => RunOutcome::Failed {
                error: e.to_string(),
                retry_at: retry(true),
            },
            Err(RunFailure::Job(e @ JobError::Permanent(_))) => RunOutcome::Failed {
                error: e.to_string(),
                retry_at: None,
            },
            Err(RunFailure::Panicked(msg)) => RunOutcome::Failed {
                error: format!("panicked: {msg}"),
                retry_at: retry(true),
            },
            Err(RunFailure::Released) => {
                let released = self
                    .inner
                    .store
                    .release_run(lease.run_id, lease.token, now)
                    .await?;
                metrics::counter!(metrics_names::RUNS, "job" => job_name, "outcome" => "released")
                    .increment(1);
                tracing::Span::current().record("outcome", "released");
                tracing::info!(run = lease.run_id, released, "run handed back at shutdown");
                return Ok(());
            }
        };
        let label = match &outcome {
            RunOutcome::Succeeded { .. } => "succeeded",
            RunOutcome::TimedOut { .. } => "timed_out",
            RunOutcome::Failed {
                retry_at: Some(_), ..
            } => "retrying",
            RunOutcome::Failed { .. } => "failed",
        };
        tracing::Span::current().record("outcome", label);
        tracing::info!(?outcome, "job run finished");
        let alert = match &outcome {
            RunOutcome::Failed {
                error,
                retry_at: None,
            } => Some(format!(
                "{} failed after {} attempt(s): {error}",
                lease.schedule_name, lease.attempt
            )),
            RunOutcome::TimedOut { retry_at: None } => Some(format!(
                "{} timed out after {} attempt(s)",
                lease.schedule_name, lease.attempt
            )),
            _ => None,
        };
        let succeeded = matches!(outcome, RunOutcome::Succeeded { .. });
        let recorded = self
            .inner
            .store
            .finish_run(lease.run_id, lease.token, outcome, now)
            .await?;
        let label = if recorded { label } else { "lease_lost" };
        tracing::Span::current().record("outcome", label);
        if !recorded {
            tracing::warn!(
                run = lease.run_id,
                "lease lost before completion; the outcome was not recorded"
            );
        }
        metrics::histogram!(metrics_names::RUN_DURATION, "job" => job_name.clone(), "outcome" => label)
            .record(elapsed);
        metrics::counter!(metrics_names::RUNS, "job" => job_name, "outcome" => label).increment(1);
        if recorded {
            self.job_alert(&lease.schedule_name, alert, succeeded, now)
                .await?;
        }
        Ok(())
    }

    /// Opens the admin alert `job_failed` for a job whose run failed for good (keeping the
    /// first failure's message while it stays open), and resolves it when a later run succeeds.
    async fn job_alert(
        &self,
        job: &str,
        failure: Option<String>,
        succeeded: bool,
        now: i64,
    ) -> Result<(), StoreError> {
        if failure.is_none() && !succeeded {
            return Ok(());
        }
        let subject = smmd_domain::alert::job_subject(job);
        let store = &self.inner.store;
        // A read first: a job failing every tick refreshes nothing, and a success with nothing
        // open writes nothing.
        let open = store
            .open_alerts()
            .await?
            .iter()
            .any(|a| a.kind == JOB_FAILED.as_str() && a.subject == subject);
        match failure {
            Some(message) if !open => {
                store
                    .raise_alert(JOB_FAILED, &subject, &message, now)
                    .await?;
            }
            None if open => store.resolve_alert(JOB_FAILED, &subject, now).await?,
            _ => {}
        }
        Ok(())
    }

    /// Runs the job in its own task (a panic cannot take the engine down) under the schedule's
    /// timeout, renewing the lease every third of its length; gives up the run when `release`
    /// turns true (shutdown grace over).
    async fn run_with_heartbeat(
        &self,
        job: Arc<dyn Job>,
        ctx: JobContext,
        lease: &RunLease,
        mut release: watch::Receiver<bool>,
    ) -> Result<Counters, RunFailure> {
        let task = tokio::spawn(
            async move {
                std::panic::AssertUnwindSafe(job.run(ctx))
                    .catch_unwind()
                    .await
            }
            .instrument(tracing::Span::current()),
        );
        // Aborts the job if this future is dropped, too.
        let _abort = AbortOnDrop(task.abort_handle());
        let timeout = tokio::time::sleep(Duration::from_millis(
            u64::try_from(lease.timeout_ms).unwrap_or(60_000),
        ));
        tokio::pin!(timeout);
        tokio::pin!(task);
        let lease_ms = self.inner.config.lease_ms;
        let beat = Duration::from_millis(u64::try_from(lease_ms / 3).unwrap_or(10_000).max(1));
        let mut heartbeat = tokio::time::interval(beat);
        heartbeat.tick().await;
        loop {
            tokio::select! {
                joined = &mut task => {
                    return match joined {
                        Ok(Ok(result)) => result.map_err(RunFailure::Job),
                        Ok(Err(panic)) => Err(RunFailure::Panicked(panic_message(&panic))),
                        Err(e) => Err(RunFailure::Panicked(e.to_string())),
                    };
                }
                () = &mut timeout => return Err(RunFailure::TimedOut),
                Ok(()) = release.changed() => {
                    if *release.borrow() {
                        return Err(RunFailure::Released);
                    }
                }
                _ = heartbeat.tick() => {
                    let ok = self.inner.store.heartbeat_run(lease.run_id, lease.token, self.now(), lease_ms).await;
                    if !matches!(ok, Ok(true)) {
                        tracing::warn!(run = lease.run_id, "heartbeat refused; another instance owns the run now");
                    }
                }
            }
        }
    }

    /// Passes until `shutdown` completes, sleeping until the next due moment (at most `poll`).
    /// Then no new run starts; runs in flight get `shutdown_grace` to finish and are released
    /// (back to pending, attempt not counted) after it.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let (release_tx, release) = watch::channel(false);
        let mut set = JoinSet::new();
        let poll_ms = i64::try_from(self.inner.config.poll.as_millis()).unwrap_or(1_000);
        let mut st = PassState {
            last_reap: i64::MIN,
            next_due: None,
            after_run: false,
        };
        loop {
            let wake_in = match self.pass(&mut set, &release, &mut st).await {
                Ok(wake_in) => wake_in,
                Err(e) => {
                    tracing::error!(error = %e, "scheduler pass failed");
                    poll_ms
                }
            };
            let sleep = tokio::time::sleep(Duration::from_millis(
                u64::try_from(wake_in.clamp(1, poll_ms)).unwrap_or(1),
            ));
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(_) = set.join_next(), if !set.is_empty() => st.after_run = true,
                () = self.inner.wake.notified() => st.after_run = false,
                () = sleep => st.after_run = false,
            }
        }
        tracing::info!(
            in_flight = set.len(),
            "scheduler stopping: no new runs; waiting for runs in flight"
        );
        let drained = tokio::time::timeout(self.inner.config.shutdown_grace, async {
            while set.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            let _ = release_tx.send(true);
            while set.join_next().await.is_some() {}
        }
    }

    /// One pass of `run_until`; returns how long to sleep (ms) before the next.
    ///
    /// With [`EngineConfig::lean_passes`], a pass woken by a run's end, before the next due
    /// tick the last pass saw, only starts pending runs (the slot it freed): claiming would
    /// find nothing due; and expired leases are reaped at most every quarter lease (F10: an
    /// abandoned run is retried; a few seconds more before it is noticed change nothing).
    /// Hundreds of hosted children's engines pass after every run, so each statement saved
    /// there counts.
    async fn pass(
        &self,
        set: &mut JoinSet<()>,
        release: &watch::Receiver<bool>,
        st: &mut PassState,
    ) -> Result<i64, StoreError> {
        let woke = self.apply_wakes().await?;
        let before = self.now();
        let lean = self.inner.config.lean_passes;
        let nothing_due =
            lean && !woke && st.after_run && st.next_due.is_none_or(|due| before < due);
        // The moment this pass knows nothing later was due at: the claim's time, or the
        // pass's start when it skipped the claim.
        let mut claimed_at = before;
        if !nothing_due {
            let reap =
                !lean || before.saturating_sub(st.last_reap) >= self.inner.config.lease_ms / 4;
            if reap {
                st.last_reap = before;
            }
            claimed_at = self.reap_and_claim(reap).await?.1;
        }
        self.fill(set, release).await?;
        let now = self.now();
        let poll_ms = i64::try_from(self.inner.config.poll.as_millis()).unwrap_or(1_000);
        let next = self.inner.store.next_wakeup_ms().await?;
        st.next_due = next;
        Ok(match next {
            // It fell due after the claim (a pass that woke a hair early, or whose claim and
            // starts took a while under load): claim it now. Waiting even a second there was
            // most of the children's lateness p99.
            Some(at) if at <= now && at > claimed_at => 1,
            // Something is due but could not start (its schedule is busy, all slots are
            // taken, or the scheduler is paused): look again after a quarter poll, at most a
            // second (a child's poll is a minute).
            Some(at) if at <= now => (poll_ms / 4).min(DUE_RETRY_MS),
            // +1 ms: wake just after the tick, not a hair before it.
            Some(at) => at - now + 1,
            None => poll_ms,
        })
    }
}

/// The longest a pass that saw something due but not started waits before the next (ms).
const DUE_RETRY_MS: i64 = 1_000;

/// What `run_until` remembers between passes.
struct PassState {
    /// When expired leases were last reaped (engine time, ms).
    last_reap: i64,
    /// The earliest due moment the last pass read (`None`: nothing scheduled).
    next_due: Option<i64>,
    /// This pass was woken by a run's end, not by the timer.
    after_run: bool,
}

struct AbortOnDrop(tokio::task::AbortHandle);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

enum RunFailure {
    Job(JobError),
    TimedOut,
    Panicked(String),
    Released,
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
