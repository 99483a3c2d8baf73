//! API v2 `add` with a `request_id` under a replay storm and `kill -9` (issue 20, "idempotent
//! `add`"): resellers send every `add` twice and again whenever an answer is lost, while the
//! real `smmd serve` answering them is killed three times and restarted. Every key ends with
//! exactly one order, every answer for a key names that order, and the money is exact.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::Cluster;
use smmd_domain::{Money, OrderId, SystemClock};
use smmd_store::Store;
use smmd_store_sql::testing::Backend;

/// Distinct request ids, each sent at least twice.
const KEYS: usize = 240;
/// Resellers' connections sending at once.
const WORKERS: usize = 8;
const KILLS: usize = 3;

/// Sends `add` under `request_id` `r{i}` until an answer names an order; a lost answer (a
/// killed server, a refused connection, an internal error) is counted in `lost` and sent again.
async fn add_until_answered(
    http: &reqwest::Client,
    port: &AtomicU16,
    api_key: &str,
    i: usize,
    lost: &AtomicUsize,
) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(Instant::now() < deadline, "key r{i} never answered");
        let url = format!("http://127.0.0.1:{}/api/v2", port.load(Ordering::Relaxed));
        let sent = http
            .post(url)
            .timeout(Duration::from_secs(5))
            .form(&[
                ("key", api_key),
                ("action", "add"),
                ("service", "2"),
                ("link", &format!("https://instagram.com/p/replay{i}")),
                ("quantity", "500"),
                ("request_id", &format!("r{i}")),
            ])
            .send()
            .await;
        if let Ok(resp) = sent {
            if let Ok(body) = resp.json::<serde_json::Value>().await {
                if let Some(id) = body["order"].as_i64() {
                    return id;
                }
                let error = body["error"].as_str().unwrap_or_default();
                assert!(error.starts_with("Internal error"), "r{i}: {body}");
            }
        }
        lost.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn replay_storm_with_kills(backend: Backend) {
    let sim = smmd_sim::spawn(
        smmd_sim::SimConfig::default(),
        Arc::new(SystemClock),
        "127.0.0.1:0",
    )
    .await
    .expect("sim");
    let cluster = Cluster::new(backend, &[]).await;
    cluster.cli(&[
        "provider", "add", "--name", "sim", "--url", &sim.url, "--key", "sim-key",
    ]);
    cluster.cli(&["services", "sync"]);
    let api_key: Arc<str> = cluster.reseller("r@x.io", "1000").into();
    let store: Arc<dyn Store> = cluster.db.store.clone();

    let mut server = cluster.spawn("a", &[]).await;
    let port = Arc::new(AtomicU16::new(server.port));
    let next = Arc::new(AtomicUsize::new(0));
    let answers: Arc<Mutex<HashMap<usize, Vec<i64>>>> = Arc::default();
    let lost = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::new();
    let mut workers = Vec::new();
    for _ in 0..WORKERS {
        let (port, next, answers, http, api_key, lost) = (
            port.clone(),
            next.clone(),
            answers.clone(),
            http.clone(),
            api_key.clone(),
            lost.clone(),
        );
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= KEYS {
                    return;
                }
                // Every add twice: the second is a replay whatever became of the first.
                for _ in 0..2 {
                    let id = add_until_answered(&http, &port, &api_key, i, &lost).await;
                    answers.lock().expect("lock").entry(i).or_default().push(id);
                }
            }
        }));
    }
    for kill in 1..=KILLS {
        let due = kill * KEYS / (KILLS + 1);
        let deadline = Instant::now() + Duration::from_secs(120);
        while answers.lock().expect("lock").len() < due {
            assert!(
                Instant::now() < deadline,
                "the storm stalled before kill {kill}"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.signal("-KILL");
        server.wait_exit(Duration::from_secs(10));
        server = cluster.spawn(&format!("after-kill-{kill}"), &[]).await;
        port.store(server.port, Ordering::Relaxed);
    }
    for w in workers {
        w.await.expect("worker");
    }

    // The kills cut requests in flight: their answers were lost and they were sent again.
    let lost = lost.load(Ordering::Relaxed);
    assert!(lost > 0, "no answer was lost to the kills");
    eprintln!("{KEYS} keys, {KILLS} kills, {lost} answers lost and asked again");
    let answers = answers.lock().expect("lock").clone();
    assert_eq!(answers.len(), KEYS, "every key answered");
    let first = store
        .order(OrderId(answers[&0][0]))
        .await
        .expect("read")
        .expect("order");
    let user = first.user_id;
    for (i, ids) in &answers {
        assert!(ids.len() >= 2, "r{i}: sent twice");
        assert!(
            ids.iter().all(|id| *id == ids[0]),
            "r{i}: one order in every answer: {ids:?}"
        );
        let keyed = store
            .order_by_request_key(user, &format!("r{i}"))
            .await
            .expect("read")
            .expect("the key's order");
        assert_eq!(keyed.id.0, ids[0], "r{i}");
    }
    let orders = store.list_orders(user, None, 10_000).await.expect("list");
    assert_eq!(orders.len(), KEYS, "one order per key, nothing else");
    let spent = orders.iter().try_fold(Money::ZERO, |sum, o| {
        sum.checked_add(
            o.charge
                .checked_sub(o.refunded)
                .expect("refund within charge"),
        )
    });
    let balance = store.user(user).await.expect("read").expect("user").balance;
    assert_eq!(
        balance.checked_add(spent.expect("sum")),
        Some(Money::parse("1000").expect("m")),
        "charged once per order"
    );
    assert!(store.ledger_mismatches().await.expect("check").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_storm_with_kill_9_places_one_order_per_request_id_on_sqlite() {
    replay_storm_with_kills(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_storm_with_kill_9_places_one_order_per_request_id_on_postgres() {
    replay_storm_with_kills(Backend::Postgres).await;
}
