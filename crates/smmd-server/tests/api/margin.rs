//! The margin guard over the interfaces (issue 20): an admin sets a service's and a category's
//! minimum margin over REST (bad values refused, nothing written), the provider triples a rate,
//! orders placed through `/api/v2` are held by dispatch instead of being sent at a loss, the
//! admin services page shows the queue with its two decisions, the refund decision pays each
//! customer back once, and the public "Updates" page shows a repriced service's new price
//! without ever showing the provider's cost.

use reqwest::Method;
use serde_json::json;
use smmd_domain::OrderId;
use smmd_store::Role;

use crate::admin_pages::page;
use crate::fulfil::fulfil;
use crate::helpers::TestApp;
use crate::smm::{account, m};

pub async fn the_margin_guard_holds_below_cost_and_the_owner_decides_over_rest(app: TestApp) {
    let (sim, provider) = app.sim_provider("sim", None).await;
    let mut f = fulfil(&app);
    f.settings.cost_max_age_ms = 0;
    smmd_fulfil::catalog::sync_provider(&f, &provider, false)
        .await
        .expect("import");
    let services = app
        .store
        .provider_services(provider.id)
        .await
        .expect("list");
    let by = |upstream: &str| {
        services
            .iter()
            .find(|s| s.provider_service_id.as_deref() == Some(upstream))
            .expect("imported")
            .clone()
    };
    let (followers, likes) = (by("1"), by("2"));
    let admin = account(&app, "owner@x.io", Role::Admin, "0").await;
    let buyer = account(&app, "buyer@x.io", Role::User, "100").await;

    // Settings: refused when out of range or for an unknown action, by anyone but an admin too.
    let path = |id: i64| format!("/api/admin/services/{id}/margin");
    for body in [
        json!({"min_margin_bp": -1, "action": "hold"}),
        json!({"min_margin_bp": 100_001, "action": "hold"}),
        json!({"min_margin_bp": 1000, "action": "drop"}),
    ] {
        let (status, e) = admin
            .call(Method::PUT, &path(followers.id.0), Some(body.clone()))
            .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (422, Some("invalid_margin")),
            "{body}"
        );
    }
    let (status, _) = buyer
        .call(
            Method::PUT,
            &path(followers.id.0),
            Some(json!({"min_margin_bp": 0, "action": "hold"})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, _) = admin
        .call(
            Method::PUT,
            &path(999_999),
            Some(json!({"min_margin_bp": 0, "action": "hold"})),
        )
        .await;
    assert_eq!(status, 404);
    let terms = app
        .store
        .margin_terms(&[followers.id])
        .await
        .expect("terms");
    assert_eq!(terms[&followers.id].min_margin_bp, None, "nothing written");
    let (status, _) = admin
        .call(
            Method::PUT,
            &path(followers.id.0),
            Some(json!({"min_margin_bp": 1000, "action": "hold"})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = admin
        .call(
            Method::PUT,
            &path(likes.id.0),
            Some(json!({"min_margin_bp": null, "action": "reprice"})),
        )
        .await;
    assert_eq!(status, 204);
    let (status, _) = admin
        .call(
            Method::PUT,
            &format!("/api/admin/categories/{}/margin", likes.category_id.0),
            Some(json!({"min_margin_bp": 2000})),
        )
        .await;
    assert_eq!(status, 204);
    let terms = app.store.margin_terms(&[likes.id]).await.expect("terms");
    assert_eq!(terms[&likes.id].category_margin_bp, Some(2000));

    // The provider triples both rates; three orders placed through /api/v2 are held.
    let mut cat: Vec<smmd_sim::ServiceSpec> =
        sim.sim.catalog().iter().map(|s| (**s).clone()).collect();
    cat[0].rate = "1.80".into();
    cat[1].rate = "0.60".into();
    sim.sim.set_catalog(cat).expect("catalog");
    let mut ids = Vec::new();
    for i in 0..3 {
        let v = app
            .v2(&format!(
                "key={}&action=add&service={}&link=https://instagram.com/p/m{i}&quantity=1000",
                buyer.key, followers.id.0
            ))
            .await;
        ids.push(v.json["order"].as_i64().expect("order id"));
    }
    let r = smmd_fulfil::dispatch::run(&f).await.expect("dispatch");
    assert_eq!(r.get("margin_held"), Some(&3), "{r:?}");
    assert_eq!(sim.sim.stats().orders_created, 0, "nothing sent at a loss");
    let (status, held) = admin.get("/api/admin/held").await;
    assert_eq!(status, 200);
    assert_eq!(held["items"][0]["service_id"], followers.id.0);
    assert_eq!(held["items"][0]["orders"], 3);
    assert_eq!(held["items"][0]["charged"], "2.70");

    // The services page shows the queue and its decision form.
    let (cookie, _) = app.session("owner@x.io").await;
    let (status, html, _) = page(&app, "/admin/services", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"held\""), "the held card");
    assert!(html.contains(&format!(
        "action=\"/api/admin/services/{}/held\"",
        followers.id.0
    )));
    assert!(html.contains(&format!(
        "action=\"/api/admin/services/{}/margin\"",
        likes.id.0
    )));

    // Decisions: a bad one is refused; the refund pays each customer once.
    let decide = format!("/api/admin/services/{}/held", followers.id.0);
    let (status, e) = admin
        .post(&decide, json!({"decision": "keep", "reason": "x"}))
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("invalid_hold_decision"))
    );
    let (status, e) = admin
        .post(&decide, json!({"decision": "refund", "reason": ""}))
        .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("reason_required"))
    );
    let (status, out) = admin
        .post(
            &decide,
            json!({"decision": "refund", "reason": "cost tripled"}),
        )
        .await;
    assert_eq!(status, 200, "{out}");
    assert_eq!(
        (out["orders"].as_i64(), out["refunded"].as_str()),
        (Some(3), Some("2.70"))
    );
    let (_, again) = admin
        .post(&decide, json!({"decision": "refund", "reason": "again"}))
        .await;
    assert_eq!(again["orders"], 0, "a second decision finds nothing");
    for id in &ids {
        let o = app.store.order(OrderId(*id)).await.expect("r").expect("o");
        assert_eq!((o.refunded, o.charge), (m("0.9"), m("0.9")));
        let v = app
            .v2(&format!("key={}&action=status&order={id}", buyer.key))
            .await;
        assert_eq!(v.json["status"], "Canceled");
    }
    let me = app.store.user(buyer.id).await.expect("r").expect("u");
    assert_eq!(me.balance, m("100"));
    app.assert_ledger_consistent().await;

    // The next services sync reprices likes (0.60 × 1.5 = 0.90); the feed shows it, not the cost.
    smmd_fulfil::catalog::sync_provider(&f, &provider, false)
        .await
        .expect("sync");
    let html = app
        .client
        .get(app.url("/updates"))
        .send()
        .await
        .expect("updates")
        .text()
        .await
        .expect("html");
    assert!(html.contains(&likes.name), "the repriced service is listed");
    assert!(
        html.contains("0.30 → <b>0.90</b>"),
        "its price change: {html}"
    );
    assert!(!html.contains("0.60 "), "never the provider's cost");
}
