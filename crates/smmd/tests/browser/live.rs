//! Live updates against a reload (issue 18): every field the order page and the dashboard's
//! cards show must read the same after the live messages as after reloading the page.
//!
//! The demo user orders followers over `/api/v2` while the order page is open: the start count
//! appears when the sandbox starts delivering, a cancel over the API ends the order Partial
//! with a refund, and the page (status, remains, start count, refunded, balance, every timeline
//! line with its amount) is then compared with a reload. The dashboard's Balance, Active orders
//! and Unread notifications cards follow a second order from placement to its end the same way.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{json, Value};

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_order_page_and_dashboard_cards_match_a_reload() {
    run(
        "live",
        |c, demo| async move { live_fields(&c, &demo).await },
    )
    .await;
}

/// API v2 with the demo user's key.
async fn v2(demo: &Demo, form: &[(&str, &str)]) -> Value {
    let mut fields = vec![("key", demo.user_key.as_str())];
    fields.extend_from_slice(form);
    reqwest::Client::new()
        .post(format!("{}/api/v2", demo.url))
        .form(&fields)
        .send()
        .await
        .expect("api v2")
        .json()
        .await
        .expect("json")
}

/// What the order page shows of its order: the facts live updates touch, the header balance
/// and every timeline line.
const ORDER_PAGE: &str = "
    const t = s => { const e = document.querySelector(s); return e ? e.textContent.trim() : null; };
    return {
        status: t('[data-order] [data-field=status]'),
        remains: t('[data-order] [data-field=remains]'),
        start_count: t('[data-order] [data-field=start_count]'),
        refunded: t('[data-order] [data-field=refunded]'),
        balance: t('header [data-balance]'),
        timeline: Array.from(document.querySelectorAll('ol.timeline li'))
            .map(li => Array.from(li.children).map(c => c.textContent.trim()).join(' | ')),
    };";

/// The dashboard's cards.
const DASHBOARD: &str = "
    const t = s => { const e = document.querySelector(s); return e ? e.textContent.trim() : null; };
    return {
        balance: t('.stats [data-balance]'),
        header_balance: t('header [data-balance]'),
        active: t('[data-active-count]'),
        unread: t('[data-unread-count]'),
        menu_unread: t('nav [data-unread]'),
    };";

/// A card's figure as a number.
fn count(v: &Value, key: &str) -> Option<i64> {
    v[key].as_str().and_then(|n| n.parse().ok())
}

async fn read(c: &Client, script: &str) -> Value {
    c.execute(script, vec![]).await.expect("read the page")
}

/// Waits (up to `secs`) until `ok` holds for what `script` reads; returns that reading.
async fn until(
    c: &Client,
    script: &str,
    secs: u64,
    what: &str,
    ok: impl Fn(&Value) -> bool,
) -> Value {
    let started = Instant::now();
    loop {
        let v = read(c, script).await;
        if ok(&v) {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "{what}: never happened; the page shows {v}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until what `script` reads has not changed for 4 s (the demo's jobs run every 2–3 s),
/// and returns it.
async fn settled(c: &Client, script: &str) -> Value {
    let mut last = read(c, script).await;
    let mut since = Instant::now();
    let started = Instant::now();
    while since.elapsed() < Duration::from_secs(4) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the page never settled: {last}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = read(c, script).await;
        if now != last {
            last = now;
            since = Instant::now();
        }
    }
    last
}

async fn mark(c: &Client) {
    c.execute("window.__smmdMarker = 42; return true;", vec![])
        .await
        .expect("marker");
}

async fn assert_not_reloaded(c: &Client) {
    let marker = c
        .execute("return window.__smmdMarker || null;", vec![])
        .await
        .expect("marker");
    assert_eq!(marker, json!(42), "the page was reloaded");
}

/// Reloads and reads again: the page as the server renders it now.
async fn reloaded(c: &Client, script: &str) -> Value {
    c.refresh().await.expect("reload");
    c.find(Locator::Css("main")).await.expect("page");
    read(c, script).await
}

async fn live_fields(c: &Client, demo: &Demo) {
    let base = demo.url.clone();
    let service = followers_service(demo).await.to_string();
    sign_in(c, &base, &demo.user_email, &demo.user_password).await;

    // The order page, open while the order starts: no start count yet.
    let placed = v2(
        demo,
        &[
            ("action", "add"),
            ("service", &service),
            ("link", "https://instagram.com/live_fields"),
            ("quantity", "6000"),
        ],
    )
    .await;
    let id = placed["order"]
        .as_i64()
        .unwrap_or_else(|| panic!("placed: {placed}"));
    c.goto(&format!("{base}/orders")).await.expect("orders");
    let reference = c
        .find(Locator::Css("tr[data-order]"))
        .await
        .expect("the new order's row")
        .attr("data-order")
        .await
        .expect("attr")
        .expect("a reference");
    c.goto(&format!("{base}/orders/{reference}"))
        .await
        .expect("order page");
    mark(c).await;
    let before = read(c, ORDER_PAGE).await;
    assert_eq!(before["start_count"], "—", "{before}");
    // Delivery starts: the start count and the status arrive live.
    until(c, ORDER_PAGE, 60, "a start count", |v| {
        v["start_count"].as_str().is_some_and(|s| s != "—") && v["status"] == "In progress"
    })
    .await;
    assert_not_reloaded(c).await;

    // A cancel while delivering ends the order Partial; the undelivered share is refunded.
    let canceled = v2(demo, &[("action", "cancel"), ("orders", &id.to_string())]).await;
    assert!(
        canceled.to_string().contains("\"cancel\":1"),
        "cancel accepted: {canceled}"
    );
    until(c, ORDER_PAGE, 60, "Partial", |v| v["status"] == "Partial").await;
    let live = settled(c, ORDER_PAGE).await;
    assert_not_reloaded(c).await;
    assert_ne!(live["refunded"], "0.00", "a refund: {live}");
    let refund_line = live["timeline"].as_array().expect("lines").iter().any(|l| {
        l.as_str().is_some_and(|l| {
            l.contains("Partial") && l.contains(live["refunded"].as_str().unwrap_or("?"))
        })
    });
    assert!(refund_line, "the timeline says what was refunded: {live}");
    shoot(c, "order-partial-live").await;
    let fresh = reloaded(c, ORDER_PAGE).await;
    assert_eq!(live, fresh, "the live order page differs from a reload");

    // The dashboard's cards follow a second order from placement to its end.
    c.goto(&format!("{base}/dashboard"))
        .await
        .expect("dashboard");
    mark(c).await;
    let start = settled(c, DASHBOARD).await;
    let active: i64 = start["active"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("active");
    let unread: i64 = start["unread"]
        .as_str()
        .and_then(|a| a.parse().ok())
        .expect("unread");
    let second = v2(
        demo,
        &[
            ("action", "add"),
            ("service", &service),
            ("link", "https://instagram.com/live_cards"),
            ("quantity", "6000"),
        ],
    )
    .await;
    let second = second["order"]
        .as_i64()
        .unwrap_or_else(|| panic!("placed: {second}"));
    // The order and its charge arrive as two messages (events, then the ledger).
    until(
        c,
        DASHBOARD,
        30,
        "one more active order and its charge",
        |v| count(v, "active") == Some(active + 1) && v["balance"] != start["balance"],
    )
    .await;
    // Canceled before or during delivery: the order ends and its notification arrives.
    let started = Instant::now();
    loop {
        let r = v2(
            demo,
            &[("action", "cancel"), ("orders", &second.to_string())],
        )
        .await;
        if r.to_string().contains("\"cancel\":1") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "cancel refused: {r}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    until(c, DASHBOARD, 60, "the order ended and was notified", |v| {
        count(v, "active") == Some(active) && count(v, "unread") != Some(unread)
    })
    .await;
    let live = settled(c, DASHBOARD).await;
    assert_not_reloaded(c).await;
    assert_eq!(live["balance"], live["header_balance"], "{live}");
    assert_eq!(live["unread"], live["menu_unread"], "{live}");
    shoot(c, "dashboard-live").await;
    let fresh = reloaded(c, DASHBOARD).await;
    assert_eq!(live, fresh, "the live dashboard differs from a reload");

    rate_and_moderate(c, demo, &reference).await;
}

/// The customer rates the Partial order with a comment and reads their transactions; the admin
/// approves the rating; the services page then shows it.
async fn rate_and_moderate(c: &Client, demo: &Demo, reference: &str) {
    let base = demo.url.clone();
    c.goto(&format!("{base}/orders/{reference}"))
        .await
        .expect("order page");
    let stars = c.find(Locator::Css("#stars")).await.expect("stars");
    stars.select_by_value("4").await.expect("4 stars");
    fill(c, "#comment", "Stopped early, but the refund came at once.").await;
    shoot_at(c, "order-rate", Some("rating")).await;
    click(c, "#rate").await;
    wait_for_text(c, ".flash.ok", "once your comment is approved").await;
    assert!(text_of(c, "#rating").await.contains("waits for approval"));
    c.goto(&format!("{base}/transactions"))
        .await
        .expect("transactions");
    let ledger = text_of(c, "table.ledger").await;
    assert!(
        ledger.contains("Refund") && ledger.contains("Order"),
        "{ledger}"
    );
    shoot(c, "transactions").await;

    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin/site")).await.expect("site");
    wait_for_text(c, "#ratings", "Stopped early").await;
    shoot_at(c, "admin-ratings", Some("ratings")).await;
    click(c, "#approve-ratings").await;
    wait_for_text(c, "#toasts", "Ratings decided").await;
    wait_for_text(c, "#ratings", "Nothing to review").await;
    c.goto(&format!("{base}/services")).await.expect("services");
    wait_for_text(c, "main", "★ 4.0/5 · 1 rating").await;
}
