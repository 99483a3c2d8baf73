//! Support tickets (issue 18) over REST on both backends: a customer opens a ticket about their
//! own order (another customer's order is refused like an unknown one), other customers get 404
//! on every ticket route, the admins' queue shows it unread, an internal note never reaches the
//! customer, the reply hands it to the customer, and both sides hear of it in the app through
//! `notifications.deliver` (the admins by the `ticket_waiting` alert, the customer by
//! `ticket.replied`). Canned replies round-trip.

use reqwest::Method;
use serde_json::json;
use smmd_store::Role;

use crate::helpers::TestApp;
use crate::smm::{account, catalog};

/// The titles of `who`'s in-app notifications, newest first.
async fn titles(who: &crate::smm::Api<'_>) -> Vec<String> {
    who.get("/api/account/notifications").await.1["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["title"].as_str().unwrap_or_default().to_string())
        .collect()
}

pub async fn a_ticket_goes_between_customer_and_admin_over_rest(app: TestApp) {
    let ann = account(&app, "ann@x.io", Role::User, "50").await;
    let bob = account(&app, "bob@x.io", Role::User, "50").await;
    let ops = account(&app, "ops@x.io", Role::Admin, "0").await;
    let ids = catalog(&app).await;
    let (s, order) = ann
        .post(
            "/api/smm/orders",
            json!({"service": ids[0], "link": "https://instagram.com/ann", "quantity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{order}");
    let order_id = order["id"].as_i64().expect("order id");
    let (s, bobs) = bob
        .post(
            "/api/smm/orders",
            json!({"service": ids[0], "link": "https://instagram.com/bob", "quantity": 100}),
        )
        .await;
    assert_eq!(s, 201, "{bobs}");

    // Refused: someone else's order, no message, an unknown topic.
    for body in [
        json!({"topic": "order", "subject": "Slow", "orders": [bobs["id"]], "message": "Where?"}),
        json!({"topic": "order", "subject": "Slow", "message": ""}),
        json!({"topic": "gossip", "subject": "Slow", "message": "Where?"}),
    ] {
        let (s, e) = ann.post("/api/tickets", body.clone()).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (422, Some("invalid_ticket")),
            "{body}: {e}"
        );
    }
    let (s, t) = ann
        .post(
            "/api/tickets",
            json!({"topic": "order", "subject": "Followers missing", "orders": [order_id], "message": "Half never came."}),
        )
        .await;
    assert_eq!(s, 201, "{t}");
    let id = t["id"].as_i64().expect("ticket id");
    assert_eq!(
        (t["status"].as_str(), t["order_ids"][0].as_i64()),
        (Some("open"), Some(order_id))
    );

    // Bob: 404 everywhere; his list is empty; the admin routes are not his.
    for (method, path) in [
        (Method::GET, format!("/api/tickets/{id}")),
        (Method::POST, format!("/api/tickets/{id}/close")),
    ] {
        let (s, _) = bob.call(method, &path, Some(json!({}))).await;
        assert_eq!(s, 404, "{path}");
    }
    let (s, _) = bob
        .post(
            &format!("/api/tickets/{id}/messages"),
            json!({"message": "hi"}),
        )
        .await;
    assert_eq!(s, 404);
    assert_eq!(bob.get("/api/tickets").await.1["items"], json!([]));
    assert_eq!(bob.get("/api/admin/tickets").await.0, 403);

    // The queue: unread and open.
    let (s, q) = ops.get("/api/admin/tickets?status=open&unread=true").await;
    assert_eq!(s, 200, "{q}");
    assert_eq!(q["items"][0]["id"], id);
    assert_eq!(q["items"][0]["unread_by_admin"], true);
    let (s, e) = ops.get("/api/admin/tickets?status=lost").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_query"))
    );

    // A note and a reply (from a canned one).
    let (s, canned) = ops
        .post(
            "/api/admin/canned-replies",
            json!({"title": "Refill", "body": "A refill is on its way."}),
        )
        .await;
    assert_eq!(s, 201, "{canned}");
    let (s, _) = ops
        .post(
            &format!("/api/admin/tickets/{id}/messages"),
            json!({"message": "Provider is slow today", "internal": true}),
        )
        .await;
    assert_eq!(s, 200);
    let (s, replied) = ops
        .post(
            &format!("/api/admin/tickets/{id}/messages"),
            json!({"message": canned["body"]}),
        )
        .await;
    assert_eq!((s, replied["status"].as_str()), (200, Some("waiting")));
    let (_, admin_view) = ops.get(&format!("/api/admin/tickets/{id}")).await;
    assert_eq!(admin_view["messages"].as_array().map(Vec::len), Some(3));
    let (s, hers) = ann.get(&format!("/api/tickets/{id}")).await;
    assert_eq!(s, 200);
    let bodies: Vec<&str> = hers["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|m| m["body"].as_str().expect("body"))
        .collect();
    assert_eq!(bodies, ["Half never came.", "A refill is on its way."]);
    assert!(!hers.to_string().contains("Provider is slow"));

    // Both sides hear of it in the app.
    let n = app.notifier(smmd_notify::NotifySettings::default());
    for _ in 0..300 {
        smmd_notify::run(&n).await.expect("notify");
        if titles(&ann)
            .await
            .iter()
            .any(|t| t == "Support answered your ticket")
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(titles(&ann)
        .await
        .contains(&"Support answered your ticket".to_string()));
    assert!(titles(&ops)
        .await
        .contains(&"A support ticket waits for an answer".to_string()));

    // Ann closes; closing again is a conflict; her message opens it again.
    let (s, closed) = ann
        .post(&format!("/api/tickets/{id}/close"), json!({}))
        .await;
    assert_eq!((s, closed["status"].as_str()), (200, Some("closed")));
    let (s, e) = ann
        .post(&format!("/api/tickets/{id}/close"), json!({}))
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("ticket_state"))
    );
    let (s, again) = ann
        .post(
            &format!("/api/tickets/{id}/messages"),
            json!({"message": "Still 10 missing"}),
        )
        .await;
    assert_eq!((s, again["status"].as_str()), (200, Some("open")));
    let (s, _) = ops
        .post(&format!("/api/admin/tickets/{id}/close"), json!({}))
        .await;
    assert_eq!(s, 200);
    let (s, reopened) = ops
        .post(&format!("/api/admin/tickets/{id}/reopen"), json!({}))
        .await;
    assert_eq!((s, reopened["status"].as_str()), (200, Some("open")));

    // Canned replies: edit, list, delete.
    let cid = canned["id"].as_i64().expect("id");
    let (s, _) = ops
        .call(
            Method::PUT,
            &format!("/api/admin/canned-replies/{cid}"),
            Some(json!({"title": "Refill started", "body": "We started a refill."})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, list) = ops.get("/api/admin/canned-replies").await;
    assert_eq!(list[0]["title"], "Refill started");
    let (s, _) = ops
        .call(
            Method::DELETE,
            &format!("/api/admin/canned-replies/{cid}"),
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, _) = ops
        .call(
            Method::DELETE,
            &format!("/api/admin/canned-replies/{cid}"),
            None,
        )
        .await;
    assert_eq!(s, 404);

    // The pages: the owner's thread without the note, the admin's with it, 404 for Bob.
    let (cookie, _) = app.session("ann@x.io").await;
    let (s, html) = crate::pages::get(&app, &format!("/tickets/{id}"), &cookie).await;
    assert_eq!(s, 200);
    assert!(html.contains("A refill is on its way.") && !html.contains("Provider is slow"));
    let (s, list) = crate::pages::get(&app, "/tickets", &cookie).await;
    assert!(s == 200 && list.contains("Followers missing"));
    let (cookie, _) = app.session("bob@x.io").await;
    let (s, _) = crate::pages::get(&app, &format!("/tickets/{id}"), &cookie).await;
    assert_eq!(s, 404);
    let (s, _) = crate::pages::get(&app, "/tickets/not-a-number", &cookie).await;
    assert_eq!(s, 404);
    let (cookie, _) = app.session("ops@x.io").await;
    let (s, html) = crate::pages::get(&app, &format!("/admin/tickets/{id}"), &cookie).await;
    assert_eq!(s, 200);
    assert!(html.contains("Internal note") && html.contains("Provider is slow today"));
}
