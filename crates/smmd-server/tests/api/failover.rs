//! Offer failover over the interfaces (issue 20): the owner adds a fallback offer over REST
//! (bad input refused with `invalid_offer` or `not_found`, nothing written), orders for a
//! provider that is out of funds move to it with the reason code on the order (REST, the
//! orders page, CSV), and the Providers page and `/metrics` show who is failing over and who
//! took the orders.

use reqwest::Method;
use serde_json::json;
use smmd_store::Role;

use crate::admin_pages::page;
use crate::fulfil::fulfil;
use crate::helpers::TestApp;
use crate::smm::account;

fn quiet(balance: &str) -> smmd_sim::SimConfig {
    let mut c = smmd_sim::SimConfig {
        balance: balance.into(),
        ..Default::default()
    };
    for s in &mut c.services {
        s.partial_pct = 0;
        s.canceled_pct = 0;
    }
    c
}

pub async fn orders_fail_over_to_a_fallback_offer_set_over_rest(app: TestApp) {
    let (_main_sim, main) = app.sim_provider_with("main", None, quiet("0")).await;
    let (backup_sim, backup) = app.sim_provider_with("backup", None, quiet("1000")).await;
    let admin = account(&app, "owner@x.io", Role::Admin, "0").await;
    let buyer = account(&app, "buyer@x.io", Role::User, "100").await;
    let f = fulfil(&app);
    smmd_fulfil::catalog::sync_provider(&f, &main, false)
        .await
        .expect("import");
    let svc = app.imported_service(main.id, "2").await;
    let offers = format!("/api/admin/services/{}/offers", svc.id.0);

    // Bad input: clear errors, nothing written.
    for (body, status, code) in [
        (
            json!({"provider_id": backup.id.0, "provider_service_id": "  "}),
            422,
            "invalid_offer",
        ),
        (
            json!({"provider_id": backup.id.0, "provider_service_id": "x".repeat(101)}),
            422,
            "invalid_offer",
        ),
        (
            json!({"provider_id": main.id.0, "provider_service_id": "2"}),
            422,
            "invalid_offer",
        ),
        (
            json!({"provider_id": 999_999, "provider_service_id": "2"}),
            404,
            "not_found",
        ),
    ] {
        let (s, v) = admin.post(&offers, body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{body} {v}"
        );
    }
    let (s, v) = admin
        .post(
            "/api/admin/services/999999/offers",
            json!({"provider_id": backup.id.0, "provider_service_id": "2"}),
        )
        .await;
    assert_eq!((s, v["error"]["code"].as_str()), (404, Some("not_found")));
    let (_, v) = admin.get(&offers).await;
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1), "{v}");

    // The fallback: backup's service 2.
    let (s, v) = admin
        .post(
            &offers,
            json!({"provider_id": backup.id.0, "provider_service_id": " 2 "}),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"][1]["provider_name"], "backup");
    assert_eq!(v["items"][1]["provider_service_id"], "2");
    assert_eq!(v["items"][1]["index"], 1);
    let (s, v) = admin
        .call(Method::DELETE, &format!("{offers}/0"), None)
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_offer")),
        "{v}"
    );

    // Main is out of funds: the first refusal moves the order, the rest move before any call.
    for n in 0..3 {
        let r = app
            .v2(&format!(
                "key={}&action=add&service={}&link=https://instagram.com/p/fo{n}&quantity=1000",
                buyer.key, svc.id.0
            ))
            .await;
        assert!(r.json["order"].is_number(), "{}", r.json);
    }
    for _ in 0..4 {
        smmd_fulfil::dispatch::run(&f).await.expect("dispatch");
    }
    assert_eq!(backup_sim.sim.stats().orders_created, 3);
    let (_, v) = admin.get("/api/admin/orders?limit=10").await;
    let items = v["items"].as_array().expect("items");
    assert_eq!(items.len(), 3);
    for o in items {
        assert_eq!(o["provider_id"], backup.id.0, "{o}");
        assert_eq!(o["route_reason"], "out_of_funds", "{o}");
        assert_eq!(o["offer_index"], 1, "{o}");
    }

    let text = app.metrics().await;
    let line = |metric: &str, labels: &[&str]| {
        text.lines()
            .filter(|l| l.starts_with(&format!("{metric}{{")))
            .find(|l| labels.iter().all(|w| l.contains(w)))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
    };
    let main_id = format!("provider=\"{}\"", main.id.0);
    let backup_id = format!("provider=\"{}\"", backup.id.0);
    assert_eq!(
        line(
            "smmd_provider_failing",
            &[&main_id, "reason=\"out_of_funds\""]
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        line(
            "smmd_provider_failing",
            &[&backup_id, "reason=\"out_of_funds\""]
        ),
        Some(0.0)
    );
    assert_eq!(
        line("smmd_provider_taken_over_24h", &[&backup_id]),
        Some(3.0)
    );

    let (cookie, _) = app.session("owner@x.io").await;
    let (status, html, _) = page(&app, "/admin/providers", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Orders move away: out of funds"),
        "route state"
    );
    assert!(
        html.contains("3 taken over from other offers"),
        "taken over"
    );
    let (_, html, _) = page(&app, "/admin/orders", Some(&cookie)).await;
    assert!(html.contains("data-reason=\"out_of_funds\""), "order badge");
    assert!(html.contains("Rerouted: out of funds"));
    let (_, html, _) = page(&app, "/admin/services", Some(&cookie)).await;
    assert!(html.contains(&format!("id=\"offers-{}\"", svc.id.0)));
    assert!(
        html.contains(&format!("/api/admin/services/{}/offers/1", svc.id.0)),
        "remove button"
    );

    // Audited, and removable.
    let (_, v) = admin.get("/api/admin/audit?limit=50").await;
    assert!(v.to_string().contains("service.offer_add"), "{v}");
    let (s, v) = admin
        .call(Method::DELETE, &format!("{offers}/1"), None)
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["items"].as_array().map(Vec::len), Some(1));
    let (s, _) = admin
        .call(Method::DELETE, &format!("{offers}/1"), None)
        .await;
    assert_eq!(s, 404);
}
