//! Affiliate payouts over REST (`/api/affiliate…`, `/api/admin/affiliates/…`): a payout method
//! submitted with the password and approved after review, the cool-down before it is used,
//! eligibility now with its reasons, a payout run started by an admin, the pending CSV, a
//! mark-paid file (refused whole for an unknown or repeated id, idempotent when replayed),
//! decisions outside their state refused, a returned payout, transfers to the wallet, the
//! report, and a blocked account locked out. Bad input writes nothing.

use serde_json::{json, Value};
use smmd_domain::clock::DAY_MS;
use smmd_store::Role;

use crate::helpers::TestApp;

async fn call(
    app: &TestApp,
    method: &str,
    key: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let req = match method {
        "GET" => app.client.get(app.url(path)),
        "PUT" => app.client.put(app.url(path)),
        _ => app.client.post(app.url(path)),
    }
    .bearer_auth(key);
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    let resp = req.send().await.expect("send");
    let status = resp.status().as_u16();
    let text = resp.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

pub async fn affiliate_payouts_run_decide_and_transfer_over_rest(app: TestApp) {
    let (aff, key) = app.account("earner@x.io", Role::User, "0").await;
    let (_admin, admin) = app.account("boss@x.io", Role::Admin, "0").await;

    // A method needs the current password; its details are masked everywhere but the review.
    let method = json!({"kind": "paypal", "details": "payee@example.com", "password": "nope"});
    let (s, v) = call(&app, "POST", &key, "/api/affiliate/method", Some(method)).await;
    assert_eq!((s, code(&v)), (401, "invalid_credentials"));
    let bad = json!({"kind": "venmo", "details": "x", "password": "password123"});
    let (s, v) = call(&app, "POST", &key, "/api/affiliate/method", Some(bad)).await;
    assert_eq!((s, code(&v)), (422, "invalid_payout_method"));
    let method =
        json!({"kind": "paypal", "details": "payee@example.com", "password": "password123"});
    let (s, m) = call(
        &app,
        "POST",
        &key,
        "/api/affiliate/method",
        Some(method.clone()),
    )
    .await;
    assert_eq!(
        (s, m["status"].as_str(), m["details"].as_str()),
        (200, Some("submitted"), Some("pa***@example.com"))
    );
    let (s, v) = call(&app, "POST", &key, "/api/affiliate/method", Some(method)).await;
    assert_eq!((s, code(&v)), (409, "method_cooling_down"));
    let id = m["id"].as_i64().expect("id");
    let (_, whole) = call(
        &app,
        "GET",
        &admin,
        &format!("/api/admin/affiliates/methods/{id}"),
        None,
    )
    .await;
    assert_eq!(whole["details"], "payee@example.com");
    let (s, v) = call(
        &app,
        "POST",
        &key,
        &format!("/api/admin/affiliates/methods/{id}"),
        Some(json!({"approve": true})),
    )
    .await;
    assert_eq!((s, code(&v)), (403, "admin_only"));
    let (s, v) = call(
        &app,
        "POST",
        &admin,
        &format!("/api/admin/affiliates/methods/{id}"),
        Some(json!({"approve": true})),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("approved")));

    // 150.00 earned; the method is cooling down, so the next run would not pay yet.
    let adjust = json!({"amount": "150", "reason": "earned", "request_id": "r1"});
    let path = format!("/api/admin/affiliates/users/{}/adjust", aff.id.0);
    let (s, v) = call(&app, "POST", &admin, &path, Some(adjust.clone())).await;
    assert_eq!((s, v["balance_after"].as_str()), (200, Some("150.00")));
    let (s, v) = call(&app, "POST", &admin, &path, Some(adjust)).await;
    assert_eq!((s, code(&v)), (409, "conflict"));
    let (_, me) = call(&app, "GET", &key, "/api/affiliate", None).await;
    assert_eq!(me["eligible"], false);
    assert_eq!(me["blockers"][0]["reason"], "method_cooling_down");
    assert_eq!(
        me["next_run_kind"], "all",
        "a first-timer waits for the first Monday"
    );
    app.clock.advance_ms(8 * DAY_MS);
    let (_, me) = call(&app, "GET", &key, "/api/affiliate", None).await;
    assert_eq!(
        (me["eligible"].as_bool(), me["balance"].as_str()),
        (Some(true), Some("150.00"))
    );

    // The admin runs today's first-Monday run by hand: one payout of the whole balance.
    let (s, v) = call(
        &app,
        "POST",
        &admin,
        "/api/admin/affiliates/runs",
        Some(json!({"kind": "weekly"})),
    )
    .await;
    assert_eq!((s, code(&v)), (422, "invalid_field"));
    let (s, run) = call(
        &app,
        "POST",
        &admin,
        "/api/admin/affiliates/runs",
        Some(json!({"kind": "all"})),
    )
    .await;
    assert_eq!(
        (s, run["status"].as_str(), run["payouts"].as_i64()),
        (200, Some("done"), Some(1))
    );
    let (_, again) = call(
        &app,
        "POST",
        &admin,
        "/api/admin/affiliates/runs",
        Some(json!({"kind": "all"})),
    )
    .await;
    assert_eq!(again["id"], run["id"], "one run per date and kind");
    let (_, detail) = call(
        &app,
        "GET",
        &admin,
        &format!("/api/admin/affiliates/runs/{}", run["id"]),
        None,
    )
    .await;
    assert_eq!(detail["items"].as_array().map(Vec::len), Some(1));
    let payout = detail["items"][0]["payout_id"].as_i64().expect("paid");
    let (_, mine) = call(&app, "GET", &key, "/api/affiliate/payouts", None).await;
    assert_eq!(
        (mine[0]["status"].as_str(), mine[0]["amount"].as_str()),
        (Some("pending"), Some("150.00"))
    );
    assert_eq!(mine[0]["method_details"], "pa***@example.com");
    let (_, me) = call(&app, "GET", &key, "/api/affiliate", None).await;
    assert_eq!(me["balance"], "0.00");

    // The pending CSV carries the whole details for the payer.
    let csv = app
        .client
        .get(app.url("/api/admin/affiliates/payouts/pending.csv"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("csv")
        .text()
        .await
        .expect("text");
    assert!(
        csv.starts_with("payout_id,user_id,email,method,details,amount,currency,reference"),
        "{csv}"
    );
    assert!(
        csv.contains(&format!(
            "{payout},{},earner@x.io,paypal,payee@example.com,150.00",
            aff.id.0
        )),
        "{csv}"
    );

    // A file with an unknown or a repeated id is refused whole; a good one pays; a replay does
    // nothing more.
    let file = |rows: &str| json!({"csv": format!("payout_id,reference\n{rows}")});
    for rows in [
        format!("{payout},TX-1\n999999,TX-2"),
        format!("{payout},TX-1\n{payout},TX-1"),
        "x,TX".into(),
    ] {
        let (s, v) = call(
            &app,
            "POST",
            &admin,
            "/api/admin/affiliates/payouts/mark-paid",
            Some(file(&rows)),
        )
        .await;
        assert_eq!((s, code(&v)), (422, "invalid_csv"), "{rows}");
    }
    let (_, mine) = call(&app, "GET", &key, "/api/affiliate/payouts", None).await;
    assert_eq!(mine[0]["status"], "pending", "a refused file wrote nothing");
    let (s, v) = call(
        &app,
        "POST",
        &admin,
        "/api/admin/affiliates/payouts/mark-paid",
        Some(file(&format!("{payout},TX-1"))),
    )
    .await;
    assert_eq!((s, v["paid"].clone()), (200, json!([payout])));
    let (_, v) = call(
        &app,
        "POST",
        &admin,
        "/api/admin/affiliates/payouts/mark-paid",
        Some(file(&format!("{payout},TX-1"))),
    )
    .await;
    assert_eq!(
        (v["paid"].clone(), v["unchanged"].clone()),
        (json!([]), json!([payout]))
    );
    let decide = |d: &str, text: &str| json!({"decision": d, "text": text});
    let p_path = format!("/api/admin/affiliates/payouts/{payout}");
    let (s, v) = call(
        &app,
        "POST",
        &admin,
        &p_path,
        Some(decide("mark_paid", "TX-OTHER")),
    )
    .await;
    assert_eq!((s, code(&v)), (409, "payout_not_allowed"));
    let (s, v) = call(
        &app,
        "POST",
        &admin,
        &p_path,
        Some(decide("reject_fraud", "ring")),
    )
    .await;
    assert_eq!((s, code(&v)), (422, "confirmation_required"));
    let (_, mine) = call(&app, "GET", &key, "/api/affiliate/payouts", None).await;
    assert_eq!(
        (mine[0]["status"].as_str(), mine[0]["number"].as_i64()),
        (Some("paid"), Some(1))
    );

    // The transfer bounced: returned, the money back on the balance.
    let (s, v) = call(
        &app,
        "POST",
        &admin,
        &p_path,
        Some(decide("returned", "bounced")),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("returned")));
    let (_, me) = call(&app, "GET", &key, "/api/affiliate", None).await;
    assert_eq!(me["balance"], "150.00");
    // Prometheus counts payouts by status from the database.
    let text = app.metrics().await;
    for line in [
        "smmd_affiliate_payouts{status=\"returned\"} 1",
        "smmd_affiliate_payouts_micros{status=\"returned\"} 150000000",
    ] {
        assert!(text.contains(line), "{line} in:\n{text}");
    }

    // Transfers to the wallet: never above the balance, once per request id.
    let t = |amount: &str, id: &str| json!({"amount": amount, "request_id": id});
    let (s, v) = call(
        &app,
        "POST",
        &key,
        "/api/affiliate/transfer",
        Some(t("150.01", "a")),
    )
    .await;
    assert_eq!((s, code(&v)), (422, "insufficient_affiliate_balance"));
    let (s, v) = call(
        &app,
        "POST",
        &key,
        "/api/affiliate/transfer",
        Some(t("0", "a")),
    )
    .await;
    assert_eq!((s, code(&v)), (422, "invalid_amount"));
    let (s, v) = call(
        &app,
        "POST",
        &key,
        "/api/affiliate/transfer",
        Some(t("100", "a")),
    )
    .await;
    assert_eq!(
        (s, v["wallet_balance"].as_str(), v["replayed"].as_bool()),
        (200, Some("100.00"), Some(false))
    );
    let (s, v) = call(
        &app,
        "POST",
        &key,
        "/api/affiliate/transfer",
        Some(t("100", "a")),
    )
    .await;
    assert_eq!((s, v["replayed"].as_bool()), (200, Some(true)));
    let (s, v) = call(
        &app,
        "POST",
        &key,
        "/api/affiliate/transfer",
        Some(t("5", "a")),
    )
    .await;
    assert_eq!((s, code(&v)), (409, "request_id_reused"));
    assert_eq!(
        app.store.user(aff.id).await.expect("u").expect("u").balance,
        smmd_domain::Money::parse("100").expect("m")
    );

    // The report counts what was paid and transferred.
    let (_, r) = call(&app, "GET", &admin, "/api/admin/affiliates/report", None).await;
    assert_eq!(
        (r["transferred"].as_str(), r["balances_now"].as_str()),
        (Some("100.00"), Some("50.00"))
    );
    let (s, v) = call(
        &app,
        "GET",
        &admin,
        "/api/admin/affiliates/report?from=5&to=5",
        None,
    )
    .await;
    assert_eq!((s, code(&v)), (422, "invalid_query"));

    // Settings: out of range is refused; a valid change is kept.
    let (_, mut settings) = call(&app, "GET", &admin, "/api/admin/affiliates/settings", None).await;
    settings["rate_bp"] = json!(9_000);
    let (s, v) = call(
        &app,
        "PUT",
        &admin,
        "/api/admin/affiliates/settings",
        Some(settings.clone()),
    )
    .await;
    assert_eq!((s, code(&v)), (422, "invalid_affiliate_settings"));
    settings["rate_bp"] = json!(700);
    let (s, v) = call(
        &app,
        "PUT",
        &admin,
        "/api/admin/affiliates/settings",
        Some(settings),
    )
    .await;
    assert_eq!((s, v["rate_bp"].as_i64()), (200, Some(700)));

    // A blocked account is locked out of the API.
    let (s, _) = call(
        &app,
        "POST",
        &admin,
        &format!("/api/admin/users/{}/block", aff.id.0),
        Some(json!({"blocked": true})),
    )
    .await;
    assert_eq!(s, 204);
    let (s, _) = call(&app, "GET", &key, "/api/affiliate", None).await;
    assert_eq!(s, 401);
    assert!(app
        .store
        .affiliate_mismatches()
        .await
        .expect("m")
        .is_empty());
}
