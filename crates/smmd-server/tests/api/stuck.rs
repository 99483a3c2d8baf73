//! The stuck-order ladder over the interfaces (issue 20): an admin sets a service's and a
//! category's "stuck after" over REST (bad values refused, nothing written), an order placed
//! through `/api/v2` gets stuck upstream, the status sync takes the ladder's first step, and the
//! admin's queue (REST and `/admin/stuck`) shows it with the provider's answer while the
//! customer's timeline shows the step without it.

use reqwest::Method;
use serde_json::json;
use smmd_domain::stuck::StuckOverride;
use smmd_store::Role;

use crate::admin_pages::page;
use crate::fulfil::fulfil;
use crate::helpers::TestApp;
use crate::smm::account;

pub async fn the_stuck_ladder_is_set_and_watched_over_rest_and_pages(app: TestApp) {
    let (sim, provider) = app.sim_provider("sim", None).await;
    let f = fulfil(&app);
    smmd_fulfil::catalog::sync_provider(&f, &provider, false)
        .await
        .expect("import");
    let services = app
        .store
        .provider_services(provider.id)
        .await
        .expect("list");
    let followers = services
        .iter()
        .find(|s| s.provider_service_id.as_deref() == Some("1"))
        .expect("imported")
        .clone();
    let category = app
        .store
        .list_categories()
        .await
        .expect("categories")
        .into_iter()
        .find(|c| c.name == followers.category)
        .expect("category");
    let admin = account(&app, "owner@x.io", Role::Admin, "0").await;
    let buyer = account(&app, "buyer@x.io", Role::User, "100").await;

    // Settings: out of range refused with nothing written; only admins; unknown ids are 404s.
    let path = format!("/api/admin/services/{}/stuck", followers.id.0);
    for body in [
        json!({"after_pct": 99, "floor_minutes": null}),
        json!({"after_pct": 10_001, "floor_minutes": null}),
        json!({"after_pct": null, "floor_minutes": 0}),
        json!({"after_pct": null, "floor_minutes": 129_601}),
    ] {
        let (status, e) = admin.call(Method::PUT, &path, Some(body.clone())).await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (422, Some("invalid_stuck_rule")),
            "{body}"
        );
    }
    let none = StuckOverride::default();
    assert_eq!(
        app.store.stuck_rules(&[followers.id]).await.expect("rules")[&followers.id],
        (none, none),
        "nothing written"
    );
    let ok = json!({"after_pct": 400, "floor_minutes": 2});
    let (status, _) = buyer.call(Method::PUT, &path, Some(ok.clone())).await;
    assert_eq!(status, 403);
    let (status, _) = admin
        .call(
            Method::PUT,
            "/api/admin/services/999999/stuck",
            Some(ok.clone()),
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = admin.call(Method::PUT, &path, Some(ok)).await;
    assert_eq!(status, 204);
    let (status, _) = admin
        .call(
            Method::PUT,
            &format!("/api/admin/categories/{}/stuck", category.id.0),
            Some(json!({"after_pct": 500, "floor_minutes": 60})),
        )
        .await;
    assert_eq!(status, 204);
    let (own, cat) = app.store.stuck_rules(&[followers.id]).await.expect("rules")[&followers.id];
    assert_eq!((own.after_pct, own.floor_minutes), (Some(400), Some(2)));
    assert_eq!((cat.after_pct, cat.floor_minutes), (Some(500), Some(60)));

    // Every followers order now gets stuck upstream; one placed through /api/v2 is sent.
    let mut catalog: Vec<smmd_sim::ServiceSpec> =
        sim.sim.catalog().iter().map(|s| (**s).clone()).collect();
    catalog[0].stuck_pct = 100;
    catalog[0].partial_pct = 0;
    catalog[0].canceled_pct = 0;
    sim.sim.set_catalog(catalog).expect("catalog");
    let v = app
        .v2(&format!(
            "key={}&action=add&service={}&link=https://instagram.com/p/stuck&quantity=1000",
            buyer.key, followers.id.0
        ))
        .await;
    let id = v.json["order"].as_i64().expect("order id");
    smmd_fulfil::dispatch::run(&f).await.expect("dispatch");
    let (_, queue) = admin.get("/api/admin/stuck").await;
    assert_eq!(queue["items"], json!([]), "nothing stuck yet");

    // Past the service's 2-minute floor the sync takes the first step, once.
    app.clock.advance_ms(2 * 60_000);
    let r = smmd_fulfil::sync::run(&f).await.expect("sync");
    assert_eq!(r.get("stuck_refresh"), Some(&1), "{r:?}");
    let r = smmd_fulfil::sync::run(&f).await.expect("sync");
    assert_eq!(r.get("stuck_refresh"), None, "{r:?}");
    let (status, queue) = admin.get("/api/admin/stuck").await;
    assert_eq!(status, 200);
    assert_eq!(queue["items"][0]["order"]["id"], id);
    assert_eq!(queue["items"][0]["steps"][0]["step"], "refresh");
    let detail = queue["items"][0]["steps"][0]["detail"]
        .as_str()
        .expect("detail");
    assert!(detail.starts_with("Status asked again"), "{detail}");
    assert_eq!(queue["per_provider"][0]["name"], "sim");
    assert_eq!(queue["per_provider"][0]["orders"], 1);
    let (status, _) = buyer.get("/api/admin/stuck").await;
    assert_eq!(status, 403);

    // The admin page lists it with its ladder; the customer sees the step, not the answer.
    let (cookie, _) = app.session("owner@x.io").await;
    let (status, html, _) = page(&app, "/admin/stuck", Some(&cookie)).await;
    assert_eq!(status, 200);
    let o = app
        .store
        .order(smmd_domain::OrderId(id))
        .await
        .expect("r")
        .expect("o");
    assert!(html.contains(&format!("data-order=\"{}\"", o.reference)));
    assert!(html.contains("data-step=\"refresh\""));
    assert!(html.contains("Status asked again"));
    let (status, mine) = buyer.get(&format!("/api/smm/orders/{}", o.reference)).await;
    assert_eq!(status, 200, "{mine}");
    let steps: Vec<&serde_json::Value> = mine["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["event"] == "stuck_refresh")
        .collect();
    assert_eq!(steps.len(), 1, "{mine}");
    assert_eq!(
        steps[0]["detail"], "",
        "the provider's answer stays with the admins"
    );
}
