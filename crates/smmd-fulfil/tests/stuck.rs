//! The stuck-order ladder (issue 20), on SQLite and PostgreSQL against the simulator's "slow"
//! and "stuck" modes: every stuck order climbs refresh → speed-up → cancel → ticket at the
//! instants its service's average time gives, each step once; a cancel is refunded only when
//! the provider confirms it; no order that completes (slow ones included) is touched.

use std::collections::HashMap;
use std::sync::Arc;

use smmd_domain::order::{EventKind, OrderStatus};
use smmd_domain::stuck::Step;
use smmd_domain::{Clock, Money, OrderId};
use smmd_fulfil::{dispatch, stuck, sync};
use smmd_sim::SimConfig;
use smmd_store::{Order, Store, StuckStepRecord};
use smmd_store_sql::both_stores;

mod common;
use common::*;

const MIN: i64 = 60_000;

/// One minute of the panel: dispatch, a minute passes, status sync (with the ladder).
async fn tick(w: &World) {
    dispatch::run(&w.f).await.expect("dispatch");
    w.clock.advance_ms(MIN);
    sync::run(&w.f).await.expect("sync");
}

async fn steps(w: &World, id: OrderId) -> Vec<StuckStepRecord> {
    w.store.stuck_steps(id).await.expect("steps")
}

async fn the_ladder_climbs_each_stuck_order_once_and_never_touches_one_that_completes(
    store: Arc<dyn Store>,
) {
    let mut w = world(store, quiet(SimConfig::default())).await;
    let floor = 5 * MIN;
    let step = 15 * MIN;
    w.f.settings.stuck_after_ms = floor;
    w.f.settings.stuck_after_pct = 300;
    w.f.settings.stuck_step_ms = step;
    // Followers: refill and cancel upstream, 60 s before delivery starts, 200 a minute.
    let svc = w.service("1").await;
    // Five orders that complete normally give the service its average time.
    let mut warm = Vec::new();
    for n in 0..5 {
        warm.push(
            w.place(&svc, &format!("https://instagram.com/warm{n}"), 1000)
                .await
                .id,
        );
    }
    w.settle(&warm, 30).await;
    let samples = w
        .store
        .completion_samples(svc.id, 10)
        .await
        .expect("samples");
    assert_eq!(samples.len(), 5, "the warm-up completed");
    let avg_per_1000 = samples
        .iter()
        .map(|s| s.duration_ms * 1000 / s.quantity)
        .sum::<i64>()
        / 5;
    // From now on: 20 % of orders get stuck, 30 % deliver at half speed (11 minutes for 1000,
    // about twice the normal time), half of the cancels are refused.
    let mut catalog: Vec<_> = w.sim.sim.catalog().iter().map(|s| (**s).clone()).collect();
    catalog[0].stuck_pct = 20;
    catalog[0].slow_pct = 30;
    catalog[0].slow_speed_pct = 50;
    catalog[0].cancel_honoured_pct = 50;
    w.sim.sim.set_catalog(catalog).expect("catalog");

    let placed_at = w.clock.now_ms();
    let mut orders = Vec::new();
    for n in 0..200 {
        orders.push(
            w.place(&svc, &format!("https://instagram.com/o{n}"), 1000)
                .await,
        );
    }
    assert!(
        avg_per_1000 * 3 > 12 * MIN,
        "the slow orders finish before: {avg_per_1000}"
    );

    // Run the panel minute by minute past the last step, and after each minute check every
    // order against the rule, computed here from the completions the store holds then (the
    // service's average is a rolling one: the last 10 completed orders): the step an order is
    // due for is taken in the pass that reaches its instant, not before, never two at once.
    let mut seen: HashMap<OrderId, Vec<StuckStepRecord>> = HashMap::new();
    let mut ended: std::collections::HashSet<OrderId> = Default::default();
    let mut last_step_at = 0;
    let mut cancel_checked = false;
    while last_step_at == 0 || w.clock.now_ms() < last_step_at + 2 * step {
        tick(&w).await;
        let now = w.clock.now_ms();
        let samples = w
            .store
            .completion_samples(svc.id, 10)
            .await
            .expect("samples");
        let avg = samples
            .iter()
            .map(|s| s.duration_ms * 1000 / s.quantity)
            .sum::<i64>()
            / samples.len() as i64;
        let stuck_after = (avg * 3).max(floor);
        for o in &orders {
            if ended.contains(&o.id) {
                continue;
            }
            let current = w.order(o.id).await;
            let taken = steps(&w, o.id).await;
            let before = seen.entry(o.id).or_default();
            let fresh = &taken[before.len()..];
            let next = Step::from_number(before.len() as i64 + 1);
            let due = next.filter(|s| {
                let scheduled = placed_at + stuck_after + (s.number() - 1) * step;
                let rested = before.last().map_or(0, |l| l.taken_at + step);
                now >= scheduled.max(rested)
            });
            match (due, fresh) {
                (Some(d), [one]) => {
                    assert_eq!((one.step, one.taken_at), (d, now), "order {}", o.id.0);
                    last_step_at = now;
                }
                // An order that ended in this pass (before the ladder looked) takes no step.
                (Some(_), []) => assert!(
                    current.status.is_terminal(),
                    "order {} missed {due:?} at {now}",
                    o.id.0
                ),
                (None, []) => {}
                (_, fresh) => panic!("order {} took {fresh:?} at {now}, due {due:?}", o.id.0),
            }
            if fresh.iter().any(|s| s.step == Step::Cancel) {
                // Asked upstream, not confirmed yet: nothing refunded, still active.
                assert_eq!(
                    current.refunded,
                    Money::ZERO,
                    "order {}: refunded on request",
                    o.id.0
                );
                assert!(!current.status.is_terminal(), "order {}", o.id.0);
                cancel_checked = true;
            }
            *before = taken;
            if current.status.is_terminal() {
                ended.insert(o.id);
            }
        }
        // Once in a while two ladders race between ticks: nothing is due, nothing is taken.
        if now % (7 * MIN) == 0 {
            let (a, b) = tokio::join!(stuck::ladder(&w.f), stuck::ladder(&w.f));
            let (a, b) = (a.expect("ladder"), b.expect("ladder"));
            assert!(
                a.keys().chain(b.keys()).all(|k| !k.starts_with("stuck_")),
                "a step taken between ticks: {a:?} {b:?}"
            );
        }
        assert!(now < placed_at + 24 * 60 * MIN, "the ladder never finished");
    }
    assert!(cancel_checked);

    let mut completed = 0;
    let mut slow = 0;
    let mut canceled_upstream = 0;
    let mut ticketed: Vec<Order> = Vec::new();
    for o in &orders {
        let now = w.order(o.id).await;
        let taken = steps(&w, o.id).await;
        let log = w.store.order_log(o.id).await.expect("log");
        let logged: Vec<&str> = log
            .iter()
            .filter(|e| e.kind == EventKind::Stuck)
            .map(|e| e.status.as_str())
            .collect();
        if now.status == OrderStatus::Completed {
            completed += 1;
            if now.completed_at.expect("done") - o.created_at > 9 * MIN {
                slow += 1;
            }
            assert!(
                taken.is_empty(),
                "order {} completed yet was touched: {taken:?}",
                o.id.0
            );
            assert!(logged.is_empty());
            continue;
        }
        // Stuck: refresh, speed-up, cancel, each at its instant (the first tick at or after
        // it), once, and on the timeline once.
        let names: Vec<Step> = taken.iter().map(|s| s.step).collect();
        let expected: &[Step] = if now.status.is_terminal() {
            &[Step::Refresh, Step::SpeedUp, Step::Cancel]
        } else {
            &[Step::Refresh, Step::SpeedUp, Step::Cancel, Step::Ticket]
        };
        assert_eq!(names, expected, "order {} in {:?}", o.id.0, now.status);
        let expected_names: Vec<&str> = expected.iter().map(|s| s.as_str()).collect();
        assert_eq!(logged, expected_names, "order {}: timeline", o.id.0);
        for s in &taken {
            assert!(!s.detail.is_empty(), "every step records its outcome");
        }
        assert!(
            taken[1].detail.contains("refused") || taken[1].detail.contains("refill"),
            "{}",
            taken[1].detail
        );
        if now.status.is_terminal() {
            canceled_upstream += 1;
            assert!(
                matches!(now.status, OrderStatus::Canceled | OrderStatus::Partial),
                "{:?}",
                now.status
            );
            assert!(
                taken[2].detail.contains("Cancel asked"),
                "{}",
                taken[2].detail
            );
        } else {
            assert!(taken[2].detail.contains("refused"), "{}", taken[2].detail);
            assert!(
                taken[3].detail.starts_with("Ticket #"),
                "{}",
                taken[3].detail
            );
            ticketed.push(now);
        }
    }
    eprintln!(
        "{} orders: {completed} completed ({slow} slow), {canceled_upstream} stuck and canceled \
         upstream, {} stuck with a refused cancel and a ticket",
        orders.len(),
        ticketed.len()
    );
    // The simulator's shares came true: some of each kind.
    assert!(slow >= 20, "slow orders that completed: {slow}");
    assert!(completed >= 140, "completed: {completed}");
    assert!(
        canceled_upstream >= 5,
        "canceled upstream: {canceled_upstream}"
    );
    assert!(!ticketed.is_empty(), "some cancels were refused");
    assert_eq!(completed + canceled_upstream + ticketed.len(), orders.len());
    // A canceled stuck order paid back exactly what was not delivered; every balance adds up.
    w.assert_money(&orders.iter().map(|o| o.id).collect::<Vec<_>>())
        .await;

    // The refused ones each have one ticket about them, and the admin queue lists them.
    let tickets = w
        .store
        .tickets(&smmd_store::TicketQuery {
            user: Some(w.user.id),
            status: None,
            unread_by_admin: true,
            before: None,
            limit: 200,
        })
        .await
        .expect("tickets");
    assert_eq!(tickets.len(), ticketed.len(), "waiting for an admin");
    let mut per_order: HashMap<OrderId, usize> = HashMap::new();
    for t in &tickets {
        for id in &t.order_ids {
            *per_order.entry(*id).or_default() += 1;
        }
    }
    for o in &ticketed {
        assert_eq!(
            per_order.get(&o.id),
            Some(&1),
            "order {}: one ticket",
            o.id.0
        );
    }
    let queue = w.store.stuck_queue(1000).await.expect("queue");
    let mut listed: Vec<OrderId> = queue.orders.iter().map(|e| e.order.id).collect();
    let mut want: Vec<OrderId> = ticketed.iter().map(|o| o.id).collect();
    listed.sort();
    want.sort();
    assert_eq!(
        listed, want,
        "the queue lists the active orders on the ladder"
    );
    assert_eq!(queue.per_provider.len(), 1);
    assert_eq!(queue.per_provider[0].orders, ticketed.len() as i64);

    // Days later nothing more happens: every step was taken once.
    for _ in 0..3 {
        w.clock.advance_ms(24 * 60 * MIN);
        let r = sync::run(&w.f).await.expect("sync");
        assert!(r.keys().all(|k| !k.starts_with("stuck_")), "{r:?}");
    }
}

async fn a_service_setting_overrides_the_default_floor(store: Arc<dyn Store>) {
    let mut c = quiet(SimConfig::default());
    c.services[0].stuck_pct = 100;
    let mut w = world(store, c).await;
    w.f.settings.stuck_after_ms = 48 * 60 * MIN;
    w.f.settings.stuck_step_ms = 10 * MIN;
    let svc = w.service("1").await;
    let o = w.place(&svc, "https://instagram.com/one", 1000).await;
    let placed = w.clock.now_ms();
    // The category says 30 minutes, the service 20: the service wins.
    for (label, minutes) in [("category", 30), ("service", 20)] {
        let rule = smmd_domain::stuck::StuckOverride {
            after_pct: None,
            floor_minutes: Some(minutes),
        };
        match label {
            "category" => w.store.set_category_stuck(&svc.category, rule, None).await,
            _ => w.store.set_service_stuck(svc.id, rule, None).await,
        }
        .expect("set");
    }
    let (own, cat) = w.store.stuck_rules(&[svc.id]).await.expect("rules")[&svc.id];
    assert_eq!((own.floor_minutes, cat.floor_minutes), (Some(20), Some(30)));
    while w.clock.now_ms() < placed + 19 * MIN {
        tick(&w).await;
    }
    assert!(
        steps(&w, o.id).await.is_empty(),
        "not before the service's floor"
    );
    tick(&w).await;
    let taken = steps(&w, o.id).await;
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].step, Step::Refresh);
    assert!(
        taken[0].detail.starts_with("Status asked again"),
        "{}",
        taken[0].detail
    );
}

both_stores!(
    the_ladder_climbs_each_stuck_order_once_and_never_touches_one_that_completes,
    a_service_setting_overrides_the_default_floor,
);
