//! The margin guard at dispatch (issue 20), on SQLite and PostgreSQL against the simulator: the
//! category's minimum margin applies unless the service sets its own (which wins, met exactly
//! at the floor), a held order is never claimed again, and when the provider's rates cannot be
//! read the last known costs still guard. The 10,000-order proof is `smmd-app/tests/margin.rs`.

use std::sync::Arc;

use smmd_domain::margin::{Hold, MarginAction};
use smmd_domain::order::OrderStatus;
use smmd_fulfil::dispatch;
use smmd_sim::SimConfig;
use smmd_store::Store;
use smmd_store_sql::both_stores;

mod common;
use common::*;

async fn the_category_margin_guards_unless_the_service_sets_its_own(store: Arc<dyn Store>) {
    let mut w = world(store, quiet(SimConfig::default())).await;
    w.f.settings.cost_max_age_ms = 0;
    // Followers: 0.60 upstream, sold at 0.90 (+50 %).
    let svc = w.service("1").await;
    // A 60 % category margin asks 0.96 per 1000: the order is held, not sent.
    w.store
        .set_category_margin(&svc.category, Some(6_000), None)
        .await
        .expect("category margin");
    let a = w.place(&svc, "https://instagram.com/p/a", 1000).await;
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(
        (r.get("margin_held"), r.get("accepted"), r.get("costs_read")),
        (Some(&1), None, Some(&1)),
        "{r:?}"
    );
    let held = w.order(a.id).await;
    assert_eq!(
        (held.status, held.hold),
        (OrderStatus::Queued, Some(Hold::Margin))
    );
    assert!(
        held.note.as_deref().unwrap_or("").contains("0.60"),
        "{:?}",
        held.note
    );
    assert_eq!(w.sim.sim.stats().orders_created, 0);
    // The service's own 50 % wins and is met exactly at the floor (0.90 ≥ 0.60 × 1.5).
    w.store
        .set_service_margin(svc.id, Some(5_000), MarginAction::Hold, None)
        .await
        .expect("service margin");
    let b = w.place(&svc, "https://instagram.com/p/b", 1000).await;
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(
        (r.get("claimed"), r.get("accepted"), r.get("margin_held")),
        (Some(&1), Some(&1), None),
        "only the new order is claimed: {r:?}"
    );
    assert_eq!(w.order(b.id).await.status, OrderStatus::Processing);
    assert_eq!(
        w.order(a.id).await.status,
        OrderStatus::Queued,
        "still held"
    );
    w.assert_money(&[a.id, b.id]).await;
}

async fn unreadable_rates_leave_the_last_known_costs_in_force(store: Arc<dyn Store>) {
    let mut w = world(store, quiet(SimConfig::default())).await;
    w.f.settings.cost_max_age_ms = 0;
    let svc = w.service("1").await;
    w.store
        .set_service_margin(svc.id, Some(6_000), MarginAction::Hold, None)
        .await
        .expect("margin");
    // The services sync of `world` read the costs; now the provider stops answering.
    w.sim.stop();
    let o = w.place(&svc, "https://instagram.com/p/c", 1000).await;
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(
        (r.get("cost_read_errors"), r.get("margin_held")),
        (Some(&1), Some(&1)),
        "{r:?}"
    );
    assert_eq!(w.order(o.id).await.hold, Some(Hold::Margin));
    // With a 15-minute age, the failed read is not retried before every batch.
    w.f.settings.cost_max_age_ms = 15 * 60_000;
    w.place(&svc, "https://instagram.com/p/d", 1000).await;
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(
        (r.get("cost_read_errors"), r.get("margin_held")),
        (None, Some(&1)),
        "{r:?}"
    );
}

both_stores!(
    the_category_margin_guards_unless_the_service_sets_its_own,
    unreadable_rates_leave_the_last_known_costs_in_force,
);
