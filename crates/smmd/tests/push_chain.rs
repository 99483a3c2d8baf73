//! A chain of three smmd panels (issue 20, provider webhooks): C buys from B, B buys from A,
//! A buys from the simulator. Each downstream account registers its panel's push endpoint as
//! its webhook at the upstream, and the upstream's webhook secret as the provider's push
//! secret. B's and C's status syncs run hourly, so only pushes can move their orders: a
//! Completed and a Partial reach C's customer in under a second after A learns them, with each
//! panel's refund exact and every ledger equal to its balances. On PostgreSQL a transaction stays
//! open in another database of the server throughout: it must not hold any panel's feed back.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Cluster, Instance};
use serde_json::{json, Value};
use smmd_domain::order::OrderStatus;
use smmd_domain::{OrderId, SystemClock};
use smmd_sim::SimConfig;
use smmd_store::{Order, Store};
use smmd_store_sql::testing::{fresh, Backend, TestDb};

const PANEL: &[(&str, &str)] = &[
    ("SMMD__NOTIFICATIONS__ALLOW_PRIVATE_WEBHOOKS", "true"),
    ("SMMD__SCHEDULER__RUN_ON_DEMAND", "true"),
    ("SMMD__SCHEDULER__POLL_MS", "200"),
];

/// One panel: its database and process, its admin key.
struct Panel {
    cluster: Cluster,
    instance: Instance,
    admin_key: String,
}

impl Panel {
    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.instance.port)
    }

    fn store(&self) -> Arc<dyn Store> {
        self.cluster.db.store.clone()
    }

    async fn order(&self, id: i64) -> Order {
        self.store()
            .order(OrderId(id))
            .await
            .expect("read")
            .expect("order")
    }
}

/// A panel buying from `upstream_url` with `key` (its provider is the only one), its status sync
/// every `sync`.
async fn panel(backend: Backend, name: &str, upstream_url: &str, key: &str, sync: &str) -> Panel {
    let cluster = Cluster::new(backend, PANEL).await;
    cluster.cli(&[
        "provider",
        "add",
        "--name",
        "upstream",
        "--url",
        upstream_url,
        "--key",
        key,
        "--timeout-ms",
        "5000",
    ]);
    cluster.cli(&["services", "sync"]);
    cluster.cli(&["jobs", "set", "orders.dispatch", "--cron", "@every 1s"]);
    cluster.cli(&["jobs", "set", "orders.sync_status", "--cron", sync]);
    let admin_key = cluster.create_user(&format!("owner@{name}.io"), "password-123", true);
    let instance = cluster
        .spawn(name, &[("RUST_LOG", "warn,smmd_notify=info")])
        .await;
    Panel {
        cluster,
        instance,
        admin_key,
    }
}

/// Makes `down` receive `up`'s order webhooks for the account `key` as provider pushes.
async fn link(up: &Panel, key: &str, down: &Panel) {
    let http = reqwest::Client::new();
    let hook = down.url("/hooks/providers/1");
    let settings: Value = http
        .put(up.url("/api/account/notification-settings"))
        .bearer_auth(key)
        .json(&json!({"email": false, "webhook_url": hook}))
        .send()
        .await
        .expect("settings")
        .json()
        .await
        .expect("json");
    let secret = settings["webhook_secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no secret: {settings}"));
    let r = http
        .put(down.url("/api/admin/providers/1/push-secret"))
        .bearer_auth(&down.admin_key)
        .json(&json!({"secret": secret}))
        .send()
        .await
        .expect("push secret");
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

/// Another database of the test server with a writing transaction left open on it (it has an
/// id, so it is in every snapshot's in-flight list) until the connection is dropped.
async fn open_elsewhere() -> (TestDb, sqlx::AnyConnection) {
    use sqlx::Connection;
    let db = fresh(Backend::Postgres).await.expect("another database");
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&db.url)
        .await
        .expect("connect");
    for sql in [
        "BEGIN",
        "CREATE TEMPORARY TABLE hold (i INTEGER)",
        "INSERT INTO hold VALUES (1)",
    ] {
        sqlx::query(sql).execute(&mut c).await.expect(sql);
    }
    (db, c)
}

async fn wait_for(what: &str, limit: Duration, mut done: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The id of the service named like `name` on `p`'s `/api/v2` for `key`.
async fn service(p: &Panel, key: &str, name: &str) -> i64 {
    let list: Value = reqwest::Client::new()
        .post(p.url("/api/v2"))
        .form(&[("key", key), ("action", "services")])
        .send()
        .await
        .expect("services")
        .json()
        .await
        .expect("json");
    list.as_array()
        .into_iter()
        .flatten()
        .find(|s| s["name"].as_str().is_some_and(|n| n.contains(name)))
        .and_then(|s| {
            s["service"]
                .as_i64()
                .or_else(|| s["service"].as_str()?.parse().ok())
        })
        .unwrap_or_else(|| panic!("no {name}: {list}"))
}

async fn add(p: &Panel, key: &str, service: i64, link: &str, quantity: i64) -> i64 {
    let body: Value = reqwest::Client::new()
        .post(p.url("/api/v2"))
        .form(&[
            ("key", key),
            ("action", "add"),
            ("service", &service.to_string()),
            ("link", link),
            ("quantity", &quantity.to_string()),
        ])
        .send()
        .await
        .expect("add")
        .json()
        .await
        .expect("json");
    body["order"].as_i64().unwrap_or_else(|| panic!("{body}"))
}

async fn three_panels_deliver_completed_and_partial_in_under_a_second(backend: Backend) {
    let mut config = SimConfig {
        speedup: 60,
        ..SimConfig::default()
    };
    for s in &mut config.services {
        s.canceled_pct = 0;
        s.partial_pct = 0;
        s.start_delay_s = 30;
    }
    config.services[0].partial_pct = 100;
    let sim = smmd_sim::spawn(config, Arc::new(SystemClock), "127.0.0.1:0")
        .await
        .expect("sim");

    // On PostgreSQL, a transaction left open in another database of the same server for the
    // whole chain (another panel's, another application's): it holds back nothing here
    // (each panel's feed horizon is its own database's, migration 0037).
    let _elsewhere = match backend {
        Backend::Postgres => Some(open_elsewhere().await),
        Backend::Sqlite => None,
    };
    let a = panel(backend, "a", &sim.url, "sim-key", "@every 1s").await;
    let b_key = a.cluster.reseller("b@x.io", "1000");
    let b = panel(backend, "b", &a.url("/api/v2"), &b_key, "@every 1h").await;
    let c_key = b.cluster.reseller("c@x.io", "1000");
    let c = panel(backend, "c", &b.url("/api/v2"), &c_key, "@every 1h").await;
    link(&a, &b_key, &b).await;
    link(&b, &c_key, &c).await;

    let customer = c.cluster.reseller("customer@x.io", "100");
    let likes = service(&c, &customer, "Likes").await;
    let followers = service(&c, &customer, "Followers").await;
    let done = add(
        &c,
        &customer,
        likes,
        "https://instagram.com/p/chain-done",
        1000,
    )
    .await;
    let partial = add(
        &c,
        &customer,
        followers,
        "https://instagram.com/p/chain-part",
        500,
    )
    .await;

    // Both reach the end at C through pushes alone (B and C poll hourly).
    wait_for(
        "both orders to end at C",
        Duration::from_secs(90),
        async || {
            c.order(done).await.status == OrderStatus::Completed
                && c.order(partial).await.status == OrderStatus::Partial
        },
    )
    .await;
    let c_done = c.order(done).await;
    let c_part = c.order(partial).await;
    // The same orders one and two panels up.
    let up = |o: &Order| -> i64 {
        o.provider_order_id
            .as_deref()
            .and_then(|id| id.parse().ok())
            .expect("sent upstream")
    };
    let b_done = b.order(up(&c_done)).await;
    let b_part = b.order(up(&c_part)).await;
    let a_done = a.order(up(&b_done)).await;
    let a_part = a.order(up(&b_part)).await;
    for (name, at_a, at_c) in [
        ("completed", &a_done, &c_done),
        ("partial", &a_part, &c_part),
    ] {
        let (ta, tc) = (at_a.updated_at, at_c.updated_at);
        eprintln!("chain {backend:?} {name}: A {ta} → C {tc}: {} ms", tc - ta);
        if tc - ta >= 1_000 {
            for (panel, p) in [("A", &a), ("B", &b), ("C", &c)] {
                eprintln!("--- {panel}'s log:\n{}", p.instance.log_text());
            }
        }
        assert!(tc - ta < 1_000, "{name}: {} ms from A to C", tc - ta);
    }
    // The Partial's remains travel down and each panel refunds its own charge exactly.
    assert_eq!(a_part.remains, b_part.remains);
    assert_eq!(b_part.remains, c_part.remains);
    for o in [&a_part, &b_part, &c_part] {
        let remains = o.remains.expect("remains");
        assert!(remains > 0 && remains < 500, "{remains}");
        let want = o
            .charge
            .prorate_down(remains, o.total_quantity)
            .expect("refund");
        assert_eq!(o.refunded, want, "order {} refunds exactly", o.id.0);
    }
    for o in [&a_done, &b_done, &c_done] {
        assert_eq!(
            (o.status, o.refunded),
            (OrderStatus::Completed, smmd_domain::Money::ZERO)
        );
    }
    for p in [&a, &b, &c] {
        assert!(p
            .store()
            .ledger_mismatches()
            .await
            .expect("check")
            .is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_panels_deliver_completed_and_partial_in_under_a_second_on_sqlite() {
    three_panels_deliver_completed_and_partial_in_under_a_second(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_panels_deliver_completed_and_partial_in_under_a_second_on_postgres() {
    three_panels_deliver_completed_and_partial_in_under_a_second(Backend::Postgres).await;
}
