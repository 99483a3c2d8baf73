//! The margin guard's proof (issue 20), on SQLite and PostgreSQL, against the simulator over
//! loopback HTTP with a manual clock: the provider triples the rate of two services in the middle
//! of a stream of orders; one service holds on a breach, the other reprices. Not one order reaches
//! the provider for less than what the provider charged for it plus the 10 % minimum margin;
//! every order is either sent or held (none lost, none sent twice); the held ones are released
//! (sent at a loss the owner accepted) or refunded in full by the owner's choice, with every
//! balance equal to its ledger; a price is raised by the guard and never lowered by it.
//!
//! The default run places 1,000 orders; the `margin` CI step runs `margin_storm_10000_orders`.

use std::collections::HashMap;
use std::sync::Arc;

use smmd_app::margin::{self, HoldDecision};
use smmd_app::{accounts, orders, wallet, Actor, App, Coded, ErrorCode};
use smmd_domain::alert::{service_subject, AlertKind};
use smmd_domain::margin::{meets_margin, Hold};
use smmd_domain::order::{refund_target, OrderStatus};
use smmd_domain::service::OrderInput;
use smmd_domain::{ManualClock, Money, OrderId, ServiceId};
use smmd_fulfil::{catalog, dispatch, Clients, Fulfil, Settings};
use smmd_sim::{spawn, SimConfig};
use smmd_store::{NewProvider, Order, Role, Service, Store, RATE_ONE};
use smmd_store_sql::both_stores;

const T0: i64 = 1_800_000_000_000;

fn m(s: &str) -> Money {
    Money::parse(s).expect("money")
}

async fn a_tripled_rate_never_sends_an_order_below_cost_plus_margin(store: Arc<dyn Store>) {
    storm(store, 1_000).await;
}

async fn margin_storm_10000_orders(store: Arc<dyn Store>) {
    storm(store, 10_000).await;
}

/// `n` orders in ten rounds (half to each service); the rates triple before the sixth round's
/// dispatch, and the services sync runs right after it.
async fn storm(store: Arc<dyn Store>, n: usize) {
    let clock = Arc::new(ManualClock::new(T0));
    let mut config = SimConfig::default();
    for s in &mut config.services {
        s.partial_pct = 0;
        s.canceled_pct = 0;
    }
    config.balance = "100000000".into();
    let sim = spawn(config, clock.clone(), "127.0.0.1:0")
        .await
        .expect("sim");
    let clients = Clients::new([3u8; 32]);
    let provider = store
        .create_provider(
            NewProvider {
                name: "sim".into(),
                url: sim.url.clone(),
                currency: "USD".into(),
                exchange_rate: RATE_ONE,
                api_key_enc: clients.seal_key(&sim.sim.config.api_key),
                timeout_ms: 5_000,
                max_concurrency: 8,
                rate_per_sec: None,
                balance_alert_below: None,
                limits: smmd_store::ProviderLimits::default(),
            },
            T0,
            None,
        )
        .await
        .expect("provider");
    // Costs read before every batch: the guard knows a change before its next order leaves.
    let settings = Settings {
        cost_max_age_ms: 0,
        ..Settings::default()
    };
    let f = Fulfil {
        store: store.clone(),
        clock: clock.clone(),
        clients,
        settings,
        lanes: Default::default(),
    };
    catalog::run(&f, None).await.expect("services sync");
    let app = App::new(store.as_ref(), clock.as_ref());
    let (admin, _) = accounts::register(app, "owner@x.io", "password-1", Role::Admin, None)
        .await
        .expect("admin");
    let actor = Actor::admin(&admin);
    let (buyer, _) = accounts::register(app, "buyer@x.io", "password-1", Role::User, None)
        .await
        .expect("buyer");
    wallet::adjust_balance(app, &actor, buyer.id, "1000000", "float", Some("float"))
        .await
        .expect("credit");
    let upstream = |id: &str| {
        let store = store.clone();
        let id = id.to_string();
        async move {
            store
                .provider_services(provider.id)
                .await
                .expect("services")
                .into_iter()
                .find(|s| s.provider_service_id.as_deref() == Some(id.as_str()))
                .expect("imported")
        }
    };
    // Followers (0.60 upstream, sold at 0.90) hold; likes (0.20, sold at 0.30) reprice.
    let held_svc = upstream("1").await;
    let repriced_svc = upstream("2").await;
    assert_eq!((held_svc.rate, repriced_svc.rate), (m("0.90"), m("0.30")));
    for (svc, action) in [(&held_svc, "hold"), (&repriced_svc, "reprice")] {
        margin::set_service_margin(app, &actor, svc.id, Some(1_000), action)
            .await
            .expect("margin");
    }
    // Bad settings are refused and write nothing.
    for (bp, action) in [
        (Some(-1), "hold"),
        (Some(100_001), "hold"),
        (Some(10), "drop"),
    ] {
        let e = margin::set_service_margin(app, &actor, held_svc.id, bp, action)
            .await
            .expect_err("refused");
        assert_eq!(e.code(), ErrorCode::InvalidMargin, "{e}");
    }
    let terms = store.margin_terms(&[held_svc.id]).await.expect("terms");
    assert_eq!(terms[&held_svc.id].min_margin_bp, Some(1_000));

    let rounds = 10;
    let per_round = n / rounds;
    let mut placed: Vec<(OrderId, ServiceId, usize)> = Vec::with_capacity(n);
    for round in 0..rounds {
        for i in 0..per_round {
            let svc = if i % 2 == 0 { &held_svc } else { &repriced_svc };
            let input = OrderInput {
                link: Some(format!("https://instagram.com/p/r{round}-{i}")),
                quantity: Some("1000".into()),
                ..OrderInput::default()
            };
            let o = orders::place_order(app, buyer.id, svc.id.0, &input, Default::default())
                .await
                .expect("placed");
            placed.push((o.id, svc.id, round));
        }
        if round == rounds / 2 {
            // The provider triples both rates while this round's orders wait to be sent.
            let mut cat: Vec<smmd_sim::ServiceSpec> =
                sim.sim.catalog().iter().map(|s| (**s).clone()).collect();
            cat[0].rate = "1.80".into();
            cat[1].rate = "0.60".into();
            sim.sim.set_catalog(cat).expect("catalog");
        }
        clock.advance_ms(1_000);
        let r = dispatch::run(&f).await.expect("dispatch");
        assert_eq!(r.get("errors"), None, "{r:?}");
        if round == rounds / 2 {
            // A tripled rate is a price jump the sync holds for approval: the hold service keeps
            // its price (and holds); the reprice service takes the markup on the live cost.
            let s = catalog::run(&f, None).await.expect("sync");
            assert_eq!(s.get("margin_repriced"), Some(&1), "{s:?}");
        }
    }
    let held_now = upstream("1").await;
    let repriced_now = upstream("2").await;
    assert_eq!(held_now.rate, m("0.90"), "a hold service keeps its price");
    // 0.60 × 1.5 = 0.90 per 1000: the markup rule on the live cost, above the 0.66 floor.
    assert_eq!(
        repriced_now.rate,
        m("0.90"),
        "the reprice service follows the live cost"
    );
    let changes = store
        .service_changes(repriced_now.id, 10)
        .await
        .expect("log");
    assert!(changes
        .iter()
        .any(|c| c.field == "rate" && c.new.as_deref() == Some("0.90")));

    // Every order is sent or held; each sent one covers what the provider charged plus 10 %.
    let mut by: HashMap<(ServiceId, &'static str), usize> = HashMap::new();
    let mut sent_after_change = 0;
    for (id, svc, round) in &placed {
        let o = order(&store, *id).await;
        let kind = match (o.status, o.hold) {
            (OrderStatus::Processing, _) => {
                let pid = o.provider_order_id.as_deref().expect("provider id");
                let upstream = sim
                    .sim
                    .status(pid.parse().expect("numeric"))
                    .expect("known");
                assert!(
                    meets_margin(o.charge, upstream.charge, 1_000),
                    "order {} sold for {} was sent at a cost of {}",
                    o.id.0,
                    o.charge,
                    upstream.charge
                );
                sent_after_change += usize::from(*round >= rounds / 2);
                "sent"
            }
            (OrderStatus::Queued, Some(Hold::Margin)) => "held",
            other => panic!("order {} is {other:?}", o.id.0),
        };
        *by.entry((*svc, kind)).or_default() += 1;
    }
    let half = per_round / 2;
    let before = (rounds / 2) * half;
    // The hold service: every order from the change on is held; the ones before were sent.
    assert_eq!(by.get(&(held_svc.id, "sent")), Some(&before), "{by:?}");
    assert_eq!(by.get(&(held_svc.id, "held")), Some(&(n / 2 - before)));
    // The reprice service: only the round sold at the old price is held.
    assert_eq!(by.get(&(repriced_svc.id, "held")), Some(&half), "{by:?}");
    assert_eq!(by.get(&(repriced_svc.id, "sent")), Some(&(n / 2 - half)));
    assert!(sent_after_change > 0, "orders at the new price flow");
    assert_eq!(
        sim.sim.stats().orders_created as usize,
        before + n / 2 - half
    );

    // The admin queue and the alerts.
    let queue = margin::held_services(app).await.expect("queue");
    let counts: Vec<(ServiceId, i64)> = queue.iter().map(|h| (h.service_id, h.orders)).collect();
    assert_eq!(
        counts,
        [
            (held_svc.id, (n / 2 - before) as i64),
            (repriced_svc.id, half as i64)
        ]
    );
    for svc in [&held_svc, &repriced_svc] {
        assert!(
            open_alert(&store, svc).await,
            "margin_hold alert for {}",
            svc.name
        );
    }
    // Held orders are not claimed again.
    let again = dispatch::run(&f).await.expect("dispatch");
    assert_eq!(again.get("claimed"), Some(&0), "{again:?}");

    // The owner refunds the hold service's orders and releases the reprice service's.
    let e = margin::decide_held(app, &actor, held_svc.id, HoldDecision::Refund, " ")
        .await
        .expect_err("reason");
    assert_eq!(e.code(), ErrorCode::ReasonRequired);
    let refund = margin::decide_held(
        app,
        &actor,
        held_svc.id,
        HoldDecision::Refund,
        "cost tripled",
    )
    .await
    .expect("refund");
    assert_eq!(refund.orders as usize, n / 2 - before);
    assert_eq!(
        refund.refunded,
        Money::charge_for(m("0.90"), 1_000)
            .and_then(|c| c.checked_mul(refund.orders))
            .expect("sum")
    );
    let release = margin::decide_held(
        app,
        &actor,
        repriced_svc.id,
        HoldDecision::Release,
        "loss accepted",
    )
    .await
    .expect("release");
    assert_eq!(
        (release.orders as usize, release.refunded),
        (half, Money::ZERO)
    );
    // Deciding again finds nothing: each decision happens once.
    let twice = margin::decide_held(app, &actor, held_svc.id, HoldDecision::Refund, "again")
        .await
        .expect("again");
    assert_eq!(twice.orders, 0);
    for svc in [&held_svc, &repriced_svc] {
        assert!(
            !open_alert(&store, svc).await,
            "alert resolved for {}",
            svc.name
        );
    }
    clock.advance_ms(1_000);
    let r = dispatch::run(&f).await.expect("dispatch");
    assert_eq!(r.get("accepted"), Some(&(half as i64)), "{r:?}");
    assert_eq!(
        r.get("margin_held"),
        None,
        "released orders are sent as the owner chose"
    );

    // Final: every order canceled-and-refunded or sent; money exact.
    let mut sent = 0;
    for (id, _, _) in &placed {
        let o = order(&store, *id).await;
        let target = refund_target(o.status, o.charge, o.total_quantity, o.remains);
        assert_eq!(o.refunded, target, "order {} in {:?}", o.id.0, o.status);
        match o.status {
            OrderStatus::Processing => sent += 1,
            OrderStatus::Canceled => assert_eq!(o.refunded, o.charge),
            other => panic!("order {} is {other:?}", o.id.0),
        }
    }
    assert_eq!(
        sent,
        sim.sim.stats().orders_created as usize,
        "none sent twice"
    );
    assert!(
        store.ledger_mismatches().await.expect("check").is_empty(),
        "balance = Σ ledger"
    );
}

async fn order(store: &Arc<dyn Store>, id: OrderId) -> Order {
    store.order(id).await.expect("read").expect("order")
}

async fn open_alert(store: &Arc<dyn Store>, svc: &Service) -> bool {
    store
        .open_alerts()
        .await
        .expect("alerts")
        .iter()
        .any(|a| a.kind == AlertKind::MarginHold.as_str() && a.subject == service_subject(svc.id))
}

both_stores!(
    a_tripled_rate_never_sends_an_order_below_cost_plus_margin,
    margin_storm_10000_orders,
);
