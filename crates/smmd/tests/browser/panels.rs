//! Hosted child panels in the browser (issue 19): the demo user rents a child panel on
//! `/panels` for `shop.localhost` (browsers send `*.localhost` to this machine), watches it
//! being set up, opens it on its own hostname and logs in as its admin; then a customer of the
//! child signs up there, adds test funds, orders and sees the order complete — bought through
//! the root. The root admin sees the child on `/admin/panels`.

use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::Value;

use super::support::*;

const HOST: &str = "shop.localhost";

pub async fn a_customer_rents_a_child_panel_and_its_customer_orders_there(c: &Client, demo: &Demo) {
    let base = demo.url.clone();
    let port = url::Url::parse(&base).expect("url").port().expect("port");
    let child = format!("http://{HOST}:{port}");

    sign_in(c, &base, &demo.user_email, &demo.user_password).await;
    c.goto(&format!("{base}/panels")).await.expect("panels");
    shoot(c, "panels").await;
    fill(c, "#hostnames", HOST).await;
    fill(c, "#brand", "Shop Localhost").await;
    fill(c, "#markup", "25").await;
    fill(c, "#admin_email", "owner@shop.localhost").await;
    fill(c, "#admin_password", "shop-admin-pw").await;
    click(c, "#rent-panel button[type=submit]").await;
    wait_for_text(c, ".flash.ok", "being set up").await;
    // The page follows the setup and offers the address once the child is active.
    let started = Instant::now();
    loop {
        let mut rows = Vec::new();
        for row in c
            .find_all(fantoccini::Locator::Css("#panels tbody tr"))
            .await
            .expect("rows")
        {
            rows.push(row.text().await.expect("row text"));
        }
        let shop = rows.iter().find(|r| r.contains("Shop Localhost"));
        if shop.is_some_and(|r| r.contains("Active") && r.contains("Open")) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not active: {rows:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
        c.refresh().await.expect("refresh");
    }
    shoot(c, "panels-active").await;

    // Its admin logs in on its own hostname and sees their own panel.
    sign_in(c, &child, "owner@shop.localhost", "shop-admin-pw").await;
    assert!(c
        .current_url()
        .await
        .expect("url")
        .as_str()
        .starts_with(&child));
    assert!(text_of(c, "header .brand").await.contains("Shop Localhost"));
    shoot(c, "child-admin").await;
    c.goto(&format!("{child}/admin/services"))
        .await
        .expect("services");
    wait_for_text(c, "main", "Instagram Followers").await;
    click(c, "form.logout button").await;
    wait_for_path(c, "/login").await;

    // A customer of the child signs up there, adds test funds and orders.
    c.goto(&format!("{child}/signup")).await.expect("signup");
    fill(c, "#email", "buyer@shop.example").await;
    fill(c, "#password", "buyer-password").await;
    click(c, "button[type=submit]").await;
    wait_for_path(c, "/orders/new").await;
    c.goto(&format!("{child}/funds")).await.expect("funds");
    click(c, "#test-top-up").await;
    wait_for_text(c, ".flash.ok", "Test funds added").await;
    let services: Value = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{port}/api/public/services"))
        .header("host", HOST)
        .send()
        .await
        .expect("catalogue")
        .json()
        .await
        .expect("json");
    let followers = services["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| {
            s["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("Instagram Followers"))
        })
        .and_then(|s| s["id"].as_i64())
        .unwrap_or_else(|| panic!("the child sells followers: {services}"));
    c.goto(&format!("{child}/orders/new?service={followers}"))
        .await
        .expect("new order");
    fill(c, "#link", "https://instagram.com/child_panel_buyer").await;
    fill(c, "#quantity", "100").await;
    shoot(c, "child-new-order").await;
    click(c, "#order-form button[type=submit]").await;
    wait_for_order_page(c).await;
    let started = Instant::now();
    let mut seen = Vec::new();
    loop {
        let status = text_of(c, "[data-order] [data-field=status]").await;
        if seen.last() != Some(&status) {
            seen.push(status.clone());
        }
        if status == "Completed" {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "no Completed after 3 minutes; statuses seen: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    shoot(c, "child-order-completed").await;

    // The root admin sees the child, with the order it bought.
    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin/panels"))
        .await
        .expect("admin panels");
    wait_for_text(c, "#panels", "Shop Localhost").await;
    wait_for_text(c, "#panels", HOST).await;
    shoot(c, "admin-panels").await;
}
