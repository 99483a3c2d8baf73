//! The storefront in a browser (issue 18): the admin brands the panel and writes its FAQ on
//! /admin/site; a visitor lands on the home page, browses the services page with its filters,
//! picks a service, signs up from the log-in page it is sent to, arrives on that service's order
//! form and orders.

use fantoccini::{Client, Locator};

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_browses_the_storefront_signs_up_and_orders() {
    run("storefront", |c, demo| async move {
        storefront(&c, &demo).await
    })
    .await;
}

async fn storefront(c: &Client, demo: &Demo) {
    let base = demo.url.clone();
    // The admin names the panel, picks its colour and writes the FAQ.
    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin/site")).await.expect("site");
    fill(c, "#brand-name", "Boost Hub").await;
    fill(
        c,
        "#brand-tagline",
        "Real growth for every platform, in minutes.",
    )
    .await;
    fill(c, "#brand-color", "#0f766e").await;
    click(c, "#save-brand").await;
    wait_for_text(c, "#toasts", "Brand saved").await;
    fill(
        c,
        "#faq-body",
        "## How fast?\n\nMost orders **start within an hour**.",
    )
    .await;
    click(c, "#page-faq button[type=submit]").await;
    wait_for_text(c, "#toasts", "Page saved").await;
    shoot(c, "admin-site").await;
    click(c, "form.logout button").await;
    wait_for_path(c, "/login").await;

    // A visitor's home page: the brand, what is sold, the ways in.
    c.goto(&format!("{base}/")).await.expect("home");
    wait_for_text(c, ".hero h1", "Boost Hub").await;
    assert!(text_of(c, ".hero .tagline").await.contains("Real growth"));
    let accent = c
        .execute(
            "return getComputedStyle(document.querySelector('.hero .button')).backgroundColor;",
            vec![],
        )
        .await
        .expect("colour");
    assert_eq!(
        accent,
        serde_json::json!("rgb(15, 118, 110)"),
        "the brand colour"
    );
    assert!(text_of(c, ".platforms").await.contains("Instagram"));
    shoot(c, "home").await;
    c.goto(&format!("{base}/pages/faq")).await.expect("faq");
    assert!(text_of(c, "article").await.contains("start within an hour"));
    shoot(c, "faq").await;

    // The services page, filtered to YouTube, then searched.
    c.goto(&format!("{base}/services")).await.expect("services");
    shoot(c, "services").await;
    let platform = c
        .find(Locator::Css("select[name=platform]"))
        .await
        .expect("platform");
    platform.select_by_value("youtube").await.expect("youtube");
    click_and_reload(c, "form.search button[type=submit]").await;
    let listed = text_of(c, "main").await;
    assert!(
        listed.contains("YouTube Views") && !listed.contains("Instagram Likes"),
        "{listed}"
    );
    assert!(
        listed.contains("60 days"),
        "the guarantee its name announces: {listed}"
    );
    fill(c, "#services-q", "instagram likes").await;
    let platform = c
        .find(Locator::Css("select[name=platform]"))
        .await
        .expect("platform");
    platform.select_by_value("").await.expect("all");
    click(c, "form.search button[type=submit]").await;
    wait_for_text(c, "main", "Instagram Likes").await;
    // Order it: the visitor is sent to log in, signs up instead and lands on its order form.
    let wanted = c
        .find(Locator::Css("table.services td.order a"))
        .await
        .expect("order link")
        .attr("href")
        .await
        .expect("href")
        .expect("a link");
    let wanted_id = wanted.rsplit('=').next().unwrap_or_default().to_string();
    click(c, "table.services td.order a").await;
    wait_for_path(c, "/login").await;
    click(c, "#signup-link").await;
    wait_for_path(c, "/signup").await;
    fill(c, "#email", "visitor@example.com").await;
    fill(c, "#password", "correct horse").await;
    click(c, "button[type=submit]").await;
    wait_for_path(c, "/orders/new").await;
    let url = c.current_url().await.expect("url");
    assert!(url.query().unwrap_or("").contains("service="), "{url}");
    let picked = c
        .execute(
            "return document.getElementById('service-pick').value;",
            vec![],
        )
        .await
        .expect("picked");
    assert_eq!(
        picked,
        serde_json::json!(wanted_id),
        "the chosen service's form"
    );
    c.goto(&format!("{base}/funds")).await.expect("funds");
    click(c, "#test-top-up").await;
    wait_for_text(c, ".flash.ok", "Test funds added").await;
    c.goto(url.as_str()).await.expect("order form");
    fill(c, "#link", "https://instagram.com/p/storefront").await;
    fill(c, "#quantity", "100").await;
    click(c, "#order-form button[type=submit]").await;
    wait_for_text(c, ".flash.ok", "Order placed").await;
    assert!(
        text_of(c, "header .brand").await.contains("Boost Hub"),
        "the brand in the bar"
    );
}
