//! The storefront (issue 18) over HTTP: a visitor's home page and services page, the public
//! JSON catalogue, the admin's brand (name, tagline, colour, logo) and pages, and the service
//! description and guarantee an admin edits, which every surface then shows.

use base64::Engine;
use reqwest::header::CONTENT_TYPE;
use serde_json::{json, Value};
use smmd_domain::service::ServiceType;
use smmd_domain::Money;
use smmd_store::{Role, ServiceDraft};

use crate::helpers::{TestApp, T0};
use crate::pages::get;

/// A tiny valid PNG header (the bytes decide the type; the rest is not decoded).
fn png() -> Vec<u8> {
    let mut b = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    b.extend_from_slice(&[0; 24]);
    b
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    key: &str,
    body: Value,
) -> (u16, Value) {
    let r = app
        .client
        .request(method, app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

pub async fn visitors_see_the_brand_the_services_and_the_pages_an_admin_set(app: TestApp) {
    let (_, admin_key) = app.account("boss@x.io", Role::Admin, "0").await;
    let (_, user_key) = app.account("buyer@x.io", Role::User, "5").await;
    let mut d = ServiceDraft::new(
        "Instagram Followers",
        "Followers <b>HQ</b> [60 days refill]",
        ServiceType::Default,
        Money::parse("1.20").expect("m"),
        50,
        10_000,
    );
    d.refill = true;
    d.guarantee_days = 30;
    let followers = app.store.create_service(d, T0).await.expect("service");
    let views = app
        .store
        .create_service(
            ServiceDraft::new(
                "YouTube Views",
                "Views",
                ServiceType::Default,
                Money::parse("0.80").expect("m"),
                100,
                1_000_000,
            ),
            T0,
        )
        .await
        .expect("service");
    let mut off = ServiceDraft::new(
        "TikTok",
        "Hidden",
        ServiceType::Default,
        Money::parse("1").expect("m"),
        1,
        10,
    );
    off.enabled = false;
    app.store.create_service(off, T0).await.expect("disabled");

    // A visitor's home page: the configured name, what is sold, the ways in.
    let (status, home) = get(&app, "/", "").await;
    assert_eq!(status, 200);
    for part in [
        "href=\"/signup\"",
        "href=\"/login\"",
        "href=\"/services\"",
        "Instagram",
        "YouTube",
        "from 1.20 USD per 1000",
    ] {
        assert!(home.contains(part), "{part} on the home page");
    }
    assert!(!home.contains("TikTok"), "disabled services are not sold");

    // The JSON catalogue: enabled services only, list prices, no authentication.
    let r = app
        .client
        .get(app.url("/api/public/services"))
        .send()
        .await
        .expect("json");
    assert_eq!(r.status(), 200);
    let list: Value = r.json().await.expect("json");
    let items = list["items"].as_array().expect("items");
    assert_eq!(items.len(), 2);
    let f = items
        .iter()
        .find(|s| s["id"] == followers.id.0)
        .expect("followers");
    assert_eq!(
        (
            f["rate"].as_str(),
            f["platform"].as_str(),
            f["guarantee_days"].as_i64(),
            f["orders"].as_i64()
        ),
        (Some("1.20"), Some("instagram"), Some(30), Some(0))
    );
    assert_eq!(f["avg_seconds_per_1000"], Value::Null);

    // The admin corrects the guarantee ("[60 days refill]" showed 30) and writes a description.
    let (status, edited) = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/admin/services/{}", followers.id.0),
        &admin_key,
        json!({"guarantee_days": 60, "description": "Real accounts.\nStarts in 1 hour."}),
    )
    .await;
    assert_eq!(status, 200, "{edited}");
    assert!(edited["overrides"]
        .as_array()
        .expect("o")
        .iter()
        .any(|o| o == "guarantee_days"));
    let (status, bad) = send(
        &app,
        reqwest::Method::PATCH,
        &format!("/api/admin/services/{}", followers.id.0),
        &admin_key,
        json!({"guarantee_days": 400}),
    )
    .await;
    assert_eq!(
        (status, bad["error"]["code"].as_str()),
        (422, Some("invalid_service_edit"))
    );
    let (_, page) = get(&app, "/services?platform=instagram", "").await;
    assert!(
        page.contains("60 days") && page.contains("Real accounts."),
        "{page}"
    );
    assert!(page.contains("Followers &lt;b&gt;HQ&lt;/b&gt;"), "escaped");
    assert!(!page.contains("YouTube Views"), "filtered to Instagram");
    let (_, page) = get(&app, "/services?q=youtube", "").await;
    assert!(page.contains("YouTube Views") && !page.contains("HQ"));
    let audit = app.store.audit_log(None, 5).await.expect("audit");
    let line = audit
        .iter()
        .find(|e| e.action == "service.edit")
        .expect("audited");
    assert_eq!(
        line.detail,
        "description: 32 characters; guarantee_days: 30 -> 60"
    );

    // The brand: refused values write nothing; good ones show everywhere.
    for (body, why) in [
        (json!({"color": "red"}), "colour"),
        (json!({"name": ""}), "name"),
        (
            json!({"logo": "data:image/svg+xml;base64,PHN2Zz48L3N2Zz4="}),
            "svg logo",
        ),
        (json!({"logo": "https://evil.example/x.png"}), "remote logo"),
    ] {
        let (status, e) = send(
            &app,
            reqwest::Method::PATCH,
            "/api/admin/site/brand",
            &admin_key,
            body,
        )
        .await;
        assert_eq!(
            (status, e["error"]["code"].as_str()),
            (422, Some("invalid_storefront")),
            "{why}"
        );
    }
    assert!(
        app.store.site_settings().await.expect("read").is_empty(),
        "nothing written"
    );
    let (status, _) = send(
        &app,
        reqwest::Method::PATCH,
        "/api/admin/site/brand",
        &user_key,
        json!({"name": "Mine"}),
    )
    .await;
    assert_eq!(status, 403, "customers cannot");
    let logo = format!(
        "data:image/png;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(png())
    );
    let (status, site) = send(
        &app,
        reqwest::Method::PATCH,
        "/api/admin/site/brand",
        &admin_key,
        json!({"name": "Boost <Hub>", "tagline": "Grow today", "color": "#0F766E", "logo": logo}),
    )
    .await;
    assert_eq!(status, 200, "{site}");
    assert_eq!(site["brand"]["color"], "#0f766e");
    let logo_url = site["brand"]["logo_url"]
        .as_str()
        .expect("logo url")
        .to_string();
    let (_, home) = get(&app, "/", "").await;
    assert!(
        home.contains("Boost &lt;Hub&gt;") && home.contains("Grow today"),
        "{home}"
    );
    assert!(home.contains(&logo_url));
    let css = app
        .client
        .get(app.url("/assets/brand.css"))
        .send()
        .await
        .expect("css");
    assert!(css.text().await.expect("t").contains("--brand: #0f766e"));
    let img = app
        .client
        .get(app.url(&logo_url))
        .send()
        .await
        .expect("logo");
    assert_eq!(
        img.headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok()),
        Some("image/png")
    );
    assert_eq!(img.bytes().await.expect("bytes").to_vec(), png());
    // Signed-in pages carry the brand in their bar.
    let (cookie, _) = app.session("buyer@x.io").await;
    let (_, dashboard) = get(&app, "/dashboard", &cookie).await;
    assert!(dashboard.contains("Boost &lt;Hub&gt;"));
    let (_, services) = get(&app, "/services", &cookie).await;
    assert!(
        services.contains("Your prices") && services.contains("data-balance"),
        "the customer's own page"
    );

    // Pages: Markdown without raw HTML; only the three pages exist; empty text unpublishes.
    let (status, _) = send(
        &app,
        reqwest::Method::PUT,
        "/api/admin/site/pages/terms",
        &admin_key,
        json!({"title": "Terms", "body": "# Rules\n\n<script>alert(1)</script>\n\n[bad](javascript:alert(1))"}),
    )
    .await;
    assert_eq!(status, 200);
    let (status, terms) = get(&app, "/pages/terms", "").await;
    assert_eq!(status, 200);
    assert!(
        terms.contains("<h1>Rules</h1>") && terms.contains("&lt;script&gt;"),
        "{terms}"
    );
    assert!(!terms.contains("javascript:"));
    let (_, home) = get(&app, "/", "").await;
    assert!(
        home.contains("href=\"/pages/terms\""),
        "the footer links it"
    );
    let (status, e) = send(
        &app,
        reqwest::Method::PUT,
        "/api/admin/site/pages/about",
        &admin_key,
        json!({"title": "x", "body": "y"}),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("invalid_storefront"))
    );
    assert_eq!(get(&app, "/pages/faq", "").await.0, 404);
    let (status, _) = send(
        &app,
        reqwest::Method::PUT,
        "/api/admin/site/pages/terms",
        &admin_key,
        json!({"title": "Terms", "body": ""}),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(get(&app, "/pages/terms", "").await.0, 404);
    let audit = app.store.audit_log(None, 20).await.expect("audit");
    assert_eq!(audit.iter().filter(|e| e.action == "site.page").count(), 2);
    assert!(audit.iter().any(|e| e.action == "site.brand"
        && e.detail.contains("color: #0f766e")
        && e.detail.contains("logo set")));
    let _ = views;
    app.assert_ledger_consistent().await;
}

pub async fn customers_rate_delivered_orders_and_admins_moderate_the_comments(app: TestApp) {
    use smmd_domain::order::ProviderStatus;
    let (_, admin_key) = app.account("boss@x.io", Role::Admin, "0").await;
    let (_, ann_key) = app.account("ann@x.io", Role::User, "10").await;
    let (_, bob_key) = app.account("bob@x.io", Role::User, "10").await;
    let svc = app
        .store
        .create_service(
            ServiceDraft::new(
                "Instagram Followers",
                "Followers",
                ServiceType::Default,
                Money::parse("1.00").expect("m"),
                10,
                10_000,
            ),
            T0,
        )
        .await
        .expect("service");
    let app = &app;
    let add = |key: &str, link: &str| {
        let q = format!(
            "key={key}&action=add&service={}&link=https://instagram.com/{link}&quantity=100",
            svc.id.0
        );
        async move {
            app.v2(&q).await.json["order"]
                .as_i64()
                .expect("an order id")
        }
    };
    let a1 = add(&ann_key, "a1").await;
    let a2 = add(&ann_key, "a2").await;
    let b1 = add(&bob_key, "b1").await;
    let open = add(&ann_key, "open").await;
    for (id, end, remains) in [
        (a1, ProviderStatus::Completed, 0),
        (a2, ProviderStatus::Partial, 40),
        (b1, ProviderStatus::Completed, 0),
    ] {
        crate::smm::finish(app, id, end, remains).await;
    }
    let reference = |id: i64| async move {
        app.store
            .order(smmd_domain::OrderId(id))
            .await
            .expect("o")
            .expect("o")
            .reference
    };
    let rate = |key: String, r: String, body: Value| async move {
        send(
            app,
            reqwest::Method::POST,
            &format!("/api/smm/orders/{r}/rating"),
            &key,
            body,
        )
        .await
    };
    // Stars alone count at once.
    let (status, r) = rate(ann_key.clone(), reference(a1).await, json!({"stars": 5})).await;
    assert_eq!(
        (status, r["status"].as_str()),
        (201, Some("approved")),
        "{r}"
    );
    // Refusals: twice, bad stars, an order not delivered, another user's order.
    let (status, e) = rate(ann_key.clone(), reference(a1).await, json!({"stars": 4})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (409, Some("already_rated"))
    );
    let (status, e) = rate(ann_key.clone(), reference(a2).await, json!({"stars": 6})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("invalid_rating"))
    );
    let (status, e) = rate(ann_key.clone(), reference(open).await, json!({"stars": 3})).await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("invalid_rating"))
    );
    let (status, _) = rate(ann_key.clone(), reference(b1).await, json!({"stars": 1})).await;
    assert_eq!(status, 404, "Bob's order is not Ann's");
    // Comments wait for the admin.
    let (status, r) = rate(
        ann_key.clone(),
        reference(a2).await,
        json!({"stars": 2, "comment": "Only 60 arrived"}),
    )
    .await;
    assert_eq!((status, r["status"].as_str()), (201, Some("pending")));
    let (status, r) = rate(
        bob_key.clone(),
        reference(b1).await,
        json!({"stars": 4, "comment": "Buy my followers at spam.example"}),
    )
    .await;
    assert_eq!((status, r["status"].as_str()), (201, Some("pending")));
    let public = |app: &TestApp| {
        let url = app.url("/api/public/services");
        let client = app.client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .expect("s")
                .json::<Value>()
                .await
                .expect("j")["items"][0]
                .clone()
        }
    };
    let p = public(app).await;
    assert_eq!(
        (p["rating"].as_str(), p["ratings"].as_i64()),
        (Some("5.0"), Some(1))
    );

    // The admin's queue, then one approved and one rejected (each once).
    let (status, queue) = send(
        app,
        reqwest::Method::GET,
        "/api/admin/ratings?status=pending",
        &admin_key,
        Value::Null,
    )
    .await;
    assert_eq!(status, 200);
    let queued: Vec<i64> = queue["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| r["order"].as_i64())
        .collect();
    assert_eq!(queued, vec![b1, a2], "newest order first");
    let (status, d) = send(
        app,
        reqwest::Method::POST,
        "/api/admin/ratings/decide",
        &admin_key,
        json!({"orders": [a2], "decision": "approve"}),
    )
    .await;
    assert_eq!((status, d["moved"].as_u64()), (200, Some(1)));
    let (_, d) = send(
        app,
        reqwest::Method::POST,
        "/api/admin/ratings/decide",
        &admin_key,
        json!({"orders": [a2, b1], "decision": "reject"}),
    )
    .await;
    assert_eq!(d["moved"].as_u64(), Some(1), "only the still pending one");
    let (status, e) = send(
        app,
        reqwest::Method::POST,
        "/api/admin/ratings/decide",
        &admin_key,
        json!({"orders": [a2], "decision": "maybe"}),
    )
    .await;
    assert_eq!(
        (status, e["error"]["code"].as_str()),
        (422, Some("invalid_rating"))
    );
    let (status, _) = send(
        app,
        reqwest::Method::POST,
        "/api/admin/ratings/decide",
        &ann_key,
        json!({"orders": [b1], "decision": "approve"}),
    )
    .await;
    assert_eq!(status, 403, "customers cannot moderate");
    let p = public(app).await;
    assert_eq!(
        (p["rating"].as_str(), p["ratings"].as_i64()),
        (Some("3.5"), Some(2)),
        "5 and 2; the rejected one never counts"
    );
    let (_, page) = get(app, "/services", "").await;
    assert!(page.contains("★ 3.5/5 · 2 ratings"), "{page}");
    let audit = app.store.audit_log(None, 10).await.expect("audit");
    assert!(audit.iter().any(|e| e.action == "rating.approve"));
    assert!(audit.iter().any(|e| e.action == "rating.reject"));
    app.assert_ledger_consistent().await;
}
