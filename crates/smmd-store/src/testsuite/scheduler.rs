//! Conformance cases — The scheduler: one run per tick under contention, fenced leases, misfires and overlap, retries, edits, run now, pause, release, the canary, health.

use std::sync::Arc;

use smmd_domain::schedule::{Misfire, Overlap};

use crate::*;

use super::*;

fn new_schedule(name: &str, overlap: Overlap, max_attempts: i64, first: i64) -> NewSchedule {
    NewSchedule {
        enabled: true,
        name: name.to_string(),
        expr: "* * * * * *".into(),
        zone: "UTC".into(),
        misfire: Misfire::FireAll,
        grace_ms: 5_000,
        catch_up_ms: 3_600_000,
        overlap,
        max_attempts,
        retry_base_ms: 1_000,
        timeout_ms: 60_000,
        next_run_at: Some(first),
        now: first,
    }
}

/// A 1-second calendar written out here: every due tick runs.
fn every_second(s: &ScheduleRecord, now: i64) -> TickDecision {
    let mut run = Vec::new();
    let mut t = s.next_run_at.unwrap_or(now);
    while t <= now {
        run.push(t);
        t += 1_000;
    }
    TickDecision {
        run,
        skipped: Vec::new(),
        next_cursor: Some(t),
    }
}

async fn schedule_named(store: &Arc<dyn Store>, name: &str) -> ScheduleRecord {
    store
        .schedules()
        .await
        .expect("schedules")
        .into_iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("schedule {name}"))
}

async fn runs_of(store: &Arc<dyn Store>, id: i64) -> Vec<RunRecord> {
    let mut runs = store.schedule_runs(id, None, 10_000).await.expect("runs");
    runs.reverse();
    runs
}

/// F1 + F2 under contention: 6 claimers race on every tick of a 1 s schedule for 150 ticks while
/// 3 workers start and finish runs; every tick gets exactly one run row and one side effect.
pub async fn concurrent_claimers_create_exactly_one_run_per_tick(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("race", Overlap::BufferOne, 1, NOW))
        .await
        .expect("schedule");
    let effects = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
        String,
        u32,
    >::new()));
    let ticks = 150;
    for i in 0..ticks {
        let now = NOW + i * 1_000;
        let claimers: Vec<_> = (0..6)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let planner = every_second;
                    match store.claim_ticks(now, &planner).await {
                        Ok(stats) => stats.runs,
                        Err(StoreError::Conflict(_)) => 0,
                        Err(e) => panic!("claim failed: {e}"),
                    }
                })
            })
            .collect();
        let created: u64 = futures::future::join_all(claimers)
            .await
            .into_iter()
            .map(|r| r.expect("task"))
            .sum();
        assert_eq!(created, 1, "tick {i}: exactly one claimer created the run");
        let workers: Vec<_> = (0..3)
            .map(|w| {
                let (store, effects) = (store.clone(), effects.clone());
                tokio::spawn(async move {
                    while let Some(lease) = store
                        .start_run(&format!("w{w}"), now, 30_000)
                        .await
                        .expect("start")
                    {
                        *effects
                            .lock()
                            .expect("lock")
                            .entry(lease.idempotency_key.clone())
                            .or_default() += 1;
                        let done = store
                            .finish_run(
                                lease.run_id,
                                lease.token,
                                RunOutcome::Succeeded {
                                    counters: "{}".into(),
                                },
                                now,
                            )
                            .await
                            .expect("finish");
                        assert!(done);
                    }
                })
            })
            .collect();
        for w in futures::future::join_all(workers).await {
            w.expect("worker");
        }
    }
    let runs = runs_of(&store, sch.id).await;
    assert_eq!(runs.len() as i64, ticks, "one row per tick");
    let expected: Vec<i64> = (0..ticks).map(|i| NOW + i * 1_000).collect();
    assert_eq!(
        runs.iter().map(|r| r.scheduled_for).collect::<Vec<_>>(),
        expected,
        "no gaps, no duplicates"
    );
    assert!(runs
        .iter()
        .all(|r| r.state == "succeeded" && r.attempt == 1));
    let effects = effects.lock().expect("lock").clone();
    assert_eq!(effects.len() as i64, ticks);
    assert!(
        effects.values().all(|n| *n == 1),
        "one side effect per tick"
    );
    let cursor = store
        .schedules()
        .await
        .expect("list")
        .into_iter()
        .find(|s| s.id == sch.id)
        .and_then(|s| s.next_run_at);
    assert_eq!(cursor, Some(NOW + ticks * 1_000));
}

pub async fn one_run_per_schedule_runs_and_stale_leases_are_fenced(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("lease", Overlap::BufferOne, 3, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let a = store
        .start_run("instance-a", NOW, 10_000)
        .await
        .expect("start")
        .expect("a run");
    assert_eq!(
        (a.attempt, a.idempotency_key.clone()),
        (1, format!("schedule:{}:{NOW}", sch.id))
    );
    store
        .claim_ticks(NOW + 1_000, &every_second)
        .await
        .expect("claim");
    assert_eq!(
        store
            .start_run("instance-b", NOW + 1_000, 10_000)
            .await
            .expect("start"),
        None,
        "one running run per schedule"
    );
    assert!(store
        .heartbeat_run(a.run_id, a.token, NOW + 5_000, 10_000)
        .await
        .expect("hb"));
    // Instance A is paused past its lease; the reaper gives the run back.
    assert_eq!(
        store.reap_expired_runs(NOW + 14_999).await.expect("reap"),
        0,
        "lease still valid"
    );
    assert_eq!(
        store.reap_expired_runs(NOW + 15_001).await.expect("reap"),
        1
    );
    let b = store
        .start_run("instance-b", NOW + 15_001, 10_000)
        .await
        .expect("start")
        .expect("retried");
    assert_eq!(
        (b.run_id, b.attempt),
        (a.run_id, 2),
        "the abandoned run is retried, oldest first"
    );
    assert!(b.token > a.token);
    // A wakes up: its heartbeat and completion are refused (fencing).
    assert!(!store
        .heartbeat_run(a.run_id, a.token, NOW + 15_002, 10_000)
        .await
        .expect("hb"));
    assert!(!store
        .finish_run(
            a.run_id,
            a.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            NOW + 15_002
        )
        .await
        .expect("finish"));
    assert!(store
        .finish_run(
            b.run_id,
            b.token,
            RunOutcome::Succeeded {
                counters: "{\"checked\":3}".into()
            },
            NOW + 16_000
        )
        .await
        .expect("finish"));
    let runs = runs_of(&store, sch.id).await;
    assert_eq!(runs[0].state, "succeeded");
    assert_eq!(
        (runs[0].attempt, runs[0].counters.as_deref()),
        (2, Some("{\"checked\":3}"))
    );
    assert!(
        runs[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("instance-a")),
        "the abandonment is noted"
    );
    // The buffered tick runs next.
    let next = store
        .start_run("instance-b", NOW + 16_000, 10_000)
        .await
        .expect("start")
        .expect("buffered");
    assert_eq!(next.scheduled_for, NOW + 1_000);
    // With attempts used up, an expired lease ends as abandoned.
    let mut one = new_schedule("once", Overlap::Skip, 1, NOW);
    one.max_attempts = 1;
    let once = store.ensure_schedule(one).await.expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let mut lease = None;
    while let Some(l) = store
        .start_run("x", NOW + 16_000, 1_000)
        .await
        .expect("start")
    {
        if l.schedule_id == once.id {
            lease = Some(l);
            break;
        }
    }
    assert!(lease.is_some());
    store.reap_expired_runs(NOW + 20_000).await.expect("reap");
    assert_eq!(runs_of(&store, once.id).await[0].state, "abandoned");
}

pub async fn skipped_ticks_and_overlap_are_recorded(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("skips", Overlap::Skip, 1, NOW))
        .await
        .expect("schedule");
    // A planner that reports 3 missed ticks and runs the 4th.
    let planner = |s: &ScheduleRecord, _now: i64| {
        let c = s.next_run_at.unwrap_or(0);
        TickDecision {
            run: vec![c + 3_000],
            skipped: vec![
                (c, "misfire"),
                (c + 1_000, "misfire"),
                (c + 2_000, "misfire"),
            ],
            next_cursor: Some(c + 4_000),
        }
    };
    let stats = store
        .claim_ticks(NOW + 3_000, &planner)
        .await
        .expect("claim");
    assert_eq!((stats.runs, stats.skipped), (1, 3));
    let lease = store
        .start_run("w", NOW + 3_000, 60_000)
        .await
        .expect("start")
        .expect("run");
    // Overlap skip: the next tick finds a running run.
    let stats = store
        .claim_ticks(NOW + 4_000, &every_second)
        .await
        .expect("claim");
    assert_eq!((stats.runs, stats.skipped), (0, 1));
    let runs = runs_of(&store, sch.id).await;
    let states: Vec<(&str, Option<&str>)> = runs
        .iter()
        .map(|r| (r.state.as_str(), r.reason.as_deref()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("skipped", Some("misfire")),
            ("skipped", Some("misfire")),
            ("skipped", Some("misfire")),
            ("running", None),
            ("skipped", Some("overlap"))
        ]
    );
    // Nothing due: a claim writes nothing.
    let idle = store
        .claim_ticks(NOW + 4_500, &every_second)
        .await
        .expect("claim");
    assert_eq!(idle, ClaimStats::default());
    assert!(store
        .finish_run(
            lease.run_id,
            lease.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            NOW + 5_000
        )
        .await
        .expect("finish"));
}

pub async fn failed_runs_retry_until_attempts_are_used(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("retry", Overlap::Skip, 3, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let mut now = NOW;
    for attempt in 1..=2 {
        let l = store
            .start_run("w", now, 60_000)
            .await
            .expect("start")
            .expect("run");
        assert_eq!(l.attempt, attempt);
        let retry_at = now + 2_000;
        store
            .finish_run(
                l.run_id,
                l.token,
                RunOutcome::Failed {
                    error: format!("boom {attempt}"),
                    retry_at: Some(retry_at),
                },
                now,
            )
            .await
            .expect("finish");
        assert_eq!(
            store
                .start_run("w", retry_at - 1, 60_000)
                .await
                .expect("start"),
            None,
            "not before the backoff"
        );
        now = retry_at;
    }
    let l = store
        .start_run("w", now, 60_000)
        .await
        .expect("start")
        .expect("third");
    assert!(store
        .finish_run(
            l.run_id,
            l.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            now
        )
        .await
        .expect("finish"));
    let run = &runs_of(&store, sch.id).await[0];
    assert_eq!(
        (run.state.as_str(), run.attempt),
        ("succeeded", 3),
        "3 attempts recorded"
    );
    assert_eq!(
        run.error.as_deref(),
        Some("boom 2"),
        "the last failure is kept"
    );
}

pub async fn ensure_schedule_never_overwrites_an_edited_schedule(store: Arc<dyn Store>) {
    let first = store
        .ensure_schedule(new_schedule("keep", Overlap::Skip, 1, NOW))
        .await
        .expect("schedule");
    let mut again = new_schedule("keep", Overlap::BufferOne, 5, NOW + 1);
    again.expr = "0 0 * * *".into();
    let second = store.ensure_schedule(again).await.expect("schedule");
    assert_eq!(first, second);
    assert_eq!(store.schedules().await.expect("list").len(), 1);
}

pub async fn schedule_edits_are_audited_and_bump_the_version(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("edit", Overlap::Skip, 1, NOW))
        .await
        .expect("schedule");
    let edit = ScheduleEdit {
        expr: Some("0 3 * * *".into()),
        zone: Some("Europe/London".into()),
        enabled: Some(false),
        next_run_at: Some(Some(NOW + 99_000)),
        detail: "expr * * * * * * -> 0 3 * * *".into(),
        ..ScheduleEdit::default()
    };
    let after = store
        .update_schedule("edit", edit, "admin@x.io", NOW + 1)
        .await
        .expect("update");
    assert_eq!(
        (after.expr.as_str(), after.zone.as_str(), after.enabled),
        ("0 3 * * *", "Europe/London", false)
    );
    assert_eq!(
        (after.version, after.next_run_at, after.misfire.as_str()),
        (sch.version + 1, Some(NOW + 99_000), "fire_all"),
        "untouched fields stay"
    );
    let audit = store.schedule_audit(Some(sch.id), 10).await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].action.as_str()),
        ("admin@x.io", "update")
    );
    assert!(audit[0].detail.contains("0 3 * * *"));
    let missing = store
        .update_schedule("nope", ScheduleEdit::default(), "a", NOW)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    // A disabled schedule is not claimed.
    let stats = store
        .claim_ticks(NOW + 200_000, &every_second)
        .await
        .expect("claim");
    assert_eq!(stats, ClaimStats::default());
}

pub async fn run_now_with_one_request_key_makes_one_run(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("manual", Overlap::Skip, 1, NOW + 3_600_000))
        .await
        .expect("schedule");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.trigger_run("manual", "req-1", "admin", NOW).await })
        })
        .collect();
    let outcomes: Vec<TriggerOutcome> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("trigger"))
        .collect();
    let queued = outcomes
        .iter()
        .filter(|o| matches!(o, TriggerOutcome::Queued { .. }))
        .count();
    assert_eq!(queued, 1, "{outcomes:?}");
    let runs = runs_of(&store, sch.id).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].kind.as_str(), runs[0].state.as_str()),
        ("manual", "pending")
    );
    let cursor = store.schedules().await.expect("list")[0].next_run_at;
    assert_eq!(
        cursor,
        Some(NOW + 3_600_000),
        "run now does not move the cursor"
    );
    let again = store
        .trigger_run("manual", "req-2", "admin", NOW)
        .await
        .expect("trigger");
    assert!(
        matches!(again, TriggerOutcome::Overlap { .. }),
        "obeys overlap: {again:?}"
    );
    assert!(matches!(
        store.trigger_run("nope", "req-3", "admin", NOW).await,
        Err(StoreError::NotFound)
    ));
    let audit = store.schedule_audit(Some(sch.id), 10).await.expect("audit");
    assert_eq!(audit.iter().filter(|a| a.action == "run_now").count(), 2);
}

pub async fn pause_stops_claims_and_starts_until_resumed(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("paused", Overlap::BufferOne, 1, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    assert!(!store.scheduler_paused().await.expect("state"));
    store
        .set_scheduler_paused(true, "admin", NOW)
        .await
        .expect("pause");
    assert!(store.scheduler_paused().await.expect("state"));
    assert_eq!(
        store.start_run("w", NOW, 10_000).await.expect("start"),
        None,
        "no new starts while paused"
    );
    assert_eq!(
        store
            .claim_ticks(NOW + 5_000, &every_second)
            .await
            .expect("claim"),
        ClaimStats::default()
    );
    store
        .set_scheduler_paused(false, "admin", NOW + 6_000)
        .await
        .expect("resume");
    assert!(store
        .start_run("w", NOW + 6_000, 10_000)
        .await
        .expect("start")
        .is_some());
    assert!(
        store
            .claim_ticks(NOW + 6_000, &every_second)
            .await
            .expect("claim")
            .runs
            >= 1,
        "claims resume"
    );
    let actions: Vec<String> = store
        .schedule_audit(None, 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, vec!["resume_all", "pause_all"]);
    let _ = sch;
}

/// A wake-up ahead of the calendar: the cursor moves to now only when it is later and nothing
/// of the schedule waits or runs; the tick it makes runs once like any other, and the cursor
/// then returns to the calendar.
pub async fn bring_forward_runs_one_tick_now_and_waits_while_busy(store: Arc<dyn Store>) {
    let later = NOW + 60_000;
    let sch = store
        .ensure_schedule(new_schedule("woken", Overlap::Skip, 1, later))
        .await
        .expect("schedule");
    let minute = |s: &ScheduleRecord, now: i64| {
        let mut d = every_second(s, now);
        d.next_cursor = Some(later);
        d
    };
    assert_eq!(
        store.bring_forward("no-such-job", NOW).await.expect("wake"),
        BroughtForward::Unknown
    );
    assert_eq!(
        store.claim_ticks(NOW, &minute).await.expect("claim").runs,
        0,
        "nothing due before the wake"
    );
    assert_eq!(
        store.bring_forward("woken", NOW).await.expect("wake"),
        BroughtForward::Moved
    );
    assert_eq!(
        store.bring_forward("woken", NOW).await.expect("wake"),
        BroughtForward::AlreadyDue,
        "a second wake before the claim changes nothing"
    );
    assert_eq!(
        store.claim_ticks(NOW, &minute).await.expect("claim").runs,
        1
    );
    let cursor = schedule_named(&store, "woken").await;
    assert_eq!(cursor.next_run_at, Some(later), "back on the calendar");
    // Pending, then running: a wake waits for the run to end.
    assert_eq!(
        store.bring_forward("woken", NOW + 10).await.expect("wake"),
        BroughtForward::Busy
    );
    let lease = store
        .start_run("w", NOW + 10, 10_000)
        .await
        .expect("start")
        .expect("a run");
    assert_eq!(lease.scheduled_for, NOW, "the tick is the wake's moment");
    assert_eq!(
        store.bring_forward("woken", NOW + 20).await.expect("wake"),
        BroughtForward::Busy
    );
    assert!(store
        .finish_run(
            lease.run_id,
            lease.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            NOW + 30,
        )
        .await
        .expect("finish"));
    assert_eq!(
        store.bring_forward("woken", NOW + 40).await.expect("wake"),
        BroughtForward::Moved
    );
    assert_eq!(
        store
            .claim_ticks(NOW + 40, &minute)
            .await
            .expect("claim")
            .runs,
        1
    );
    let ticks: Vec<i64> = runs_of(&store, sch.id)
        .await
        .iter()
        .map(|r| r.scheduled_for)
        .collect();
    assert_eq!(ticks, vec![NOW, NOW + 40], "one run per wake, none skipped");
    // A disabled schedule is not woken.
    store
        .update_schedule(
            "woken",
            ScheduleEdit {
                enabled: Some(false),
                ..Default::default()
            },
            "admin",
            NOW + 50,
        )
        .await
        .expect("disable");
    assert_eq!(
        store.bring_forward("woken", NOW + 60).await.expect("wake"),
        BroughtForward::Unknown
    );
}

/// Shutdown hands a run back: pending again, due now, attempt not counted; the old token can
/// no longer finish it, and a second release is refused.
pub async fn released_runs_return_to_pending_without_counting_the_attempt(store: Arc<dyn Store>) {
    store
        .ensure_schedule(new_schedule("release", Overlap::Skip, 3, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let a = store
        .start_run("instance-a", NOW, 10_000)
        .await
        .expect("start")
        .expect("a run");
    assert!(store
        .release_run(a.run_id, a.token, NOW + 500)
        .await
        .expect("release"));
    assert!(!store
        .release_run(a.run_id, a.token, NOW + 500)
        .await
        .expect("second release"));
    let outcome = RunOutcome::Succeeded {
        counters: "{}".into(),
    };
    assert!(!store
        .finish_run(a.run_id, a.token, outcome, NOW + 600)
        .await
        .expect("stale finish"));
    let b = store
        .start_run("instance-b", NOW + 500, 10_000)
        .await
        .expect("start")
        .expect("the released run starts again");
    assert_eq!(
        (b.run_id, b.attempt),
        (a.run_id, 1),
        "the attempt was not counted"
    );
    assert!(b.token > a.token);
}

/// The canary's effect is written only by the current holder of the lease.
pub async fn canary_writes_are_fenced_by_the_lease_token(store: Arc<dyn Store>) {
    store
        .ensure_schedule(new_schedule("canary", Overlap::Skip, 3, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let a = store
        .start_run("instance-a", NOW, 1_000)
        .await
        .expect("start")
        .expect("a run");
    let effect = |lease: &RunLease, instance: &str, now: i64| CanaryEffect {
        run_id: lease.run_id,
        token: lease.token,
        idempotency_key: lease.idempotency_key.clone(),
        scheduled_for: lease.scheduled_for,
        attempt: lease.attempt,
        instance: instance.to_string(),
        started_at: now,
        now,
    };
    // Instance A stalls past its lease; B reaps and restarts the run.
    assert_eq!(store.reap_expired_runs(NOW + 2_000).await.expect("reap"), 1);
    let b = store
        .start_run("instance-b", NOW + 2_000, 1_000)
        .await
        .expect("start")
        .expect("the retry");
    assert!(
        !store
            .record_canary(effect(&a, "instance-a", NOW + 2_100))
            .await
            .expect("stale write"),
        "a stale lease writes nothing"
    );
    assert!(store
        .record_canary(effect(&b, "instance-b", NOW + 2_100))
        .await
        .expect("write"));
    assert!(store
        .finish_run(
            b.run_id,
            b.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            NOW + 2_200
        )
        .await
        .expect("finish"));
    assert!(
        !store
            .record_canary(effect(&b, "instance-b", NOW + 2_300))
            .await
            .expect("late write"),
        "a finished run writes nothing"
    );
    assert_eq!(store.prune_canary(NOW + 2_101, 10).await.expect("prune"), 1);
    assert_eq!(store.prune_canary(NOW + 9_999, 10).await.expect("prune"), 0);
}

/// The database clock is close to real time; the next wakeup is the earliest cursor or due
/// pending run; health counts running, stuck and due runs; a success stamps the schedule.
pub async fn clock_wakeup_and_health_figures(store: Arc<dyn Store>) {
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    let db = store.db_now_ms().await.expect("db clock");
    assert!((db - real).abs() < 5_000, "db clock {db} vs {real}");
    assert_eq!(store.next_wakeup_ms().await.expect("wakeup"), None);
    store
        .ensure_schedule(new_schedule("later", Overlap::Skip, 1, NOW + 60_000))
        .await
        .expect("schedule");
    store
        .ensure_schedule(new_schedule("sooner", Overlap::Skip, 1, NOW))
        .await
        .expect("schedule");
    assert_eq!(store.next_wakeup_ms().await.expect("wakeup"), Some(NOW));
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    // The pending run of `sooner` at NOW is now the earliest thing.
    assert_eq!(store.next_wakeup_ms().await.expect("wakeup"), Some(NOW));
    let health = store.scheduler_health(NOW).await.expect("health");
    assert_eq!(
        (health.running, health.stuck_leases, health.pending_due),
        (0, 0, 1)
    );
    let run = store
        .start_run("a", NOW, 1_000)
        .await
        .expect("start")
        .expect("run");
    assert_eq!(
        store.next_wakeup_ms().await.expect("wakeup"),
        Some(NOW + 1_000),
        "the next cursor"
    );
    let health = store.scheduler_health(NOW + 5_000).await.expect("health");
    assert_eq!(
        (health.running, health.stuck_leases),
        (1, 1),
        "lease expired"
    );
    assert!(store
        .finish_run(
            run.run_id,
            run.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            NOW + 300
        )
        .await
        .expect("finish"));
    let sooner = schedule_named(&store, "sooner").await;
    assert_eq!(sooner.last_success_at, Some(NOW + 300));
    let health = store.scheduler_health(NOW + 5_000).await.expect("health");
    assert_eq!(health, SchedulerHealth::default());
}
