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
//! call (an upper bound of a step's write transaction, which is what holds the SQLite writer)
//! and the process's peak RSS. Target: steps under 50 ms on SQLite.

use std::sync::Arc;
use std::time::Instant;

use clap::Args as ClapArgs;
use smmd_domain::affiliate::calendar::{Date, RunKind};
use smmd_domain::clock::DAY_MS;
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
        "{:<9} {:<8} {:>9} {:>10} {:>7} {:>12} {:>12} {:>12} {:>12}",
        "backend",
        "run",
        "seconds",
        "rows",
        "steps",
        "step p50 ms",
        "step p99 ms",
        "step max ms",
        "peak RSS MB"
    );
    for backend in &args.backends {
        let db = BenchDb::create(backend).await?;
        let store: Arc<dyn Store> = db.store.clone();
        let started = Instant::now();
        seed(&db.url, a).await?;
        println!(
            "{:<9} {:<8} {:>9.1}",
            backend,
            "seed",
            started.elapsed().as_secs_f64()
        );
        // affiliates.release at T: the due tenth approved.
        let (mut approved, mut steps) = (0i64, Vec::new());
        let started = Instant::now();
        loop {
            let step = Instant::now();
            let r = store
                .release_commissions(T, smmd_jobs::affiliates::STEP)
                .await?;
            steps.push(step.elapsed().as_secs_f64() * 1000.0);
            approved += r.approved;
            if !r.more {
                break;
            }
        }
        line(backend, "release", started, approved, &mut steps);
        // The first-Monday run over every affiliate with a balance.
        let run = NewPayoutRun {
            kind: RunKind::All,
            date: Date::of(T),
            scheduled_at: T,
        };
        let (mut after, mut created, mut steps) = (0i64, 0i64, Vec::new());
        let started = Instant::now();
        loop {
            let step = Instant::now();
            let s = store
                .run_payouts(&run, after, smmd_jobs::affiliates::RUN_STEP, T + 60_000)
                .await?;
            steps.push(step.elapsed().as_secs_f64() * 1000.0);
            created += s.created;
            after = s.cursor;
            if !s.more {
                anyhow::ensure!(s.run.candidates == a.affiliates.min(a.commissions / 10));
                break;
            }
        }
        line(backend, "payouts", started, created, &mut steps);
        let bad = store.affiliate_mismatches().await?;
        anyhow::ensure!(bad.is_empty(), "affiliate ledger mismatch: {bad:?}");
        db.drop_db().await;
    }
    Ok(())
}

/// One result line: seconds, rows, the step durations' p50, p99 and max (ms), peak RSS.
fn line(backend: &str, run: &str, started: Instant, rows: i64, steps: &mut [f64]) {
    steps.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let i = ((steps.len() as f64 - 1.0) * q).round() as usize;
        steps.get(i).copied().unwrap_or(0.0)
    };
    println!(
        "{:<9} {:<8} {:>9.2} {:>10} {:>7} {:>12.1} {:>12.1} {:>12.1} {:>12.0}",
        backend,
        run,
        started.elapsed().as_secs_f64(),
        rows,
        steps.len(),
        at(0.5),
        at(0.99),
        at(1.0),
        crate::billing::peak_rss_mb()
    );
}

/// Bulk rows: `n` affiliates (user ids from the first one created) with codes, approved
/// methods for nine in ten, and `m` held commissions spread over them, one in ten due at `T`
/// and worth 120.00 (ten commissions per affiliate, one of them due).
async fn seed(url: &str, a: &AffiliatesArgs) -> anyhow::Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let at = T - 60 * DAY_MS;
    let series = |n: i64| {
        format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})")
    };
    let statements = [
        format!(
            "{} INSERT INTO users (email, email_lower, password_hash, role, balance, created_at) \
             SELECT 'aff' || i || '@bench.example', 'aff' || i || '@bench.example', 'x', 'user', 0, {at} FROM n",
            series(a.affiliates)
        ),
        format!(
            "INSERT INTO affiliates (user_id, code, created_at) \
             SELECT id, 'C' || id, {at} FROM users WHERE email LIKE 'aff%'"
        ),
        format!(
            "INSERT INTO payout_methods (user_id, kind, details, status, created_at, decided_at, approved_at) \
             SELECT user_id, 'paypal', 'p' || user_id || '@bench.example', 'approved', {at}, {at}, {at} \
             FROM affiliates WHERE user_id % 10 <> 0"
        ),
    ];
    for sql in statements {
        sqlx::query(&sql).execute(&mut conn).await?;
    }
    let first: i64 = sqlx::query_scalar("SELECT MIN(user_id) FROM affiliates")
        .fetch_one(&mut conn)
        .await?;
    // The commissions in chunks of 100,000 (one statement each).
    let chunk = 100_000i64;
    let mut done = 0i64;
    while done < a.commissions {
        let n = chunk.min(a.commissions - done);
        let sql = format!(
            "{} INSERT INTO commissions (order_id, affiliate_id, referred_id, rate_bp, charge, amount, \
             status, approve_at, created_at, updated_at) \
             SELECT {done} + i, {first} + (({done} + i) / 10 % {aff}), {first} + (({done} + i) / 10 % {aff}), 500, \
             CASE WHEN ({done} + i) % 10 = 0 THEN 2400000000 ELSE 10000000 END, \
             CASE WHEN ({done} + i) % 10 = 0 THEN 120000000 ELSE 500000 END, 'held', \
             CASE WHEN ({done} + i) % 10 = 0 THEN {due} ELSE {later} END, {at}, {at} FROM n",
            series(n),
            aff = a.affiliates,
            due = T - 1,
            later = T + 30 * DAY_MS,
        );
        sqlx::query(&sql).execute(&mut conn).await?;
        done += n;
    }
    Ok(())
}
