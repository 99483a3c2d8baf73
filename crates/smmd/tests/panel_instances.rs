//! Child panels on PostgreSQL served by two `smmd serve` processes (issue 19): both instances
//! serve the root and every child (each child in its own schema), and each child's scheduled
//! ticks run exactly once across the instances through the ordinary claim logic. The
//! observable side effect is the opt-in `scheduler.canary` job, enabled every second in each
//! child: one fenced row per execution, so a tick run twice would show.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::Cluster;
use smmd_domain::panel::PanelPhase;
use smmd_domain::SystemClock;
use smmd_store::prelude::*;
use smmd_store_sql::testing::Backend;
use sqlx::{Connection, Executor, Row};

const TICKS: usize = 15;

/// A connection whose tables are child schema `schema`'s.
async fn in_schema(cluster: &Cluster, schema: &str) -> sqlx::AnyConnection {
    let mut c = sqlx::AnyConnection::connect(&cluster.db.url)
        .await
        .expect("connect");
    c.execute(format!("SET search_path TO {schema}").as_str())
        .await
        .expect("search_path");
    c
}

/// The canary's runs in `schema`: (scheduled_for, state, owner), and its effects per run
/// (how many, by which instance).
async fn canary(
    cluster: &Cluster,
    schema: &str,
) -> (Vec<(i64, String, String)>, BTreeMap<i64, (usize, String)>) {
    let mut c = in_schema(cluster, schema).await;
    let runs = sqlx::query(
        "SELECT r.id, r.scheduled_for, r.state, COALESCE(r.lease_owner, '') AS owner \
         FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id \
         WHERE s.name = 'scheduler.canary' AND r.kind = 'tick' ORDER BY r.id",
    )
    .fetch_all(&mut c)
    .await
    .expect("runs");
    let effects = sqlx::query("SELECT run_id, instance FROM scheduler_canary")
        .fetch_all(&mut c)
        .await
        .expect("effects");
    let mut per_run: BTreeMap<i64, (usize, String)> = BTreeMap::new();
    for e in &effects {
        let entry = per_run.entry(e.get::<i64, _>("run_id")).or_default();
        entry.0 += 1;
        entry.1 = e.get("instance");
    }
    let runs = runs
        .iter()
        .map(|r| (r.get("scheduled_for"), r.get("state"), r.get("owner")))
        .collect();
    (runs, per_run)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_serve_every_child_and_run_each_childs_ticks_once() {
    let sim = smmd_sim::spawn(
        smmd_sim::SimConfig::default(),
        Arc::new(SystemClock),
        "127.0.0.1:0",
    )
    .await
    .expect("sim");
    let cluster = Cluster::new(Backend::Postgres, &[("SMMD__PANELS__REFRESH_MS", "200")]).await;
    let store: Arc<dyn Store> = cluster.db.store.clone();
    let plan = common::child_panel_root(&cluster, &sim.url, &sim.sim.config.api_key).await;
    let mut ids = Vec::new();
    for name in ["one", "two"] {
        ids.push(common::rent_child(&cluster, plan, name).await);
    }
    let instances = cluster.spawn_many(2, &[]).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let panels = store.panels().await.expect("panels");
        if panels.iter().all(|p| p.phase == PanelPhase::Ready) {
            break;
        }
        assert!(Instant::now() < deadline, "children not ready: {panels:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Both instances answer for both children.
    let client = reqwest::Client::new();
    for inst in &instances {
        for name in ["one", "two"] {
            let deadline = Instant::now() + Duration::from_secs(10);
            loop {
                let r = client
                    .get(format!("http://127.0.0.1:{}/", inst.port))
                    .header("host", format!("{name}.example"))
                    .send()
                    .await
                    .expect("page");
                if r.status() == 200 {
                    assert!(r
                        .text()
                        .await
                        .expect("body")
                        .contains(&format!("Shop {name}")));
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "{} does not serve {name}",
                    inst.name
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    // The canary every second in each child.
    let schemas: Vec<String> = ids
        .iter()
        .map(|id| smmd_domain::panel::schema_name(*id))
        .collect();
    for schema in &schemas {
        let child = smmd_store_sql::SqlStore::connect(
            &cluster.db.url,
            smmd_store_sql::ConnectOptions {
                migrate: false,
                schema: Some(schema.clone()),
                ..Default::default()
            },
        )
        .await
        .expect("child store");
        let now = child.db_now_ms().await.expect("db clock");
        smmd_jobs::control::edit(
            &child,
            "scheduler.canary",
            smmd_jobs::control::JobEdit {
                expr: Some("* * * * * *".into()),
                zone: Some("UTC".into()),
                enabled: Some(true),
                ..Default::default()
            },
            "test",
            now,
        )
        .await
        .expect("enable the canary");
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        // Enough ticks in every child, and (on a loaded machine one instance may win every
        // claim for a while) ticks taken by both instances.
        let mut done = true;
        let mut owners = BTreeSet::new();
        for schema in &schemas {
            let (runs, effects) = canary(&cluster, schema).await;
            done &= runs.iter().filter(|r| r.1 == "succeeded").count() >= TICKS;
            owners.extend(effects.into_values().map(|(_, instance)| instance));
        }
        owners.remove("");
        if done && owners.len() == 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the children's canaries did not tick {TICKS} times each, on both instances: {owners:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(instances);
    // Each child: every tick once, each run's effect once; both instances took ticks.
    let mut owners = BTreeSet::new();
    for schema in &schemas {
        let (runs, effects) = canary(&cluster, schema).await;
        let mut ticks = BTreeSet::new();
        for (tick, _, _) in &runs {
            assert!(ticks.insert(*tick), "{schema}: tick {tick} has two runs");
        }
        assert!(
            effects.values().all(|(n, _)| *n == 1),
            "{schema}: a run took effect twice: {effects:?}"
        );
        owners.extend(effects.values().map(|(_, instance)| instance.clone()));
        let succeeded = runs.iter().filter(|r| r.1 == "succeeded").count();
        assert!(succeeded >= TICKS, "{schema}: {succeeded} ticks");
        assert!(
            effects.len() >= succeeded,
            "{schema}: every succeeded run took effect"
        );
        // Consecutive seconds between the first and the last run, none missing.
        let (first, last) = (
            ticks.first().copied().expect("a tick"),
            ticks.last().copied().expect("a tick"),
        );
        assert_eq!(
            ticks.len() as i64,
            (last - first) / 1_000 + 1,
            "{schema}: no tick skipped between {first} and {last}"
        );
    }
    owners.remove("");
    assert_eq!(
        owners.len(),
        2,
        "both instances ran children's ticks: {owners:?}"
    );
}
