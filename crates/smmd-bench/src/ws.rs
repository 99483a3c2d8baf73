//! `smmd-bench ws`: the live-update figures of the web panel issue, per backend.
//!
//! - **Latency** (`--clients`, default 1,000 connected WebSocket clients, each a signed-in user
//!   with `--orders-per-client` active orders on an in-process simulator). The status sync job
//!   (`smmd_fulfil::sync::run`, batches of 100 orders per call and per write) runs cycles in
//!   which nearly every order changes status upstream: delivery starts, then ends. Every status
//!   event a client receives is timed from the `at` of the event — the sync job's clock read
//!   just before the batch's write transaction, so the figure includes the commit itself — to
//!   its arrival in the client (wall clock, millisecond resolution of `at`). p50/p99/max per
//!   cycle.
//!   The server runs in this process on its own listener. On PostgreSQL it has its **own**
//!   store (connection pool), separate from the sync job's: it hears the commits only through
//!   `LISTEN/NOTIFY`, as a second smmd instance would. On SQLite (one instance by design) it
//!   shares the store, so it is woken by the commit itself.
//! - **Reconnect** (same clients): after the cycles every client reconnects at once with
//!   `?after=` the feed position from before them, as pages do after a restart; the server
//!   replays each one's own rows (status events, refunds) before the hello. p50/p99/max of
//!   connect-to-hello per client, replayed messages, and the time for all of them ("sync s"
//!   column).
//! - **Idle memory** (`--idle`, default 10,000): a real `smmd serve` process on SQLite, with
//!   that many signed-in clients connected and idle; its resident memory (VmRSS) before and
//!   after.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use futures::StreamExt;
use hdrhistogram::Histogram;
use smmd_domain::{Clock, ManualClock, SystemClock, UserId};
use smmd_fulfil::{sync, Clients, Fulfil, Settings};
use smmd_store::{FeedCursor, Store};
use smmd_store_sql::{ConnectOptions, SqlStore};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::fulfil::{bulk_orders, T0};
use crate::{Args, BenchDb, Server};

#[derive(clap::Args, Clone)]
pub struct WsArgs {
    /// Connected clients (one signed-in user each) for the latency figure.
    #[arg(long, default_value_t = 1_000)]
    clients: usize,
    /// Active orders per client.
    #[arg(long, default_value_t = 10)]
    orders_per_client: usize,
    /// Status calls in flight during the sync (the sync job's `sync_parallel_calls`).
    #[arg(long, default_value_t = 1)]
    parallel_calls: usize,
    /// Idle clients for the memory figure (0 skips it).
    #[arg(long, default_value_t = 10_000)]
    idle: usize,
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Creates `n` users named `ws-<prefix>-<i>` with one session each (token `ws-<prefix>-<i>`),
/// 1000 rows a statement; returns their ids in order.
async fn users_with_sessions(db: &BenchDb, prefix: &str, n: usize) -> anyhow::Result<Vec<UserId>> {
    let pool = sqlx::AnyPool::connect(&db.url).await?;
    let now = SystemClock.now_ms();
    for start in (0..n).step_by(1_000) {
        let rows: Vec<String> = (start..(start + 1_000).min(n))
            .map(|i| {
                format!("('ws-{prefix}-{i}@x.io', 'ws-{prefix}-{i}@x.io', 'x', 'user', 0, {now})")
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO users (email, email_lower, password_hash, role, balance, created_at) VALUES {}",
            rows.join(", ")
        ))
        .execute(&pool)
        .await?;
    }
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE email_lower = $1")
            .bind(format!("ws-{prefix}-{i}@x.io"))
            .fetch_one(&pool)
            .await?;
        ids.push(UserId(id));
    }
    for (c, chunk) in ids.chunks(1_000).enumerate() {
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let token = format!("ws-{prefix}-{}", c * 1_000 + i);
                format!(
                    "('{}', {}, 'csrf', {now}, {})",
                    smmd_server::auth::token_hash(&token),
                    u.0,
                    now + 86_400_000
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES {}",
            rows.join(", ")
        ))
        .execute(&pool)
        .await?;
    }
    pool.close().await;
    Ok(ids)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A socket that has said hello: how many replayed messages came before the hello, and how
/// long the handshake, replay and hello took.
struct Connected {
    socket: Socket,
    replayed: usize,
    took: Duration,
}

/// Opens a socket for session `token` (from feed position `after` when given, so the server
/// replays what the user missed) and waits for its `hello`.
async fn connect(
    addr: std::net::SocketAddr,
    token: &str,
    after: Option<FeedCursor>,
) -> anyhow::Result<Connected> {
    let started = Instant::now();
    let query = after.map(|c| format!("?after={c}")).unwrap_or_default();
    let mut req = format!("ws://{addr}/ws{query}").into_client_request()?;
    req.headers_mut().insert(
        "cookie",
        HeaderValue::from_str(&format!("{}={token}", smmd_server::auth::SESSION_COOKIE))?,
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(req).await?;
    let mut replayed = 0;
    loop {
        match tokio::time::timeout(Duration::from_secs(30), socket.next()).await {
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"hello\"") => {
                return Ok(Connected {
                    socket,
                    replayed,
                    took: started.elapsed(),
                })
            }
            Ok(Some(Ok(Message::Text(t)))) if t.contains("\"resync\"") => {
                anyhow::bail!("asked to resync instead of a replay")
            }
            Ok(Some(Ok(Message::Text(_)))) => replayed += 1,
            other => anyhow::bail!("no hello: {other:?}"),
        }
    }
}

/// Connects `tokens` with `parallel` handshakes at a time.
async fn connect_all(
    addr: std::net::SocketAddr,
    tokens: Vec<String>,
    parallel: usize,
    after: Option<FeedCursor>,
) -> anyhow::Result<Vec<Connected>> {
    futures::stream::iter(tokens)
        .map(|t| async move { connect(addr, &t, after).await })
        .buffered(parallel)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

/// Resident memory of process `pid` (KB), 0 if unreadable.
pub(crate) fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse().ok())
        .unwrap_or(0)
}

pub async fn run(args: &Args, a: &WsArgs) -> anyhow::Result<()> {
    println!(
        "smmd-bench ws: {} clients × {} orders, status sync on an in-process simulator; idle memory with {} clients; machine {} cores",
        a.clients,
        a.orders_per_client,
        a.idle,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<9} {:<30} {:>8} {:>8} {:>8} {:>8} {:>9}",
        "backend", "cycle", "events", "p50 ms", "p99 ms", "max ms", "sync s"
    );
    for backend in &args.backends {
        latency(backend, a).await?;
    }
    if a.idle > 0 {
        idle_memory(args, a).await?;
    }
    Ok(())
}

async fn latency(backend: &str, a: &WsArgs) -> anyhow::Result<()> {
    let db = BenchDb::create(backend).await?;
    let store: Arc<dyn Store> = db.store.clone();
    let sim_clock = Arc::new(ManualClock::new(T0));
    let clients = Clients::new([1u8; 32]);
    let (sim, svc) =
        crate::fulfil::sim_service(&store, &clients, sim_clock.clone(), "sim", 11, 5, 8).await?;
    let provider = svc
        .provider_id
        .context("the bench service has a provider")?;
    let users = users_with_sessions(&db, "lat", a.clients).await?;
    let ids = sim
        .sim
        .seed_orders(1, a.clients * a.orders_per_client, 1_000)?;
    bulk_orders(&db, &users, &svc, provider, &ids).await?;

    // The server: its own store on PostgreSQL (woken by NOTIFY only), the same one on SQLite.
    let server_store: Arc<dyn Store> = if backend == "postgres" {
        Arc::new(
            SqlStore::connect(
                &db.url,
                ConnectOptions {
                    migrate: false,
                    ..ConnectOptions::default()
                },
            )
            .await?,
        )
    } else {
        store.clone()
    };
    let mut config = smmd_server::Config::default();
    config.server.listen = "127.0.0.1:0".into();
    config.metrics.enabled = false;
    let app = smmd_server::App::build(config, server_store, Arc::new(SystemClock)).await?;
    let addr = app.addr();
    tokio::spawn(app.run_until(std::future::pending()));

    let tokens: Vec<String> = (0..a.clients).map(|i| format!("ws-lat-{i}")).collect();
    let started = Instant::now();
    let sockets = connect_all(addr, tokens.clone(), 50, None)
        .await
        .context("connecting clients")?;
    let connect_s = started.elapsed().as_secs_f64();
    let hist = Arc::new(Mutex::new(Histogram::<u64>::new_with_bounds(
        1, 60_000_000, 3,
    )?));
    let received = Arc::new(AtomicU64::new(0));
    for Connected { mut socket, .. } in sockets {
        let (hist, received) = (hist.clone(), received.clone());
        tokio::spawn(async move {
            while let Some(Ok(msg)) = socket.next().await {
                let Message::Text(text) = msg else { continue };
                let arrived = now_us();
                let Ok(m) = serde_json::from_str::<serde_json::Value>(&text) else {
                    continue;
                };
                if m["type"] == "order" && m["event"] == "status" {
                    let at_us = m["at"].as_u64().unwrap_or(0) * 1_000;
                    let lat = arrived.saturating_sub(at_us).max(1);
                    if let Ok(mut h) = hist.lock() {
                        let _ = h.record(lat);
                    }
                    received.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
    }
    println!(
        "{backend:<9} {:<30} {:>8} {:>35.2}",
        format!("{} clients connected", a.clients),
        "",
        connect_s
    );
    let f = Fulfil {
        store: store.clone(),
        clock: Arc::new(SystemClock),
        clients,
        // One status call (and one write) at a time: a batch's `at` is then read just before
        // its own write, not before a wait for the writer behind other batches (SQLite has one).
        settings: Settings {
            sync_parallel_calls: a.parallel_calls,
            provider_wait_ms: 3_600_000,
            ..Settings::default()
        },
        lanes: Default::default(),
    };
    // Where pages opened before the cycles stand: the reconnect figure replays from here.
    let before_cycles = store.feed_head().await?;
    for (label, advance) in [
        ("delivery started (~5 % canceled)", 90_000),
        ("delivery ended", 20 * 60_000),
    ] {
        sim_clock.advance_ms(advance);
        if let Ok(mut h) = hist.lock() {
            h.reset();
        }
        let before = received.load(Ordering::Relaxed);
        let t = Instant::now();
        sync::run(&f).await?;
        let sync_s = t.elapsed().as_secs_f64();
        // Wait until no event arrived for a second (every event of the cycle delivered).
        let mut last = received.load(Ordering::Relaxed);
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let now = received.load(Ordering::Relaxed);
            if now == last {
                break;
            }
            last = now;
        }
        let h = hist.lock().map_err(|_| anyhow::anyhow!("histogram lock"))?;
        let ms = |v: u64| v as f64 / 1_000.0;
        println!(
            "{backend:<9} {label:<30} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>9.2}",
            last - before,
            ms(h.value_at_quantile(0.5)),
            ms(h.value_at_quantile(0.99)),
            ms(h.max()),
            sync_s
        );
    }

    // Every client reconnects at once from the position its page had before both cycles (as
    // after a restart): each replays its own status events and refunds, then says hello.
    let started = Instant::now();
    let again = connect_all(addr, tokens, 50, Some(before_cycles))
        .await
        .context("reconnecting clients")?;
    let all_s = started.elapsed().as_secs_f64();
    let mut took = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for c in &again {
        took.record((c.took.as_micros() as u64).max(1))?;
    }
    let replayed: usize = again.iter().map(|c| c.replayed).sum();
    let ms = |v: u64| v as f64 / 1_000.0;
    println!(
        "{backend:<9} {:<30} {:>8} {:>8.1} {:>8.1} {:>8.1} {:>9.2}",
        "reconnect + replay (to hello)",
        replayed,
        ms(took.value_at_quantile(0.5)),
        ms(took.value_at_quantile(0.99)),
        ms(took.max()),
        all_s
    );
    drop(again);
    db.drop_db().await;
    Ok(())
}

async fn idle_memory(args: &Args, a: &WsArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.smmd.exists(),
        "{} not found: run `cargo build --release -p smmd` first",
        args.smmd.display()
    );
    let db = BenchDb::create("sqlite").await?;
    users_with_sessions(&db, "idle", a.idle).await?;
    // All clients come from 127.0.0.1: lift the per-address connection limit for this figure.
    let server = Server::start_with(
        &args.smmd,
        &db.url,
        &[("SMMD__SERVER__MAX_CONNECTIONS_PER_ADDRESS", "10000")],
    )
    .await?;
    let pid = server.child.id();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let before = rss_kb(pid);
    let tokens: Vec<String> = (0..a.idle).map(|i| format!("ws-idle-{i}")).collect();
    let started = Instant::now();
    let sockets = connect_all(server.addr, tokens, 100, None)
        .await
        .context("connecting idle clients")?;
    let took = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = rss_kb(pid);
    println!(
        "sqlite    idle: smmd serve RSS {:.1} MB before, {:.1} MB with {} connected clients ({:.1} KB each; connected in {took:.1} s)",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        sockets.len(),
        after.saturating_sub(before) as f64 / sockets.len().max(1) as f64
    );
    drop(sockets);
    drop(server);
    db.drop_db().await;
    Ok(())
}
