//! The scheduler across real `smmd serve` processes (scheduler.md, "Many instances",
//! "Durability"): each instance is a separate OS process on one database, driven by the
//! operator's CLI, with the opt-in `scheduler.canary` job as the observable side effect (one
//! fenced row per execution, no unique key, so a duplicate would show). PostgreSQL cases run
//! against the CI server and fail if it is unreachable; `SMMD_INSTANCE_TICKS` (default 1000)
//! sets the length of the many-instance run.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::Cluster;
use smmd_store_sql::testing::Backend;
use sqlx::Row;

const CANARY: &str = "scheduler.canary";

impl Cluster {
    /// The canary's runs, oldest first.
    async fn runs(&self) -> Vec<Run> {
        let mut c = self.conn().await;
        let rows = sqlx::query(
            "SELECT r.id, r.scheduled_for, r.kind, r.state, COALESCE(r.reason, '') AS reason, r.attempt, \
             COALESCE(r.lease_owner, '') AS owner, COALESCE(r.started_at, 0) AS started_at, \
             COALESCE(r.finished_at, 0) AS finished_at, COALESCE(r.error, '') AS error \
             FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id WHERE s.name = $1 ORDER BY r.id",
        )
        .bind(CANARY)
        .fetch_all(&mut c)
        .await
        .expect("runs");
        rows.iter()
            .map(|r| Run {
                id: r.get("id"),
                scheduled_for: r.get("scheduled_for"),
                kind: r.get("kind"),
                state: r.get("state"),
                reason: r.get("reason"),
                attempt: r.get("attempt"),
                owner: r.get("owner"),
                started_at: r.get("started_at"),
                finished_at: r.get("finished_at"),
                error: r.get("error"),
            })
            .collect()
    }

    /// The canary's effects: (run id, instance, attempt).
    async fn effects(&self) -> Vec<(i64, String, i64)> {
        let mut c = self.conn().await;
        sqlx::query("SELECT run_id, instance, attempt FROM scheduler_canary ORDER BY id")
            .fetch_all(&mut c)
            .await
            .expect("effects")
            .iter()
            .map(|r| (r.get("run_id"), r.get("instance"), r.get("attempt")))
            .collect()
    }

    /// Polls `check` every 50 ms until it returns `Some`, or panics after `limit`.
    async fn wait_for<T>(
        &self,
        what: &str,
        limit: Duration,
        mut check: impl FnMut(&[Run]) -> Option<T>,
    ) -> T {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = check(&self.runs().await) {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn enable_canary(&self, cron: &str) {
        self.cli(&["jobs", "set", CANARY, "--cron", cron, "--tz", "UTC"]);
        self.cli(&["jobs", "enable", CANARY]);
    }

    /// Disables the canary and waits until nothing of it is pending or running.
    async fn drain_canary(&self) {
        self.cli(&["jobs", "disable", CANARY]);
        self.wait_for("the canary to drain", Duration::from_secs(60), |runs| {
            runs.iter()
                .all(|r| r.state != "pending" && r.state != "running")
                .then_some(())
        })
        .await;
    }
}

#[derive(Clone, Debug)]
struct Run {
    id: i64,
    scheduled_for: i64,
    kind: String,
    state: String,
    reason: String,
    attempt: i64,
    owner: String,
    started_at: i64,
    finished_at: i64,
    error: String,
}

fn ticks_wanted() -> usize {
    std::env::var("SMMD_INSTANCE_TICKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000)
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `n` instances on `cluster` until `ticks` ticks of a 1-second canary succeeded, then
/// checks: every tick from the first to the last has exactly one run row, succeeded on its
/// first attempt, and exactly one effect row; no run is left behind. Returns a summary line.
async fn exactly_once_per_tick(cluster: &Cluster, n: usize, ticks: usize) -> String {
    let mut instances = cluster.spawn_many(n, &[]).await;
    cluster.enable_canary("* * * * * *");
    let limit = Duration::from_secs(ticks as u64 * 2 + 60);
    cluster
        .wait_for("the ticks", limit, |runs| {
            (runs.iter().filter(|r| r.kind == "tick").count() >= ticks).then_some(())
        })
        .await;
    cluster.drain_canary().await;
    for i in &instances {
        i.signal("-TERM");
    }
    for i in &mut instances {
        let status = i.wait_exit(Duration::from_secs(60));
        assert!(
            status.success(),
            "{} exited with {status}:\n{}",
            i.name,
            i.log_text()
        );
    }
    let runs = cluster.runs().await;
    let ticks_seen: Vec<&Run> = runs.iter().filter(|r| r.kind == "tick").collect();
    let first = ticks_seen.first().expect("some ticks").scheduled_for;
    let last = ticks_seen.last().expect("some ticks").scheduled_for;
    let expected = ((last - first) / 1_000 + 1) as usize;
    let by_tick: BTreeMap<i64, Vec<&Run>> = ticks_seen.iter().fold(BTreeMap::new(), |mut m, r| {
        m.entry(r.scheduled_for).or_insert_with(Vec::new).push(*r);
        m
    });
    assert_eq!(
        by_tick.len(),
        ticks_seen.len(),
        "{n} instances: a tick has two run rows"
    );
    assert_eq!(
        by_tick.len(),
        expected,
        "{n} instances: gaps between {first} and {last}"
    );
    let bad: Vec<&&Run> = ticks_seen
        .iter()
        .filter(|r| r.state != "succeeded" || r.attempt != 1)
        .collect();
    assert!(
        bad.is_empty(),
        "{n} instances: runs not succeeded first time: {bad:?}"
    );
    let effects = cluster.effects().await;
    let mut per_run: BTreeMap<i64, usize> = BTreeMap::new();
    for (run, _, _) in &effects {
        *per_run.entry(*run).or_default() += 1;
    }
    let ids: BTreeSet<i64> = ticks_seen.iter().map(|r| r.id).collect();
    assert_eq!(
        per_run.keys().copied().collect::<BTreeSet<_>>(),
        ids,
        "{n} instances: one effect per run"
    );
    assert!(
        per_run.values().all(|c| *c == 1),
        "{n} instances: a run's effect was written twice"
    );
    let workers: BTreeSet<&str> = effects.iter().map(|(_, i, _)| i.as_str()).collect();
    let mut lateness: Vec<i64> = ticks_seen
        .iter()
        .map(|r| r.started_at - r.scheduled_for)
        .collect();
    lateness.sort_unstable();
    format!(
        "{n} instances: {} ticks, each exactly once, effects by {} instances, lateness p50 {} ms p99 {} ms max {} ms",
        by_tick.len(),
        workers.len(),
        percentile(&lateness, 0.5),
        percentile(&lateness, 0.99),
        lateness.last().copied().unwrap_or(0)
    )
}

/// 2, 4 and 8 instances (14 processes, three databases, at once) for `SMMD_INSTANCE_TICKS`
/// ticks of a 1-second schedule each.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_instances_run_each_tick_exactly_once_on_postgres() {
    let ticks = ticks_wanted();
    let mut clusters = Vec::new();
    for _ in 0..3 {
        clusters.push(Cluster::new(Backend::Postgres, &[]).await);
    }
    let results = futures::future::join_all(
        clusters
            .iter()
            .zip([2, 4, 8])
            .map(|(c, n)| exactly_once_per_tick(c, n, ticks)),
    )
    .await;
    for line in results {
        println!("{line}");
    }
}

/// Two processes on one SQLite file (WAL, `BEGIN IMMEDIATE`): same guarantees.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_sqlite_file_run_each_tick_exactly_once() {
    let cluster = Cluster::new(Backend::Sqlite, &[]).await;
    let line = exactly_once_per_tick(&cluster, 2, ticks_wanted().min(120)).await;
    println!("SQLite {line}");
}

/// The run currently running, if any: (run id, owner).
fn running(runs: &[Run]) -> Option<(i64, String)> {
    runs.iter()
        .find(|r| r.state == "running")
        .map(|r| (r.id, r.owner.clone()))
}

/// SIGSTOP an instance mid-run past its lease, let another take the run over, then SIGCONT:
/// the stale instance can neither write its effect nor record its completion (lease token
/// fencing); the run shows the second attempt by the other instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_paused_instance_cannot_commit_a_stale_completion() {
    let cluster = Cluster::new(
        Backend::Postgres,
        &[
            ("SMMD__SCHEDULER__LEASE_MS", "1500"),
            ("SMMD__SCHEDULER__CANARY_WORK_MS", "3000"),
        ],
    )
    .await;
    let instances = cluster.spawn_many(2, &[]).await;
    cluster.enable_canary("*/10 * * * * *");
    let (run_id, owner) = cluster
        .wait_for("a running canary", Duration::from_secs(30), running)
        .await;
    let stopped = instances.iter().find(|i| i.name == owner).expect("owner");
    stopped.signal("-STOP");
    let taken_over = cluster
        .wait_for(
            "the other instance to finish the run",
            Duration::from_secs(30),
            |runs| {
                runs.iter()
                    .find(|r| r.id == run_id && r.state == "succeeded")
                    .cloned()
            },
        )
        .await;
    stopped.signal("-CONT");
    // The stopped instance wakes with its work nearly done: give it time to try to commit.
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.drain_canary().await;
    let run = cluster
        .runs()
        .await
        .into_iter()
        .find(|r| r.id == run_id)
        .expect("run");
    assert_eq!(
        (run.state.as_str(), run.attempt),
        ("succeeded", 2),
        "{run:?}"
    );
    assert_eq!(
        run.finished_at, taken_over.finished_at,
        "the stale completion changed nothing"
    );
    assert!(
        run.error.contains(&format!("lease of {owner} expired")),
        "{run:?}"
    );
    let effects: Vec<_> = cluster
        .effects()
        .await
        .into_iter()
        .filter(|(id, _, _)| *id == run_id)
        .collect();
    assert_eq!(effects.len(), 1, "one effect: {effects:?}");
    assert_ne!(
        effects[0].1, owner,
        "written by the instance that took over"
    );
    assert_eq!(effects[0].2, 2);
}

/// `kill -9` mid-run: the run is retried once its lease expires and the next regular tick
/// still happens.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_instance_s_run_is_retried_after_its_lease() {
    let cluster = Cluster::new(
        Backend::Postgres,
        &[
            ("SMMD__SCHEDULER__LEASE_MS", "1500"),
            ("SMMD__SCHEDULER__CANARY_WORK_MS", "2000"),
        ],
    )
    .await;
    let mut a = cluster.spawn("doomed", &[]).await;
    cluster.enable_canary("*/10 * * * * *");
    let (run_id, owner) = cluster
        .wait_for("a running canary", Duration::from_secs(30), running)
        .await;
    assert_eq!(owner, "doomed");
    a.child.kill().expect("kill -9");
    let _ = a.child.wait();
    let _b = cluster.spawn("survivor", &[]).await;
    let (retried, next) = cluster
        .wait_for(
            "the retry and the next tick",
            Duration::from_secs(60),
            |runs| {
                let retried = runs
                    .iter()
                    .find(|r| r.id == run_id && r.state == "succeeded")?;
                let next = runs
                    .iter()
                    .find(|r| r.scheduled_for > retried.scheduled_for && r.state == "succeeded")?;
                Some((retried.clone(), next.clone()))
            },
        )
        .await;
    cluster.drain_canary().await;
    assert_eq!(retried.attempt, 2);
    assert!(
        retried.error.contains("lease of doomed expired"),
        "{retried:?}"
    );
    assert_eq!(next.attempt, 1);
    assert_eq!(
        next.scheduled_for,
        retried.scheduled_for + 10_000,
        "the next regular tick"
    );
    let effects = cluster.effects().await;
    assert_eq!(
        effects.iter().filter(|(id, _, _)| *id == run_id).count(),
        1,
        "the killed attempt wrote nothing: {effects:?}"
    );
}

/// SIGTERM: the listener closes, no new run starts, the run in flight finishes and the
/// process exits 0. With a grace shorter than the work, the run is handed back instead.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_or_hands_back_the_run_in_flight() {
    let cluster = Cluster::new(
        Backend::Postgres,
        &[("SMMD__SCHEDULER__CANARY_WORK_MS", "2000")],
    )
    .await;
    let mut a = cluster.spawn("graceful", &[]).await;
    cluster.enable_canary("* * * * * *");
    let (run_id, _) = cluster
        .wait_for("a running canary", Duration::from_secs(30), running)
        .await;
    let signalled = smmd_store::SchedulerStore::db_now_ms(cluster.db.store.as_ref())
        .await
        .expect("db clock");
    a.signal("-TERM");
    let status = a.wait_exit(Duration::from_secs(30));
    assert!(
        status.success(),
        "exit status {status}:
{}",
        a.log_text()
    );
    let runs = cluster.runs().await;
    let run = runs.iter().find(|r| r.id == run_id).expect("run");
    assert_eq!(
        (run.state.as_str(), run.attempt),
        ("succeeded", 1),
        "{run:?}"
    );
    let late: Vec<&Run> = runs.iter().filter(|r| r.started_at > signalled).collect();
    assert!(late.is_empty(), "runs started after SIGTERM: {late:?}");

    // Grace 300 ms, work 2 s: handed back as pending, attempt not counted.
    let mut b = cluster
        .spawn(
            "impatient",
            &[("SMMD__SCHEDULER__SHUTDOWN_GRACE_MS", "300")],
        )
        .await;
    let (run_id, _) = cluster
        .wait_for("a running canary", Duration::from_secs(30), |runs| {
            runs.iter()
                .find(|r| r.state == "running" && r.owner == "impatient")
                .map(|r| (r.id, r.owner.clone()))
        })
        .await;
    b.signal("-TERM");
    let status = b.wait_exit(Duration::from_secs(10));
    assert!(
        status.success(),
        "exit status {status}:
{}",
        b.log_text()
    );
    let run = cluster
        .runs()
        .await
        .into_iter()
        .find(|r| r.id == run_id)
        .expect("run");
    assert_eq!(
        (run.state.as_str(), run.attempt, run.owner.as_str()),
        ("pending", 0, ""),
        "{run:?}"
    );
    assert!(run.error.contains("released"), "{run:?}");
}

/// Overlap `skip`, scaled from "a 90 s job every 30 s": a 3 s job every second over four
/// instances never has two running rows, and the ticks that found it busy are recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_job_over_four_instances_never_runs_twice_at_once() {
    let cluster = Cluster::new(
        Backend::Postgres,
        &[("SMMD__SCHEDULER__CANARY_WORK_MS", "3000")],
    )
    .await;
    let _instances = cluster.spawn_many(4, &[]).await;
    cluster.enable_canary("* * * * * *");
    let until = Instant::now() + Duration::from_secs(16);
    let mut samples = 0;
    while Instant::now() < until {
        let runs = cluster.runs().await;
        let running = runs.iter().filter(|r| r.state == "running").count();
        assert!(running <= 1, "two running rows: {runs:?}");
        samples += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cluster.drain_canary().await;
    let runs = cluster.runs().await;
    let mut done: Vec<&Run> = runs.iter().filter(|r| r.state == "succeeded").collect();
    done.sort_by_key(|r| r.started_at);
    assert!(done.len() >= 3, "{runs:?}");
    for pair in done.windows(2) {
        assert!(
            pair[0].finished_at <= pair[1].started_at,
            "runs overlap: {:?} and {:?}",
            pair[0],
            pair[1]
        );
    }
    let skipped = runs
        .iter()
        .filter(|r| r.state == "skipped" && r.reason == "overlap")
        .count();
    assert!(
        skipped >= done.len(),
        "{skipped} overlap skips for {} runs",
        done.len()
    );
    println!(
        "{samples} samples, {} runs, {skipped} overlap skips",
        done.len()
    );
}

/// "Run now" sent to two instances with the same request key makes one run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_now_sent_to_two_instances_with_one_key_makes_one_run() {
    let cluster = Cluster::new(Backend::Postgres, &[]).await;
    let key = cluster.create_user("ops@example.com", "ops-password-1", true);
    let instances = cluster.spawn_many(2, &[]).await;
    let client = reqwest::Client::new();
    let sends = instances.iter().map(|i| {
        client
            .post(format!(
                "http://127.0.0.1:{}/api/admin/jobs/{CANARY}/trigger",
                i.port
            ))
            .bearer_auth(&key)
            .header("Idempotency-Key", "deploy-42")
            .send()
    });
    let mut run_ids = BTreeSet::new();
    for r in futures::future::join_all(sends).await {
        let r = r.expect("send");
        assert!(r.status().is_success(), "{}", r.status());
        let body: serde_json::Value = r.json().await.expect("json");
        run_ids.insert(body["run_id"].as_i64().expect("run id"));
    }
    assert_eq!(run_ids.len(), 1, "both answers name the same run");
    let done = cluster
        .wait_for("the manual run", Duration::from_secs(30), |runs| {
            runs.iter()
                .find(|r| r.kind == "manual" && r.state == "succeeded")
                .cloned()
        })
        .await;
    let runs = cluster.runs().await;
    assert_eq!(runs.iter().filter(|r| r.kind == "manual").count(), 1);
    assert_eq!(Some(&done.id), run_ids.first());
}
