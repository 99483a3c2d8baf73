//! Provider status pushes over HTTP (issue 20): `POST /hooks/providers/{id}` takes a status
//! signed like smmd's own webhooks only with the provider's secret and a timestamp within five
//! minutes; forged, replayed, malformed, repeated and late (reordered) pushes change nothing;
//! valid ones move the order exactly as the status sync would, a Partial with its exact
//! refund, once.

use reqwest::StatusCode;
use serde_json::{json, Value};
use smmd_domain::order::OrderStatus;
use smmd_domain::{Clock, Money, OrderId};
use smmd_notify::webhook::{sign, DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use smmd_store::Role;

use crate::fulfil::fulfil;
use crate::helpers::TestApp;
use crate::smm::account;

const SECRET: &str = "push-secret-0123456789abcdef";

/// Posts `body` to provider `provider`'s push endpoint, signed with `secret` at `ts` (Unix s).
async fn push(
    app: &TestApp,
    provider: i64,
    secret: &str,
    ts: i64,
    delivery: Option<&str>,
    body: &str,
) -> (StatusCode, Value) {
    let mut req = app
        .client
        .post(app.url(&format!("/hooks/providers/{provider}")))
        .header(TIMESTAMP_HEADER, ts.to_string())
        .header(SIGNATURE_HEADER, sign(secret, ts, body))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(d) = delivery {
        req = req.header(DELIVERY_HEADER, d);
    }
    let r = req.send().await.expect("push");
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// An smmd webhook body for upstream order `pid`.
fn body(pid: &str, status: &str, start_count: i64, remains: i64) -> String {
    json!({
        "id": format!("evt_{pid}_{status}"),
        "type": format!("order.{status}"),
        "order": {"id": pid.parse::<i64>().expect("numeric id"), "status": status,
                  "start_count": start_count, "remains": remains},
    })
    .to_string()
}

pub async fn provider_pushes_are_signed_fresh_idempotent_and_go_through_the_sync_path(
    app: TestApp,
) {
    let mut config = smmd_sim::SimConfig::default();
    for s in &mut config.services {
        s.partial_pct = 0;
        s.canceled_pct = 0;
        s.start_delay_s = 3_600;
    }
    let (_sim, provider) = app.sim_provider_with("upstream", None, config).await;
    let (_other_sim, other) = app
        .sim_provider_with("no-pushes", None, smmd_sim::SimConfig::default())
        .await;
    let admin = account(&app, "owner@x.io", Role::Admin, "0").await;
    let buyer = account(&app, "buyer@x.io", Role::User, "100").await;
    let f = fulfil(&app);
    smmd_fulfil::catalog::sync_provider(&f, &provider, false)
        .await
        .expect("import");
    let svc = app.imported_service(provider.id, "2").await;
    let mut ids = Vec::new();
    for n in 0..2 {
        let r = app
            .v2(&format!(
                "key={}&action=add&service={}&link=https://instagram.com/p/push{n}&quantity=1000",
                buyer.key, svc.id.0
            ))
            .await;
        ids.push(OrderId(r.json["order"].as_i64().expect("order")));
    }
    smmd_fulfil::dispatch::run(&f).await.expect("dispatch");
    let order = |id: OrderId| {
        let store = app.store.clone();
        async move { store.order(id).await.expect("read").expect("order") }
    };
    let a = order(ids[0]).await;
    let b = order(ids[1]).await;
    assert_eq!(a.status, OrderStatus::Processing);
    let (pa, pb) = (
        a.provider_order_id.clone().expect("sent"),
        b.provider_order_id.clone().expect("sent"),
    );

    // The secret: bad ones refused, nothing written.
    let path = format!("/api/admin/providers/{}/push-secret", provider.id.0);
    let (s, v) = admin
        .call(
            reqwest::Method::PUT,
            &path,
            Some(json!({"secret": "short"})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_push_secret"))
    );
    let (s, v) = admin
        .call(reqwest::Method::PUT, &path, Some(json!({"secret": SECRET})))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["enabled"], true);
    assert!(v["push_url"]
        .as_str()
        .is_some_and(|u| u.ends_with(&format!("/hooks/providers/{}", provider.id.0))));

    let now = app.clock.now_ms() / 1000;
    let id = provider.id.0;
    let progress = body(&pa, "in_progress", 500, 1000);
    // A provider without a secret has no endpoint.
    let (s, _) = push(&app, other.id.0, SECRET, now, Some("d0"), &progress).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Forged, replayed (six minutes old), unsigned delivery, malformed: refused.
    let (s, v) = push(
        &app,
        id,
        "not-the-secret-0123456789",
        now,
        Some("d1"),
        &progress,
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_signature"))
    );
    let (s, _) = push(&app, id, SECRET, now - 360, Some("d1"), &progress).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "outside the window");
    let (s, _) = push(&app, id, SECRET, now + 360, Some("d1"), &progress).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "from the future");
    let (s, v) = push(&app, id, SECRET, now, None, &progress).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("invalid_push"))
    );
    let (s, _) = push(
        &app,
        id,
        SECRET,
        now,
        Some("d1"),
        "{\"order\": {\"status\": 1}}",
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = push(&app, id, SECRET, now, Some("d1"), &"x".repeat(70_000)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        order(a.id).await.status,
        OrderStatus::Processing,
        "nothing changed"
    );

    // Valid pushes move the order as the sync would.
    let (s, v) = push(&app, id, SECRET, now, Some("d1"), &progress).await;
    assert_eq!(
        (s, v["result"].as_str()),
        (StatusCode::OK, Some("applied")),
        "{v}"
    );
    let a1 = order(a.id).await;
    assert_eq!(
        (a1.status, a1.start_count),
        (OrderStatus::InProgress, Some(500))
    );
    let done = body(&pa, "completed", 500, 0);
    let (_, v) = push(&app, id, SECRET, now, Some("d2"), &done).await;
    assert_eq!(v["result"], "applied");
    // Repeated and late: nothing more.
    let (_, v) = push(&app, id, SECRET, now, Some("d2"), &done).await;
    assert_eq!(v["result"], "duplicate");
    let (_, v) = push(&app, id, SECRET, now, Some("d1"), &progress).await;
    assert_eq!(v["result"], "duplicate");
    let (_, v) = push(&app, id, SECRET, now, Some("d3"), &progress).await;
    assert_eq!(
        v["result"], "unknown_order",
        "an ended order is past any push"
    );
    let a2 = order(a.id).await;
    assert_eq!(
        (a2.status, a2.refunded),
        (OrderStatus::Completed, Money::ZERO)
    );

    // A Partial pays its exact refund once, whatever is sent again.
    let before = app
        .store
        .user(buyer.id)
        .await
        .expect("r")
        .expect("u")
        .balance;
    let partial = body(&pb, "partial", 100, 250);
    let (_, v) = push(&app, id, SECRET, now, Some("p1"), &partial).await;
    assert_eq!(v["result"], "applied");
    let (_, v) = push(&app, id, SECRET, now, Some("p1"), &partial).await;
    assert_eq!(v["result"], "duplicate");
    let (_, v) = push(&app, id, SECRET, now, Some("p2"), &partial).await;
    assert_eq!(v["result"], "unknown_order");
    let b1 = order(b.id).await;
    let want = b.charge.prorate_down(250, 1000).expect("refund");
    assert_eq!((b1.status, b1.refunded), (OrderStatus::Partial, want));
    let after = app
        .store
        .user(buyer.id)
        .await
        .expect("r")
        .expect("u")
        .balance;
    assert_eq!(after.checked_sub(before), Some(want), "refunded once");
    assert!(app
        .store
        .ledger_mismatches()
        .await
        .expect("check")
        .is_empty());
    // The provider's push time is kept; turning pushes off closes the endpoint.
    let p = app
        .store
        .provider(provider.id)
        .await
        .expect("r")
        .expect("p");
    assert!(p.push_at.is_some());
    let (s, _) = admin
        .call(reqwest::Method::PUT, &path, Some(json!({"secret": null})))
        .await;
    assert_eq!(s, 200);
    let (s, _) = push(&app, id, SECRET, now, Some("p3"), &partial).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}
