//! The stuck-order ladder in a browser (issue 20): the owner gives the followers service a
//! one-minute "stuck after" floor on the services page, a reseller's order that the provider never starts
//! (the simulator's `sim-stuck` link) climbs the ladder's first two steps as the status sync
//! runs, and the admin's stuck queue shows it with each step and the provider's answer, while
//! the customer's order page shows the steps without the answers. The Providers page shows the
//! provider's health: its calls, their latency, and the share of its orders that got stuck.

use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::{json, Value};

use super::support::*;

/// Runs the status sync now and waits until the stuck queue shows `steps` steps for `order`.
async fn wait_for_steps(demo: &Demo, order: i64, steps: usize) -> Value {
    let deadline = Instant::now() + Duration::from_secs(150);
    loop {
        admin_json(
            demo,
            reqwest::Method::POST,
            "/api/admin/jobs/orders.sync_status/trigger",
            None,
        )
        .await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let q = admin_json(demo, reqwest::Method::GET, "/api/admin/stuck", None).await;
        let listed = q["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| e["order"]["id"] == order)
            .cloned();
        if let Some(e) = listed {
            if e["steps"].as_array().map_or(0, Vec::len) >= steps {
                return q;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no step {steps} for order {order}: {q}"
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

pub async fn a_stuck_order_climbs_the_ladder_in_the_admin_queue(c: &Client, demo: &Demo) {
    let base = demo.url.clone();
    let svc = followers_service(demo).await;
    // The owner sets the service's floor on the services page: one minute.
    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin/services"))
        .await
        .expect("services");
    let row = format!("#s-{svc}");
    click(c, &format!("{row} details summary")).await;
    let form = format!("{row} form[action$=\"/stuck\"]");
    fill(c, &format!("{form} input[name=floor_minutes]"), "1").await;
    click_and_reload(c, &format!("{form} button")).await;
    let rules = admin_json(demo, reqwest::Method::GET, "/api/admin/stuck", None).await;
    assert_eq!(rules["items"], json!([]), "nothing stuck yet: {rules}");
    click(c, &format!("{row} details summary")).await;
    assert_eq!(
        c.find(fantoccini::Locator::Css(&format!(
            "{form} input[name=floor_minutes]"
        )))
        .await
        .expect("floor")
        .prop("value")
        .await
        .expect("value")
        .as_deref(),
        Some("1"),
        "the floor was saved"
    );
    shoot_at(c, "admin-services-stuck", Some(&format!("stuck-{svc}"))).await;
    let order = api_order(demo, "https://instagram.com/p/sim-stuck-ladder", 1000).await;

    let q = wait_for_steps(demo, order, 2).await;
    let entry = q["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|e| e["order"]["id"] == order)
        .expect("listed");
    assert_eq!(entry["steps"][0]["step"], "refresh");
    assert_eq!(entry["steps"][1]["step"], "speed_up");
    assert!(
        entry["steps"][1]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("refused") || d.contains("refill")),
        "{entry}"
    );
    let reference = entry["order"]["reference"]
        .as_str()
        .expect("ref")
        .to_string();

    c.goto(&format!("{base}/admin/stuck"))
        .await
        .expect("stuck page");
    let row = format!("tr[data-order=\"{reference}\"]");
    wait_for_text(
        c,
        &format!("{row} li[data-step=speed_up]"),
        "Speed-up asked",
    )
    .await;
    wait_for_text(c, ".stuck-providers", "Sandbox").await;
    shoot(c, "admin-stuck").await;
    // The provider's health: its calls (this process), latency, orders, stuck share.
    c.goto(&format!("{base}/admin/providers"))
        .await
        .expect("providers");
    wait_for_text(c, "td.health", "calls in 15 min").await;
    wait_for_text(c, "td.health", "stuck").await;
    shoot(c, "admin-providers-health").await;

    // The customer sees which steps were taken, not what the provider answered.
    sign_in(c, &base, &demo.user_email, &demo.user_password).await;
    c.goto(&format!("{base}/orders/{reference}"))
        .await
        .expect("order page");
    wait_for_text(c, "ol.timeline", "Taking longer than usual").await;
    let timeline = text_of(c, "ol.timeline").await;
    assert!(
        !timeline.contains("refused") && !timeline.contains("Status asked again"),
        "{timeline}"
    );
    shoot(c, "order-stuck").await;
}
