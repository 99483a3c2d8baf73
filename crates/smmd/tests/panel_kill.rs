//! Provisioning a child panel interrupted by `kill -9` after each step (issue 19): real `smmd
//! serve` processes on one database. Each instance is started with the crash drill
//! `panels.drill_pause_after = <step>`: it runs that step's work and stops before recording it
//! done, where the test kills it. The next instance finds the step not recorded, runs it again
//! (it must find what the killed one made) and goes on to the next drill point. After the last
//! step, an instance without the drill finishes: the child works, and nothing was made twice
//! (one admin, one provider, one dedicated key, the catalogue once, the schedules once).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Cluster;
use smmd_domain::panel::{PanelPhase, ProvisionStep};
use smmd_domain::SystemClock;
use smmd_store::prelude::*;
use smmd_store::Role;
use smmd_store_sql::testing::Backend;

async fn wait_until(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn drill(backend: Backend) {
    let sim = smmd_sim::spawn(
        smmd_sim::SimConfig::default(),
        Arc::new(SystemClock),
        "127.0.0.1:0",
    )
    .await
    .expect("sim");
    let cluster = Cluster::new(backend, &[("SMMD__PANELS__REFRESH_MS", "200")]).await;
    let store: Arc<dyn Store> = cluster.db.store.clone();
    let plan = common::child_panel_root(&cluster, &sim.url, &sim.sim.config.api_key).await;
    let id = common::rent_child(&cluster, plan, "drill").await;

    // One instance per step, each killed in the drill pause after that step's work.
    for (n, step) in ProvisionStep::ALL.into_iter().enumerate() {
        let instance = cluster
            .spawn(
                &format!("drill-{n}"),
                &[
                    ("SMMD__PANELS__DRILL_PAUSE_AFTER", step.as_str()),
                    // The same configured name, as a restarted service keeps: its lease is its.
                    ("SMMD__SCHEDULER__INSTANCE", "drill"),
                ],
            )
            .await;
        let marker = step.as_str();
        wait_until(
            &format!("the drill pause after {step:?}"),
            Duration::from_secs(60),
            async || {
                instance
                    .log_text()
                    .lines()
                    .any(|l| l.contains("provisioning drill") && l.contains(marker))
            },
        )
        .await;
        instance.signal("-9");
        let p = store.panel(id).await.expect("read").expect("panel");
        assert_eq!(
            (p.phase, p.step),
            (PanelPhase::Provisioning, step),
            "killed before {step:?} was recorded done"
        );
    }

    // A normal start finishes it.
    let last = cluster
        .spawn("finish", &[("SMMD__SCHEDULER__INSTANCE", "drill")])
        .await;
    wait_until(
        "the child to be ready",
        Duration::from_secs(60),
        async || {
            let p = store.panel(id).await.expect("read").expect("panel");
            p.phase == PanelPhase::Ready
        },
    )
    .await;
    let p = store.panel(id).await.expect("read").expect("panel");
    assert_eq!(p.error, None);

    // Nothing inside the child was made twice.
    let (url, schema) =
        smmd_server::panels::registry::storage_location(&cluster.db.url, &p.storage)
            .expect("location");
    let child = smmd_store_sql::SqlStore::connect(
        &url,
        smmd_store_sql::ConnectOptions {
            migrate: false,
            schema,
            ..Default::default()
        },
    )
    .await
    .expect("child store");
    let users = child.list_users(None, 100).await.expect("users");
    assert_eq!(users.len(), 1, "one admin: {users:?}");
    assert_eq!(users[0].role, Role::Admin);
    let providers = child.providers().await.expect("providers");
    assert_eq!(providers.len(), 1, "one provider");
    let root_services = store.list_services(true).await.expect("root services");
    let child_services = child.list_services(false).await.expect("child services");
    assert_eq!(
        child_services.len(),
        root_services.len(),
        "the catalogue once"
    );
    let schedules = child.schedules().await.expect("schedules");
    assert_eq!(
        schedules.len(),
        smmd_jobs::control::DEFAULT_JOBS.len(),
        "the schedules once"
    );

    // And it serves: its admin logs in on its hostname, its key lists the root's catalogue.
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{}", last.port);
    let login = client
        .post(format!("{base}/api/auth/login"))
        .header("host", "drill.example")
        .json(&serde_json::json!({"email": "admin@drill.example", "password": "child-admin-pw"}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), 200, "{}", last.log_text());
    let key = child
        .providers()
        .await
        .expect("providers")
        .into_iter()
        .next()
        .map(|p| p.api_key_enc)
        .expect("sealed key");
    assert!(!key.is_empty());
    assert!(
        p.api_key_hash.is_some() && p.api_key_enc.is_some(),
        "one dedicated key, recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_killed_after_each_step_resumes_to_a_working_child_sqlite() {
    drill(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provisioning_killed_after_each_step_resumes_to_a_working_child_postgres() {
    drill(Backend::Postgres).await;
}
