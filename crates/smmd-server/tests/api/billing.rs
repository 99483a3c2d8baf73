//! Hourly billing over REST (issue 16, "Surfaces"): an admin sets billing up (settings, a plan),
//! a customer sees the plan with its preview, rents it, watches hours billed and their runway,
//! and cancels; the admin sees the status, suspends, credits and terminates. Customers never
//! reach the admin routes or another customer's rental; bad input writes nothing.

use serde_json::json;
use smmd_domain::billing::HOUR_MS;
use smmd_domain::Clock;
use smmd_store::Role;

use crate::helpers::TestApp;
use crate::smm::{account, Api};

pub async fn customers_rent_plans_and_admins_run_billing_over_rest(app: TestApp) {
    let admin = account(&app, "ops@x.io", Role::Admin, "0").await;
    let ann = account(&app, "ann@x.io", Role::User, "5").await;
    let bob = account(&app, "bob@x.io", Role::User, "0").await;

    // Customers cannot reach the admin routes.
    for path in [
        "/api/admin/billing/status",
        "/api/admin/billing/settings",
        "/api/admin/billing/plans",
        "/api/admin/billing/rentals",
    ] {
        assert_eq!(ann.get(path).await.0, 403, "{path}");
    }
    // A new panel: billing is off, nothing to rent.
    let (s, o) = ann.get("/api/billing").await;
    assert_eq!(s, 200);
    assert_eq!(
        (o["enabled"].as_bool(), o["plans"].as_array().map(Vec::len)),
        (Some(false), Some(0))
    );

    // Bad plans are refused and write nothing.
    for (body, code) in [
        (
            json!({"code": "pro", "name": "Pro", "price": "0", "entitlement": "reseller_tier"}),
            "invalid_plan",
        ),
        (
            json!({"code": "pro", "name": "Pro", "price": "73", "cap_mode": "weekly", "entitlement": "reseller_tier"}),
            "invalid_plan",
        ),
        (
            json!({"code": "pro", "name": "Pro", "price": "73", "entitlement": "reseller_tier", "settings": {"discount_bp": 99999}}),
            "invalid_plan",
        ),
        (
            json!({"code": "pro", "name": "Pro", "price": "73", "entitlement": "reseller_tier", "extra": 1}),
            "invalid_body",
        ),
    ] {
        let (s, e) = admin.post("/api/admin/billing/plans", body.clone()).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (422, Some(code)),
            "{body}"
        );
    }
    let (s, plan) = admin
        .post(
            "/api/admin/billing/plans",
            json!({"code": "pro", "name": "Reseller Pro", "price": "73", "entitlement": "reseller_tier",
                   "settings": {"discount_bp": 1000}}),
        )
        .await;
    assert_eq!(s, 201, "{plan}");
    assert_eq!(plan["preview"]["first_hour"], "0.10");
    assert_eq!(
        plan["preview"]["summary"],
        "billed hourly, 0.10/h, never more than 73.00 per calendar month"
    );
    let plan_id = plan["id"].as_i64().expect("id");

    // Renting needs billing enabled.
    let (s, e) = ann
        .post("/api/billing/rentals", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("billing_disabled"))
    );
    let (s, e) = admin
        .call(
            reqwest::Method::PATCH,
            "/api/admin/billing/settings",
            Some(json!({"hours_per_month": 5})),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_billing_settings"))
    );
    let (s, set) = admin
        .call(
            reqwest::Method::PATCH,
            "/api/admin/billing/settings",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!((s, set["enabled"].as_bool()), (200, Some(true)));

    // Bob cannot pay; Ann rents and pays the first hour.
    let (s, e) = bob
        .post("/api/billing/rentals", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("insufficient_funds"))
    );
    let (s, rental) = ann
        .post("/api/billing/rentals", json!({"plan_id": plan_id}))
        .await;
    assert_eq!(s, 201, "{rental}");
    assert_eq!(
        (rental["state"].as_str(), rental["month_cost"].as_str()),
        (Some("active"), Some("0.10"))
    );
    let id = rental["id"].as_i64().expect("id");

    // Ten hours pass; the job bills them.
    app.clock.advance_ms(10 * HOUR_MS);
    smmd_jobs::billing::run(app.store.as_ref(), app.clock.now_ms())
        .await
        .expect("run");
    let (_, o) = ann.get("/api/billing").await;
    assert_eq!(o["balance"], "3.90");
    assert_eq!(o["hourly"], "0.10");
    assert_eq!(o["runway_hours"], 39);
    assert_eq!(o["rentals"][0]["month_cost"], "1.10");
    let (s, hours) = ann.get(&format!("/api/billing/rentals/{id}/hours")).await;
    assert_eq!((s, hours.as_array().map(Vec::len)), (200, Some(11)));
    assert_eq!(
        bob.get(&format!("/api/billing/rentals/{id}/hours")).await.0,
        404
    );
    assert_eq!(
        bob.post(&format!("/api/billing/rentals/{id}/cancel"), json!({}))
            .await
            .0,
        404
    );

    // The admin's view: status, the rental's timeline, a credit, a suspension.
    let (s, status) = admin.get("/api/admin/billing/status").await;
    assert_eq!(s, 200);
    assert_eq!(status["rentals_by_state"]["active"], 1);
    assert_eq!(
        (status["lag_hours"].as_i64(), status["lagging"].as_bool()),
        (Some(0), Some(false))
    );
    // Prometheus shows the same figures (the lag by the database clock, so not asserted).
    let text = app.metrics().await;
    for line in [
        "smmd_billing_enabled 1",
        "smmd_billing_paused 0",
        "smmd_billing_rentals{state=\"active\"} 1",
        "smmd_billing_hours_due 0",
        "smmd_billing_hours_total{status=\"paid\"}",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }
    assert!(text.contains("smmd_billing_lag_hours "), "{text}");
    let first_hour = hours[0]["hour"].as_i64().expect("hour");
    let (s, c) = admin
        .post(
            &format!("/api/admin/billing/rentals/{id}/credit"),
            json!({"hours": [first_hour], "reason": "goodwill"}),
        )
        .await;
    assert_eq!((s, c["credited"].as_str()), (200, Some("0.10")));
    let (s, e) = admin
        .post(
            &format!("/api/admin/billing/rentals/{id}/credit"),
            json!({"hours": [first_hour + 100 * HOUR_MS], "reason": "goodwill"}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("hour_not_billed"))
    );
    let (s, r) = admin
        .post(
            &format!("/api/admin/billing/rentals/{id}/suspend"),
            json!({"reason": "abuse"}),
        )
        .await;
    assert_eq!(
        (s, r["state"].as_str(), r["suspend_reason"].as_str()),
        (200, Some("suspended"), Some("admin"))
    );
    let (s, detail) = admin.get(&format!("/api/admin/billing/rentals/{id}")).await;
    assert_eq!(s, 200);
    let events: Vec<&str> = detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(events, ["activated", "credited", "suspended"]);
    let (s, list) = admin
        .get("/api/admin/billing/rentals?state=suspended")
        .await;
    assert_eq!((s, list.as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(
        admin.get("/api/admin/billing/rentals?state=bogus").await.0,
        422
    );

    // Ann cancels; nothing changes a canceled rental.
    let (s, r) = ann
        .post(&format!("/api/billing/rentals/{id}/cancel"), json!({}))
        .await;
    assert_eq!((s, r["state"].as_str()), (200, Some("canceled")));
    let (s, e) = admin
        .post(
            &format!("/api/admin/billing/rentals/{id}/terminate"),
            json!({"reason": "end"}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("invalid_rental_action"))
    );
    assert_eq!(
        admin
            .post(
                "/api/admin/billing/rentals/999999/suspend",
                json!({"reason": "x"})
            )
            .await
            .0,
        404
    );
    // Every change above is in the audit log.
    let audit = app.store.audit_log(None, 100).await.expect("audit");
    for action in [
        "plan.create",
        "billing.settings",
        "rental.credit",
        "rental.suspend",
    ] {
        assert!(audit.iter().any(|a| a.action == action), "{action} audited");
    }
    assert!(app
        .store
        .ledger_mismatches()
        .await
        .expect("check")
        .is_empty());
}

/// The Billing pages: the customer sees the plans with their one-sentence terms, rents one
/// with a form (CSRF-checked), sees its cost, burn and runway, and cancels it; the admin page
/// shows the status, the plan and the rental with its actions; customers get 404 there.
pub async fn customers_rent_from_the_billing_page_and_admins_see_it(app: TestApp) {
    use crate::pages::{csrf_of, get};
    use reqwest::header::COOKIE;
    let admin = account(&app, "ops@x.io", Role::Admin, "0").await;
    account(&app, "ann@x.io", Role::User, "2").await;
    let (cookie, _) = app.session("ann@x.io").await;
    let (admin_cookie, _) = app.session("ops@x.io").await;

    let (s, page) = get(&app, "/billing", &cookie).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Renting is not open on this panel yet"),
        "{page}"
    );
    let (s, page) = get(&app, "/admin/billing", &admin_cookie).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("Turn hourly billing on"),
        "the switch is offered"
    );
    assert_eq!(get(&app, "/admin/billing", &cookie).await.0, 404);

    admin
        .post(
            "/api/admin/billing/plans",
            json!({"code": "pro", "name": "Reseller Pro", "price": "73", "setup_fee": "0.50",
                   "entitlement": "reseller_tier"}),
        )
        .await;
    admin
        .call(
            reqwest::Method::PATCH,
            "/api/admin/billing/settings",
            Some(json!({"enabled": true})),
        )
        .await;
    let (_, page) = get(&app, "/billing", &cookie).await;
    assert!(
        page.contains("never more than 73.00 USD per calendar month") && page.contains("0.60 USD"),
        "terms and what it takes to start: {page}"
    );
    let plan_id = app.store.plans(false).await.expect("plans")[0]
        .id
        .to_string();
    let rent = |csrf: String| {
        app.client
            .post(app.url("/billing/rent"))
            .header(COOKIE, &cookie)
            .form(&[("csrf_token", csrf), ("plan_id", plan_id.clone())])
            .send()
    };
    assert_eq!(
        rent("0".repeat(32)).await.expect("s").status(),
        403,
        "CSRF checked"
    );
    let done = rent(csrf_of(&page)).await.expect("s");
    assert_eq!(done.status(), 303);
    let (_, page) = get(&app, "/billing", &cookie).await;
    assert!(
        page.contains("Rental #") || page.contains("Reseller Pro"),
        "{page}"
    );
    assert!(
        page.contains("0.10") && page.contains("14 h"),
        "hourly and runway: {page}"
    );
    let (_, admin_page) = get(&app, "/admin/billing", &admin_cookie).await;
    assert!(
        admin_page.contains("Reseller Pro")
            && admin_page.contains("Suspend")
            && admin_page.contains("Turn billing off"),
        "{admin_page}"
    );
    let rental = app.store.rentals(None, None, 10).await.expect("r")[0].id;
    let cancel = app
        .client
        .post(app.url(&format!("/billing/{rental}/cancel")))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", csrf_of(&page))])
        .send()
        .await
        .expect("s");
    assert_eq!(cancel.status(), 303);
    let (_, page) = get(&app, "/billing", &cookie).await;
    assert!(
        page.contains("Ended rentals") && page.contains("Canceled"),
        "{page}"
    );
}

/// Billing on with the one plan `plan` (REST body), and `renter` renting it.
async fn rented(admin: &Api<'_>, renter: &Api<'_>, plan: serde_json::Value) {
    let (s, p) = admin.post("/api/admin/billing/plans", plan).await;
    assert_eq!(s, 201, "{p}");
    let (s, _) = admin
        .call(
            reqwest::Method::PATCH,
            "/api/admin/billing/settings",
            Some(json!({"enabled": true})),
        )
        .await;
    assert_eq!(s, 200);
    let (s, r) = renter
        .post("/api/billing/rentals", json!({"plan_id": p["id"]}))
        .await;
    assert_eq!(s, 201, "{r}");
}

/// Statements over REST and pages: after a month of rent the billing job drafts the month
/// and, two days later, makes it final with its number; the customer reads it (JSON, CSV, the
/// printable page, the list on /billing), another customer cannot; the admin lists and voids
/// it with a reason, and a draft replaces it.
pub async fn customers_read_statements_and_admins_void_them(app: TestApp) {
    use crate::pages::get;
    let admin = account(&app, "ops@x.io", Role::Admin, "0").await;
    let ann = account(&app, "ann@x.io", Role::User, "100").await;
    let bob = account(&app, "bob@x.io", Role::User, "0").await;
    rented(
        &admin,
        &ann,
        json!({"code": "pro", "name": "Reseller Pro", "price": "73", "entitlement": "reseller_tier"}),
    )
    .await;
    // February 1st: January is billed and drafted; February 3rd: final.
    let feb = smmd_domain::billing::charge::Month::of(app.clock.now_ms()).end_ms();
    for at in [feb + 1, feb + 2 * 24 * HOUR_MS] {
        app.clock.set_ms(at);
        let (report, failed) = smmd_jobs::billing::run(app.store.as_ref(), at)
            .await
            .expect("run");
        assert_eq!(failed, 0);
        assert_eq!(
            (report.statements_drafted, report.statements_finalized),
            if at == feb + 1 { (1, 0) } else { (0, 1) }
        );
    }
    let (s, list) = ann.get("/api/billing/statements").await;
    assert_eq!(s, 200);
    let st = &list[0];
    let id = st["id"].as_i64().expect("id");
    assert_eq!(
        (
            st["status"].as_str(),
            st["number"].as_str(),
            st["month_label"].as_str()
        ),
        (Some("final"), Some("ST-2026-000001"), Some("2026-01"))
    );
    assert_eq!(st["charged"], "73.00");
    assert_eq!(st["lines"][0]["free_hours"], 14);
    let (s, one) = ann.get(&format!("/api/billing/statements/{id}")).await;
    assert_eq!((s, &one["number"]), (200, &st["number"]));
    // Another customer: as if it did not exist.
    assert_eq!(
        bob.get(&format!("/api/billing/statements/{id}")).await.0,
        404
    );
    assert_eq!(bob.get("/api/billing/statements").await.1, json!([]));
    let csv = app
        .client
        .get(app.url(&format!("/api/billing/statements/{id}/csv")))
        .bearer_auth(&ann.key)
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    assert!(csv.headers()["content-type"]
        .to_str()
        .expect("type")
        .starts_with("text/csv"));
    let text = csv.text().await.expect("text");
    assert!(
        text.starts_with("statement,month,rental,plan,hours billed"),
        "{text}"
    );
    assert!(
        text.contains("ST-2026-000001,2026-01,total,,,,,73.00,0.00,,0.00,,USD"),
        "{text}"
    );
    // The pages.
    let (cookie, _) = app.session("ann@x.io").await;
    let (s, page) = get(&app, &format!("/billing/statements/{id}"), &cookie).await;
    assert_eq!(s, 200);
    assert!(
        page.contains("ST-2026-000001") && page.contains("Reseller Pro"),
        "{page}"
    );
    let (_, billing) = get(&app, "/billing", &cookie).await;
    assert!(billing.contains(&format!("/billing/statements/{id}")));
    let (bob_cookie, _) = app.session("bob@x.io").await;
    assert_eq!(
        get(&app, &format!("/billing/statements/{id}"), &bob_cookie)
            .await
            .0,
        404
    );
    let (admin_cookie, _) = app.session("ops@x.io").await;
    let (_, admin_page) = get(&app, "/admin/billing", &admin_cookie).await;
    assert!(
        admin_page.contains("ST-2026-000001")
            && admin_page.contains(&format!("/api/admin/billing/statements/{id}/void")),
        "{admin_page}"
    );
    // An admin opens any statement's page.
    assert_eq!(
        get(&app, &format!("/billing/statements/{id}"), &admin_cookie)
            .await
            .0,
        200
    );
    // The admin: list, a void needs a reason, a void re-issues a draft, a draft is not voided.
    let (s, all) = admin
        .get(&format!(
            "/api/admin/billing/statements?user_id={}",
            ann.id.0
        ))
        .await;
    assert_eq!((s, all.as_array().map(Vec::len)), (200, Some(1)));
    let admin_csv = app
        .client
        .get(app.url(&format!("/api/admin/billing/statements/{id}/csv")))
        .bearer_auth(&admin.key)
        .send()
        .await
        .expect("csv");
    assert_eq!(admin_csv.status(), 200);
    assert_eq!(admin_csv.text().await.expect("text"), text, "the same CSV");
    let (s, e) = admin
        .post(
            &format!("/api/admin/billing/statements/{id}/void"),
            json!({"reason": " "}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("reason_required"))
    );
    let (s, redo) = admin
        .post(
            &format!("/api/admin/billing/statements/{id}/void"),
            json!({"reason": "plan renamed"}),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (redo["status"].as_str(), redo["replaces_id"].as_i64()),
        (Some("draft"), Some(id))
    );
    let (s, e) = admin
        .post(
            &format!("/api/admin/billing/statements/{}/void", redo["id"]),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("statement_not_final"))
    );
    assert_eq!(ann.get("/api/admin/billing/statements").await.0, 403);
    let audit = app.store.audit_log(None, 100).await.expect("audit");
    assert!(audit.iter().any(|a| a.action == "statement.void"));
}

/// `reseller_tier` on every interface: while Ann rents a plan with 20 % off, `/api/v2`
/// `services` and `add`, and REST `/api/smm/services`, give her the discounted rate; Bob sees
/// and pays the list price (from the shared cache).
pub async fn a_reseller_tier_prices_api_v2_and_rest(app: TestApp) {
    let admin = account(&app, "ops@x.io", Role::Admin, "0").await;
    let ann = account(&app, "ann@x.io", Role::User, "50").await;
    let bob = account(&app, "bob@x.io", Role::User, "50").await;
    let ids = crate::smm::catalog(&app).await;
    rented(
        &admin,
        &ann,
        json!({"code": "tier", "name": "Tier", "price": "73", "entitlement": "reseller_tier",
               "settings": {"discount_bp": 2000}}),
    )
    .await;
    let rate_of = |v: &serde_json::Value| {
        v.as_array()
            .expect("list")
            .iter()
            .find(|s| s["service"] == ids[0])
            .map(|s| s["rate"].as_str().expect("rate").to_string())
    };
    let ann_v2 = app.v2(&format!("key={}&action=services", ann.key)).await;
    let bob_v2 = app.v2(&format!("key={}&action=services", bob.key)).await;
    assert_eq!(rate_of(&ann_v2.json).as_deref(), Some("0.80"));
    assert_eq!(rate_of(&bob_v2.json).as_deref(), Some("1.00"));
    let (_, page) = ann.get("/api/smm/services?per_page=100").await;
    let rest_rate = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|s| s["id"] == ids[0])
        .map(|s| s["rate"].clone());
    assert_eq!(rest_rate, Some(json!("0.80")));
    let (_, one) = bob.get(&format!("/api/smm/services/{}", ids[0])).await;
    assert_eq!(one["rate"], "1.00");
    // The order page prices the chosen service (and its live total) at her rate.
    let (cookie, _) = app.session("ann@x.io").await;
    let (s, form) =
        crate::pages::get(&app, &format!("/orders/new?service={}", ids[0]), &cookie).await;
    assert_eq!(s, 200);
    assert!(form.contains("0.80") && !form.contains(">1.00<"), "{form}");
    // The services page too (a visitor sees the list price).
    let (_, services) = crate::pages::get(&app, "/services", &cookie).await;
    let row = |html: &str| {
        let at = html
            .find(&format!("id=\"s-{}\"", ids[0]))
            .expect("the service's row");
        html[at..]
            .split("</tr>")
            .next()
            .unwrap_or_default()
            .to_string()
    };
    assert!(row(&services).contains("<b>0.80</b>"), "{}", row(&services));
    let (_, public) = crate::pages::get(&app, "/services", "").await;
    assert!(row(&public).contains("<b>1.00</b>"), "{}", row(&public));
    // add: 1000 at 0.80, charged as listed.
    for (who, want) in [(&ann, "0.80"), (&bob, "1.00")] {
        let placed = app
            .v2(&format!(
                "key={}&action=add&service={}&link=https%3A%2F%2Finstagram.com%2Fp%2F{}&quantity=1000",
                who.key, ids[0], who.id.0
            ))
            .await;
        let order = placed.json["order"].as_i64().expect("order");
        let o = app
            .store
            .order(smmd_domain::OrderId(order))
            .await
            .expect("r")
            .expect("o");
        assert_eq!(o.charge.to_string(), want);
    }
}

/// One raw `/api/v2` POST: status, the rate-limit headers and the JSON body.
async fn v2_raw(app: &TestApp, form: &str) -> (u16, [Option<String>; 3], serde_json::Value) {
    let resp = app
        .client
        .post(app.url("/api/v2"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form.to_string())
        .send()
        .await
        .expect("send");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let heads = [
        header("x-ratelimit-limit"),
        header("x-ratelimit-remaining"),
        header("retry-after"),
    ];
    let status = resp.status().as_u16();
    (status, heads, resp.json().await.expect("json"))
}

/// Per-key limits of `/api/v2`, with 5 a minute: a key's sixth request inside the minute is
/// HTTP 429 `Too many requests` with `Retry-After: 12` and writes nothing (an `add`); another
/// key keeps its own minute; smmd's own provider client takes the 429 as "not done, try
/// later"; the panel clock gives one request back every 12 s; renting a `reseller_tier` with
/// 20 a minute raises the limit within 10 s, and the API page shows it.
pub async fn api_v2_limits_each_key_and_a_reseller_tier_raises_it(app: TestApp) {
    let Some(app) =
        crate::helpers::spawn_app_with(app.backend(), |c| c.server.api_rate_per_minute = 5).await
    else {
        return;
    };
    let admin = account(&app, "ops@x.io", Role::Admin, "0").await;
    let ann = account(&app, "ann@x.io", Role::User, "50").await;
    let bob = account(&app, "bob@x.io", Role::User, "50").await;
    let ids = crate::smm::catalog(&app).await;
    let some = |s: &str| Some(s.to_string());
    for left in ["4", "3", "2", "1", "0"] {
        let (s, heads, body) = v2_raw(&app, &format!("key={}&action=balance", ann.key)).await;
        assert_eq!((s, body["balance"].as_str()), (200, Some("50.00")));
        assert_eq!(heads, [some("5"), some(left), None]);
    }
    let add = format!(
        "key={}&action=add&service={}&link=https%3A%2F%2Finstagram.com%2Fp%2Fann&quantity=1000",
        ann.key, ids[0]
    );
    let (s, heads, body) = v2_raw(&app, &add).await;
    assert_eq!((s, body), (429, json!({"error": "Too many requests"})));
    assert_eq!(heads, [some("5"), some("0"), some("12")]);
    let (_, orders) = ann.get("/api/smm/orders").await;
    assert_eq!(orders["items"], json!([]), "a refused add writes nothing");
    let u = app.store.user(ann.id).await.expect("r").expect("u");
    assert_eq!(u.balance.to_string(), "50.00");
    // A bad key is answered as before; a key that made no request has its whole minute.
    assert_eq!(v2_raw(&app, "key=nope&action=balance").await.0, 200);
    let (s, heads, _) = v2_raw(&app, &format!("key={}&action=balance", bob.key)).await;
    assert_eq!((s, heads), (200, [some("5"), some("4"), None]));
    // A second smmd buying with this key sees a failure it may retry, not an unknown outcome.
    let client = smmd_provider::ProviderClient::new(smmd_provider::ProviderConfig::new(
        app.url("/api/v2"),
        ann.key.clone(),
    ))
    .expect("client");
    let refused = client
        .add(&[
            ("service", ids[0].to_string()),
            ("link", "https://instagram.com/p/ann".into()),
            ("quantity", "1000".into()),
        ])
        .await;
    assert!(
        matches!(refused, Err(smmd_provider::ProviderError::Transient(ref m)) if m.contains("429")),
        "{refused:?}"
    );
    // 11.999 s later nothing is back; at 12 s one request is.
    app.clock.advance_ms(11_999);
    assert_eq!(v2_raw(&app, &add).await.0, 429);
    app.clock.advance_ms(1);
    let (s, heads, body) = v2_raw(&app, &add).await;
    assert!(body["order"].is_i64(), "{body}");
    assert_eq!((s, heads), (200, [some("5"), some("0"), None]));

    // A tier of 20 a minute: in force once the 10 s the limit is kept have passed.
    rented(
        &admin,
        &ann,
        json!({"code": "fast", "name": "Fast API", "price": "73", "entitlement": "reseller_tier",
               "settings": {"api_rate_per_minute": 20}}),
    )
    .await;
    app.clock.advance_ms(smmd_server::ratelimit::LIMIT_TTL_MS);
    for left in (0..20).rev() {
        let (s, heads, _) = v2_raw(&app, &format!("key={}&action=balance", ann.key)).await;
        assert_eq!(
            (s, heads),
            (200, [some("20"), Some(left.to_string()), None])
        );
    }
    let (s, heads, _) = v2_raw(&app, &format!("key={}&action=balance", ann.key)).await;
    assert_eq!((s, heads), (429, [some("20"), some("0"), some("3")]));
    // Bob, who rents nothing, keeps the panel's limit.
    let (_, heads, _) = v2_raw(&app, &format!("key={}&action=balance", bob.key)).await;
    assert_eq!(heads[0], some("5"));
    let (cookie, _) = app.session("ann@x.io").await;
    let (s, page) = crate::pages::get(&app, "/api", &cookie).await;
    assert_eq!(s, 200);
    assert!(page.contains("20 requests a minute per key"), "{page}");
    let metrics = app.metrics().await;
    assert!(
        metrics.contains("smmd_api_v2_rate_limited_total"),
        "the refusals are counted"
    );
}
