//! Records of the durable scheduler (docs/scheduler.md): schedules with their cursor and
//! policies, and runs with their lease. The decisions (which ticks run, backoff) are made by the
//! caller's pure planner; the store persists them atomically and enforces F1 (one run per
//! schedule and tick) and F2 (one running run per schedule, fenced leases) in the database.

/// A schedule as stored. Policy names are the snake_case names of `smmd-jobs`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleRecord {
    pub id: i64,
    /// The job name (`orders.sync_status`).
    pub name: String,
    pub expr: String,
    /// IANA zone.
    pub zone: String,
    pub enabled: bool,
    /// `skip` | `fire_once` | `fire_all`.
    pub misfire: String,
    /// Ticks older than this at claim time are missed (ms).
    pub grace_ms: i64,
    /// `fire_all` catch-up window (ms).
    pub catch_up_ms: i64,
    /// `skip` | `buffer_one`.
    pub overlap: String,
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
    pub misfire: String,
    pub grace_ms: i64,
    pub catch_up_ms: i64,
    pub overlap: String,
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
    pub kind: String,
    pub state: String,
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
    pub misfire: Option<String>,
    pub overlap: Option<String>,
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
