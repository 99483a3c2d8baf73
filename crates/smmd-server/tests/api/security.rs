//! Account security (issue 18) over REST: the step-up (`X-2FA-Code`) on money and security
//! routes, codes accepted once, the owner's policy requiring two-factor of admins, and the
//! password reset asked and used without a session (one answer for unknown e-mails, the
//! e-mail written to the outbox, the token used once, every session ended).

use reqwest::Method;
use serde_json::json;
use smmd_domain::Clock;
use smmd_store::Role;

use crate::helpers::TestApp;
use crate::smm::account;

const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

pub async fn two_factor_guards_money_and_security_routes_over_rest(app: TestApp) {
    let boss = account(&app, "boss@x.io", Role::Admin, "0").await;
    let other = account(&app, "other@x.io", Role::Admin, "0").await;
    let buyer = account(&app, "buyer@x.io", Role::User, "0").await;
    // The boss has two-factor on (the store call the enrolment makes).
    assert!(app
        .store
        .enable_two_factor(boss.id, SECRET, 0, &[], None)
        .await
        .expect("on"));
    let code = |ms: i64| smmd_app::security::totp_code(SECRET, ms).expect("code");
    let balance = format!("/api/admin/users/{}/balance", buyer.id.0);
    let adjust = |code: Option<String>, key: &str| {
        let mut req = app
            .client
            .post(app.url(&balance))
            .bearer_auth(boss.key.clone())
            .json(&json!({"amount": "5", "reason": "goodwill", "request_id": key}));
        if let Some(c) = code {
            req = req.header("x-2fa-code", c);
        }
        req.send()
    };
    let r = adjust(None, "k1").await.expect("send");
    assert_eq!(r.status(), 403);
    let e: serde_json::Value = r.json().await.expect("json");
    assert_eq!(e["error"]["code"], "two_factor_required");
    let r = adjust(Some("000000".into()), "k1").await.expect("send");
    assert_eq!(r.status(), 422, "a wrong code");
    let now = app.clock.now_ms();
    let r = adjust(Some(code(now)), "k1").await.expect("send");
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let r = adjust(Some(code(now)), "k2").await.expect("send");
    assert_eq!(r.status(), 422, "the same code twice (RFC 6238 §5.2)");
    let e: serde_json::Value = r.json().await.expect("json");
    assert_eq!(e["error"]["code"], "invalid_code");
    let user = app.store.user(buyer.id).await.expect("r").expect("u");
    assert_eq!(
        user.balance.to_string(),
        "5.00",
        "one adjustment, nothing else"
    );
    // Accounts without two-factor pass without a code.
    let (s, _) = other
        .post(
            &balance,
            json!({"amount": "1", "reason": "x", "request_id": "k3"}),
        )
        .await;
    assert_eq!(s, 200);

    // The policy: only an admin with two-factor may require it of admins.
    let (s, e) = other
        .call(
            Method::PUT,
            "/api/admin/security",
            Some(json!({"admin_two_factor": true, "confirm_email": false})),
        )
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (403, Some("two_factor_required"))
    );
    let (s, p) = boss
        .call(
            Method::PUT,
            "/api/admin/security",
            Some(json!({"admin_two_factor": true, "confirm_email": false})),
        )
        .await;
    assert_eq!((s, p["admin_two_factor"].as_bool()), (200, Some(true)));
    let (s, e) = other.get("/api/admin/users").await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (403, Some("two_factor_required"))
    );
    let (cookie, _) = app.session("other@x.io").await;
    let (s, _) = crate::pages::get(&app, "/admin", &cookie).await;
    assert_eq!(s, 303, "the admin pages send them to set it up");
    let (s, _) = boss.get("/api/admin/users").await;
    assert_eq!(s, 200);
    let log = app.store.audit_log(None, 20).await.expect("audit");
    assert!(log.iter().any(|e| e.action == "security.policy"));

    // Rotating the key is a step-up too; a new step's code passes.
    app.clock.advance_ms(30_000);
    let r = app
        .client
        .post(app.url("/api/account/api-key"))
        .bearer_auth(boss.key.clone())
        .header("x-2fa-code", code(app.clock.now_ms()))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
    app.assert_ledger_consistent().await;
}

pub async fn a_password_reset_over_rest_answers_alike_and_works_once(app: TestApp) {
    // Without SMTP the panel says it cannot send.
    let (s, e) = post_reset(&app, json!({"email": "ann@x.io"})).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (409, Some("email_unavailable"))
    );

    let Some(mailing) = crate::helpers::spawn_app_with(app.backend(), |c| {
        c.notifications.smtp_url = "smtp://127.0.0.1:9".into();
        c.server.public_url = "https://panel.example".into();
    })
    .await
    else {
        return;
    };
    let ann = account(&mailing, "ann@x.io", Role::User, "0").await;
    let (cookie, _) = mailing.session("ann@x.io").await;
    for email in ["ANN@x.io", "nobody@x.io"] {
        let (s, body) = post_reset(&mailing, json!({"email": email})).await;
        assert_eq!(
            (s, body["status"].as_str()),
            (202, Some("accepted")),
            "{email}"
        );
    }
    let (s, e) = post_reset(&mailing, json!({"email": "not an address"})).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("invalid_email"))
    );
    // One e-mail, to Ann, with a link on the configured address.
    let mails = mailing
        .store
        .claim_deliveries(mailing.clock.now_ms(), 1_000, 10)
        .await
        .expect("outbox");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].target, "ann@x.io");
    let link = mails[0]
        .payload
        .split_whitespace()
        .find(|w| w.starts_with("https://panel.example/reset?token="))
        .expect("the link on the configured address");
    let token = link.rsplit('=').next().expect("token");

    let confirm = |token: &str, password: &str| {
        mailing
            .client
            .post(mailing.url("/api/auth/password-reset/confirm"))
            .json(&json!({"token": token, "password": password}))
            .send()
    };
    let r = confirm(token, "short").await.expect("send");
    assert_eq!(r.status(), 422, "weak: the token stays good");
    let r = confirm(token, "a brand new password").await.expect("send");
    assert_eq!(r.status(), 200);
    let r = confirm(token, "another new password").await.expect("send");
    assert_eq!(r.status(), 422, "used once");
    let e: serde_json::Value = r.json().await.expect("json");
    assert_eq!(e["error"]["code"], "invalid_token");
    let (s, _) = crate::pages::get(&mailing, "/dashboard", &cookie).await;
    assert_eq!(s, 303, "every session ended");
    let user = smmd_app::accounts::check_credentials(
        smmd_app::App::new(mailing.store.as_ref(), &mailing.clock as &dyn Clock),
        "ann@x.io",
        "a brand new password",
    )
    .await
    .expect("check");
    assert_eq!(user.map(|u| u.id), Some(ann.id));
}

async fn post_reset(app: &TestApp, body: serde_json::Value) -> (u16, serde_json::Value) {
    let r = app
        .client
        .post(app.url("/api/auth/password-reset"))
        .json(&body)
        .send()
        .await
        .expect("send");
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or_default())
}

/// Posts a page form (no session): (status, body).
async fn post_page(app: &TestApp, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let r = app
        .client
        .post(app.url(path))
        .form(form)
        .send()
        .await
        .expect("send");
    (r.status().as_u16(), r.text().await.expect("text"))
}

pub async fn sign_ups_confirm_their_e_mail_when_the_owner_asks(app: TestApp) {
    let Some(panel) = crate::helpers::spawn_app_with(app.backend(), |c| {
        c.notifications.smtp_url = "smtp://127.0.0.1:9".into();
        c.server.public_url = "https://panel.example".into();
    })
    .await
    else {
        return;
    };
    let boss = account(&panel, "boss@x.io", Role::Admin, "0").await;
    // Off by default: a sign-up is logged in at once.
    let (s, _) = post_page(
        &panel,
        "/signup",
        &[("email", "early@x.io"), ("password", "password123")],
    )
    .await;
    assert_eq!(s, 303, "straight in");
    panel
        .store
        .enable_two_factor(boss.id, SECRET, 0, &[], None)
        .await
        .expect("2fa");
    let (s, _) = boss
        .call(
            Method::PUT,
            "/api/admin/security",
            Some(json!({"admin_two_factor": false, "confirm_email": true})),
        )
        .await;
    assert_eq!(s, 200);

    let (s, page) = post_page(
        &panel,
        "/signup",
        &[("email", "new@x.io"), ("password", "password123")],
    )
    .await;
    assert_eq!(s, 200);
    assert!(page.contains("check-inbox"), "{page}");
    // The password is right, but the e-mail is not confirmed yet.
    let (s, page) = post_page(
        &panel,
        "/login",
        &[("email", "new@x.io"), ("password", "password123")],
    )
    .await;
    assert_eq!(s, 403);
    assert!(page.contains("Send the confirmation link again"), "{page}");
    // An account from before the setting logs in as before.
    let (s, _) = post_page(
        &panel,
        "/login",
        &[("email", "early@x.io"), ("password", "password123")],
    )
    .await;
    assert_eq!(s, 303);

    let mails = panel
        .store
        .claim_deliveries(panel.clock.now_ms(), 1_000, 10)
        .await
        .expect("outbox");
    let mail = mails
        .iter()
        .find(|d| d.target == "new@x.io")
        .expect("the confirmation e-mail");
    assert!(
        mail.subject.starts_with("Confirm your e-mail"),
        "{}",
        mail.subject
    );
    let link = mail
        .payload
        .split_whitespace()
        .find(|w| w.starts_with("https://panel.example/confirm?token="))
        .expect("link");
    let path = link.trim_start_matches("https://panel.example");
    let (s, page) = crate::pages::get(&panel, path, "").await;
    assert_eq!(s, 200);
    assert!(page.contains("id=\"confirmed\""), "{page}");
    let (_, again) = crate::pages::get(&panel, path, "").await;
    assert!(again.contains("already used"), "a link works once");
    let (s, _) = post_page(
        &panel,
        "/login",
        &[("email", "new@x.io"), ("password", "password123")],
    )
    .await;
    assert_eq!(s, 303, "confirmed: logged in");
}
