//! `smmd-bench billing`: hourly billing at scale (issue 16, "Figures").
//!
//! For each backend it creates a fresh database with N users (default 100,000), each renting
//! one plan (0.10 an hour) with a balance for a few days, then runs the `billing.rentals` job
//! in process (the same function the scheduler runs) twice: once one hour later (one hour for
//! every rental) and once after a simulated outage (default 72 hours for every rental). It
//! prints, per run, the seconds, hour rows written per second, the run's longest write
//! transaction (what holds the SQLite writer at a time), the bench process's peak RSS, and the
//! p99 of `/api/v2` `add` from a reseller placing orders back to back on 2 connections during
//! the first `--seconds` of the run, next to a baseline without billing. The panel serving
//! `/api/v2` runs in this process on the same store (its scheduler off), as `smmd serve` runs
//! the job beside its requests: they share the pools, and on SQLite the one writer.
//! Targets: one hourly run for 100,000 rentals ≤ 10 s, the 72-hour catch-up ≤ 5 min, no
//! transaction over 50 ms.

use std::sync::Arc;
use std::time::Instant;

use clap::Args as ClapArgs;
use futures::StreamExt;
use smmd_domain::billing::charge::CapMode;
use smmd_domain::billing::HOUR_MS;
use smmd_domain::{Money, SystemClock};
use smmd_store::prelude::*;
use smmd_store::{BalanceChange, BillingSettingsPatch, LedgerKind, NewPlan, NewUser, Role};

use crate::{Args, BenchDb};

#[derive(ClapArgs, Clone)]
pub struct BillingArgs {
    /// Users, each with one active rental.
    #[arg(long, default_value_t = 100_000)]
    rentals: i64,
    /// Hours of the catch-up run (the outage).
    #[arg(long, default_value_t = 72)]
    catch_up_hours: i64,
}

/// 2027-01-04T00:00Z: a Monday, far from a month's end (no line starts mid-run).
const T0: i64 = 1_799_020_800_000;

pub async fn run(args: &Args, b: &BillingArgs) -> anyhow::Result<()> {
    println!(
        "smmd-bench billing: {} rentals, catch-up {} h, {} cores",
        b.rentals,
        b.catch_up_hours,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<9} {:<10} {:>9} {:>12} {:>10} {:>14} {:>12} {:>12} {:>9}",
        "backend",
        "run",
        "seconds",
        "hour rows",
        "rows/s",
        "longest tx ms",
        "peak RSS MB",
        "add p99 ms",
        "adds"
    );
    for backend in &args.backends {
        let db = BenchDb::create(backend).await?;
        let store: Arc<dyn Store> = db.store.clone();
        let started = Instant::now();
        // The reseller (user 1, with services) first, then the renters.
        crate::seed(&db.store, args).await?;
        seed(&store, b.rentals).await?;
        println!(
            "{:<9} {:<10} {:>9.1}",
            backend,
            "seed",
            started.elapsed().as_secs_f64()
        );
        let mut config = smmd_server::Config::default();
        config.server.listen = "127.0.0.1:0".into();
        config.metrics.enabled = false;
        config.scheduler.enabled = false;
        // Orders back to back measure the store, not the per-key limit.
        config.server.api_rate_per_minute = 0;
        let app = smmd_server::App::build(config, store.clone(), Arc::new(SystemClock)).await?;
        let addr = Some(app.addr());
        let server = tokio::spawn(app.run_until(std::future::pending()));
        if let Some(addr) = addr {
            let base = adds(addr, args.seconds).await?;
            println!(
                "{:<9} {:<10} {:>9} {:>12} {:>10} {:>14} {:>12} {:>12.2} {:>9}",
                backend, "no billing", "", "", "", "", "", base.p99_ms, base.requests
            );
        }
        for (name, at) in [
            ("hourly", T0 + HOUR_MS),
            ("catch-up", T0 + (1 + b.catch_up_hours) * HOUR_MS),
        ] {
            let load = addr.map(|a| tokio::spawn(adds(a, args.seconds)));
            if load.is_some() {
                // The load's 1 s warm-up, so the run starts inside its window.
                tokio::time::sleep(std::time::Duration::from_millis(1_000)).await;
            }
            let (seconds, rows, longest) = timed_run(&store, at).await?;
            let p99 = match load {
                Some(l) => {
                    let r = l.await??;
                    (format!("{:.2}", r.p99_ms), r.requests.to_string())
                }
                None => ("-".into(), "-".into()),
            };
            println!(
                "{:<9} {:<10} {:>9.2} {:>12} {:>10.0} {:>14.1} {:>12.0} {:>12} {:>9}",
                backend,
                name,
                seconds,
                rows,
                rows as f64 / seconds.max(1e-9),
                longest,
                peak_rss_mb(),
                p99.0,
                p99.1
            );
        }
        server.abort();
        let bad = store.ledger_mismatches().await?;
        anyhow::ensure!(bad.is_empty(), "ledger mismatch after the runs: {bad:?}");
        db.drop_db().await;
    }
    Ok(())
}

/// Billing on, one plan, and `n` users with 30.00 each renting it at `T0`.
async fn seed(store: &Arc<dyn Store>, n: i64) -> anyhow::Result<()> {
    let on = BillingSettingsPatch {
        enabled: Some(true),
        ..Default::default()
    };
    store.update_billing_settings(&on, None, T0, None).await?;
    let plan = store
        .create_plan(
            &NewPlan {
                code: "bench".into(),
                name: "Bench".into(),
                description: String::new(),
                price: Money::from_micros(73_000_000),
                cap_mode: CapMode::H730,
                setup_fee: Money::ZERO,
                entitlement: "reseller_tier".into(),
                settings: "{}".into(),
            },
            T0,
            None,
        )
        .await
        .map_err(|e| anyhow::anyhow!("plan: {e}"))?;
    let mut tasks = futures::stream::iter(0..n)
        .map(|i| {
            let store = store.clone();
            async move {
                let u = store
                    .create_user(NewUser {
                        email: format!("renter{i}@bench.example"),
                        password_hash: "$argon2id$bench".into(),
                        role: Role::User,
                        api_key_hash: None,
                        now: T0,
                        audit: None,
                        referral: None,
                    })
                    .await?;
                store
                    .change_balance(BalanceChange {
                        user_id: u.id,
                        amount: Money::from_micros(30_000_000),
                        kind: LedgerKind::Deposit,
                        key: format!("bench:{}", u.id.0),
                        reason: "bench".into(),
                        actor_id: None,
                        now: T0,
                        audit: None,
                    })
                    .await
                    .map_err(|e| anyhow::anyhow!("credit: {e}"))?;
                store
                    .rent(u.id, plan.id, T0)
                    .await
                    .map_err(|e| anyhow::anyhow!("rent: {e}"))?;
                anyhow::Ok(())
            }
        })
        .buffer_unordered(8);
    while let Some(r) = tasks.next().await {
        r?;
    }
    Ok(())
}

/// Runs the job to `at`. Returns its seconds, the hour rows written and its longest write
/// transaction (ms).
async fn timed_run(store: &Arc<dyn Store>, at: i64) -> anyhow::Result<(f64, i64, f64)> {
    let started = Instant::now();
    let (report, failed) = smmd_jobs::billing::run(store.as_ref(), at)
        .await
        .map_err(|e| anyhow::anyhow!("run: {e:?}"))?;
    anyhow::ensure!(failed == 0, "{failed} users failed");
    let rows = report.hours_paid + report.hours_due + report.hours_waived;
    Ok((
        started.elapsed().as_secs_f64(),
        rows,
        report.longest_tx_us as f64 / 1000.0,
    ))
}

/// A reseller placing `/api/v2` `add` orders back to back on 2 connections for `seconds`.
async fn adds(addr: std::net::SocketAddr, seconds: u64) -> anyhow::Result<crate::Report> {
    crate::run(addr, "add", 2, seconds, 1).await
}

/// The peak resident set of this process (Linux `VmHWM`), MB.
pub(crate) fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}
