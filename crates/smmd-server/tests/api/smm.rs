//! The REST API of `/api/smm` and `/api/admin`: catalog filters, placement with
//! `Idempotency-Key` (also under 50 concurrent requests), orders by public reference with their
//! timeline, cancel and refill, admin order actions through the state machine and the ledger
//! with reasons and an audit trail, and authorization: a user never sees or acts on another
//! user's orders, refills or transactions, and never reaches an admin route.

use reqwest::Method;
use serde_json::{json, Value};
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::service::ServiceType;
use smmd_domain::{Clock, Money, OrderId, UserId};
use smmd_store::{OrderUpdate, Role, ServiceDraft, UpdateOutcome};

use crate::helpers::TestApp;

pub(crate) fn m(s: &str) -> Money {
    Money::parse(s).expect("money")
}

/// A REST client for one API key.
pub(crate) struct Api<'a> {
    pub app: &'a TestApp,
    pub key: String,
    pub id: UserId,
}

impl Api<'_> {
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(&self.key);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.expect("send");
        let status = resp.status().as_u16();
        let ct = resp
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let text = resp.text().await.expect("body");
        let json = if text.is_empty() {
            Value::Null
        } else {
            assert!(ct.starts_with("application/json"), "{path}: {ct} {text}");
            serde_json::from_str(&text).expect("json")
        };
        if status >= 400 {
            assert!(
                json["error"]["code"].is_string() && json["error"]["message"].is_string(),
                "{path}: error shape {json}"
            );
        }
        (status, json)
    }
    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.call(Method::POST, path, Some(body)).await
    }
}

pub(crate) async fn account<'a>(
    app: &'a TestApp,
    email: &str,
    role: Role,
    balance: &str,
) -> Api<'a> {
    let (u, key) = app.account(email, role, balance).await;
    Api { app, key, id: u.id }
}

/// Four services in three platforms, one disabled. Returns their ids.
pub(crate) async fn catalog(app: &TestApp) -> [i64; 4] {
    let mut ig = ServiceDraft::new(
        "Instagram Followers",
        "Real Followers",
        ServiceType::Default,
        m("1.00"),
        10,
        10_000,
    );
    ig.refill = true;
    ig.guarantee_days = 30;
    ig.cancel = true;
    ig.link_rule = false;
    let mut tt = ServiceDraft::new(
        "TikTok Views",
        "Fast Views",
        ServiceType::Default,
        m("0.10"),
        100,
        1_000_000,
    );
    tt.description = "Starts in 5 minutes".into();
    let pkg = ServiceDraft::new(
        "TikTok Views",
        "Views pack",
        ServiceType::Package,
        m("2.00"),
        1,
        1,
    );
    let mut off = ServiceDraft::new(
        "Web Traffic",
        "Visitors",
        ServiceType::WebTraffic,
        m("0.50"),
        100,
        1000,
    );
    off.enabled = false;
    let mut ids = [0; 4];
    for (i, d) in [ig, tt, pkg, off].into_iter().enumerate() {
        ids[i] = app
            .store
            .create_service(d, crate::helpers::T0)
            .await
            .expect("svc")
            .id
            .0;
    }
    ids
}

/// Moves an order to `processing`, then to the provider's `status` with `remains`.
pub(crate) async fn finish(app: &TestApp, id: i64, status: ProviderStatus, remains: i64) {
    let now = app.clock.now_ms();
    let o = app.store.order(OrderId(id)).await.expect("r").expect("o");
    let mut steps = vec![
        (OrderStatus::Queued, OrderEvent::Claim),
        (OrderStatus::Submitting, OrderEvent::ProviderAccepted),
    ];
    if o.status == OrderStatus::Processing {
        steps.clear();
    }
    steps.push((OrderStatus::Processing, OrderEvent::Provider(status)));
    for (from, ev) in steps {
        let mut u = OrderUpdate::new(OrderId(id), from, ev, now);
        u.provider_order_id = Some(format!("p{id}"));
        u.start_count = Some(10);
        u.remains = Some(remains);
        let out = app.store.apply_order_update(u).await.expect("update");
        assert!(matches!(out, UpdateOutcome::Applied { .. }), "{out:?}");
    }
}

pub async fn rest_catalog_filters_and_pages_services(app: TestApp) {
    let u = account(&app, "c@x.io", Role::User, "0").await;
    let [ig, tt, pkg, off] = catalog(&app).await;
    let (s, cats) = u.get("/api/smm/categories").await;
    assert_eq!(s, 200);
    let names: Vec<(&str, i64)> = cats["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().expect("n"),
                c["services"].as_i64().expect("c"),
            )
        })
        .collect();
    assert_eq!(
        names,
        [("Instagram Followers", 1), ("TikTok Views", 2)],
        "no empty category"
    );

    let ids = |v: &Value| -> Vec<i64> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|s| s["id"].as_i64().expect("id"))
            .collect()
    };
    let (_, all) = u.get("/api/smm/services").await;
    assert_eq!(ids(&all), [ig, tt, pkg], "enabled only");
    assert_eq!(all["total"], 3);
    let first = &all["items"][0];
    assert_eq!(
        (
            first["platform"].as_str(),
            first["type"].as_str(),
            first["rate"].as_str(),
            first["guarantee_days"].as_i64()
        ),
        (Some("instagram"), Some("Default"), Some("1.00"), Some(30))
    );
    for (query, want) in [
        ("platform=tiktok", vec![tt, pkg]),
        ("platform=TikTok&type=package", vec![pkg]),
        ("refill=true", vec![ig]),
        ("refill=false", vec![tt, pkg]),
        ("q=5%20MINUTES", vec![tt]),
        ("q=views%20pack", vec![pkg]),
        ("platform=website", vec![]),
    ] {
        let (s, v) = u.get(&format!("/api/smm/services?{query}")).await;
        assert_eq!((s, ids(&v)), (200, want), "{query}");
    }
    let (_, cat) = u.get("/api/smm/services").await;
    let tiktok_cat = cat["items"][1]["category_id"].as_i64().expect("cat");
    let (_, by_cat) = u
        .get(&format!("/api/smm/services?category={tiktok_cat}"))
        .await;
    assert_eq!(ids(&by_cat), [tt, pkg]);
    // Pages: 2 per page.
    let (_, p2) = u.get("/api/smm/services?per_page=2&page=2").await;
    assert_eq!(
        (ids(&p2), p2["total"].as_i64(), p2["page"].as_i64()),
        (vec![pkg], Some(3), Some(2))
    );
    // Bad filters are clear 422s; an unknown or disabled service is a 404.
    for q in [
        "type=bogus",
        "platform=myspace",
        "refill=maybe",
        "page=x",
        "category=abc",
    ] {
        let (s, v) = u.get(&format!("/api/smm/services?{q}")).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (422, Some("invalid_query")),
            "{q}"
        );
    }
    let (s, one) = u.get(&format!("/api/smm/services/{tt}")).await;
    assert_eq!((s, one["name"].as_str()), (200, Some("Fast Views")));
    for path in [
        format!("/api/smm/services/{off}"),
        "/api/smm/services/999999".into(),
        "/api/smm/services/abc".into(),
    ] {
        let (s, v) = u.get(&path).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    // Without credentials: 401.
    let r = app
        .client
        .get(app.url("/api/smm/services"))
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 401);
}

pub async fn rest_orders_place_list_show_cancel_and_refill(app: TestApp) {
    let u = account(&app, "o@x.io", Role::User, "10").await;
    let [ig, tt, _, off] = catalog(&app).await;
    // Placement: 201 with a reference; refused inputs write nothing.
    let (s, o1) = u
        .post(
            "/api/smm/orders",
            json!({"service": ig, "link": "https://instagram.com/a", "quantity": 1000}),
        )
        .await;
    assert_eq!(s, 201, "{o1}");
    let r1 = o1["reference"].as_str().expect("ref").to_string();
    assert_eq!(
        (
            o1["status"].as_str(),
            o1["charge"].as_str(),
            o1["can_cancel"].as_bool()
        ),
        (Some("queued"), Some("1.00"), Some(true))
    );
    for (body, status, code) in [
        (
            json!({"service": ig, "link": "https://instagram.com/b", "quantity": 5}),
            422,
            "invalid_quantity",
        ),
        (
            json!({"service": ig, "link": "", "quantity": 100}),
            422,
            "invalid_link",
        ),
        (
            json!({"service": off, "link": "https://instagram.com/x", "quantity": 100}),
            422,
            "invalid_service",
        ),
        (
            json!({"service": 424242, "link": "https://instagram.com/x", "quantity": 100}),
            422,
            "invalid_service",
        ),
        (
            json!({"service": ig, "link": "https://instagram.com/c", "quantity": 10000}),
            422,
            "insufficient_funds",
        ),
        (
            json!({"service": ig, "link": "https://instagram.com/d", "quantity": 100, "runs": 0, "interval": 5}),
            422,
            "dripfeed_not_allowed",
        ),
        (
            json!({"service": "one", "link": "https://instagram.com/x"}),
            422,
            "invalid_body",
        ),
        (
            json!({"service": ig, "link": "https://instagram.com/\u{0}", "quantity": 100}),
            422,
            "invalid_body",
        ),
    ] {
        let (s, v) = u.post("/api/smm/orders", body.clone()).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let raw = app
        .client
        .post(app.url("/api/smm/orders"))
        .bearer_auth(&u.key)
        .body("service=1")
        .send()
        .await
        .expect("s");
    assert_eq!(raw.status(), 415, "a form body is not JSON");
    let (_, acct) = u.get("/api/account").await;
    assert_eq!(acct["balance"], "9.00", "only the first order was charged");
    let (s, o2) = u
        .post(
            "/api/smm/orders",
            json!({"service": tt, "link": "https://tiktok.com/v", "quantity": 1000}),
        )
        .await;
    assert_eq!(s, 201);
    let (s, dup) = u
        .post(
            "/api/smm/orders",
            json!({"service": tt, "link": "https://tiktok.com/v", "quantity": 1000}),
        )
        .await;
    assert_eq!(
        (s, dup["error"]["code"].as_str()),
        (409, Some("active_order_with_link"))
    );

    // Lists: newest first, filters, cursor.
    let refs = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|o| o["reference"].as_str().expect("r").to_string())
            .collect()
    };
    let (_, all) = u.get("/api/smm/orders").await;
    assert_eq!(
        refs(&all),
        [o2["reference"].as_str().expect("r").to_string(), r1.clone()]
    );
    assert!(all["next_cursor"].is_null());
    let (_, p1) = u.get("/api/smm/orders?limit=1").await;
    let cur = p1["next_cursor"].as_str().expect("cursor").to_string();
    let (_, p2) = u
        .get(&format!("/api/smm/orders?limit=1&cursor={cur}"))
        .await;
    assert_eq!(refs(&p2), std::slice::from_ref(&r1));
    for (q, n) in [
        (format!("service={ig}"), 1),
        ("link=TIKTOK".into(), 1),
        ("status=queued".into(), 2),
        ("status=completed".into(), 0),
        (format!("from={}", crate::helpers::T0 + 1), 0),
        (format!("to={}", crate::helpers::T0 + 1), 2),
    ] {
        let (s, v) = u.get(&format!("/api/smm/orders?{q}")).await;
        assert_eq!(
            (s, v["items"].as_array().map(Vec::len)),
            (200, Some(n)),
            "{q}"
        );
    }
    for q in [
        "status=lost",
        "cursor=zz",
        "limit=many",
        "from=yesterday",
        "link=a%00b",
    ] {
        let (s, _) = u.get(&format!("/api/smm/orders?{q}")).await;
        assert_eq!(s, 422, "{q}");
    }

    // Cancel a queued order: canceled at once with a full refund, shown in its timeline.
    let (s, c) = u
        .post(
            &format!(
                "/api/smm/orders/{}/cancel",
                o2["reference"].as_str().expect("r")
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (
            s,
            c["result"].as_str(),
            c["refunded"].as_str(),
            c["order"]["status"].as_str()
        ),
        (200, Some("canceled"), Some("0.10"), Some("canceled"))
    );
    let (s, again) = u
        .post(
            &format!(
                "/api/smm/orders/{}/cancel",
                o2["reference"].as_str().expect("r")
            ),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, again["error"]["code"].as_str()),
        (409, Some("already_finished"))
    );
    let (_, d) = u
        .get(&format!(
            "/api/smm/orders/{}",
            o2["reference"].as_str().expect("r")
        ))
        .await;
    let events: Vec<&str> = d["timeline"]
        .as_array()
        .expect("t")
        .iter()
        .map(|e| e["event"].as_str().expect("e"))
        .collect();
    assert_eq!(events, ["placed", "canceled"]);
    assert_eq!(
        (
            d["timeline"][0]["amount"].as_str(),
            d["timeline"][1]["amount"].as_str()
        ),
        (Some("-0.10"), Some("0.10")),
        "the charge, then the refund"
    );

    // Refill: only when completed, once at a time.
    let (s, early) = u
        .post(&format!("/api/smm/orders/{r1}/refill"), json!({}))
        .await;
    assert_eq!(
        (s, early["error"]["code"].as_str()),
        (409, Some("order_not_completed"))
    );
    finish(
        &app,
        o1["id"].as_i64().expect("id"),
        ProviderStatus::Partial,
        400,
    )
    .await;
    let (_, shown) = u.get(&format!("/api/smm/orders/{r1}")).await;
    assert_eq!(
        (
            shown["order"]["status"].as_str(),
            shown["order"]["refunded"].as_str(),
            shown["order"]["can_refill"].as_bool()
        ),
        (Some("partial"), Some("0.40"), Some(true))
    );
    let (s, rf) = u
        .post(&format!("/api/smm/orders/{r1}/refill"), json!({}))
        .await;
    assert_eq!(
        (s, rf["status"].as_str(), rf["order_reference"].as_str()),
        (201, Some("pending"), Some(r1.as_str()))
    );
    let (s, twice) = u
        .post(&format!("/api/smm/orders/{r1}/refill"), json!({}))
        .await;
    assert_eq!(
        (s, twice["error"]["code"].as_str()),
        (409, Some("refill_already_active"))
    );
    let (_, refills) = u.get("/api/smm/refills").await;
    assert_eq!(refills["items"].as_array().map(Vec::len), Some(1));
    let (_, by_order) = u.get(&format!("/api/smm/refills?order={r1}")).await;
    assert_eq!(by_order["items"][0]["id"], rf["id"]);
    let (_, detail) = u.get(&format!("/api/smm/orders/{r1}")).await;
    assert_eq!(detail["refills"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        detail["order"]["can_refill"], false,
        "a refill is in progress"
    );
    let steps: Vec<(&str, Option<&str>)> = detail["timeline"]
        .as_array()
        .expect("t")
        .iter()
        .map(|e| (e["event"].as_str().expect("e"), e["amount"].as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("placed", Some("-1.00")),
            ("submitting", None),
            ("processing", None),
            ("partial", Some("0.40")),
            ("refill_pending", None)
        ]
    );
    let (_, tx) = u.get("/api/account/transactions").await;
    let kinds: Vec<&str> = tx["items"]
        .as_array()
        .expect("i")
        .iter()
        .map(|e| e["kind"].as_str().expect("k"))
        .collect();
    assert_eq!(kinds, ["refund", "refund", "charge", "charge", "deposit"]);
    app.assert_ledger_consistent().await;
}

pub async fn users_never_see_or_touch_each_others_orders(app: TestApp) {
    let a = account(&app, "a@x.io", Role::User, "10").await;
    let b = account(&app, "b@x.io", Role::User, "10").await;
    let [ig, ..] = catalog(&app).await;
    let (_, o) = a
        .post(
            "/api/smm/orders",
            json!({"service": ig, "link": "https://instagram.com/a", "quantity": 100}),
        )
        .await;
    let r = o["reference"].as_str().expect("ref").to_string();
    finish(
        &app,
        o["id"].as_i64().expect("id"),
        ProviderStatus::Completed,
        0,
    )
    .await;
    let (s, _) = a
        .post(&format!("/api/smm/orders/{r}/refill"), json!({}))
        .await;
    assert_eq!(s, 201);
    // B sees nothing of A's, and every attempt is the same 404 as an unknown reference.
    for path in [
        format!("/api/smm/orders/{r}"),
        "/api/smm/orders/ffffffffffff".into(),
        "/api/smm/orders/not-a-ref".into(),
        "/api/smm/orders/ab%00cd".into(),
    ] {
        let (s, v) = b.get(&path).await;
        assert_eq!(
            (s, v["error"]["code"].as_str()),
            (404, Some("not_found")),
            "{path}"
        );
    }
    for action in ["cancel", "refill"] {
        let (s, _) = b
            .post(&format!("/api/smm/orders/{r}/{action}"), json!({}))
            .await;
        assert_eq!(s, 404, "{action}");
    }
    let (_, list) = b.get("/api/smm/orders").await;
    assert_eq!(list["items"], json!([]));
    for path in [
        "/api/smm/refills".to_string(),
        format!("/api/smm/refills?order={r}"),
    ] {
        let (s, refills) = b.get(&path).await;
        assert_eq!((s, &refills["items"]), (200, &json!([])), "{path}");
    }
    let (_, tx) = b.get("/api/account/transactions").await;
    assert_eq!(
        tx["items"].as_array().map(Vec::len),
        Some(1),
        "only B's deposit"
    );
    // A's order is untouched.
    let order = app
        .store
        .order(OrderId(o["id"].as_i64().expect("id")))
        .await
        .expect("r")
        .expect("o");
    assert_eq!(order.status, OrderStatus::Completed);

    // Every admin operation of the document: 403 for a user, 401 without credentials.
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            // Operations the document declares public (`security: []`: log-in, the password
            // reset, the storefront's catalogue) are for anyone.
            let public = op["security"].as_array().is_some_and(Vec::is_empty);
            let concrete = path
                .replace("{id}", "1")
                .replace("{name}", "orders.dispatch")
                .replace("{reference}", &r);
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let anon = app
                .client
                .request(method.clone(), app.url(&concrete))
                .json(&json!({}))
                .send()
                .await
                .expect("s");
            if !public {
                assert_eq!(anon.status(), 401, "{method} {path} without credentials");
            }
            if path.starts_with("/api/admin") {
                let (s, v) = b.call(method.clone(), &concrete, Some(json!({"reason": "x", "enabled": false, "amount": "5", "role": "admin"}))).await;
                assert_eq!(
                    (s, v["error"]["code"].as_str()),
                    (403, Some("admin_only")),
                    "{method} {path}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 25, "{checked} admin operations checked");
    assert_eq!(
        app.store.user(b.id).await.expect("r").expect("u").role,
        Role::User
    );
    app.assert_ledger_consistent().await;
}

pub async fn an_idempotency_key_makes_one_order_under_50_parallel_requests(app: TestApp) {
    let u = account(&app, "i@x.io", Role::User, "100").await;
    let [ig, ..] = catalog(&app).await;
    let body = json!({"service": ig, "link": "https://instagram.com/same", "quantity": 500});
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let req = app
            .client
            .post(app.url("/api/smm/orders"))
            .bearer_auth(&u.key)
            .header("Idempotency-Key", "checkout-7f3a")
            .json(&body);
        tasks.push(tokio::spawn(async move {
            let r = req.send().await.expect("send");
            let replayed = r.headers().contains_key("idempotent-replayed");
            (
                r.status().as_u16(),
                replayed,
                r.json::<Value>().await.expect("json"),
            )
        }));
    }
    let mut ids = Vec::new();
    let mut replays = 0;
    for t in tasks {
        let (status, replayed, v) = t.await.expect("join");
        assert_eq!(status, 201, "{v}");
        replays += usize::from(replayed);
        ids.push(v["id"].as_i64().expect("id"));
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every answer is the same order");
    assert_eq!(replays, 49, "49 replays of the first answer");
    let orders = app.store.list_orders(u.id, None, 100).await.expect("l");
    assert_eq!(orders.len(), 1, "one order placed");
    assert_eq!(
        app.store.user(u.id).await.expect("r").expect("u").balance,
        m("99.50"),
        "charged once"
    );
    // A later retry still answers with it; another body under the key is refused.
    let retry = |b: Value, key: &str| {
        app.client
            .post(app.url("/api/smm/orders"))
            .bearer_auth(&u.key)
            .header("Idempotency-Key", key)
            .json(&b)
            .send()
    };
    let r = retry(body.clone(), "checkout-7f3a").await.expect("s");
    assert_eq!(r.status(), 201);
    assert_eq!(
        r.json::<Value>().await.expect("j")["id"].as_i64(),
        Some(ids[0])
    );
    let other = retry(
        json!({"service": ig, "link": "https://instagram.com/other", "quantity": 500}),
        "checkout-7f3a",
    )
    .await
    .expect("s");
    assert_eq!(
        (
            other.status().as_u16(),
            other.json::<Value>().await.expect("j")["error"]["code"].clone()
        ),
        (422, json!("idempotency_key_reused"))
    );
    for bad in ["", &"k".repeat(201), "has space"] {
        let r = retry(
            json!({"service": ig, "link": "https://instagram.com/z", "quantity": 500}),
            bad,
        )
        .await
        .expect("s");
        assert_eq!(r.status(), 422, "{bad:?}");
    }
    assert_eq!(
        app.store
            .list_orders(u.id, None, 100)
            .await
            .expect("l")
            .len(),
        1,
        "nothing more placed"
    );
    app.assert_ledger_consistent().await;
}

pub async fn admins_search_and_act_on_orders_with_reasons(app: TestApp) {
    let admin = account(&app, "root@x.io", Role::Admin, "0").await;
    let u = account(&app, "buyer@x.io", Role::User, "20").await;
    let [ig, tt, ..] = catalog(&app).await;
    let mut placed = Vec::new();
    for (svc, link, qty) in [
        (ig, "https://instagram.com/1", 1000),
        (ig, "https://instagram.com/2", 1000),
        (tt, "https://tiktok.com/3", 10000),
        (ig, "https://instagram.com/4", 1000),
    ] {
        let (s, o) = u
            .post(
                "/api/smm/orders",
                json!({"service": svc, "link": link, "quantity": qty}),
            )
            .await;
        assert_eq!(s, 201);
        placed.push(o["id"].as_i64().expect("id"));
    }
    // Search.
    let count = |v: &Value| v["items"].as_array().map(Vec::len);
    let (_, all) = admin.get("/api/admin/orders").await;
    assert_eq!(count(&all), Some(4));
    assert_eq!(all["items"][0]["user_id"].as_i64(), Some(u.id.0));
    let (_, by_service) = admin.get(&format!("/api/admin/orders?service={tt}")).await;
    assert_eq!(count(&by_service), Some(1));
    let (_, by_user) = admin
        .get(&format!("/api/admin/orders?user={}", admin.id.0))
        .await;
    assert_eq!(count(&by_user), Some(0));

    // Set partial: refunds the undelivered share, through the ledger.
    finish(&app, placed[0], ProviderStatus::InProgress, 1000).await;
    let (s, v) = admin
        .post(
            &format!("/api/admin/orders/{}/partial", placed[0]),
            json!({"remains": 250, "reason": "provider stopped"}),
        )
        .await;
    assert_eq!(
        (
            s,
            v["status"].as_str(),
            v["refunded"].as_str(),
            v["note"].as_str()
        ),
        (
            200,
            Some("partial"),
            Some("0.25"),
            Some("Admin: provider stopped")
        )
    );
    for (body, code) in [
        (json!({"remains": 1001, "reason": "x"}), "invalid_remains"),
        (json!({"remains": 5, "reason": " "}), "reason_required"),
    ] {
        let (s, v) = admin
            .post(&format!("/api/admin/orders/{}/partial", placed[1]), body)
            .await;
        assert_eq!((s, v["error"]["code"].as_str()), (422, Some(code)));
    }
    let (s, v) = admin
        .post(
            &format!("/api/admin/orders/{}/partial", placed[1]),
            json!({"remains": 5, "reason": "x"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("invalid_transition")),
        "a queued order cannot end partial"
    );

    // Refund (cancel and refund) tops up to the full charge, once.
    let (s, v) = admin
        .post(
            &format!("/api/admin/orders/{}/refund", placed[0]),
            json!({"reason": "goodwill"}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str(), v["refunded"].as_str()),
        (200, Some("canceled"), Some("1.00"))
    );
    let (s, v) = admin
        .post(
            &format!("/api/admin/orders/{}/refund", placed[0]),
            json!({"reason": "again"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("invalid_transition"))
    );

    // Cancel an unsent order: canceled at once.
    let (s, v) = admin
        .post(
            &format!("/api/admin/orders/{}/cancel", placed[2]),
            json!({"reason": "customer asked"}),
        )
        .await;
    assert_eq!(
        (s, v["result"].as_str(), v["refunded"].as_str()),
        (200, Some("canceled"), Some("1.00"))
    );

    // Review queue: an ambiguous dispatch, resolved by attaching the provider's id.
    let now = app.clock.now_ms();
    for (from, ev) in [
        (OrderStatus::Queued, OrderEvent::Claim),
        (OrderStatus::Submitting, OrderEvent::Ambiguous),
    ] {
        app.store
            .apply_order_update(OrderUpdate::new(OrderId(placed[3]), from, ev, now))
            .await
            .expect("u");
    }
    let (_, queue) = admin.get("/api/admin/orders?status=needs_review").await;
    assert_eq!(queue["items"][0]["id"].as_i64(), Some(placed[3]));
    let (s, v) = admin
        .post(
            &format!("/api/admin/orders/{}/resolve", placed[3]),
            json!({"action": "attach", "provider_order_id": "", "reason": "found it"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_provider_order_id"))
    );
    let (s, v) = admin
        .post(
            &format!("/api/admin/orders/{}/resolve", placed[3]),
            json!({"action": "attach", "provider_order_id": "UP-1", "reason": "found it upstream"}),
        )
        .await;
    assert_eq!(
        (s, v["status"].as_str(), v["provider_order_id"].as_str()),
        (200, Some("processing"), Some("UP-1"))
    );
    let (s, v) = admin
        .post(
            &format!("/api/admin/orders/{}/resolve", placed[3]),
            json!({"action": "resend", "reason": "x"}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("not_in_review"))
    );
    let (s, _) = admin
        .post("/api/admin/orders/999999/refund", json!({"reason": "x"}))
        .await;
    assert_eq!(s, 404);

    // Services, categories, users.
    let (s, v) = admin
        .call(
            Method::PATCH,
            &format!("/api/admin/services/{ig}"),
            Some(json!({"min": 5000, "max": 100})),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_service_edit"))
    );
    let (s, v) = admin
        .call(
            Method::PATCH,
            &format!("/api/admin/services/{ig}"),
            Some(json!({"name": "IG Followers HQ", "rate": "1.20", "enabled": false})),
        )
        .await;
    assert_eq!(
        (
            s,
            v["name"].as_str(),
            v["rate"].as_str(),
            v["enabled"].as_bool()
        ),
        (200, Some("IG Followers HQ"), Some("1.20"), Some(false))
    );
    assert!(v["overrides"]
        .as_array()
        .expect("o")
        .contains(&json!("rate")));
    let (_, listed) = u.get("/api/smm/services").await;
    assert!(
        listed["items"]
            .as_array()
            .expect("i")
            .iter()
            .all(|s| s["id"] != ig),
        "a disabled service leaves the catalog at once"
    );
    let (_, cats) = admin.get("/api/admin/categories").await;
    let cat = cats["items"][0]["id"].as_i64().expect("id");
    let (s, v) = admin
        .call(
            Method::PATCH,
            &format!("/api/admin/categories/{cat}"),
            Some(json!({"markup_bp": 2500})),
        )
        .await;
    assert_eq!(
        (
            s,
            v["items"][0]["id"].as_i64(),
            v["items"][0]["markup_bp"].as_i64()
        ),
        (200, Some(cat), Some(2500))
    );
    let (_, mine) = u.get("/api/smm/categories").await;
    assert!(
        mine["items"][0].get("markup_bp").is_none(),
        "customers never see markup"
    );
    let (s, _) = admin
        .call(
            Method::PATCH,
            &format!("/api/admin/categories/{cat}"),
            Some(json!({"markup_bp": -1})),
        )
        .await;
    assert_eq!(s, 422);
    // A role change ends every session of the account (issue 15): it signs in again under the
    // new role.
    let (session, _) = app.session("buyer@x.io").await;
    let me = |cookie: String| {
        let app = &app;
        async move {
            app.client
                .get(app.url("/api/account"))
                .header(reqwest::header::COOKIE, cookie)
                .send()
                .await
                .expect("send")
                .status()
                .as_u16()
        }
    };
    assert_eq!(me(session.clone()).await, 200);
    let (s, v) = admin
        .post(
            &format!("/api/admin/users/{}/role", u.id.0),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!((s, v["role"].as_str()), (200, Some("admin")));
    assert_eq!(
        me(session).await,
        401,
        "the session ended with the role change"
    );
    let (s, _) = admin
        .post(
            &format!("/api/admin/users/{}/role", admin.id.0),
            json!({"role": "user"}),
        )
        .await;
    assert_eq!(s, 422, "no self-demotion");
    let (s, v) = admin
        .post(
            &format!("/api/admin/users/{}/balance", u.id.0),
            json!({"amount": "-1.5", "reason": "chargeback fee", "request_id": "cb-1"}),
        )
        .await;
    assert_eq!(
        (s, v["kind"].as_str(), v["amount"].as_str()),
        (200, Some("adjustment"), Some("-1.50"))
    );

    // Every action is in the audit log, newest first, with the admin and the reason.
    let (_, log) = admin.get("/api/admin/audit").await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .expect("i")
        .iter()
        .map(|e| e["action"].as_str().expect("a"))
        .collect();
    assert_eq!(
        actions,
        [
            "user.debit",
            "user.role",
            "category.markup",
            "service.edit",
            "order.resolve.attach",
            "order.cancel",
            "order.refund",
            "order.partial"
        ]
    );
    assert!(log["items"]
        .as_array()
        .expect("i")
        .iter()
        .all(|e| e["actor"] == "root@x.io"));
    assert_eq!(log["items"][7]["detail"], "remains 250: provider stopped");
    let (_, page) = admin.get("/api/admin/audit?limit=3").await;
    let (_, rest) = admin
        .get(&format!("/api/admin/audit?before={}", page["next_before"]))
        .await;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(5));
    app.assert_ledger_consistent().await;
}

pub async fn admins_test_sync_and_switch_providers(app: TestApp) {
    let admin = account(&app, "ops@x.io", Role::Admin, "0").await;
    let (sim, p) = app.sim_provider("sim", Some("1000000")).await;
    let id = p.id.0;
    // A wrong key is refused on add with what the provider answered (issue 15); nothing stored.
    let input = |name: &str, key: &str, check_key: bool| smmd_app::providers::ProviderInput {
        name: name.into(),
        url: sim.url.clone(),
        key: key.into(),
        currency: "USD".into(),
        exchange_rate: "1".into(),
        alert_below: None,
        timeout_ms: 2_000,
        max_concurrency: 1,
        rate_per_sec: None,
        check_key,
        limits: Default::default(),
    };
    let app_ = smmd_app::App::new(app.store.as_ref(), &app.clock);
    let clients = smmd_fulfil::Clients::new([3u8; 32]);
    let refused =
        smmd_app::providers::add_provider(app_, &clients, None, input("typo", "wrong-key", true))
            .await
            .expect_err("a wrong key is refused");
    assert_eq!(
        smmd_app::Coded::code(&refused),
        smmd_app::ErrorCode::InvalidProvider
    );
    assert!(
        refused.to_string().contains("did not accept the key"),
        "{refused}"
    );
    assert_eq!(
        app.store.providers().await.expect("p").len(),
        1,
        "nothing stored"
    );
    let (_, answered) =
        smmd_app::providers::add_provider(app_, &clients, None, input("typo", "wrong-key", false))
            .await
            .expect("--no-check adds it anyway");
    assert_eq!(answered, None);
    let (s, v) = admin
        .post(&format!("/api/admin/providers/{id}/test"), json!({}))
        .await;
    assert_eq!((s, v["currency"].as_str()), (200, Some("USD")), "{v}");
    assert!(v["balance"].as_str().is_some_and(|b| !b.is_empty()));
    let (s, v) = admin
        .post(&format!("/api/admin/providers/{id}/balance"), json!({}))
        .await;
    assert_eq!(
        (s, v["low"].as_bool()),
        (200, Some(true)),
        "under the 1,000,000 threshold: {v}"
    );
    let (_, list) = admin.get("/api/admin/providers").await;
    assert_eq!(list["items"][0]["balance"], v["balance"], "recorded");
    let (s, v) = admin
        .post(&format!("/api/admin/providers/{id}/sync"), json!({}))
        .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["counters"]["created"].as_i64(),
        Some(8),
        "the simulator's catalog: {v}"
    );
    let (_, services) = admin
        .get(&format!("/api/admin/services?provider={id}"))
        .await;
    assert_eq!(services["items"].as_array().map(Vec::len), Some(8));
    // A markup edit reprices at once with the sync's pricing function (issue 15): likes cost
    // 0.20, +25 % = 0.25; the followers' category at +100 %: 0.60 → 1.20.
    let find = |services: &Value, name: &str| {
        services["items"]
            .as_array()
            .and_then(|a| {
                a.iter()
                    .find(|s| s["name"].as_str().is_some_and(|n| n.starts_with(name)))
            })
            .cloned()
            .expect("service")
    };
    let likes = find(&services, "Instagram Likes [Fast]");
    assert_eq!(likes["rate"], "0.30", "+50 % by default");
    let (s, v) = admin
        .call(
            Method::PATCH,
            &format!("/api/admin/services/{}", likes["id"]),
            Some(json!({"markup_bp": 2500})),
        )
        .await;
    assert_eq!((s, v["rate"].as_str()), (200, Some("0.25")), "{v}");
    let (_, cats) = admin.get("/api/admin/categories").await;
    let followers_cat = cats["items"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["name"] == "Instagram Followers"))
        .map(|c| c["id"].clone())
        .expect("category");
    let (s, _) = admin
        .call(
            Method::PATCH,
            &format!("/api/admin/categories/{followers_cat}"),
            Some(json!({"markup_bp": 10000})),
        )
        .await;
    assert_eq!(s, 200);
    let (_, services) = admin
        .get(&format!("/api/admin/services?provider={id}"))
        .await;
    assert_eq!(find(&services, "Instagram Followers [Real")["rate"], "1.20");
    let (s, v) = admin
        .post(
            &format!("/api/admin/providers/{id}/enable"),
            json!({"enabled": false}),
        )
        .await;
    assert_eq!((s, v["enabled"].as_bool()), (200, Some(false)));
    let (s, _) = admin.post("/api/admin/providers/999/test", json!({})).await;
    assert_eq!(s, 404);
    // A provider that does not answer: 502 with the reason, nothing recorded.
    let dead = smmd_app::providers::add_provider(
        smmd_app::App::new(app.store.as_ref(), &app.clock),
        &smmd_fulfil::Clients::new([3u8; 32]),
        None,
        smmd_app::providers::ProviderInput {
            name: "dead".into(),
            url: "http://127.0.0.1:9/api/v2".into(),
            key: "k".into(),
            currency: "USD".into(),
            exchange_rate: "1".into(),
            alert_below: None,
            timeout_ms: 500,
            max_concurrency: 1,
            rate_per_sec: None,
            check_key: false,
            limits: Default::default(),
        },
    )
    .await
    .expect("provider")
    .0;
    let (s, v) = admin
        .post(
            &format!("/api/admin/providers/{}/balance", dead.id.0),
            json!({}),
        )
        .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (502, Some("provider_error"))
    );
    assert!(app
        .store
        .provider(dead.id)
        .await
        .expect("r")
        .expect("p")
        .balance
        .is_none());
}
