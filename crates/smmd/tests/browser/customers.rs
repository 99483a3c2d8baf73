//! The admin's customers in a browser (issue 18): the admin searches the users page, opens
//! the demo customer, gives them 20 % off the followers service and writes a note; the
//! customer's order form then prices the service at their rate. Then the admin disables the
//! account: its API key stops answering; enabling it brings the key back.

use fantoccini::{Client, Locator};
use serde_json::Value;

use super::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_finds_a_customer_sets_their_rate_and_disables_them() {
    run(
        "customers",
        |c, demo| async move { customers(&c, &demo).await },
    )
    .await;
}

async fn v2(base: &str, key: &str, action: &str) -> Value {
    reqwest::Client::new()
        .post(format!("{base}/api/v2"))
        .form(&[("key", key), ("action", action)])
        .send()
        .await
        .expect("api v2")
        .json()
        .await
        .expect("json")
}

fn rate_of(list: &Value, id: i64) -> i64 {
    let s = list
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["service"] == id || s["service"].as_str() == Some(&id.to_string()))
        .expect("the service");
    let rate = s["rate"].as_str().expect("rate");
    smmd_domain::Money::parse(rate).expect("money").micros()
}

async fn customers(c: &Client, demo: &Demo) {
    let base = demo.url.clone();
    let svc = followers_service(demo).await;
    let list_rate = rate_of(&v2(&base, &demo.user_key, "services").await, svc);
    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin/users")).await.expect("users");
    let local = demo.user_email.split('@').next().expect("local part");
    fill(c, "#user-q", local).await;
    click(c, "#user-search button[type=submit]").await;
    for _ in 0..100 {
        if c.current_url()
            .await
            .expect("url")
            .query()
            .is_some_and(|q| q.contains("q="))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    wait_for_text(c, "#users", &demo.user_email).await;
    let rows = c
        .find_all(Locator::Css("#users tbody tr"))
        .await
        .expect("rows");
    for r in rows {
        assert!(
            r.text().await.expect("row").contains(local),
            "only matching accounts are listed"
        );
    }
    shoot(c, "admin-users").await;
    c.find(Locator::LinkText(&demo.user_email))
        .await
        .expect("the customer's link")
        .click()
        .await
        .expect("open");
    wait_for_path(c, "/admin/users/").await;

    // 20 % off the followers service, and a note.
    c.find(Locator::Css(&format!(
        "#rate-service option[value='{svc}']"
    )))
    .await
    .expect("the service option")
    .click()
    .await
    .expect("pick");
    fill(c, "#rate-discount", "20").await;
    click(c, "#save-rate").await;
    wait_for_text(c, "#toasts", "Custom rate saved").await;
    wait_for_text(c, "#custom-rates", "20 % off").await;
    fill(c, "#note-body", "Reseller: 20 % agreed on followers").await;
    click(c, "#notes button[type=submit]").await;
    wait_for_text(c, "#notes", "Reseller: 20 % agreed").await;
    shoot_at(c, "admin-user", Some("custom-rates")).await;

    // API v2 prices the service at 80 % of the list rate, rounded up to the micro-unit.
    let want = (list_rate * 8_000 + 9_999) / 10_000;
    assert_eq!(
        rate_of(&v2(&base, &demo.user_key, "services").await, svc),
        want
    );

    // Disabled: the key stops; enabled: it works again.
    click(c, "#disable-user").await;
    wait_for_text(c, "#customer-state", "Disabled").await;
    assert!(v2(&base, &demo.user_key, "balance")
        .await
        .get("error")
        .is_some());
    click(c, "#enable-user").await;
    wait_for_text(c, "#customer-state", "Active").await;
    assert!(v2(&base, &demo.user_key, "balance")
        .await
        .get("balance")
        .is_some());

    // The customer's order form shows their rate.
    sign_in(c, &base, &demo.user_email, &demo.user_password).await;
    c.goto(&format!("{base}/orders/new?service={svc}"))
        .await
        .expect("order form");
    let form = c
        .find(Locator::Css("#order-form"))
        .await
        .expect("order form");
    let micros: i64 = form
        .attr("data-rate-micros")
        .await
        .expect("attr")
        .expect("rate")
        .parse()
        .expect("number");
    assert_eq!(micros, want, "the order form charges the custom rate");
}
