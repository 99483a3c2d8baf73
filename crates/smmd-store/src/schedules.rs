//! Records of the durable scheduler (docs/scheduler.md): schedules with their cursor and
//! policies, and runs with their lease. The decisions (which ticks run, backoff) are made by the
//! caller's pure planner; the store persists them atomically and enforces F1 (one run per
//! schedule and tick) and F2 (one running run per schedule, fenced leases) in the database.

use smmd_domain::schedule::{Misfire, Overlap, RunKind, RunState};

use crate::*;

/// A schedule as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleRecord {
    pub id: i64,
    /// The job name (`orders.sync_status`).
    pub name: String,
    pub expr: String,
    /// IANA zone.
    pub zone: String,
    pub enabled: bool,
    pub misfire: Misfire,
    /// Ticks older than this at claim time are missed (ms).
    pub grace_ms: i64,
    /// `fire_all` catch-up window (ms).
    pub catch_up_ms: i64,
    pub overlap: Overlap,
    pub max_attempts: i64,
    /// First retry delay (ms), doubling.
    pub retry_base_ms: i64,
    /// Per-run timeout (ms).
    pub timeout_ms: i64,
    /// The cursor: next nominal tick not yet accounted for (epoch ms).
    pub next_run_at: Option<i64>,
    /// Bumped on every edit.
    pub version: i64,
    pub updated_at: i64,
    /// When a run last succeeded (epoch ms).
    pub last_success_at: Option<i64>,
}

/// A schedule to create when it does not exist yet (defaults on first start).
#[derive(Clone, Debug)]
pub struct NewSchedule {
    pub name: String,
    pub expr: String,
    pub zone: String,
    /// Whether it starts enabled (an opt-in job like the canary starts disabled).
    pub enabled: bool,
    pub misfire: Misfire,
    pub grace_ms: i64,
    pub catch_up_ms: i64,
    pub overlap: Overlap,
    pub max_attempts: i64,
    pub retry_base_ms: i64,
    pub timeout_ms: i64,
    pub next_run_at: Option<i64>,
    pub now: i64,
}

/// What the planner decided for one due schedule.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TickDecision {
    /// Nominal ticks to create pending runs for.
    pub run: Vec<i64>,
    /// Nominal ticks to record as skipped, with the reason (`misfire`, …).
    pub skipped: Vec<(i64, &'static str)>,
    /// The new cursor (first tick after now).
    pub next_cursor: Option<i64>,
}

/// Decides the ticks of one due schedule at the claim's `now`.
pub type Planner<'a> = &'a (dyn Fn(&ScheduleRecord, i64) -> TickDecision + Send + Sync);

/// What one claim pass wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimStats {
    pub schedules: u64,
    /// Pending runs created.
    pub runs: u64,
    /// Skipped rows written (misfire, overlap, …).
    pub skipped: u64,
    /// Each skipped row written: the schedule's name and the reason (for metrics).
    pub skips: Vec<(String, &'static str)>,
}

/// A run started by this worker: present `token` on heartbeat and finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunLease {
    pub run_id: i64,
    pub schedule_id: i64,
    pub schedule_name: String,
    pub scheduled_for: i64,
    /// 1 for the first attempt.
    pub attempt: i64,
    pub token: i64,
    pub timeout_ms: i64,
    /// The schedule's retry policy at start time.
    pub max_attempts: i64,
    pub retry_base_ms: i64,
    /// `schedule:<id>:<scheduled_for>`: the idempotency key handlers use for their effects.
    pub idempotency_key: String,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunOutcome {
    Succeeded {
        counters: String,
    },
    /// Failed; `retry_at` when another attempt is due (epoch ms).
    Failed {
        error: String,
        retry_at: Option<i64>,
    },
    TimedOut {
        retry_at: Option<i64>,
    },
}

/// A run as shown in history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunRecord {
    pub id: i64,
    pub schedule_id: i64,
    pub scheduled_for: i64,
    pub kind: RunKind,
    pub state: RunState,
    pub reason: Option<String>,
    pub attempt: i64,
    pub lease_owner: Option<String>,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub error: Option<String>,
    pub counters: Option<String>,
}

/// A change to a schedule; `None` fields stay as they are.
#[derive(Clone, Debug, Default)]
pub struct ScheduleEdit {
    pub expr: Option<String>,
    pub zone: Option<String>,
    pub enabled: Option<bool>,
    pub misfire: Option<Misfire>,
    pub overlap: Option<Overlap>,
    pub max_attempts: Option<i64>,
    pub timeout_ms: Option<i64>,
    /// A new cursor, computed by the caller from its calendar (`Some(None)` = no next run).
    pub next_run_at: Option<Option<i64>>,
    /// What the audit row says about the change.
    pub detail: String,
}

/// What "run now" did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TriggerOutcome {
    /// A manual run was queued.
    Queued { run_id: i64 },
    /// The same request key was used before: that run, nothing new.
    Duplicate { run_id: i64 },
    /// The overlap policy refused it (a run is pending or running); recorded as skipped.
    Overlap { run_id: i64 },
}

/// What [`SchedulerStore::bring_forward`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BroughtForward {
    /// The schedule's cursor is now `now` (or just past its last tick): the next claim runs
    /// a tick at once.
    Moved,
    /// Its cursor was already due (`<= now`): the next claim runs it anyway.
    AlreadyDue,
    /// A run of it is pending or running: ask again when that run ends (bringing it forward
    /// now would only record an overlap).
    Busy,
    /// No enabled schedule of that name.
    Unknown,
}

/// One audited change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub id: i64,
    pub schedule_id: Option<i64>,
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub created_at: i64,
}

/// One execution of the canary job (`scheduler.canary`), fenced by its lease token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CanaryEffect {
    pub run_id: i64,
    pub token: i64,
    pub idempotency_key: String,
    pub scheduled_for: i64,
    pub attempt: i64,
    pub instance: String,
    /// When the execution began (epoch ms).
    pub started_at: i64,
    /// When the effect is written (epoch ms).
    pub now: i64,
}

/// Scheduler figures read at one instant, for `/metrics`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SchedulerHealth {
    /// Runs in state `running`.
    pub running: u64,
    /// Running runs whose lease has expired and not yet been reaped.
    pub stuck_leases: u64,
    /// Pending runs already due.
    pub pending_due: u64,
}

/// The scheduler: schedules, exactly-once tick claims, run leases and their outcomes, edits, pause and health.
#[async_trait::async_trait]
pub trait SchedulerStore: Send + Sync {
    /// Creates the schedule if no schedule has its name; returns the stored one either way
    /// (admin edits are never overwritten by defaults).
    async fn ensure_schedule(&self, schedule: NewSchedule) -> StoreResult<ScheduleRecord>;

    async fn schedules(&self) -> StoreResult<Vec<ScheduleRecord>>;

    /// Claims due ticks (F1): locks enabled schedules with `next_run_at <= now` (skipping ones
    /// another instance holds), asks `planner` what to do, writes pending and skipped rows
    /// (unique per schedule and tick) and moves the cursor with a compare-and-swap, all in one
    /// transaction per pass. Overlap (counting runs from before the pass; the catch-up ticks of
    /// one pass all queue): with `skip`, a tick finding a pending or running run is recorded as
    /// `skipped: overlap`; with `buffer_one`, one pending run may wait behind the running one.
    async fn claim_ticks(&self, now: i64, planner: Planner<'_>) -> StoreResult<ClaimStats>;

    /// Starts the oldest pending run that is due and whose schedule has nothing running (F2):
    /// state `running`, attempt + 1, a new fencing token, lease until `now + lease_ms`.
    async fn start_run(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<RunLease>>;

    /// Extends a lease; `false` if the token is stale (the run was reaped or finished).
    async fn heartbeat_run(
        &self,
        run_id: i64,
        token: i64,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<bool>;

    /// Records the outcome; `false` (nothing written) if the token is stale. A retry puts the run
    /// back to `pending` with `not_before = retry_at`.
    async fn finish_run(
        &self,
        run_id: i64,
        token: i64,
        outcome: RunOutcome,
        now: i64,
    ) -> StoreResult<bool>;

    /// Crash recovery (F10): running runs whose lease expired become `abandoned`, or `pending`
    /// again (with the error noted) while attempts remain. Returns how many were reaped.
    async fn reap_expired_runs(&self, now: i64) -> StoreResult<u64>;

    /// Applies an edit and writes its audit row in one transaction; bumps `version`. A run in
    /// flight keeps the configuration it started with. `NotFound` for an unknown name.
    async fn update_schedule(
        &self,
        name: &str,
        edit: ScheduleEdit,
        actor: &str,
        now: i64,
    ) -> StoreResult<ScheduleRecord>;

    /// "Run now" (F11): a manual run at `now` that does not move the cursor and obeys the
    /// overlap policy; the same `request_key` never creates a second run. Audited.
    async fn trigger_run(
        &self,
        name: &str,
        request_key: &str,
        actor: &str,
        now: i64,
    ) -> StoreResult<TriggerOutcome>;

    /// Pauses or resumes all schedules (claims and starts stop; runs in flight finish). Audited.
    async fn set_scheduler_paused(&self, paused: bool, actor: &str, now: i64) -> StoreResult<()>;

    async fn scheduler_paused(&self) -> StoreResult<bool>;

    /// Audited changes, newest first; of one schedule or of all.
    async fn schedule_audit(
        &self,
        schedule_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>>;

    /// Deletes at most `batch` finished runs (not pending/running) created before `before`.
    async fn prune_schedule_runs(&self, before: i64, batch: i64) -> StoreResult<u64>;

    /// The database's clock (epoch ms): due-ness and leases are judged by it (scheduler F14), so
    /// instances with skewed clocks agree.
    async fn db_now_ms(&self) -> StoreResult<i64>;

    /// The earliest moment something may become due (epoch ms): the smallest cursor of an
    /// enabled schedule or `not_before` of a pending run; `None` when nothing is scheduled.
    async fn next_wakeup_ms(&self) -> StoreResult<Option<i64>>;

    /// Moves the cursor of the enabled schedule `name` to `now` when it is later and no run of
    /// it is pending or running, so the next claim runs a tick at once (scheduled for `now`,
    /// an ordinary tick with the same once-per-tick guarantees) and the cursor then returns to
    /// the calendar. When its last tick is at or after `now` (a run that ended within the
    /// millisecond it started), the cursor goes a millisecond past that tick instead: a tick
    /// already run is never claimed again, so the wake-up is a new one. A wake-up ahead of the calendar (an order placed: dispatch it now), not an
    /// audited "run now". Not audited, wakes no feed.
    async fn bring_forward(&self, name: &str, now: i64) -> StoreResult<BroughtForward>;

    /// Graceful shutdown (F9): hands a running run back as `pending`, due at `now`, without
    /// counting the attempt. `false` if the token is stale.
    async fn release_run(&self, run_id: i64, token: i64, now: i64) -> StoreResult<bool>;

    /// The canary job's effect, written only while the run still holds its lease (the fenced
    /// write handlers can copy); `false` (nothing written) when the token is stale.
    async fn record_canary(&self, effect: CanaryEffect) -> StoreResult<bool>;

    /// Deletes at most `batch` canary rows written before `before`.
    async fn prune_canary(&self, before: i64, batch: i64) -> StoreResult<u64>;

    /// Lease and queue figures for metrics (F12), judged at `now`.
    async fn scheduler_health(&self, now: i64) -> StoreResult<SchedulerHealth>;

    /// A schedule's runs, newest first, at most `limit`, before run id `before`.
    async fn schedule_runs(
        &self,
        schedule_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<RunRecord>>;
}
