//! REST account and admin routes: log-in by cookie with CSRF, Bearer API keys, role checks,
//! balance adjustments with reasons, and clear errors for bad input.

use reqwest::header::{AUTHORIZATION, COOKIE, SET_COOKIE};
use serde_json::{json, Value};
use smmd_store::Role;

use crate::helpers::TestApp;

async fn register(app: &TestApp, email: &str, role: Role) -> (i64, String) {
    let (u, key) = app.account(email, role, "0").await;
    (u.id.0, key)
}

pub async fn login_sets_an_httponly_cookie_and_csrf_guards_writes(app: TestApp) {
    let (_, first_key) = register(&app, "u@x.io", Role::User).await;
    let balance = format!("key={first_key}&action=balance");
    assert!(
        app.v2(&balance).await.error().is_none(),
        "the key works (and is now cached)"
    );
    let bad = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email":"u@x.io","password":"nope"}))
        .send()
        .await
        .expect("send");
    assert_eq!(bad.status(), 401);
    assert_eq!(
        bad.json::<Value>().await.expect("json")["error"]["code"],
        "invalid_credentials"
    );
    let ok = app
        .client
        .post(app.url("/api/auth/login"))
        .json(&json!({"email":"U@X.io","password":"password123"}))
        .send()
        .await
        .expect("send");
    assert_eq!(ok.status(), 200);
    let cookie = ok
        .headers()
        .get(SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .expect("cookie")
        .to_string();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );
    let session = cookie.split(';').next().expect("pair").to_string();
    let body: Value = ok.json().await.expect("json");
    let csrf = body["csrf_token"].as_str().expect("csrf").to_string();
    let account: Value = app
        .client
        .get(app.url("/api/account"))
        .header(COOKIE, &session)
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(
        (account["email"].as_str(), account["balance"].as_str()),
        (Some("u@x.io"), Some("0.00"))
    );
    let no_csrf = app
        .client
        .post(app.url("/api/account/api-key"))
        .header(COOKIE, &session)
        .send()
        .await
        .expect("s");
    assert_eq!(no_csrf.status(), 403, "cookie writes need the CSRF token");
    let rotated = app
        .client
        .post(app.url("/api/account/api-key"))
        .header(COOKIE, &session)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("s");
    let new_key = rotated.json::<Value>().await.expect("j")["api_key"]
        .as_str()
        .expect("key")
        .to_string();
    let by_key = app
        .client
        .get(app.url("/api/account"))
        .header(AUTHORIZATION, format!("Bearer {new_key}"))
        .send()
        .await
        .expect("s");
    assert_eq!(by_key.status(), 200);
    assert_eq!(
        app.v2(&balance).await.error(),
        Some("Invalid API key"),
        "a rotated key stops working on /api/v2 at once, cached or not"
    );
    assert!(app
        .v2(&format!("key={new_key}&action=balance"))
        .await
        .error()
        .is_none());
    let out = app
        .client
        .post(app.url("/api/auth/logout"))
        .header(COOKIE, &session)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .expect("s");
    assert_eq!(out.status(), 204);
    assert_eq!(
        app.client
            .get(app.url("/api/account"))
            .header(COOKIE, &session)
            .send()
            .await
            .expect("s")
            .status(),
        401
    );
}

pub async fn admin_routes_need_an_admin_and_adjust_balances_with_reasons(app: TestApp) {
    let (uid, user_key) = register(&app, "u@x.io", Role::User).await;
    let (_, admin_key) = register(&app, "a@x.io", Role::Admin).await;
    let as_user = app
        .client
        .get(app.url("/api/admin/users"))
        .bearer_auth(&user_key)
        .send()
        .await
        .expect("s");
    assert_eq!(as_user.status(), 403);
    assert_eq!(
        app.client
            .get(app.url("/api/admin/users"))
            .send()
            .await
            .expect("s")
            .status(),
        401
    );
    let credit = |amount: &str, reason: &str, rid: &str| {
        app.client
            .post(app.url(&format!("/api/admin/users/{uid}/balance")))
            .bearer_auth(&admin_key)
            .json(&json!({"amount": amount, "reason": reason, "request_id": rid}))
            .send()
    };
    let r = credit("10.50", "bank transfer #1", "r1").await.expect("s");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("j")["balance_after"],
        "10.50"
    );
    assert_eq!(
        credit("10.50", "bank transfer #1", "r1")
            .await
            .expect("s")
            .status(),
        200,
        "same request id: no second credit"
    );
    let over = credit("-11", "chargeback", "r2").await.expect("s");
    assert_eq!(
        (
            over.status().as_u16(),
            over.json::<Value>().await.expect("j")["error"]["code"].clone()
        ),
        (422, json!("insufficient_funds"))
    );
    for (amount, reason) in [("abc", "x"), ("1.0000001", "x"), ("0", "x"), ("1", "  ")] {
        let r = credit(amount, reason, &format!("bad-{amount}"))
            .await
            .expect("s");
        assert_eq!(r.status(), 422, "{amount:?} {reason:?}");
    }
    let malformed = app
        .client
        .post(app.url(&format!("/api/admin/users/{uid}/balance")))
        .bearer_auth(&admin_key)
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .expect("s");
    assert_eq!(malformed.status(), 422);
    assert_eq!(
        malformed.json::<Value>().await.expect("j")["error"]["code"],
        "invalid_body"
    );
    let ghost = app
        .client
        .post(app.url("/api/admin/users/999999/balance"))
        .bearer_auth(&admin_key)
        .json(&json!({"amount":"1","reason":"x"}))
        .send()
        .await
        .expect("s");
    assert_eq!(ghost.status(), 404);
    let tx: Value = app
        .client
        .get(app.url("/api/account/transactions"))
        .bearer_auth(&user_key)
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    let items = tx["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(
        (items[0]["amount"].as_str(), items[0]["reason"].as_str()),
        (Some("10.50"), Some("bank transfer #1"))
    );
    let created = app
        .client
        .post(app.url("/api/admin/users"))
        .bearer_auth(&admin_key)
        .json(&json!({"email":"new@x.io","password":"password123"}))
        .send()
        .await
        .expect("s");
    assert_eq!(created.status(), 201);
    let dup = app
        .client
        .post(app.url("/api/admin/users"))
        .bearer_auth(&admin_key)
        .json(&json!({"email":"NEW@x.io","password":"password123"}))
        .send()
        .await
        .expect("s");
    assert_eq!(dup.status(), 409);
    app.assert_ledger_consistent().await;
}

pub async fn health_and_readiness_answer(app: TestApp) {
    assert_eq!(
        app.client
            .get(app.url("/healthz"))
            .send()
            .await
            .expect("s")
            .text()
            .await
            .expect("t"),
        "ok"
    );
    assert_eq!(
        app.client
            .get(app.url("/readyz"))
            .send()
            .await
            .expect("s")
            .status(),
        200
    );
}

/// Guessing is limited per client address and account on both log-in doors (REST and the
/// page): after the burst even the right password gets 429 with `Retry-After` from that
/// client, while the owner logging in from another address is not locked out (issue 15); one
/// client cannot try many accounts unslowed either.
pub async fn log_ins_are_limited_per_address(app: TestApp) {
    register(&app, "victim@x.io", Role::User).await;
    register(&app, "bystander@x.io", Role::User).await;
    let rest = |email: &str, password: &str| {
        app.client
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for _ in 0..smmd_server::auth::LOGIN_BURST {
        assert_eq!(rest("victim@x.io", "guess").await.expect("s").status(), 401);
    }
    let r = rest("VICTIM@x.io", "password123").await.expect("s");
    assert_eq!(r.status(), 429, "the right password too, whatever the case");
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=smmd_server::auth::LOGIN_REFILL_S).contains(&wait));
    assert_eq!(
        r.json::<Value>().await.expect("j")["error"]["code"],
        "too_many_attempts"
    );
    let page = app
        .client
        .post(app.url("/login"))
        .form(&[("email", "victim@x.io"), ("password", "password123")])
        .send()
        .await
        .expect("s");
    assert_eq!(page.status(), 429, "the page shares the limit");
    assert!(page.text().await.expect("t").contains("Too many attempts"));
    assert_eq!(
        rest("bystander@x.io", "password123")
            .await
            .expect("s")
            .status(),
        200
    );
    // The owner, from another address (127.0.0.2 is loopback too), gets in.
    let from = |last: u8| {
        reqwest::Client::builder()
            .local_address(std::net::IpAddr::from([127, 0, 0, last]))
            .build()
            .expect("client")
    };
    let owner = from(2);
    let r = owner
        .post(app.url("/api/auth/login"))
        .json(&json!({"email": "victim@x.io", "password": "password123"}))
        .send()
        .await
        .expect("s");
    assert_eq!(
        r.status(),
        200,
        "failures elsewhere do not lock the owner out"
    );
    // One client spraying accounts is slowed after its address burst.
    let sprayer = from(3);
    let mut statuses = Vec::new();
    for i in 0..25 {
        let r = sprayer
            .post(app.url("/api/auth/login"))
            .json(&json!({"email": format!("nobody{i}@x.io"), "password": "guess"}))
            .send()
            .await
            .expect("s");
        statuses.push(r.status().as_u16());
    }
    let burst = smmd_server::auth::ADDRESS_BURST as usize;
    assert!(statuses[..burst].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[burst..].iter().all(|s| *s == 429), "{statuses:?}");
}

/// One public address everywhere a URL is shown (issue 15): unset, the API page and the
/// OpenAPI `servers` use the request's host, never the `:0` listen address; set to https, they
/// use it and the session cookie is `Secure`.
pub async fn the_public_url_is_used_everywhere_and_makes_cookies_secure(app: TestApp) {
    register(&app, "pub@x.io", Role::User).await;
    let (cookie, _) = app.session("pub@x.io").await;
    let page = |app: &TestApp, cookie: &str| {
        let req = app
            .client
            .get(app.url("/api"))
            .header(reqwest::header::COOKIE, cookie.to_string());
        async move { req.send().await.expect("s").text().await.expect("t") }
    };
    let host = app.base.trim_start_matches("http://").to_string();
    let html = page(&app, &cookie).await;
    assert!(
        html.contains(&format!("http://{host}/api/v2")),
        "the request's host"
    );
    assert!(!html.contains(":0/api/v2"));
    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(doc["servers"][0]["url"], format!("http://{host}"));

    let Some(public) = crate::helpers::spawn_app_with(app.backend(), |c| {
        c.server.public_url = "https://panel.example.com/".into();
    })
    .await
    else {
        return;
    };
    register(&public, "pub@x.io", Role::User).await;
    let login = public
        .client
        .post(public.url("/api/auth/login"))
        .json(&json!({"email": "pub@x.io", "password": "password123"}))
        .send()
        .await
        .expect("s");
    let set_cookie = login.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(set_cookie.ends_with("; Secure"), "{set_cookie}");
    let (cookie, _) = public.session("pub@x.io").await;
    assert!(page(&public, &cookie)
        .await
        .contains("https://panel.example.com/api/v2"));
    let doc: Value = public
        .client
        .get(public.url("/api/openapi.json"))
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(doc["servers"][0]["url"], "https://panel.example.com");
}
