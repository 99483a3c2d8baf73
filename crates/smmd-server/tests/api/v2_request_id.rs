//! API v2 `add` with a `request_id` (issue 20, "idempotent `add`"): a repeat with the same
//! parameters answers the first order, racing repeats included; a repeat asking for another
//! order is refused; a refused first attempt placed nothing, so its repeat is a new attempt;
//! keys are the caller's own; an `add` without one answers exactly as before.

use reqwest::header::CONTENT_TYPE;
use serde_json::Value;
use smmd_domain::Clock;
use smmd_store::Role;

use crate::helpers::TestApp;
use crate::smm::catalog;

/// The raw answer to an `add` form (the body's bytes as text).
async fn add_raw(app: &TestApp, form: String) -> String {
    app.client
        .post(app.url("/api/v2"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form)
        .send()
        .await
        .expect("send")
        .text()
        .await
        .expect("body")
}

pub async fn a_request_id_makes_one_order_under_racing_repeats(app: TestApp) {
    let (ann, key) = app.account("ann@x.io", Role::User, "10").await;
    let (_, other_key) = app.account("bob@x.io", Role::User, "10").await;
    let [ig, ..] = catalog(&app).await;
    let form = |key: &str, link: &str, qty: i64, id: &str| {
        format!(
            "key={key}&action=add&service={ig}&link=https%3A%2F%2Finstagram.com%2F{link}&quantity={qty}&request_id={id}"
        )
    };

    // 50 repeats at once (one future each, polled together: 50 requests in flight): one
    // order, every answer the same `{"order":id}`.
    let answers = futures::future::join_all(
        (0..50).map(|_| add_raw(&app, form(&key, "same", 500, "r-7f3a"))),
    )
    .await;
    let first: Value = serde_json::from_str(&answers[0]).expect("json");
    let id = first["order"].as_i64().unwrap_or_else(|| panic!("{first}"));
    assert!(
        answers.iter().all(|a| *a == format!("{{\"order\":{id}}}")),
        "every answer is the first order's: {answers:?}"
    );
    let placed = app.store.list_orders(ann.id, None, 100).await.expect("l");
    assert_eq!(placed.len(), 1, "one order placed");
    let balance = || async { app.store.user(ann.id).await.expect("r").expect("u").balance };
    assert_eq!(
        balance().await,
        smmd_domain::Money::parse("9.50").expect("m"),
        "charged once"
    );

    // Later, the same again: the same answer.
    assert_eq!(
        add_raw(&app, form(&key, "same", 500, "r-7f3a")).await,
        format!("{{\"order\":{id}}}")
    );
    // The key asking for another link or quantity is refused and places nothing.
    for (link, qty) in [("other", 500), ("same", 600)] {
        let v = app.v2(&form(&key, link, qty, "r-7f3a")).await;
        assert_eq!(
            v.error(),
            Some("This request_id was used for a different order"),
            "{link} {qty}"
        );
    }
    // Keys are the caller's own: another reseller's same key is another order.
    let theirs = app.v2(&form(&other_key, "same", 500, "r-7f3a")).await;
    assert_ne!(theirs.json["order"].as_i64(), Some(id), "{}", theirs.json);
    assert!(theirs.json["order"].as_i64().is_some(), "{}", theirs.json);
    // Unusable keys are refused before anything is placed.
    for bad in [&"k".repeat(201), "two%20words", "tab%09inside"] {
        let v = app.v2(&form(&key, "bad", 100, bad)).await;
        assert_eq!(
            v.error(),
            Some("request_id must be 1 to 200 visible ASCII characters"),
            "{bad:?}"
        );
    }
    // A refused first attempt placed nothing: its repeat after a top-up is a new attempt.
    let poor = form(&key, "big", 10_000, "r-big");
    assert_eq!(
        app.v2(&poor).await.error(),
        Some("Not enough funds on balance")
    );
    app.store
        .change_balance(smmd_store::BalanceChange {
            user_id: ann.id,
            amount: smmd_domain::Money::parse("10").expect("m"),
            kind: smmd_store::LedgerKind::Deposit,
            key: "top-up".into(),
            reason: "test".into(),
            actor_id: None,
            now: app.clock.now_ms(),
            audit: None,
        })
        .await
        .expect("top up");
    let big = app.v2(&poor).await;
    let big_id = big.json["order"]
        .as_i64()
        .unwrap_or_else(|| panic!("{}", big.json));
    assert_eq!(app.v2(&poor).await.json["order"].as_i64(), Some(big_id));
    assert_eq!(
        app.store
            .list_orders(ann.id, None, 100)
            .await
            .expect("l")
            .len(),
        2,
        "the first order and the big one, nothing else"
    );

    // Without a request id: a new order each time, answered as every panel answers.
    let plain = |link: &str| {
        format!(
            "key={key}&action=add&service={ig}&link=https%3A%2F%2Finstagram.com%2F{link}&quantity=100"
        )
    };
    // An empty, `null` or `undefined` request id counts as none (the protocol's tolerance of
    // optional parameters, spec §7.2): each is a new order too.
    let mut answers = Vec::new();
    for extra in [
        "",
        "",
        "&request_id=",
        "&request_id=null",
        "&request_id=undefined",
    ] {
        answers.push(add_raw(&app, plain("plain") + extra).await);
    }
    let mut ids = Vec::new();
    for raw in &answers {
        let v: Value = serde_json::from_str(raw).expect("json");
        let n = v["order"].as_i64().unwrap_or_else(|| panic!("{raw}"));
        assert_eq!(*raw, format!("{{\"order\":{n}}}"), "the plain answer");
        ids.push(n);
    }
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 5, "five orders: {answers:?}");
    app.assert_ledger_consistent().await;
}
