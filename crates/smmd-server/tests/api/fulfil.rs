//! Orders in motion end to end: placed through our `/api/v2`, dispatched and synced by the
//! scheduler's own jobs against `smmd-sim`, reported back through `/api/v2` — and a second smmd
//! buying from the first one's `/api/v2` as its provider.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use smmd_app::providers::ProviderInput;
use smmd_domain::{Clock, Money};
use smmd_fulfil::{Clients, Fulfil, Settings};
use smmd_jobs::control;
use smmd_sim::{SimConfig, SimHandle};
use smmd_store::Role;

use crate::helpers::{spawn_app, TestApp};

pub(crate) fn fulfil(app: &TestApp) -> Fulfil {
    Fulfil {
        store: app.store.clone(),
        clock: Arc::new(app.clock.clone()),
        clients: Clients::new([3u8; 32]).with_breaker(1_000, Duration::from_millis(1)),
        settings: Settings::default(),
        lanes: Default::default(),
    }
}

/// The scheduler with every job of this build, on the app's manual clock.
async fn engine(app: &TestApp, f: &Fulfil) -> smmd_jobs::Engine {
    app.engine(
        smmd_jobs::control::DEFAULT_JOBS,
        Some(f.clone()),
        smmd_jobs::jobs::Maintenance::default(),
    )
    .await
}

async fn connect(app: &TestApp, f: &Fulfil, name: &str, url: &str, key: &str) {
    let p = smmd_app::providers::add_provider(
        smmd_app::App::new(app.store.as_ref(), &app.clock),
        &f.clients,
        None,
        ProviderInput {
            name: name.into(),
            url: url.into(),
            key: key.into(),
            currency: "USD".into(),
            exchange_rate: "1".into(),
            alert_below: None,
            timeout_ms: 2_000,
            max_concurrency: 8,
            rate_per_sec: None,
            check_key: true,
            limits: Default::default(),
        },
    )
    .await
    .expect("provider")
    .0;
    let r = smmd_fulfil::catalog::sync_provider(f, &p, false)
        .await
        .expect("import");
    assert!(r.get("created").copied().unwrap_or(0) > 0, "{r:?}");
}

/// A reseller account with `balance` and its API key.
async fn reseller(app: &TestApp, email: &str, balance: &str) -> String {
    let (u, key) = smmd_app::accounts::register(
        smmd_app::App::new(app.store.as_ref(), &app.clock),
        email,
        "password-123",
        Role::User,
        None,
    )
    .await
    .expect("register");
    app.credit(
        u.id,
        Money::parse(balance).expect("m"),
        &format!("seed:{email}"),
    )
    .await;
    key
}

async fn sim(app: &TestApp, f: impl FnOnce(&mut SimConfig)) -> SimHandle {
    let mut c = SimConfig::default();
    f(&mut c);
    smmd_sim::spawn(c, Arc::new(app.clock.clone()), "127.0.0.1:0")
        .await
        .expect("sim")
}

/// Advances the clock in 5 s steps for `secs`, ticking the engine at each step.
async fn run_for(apps: &[(&TestApp, &smmd_jobs::Engine)], secs: i64) {
    for _ in 0..secs / 5 {
        for (app, _) in apps {
            app.clock.advance_ms(5_000);
        }
        for (_, e) in apps {
            e.tick().await.expect("tick");
        }
    }
}

fn statuses(json: &Value, ids: &[i64]) -> Vec<String> {
    ids.iter()
        .map(|id| {
            json[id.to_string()]["status"]
                .as_str()
                .unwrap_or("?")
                .to_string()
        })
        .collect()
}

pub async fn orders_placed_through_api_v2_reach_their_outcome_with_the_right_refunds(app: TestApp) {
    let f = fulfil(&app);
    let sim = sim(&app, |c| {
        c.services[1].partial_pct = 30;
        c.services[1].canceled_pct = 30;
    })
    .await;
    connect(&app, &f, "sim", &sim.url, &sim.sim.config.api_key).await;
    let e = engine(&app, &f).await;
    let key = reseller(&app, "r@x.io", "100").await;
    let mut ids = Vec::new();
    for i in 0..30 {
        let r = app
            .v2(&format!(
                "key={key}&action=add&service=2&link=https%3A%2F%2Finstagram.com%2Fp%2F{i}&quantity=1000"
            ))
            .await;
        ids.push(r.json["order"].as_i64().expect("order id"));
    }
    let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let first = app
        .v2(&format!("key={key}&action=status&orders={list}"))
        .await;
    assert!(statuses(&first.json, &ids).iter().all(|s| s == "Pending"));
    run_for(&[(&app, &e)], 180).await;
    let done = app
        .v2(&format!("key={key}&action=status&orders={list}"))
        .await;
    let got = statuses(&done.json, &ids);
    for want in ["Completed", "Partial", "Canceled"] {
        assert!(got.iter().any(|s| s == want), "no {want} in {got:?}");
    }
    // What the reseller paid = Σ charges of Completed + what Partial orders kept.
    let mut kept = Money::ZERO;
    for id in &ids {
        let o = &done.json[id.to_string()];
        let charge = Money::parse(o["charge"].as_str().expect("charge")).expect("m");
        let remains: i64 = o["remains"].as_str().expect("remains").parse().expect("n");
        match o["status"].as_str() {
            Some("Completed") => assert_eq!(remains, 0),
            Some("Canceled") => assert_eq!(charge, Money::ZERO, "{o}"),
            Some("Partial") => assert!(remains > 0 && remains < 1000, "{o}"),
            other => panic!("{other:?}"),
        }
        kept = kept.checked_add(charge).expect("sum");
    }
    let balance = app.v2(&format!("key={key}&action=balance")).await;
    let left = Money::parse(balance.json["balance"].as_str().expect("b")).expect("m");
    assert_eq!(
        left.checked_add(kept),
        Some(Money::parse("100").expect("m")),
        "balance + kept charges = the deposit"
    );
    app.assert_ledger_consistent().await;
    // The jobs ran as scheduled runs, with their counters.
    let dispatch = control::show(app.store.as_ref(), "orders.dispatch", app.clock.now_ms(), 0)
        .await
        .expect("show");
    assert!(dispatch.last_run.is_some());
    assert_eq!(sim.sim.stats().duplicate_links, 0);
}

pub async fn a_second_smmd_buys_through_the_first_ones_api_v2(app: TestApp) {
    let backend = if app.store.backend() == "postgres" {
        smmd_store_sql::testing::Backend::Postgres
    } else {
        smmd_store_sql::testing::Backend::Sqlite
    };
    let downstream = spawn_app(backend).await.expect("second smmd");
    let sim = sim(&app, |c| {
        for s in &mut c.services {
            s.partial_pct = 0;
            s.canceled_pct = 0;
        }
    })
    .await;
    // Upstream smmd: buys from the simulator, sells to the downstream smmd's account.
    let fa = fulfil(&app);
    connect(&app, &fa, "sim", &sim.url, &sim.sim.config.api_key).await;
    let ea = engine(&app, &fa).await;
    let down_key = reseller(&app, "downstream@x.io", "50").await;
    // Downstream smmd: its provider is the upstream smmd's /api/v2.
    let fb = fulfil(&downstream);
    connect(
        &downstream,
        &fb,
        "upstream smmd",
        &app.url("/api/v2"),
        &down_key,
    )
    .await;
    let eb = engine(&downstream, &fb).await;
    let services = downstream.v2("key=x&action=services").await;
    assert_eq!(services.error(), Some("Invalid API key"));
    let buyer = reseller(&downstream, "buyer@x.io", "10").await;
    let listed = downstream.v2(&format!("key={buyer}&action=services")).await;
    let likes = listed
        .json
        .as_array()
        .expect("list")
        .iter()
        .find(|s| s["name"] == "Instagram Likes [Fast]")
        .expect("likes")
        .clone();
    // 0.20 at the simulator, +50 % upstream = 0.30, +50 % downstream = 0.45.
    assert_eq!(likes["rate"], "0.45");
    let sid = likes["service"].as_i64().expect("id");
    let placed = downstream
        .v2(&format!("key={buyer}&action=add&service={sid}&link=https%3A%2F%2Finstagram.com%2Fp%2Fchain&quantity=2000"))
        .await;
    let id = placed.json["order"].as_i64().expect("order");
    run_for(&[(&downstream, &eb), (&app, &ea)], 240).await;
    let status = downstream
        .v2(&format!("key={buyer}&action=status&order={id}"))
        .await;
    assert_eq!(status.json["status"], "Completed", "{}", status.json);
    // Upstream, the downstream smmd's account paid 0.60 for 2000 likes; the simulator got one add.
    let bal = app.v2(&format!("key={down_key}&action=balance")).await;
    assert_eq!(bal.json["balance"], "49.40");
    assert_eq!(sim.sim.stats().orders_created, 1);
    let o = downstream
        .store
        .order(smmd_domain::OrderId(id))
        .await
        .expect("r")
        .expect("o");
    assert_eq!(
        o.provider_charge,
        Some(Money::parse("0.60").expect("m")),
        "cost recorded"
    );
    app.assert_ledger_consistent().await;
    downstream.assert_ledger_consistent().await;
}
