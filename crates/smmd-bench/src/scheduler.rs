//! `smmd-bench scheduler`: the two figures of the scheduler issue, per backend.
//!
//! - **Overhead of one run** (claim → handler → record): an in-process engine on a fresh
//!   database with a no-op job on a 1-second schedule, driven by a manual clock one tick per
//!   pass; each pass reaps, claims, starts, runs and records exactly one run. Wall time per
//!   pass: mean, p50, p99.
//! - **Tick lateness** (actual start − nominal tick): N real `smmd serve` processes (the
//!   release binary) with the opt-in `scheduler.canary` on `* * * * * *`, for a fixed time;
//!   lateness read from the recorded runs (ms resolution), warm-up ticks excluded.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use hdrhistogram::Histogram;
use smmd_domain::{Clock, ManualClock};
use smmd_jobs::{Counters, Engine, EngineConfig, Job, JobContext, JobError};
use smmd_store::{NewSchedule, Store};
use sqlx::Row;

use crate::{Args, BenchDb};

#[derive(clap::Args, Clone)]
pub struct SchedulerArgs {
    /// Passes measured for the per-run overhead (after 100 warm-up passes).
    #[arg(long, default_value_t = 2_000)]
    runs: u64,
    /// Seconds of 1-second ticks per lateness measurement.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Instance counts for lateness (PostgreSQL; SQLite runs 1).
    #[arg(long, value_delimiter = ',', default_value = "1,4")]
    instances: Vec<usize>,
}

struct Noop;

#[async_trait]
impl Job for Noop {
    async fn run(&self, _: JobContext) -> Result<Counters, JobError> {
        Ok(Counters::new())
    }
}

pub async fn run(args: &Args, s: &SchedulerArgs) -> anyhow::Result<()> {
    println!(
        "smmd-bench scheduler: machine {} cores",
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "per-run overhead (claim -> handler -> record), {} runs:",
        s.runs
    );
    println!(
        "{:<9} {:>9} {:>9} {:>9} {:>9}",
        "backend", "mean ms", "p50 ms", "p99 ms", "runs/s"
    );
    for backend in &args.backends {
        let db = BenchDb::create(backend).await?;
        let h = overhead(db.store.clone(), s.runs).await?;
        println!(
            "{:<9} {:>9.3} {:>9.3} {:>9.3} {:>9.0}",
            backend,
            h.mean() / 1000.0,
            h.value_at_quantile(0.5) as f64 / 1000.0,
            h.value_at_quantile(0.99) as f64 / 1000.0,
            1e6 / h.mean()
        );
        db.drop_db().await;
    }
    anyhow::ensure!(
        args.smmd.exists(),
        "{} not found: run `cargo build --release -p smmd` first",
        args.smmd.display()
    );
    println!(
        "tick lateness of a 1 s schedule over {} s (start - nominal tick):",
        s.seconds
    );
    println!(
        "{:<9} {:>9} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "backend", "instances", "ticks", "p50 ms", "p99 ms", "max ms", "missed"
    );
    for backend in &args.backends {
        let counts: Vec<usize> = if backend == "sqlite" {
            vec![1]
        } else {
            s.instances.clone()
        };
        for n in counts {
            let db = BenchDb::create(backend).await?;
            let (mut late, missed) = lateness(&args.smmd, &db.url, n, s.seconds).await?;
            late.sort_unstable();
            let pick = |p: f64| late[((late.len() - 1) as f64 * p).round() as usize];
            println!(
                "{:<9} {:>9} {:>6} {:>8} {:>8} {:>8} {:>8}",
                backend,
                n,
                late.len(),
                pick(0.5),
                pick(0.99),
                late.last().copied().unwrap_or(0),
                missed
            );
            db.drop_db().await;
        }
    }
    Ok(())
}

/// Wall time (µs) of engine passes that each run exactly one no-op run.
async fn overhead(
    store: Arc<smmd_store_sql::SqlStore>,
    runs: u64,
) -> anyhow::Result<Histogram<u64>> {
    let store: Arc<dyn Store> = store;
    let t0 = 1_767_225_600_000;
    store
        .ensure_schedule(NewSchedule {
            name: "bench.noop".into(),
            expr: "* * * * * *".into(),
            zone: "UTC".into(),
            enabled: true,
            misfire: smmd_domain::schedule::Misfire::FireOnce,
            grace_ms: 5_000,
            catch_up_ms: 0,
            overlap: smmd_domain::schedule::Overlap::Skip,
            max_attempts: 1,
            retry_base_ms: 1_000,
            timeout_ms: 60_000,
            next_run_at: Some(t0),
            now: t0,
        })
        .await?;
    let clock = ManualClock::new(t0);
    let mut engine = Engine::new(
        store,
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        EngineConfig {
            instance: "bench".into(),
            ..EngineConfig::default()
        },
    );
    engine.register("bench.noop", Arc::new(Noop));
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for i in 0..runs + 100 {
        let start = Instant::now();
        let report = engine.tick().await?;
        let took = start.elapsed();
        anyhow::ensure!(
            report.executed == 1,
            "pass {i} ran {} runs",
            report.executed
        );
        if i >= 100 {
            h.record(u64::try_from(took.as_micros()).unwrap_or(u64::MAX).max(1))?;
        }
        clock.advance_ms(1_000);
    }
    Ok(h)
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn smmd(bin: &Path, url: &str, data: &Path) -> Command {
    let mut c = Command::new(bin);
    c.env_remove("SMMD_CONFIG")
        .env("SMMD__DATABASE__URL", url)
        .env("SMMD__DATA_DIR", data)
        .env(
            "SMMD__SECURITY__SECRET_KEY",
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        )
        .env("RUST_LOG", "error")
        .stdout(Stdio::null());
    c
}

fn cli(bin: &Path, url: &str, data: &Path, args: &[&str]) -> anyhow::Result<()> {
    let out = smmd(bin, url, data).args(args).output()?;
    anyhow::ensure!(
        out.status.success(),
        "smmd {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Lateness (ms) of each first-attempt canary tick after a 5 s warm-up, and how many ticks
/// in the window did not run.
async fn lateness(
    bin: &Path,
    url: &str,
    n: usize,
    seconds: u64,
) -> anyhow::Result<(Vec<i64>, usize)> {
    let data = tempfile::tempdir()?;
    cli(bin, url, data.path(), &["migrate"])?;
    cli(
        bin,
        url,
        data.path(),
        &["jobs", "set", "scheduler.canary", "--cron", "* * * * * *"],
    )?;
    let mut procs = Vec::new();
    for i in 0..n {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = smmd(bin, url, data.path())
            .arg("serve")
            .env("SMMD__SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("SMMD__SCHEDULER__INSTANCE", format!("bench-{i}"))
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting smmd")?;
        procs.push(Proc(child));
        for _ in 0..200 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    cli(
        bin,
        url,
        data.path(),
        &["jobs", "enable", "scheduler.canary"],
    )?;
    let enabled_at = now_ms();
    tokio::time::sleep(Duration::from_secs(seconds + 5)).await;
    cli(
        bin,
        url,
        data.path(),
        &["jobs", "disable", "scheduler.canary"],
    )?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(procs);
    let url = if url.starts_with("sqlite:") {
        format!("{url}?mode=rw")
    } else {
        url.to_string()
    };
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await?;
    let rows = sqlx::query(
        "SELECT r.scheduled_for, r.state, r.attempt, COALESCE(r.started_at, 0) AS started_at \
         FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id \
         WHERE s.name = 'scheduler.canary' AND r.kind = 'tick' AND r.scheduled_for >= $1 ORDER BY r.scheduled_for",
    )
    .bind(enabled_at + 5_000)
    .fetch_all(&mut conn)
    .await?;
    let mut late = Vec::new();
    let mut missed = 0;
    for r in &rows {
        let state: String = r.get("state");
        let attempt: i64 = r.get("attempt");
        if state == "succeeded" && attempt == 1 {
            late.push(r.get::<i64, _>("started_at") - r.get::<i64, _>("scheduled_for"));
        } else {
            missed += 1;
        }
    }
    anyhow::ensure!(!late.is_empty(), "no canary runs were recorded");
    Ok((late, missed))
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0))
}
