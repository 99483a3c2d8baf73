//! The admin's view of customers (issue 18) over HTTP: search, one customer's detail, notes,
//! ending sessions, disabling and enabling an account, and custom rates, which every surface
//! then prices by (`/api/v2` `services` and `add`, REST, the order form).

use reqwest::Method;
use serde_json::{json, Value};
use smmd_store::Role;

use crate::helpers::TestApp;
use crate::smm::{account, catalog};

fn rate_in(list: &Value, id: i64) -> Option<String> {
    list.as_array()?
        .iter()
        .find(|s| s["service"] == id)
        .map(|s| s["rate"].as_str().unwrap_or_default().to_string())
}

pub async fn admins_find_customers_note_them_disable_them_and_set_their_rates(app: TestApp) {
    let admin = account(&app, "ops@x.io", Role::Admin, "0").await;
    let ann = account(&app, "ann@shop.io", Role::User, "50").await;
    let bob = account(&app, "bob@x.io", Role::User, "50").await;
    let ids = catalog(&app).await;

    // Search by e-mail substring and by id; a customer cannot search.
    let (s, found) = admin.get("/api/admin/users/search?q=SHOP").await;
    assert_eq!(s, 200, "{found}");
    let emails: Vec<&str> = found["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["account"]["email"].as_str().expect("email"))
        .collect();
    assert_eq!(emails, vec!["ann@shop.io"]);
    let (_, by_id) = admin
        .get(&format!("/api/admin/users/search?q=%23{}", bob.id.0))
        .await;
    assert_eq!(by_id["items"][0]["account"]["id"], bob.id.0);
    let (s, _) = ann.get("/api/admin/users/search").await;
    assert_eq!(s, 403);
    let (s, e) = admin.get("/api/admin/users/search?role=boss").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_query"))
    );

    // Custom rates: 25 % off everything for Ann, a fixed 0.42 for the first service.
    let rates = format!("/api/admin/users/{}/rates", ann.id.0);
    let (s, e) = admin
        .call(Method::PUT, &rates, Some(json!({"discount_percent": "95"})))
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_custom_rate"))
    );
    let (s, e) = admin
        .call(Method::PUT, &rates, Some(json!({"rate": "0.42"})))
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_custom_rate")),
        "a fixed rate names its service"
    );
    let (s, e) = admin
        .call(
            Method::PUT,
            &rates,
            Some(json!({"service_id": 999_999, "rate": "0.42"})),
        )
        .await;
    assert_eq!(s, 404, "{e}");
    let (s, _) = admin
        .call(Method::PUT, &rates, Some(json!({"discount_percent": "25"})))
        .await;
    assert_eq!(s, 200);
    let (s, after) = admin
        .call(
            Method::PUT,
            &rates,
            Some(json!({"service_id": ids[0], "rate": "0.42"})),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(after["items"].as_array().map(Vec::len), Some(2));

    // Every surface prices Ann by them; Bob keeps list prices.
    let ann_v2 = app.v2(&format!("key={}&action=services", ann.key)).await;
    let bob_v2 = app.v2(&format!("key={}&action=services", bob.key)).await;
    assert_eq!(rate_in(&ann_v2.json, ids[0]).as_deref(), Some("0.42"));
    assert_eq!(
        rate_in(&ann_v2.json, ids[1]).as_deref(),
        Some("0.075"),
        "25 % off 0.10"
    );
    assert_eq!(rate_in(&bob_v2.json, ids[0]).as_deref(), Some("1.00"));
    let (_, one) = ann.get(&format!("/api/smm/services/{}", ids[1])).await;
    assert_eq!(one["rate"], "0.075");
    let (cookie, _) = app.session("ann@shop.io").await;
    let (_, form) =
        crate::pages::get(&app, &format!("/orders/new?service={}", ids[0]), &cookie).await;
    assert!(form.contains("0.42"), "the order form shows her rate");
    let placed = app
        .v2(&format!(
            "key={}&action=add&service={}&link=https%3A%2F%2Finstagram.com%2Fann&quantity=1000",
            ann.key, ids[0]
        ))
        .await;
    let order = placed.json["order"].as_i64().expect("order");
    let o = app
        .store
        .order(smmd_domain::OrderId(order))
        .await
        .expect("read")
        .expect("order");
    assert_eq!(o.charge.to_string(), "0.42", "charged as shown");
    // Removing the fixed rate brings the 25 % back for that service.
    admin
        .call(Method::PUT, &rates, Some(json!({"service_id": ids[0]})))
        .await;
    let ann_v2 = app.v2(&format!("key={}&action=services", ann.key)).await;
    assert_eq!(rate_in(&ann_v2.json, ids[0]).as_deref(), Some("0.75"));

    // Notes and the detail.
    let notes = format!("/api/admin/users/{}/notes", ann.id.0);
    let (s, e) = admin.post(&notes, json!({"body": "  "})).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_note"))
    );
    let (s, _) = admin
        .post(&notes, json!({"body": "VIP: agreed 25 %"}))
        .await;
    assert_eq!(s, 200);
    let (s, d) = admin.get(&format!("/api/admin/users/{}", ann.id.0)).await;
    assert_eq!(s, 200, "{d}");
    assert_eq!(d["account"]["email"], "ann@shop.io");
    assert_eq!(d["orders"], 1);
    assert_eq!(d["orders_recent"][0]["id"], order);
    assert_eq!(d["notes"][0]["body"], "VIP: agreed 25 %");
    assert_eq!(d["notes"][0]["author"], "ops@x.io");
    assert_eq!(d["sessions"].as_array().map(Vec::len), Some(1));
    assert!(
        d["ledger"].as_array().is_some_and(|l| l.len() >= 2),
        "deposit and charge"
    );
    let (s, _) = admin.get("/api/admin/users/999999").await;
    assert_eq!(s, 404);
    let (s, _) = ann.get(&format!("/api/admin/users/{}", bob.id.0)).await;
    assert_eq!(s, 403);

    // Ending sessions: the page session stops working.
    let (s, ended) = admin
        .post(
            &format!("/api/admin/users/{}/sessions/end", ann.id.0),
            json!({}),
        )
        .await;
    assert_eq!((s, ended["ended"].as_u64()), (200, Some(1)));
    let (s, _) = crate::pages::get(&app, "/dashboard", &cookie).await;
    assert_eq!(s, 303, "sent to log in");

    // Disabling: key and log-in stop at once; enabling brings them back.
    let block = format!("/api/admin/users/{}/block", ann.id.0);
    let (s, _) = admin.post(&block, json!({"blocked": true})).await;
    assert_eq!(s, 204);
    let v2 = app.v2(&format!("key={}&action=balance", ann.key)).await;
    assert!(v2.error().is_some(), "the key stopped: {:?}", v2.json);
    let (_, disabled) = admin.get("/api/admin/users/search?blocked=true").await;
    assert_eq!(disabled["items"][0]["account"]["id"], ann.id.0);
    let (s, _) = admin
        .post(
            &format!("/api/admin/users/{}/block", admin.id.0),
            json!({"blocked": true}),
        )
        .await;
    assert_eq!(s, 422, "an admin cannot disable themselves");
    let (s, _) = admin.post(&block, json!({"blocked": false})).await;
    assert_eq!(s, 204);
    let v2 = app.v2(&format!("key={}&action=balance", ann.key)).await;
    assert!(v2.error().is_none(), "{:?}", v2.json);
    let log = app.store.audit_log(None, 50).await.expect("audit");
    for action in [
        "user.rate",
        "user.sessions_end",
        "user.block",
        "user.unblock",
    ] {
        assert!(log.iter().any(|e| e.action == action), "{action} audited");
    }
    app.assert_ledger_consistent().await;
}

pub async fn the_admin_users_pages_search_and_show_a_customer(app: TestApp) {
    let _admin = account(&app, "ops@x.io", Role::Admin, "0").await;
    let ann = account(&app, "ann@shop.io", Role::User, "50").await;
    account(&app, "bob@x.io", Role::User, "0").await;
    let (cookie, _) = app.session("ops@x.io").await;
    let (s, list) = crate::pages::get(&app, "/admin/users?q=shop", &cookie).await;
    assert_eq!(s, 200);
    assert!(
        list.contains("ann@shop.io") && !list.contains("bob@x.io"),
        "{list}"
    );
    let (s, page) = crate::pages::get(&app, &format!("/admin/users/{}", ann.id.0), &cookie).await;
    assert_eq!(s, 200);
    for part in [
        "custom-rates",
        "Disable the account",
        "notes",
        "Adjust the balance",
    ] {
        assert!(page.contains(part), "{part}");
    }
    let (s, _) = crate::pages::get(&app, "/admin/users/999999", &cookie).await;
    assert_eq!(s, 404);
    let (customer, _) = app.session("ann@shop.io").await;
    let (s, _) = crate::pages::get(&app, "/admin/users", &customer).await;
    assert_eq!(s, 404, "not advertised to customers");
}
