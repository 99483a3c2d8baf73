//! The admin pages and the customer's dashboard, mass order and API pages as a browser uses
//! them: who may open what, what the pages show from the book, that an admin page's action form
//! drives the admin API it names, the CSV export, the import preview writing nothing, and the
//! customer's mass order placing each line once.

use reqwest::header::{COOKIE, LOCATION};
use serde_json::{json, Value};
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::{Clock, OrderId};
use smmd_store::{OrderUpdate, Role};

use crate::helpers::TestApp;
use crate::pages::csrf_of;
use crate::smm::{account, catalog, finish, m};

/// GETs `path` with `cookie`: (status, body, Location).
pub(crate) async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, String, String) {
    let mut req = app.client.get(app.url(path));
    if let Some(c) = cookie {
        req = req.header(COOKIE, c);
    }
    let r = req.send().await.expect("send");
    let status = r.status().as_u16();
    let location = r
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, r.text().await.expect("text"), location)
}

/// The `data-api` form of `html` whose `action` is `action` and that holds `marker`: its method
/// and its hidden fields, as `app.js` would read them.
fn api_form(html: &str, action: &str, marker: &str) -> (String, Vec<(String, String)>) {
    let needle = format!("action=\"{action}\"");
    let mut from = 0;
    while let Some(at) = html[from..].find(&needle) {
        let start = html[..from + at].rfind("<form").expect("form start");
        let end = from + at + html[from + at..].find("</form>").expect("form end");
        let form = &html[start..end];
        from = end;
        if !form.contains(marker) {
            continue;
        }
        let attr = |tag: &str, name: &str| {
            let key = format!("{name}=\"");
            tag.find(&key).map(|i| {
                let rest = &tag[i + key.len()..];
                rest[..rest.find('"').expect("quote")].to_string()
            })
        };
        let method = attr(form, "data-api").expect("an API form");
        let hidden = form
            .split("<input")
            .skip(1)
            .filter(|tag| tag.contains("type=\"hidden\""))
            .filter_map(|tag| Some((attr(tag, "name")?, attr(tag, "value")?)))
            .collect();
        return (method, hidden);
    }
    panic!("no API form to {action} with {marker:?}");
}

/// Sends an admin page's form the way `app.js` does: JSON, session cookie, CSRF header.
async fn submit(
    app: &TestApp,
    cookie: &str,
    csrf: &str,
    method: &str,
    url: &str,
    body: Value,
) -> (u16, Value) {
    let r = app
        .client
        .request(method.parse().expect("method"), app.url(url))
        .header(COOKIE, cookie)
        .header("x-csrf-token", csrf)
        .json(&body)
        .send()
        .await
        .expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

fn csrf_meta(html: &str) -> String {
    let marker = "name=\"csrf-token\" content=\"";
    let start = html.find(marker).expect("the CSRF meta tag") + marker.len();
    html[start..start + 32].to_string()
}

const ADMIN_PAGES: [&str; 9] = [
    "/admin",
    "/admin/orders",
    "/admin/orders.csv",
    "/admin/services",
    "/admin/providers",
    "/admin/jobs",
    "/admin/users",
    "/admin/payments",
    "/admin/audit",
];

pub async fn admin_pages_are_for_admins_and_act_through_the_admin_api(app: TestApp) {
    let _admin = account(&app, "boss@x.io", Role::Admin, "0").await;
    let buyer = account(&app, "buyer@x.io", Role::User, "20").await;
    let [ig, tt, ..] = catalog(&app).await;
    let (admin_cookie, _) = app.session("boss@x.io").await;
    let (user_cookie, _) = app.session("buyer@x.io").await;

    // Who may open what: nobody signed in goes to log in; a customer finds nothing there.
    for path in ADMIN_PAGES {
        let (s, _, loc) = page(&app, path, None).await;
        let back = format!(
            "/login?{}",
            serde_urlencoded::to_string([("next", path)]).expect("q")
        );
        assert_eq!((s, loc.as_str()), (303, back.as_str()), "{path} anonymous");
        let (s, body, _) = page(&app, path, Some(&user_cookie)).await;
        assert_eq!(s, 404, "{path} as a customer");
        assert!(!body.contains("Export CSV") && !body.contains("/api/admin/"));
        let (s, _, _) = page(&app, path, Some(&admin_cookie)).await;
        assert_eq!(s, 200, "{path} as the admin");
    }
    let (_, customer_menu, _) = page(&app, "/dashboard", Some(&user_cookie)).await;
    assert!(
        !customer_menu.contains("href=\"/admin\""),
        "no admin link for customers"
    );

    // The book: three orders today, one with a comma in its link, one whose provider message a
    // spreadsheet would run as a formula (a link like that is refused at placement).
    let (s, refused) = buyer
        .post(
            "/api/smm/orders",
            json!({"service": ig, "link": "=HYPERLINK(\"https://evil.example\",\"c\")", "quantity": 2000}),
        )
        .await;
    assert_eq!(s, 422, "{refused}");
    assert_eq!(refused["error"]["code"], "invalid_link");
    let mut ids = Vec::new();
    for (svc, link, qty) in [
        (ig, "https://instagram.com/p/a,b", 1000),
        (ig, "https://instagram.com/p/c", 2000),
        (tt, "https://tiktok.com/v/d", 10_000),
    ] {
        let (s, o) = buyer
            .post(
                "/api/smm/orders",
                json!({"service": svc, "link": link, "quantity": qty}),
            )
            .await;
        assert_eq!(s, 201, "{o}");
        ids.push(o["id"].as_i64().expect("id"));
    }
    let now = app.clock.now_ms();
    for (from, ev) in [
        (OrderStatus::Queued, OrderEvent::Claim),
        (OrderStatus::Submitting, OrderEvent::ProviderAccepted),
        (
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
        ),
    ] {
        let mut u = OrderUpdate::new(OrderId(ids[1]), from, ev, now);
        u.provider_order_id = Some("p1".into());
        u.remains = Some(0);
        u.note = Some("=HYPERLINK(\"https://evil.example\",\"c\")".into());
        app.store.apply_order_update(u).await.expect("update");
    }
    let now = app.clock.now_ms();
    for (from, ev) in [
        (OrderStatus::Queued, OrderEvent::Claim),
        (OrderStatus::Submitting, OrderEvent::Ambiguous),
    ] {
        app.store
            .apply_order_update(OrderUpdate::new(OrderId(ids[2]), from, ev, now))
            .await
            .expect("to review");
    }
    let review_ref = app
        .store
        .order(OrderId(ids[2]))
        .await
        .expect("r")
        .expect("o")
        .reference;

    let (_, dash, _) = page(&app, "/admin", Some(&admin_cookie)).await;
    // 1.00 + 2.00 + 1.00 charged today, nothing refunded.
    assert!(
        dash.contains("Orders today</span><span class=\"value\">3<"),
        "{dash}"
    );
    assert!(dash.contains("4.00 USD"), "revenue");
    assert!(
        dash.contains(&review_ref),
        "the review queue is on the dashboard"
    );
    assert!(dash.contains("/admin/orders?status=needs_review"));

    // The review queue and its resolve form, sent as the page sends it.
    let (_, queue, _) = page(
        &app,
        "/admin/orders?status=needs_review",
        Some(&admin_cookie),
    )
    .await;
    assert!(queue.contains(&review_ref));
    assert_eq!(
        queue.matches("data-order=").count(),
        1,
        "only the order in review"
    );
    let resolve = format!("/api/admin/orders/{}/resolve", ids[2]);
    let (method, hidden) = api_form(&queue, &resolve, "Send again");
    assert_eq!(method, "POST");
    assert_eq!(hidden, vec![("action".to_string(), "resend".to_string())]);
    let csrf = csrf_meta(&queue);
    let mut body = json!({"reason": "provider confirmed it has nothing"});
    for (k, v) in hidden {
        body[k] = Value::String(v);
    }
    let (s, _) = submit(
        &app,
        &admin_cookie,
        "wrong-token",
        &method,
        &resolve,
        body.clone(),
    )
    .await;
    assert_eq!(s, 403, "the CSRF header is checked");
    let (s, v) = submit(&app, &admin_cookie, &csrf, &method, &resolve, body.clone()).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("queued")), "{v}");
    let (s, v) = submit(&app, &admin_cookie, &csrf, &method, &resolve, body).await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (409, Some("not_in_review"))
    );
    let (_, queue, _) = page(
        &app,
        "/admin/orders?status=needs_review",
        Some(&admin_cookie),
    )
    .await;
    assert!(queue.contains("Nothing needs review."));
    let (_, audit, _) = page(&app, "/admin/audit", Some(&admin_cookie)).await;
    assert!(
        audit.contains("provider confirmed it has nothing"),
        "audited"
    );

    // Filters: by user and by service.
    let (_, by_service, _) = page(
        &app,
        &format!("/admin/orders?service={tt}"),
        Some(&admin_cookie),
    )
    .await;
    assert_eq!(by_service.matches("data-order=").count(), 1);
    let (_, by_user, _) = page(&app, "/admin/orders?user=999", Some(&admin_cookie)).await;
    assert!(by_user.contains("No orders match."));

    // CSV: every matching order, RFC 4180 quoting, exact money.
    let csv = app
        .client
        .get(app.url(&format!("/admin/orders.csv?service={ig}")))
        .header(COOKIE, &admin_cookie)
        .send()
        .await
        .expect("csv");
    assert_eq!(
        csv.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("text/csv; charset=utf-8")
    );
    let text = csv.text().await.expect("text");
    let mut rows = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = rows
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(&header[..3], ["id", "reference", "created_at"]);
    let records: Vec<csv::StringRecord> = rows.records().map(|r| r.expect("row")).collect();
    assert_eq!(records.len(), 2, "the filter applies to the export");
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    assert_eq!(&records[1][col("link")], "https://instagram.com/p/a,b");
    assert_eq!(
        &records[0][col("note")],
        "'=HYPERLINK(\"https://evil.example\",\"c\")",
        "a cell a spreadsheet would evaluate is neutralised"
    );
    assert_eq!(&records[1][col("charge")], "1.00");
    assert_eq!(&records[0][col("status")], "completed");
    assert_eq!(&records[1][col("created_at")], "2026-01-01T00:00:00Z");

    // The customer's page's balance form carries a fresh idempotency key and drives the ledger.
    let (_, users, _) = page(
        &app,
        &format!("/admin/users/{}", buyer.id.0),
        Some(&admin_cookie),
    )
    .await;
    let url = format!("/api/admin/users/{}/balance", buyer.id.0);
    let (method, hidden) = api_form(&users, &url, "Apply");
    let key = hidden
        .iter()
        .find(|(k, _)| k == "request_id")
        .map(|(_, v)| v.clone())
        .expect("request id");
    let body = json!({"amount": "5", "reason": "goodwill", "request_id": key});
    for _ in 0..2 {
        let (s, _) = submit(&app, &admin_cookie, &csrf, &method, &url, body.clone()).await;
        assert_eq!(s, 200);
    }
    let balance = app
        .store
        .user(buyer.id)
        .await
        .expect("r")
        .expect("u")
        .balance;
    assert_eq!(
        balance,
        m("21"),
        "20 − 4 charged + 5 once (a double submit pays once)"
    );
    app.assert_ledger_consistent().await;
}

pub async fn admins_preview_an_import_and_edit_a_schedule_from_the_pages(app: TestApp) {
    let _admin = account(&app, "ops@x.io", Role::Admin, "0").await;
    let (cookie, _) = app.session("ops@x.io").await;
    let (sim, p) = app.sim_provider("Upstream", None).await;
    let upstream = sim.sim.config.services.len();

    // The Providers page adds providers and edits each one, limits included, through the
    // admin API (issue 15), and shows each provider's limits.
    let (s, list, _) = page(&app, "/admin/providers", Some(&cookie)).await;
    assert_eq!(s, 200);
    assert!(list.contains(
        r#"<form class="api" method="post" action="/api/admin/providers" data-api="POST""#
    ));
    let edit = format!(
        r#"<form class="api" method="post" action="/api/admin/providers/{}" data-api="PATCH""#,
        p.id.0
    );
    assert!(list.contains(&edit), "an edit form for Upstream");
    let form = list.split(&edit).nth(1).expect("the form");
    for field in [
        r#"name="answer_max_bytes" data-type="int" min="1024" max="67108864" value="1048576""#,
        r#"name="services_max_bytes" data-type="int" min="65536" max="1073741824" value="16777216""#,
        r#"name="price_jump_pct" data-type="int" min="110" max="100000" value="200""#,
        r#"name="key" autocomplete="new-password" placeholder="unchanged""#,
    ] {
        assert!(form.contains(field), "{field}");
    }
    assert!(list.contains("answers ≤ 1 MiB, services ≤ 16 MiB, holds price changes beyond x2"));

    // The preview reads the provider and writes nothing.
    let path = format!("/admin/providers/{}/import", p.id.0);
    let (s, preview, _) = page(&app, &path, Some(&cookie)).await;
    assert_eq!(s, 200);
    assert!(
        preview.contains(&format!(
            "<span class=\"label\">New</span><span class=\"value\">{upstream}<"
        )),
        "every upstream service is new"
    );
    assert!(preview.contains("Instagram Followers [Real, 30 days refill]"));
    assert!(
        app.store.list_services(false).await.expect("l").is_empty(),
        "a preview writes nothing"
    );
    // "Apply" is the sync endpoint.
    let sync = format!("/api/admin/providers/{}/sync", p.id.0);
    let (method, _) = api_form(&preview, &sync, "Apply these changes");
    let (s, v) = submit(
        &app,
        &cookie,
        &csrf_meta(&preview),
        &method,
        &sync,
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        app.store.list_services(false).await.expect("l").len(),
        upstream
    );
    let (_, again, _) = page(&app, &path, Some(&cookie)).await;
    assert!(again.contains("Everything is up to date."));
    let (s, _, _) = page(&app, "/admin/providers/999/import", Some(&cookie)).await;
    assert_eq!(s, 404);
    let (_, services, _) = page(&app, "/admin/services?q=likes", Some(&cookie)).await;
    assert!(services.contains("Instagram Likes [Fast]") && !services.contains("Followers [Real"));
    // Cost, the markup that prices it (and where it comes from) and the price, side by side.
    assert!(
        services.contains("0.20 USD") && services.contains("0.30 USD"),
        "cost and price"
    );
    assert!(
        services.contains("50 %<br><span class=\"hint\">default</span>"),
        "the effective markup and its source"
    );

    // Jobs: the list, one job's calendar, and its edit form as the page sends it.
    smmd_jobs::control::ensure_defaults(
        app.store.as_ref(),
        smmd_jobs::control::DEFAULT_JOBS,
        "UTC",
        app.clock.now_ms(),
    )
    .await
    .expect("defaults");
    let (_, jobs, _) = page(&app, "/admin/jobs", Some(&cookie)).await;
    assert!(jobs.contains("/admin/jobs/maintenance.cleanup"));
    let (_, job, _) = page(&app, "/admin/jobs/maintenance.cleanup", Some(&cookie)).await;
    let url = "/api/admin/jobs/maintenance.cleanup";
    let (method, _) = api_form(&job, url, "Save");
    assert_eq!(method, "PATCH");
    let csrf = csrf_meta(&job);
    let (s, v) = submit(
        &app,
        &cookie,
        &csrf,
        &method,
        url,
        json!({"expression": "every day"}),
    )
    .await;
    assert_eq!(
        (s, v["error"]["code"].as_str()),
        (422, Some("invalid_schedule"))
    );
    let (s, v) = submit(
        &app,
        &cookie,
        &csrf,
        &method,
        url,
        json!({"expression": "0 30 4 * * *", "zone": "Europe/Paris"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, job, _) = page(&app, "/admin/jobs/maintenance.cleanup", Some(&cookie)).await;
    assert!(job.contains("0 30 4 * * *") && job.contains("Europe/Paris"));
    // 2026-01-01 04:30 in Paris is 03:30 UTC; the page shows the panel zone (UTC).
    assert!(
        job.contains("2026-01-01 03:30"),
        "the next run follows the new calendar"
    );
    let (s, _, _) = page(&app, "/admin/jobs/no.such.job", Some(&cookie)).await;
    assert_eq!(s, 404);
}

pub async fn customers_use_the_dashboard_mass_order_and_api_pages(app: TestApp) {
    let buyer = account(&app, "mass@x.io", Role::User, "10").await;
    let [ig, tt, pkg, off] = catalog(&app).await;
    let (cookie, _) = app.session("mass@x.io").await;

    // New order: filters by platform and type; the average time needs completed orders.
    let (_, new_order, _) = page(&app, "/orders/new?platform=TikTok", Some(&cookie)).await;
    assert!(new_order.contains("Fast Views") && !new_order.contains("Real Followers"));
    let (_, new_order, _) = page(&app, &format!("/orders/new?service={ig}"), Some(&cookie)).await;
    assert!(new_order.contains("not enough data"));
    // Category → service: one category at a time unless searching or asking for all.
    assert!(new_order.contains("Real Followers") && !new_order.contains("Fast Views"));
    let (_, tiktok, _) = page(&app, &format!("/orders/new?service={tt}"), Some(&cookie)).await;
    assert!(tiktok.contains("Fast Views") && !tiktok.contains("Real Followers"));
    let (_, all, _) = page(&app, "/orders/new?category=*", Some(&cookie)).await;
    assert!(all.contains("Fast Views") && all.contains("Real Followers"));
    let (_, found, _) = page(&app, "/orders/new?q=views+pack", Some(&cookie)).await;
    assert!(found.contains("Views pack") && !found.contains("Real Followers"));

    // Mass order: one result per line; bad lines do not stop the others.
    let (_, form, _) = page(&app, "/orders/mass", Some(&cookie)).await;
    let csrf = csrf_of(&form);
    let batch = {
        let marker = "name=\"batch\" value=\"";
        let start = form.find(marker).expect("batch") + marker.len();
        form[start..start + 24].to_string()
    };
    let text = format!(
        "{ig} | https://instagram.com/p/1 | 1000\n{tt} | https://tiktok.com/v/2 | 5\nnope | https://x | 10\n\n{off} | https://instagram.com/3 | 100\n{tt} | https://tiktok.com/v/4 | 2000\n"
    );
    let send = |csrf: String| {
        let (app, cookie, text, batch) = (&app, cookie.clone(), text.clone(), batch.clone());
        async move {
            let r = app
                .client
                .post(app.url("/orders/mass"))
                .header(COOKIE, cookie)
                .form(&[("csrf_token", csrf), ("batch", batch), ("orders", text)])
                .send()
                .await
                .expect("send");
            (r.status().as_u16(), r.text().await.expect("text"))
        }
    };
    let (s, _) = send("wrong".repeat(6) + "xx").await;
    assert_eq!(s, 403);
    let (s, result) = send(csrf.clone()).await;
    assert_eq!(s, 200);
    assert!(result.contains("2 of 5 orders placed"), "{result}");
    assert!(
        result.contains("Line 2: Quantity less than minimal 100"),
        "{result}"
    );
    assert!(result.contains("Line 3: `nope` is not a service id"));
    assert!(
        result.contains("Line 5: Incorrect service ID"),
        "a disabled service"
    );
    // The form comes back with only the failed lines.
    assert!(result.contains(&format!("{tt} | https://tiktok.com/v/2 | 5\nnope")));
    let after = app
        .store
        .user(buyer.id)
        .await
        .expect("r")
        .expect("u")
        .balance;
    assert_eq!(after, m("8.80"), "10 − 1.00 − 0.20");
    // The same form again (a reload, a double click) places nothing twice.
    let (_, again) = send(csrf).await;
    assert!(again.contains("2 of 5 orders placed"));
    assert_eq!(
        app.store
            .user(buyer.id)
            .await
            .expect("r")
            .expect("u")
            .balance,
        after
    );
    let mine = app
        .store
        .search_orders(&smmd_store::OrderQuery::of_user(buyer.id, 50))
        .await
        .expect("orders");
    assert_eq!(mine.len(), 2);

    // Average completion time from completed orders: 1000 in 20 minutes.
    app.clock.advance_ms(20 * 60_000);
    let first = mine
        .iter()
        .find(|o| o.service_id.0 == ig)
        .expect("ig order");
    finish(&app, first.id.0, ProviderStatus::Completed, 0).await;
    let (_, new_order, _) = page(&app, &format!("/orders/new?service={ig}"), Some(&cookie)).await;
    assert!(new_order.contains("20 min per 1000"), "average shown");

    // Dashboard: balance, active orders, recent orders with live hooks.
    let (_, dash, _) = page(&app, "/dashboard", Some(&cookie)).await;
    assert!(dash.contains("8.80"));
    assert!(
        dash.contains("Active orders</span><span class=\"value\" data-active-count>1<"),
        "{dash}"
    );
    assert_eq!(dash.matches("data-order=").count(), 2);
    let (_, home, loc) = page(&app, "/", Some(&cookie)).await;
    assert_eq!(loc, "/dashboard", "{home}");

    // API page: no key shown; a new one is shown once and is the only one that works.
    let (_, api, _) = page(&app, "/api", Some(&cookie)).await;
    assert!(!api.contains("id=\"api-key\""));
    assert!(api.contains("action=add") && api.contains("/api/v2"));
    let csrf = csrf_of(&api);
    let r = app
        .client
        .post(app.url("/api"))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", "x".repeat(32))])
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 403);
    assert!(app
        .v2(&format!("key={}&action=balance", buyer.key))
        .await
        .error()
        .is_none());
    let r = app
        .client
        .post(app.url("/api"))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", csrf)])
        .send()
        .await
        .expect("send");
    assert_eq!(
        r.headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    let shown = r.text().await.expect("text");
    let marker = "id=\"api-key\" type=\"text\" readonly value=\"";
    let start = shown.find(marker).expect("the new key") + marker.len();
    let key = &shown[start..start + shown[start..].find('"').expect("end")];
    let balance = app.v2(&format!("key={key}&action=balance")).await;
    assert_eq!(balance.json["balance"].as_str(), Some("8.80"));
    assert_eq!(
        app.v2(&format!("key={}&action=balance", buyer.key))
            .await
            .error(),
        Some("Invalid API key"),
        "the old key stops at once"
    );
    let (_, api, _) = page(&app, "/api", Some(&cookie)).await;
    assert!(!api.contains(key), "shown once");
    let _ = pkg;
}

/// The keys of a JSON value's objects (the first element's for an array).
fn keys(v: &Value) -> Vec<String> {
    let obj = match v {
        Value::Array(items) => items.first().and_then(Value::as_object),
        other => other.as_object(),
    };
    let mut k: Vec<String> = obj.expect("an object").keys().cloned().collect();
    k.sort();
    k
}

pub async fn the_api_page_documents_what_api_v2_answers(app: TestApp) {
    let buyer = account(&app, "doc@x.io", Role::User, "10").await;
    let [ig, ..] = catalog(&app).await;
    let (cookie, _) = app.session("doc@x.io").await;
    let (_, html, _) = page(&app, "/api", Some(&cookie)).await;
    // The documented replies, by action, as the page shows them.
    let documented: std::collections::HashMap<String, Value> = html
        .split("<h3 id=\"action-")
        .skip(1)
        .map(|section| {
            let action = section[..section.find('"').expect("id")].to_string();
            let start = section.find("<pre class=\"reply\">").expect("reply") + 19;
            let text = &section[start..start + section[start..].find("</pre>").expect("end")];
            let json = text.replace("&quot;", "\"").replace("&amp;", "&");
            (
                action,
                serde_json::from_str(&json).expect("documented JSON"),
            )
        })
        .collect();
    assert_eq!(documented.len(), 7, "every action is documented");
    let key = &buyer.key;
    let services = app.v2(&format!("key={key}&action=services")).await.json;
    let add = app
        .v2(&format!(
            "key={key}&action=add&service={ig}&link=https://instagram.com/p/doc&quantity=100"
        ))
        .await
        .json;
    let order = add["order"].as_i64().expect("order id");
    let status = app
        .v2(&format!("key={key}&action=status&order={order}"))
        .await
        .json;
    let cancel = app
        .v2(&format!("key={key}&action=cancel&orders={order}"))
        .await
        .json;
    let balance = app.v2(&format!("key={key}&action=balance")).await.json;
    for (action, real) in [
        ("services", &services),
        ("add", &add),
        ("status", &status),
        ("cancel", &cancel),
        ("balance", &balance),
    ] {
        assert_eq!(
            keys(&documented[action]),
            keys(real),
            "action={action}: {real}"
        );
    }
    assert_eq!(
        services[0]["rate"].is_string(),
        documented["services"][0]["rate"].is_string()
    );
    assert_eq!(add["order"].is_i64(), documented["add"]["order"].is_i64());
}
