//! `kill -9` of real `smmd serve` processes in the middle of dispatch and of status sync, then a
//! restart: nothing is lost (every order ends Completed, Partial, Canceled or in review),
//! nothing is doubled (the simulator never receives an order twice, no refund is paid twice,
//! balance = Σ ledger). The simulator runs in the test process, so it outlives the kills.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Cluster;
use smmd_domain::order::{refund_target, OrderStatus};
use smmd_domain::{OrderId, SystemClock};
use smmd_sim::SimConfig;
use smmd_store::Store;
use smmd_store_sql::testing::Backend;

const ORDERS: usize = 150;

/// Order statuses by count, from the database.
async fn census(store: &Arc<dyn Store>, ids: &[i64]) -> Vec<(OrderStatus, usize)> {
    let mut counts = std::collections::BTreeMap::new();
    for id in ids {
        let o = store
            .order(OrderId(*id))
            .await
            .expect("read")
            .expect("order");
        *counts.entry(o.status.as_str()).or_insert(0) += 1;
    }
    counts
        .into_iter()
        .map(|(k, v)| (OrderStatus::parse(k).expect("status"), v))
        .collect()
}

async fn wait_until(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn killed_mid_dispatch_and_mid_sync(backend: Backend) {
    // Slow answers widen the window in which dispatch and sync are in flight.
    let sim = smmd_sim::spawn(
        SimConfig {
            speedup: 60,
            latency_min_ms: 100,
            latency_max_ms: 300,
            ..SimConfig::default()
        },
        Arc::new(SystemClock),
        "127.0.0.1:0",
    )
    .await
    .expect("sim");
    let cluster = Cluster::new(
        backend,
        &[
            ("SMMD__FULFIL__STALE_SUBMITTING_MS", "5000"),
            ("SMMD__SCHEDULER__POLL_MS", "200"),
        ],
    )
    .await;
    cluster.cli(&[
        "provider",
        "add",
        "--name",
        "sim",
        "--url",
        &sim.url,
        "--key",
        "sim-key",
        "--timeout-ms",
        "2000",
        "--max-concurrency",
        "4",
    ]);
    cluster.cli(&["services", "sync"]);
    cluster.cli(&["jobs", "set", "orders.dispatch", "--cron", "@every 1s"]);
    cluster.cli(&["jobs", "set", "orders.sync_status", "--cron", "@every 1s"]);
    let key = cluster.reseller("r@x.io", "100");
    let store: Arc<dyn Store> = cluster.db.store.clone();

    // 1. Orders arrive at instance A; kill -9 it while dispatch is sending them.
    let mut a = cluster.spawn("a", &[]).await;
    let http = reqwest::Client::new();
    let mut ids = Vec::new();
    for i in 0..ORDERS {
        let body: serde_json::Value = http
            .post(format!("http://127.0.0.1:{}/api/v2", a.port))
            .form(&[
                ("key", key.as_str()),
                ("action", "add"),
                ("service", "2"),
                ("link", &format!("https://instagram.com/p/kill{i}")),
                ("quantity", "500"),
            ])
            .send()
            .await
            .expect("add")
            .json()
            .await
            .expect("json");
        ids.push(body["order"].as_i64().unwrap_or_else(|| panic!("{body}")));
    }
    wait_until(
        "dispatch to be in flight",
        Duration::from_secs(30),
        async || {
            let c = census(&store, &ids).await;
            let sent = c
                .iter()
                .filter(|(s, _)| !matches!(s, OrderStatus::Queued | OrderStatus::Submitting))
                .map(|(_, n)| n)
                .sum::<usize>();
            sent >= 10 && c.iter().any(|(s, _)| *s == OrderStatus::Submitting)
        },
    )
    .await;
    a.signal("-KILL");
    a.wait_exit(Duration::from_secs(10));
    let at_kill = census(&store, &ids).await;

    // 2. Instance B finishes dispatch; kill -9 it while sync is applying outcomes.
    let mut b = cluster.spawn("b", &[]).await;
    wait_until(
        "sync to be applying outcomes",
        Duration::from_secs(60),
        async || {
            census(&store, &ids)
                .await
                .iter()
                .any(|(s, n)| s.is_terminal() && *n >= 5)
        },
    )
    .await;
    b.signal("-KILL");
    b.wait_exit(Duration::from_secs(10));
    let at_second_kill = census(&store, &ids).await;

    // 3. Instance C brings everything to an end.
    let c = cluster.spawn("c", &[]).await;
    wait_until(
        "every order to settle",
        Duration::from_secs(120),
        async || {
            census(&store, &ids)
                .await
                .iter()
                .all(|(s, _)| s.is_terminal() || *s == OrderStatus::NeedsReview)
        },
    )
    .await;
    drop(c);

    let stats = sim.sim.stats();
    let mut with_provider_id = 0;
    let mut review = 0;
    for id in &ids {
        let o = store
            .order(OrderId(*id))
            .await
            .expect("read")
            .expect("order");
        let target = refund_target(o.status, o.charge, o.total_quantity, o.remains);
        assert_eq!(
            o.refunded, target,
            "order {id} in {:?}: refund paid once, in full",
            o.status
        );
        if o.provider_order_id.is_some() {
            with_provider_id += 1;
        }
        if o.status == OrderStatus::NeedsReview {
            review += 1;
            assert!(
                o.note.as_deref().unwrap_or("").contains("interrupted"),
                "{:?}",
                o.note
            );
        }
    }
    assert_eq!(
        stats.duplicate_links, 0,
        "an order was sent twice: {stats:?}"
    );
    // Dispatch claims no more than fit in flight (4 at this provider): a crash strands at most
    // that many orders in review. B may still be dispatching when it is killed (on a slow
    // machine the first outcomes arrive before dispatch ends), so two kills strand at most 8.
    assert!(
        review <= 2 * 4,
        "{review} orders in review; at the kills: {at_kill:?}, {at_second_kill:?}"
    );
    assert!(stats.orders_created as usize >= with_provider_id);
    assert!(
        stats.orders_created as usize <= with_provider_id + review,
        "upstream orders nobody accounts for: {stats:?}"
    );
    assert!(store.ledger_mismatches().await.expect("check").is_empty());
    eprintln!(
        "at the kill: {at_kill:?}; end: {:?}; upstream created {}, in review {review}",
        census(&store, &ids).await,
        stats.orders_created
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_dispatch_and_mid_sync_loses_and_doubles_nothing_on_sqlite() {
    killed_mid_dispatch_and_mid_sync(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_mid_dispatch_and_mid_sync_loses_and_doubles_nothing_on_postgres() {
    killed_mid_dispatch_and_mid_sync(Backend::Postgres).await;
}
