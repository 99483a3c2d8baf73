//! `smmd-bench`: throughput and latency of the reseller API of a real `smmd serve` process.
//!
//! For each backend it creates a fresh database (a SQLite file, or a new PostgreSQL database on
//! `SMMD_TEST_PG_URL`), seeds it through the store (one reseller with a large balance, a catalog
//! of services, imported orders to query), starts the `smmd` binary on it, and drives `/api/v2`
//! over keep-alive HTTP/1.1 connections, one per concurrency slot, for a fixed duration per
//! scenario. It prints requests/s and p50/p99/max latency (HDR histogram, microsecond
//! resolution) for `status` (one order), `status` (100 orders), `services`, `balance` and
//! `add`, each also as a share of the machine's ceiling at the same concurrency: a bare axum
//! server that parses the same form and answers a constant status (see [`ceiling`]), measured
//! first. The load generator shares the machine with the server; its CPU use is part of the
//! figures.
//!
//! `smmd-bench scheduler` measures the scheduler instead (see [`scheduler`]); `smmd-bench fulfil`
//! the provider side: status sync at 100,000 orders and dispatch throughput (see [`fulfil`]);
//! `smmd-bench rest` the REST API's catalog and order lists (see [`rest`]); `smmd-bench ws` the
//! live updates over WebSocket (see [`ws`]); `smmd-bench billing` hourly billing at scale (see
//! [`billing`]); `smmd-bench children` hosted child panels (see [`children`]).

mod affiliates;
mod billing;
mod ceiling;
mod children;
mod fulfil;
mod idle;
mod inserts;
mod rest;
mod scheduler;
mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use clap::Parser;
use hdrhistogram::Histogram;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use rand::Rng;
use smmd_domain::order::OrderStatus;
use smmd_domain::service::ServiceType;
use smmd_domain::{Money, OrderId, ServiceId};
use smmd_store::prelude::*;
use smmd_store::{BalanceChange, ImportedOrder, LedgerKind, NewUser, Role, ServiceDraft};
use smmd_store_sql::{ConnectOptions, SqlStore};
use tokio::net::TcpStream;

#[derive(Parser, Clone)]
#[command(about = "Benchmark smmd's /api/v2 over HTTP on SQLite and PostgreSQL")]
struct Args {
    /// The smmd binary to start (build it with `cargo build --release -p smmd`).
    #[arg(long, default_value = "target/release/smmd")]
    smmd: PathBuf,
    /// Backends to run: sqlite, postgres.
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    backends: Vec<String>,
    /// Concurrency levels (open connections).
    #[arg(long, value_delimiter = ',', default_value = "32,64")]
    concurrency: Vec<usize>,
    /// Scenarios: status, status100, services, balance, add (one reseller), add100 (each
    /// `add` from one of 100 resellers, at random).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "status,status100,services,balance,add"
    )]
    scenarios: Vec<String>,
    /// Measured seconds per scenario and concurrency (after a 1 s warm-up).
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Services in the seeded catalog.
    #[arg(long, default_value_t = 200)]
    services: i64,
    /// Imported orders to query.
    #[arg(long, default_value_t = 20_000)]
    orders: i64,
    #[command(subcommand)]
    command: Option<BenchCommand>,
}

#[derive(clap::Subcommand, Clone)]
enum BenchCommand {
    /// Scheduler figures: per-run overhead (claim → handler → record) in process, and tick
    /// lateness of a 1-second schedule across real `smmd serve` processes.
    Scheduler(scheduler::SchedulerArgs),
    /// Provider figures: one status-sync cycle over 100,000 active orders on 4 simulated
    /// providers (calls, seconds, memory), and dispatch throughput.
    Fulfil(fulfil::FulfilArgs),
    /// REST figures: `GET /api/smm/services` over 5,000 services and `GET /api/smm/orders` for
    /// a user with 100,000 orders (first page and a deep cursor), p50/p99 per backend.
    Rest(rest::RestArgs),
    /// Live-update figures: status event latency to 1,000 WebSocket clients during status
    /// sync cycles, and `smmd serve` memory with 10,000 idle clients.
    Ws(ws::WsArgs),
    /// Hostile clients: `smmd serve` under 20,000 connections that never finish their headers
    /// (held connections, memory, `/healthz` latency from another address).
    Idle(idle::IdleArgs),
    /// Hourly billing figures: one run billing an hour for 100,000 rentals, then a 72-hour
    /// catch-up (seconds, rows/s, longest transaction, peak RSS).
    Billing(billing::BillingArgs),
    /// Affiliate figures: `affiliates.release` approving 100,000 of 1,000,000 commissions, then
    /// a payout run over 100,000 affiliates (seconds, longest step, peak RSS).
    Affiliates(affiliates::AffiliatesArgs),
    /// Child panel figures: 500 children on one instance (SQLite files, then PostgreSQL
    /// schemas): provisioning time, idle memory and open files per child, root `/api/v2`
    /// throughput with and without them, and their ticks' lateness.
    Children(children::ChildrenArgs),
    /// The floor under `add`: the group commit's statements run directly on a SQLite file (no
    /// server), orders/s per batch size.
    Inserts(inserts::InsertsArgs),
    /// (Helper of `idle`: holds connections from given source addresses.)
    #[command(hide = true)]
    IdleHold(idle::HoldArgs),
    /// (The ceiling: a bare axum server answering a constant status; see `ceiling`.)
    #[command(hide = true)]
    CeilingServe(ceiling::CeilingArgs),
}

const KEY: &str = "bench-key";
/// Resellers of the `add100` scenario: keys `bench-r0` … `bench-r99`.
const RESELLERS: usize = 100;
/// The seeded user's log-in (for session-cookie scenarios).
const BENCH_EMAIL: &str = "bench@example.com";
const BENCH_PASSWORD: &str = "bench-password";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    match &args.command {
        Some(BenchCommand::Scheduler(s)) => return scheduler::run(&args, s).await,
        Some(BenchCommand::Fulfil(f)) => return fulfil::run(&args, f).await,
        Some(BenchCommand::Rest(r)) => return rest::run(&args, r).await,
        Some(BenchCommand::Ws(w)) => return ws::run(&args, w).await,
        Some(BenchCommand::Idle(i)) => return idle::run(&args, i).await,
        Some(BenchCommand::Billing(b)) => return billing::run(&args, b).await,
        Some(BenchCommand::Affiliates(a)) => return affiliates::run(&args, a).await,
        Some(BenchCommand::Children(c)) => return children::run(&args, c).await,
        Some(BenchCommand::Inserts(i)) => return inserts::run(i).await,
        Some(BenchCommand::IdleHold(h)) => return idle::hold(h).await,
        Some(BenchCommand::CeilingServe(c)) => return ceiling::serve(c).await,
        None => {}
    }
    anyhow::ensure!(
        args.smmd.exists(),
        "{} not found: run `cargo build --release -p smmd` first",
        args.smmd.display()
    );
    println!(
        "smmd-bench: {} s per cell, {} services, {} orders, machine: {} cores",
        args.seconds,
        args.services,
        args.orders,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<9} {:<10} {:>5} {:>9} {:>10} {:>7} {:>9} {:>9} {:>9} {:>7}",
        "backend",
        "scenario",
        "conc",
        "requests",
        "req/s",
        "ceiling",
        "p50 ms",
        "p99 ms",
        "max ms",
        "errors"
    );
    let row = |backend: &str, scenario: &str, conc: usize, r: &Report, ceiling: f64| {
        println!(
            "{:<9} {:<10} {:>5} {:>9} {:>10.0} {:>6.1}% {:>9.2} {:>9.2} {:>9.2} {:>7}",
            backend,
            scenario,
            conc,
            r.requests,
            r.rps,
            r.rps * 100.0 / ceiling.max(1.0),
            r.p50_ms,
            r.p99_ms,
            r.max_ms,
            r.errors
        );
    };
    // The ceiling first, per concurrency, with nothing else running.
    let mut ceilings = std::collections::HashMap::new();
    {
        let bare = ceiling::Ceiling::start().await?;
        for &conc in &args.concurrency {
            let r = run(bare.addr, "status", conc, args.seconds, args.orders).await?;
            row("bare axum", "status", conc, &r, r.rps);
            ceilings.insert(conc, r.rps);
        }
    }
    for backend in &args.backends {
        let db = BenchDb::create(backend).await?;
        seed(&db.store, &args).await.context("seeding")?;
        let server = Server::start(&args.smmd, &db.url).await?;
        for scenario in &args.scenarios {
            for &conc in &args.concurrency {
                let r = run(server.addr, scenario, conc, args.seconds, args.orders).await?;
                row(backend, scenario, conc, &r, ceilings[&conc]);
            }
        }
        drop(server);
        db.drop_db().await;
    }
    Ok(())
}

struct BenchDb {
    store: Arc<SqlStore>,
    url: String,
    _dir: Option<tempfile::TempDir>,
    pg: Option<(String, String)>,
}

impl BenchDb {
    async fn create(backend: &str) -> anyhow::Result<BenchDb> {
        sqlx::any::install_default_drivers();
        match backend {
            "sqlite" => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}/bench.db", dir.path().display());
                let store = SqlStore::connect(&url, ConnectOptions::default()).await?;
                Ok(BenchDb {
                    store: Arc::new(store),
                    url,
                    _dir: Some(dir),
                    pg: None,
                })
            }
            "postgres" => {
                let admin = std::env::var("SMMD_TEST_PG_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
                let name = format!("smmd_bench_{:08x}", rand::thread_rng().gen::<u32>());
                let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin).await?;
                sqlx::query(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await?;
                let mut u = url::Url::parse(&admin)?;
                u.set_path(&format!("/{name}"));
                let url = u.to_string();
                let store = SqlStore::connect(&url, ConnectOptions::default()).await?;
                Ok(BenchDb {
                    store: Arc::new(store),
                    url,
                    _dir: None,
                    pg: Some((admin, name)),
                })
            }
            other => bail!("unknown backend {other}"),
        }
    }

    async fn drop_db(self) {
        if let Some((admin, name)) = &self.pg {
            if let Ok(mut c) = <sqlx::AnyConnection as sqlx::Connection>::connect(admin).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c)
                    .await;
            }
        }
    }
}

/// A user seeded for a benchmark: `email`, `role`, an API key when given, and a wallet
/// credited `amount` (in the panel's currency) under ledger key `key`.
pub(crate) struct Funded<'a> {
    pub email: String,
    pub password_hash: String,
    pub role: Role,
    pub api_key: Option<&'a str>,
    pub amount: &'a str,
    pub key: String,
    pub now: i64,
}

/// Creates `f`'s user and credits its wallet.
pub(crate) async fn funded_user(
    store: &SqlStore,
    f: Funded<'_>,
) -> anyhow::Result<smmd_store::User> {
    let user = store
        .create_user(NewUser {
            email: f.email,
            password_hash: f.password_hash,
            role: f.role,
            api_key_hash: f.api_key.map(smmd_server::auth::token_hash),
            now: f.now,
            audit: None,
            referral: None,
        })
        .await?;
    store
        .change_balance(BalanceChange {
            user_id: user.id,
            amount: Money::parse(f.amount)?,
            kind: LedgerKind::Deposit,
            key: f.key,
            reason: String::new(),
            actor_id: None,
            now: f.now,
            audit: None,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(user)
}

async fn seed(store: &Arc<SqlStore>, args: &Args) -> anyhow::Result<()> {
    let now = 1_767_225_600_000;
    let hash = smmd_app::secrets::hash_password(BENCH_PASSWORD)?;
    let user = funded_user(
        store,
        Funded {
            email: BENCH_EMAIL.into(),
            password_hash: hash.clone(),
            // An admin, so the page scenarios of `rest` can open the admin pages too.
            role: Role::Admin,
            api_key: Some(KEY),
            amount: "10000000",
            key: "bench".into(),
            now,
        },
    )
    .await?;
    // The resellers of `add100`, each with a wallet of its own.
    for r in 0..RESELLERS {
        let api_key = format!("bench-r{r}");
        funded_user(
            store,
            Funded {
                email: format!("reseller{r}@example.com"),
                password_hash: hash.clone(),
                role: Role::User,
                api_key: Some(&api_key),
                amount: "1000000",
                key: api_key.clone(),
                now,
            },
        )
        .await?;
    }
    for i in 0..args.services {
        let mut d = ServiceDraft::new(
            &format!("Category {}", i % 20),
            &format!("Service {i} [fast, refill]"),
            ServiceType::Default,
            Money::parse("0.90")?,
            10,
            100_000,
        );
        d.refill = i % 2 == 0;
        d.guarantee_days = 30;
        d.cancel = true;
        d.dripfeed = true;
        d.description =
            "Benchmark service with a description of realistic length for a panel catalog.".into();
        store.create_service(d, now).await?;
    }
    let statuses = [
        OrderStatus::Processing,
        OrderStatus::InProgress,
        OrderStatus::Completed,
        OrderStatus::Partial,
    ];
    let mut batch = Vec::new();
    for id in 1..=args.orders {
        batch.push(ImportedOrder {
            id: OrderId(id),
            user_id: user.id,
            service_id: ServiceId(1),
            status: statuses[(id % 4) as usize],
            link: Some(format!("https://instagram.com/p/{id}")),
            quantity: 1000,
            charge: Money::parse("0.9")?,
            start_count: Some(1000 + id),
            remains: Some(id % 100),
            created_at: now,
            // Completed ones took 10 minutes (the new-order page's average reads them).
            completed_at: (id % 4 >= 2).then_some(now + 600_000),
        });
        if batch.len() == 1000 {
            store.import_orders(&batch).await?;
            batch.clear();
        }
    }
    store.import_orders(&batch).await?;
    Ok(())
}

struct Server {
    child: Child,
    addr: SocketAddr,
    _data: tempfile::TempDir,
}

impl Server {
    async fn start(bin: &PathBuf, db_url: &str) -> anyhow::Result<Server> {
        Server::start_with(bin, db_url, &[]).await
    }

    /// [`Server::start`] with extra `SMMD__…` settings.
    async fn start_with(
        bin: &PathBuf,
        db_url: &str,
        env: &[(&str, &str)],
    ) -> anyhow::Result<Server> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
        let data = tempfile::tempdir()?;
        let child = Command::new(bin)
            .arg("serve")
            .env("SMMD__DATABASE__URL", db_url)
            .env("SMMD__SERVER__LISTEN", addr.to_string())
            .env("SMMD__DATA_DIR", data.path())
            // The benches measure the server, not the per-key limit of `/api/v2`.
            .env("SMMD__SERVER__API_RATE_PER_MINUTE", "0")
            // `SMMD_BENCH_SERVER_LOG` (a `RUST_LOG` filter) shows more of the server, e.g.
            // `warn,sqlx::query=debug` logs every statement to count them.
            .env(
                "RUST_LOG",
                std::env::var("SMMD_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting smmd")?;
        let server = Server {
            child,
            addr,
            _data: data,
        };
        wait_listening(addr, "smmd").await?;
        Ok(server)
    }
}

/// Waits until something accepts connections on `addr` (at most 10 s); `what` names it in the
/// error.
pub(crate) async fn wait_listening(addr: SocketAddr, what: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        if TcpStream::connect(addr).await.is_ok() {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{what} did not start listening on {addr}")
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Report {
    requests: u64,
    rps: f64,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: u64,
}

/// The request body of `scenario` for the `n`-th request of worker `w`.
fn body(scenario: &str, w: usize, n: u64, orders: i64) -> String {
    let mut rng = rand::thread_rng();
    match scenario {
        "status" => format!(
            "key={KEY}&action=status&order={}",
            rng.gen_range(1..=orders)
        ),
        "status100" => {
            let start = rng.gen_range(1..=(orders - 100).max(1));
            let ids: Vec<String> = (start..start + 100).map(|i| i.to_string()).collect();
            format!("key={KEY}&action=status&orders={}", ids.join("%2C"))
        }
        "services" => format!("key={KEY}&action=services"),
        "balance" => format!("key={KEY}&action=balance"),
        "add" => format!(
            "key={KEY}&action=add&service={}&link=https%3A%2F%2Fx.io%2Fp%2F{w}-{n}-{}&quantity=100",
            rng.gen_range(1..=10),
            rng.gen::<u32>()
        ),
        "add100" => format!(
            "key=bench-r{}&action=add&service={}&link=https%3A%2F%2Fx.io%2Fp%2F{w}-{n}-{}&quantity=100",
            rng.gen_range(0..RESELLERS),
            rng.gen_range(1..=10),
            rng.gen::<u32>()
        ),
        _ => String::new(),
    }
}

/// A success for this scenario: an object without `error` (or a services array).
fn ok_response(scenario: &str, body: &[u8]) -> bool {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(serde_json::Value::Array(a)) => scenario == "services" && !a.is_empty(),
        Ok(serde_json::Value::Object(o)) => {
            !o.contains_key("error") && (scenario != "status100" || o.len() >= 100)
        }
        _ => false,
    }
}

async fn run(
    addr: SocketAddr,
    scenario: &str,
    conc: usize,
    seconds: u64,
    orders: i64,
) -> anyhow::Result<Report> {
    anyhow::ensure!(
        [
            "status",
            "status100",
            "services",
            "balance",
            "add",
            "add100"
        ]
        .contains(&scenario),
        "unknown scenario {scenario}"
    );
    let sc = scenario.to_string();
    let make = move |w: usize, n: u64| {
        Request::post("/api/v2")
            .header("host", addr.to_string())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(body(&sc, w, n, orders))))
    };
    let sc = scenario.to_string();
    drive(addr, conc, seconds, make, move |status, bytes| {
        status == 200 && ok_response(&sc, bytes)
    })
    .await
}

/// Runs `conc` keep-alive HTTP/1.1 connections against `addr` for `seconds` (after a 1 s
/// warm-up), each sending `make(worker, n)` requests back to back; latency goes into one HDR
/// histogram, and answers `ok` refuses count as errors.
pub(crate) async fn drive<M, K>(
    addr: SocketAddr,
    conc: usize,
    seconds: u64,
    make: M,
    ok: K,
) -> anyhow::Result<Report>
where
    M: Fn(usize, u64) -> Result<Request<Full<Bytes>>, hyper::http::Error> + Send + Sync + 'static,
    K: Fn(u16, &[u8]) -> bool + Send + Sync + 'static,
{
    let warmup = Instant::now() + Duration::from_secs(1);
    let deadline = warmup + Duration::from_secs(seconds);
    let errors = Arc::new(AtomicU64::new(0));
    let (make, ok) = (Arc::new(make), Arc::new(ok));
    let mut tasks = Vec::new();
    for w in 0..conc {
        let (errors, make, ok) = (errors.clone(), make.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let mut hist = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).expect("histogram");
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            let mut n = 0u64;
            loop {
                let now = Instant::now();
                if now >= deadline {
                    break;
                }
                let req = make(w, n)?;
                let start = Instant::now();
                let resp = sender.send_request(req).await?;
                let status = resp.status().as_u16();
                let bytes = resp.into_body().collect().await?.to_bytes();
                let micros = start.elapsed().as_micros() as u64;
                if start >= warmup {
                    hist.record(micros.max(1))?;
                    if !ok(status, &bytes) {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += 1;
            }
            anyhow::Ok(hist)
        }));
    }
    let mut total = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for t in tasks {
        total.add(t.await??)?;
    }
    let secs = seconds as f64;
    Ok(Report {
        requests: total.len(),
        rps: total.len() as f64 / secs,
        p50_ms: total.value_at_quantile(0.50) as f64 / 1000.0,
        p99_ms: total.value_at_quantile(0.99) as f64 / 1000.0,
        max_ms: total.max() as f64 / 1000.0,
        errors: errors.load(Ordering::Relaxed),
    })
}
