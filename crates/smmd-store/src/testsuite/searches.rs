//! Conformance cases — Order reads: searches and references, the archive, the event log, dashboard figures.

use crate::*;
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::refill::{RefillError, RefillStatus};
use smmd_domain::service::{validate_order, OrderInput, ServiceType};
use smmd_domain::{Money, OrderId, ServiceId};
use std::sync::Arc;

use super::*;

pub async fn order_searches_filter_page_and_use_public_references(store: Arc<dyn Store>) {
    let a = user(&store, "sa@x.io", "100").await;
    let b = user(&store, "sb@x.io", "100").await;
    let svc = followers(&store).await;
    let mut other = ServiceDraft::new("Likes", "Likes", ServiceType::Default, m("1"), 10, 1000);
    other.link_rule = false;
    let likes = store.create_service(other, NOW).await.expect("service");
    let mut mine = Vec::new();
    for i in 0..7 {
        let s = if i % 2 == 0 { &svc } else { &likes };
        mine.push(
            place(
                &store,
                a.id,
                s,
                &format!("https://Instagram.com/P_{i}"),
                100,
            )
            .await
            .expect("placed"),
        );
    }
    let theirs = place(&store, b.id, &svc, "https://instagram.com/P_9", 100)
        .await
        .expect("placed");
    accept(&store, &mine[0]).await;

    // References are built from the ids: unique, in id order, and they find the order.
    mine.iter().for_each(super::orders::assert_reference_of);
    let mut refs: Vec<&str> = mine.iter().map(|o| o.reference.as_str()).collect();
    let placed = refs.clone();
    refs.sort_unstable();
    refs.dedup();
    assert_eq!(refs, placed);
    assert_eq!(refs.len(), 7);
    let by_ref = store
        .order_by_reference(&mine[3].reference)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(by_ref.id, mine[3].id);
    assert!(store
        .order_by_reference(&smmd_domain::reference::reference(mine[6].id.0 + 100, 0))
        .await
        .expect("read")
        .is_none());

    let ids = |v: Vec<Order>| v.iter().map(|o| o.id.0).collect::<Vec<_>>();
    let q = |f: fn(&mut OrderQuery)| {
        let mut q = OrderQuery::of_user(a.id, 100);
        f(&mut q);
        q
    };
    // Newest first, the user's only; a cursor pages without gaps or repeats.
    let all = ids(store.search_orders(&q(|_| {})).await.expect("s"));
    assert_eq!(all, mine.iter().rev().map(|o| o.id.0).collect::<Vec<_>>());
    let p1 = store
        .search_orders(&OrderQuery::of_user(a.id, 3))
        .await
        .expect("s");
    let p2 = store
        .search_orders(&OrderQuery {
            before: p1.last().map(|o| o.id),
            ..OrderQuery::of_user(a.id, 3)
        })
        .await
        .expect("s");
    assert_eq!([ids(p1), ids(p2)].concat(), all[..6].to_vec());
    // Each filter narrows.
    let by_service = ids(store
        .search_orders(&OrderQuery {
            service: Some(likes.id),
            ..OrderQuery::of_user(a.id, 100)
        })
        .await
        .expect("s"));
    assert_eq!(by_service, vec![mine[5].id.0, mine[3].id.0, mine[1].id.0]);
    let by_status = ids(store
        .search_orders(&q(|q| q.status = Some(OrderStatus::Processing)))
        .await
        .expect("s"));
    assert_eq!(by_status, vec![mine[0].id.0]);
    // Link search ignores case and takes `_` literally.
    let by_link = ids(store
        .search_orders(&OrderQuery {
            link: Some("gram.com/p_4".into()),
            ..OrderQuery::of_user(a.id, 100)
        })
        .await
        .expect("s"));
    assert_eq!(by_link, vec![mine[4].id.0]);
    let none = store
        .search_orders(&OrderQuery {
            link: Some("p%".into()),
            ..OrderQuery::of_user(a.id, 100)
        })
        .await
        .expect("s");
    assert!(none.is_empty(), "% is not a wildcard");
    let window = store
        .search_orders(&q(|q| {
            q.created_from = Some(NOW);
            q.created_to = Some(NOW + 1);
        }))
        .await
        .expect("s");
    assert_eq!(window.len(), 7);
    assert!(store
        .search_orders(&q(|q| q.created_from = Some(NOW + 1)))
        .await
        .expect("s")
        .is_empty());
    // Active only, in the query: with orders 1, 2, 4 and 6 canceled, pages of 2 hold two
    // active orders each and the cursor skips none (mine[0] is processing, 3 and 5 queued).
    let canceled = [1, 2, 4, 6].map(|i| mine[i].id);
    for (_, r) in store
        .cancel_orders(a.id, &canceled, NOW + 1, None)
        .await
        .expect("cancel")
    {
        r.expect("canceled");
    }
    let active_page = |before: Option<OrderId>| {
        let mut q = OrderQuery::of_user(a.id, 2);
        q.active = true;
        q.before = before;
        q
    };
    let a1 = store.search_orders(&active_page(None)).await.expect("s");
    let a2 = store
        .search_orders(&active_page(a1.last().map(|o| o.id)))
        .await
        .expect("s");
    assert_eq!(
        [ids(a1), ids(a2)].concat(),
        vec![mine[5].id.0, mine[3].id.0, mine[0].id.0],
        "active orders, two to a page"
    );
    let active_canceled = store
        .search_orders(&q(|q| {
            q.active = true;
            q.status = Some(OrderStatus::Canceled);
        }))
        .await
        .expect("s");
    assert!(active_canceled.is_empty(), "the filters combine");
    // No user filter (admin): everyone's.
    let everyone = store
        .search_orders(&OrderQuery {
            limit: 100,
            ..OrderQuery::default()
        })
        .await
        .expect("s");
    assert_eq!(everyone.len(), 8);
    assert_eq!(everyone[0].id, theirs.id);
    // Refills: by user and by order.
    store
        .apply_order_update(update(
            &mine[0],
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ))
        .await
        .expect("complete");
    let r = store
        .request_refill(a.id, mine[0].id, NOW + 120_000)
        .await
        .expect("refill");
    let of_a = store
        .search_refills(&RefillQuery {
            user: Some(a.id),
            limit: 10,
            ..RefillQuery::default()
        })
        .await
        .expect("r");
    assert_eq!(of_a.iter().map(|r| r.id).collect::<Vec<_>>(), vec![r.id]);
    assert!(store
        .search_refills(&RefillQuery {
            user: Some(b.id),
            limit: 10,
            ..RefillQuery::default()
        })
        .await
        .expect("r")
        .is_empty());
    assert_ledger_consistent(&store).await;
}

pub async fn archived_orders_are_read_everywhere_and_refuse_changes(store: Arc<dyn Store>) {
    let u = user(&store, "ar@x.io", "100").await;
    let svc = followers(&store).await; // 30-day guarantee
    let mut done = Vec::new();
    for i in 0..5 {
        let o = place(
            &store,
            u.id,
            &svc,
            &format!("https://instagram.com/a{i}"),
            100,
        )
        .await
        .expect("placed");
        accept(&store, &o).await;
        let (status, remains) = match i {
            0 => (ProviderStatus::Partial, Some(40)),
            1 => (ProviderStatus::Canceled, None),
            _ => (ProviderStatus::Completed, Some(0)),
        };
        store
            .apply_order_update(update(
                &o,
                OrderStatus::Processing,
                OrderEvent::Provider(status),
                remains,
            ))
            .await
            .expect("finish");
        done.push(store.order(o.id).await.expect("r").expect("o"));
    }
    // One with an active refill, one still running: never archived.
    let refill = store
        .request_refill(u.id, done[2].id, NOW + 120_000)
        .await
        .expect("refill");
    let running = place(&store, u.id, &svc, "https://instagram.com/run", 100)
        .await
        .expect("placed");
    let day = 86_400_000;
    // Inside the guarantee nothing moves, whatever the age.
    let none = store
        .archive_orders(NOW + 365 * day, NOW + 10 * day, 100)
        .await
        .expect("archive");
    assert_eq!(none, Archived::default());
    // Past it, batches of 2 move the 4 eligible orders.
    let later = NOW + 40 * day;
    let mut moved = Archived::default();
    loop {
        let a = store
            .archive_orders(later - day, later, 2)
            .await
            .expect("archive");
        assert!(a.orders <= 2);
        if a.orders == 0 {
            break;
        }
        moved.orders += a.orders;
        moved.refills += a.refills;
    }
    assert_eq!(moved.orders, 4);
    assert_eq!(moved.refills, 0);
    // Every read still finds them, unchanged.
    for o in [&done[0], &done[1], &done[3], &done[4]] {
        assert_eq!(
            store.order(o.id).await.expect("r").as_ref(),
            Some(o),
            "by id"
        );
        assert_eq!(
            store
                .order_by_reference(&o.reference)
                .await
                .expect("r")
                .map(|x| x.id),
            Some(o.id)
        );
    }
    let ids: Vec<OrderId> = done.iter().map(|o| o.id).collect();
    assert_eq!(store.orders_of_user(u.id, &ids).await.expect("r").len(), 5);
    let views = store.order_statuses(u.id, &ids).await.expect("r");
    assert_eq!(views.len(), 5);
    let listed = store.list_orders(u.id, None, 100).await.expect("l");
    assert_eq!(listed.len(), 6);
    assert!(
        listed.windows(2).all(|w| w[0].id > w[1].id),
        "merged newest first"
    );
    assert_eq!(listed[0].id, running.id);
    // Archived orders cannot be canceled or refilled; the answers say why.
    let c = store
        .cancel_orders(u.id, &[done[3].id], later, None)
        .await
        .expect("cancel");
    assert_eq!(c[0].1, Err(CancelError::AlreadyFinished));
    assert!(matches!(
        store.request_refill(u.id, done[3].id, later).await,
        Err(RefillRequestError::Ineligible(
            RefillError::GuaranteeExpired
        ))
    ));
    let stranger = user(&store, "as@x.io", "0").await;
    assert!(matches!(
        store.request_refill(stranger.id, done[3].id, later).await,
        Err(RefillRequestError::NotFound)
    ));
    assert_eq!(
        store
            .cancel_orders(stranger.id, &[done[3].id], later, None)
            .await
            .expect("c")[0]
            .1,
        Err(CancelError::NotFound)
    );
    // Once the refill ends, its order moves with it and the refill is still read.
    store
        .set_refill_status(refill.id, RefillStatus::Completed, later)
        .await
        .expect("refill done");
    let a = store
        .archive_orders(later - day, later, 100)
        .await
        .expect("archive");
    assert_eq!(
        a,
        Archived {
            orders: 1,
            refills: 1
        }
    );
    assert_eq!(
        store
            .refills_of_user(u.id, &[refill.id])
            .await
            .expect("r")
            .len(),
        1
    );
    assert_eq!(
        store
            .search_refills(&RefillQuery {
                order: Some(done[2].id),
                limit: 5,
                ..RefillQuery::default()
            })
            .await
            .expect("r")[0]
            .status,
        RefillStatus::Completed
    );
    assert_eq!(
        store.order(running.id).await.expect("r").map(|o| o.status),
        Some(OrderStatus::Queued),
        "a running order stays live"
    );
    // The money is untouched by archiving.
    assert_ledger_consistent(&store).await;
    assert!(!store.upkeep().await.expect("upkeep").is_empty());
}

pub async fn the_order_log_records_each_change_with_it(store: Arc<dyn Store>) {
    let u = user(&store, "log@x.io", "2").await;
    let svc = followers(&store).await;
    let kinds = |log: &[OrderLogEntry]| {
        log.iter()
            .map(|e| format!("{}:{}", e.kind, e.status))
            .collect::<Vec<_>>()
    };
    let o = place(&store, u.id, &svc, "https://instagram.com/log", 1000)
        .await
        .expect("placed");
    let log = store.order_log(o.id).await.expect("log");
    assert_eq!(kinds(&log), ["placed:queued"]);
    assert_eq!(log[0].amount, Some(-m("0.90")));
    // A refused placement writes no event.
    assert!(
        place(&store, u.id, &svc, "https://instagram.com/poor", 10_000)
            .await
            .is_err()
    );
    accept(&store, &o).await;
    let c = store
        .cancel_orders(u.id, &[o.id], NOW, None)
        .await
        .expect("cancel");
    assert_eq!(c[0].1, Ok(CancelOutcome::Requested));
    // A stale update writes nothing, an applied one its status and refund.
    let stale = update(
        &o,
        OrderStatus::InProgress,
        OrderEvent::Provider(ProviderStatus::Partial),
        Some(400),
    );
    assert_eq!(
        store.apply_order_update(stale).await.expect("u"),
        UpdateOutcome::Stale
    );
    let mut partial = update(
        &o,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Partial),
        Some(400),
    );
    partial.note = Some("provider stopped".into());
    store.apply_order_update(partial).await.expect("partial");
    let r = store
        .request_refill(u.id, o.id, NOW + 120_000)
        .await
        .expect("refill");
    store
        .set_refill_status(r.id, RefillStatus::Completed, NOW + 180_000)
        .await
        .expect("done");
    let log = store.order_log(o.id).await.expect("log");
    assert_eq!(
        kinds(&log),
        [
            "placed:queued",
            "status:submitting",
            "status:processing",
            "cancel_requested:processing",
            "status:partial",
            "refill:pending",
            "refill:completed"
        ]
    );
    assert_eq!(log[4].amount, Some(m("0.36")), "the refund the change paid");
    assert_eq!(log[4].detail, "provider stopped");
    assert_eq!(log[6].detail, format!("Refill #{}", r.id));
    // The batched sync: status changes are logged, count-only changes are not.
    let mut batch_orders = Vec::new();
    for i in 0..3 {
        let b = place(
            &store,
            u.id,
            &svc,
            &format!("https://instagram.com/b{i}"),
            50,
        )
        .await
        .expect("placed");
        accept(&store, &b).await;
        batch_orders.push(b);
    }
    let mut ups: Vec<OrderUpdate> = batch_orders
        .iter()
        .map(|b| {
            update(
                b,
                OrderStatus::Processing,
                OrderEvent::Provider(ProviderStatus::InProgress),
                Some(40),
            )
        })
        .collect();
    ups[2] = update(
        &batch_orders[2],
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Processing),
        Some(50),
    );
    let out = store.apply_order_updates(&ups).await.expect("batch");
    assert!(out
        .iter()
        .all(|o| matches!(o, UpdateOutcome::Applied { .. })));
    for (b, want) in batch_orders.iter().zip([4, 4, 3]) {
        let log = store.order_log(b.id).await.expect("log");
        assert_eq!(log.len(), want, "{:?}", kinds(&log));
    }
    assert_eq!(
        kinds(&store.order_log(batch_orders[0].id).await.expect("log"))
            .last()
            .map(String::as_str),
        Some("status:in_progress")
    );
    assert_ledger_consistent(&store).await;
}

pub async fn dashboard_figures_and_completion_times(store: Arc<dyn Store>) {
    let p = provider(&store, "up").await;
    let svc = provided_service(&store, p.id, "1").await;
    let other = followers(&store).await;
    let u = user(&store, "d@x.io", "100").await;
    let empty = store.order_stats(NOW).await.expect("stats");
    assert_eq!(
        (empty.placed, empty.revenue, empty.by_status.len()),
        (0, Money::ZERO, 0)
    );
    // Yesterday's order counts by status but not in today's figures.
    let yesterday = OrderInput {
        link: Some("https://instagram.com/old".into()),
        quantity: Some("1000".into()),
        ..Default::default()
    };
    let spec = validate_order(&other.rules(), &yesterday).expect("valid");
    store
        .place_order(u.id, &other, &spec, Default::default(), NOW - 86_400_000)
        .await
        .expect("yesterday");
    let mut done = Vec::new();
    // Three orders delivered in 10, 20 and 30 minutes, of 1000, 2000 and 500 units.
    for (i, (qty, minutes)) in [(1000, 10), (2000, 20), (500, 30)].into_iter().enumerate() {
        let o = place(
            &store,
            u.id,
            &svc,
            &format!("https://instagram.com/{i}"),
            qty,
        )
        .await
        .expect("placed");
        assert_eq!(
            store
                .claim_dispatch(None, 10, NOW)
                .await
                .expect("claim")
                .len(),
            1
        );
        let mut up = OrderUpdate::new(
            o.id,
            OrderStatus::Submitting,
            OrderEvent::ProviderAccepted,
            NOW,
        );
        up.provider_order_id = Some(format!("p{i}"));
        up.provider_charge = Some(m("0.5"));
        store.apply_order_update(up).await.expect("accept");
        let mut fin = OrderUpdate::new(
            o.id,
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            NOW + minutes * 60_000,
        );
        fin.remains = Some(0);
        store.apply_order_update(fin).await.expect("complete");
        done.push(o);
    }
    // A canceled order of the same service is no sample, and its refund lowers revenue.
    let c = place(&store, u.id, &other, "https://instagram.com/c", 1000)
        .await
        .expect("placed");
    let canceled = store
        .cancel_orders(u.id, &[c.id], NOW, None)
        .await
        .expect("cancel");
    assert_eq!(canceled.len(), 1);

    let stats = store.order_stats(NOW).await.expect("stats");
    assert_eq!(stats.placed, 4, "yesterday's order is not today's");
    // 0.30 per 1000 × 3500 units completed; the canceled order's 0.90 was refunded.
    assert_eq!(stats.revenue, m("1.05"));
    assert_eq!(stats.cost_by_provider, vec![(p.id, m("1.5"))]);
    let count = |s: OrderStatus| {
        stats
            .by_status
            .iter()
            .find(|(x, _)| *x == s)
            .map(|(_, n)| *n)
    };
    assert_eq!(count(OrderStatus::Completed), Some(3));
    assert_eq!(count(OrderStatus::Canceled), Some(1));
    assert_eq!(count(OrderStatus::Queued), Some(1), "yesterday's order");
    assert_eq!(count(OrderStatus::Partial), None);

    let samples = store.completion_samples(svc.id, 10).await.expect("samples");
    assert_eq!(
        samples.iter().map(|s| s.order).collect::<Vec<_>>(),
        vec![done[2].id, done[1].id, done[0].id],
        "the most recent completion first"
    );
    assert_eq!(
        samples
            .iter()
            .map(|s| (s.quantity, s.duration_ms))
            .collect::<Vec<_>>(),
        vec![(500, 1_800_000), (2000, 1_200_000), (1000, 600_000)]
    );
    // 60, 10 and 10 minutes per 1000: 26m40s.
    assert_eq!(avg_ms_per_1000(&samples), Some(1_600_000));
    let two = store.completion_samples(svc.id, 2).await.expect("samples");
    assert_eq!(two.len(), 2);
    assert!(store
        .completion_samples(other.id, 10)
        .await
        .expect("none")
        .is_empty());

    // The public catalogue's figures: every ordered service's count and latest samples.
    let figures = store.catalog_figures(2).await.expect("figures");
    let of = |id: ServiceId| figures.iter().find(|f| f.service_id == id).cloned();
    let svc_figures = of(svc.id).expect("ordered");
    assert_eq!(svc_figures.orders, 3);
    assert_eq!(
        svc_figures.samples, two,
        "the same samples as the order form's"
    );
    let other_figures = of(other.id).expect("ordered");
    assert_eq!((other_figures.orders, other_figures.samples.len()), (2, 0));
    assert_eq!(figures.len(), 2, "services without orders have no figures");
}
