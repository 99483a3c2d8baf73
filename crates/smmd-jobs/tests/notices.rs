//! `notifications.deliver` in a running engine on PostgreSQL, where a transaction of the
//! panel's own database can hold new events back from a run (the live feed reads rows in
//! commit order up to the oldest transaction in flight): the runs that follow such a run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::service::{validate_order, OrderInput};
use smmd_domain::{Clock, SystemClock};
use smmd_jobs::jobs::{register_all, JobDeps, Maintenance, NOTIFICATIONS_DELIVER};
use smmd_jobs::{Engine, EngineConfig, TimeSource};
use smmd_notify::{Notifier, NotifySettings, HELD_BACK};
use smmd_store::testsuite::{followers, user};
use smmd_store::{NewSchedule, Order, OrderUpdate, RunRecord, Store};
use smmd_store_sql::testing::{fresh, Backend};
use sqlx::Connection as _;

/// The runs of `notifications.deliver` so far, oldest first, each with its `held_back`
/// counter (`None` while it runs).
async fn runs(store: &Arc<dyn Store>) -> Vec<(RunRecord, Option<i64>)> {
    let id = store
        .schedules()
        .await
        .expect("list")
        .into_iter()
        .find(|s| s.name == NOTIFICATIONS_DELIVER)
        .expect("schedule")
        .id;
    let mut r = store.schedule_runs(id, None, 1_000).await.expect("runs");
    r.reverse();
    r.into_iter()
        .map(|run| {
            let held = run.counters.as_deref().and_then(|c| {
                let v: serde_json::Value = serde_json::from_str(c).ok()?;
                v.get(HELD_BACK)?.as_i64()
            });
            (run, held)
        })
        .collect()
}

/// Moves `o` from queued to Completed as the provider sync would, now.
async fn complete(store: &Arc<dyn Store>, o: &Order, now: i64) {
    for (expected, event, remains) in [
        (OrderStatus::Queued, OrderEvent::Claim, None),
        (OrderStatus::Submitting, OrderEvent::ProviderAccepted, None),
        (
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ),
    ] {
        store
            .apply_order_update(OrderUpdate {
                remains,
                provider_order_id: Some(format!("p{}", o.id)),
                ..OrderUpdate::new(o.id, expected, event, now)
            })
            .await
            .expect("update");
    }
}

/// A run that finds this database's events held back for longer than its settle (a writer
/// left open, with an id, before the events committed) is followed by the next run as it
/// ends, though the schedule's next tick is an hour away; the runs follow one another while
/// the writer stays open, and the first run after it ends notifies the order that completed
/// behind it (moments after, not at the next tick); then they stop. Without the follow-up
/// the order waits the hour: only the woken run happens.
#[tokio::test]
async fn a_run_held_back_by_an_open_transaction_is_followed_until_it_ends() {
    let Some(db) = fresh(Backend::Postgres).await else {
        return;
    };
    let store: Arc<dyn Store> = db.store.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let db_now = store.db_now_ms().await.expect("db clock");
    store
        .ensure_schedule(NewSchedule {
            enabled: true,
            name: NOTIFICATIONS_DELIVER.into(),
            expr: "@every 1h".into(),
            zone: "UTC".into(),
            misfire: smmd_jobs::Misfire::parse("fire_once").expect("misfire"),
            grace_ms: 5_000,
            catch_up_ms: 3_600_000,
            overlap: smmd_domain::schedule::Overlap::Skip,
            max_attempts: 1,
            retry_base_ms: 1_000,
            timeout_ms: 60_000,
            next_run_at: Some(db_now + 3_600_000),
            now: db_now,
        })
        .await
        .expect("schedule");
    let svc = followers(&store).await;
    let ann = user(&store, "ann@example.com", "10").await;
    let bob = user(&store, "bob@example.com", "0").await;

    // A writer of this database, left open: it has an id and no feed row yet.
    let mut writer = sqlx::PgConnection::connect(&db.url).await.expect("connect");
    sqlx::query("BEGIN")
        .execute(&mut writer)
        .await
        .expect("begin");
    sqlx::query("UPDATE users SET balance = balance + 1 WHERE id = $1")
        .bind(bob.id.0)
        .execute(&mut writer)
        .await
        .expect("write");
    // Ann's order completes behind it.
    let input = OrderInput {
        link: Some("https://instagram.com/ann".into()),
        quantity: Some("100".into()),
        ..Default::default()
    };
    let spec = validate_order(&svc.rules(), &input).expect("valid");
    let order = store
        .place_order(ann.id, &svc, &spec, Default::default(), clock.now_ms())
        .await
        .expect("order");
    complete(&store, &order, clock.now_ms()).await;

    let notifier = Notifier::new(
        store.clone(),
        clock.clone(),
        NotifySettings {
            panel_name: "Test Panel".into(),
            base_url: "https://panel.test".into(),
            ..NotifySettings::default()
        },
    )
    .expect("notifier");
    let mut engine = Engine::new(
        store.clone(),
        clock.clone(),
        EngineConfig {
            instance: "notices".into(),
            time_source: TimeSource::Database,
            poll: Duration::from_secs(60),
            ..EngineConfig::default()
        },
    );
    register_all(
        &mut engine,
        JobDeps {
            store: store.clone(),
            clock: clock.clone(),
            canary_work: Duration::ZERO,
            fulfil: None,
            maintenance: Maintenance::default(),
            notify: Some(notifier),
            rates: Default::default(),
            run_on_demand: false,
        },
    );
    let wake = engine.wake();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(engine.run_until(async {
        let _ = stopped.await;
    }));
    wake.wake(NOTIFICATIONS_DELIVER);

    // Each held run waits its 1 s settle; the runs follow one another.
    let bound = Instant::now() + Duration::from_secs(20);
    while runs(&store).await.iter().filter(|r| r.1 == Some(1)).count() < 2 {
        assert!(
            Instant::now() < bound,
            "no second held run: {:?}",
            runs(&store).await
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let notes = store
        .notifications_of_user(ann.id, None, 10)
        .await
        .expect("notes");
    assert!(
        notes.is_empty(),
        "notified through the open writer: {notes:?}"
    );

    sqlx::query("ROLLBACK")
        .execute(&mut writer)
        .await
        .expect("rollback");
    let ended = Instant::now();
    let notified = loop {
        let notes = store
            .notifications_of_user(ann.id, None, 10)
            .await
            .expect("notes");
        if !notes.is_empty() {
            break notes;
        }
        assert!(
            ended.elapsed() < Duration::from_secs(5),
            "the completed order was not notified after the writer ended: {:?}",
            runs(&store).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(notified.len(), 1, "{notified:?}");
    assert!(notified[0].title.contains(&order.reference), "{notified:?}");

    // The first run that was not held ends the follow-ups.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let _ = stop.send(());
    running.await.expect("engine");
    let all = runs(&store).await;
    let held: Vec<Option<i64>> = all.iter().map(|r| r.1).collect();
    let clear = held.len() - 1;
    assert!(
        held[..clear].iter().all(|h| *h == Some(1)) && held[clear] == Some(0),
        "held runs, then one clear run and no other: {held:?}"
    );
    assert!(
        all.iter()
            .all(|(r, _)| r.scheduled_for < db_now + 3_600_000),
        "every run was brought forward, none waited for the tick"
    );
}
