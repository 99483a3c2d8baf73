//! The margin guard in a browser (issue 20): the owner sets a service's minimum margin on the
//! services page so high that its price no longer covers it, a reseller's order through
//! `/api/v2` is held instead of being sent at a loss, the held card appears on the services page
//! with its two decisions, the owner refunds it with a reason, and the customer's order ends
//! Canceled with its money back. A price edit shows on the public "Updates" page.

use std::time::Duration;

use fantoccini::Client;
use serde_json::Value;

use super::support::*;

async fn v2_status(demo: &Demo, order: i64) -> String {
    let v: Value = reqwest::Client::new()
        .post(format!("{}/api/v2", demo.url))
        .form(&[
            ("key", demo.user_key.as_str()),
            ("action", "status"),
            ("order", &order.to_string()),
        ])
        .send()
        .await
        .expect("status")
        .json()
        .await
        .expect("json");
    v["status"].as_str().unwrap_or_default().to_string()
}

pub async fn an_owner_holds_orders_below_cost_and_refunds_them(c: &Client, demo: &Demo) {
    let base = demo.url.clone();
    let svc = followers_service(demo).await;
    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin/services"))
        .await
        .expect("services");
    // The margin form of the service: 1000 % over cost, hold on a breach.
    let row = format!("#s-{svc}");
    click(c, &format!("{row} details summary")).await;
    fill(c, &format!("{row} input[name=min_margin_bp]"), "1000").await;
    click_and_reload(c, &format!("{row} form[action$=\"/margin\"] button")).await;
    wait_for_text(c, &format!("{row} .margin"), "1000 %").await;

    // A reseller's order is held by dispatch, not sent.
    let order = api_order(demo, "https://instagram.com/p/held-by-margin", 1000).await;
    let mut held = Value::Null;
    for _ in 0..150 {
        held = admin_json(demo, reqwest::Method::GET, "/api/admin/held", None).await;
        if held["items"][0]["orders"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(held["items"][0]["service_id"], svc, "{held}");
    assert_eq!(
        v2_status(demo, order).await,
        "Pending",
        "held orders wait as Pending"
    );

    c.goto(&format!("{base}/admin/services"))
        .await
        .expect("services");
    wait_for_text(c, "#held", "Orders held below cost").await;
    shoot_at(c, "admin-held", Some("held")).await;
    fill(
        c,
        "#held input[name=reason]",
        "the provider raised its rate",
    )
    .await;
    click_and_reload(c, "#held button[value=refund]").await;
    for _ in 0..50 {
        if v2_status(demo, order).await == "Canceled" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(v2_status(demo, order).await, "Canceled");
    assert!(
        c.find(fantoccini::Locator::Css("#held")).await.is_err(),
        "the queue is empty"
    );

    // A price edit is public news.
    let edit = admin_json(
        demo,
        reqwest::Method::PATCH,
        &format!("/api/admin/services/{svc}"),
        Some(serde_json::json!({"rate": "1.25"})),
    )
    .await;
    assert_eq!(edit["rate"], "1.25", "{edit}");
    c.goto(&format!("{base}/updates")).await.expect("updates");
    wait_for_text(c, "#updates", "1.25").await;
    shoot(c, "updates").await;
}
