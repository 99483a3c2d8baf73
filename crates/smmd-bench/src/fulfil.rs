//! `smmd-bench fulfil`: the figures of the providers issue, per backend.
//!
//! - **Status sync at scale**: N active orders (default 100,000) spread evenly over 4 in-process
//!   simulators that answer after a fixed latency (default 50 ms). Orders are written straight
//!   into the database (and their upstream twins into the simulators) so that setting up does not
//!   dominate. Sync cycles run on a manual clock: *0* the first sync records every start count,
//!   *A* nothing changed upstream (all Pending), *B* 90 s later nearly every order started
//!   delivering and ~5 % were canceled
//!   (status, remains and refunds written), *C* one second later every delivering order's
//!   remains moved. Each prints its wall time, the status calls the simulators counted (and
//!   the protocol minimum Σ⌈orders per provider / 100⌉ they must equal), orders changed and
//!   refunded, and the process's resident memory (which includes the four simulators).
//! - **Dispatch throughput**: M orders (default 5,000) placed through the store, then sent by
//!   `orders.dispatch` runs until none is queued: orders per second accepted upstream.

use std::sync::Arc;
use std::time::{Duration, Instant};

use smmd_domain::service::{validate_order, OrderInput, ServiceType};
use smmd_domain::{Clock, ManualClock, Money, ProviderId};
use smmd_fulfil::{dispatch, sync, Clients, Fulfil, Settings};
use smmd_sim::{ServiceSpec, SimConfig, SimHandle};
use smmd_store::{
    BalanceChange, LedgerKind, NewProvider, NewUser, Role, Service, ServiceDraft, Store, RATE_ONE,
};

use crate::{Args, BenchDb};

#[derive(clap::Args, Clone)]
pub struct FulfilArgs {
    /// Active orders for the sync cycles, spread over the providers.
    #[arg(long, default_value_t = 100_000)]
    orders: usize,
    /// Simulated providers.
    #[arg(long, default_value_t = 4)]
    providers: usize,
    /// Each simulator's answer latency, ms.
    #[arg(long, default_value_t = 50)]
    latency_ms: u64,
    /// Requests in flight per provider (the provider setting `max_concurrency`).
    #[arg(long, default_value_t = 8)]
    concurrency: i64,
    /// Orders placed and dispatched for the throughput figure.
    #[arg(long, default_value_t = 5_000)]
    dispatch_orders: usize,
}

pub(crate) const T0: i64 = 1_767_225_600_000;

fn rss_mb(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

struct Setup {
    f: Fulfil,
    sims: Vec<SimHandle>,
    services: Vec<Service>,
    clock: Arc<ManualClock>,
    user: smmd_domain::UserId,
}

/// One in-process simulator on `clock` selling "Bench followers" (delivery starts after 60 s,
/// 100 per minute, 5 % end partial and 5 % canceled; `latency_ms` per answer), registered as
/// provider `name` with `concurrency` requests in flight, and the panel service sold through it
/// (1.50 per 1000, cost 1.00).
pub(crate) async fn sim_service(
    store: &Arc<dyn Store>,
    clients: &Clients,
    clock: Arc<ManualClock>,
    name: &str,
    seed: u64,
    latency_ms: u64,
    concurrency: i64,
) -> anyhow::Result<(SimHandle, Service)> {
    let config = SimConfig {
        seed,
        latency_min_ms: latency_ms,
        latency_max_ms: latency_ms,
        balance: "100000000".into(),
        services: vec![ServiceSpec {
            id: 1,
            name: "Bench followers".into(),
            rate: "1.00".into(),
            min: 10,
            max: 1_000_000,
            start_delay_s: 60,
            speed_per_min: 100,
            partial_pct: 5,
            canceled_pct: 5,
            ..ServiceSpec::default()
        }],
        ..SimConfig::default()
    };
    let sim = smmd_sim::spawn(config, clock, "127.0.0.1:0").await?;
    let p = store
        .create_provider(
            NewProvider {
                name: name.into(),
                url: sim.url.clone(),
                currency: "USD".into(),
                exchange_rate: RATE_ONE,
                api_key_enc: clients.seal_key(&sim.sim.config.api_key),
                timeout_ms: 30_000,
                max_concurrency: concurrency,
                rate_per_sec: None,
                balance_alert_below: None,
                limits: smmd_store::ProviderLimits::default(),
            },
            T0,
            None,
        )
        .await?;
    let mut d = ServiceDraft::new(
        "Bench",
        &format!("Followers via {name}"),
        ServiceType::Default,
        Money::parse("1.50")?,
        10,
        1_000_000,
    );
    d.link_rule = false;
    d.cancel = true;
    d.provider_id = Some(p.id);
    d.provider_service_id = Some("1".into());
    d.provider_rate = Some(Money::parse("1.00")?);
    Ok((sim, store.create_service(d, T0).await?))
}

async fn setup(store: Arc<dyn Store>, a: &FulfilArgs) -> anyhow::Result<Setup> {
    let clock = Arc::new(ManualClock::new(T0));
    let clients = Clients::new([1u8; 32]);
    let mut sims = Vec::new();
    let mut services = Vec::new();
    for i in 0..a.providers {
        let (sim, svc) = sim_service(
            &store,
            &clients,
            clock.clone(),
            &format!("sim-{i}"),
            7 + i as u64,
            a.latency_ms,
            a.concurrency,
        )
        .await?;
        services.push(svc);
        sims.push(sim);
    }
    let user = store
        .create_user(NewUser {
            email: "bench-buyer@x.io".into(),
            password_hash: "x".into(),
            role: Role::User,
            api_key_hash: None,
            now: T0,
            audit: None,
            referral: None,
        })
        .await?
        .id;
    store
        .change_balance(BalanceChange {
            user_id: user,
            amount: Money::parse("100000000")?,
            kind: LedgerKind::Deposit,
            key: "bench".into(),
            reason: "bench".into(),
            actor_id: None,
            now: T0,
            audit: None,
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let f = Fulfil {
        store,
        clock: clock.clone(),
        clients,
        // The figures count whole runs: wait for every provider's part.
        settings: Settings {
            provider_wait_ms: 3_600_000,
            ..Settings::default()
        },
        lanes: Default::default(),
    };
    Ok(Setup {
        f,
        sims,
        services,
        clock,
        user,
    })
}

/// Writes accepted (`processing`) orders of `svc` whose upstream ids are `upstream`, owned by
/// `users` in turn, 1000 rows a statement.
pub(crate) async fn bulk_orders(
    db: &BenchDb,
    users: &[smmd_domain::UserId],
    svc: &Service,
    provider: ProviderId,
    upstream: &[i64],
) -> anyhow::Result<()> {
    let pool = sqlx::AnyPool::connect(&db.url).await?;
    for (c, chunk) in upstream.chunks(1_000).enumerate() {
        let rows: Vec<String> = chunk
            .iter()
            .enumerate()
            .map(|(i, pid)| {
                let user = users[(c * 1_000 + i) % users.len()];
                format!(
                    "({}, {}, 'processing', 'https://bulk.sim/{pid}', 1000, 1000, 1500000, '{{}}', {}, '1', '{pid}', {T0}, {T0})",
                    user.0, svc.id.0, provider.0
                )
            })
            .collect();
        sqlx::query(&format!(
            "INSERT INTO orders (user_id, service_id, status, link, quantity, total_quantity, charge, extras, \
             provider_id, provider_service_id, provider_order_id, created_at, updated_at) VALUES {}",
            rows.join(", ")
        ))
        .execute(&pool)
        .await?;
    }
    pool.close().await;
    Ok(())
}

fn status_calls(sims: &[SimHandle]) -> u64 {
    sims.iter()
        .map(|s| s.sim.stats().calls.get("status").copied().unwrap_or(0))
        .sum()
}

pub async fn run(args: &Args, a: &FulfilArgs) -> anyhow::Result<()> {
    println!(
        "smmd-bench fulfil: {} active orders over {} simulated providers ({} ms latency, {} requests in flight each), machine {} cores",
        a.orders,
        a.providers,
        a.latency_ms,
        a.concurrency,
        std::thread::available_parallelism().map_or(0, |n| n.get())
    );
    println!(
        "{:<9} {:<34} {:>8} {:>7} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "backend",
        "cycle",
        "seconds",
        "calls",
        "minimum",
        "changed",
        "refunds",
        "rss MB",
        "peak MB"
    );
    for backend in &args.backends {
        let db = BenchDb::create(backend).await?;
        let store: Arc<dyn Store> = db.store.clone();
        let s = setup(store.clone(), a).await?;
        let per = a.orders / a.providers;
        for (i, sim) in s.sims.iter().enumerate() {
            let n = if i + 1 == a.providers {
                a.orders - per * (a.providers - 1)
            } else {
                per
            };
            let ids = sim.sim.seed_orders(1, n, 1_000)?;
            let provider = s.services[i].provider_id.expect("mapped");
            bulk_orders(&db, &[s.user], &s.services[i], provider, &ids).await?;
        }
        for (label, advance) in [
            ("0: first sync records start counts", 0),
            ("A: nothing changed upstream", 0),
            ("B: delivery started, ~5 % canceled", 90_000),
            ("C: remains moved on every order", 1_000),
        ] {
            s.clock.advance_ms(advance);
            // The protocol minimum: ⌈active orders / 100⌉ calls per provider.
            let mut minimum = 0u64;
            let mut active = 0usize;
            for svc in &s.services {
                let p = svc.provider_id.expect("mapped");
                let n = store.sync_targets(p, i64::MAX).await?.len();
                active += n;
                minimum += n.div_ceil(100) as u64;
            }
            let before = status_calls(&s.sims);
            let started = Instant::now();
            let r = sync::run(&s.f).await?;
            let took = started.elapsed();
            let calls = status_calls(&s.sims) - before;
            let n = |k: &str| r.get(k).copied().unwrap_or(0);
            println!(
                "{:<9} {:<34} {:>8.2} {:>7} {:>8} {:>8} {:>8} {:>8.0} {:>8.0}",
                backend,
                label,
                took.as_secs_f64(),
                calls,
                minimum,
                n("changed"),
                n("refunds"),
                rss_mb("VmRSS"),
                rss_mb("VmHWM")
            );
            anyhow::ensure!(
                calls == minimum,
                "a cycle made {calls} status calls, the protocol minimum is {minimum}"
            );
            anyhow::ensure!(
                n("checked") as usize == active,
                "checked {} of {active}",
                n("checked")
            );
        }
        // Dispatch throughput.
        let mut placed = 0;
        for k in 0..a.dispatch_orders {
            let svc = &s.services[k % s.services.len()];
            let input = OrderInput {
                link: Some(format!("https://dispatch.bench/{k}")),
                quantity: Some("1000".into()),
                ..OrderInput::default()
            };
            let spec = validate_order(&svc.rules(), &input)?;
            store
                .place_order(s.user, svc, &spec, Default::default(), s.clock.now_ms())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            placed += 1;
        }
        let started = Instant::now();
        let mut accepted = 0;
        while accepted < placed {
            let r = dispatch::run(&s.f).await?;
            let got = r.get("accepted").copied().unwrap_or(0);
            anyhow::ensure!(
                got > 0 || r.get("claimed").copied().unwrap_or(0) > 0,
                "dispatch stalled: {r:?}"
            );
            accepted += got;
        }
        let took = started.elapsed();
        println!(
            "{:<9} dispatch: {} orders sent in {:.2} s = {:.0} orders/s ({} providers × {} in flight, {} ms latency)",
            backend,
            placed,
            took.as_secs_f64(),
            placed as f64 / took.as_secs_f64().max(1e-9),
            a.providers,
            a.concurrency,
            a.latency_ms
        );
        drop(s);
        tokio::time::sleep(Duration::from_millis(100)).await;
        db.drop_db().await;
    }
    Ok(())
}
