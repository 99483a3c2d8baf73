//! Adding funds: a user's manual payment request (page and REST) is credited once, when an
//! admin approves it; refusals write nothing; users cannot decide; the test top-up is off
//! outside the demo.

use reqwest::header::{COOKIE, LOCATION};
use serde_json::{json, Value};
use smmd_domain::Money;
use smmd_store::Role;

use crate::helpers::TestApp;

pub async fn funds_are_added_once_when_an_admin_approves_a_payment(app: TestApp) {
    let (user, key) = app.account("payer@x.io", Role::User, "0").await;
    let (_, admin_key) = app.account("cashier@x.io", Role::Admin, "0").await;
    let (cookie, csrf) = app.session("payer@x.io").await;
    let page = app
        .client
        .get(app.url("/funds"))
        .header(COOKIE, &cookie)
        .send()
        .await
        .expect("s")
        .text()
        .await
        .expect("t");
    assert!(
        page.contains("Bank transfer") && !page.contains("test funds"),
        "no test top-up outside the demo"
    );
    let form = |fields: Vec<(&'static str, String)>| {
        let (app, cookie) = (&app, cookie.clone());
        async move {
            let r = app
                .client
                .post(app.url("/funds"))
                .header(COOKIE, cookie)
                .form(&fields)
                .send()
                .await
                .expect("s");
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
        form(vec![
            ("amount", "25.00".into()),
            ("method", "Bank transfer".into())
        ])
        .await
        .0,
        403,
        "CSRF"
    );
    for (amount, method) in [
        ("0.50", "Bank transfer"),
        ("abc", "Bank transfer"),
        ("20000", "Bank transfer"),
        ("25", "Gold bars"),
    ] {
        let (_, to) = form(vec![
            ("csrf_token", csrf.clone()),
            ("amount", amount.into()),
            ("method", method.into()),
        ])
        .await;
        assert!(to.contains("err="), "{amount} {method}: {to}");
    }
    let (_, to) = form(vec![
        ("csrf_token", csrf.clone()),
        ("amount", "25.00".into()),
        ("method", "Bank transfer".into()),
        ("note", "IBAN transfer 2026-11-22".into()),
    ])
    .await;
    assert!(to.contains("ok="), "{to}");
    let bad = app
        .client
        .post(app.url("/api/account/payments"))
        .bearer_auth(&key)
        .json(&json!({"amount": "-5", "method": "USDT (TRC-20)"}))
        .send()
        .await
        .expect("s");
    assert_eq!(bad.status(), 422);
    assert_eq!(
        bad.json::<Value>().await.expect("j")["error"]["code"],
        "invalid_payment"
    );
    let created = app
        .client
        .post(app.url("/api/account/payments"))
        .bearer_auth(&key)
        .json(&json!({"amount": "5.5", "method": "USDT (TRC-20)", "note": "tx 0xabc"}))
        .send()
        .await
        .expect("s");
    assert_eq!(created.status(), 201);
    let usdt: Value = created.json().await.expect("j");
    assert_eq!(
        (&usdt["amount"], &usdt["status"]),
        (&json!("5.50"), &json!("pending"))
    );
    let mine: Value = app
        .client
        .get(app.url("/api/account/payments"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(mine.as_array().map(Vec::len), Some(2));
    let bank_id = mine[1]["id"].as_i64().expect("id");
    assert_eq!(
        app.store
            .user(user.id)
            .await
            .expect("u")
            .expect("u")
            .balance,
        Money::ZERO,
        "nothing before approval"
    );

    let decide = |who: String, id: i64, what: &'static str, reason: &'static str| {
        let app = &app;
        async move {
            let r = app
                .client
                .post(app.url(&format!("/api/admin/payments/{id}/{what}")))
                .bearer_auth(who)
                .json(&json!({ "reason": reason }))
                .send()
                .await
                .expect("s");
            (r.status().as_u16(), r.json::<Value>().await.expect("j"))
        }
    };
    assert_eq!(
        decide(key.clone(), bank_id, "approve", "me").await.0,
        403,
        "users cannot approve"
    );
    let pending: Value = app
        .client
        .get(app.url("/api/admin/payments?status=pending"))
        .bearer_auth(&admin_key)
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    assert_eq!(pending.as_array().map(Vec::len), Some(2));
    assert_eq!(
        decide(admin_key.clone(), bank_id, "approve", " ").await.0,
        422,
        "a reason is required"
    );
    let (status, approved) = decide(
        admin_key.clone(),
        bank_id,
        "approve",
        "Seen on the bank statement",
    )
    .await;
    assert_eq!((status, &approved["status"]), (200, &json!("approved")));
    assert_eq!(
        decide(admin_key.clone(), bank_id, "approve", "again")
            .await
            .0,
        409
    );
    assert_eq!(
        decide(admin_key.clone(), bank_id, "reject", "oops").await.0,
        409
    );
    let usdt_id = usdt["id"].as_i64().expect("id");
    assert_eq!(
        decide(admin_key.clone(), usdt_id, "reject", "No such transaction")
            .await
            .0,
        200
    );
    assert_eq!(
        decide(admin_key.clone(), 999_999, "approve", "x").await.0,
        404
    );
    assert_eq!(
        app.store
            .user(user.id)
            .await
            .expect("u")
            .expect("u")
            .balance,
        Money::parse("25").expect("m"),
        "credited once, the rejected one not at all"
    );
    let audit: Value = app
        .client
        .get(app.url("/api/admin/audit"))
        .bearer_auth(&admin_key)
        .send()
        .await
        .expect("s")
        .json()
        .await
        .expect("j");
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["payment.reject", "payment.approve"]);
    let test = app
        .client
        .post(app.url("/funds/test"))
        .header(COOKIE, &cookie)
        .form(&[("csrf_token", csrf.as_str())])
        .send()
        .await
        .expect("s");
    assert_eq!(test.status(), 404, "no test top-up outside the demo");
    app.assert_ledger_consistent().await;
}
