//! Provider health over the interfaces (issue 20): the server's own calls to a provider that
//! fails some of them (the simulator's HTTP 502s) are counted by outcome with their latency in
//! `/metrics` and on the Providers page, and the last 24 hours' orders give the canceled share
//! and the balance's runway at the rate of spend.

use smmd_domain::Money;
use smmd_store::Role;

use crate::admin_pages::page;
use crate::fulfil::fulfil;
use crate::helpers::TestApp;
use crate::smm::account;

/// The value of the first sample of `metric` whose labels contain every one of `labels`.
fn sample(text: &str, metric: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{metric}{{")))
        .find(|l| labels.iter().all(|want| l.contains(want)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

pub async fn a_failing_providers_calls_orders_and_runway_show_in_metrics_and_pages(app: TestApp) {
    let mut config = smmd_sim::SimConfig {
        latency_min_ms: 20,
        latency_max_ms: 40,
        ..Default::default()
    };
    config.faults.http_5xx_pct = 30;
    for s in &mut config.services {
        s.partial_pct = 0;
        s.canceled_pct = 0;
    }
    let (sim, provider) = app.sim_provider_with("flaky", None, config).await;
    let admin = account(&app, "owner@x.io", Role::Admin, "0").await;
    let buyer = account(&app, "buyer@x.io", Role::User, "100").await;

    // Twenty balance checks by the server itself: some answered, some lost to a 502.
    let path = format!("/api/admin/providers/{}/balance", provider.id.0);
    let mut answered = 0;
    for _ in 0..20 {
        let (status, _) = admin.post(&path, serde_json::json!({})).await;
        if status == 200 {
            answered += 1;
        }
    }
    let failed = 20 - answered;
    assert!(failed > 0 && answered > 0, "{answered} answered");
    assert_eq!(
        sim.sim.stats().faults.values().sum::<u64>(),
        failed as u64,
        "each failure is one of the simulator's"
    );

    // Orders: two delivered, two canceled upstream at their start.
    let f = fulfil(&app);
    let mut imported = false;
    for _ in 0..10 {
        imported |= smmd_fulfil::catalog::sync_provider(&f, &provider, false)
            .await
            .is_ok();
        if imported {
            break;
        }
    }
    assert!(imported, "the catalog imports despite the 502s");
    let svc = app.imported_service(provider.id, "2").await;
    let add = |n: usize| {
        format!(
            "key={}&action=add&service={}&link=https://instagram.com/p/h{n}&quantity=1000",
            buyer.key, svc.id.0
        )
    };
    app.v2(&add(0)).await;
    app.v2(&add(1)).await;
    for _ in 0..5 {
        let _ = smmd_fulfil::dispatch::run(&f).await;
    }
    let mut catalog: Vec<smmd_sim::ServiceSpec> =
        sim.sim.catalog().iter().map(|s| (**s).clone()).collect();
    catalog[1].canceled_pct = 100;
    sim.sim.set_catalog(catalog).expect("catalog");
    app.v2(&add(2)).await;
    app.v2(&add(3)).await;
    // The flaky provider may lose a call: dispatch and sync until all four are sent and settled.
    for _ in 0..20 {
        let _ = smmd_fulfil::dispatch::run(&f).await;
        app.clock.advance_ms(60_000);
        let _ = smmd_fulfil::sync::run(&f).await;
    }
    let orders = app
        .store
        .search_orders(&smmd_store::OrderQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("orders");
    let sent: Vec<_> = orders
        .iter()
        .filter(|o| o.provider_order_id.is_some())
        .collect();
    let canceled = sent
        .iter()
        .filter(|o| o.status == smmd_domain::order::OrderStatus::Canceled)
        .count() as i64;
    let spent = sent
        .iter()
        .filter_map(|o| o.provider_charge)
        .fold(Money::ZERO, |a, b| a.checked_add(b).expect("sum"));
    assert!(
        canceled > 0 && spent.is_positive(),
        "{canceled} canceled, {spent} spent"
    );
    let balance = app
        .store
        .provider(provider.id)
        .await
        .expect("r")
        .expect("p")
        .balance
        .expect("checked");

    let text = app.metrics().await;
    let id = format!("provider=\"{}\"", provider.id.0);
    let calls = |outcome: &str| {
        sample(
            &text,
            "smmd_provider_calls",
            &[&id, &format!("outcome=\"{outcome}\"")],
        )
    };
    assert_eq!(calls("ok"), Some(f64::from(answered)), "{text}");
    assert_eq!(calls("transient"), Some(f64::from(failed)), "{text}");
    let p50 = sample(
        &text,
        "smmd_provider_latency_ms",
        &[&id, "quantile=\"0.5\""],
    )
    .expect("p50");
    let p90 = sample(
        &text,
        "smmd_provider_latency_ms",
        &[&id, "quantile=\"0.9\""],
    )
    .expect("p90");
    assert!(
        (20.0..2_000.0).contains(&p50) && p50 <= p90,
        "p50 {p50} p90 {p90}"
    );
    assert_eq!(
        sample(&text, "smmd_provider_orders_24h", &[&id]),
        Some(sent.len() as f64)
    );
    assert_eq!(
        sample(&text, "smmd_provider_canceled_permille", &[&id]),
        Some((canceled * 1000 / sent.len() as i64) as f64)
    );
    let runway = balance.micros() as i128 * 24 / spent.micros() as i128;
    assert_eq!(
        sample(&text, "smmd_provider_runway_hours", &[&id]),
        Some(runway as f64)
    );

    // The Providers page shows the same.
    let (cookie, _) = app.session("owner@x.io").await;
    let (status, html, _) = page(&app, "/admin/providers", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("{} calls in 15 min", 20)), "calls");
    assert!(html.contains(&format!("p50 {p50} ms")), "latency");
    assert!(html.contains(&format!("≈ {runway} h")), "runway");
}
