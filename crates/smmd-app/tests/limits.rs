//! Money at its limits (issue 15, "overflow"), on both backends: a credit past `i64`, past the
//! hard ceiling or past the panel's `max_balance` is a clear `above_limit` refusal that writes
//! nothing (it was a 500 on SQLite: "i64 not compatible with DOUBLE"); an order above
//! `max_order_amount` is refused before anything is charged.

use std::sync::Arc;

use smmd_app::{accounts, orders, wallet, Actor, App, Coded, ErrorCode, Limits};
use smmd_domain::service::{OrderInput, ServiceType};
use smmd_domain::{ManualClock, Money};
use smmd_store::{BalanceChange, BalanceError, LedgerKind, Role, ServiceDraft, Store};
use smmd_store_sql::testing::{fresh, Backend};

const T0: i64 = 1_800_000_000_000;

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
    let ledger_len = || async { store.ledger(ann.id, None, 100).await.expect("ledger").len() };
    let balance = || async {
        store
            .user(ann.id)
            .await
            .expect("read")
            .expect("ann")
            .balance
    };

    // i64::MAX micro-units on top of a balance: refused, nothing written.
    for (amount, key) in [
        ("9223372036854.775807", "huge"),
        ("1000000000000.000001", "past-ceiling"),
    ] {
        let e = wallet::adjust_balance(app, &actor, ann.id, amount, "too much", Some(key))
            .await
            .expect_err(amount);
        assert_eq!(e.code(), ErrorCode::AboveLimit, "{amount}: {e}");
        assert!(e.to_string().contains("maximum"), "{e}");
    }
    // The store refuses on its own too, without the use case's read (atomic ceiling).
    let direct = store
        .change_balance(BalanceChange {
            user_id: ann.id,
            amount: Money::MAX_AMOUNT,
            kind: LedgerKind::Deposit,
            key: "direct".into(),
            reason: "direct".into(),
            actor_id: None,
            now: T0,
            audit: None,
        })
        .await;
    assert!(
        matches!(direct, Err(BalanceError::AboveLimit { .. })),
        "{direct:?}"
    );
    assert_eq!(balance().await, Money::parse("10").expect("m"));
    assert_eq!(ledger_len().await, 1, "only the opening credit");

    // The panel's own limits.
    let limited = app.with_limits(Limits {
        max_balance: Money::parse("1000").expect("m"),
        max_order_amount: Money::parse("50").expect("m"),
    });
    let e = wallet::adjust_balance(limited, &actor, ann.id, "990.01", "over", Some("over"))
        .await
        .expect_err("above max_balance");
    assert_eq!(e.code(), ErrorCode::AboveLimit);
    wallet::adjust_balance(limited, &actor, ann.id, "990.00", "to the max", Some("max"))
        .await
        .expect("up to max_balance");
    assert_eq!(balance().await, Money::parse("1000").expect("m"));

    let svc = store
        .create_service(
            ServiceDraft::new(
                "Instagram",
                "Followers",
                ServiceType::Default,
                Money::parse("1.00").expect("rate"),
                10,
                1_000_000,
            ),
            T0,
        )
        .await
        .expect("service");
    let input = |q: &str| OrderInput {
        link: Some(format!("https://instagram.com/{q}")),
        quantity: Some(q.into()),
        ..OrderInput::default()
    };
    let e = orders::place_order(
        limited,
        ann.id,
        svc.id.0,
        &input("50001"),
        Default::default(),
    )
    .await
    .expect_err("above max_order_amount");
    assert_eq!(e.code(), ErrorCode::AmountTooLarge);
    assert_eq!(
        balance().await,
        Money::parse("1000").expect("m"),
        "nothing charged"
    );
    orders::place_order(
        limited,
        ann.id,
        svc.id.0,
        &input("50000"),
        Default::default(),
    )
    .await
    .expect("at max_order_amount");
    assert_eq!(balance().await, Money::parse("950").expect("m"));
}

#[tokio::test]
async fn money_limits_on_sqlite() {
    scenario(Backend::Sqlite).await;
}

#[tokio::test]
async fn money_limits_on_postgres() {
    scenario(Backend::Postgres).await;
}
