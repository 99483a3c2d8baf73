//! The engine: one per smmd instance. [`Engine::tick`] does one pass — reap expired leases
//! (F10), claim due ticks through the store with the pure planner (F1, F6, F7), then start and
//! execute the due runs this instance can handle, each under its lease with heartbeats (F2), a
//! timeout and panic capture (F9), finishing with the retry decision (F8). Tests call `tick`
//! with a manual clock; [`Engine::run_until`] polls it until shutdown.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::FutureExt;
use rand::Rng;
use smmd_domain::Clock;
use smmd_store::{RunLease, RunOutcome, ScheduleRecord, Store, StoreError, TickDecision};

use crate::calendar::Calendar;
use crate::policy::{plan_ticks, Misfire, RetryPolicy, TickPolicy};

/// Named counters a job reports (`checked`, `changed`, `refunded`, …).
pub type Counters = BTreeMap<String, i64>;

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
}

/// A recurring job. Jobs are plain async functions behind this trait, registered by name.
#[async_trait]
pub trait Job: Send + Sync + 'static {
    async fn run(&self, ctx: JobContext) -> Result<Counters, JobError>;
}

/// Engine settings.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// This instance's name in leases and history.
    pub instance: String,
    /// Lease length (ms); heartbeats renew it every third of it.
    pub lease_ms: i64,
    /// How often `run_until` ticks.
    pub poll: Duration,
    /// Largest retry delay (ms).
    pub max_retry_delay_ms: i64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            instance: format!("smmd-{}", std::process::id()),
            lease_ms: 30_000,
            poll: Duration::from_millis(200),
            max_retry_delay_ms: 3_600_000,
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

pub struct Engine {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    config: EngineConfig,
    jobs: HashMap<String, Arc<dyn Job>>,
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
    let misfire = Misfire::parse(&s.misfire).unwrap_or(Misfire::FireOnce);
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
            store,
            clock,
            config,
            jobs: HashMap::new(),
        }
    }

    /// Registers the handler of schedule `name`.
    pub fn register(&mut self, name: &str, job: Arc<dyn Job>) {
        self.jobs.insert(name.to_string(), job);
    }

    /// One pass: reap, claim, execute everything due now. Errors are store failures.
    pub async fn tick(&self) -> Result<TickReport, StoreError> {
        let now = self.clock.now_ms();
        let mut report = TickReport {
            reaped: self.store.reap_expired_runs(now).await?,
            ..TickReport::default()
        };
        // Claim until no schedule is due (100 per pass); a lost compare-and-swap is retried.
        for _ in 0..100 {
            match self.store.claim_ticks(now, &planner).await {
                Ok(stats) => {
                    report.claimed_runs += stats.runs;
                    report.skipped += stats.skipped;
                    if stats.schedules < 100 {
                        break;
                    }
                }
                Err(StoreError::Conflict(_)) => continue,
                Err(e) => return Err(e),
            }
        }
        while let Some(lease) = self
            .store
            .start_run(
                &self.config.instance,
                self.clock.now_ms(),
                self.config.lease_ms,
            )
            .await?
        {
            self.execute(lease).await?;
            report.executed += 1;
        }
        Ok(report)
    }

    /// Runs one leased run to its outcome and records it (fenced by the lease token).
    async fn execute(&self, lease: RunLease) -> Result<(), StoreError> {
        let ctx = JobContext {
            idempotency_key: lease.idempotency_key.clone(),
            scheduled_for: lease.scheduled_for,
            attempt: lease.attempt,
        };
        let result = match self.jobs.get(&lease.schedule_name) {
            None => Err(RunFailure::Job(JobError::Permanent(format!(
                "no handler registered for `{}`",
                lease.schedule_name
            )))),
            Some(job) => self.run_with_heartbeat(job.clone(), ctx, &lease).await,
        };
        let now = self.clock.now_ms();
        let policy = RetryPolicy {
            max_attempts: u32::try_from(lease.max_attempts).unwrap_or(1),
            base_delay_ms: lease.retry_base_ms,
            max_delay_ms: self.config.max_retry_delay_ms,
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
        };
        tracing::info!(job = %lease.schedule_name, run = lease.run_id, attempt = lease.attempt, ?outcome, "job run finished");
        if !self
            .store
            .finish_run(lease.run_id, lease.token, outcome, now)
            .await?
        {
            tracing::warn!(
                run = lease.run_id,
                "lease lost before completion; the outcome was not recorded"
            );
        }
        Ok(())
    }

    /// Runs the job in its own task (a panic cannot take the engine down) under the schedule's
    /// timeout, renewing the lease every third of its length.
    async fn run_with_heartbeat(
        &self,
        job: Arc<dyn Job>,
        ctx: JobContext,
        lease: &RunLease,
    ) -> Result<Counters, RunFailure> {
        let task = tokio::spawn(async move {
            std::panic::AssertUnwindSafe(job.run(ctx))
                .catch_unwind()
                .await
        });
        let timeout = tokio::time::sleep(Duration::from_millis(
            u64::try_from(lease.timeout_ms).unwrap_or(60_000),
        ));
        tokio::pin!(timeout);
        tokio::pin!(task);
        let beat = Duration::from_millis(
            u64::try_from(self.config.lease_ms / 3)
                .unwrap_or(10_000)
                .max(1),
        );
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
                () = &mut timeout => {
                    task.abort();
                    return Err(RunFailure::TimedOut);
                }
                _ = heartbeat.tick() => {
                    let ok = self.store.heartbeat_run(lease.run_id, lease.token, self.clock.now_ms(), self.config.lease_ms).await;
                    if !matches!(ok, Ok(true)) {
                        tracing::warn!(run = lease.run_id, "heartbeat refused; another instance owns the run now");
                    }
                }
            }
        }
    }

    /// Ticks every `config.poll` until `shutdown` completes; the run in flight finishes first.
    pub async fn run_until(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        loop {
            if let Err(e) = self.tick().await {
                tracing::error!(error = %e, "scheduler tick failed");
            }
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(self.config.poll) => {}
            }
        }
    }
}

enum RunFailure {
    Job(JobError),
    TimedOut,
    Panicked(String),
}

fn panic_message(p: &Box<dyn std::any::Any + Send>) -> String {
    p.downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
