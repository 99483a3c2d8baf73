//! The audit line of an admin action commits with the action or not at all, and a replayed
//! request writes it once. Proven through the use cases on both backends: a trigger makes every
//! insert into `audit_log` fail (a failure injected after the action's own writes, inside its
//! transaction), and each action must then leave no trace; without the trigger each writes
//! exactly one line, and replays write none.

use std::sync::Arc;

use smmd_app::catalog::{CategoryRef, ServicePatch};
use smmd_app::review::OrderAction;
use smmd_app::{accounts, catalog, orders, providers, review, wallet, Actor, App, ErrorCode};
use smmd_app::{Coded, UseCaseError};
use smmd_domain::service::{OrderInput, ServiceType};
use smmd_domain::{ManualClock, Money};
use smmd_store::{NewProvider, Role, ServiceDraft, Store};
use smmd_store_sql::testing::{fresh, Backend, TestDb};
use sqlx::Connection as _;

const T0: i64 = 1_800_000_000_000;

/// Makes every insert into `audit_log` fail (`on`) or removes that trigger.
async fn fail_audits(db: &TestDb, backend: Backend, on: bool) {
    sqlx::any::install_default_drivers();
    let mut c = sqlx::AnyConnection::connect(&db.url)
        .await
        .expect("connect");
    let sql: &[&str] = match (backend, on) {
        (Backend::Sqlite, true) => &["CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log \
              BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END"],
        (Backend::Sqlite, false) => &["DROP TRIGGER fail_audit"],
        (Backend::Postgres, true) => &[
            "CREATE FUNCTION fail_audit() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'injected audit failure'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER fail_audit BEFORE INSERT ON audit_log \
             FOR EACH ROW EXECUTE FUNCTION fail_audit()",
        ],
        (Backend::Postgres, false) => &[
            "DROP TRIGGER fail_audit ON audit_log",
            "DROP FUNCTION fail_audit()",
        ],
    };
    for s in sql {
        sqlx::query(s).execute(&mut c).await.expect(s);
    }
}

fn internal<T: std::fmt::Debug>(r: Result<T, UseCaseError>, what: &str) {
    match r {
        Err(e) => assert_eq!(e.code(), ErrorCode::Internal, "{what}: {e}"),
        Ok(v) => panic!("{what} succeeded without its audit line: {v:?}"),
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
    wallet::adjust_balance(app, &actor, ann.id, "10.00", "opening", Some("open"))
        .await
        .expect("opening credit");
    let svc = store
        .create_service(
            ServiceDraft::new(
                "Instagram",
                "Followers",
                ServiceType::Default,
                Money::parse("1.00").expect("rate"),
                10,
                1000,
            ),
            T0,
        )
        .await
        .expect("service");
    let order = |link: &str| OrderInput {
        link: Some(link.into()),
        quantity: Some("100".into()),
        ..OrderInput::default()
    };
    let o1 = orders::place_order(
        app,
        ann.id,
        svc.id.0,
        &order("https://instagram.com/a"),
        Default::default(),
    )
    .await
    .expect("order 1");
    let o2 = orders::place_order(
        app,
        ann.id,
        svc.id.0,
        &order("https://instagram.com/b"),
        Default::default(),
    )
    .await
    .expect("order 2");
    let provider = store
        .create_provider(
            NewProvider {
                name: "P".into(),
                url: "http://127.0.0.1:9/api/v2".into(),
                currency: "USD".into(),
                exchange_rate: 1_000_000,
                api_key_enc: "sealed".into(),
                timeout_ms: 1_000,
                max_concurrency: 1,
                rate_per_sec: None,
                balance_alert_below: None,
                limits: smmd_store::ProviderLimits::default(),
            },
            T0,
            None,
        )
        .await
        .expect("provider");
    let pay = wallet::request_payment(
        app,
        wallet::PaymentTerms {
            min_amount: "1",
            max_amount: "100",
            methods: &["Bank".to_string()],
        },
        ann.id,
        "5",
        "Bank",
        "ref 1",
    )
    .await
    .expect("payment request");
    let audited = || async { store.audit_log(None, 100).await.expect("audit log") };
    let before = audited().await;
    let ledger_before = store.ledger(ann.id, None, 100).await.expect("ledger");
    let category = store.list_categories().await.expect("categories")[0].clone();
    let balance_before = store
        .user(ann.id)
        .await
        .expect("read")
        .expect("ann")
        .balance;
    assert_eq!(
        balance_before,
        Money::parse("9.80").expect("m"),
        "10.00 less two orders"
    );

    // With every audit insert failing, each action fails whole.
    fail_audits(&db, backend, true).await;
    internal(
        wallet::adjust_balance(app, &actor, ann.id, "2.50", "goodwill", Some("r1")).await,
        "credit",
    );
    internal(
        accounts::set_role(app, &actor, ann.id, "admin").await,
        "role",
    );
    let patch = ServicePatch {
        name: Some("Followers HQ".into()),
        rate: Some("1.50".into()),
        ..ServicePatch::default()
    };
    internal(
        catalog::edit_service(app, &actor, svc.id, patch.clone()).await,
        "service edit",
    );
    internal(
        catalog::set_category_markup(app, &actor, CategoryRef::Id(category.id.0), Some(900)).await,
        "category markup",
    );
    internal(
        review::act_on_order(app, &actor, o1.id, OrderAction::Refund, "duplicate").await,
        "refund",
    );
    internal(
        review::cancel_for_customer(app, &actor, o2.id, "asked by mail").await,
        "cancel",
    );
    internal(
        wallet::decide_payment(app, &actor, pay.id, true, "seen on the bank").await,
        "payment",
    );
    internal(
        providers::set_provider_enabled(app, &actor, provider.id, false).await,
        "provider",
    );
    internal(
        accounts::register(app, "bob@x.io", "password-1", Role::User, Some(&actor)).await,
        "user create",
    );
    // Nothing of any of them is left.
    assert_eq!(audited().await.len(), before.len(), "no audit line");
    assert_eq!(
        store.ledger(ann.id, None, 100).await.expect("ledger"),
        ledger_before,
        "no ledger entry"
    );
    let ann_now = store.user(ann.id).await.expect("read").expect("ann");
    assert_eq!(
        (ann_now.role, ann_now.balance),
        (Role::User, balance_before)
    );
    let svc_now = store.service(svc.id).await.expect("read").expect("svc");
    assert_eq!(
        (svc_now.name.as_str(), svc_now.rate),
        ("Followers", svc.rate)
    );
    assert!(store
        .service_changes(svc.id, 10)
        .await
        .expect("changes")
        .is_empty());
    let cat_now = store.list_categories().await.expect("categories")[0].clone();
    assert_eq!(cat_now.markup_bp, category.markup_bp);
    for o in [&o1, &o2] {
        let now = store.order(o.id).await.expect("read").expect("order");
        assert_eq!((now.status, now.refunded), (o.status, Money::ZERO));
    }
    let pending = store
        .payment_requests(None, Some("pending"), 10)
        .await
        .expect("payments");
    assert_eq!(pending.len(), 1, "the payment is still pending");
    assert!(
        store
            .provider(provider.id)
            .await
            .expect("read")
            .expect("provider")
            .enabled
    );
    assert!(store
        .user_credentials("bob@x.io")
        .await
        .expect("read")
        .is_none());
    assert!(store.ledger_mismatches().await.expect("check").is_empty());

    // Without the failure, each writes its change and exactly one line.
    fail_audits(&db, backend, false).await;
    let credit = wallet::adjust_balance(app, &actor, ann.id, "2.50", "goodwill", Some("r1"))
        .await
        .expect("credit");
    accounts::set_role(app, &actor, ann.id, "admin")
        .await
        .expect("role");
    catalog::edit_service(app, &actor, svc.id, patch)
        .await
        .expect("edit");
    catalog::set_category_markup(app, &actor, CategoryRef::Id(category.id.0), Some(900))
        .await
        .expect("markup");
    review::act_on_order(app, &actor, o1.id, OrderAction::Refund, "duplicate")
        .await
        .expect("refund");
    review::cancel_for_customer(app, &actor, o2.id, "asked by mail")
        .await
        .expect("cancel");
    wallet::decide_payment(app, &actor, pay.id, true, "seen on the bank")
        .await
        .expect("approve");
    providers::set_provider_enabled(app, &actor, provider.id, false)
        .await
        .expect("disable");
    let (bob, _) = accounts::register(app, "bob@x.io", "password-1", Role::User, Some(&actor))
        .await
        .expect("bob");
    // Replays: the same credit request id, a second decision, a second refund.
    let again = wallet::adjust_balance(app, &actor, ann.id, "2.50", "goodwill", Some("r1"))
        .await
        .expect("replayed credit");
    assert_eq!(again.id, credit.id, "the replay returns the first entry");
    let twice = wallet::decide_payment(app, &actor, pay.id, true, "again").await;
    assert_eq!(
        twice.map(|_| ()).map_err(|e| e.code()),
        Err(ErrorCode::AlreadyDecided)
    );
    let refund_again = review::act_on_order(app, &actor, o1.id, OrderAction::Refund, "again").await;
    assert_eq!(
        refund_again.map(|_| ()).map_err(|e| e.code()),
        Err(ErrorCode::InvalidTransition)
    );

    let after = audited().await;
    let new: Vec<(String, String)> = after[..after.len() - before.len()]
        .iter()
        .rev()
        .map(|e| (e.action.clone(), e.subject.clone()))
        .collect();
    let s = |t: &str| t.to_string();
    assert_eq!(
        new,
        vec![
            (s("user.credit"), format!("user:{}", ann.id)),
            (s("user.role"), format!("user:{}", ann.id)),
            (s("service.edit"), format!("service:{}", svc.id)),
            (s("category.markup"), format!("category:{}", category.id.0)),
            (s("order.refund"), format!("order:{}", o1.id)),
            (s("order.cancel"), format!("order:{}", o2.id)),
            (s("payment.approve"), format!("payment:{}", pay.id)),
            (s("provider.disable"), format!("provider:{}", provider.id)),
            (s("user.create"), format!("user:{}", bob.id)),
        ],
        "one line per action, none for the replays"
    );
    let line = |action: &str| {
        after
            .iter()
            .find(|e| e.action == action)
            .expect("line")
            .clone()
    };
    assert_eq!(line("user.credit").detail, "2.50: goodwill");
    assert_eq!(line("user.role").detail, "user -> admin");
    assert_eq!(
        line("service.edit").detail,
        "name: Followers -> Followers HQ; rate: 1.00 -> 1.50"
    );
    assert_eq!(
        line("payment.approve").detail,
        format!("5.00 to user:{}: seen on the bank", ann.id)
    );
    assert!(after
        .iter()
        .all(|e| e.actor == "root@x.io" && e.actor_id == Some(admin.id)));
    assert!(store.ledger_mismatches().await.expect("check").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_line_commits_with_its_action_or_not_at_all_on_sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_line_commits_with_its_action_or_not_at_all_on_postgres() {
    scenario(Backend::Postgres).await;
}
