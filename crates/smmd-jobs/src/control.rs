//! Operating the scheduler — shared by the CLI and the admin API so both have the same powers
//! (F11, F12): the default schedules, views with last run and next-run preview (computed by the
//! engine's calendar), validated edits that recompute the cursor from now, enable/disable
//! without catch-up bursts, "run now", pause and resume. Every change is audited with its actor.

use smmd_store::{
    NewSchedule, RunRecord, ScheduleEdit, ScheduleRecord, Store, StoreError, TriggerOutcome,
};

use crate::calendar::{Calendar, CalendarError};
use crate::policy::{Misfire, Overlap};

/// Why a control operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("no job named `{0}`")]
    UnknownJob(String),
    #[error(transparent)]
    Calendar(#[from] CalendarError),
    #[error("invalid {field}: {message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for ControlError {
    fn from(e: StoreError) -> Self {
        ControlError::Store(e)
    }
}

/// The default schedule of a job: its expression and policies (architecture §5, scheduler F6).
#[derive(Clone, Debug)]
pub struct JobDefaults {
    pub name: &'static str,
    pub expr: &'static str,
    /// `None` = the panel's zone.
    pub zone: Option<&'static str>,
    pub misfire: Misfire,
    pub catch_up_ms: i64,
    pub max_attempts: i64,
    pub timeout_ms: i64,
    /// Opt-in jobs (the canary) are created disabled.
    pub enabled: bool,
}

/// Defaults of the jobs this build has. Later jobs add their line here.
pub const DEFAULT_JOBS: &[JobDefaults] = &[
    JobDefaults {
        name: "maintenance.cleanup",
        expr: "0 2 * * *",
        zone: None,
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 3,
        timeout_ms: 600_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::jobs::DISPATCH,
        expr: "@every 5s",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 1,
        timeout_ms: 300_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::jobs::SYNC_STATUS,
        expr: "@every 30s",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 1,
        timeout_ms: 600_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::jobs::SERVICES_SYNC,
        expr: "0 3 * * *",
        zone: None,
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 3,
        timeout_ms: 600_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::jobs::CHECK_BALANCES,
        expr: "0 * * * *",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 2,
        timeout_ms: 120_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::jobs::REFILLS_DISPATCH,
        expr: "@every 1m",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 1,
        timeout_ms: 300_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::jobs::REFILLS_SYNC,
        expr: "@every 5m",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 1,
        timeout_ms: 600_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::jobs::REFILLS_AUTO,
        expr: "0 */6 * * *",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 2,
        timeout_ms: 1_800_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::billing::BILLING_RENTALS,
        expr: "0 * * * *",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 2,
        timeout_ms: 1_800_000,
        enabled: true,
    },
    // The ECB publishes around 16:00 CET on working days; a missed day is fetched once.
    JobDefaults {
        name: crate::rates::RATES_ECB,
        expr: "30 16 * * 1-5",
        zone: Some("Europe/Berlin"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 3,
        timeout_ms: 120_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::affiliates::AFFILIATES_RELEASE,
        expr: "0 1 * * *",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 3,
        timeout_ms: 1_800_000,
        enabled: true,
    },
    // The payout runs (docs/affiliates.md): UTC, the newest missed tick once; the job itself
    // skips a run more than three days late.
    JobDefaults {
        name: "affiliates.payouts_all",
        expr: "0 2 * * MON#1",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: crate::affiliates::CATCH_UP_MS,
        max_attempts: 3,
        timeout_ms: 3_600_000,
        enabled: true,
    },
    JobDefaults {
        name: "affiliates.payouts_returning",
        expr: "0 2 16-22 * MON",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: crate::affiliates::CATCH_UP_MS,
        max_attempts: 3,
        timeout_ms: 3_600_000,
        enabled: true,
    },
    JobDefaults {
        name: crate::jobs::NOTIFICATIONS_DELIVER,
        expr: "@every 10s",
        zone: Some("UTC"),
        misfire: Misfire::FireOnce,
        catch_up_ms: 0,
        max_attempts: 1,
        timeout_ms: 300_000,
        enabled: true,
    },
    // The canary: enable it (any expression) to watch the scheduler end to end; each run
    // appends one fenced row to `scheduler_canary`. The multi-instance tests drive it every
    // second.
    JobDefaults {
        name: crate::jobs::CANARY,
        expr: "* * * * *",
        zone: Some("UTC"),
        misfire: Misfire::Skip,
        catch_up_ms: 0,
        max_attempts: 3,
        timeout_ms: 60_000,
        enabled: false,
    },
];

/// Creates the schedules of `jobs` that do not exist yet (never touching edited ones).
pub async fn ensure_defaults(
    store: &dyn Store,
    jobs: &[JobDefaults],
    panel_zone: &str,
    now: i64,
) -> Result<(), ControlError> {
    for j in jobs {
        let zone = j.zone.unwrap_or(panel_zone);
        let cal = Calendar::parse(j.expr, zone)?;
        store
            .ensure_schedule(NewSchedule {
                name: j.name.to_string(),
                expr: j.expr.to_string(),
                zone: zone.to_string(),
                enabled: j.enabled,
                misfire: j.misfire,
                grace_ms: 5_000,
                catch_up_ms: j.catch_up_ms,
                overlap: Overlap::Skip,
                max_attempts: j.max_attempts,
                retry_base_ms: 10_000,
                timeout_ms: j.timeout_ms,
                next_run_at: cal.next_after(now),
                now,
            })
            .await?;
    }
    Ok(())
}

/// A job as the admin sees it.
#[derive(Clone, Debug)]
pub struct JobView {
    pub schedule: ScheduleRecord,
    pub paused: bool,
    pub last_run: Option<RunRecord>,
    /// The next fire times (epoch ms) from now, by the same calendar the engine uses.
    pub preview: Vec<i64>,
    /// `false` when an enabled job has had no success for twice its interval (F12).
    pub healthy: bool,
}

/// The health rule of F12 ("no success within 2× its interval"): an enabled job of a running
/// scheduler is unhealthy once two of its fire times have passed since its last success (or
/// its last edit, for a new or changed job) without another success. Counting fire times
/// rather than multiplying one interval keeps irregular calendars (`*/30 9-17 * * *`) from
/// alarming overnight. Disabled or paused jobs, and expressions that no longer parse (shown
/// elsewhere), count as healthy.
pub fn healthy(s: &ScheduleRecord, paused: bool, now: i64) -> bool {
    if !s.enabled || paused {
        return true;
    }
    let Ok(cal) = Calendar::parse(&s.expr, &s.zone) else {
        return true;
    };
    let since = s.last_success_at.unwrap_or(s.updated_at).max(s.updated_at);
    match cal
        .next_after(since)
        .and_then(|first| cal.next_after(first))
    {
        Some(second) => second > now,
        None => true,
    }
}

async fn find(store: &dyn Store, name: &str) -> Result<ScheduleRecord, ControlError> {
    store
        .schedules()
        .await?
        .into_iter()
        .find(|s| s.name == name)
        .ok_or_else(|| ControlError::UnknownJob(name.to_string()))
}

async fn view(
    store: &dyn Store,
    s: ScheduleRecord,
    paused: bool,
    now: i64,
    preview: usize,
) -> Result<JobView, ControlError> {
    let last_run = store
        .schedule_runs(s.id, None, 20)
        .await?
        .into_iter()
        .find(|r| r.state != "skipped");
    let preview = match (s.enabled, Calendar::parse(&s.expr, &s.zone)) {
        (true, Ok(cal)) => cal.preview(now, preview),
        _ => Vec::new(),
    };
    Ok(JobView {
        healthy: healthy(&s, paused, now),
        schedule: s,
        paused,
        last_run,
        preview,
    })
}

/// Every job with its last run and next fire time.
pub async fn list(store: &dyn Store, now: i64) -> Result<Vec<JobView>, ControlError> {
    let paused = store.scheduler_paused().await?;
    let mut out = Vec::new();
    for s in store.schedules().await? {
        out.push(view(store, s, paused, now, 1).await?);
    }
    Ok(out)
}

/// One job with a preview of its next `preview` fire times.
pub async fn show(
    store: &dyn Store,
    name: &str,
    now: i64,
    preview: usize,
) -> Result<JobView, ControlError> {
    let s = find(store, name).await?;
    let paused = store.scheduler_paused().await?;
    view(store, s, paused, now, preview).await
}

/// A validated edit of expression, zone and policies. A new expression or zone moves the
/// cursor to its next fire after `now`; a run in flight finishes with the old configuration.
#[derive(Clone, Debug, Default)]
pub struct JobEdit {
    pub expr: Option<String>,
    pub zone: Option<String>,
    pub enabled: Option<bool>,
    pub misfire: Option<String>,
    pub overlap: Option<String>,
    pub max_attempts: Option<i64>,
    pub timeout_ms: Option<i64>,
}

pub async fn edit(
    store: &dyn Store,
    name: &str,
    e: JobEdit,
    actor: &str,
    now: i64,
) -> Result<ScheduleRecord, ControlError> {
    let cur = find(store, name).await?;
    // Policy names come as text from the API and the CLI: parsed here, typed below.
    let misfire = e
        .misfire
        .as_deref()
        .map(|m| {
            Misfire::parse(m).ok_or(ControlError::Invalid {
                field: "misfire",
                message: "use skip, fire_once or fire_all".into(),
            })
        })
        .transpose()?;
    let overlap = e
        .overlap
        .as_deref()
        .map(|o| {
            Overlap::parse(o).ok_or(ControlError::Invalid {
                field: "overlap",
                message: "use skip or buffer_one".into(),
            })
        })
        .transpose()?;
    if e.max_attempts.is_some_and(|n| !(1..=100).contains(&n)) {
        return Err(ControlError::Invalid {
            field: "max_attempts",
            message: "between 1 and 100".into(),
        });
    }
    if e.timeout_ms
        .is_some_and(|t| !(1_000..=86_400_000).contains(&t))
    {
        return Err(ControlError::Invalid {
            field: "timeout_ms",
            message: "between 1 s and 24 h".into(),
        });
    }
    let expr = e.expr.clone().unwrap_or_else(|| cur.expr.clone());
    let zone = e.zone.clone().unwrap_or_else(|| cur.zone.clone());
    let cal = Calendar::parse(&expr, &zone)?;
    let calendar_changed = cal.expr() != cur.expr || zone != cur.zone;
    let re_enabled = e.enabled == Some(true) && !cur.enabled;
    // Recompute from now on a new calendar, or when re-enabling (no burst of catch-up runs).
    let next_run_at = (calendar_changed || re_enabled).then(|| cal.next_after(now));
    let mut detail = Vec::new();
    if calendar_changed {
        detail.push(format!(
            "calendar `{}` {} -> `{}` {}",
            cur.expr,
            cur.zone,
            cal.expr(),
            zone
        ));
    }
    if let Some(en) = e.enabled.filter(|en| *en != cur.enabled) {
        detail.push(if en {
            "enabled".to_string()
        } else {
            "disabled".to_string()
        });
    }
    for (field, value) in [("misfire", &e.misfire), ("overlap", &e.overlap)] {
        if let Some(v) = value {
            detail.push(format!("{field} = {v}"));
        }
    }
    if let Some(n) = e.max_attempts {
        detail.push(format!("max_attempts = {n}"));
    }
    if let Some(t) = e.timeout_ms {
        detail.push(format!("timeout_ms = {t}"));
    }
    let edit = ScheduleEdit {
        expr: Some(cal.expr().to_string()),
        zone: Some(zone),
        enabled: e.enabled,
        misfire,
        overlap,
        max_attempts: e.max_attempts,
        timeout_ms: e.timeout_ms,
        next_run_at,
        detail: if detail.is_empty() {
            "no change".into()
        } else {
            detail.join("; ")
        },
    };
    Ok(store.update_schedule(name, edit, actor, now).await?)
}

/// "Run now": one manual run per `request_key`.
pub async fn run_now(
    store: &dyn Store,
    name: &str,
    request_key: &str,
    actor: &str,
    now: i64,
) -> Result<TriggerOutcome, ControlError> {
    store
        .trigger_run(name, request_key, actor, now)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => ControlError::UnknownJob(name.to_string()),
            e => ControlError::Store(e),
        })
}

/// Pauses or resumes every job.
pub async fn set_paused(
    store: &dyn Store,
    paused: bool,
    actor: &str,
    now: i64,
) -> Result<(), ControlError> {
    Ok(store.set_scheduler_paused(paused, actor, now).await?)
}
