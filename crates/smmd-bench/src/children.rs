//! `smmd-bench children`: the figures of hosted child panels (issue 19) on one real
//! `smmd serve` process, per backend (children as SQLite files, then as PostgreSQL schemas):
//!
//! - **Provisioning**: the time from registering one child (a rental of a `child_panel` plan,
//!   written as `smmd_app::panels::rent` writes it) to its panel serving, first alone, then for
//!   the rest registered at once (wall time to all active, and per child).
//! - **Idle cost**: resident memory and open file descriptors of the process with every child
//!   serving and its jobs running, minus the same figures before the first child, per child.
//! - **Root throughput**: `/api/v2` `status` (one order) and `add` at the same concurrency,
//!   before any child, with every child's engine running, and again after every child was
//!   removed; the ratio of the "with" median to the mean of the two baselines' medians, each of
//!   `--rounds` alternating rounds (the rounds printed beside). A fourth set of rounds, on a
//!   fresh process over the same database after the rest, tells what the process kept from
//!   its children from what the database did.
//! - **Process state** before each phase: idle CPU over 5 s, threads, open files, RSS.
//! - **Lateness**: every tick run each child's scheduler started in a window after the
//!   children settled (start − nominal tick, from each child's own `schedule_runs`), with the
//!   children that ran nothing and the ticks that did not succeed counted.
//!
//! The root is seeded like the `/api/v2` bench (200 services, 20,000 orders, one admin
//! reseller); the children import that catalogue through the root's `/api/v2`, as renters'
//! panels do.

use std::time::{Duration, Instant};

use anyhow::Context;
use hdrhistogram::Histogram;
use smmd_domain::{Clock, Money, SystemClock};
use smmd_store::prelude::*;
use smmd_store::{BalanceChange, LedgerKind, NewPanel, NewPlan, NewUser, Role};
use sqlx::Row;

use crate::ws::rss_kb;
use crate::{Args, BenchDb, Server};

/// Options of `smmd-bench children`.
#[derive(clap::Args, Clone, Debug)]
pub struct ChildrenArgs {
    /// Child panels on the one instance.
    #[arg(long, default_value_t = 500)]
    pub children: usize,
    /// Open connections of the root throughput figures.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// Measured seconds per throughput figure (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Rounds of each throughput figure (`status` and `add` alternating); the median counts.
    /// One 10 s figure on this 2-core machine varies by ±20 % from the next.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Seconds the children run before the idle figures are read.
    #[arg(long, default_value_t = 40)]
    pub settle: u64,
    /// Seconds of children's ticks the lateness is read over.
    #[arg(long, default_value_t = 60)]
    pub window: u64,
    /// PostgreSQL: `VACUUM (ANALYZE)` the root's tables before each throughput round when the
    /// server runs without autovacuum (as on this machine), as autovacuum would between them;
    /// `off` measures the root as its dead rows pile up.
    #[arg(long, default_value = "auto")]
    pub vacuum: String,
}

/// 64 hex characters: children derive their secrets from the root's.
const SECRET: &str = "6368696c6472656e2d62656e63682d7365637265742d6b65792d303132333435";

pub async fn run(args: &Args, c: &ChildrenArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.smmd.exists(),
        "{} not found: run `cargo build --release -p smmd` first",
        args.smmd.display()
    );
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    println!(
        "smmd-bench children: {} child panels on one smmd serve, machine {} cores; root /api/v2 at {} connections for {} s per figure",
        c.children,
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        c.concurrency,
        c.seconds
    );
    for backend in &args.backends {
        let db = BenchDb::create(backend).await?;
        let result = one_backend(args, c, backend, &db).await;
        // The children's schemas live in the bench database and go with it.
        db.drop_db().await;
        result?;
    }
    Ok(())
}

async fn one_backend(
    args: &Args,
    c: &ChildrenArgs,
    backend: &str,
    db: &BenchDb,
) -> anyhow::Result<()> {
    let store = db.store.clone();
    crate::seed(&store, args).await.context("seeding")?;
    let (plan, renter) = seed_renter(store.as_ref()).await?;
    let server = start_root(args, db).await?;
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!("== {backend}");

    let vacuum = match (backend, c.vacuum.as_str()) {
        ("postgres", "on") => Some(db.url.as_str()),
        ("postgres", "auto") if !autovacuum(&db.url).await? => Some(db.url.as_str()),
        _ => None,
    };
    if vacuum.is_some() {
        println!(
            "PostgreSQL runs without autovacuum here: the root's tables and the catalogue are vacuumed before each throughput round (--vacuum off to skip)"
        );
    }
    state(pid, "before any child").await;
    let before = throughput(&server, c, args.orders, vacuum).await?;
    let (rss0, fds0) = (rss_kb(pid), fds(pid));

    // One child alone, then the rest at once.
    let hash = smmd_app::secrets::hash_password("bench-child-admin")?;
    let t = Instant::now();
    let first = register(store.as_ref(), plan, renter, 0, &hash).await?;
    wait_active(store.as_ref(), &[first], Duration::from_secs(120)).await?;
    let one = t.elapsed();
    let t = Instant::now();
    let mut ids = vec![first];
    for i in 1..c.children {
        ids.push(register(store.as_ref(), plan, renter, i, &hash).await?);
    }
    let budget = Duration::from_secs(60 + 2 * c.children as u64);
    wait_active(store.as_ref(), &ids, budget).await?;
    let rest = t.elapsed();
    println!(
        "provisioning: one child alone {:.2} s; {} more registered at once: all serving after {:.1} s ({:.0} ms per child)",
        one.as_secs_f64(),
        c.children - 1,
        rest.as_secs_f64(),
        rest.as_secs_f64() * 1e3 / (c.children - 1).max(1) as f64
    );

    tokio::time::sleep(Duration::from_secs(c.settle)).await;
    let window_start = SystemClock.now_ms();
    let (rss1, fds1) = (rss_kb(pid), fds(pid));
    let n = c.children as f64;
    println!(
        "idle cost: RSS {:.1} MB -> {:.1} MB ({:.2} MB per child, target <= 2); open files {} -> {} ({:.2} per child, target <= 4)",
        rss0 as f64 / 1024.0,
        rss1 as f64 / 1024.0,
        (rss1 as f64 - rss0 as f64) / 1024.0 / n,
        fds0,
        fds1,
        (fds1 as f64 - fds0 as f64) / n
    );

    state(pid, "with every child").await;
    let after = throughput(&server, c, args.orders, vacuum).await?;

    // The window runs on while the children tick.
    let elapsed = (SystemClock.now_ms() - window_start) as u64 / 1000;
    if elapsed < c.window {
        tokio::time::sleep(Duration::from_secs(c.window - elapsed)).await;
    }
    let window_end = SystemClock.now_ms() - 2_000;
    let l = lateness(backend, db, &ids, window_start, window_end).await?;
    println!(
        "children's ticks over {} s: {} runs of {} children ({} ran none), {} not succeeded; lateness p50 {} ms, p99 {} ms, max {} ms (target p99 <= 1000)",
        (window_end - window_start) / 1000,
        l.hist.len(),
        c.children,
        l.silent,
        l.failed,
        l.hist.value_at_quantile(0.5),
        l.hist.value_at_quantile(0.99),
        l.hist.max()
    );

    // The baseline again with every child gone (the registry stops each at its next refresh):
    // the root's own drift over the run (its database grew by the `add` rounds, its caches
    // warmed) is then on both sides, and the ratio is to the mean of the two baselines.
    for id in &ids {
        store
            .remove_panel(*id, SystemClock.now_ms(), None)
            .await
            .context("removing a child")?;
    }
    tokio::time::sleep(Duration::from_secs(5)).await;
    state(pid, "with every child removed").await;
    let gone = throughput(&server, c, args.orders, vacuum).await?;
    // The same database served by a fresh process: what "gone" lost that a restart gives back
    // is the process's (memory, tasks), what it does not is the database's.
    drop(server);
    let server = start_root(args, db).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    state(server.child.id(), "restarted on the same database").await;
    let restarted = throughput(&server, c, args.orders, vacuum).await?;
    println!(
        "{:<10} {:>10} {:>10} {:>14} {:>8}   {:>9} {:>9}   rounds none | with | gone | restarted (req/s)",
        "root v2", "none req/s", "gone req/s", "children req/s", "ratio", "p99 none", "p99 with"
    );
    for (((b, a), g), r) in before
        .iter()
        .zip(after.iter())
        .zip(gone.iter())
        .zip(restarted.iter())
    {
        let (bm, am, gm) = (b.median(), a.median(), g.median());
        let base = (bm.rps + gm.rps) / 2.0;
        let errors: u64 = b
            .rounds
            .iter()
            .chain(&a.rounds)
            .chain(&g.rounds)
            .chain(&r.rounds)
            .map(|r| r.errors)
            .sum();
        println!(
            "{:<10} {:>10.0} {:>10.0} {:>14.0} {:>7.1}%   {:>7.2}ms {:>7.2}ms   {} | {} | {} | {}{}",
            b.name,
            bm.rps,
            gm.rps,
            am.rps,
            am.rps * 100.0 / base.max(1.0),
            bm.p99_ms,
            am.p99_ms,
            b.spread(),
            a.spread(),
            g.spread(),
            r.spread(),
            if errors > 0 {
                format!("  ({errors} errors)")
            } else {
                String::new()
            }
        );
    }
    drop(server);
    Ok(())
}

/// `smmd serve` on the bench's database with the children's settings.
async fn start_root(args: &Args, db: &BenchDb) -> anyhow::Result<Server> {
    Server::start_with(
        &args.smmd,
        &db.url,
        &[
            ("SMMD__SECURITY__SECRET_KEY", SECRET),
            ("SMMD__PANELS__REFRESH_MS", "500"),
        ],
    )
    .await
}

/// The `child_panel` plan and one renter with the funds for every child.
async fn seed_renter(store: &dyn Store) -> anyhow::Result<(i64, smmd_domain::UserId)> {
    let now = SystemClock.now_ms();
    store
        .update_billing_settings(
            &smmd_store::BillingSettingsPatch {
                enabled: Some(true),
                ..Default::default()
            },
            None,
            now,
            None,
        )
        .await?;
    let plan = store
        .create_plan(
            &NewPlan {
                code: "child".into(),
                name: "Child panel".into(),
                description: String::new(),
                price: Money::parse("73")?,
                cap_mode: smmd_domain::billing::charge::CapMode::H730,
                setup_fee: Money::ZERO,
                entitlement: "child_panel".into(),
                settings: "{}".into(),
            },
            now,
            None,
        )
        .await?;
    let renter = store
        .create_user(NewUser {
            email: "renter@example.com".into(),
            password_hash: smmd_app::secrets::hash_password("renter-password")?,
            role: Role::User,
            api_key_hash: None,
            now,
            audit: None,
            referral: None,
        })
        .await?;
    store
        .change_balance(BalanceChange {
            user_id: renter.id,
            amount: Money::parse("1000000")?,
            kind: LedgerKind::Deposit,
            key: "bench-renter".into(),
            reason: String::new(),
            actor_id: None,
            now,
            audit: None,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((plan.id, renter.id))
}

/// Registers child `i` as the rent use case does (rental and registry row in one
/// transaction); the server's registry provisions it.
async fn register(
    store: &dyn Store,
    plan: i64,
    owner: smmd_domain::UserId,
    i: usize,
    hash: &str,
) -> anyhow::Result<i64> {
    let p = store
        .rent_panel(
            &NewPanel {
                owner,
                plan_id: plan,
                hostnames: vec![format!("c{i}.bench.test")],
                name: format!("Child {i}"),
                currency: "USD".into(),
                markup_bp: 5_000,
                admin_email: format!("admin@c{i}.bench.test"),
                admin_password_hash: hash.to_string(),
            },
            SystemClock.now_ms(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("renting child {i}: {e:?}"))?;
    Ok(p.id)
}

/// Waits until every panel of `ids` serves (the registry's state), or fails with the first
/// one's error after `budget`.
async fn wait_active(store: &dyn Store, ids: &[i64], budget: Duration) -> anyhow::Result<()> {
    let until = Instant::now() + budget;
    loop {
        let panels = store.panels().await?;
        let pending: Vec<_> = panels
            .iter()
            .filter(|p| ids.contains(&p.id))
            .filter(|p| p.state() != smmd_domain::panel::PanelState::Active)
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        if Instant::now() > until {
            anyhow::bail!(
                "{} children not serving after {} s; first: {:?} (error {:?})",
                pending.len(),
                budget.as_secs(),
                pending[0].state(),
                pending[0].error
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One scenario's rounds.
struct Rounds {
    name: &'static str,
    rounds: Vec<crate::Report>,
}

impl Rounds {
    /// The round with the median rate.
    fn median(&self) -> &crate::Report {
        let mut by_rate: Vec<&crate::Report> = self.rounds.iter().collect();
        by_rate.sort_by(|a, b| a.rps.total_cmp(&b.rps));
        by_rate[by_rate.len() / 2]
    }

    fn spread(&self) -> String {
        let rates: Vec<String> = self
            .rounds
            .iter()
            .map(|r| format!("{:.0}", r.rps))
            .collect();
        rates.join(" ")
    }
}

/// `status` and `add`, alternating, `c.rounds` times each.
async fn throughput(
    server: &Server,
    c: &ChildrenArgs,
    orders: i64,
    vacuum: Option<&str>,
) -> anyhow::Result<Vec<Rounds>> {
    let mut out: Vec<Rounds> = ["status", "add"]
        .into_iter()
        .map(|name| Rounds {
            name,
            rounds: Vec::new(),
        })
        .collect();
    for _ in 0..c.rounds.max(1) {
        for r in &mut out {
            if let Some(url) = vacuum {
                vacuum_root(url).await?;
            }
            let report = crate::run(server.addr, r.name, c.concurrency, c.seconds, orders).await?;
            r.rounds.push(report);
        }
    }
    Ok(out)
}

/// Whether the PostgreSQL server at `url` runs autovacuum.
async fn autovacuum(url: &str) -> anyhow::Result<bool> {
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
    let on: String = sqlx::query_scalar("SELECT current_setting('autovacuum')")
        .fetch_one(&mut conn)
        .await?;
    Ok(on == "on")
}

/// `VACUUM (ANALYZE)` of the root's tables (schema `public`) and of the system catalogue (which
/// provisioning's migrations churn), what autovacuum would have done by now.
async fn vacuum_root(url: &str) -> anyhow::Result<()> {
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url).await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables \
         WHERE schemaname IN ('public', 'pg_catalog') ORDER BY 1",
    )
    .fetch_all(&mut conn)
    .await?;
    sqlx::query(&format!("VACUUM (ANALYZE) {}", tables.join(", ")))
        .execute(&mut conn)
        .await?;
    Ok(())
}

struct Lateness {
    hist: Histogram<u64>,
    silent: usize,
    failed: usize,
}

/// Every tick run in `[from, to)` of each child, read from its own storage.
async fn lateness(
    backend: &str,
    db: &BenchDb,
    ids: &[i64],
    from: i64,
    to: i64,
) -> anyhow::Result<Lateness> {
    let mut l = Lateness {
        hist: Histogram::new_with_bounds(1, 3_600_000, 3)?,
        silent: 0,
        failed: 0,
    };
    let sql = |table: &str| {
        format!(
            "SELECT state, COALESCE(started_at, 0) AS started_at, scheduled_for FROM {table} \
             WHERE kind = 'tick' AND scheduled_for >= {from} AND scheduled_for < {to}"
        )
    };
    for id in ids {
        let rows = if backend == "postgres" {
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&db.url).await?;
            sqlx::query(&sql(&format!("panel_{id}.schedule_runs")))
                .fetch_all(&mut conn)
                .await?
        } else {
            let file = db
                .url
                .trim_start_matches("sqlite://")
                .trim_end_matches("bench.db")
                .to_string();
            let url = format!("sqlite://{file}panels/{id}/smmd.db?mode=ro");
            let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
                .await
                .with_context(|| format!("opening {url}"))?;
            sqlx::query(&sql("schedule_runs"))
                .fetch_all(&mut conn)
                .await?
        };
        if rows.is_empty() {
            l.silent += 1;
        }
        for r in rows {
            let state: String = r.get("state");
            let started: i64 = r.get("started_at");
            if started == 0 || !matches!(state.as_str(), "succeeded" | "running") {
                l.failed += 1;
                continue;
            }
            let late = started - r.get::<i64, _>("scheduled_for");
            l.hist.record(late.max(1) as u64)?;
        }
    }
    Ok(l)
}

fn fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |d| d.count())
}

/// The process's state between phases: idle CPU over 5 s (share of one core), threads, open
/// files and RSS, printed as one line under `label`.
async fn state(pid: u32, label: &str) {
    let ticks = || {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                // Fields after the command's closing parenthesis: utime and stime are the 12th
                // and 13th (clock ticks, 100 a second here).
                let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
                Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
            })
            .unwrap_or(0)
    };
    let t0 = ticks();
    tokio::time::sleep(Duration::from_secs(5)).await;
    let busy = ticks().saturating_sub(t0);
    let threads = std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count());
    println!(
        "process {label}: idle CPU {:.1} % of one core, {threads} threads, {} open files, RSS {:.1} MB",
        busy as f64 / 5.0,
        fds(pid),
        rss_kb(pid) as f64 / 1024.0
    );
}
