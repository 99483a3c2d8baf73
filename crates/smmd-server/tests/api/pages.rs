//! The customer pages as a browser uses them: log in with a form, place an order from the form,
//! see it in the list, cancel it; forms without the CSRF token are refused and write nothing.

use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use smmd_domain::service::ServiceType;
use smmd_domain::{Clock, Money};
use smmd_store::{Role, ServiceDraft};

use crate::helpers::{TestApp, T0};

/// GETs `path` with `cookie`: (status, body).
pub(crate) async fn get(app: &TestApp, path: &str, cookie: &str) -> (u16, String) {
    let r = app
        .client
        .get(app.url(path))
        .header(COOKIE, cookie)
        .send()
        .await
        .expect("send");
    (r.status().as_u16(), r.text().await.expect("text"))
}

pub(crate) fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..start + 32].to_string()
}

pub async fn a_customer_logs_in_orders_and_cancels_through_the_pages(app: TestApp) {
    let (user, _) = smmd_app::accounts::register(
        smmd_app::App::new(app.store.as_ref(), &app.clock as &dyn Clock),
        "web@x.io",
        "password123",
        Role::User,
        None,
    )
    .await
    .expect("user");
    app.credit(user.id, Money::parse("10").expect("m"), "web")
        .await;
    let mut d = ServiceDraft::new(
        "Instagram <Followers>",
        "Followers <b>fast</b>",
        ServiceType::Default,
        Money::parse("0.90").expect("m"),
        50,
        10_000,
    );
    d.dripfeed = true;
    let svc = app.store.create_service(d, T0).await.expect("service");

    let anonymous = app
        .client
        .get(app.url("/orders/new"))
        .send()
        .await
        .expect("s");
    assert_eq!(
        (
            anonymous.status().as_u16(),
            anonymous
                .headers()
                .get(LOCATION)
                .and_then(|v| v.to_str().ok())
        ),
        (303, Some("/login?next=%2Forders%2Fnew"))
    );
    let wrong = app
        .client
        .post(app.url("/login"))
        .form(&[("email", "web@x.io"), ("password", "nope")])
        .send()
        .await
        .expect("s");
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .expect("t")
        .contains("Wrong e-mail or password"));
    // Log-in CSRF: the right password posted from another site's page signs nobody in.
    let foreign = app
        .client
        .post(app.url("/login"))
        .header("origin", "https://evil.example")
        .form(&[("email", "web@x.io"), ("password", "password123")])
        .send()
        .await
        .expect("s");
    assert_eq!(foreign.status(), 403);
    assert!(foreign.headers().get(SET_COOKIE).is_none(), "no session");
    let ok = app
        .client
        .post(app.url("/login"))
        .header("origin", app.base.trim_end_matches('/'))
        .form(&[("email", "web@x.io"), ("password", "password123")])
        .send()
        .await
        .expect("s");
    assert_eq!(ok.status(), 303);
    let cookie = ok
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .split(';')
        .next()
        .expect("c")
        .to_string();

    let page = app
        .client
        .get(app.url("/orders/new"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("s");
    let csp = page
        .headers()
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    assert!(
        csp.contains("default-src 'self'") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    let html = page.text().await.expect("t");
    assert!(
        html.contains("Followers &lt;b&gt;fast&lt;/b&gt;") && !html.contains("<b>fast</b>"),
        "names are escaped"
    );
    assert!(
        html.contains("data-balance>10.00</span> USD"),
        "balance shown"
    );
    let csrf = csrf_of(&html);
    let sid = svc.id.0.to_string();

    let forged = app
        .client
        .post(app.url("/orders"))
        .header(COOKIE, &cookie)
        .form(&[
            ("service", sid.as_str()),
            ("link", "https://instagram.com/p"),
            ("quantity", "100"),
        ])
        .send()
        .await
        .expect("s");
    assert_eq!(forged.status(), 403, "no CSRF token, no order");
    let too_few = app
        .client
        .post(app.url("/orders"))
        .header(COOKIE, &cookie)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("service", sid.as_str()),
            ("link", "https://instagram.com/p"),
            ("quantity", "10"),
        ])
        .send()
        .await
        .expect("s");
    assert_eq!(too_few.status(), 422);
    assert!(
        too_few
            .text()
            .await
            .expect("t")
            .contains("Quantity less than minimal 50"),
        "the form says why"
    );
    assert!(app
        .store
        .list_orders(user.id, None, 10)
        .await
        .expect("l")
        .is_empty());

    let placed = app
        .client
        .post(app.url("/orders"))
        .header(COOKIE, &cookie)
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("service", sid.as_str()),
            ("link", "https://instagram.com/p"),
            ("quantity", "100"),
            ("runs", ""),
            ("interval", ""),
        ])
        .send()
        .await
        .expect("s");
    assert_eq!(placed.status(), 303);
    let list = app
        .client
        .get(app.url("/orders"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("s")
        .text()
        .await
        .expect("t");
    let orders = app.store.list_orders(user.id, None, 10).await.expect("l");
    assert_eq!(orders.len(), 1);
    let reference = orders[0].reference.clone();
    assert_eq!(
        placed.headers().get(LOCATION).and_then(|v| v.to_str().ok()),
        Some(format!("/orders/{reference}?ok=Order+placed%3A+0.09+USD+charged.").as_str()),
        "the new order's page opens"
    );
    assert!(
        list.contains(&format!("data-order=\"{reference}\""))
            && list.contains("https://instagram.com/p")
            && list.contains("Queued"),
        "listed with its live-update hooks"
    );
    let page = get(&app, &format!("/orders/{reference}"), &cookie).await;
    assert_eq!(page.0, 200);
    assert!(
        page.1.contains(&format!("/orders/{reference}/cancel")) && !page.1.contains("/refill\""),
        "an unsent order can be canceled, not refilled"
    );
    assert!(
        page.1.contains("Order placed"),
        "the timeline starts with the placement"
    );

    // Another user sees none of it and can touch none of it: every page and action of the
    // order answers 404 and writes nothing.
    let (_, _) = smmd_app::accounts::register(
        smmd_app::App::new(app.store.as_ref(), &app.clock as &dyn Clock),
        "intruder@x.io",
        "password123",
        Role::User,
        None,
    )
    .await
    .expect("user");
    let (intruder, intruder_csrf) = app.session("intruder@x.io").await;
    assert_eq!(
        get(&app, &format!("/orders/{reference}"), &intruder)
            .await
            .0,
        404
    );
    for action in ["cancel", "refill"] {
        let r = app
            .client
            .post(app.url(&format!("/orders/{reference}/{action}")))
            .header(COOKIE, &intruder)
            .form(&[("csrf_token", intruder_csrf.as_str())])
            .send()
            .await
            .expect("s");
        assert_eq!(r.status(), 404, "{action}");
    }
    assert_eq!(
        app.store
            .order(orders[0].id)
            .await
            .expect("o")
            .expect("o")
            .status,
        smmd_domain::order::OrderStatus::Queued,
        "still queued"
    );
    assert!(!get(&app, "/refills", &intruder)
        .await
        .1
        .contains(&reference));
    assert!(!get(&app, "/orders?q=x%2Fp", &intruder)
        .await
        .1
        .contains(&reference));
    assert_eq!(get(&app, "/orders/000000000000", &cookie).await.0, 404);

    let cancel = app
        .client
        .post(app.url(&format!("/orders/{reference}/cancel")))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("s");
    assert_eq!(cancel.status(), 303);
    let after = get(&app, &format!("/orders/{reference}"), &cookie).await.1;
    assert!(
        after.contains("Canceled") && after.contains("10.00"),
        "canceled and refunded"
    );
    let canceled_list = get(&app, "/orders?status=canceled", &cookie).await.1;
    assert!(
        canceled_list.contains(&reference),
        "the status filter finds it"
    );
    assert!(!get(&app, "/orders?status=active", &cookie)
        .await
        .1
        .contains(&reference));
    assert!(!get(&app, "/orders?q=nothing-like-it", &cookie)
        .await
        .1
        .contains(&reference));

    // Another user cannot cancel it (ids are checked against the owner).
    let (_, _) = smmd_app::accounts::register(
        smmd_app::App::new(app.store.as_ref(), &app.clock as &dyn Clock),
        "other@x.io",
        "password123",
        Role::User,
        None,
    )
    .await
    .expect("user");
    let other = app
        .client
        .post(app.url("/login"))
        .form(&[("email", "other@x.io"), ("password", "password123")])
        .send()
        .await
        .expect("s");
    let other_cookie = other
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("c")
        .split(';')
        .next()
        .expect("c")
        .to_string();
    let other_page = app
        .client
        .get(app.url("/orders"))
        .header(COOKIE, &other_cookie)
        .send()
        .await
        .expect("s")
        .text()
        .await
        .expect("t");
    assert!(
        !other_page.contains("https://instagram.com/p"),
        "another user's orders are not listed"
    );
    app.assert_ledger_consistent().await;
}

pub async fn sign_up_settings_and_notifications_through_the_pages(app: TestApp) {
    assert_eq!(
        app.client
            .get(app.url("/signup"))
            .send()
            .await
            .expect("s")
            .status(),
        200
    );
    let bad = app
        .client
        .post(app.url("/signup"))
        .form(&[("email", "not-an-address"), ("password", "password123")])
        .send()
        .await
        .expect("s");
    assert_eq!(bad.status(), 422);
    assert!(bad
        .text()
        .await
        .expect("t")
        .contains("Enter a valid e-mail address"));
    let foreign = app
        .client
        .post(app.url("/signup"))
        .header("origin", "https://evil.example")
        .form(&[("email", "new@x.io"), ("password", "password123")])
        .send()
        .await
        .expect("s");
    assert_eq!(foreign.status(), 403, "a sign-up form from another site");
    assert!(app
        .store
        .user_credentials("new@x.io")
        .await
        .expect("read")
        .is_none());
    let ok = app
        .client
        .post(app.url("/signup"))
        .form(&[("email", "new@x.io"), ("password", "password123")])
        .send()
        .await
        .expect("s");
    assert_eq!(ok.status(), 303);
    let cookie = ok
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("signed in at once")
        .to_string();
    let again = app
        .client
        .post(app.url("/signup"))
        .form(&[("email", "NEW@x.io"), ("password", "password123")])
        .send()
        .await
        .expect("s");
    assert_eq!(again.status(), 422, "one account per address");

    let (status, settings) = get(&app, "/settings", &cookie).await;
    assert_eq!(status, 200);
    assert!(
        settings.contains("name=\"email\" value=\"1\" checked"),
        "e-mails on by default"
    );
    let csrf = csrf_of(&settings);
    let user = app
        .store
        .user_credentials("new@x.io")
        .await
        .expect("u")
        .expect("u")
        .user;
    let post = |path: &'static str, form: Vec<(&'static str, String)>| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let r = app
                .client
                .post(app.url(path))
                .header(COOKIE, cookie)
                .form(&form)
                .send()
                .await
                .expect("send");
            (
                r.status().as_u16(),
                r.headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .to_string(),
            )
        }
    };
    assert_eq!(
        post(
            "/settings",
            vec![("webhook_url", "https://hooks.example.com/a".into())]
        )
        .await
        .0,
        403,
        "no CSRF token"
    );
    let (_, private) = post(
        "/settings",
        vec![
            ("csrf_token", csrf.clone()),
            ("email", "1".into()),
            ("webhook_url", "http://10.0.0.5/hook".into()),
        ],
    )
    .await;
    assert!(private.contains("err="), "{private}");
    assert_eq!(
        app.store
            .notification_settings(user.id)
            .await
            .expect("s")
            .webhook_url,
        None
    );
    let (_, saved) = post(
        "/settings",
        vec![
            ("csrf_token", csrf.clone()),
            ("webhook_url", "https://hooks.example.com/a".into()),
        ],
    )
    .await;
    assert!(saved.contains("ok="), "{saved}");
    let stored = app.store.notification_settings(user.id).await.expect("s");
    assert!(!stored.email, "the unticked box turned e-mails off");
    let secret = stored.webhook_secret.expect("a secret with the URL");
    assert!(
        get(&app, "/settings", &cookie).await.1.contains(&secret),
        "shown to its owner"
    );

    // Password: the current one is checked; the new one logs in; every other session of the
    // account ends (issue 15), this browser's stays.
    let (other_session, _) = app.session("new@x.io").await;
    assert_eq!(get(&app, "/api/account", &other_session).await.0, 200);
    let (_, wrong) = post(
        "/settings/password",
        vec![
            ("csrf_token", csrf.clone()),
            ("current", "nope-nope".into()),
            ("new", "newpassword1".into()),
        ],
    )
    .await;
    assert!(wrong.contains("err="), "{wrong}");
    let (_, changed) = post(
        "/settings/password",
        vec![
            ("csrf_token", csrf.clone()),
            ("current", "password123".into()),
            ("new", "newpassword1".into()),
        ],
    )
    .await;
    assert!(changed.contains("ok="), "{changed}");
    assert_eq!(
        get(&app, "/api/account", &other_session).await.0,
        401,
        "the other session ended with the password change"
    );
    assert_eq!(
        get(&app, "/settings", &cookie).await.0,
        200,
        "this one stays"
    );
    let login = app
        .client
        .post(app.url("/login"))
        .form(&[("email", "new@x.io"), ("password", "newpassword1")])
        .send()
        .await
        .expect("s");
    assert_eq!(login.status(), 303);

    // Notifications: a canceled order shows up unread, with the badge; marking clears it.
    app.credit(user.id, smmd_domain::Money::parse("5").expect("m"), "new:1")
        .await;
    let svc = app
        .store
        .create_service(
            ServiceDraft::new(
                "Instagram",
                "Views",
                ServiceType::Default,
                smmd_domain::Money::parse("1.00").expect("m"),
                10,
                10_000,
            ),
            T0,
        )
        .await
        .expect("service");
    let order_page = get(&app, &format!("/orders/new?service={}", svc.id.0), &cookie)
        .await
        .1;
    let order_csrf = csrf_of(&order_page);
    let (_, location) = post(
        "/orders",
        vec![
            ("csrf_token", order_csrf),
            ("service", svc.id.0.to_string()),
            ("link", "https://instagram.com/p/x".into()),
            ("quantity", "100".into()),
        ],
    )
    .await;
    let reference = location
        .strip_prefix("/orders/")
        .and_then(|r| r.split('?').next())
        .expect("order page")
        .to_string();
    let cancel_url = format!("/orders/{reference}/cancel");
    let r = app
        .client
        .post(app.url(&cancel_url))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 303);
    smmd_notify::run(&app.notifier(smmd_notify::NotifySettings::default()))
        .await
        .expect("notify");
    let inbox = get(&app, "/notifications", &cookie).await.1;
    assert!(
        inbox.contains(&format!("Order {reference} canceled")),
        "listed"
    );
    assert!(inbox.contains("data-unread>1<"), "the badge counts it");
    let (status, _) = post(
        "/notifications/read",
        vec![
            ("csrf_token", csrf.clone()),
            ("up_to", i64::MAX.to_string()),
        ],
    )
    .await;
    assert_eq!(status, 303);
    assert_eq!(app.store.unread_notifications(user.id).await.expect("n"), 0);
    assert!(get(&app, "/notifications", &cookie)
        .await
        .1
        .contains("data-unread hidden"));
}
