//! The server test vectors S1–S34 of `smm-api-v2.md` §9.1, on the fixture of §9: key `K` with
//! 100.84292 USD, `K2` with 0.01, `BAD` unknown; services 1–5; orders 23501, 100 and 2; refills
//! 1 (Completed) and 2 (Rejected). S34 is checked on every answer by `TestApp::v2_request`.

use serde_json::json;
use smmd_domain::order::OrderStatus;
use smmd_domain::refill::RefillStatus;
use smmd_domain::service::ServiceType;
use smmd_domain::{Money, OrderId, UserId};
use smmd_server::auth::token_hash;
use smmd_store::{ImportedOrder, NewUser, Role, ServiceDraft};

use crate::helpers::{TestApp, T0};

const S9: &str = "key=K&action=add&service=1&link=https%3A%2F%2Fwww.instagram.com%2Fp%2FABC%2F%3Fa%3D1%26b%3D2&quantity=100";

fn m(s: &str) -> Money {
    Money::parse(s).expect("amount")
}

pub struct Fixture {
    pub k: UserId,
    pub k2: UserId,
}

async fn account(app: &TestApp, email: &str, key: &str, balance: &str) -> UserId {
    let u = app
        .store
        .create_user(NewUser {
            email: email.into(),
            password_hash: "x".into(),
            role: Role::User,
            api_key_hash: Some(token_hash(key)),
            now: T0,
            audit: None,
            referral: None,
        })
        .await
        .expect("user");
    app.credit(u.id, m(balance), &format!("seed:{email}")).await;
    u.id
}

/// The fixture of spec §9. Services get ids 1–5 and refills 1–2 because the database is fresh.
pub async fn fixture(app: &TestApp) -> Fixture {
    let k = account(app, "k@test.io", "K", "100.84292").await;
    let k2 = account(app, "k2@test.io", "K2", "0.01").await;
    let mut followers = ServiceDraft::new(
        "First Category",
        "Followers",
        ServiceType::Default,
        m("0.90"),
        50,
        10_000,
    );
    followers.refill = true;
    followers.guarantee_days = 30;
    followers.cancel = true;
    followers.dripfeed = true;
    let mut comments = ServiceDraft::new(
        "Second Category",
        "Comments",
        ServiceType::CustomComments,
        m("8"),
        1,
        1500,
    );
    comments.cancel = true;
    let drafts = [
        followers,
        comments,
        ServiceDraft::new(
            "First Category",
            "Package",
            ServiceType::Package,
            m("5.00"),
            1,
            1,
        ),
        ServiceDraft::new(
            "Second Category",
            "Subscriptions",
            ServiceType::Subscriptions,
            m("1"),
            100,
            1000,
        ),
        ServiceDraft::new(
            "Second Category",
            "Poll",
            ServiceType::Poll,
            m("1"),
            10,
            10_000,
        ),
    ];
    for (i, d) in drafts.into_iter().enumerate() {
        let s = app.store.create_service(d, T0).await.expect("service");
        assert_eq!(
            s.id.0,
            i as i64 + 1,
            "fresh database numbers services from 1"
        );
    }
    let imported =
        |id: i64, status: OrderStatus, charge: &str, start: i64, remains: i64, link: &str| {
            ImportedOrder {
                id: OrderId(id),
                user_id: k,
                service_id: smmd_domain::ServiceId(1),
                status,
                link: Some(link.into()),
                quantity: 1000,
                charge: m(charge),
                start_count: Some(start),
                remains: Some(remains),
                created_at: T0 - 86_400_000,
                completed_at: status.is_terminal().then_some(T0 - 3_600_000),
            }
        };
    app.store
        .import_orders(&[
            imported(
                23501,
                OrderStatus::Partial,
                "0.27819",
                3572,
                157,
                "https://instagram.com/a",
            ),
            imported(
                100,
                OrderStatus::InProgress,
                "1.44219",
                234,
                10,
                "https://instagram.com/b",
            ),
            imported(
                2,
                OrderStatus::Queued,
                "0.05",
                0,
                1000,
                "https://instagram.com/c",
            ),
        ])
        .await
        .expect("import");
    for status in [RefillStatus::Completed, RefillStatus::Rejected] {
        let r = app
            .store
            .request_refill(k, OrderId(23501), T0)
            .await
            .expect("refill");
        app.store
            .set_refill_status(r.id, status, T0)
            .await
            .expect("status");
    }
    Fixture { k, k2 }
}

async fn balance(app: &TestApp, user: UserId) -> Money {
    app.store
        .user(user)
        .await
        .expect("read")
        .expect("user")
        .balance
}

pub async fn balance_vectors_s1_to_s7(app: TestApp) {
    let f = fixture(&app).await;
    let expected = json!({"balance": "100.84292", "currency": "USD"});
    // S1 POST form, S2 GET query, S3 trailing slash, S4 JSON body, S5 query + body merged.
    assert_eq!(app.v2("key=K&action=balance").await.json, expected, "S1");
    let get = app
        .v2_request(app.client.get(app.url("/api/v2?action=balance&key=K")))
        .await;
    assert_eq!(get.json, expected, "S2");
    let slash = app
        .v2_request(
            app.client
                .post(app.url("/api/v2/"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("key=K&action=balance"),
        )
        .await;
    assert_eq!(
        slash.json, expected,
        "S3 (no redirect: the helper asserts 200)"
    );
    let json_body = app
        .v2_request(
            app.client
                .post(app.url("/api/v2"))
                .json(&json!({"key": "K", "action": "balance"})),
        )
        .await;
    assert_eq!(json_body.json, expected, "S4");
    let merged = app
        .v2_request(
            app.client
                .post(app.url("/api/v2?key=K"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body("action=balance"),
        )
        .await;
    assert_eq!(merged.json, expected, "S5");
    let multipart = reqwest::multipart::Form::new()
        .text("key", "K")
        .text("action", "balance");
    let mp = app
        .v2_request(app.client.post(app.url("/api/v2")).multipart(multipart))
        .await;
    assert_eq!(mp.json, expected, "multipart/form-data bodies (§7.2)");
    // S6
    for body in ["key=BAD&action=balance", "action=balance"] {
        assert_eq!(
            app.v2(body).await.json,
            json!({"error": "Invalid API key"}),
            "S6 {body}"
        );
    }
    // S7
    for body in ["key=K", "key=K&action=foo", "key=K&orders=23501,100"] {
        assert_eq!(
            app.v2(body).await.json,
            json!({"error": "Incorrect request"}),
            "S7 {body}"
        );
    }
    assert_eq!(
        app.v2("key=K&action=%20BALANCE%20").await.json,
        expected,
        "action trimmed, any case"
    );
    assert_eq!(
        balance(&app, f.k).await,
        m("100.84292"),
        "reads write nothing"
    );
}

pub async fn services_vector_s8(app: TestApp) {
    fixture(&app).await;
    let r = app.v2("key=K&action=services").await;
    let list = r.json.as_array().expect("S8: an array");
    assert_eq!(list.len(), 5);
    let by_id = |id: i64| {
        list.iter()
            .find(|s| s["service"] == id)
            .unwrap_or_else(|| panic!("service {id} listed"))
    };
    assert_eq!(
        *by_id(1),
        json!({"service":1,"name":"Followers","type":"Default","category":"First Category","rate":"0.90","min":"50","max":"10000","refill":true,"cancel":true,"dripfeed":true}),
        "S8"
    );
    assert_eq!(by_id(2)["type"], "Custom Comments");
    assert_eq!(
        (by_id(2)["rate"].as_str(), by_id(2)["dripfeed"].as_bool()),
        (Some("8.00"), Some(false))
    );
    for s in list {
        assert!(
            s["service"].is_i64()
                && s["rate"].is_string()
                && s["min"].is_string()
                && s["refill"].is_boolean(),
            "{s}"
        );
    }
}

async fn order_id(r: &crate::helpers::V2, what: &str) -> OrderId {
    let obj = r
        .json
        .as_object()
        .unwrap_or_else(|| panic!("{what}: object, got {}", r.json));
    assert_eq!(obj.len(), 1, "{what}: only `order`: {}", r.json);
    OrderId(
        obj["order"]
            .as_i64()
            .unwrap_or_else(|| panic!("{what}: integer order id, got {}", r.json)),
    )
}

pub async fn add_vectors_s9_to_s21(app: TestApp) {
    let f = fixture(&app).await;
    let store = &app.store;
    // S9: exact link, charge 0.09.
    let id = order_id(&app.v2(S9).await, "S9").await;
    let o = store.order(id).await.expect("read").expect("S9 order");
    assert_eq!(
        o.link.as_deref(),
        Some("https://www.instagram.com/p/ABC/?a=1&b=2")
    );
    assert_eq!(
        (o.charge, o.total_quantity, o.status),
        (m("0.09"), 100, OrderStatus::Queued)
    );
    assert_eq!(balance(&app, f.k).await, m("100.75292"));
    // S21: the same link while the first order is active.
    let dup = app.v2(S9).await;
    assert_eq!(
        dup.error(),
        Some("You have active order with this link. Please wait until order being completed."),
        "S21"
    );
    // Free the link (cancel refunds the unsent order), then S10–S12 one after another.
    assert_eq!(
        app.v2(&format!("key=K&action=cancel&orders={id}"))
            .await
            .json,
        json!([{"order": id.0, "cancel": 1}])
    );
    let cases = [
        ("&runs=2&interval=5", 200, "0.18", Some(2)),
        ("&runs=undefined&interval=undefined", 100, "0.09", None),
        ("&dripfeed=1&foo=bar", 100, "0.09", None),
    ];
    for (extra, total, charge, runs) in cases {
        let id = order_id(&app.v2(&format!("{S9}{extra}")).await, extra).await;
        let o = store.order(id).await.expect("read").expect("order");
        assert_eq!(
            (o.total_quantity, o.charge, o.runs),
            (total, m(charge), runs),
            "S10–S12 {extra}"
        );
        app.v2(&format!("key=K&action=cancel&orders={id}")).await;
    }
    // S13: smmpy-style comments, + as space, CRLF and empty lines.
    let r = app
        .v2("key=K&action=add&service=2&link=https%3A%2F%2Finstagram.com%2Fp&quantity=10&comments=good+pic%0Agreat+photo%0D%0A%3A%29%0A%0A")
        .await;
    let o = store
        .order(order_id(&r, "S13").await)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(
        o.extras.comments,
        vec!["good pic", "great photo", ":)"],
        "S13"
    );
    assert_eq!((o.quantity, o.charge), (3, m("0.024")));
    // S14 package, S15 subscription without link, S16 poll.
    let o = store
        .order(
            order_id(
                &app.v2("key=K&action=add&service=3&link=https%3A%2F%2Finstagram.com%2Fu")
                    .await,
                "S14",
            )
            .await,
        )
        .await
        .expect("r")
        .expect("o");
    assert_eq!(o.charge, m("5.00"), "S14");
    let s15 = app.v2("key=K&action=add&service=4&username=someuser&min=100&max=110&posts=0&delay=30&expiry=11%2F11%2F2030").await;
    let o = store
        .order(order_id(&s15, "S15").await)
        .await
        .expect("r")
        .expect("o");
    assert_eq!(o.link, None, "S15");
    let s16 = app
        .v2("key=K&action=add&service=5&link=https%3A%2F%2Finstagram.com%2Fpoll&quantity=100&answer_number=7")
        .await;
    assert_eq!(
        store
            .order(order_id(&s16, "S16").await)
            .await
            .expect("r")
            .expect("o")
            .extras
            .answer_number,
        Some(7)
    );
    // S17–S20: refusals write nothing.
    let before = balance(&app, f.k).await;
    let orders_before = store.list_orders(f.k, None, 100).await.expect("list").len();
    let refusals = [
        (
            "key=K&action=add&service=1&link=https%3A%2F%2Finstagram.com%2Fx&quantity=10",
            "Quantity less than minimal 50",
        ),
        (
            "key=K&action=add&service=999&link=https%3A%2F%2Finstagram.com%2Fx&quantity=100",
            "Incorrect service ID",
        ),
        (
            "key=K2&action=add&service=1&link=https%3A%2F%2Finstagram.com%2Fx&quantity=100",
            "Not enough funds on balance",
        ),
        ("key=K&action=add&service=1&quantity=100", "Incorrect link"),
        (
            "key=K&action=add&service=1&link=https%3A%2F%2Finstagram.com%2Fx&quantity=10001",
            "Quantity more than maximum 10000",
        ),
        (
            "key=K&action=add&service=2&link=https%3A%2F%2Finstagram.com%2Fx&comments=a&runs=2&interval=5",
            "This service does not support drip-feed",
        ),
        (
            "key=K&action=add&service=abc&link=https%3A%2F%2Finstagram.com%2Fx&quantity=100",
            "Incorrect service ID",
        ),
        (
            "key=K&action=add&service=1&link=https%3A%2F%2Finstagram.com%2Fx&quantity=1.5",
            "Incorrect quantity",
        ),
    ];
    for (body, message) in refusals {
        assert_eq!(
            app.v2(body).await.json,
            json!({ "error": message }),
            "{body}"
        );
    }
    assert_eq!(balance(&app, f.k).await, before);
    assert_eq!(balance(&app, f.k2).await, m("0.01"));
    assert_eq!(
        store.list_orders(f.k, None, 100).await.expect("list").len(),
        orders_before
    );
    // JSON bodies with numbers (some JS clients) are orders too.
    let j = app
        .v2_request(app.client.post(app.url("/api/v2")).json(
            &json!({"key":"K","action":"add","service":1,"link":"https://instagram.com/json","quantity":100}),
        ))
        .await;
    order_id(&j, "JSON add").await;
    app.assert_ledger_consistent().await;
}

pub async fn status_vectors_s22_to_s26_and_s33(app: TestApp) {
    fixture(&app).await;
    let s22 = json!({"charge":"0.27819","start_count":"3572","status":"Partial","remains":"157","currency":"USD"});
    let s100 = json!({"charge":"1.44219","start_count":"234","status":"In progress","remains":"10","currency":"USD"});
    assert_eq!(
        app.v2("key=K&action=status&order=23501").await.json,
        s22,
        "S22"
    );
    assert_eq!(
        app.v2("key=K&action=status&order=10").await.json,
        json!({"error":"Incorrect order ID"}),
        "S23"
    );
    let s24 = app
        .v2("key=K&action=status&orders=23501%2C10%2C100")
        .await
        .json;
    assert_eq!(
        s24,
        json!({"23501": s22, "10": {"error":"Incorrect order ID"}, "100": s100}),
        "S24"
    );
    assert_eq!(
        app.v2("key=K&action=status&orders=23501").await.json,
        json!({"23501": s22}),
        "S25"
    );
    let s26 = app
        .v2("key=K&action=status&orders=23501,%20100,")
        .await
        .json;
    let keys: Vec<&String> = s26.as_object().expect("map").keys().collect();
    assert_eq!(keys, vec!["23501", "100"], "S26");
    let ids: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
    let s33 = app
        .v2(&format!("key=K&action=status&orders={}", ids.join(",")))
        .await;
    assert!(s33.error().is_some(), "S33: {}", s33.json);
    assert!(
        app.v2(&format!(
            "key=K&action=status&orders={}",
            ids[..100].join(",")
        ))
        .await
        .json
        .is_object(),
        "100 ids are fine"
    );
    // Another user's order is as unknown as a missing one.
    assert_eq!(
        app.v2("key=K2&action=status&order=23501").await.json,
        json!({"error":"Incorrect order ID"})
    );
    let php_array = app
        .v2("key=K&action=status&orders[]=23501&orders[]=100")
        .await
        .json;
    assert_eq!(
        php_array.as_object().map(|o| o.len()),
        Some(2),
        "orders[]= form"
    );
}

pub async fn refill_vectors_s27_s29_s30(app: TestApp) {
    let f = fixture(&app).await;
    let s27 = app.v2("key=K&action=refill&order=23501").await.json;
    let id = s27["refill"]
        .as_str()
        .unwrap_or_else(|| panic!("S27: refill id as a string, got {s27}"));
    assert!(
        id.parse::<i64>().is_ok() && s27.as_object().map(|o| o.len()) == Some(1),
        "S27 {s27}"
    );
    let again = app.v2("key=K&action=refill&order=23501").await;
    assert_eq!(
        again.error(),
        Some("A refill for this order is already in progress"),
        "one active refill per order"
    );
    assert_eq!(
        app.v2("key=K&action=refill&order=100").await.error(),
        Some("Order is not completed yet")
    );
    assert_eq!(
        app.v2("key=K&action=refill&order=9").await.error(),
        Some("Incorrect order ID")
    );
    assert_eq!(
        app.v2("key=K&action=refill_status&refill=1").await.json,
        json!({"status":"Completed"}),
        "S29"
    );
    assert_eq!(
        app.v2("key=K&action=refill_status&refills=1,2,3")
            .await
            .json,
        json!([{"refill":1,"status":"Completed"},{"refill":2,"status":"Rejected"},{"refill":3,"status":"Pending"}]),
        "S30 shape; refill 3 now exists (S27 made it)"
    );
    assert_eq!(
        app.v2("key=K&action=refill_status&refills=1,2,4")
            .await
            .json,
        json!([{"refill":1,"status":"Completed"},{"refill":2,"status":"Rejected"},{"refill":4,"status":{"error":"Refill not found"}}]),
        "S30"
    );
    assert_eq!(
        app.v2("key=K2&action=refill_status&refill=1").await.json,
        json!({"error":"Refill not found"}),
        "others' refills"
    );
    let _ = f;
}

pub async fn refill_multi_vector_s28(app: TestApp) {
    fixture(&app).await;
    let r = app.v2("key=K&action=refill&orders=23501,10").await.json;
    let items = r.as_array().expect("S28 array");
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["order"], 23501);
    assert!(
        items[0]["refill"].is_i64(),
        "S28 refill id is an integer: {r}"
    );
    assert_eq!(
        items[1],
        json!({"order":10,"refill":{"error":"Incorrect order ID"}}),
        "S28"
    );
    // The refill of S28 is now the active one; S30's missing id 3 case on this fixture:
    let s30 = app
        .v2("key=K&action=refill_status&refills=1,2,99")
        .await
        .json;
    assert_eq!(
        s30[2],
        json!({"refill":99,"status":{"error":"Refill not found"}})
    );
}

pub async fn cancel_vectors_s31_s32(app: TestApp) {
    let f = fixture(&app).await;
    let before = balance(&app, f.k).await;
    assert_eq!(
        app.v2("key=K&action=cancel&orders=9,2").await.json,
        json!([{"order":9,"cancel":{"error":"Incorrect order ID"}},{"order":2,"cancel":1}]),
        "S31"
    );
    assert_eq!(
        balance(&app, f.k).await,
        before.checked_add(m("0.05")).expect("sum"),
        "unsent order refunded in full"
    );
    assert_eq!(
        app.v2("key=K&action=cancel&orders=2").await.json,
        json!([{"order":2,"cancel":{"error":"Order is already completed"}}]),
        "a second cancel is refused and refunds nothing"
    );
    assert_eq!(
        balance(&app, f.k).await,
        before.checked_add(m("0.05")).expect("sum")
    );
    // S32 on a fresh unsent order: the single-id list still answers with the array shape.
    let id = order_id(
        &app.v2("key=K&action=add&service=1&link=https%3A%2F%2Finstagram.com%2Fs32&quantity=100")
            .await,
        "add",
    )
    .await;
    assert_eq!(
        app.v2(&format!("key=K&action=cancel&orders={id}"))
            .await
            .json,
        json!([{"order": id.0, "cancel": 1}]),
        "S32"
    );
    assert_eq!(
        app.v2("key=K&action=cancel&orders=100").await.json,
        json!([{"order":100,"cancel":1}]),
        "sent order with cancel allowed: cancel requested"
    );
    assert!(
        app.store
            .order(OrderId(100))
            .await
            .expect("r")
            .expect("o")
            .cancel_requested
    );
    app.assert_ledger_consistent().await;
}
