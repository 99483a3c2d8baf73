//! `maintenance.cleanup` through the real scheduler: old terminal orders move to the archive and
//! still show everywhere (REST by reference and in lists, API v2 `status`, the admin search, the
//! pages), while what must stay stays (orders inside their guarantee, active orders, live
//! sessions, recent job runs) and the money is untouched.

use serde_json::{json, Value};
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::service::ServiceType;
use smmd_domain::{Clock, Money, OrderId};
use smmd_jobs::jobs::Maintenance;
use smmd_store::{OrderUpdate, Role, ServiceDraft};

use crate::helpers::{TestApp, T0};

const DAY: i64 = 86_400_000;

async fn post(app: &TestApp, key: &str, path: &str, body: Value) -> Value {
    let r = app
        .client
        .post(app.url(path))
        .bearer_auth(key)
        .json(&body)
        .send()
        .await
        .expect("send");
    assert!(r.status().is_success(), "{path}: {}", r.status());
    r.json().await.expect("json")
}

async fn get(app: &TestApp, key: &str, path: &str) -> (u16, Value) {
    let r = app
        .client
        .get(app.url(path))
        .bearer_auth(key)
        .send()
        .await
        .expect("send");
    (r.status().as_u16(), r.json().await.expect("json"))
}

async fn complete(app: &TestApp, id: i64, status: ProviderStatus, remains: i64) {
    let now = app.clock.now_ms();
    for (from, ev) in [
        (OrderStatus::Queued, OrderEvent::Claim),
        (OrderStatus::Submitting, OrderEvent::ProviderAccepted),
        (OrderStatus::Processing, OrderEvent::Provider(status)),
    ] {
        let mut u = OrderUpdate::new(OrderId(id), from, ev, now);
        u.provider_order_id = Some(format!("p{id}"));
        u.remains = Some(remains);
        app.store.apply_order_update(u).await.expect("update");
    }
}

/// Runs the `maintenance.cleanup` job once now (the job the scheduler registers, called the way
/// the engine calls it) and returns its counters.
async fn cleanup(app: &TestApp) -> Value {
    use smmd_jobs::Job;
    let job = smmd_jobs::jobs::Cleanup {
        store: app.store.clone(),
        clock: std::sync::Arc::new(app.clock.clone()),
        settings: Maintenance {
            batch: 2,
            ..Maintenance::default()
        },
    };
    let now = app.clock.now_ms();
    let counters = job
        .run(smmd_jobs::JobContext {
            idempotency_key: format!("test:{now}"),
            scheduled_for: now,
            attempt: 1,
            run_id: 0,
            lease_token: 0,
            instance: "test".into(),
            started_at: now,
        })
        .await
        .expect("cleanup");
    serde_json::to_value(counters).expect("counters")
}

pub async fn cleanup_archives_old_orders_that_still_show_everywhere(app: TestApp) {
    let (user, key) = app.account("old@x.io", Role::User, "100").await;
    let (_, admin_key) = app.account("root@x.io", Role::Admin, "0").await;
    let mut d = ServiceDraft::new(
        "Instagram Likes",
        "Likes",
        ServiceType::Default,
        Money::parse("1").expect("m"),
        10,
        10_000,
    );
    d.refill = true;
    d.guarantee_days = 30;
    d.link_rule = false;
    let svc = app.store.create_service(d, T0).await.expect("svc").id.0;
    let place = |link: String| {
        let app = &app;
        let key = key.clone();
        async move {
            post(
                app,
                &key,
                "/api/smm/orders",
                json!({"service": svc, "link": link, "quantity": 1000}),
            )
            .await
        }
    };
    // Three orders end at T0 (completed, partial, canceled), one with a finished refill.
    let mut old = Vec::new();
    for (i, (status, remains)) in [
        (ProviderStatus::Completed, 0),
        (ProviderStatus::Partial, 300),
        (ProviderStatus::Canceled, 1000),
    ]
    .into_iter()
    .enumerate()
    {
        let o = place(format!("https://instagram.com/old{i}")).await;
        complete(&app, o["id"].as_i64().expect("id"), status, remains).await;
        old.push(o);
    }
    let refill = post(
        &app,
        &key,
        &format!(
            "/api/smm/orders/{}/refill",
            old[0]["reference"].as_str().expect("r")
        ),
        json!({}),
    )
    .await;
    app.store
        .set_refill_status(
            smmd_domain::RefillId(refill["id"].as_i64().expect("id")),
            smmd_domain::refill::RefillStatus::Completed,
            T0 + 1000,
        )
        .await
        .expect("refill done");
    // A session that expires and one that lives.
    app.store
        .create_session("expired-session", user.id, "c", T0, T0 + DAY, false)
        .await
        .expect("s");
    app.store
        .create_session("live-session", user.id, "c", T0, T0 + 400 * DAY, false)
        .await
        .expect("s");
    let fulfil = smmd_fulfil::Fulfil {
        store: app.store.clone(),
        clock: std::sync::Arc::new(app.clock.clone()),
        clients: smmd_fulfil::Clients::new([3u8; 32]),
        settings: smmd_fulfil::Settings::default(),
        lanes: Default::default(),
    };
    let engine = app
        .engine(
            smmd_jobs::control::DEFAULT_JOBS,
            Some(fulfil),
            Maintenance::default(),
        )
        .await;
    app.clock.advance_ms(5_000);
    engine.tick().await.expect("first ticks");
    let job = smmd_jobs::control::show(app.store.as_ref(), "orders.dispatch", T0 + 5_000, 0)
        .await
        .expect("show");
    let runs_at_t0 = app
        .store
        .schedule_runs(job.schedule.id, None, 10)
        .await
        .expect("runs");
    assert_eq!(
        runs_at_t0.len(),
        1,
        "the first tick of orders.dispatch ran at T0"
    );
    // Within the retention, a cleanup keeps the run and every order.
    let early = cleanup(&app).await;
    assert_eq!(
        (
            early["runs_pruned"].as_i64(),
            early["orders_archived"].as_i64()
        ),
        (Some(0), Some(0)),
        "{early}"
    );
    assert_eq!(
        app.store
            .schedule_runs(job.schedule.id, None, 10)
            .await
            .expect("runs"),
        runs_at_t0
    );

    // 100 days later: one order just ended (inside its guarantee), one still running.
    app.clock.set_ms(T0 + 100 * DAY);
    let recent = place("https://instagram.com/recent".into()).await;
    complete(
        &app,
        recent["id"].as_i64().expect("id"),
        ProviderStatus::Completed,
        0,
    )
    .await;
    let active = place("https://instagram.com/active".into()).await;
    let balance_before = app
        .store
        .user(user.id)
        .await
        .expect("r")
        .expect("u")
        .balance;

    let counters = cleanup(&app).await;
    assert_eq!(counters["orders_archived"], 3, "{counters}");
    assert_eq!(counters["refills_archived"], 1, "{counters}");
    assert_eq!(counters["sessions_pruned"], 1, "{counters}");
    assert!(
        counters["runs_pruned"].as_i64().expect("n") >= 1,
        "the T0 runs are past 30 days: {counters}"
    );
    assert!(
        counters["upkeep_statements"].as_i64().expect("n") >= 2,
        "{counters}"
    );
    // A second pass has nothing left to move.
    assert_eq!(cleanup(&app).await["orders_archived"], 0);

    // Everything still shows.
    for o in &old {
        let r = o["reference"].as_str().expect("r");
        let (s, d) = get(&app, &key, &format!("/api/smm/orders/{r}")).await;
        assert_eq!(s, 200, "{r}: {d}");
        assert_eq!(d["order"]["id"], o["id"]);
        assert!(d["timeline"]
            .as_array()
            .expect("t")
            .iter()
            .any(|e| e["event"] == "placed" && e["amount"] == "-1.00"));
    }
    let (_, old_detail) = get(
        &app,
        &key,
        &format!(
            "/api/smm/orders/{}",
            old[0]["reference"].as_str().expect("r")
        ),
    )
    .await;
    assert_eq!(
        old_detail["refills"][0]["status"], "completed",
        "the archived refill is read"
    );
    let (_, list) = get(&app, &key, "/api/smm/orders").await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(5));
    let (_, partial) = get(&app, &key, "/api/smm/orders?status=partial").await;
    assert_eq!(partial["items"][0]["refunded"], "0.30");
    let (_, admin_list) = get(
        &app,
        &admin_key,
        &format!("/api/admin/orders?user={}", user.id.0),
    )
    .await;
    assert_eq!(admin_list["items"].as_array().map(Vec::len), Some(5));
    let ids: Vec<String> = old.iter().map(|o| o["id"].to_string()).collect();
    let v2 = app
        .v2(&format!("key={key}&action=status&orders={}", ids.join(",")))
        .await;
    for (id, want) in ids.iter().zip(["Completed", "Partial", "Canceled"]) {
        assert_eq!(
            v2.json[id]["status"], want,
            "API v2 status of archived #{id}"
        );
    }
    // The customer's orders page lists them too.
    let token = "page-session-token";
    app.store
        .create_session(
            &smmd_server::auth::token_hash(token),
            user.id,
            "c",
            app.clock.now_ms(),
            app.clock.now_ms() + DAY,
            false,
        )
        .await
        .expect("session");
    let page = app
        .client
        .get(app.url("/orders"))
        .header("cookie", format!("smmd_session={token}"))
        .send()
        .await
        .expect("s")
        .text()
        .await
        .expect("t");
    for i in 0..3 {
        assert!(
            page.contains(&format!("instagram.com/old{i}")),
            "the page shows archived order {i}"
        );
    }

    // What must stay, stayed: the recent order can be refilled (live, inside its guarantee),
    // the active one canceled; the live session still opens; money is unchanged.
    let r = app
        .client
        .post(app.url(&format!(
            "/api/smm/orders/{}/refill",
            recent["reference"].as_str().expect("r")
        )))
        .bearer_auth(&key)
        .send()
        .await
        .expect("s");
    assert_eq!(r.status(), 201);
    let c = post(
        &app,
        &key,
        &format!(
            "/api/smm/orders/{}/cancel",
            active["reference"].as_str().expect("r")
        ),
        json!({}),
    )
    .await;
    assert_eq!(c["result"], "canceled");
    assert!(app
        .store
        .session("live-session", 0)
        .await
        .expect("r")
        .is_some());
    assert!(app
        .store
        .session("expired-session", 0)
        .await
        .expect("r")
        .is_none());
    assert_eq!(
        app.store
            .user(user.id)
            .await
            .expect("r")
            .expect("u")
            .balance,
        balance_before
            .checked_add(Money::parse("1").expect("m"))
            .expect("sum"),
        "only the cancel's refund moved money"
    );
    assert!(
        app.store
            .schedule_runs(job.schedule.id, None, 10)
            .await
            .expect("runs")
            .is_empty(),
        "the T0 run is past the 30-day retention"
    );
    app.assert_ledger_consistent().await;
}
