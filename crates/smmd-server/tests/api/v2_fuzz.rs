//! Bad input on the reseller API: random parameter maps and random bodies never crash the server,
//! always get a protocol answer (S34 checks), and a refused request writes nothing.
//! Also the concurrency proof through HTTP: a balance that covers k of n concurrent `add` calls
//! yields exactly k orders.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use smmd_domain::{Money, OrderId, RefillId, UserId};

use crate::helpers::TestApp;
use crate::v2_vectors::fixture;

const KEYS: &[&str] = &[
    "key",
    "action",
    "service",
    "link",
    "quantity",
    "order",
    "orders",
    "refill",
    "refills",
    "runs",
    "interval",
    "comments",
    "usernames",
    "answer_number",
    "min",
    "max",
    "delay",
    "expiry",
    "posts",
    "username",
];
const ACTIONS: &[&str] = &[
    "add",
    "status",
    "refill",
    "refill_status",
    "cancel",
    "balance",
    "services",
    "ADD",
    " status",
    "",
    "foo",
];
const VALUES: &[&str] = &[
    "",
    "0",
    "1",
    "2",
    "5",
    "23501",
    "100",
    "-1",
    "1.5",
    "99999999999999999999",
    "undefined",
    "null",
    "a,b,,",
    "1,2,3",
    "https://instagram.com/p",
    "https://instagram.com/p?a=1&b=2",
    "💥",
    "%00",
    "\n\n",
    " 50 ",
    "10001",
    "11/11/2030",
    "31/02/2030",
    "K",
    "K2",
    "BAD",
    "[]",
    "{}",
    "1e3",
    "+7",
];

/// What a request could have changed.
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    balances: Vec<Money>,
    last_ledger: Option<i64>,
    orders: Vec<(OrderId, String, bool)>,
    refills: Vec<(RefillId, String)>,
}

async fn snapshot(app: &TestApp, users: &[UserId]) -> Snapshot {
    let mut balances = Vec::new();
    let mut last_ledger = None;
    let mut orders = Vec::new();
    let mut refills = Vec::new();
    for u in users {
        balances.push(app.store.user(*u).await.expect("r").expect("u").balance);
        last_ledger = last_ledger.max(
            app.store
                .ledger(*u, None, 1)
                .await
                .expect("l")
                .first()
                .map(|e| e.id),
        );
        for o in app.store.list_orders(*u, None, 1000).await.expect("o") {
            orders.push((o.id, o.status.as_str().to_string(), o.cancel_requested));
        }
        let ids: Vec<RefillId> = (1..60).map(RefillId).collect();
        for r in app.store.refills_of_user(*u, &ids).await.expect("r") {
            refills.push((r.id, r.status.as_str().to_string()));
        }
    }
    Snapshot {
        balances,
        last_ledger,
        orders,
        refills,
    }
}

fn encode(pairs: &[(String, String)]) -> String {
    serde_urlencoded::to_string(pairs).expect("encode")
}

pub async fn random_parameter_maps_get_clear_errors_and_write_nothing(app: TestApp) {
    let f = fixture(&app).await;
    let users = [f.k, f.k2];
    let seed: u64 = std::env::var("SMMD_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_0001);
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut errors, mut successes) = (0, 0);
    for i in 0..400 {
        let mut pairs: Vec<(String, String)> = Vec::new();
        if rng.gen_bool(0.9) {
            pairs.push((
                "key".into(),
                ["K", "K", "K", "K2", "BAD", ""][rng.gen_range(0..6)].into(),
            ));
        }
        if rng.gen_bool(0.9) {
            pairs.push((
                "action".into(),
                ACTIONS[rng.gen_range(0..ACTIONS.len())].into(),
            ));
        }
        for _ in 0..rng.gen_range(0..6) {
            let k = KEYS[rng.gen_range(0..KEYS.len())];
            let v = if rng.gen_bool(0.1) {
                (0..rng.gen_range(0..40))
                    .map(|_| rng.gen_range(' '..='~'))
                    .collect()
            } else {
                VALUES[rng.gen_range(0..VALUES.len())].to_string()
            };
            pairs.push((k.into(), v));
        }
        let before = snapshot(&app, &users).await;
        let r = match i % 3 {
            0 => app.v2(&encode(&pairs)).await,
            1 => {
                app.v2_request(
                    app.client
                        .get(app.url(&format!("/api/v2?{}", encode(&pairs)))),
                )
                .await
            }
            _ => {
                let obj: serde_json::Map<String, serde_json::Value> = pairs
                    .iter()
                    .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
                    .collect();
                app.v2_request(app.client.post(app.url("/api/v2/")).json(&obj))
                    .await
            }
        };
        let refused = r.error().is_some()
            || r.json.as_array().is_some_and(|items| {
                items.iter().all(|it| {
                    it.get("cancel")
                        .or(it.get("refill"))
                        .is_some_and(|v| v.get("error").is_some())
                })
            });
        if refused {
            errors += 1;
            let after = snapshot(&app, &users).await;
            assert_eq!(
                before, after,
                "seed {seed} request {i} was refused ({}) but wrote: {pairs:?}",
                r.json
            );
        } else {
            successes += 1;
        }
    }
    assert!(
        errors > 100 && successes > 10,
        "the generator reaches both outcomes: {errors} errors, {successes} successes"
    );
    app.assert_ledger_consistent().await;
}

pub async fn malformed_bodies_are_incorrect_requests(app: TestApp) {
    fixture(&app).await;
    let bad_bodies: [(&str, &[u8]); 5] = [
        ("application/json", b"{\"key\":\"K\",\"action\":"),
        ("application/json", b"[\"K\",\"balance\"]"),
        ("application/json", b"\"key=K&action=balance\""),
        ("application/x-www-form-urlencoded", b"\xff\xfe\x00key"),
        ("multipart/form-data; boundary=x", b"--x\r\nbroken"),
    ];
    for (ct, body) in bad_bodies {
        let r = app
            .v2_request(
                app.client
                    .post(app.url("/api/v2"))
                    .header("content-type", ct)
                    .body(body.to_vec()),
            )
            .await;
        assert!(r.error().is_some(), "{ct} {body:?} → {}", r.json);
    }
    let huge = format!(
        "key=K&action=add&service=2&link=x&comments={}",
        "a%0A".repeat(1_300_000)
    );
    let r = app.v2(&huge).await;
    assert!(
        r.error().is_some(),
        "a body over the limit is refused, not a crash: {}",
        r.json
    );
}

pub async fn concurrent_adds_spend_exactly_the_balance(app: TestApp) {
    let f = fixture(&app).await;
    // K2 gets enough for k = 13 orders of 0.09 (it already has 0.01).
    let (k, n) = (13, 40);
    app.credit(f.k2, Money::from_micros(90_000 * k), "race")
        .await;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (client, url) = (app.client.clone(), app.url("/api/v2"));
            tokio::spawn(async move {
                let body = format!(
                    "key=K2&action=add&service=1&link=https%3A%2F%2Finstagram.com%2Frace{i}&quantity=100"
                );
                let resp = client
                    .post(url)
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .expect("send");
                resp.json::<serde_json::Value>().await.expect("json")
            })
        })
        .collect();
    let mut placed = 0;
    for t in futures::future::join_all(tasks).await {
        let v = t.expect("task");
        if v.get("order").is_some() {
            placed += 1;
        } else {
            assert_eq!(v["error"], "Not enough funds on balance", "{v}");
        }
    }
    assert_eq!(placed, k, "exactly k of n orders");
    let u = app.store.user(f.k2).await.expect("r").expect("u");
    assert_eq!(
        u.balance,
        Money::parse("0.01").expect("m"),
        "start − k × charge"
    );
    assert_eq!(
        app.store
            .list_orders(f.k2, None, 100)
            .await
            .expect("l")
            .len() as i64,
        k
    );
    app.assert_ledger_consistent().await;
}
