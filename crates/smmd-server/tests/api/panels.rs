//! Hosted child panels end to end (issue 19, `docs/child-panels.md`): root users rent children
//! through `POST /api/panels`; the registry provisions each (storage, admin, dedicated key,
//! provider = the root's `/api/v2` on loopback, catalogue at the renter's markup, schedules);
//! customers order on each child's hostname; the orders complete or are refunded through the
//! root with the money exact in the child customer's, the renter's and the root's ledgers.
//! Hostnames route to one panel each; suspension stops `add` at the root within one request.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HOST};
use serde_json::{json, Value};
use smmd_domain::panel::PanelState;
use smmd_domain::{Clock, Money, OrderId};
use smmd_sim::SimConfig;
use smmd_store::{NewPlan, Role};

use crate::helpers::{TestApp, V2};

fn m(s: &str) -> Money {
    Money::parse(s).expect("money")
}

/// Billing on and a `child_panel` plan of 73.00 a month (0.10 an hour).
pub(crate) async fn child_plan(app: &TestApp) -> i64 {
    let patch = smmd_store::BillingSettingsPatch {
        enabled: Some(true),
        ..Default::default()
    };
    app.store
        .update_billing_settings(&patch, None, app.clock.now_ms(), None)
        .await
        .expect("billing on");
    app.store
        .create_plan(
            &NewPlan {
                code: "child".into(),
                name: "Child panel".into(),
                description: "Your own panel on your domain".into(),
                price: m("73"),
                cap_mode: smmd_domain::billing::charge::CapMode::H730,
                setup_fee: m("0"),
                entitlement: "child_panel".into(),
                settings: r#"{"retain_days":7}"#.into(),
            },
            app.clock.now_ms(),
            None,
        )
        .await
        .expect("plan")
        .id
}

/// A root user with `balance` renting a child on `hosts` at `markup_bp`; returns the panel id.
pub(crate) async fn rent(
    app: &TestApp,
    plan: i64,
    email: &str,
    balance: &str,
    hosts: &str,
    markup_bp: i64,
) -> i64 {
    app.account(email, Role::User, balance).await;
    let (cookie, csrf) = app.session(email).await;
    let resp = app
        .client
        .post(app.url("/api/panels"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({
            "plan_id": plan,
            "hostnames": hosts,
            "name": format!("{email} shop"),
            "admin_email": format!("admin@{}", hosts.split(',').next().unwrap_or("x.example")),
            "admin_password": "child-admin-pw",
            "markup_bp": markup_bp,
        }))
        .send()
        .await
        .expect("rent");
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let body: Value = resp.json().await.expect("json");
    assert_eq!(body["state"], "provisioning");
    body["id"].as_i64().expect("id")
}

/// Waits (real time, at most 60 s) until the registry has provisioned and started child `id`.
pub(crate) async fn wait_active(app: &TestApp, id: i64) -> Arc<smmd_server::panels::Panel> {
    for _ in 0..600 {
        let p = app.store.panel(id).await.expect("read").expect("panel");
        if let (PanelState::Active, Some(child)) = (p.state(), app.deployment.child(id)) {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let p = app.store.panel(id).await.expect("read").expect("panel");
    panic!(
        "panel {id} not active: {:?} step {:?} error {:?}",
        p.state(),
        p.step,
        p.error
    );
}

/// A request to `path` on hostname `host` (the `Host` header, as a browser on that name).
pub(crate) fn on(
    app: &TestApp,
    method: reqwest::Method,
    host: &str,
    path: &str,
) -> reqwest::RequestBuilder {
    app.client.request(method, app.url(path)).header(HOST, host)
}

/// The session cookie (`name=value`) a log-in answer sets.
fn cookie_of(resp: &reqwest::Response) -> String {
    resp.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|c| c.split(';').next())
        .expect("cookie")
        .to_string()
}

/// An API v2 call on hostname `host`.
pub(crate) async fn v2_on(app: &TestApp, host: &str, form: &str) -> V2 {
    app.v2_request(
        on(app, reqwest::Method::POST, host, "/api/v2")
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.to_string()),
    )
    .await
}

/// A customer of child `panel` with `balance` (a deposit in the child's ledger); their key.
async fn customer(
    panel: &smmd_server::panels::Panel,
    app: &TestApp,
    email: &str,
    balance: &str,
) -> String {
    let store = panel.state.store.clone();
    let (u, key) = smmd_app::accounts::register(
        smmd_app::App::new(store.as_ref(), &app.clock),
        email,
        "password123",
        Role::User,
        None,
    )
    .await
    .expect("register");
    store
        .change_balance(smmd_store::BalanceChange {
            user_id: u.id,
            amount: m(balance),
            kind: smmd_store::LedgerKind::Deposit,
            key: format!("seed:{email}"),
            reason: "test".into(),
            actor_id: None,
            now: app.clock.now_ms(),
            audit: None,
        })
        .await
        .expect("deposit");
    key
}

fn service_id(services: &Value, name: &str) -> (i64, Money) {
    let s = services
        .as_array()
        .expect("services")
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {services}"));
    (
        s["service"].as_i64().expect("id"),
        m(s["rate"].as_str().expect("rate")),
    )
}

/// The root with the simulator as its provider: likes complete, views end Partial, followers
/// are Canceled, each every time.
pub(crate) async fn root_with_sim(app: &TestApp) -> (smmd_sim::SimHandle, smmd_jobs::Engine) {
    let mut c = SimConfig::default();
    for s in &mut c.services {
        (s.partial_pct, s.canceled_pct, s.drop_pct) = (0, 0, 0);
    }
    c.services[0].canceled_pct = 100; // followers
    c.services[3].partial_pct = 100; // views
    let sim = smmd_sim::spawn(c, Arc::new(app.clock.clone()), "127.0.0.1:0")
        .await
        .expect("sim");
    let f = crate::fulfil::fulfil(app);
    let p = smmd_app::providers::add_provider(
        smmd_app::App::new(app.store.as_ref(), &app.clock),
        &f.clients,
        None,
        smmd_app::providers::ProviderInput {
            name: "sim".into(),
            url: sim.url.clone(),
            key: sim.sim.config.api_key.clone(),
            currency: "USD".into(),
            exchange_rate: "1".into(),
            alert_below: None,
            timeout_ms: 2_000,
            max_concurrency: 8,
            rate_per_sec: None,
            check_key: true,
            limits: Default::default(),
        },
    )
    .await
    .expect("provider")
    .0;
    smmd_fulfil::catalog::sync_provider(&f, &p, false)
        .await
        .expect("import");
    let engine = app
        .engine(
            smmd_jobs::control::DEFAULT_JOBS,
            Some(f),
            smmd_jobs::jobs::Maintenance::default(),
        )
        .await;
    (sim, engine)
}

/// Advances the clock in 5 s steps for `secs`, ticking the root's and the children's engines.
pub(crate) async fn run_for(
    app: &TestApp,
    root: &smmd_jobs::Engine,
    children: &[&Arc<smmd_server::panels::Panel>],
    secs: i64,
) {
    for _ in 0..secs / 5 {
        app.clock.advance_ms(5_000);
        for c in children {
            c.engine
                .as_ref()
                .expect("child engine")
                .tick()
                .await
                .expect("child tick");
        }
        root.tick().await.expect("root tick");
        for c in children {
            c.engine
                .as_ref()
                .expect("child engine")
                .tick()
                .await
                .expect("child tick");
        }
    }
}

fn net(o: &smmd_store::Order) -> Money {
    o.charge
        .checked_sub(o.refunded)
        .expect("refund within charge")
}

/// The root order that child order `child` was bought as.
async fn root_order_of(app: &TestApp, child: &smmd_store::Order) -> smmd_store::Order {
    let id: i64 = child
        .provider_order_id
        .as_deref()
        .expect("dispatched")
        .parse()
        .expect("numeric id");
    app.store
        .order(OrderId(id))
        .await
        .expect("read")
        .expect("root order")
}

pub async fn two_children_and_the_root_keep_exact_money_through_completion_and_refunds(
    app: TestApp,
) {
    let (sim, root_engine) = root_with_sim(&app).await;
    let plan = child_plan(&app).await;
    let a = rent(
        &app,
        plan,
        "alice@x.io",
        "100",
        "alice.example, www.alice.example",
        2_500,
    )
    .await;
    let b = rent(&app, plan, "bob@x.io", "100", "bob.example", 10_000).await;
    let (pa, pb) = (wait_active(&app, a).await, wait_active(&app, b).await);
    let renter_a = app.store.panel(a).await.expect("r").expect("a").owner_id;
    let renter_b = app.store.panel(b).await.expect("r").expect("b").owner_id;
    let after_rent = |u| {
        let store = app.store.clone();
        async move { store.user(u).await.expect("r").expect("u").balance }
    };
    // The first hour (0.10) is paid; nothing else yet.
    assert_eq!(after_rent(renter_a).await, m("99.90"));

    // Each child lists the root's catalogue at the renter's markup on the renter's price.
    let ca = customer(&pa, &app, "carol@a.io", "50").await;
    let cb = customer(&pb, &app, "dave@b.io", "50").await;
    let la = v2_on(&app, "alice.example", &format!("key={ca}&action=services"))
        .await
        .json;
    let lb = v2_on(&app, "bob.example", &format!("key={cb}&action=services"))
        .await
        .json;
    let root_list = app
        .v2(&format!(
            "key={}&action=services",
            app.account("peek@x.io", Role::User, "0").await.1
        ))
        .await
        .json;
    for name in [
        "Instagram Likes [Fast]",
        "YouTube Views [Non-drop, 60 days refill]",
        "Instagram Followers [Real, 30 days refill]",
    ] {
        let (_, root_rate) = service_id(&root_list, name);
        let (_, rate_a) = service_id(&la, name);
        let (_, rate_b) = service_id(&lb, name);
        assert_eq!(
            rate_a,
            root_rate.apply_markup_bp(2_500).expect("a"),
            "{name}: +25 % on the root's"
        );
        assert_eq!(
            rate_b,
            root_rate.apply_markup_bp(10_000).expect("b"),
            "{name}: +100 % on the root's"
        );
    }
    // A key of one child is nobody at the other or at the root.
    let cross = v2_on(&app, "bob.example", &format!("key={ca}&action=balance")).await;
    assert_eq!(cross.error(), Some("Invalid API key"));
    assert_eq!(
        app.v2(&format!("key={ca}&action=balance")).await.error(),
        Some("Invalid API key")
    );

    // Carol and Dave order a completing, a partial and a canceled service.
    let mut placed = Vec::new();
    for (host, key, list) in [("alice.example", &ca, &la), ("bob.example", &cb, &lb)] {
        for (name, qty, site) in [
            ("Instagram Likes [Fast]", 1_000, "instagram.com%2Fp"),
            (
                "YouTube Views [Non-drop, 60 days refill]",
                1_000,
                "youtube.com%2Fwatch%3Fv%3D",
            ),
            (
                "Instagram Followers [Real, 30 days refill]",
                100,
                "instagram.com",
            ),
        ] {
            let (sid, _) = service_id(list, name);
            let r = v2_on(
                &app,
                host,
                &format!("key={key}&action=add&service={sid}&link=https%3A%2F%2F{site}%2F{host}{qty}&quantity={qty}"),
            )
            .await;
            let id = r.json["order"]
                .as_i64()
                .unwrap_or_else(|| panic!("{host} {name}: {}", r.json));
            placed.push((host, id));
        }
    }
    // A child runs dispatch on demand: the orders go up to the root at the child engine's next
    // pass, without the clock reaching the tick of its dispatch sweep (a minute).
    for (panel, host) in [(&pa, "alice.example"), (&pb, "bob.example")] {
        assert_eq!(
            panel.state.jobs_wake.wanted(),
            vec![smmd_jobs::jobs::DISPATCH],
            "{host}: the order woke dispatch"
        );
        panel
            .engine
            .as_ref()
            .expect("child engine")
            .tick()
            .await
            .expect("child tick");
        for (_, id) in placed.iter().filter(|(h, _)| *h == host) {
            let o = panel
                .state
                .store
                .order(OrderId(*id))
                .await
                .expect("r")
                .expect("child order");
            assert!(
                o.provider_order_id.is_some(),
                "{host}: order {id} sent at once: {o:?}"
            );
        }
    }
    // The children follow their orders at the root: run only the root until every order it
    // was sold has ended, and each child's status sync is woken by the root's feed, while the
    // child, not ticked, still shows its orders in flight (its own sync is a five-minute sweep).
    let root_orders: Vec<OrderId> = {
        let mut ids = Vec::new();
        for (panel, host, renter) in [
            (&pa, "alice.example", renter_a),
            (&pb, "bob.example", renter_b),
        ] {
            for (_, id) in placed.iter().filter(|(h, _)| *h == host) {
                let o = panel
                    .state
                    .store
                    .order(OrderId(*id))
                    .await
                    .expect("r")
                    .expect("o");
                let at_root = root_order_of(&app, &o).await;
                // Sent under its request id: a repeat would get this order back.
                let key = smmd_fulfil::dispatch::upstream_request_id(&o);
                let keyed = app
                    .store
                    .order_by_request_key(renter, &key)
                    .await
                    .expect("r");
                assert_eq!(keyed.map(|k| k.id), Some(at_root.id), "{host}: {key}");
                ids.push(at_root.id);
            }
        }
        ids
    };
    for _ in 0..120 {
        let mut ended = true;
        for id in &root_orders {
            let o = app.store.order(*id).await.expect("r").expect("root order");
            ended &= o.status.is_terminal();
        }
        if ended {
            break;
        }
        app.clock.advance_ms(5_000);
        root_engine.tick().await.expect("root tick");
    }
    for (panel, host) in [(&pa, "alice.example"), (&pb, "bob.example")] {
        let mut woken = false;
        for _ in 0..100 {
            woken = panel
                .state
                .jobs_wake
                .wanted()
                .contains(&smmd_jobs::jobs::SYNC_STATUS.to_string());
            if woken {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            woken,
            "{host}: the root's status events woke the child's sync"
        );
        let (_, id) = placed.iter().find(|(h, _)| *h == host).expect("an order");
        let o = panel
            .state
            .store
            .order(OrderId(*id))
            .await
            .expect("r")
            .expect("o");
        assert!(!o.status.is_terminal(), "{host}: not synced yet: {o:?}");
    }
    run_for(&app, &root_engine, &[&pa, &pb], 600).await;

    // Every child order reached its outcome, and so did the root order it was bought as.
    let want = ["Completed", "Partial", "Canceled"];
    let mut sim_spend = Money::ZERO;
    for (panel, renter, host) in [
        (&pa, renter_a, "alice.example"),
        (&pb, renter_b, "bob.example"),
    ] {
        let store = panel.state.store.clone();
        let mine: Vec<i64> = placed
            .iter()
            .filter(|(h, _)| *h == host)
            .map(|(_, id)| *id)
            .collect();
        let mut child_net = Money::ZERO;
        let mut root_net = Money::ZERO;
        for (id, outcome) in mine.iter().zip(want) {
            let o = store
                .order(OrderId(*id))
                .await
                .expect("r")
                .expect("child order");
            let up = root_order_of(&app, &o).await;
            assert_eq!(
                o.status.wire(),
                outcome,
                "{host} order {id} {o:?}, at the root {up:?}"
            );
            assert_eq!(
                (up.user_id, up.status),
                (renter, o.status),
                "bought as the renter's, same outcome"
            );
            assert_eq!(up.remains, o.remains, "remains flow down unchanged");
            // Each refund is the domain's rule on each side, and the child recorded the cost.
            for x in [&o, &up] {
                assert_eq!(
                    x.refunded,
                    smmd_domain::order::refund_target(
                        x.status,
                        x.charge,
                        x.total_quantity,
                        x.remains
                    ),
                    "{host}: refund of order {} at {}",
                    x.id.0,
                    x.charge
                );
            }
            assert_eq!(
                o.provider_charge,
                Some(net(&up)),
                "the child's recorded cost is the root's net charge (status `charge`)"
            );
            assert!(o.charge > up.charge, "the renter's markup is their margin");
            child_net = child_net.checked_add(net(&o)).expect("sum");
            root_net = root_net.checked_add(net(&up)).expect("sum");
            sim_spend = sim_spend
                .checked_add(
                    up.provider_charge
                        .expect("root cost")
                        .checked_sub(smmd_domain::order::refund_target(
                            up.status,
                            up.provider_charge.expect("cost"),
                            up.total_quantity,
                            up.remains,
                        ))
                        .expect("net cost"),
                )
                .expect("sum");
        }
        // The three ledgers: the child customer paid the child's net charges; the renter's
        // root wallet paid the root's net charges and the hour; every ledger adds up.
        let customer_balance = store
            .list_users(None, 100)
            .await
            .expect("users")
            .into_iter()
            .find(|u| u.role == Role::User)
            .expect("customer")
            .balance;
        assert_eq!(
            customer_balance,
            m("50").checked_sub(child_net).expect("left"),
            "{host} customer"
        );
        let rent: Money = app
            .store
            .ledger(renter, None, 1_000)
            .await
            .expect("ledger")
            .iter()
            .filter(|e| e.kind == smmd_store::LedgerKind::Rent)
            .map(|e| e.amount)
            .fold(Money::ZERO, |s, a| s.checked_add(a).expect("sum"));
        assert_eq!(rent, m("-0.10"), "one hour of the plan so far");
        assert_eq!(
            app.store.user(renter).await.expect("r").expect("u").balance,
            m("99.90").checked_sub(root_net).expect("left"),
            "{host}: the renter's root wallet"
        );
        assert!(
            store.ledger_mismatches().await.expect("check").is_empty(),
            "{host} ledger"
        );
        // The root admin's figures of this panel: the orders its key placed, net of refunds.
        let activity = app
            .store
            .panel_activity()
            .await
            .expect("activity")
            .into_iter()
            .find(|a| a.panel_id == panel.id)
            .expect("listed");
        assert_eq!(
            (activity.orders, activity.revenue),
            (3, root_net),
            "{host}: the root's orders and revenue of this panel"
        );
    }
    // The root bought each order once from the simulator, and its ledger adds up.
    assert_eq!(sim.sim.stats().orders_created, 6);
    assert!(sim_spend.is_positive());
    app.assert_ledger_consistent().await;
}

/// A child's status sync is a five-minute sweep; a cancel its customer asks for is sent up at
/// once: the request wakes the child's `orders.sync_status`, whose run asks the root to cancel.
pub async fn a_cancel_in_a_child_reaches_the_root_without_waiting_for_the_sweep(app: TestApp) {
    let (_sim, _root_engine) = root_with_sim(&app).await;
    let plan = child_plan(&app).await;
    let id = rent(&app, plan, "erin@x.io", "100", "erin.example", 2_500).await;
    let panel = wait_active(&app, id).await;
    let key = customer(&panel, &app, "fay@e.io", "50").await;
    let list = v2_on(&app, "erin.example", &format!("key={key}&action=services"))
        .await
        .json;
    let (sid, _) = service_id(&list, "Instagram Likes [Fast]");
    let placed = v2_on(
        &app,
        "erin.example",
        &format!("key={key}&action=add&service={sid}&link=https%3A%2F%2Finstagram.com%2Fp%2Ferin&quantity=1000"),
    )
    .await;
    let order = OrderId(placed.json["order"].as_i64().expect("order id"));
    let engine = panel.engine.as_ref().expect("child engine");
    engine.tick().await.expect("dispatch");
    let sent = panel
        .state
        .store
        .order(order)
        .await
        .expect("r")
        .expect("order");
    let root_id = root_order_of(&app, &sent).await.id;
    assert!(
        panel.state.jobs_wake.wanted().is_empty(),
        "nothing else wanted"
    );

    let asked = v2_on(
        &app,
        "erin.example",
        &format!("key={key}&action=cancel&orders={}", order.0),
    )
    .await;
    assert_eq!(asked.json[0]["cancel"], 1, "{}", asked.json);
    assert_eq!(
        panel.state.jobs_wake.wanted(),
        vec![smmd_jobs::jobs::SYNC_STATUS],
        "the cancel woke the status sync"
    );
    let asked_of_root = || async {
        let o = app
            .store
            .order(root_id)
            .await
            .expect("r")
            .expect("root order");
        // Queued at the root (its engine does not run here): canceled at once; sent: asked.
        o.cancel_requested || o.status == smmd_domain::order::OrderStatus::Canceled
    };
    assert!(!asked_of_root().await, "not before the child's run");
    // The clock does not move: only the wake makes the run due.
    engine.tick().await.expect("child tick");
    assert!(
        asked_of_root().await,
        "the child's run asked the root to cancel"
    );
}

pub async fn each_hostname_reaches_one_panel_and_credentials_stay_in_theirs(first: TestApp) {
    // The root answers on its own name (and loopback addresses) only.
    let app = crate::helpers::spawn_app_with(first.backend(), |c| {
        c.panels.hostnames = vec!["panel.example".into()];
    })
    .await
    .expect("root with a hostname");
    let (_sim, _engine) = root_with_sim(&app).await;
    let plan = child_plan(&app).await;
    let a = rent(&app, plan, "alice@x.io", "100", "alice.example", 5_000).await;
    wait_active(&app, a).await;
    // The child's admin logs in on the child's name only.
    let login = |host: &'static str, email: &'static str, pw: &'static str| {
        on(&app, reqwest::Method::POST, host, "/api/auth/login")
            .json(&json!({"email": email, "password": pw}))
            .send()
    };
    let ok = login("alice.example", "admin@alice.example", "child-admin-pw")
        .await
        .expect("login");
    assert_eq!(ok.status(), 200);
    let cookie = cookie_of(&ok);
    assert!(
        !ok.headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .contains("Domain="),
        "a host-only cookie"
    );
    assert_eq!(
        login("panel.example", "admin@alice.example", "child-admin-pw")
            .await
            .expect("login")
            .status(),
        401,
        "the child's admin is nobody at the root"
    );
    // The child's session works there and nowhere else; the root's admin session is nobody
    // in the child.
    let me = |host: &'static str, cookie: String| {
        on(&app, reqwest::Method::GET, host, "/api/account")
            .header("cookie", cookie)
            .send()
    };
    assert_eq!(
        me("alice.example", cookie.clone())
            .await
            .expect("me")
            .status(),
        200
    );
    assert_eq!(
        me("panel.example", cookie.clone())
            .await
            .expect("me")
            .status(),
        401
    );
    app.account("root-admin@x.io", Role::Admin, "0").await;
    let (root_cookie, _) = app.session("root-admin@x.io").await;
    assert_eq!(
        me("alice.example", root_cookie.clone())
            .await
            .expect("me")
            .status(),
        401
    );
    let admin_api = on(
        &app,
        reqwest::Method::GET,
        "alice.example",
        "/api/admin/users",
    )
    .header("cookie", &root_cookie)
    .send()
    .await
    .expect("admin");
    assert_eq!(
        admin_api.status(),
        401,
        "a root admin opens nothing inside a child"
    );
    // Each name shows its own brand; an unknown name gets the plain 404, on pages and APIs.
    let app_ref = &app;
    let page = |host: &'static str| async move {
        let r = on(app_ref, reqwest::Method::GET, host, "/")
            .send()
            .await
            .expect("page");
        (r.status().as_u16(), r.text().await.expect("body"))
    };
    let (status, child_page) = page("alice.example").await;
    assert_eq!(status, 200);
    assert!(
        child_page.contains("alice@x.io shop"),
        "the child's brand: {child_page}"
    );
    let (status, unknown) = page("nobody.example").await;
    assert_eq!(status, 404);
    assert!(
        !unknown.contains("alice@x.io shop") && !unknown.contains("Log in"),
        "{unknown}"
    );
    let api = on(
        &app,
        reqwest::Method::GET,
        "nobody.example",
        "/api/v2?action=services&key=x",
    )
    .send()
    .await
    .expect("api");
    assert_eq!(api.status(), 404);
    // The TLS question: only names of panels this deployment serves.
    for (name, code) in [
        ("alice.example", 200),
        ("nobody.example", 404),
        ("not a name", 404),
    ] {
        let r = app
            .client
            .get(app.url(&format!(
                "/_tls/allowed?domain={}",
                name.replace(' ', "%20")
            )))
            .send()
            .await
            .expect("tls");
        assert_eq!(r.status(), code, "{name}");
    }
}

/// The dedicated root key child `panel` orders with (its provider's key, opened with the
/// child's secret).
async fn panel_key(panel: &smmd_server::panels::Panel) -> String {
    let provider = panel
        .state
        .store
        .providers()
        .await
        .expect("providers")
        .into_iter()
        .next()
        .expect("the parent provider");
    panel
        .state
        .fulfil
        .as_ref()
        .expect("fulfil")
        .clients
        .open_key(&provider.api_key_enc)
        .expect("key")
}

pub async fn suspension_stops_add_at_the_root_at_once_and_payment_restores_it(app: TestApp) {
    let (_sim, _engine) = root_with_sim(&app).await;
    let plan = child_plan(&app).await;
    // Dues go unpaid for one hour before the rental is suspended.
    let patch = smmd_store::BillingSettingsPatch {
        suspend_after_hours: Some(1),
        ..Default::default()
    };
    app.store
        .update_billing_settings(&patch, None, app.clock.now_ms(), None)
        .await
        .expect("settings");
    let id = rent(&app, plan, "alice@x.io", "2", "alice.example", 5_000).await;
    let panel = wait_active(&app, id).await;
    let renter = app.store.panel(id).await.expect("r").expect("p").owner_id;
    let key = panel_key(&panel).await;
    let likes = service_id(
        &app.v2(&format!("key={key}&action=services")).await.json,
        "Instagram Likes [Fast]",
    )
    .0;
    let add = |n: i64| {
        format!("key={key}&action=add&service={likes}&link=https%3A%2F%2Finstagram.com%2Fp%2Fs{n}&quantity=100")
    };
    let first = app.v2(&add(1)).await;
    let first_id = first.json["order"]
        .as_i64()
        .unwrap_or_else(|| panic!("{}", first.json));

    // The renter's wallet runs dry: the hours fall due, then the rental is suspended.
    let balance = app.store.user(renter).await.expect("r").expect("u").balance;
    app.store
        .change_balance(smmd_store::BalanceChange {
            user_id: renter,
            amount: Money::ZERO.checked_sub(balance).expect("negate"),
            kind: smmd_store::LedgerKind::Adjustment,
            key: "drain".into(),
            reason: "test".into(),
            actor_id: None,
            now: app.clock.now_ms(),
            audit: None,
        })
        .await
        .expect("drain");
    app.clock.advance_ms(3 * 3_600_000);
    smmd_app::billing::bill_user(smmd_app::App::new(app.store.as_ref(), &app.clock), renter).await;
    let p = app.store.panel(id).await.expect("r").expect("p");
    assert!(
        matches!(p.state(), PanelState::Suspended { .. }),
        "{:?}",
        p.state()
    );
    // The very next add with the child's key is refused with a reason; status still works.
    let refused = app.v2(&add(2)).await;
    assert_eq!(
        refused.error(),
        Some(smmd_server::http::v2::ERR_PANEL_SUSPENDED)
    );
    let status = app
        .v2(&format!("key={key}&action=status&order={first_id}"))
        .await;
    assert!(status.json["status"].is_string(), "{}", status.json);
    assert!(app
        .v2(&format!("key={key}&action=balance"))
        .await
        .error()
        .is_none());

    // The child's customers see the notice, its admin still logs in and sees the renewal.
    smmd_server::panels::registry::refresh(&app.deployment)
        .await
        .expect("refresh");
    let home = on(&app, reqwest::Method::GET, "alice.example", "/")
        .send()
        .await
        .expect("home");
    assert_eq!(home.status(), 503);
    assert!(home
        .text()
        .await
        .expect("body")
        .contains("temporarily unavailable"));
    let api = on(&app, reqwest::Method::POST, "alice.example", "/api/v2")
        .form(&[("key", "x"), ("action", "services")])
        .send()
        .await
        .expect("api");
    assert_eq!(api.status(), 503);
    let login = on(
        &app,
        reqwest::Method::POST,
        "alice.example",
        "/api/auth/login",
    )
    .json(&json!({"email": "admin@alice.example", "password": "child-admin-pw"}))
    .send()
    .await
    .expect("login");
    assert_eq!(login.status(), 200, "the child admin can log in");
    let cookie = cookie_of(&login);
    let admin = on(&app, reqwest::Method::GET, "alice.example", "/admin")
        .header("cookie", &cookie)
        .send()
        .await
        .expect("admin page");
    assert_eq!(admin.status(), 200);
    let page = admin.text().await.expect("body");
    assert!(
        page.contains("Renew the rental") && page.contains("/billing"),
        "the child admin sees the renewal link"
    );

    // Paying restores it within one billing run.
    app.credit(renter, m("5"), "pay").await;
    smmd_app::billing::bill_user(smmd_app::App::new(app.store.as_ref(), &app.clock), renter).await;
    let p = app.store.panel(id).await.expect("r").expect("p");
    assert_eq!(p.state(), PanelState::Active);
    assert!(app.v2(&add(3)).await.json["order"].is_i64(), "orders again");
    smmd_server::panels::registry::refresh(&app.deployment)
        .await
        .expect("refresh");
    let home = on(&app, reqwest::Method::GET, "alice.example", "/")
        .send()
        .await
        .expect("home");
    assert_eq!(home.status(), 200);

    // An admin's suspension works the same way, and only an admin lifts it.
    app.account("root-admin@x.io", Role::Admin, "0").await;
    let (cookie, csrf) = app.session("root-admin@x.io").await;
    let act = |action: &'static str| {
        app.client
            .post(app.url(&format!("/api/admin/panels/{id}/{action}")))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"reason": "abuse report"}))
            .send()
    };
    let r = act("suspend").await.expect("suspend");
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.expect("json")["suspended_for"],
        "admin"
    );
    assert_eq!(
        app.v2(&add(4)).await.error(),
        Some(smmd_server::http::v2::ERR_PANEL_SUSPENDED)
    );
    assert_eq!(act("resume").await.expect("resume").status(), 200);
    assert!(app.v2(&add(5)).await.json["order"].is_i64());
    assert_eq!(act("dance").await.expect("unknown").status(), 404);
    app.assert_ledger_consistent().await;
}

pub async fn a_terminated_child_keeps_its_archive_then_is_removed(app: TestApp) {
    let (_sim, _engine) = root_with_sim(&app).await;
    let plan = child_plan(&app).await; // retain_days 7
    let id = rent(&app, plan, "alice@x.io", "50", "alice.example", 5_000).await;
    let panel = wait_active(&app, id).await;
    let key = customer(&panel, &app, "carol@a.io", "10").await;
    let likes = service_id(
        &v2_on(&app, "alice.example", &format!("key={key}&action=services"))
            .await
            .json,
        "Instagram Likes [Fast]",
    )
    .0;
    let placed = v2_on(
        &app,
        "alice.example",
        &format!("key={key}&action=add&service={likes}&link=https%3A%2F%2Finstagram.com%2Fp%2Fend&quantity=100"),
    )
    .await;
    assert!(placed.json["order"].is_i64(), "{}", placed.json);
    let panel_key = panel_key(&panel).await;
    let storage = app.store.panel(id).await.expect("r").expect("p").storage;

    app.account("root-admin@x.io", Role::Admin, "0").await;
    let (cookie, csrf) = app.session("root-admin@x.io").await;
    let ended = app
        .client
        .post(app.url(&format!("/api/admin/panels/{id}/terminate")))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({"reason": "contract ended"}))
        .send()
        .await
        .expect("terminate");
    assert_eq!(ended.status(), 200);
    let ended: Value = ended.json().await.expect("json");
    assert_eq!(ended["state"], "terminated");
    smmd_server::panels::registry::refresh(&app.deployment)
        .await
        .expect("refresh");
    // Customers find it closed; the root refuses its orders; no certificate any more.
    let home = on(&app, reqwest::Method::GET, "alice.example", "/")
        .send()
        .await
        .expect("home");
    assert_eq!(home.status(), 404);
    assert!(home.text().await.expect("body").contains("/admin/archive"));
    assert_eq!(
        app.v2(&format!("key={panel_key}&action=add&service=1&link=https%3A%2F%2Finstagram.com%2Fp%2Fx&quantity=100"))
            .await
            .error(),
        Some(smmd_server::http::v2::ERR_PANEL_SUSPENDED)
    );
    let tls = app
        .client
        .get(app.url("/_tls/allowed?domain=alice.example"))
        .send()
        .await
        .expect("tls");
    assert_eq!(tls.status(), 404);
    // Its admin logs in and takes the archive: the customers, the order, the ledger.
    let login = on(
        &app,
        reqwest::Method::POST,
        "alice.example",
        "/api/auth/login",
    )
    .json(&json!({"email": "admin@alice.example", "password": "child-admin-pw"}))
    .send()
    .await
    .expect("login");
    assert_eq!(login.status(), 200);
    let child_cookie = cookie_of(&login);
    let archive = on(
        &app,
        reqwest::Method::GET,
        "alice.example",
        "/admin/archive",
    )
    .header("cookie", &child_cookie)
    .send()
    .await
    .expect("archive");
    assert_eq!(archive.status(), 200);
    assert!(archive
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|d| d.contains("archive.json")));
    let archive: Value = archive.json().await.expect("json");
    assert_eq!(archive["orders"].as_array().map(Vec::len), Some(1));
    assert!(archive["users"]
        .as_array()
        .expect("users")
        .iter()
        .any(|u| u["email"] == "carol@a.io"));
    assert!(
        !archive.to_string().contains("argon2"),
        "no password hashes"
    );
    assert!(!archive["ledger"].as_array().expect("ledger").is_empty());

    // After `retain_days` the registry removes its storage and frees its names.
    app.clock.advance_ms(8 * 86_400_000);
    smmd_server::panels::registry::refresh(&app.deployment)
        .await
        .expect("refresh");
    let p = app.store.panel(id).await.expect("r").expect("p");
    assert_eq!(p.state(), PanelState::Removed);
    assert!(p.hostnames.is_empty());
    let (url, schema) =
        smmd_server::panels::registry::storage_location(&app.db_url, &storage).expect("location");
    match schema {
        None => {
            let file = url.trim_start_matches("sqlite://");
            assert!(!std::path::Path::new(file).exists(), "{file} removed");
        }
        Some(schema) => {
            use sqlx::Connection as _;
            sqlx::any::install_default_drivers();
            let mut c = sqlx::AnyConnection::connect(&app.db_url).await.expect("pg");
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = $1",
            )
            .bind(&schema)
            .fetch_one(&mut c)
            .await
            .expect("schemata");
            assert_eq!(n, 0, "schema {schema} dropped");
        }
    }
    let home = on(&app, reqwest::Method::GET, "alice.example", "/")
        .send()
        .await
        .expect("home");
    assert_eq!(
        home.status(),
        200,
        "a removed child's name is no child's: the root answers"
    );
    let again = rent(&app, plan, "bob@x.io", "50", "alice.example", 5_000).await;
    assert_ne!(again, id, "the name can be rented again");
    app.assert_ledger_consistent().await;
}
