//! Fulfilment against the simulator over real HTTP, on SQLite and PostgreSQL, with a manual
//! clock shared by smmd and the simulator: orders reach Completed, Partial and Canceled with the
//! right refunds, exactly once; faults never lose, resend or double-refund an order; rejected
//! orders try the next offer; interrupted dispatch goes to review; sync batches by 100; service
//! sync prices, keeps overrides and refuses a mass disable.

use std::collections::HashMap;
use std::sync::Arc;

use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::{Clock, Money, OrderId};
use smmd_fulfil::{balances, catalog, dispatch, refills, sync};
use smmd_sim::{spawn, SimConfig};
use smmd_store::{Offer, OrderUpdate, ServiceEdit, Store, UpdateOutcome};
use smmd_store_sql::both_stores;

mod common;
use common::*;

async fn orders_reach_completed_partial_and_canceled_with_the_right_refunds(store: Arc<dyn Store>) {
    let mut c = quiet(SimConfig::default());
    c.services[1].partial_pct = 30;
    c.services[1].canceled_pct = 20;
    let w = world(store, c).await;
    let svc = w.service("2").await;
    // Placing sells at the imported price: 0.20 upstream + 50 % = 0.30 per 1000.
    assert_eq!(svc.rate, Money::parse("0.30").expect("m"));
    let mut ids = Vec::new();
    for i in 0..40 {
        ids.push(
            w.place(&svc, &format!("https://instagram.com/p/{i}"), 1000)
                .await
                .id,
        );
    }
    let d = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(d.get("accepted"), Some(&40), "{d:?}");
    for id in &ids {
        let o = w.order(*id).await;
        assert_eq!(o.status, OrderStatus::Processing);
        assert!(o.provider_order_id.is_some());
    }
    w.settle(&ids, 30).await;
    let mut by: HashMap<OrderStatus, usize> = HashMap::new();
    for id in &ids {
        *by.entry(w.order(*id).await.status).or_default() += 1;
    }
    for s in [
        OrderStatus::Completed,
        OrderStatus::Partial,
        OrderStatus::Canceled,
    ] {
        assert!(
            by.get(&s).copied().unwrap_or(0) > 0,
            "some {s:?} expected: {by:?}"
        );
    }
    assert_eq!(by.values().sum::<usize>(), 40);
    w.assert_money(&ids).await;
    let before: Vec<Money> = refunds_of(&w, &ids).await;
    // Syncing again changes nothing and refunds nothing.
    let again = sync::run(&w.f).await.expect("sync");
    assert_eq!(again.get("refunds"), None, "{again:?}");
    assert_eq!(refunds_of(&w, &ids).await, before);
    let o = w.order(ids[0]).await;
    assert!(o.provider_charge.is_some() && o.start_count.is_some());
    assert_eq!(w.sim.sim.stats().duplicate_links, 0);
}

async fn refunds_of(w: &World, ids: &[OrderId]) -> Vec<Money> {
    let mut v = Vec::new();
    for id in ids {
        v.push(w.order(*id).await.refunded);
    }
    v
}

async fn faults_never_lose_resend_or_double_refund_an_order(store: Arc<dyn Store>) {
    let mut c = quiet(SimConfig::default());
    c.services[1].partial_pct = 20;
    c.services[1].canceled_pct = 20;
    c.faults.timeout_pct = 6;
    c.faults.timeout_ms = 1_000;
    c.faults.http_5xx_pct = 6;
    c.faults.malformed_pct = 6;
    c.faults.html_pct = 6;
    c.faults.http_429_pct = 6;
    c.faults.quirks_pct = 50;
    c.faults.bare_error_pct = 50;
    c.faults.envelope_pct = 50;
    let w = world(store, c).await;
    let svc = w.service("2").await;
    let mut ids = Vec::new();
    for i in 0..150 {
        ids.push(
            w.place(&svc, &format!("https://instagram.com/{i}"), 500)
                .await
                .id,
        );
    }
    w.settle(&ids, 60).await;
    let stats = w.sim.sim.stats();
    let mut review = 0;
    let mut sent = 0;
    for id in &ids {
        let o = w.order(*id).await;
        assert!(
            o.status.is_terminal() || o.status == OrderStatus::NeedsReview,
            "order {} stuck in {:?}: {:?}",
            o.id.0,
            o.status,
            o.note
        );
        if o.status == OrderStatus::NeedsReview {
            review += 1;
            assert!(o.provider_order_id.is_none());
        } else {
            sent += 1;
        }
    }
    assert!(
        review > 0,
        "ambiguous answers must park some orders in review"
    );
    for kind in ["timeout", "http_5xx", "malformed", "html", "http_429"] {
        assert!(
            stats.faults.get(kind).copied().unwrap_or(0) > 0,
            "{kind} never injected: {stats:?}"
        );
    }
    eprintln!("faults: {review} in review, {sent} sent, upstream {stats:?}");
    // No order was sent twice: one upstream order per link at most, and every upstream order
    // is either one of ours or one whose answer was lost (in review).
    assert_eq!(stats.duplicate_links, 0, "an order was resent: {stats:?}");
    assert!(stats.orders_created as usize >= sent);
    assert!(stats.orders_created as usize <= sent + review, "{stats:?}");
    w.assert_money(&ids).await;
    // A last sync pays nothing more.
    let again = sync::run(&w.f).await.expect("sync");
    assert_eq!(again.get("refunds"), None);
    let alerts = w.store.open_alerts().await.expect("alerts");
    assert!(alerts.iter().any(|a| a.kind == "order_needs_review"));
}

async fn a_refused_order_tries_the_next_offer_then_cancels_with_a_full_refund(
    store: Arc<dyn Store>,
) {
    let w = world(store, quiet(SimConfig::default())).await;
    let svc = w.service("2").await;
    // A second provider whose account is empty refuses everything.
    let mut broke = quiet(SimConfig::default());
    broke.balance = "0".into();
    let sim2 = spawn(broke, w.clock.clone(), "127.0.0.1:0")
        .await
        .expect("sim2");
    let p2 = add_provider(&w.store, &w.f.clients, "broke", &sim2).await;
    // Make the broke provider the service's own offer and the good one the fallback.
    let own = Offer {
        provider_id: p2,
        provider_service_id: "2".into(),
    };
    let d = smmd_store::ServiceDraft {
        category: svc.category.clone(),
        name: svc.name.clone(),
        service_type: svc.service_type,
        rate: svc.rate,
        min: svc.min,
        max: svc.max,
        refill: svc.refill,
        guarantee_days: svc.guarantee_days,
        cancel: svc.cancel,
        dripfeed: svc.dripfeed,
        link_rule: svc.link_rule,
        description: svc.description.clone(),
        enabled: true,
        markup_bp: None,
        provider_id: Some(own.provider_id),
        provider_service_id: Some(own.provider_service_id.clone()),
        provider_rate: svc.provider_rate,
        provider_currency: svc.provider_currency.clone(),
    };
    let svc = w.store.update_service(svc.id, d, T0).await.expect("remap");
    w.store
        .add_service_offer(
            svc.id,
            Offer {
                provider_id: w.provider,
                provider_service_id: "2".into(),
            },
            None,
        )
        .await
        .expect("fallback");
    let o = w.place(&svc, "https://instagram.com/fallback", 1000).await;
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(r.get("next_offer"), Some(&1), "{r:?}");
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(r.get("accepted"), Some(&1), "{r:?}");
    let o = w.order(o.id).await;
    assert_eq!(
        (o.status, o.offer_index, o.provider_id),
        (OrderStatus::Processing, 1, Some(w.provider))
    );
    assert_eq!(sim2.sim.stats().calls.get("add"), Some(&1));
    assert!(w
        .store
        .open_alerts()
        .await
        .expect("a")
        .iter()
        .any(|a| a.kind == "provider_funds"));
    // With no fallback left, a refusal cancels and refunds in full.
    w.store
        .set_provider_enabled(w.provider, false, T0, None)
        .await
        .expect("disable");
    let lone = w.store.service(svc.id).await.expect("r").expect("s");
    let c = w
        .place(&lone, "https://instagram.com/nofallback", 1000)
        .await;
    // Offer 0 refuses; offer 1's provider is disabled so the order waits queued on offer 1.
    dispatch::run(&w.f).await.expect("dispatch");
    let c1 = w.order(c.id).await;
    assert_eq!((c1.status, c1.offer_index), (OrderStatus::Queued, 1));
    w.store
        .set_provider_enabled(w.provider, true, T0, None)
        .await
        .expect("enable");
    w.sim.sim.set_catalog(Vec::new()).expect("empty catalog");
    dispatch::run(&w.f).await.expect("dispatch");
    let c2 = w.order(c.id).await;
    assert_eq!(c2.status, OrderStatus::Canceled, "{:?}", c2.note);
    assert_eq!(c2.refunded, c2.charge);
    assert!(
        c2.note
            .as_deref()
            .unwrap_or("")
            .contains("Incorrect service ID"),
        "{:?}",
        c2.note
    );
    w.assert_money(&[o.id, c.id]).await;
}

async fn an_unavailable_provider_gets_its_orders_again_at_the_next_run_only(store: Arc<dyn Store>) {
    let mut c = quiet(SimConfig::default());
    c.faults.http_429_pct = 100;
    let w = world(store, quiet(SimConfig::default())).await;
    let svc = w.service("2").await;
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            w.place(&svc, &format!("https://instagram.com/busy{i}"), 100)
                .await
                .id,
        );
    }
    // The provider now answers 429 to everything.
    let busy = spawn(c, w.clock.clone(), "127.0.0.1:0")
        .await
        .expect("busy sim");
    let p = w.store.provider(w.provider).await.expect("r").expect("p");
    w.store
        .set_provider_endpoint(p.id, &busy.url, &p.api_key_enc, T0)
        .await
        .expect("endpoint");
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(r.get("requeued"), r.get("claimed"), "{r:?}");
    assert_eq!(
        r.get("claimed"),
        Some(&8),
        "one batch (the provider's in-flight limit), no loop"
    );
    assert_eq!(busy.sim.stats().faults.get("http_429"), Some(&8));
    for id in &ids {
        assert_eq!(w.order(*id).await.status, OrderStatus::Queued);
    }
    assert!(w
        .store
        .open_alerts()
        .await
        .expect("alerts")
        .iter()
        .any(|a| a.kind == "provider_unavailable"));
}

/// To an smmd parent an order goes under its request id, so a dispatch interrupted mid-call
/// is sent again (the parent answers a repeat with the first order) instead of parked in
/// review.
async fn an_interrupted_dispatch_to_an_smmd_parent_is_sent_again(store: Arc<dyn Store>) {
    let w = world_with(store, quiet(SimConfig::default()), true).await;
    let svc = w.service("2").await;
    let o = w.place(&svc, "https://instagram.com/crash", 1000).await;
    let claimed = w
        .store
        .claim_dispatch(None, 10, w.clock.now_ms())
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    w.clock.advance_ms(w.f.settings.stale_submitting_ms + 1);
    // One run puts it back in the queue and sends it.
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(r.get("recovered"), Some(&1), "{r:?}");
    assert_eq!(r.get("accepted"), Some(&1), "{r:?}");
    let o3 = w.order(o.id).await;
    assert!(
        o3.note
            .as_deref()
            .unwrap_or("")
            .contains("sent again under its request id"),
        "{o3:?}"
    );
    assert_eq!(o3.status, OrderStatus::Processing, "{o3:?}");
    assert!(o3.provider_order_id.is_some());
    assert_eq!(w.sim.sim.stats().calls.get("add"), Some(&1));
    assert!(
        w.store
            .open_alerts()
            .await
            .expect("alerts")
            .iter()
            .all(|a| a.kind != "order_needs_review"),
        "nothing to review"
    );
}

async fn an_interrupted_dispatch_goes_to_review_and_is_never_resent(store: Arc<dyn Store>) {
    let w = world(store, quiet(SimConfig::default())).await;
    let svc = w.service("2").await;
    let o = w.place(&svc, "https://instagram.com/crash", 1000).await;
    // A claim whose process died before the call returned.
    let claimed = w
        .store
        .claim_dispatch(None, 10, w.clock.now_ms())
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1);
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(
        r.get("claimed"),
        Some(&0),
        "a submitting order is not claimed again"
    );
    w.clock.advance_ms(w.f.settings.stale_submitting_ms + 1);
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(r.get("recovered"), Some(&1), "{r:?}");
    let o2 = w.order(o.id).await;
    assert_eq!(o2.status, OrderStatus::NeedsReview);
    assert!(o2.note.as_deref().unwrap_or("").contains("interrupted"));
    for _ in 0..3 {
        dispatch::run(&w.f).await.expect("dispatch");
    }
    assert_eq!(
        w.sim.sim.stats().calls.get("add"),
        None,
        "never sent automatically"
    );
    // The admin attaches the provider's order id after checking its panel.
    let mut u = OrderUpdate::new(
        o.id,
        OrderStatus::NeedsReview,
        OrderEvent::ReviewAttach,
        w.clock.now_ms(),
    );
    u.provider_order_id = Some("100001".into());
    assert!(matches!(
        w.store.apply_order_update(u).await.expect("attach"),
        UpdateOutcome::Applied { .. }
    ));
    assert_eq!(w.order(o.id).await.status, OrderStatus::Processing);
}

async fn one_sync_pass_asks_for_100_orders_per_call_oldest_checked_first(store: Arc<dyn Store>) {
    let mut c = quiet(SimConfig::default());
    c.services[1].start_delay_s = 100_000;
    let w = world(store, c).await;
    let svc = w.service("2").await;
    let mut ids = Vec::new();
    for i in 0..250 {
        ids.push(
            w.place(&svc, &format!("https://instagram.com/b{i}"), 100)
                .await
                .id,
        );
    }
    dispatch::run(&w.f).await.expect("dispatch");
    let before = w.sim.sim.stats();
    let r = sync::run(&w.f).await.expect("sync");
    let after = w.sim.sim.stats();
    assert_eq!(r.get("status_calls"), Some(&3));
    assert_eq!(r.get("checked"), Some(&250));
    let calls = |s: &smmd_sim::Stats| s.calls.get("status").copied().unwrap_or(0);
    assert_eq!(calls(&after) - calls(&before), 3, "⌈250 / 100⌉ calls");
    assert_eq!(after.status_ids - before.status_ids, 250);
    assert_eq!(after.max_status_ids, 100);
    // Oldest-checked first: the next 100 to check are the ones checked longest ago.
    w.clock.advance_ms(1_000);
    let mut one = w.store.sync_targets(w.provider, 1).await.expect("targets");
    let first = one.pop().expect("one");
    w.store
        .mark_checked(&[first.id], w.clock.now_ms())
        .await
        .expect("mark");
    let next = w
        .store
        .sync_targets(w.provider, 250)
        .await
        .expect("targets");
    assert_eq!(
        next.last().map(|t| t.id),
        Some(first.id),
        "just-checked order goes last"
    );
}

async fn a_cancel_goes_upstream_and_the_refund_follows_the_outcome(store: Arc<dyn Store>) {
    let w = world(store, quiet(SimConfig::default())).await;
    let svc = w.service("2").await;
    let o = w.place(&svc, "https://instagram.com/cancel", 10_000).await;
    dispatch::run(&w.f).await.expect("dispatch");
    w.clock.advance_ms(20_000 + 60_000);
    sync::run(&w.f).await.expect("sync");
    assert_eq!(w.order(o.id).await.status, OrderStatus::InProgress);
    let res = w
        .store
        .cancel_orders(w.user.id, &[o.id], w.clock.now_ms(), None)
        .await
        .expect("cancel");
    assert!(matches!(res[0].1, Ok(smmd_store::CancelOutcome::Requested)));
    assert_eq!(
        w.order(o.id).await.refunded,
        Money::ZERO,
        "no refund before the outcome"
    );
    let r = sync::run(&w.f).await.expect("sync");
    assert_eq!(r.get("cancels_sent"), Some(&1));
    assert_eq!(w.sim.sim.stats().cancels_accepted, 1);
    w.clock.advance_ms(10_000);
    sync::run(&w.f).await.expect("sync");
    let done = w.order(o.id).await;
    assert_eq!(done.status, OrderStatus::Partial);
    assert!(done.refunded.is_positive() && done.refunded < done.charge);
    w.assert_money(&[o.id]).await;
    let r = sync::run(&w.f).await.expect("sync");
    assert_eq!(r.get("cancels_sent"), None, "sent once");
}

async fn service_sync_updates_prices_keeps_overrides_and_refuses_a_mass_disable(
    store: Arc<dyn Store>,
) {
    let w = world(store, quiet(SimConfig::default())).await;
    let followers = w.service("1").await;
    assert_eq!(
        followers.rate,
        Money::parse("0.90").expect("m"),
        "0.60 + 50 %"
    );
    assert!(followers.refill && followers.guarantee_days == 30);
    // "YouTube Views [Non-drop, 60 days refill]": the guarantee its name announces.
    let views = w.service("4").await;
    assert!(views.refill && views.guarantee_days == 60, "{views:?}");
    let likes = w.service("2").await;
    w.store
        .edit_service(
            likes.id,
            ServiceEdit {
                name: Some("My Likes".into()),
                ..ServiceEdit::default()
            },
            "admin:1",
            T0,
            None,
        )
        .await
        .expect("edit");
    let mut cat: Vec<smmd_sim::ServiceSpec> =
        w.sim.sim.catalog().iter().map(|s| (**s).clone()).collect();
    cat[0].rate = "0.80".into();
    cat[1].rate = "0.40".into();
    cat[1].name = "Likes v2".into();
    w.sim.sim.set_catalog(cat.clone()).expect("catalog");
    let r = catalog::run(&w.f, None).await.expect("sync");
    assert_eq!(r.get("updated"), Some(&2), "{r:?}");
    let followers = w.service("1").await;
    assert_eq!(followers.rate, Money::parse("1.20").expect("m"));
    let likes = w.service("2").await;
    assert_eq!(likes.name, "My Likes", "admin override kept");
    assert_eq!(
        likes.rate,
        Money::parse("0.60").expect("m"),
        "price still follows upstream"
    );
    let log = w
        .store
        .service_changes(followers.id, 10)
        .await
        .expect("log");
    assert!(log.iter().any(|c| c.field == "rate"
        && c.old.as_deref() == Some("0.90")
        && c.new.as_deref() == Some("1.20")));
    // A category markup reprices its services at the next sync (0.40 upstream, +100 %).
    w.store
        .set_category_markup(&likes.category, Some(10_000), None)
        .await
        .expect("markup");
    catalog::run(&w.f, None).await.expect("sync");
    assert_eq!(w.service("2").await.rate, Money::parse("0.80").expect("m"));
    assert!(matches!(
        w.store
            .set_category_markup("No such category", Some(1), None)
            .await,
        Err(smmd_store::StoreError::NotFound)
    ));
    // A truncated answer (one service left of eight) is refused whole and alerted.
    w.sim.sim.set_catalog(cat[..1].to_vec()).expect("catalog");
    let r = catalog::run(&w.f, None).await.expect("sync");
    assert_eq!(r.get("refused"), Some(&1));
    assert_eq!(
        w.store.list_services(true).await.expect("l").len(),
        cat.len(),
        "nothing disabled"
    );
    assert!(w
        .store
        .open_alerts()
        .await
        .expect("a")
        .iter()
        .any(|a| a.kind == "services_sync_refused"));
    // One service really gone is disabled and logged.
    w.sim
        .sim
        .set_catalog(cat[..cat.len() - 1].to_vec())
        .expect("catalog");
    let r = catalog::run(&w.f, None).await.expect("sync");
    assert_eq!(r.get("disabled"), Some(&1), "{r:?}");
    assert_eq!(
        w.store.list_services(true).await.expect("l").len(),
        cat.len() - 1
    );
    assert!(w
        .store
        .open_alerts()
        .await
        .expect("a")
        .iter()
        .all(|a| a.kind != "services_sync_refused"));
}

async fn balance_checks_record_and_alert_below_the_threshold(store: Arc<dyn Store>) {
    let mut c = quiet(SimConfig::default());
    c.balance = "40.00".into();
    let w = world(store, c).await;
    let r = balances::run(&w.f).await.expect("balances");
    assert_eq!((r.get("checked"), r.get("low")), (Some(&1), Some(&1)));
    let p = w.store.provider(w.provider).await.expect("r").expect("p");
    assert_eq!(p.balance, Some(Money::parse("40").expect("m")));
    let alerts = w.store.open_alerts().await.expect("a");
    assert_eq!(
        alerts
            .iter()
            .filter(|a| a.kind == "provider_balance_low")
            .count(),
        1
    );
    balances::run(&w.f).await.expect("again");
    let alerts = w.store.open_alerts().await.expect("a");
    assert_eq!(
        alerts
            .iter()
            .filter(|a| a.kind == "provider_balance_low")
            .count(),
        1,
        "one open alert, refreshed"
    );
}

async fn refills_are_sent_once_and_synced_to_their_outcome(store: Arc<dyn Store>) {
    let mut c = quiet(SimConfig::default());
    c.services[0].refill_rejected_pct = 0;
    c.services[0].refill_delay_s = 600;
    let w = world(store, c).await;
    let svc = w.service("1").await;
    let o = w.place(&svc, "https://instagram.com/u/refill", 1000).await;
    w.settle(&[o.id], 20).await;
    assert_eq!(w.order(o.id).await.status, OrderStatus::Completed);
    let refill = w
        .store
        .request_refill(w.user.id, o.id, w.clock.now_ms())
        .await
        .expect("eligible");
    let r = refills::dispatch(&w.f).await.expect("dispatch");
    assert_eq!(r.get("sent"), Some(&1), "{r:?}");
    let r = refills::dispatch(&w.f).await.expect("dispatch");
    assert_eq!(r.get("claimed"), Some(&0), "sent once");
    assert_eq!(w.sim.sim.stats().refills_created, 1);
    w.clock.advance_ms(300_000);
    let r = refills::sync(&w.f).await.expect("sync");
    assert_eq!(
        (r.get("changed"), r.get("status_calls")),
        (Some(&1), Some(&1)),
        "{r:?}"
    );
    w.clock.advance_ms(400_000);
    refills::sync(&w.f).await.expect("sync");
    let got = w
        .store
        .refills_of_user(w.user.id, &[refill.id])
        .await
        .expect("refills");
    assert_eq!(got[0].status, smmd_domain::refill::RefillStatus::Completed);
    assert!(got[0].provider_refill_id.is_some());
    let r = refills::sync(&w.f).await.expect("sync");
    assert_eq!(r.get("checked"), None, "finished refills are not polled");
}

async fn auto_refill_requests_a_refill_when_the_link_dropped(store: Arc<dyn Store>) {
    let mut c = quiet(SimConfig::default());
    c.services[0].drop_pct = 20;
    c.services[0].drop_after_s = 3_600;
    c.services[0].refill_rejected_pct = 0;
    c.services[0].refill_delay_s = 600;
    let mut w = world(store, c).await;
    w.f.settings.link_count_url = Some(format!("http://{}/_sim/link?link={{link}}", w.sim.addr));
    let svc = w.service("1").await;
    let edit = ServiceEdit {
        auto_refill: Some(true),
        ..ServiceEdit::default()
    };
    w.store
        .edit_service(svc.id, edit, "admin:1", T0, None)
        .await
        .expect("auto");
    let link = "https://instagram.com/u/dropping";
    let o = w.place(&svc, link, 1000).await;
    w.settle(&[o.id], 20).await;
    assert_eq!(w.order(o.id).await.status, OrderStatus::Completed);
    let r = refills::auto(&w.f).await.expect("auto");
    assert_eq!(
        (r.get("checked"), r.get("requested")),
        (Some(&1), None),
        "no drop yet"
    );
    w.clock.advance_ms(3_600_000);
    let before = w.sim.sim.link_count(link);
    let r = refills::auto(&w.f).await.expect("auto");
    assert_eq!(r.get("requested"), Some(&1), "{r:?}");
    let r = refills::auto(&w.f).await.expect("auto");
    assert_eq!(
        r.get("checked"),
        None,
        "an active refill is not asked for again"
    );
    refills::dispatch(&w.f).await.expect("dispatch");
    w.clock.advance_ms(700_000);
    refills::sync(&w.f).await.expect("sync");
    assert!(
        w.sim.sim.link_count(link) > before,
        "the refill restored the drop"
    );
}

async fn an_order_active_long_after_it_was_due_raises_one_alert_until_it_ends(
    store: Arc<dyn Store>,
) {
    let mut c = quiet(SimConfig::default());
    c.services[1].start_delay_s = 10_000_000;
    let w = world(store, c).await;
    let svc = w.service("2").await;
    let a = w.place(&svc, "https://instagram.com/slow-a", 100).await;
    let b = w.place(&svc, "https://instagram.com/slow-b", 100).await;
    dispatch::run(&w.f).await.expect("dispatch");
    let stuck = |r: &smmd_fulfil::Report, k: &str| r.get(k).copied().unwrap_or(0);
    let r = sync::run(&w.f).await.expect("sync");
    assert_eq!(stuck(&r, "stuck_raised"), 0, "not due yet: {r:?}");
    w.clock.advance_ms(w.f.settings.stuck_after_ms + 1);
    let r = sync::run(&w.f).await.expect("sync");
    assert_eq!(stuck(&r, "stuck_raised"), 2, "{r:?}");
    // Once per order: the next runs raise nothing new.
    let r = sync::run(&w.f).await.expect("sync");
    assert_eq!(
        (stuck(&r, "stuck_raised"), stuck(&r, "stuck_resolved")),
        (0, 0)
    );
    let open = stuck_alerts(&w).await;
    assert_eq!(open.len(), 2);
    let about_a = open
        .iter()
        .find(|al| al.subject == format!("order:{}", a.id.0))
        .expect("a's alert");
    assert!(
        about_a.message.contains(&a.reference) && about_a.message.contains("48 h"),
        "{}",
        about_a.message
    );
    // The provider finishes one: its alert resolves, the other stays.
    let now = w.order(b.id).await;
    let mut done = OrderUpdate::new(
        b.id,
        now.status,
        OrderEvent::Provider(smmd_domain::order::ProviderStatus::Completed),
        w.clock.now_ms(),
    );
    done.remains = Some(0);
    assert!(matches!(
        w.store.apply_order_update(done).await.expect("complete"),
        UpdateOutcome::Applied { .. }
    ));
    let r = sync::run(&w.f).await.expect("sync");
    assert_eq!(
        (stuck(&r, "stuck_raised"), stuck(&r, "stuck_resolved")),
        (0, 1)
    );
    let subjects: Vec<String> = stuck_alerts(&w)
        .await
        .into_iter()
        .map(|al| al.subject)
        .collect();
    assert_eq!(subjects, [format!("order:{}", a.id.0)]);
}

/// The open `order_stuck` alerts.
async fn stuck_alerts(w: &World) -> Vec<smmd_store::Alert> {
    w.store
        .open_alerts()
        .await
        .expect("alerts")
        .into_iter()
        .filter(|al| al.kind == "order_stuck")
        .collect()
}

both_stores!(
    an_order_active_long_after_it_was_due_raises_one_alert_until_it_ends,
    an_unavailable_provider_gets_its_orders_again_at_the_next_run_only,
    refills_are_sent_once_and_synced_to_their_outcome,
    auto_refill_requests_a_refill_when_the_link_dropped,
    orders_reach_completed_partial_and_canceled_with_the_right_refunds,
    faults_never_lose_resend_or_double_refund_an_order,
    a_refused_order_tries_the_next_offer_then_cancels_with_a_full_refund,
    an_interrupted_dispatch_goes_to_review_and_is_never_resent,
    an_interrupted_dispatch_to_an_smmd_parent_is_sent_again,
    one_sync_pass_asks_for_100_orders_per_call_oldest_checked_first,
    a_cancel_goes_upstream_and_the_refund_follows_the_outcome,
    service_sync_updates_prices_keeps_overrides_and_refuses_a_mass_disable,
    balance_checks_record_and_alert_below_the_threshold,
);
