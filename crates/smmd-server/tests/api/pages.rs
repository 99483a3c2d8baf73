//! The customer pages as a browser uses them: log in with a form, place an order from the form,
//! see it in the list, cancel it; forms without the CSRF token are refused and write nothing.

use reqwest::header::{CONTENT_SECURITY_POLICY, COOKIE, LOCATION, SET_COOKIE};
use smmd_domain::service::ServiceType;
use smmd_domain::{Clock, Money};
use smmd_server::panel;
use smmd_store::{Role, ServiceDraft};

use crate::helpers::{TestApp, T0};

fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..start + 32].to_string()
}

pub async fn a_customer_logs_in_orders_and_cancels_through_the_pages(app: TestApp) {
    let (user, _) = panel::register(
        app.store.as_ref(),
        &app.clock as &dyn Clock,
        "web@x.io",
        "password123",
        Role::User,
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
        (303, Some("/login"))
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
    let ok = app
        .client
        .post(app.url("/login"))
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
    assert!(html.contains("10.00 USD"), "balance shown");
    let csrf = csrf_of(&html);
    let sid = svc.id.0.to_string();

    let forged = app
        .client
        .post(app.url("/orders"))
        .header(COOKIE, &cookie)
        .form(&[
            ("service", sid.as_str()),
            ("link", "https://x/p"),
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
            ("link", "https://x/p"),
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
            ("link", "https://x/p"),
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
    let id = orders[0].id;
    assert!(
        list.contains(&format!("#{id}"))
            && list.contains("https://x/p")
            && list.contains("Pending"),
        "listed"
    );
    assert!(
        list.contains(&format!("/orders/{id}/cancel")),
        "an unsent order can be canceled"
    );

    let cancel = app
        .client
        .post(app.url(&format!("/orders/{id}/cancel")))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("s");
    assert_eq!(cancel.status(), 303);
    let after = app
        .client
        .get(app.url("/orders"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("s")
        .text()
        .await
        .expect("t");
    assert!(
        after.contains("Canceled") && after.contains("10.00 USD"),
        "canceled and refunded"
    );

    // Another user cannot cancel it (ids are checked against the owner).
    let (_, _) = panel::register(
        app.store.as_ref(),
        &app.clock as &dyn Clock,
        "other@x.io",
        "password123",
        Role::User,
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
        !other_page.contains("https://x/p"),
        "another user's orders are not listed"
    );
    app.assert_ledger_consistent().await;
}
