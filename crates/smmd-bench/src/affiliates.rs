//! `smmd-bench affiliates`: the affiliate jobs at scale (issue 17, "Figures").
//!
//! For each backend it creates a fresh database with N affiliates (default 100,000; nine in
//! ten with an approved payout method) and M commissions (default 1,000,000, held; one in
//! ten due now, each worth 120.00, so every affiliate has one due), written in bulk with SQL.
//! Then it runs, in process and through the same store calls the jobs make:
//!
//! - `affiliates.release` at the due instant: the due commissions approved and credited, in
//!   steps of `smmd_jobs::affiliates::STEP`;
//! - a payout run (`all`) over every affiliate with a balance, in steps of
//!   `smmd_jobs::affiliates::RUN_STEP`.
//!
//! Per run it prints the seconds, the rows handled, the p50, p99 and longest single store
//! call, the longest write transaction (from BEGIN acquired to COMMIT done, as the store
//! measures it: what holds the SQLite writer) and the process's peak RSS. Target: every
//! transaction under 50 ms on SQLite.

use std::sync::Arc;
use std::time::Instant;

use clap::Args as ClapArgs;
use smmd_domain::affiliate::calendar::{Date, RunKind};
use smmd_store::prelude::*;
use smmd_store::NewPayoutRun;

use crate::{Args, BenchDb};

#[derive(ClapArgs, Clone)]
pub struct AffiliatesArgs {
    /// Affiliates.
    #[arg(long, default_value_t = 100_000)]
    affiliates: i64,
    /// Commissions (one in ten due at the run).
    #[arg(long, default_value_t = 1_000_000)]
    commissions: i64,
}

/// 2027-02-01T02:00Z: the first Monday of February 2027, the run's instant.
const T: i64 = 1_801_792_800_000;

pub async fn run(args: &Args, a: &AffiliatesArgs) -> anyhow::Result<()> {
    println!(
        "smmd-bench affiliates: {} affiliates, {} commissions, {} cores",
        a.affiliates,
        a.commissions,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<9} {:<8} {:>9} {:>10} {:>7} {:>12} {:>12} {:>12} {:>12} {:>11} {:>12}",
        "backend",
        "run",
        "seconds",
        "rows",
        "steps",
        "step p50 ms",
        "step p99 ms",
        "step max ms",
        "max tx ms",
        "tx > 50 ms",
        "peak RSS MB"
    );
    for backend in &args.backends {
        let db = BenchDb::create(backend).await?;
        let store: Arc<dyn Store> = db.store.clone();
        let started = Instant::now();
        smmd_store_sql::testing::seed_affiliates(&db.url, a.affiliates, a.commissions, T).await?;
        println!(
            "{:<9} {:<8} {:>9.1}",
            backend,
            "seed",
            started.elapsed().as_secs_f64()
        );
        // affiliates.release at T: the due tenth approved.
        let (mut approved, mut steps, mut txs) = (0i64, Vec::new(), Vec::new());
        let started = Instant::now();
        loop {
            let step = Instant::now();
            let r = store
                .release_commissions(T, smmd_jobs::affiliates::STEP)
                .await?;
            steps.push(step.elapsed().as_secs_f64() * 1000.0);
            approved += r.approved;
            txs.push(r.longest_tx_us);
            if !r.more {
                break;
            }
        }
        line(backend, "release", started, approved, &mut steps, &txs);
        // The first-Monday run over every affiliate with a balance.
        let run = NewPayoutRun {
            kind: RunKind::All,
            date: Date::of(T),
            scheduled_at: T,
        };
        let (mut after, mut created, mut steps, mut txs) = (0i64, 0i64, Vec::new(), Vec::new());
        let started = Instant::now();
        loop {
            let step = Instant::now();
            let s = store
                .run_payouts(&run, after, smmd_jobs::affiliates::RUN_STEP, T + 60_000)
                .await?;
            steps.push(step.elapsed().as_secs_f64() * 1000.0);
            created += s.created;
            txs.push(s.tx_us);
            after = s.cursor;
            if !s.more {
                anyhow::ensure!(s.run.candidates == a.affiliates.min(a.commissions / 10));
                break;
            }
        }
        line(backend, "payouts", started, created, &mut steps, &txs);
        let bad = store.affiliate_mismatches().await?;
        anyhow::ensure!(bad.is_empty(), "affiliate ledger mismatch: {bad:?}");
        db.drop_db().await;
    }
    Ok(())
}

/// One result line: seconds, rows, the step durations' p50, p99 and max (ms), the longest
/// transaction of each step (`txs`, µs: their max in ms and how many passed 50 ms), peak RSS.
fn line(backend: &str, run: &str, started: Instant, rows: i64, steps: &mut [f64], txs: &[i64]) {
    steps.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((steps.len() as f64 - 1.0) * q).round() as usize;
        steps.get(i).copied().unwrap_or(0.0)
    };
    println!(
        "{:<9} {:<8} {:>9.2} {:>10} {:>7} {:>12.1} {:>12.1} {:>12.1} {:>12.1} {:>11} {:>12.0}",
        backend,
        run,
        started.elapsed().as_secs_f64(),
        rows,
        steps.len(),
        at(0.5),
        at(0.99),
        at(1.0),
        txs.iter().copied().max().unwrap_or(0) as f64 / 1000.0,
        txs.iter().filter(|&&us| us > 50_000).count(),
        crate::billing::peak_rss_mb()
    );
}
