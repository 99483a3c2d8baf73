//! `smmd-bench billing`: hourly billing at scale (issue 16, "Figures").
//!
//! For each backend it creates a fresh database with N users (default 100,000), each renting
//! one plan (0.10 an hour) with a balance for a few days, then runs the `billing.rentals` job
//! in process (the same function the scheduler runs) twice: once one hour later (one hour for
//! every rental) and once after a simulated outage (default 72 hours for every rental). It
//! prints, per run, the seconds, hour rows written per second, and the longest single user's
//! transaction (what holds the SQLite writer at a time), and the bench process's peak RSS.
//! Targets: one hourly run for 100,000 rentals ≤ 10 s, the 72-hour catch-up ≤ 5 min, no
//! transaction over 50 ms.

use std::sync::Arc;
use std::time::Instant;

use clap::Args as ClapArgs;
use futures::StreamExt;
use smmd_domain::billing::charge::CapMode;
use smmd_domain::billing::HOUR_MS;
use smmd_domain::{Money, UserId};
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
        "{:<9} {:<10} {:>9} {:>12} {:>10} {:>14} {:>12}",
        "backend", "run", "seconds", "hour rows", "rows/s", "longest tx ms", "peak RSS MB"
    );
    for backend in &args.backends {
        let db = BenchDb::create(backend).await?;
        let store: Arc<dyn Store> = db.store.clone();
        let started = Instant::now();
        seed(&store, b.rentals).await?;
        println!(
            "{:<9} {:<10} {:>9.1}",
            backend,
            "seed",
            started.elapsed().as_secs_f64()
        );
        for (name, at) in [
            ("hourly", T0 + HOUR_MS),
            ("catch-up", T0 + (1 + b.catch_up_hours) * HOUR_MS),
        ] {
            let (seconds, rows, longest) = timed_run(&store, at).await?;
            println!(
                "{:<9} {:<10} {:>9.2} {:>12} {:>10.0} {:>14.1} {:>12.0}",
                backend,
                name,
                seconds,
                rows,
                rows as f64 / seconds.max(1e-9),
                longest,
                peak_rss_mb()
            );
        }
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

/// Reconciles everyone to `at`: 200 users one by one first (each alone, timed: one user's
/// transaction is the longest a run holds the SQLite writer at a time), then the job for the
/// rest. Returns the seconds of both, the hour rows written and the longest of those 200 (ms).
async fn timed_run(store: &Arc<dyn Store>, at: i64) -> anyhow::Result<(f64, i64, f64)> {
    let started = Instant::now();
    let mut longest = 0f64;
    let mut rows = 0;
    for id in 1..=200 {
        let one = Instant::now();
        let r = store.bill_user(UserId(id), at).await?;
        longest = longest.max(one.elapsed().as_secs_f64() * 1000.0);
        rows += r.hours_paid + r.hours_due + r.hours_waived;
    }
    let (report, failed) = smmd_jobs::billing::run(store.as_ref(), at)
        .await
        .map_err(|e| anyhow::anyhow!("run: {e:?}"))?;
    anyhow::ensure!(failed == 0, "{failed} users failed");
    rows += report.hours_paid + report.hours_due + report.hours_waived;
    Ok((started.elapsed().as_secs_f64(), rows, longest))
}

/// The peak resident set of this process (Linux `VmHWM`), MB.
fn peak_rss_mb() -> f64 {
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
