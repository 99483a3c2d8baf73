//! Offer failover (issue 20), on SQLite and PostgreSQL against two simulators: a service sold
//! through provider A with provider B as its second offer. A goes through a burst of 5xx
//! answers, then runs out of funds, then recovers, then drops the service; orders placed across
//! each fault move to B with the fault's reason code, none is lost (every one completes or waits
//! in review where its provider has it), none is sent twice (no link has an order at two
//! providers or two at one), and the money is exact.

use std::collections::HashMap;
use std::sync::Arc;

use smmd_domain::failover::Reason;
use smmd_domain::order::OrderStatus;
use smmd_domain::{Money, OrderId};
use smmd_fulfil::dispatch;
use smmd_sim::{spawn, Faults, SimConfig, SimHandle};
use smmd_store::{Offer, Order, Store};
use smmd_store_sql::both_stores;

mod common;
use common::*;

/// Places `n` orders of 1000 for `tag`'s links.
async fn place(w: &World, svc: &smmd_store::Service, tag: &str, n: usize) -> Vec<Order> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        out.push(
            w.place(svc, &format!("https://instagram.com/p/{tag}-{i}"), 1000)
                .await,
        );
    }
    out
}

/// Runs dispatch until none of `orders` is queued (or 40 runs), and sums the reports.
async fn dispatch_all(w: &World, orders: &[Order]) -> HashMap<String, i64> {
    let mut total = HashMap::new();
    for _ in 0..40 {
        let r = dispatch::run(&w.f).await.expect("dispatch");
        for (k, v) in r {
            *total.entry(k).or_default() += v;
        }
        let mut queued = 0;
        for o in orders {
            if w.order(o.id).await.status == OrderStatus::Queued {
                queued += 1;
            }
        }
        if queued == 0 {
            return total;
        }
        w.clock.advance_ms(1_000);
    }
    panic!("orders still queued after 40 runs: {total:?}");
}

/// The orders' current rows.
async fn rows(w: &World, orders: &[Order]) -> Vec<Order> {
    let mut out = Vec::with_capacity(orders.len());
    for o in orders {
        out.push(w.order(o.id).await);
    }
    out
}

fn count_by<K: std::hash::Hash + Eq>(
    rows: &[Order],
    key: impl Fn(&Order) -> K,
) -> HashMap<K, usize> {
    let mut m = HashMap::new();
    for o in rows {
        *m.entry(key(o)).or_default() += 1;
    }
    m
}

async fn orders_reroute_off_a_failing_offer_with_reasons_none_lost_none_sent_twice(
    store: Arc<dyn Store>,
) {
    let w = world(store, quiet(SimConfig::default())).await;
    let a = w.provider;
    let svc = w.service("1").await;
    let sim_b: SimHandle = spawn(quiet(SimConfig::default()), w.clock.clone(), "127.0.0.1:0")
        .await
        .expect("sim b");
    let b = add_provider(&w.store, &w.f.clients, "backup", &sim_b).await;
    w.store
        .add_service_offer(
            svc.id,
            Offer {
                provider_id: b,
                provider_service_id: "1".into(),
            },
            None,
        )
        .await
        .expect("second offer");
    let batch = 8; // the providers' max_concurrency: one claimed batch

    // 1. A answers 5xx to everything. The first batch's `add`s were executed and their answers
    //    lost: review, never resent. The breaker trips; later batches are probed with a
    //    `balance` read (which fails too) and move to B before any `add`.
    w.sim
        .sim
        .set_faults(Faults {
            http_5xx_pct: 100,
            ..Faults::default()
        })
        .expect("faults");
    let burst = place(&w, &svc, "burst", 60).await;
    let r = dispatch_all(&w, &burst).await;
    let got = rows(&w, &burst).await;
    let review: Vec<&Order> = got
        .iter()
        .filter(|o| o.status == OrderStatus::NeedsReview)
        .collect();
    assert!(
        !review.is_empty() && review.len() <= batch,
        "only the first batch risks A: {} in review, {r:?}",
        review.len()
    );
    for o in &got {
        match o.status {
            OrderStatus::NeedsReview => {
                assert_eq!(
                    (o.provider_id, o.offer_index, o.route_reason),
                    (Some(a), 0, None)
                );
            }
            _ => {
                assert_eq!((o.provider_id, o.offer_index), (Some(b), 1), "{:?}", o.note);
                assert!(
                    matches!(
                        o.route_reason,
                        Some(Reason::ProviderFailing | Reason::ProviderUnavailable)
                    ),
                    "{:?} {:?}",
                    o.route_reason,
                    o.note
                );
            }
        }
    }
    assert_eq!(
        w.sim.sim.stats().calls.get("add").copied().unwrap_or(0) as usize,
        review.len(),
        "A saw an `add` only for the orders now in review"
    );
    let failing = count_by(&got, |o| o.route_reason);
    assert!(
        failing
            .get(&Some(Reason::ProviderFailing))
            .copied()
            .unwrap_or(0)
            > 0,
        "a failed probe moves orders before any call: {failing:?}"
    );
    w.sim.sim.set_faults(Faults::default()).expect("calm");

    // 2. A runs out of funds: the first refusals move to B, then A counts as out of funds and
    //    the rest move before any call.
    w.clock.advance_ms(60_000);
    w.sim.sim.set_funds(Money::ZERO);
    let adds_before = w.sim.sim.stats().calls.get("add").copied().unwrap_or(0);
    let dry = place(&w, &svc, "dry", 60).await;
    dispatch_all(&w, &dry).await;
    let got_dry = rows(&w, &dry).await;
    for o in &got_dry {
        assert_eq!(
            (o.provider_id, o.route_reason),
            (Some(b), Some(Reason::OutOfFunds)),
            "{:?}",
            o.note
        );
    }
    let refused = w.sim.sim.stats().calls.get("add").copied().unwrap_or(0) - adds_before;
    assert!(
        refused >= 1 && refused as usize <= batch,
        "A was asked {refused} times for 60 orders"
    );
    assert!(w
        .store
        .provider(a)
        .await
        .expect("p")
        .expect("a")
        .out_of_funds_at
        .is_some());

    // 3. A is topped up and calm again: once the funds retry period has passed, new orders
    //    stay on A (offer 0); its first acceptance clears the out-of-funds mark.
    w.sim.sim.set_funds(Money::parse("10000").expect("m"));
    w.clock.advance_ms(w.f.settings.funds_retry_ms + 1);
    let back = place(&w, &svc, "back", 20).await;
    dispatch_all(&w, &back).await;
    for o in rows(&w, &back).await {
        assert_eq!(
            (o.status, o.provider_id, o.offer_index, o.route_reason),
            (OrderStatus::Processing, Some(a), 0, None),
            "{:?}",
            o.note
        );
    }
    assert_eq!(
        w.store
            .provider(a)
            .await
            .expect("p")
            .expect("a")
            .out_of_funds_at,
        None
    );

    // 4. A drops the service from its catalog: refused as an unknown service, and once its
    //    list is read, marked missing, so the rest move before any call.
    let keep: Vec<_> = w
        .sim
        .sim
        .catalog()
        .iter()
        .filter(|s| s.id != 1)
        .map(|s| (**s).clone())
        .collect();
    w.sim.sim.set_catalog(keep).expect("catalog");
    w.clock.advance_ms(w.f.settings.cost_max_age_ms + 1);
    let gone = place(&w, &svc, "gone", 60).await;
    dispatch_all(&w, &gone).await;
    for o in rows(&w, &gone).await {
        assert_eq!(
            (o.provider_id, o.route_reason),
            (Some(b), Some(Reason::ServiceDisabled)),
            "{:?}",
            o.note
        );
    }

    // Everything runs to its end: nothing lost, nothing twice, money exact.
    let all: Vec<Order> = [burst, dry, back, gone].concat();
    let ids: Vec<OrderId> = all.iter().map(|o| o.id).collect();
    w.settle(&ids, 60).await;
    let end = rows(&w, &all).await;
    let by_status = count_by(&end, |o| o.status);
    assert_eq!(
        by_status.get(&OrderStatus::Completed).copied().unwrap_or(0) + review.len(),
        all.len(),
        "every order completes but the ones in review: {by_status:?}"
    );
    for o in &end {
        let link = o.link.as_deref().unwrap_or_default();
        let at_a = w.sim.sim.orders_for_link(link);
        let at_b = sim_b.sim.orders_for_link(link);
        assert_eq!(at_a + at_b, 1, "order {} upstream {at_a}+{at_b}", o.id.0);
        let holder = if at_a == 1 { a } else { b };
        assert_eq!(
            o.provider_id,
            Some(holder),
            "order {} is where it says",
            o.id.0
        );
    }
    assert_eq!(w.sim.sim.stats().duplicate_links, 0);
    assert_eq!(sim_b.sim.stats().duplicate_links, 0);
    w.assert_money(&ids).await;
    let reasons = count_by(&end, |o| o.route_reason);
    eprintln!("failover: {by_status:?}, reasons {reasons:?}");
}

both_stores!(orders_reroute_off_a_failing_offer_with_reasons_none_lost_none_sent_twice);
