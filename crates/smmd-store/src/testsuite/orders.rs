//! Conformance cases — Orders: placement with its charge, the active-link rule, concurrent spending, provider outcomes and refunds, stale updates, cancels, imports.

use crate::*;
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::service::{validate_order, OrderError, OrderInput, ServiceType};
use smmd_domain::{Money, OrderId};
use std::sync::Arc;

use super::*;

pub async fn placing_an_order_debits_and_records_the_charge(store: Arc<dyn Store>) {
    let u = user(&store, "o@x.io", "1").await;
    let svc = followers(&store).await;
    let o = place(
        &store,
        u.id,
        &svc,
        "https://www.instagram.com/p/ABC/?a=1&b=2",
        100,
    )
    .await
    .expect("placed");
    assert_eq!(o.status, OrderStatus::Queued);
    assert_eq!(
        (o.charge, o.quantity, o.total_quantity),
        (m("0.09"), 100, 100)
    );
    assert_eq!(
        o.link.as_deref(),
        Some("https://www.instagram.com/p/ABC/?a=1&b=2")
    );
    assert_eq!(
        (o.guarantee_days, o.refill, o.cancel),
        (30, true, true),
        "copied from the service"
    );
    assert_eq!(balance(&store, u.id).await, m("0.91"));
    let entries = store.ledger(u.id, None, 10).await.expect("ledger");
    let charge = entries.first().expect("charge entry");
    assert_eq!(charge.key, format!("order:{}:charge", o.id));
    assert_eq!(
        (charge.amount, charge.kind, charge.order_id),
        (m("-0.09"), LedgerKind::Charge, Some(o.id))
    );
    assert_eq!(store.order(o.id).await.expect("read"), Some(o.clone()));
    let other = user(&store, "p@x.io", "0").await;
    assert!(
        store
            .orders_of_user(other.id, &[o.id])
            .await
            .expect("read")
            .is_empty(),
        "not another user's"
    );
    assert_eq!(
        store.list_orders(u.id, None, 10).await.expect("list"),
        vec![o]
    );
    assert_ledger_consistent(&store).await;
}

pub async fn an_order_without_funds_writes_nothing(store: Arc<dyn Store>) {
    let u = user(&store, "poor@x.io", "0.01").await;
    let svc = followers(&store).await;
    let r = place(&store, u.id, &svc, "https://instagram.com/x", 100).await;
    assert!(
        matches!(
            r,
            Err(PlaceOrderError::Rejected(OrderError::InsufficientFunds))
        ),
        "{r:?}"
    );
    assert_eq!(balance(&store, u.id).await, m("0.01"));
    assert!(store
        .list_orders(u.id, None, 10)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store.ledger(u.id, None, 10).await.expect("ledger").len(),
        1,
        "only the seed credit"
    );
    assert_ledger_consistent(&store).await;
}

pub async fn active_order_with_the_same_link_is_refused(store: Arc<dyn Store>) {
    let u = user(&store, "l@x.io", "5").await;
    let svc = followers(&store).await;
    let first = place(&store, u.id, &svc, "https://instagram.com/p/1", 100)
        .await
        .expect("first");
    let again = place(&store, u.id, &svc, "https://instagram.com/p/1", 100).await;
    assert!(
        matches!(
            again,
            Err(PlaceOrderError::Rejected(OrderError::ActiveOrderWithLink))
        ),
        "{again:?}"
    );
    assert_eq!(
        balance(&store, u.id).await,
        m("4.91"),
        "the refused order took nothing"
    );
    place(&store, u.id, &svc, "https://instagram.com/p/2", 100)
        .await
        .expect("other link is fine");
    // Once the first order ends, the link is free again.
    accept(&store, &first).await;
    store
        .apply_order_update(update(
            &first,
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ))
        .await
        .expect("complete");
    place(&store, u.id, &svc, "https://instagram.com/p/1", 100)
        .await
        .expect("link free after completion");
    // A service without the rule accepts duplicates.
    let mut d = ServiceDraft::new("Views", "Views", ServiceType::Default, m("0.10"), 10, 1000);
    d.link_rule = false;
    let views = store.create_service(d, NOW).await.expect("views");
    place(&store, u.id, &views, "https://instagram.com/v", 100)
        .await
        .expect("one");
    place(&store, u.id, &views, "https://instagram.com/v", 100)
        .await
        .expect("two");
    assert_ledger_consistent(&store).await;
}

pub async fn concurrent_orders_spend_exactly_the_balance(store: Arc<dyn Store>) {
    // The balance covers k = 7 orders of 0.09 (plus change); 24 race for it.
    let (k, n) = (7_i64, 24_i64);
    let start = Money::from_micros(90_000 * k + 50_000);
    let u = user(&store, "race@x.io", &start.to_string()).await;
    let svc = followers(&store).await;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (store, svc) = (store.clone(), svc.clone());
            tokio::spawn(async move {
                place(
                    &store,
                    u.id,
                    &svc,
                    &format!("https://instagram.com/race/{i}"),
                    100,
                )
                .await
            })
        })
        .collect();
    let results = futures::future::join_all(tasks).await;
    let mut placed = 0;
    for r in results {
        match r.expect("task") {
            Ok(_) => placed += 1,
            Err(PlaceOrderError::Rejected(OrderError::InsufficientFunds)) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(placed, k, "exactly k orders fit the balance");
    assert_eq!(balance(&store, u.id).await, m("0.05"));
    assert_eq!(
        store
            .list_orders(u.id, None, 100)
            .await
            .expect("list")
            .len() as i64,
        k
    );
    assert_ledger_consistent(&store).await;
}

pub async fn provider_outcomes_refund_once_and_top_up(store: Arc<dyn Store>) {
    let u = user(&store, "r@x.io", "1").await;
    let svc = followers(&store).await;
    let o = place(&store, u.id, &svc, "https://instagram.com/r", 1000)
        .await
        .expect("placed"); // charge 0.90
    accept(&store, &o).await;
    let partial = update(
        &o,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Partial),
        Some(400),
    );
    let UpdateOutcome::Applied {
        order: after,
        refunded,
    } = store
        .apply_order_update(partial.clone())
        .await
        .expect("partial")
    else {
        panic!("partial not applied")
    };
    assert_eq!(refunded, m("0.36"), "0.90 × 400 / 1000");
    assert_eq!(
        (after.status, after.refunded, after.remains),
        (OrderStatus::Partial, m("0.36"), Some(400))
    );
    assert_eq!(after.completed_at, Some(NOW + 60_000));
    assert_eq!(
        after.provider_order_id.as_deref(),
        Some(format!("p-{}", o.id).as_str())
    );
    // The same sync result again is stale: nothing is paid twice.
    assert_eq!(
        store.apply_order_update(partial).await.expect("repeat"),
        UpdateOutcome::Stale
    );
    assert_eq!(balance(&store, u.id).await, m("0.46"));
    // An upstream correction to Canceled tops the refund up to the whole charge.
    let cancel = update(
        &after,
        OrderStatus::Partial,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
    );
    let UpdateOutcome::Applied {
        order: canceled,
        refunded,
    } = store.apply_order_update(cancel).await.expect("cancel")
    else {
        panic!("correction not applied")
    };
    assert_eq!(
        (refunded, canceled.refunded, canceled.status),
        (m("0.54"), m("0.90"), OrderStatus::Canceled)
    );
    assert_eq!(
        canceled.completed_at,
        Some(NOW + 60_000),
        "first terminal time is kept"
    );
    assert_eq!(balance(&store, u.id).await, m("1"));
    let keys: Vec<String> = store
        .ledger(u.id, None, 10)
        .await
        .expect("ledger")
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys[0], format!("order:{}:refund:900000", o.id));
    assert_eq!(keys[1], format!("order:{}:refund", o.id));
    // Completed pays nothing.
    let c = place(&store, u.id, &svc, "https://instagram.com/c", 100)
        .await
        .expect("placed");
    accept(&store, &c).await;
    let UpdateOutcome::Applied { refunded, .. } = store
        .apply_order_update(update(
            &c,
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ))
        .await
        .expect("complete")
    else {
        panic!("not applied")
    };
    assert_eq!(refunded, Money::ZERO);
    assert_ledger_consistent(&store).await;
}

pub async fn stale_and_illegal_updates_write_nothing(store: Arc<dyn Store>) {
    let u = user(&store, "s@x.io", "1").await;
    let svc = followers(&store).await;
    let o = place(&store, u.id, &svc, "https://instagram.com/s", 100)
        .await
        .expect("placed");
    let stale = update(
        &o,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
    );
    assert_eq!(
        store.apply_order_update(stale).await.expect("stale"),
        UpdateOutcome::Stale
    );
    let illegal = update(
        &o,
        OrderStatus::Queued,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
    );
    assert!(matches!(
        store.apply_order_update(illegal).await.expect("illegal"),
        UpdateOutcome::Illegal(_)
    ));
    assert_eq!(
        store.order(o.id).await.expect("read").expect("order"),
        o,
        "unchanged"
    );
    let missing = OrderUpdate {
        order_id: OrderId(987_654),
        ..update(&o, OrderStatus::Queued, OrderEvent::Claim, None)
    };
    assert!(matches!(
        store.apply_order_update(missing).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(balance(&store, u.id).await, m("0.91"));
    assert_ledger_consistent(&store).await;
}

pub async fn cancel_refunds_unsent_orders_and_requests_sent_ones(store: Arc<dyn Store>) {
    let u = user(&store, "k@x.io", "1").await;
    let other = user(&store, "k2@x.io", "1").await;
    let svc = followers(&store).await;
    let queued = place(&store, u.id, &svc, "https://instagram.com/q", 100)
        .await
        .expect("q");
    let sent = place(&store, u.id, &svc, "https://instagram.com/s", 100)
        .await
        .expect("s");
    accept(&store, &sent).await;
    let theirs = place(&store, other.id, &svc, "https://instagram.com/t", 100)
        .await
        .expect("t");
    let mut no_cancel = ServiceDraft::new("Likes", "Likes", ServiceType::Default, m("1"), 10, 1000);
    no_cancel.cancel = false;
    let likes = store.create_service(no_cancel, NOW).await.expect("likes");
    let stuck = place(&store, u.id, &likes, "https://instagram.com/l", 100)
        .await
        .expect("l");
    accept(&store, &stuck).await;

    let ids = [
        queued.id,
        sent.id,
        theirs.id,
        OrderId(999_999),
        stuck.id,
        queued.id,
    ];
    let results = store
        .cancel_orders(u.id, &ids, NOW + 1, None)
        .await
        .expect("cancel");
    let got: Vec<_> = results.into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        got,
        vec![
            Ok(CancelOutcome::Canceled {
                refunded: m("0.09")
            }),
            Ok(CancelOutcome::Requested),
            Err(CancelError::NotFound),
            Err(CancelError::NotFound),
            Err(CancelError::NotCancelable),
            Err(CancelError::AlreadyFinished),
        ]
    );
    let sent_now = store.order(sent.id).await.expect("read").expect("order");
    assert!(
        sent_now.cancel_requested && sent_now.status == OrderStatus::Processing,
        "refund waits for sync"
    );
    let again = store
        .cancel_orders(u.id, &[sent.id], NOW + 2, None)
        .await
        .expect("cancel");
    assert_eq!(again[0].1, Err(CancelError::AlreadyRequested));
    assert_eq!(
        balance(&store, u.id).await,
        m("0.81"),
        "1 − 2 × 0.09 − 0.10 + 0.09 refunded"
    );
    assert_eq!(
        store
            .order(theirs.id)
            .await
            .expect("read")
            .expect("o")
            .status,
        OrderStatus::Queued
    );
    assert_ledger_consistent(&store).await;
}

pub async fn imported_orders_keep_their_ids(store: Arc<dyn Store>) {
    let u = user(&store, "i@x.io", "1").await;
    let svc = followers(&store).await;
    let imported = ImportedOrder {
        id: OrderId(23_501),
        user_id: u.id,
        service_id: svc.id,
        status: OrderStatus::Partial,
        link: Some("https://instagram.com/old".into()),
        quantity: 1000,
        charge: m("0.27819"),
        start_count: Some(3572),
        remains: Some(157),
        created_at: NOW - 1_000,
        completed_at: Some(NOW - 500),
    };
    store
        .import_orders(std::slice::from_ref(&imported))
        .await
        .expect("import");
    let o = store
        .order(OrderId(23_501))
        .await
        .expect("read")
        .expect("imported");
    assert_eq!(
        (o.status, o.charge, o.start_count, o.remains),
        (OrderStatus::Partial, m("0.27819"), Some(3572), Some(157))
    );
    assert_eq!((o.guarantee_days, o.refill), (30, true));
    assert!(matches!(
        store.import_orders(&[imported]).await,
        Err(StoreError::Conflict(_))
    ));
    let next = place(&store, u.id, &svc, "https://instagram.com/new", 100)
        .await
        .expect("placed");
    assert!(
        next.id.0 > 23_501,
        "new ids continue after imported ones: {}",
        next.id
    );
    assert_eq!(
        balance(&store, u.id).await,
        m("0.91"),
        "imports do not touch the wallet"
    );
    assert_ledger_consistent(&store).await;
}

pub async fn a_request_key_places_one_order_and_finds_it_again(store: Arc<dyn Store>) {
    let u = user(&store, "k@x.io", "10").await;
    let other = user(&store, "k2@x.io", "10").await;
    let svc = followers(&store).await;
    let spec = |link: &str| {
        validate_order(
            &svc.rules(),
            &OrderInput {
                link: Some(link.to_string()),
                quantity: Some("100".to_string()),
                ..Default::default()
            },
        )
        .expect("valid")
    };
    // 20 concurrent placements with one key: exactly one order, one charge.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (store, svc, spec) = (
            store.clone(),
            svc.clone(),
            spec(&format!("https://instagram.com/k{i}")),
        );
        tasks.push(tokio::spawn(async move {
            store
                .place_order(u.id, &svc, &spec, Placement::keyed("retry-1"), NOW)
                .await
        }));
    }
    let mut placed = Vec::new();
    for t in tasks {
        match t.await.expect("join") {
            Ok(o) => placed.push(o),
            Err(PlaceOrderError::Store(StoreError::Conflict("orders.request_key"))) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(placed.len(), 1, "one placement wins");
    let found = store
        .order_by_request_key(u.id, "retry-1")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found.id, placed[0].id);
    assert_eq!(balance(&store, u.id).await, m("9.91"));
    // The key is per user, and no key never conflicts.
    assert!(store
        .order_by_request_key(other.id, "retry-1")
        .await
        .expect("read")
        .is_none());
    store
        .place_order(
            other.id,
            &svc,
            &spec("https://instagram.com/o"),
            Placement::keyed("retry-1"),
            NOW,
        )
        .await
        .expect("another user's key");
    for i in 0..2 {
        store
            .place_order(
                u.id,
                &svc,
                &spec(&format!("https://instagram.com/n{i}")),
                Placement::default(),
                NOW,
            )
            .await
            .expect("no key");
    }
    assert_eq!(store.list_orders(u.id, None, 10).await.expect("l").len(), 3);
    assert_ledger_consistent(&store).await;
}

/// `o`'s public reference is built from its id (`smmd_domain::reference`): 9 hex digits of the
/// id, then 4 random ones. Whatever path placed it (a batch of either backend, alone, one at a
/// time after a refused batch), so references are unique and in id order.
pub fn assert_reference_of(o: &Order) {
    let r = &o.reference;
    assert!(
        r.len() == 13
            && r.starts_with(&format!("{:09x}", o.id.0))
            && smmd_domain::reference::is_reference(r)
            && r.bytes().all(|b| !b.is_ascii_uppercase()),
        "order #{}: reference {r}",
        o.id
    );
}

/// A storm of concurrent placements, the proof of the group commit (issue 20): 316 placements
/// at once from 35 users, mixing orders that fit the balance with orders past it, second
/// active orders for a link, repeated request keys and a referred user's orders (placed alone,
/// with their commission). Every placement is answered (0 lost); each `Ok` is exactly one
/// order with its charge in the ledger and each refusal wrote nothing; one order per key;
/// every balance is exact.
pub async fn a_placement_storm_loses_nothing_and_refuses_each_order_alone(store: Arc<dyn Store>) {
    placement_storm_across(&[store]).await;
}

/// The placement storm with its placements spread over `stores` in turn: instances of one
/// database (PostgreSQL), each with its own batch writer, so batches of several instances lock
/// the same users' rows and race for the same link and request key. Read back on the first.
pub async fn placement_storm_across(stores: &[Arc<dyn Store>]) {
    let store = stores[0].clone();
    #[derive(Clone, Copy, PartialEq, Debug)]
    enum Kind {
        /// 12 orders, the balance covers 7.
        Funds,
        /// 8 orders for one link.
        Link,
        /// 8 orders under one request key.
        Key,
        /// 8 orders of a referred user.
        Referred,
    }
    let svc = followers(&store).await;
    let affiliate = user(&store, "storm-affiliate@x.io", "0").await;
    let mut users = Vec::new();
    for i in 0..35 {
        let kind = [Kind::Funds, Kind::Link, Kind::Key, Kind::Referred][i % 4];
        let email = format!("storm{i}@x.io");
        let u = match kind {
            // 7 orders of 0.09 and 0.05 of change.
            Kind::Funds => user(&store, &email, "0.68").await,
            Kind::Referred => {
                let referral = NewReferral {
                    affiliate_id: affiliate.id,
                    flags: Vec::new(),
                    ip: None,
                };
                user_with(&store, &email, "50", Some(referral)).await
            }
            _ => user(&store, &email, "50").await,
        };
        users.push((u, kind));
    }
    let mut tasks = Vec::new();
    for (u, kind) in users.clone() {
        let n = if kind == Kind::Funds { 12 } else { 8 };
        for j in 0..n {
            let store = stores[tasks.len() % stores.len()].clone();
            let svc = svc.clone();
            tasks.push(tokio::spawn(async move {
                let link = match kind {
                    Kind::Link => format!("https://instagram.com/storm/{}", u.id),
                    _ => format!("https://instagram.com/storm/{}/{j}", u.id),
                };
                let input = OrderInput {
                    link: Some(link),
                    quantity: Some("100".into()),
                    ..Default::default()
                };
                let spec = validate_order(&svc.rules(), &input).expect("valid");
                let key = format!("storm-key-{}", u.id);
                let placement = match kind {
                    Kind::Key => Placement::keyed(&key),
                    _ => Placement::default(),
                };
                let placed = store.place_order(u.id, &svc, &spec, placement, NOW).await;
                (u.id, kind, placed)
            }));
        }
    }
    let sent = tasks.len();
    let mut placed: std::collections::HashMap<UserId, Vec<Order>> = Default::default();
    let mut refused = 0;
    for t in futures::future::join_all(tasks).await {
        let (u, kind, outcome) = t.expect("task");
        match (kind, outcome) {
            (_, Ok(o)) => {
                assert_eq!((o.user_id, o.charge), (u, m("0.09")));
                assert_reference_of(&o);
                placed.entry(u).or_default().push(o);
            }
            (Kind::Funds, Err(PlaceOrderError::Rejected(OrderError::InsufficientFunds)))
            | (Kind::Link, Err(PlaceOrderError::Rejected(OrderError::ActiveOrderWithLink)))
            | (
                Kind::Key,
                Err(PlaceOrderError::Store(StoreError::Conflict("orders.request_key"))),
            ) => refused += 1,
            (kind, Err(e)) => panic!("{kind:?} order of {u}: unexpected {e}"),
        }
    }
    let mut total = 0;
    for (u, kind) in &users {
        let mine = placed.remove(&u.id).unwrap_or_default();
        let want = match kind {
            Kind::Funds => 7,
            Kind::Link | Kind::Key => 1,
            Kind::Referred => 8,
        };
        assert_eq!(mine.len(), want, "{kind:?} user {}", u.id);
        total += mine.len();
        // What the answers said is what the store holds: the same orders, no more.
        let mut stored: Vec<OrderId> = store
            .list_orders(u.id, None, 100)
            .await
            .expect("list")
            .iter()
            .map(|o| o.id)
            .collect();
        let mut answered: Vec<OrderId> = mine.iter().map(|o| o.id).collect();
        stored.sort();
        answered.sort();
        assert_eq!(stored, answered, "{kind:?} user {}", u.id);
        let spent = Money::from_micros(90_000 * want as i64);
        let start = if *kind == Kind::Funds {
            m("0.68")
        } else {
            m("50")
        };
        assert_eq!(
            balance(&store, u.id).await,
            start.checked_sub(spent).expect("spent")
        );
        if *kind == Kind::Key {
            let by_key = store
                .order_by_request_key(u.id, &format!("storm-key-{}", u.id))
                .await
                .expect("read")
                .expect("the key's order");
            assert_eq!(by_key.id, mine[0].id);
        }
        if *kind == Kind::Referred {
            for o in &mine {
                let c = store.commission_of_order(o.id).await.expect("read");
                assert!(c.is_some(), "order {} of a referred user earns", o.id);
            }
        }
    }
    assert_eq!(total + refused, sent, "every placement answered once");
    assert_ledger_consistent(&store).await;
}
