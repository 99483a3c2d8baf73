//! Operating the scheduler (CLI and admin API share these functions), on both stores: defaults,
//! validated edits with audit, no catch-up burst on re-enable, a preview that equals what the
//! engine fires across a DST change, and the cleanup job.

use smmd_store_sql::both_stores;

use std::sync::Arc;

use smmd_domain::{Clock, ManualClock};
use smmd_jobs::control::{self, ControlError, JobEdit, DEFAULT_JOBS};
use smmd_jobs::{Engine, EngineConfig};
use smmd_store::{NewSchedule, NewUser, Role, RunOutcome, Store};

const T0: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn engine(store: &Arc<dyn Store>, clock: &ManualClock) -> Engine {
    let clock: Arc<dyn Clock> = Arc::new(clock.clone());
    let mut e = Engine::new(
        store.clone(),
        clock.clone(),
        EngineConfig {
            instance: "test".into(),
            ..EngineConfig::default()
        },
    );
    smmd_jobs::jobs::register_all(
        &mut e,
        smmd_jobs::jobs::JobDeps {
            maintenance: smmd_jobs::jobs::Maintenance::default(),
            store: store.clone(),
            clock,
            canary_work: std::time::Duration::ZERO,
            fulfil: None,
            notify: None,
            rates: Default::default(),
            run_on_demand: false,
        },
    );
    e
}

async fn defaults_are_created_once_and_edits_are_kept(store: Arc<dyn Store>) {
    control::ensure_defaults(store.as_ref(), DEFAULT_JOBS, "Europe/London", T0)
        .await
        .expect("defaults");
    let job = control::show(store.as_ref(), "maintenance.cleanup", T0, 3)
        .await
        .expect("show");
    assert_eq!(
        (job.schedule.expr.as_str(), job.schedule.zone.as_str()),
        ("0 2 * * *", "Europe/London")
    );
    assert_eq!(
        job.schedule.next_run_at,
        Some(T0 + 2 * 3_600_000),
        "02:00 London = 02:00Z in January"
    );
    assert_eq!(
        job.preview,
        vec![T0 + 2 * 3_600_000, T0 + 26 * 3_600_000, T0 + 50 * 3_600_000]
    );
    control::edit(
        store.as_ref(),
        "maintenance.cleanup",
        JobEdit {
            expr: Some("0 4 * * *".into()),
            ..JobEdit::default()
        },
        "admin@x.io",
        T0,
    )
    .await
    .expect("edit");
    control::ensure_defaults(store.as_ref(), DEFAULT_JOBS, "UTC", T0 + 1)
        .await
        .expect("again");
    let job = control::show(store.as_ref(), "maintenance.cleanup", T0, 1)
        .await
        .expect("show");
    assert_eq!(
        job.schedule.expr, "0 4 * * *",
        "a restart never overwrites an admin's edit"
    );
}

async fn invalid_edits_are_refused_and_change_nothing(store: Arc<dyn Store>) {
    control::ensure_defaults(store.as_ref(), DEFAULT_JOBS, "UTC", T0)
        .await
        .expect("defaults");
    let before = control::show(store.as_ref(), "maintenance.cleanup", T0, 1)
        .await
        .expect("show")
        .schedule;
    let bad = [
        JobEdit {
            expr: Some("0 25 * * *".into()),
            ..JobEdit::default()
        },
        JobEdit {
            zone: Some("Nowhere/City".into()),
            ..JobEdit::default()
        },
        JobEdit {
            misfire: Some("often".into()),
            ..JobEdit::default()
        },
        JobEdit {
            overlap: Some("stack".into()),
            ..JobEdit::default()
        },
        JobEdit {
            max_attempts: Some(0),
            ..JobEdit::default()
        },
        JobEdit {
            timeout_ms: Some(10),
            ..JobEdit::default()
        },
    ];
    for e in bad {
        let r = control::edit(
            store.as_ref(),
            "maintenance.cleanup",
            e.clone(),
            "admin",
            T0,
        )
        .await;
        assert!(
            matches!(
                r,
                Err(ControlError::Calendar(_) | ControlError::Invalid { .. })
            ),
            "{e:?} → {r:?}"
        );
    }
    assert!(matches!(
        control::edit(store.as_ref(), "nope", JobEdit::default(), "a", T0).await,
        Err(ControlError::UnknownJob(_))
    ));
    let after = control::show(store.as_ref(), "maintenance.cleanup", T0, 1)
        .await
        .expect("show")
        .schedule;
    assert_eq!(before, after, "nothing written");
    assert!(store
        .schedule_audit(None, 10)
        .await
        .expect("audit")
        .is_empty());
}

async fn an_edit_during_a_run_applies_from_now_and_is_audited(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    store
        .ensure_schedule(NewSchedule {
            enabled: true,
            name: "maintenance.cleanup".into(),
            expr: "*/10 * * * *".into(),
            zone: "UTC".into(),
            misfire: smmd_domain::schedule::Misfire::FireOnce,
            grace_ms: 5_000,
            catch_up_ms: 0,
            overlap: smmd_domain::schedule::Overlap::Skip,
            max_attempts: 1,
            retry_base_ms: 1_000,
            timeout_ms: 60_000,
            next_run_at: Some(T0),
            now: T0,
        })
        .await
        .expect("schedule");
    store
        .claim_ticks(T0, &smmd_jobs::engine::planner)
        .await
        .expect("claim");
    let lease = store
        .start_run("a", T0, 60_000)
        .await
        .expect("start")
        .expect("run in flight");
    clock.set_ms(T0 + 90_000);
    let edited = control::edit(
        store.as_ref(),
        "maintenance.cleanup",
        JobEdit {
            expr: Some("0 * * * *".into()),
            ..JobEdit::default()
        },
        "ops@x.io",
        T0 + 90_000,
    )
    .await
    .expect("edit");
    assert_eq!(
        edited.next_run_at,
        Some(T0 + 3_600_000),
        "recomputed from now with the new expression"
    );
    assert!(
        store
            .finish_run(
                lease.run_id,
                lease.token,
                RunOutcome::Succeeded {
                    counters: "{}".into()
                },
                T0 + 95_000
            )
            .await
            .expect("finish"),
        "the run in flight finishes"
    );
    let audit = store
        .schedule_audit(Some(edited.id), 5)
        .await
        .expect("audit");
    assert_eq!(audit[0].actor, "ops@x.io");
    assert!(
        audit[0].detail.contains("*/10 * * * *") && audit[0].detail.contains("0 * * * *"),
        "{}",
        audit[0].detail
    );
}

async fn re_enabling_does_not_burst_catch_up_runs(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    // Only the job under test: the other defaults would fire on their own ticks.
    let cleanup: Vec<_> = DEFAULT_JOBS
        .iter()
        .filter(|j| j.name == "maintenance.cleanup")
        .cloned()
        .collect();
    control::ensure_defaults(store.as_ref(), &cleanup, "UTC", T0)
        .await
        .expect("defaults");
    control::edit(
        store.as_ref(),
        "maintenance.cleanup",
        JobEdit {
            expr: Some("* * * * *".into()),
            ..JobEdit::default()
        },
        "a",
        T0,
    )
    .await
    .expect("edit");
    control::edit(
        store.as_ref(),
        "maintenance.cleanup",
        JobEdit {
            enabled: Some(false),
            ..JobEdit::default()
        },
        "a",
        T0,
    )
    .await
    .expect("disable");
    clock.set_ms(T0 + 3_600_000);
    let e = engine(&store, &clock);
    assert_eq!(e.tick().await.expect("tick").executed, 0, "disabled");
    control::edit(
        store.as_ref(),
        "maintenance.cleanup",
        JobEdit {
            enabled: Some(true),
            ..JobEdit::default()
        },
        "a",
        T0 + 3_600_000,
    )
    .await
    .expect("enable");
    clock.advance_ms(60_000);
    let report = e.tick().await.expect("tick");
    assert_eq!(
        (report.executed, report.skipped),
        (1, 0),
        "the next regular tick only, not 60 catch-up runs"
    );
}

async fn the_preview_equals_what_the_engine_fires_across_dst(store: Arc<dyn Store>) {
    // 2026-03-29 02:30 London does not exist; 2026-10-25 01:30 exists twice.
    let start = 1_774_652_400_000; // 2026-03-28T00:00:00Z
                                   // Only the schedule under test: the other defaults (every few seconds) would add thousands
                                   // of runs over the three simulated days without telling anything about this one.
    let cleanup: Vec<_> = DEFAULT_JOBS
        .iter()
        .filter(|j| j.name == "maintenance.cleanup")
        .cloned()
        .collect();
    control::ensure_defaults(store.as_ref(), &cleanup, "Europe/London", start)
        .await
        .expect("defaults");
    control::edit(
        store.as_ref(),
        "maintenance.cleanup",
        JobEdit {
            expr: Some("30 1,2 * * *".into()),
            ..JobEdit::default()
        },
        "a",
        start,
    )
    .await
    .expect("edit");
    let preview = control::show(store.as_ref(), "maintenance.cleanup", start, 6)
        .await
        .expect("show")
        .preview;
    let clock = ManualClock::new(start);
    let e = engine(&store, &clock);
    let mut fired = Vec::new();
    while fired.len() < 6 {
        clock.advance_ms(60_000);
        e.tick().await.expect("tick");
        let id = store.schedules().await.expect("list")[0].id;
        fired = store
            .schedule_runs(id, None, 100)
            .await
            .expect("runs")
            .into_iter()
            .filter(|r| r.state == "succeeded")
            .map(|r| r.scheduled_for)
            .collect();
        fired.sort_unstable();
    }
    assert_eq!(fired, preview, "the admin preview is exactly what ran");
}

async fn cleanup_prunes_old_runs_expired_sessions_and_log_in_traces_only(store: Arc<dyn Store>) {
    let u = store
        .create_user(NewUser {
            email: "s@x.io".into(),
            password_hash: "x".into(),
            role: Role::User,
            api_key_hash: None,
            now: T0,
            audit: None,
            referral: None,
        })
        .await
        .expect("user");
    let day = 86_400_000;
    store
        .create_session("old", u.id, "c", T0, T0 + day, false)
        .await
        .expect("session");
    store
        .create_session("live", u.id, "c", T0, T0 + 60 * day, false)
        .await
        .expect("session");
    // Log-in traces: one from the start (past the self-referral check's 30 days at the first
    // tick, day 40), one from day 39 (kept).
    store
        .record_login(u.id, Some("192.0.2.1"), Some("dev-old"), T0)
        .await
        .expect("login");
    store
        .record_login(u.id, Some("198.51.100.1"), Some("dev-new"), T0 + 39 * day)
        .await
        .expect("login");
    // Log-in traces: one from the start (past the self-referral check's 30 days at the first
    // tick, day 40), one from day 39 (kept).
    store
        .record_login(u.id, Some("192.0.2.1"), Some("dev-old"), T0)
        .await
        .expect("login");
    store
        .record_login(u.id, Some("198.51.100.1"), Some("dev-new"), T0 + 39 * day)
        .await
        .expect("login");
    store
        .ensure_schedule(NewSchedule {
            enabled: true,
            name: "maintenance.cleanup".into(),
            expr: "0 2 * * *".into(),
            zone: "UTC".into(),
            misfire: smmd_domain::schedule::Misfire::FireAll,
            grace_ms: 5_000,
            catch_up_ms: 90 * day,
            overlap: smmd_domain::schedule::Overlap::BufferOne,
            max_attempts: 1,
            retry_base_ms: 1_000,
            timeout_ms: 60_000,
            next_run_at: Some(T0 + 2 * 3_600_000),
            now: T0,
        })
        .await
        .expect("schedule");
    let clock = ManualClock::new(T0 + 40 * day + 3 * 3_600_000);
    let e = engine(&store, &clock);
    e.tick().await.expect("tick");
    let id = store.schedules().await.expect("list")[0].id;
    let runs = store.schedule_runs(id, None, 1000).await.expect("runs");
    // 41 daily ticks (days 0–40) caught up in this tick; every run was created now, so none is
    // past retention, while the expired session is.
    assert_eq!(runs.iter().filter(|r| r.state == "succeeded").count(), 41);
    assert!(
        store.session("old", T0).await.expect("read").is_none(),
        "expired session pruned"
    );
    assert!(
        store
            .session("live", T0 + 40 * day)
            .await
            .expect("read")
            .is_some(),
        "live session kept"
    );
    assert_eq!(
        (
            store.login_addresses(u.id, 0).await.expect("a"),
            store.login_devices(u.id, 0).await.expect("d")
        ),
        (
            vec!["198.51.100.1".to_string()],
            vec!["dev-new".to_string()]
        ),
        "log-in traces older than 30 days pruned"
    );
    // 31 days later the old runs go, the new ones stay.
    clock.advance_ms(31 * day);
    e.tick().await.expect("tick");
    let runs = store.schedule_runs(id, None, 1000).await.expect("runs");
    assert!(
        runs.iter().all(|r| r.scheduled_for > T0 + 40 * day),
        "runs older than 30 days pruned: {}",
        runs.len()
    );
    assert!(!runs.is_empty());
}

both_stores!(
    defaults_are_created_once_and_edits_are_kept,
    invalid_edits_are_refused_and_change_nothing,
    an_edit_during_a_run_applies_from_now_and_is_audited,
    re_enabling_does_not_burst_catch_up_runs,
    the_preview_equals_what_the_engine_fires_across_dst,
    cleanup_prunes_old_runs_expired_sessions_and_log_in_traces_only,
);
