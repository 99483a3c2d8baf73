//! The engine against real stores (SQLite and PostgreSQL) with a manual clock: the failure and
//! durability scenarios of scheduler.md, and several engines sharing one database.

use smmd_store_sql::both_stores;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use smmd_domain::{Clock, ManualClock};
use smmd_jobs::{Counters, Engine, EngineConfig, Job, JobContext, JobError, TimeSource};
use smmd_store::{NewSchedule, RunRecord, Store};

const T0: i64 = 1_767_225_600_000;

fn schedule(
    name: &str,
    expr: &str,
    misfire: &str,
    max_attempts: i64,
    timeout_ms: i64,
    first: i64,
) -> NewSchedule {
    NewSchedule {
        enabled: true,
        name: name.into(),
        expr: expr.into(),
        zone: "UTC".into(),
        misfire: smmd_jobs::Misfire::parse(misfire).expect("misfire"),
        grace_ms: 5_000,
        catch_up_ms: 48 * 3_600_000,
        overlap: smmd_domain::schedule::Overlap::Skip,
        max_attempts,
        retry_base_ms: 1_000,
        timeout_ms,
        next_run_at: Some(first),
        now: first,
    }
}

fn engine(store: &Arc<dyn Store>, clock: &ManualClock, instance: &str) -> Engine {
    let config = EngineConfig {
        instance: instance.into(),
        lease_ms: 30_000,
        ..EngineConfig::default()
    };
    Engine::new(
        store.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        config,
    )
}

/// An hourly schedule `name` whose next tick is an hour after the database's now, which it
/// returns (epoch ms): only a wake runs it within a test.
async fn hourly(store: &Arc<dyn Store>, name: &str) -> i64 {
    let db_now = store.db_now_ms().await.expect("db clock");
    store
        .ensure_schedule(schedule(
            name,
            "@every 1h",
            "fire_once",
            1,
            60_000,
            db_now + 3_600_000,
        ))
        .await
        .expect("schedule");
    db_now
}

/// An engine on the system clock that reads the database's and polls every minute, as
/// `smmd serve` runs one (`lean`: with a hosted child's lean passes).
fn serving_engine(store: &Arc<dyn Store>, instance: &str, lean: bool) -> Engine {
    Engine::new(
        store.clone(),
        Arc::new(smmd_domain::SystemClock) as Arc<dyn Clock>,
        EngineConfig {
            instance: instance.into(),
            time_source: TimeSource::Database,
            poll: std::time::Duration::from_secs(60),
            lean_passes: lean,
            ..EngineConfig::default()
        },
    )
}

/// Runs `e` in the background until the returned sender is used (or dropped); await the
/// handle after it.
fn run_in_background(
    e: Engine,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(e.run_until(async {
        let _ = stopped.await;
    }));
    (stop, running)
}

async fn runs(store: &Arc<dyn Store>, name: &str) -> Vec<RunRecord> {
    let id = store
        .schedules()
        .await
        .expect("list")
        .into_iter()
        .find(|s| s.name == name)
        .expect("schedule")
        .id;
    let mut r = store.schedule_runs(id, None, 10_000).await.expect("runs");
    r.reverse();
    r
}

/// Fails with a transient error `fail_first` times, then succeeds; counts calls and effects.
struct Flaky {
    fail_first: u32,
    calls: AtomicU32,
    effects: Mutex<HashMap<String, u32>>,
}

#[async_trait]
impl Job for Flaky {
    async fn run(&self, ctx: JobContext) -> Result<Counters, JobError> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst);
        if n < self.fail_first {
            return Err(JobError::Transient(format!("provider timeout #{}", n + 1)));
        }
        *self
            .effects
            .lock()
            .expect("lock")
            .entry(ctx.idempotency_key)
            .or_default() += 1;
        Ok(Counters::from([("checked".to_string(), 3)]))
    }
}

fn flaky(fail_first: u32) -> Arc<Flaky> {
    Arc::new(Flaky {
        fail_first,
        calls: AtomicU32::new(0),
        effects: Mutex::new(HashMap::new()),
    })
}

struct Panics;
#[async_trait]
impl Job for Panics {
    async fn run(&self, _: JobContext) -> Result<Counters, JobError> {
        panic!("boom")
    }
}

struct Slow;
#[async_trait]
impl Job for Slow {
    async fn run(&self, _: JobContext) -> Result<Counters, JobError> {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
        Ok(Counters::new())
    }
}

async fn fails_twice_then_succeeds_with_three_attempts_recorded(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    store
        .ensure_schedule(schedule("sync", "0 * * * *", "fire_once", 3, 60_000, T0))
        .await
        .expect("schedule");
    let job = flaky(2);
    let mut e = engine(&store, &clock, "a");
    e.register("sync", job.clone());
    for _ in 0..3 {
        e.tick().await.expect("tick");
        clock.advance_ms(5_000); // past any backoff (≤ 2 s)
    }
    let r = runs(&store, "sync").await;
    assert_eq!(r.len(), 1);
    assert_eq!((r[0].state.as_str(), r[0].attempt), ("succeeded", 3));
    assert_eq!(r[0].error.as_deref(), Some("provider timeout #2"));
    assert_eq!(r[0].counters.as_deref(), Some("{\"checked\":3}"));
    assert_eq!(job.calls.load(Ordering::SeqCst), 3);
    assert!(
        store.open_alerts().await.expect("alerts").is_empty(),
        "failures with attempts left raise no alert"
    );
}

async fn a_job_that_fails_for_good_alerts_admins_until_it_succeeds(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    store
        .ensure_schedule(schedule(
            "balances",
            "0 * * * *",
            "fire_once",
            2,
            60_000,
            T0,
        ))
        .await
        .expect("schedule");
    let job = flaky(2);
    let mut e = engine(&store, &clock, "a");
    e.register("balances", job.clone());
    e.tick().await.expect("first attempt");
    assert!(
        store.open_alerts().await.expect("a").is_empty(),
        "one attempt left"
    );
    clock.advance_ms(5_000);
    e.tick().await.expect("last attempt");
    let open = store.open_alerts().await.expect("alerts");
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].kind.as_str(), open[0].subject.as_str()),
        (smmd_jobs::engine::JOB_FAILED.as_str(), "job:balances")
    );
    assert_eq!(
        open[0].message,
        "balances failed after 2 attempt(s): provider timeout #2"
    );
    clock.advance_ms(3_600_000);
    e.tick().await.expect("next hour");
    assert_eq!(job.calls.load(Ordering::SeqCst), 3);
    assert!(
        store.open_alerts().await.expect("a").is_empty(),
        "a success resolves the alert"
    );
}

async fn a_panic_is_recorded_and_the_engine_keeps_running(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    store
        .ensure_schedule(schedule("bad", "0 * * * *", "fire_once", 1, 60_000, T0))
        .await
        .expect("schedule");
    store
        .ensure_schedule(schedule("good", "0 * * * *", "fire_once", 1, 60_000, T0))
        .await
        .expect("schedule");
    let good = flaky(0);
    let mut e = engine(&store, &clock, "a");
    e.register("bad", Arc::new(Panics));
    e.register("good", good.clone());
    e.tick().await.expect("tick survives the panic");
    clock.advance_ms(3_600_000);
    e.tick().await.expect("next tick");
    let bad = runs(&store, "bad").await;
    assert_eq!(bad.len(), 2, "the next regular tick still ran");
    assert!(
        bad.iter()
            .all(|r| r.state == "failed" && r.error.as_deref() == Some("panicked: boom")),
        "{bad:?}"
    );
    assert_eq!(good.calls.load(Ordering::SeqCst), 2);
}

async fn a_run_over_its_timeout_is_timed_out(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    store
        .ensure_schedule(schedule("slow", "0 * * * *", "fire_once", 1, 100, T0))
        .await
        .expect("schedule");
    let mut e = engine(&store, &clock, "a");
    e.register("slow", Arc::new(Slow));
    let started = std::time::Instant::now();
    e.tick().await.expect("tick");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "the run was cut at its timeout"
    );
    let r = runs(&store, "slow").await;
    assert_eq!(
        (r[0].state.as_str(), r[0].error.as_deref()),
        ("timed_out", Some("timed out"))
    );
}

async fn ten_minutes_down_follows_each_misfire_policy(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    let mut jobs = Vec::new();
    let mut e = engine(&store, &clock, "a");
    for policy in ["skip", "fire_once", "fire_all"] {
        store
            .ensure_schedule(schedule(policy, "*/30 * * * * *", policy, 1, 60_000, T0))
            .await
            .expect("schedule");
        let j = flaky(0);
        e.register(policy, j.clone());
        jobs.push(j);
    }
    e.tick().await.expect("tick at T0");
    clock.advance_ms(600_000 + 10_000); // down for 10 minutes
    e.tick().await.expect("tick after restart");
    let calls: Vec<u32> = jobs
        .iter()
        .map(|j| j.calls.load(Ordering::SeqCst) - 1)
        .collect();
    assert_eq!(
        calls,
        vec![0, 1, 20],
        "catch-up runs: skip 0, fire_once 1, fire_all 20"
    );
    for policy in ["skip", "fire_once", "fire_all"] {
        let r = runs(&store, policy).await;
        assert_eq!(
            r.len(),
            21,
            "{policy}: every tick accounted for (T0 + 20 missed)"
        );
        let skipped = r
            .iter()
            .filter(|x| x.state == "skipped" && x.reason.as_deref() == Some("misfire"))
            .count();
        assert_eq!(
            skipped,
            [20, 19, 0][["skip", "fire_once", "fire_all"]
                .iter()
                .position(|p| *p == policy)
                .unwrap_or(0)]
        );
    }
    // The regular ticks continue.
    clock.advance_ms(20_000);
    e.tick().await.expect("tick");
    assert!(jobs.iter().all(|j| j.calls.load(Ordering::SeqCst) >= 2));
}

async fn four_engines_share_one_database_without_duplicates(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    store
        .ensure_schedule(schedule(
            "every-second",
            "* * * * * *",
            "fire_all",
            1,
            60_000,
            T0,
        ))
        .await
        .expect("schedule");
    let job = flaky(0);
    let engines: Vec<Arc<Engine>> = (0..4)
        .map(|i| {
            let mut e = engine(&store, &clock, &format!("instance-{i}"));
            e.register("every-second", job.clone());
            Arc::new(e)
        })
        .collect();
    let ticks = 120;
    for _ in 0..ticks {
        let passes: Vec<_> = engines
            .iter()
            .map(|e| {
                let e = e.clone();
                tokio::spawn(async move { e.tick().await })
            })
            .collect();
        for p in futures::future::join_all(passes).await {
            p.expect("task").expect("tick");
        }
        clock.advance_ms(1_000);
    }
    let effects = job.effects.lock().expect("lock").clone();
    assert_eq!(effects.len(), ticks, "one run per tick, no gaps");
    assert!(effects.values().all(|n| *n == 1), "no tick ran twice");
    let r = runs(&store, "every-second").await;
    assert!(r.iter().all(|x| x.state == "succeeded"));
    let by: std::collections::BTreeSet<String> =
        r.iter().filter_map(|x| x.lease_owner.clone()).collect();
    assert!(by.is_empty(), "leases are released on completion");
}

/// Waits at a barrier that only a second, concurrent run can open.
struct Meet(Arc<tokio::sync::Barrier>);
#[async_trait]
impl Job for Meet {
    async fn run(&self, _: JobContext) -> Result<Counters, JobError> {
        tokio::time::timeout(std::time::Duration::from_secs(10), self.0.wait())
            .await
            .map_err(|_| JobError::Permanent("the other job never ran alongside".into()))?;
        Ok(Counters::new())
    }
}

async fn runs_of_different_schedules_execute_concurrently(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    let meet = Arc::new(tokio::sync::Barrier::new(2));
    let mut e = engine(&store, &clock, "a");
    for name in ["left", "right"] {
        store
            .ensure_schedule(schedule(name, "* * * * *", "skip", 1, 60_000, T0))
            .await
            .expect("schedule");
        e.register(name, Arc::new(Meet(meet.clone())));
    }
    let report = e.tick().await.expect("tick");
    assert_eq!(report.executed, 2);
    for name in ["left", "right"] {
        let r = runs(&store, name).await;
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].state, "succeeded", "{name}: {:?}", r[0].error);
    }
}

/// F14: with the database as the time source, an engine whose own clock is 25 years off
/// still runs what the database clock says is due, and nothing early.
async fn the_database_clock_decides_what_is_due(store: Arc<dyn Store>) {
    let wrong = ManualClock::new(T0 - 25 * 365 * 86_400_000);
    let db_now = store.db_now_ms().await.expect("db clock");
    store
        .ensure_schedule(schedule(
            "due",
            "@every 1h",
            "fire_once",
            1,
            60_000,
            db_now - 1_000,
        ))
        .await
        .expect("schedule");
    store
        .ensure_schedule(schedule(
            "not-yet",
            "@every 1h",
            "fire_once",
            1,
            60_000,
            db_now + 600_000,
        ))
        .await
        .expect("schedule");
    let job = flaky(0);
    let mut local = engine(&store, &wrong, "local-clock");
    local.register("due", job.clone());
    local.register("not-yet", job.clone());
    assert_eq!(
        local.tick().await.expect("tick").executed,
        0,
        "by its own clock nothing is due"
    );
    let mut e = Engine::new(
        store.clone(),
        Arc::new(wrong.clone()) as Arc<dyn Clock>,
        EngineConfig {
            instance: "db-clock".into(),
            time_source: TimeSource::Database,
            ..EngineConfig::default()
        },
    );
    e.register("due", job.clone());
    e.register("not-yet", job.clone());
    assert_eq!(e.tick().await.expect("tick").executed, 1);
    let r = runs(&store, "due").await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].state, "succeeded");
    let started = r[0].started_at.expect("started");
    assert!(
        (started - db_now).abs() < 60_000,
        "leases use database time: {started} vs {db_now}"
    );
    assert!(runs(&store, "not-yet").await.is_empty());
}

/// F9: after the shutdown signal nothing new starts; a run that finishes within the grace is
/// recorded, one that does not is handed back (pending, attempt not counted).
async fn shutdown_finishes_or_hands_back_runs_in_flight(store: Arc<dyn Store>) {
    let db_now = store.db_now_ms().await.expect("db clock");
    for name in ["quick", "long"] {
        store
            .ensure_schedule(schedule(
                name,
                "@every 1h",
                "fire_once",
                3,
                60_000,
                db_now - 1_000,
            ))
            .await
            .expect("schedule");
    }
    struct Sleep(u64, Arc<tokio::sync::Notify>);
    #[async_trait]
    impl Job for Sleep {
        async fn run(&self, _: JobContext) -> Result<Counters, JobError> {
            self.1.notify_one();
            tokio::time::sleep(std::time::Duration::from_millis(self.0)).await;
            Ok(Counters::new())
        }
    }
    let (quick_started, long_started) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(tokio::sync::Notify::new()),
    );
    let mut e = Engine::new(
        store.clone(),
        Arc::new(smmd_domain::SystemClock) as Arc<dyn Clock>,
        EngineConfig {
            instance: "stopping".into(),
            time_source: TimeSource::Database,
            shutdown_grace: std::time::Duration::from_millis(1_500),
            ..EngineConfig::default()
        },
    );
    e.register("quick", Arc::new(Sleep(300, quick_started.clone())));
    e.register("long", Arc::new(Sleep(60_000, long_started.clone())));
    let (stop, running) = run_in_background(e);
    quick_started.notified().await;
    long_started.notified().await;
    let _ = stop.send(());
    // A tick that becomes due while the engine drains must not start.
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    store
        .ensure_schedule(schedule(
            "after-stop",
            "@every 1h",
            "fire_once",
            1,
            60_000,
            db_now - 1_000,
        ))
        .await
        .expect("schedule");
    tokio::time::timeout(std::time::Duration::from_secs(20), running)
        .await
        .expect("the engine stops within the grace")
        .expect("task");
    let quick = runs(&store, "quick").await;
    assert_eq!(quick[0].state, "succeeded");
    let long = runs(&store, "long").await;
    assert_eq!(
        (
            long[0].state.as_str(),
            long[0].attempt,
            long[0].lease_owner.as_deref()
        ),
        ("pending", 0, None),
        "handed back: {:?}",
        long[0]
    );
    assert!(
        runs(&store, "after-stop").await.is_empty(),
        "nothing new after the signal"
    );
}

/// Run on demand: a running engine (lean passes, a one-minute poll) starts a woken schedule at
/// once although its next tick is an hour away; a wake while the run is in flight waits for it
/// and makes one more run, not one per wake; each is an ordinary recorded tick.
async fn a_wake_runs_the_schedule_now_and_a_busy_one_once_after(store: Arc<dyn Store>) {
    let db_now = hourly(&store, "dispatch").await;
    struct Gate {
        started: tokio::sync::mpsc::UnboundedSender<i64>,
        go: Arc<tokio::sync::Semaphore>,
    }
    #[async_trait]
    impl Job for Gate {
        async fn run(&self, ctx: JobContext) -> Result<Counters, JobError> {
            let _ = self.started.send(ctx.scheduled_for);
            self.go.acquire().await.expect("open").forget();
            Ok(Counters::new())
        }
    }
    let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
    let go = Arc::new(tokio::sync::Semaphore::new(0));
    let mut e = serving_engine(&store, "woken", true);
    e.register(
        "dispatch",
        Arc::new(Gate {
            started,
            go: go.clone(),
        }),
    );
    let wake = e.wake();
    let (stop, running) = run_in_background(e);
    let bound = std::time::Duration::from_secs(10);
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(starts.try_recv().is_err(), "nothing is due for an hour");
    wake.wake("dispatch");
    let first = tokio::time::timeout(bound, starts.recv())
        .await
        .expect("the wake started a run long before the poll")
        .expect("sent");
    assert!(
        first >= db_now && first < db_now + 3_600_000,
        "scheduled for the wake"
    );
    // Three wakes while it runs: the schedule is busy, they wait as one.
    for _ in 0..3 {
        wake.wake("dispatch");
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert!(
        starts.try_recv().is_err(),
        "no second run while one is in flight"
    );
    assert_eq!(wake.wanted(), vec!["dispatch"], "still wanted");
    go.add_permits(1);
    let second = tokio::time::timeout(bound, starts.recv())
        .await
        .expect("the kept wake ran after the run ended")
        .expect("sent");
    assert!(second > first);
    go.add_permits(1);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = stop.send(());
    running.await.expect("engine");
    assert!(starts.try_recv().is_err(), "one run for the three wakes");
    let r = runs(&store, "dispatch").await;
    let ticks: Vec<(i64, &str)> = r
        .iter()
        .map(|r| (r.scheduled_for, r.state.as_str()))
        .collect();
    assert_eq!(ticks, vec![(first, "succeeded"), (second, "succeeded")]);
    let next = store
        .schedules()
        .await
        .expect("list")
        .into_iter()
        .find(|s| s.name == "dispatch")
        .expect("schedule")
        .next_run_at;
    assert!(
        next.is_some_and(|n| n > second && n % 3_600_000 == 0),
        "the cursor is back on the calendar: {next:?}"
    );
}

/// A job that wakes its own schedule as it ends (`notifications.deliver` after a run whose
/// events were held back) runs again every time: the wake arrives while its run is in flight
/// and the engine looks as the run ends, and a run that ends between bringing the schedule
/// forward and looking whether it is busy does not lose the wake (it did, about one time in
/// two on a loaded machine, leaving the schedule for its next tick an hour away).
async fn a_job_that_wakes_itself_as_it_ends_runs_again_each_time(store: Arc<dyn Store>) {
    const RUNS: u32 = 30;
    hourly(&store, "again").await;
    struct Again {
        runs: AtomicU32,
        wake: smmd_jobs::Wake,
    }
    #[async_trait]
    impl Job for Again {
        async fn run(&self, _: JobContext) -> Result<Counters, JobError> {
            if self.runs.fetch_add(1, Ordering::SeqCst) + 1 < RUNS {
                self.wake.wake("again");
            }
            Ok(Counters::new())
        }
    }
    let mut e = serving_engine(&store, "again", false);
    let job = Arc::new(Again {
        runs: AtomicU32::new(0),
        wake: e.wake(),
    });
    e.register("again", job.clone());
    let wake = e.wake();
    let (stop, running) = run_in_background(e);
    wake.wake("again");
    let bound = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while job.runs.load(Ordering::SeqCst) < RUNS && std::time::Instant::now() < bound {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let _ = stop.send(());
    running.await.expect("engine");
    assert_eq!(
        job.runs.load(Ordering::SeqCst),
        RUNS,
        "a wake was lost (or one too many ran)"
    );
    let r = runs(&store, "again").await;
    assert_eq!(r.len(), RUNS as usize);
    assert!(r.iter().all(|r| r.state.as_str() == "succeeded"));
}

/// A lean engine (hosted children) measures the database clock's offset at most once per
/// poll and reads "now" as its own clock plus that offset in between: a tick due 30 s after
/// the measurement runs when its own clock moved 30 s (the database's barely did), and after a
/// poll has gone by the offset is measured again (a tick due 50 s ahead of the database's
/// clock is not due, however far its own clock ran).
async fn a_lean_engine_reads_the_database_clock_once_per_poll(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    let db_now = store.db_now_ms().await.expect("db clock");
    let job = flaky(0);
    let lean = |instance: &str| {
        let mut e = Engine::new(
            store.clone(),
            Arc::new(clock.clone()) as Arc<dyn Clock>,
            EngineConfig {
                instance: instance.into(),
                time_source: TimeSource::Database,
                poll: std::time::Duration::from_secs(60),
                lean_passes: true,
                ..EngineConfig::default()
            },
        );
        e.register("soon", job.clone());
        e.register("later", job.clone());
        e
    };
    let e = lean("lean");
    assert_eq!(e.tick().await.expect("tick").executed, 0, "nothing due yet");
    for (name, at) in [("soon", db_now + 30_000), ("later", db_now + 50_000)] {
        store
            .ensure_schedule(schedule(name, "@every 1h", "fire_once", 1, 60_000, at))
            .await
            .expect("schedule");
    }
    clock.advance_ms(31_000);
    assert_eq!(
        e.tick().await.expect("tick").executed,
        1,
        "within the poll, now is the own clock plus the offset"
    );
    assert_eq!(runs(&store, "soon").await.len(), 1);
    clock.advance_ms(60_000);
    assert_eq!(
        e.tick().await.expect("tick").executed,
        0,
        "a poll later the database clock is read again: `later` is not due by it"
    );
    assert!(runs(&store, "later").await.is_empty());
}

/// "Run now" queues a run; a nudge makes the engine start it at once instead of at its next
/// poll, and nothing else is brought forward.
async fn a_nudge_starts_a_queued_run_before_the_poll(store: Arc<dyn Store>) {
    for name in ["report", "other"] {
        hourly(&store, name).await;
    }
    let (started, mut starts) = tokio::sync::mpsc::unbounded_channel();
    struct Tell(tokio::sync::mpsc::UnboundedSender<String>, &'static str);
    #[async_trait]
    impl Job for Tell {
        async fn run(&self, _: JobContext) -> Result<Counters, JobError> {
            let _ = self.0.send(self.1.to_string());
            Ok(Counters::new())
        }
    }
    let mut e = serving_engine(&store, "nudged", true);
    e.register("report", Arc::new(Tell(started.clone(), "report")));
    e.register("other", Arc::new(Tell(started, "other")));
    let wake = e.wake();
    let (stop, running) = run_in_background(e);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let now = store.db_now_ms().await.expect("db clock");
    smmd_jobs::control::run_now(store.as_ref(), "report", "admin:k1", "admin@x", now)
        .await
        .expect("queued");
    wake.nudge();
    let first = tokio::time::timeout(std::time::Duration::from_secs(10), starts.recv())
        .await
        .expect("the nudge started the queued run long before the 60 s poll")
        .expect("sent");
    assert_eq!(first, "report");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let _ = stop.send(());
    running.await.expect("engine");
    assert!(starts.try_recv().is_err(), "nothing else ran");
    assert!(runs(&store, "other").await.is_empty());
}

both_stores!(
    a_job_that_wakes_itself_as_it_ends_runs_again_each_time,
    a_lean_engine_reads_the_database_clock_once_per_poll,
    a_nudge_starts_a_queued_run_before_the_poll,
    a_wake_runs_the_schedule_now_and_a_busy_one_once_after,
    runs_of_different_schedules_execute_concurrently,
    the_database_clock_decides_what_is_due,
    shutdown_finishes_or_hands_back_runs_in_flight,
    fails_twice_then_succeeds_with_three_attempts_recorded,
    a_panic_is_recorded_and_the_engine_keeps_running,
    a_job_that_fails_for_good_alerts_admins_until_it_succeeds,
    a_run_over_its_timeout_is_timed_out,
    ten_minutes_down_follows_each_misfire_policy,
    four_engines_share_one_database_without_duplicates,
);

/// Writes a log line from inside the job.
struct Logs;
#[async_trait]
impl Job for Logs {
    async fn run(&self, _: JobContext) -> Result<Counters, JobError> {
        tracing::info!("inside the job");
        Ok(Counters::new())
    }
}

/// A log sink the test reads back.
#[derive(Clone, Default)]
struct Sink(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::ErrorKind::Other)?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every line a run writes — the job's own and the engine's — is inside one `job_run` span
/// naming the job, the run id and the attempt; the engine's closing line carries the outcome.
#[tokio::test(flavor = "current_thread")]
async fn each_job_run_logs_inside_a_span_with_its_job_run_attempt_and_outcome() {
    let db = smmd_store_sql::testing::fresh(smmd_store_sql::testing::Backend::Sqlite)
        .await
        .expect("db");
    let store: Arc<dyn Store> = db.store.clone();
    let clock = ManualClock::new(T0);
    store
        .ensure_schedule(schedule("logs", "0 * * * *", "fire_once", 1, 60_000, T0))
        .await
        .expect("schedule");
    let sink = Sink::default();
    let writer = sink.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let mut e = engine(&store, &clock, "a");
    e.register("logs", Arc::new(Logs));
    e.tick().await.expect("tick");
    let run = &runs(&store, "logs").await[0];
    assert_eq!(run.state, "succeeded");
    let log = String::from_utf8(sink.0.lock().expect("log").clone()).expect("utf-8");
    let span = format!("job_run{{job=logs run_id={} attempt=1", run.id);
    let inside = log
        .lines()
        .find(|l| l.contains("inside the job"))
        .expect("the job's line");
    assert!(inside.contains(&span), "{span} in {inside}");
    let finished = log
        .lines()
        .find(|l| l.contains("job run finished"))
        .expect("the engine's line");
    assert!(
        finished.contains(&span) && finished.contains("outcome=\"succeeded\""),
        "{finished}"
    );
}
