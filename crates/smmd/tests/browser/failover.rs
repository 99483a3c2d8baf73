//! Offer failover in a browser (issue 20): the owner adds a second provider and, on the
//! services page, gives the followers service a fallback offer on it. A reseller's order that
//! the first provider refuses for lack of funds (the simulator's `sim-no-funds` link) moves to
//! the fallback with the reason on the admin orders page, and the Providers page shows the
//! first provider failing over. The owner turns on status pushes for the fallback provider by
//! pasting its secret, and removes the fallback offer again on the services page.

use fantoccini::{Client, Locator};
use serde_json::json;

use super::support::*;

pub async fn an_order_fails_over_to_the_fallback_offer(c: &Client, demo: &Demo) {
    let base = demo.url.clone();
    let svc = followers_service(demo).await;
    let providers = admin_json(demo, reqwest::Method::GET, "/api/admin/providers", None).await;
    let sandbox = providers["items"]
        .as_array()
        .and_then(|a| a.first())
        .cloned()
        .expect("the demo's provider");
    let backup = admin_json(
        demo,
        reqwest::Method::POST,
        "/api/admin/providers",
        Some(json!({
            "name": "Backup sandbox",
            "url": sandbox["url"],
            "key": "sim-key",
        })),
    )
    .await;
    let backup_id = backup["provider"]["id"]
        .as_i64()
        .unwrap_or_else(|| panic!("backup provider: {backup}"));

    // The owner adds the fallback on the services page.
    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin/services"))
        .await
        .expect("services");
    let row = format!("#s-{svc}");
    click(c, &format!("{row} details summary")).await;
    let form = format!("#offers-{svc} form[action$=\"/offers\"]");
    c.find(Locator::Css(&format!(
        "{form} select[name=provider_id] option[value=\"{backup_id}\"]"
    )))
    .await
    .expect("backup option")
    .click()
    .await
    .expect("choose backup");
    let upstream = admin_json(
        demo,
        reqwest::Method::GET,
        &format!("/api/admin/services/{svc}/offers"),
        None,
    )
    .await["items"][0]["provider_service_id"]
        .as_str()
        .expect("own offer")
        .to_string();
    fill(
        c,
        &format!("{form} input[name=provider_service_id]"),
        &upstream,
    )
    .await;
    click_and_reload(c, &format!("{form} button")).await;
    let offers = admin_json(
        demo,
        reqwest::Method::GET,
        &format!("/api/admin/services/{svc}/offers"),
        None,
    )
    .await;
    assert_eq!(offers["items"][1]["provider_id"], backup_id, "{offers}");
    click(c, &format!("{row} details summary")).await;
    shoot_at(c, "admin-services-offers", Some(&format!("offers-{svc}"))).await;

    // A reseller's order the first provider refuses for lack of funds moves to the fallback.
    let order = api_order(demo, "https://instagram.com/p/sim-no-funds-failover", 1000).await;
    admin_json(
        demo,
        reqwest::Method::POST,
        "/api/admin/jobs/orders.dispatch/trigger",
        None,
    )
    .await;
    let mut seen = serde_json::Value::Null;
    for _ in 0..60 {
        let list = admin_json(
            demo,
            reqwest::Method::GET,
            "/api/admin/orders?limit=20",
            None,
        )
        .await;
        seen = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|o| o["id"] == order)
            .cloned()
            .unwrap_or_default();
        if seen["status"] == "canceled" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    // The fallback is the same sandbox, so it refuses too: canceled after both offers, refunded.
    assert_eq!(seen["route_reason"], "out_of_funds", "{seen}");
    assert_eq!(seen["offer_index"], 1, "{seen}");
    assert_eq!(seen["status"], "canceled", "{seen}");

    c.goto(&format!("{base}/admin/orders"))
        .await
        .expect("orders");
    wait_for_text(
        c,
        ".route[data-reason=out_of_funds]",
        "Rerouted: out of funds",
    )
    .await;
    shoot(c, "admin-orders-rerouted").await;
    c.goto(&format!("{base}/admin/providers"))
        .await
        .expect("providers");
    wait_for_text(
        c,
        "[data-field=route-state]",
        "Orders move away: out of funds",
    )
    .await;
    shoot(c, "admin-providers-failover").await;

    // The backup sends status pushes: the owner pastes its secret in the provider's Edit.
    let prow = format!("#p-{backup_id}");
    click(c, &format!("{prow} details.edit summary")).await;
    let push = format!("#push-{backup_id}");
    fill(
        c,
        &format!("{push} input[name=secret]"),
        "a-secret-from-the-upstream-panel",
    )
    .await;
    click_and_reload(c, &format!("{push} form button")).await;
    click(c, &format!("{prow} details.edit summary")).await;
    wait_for_text(c, &format!("{push} [data-field=push]"), "On").await;
    shoot_at(
        c,
        "admin-providers-push",
        Some(&format!("push-{backup_id}")),
    )
    .await;

    // The owner removes the fallback again.
    c.goto(&format!("{base}/admin/services"))
        .await
        .expect("services");
    click(c, &format!("{row} details summary")).await;
    click_and_reload(
        c,
        &format!("#offers-{svc} li[data-offer=\"1\"] form button"),
    )
    .await;
    let offers = admin_json(
        demo,
        reqwest::Method::GET,
        &format!("/api/admin/services/{svc}/offers"),
        None,
    )
    .await;
    assert_eq!(
        offers["items"].as_array().map(Vec::len),
        Some(1),
        "{offers}"
    );
}
