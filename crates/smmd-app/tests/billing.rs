//! Hourly billing's use cases on both backends (issue 16, "Bad input and faults"): every bad
//! input is a clear error that writes nothing; a deposit collects dues at once; the
//! `billing.rentals` run catches up an outage exactly once, whoever triggers it how often.

use std::sync::Arc;

use smmd_app::billing::{self, PlanEdit, PlanInput, SettingsInput};
use smmd_app::{accounts, wallet, Actor, App, Coded, ErrorCode};
use smmd_domain::billing::HOUR_MS;
use smmd_domain::{Clock, ManualClock, Money, UserId};
use smmd_store::{HourStatus, Plan, RentalAction, Role, Store};
use smmd_store_sql::testing::{fresh, Backend};

/// 2027-03-01T00:00Z, the start of an hour and of a month.
const T0: i64 = 1_803_859_200_000;

fn plan(price: &str) -> PlanInput {
    PlanInput {
        code: "pro".into(),
        name: "Reseller Pro".into(),
        description: String::new(),
        price: price.into(),
        cap_mode: Some("h730".into()),
        setup_fee: None,
        entitlement: "reseller_tier".into(),
        settings: Some(r#"{"discount_bp": 1000}"#.into()),
    }
}

async fn scenario(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let store: Arc<dyn Store> = db.store.clone();
    let clock = ManualClock::new(T0);
    let app = App::new(store.as_ref(), &clock);
    let (admin, _) = accounts::register(app, "root@x.io", "password-1", Role::Admin, None)
        .await
        .expect("admin");
    let actor = Actor::admin(&admin);
    let (ann, _) = accounts::register(app, "ann@x.io", "password-1", Role::User, None)
        .await
        .expect("ann");
    let audit_len = || async { store.audit_log(None, 1000).await.expect("audit").len() };

    // Bad plans: each refused with its code, nothing written.
    let before = audit_len().await;
    for (input, code) in [
        (plan("0"), ErrorCode::InvalidPlan),
        (plan("-5"), ErrorCode::InvalidPlan),
        (plan("abc"), ErrorCode::InvalidPlan),
        (
            PlanInput {
                cap_mode: Some("h999".into()),
                ..plan("73")
            },
            ErrorCode::InvalidPlan,
        ),
        (
            PlanInput {
                entitlement: "unknown".into(),
                ..plan("73")
            },
            ErrorCode::InvalidPlan,
        ),
        (
            PlanInput {
                settings: Some(r#"{"discount_bp": 20000}"#.into()),
                ..plan("73")
            },
            ErrorCode::InvalidPlan,
        ),
        (
            PlanInput {
                code: "Has Spaces".into(),
                ..plan("73")
            },
            ErrorCode::InvalidPlan,
        ),
        (
            PlanInput {
                setup_fee: Some("-1".into()),
                ..plan("73")
            },
            ErrorCode::InvalidPlan,
        ),
    ] {
        let e = billing::create_plan(app, &actor, input.clone())
            .await
            .expect_err("refused");
        assert_eq!(e.code(), code, "{input:?}: {e}");
    }
    assert!(store.plans(true).await.expect("plans").is_empty());
    assert_eq!(audit_len().await, before, "refusals write no audit line");

    let pro = billing::create_plan(app, &actor, plan("73"))
        .await
        .expect("plan");
    let dup = billing::create_plan(app, &actor, plan("10")).await;
    assert_eq!(dup.expect_err("dup").code(), ErrorCode::PlanCodeTaken);
    let bad_edit = billing::edit_plan(
        app,
        &actor,
        pro.id,
        PlanEdit {
            price: Some("0".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(bad_edit.expect_err("zero").code(), ErrorCode::InvalidPlan);
    let preview = billing::preview(&pro, &store.billing_settings().await.expect("s"), T0);
    assert_eq!(preview.first_hour, Money::parse("0.1").expect("m"));
    assert_eq!(
        preview.summary,
        "billed hourly, 0.10/h, never more than 73.00 per calendar month"
    );

    // Renting: disabled on a new panel, then paused, then short of funds.
    let e = billing::rent(app, ann.id, pro.id)
        .await
        .expect_err("disabled");
    assert_eq!(e.code(), ErrorCode::BillingDisabled);
    for bad in [
        SettingsInput {
            hours_per_month: Some(600),
            ..Default::default()
        },
        SettingsInput {
            warn_hours: Some([24, 72]),
            ..Default::default()
        },
        SettingsInput {
            default_cap_mode: Some("weekly".into()),
            ..Default::default()
        },
    ] {
        let e = billing::update_settings(app, &actor, bad)
            .await
            .expect_err("bad settings");
        assert_eq!(e.code(), ErrorCode::InvalidBillingSettings);
    }
    assert!(!store.billing_settings().await.expect("s").enabled);
    billing::update_settings(
        app,
        &actor,
        SettingsInput {
            enabled: Some(true),
            ..Default::default()
        },
    )
    .await
    .expect("enable");
    billing::set_pause(app, &actor, true, "migration")
        .await
        .expect("pause");
    let e = billing::rent(app, ann.id, pro.id)
        .await
        .expect_err("paused");
    assert_eq!(e.code(), ErrorCode::BillingPaused);
    billing::set_pause(app, &actor, false, "done")
        .await
        .expect("resume");
    let e = billing::rent(app, ann.id, pro.id).await.expect_err("short");
    assert_eq!(e.code(), ErrorCode::InsufficientFunds);
    assert!(e.to_string().contains("0.10"), "{e}");
    assert!(store
        .rentals(Some(ann.id), None, 10)
        .await
        .expect("r")
        .is_empty());

    // Rented with 1.00: ten hours paid, then three days of outage.
    wallet::adjust_balance(app, &actor, ann.id, "1.00", "opening", Some("open"))
        .await
        .expect("credit");
    let r = billing::rent(app, ann.id, pro.id).await.expect("rent");
    clock.set_ms(T0 + 72 * HOUR_MS + 5 * 60_000);
    let mut reports = Vec::new();
    for _ in 0..6 {
        reports.push(
            smmd_jobs::billing::run(store.as_ref(), clock.now_ms())
                .await
                .expect("run"),
        );
    }
    let (first, failed) = reports[0];
    assert_eq!(failed, 0);
    assert_eq!((first.hours_paid, first.hours_due), (9, 63));
    assert!(reports[1..]
        .iter()
        .all(|(r, _)| r.hours_paid + r.hours_due + r.hours_waived == 0));
    let status = store.billing_status().await.expect("status");
    assert_eq!(status.settings.watermark, Some(T0 + 73 * HOUR_MS));
    assert_eq!(status.hours_due, 63);
    // The first run had no watermark to be behind of: no lag alert. Three hours without a run
    // (4 h of lag): the next run raises `billing_lag` before catching up, and resolves it.
    // Alerts are read in feed order: on PostgreSQL wait until other transactions (other
    // tests' too) no longer hold the horizon.
    let lag_alerts = || async {
        assert!(store
            .feed_settled(std::time::Duration::from_secs(5))
            .await
            .expect("settle"));
        store
            .alerts_after(smmd_store::FeedPos::default(), 100)
            .await
            .expect("alerts")
            .0
            .into_iter()
            .filter(|a| a.kind == "billing_lag")
            .collect::<Vec<_>>()
    };
    assert!(lag_alerts().await.is_empty());
    clock.set_ms(T0 + 76 * HOUR_MS + 5 * 60_000);
    assert_eq!(
        smmd_domain::billing::lag_hours(status.settings.watermark, clock.now_ms()),
        Some(4)
    );
    smmd_jobs::billing::run(store.as_ref(), clock.now_ms())
        .await
        .expect("run");
    let raised = lag_alerts().await;
    assert_eq!(raised.len(), 1);
    assert!(
        raised[0].message.contains("4 hours behind"),
        "{}",
        raised[0].message
    );
    assert!(
        !store
            .open_alerts()
            .await
            .expect("open")
            .iter()
            .any(|a| a.kind == "billing_lag"),
        "caught up: resolved"
    );

    // A credit names billed, paid hours only; a deposit collects the dues at once.
    let e = billing::credit_hours(app, &actor, r.id, &[T0 + 500 * HOUR_MS], "sorry")
        .await
        .expect_err("never billed");
    assert_eq!(e.code(), ErrorCode::HourNotBilled);
    let e = billing::credit_hours(app, &actor, r.id, &[T0 + 20 * HOUR_MS], "sorry")
        .await
        .expect_err("due, not paid");
    assert_eq!(e.code(), ErrorCode::HourNotBilled);
    wallet::adjust_balance(app, &actor, ann.id, "10.00", "top-up", Some("top"))
        .await
        .expect("credit");
    let rows = store
        .rental_hours(r.id, 0, i64::MAX, 1000)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 77, "hours 0 to 76");
    assert!(rows.iter().all(|h| h.status == HourStatus::Paid));
    let back = store.rental(r.id).await.expect("r").expect("r");
    assert_eq!(
        back.state,
        smmd_domain::billing::rental::RentalState::Active
    );
    assert_eq!(
        store.user(ann.id).await.expect("u").expect("u").balance,
        Money::parse("3.30").expect("m")
    );

    // An admin terminates it; nothing changes a terminated rental.
    billing::admin_action(app, &actor, r.id, RentalAction::Terminate, "fraud")
        .await
        .expect("terminate");
    let e = billing::admin_action(app, &actor, r.id, RentalAction::Suspend, "again")
        .await
        .expect_err("final");
    assert_eq!(e.code(), ErrorCode::InvalidRentalAction);
    let e = billing::cancel(app, ann.id, r.id).await.expect_err("final");
    assert_eq!(e.code(), ErrorCode::InvalidRentalAction);
    let e = billing::admin_action(app, &actor, r.id, RentalAction::Suspend, " ")
        .await
        .expect_err("no reason");
    assert_eq!(e.code(), ErrorCode::ReasonRequired);
    assert!(store.ledger_mismatches().await.expect("check").is_empty());
}

#[tokio::test]
async fn billing_use_cases_refuse_bad_input_and_bill_an_outage_once_sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test]
async fn billing_use_cases_refuse_bad_input_and_bill_an_outage_once_postgres() {
    scenario(Backend::Postgres).await;
}

/// The admin (as an actor) and customers with `balance` each.
async fn people(app: App<'_>, emails: &[&str], balance: &str) -> (Actor, Vec<UserId>) {
    let (admin, _) = accounts::register(app, "root@x.io", "password-1", Role::Admin, None)
        .await
        .expect("admin");
    let actor = Actor::admin(&admin);
    let mut users = Vec::new();
    for email in emails {
        let (u, _) = accounts::register(app, email, "password-1", Role::User, None)
            .await
            .expect("user");
        wallet::adjust_balance(app, &actor, u.id, balance, "opening", Some(email))
            .await
            .expect("credit");
        users.push(u.id);
    }
    (actor, users)
}

/// A followers service at 1.00 per 1000 in `category`.
async fn service(store: &dyn Store, category: &str) -> smmd_store::Service {
    let draft = smmd_store::ServiceDraft::new(
        category,
        "Followers",
        smmd_domain::service::ServiceType::Default,
        Money::parse("1.00").expect("rate"),
        10,
        100_000,
    );
    store.create_service(draft, T0).await.expect("service")
}

/// Billing on with `reserve` hours of rent reserve, and a plan of 73.00 (0.10 an hour) with
/// these `reseller_tier` settings.
async fn billing_with(app: App<'_>, actor: &Actor, reserve: i64, tier: String) -> Plan {
    billing::update_settings(
        app,
        actor,
        SettingsInput {
            enabled: Some(true),
            rent_reserve_hours: Some(reserve),
            ..Default::default()
        },
    )
    .await
    .expect("settings");
    billing::create_plan(
        app,
        actor,
        PlanInput {
            settings: Some(tier),
            ..plan("73")
        },
    )
    .await
    .expect("plan")
}

/// 1000 followers for a link of its own.
fn thousand(n: u32) -> smmd_domain::service::OrderInput {
    smmd_domain::service::OrderInput {
        link: Some(format!("https://instagram.com/p/x{n}")),
        quantity: Some("1000".into()),
        ..Default::default()
    }
}

/// The rent reserve: with `rent_reserve_hours` set, an order that would leave less than that
/// many hours of the user's rentals is refused with a message that says so; one that leaves
/// enough passes, one the balance cannot pay at all gets API v2's plain text, and without a
/// reserve the same order passes.
async fn reserve(backend: Backend) {
    use smmd_app::orders;
    let Some(db) = fresh(backend).await else {
        return;
    };
    let store: Arc<dyn Store> = db.store.clone();
    let clock = ManualClock::new(T0);
    let app = App::new(store.as_ref(), &clock);
    let (actor, users) = people(app, &["ann@x.io"], "5.00").await;
    let ann = users[0];
    // A plan without a discount, so the charges below are list prices.
    let pro = billing_with(app, &actor, 10, "{}".into()).await;
    let svc = service(store.as_ref(), "Instagram").await;
    let times = |k: u32, n: u32| smmd_domain::service::OrderInput {
        quantity: Some((k * 1000).to_string()),
        ..thousand(n)
    };
    billing::rent(app, ann, pro.id).await.expect("rent"); // 0.10 an hour: 4.90 left
                                                          // 10 hours of 0.10 are kept: 1.00 leaves 3.90, fine; 3.00 would leave 0.90.
    orders::place_order(app, ann, svc.id.0, &times(1, 1), Default::default())
        .await
        .expect("leaves enough");
    let e = orders::place_order(app, ann, svc.id.0, &times(3, 2), Default::default())
        .await
        .expect_err("eats the reserve");
    assert_eq!(e.code(), ErrorCode::InsufficientFunds);
    assert_eq!(
        e.to_string(),
        "Not enough funds on balance: 1.00 stays reserved for 10 hours of your rentals, and this order would leave 0.90"
    );
    let e = orders::place_order(app, ann, svc.id.0, &times(5, 3), Default::default())
        .await
        .expect_err("more than the balance");
    assert_eq!(e.to_string(), "Not enough funds on balance");
    assert_eq!(
        store.user(ann).await.expect("u").expect("u").balance,
        Money::parse("3.90").expect("m"),
        "the refusals wrote nothing"
    );
    billing::update_settings(
        app,
        &actor,
        SettingsInput {
            rent_reserve_hours: Some(0),
            ..Default::default()
        },
    )
    .await
    .expect("no reserve");
    orders::place_order(app, ann, svc.id.0, &times(3, 4), Default::default())
        .await
        .expect("no reserve: placed");
}

#[tokio::test]
async fn a_rent_reserve_refuses_orders_that_would_eat_it_sqlite() {
    reserve(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_rent_reserve_refuses_orders_that_would_eat_it_postgres() {
    reserve(Backend::Postgres).await;
}

/// `reseller_tier`: while the rental is live the renter pays the plan's discount on every
/// order (per category where the plan says so), by the one pricing function; others, and the
/// renter after cancelling, pay the list price.
async fn tier(backend: Backend) {
    use smmd_app::{orders, pricing};
    let Some(db) = fresh(backend).await else {
        return;
    };
    let store: Arc<dyn Store> = db.store.clone();
    let clock = ManualClock::new(T0);
    let app = App::new(store.as_ref(), &clock);
    let (actor, users) = people(app, &["ann@x.io", "bob@x.io"], "100").await;
    let (ann, bob) = (users[0], users[1]);
    let plain = service(store.as_ref(), "Instagram").await;
    let special = service(store.as_ref(), "Instagram VIP").await;
    let settings = format!(
        r#"{{"discount_bp": 1000, "category_discount_bp": {{"{}": 2500}}}}"#,
        special.category_id.0
    );
    let pro = billing_with(app, &actor, 0, settings).await;
    let r = billing::rent(app, ann, pro.id).await.expect("rent");
    let charge = |u, svc: i64, n| async move {
        orders::place_order(app, u, svc, &thousand(n), Default::default())
            .await
            .expect("order")
            .charge
    };
    let m = |s: &str| Money::parse(s).expect("m");
    assert_eq!(charge(ann, plain.id.0, 1).await, m("0.90"), "10 % off");
    assert_eq!(
        charge(ann, special.id.0, 2).await,
        m("0.75"),
        "25 % in its category"
    );
    assert_eq!(charge(bob, plain.id.0, 3).await, m("1.00"), "list price");
    let book = pricing::price_book(app, ann).await.expect("book");
    assert_eq!(pricing::priced(&book, &special).rate, m("0.75"));
    billing::cancel(app, ann, r.id).await.expect("cancel");
    assert_eq!(
        charge(ann, plain.id.0, 4).await,
        m("1.00"),
        "no live rental"
    );
}

#[tokio::test]
async fn a_reseller_tier_discounts_every_order_while_live_sqlite() {
    tier(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_reseller_tier_discounts_every_order_while_live_postgres() {
    tier(Backend::Postgres).await;
}

/// A payment approval is a deposit like any other: it first bills the user's rentals up to now
/// with the old balance. Ann's wallet could not pay the hour that began at 01:00; the job had
/// not run yet when her payment was approved at 01:30, so the hour is billed due (past due at
/// 01:00, as an hourly run would have found it) and then collected from the payment.
async fn approval(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let store: Arc<dyn Store> = db.store.clone();
    let clock = ManualClock::new(T0);
    let app = App::new(store.as_ref(), &clock);
    let (actor, users) = people(app, &["ann@x.io"], "0.15").await;
    let ann = users[0];
    let pro = billing_with(app, &actor, 0, "{}".into()).await;
    let r = billing::rent(app, ann, pro.id).await.expect("rent"); // 0.05 left
    clock.set_ms(T0 + HOUR_MS + 30 * 60_000);
    let methods = ["bank".to_string()];
    let terms = wallet::PaymentTerms {
        min_amount: "1",
        max_amount: "1000",
        methods: &methods,
    };
    let p = wallet::request_payment(app, terms, ann, "10", "bank", "ref 1")
        .await
        .expect("request");
    wallet::decide_payment(app, &actor, p.id, true, "received")
        .await
        .expect("approve");
    let log: Vec<(String, i64)> = store
        .rental_log(r.id)
        .await
        .expect("log")
        .into_iter()
        .map(|e| (e.event, e.at))
        .collect();
    assert_eq!(
        log,
        [
            ("activated".to_string(), T0),
            ("past_due".to_string(), T0 + HOUR_MS),
            ("resumed".to_string(), T0 + HOUR_MS + 30 * 60_000),
        ]
    );
    let hours = store
        .rental_hours(r.id, 0, i64::MAX, 10)
        .await
        .expect("hours");
    assert_eq!(hours.len(), 2);
    assert!(hours.iter().all(|h| h.status == HourStatus::Paid));
    assert_eq!(
        store.user(ann).await.expect("u").expect("u").balance,
        Money::parse("9.95").expect("m")
    );
}

#[tokio::test]
async fn a_payment_approval_bills_the_rentals_first_sqlite() {
    approval(Backend::Sqlite).await;
}

#[tokio::test]
async fn a_payment_approval_bills_the_rentals_first_postgres() {
    approval(Backend::Postgres).await;
}
