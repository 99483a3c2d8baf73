//! The conformance suite every [`Store`] backend must pass (feature `testsuite`). Each case is a
//! plain async function taking a fresh store; [`conformance_tests!`](crate::conformance_tests)
//! turns the whole list into `#[tokio::test]`s for one backend. Every case ends by checking the
//! ledger invariant `balance = Σ ledger`.

use std::sync::Arc;

use smmd_domain::alert::AlertKind;
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::refill::{RefillError, RefillStatus};
use smmd_domain::service::{validate_order, OrderError, OrderInput, ServiceType};
use smmd_domain::{Money, OrderId, ProviderId, RefillId, UserId};

use crate::*;

/// Generates one `#[tokio::test]` per conformance case. `$make` is an expression evaluating to a
/// future of `Option<T>` where `T` has a `store` field coercible to `Arc<dyn Store>`; `None`
/// skips (explicit PostgreSQL opt-out only).
#[macro_export]
macro_rules! conformance_tests {
    ($make:expr) => {
        $crate::conformance_tests!(@cases $make;
            users_are_unique_by_email_ignoring_case,
            api_keys_and_sessions_identify_users,
            balance_changes_are_idempotent_and_never_negative,
            concurrent_credits_with_one_key_apply_once,
            placing_an_order_debits_and_records_the_charge,
            an_order_without_funds_writes_nothing,
            active_order_with_the_same_link_is_refused,
            concurrent_orders_spend_exactly_the_balance,
            provider_outcomes_refund_once_and_top_up,
            stale_and_illegal_updates_write_nothing,
            cancel_refunds_unsent_orders_and_requests_sent_ones,
            refills_follow_the_eligibility_rules,
            imported_orders_keep_their_ids,
            services_and_categories_round_trip,
            concurrent_claimers_create_exactly_one_run_per_tick,
            one_run_per_schedule_runs_and_stale_leases_are_fenced,
            skipped_ticks_and_overlap_are_recorded,
            failed_runs_retry_until_attempts_are_used,
            ensure_schedule_never_overwrites_an_edited_schedule,
            schedule_edits_are_audited_and_bump_the_version,
            run_now_with_one_request_key_makes_one_run,
            pause_stops_claims_and_starts_until_resumed,
            released_runs_return_to_pending_without_counting_the_attempt,
            canary_writes_are_fenced_by_the_lease_token,
            clock_wakeup_and_health_figures,
            concurrent_dispatch_claims_take_each_order_once,
            dispatch_skips_disabled_providers_and_sync_reads_oldest_checked_first,
            offers_alerts_and_admin_edits_round_trip,
            a_request_key_places_one_order_and_finds_it_again,
            order_searches_filter_page_and_use_public_references,
            archived_orders_are_read_everywhere_and_refuse_changes,
            the_audit_log_keeps_admin_actions_newest_first,
            the_order_log_records_each_change_with_it,
            notifications_are_collected_once_and_delivered_with_retries,
            the_feed_reads_every_source_after_its_cursor_and_wakes_on_commit,
            payment_requests_credit_once_when_approved,
            dashboard_figures_and_completion_times,
        );
    };
    (@cases $make:expr; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let Some(db) = $make.await else { return };
                $crate::testsuite::$case(db.store.clone()).await;
            }
        )*
    };
}

const NOW: i64 = 1_767_225_600_000; // 2026-01-01T00:00:00Z

fn m(s: &str) -> Money {
    Money::parse(s).expect("amount")
}

async fn user(store: &Arc<dyn Store>, email: &str, balance: &str) -> User {
    let u = store
        .create_user(NewUser {
            email: email.to_string(),
            password_hash: "$argon2id$test".to_string(),
            role: Role::User,
            api_key_hash: None,
            now: NOW,
            audit: None,
        })
        .await
        .expect("create user");
    if m(balance).is_positive() {
        credit(store, u.id, balance, &format!("seed:{email}")).await;
    }
    store.user(u.id).await.expect("read").expect("exists")
}

async fn credit(store: &Arc<dyn Store>, user: UserId, amount: &str, key: &str) -> LedgerEntry {
    store
        .change_balance(BalanceChange {
            user_id: user,
            amount: m(amount),
            kind: LedgerKind::Deposit,
            key: key.to_string(),
            reason: "test".to_string(),
            actor_id: None,
            now: NOW,
            audit: None,
        })
        .await
        .expect("credit")
}

async fn followers(store: &Arc<dyn Store>) -> Service {
    let mut d = ServiceDraft::new(
        "Instagram Followers",
        "Followers",
        ServiceType::Default,
        m("0.90"),
        50,
        10_000,
    );
    d.refill = true;
    d.guarantee_days = 30;
    d.cancel = true;
    d.dripfeed = true;
    store.create_service(d, NOW).await.expect("service")
}

async fn place(
    store: &Arc<dyn Store>,
    u: UserId,
    svc: &Service,
    link: &str,
    qty: i64,
) -> Result<Order, PlaceOrderError> {
    let input = OrderInput {
        link: Some(link.to_string()),
        quantity: Some(qty.to_string()),
        ..Default::default()
    };
    let spec = validate_order(&svc.rules(), &input)?;
    store.place_order(u, svc, &spec, None, NOW).await
}

async fn balance(store: &Arc<dyn Store>, u: UserId) -> Money {
    store.user(u).await.expect("read").expect("user").balance
}

async fn assert_ledger_consistent(store: &Arc<dyn Store>) {
    let bad = store.ledger_mismatches().await.expect("ledger check");
    assert!(bad.is_empty(), "balance != Σ ledger for {bad:?}");
}

fn update(
    o: &Order,
    expected: OrderStatus,
    event: OrderEvent,
    remains: Option<i64>,
) -> OrderUpdate {
    OrderUpdate {
        order_id: o.id,
        expected,
        event,
        start_count: Some(100),
        remains,
        provider_order_id: None,
        provider_charge: None,
        offer: None,
        note: None,
        now: NOW + 60_000,
        audit: None,
    }
}

/// Moves a queued order to `processing` the way dispatch will.
async fn accept(store: &Arc<dyn Store>, o: &Order) {
    for (from, ev) in [
        (OrderStatus::Queued, OrderEvent::Claim),
        (OrderStatus::Submitting, OrderEvent::ProviderAccepted),
    ] {
        let mut u = update(o, from, ev, None);
        u.provider_order_id = Some(format!("p-{}", o.id));
        assert!(matches!(
            store.apply_order_update(u).await.expect("update"),
            UpdateOutcome::Applied { .. }
        ));
    }
}

pub async fn users_are_unique_by_email_ignoring_case(store: Arc<dyn Store>) {
    let a = user(&store, "Ann@Example.com", "0").await;
    assert_eq!(a.balance, Money::ZERO);
    let dup = store
        .create_user(NewUser {
            email: "ann@example.COM".into(),
            password_hash: "x".into(),
            role: Role::Admin,
            api_key_hash: None,
            now: NOW,
            audit: None,
        })
        .await;
    assert!(
        matches!(dup, Err(StoreError::Conflict("users.email"))),
        "{dup:?}"
    );
    let creds = store
        .user_credentials(" ANN@example.com ")
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(
        (creds.user.id, creds.password_hash.as_str()),
        (a.id, "$argon2id$test")
    );
    store.set_role(a.id, Role::Admin, None).await.expect("role");
    assert_eq!(
        store.user(a.id).await.expect("read").expect("user").role,
        Role::Admin
    );
    assert!(matches!(
        store.set_role(UserId(999_999), Role::Admin, None).await,
        Err(StoreError::NotFound)
    ));
    let listed = store.list_users(None, 10).await.expect("list");
    assert_eq!(listed.len(), 1);
}

pub async fn api_keys_and_sessions_identify_users(store: Arc<dyn Store>) {
    let a = user(&store, "a@x.io", "0").await;
    let b = user(&store, "b@x.io", "0").await;
    store.set_api_key(a.id, "hash-a1").await.expect("key");
    assert_eq!(
        store
            .user_by_api_key("hash-a1")
            .await
            .expect("lookup")
            .map(|u| u.id),
        Some(a.id)
    );
    store.set_api_key(a.id, "hash-a2").await.expect("rotate");
    assert!(
        store
            .user_by_api_key("hash-a1")
            .await
            .expect("lookup")
            .is_none(),
        "old key stops working"
    );
    assert!(matches!(
        store.set_api_key(b.id, "hash-a2").await,
        Err(StoreError::Conflict("users.api_key"))
    ));

    store
        .create_session("tok", b.id, "csrf-1", NOW, NOW + 1_000)
        .await
        .expect("session");
    let (u, csrf) = store
        .session("tok", NOW + 999)
        .await
        .expect("read")
        .expect("live");
    assert_eq!((u.id, csrf.as_str()), (b.id, "csrf-1"));
    assert!(
        store
            .session("tok", NOW + 1_000)
            .await
            .expect("read")
            .is_none(),
        "expired"
    );
    store.delete_session("tok").await.expect("delete");
    assert!(store.session("tok", NOW).await.expect("read").is_none());
}

pub async fn balance_changes_are_idempotent_and_never_negative(store: Arc<dyn Store>) {
    let u = user(&store, "w@x.io", "0").await;
    let first = credit(&store, u.id, "10.5", "pay:1").await;
    let again = credit(&store, u.id, "10.5", "pay:1").await;
    assert_eq!(first, again, "same key returns the first entry");
    assert_eq!(balance(&store, u.id).await, m("10.5"));
    let reused = store
        .change_balance(BalanceChange {
            user_id: u.id,
            amount: m("3"),
            kind: LedgerKind::Deposit,
            key: "pay:1".into(),
            reason: String::new(),
            actor_id: None,
            now: NOW,
            audit: None,
        })
        .await;
    assert!(matches!(reused, Err(BalanceError::KeyReused)), "{reused:?}");
    let debit = |amount: &str, key: &str| BalanceChange {
        user_id: u.id,
        amount: -m(amount),
        kind: LedgerKind::Adjustment,
        key: key.to_string(),
        reason: "admin debit".into(),
        actor_id: Some(u.id),
        now: NOW,
        audit: None,
    };
    let too_much = store.change_balance(debit("10.500001", "adj:1")).await;
    assert!(
        matches!(too_much, Err(BalanceError::InsufficientFunds)),
        "{too_much:?}"
    );
    let e = store
        .change_balance(debit("10.5", "adj:2"))
        .await
        .expect("exact debit");
    assert_eq!((e.amount, e.balance_after), (m("-10.5"), Money::ZERO));
    assert!(matches!(
        store.change_balance(debit("0", "adj:3")).await,
        Err(BalanceError::ZeroAmount)
    ));
    let ghost = store
        .change_balance(BalanceChange {
            user_id: UserId(424_242),
            ..debit("-1", "adj:4")
        })
        .await;
    assert!(matches!(ghost, Err(BalanceError::UnknownUser)), "{ghost:?}");
    let entries = store.ledger(u.id, None, 10).await.expect("ledger");
    assert_eq!(
        entries.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
        vec!["adj:2", "pay:1"]
    );
    let older = store
        .ledger(u.id, Some(entries[0].id), 10)
        .await
        .expect("page");
    assert_eq!(older.len(), 1);
    assert_ledger_consistent(&store).await;
}

pub async fn concurrent_credits_with_one_key_apply_once(store: Arc<dyn Store>) {
    let u = user(&store, "c@x.io", "0").await;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .change_balance(BalanceChange {
                        user_id: u.id,
                        amount: m("1.25"),
                        kind: LedgerKind::Deposit,
                        key: "payment:abc".into(),
                        reason: String::new(),
                        actor_id: None,
                        now: NOW,
                        audit: None,
                    })
                    .await
            })
        })
        .collect();
    let ids: Vec<i64> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("credit").id)
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] == w[1]),
        "every caller sees the one entry: {ids:?}"
    );
    assert_eq!(balance(&store, u.id).await, m("1.25"));
    assert_ledger_consistent(&store).await;
}

pub async fn placing_an_order_debits_and_records_the_charge(store: Arc<dyn Store>) {
    let u = user(&store, "o@x.io", "1").await;
    let svc = followers(&store).await;
    let o = place(
        &store,
        u.id,
        &svc,
        "https://www.instagram.com/p/ABC/?a=1&b=2",
        100,
    )
    .await
    .expect("placed");
    assert_eq!(o.status, OrderStatus::Queued);
    assert_eq!(
        (o.charge, o.quantity, o.total_quantity),
        (m("0.09"), 100, 100)
    );
    assert_eq!(
        o.link.as_deref(),
        Some("https://www.instagram.com/p/ABC/?a=1&b=2")
    );
    assert_eq!(
        (o.guarantee_days, o.refill, o.cancel),
        (30, true, true),
        "copied from the service"
    );
    assert_eq!(balance(&store, u.id).await, m("0.91"));
    let entries = store.ledger(u.id, None, 10).await.expect("ledger");
    let charge = entries.first().expect("charge entry");
    assert_eq!(charge.key, format!("order:{}:charge", o.id));
    assert_eq!(
        (charge.amount, charge.kind, charge.order_id),
        (m("-0.09"), LedgerKind::Charge, Some(o.id))
    );
    assert_eq!(store.order(o.id).await.expect("read"), Some(o.clone()));
    let other = user(&store, "p@x.io", "0").await;
    assert!(
        store
            .orders_of_user(other.id, &[o.id])
            .await
            .expect("read")
            .is_empty(),
        "not another user's"
    );
    assert_eq!(
        store.list_orders(u.id, None, 10).await.expect("list"),
        vec![o]
    );
    assert_ledger_consistent(&store).await;
}

pub async fn an_order_without_funds_writes_nothing(store: Arc<dyn Store>) {
    let u = user(&store, "poor@x.io", "0.01").await;
    let svc = followers(&store).await;
    let r = place(&store, u.id, &svc, "https://x", 100).await;
    assert!(
        matches!(
            r,
            Err(PlaceOrderError::Rejected(OrderError::InsufficientFunds))
        ),
        "{r:?}"
    );
    assert_eq!(balance(&store, u.id).await, m("0.01"));
    assert!(store
        .list_orders(u.id, None, 10)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store.ledger(u.id, None, 10).await.expect("ledger").len(),
        1,
        "only the seed credit"
    );
    assert_ledger_consistent(&store).await;
}

pub async fn active_order_with_the_same_link_is_refused(store: Arc<dyn Store>) {
    let u = user(&store, "l@x.io", "5").await;
    let svc = followers(&store).await;
    let first = place(&store, u.id, &svc, "https://x/p/1", 100)
        .await
        .expect("first");
    let again = place(&store, u.id, &svc, "https://x/p/1", 100).await;
    assert!(
        matches!(
            again,
            Err(PlaceOrderError::Rejected(OrderError::ActiveOrderWithLink))
        ),
        "{again:?}"
    );
    assert_eq!(
        balance(&store, u.id).await,
        m("4.91"),
        "the refused order took nothing"
    );
    place(&store, u.id, &svc, "https://x/p/2", 100)
        .await
        .expect("other link is fine");
    // Once the first order ends, the link is free again.
    accept(&store, &first).await;
    store
        .apply_order_update(update(
            &first,
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ))
        .await
        .expect("complete");
    place(&store, u.id, &svc, "https://x/p/1", 100)
        .await
        .expect("link free after completion");
    // A service without the rule accepts duplicates.
    let mut d = ServiceDraft::new("Views", "Views", ServiceType::Default, m("0.10"), 10, 1000);
    d.link_rule = false;
    let views = store.create_service(d, NOW).await.expect("views");
    place(&store, u.id, &views, "https://x/v", 100)
        .await
        .expect("one");
    place(&store, u.id, &views, "https://x/v", 100)
        .await
        .expect("two");
    assert_ledger_consistent(&store).await;
}

pub async fn concurrent_orders_spend_exactly_the_balance(store: Arc<dyn Store>) {
    // The balance covers k = 7 orders of 0.09 (plus change); 24 race for it.
    let (k, n) = (7_i64, 24_i64);
    let start = Money::from_micros(90_000 * k + 50_000);
    let u = user(&store, "race@x.io", &start.to_string()).await;
    let svc = followers(&store).await;
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (store, svc) = (store.clone(), svc.clone());
            tokio::spawn(async move {
                place(&store, u.id, &svc, &format!("https://x/race/{i}"), 100).await
            })
        })
        .collect();
    let results = futures::future::join_all(tasks).await;
    let mut placed = 0;
    for r in results {
        match r.expect("task") {
            Ok(_) => placed += 1,
            Err(PlaceOrderError::Rejected(OrderError::InsufficientFunds)) => {}
            Err(e) => panic!("unexpected error {e}"),
        }
    }
    assert_eq!(placed, k, "exactly k orders fit the balance");
    assert_eq!(balance(&store, u.id).await, m("0.05"));
    assert_eq!(
        store
            .list_orders(u.id, None, 100)
            .await
            .expect("list")
            .len() as i64,
        k
    );
    assert_ledger_consistent(&store).await;
}

pub async fn provider_outcomes_refund_once_and_top_up(store: Arc<dyn Store>) {
    let u = user(&store, "r@x.io", "1").await;
    let svc = followers(&store).await;
    let o = place(&store, u.id, &svc, "https://x/r", 1000)
        .await
        .expect("placed"); // charge 0.90
    accept(&store, &o).await;
    let partial = update(
        &o,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Partial),
        Some(400),
    );
    let UpdateOutcome::Applied {
        order: after,
        refunded,
    } = store
        .apply_order_update(partial.clone())
        .await
        .expect("partial")
    else {
        panic!("partial not applied")
    };
    assert_eq!(refunded, m("0.36"), "0.90 × 400 / 1000");
    assert_eq!(
        (after.status, after.refunded, after.remains),
        (OrderStatus::Partial, m("0.36"), Some(400))
    );
    assert_eq!(after.completed_at, Some(NOW + 60_000));
    assert_eq!(
        after.provider_order_id.as_deref(),
        Some(format!("p-{}", o.id).as_str())
    );
    // The same sync result again is stale: nothing is paid twice.
    assert_eq!(
        store.apply_order_update(partial).await.expect("repeat"),
        UpdateOutcome::Stale
    );
    assert_eq!(balance(&store, u.id).await, m("0.46"));
    // An upstream correction to Canceled tops the refund up to the whole charge.
    let cancel = update(
        &after,
        OrderStatus::Partial,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
    );
    let UpdateOutcome::Applied {
        order: canceled,
        refunded,
    } = store.apply_order_update(cancel).await.expect("cancel")
    else {
        panic!("correction not applied")
    };
    assert_eq!(
        (refunded, canceled.refunded, canceled.status),
        (m("0.54"), m("0.90"), OrderStatus::Canceled)
    );
    assert_eq!(
        canceled.completed_at,
        Some(NOW + 60_000),
        "first terminal time is kept"
    );
    assert_eq!(balance(&store, u.id).await, m("1"));
    let keys: Vec<String> = store
        .ledger(u.id, None, 10)
        .await
        .expect("ledger")
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(keys[0], format!("order:{}:refund:900000", o.id));
    assert_eq!(keys[1], format!("order:{}:refund", o.id));
    // Completed pays nothing.
    let c = place(&store, u.id, &svc, "https://x/c", 100)
        .await
        .expect("placed");
    accept(&store, &c).await;
    let UpdateOutcome::Applied { refunded, .. } = store
        .apply_order_update(update(
            &c,
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ))
        .await
        .expect("complete")
    else {
        panic!("not applied")
    };
    assert_eq!(refunded, Money::ZERO);
    assert_ledger_consistent(&store).await;
}

pub async fn stale_and_illegal_updates_write_nothing(store: Arc<dyn Store>) {
    let u = user(&store, "s@x.io", "1").await;
    let svc = followers(&store).await;
    let o = place(&store, u.id, &svc, "https://x/s", 100)
        .await
        .expect("placed");
    let stale = update(
        &o,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
    );
    assert_eq!(
        store.apply_order_update(stale).await.expect("stale"),
        UpdateOutcome::Stale
    );
    let illegal = update(
        &o,
        OrderStatus::Queued,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
    );
    assert!(matches!(
        store.apply_order_update(illegal).await.expect("illegal"),
        UpdateOutcome::Illegal(_)
    ));
    assert_eq!(
        store.order(o.id).await.expect("read").expect("order"),
        o,
        "unchanged"
    );
    let missing = OrderUpdate {
        order_id: OrderId(987_654),
        ..update(&o, OrderStatus::Queued, OrderEvent::Claim, None)
    };
    assert!(matches!(
        store.apply_order_update(missing).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(balance(&store, u.id).await, m("0.91"));
    assert_ledger_consistent(&store).await;
}

pub async fn cancel_refunds_unsent_orders_and_requests_sent_ones(store: Arc<dyn Store>) {
    let u = user(&store, "k@x.io", "1").await;
    let other = user(&store, "k2@x.io", "1").await;
    let svc = followers(&store).await;
    let queued = place(&store, u.id, &svc, "https://x/q", 100)
        .await
        .expect("q");
    let sent = place(&store, u.id, &svc, "https://x/s", 100)
        .await
        .expect("s");
    accept(&store, &sent).await;
    let theirs = place(&store, other.id, &svc, "https://x/t", 100)
        .await
        .expect("t");
    let mut no_cancel = ServiceDraft::new("Likes", "Likes", ServiceType::Default, m("1"), 10, 1000);
    no_cancel.cancel = false;
    let likes = store.create_service(no_cancel, NOW).await.expect("likes");
    let stuck = place(&store, u.id, &likes, "https://x/l", 100)
        .await
        .expect("l");
    accept(&store, &stuck).await;

    let ids = [
        queued.id,
        sent.id,
        theirs.id,
        OrderId(999_999),
        stuck.id,
        queued.id,
    ];
    let results = store
        .cancel_orders(u.id, &ids, NOW + 1, None)
        .await
        .expect("cancel");
    let got: Vec<_> = results.into_iter().map(|(_, r)| r).collect();
    assert_eq!(
        got,
        vec![
            Ok(CancelOutcome::Canceled {
                refunded: m("0.09")
            }),
            Ok(CancelOutcome::Requested),
            Err(CancelError::NotFound),
            Err(CancelError::NotFound),
            Err(CancelError::NotCancelable),
            Err(CancelError::AlreadyFinished),
        ]
    );
    let sent_now = store.order(sent.id).await.expect("read").expect("order");
    assert!(
        sent_now.cancel_requested && sent_now.status == OrderStatus::Processing,
        "refund waits for sync"
    );
    let again = store
        .cancel_orders(u.id, &[sent.id], NOW + 2, None)
        .await
        .expect("cancel");
    assert_eq!(again[0].1, Err(CancelError::AlreadyRequested));
    assert_eq!(
        balance(&store, u.id).await,
        m("0.81"),
        "1 − 2 × 0.09 − 0.10 + 0.09 refunded"
    );
    assert_eq!(
        store
            .order(theirs.id)
            .await
            .expect("read")
            .expect("o")
            .status,
        OrderStatus::Queued
    );
    assert_ledger_consistent(&store).await;
}

pub async fn refills_follow_the_eligibility_rules(store: Arc<dyn Store>) {
    let u = user(&store, "f@x.io", "1").await;
    let svc = followers(&store).await;
    let o = place(&store, u.id, &svc, "https://x/f", 100)
        .await
        .expect("placed");
    let early = store.request_refill(u.id, o.id, NOW).await;
    assert!(
        matches!(
            early,
            Err(RefillRequestError::Ineligible(RefillError::NotCompleted))
        ),
        "{early:?}"
    );
    accept(&store, &o).await;
    store
        .apply_order_update(update(
            &o,
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ))
        .await
        .expect("complete");
    let stranger = user(&store, "g@x.io", "0").await;
    assert!(matches!(
        store.request_refill(stranger.id, o.id, NOW).await,
        Err(RefillRequestError::NotFound)
    ));
    let r = store
        .request_refill(u.id, o.id, NOW + 120_000)
        .await
        .expect("refill");
    assert_eq!((r.status, r.order_id), (RefillStatus::Pending, o.id));
    let dup = store.request_refill(u.id, o.id, NOW + 130_000).await;
    assert!(
        matches!(
            dup,
            Err(RefillRequestError::Ineligible(RefillError::AlreadyActive))
        ),
        "{dup:?}"
    );
    store
        .set_refill_status(r.id, RefillStatus::Completed, NOW + 200_000)
        .await
        .expect("status");
    let seen = store
        .refills_of_user(u.id, &[r.id, RefillId(77_777)])
        .await
        .expect("read");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].status, RefillStatus::Completed);
    assert!(store
        .refills_of_user(stranger.id, &[r.id])
        .await
        .expect("read")
        .is_empty());
    store
        .request_refill(u.id, o.id, NOW + 300_000)
        .await
        .expect("a new refill after the first ended");
    let late = store
        .request_refill(u.id, o.id, NOW + 60_000 + 31 * 86_400_000)
        .await;
    assert!(
        matches!(late, Err(RefillRequestError::Ineligible(_))),
        "{late:?}"
    );
    assert_ledger_consistent(&store).await;
}

pub async fn imported_orders_keep_their_ids(store: Arc<dyn Store>) {
    let u = user(&store, "i@x.io", "1").await;
    let svc = followers(&store).await;
    let imported = ImportedOrder {
        id: OrderId(23_501),
        user_id: u.id,
        service_id: svc.id,
        status: OrderStatus::Partial,
        link: Some("https://x/old".into()),
        quantity: 1000,
        charge: m("0.27819"),
        start_count: Some(3572),
        remains: Some(157),
        created_at: NOW - 1_000,
        completed_at: Some(NOW - 500),
    };
    store
        .import_orders(std::slice::from_ref(&imported))
        .await
        .expect("import");
    let o = store
        .order(OrderId(23_501))
        .await
        .expect("read")
        .expect("imported");
    assert_eq!(
        (o.status, o.charge, o.start_count, o.remains),
        (OrderStatus::Partial, m("0.27819"), Some(3572), Some(157))
    );
    assert_eq!((o.guarantee_days, o.refill), (30, true));
    assert!(matches!(
        store.import_orders(&[imported]).await,
        Err(StoreError::Conflict(_))
    ));
    let next = place(&store, u.id, &svc, "https://x/new", 100)
        .await
        .expect("placed");
    assert!(
        next.id.0 > 23_501,
        "new ids continue after imported ones: {}",
        next.id
    );
    assert_eq!(
        balance(&store, u.id).await,
        m("0.91"),
        "imports do not touch the wallet"
    );
    assert_ledger_consistent(&store).await;
}

pub async fn services_and_categories_round_trip(store: Arc<dyn Store>) {
    let svc = followers(&store).await;
    assert_eq!(
        (svc.category.as_str(), svc.rate, svc.min, svc.max),
        ("Instagram Followers", m("0.90"), 50, 10_000)
    );
    let mut d = ServiceDraft::new(
        "Instagram Followers",
        "Comments",
        ServiceType::CustomComments,
        m("8"),
        1,
        1500,
    );
    d.description = "Custom comments 💬".into();
    d.provider_service_id = Some("308".into());
    d.provider_rate = Some(m("0.08011"));
    let c = store
        .create_service(d.clone(), NOW)
        .await
        .expect("comments");
    assert_eq!(
        (c.category_id, c.service_type),
        (svc.category_id, ServiceType::CustomComments)
    );
    assert_eq!(store.service(c.id).await.expect("read"), Some(c.clone()));
    d.enabled = false;
    d.category = "Hidden".into();
    let hidden = store
        .update_service(c.id, d, NOW + 1)
        .await
        .expect("update");
    assert!(!hidden.enabled && hidden.category == "Hidden");
    assert_eq!(store.list_services(true).await.expect("list").len(), 1);
    assert_eq!(store.list_services(false).await.expect("list").len(), 2);
    let cats = store.list_categories().await.expect("cats");
    assert_eq!(
        cats.iter()
            .map(|c| (c.name.as_str(), c.services))
            .collect::<Vec<_>>(),
        vec![("Instagram Followers", 1), ("Hidden", 0)]
    );
    let missing = store
        .update_service(
            smmd_domain::ServiceId(31_337),
            ServiceDraft::new("X", "X", ServiceType::Default, m("1"), 1, 2),
            NOW,
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
}

// ---- scheduler ---------------------------------------------------------------------------

fn new_schedule(name: &str, overlap: &str, max_attempts: i64, first: i64) -> NewSchedule {
    NewSchedule {
        enabled: true,
        name: name.to_string(),
        expr: "* * * * * *".into(),
        zone: "UTC".into(),
        misfire: "fire_all".into(),
        grace_ms: 5_000,
        catch_up_ms: 3_600_000,
        overlap: overlap.to_string(),
        max_attempts,
        retry_base_ms: 1_000,
        timeout_ms: 60_000,
        next_run_at: Some(first),
        now: first,
    }
}

/// A 1-second calendar written out here: every due tick runs.
fn every_second(s: &ScheduleRecord, now: i64) -> TickDecision {
    let mut run = Vec::new();
    let mut t = s.next_run_at.unwrap_or(now);
    while t <= now {
        run.push(t);
        t += 1_000;
    }
    TickDecision {
        run,
        skipped: Vec::new(),
        next_cursor: Some(t),
    }
}

async fn runs_of(store: &Arc<dyn Store>, id: i64) -> Vec<RunRecord> {
    let mut runs = store.schedule_runs(id, None, 10_000).await.expect("runs");
    runs.reverse();
    runs
}

/// F1 + F2 under contention: 6 claimers race on every tick of a 1 s schedule for 150 ticks while
/// 3 workers start and finish runs; every tick gets exactly one run row and one side effect.
pub async fn concurrent_claimers_create_exactly_one_run_per_tick(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("race", "buffer_one", 1, NOW))
        .await
        .expect("schedule");
    let effects = Arc::new(std::sync::Mutex::new(std::collections::HashMap::<
        String,
        u32,
    >::new()));
    let ticks = 150;
    for i in 0..ticks {
        let now = NOW + i * 1_000;
        let claimers: Vec<_> = (0..6)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move {
                    let planner = every_second;
                    match store.claim_ticks(now, &planner).await {
                        Ok(stats) => stats.runs,
                        Err(StoreError::Conflict(_)) => 0,
                        Err(e) => panic!("claim failed: {e}"),
                    }
                })
            })
            .collect();
        let created: u64 = futures::future::join_all(claimers)
            .await
            .into_iter()
            .map(|r| r.expect("task"))
            .sum();
        assert_eq!(created, 1, "tick {i}: exactly one claimer created the run");
        let workers: Vec<_> = (0..3)
            .map(|w| {
                let (store, effects) = (store.clone(), effects.clone());
                tokio::spawn(async move {
                    while let Some(lease) = store
                        .start_run(&format!("w{w}"), now, 30_000)
                        .await
                        .expect("start")
                    {
                        *effects
                            .lock()
                            .expect("lock")
                            .entry(lease.idempotency_key.clone())
                            .or_default() += 1;
                        let done = store
                            .finish_run(
                                lease.run_id,
                                lease.token,
                                RunOutcome::Succeeded {
                                    counters: "{}".into(),
                                },
                                now,
                            )
                            .await
                            .expect("finish");
                        assert!(done);
                    }
                })
            })
            .collect();
        for w in futures::future::join_all(workers).await {
            w.expect("worker");
        }
    }
    let runs = runs_of(&store, sch.id).await;
    assert_eq!(runs.len() as i64, ticks, "one row per tick");
    let expected: Vec<i64> = (0..ticks).map(|i| NOW + i * 1_000).collect();
    assert_eq!(
        runs.iter().map(|r| r.scheduled_for).collect::<Vec<_>>(),
        expected,
        "no gaps, no duplicates"
    );
    assert!(runs
        .iter()
        .all(|r| r.state == "succeeded" && r.attempt == 1));
    let effects = effects.lock().expect("lock").clone();
    assert_eq!(effects.len() as i64, ticks);
    assert!(
        effects.values().all(|n| *n == 1),
        "one side effect per tick"
    );
    let cursor = store
        .schedules()
        .await
        .expect("list")
        .into_iter()
        .find(|s| s.id == sch.id)
        .and_then(|s| s.next_run_at);
    assert_eq!(cursor, Some(NOW + ticks * 1_000));
}

pub async fn one_run_per_schedule_runs_and_stale_leases_are_fenced(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("lease", "buffer_one", 3, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let a = store
        .start_run("instance-a", NOW, 10_000)
        .await
        .expect("start")
        .expect("a run");
    assert_eq!(
        (a.attempt, a.idempotency_key.clone()),
        (1, format!("schedule:{}:{NOW}", sch.id))
    );
    store
        .claim_ticks(NOW + 1_000, &every_second)
        .await
        .expect("claim");
    assert_eq!(
        store
            .start_run("instance-b", NOW + 1_000, 10_000)
            .await
            .expect("start"),
        None,
        "one running run per schedule"
    );
    assert!(store
        .heartbeat_run(a.run_id, a.token, NOW + 5_000, 10_000)
        .await
        .expect("hb"));
    // Instance A is paused past its lease; the reaper gives the run back.
    assert_eq!(
        store.reap_expired_runs(NOW + 14_999).await.expect("reap"),
        0,
        "lease still valid"
    );
    assert_eq!(
        store.reap_expired_runs(NOW + 15_001).await.expect("reap"),
        1
    );
    let b = store
        .start_run("instance-b", NOW + 15_001, 10_000)
        .await
        .expect("start")
        .expect("retried");
    assert_eq!(
        (b.run_id, b.attempt),
        (a.run_id, 2),
        "the abandoned run is retried, oldest first"
    );
    assert!(b.token > a.token);
    // A wakes up: its heartbeat and completion are refused (fencing).
    assert!(!store
        .heartbeat_run(a.run_id, a.token, NOW + 15_002, 10_000)
        .await
        .expect("hb"));
    assert!(!store
        .finish_run(
            a.run_id,
            a.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            NOW + 15_002
        )
        .await
        .expect("finish"));
    assert!(store
        .finish_run(
            b.run_id,
            b.token,
            RunOutcome::Succeeded {
                counters: "{\"checked\":3}".into()
            },
            NOW + 16_000
        )
        .await
        .expect("finish"));
    let runs = runs_of(&store, sch.id).await;
    assert_eq!(runs[0].state, "succeeded");
    assert_eq!(
        (runs[0].attempt, runs[0].counters.as_deref()),
        (2, Some("{\"checked\":3}"))
    );
    assert!(
        runs[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("instance-a")),
        "the abandonment is noted"
    );
    // The buffered tick runs next.
    let next = store
        .start_run("instance-b", NOW + 16_000, 10_000)
        .await
        .expect("start")
        .expect("buffered");
    assert_eq!(next.scheduled_for, NOW + 1_000);
    // With attempts used up, an expired lease ends as abandoned.
    let mut one = new_schedule("once", "skip", 1, NOW);
    one.max_attempts = 1;
    let once = store.ensure_schedule(one).await.expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let mut lease = None;
    while let Some(l) = store
        .start_run("x", NOW + 16_000, 1_000)
        .await
        .expect("start")
    {
        if l.schedule_id == once.id {
            lease = Some(l);
            break;
        }
    }
    assert!(lease.is_some());
    store.reap_expired_runs(NOW + 20_000).await.expect("reap");
    assert_eq!(runs_of(&store, once.id).await[0].state, "abandoned");
}

pub async fn skipped_ticks_and_overlap_are_recorded(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("skips", "skip", 1, NOW))
        .await
        .expect("schedule");
    // A planner that reports 3 missed ticks and runs the 4th.
    let planner = |s: &ScheduleRecord, _now: i64| {
        let c = s.next_run_at.unwrap_or(0);
        TickDecision {
            run: vec![c + 3_000],
            skipped: vec![
                (c, "misfire"),
                (c + 1_000, "misfire"),
                (c + 2_000, "misfire"),
            ],
            next_cursor: Some(c + 4_000),
        }
    };
    let stats = store
        .claim_ticks(NOW + 3_000, &planner)
        .await
        .expect("claim");
    assert_eq!((stats.runs, stats.skipped), (1, 3));
    let lease = store
        .start_run("w", NOW + 3_000, 60_000)
        .await
        .expect("start")
        .expect("run");
    // Overlap skip: the next tick finds a running run.
    let stats = store
        .claim_ticks(NOW + 4_000, &every_second)
        .await
        .expect("claim");
    assert_eq!((stats.runs, stats.skipped), (0, 1));
    let runs = runs_of(&store, sch.id).await;
    let states: Vec<(&str, Option<&str>)> = runs
        .iter()
        .map(|r| (r.state.as_str(), r.reason.as_deref()))
        .collect();
    assert_eq!(
        states,
        vec![
            ("skipped", Some("misfire")),
            ("skipped", Some("misfire")),
            ("skipped", Some("misfire")),
            ("running", None),
            ("skipped", Some("overlap"))
        ]
    );
    // Nothing due: a claim writes nothing.
    let idle = store
        .claim_ticks(NOW + 4_500, &every_second)
        .await
        .expect("claim");
    assert_eq!(idle, ClaimStats::default());
    assert!(store
        .finish_run(
            lease.run_id,
            lease.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            NOW + 5_000
        )
        .await
        .expect("finish"));
}

pub async fn failed_runs_retry_until_attempts_are_used(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("retry", "skip", 3, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let mut now = NOW;
    for attempt in 1..=2 {
        let l = store
            .start_run("w", now, 60_000)
            .await
            .expect("start")
            .expect("run");
        assert_eq!(l.attempt, attempt);
        let retry_at = now + 2_000;
        store
            .finish_run(
                l.run_id,
                l.token,
                RunOutcome::Failed {
                    error: format!("boom {attempt}"),
                    retry_at: Some(retry_at),
                },
                now,
            )
            .await
            .expect("finish");
        assert_eq!(
            store
                .start_run("w", retry_at - 1, 60_000)
                .await
                .expect("start"),
            None,
            "not before the backoff"
        );
        now = retry_at;
    }
    let l = store
        .start_run("w", now, 60_000)
        .await
        .expect("start")
        .expect("third");
    assert!(store
        .finish_run(
            l.run_id,
            l.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            now
        )
        .await
        .expect("finish"));
    let run = &runs_of(&store, sch.id).await[0];
    assert_eq!(
        (run.state.as_str(), run.attempt),
        ("succeeded", 3),
        "3 attempts recorded"
    );
    assert_eq!(
        run.error.as_deref(),
        Some("boom 2"),
        "the last failure is kept"
    );
}

pub async fn ensure_schedule_never_overwrites_an_edited_schedule(store: Arc<dyn Store>) {
    let first = store
        .ensure_schedule(new_schedule("keep", "skip", 1, NOW))
        .await
        .expect("schedule");
    let mut again = new_schedule("keep", "buffer_one", 5, NOW + 1);
    again.expr = "0 0 * * *".into();
    let second = store.ensure_schedule(again).await.expect("schedule");
    assert_eq!(first, second);
    assert_eq!(store.schedules().await.expect("list").len(), 1);
}

pub async fn schedule_edits_are_audited_and_bump_the_version(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("edit", "skip", 1, NOW))
        .await
        .expect("schedule");
    let edit = ScheduleEdit {
        expr: Some("0 3 * * *".into()),
        zone: Some("Europe/London".into()),
        enabled: Some(false),
        next_run_at: Some(Some(NOW + 99_000)),
        detail: "expr * * * * * * -> 0 3 * * *".into(),
        ..ScheduleEdit::default()
    };
    let after = store
        .update_schedule("edit", edit, "admin@x.io", NOW + 1)
        .await
        .expect("update");
    assert_eq!(
        (after.expr.as_str(), after.zone.as_str(), after.enabled),
        ("0 3 * * *", "Europe/London", false)
    );
    assert_eq!(
        (after.version, after.next_run_at, after.misfire.as_str()),
        (sch.version + 1, Some(NOW + 99_000), "fire_all"),
        "untouched fields stay"
    );
    let audit = store.schedule_audit(Some(sch.id), 10).await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].action.as_str()),
        ("admin@x.io", "update")
    );
    assert!(audit[0].detail.contains("0 3 * * *"));
    let missing = store
        .update_schedule("nope", ScheduleEdit::default(), "a", NOW)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    // A disabled schedule is not claimed.
    let stats = store
        .claim_ticks(NOW + 200_000, &every_second)
        .await
        .expect("claim");
    assert_eq!(stats, ClaimStats::default());
}

pub async fn run_now_with_one_request_key_makes_one_run(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("manual", "skip", 1, NOW + 3_600_000))
        .await
        .expect("schedule");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.trigger_run("manual", "req-1", "admin", NOW).await })
        })
        .collect();
    let outcomes: Vec<TriggerOutcome> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.expect("task").expect("trigger"))
        .collect();
    let queued = outcomes
        .iter()
        .filter(|o| matches!(o, TriggerOutcome::Queued { .. }))
        .count();
    assert_eq!(queued, 1, "{outcomes:?}");
    let runs = runs_of(&store, sch.id).await;
    assert_eq!(runs.len(), 1);
    assert_eq!(
        (runs[0].kind.as_str(), runs[0].state.as_str()),
        ("manual", "pending")
    );
    let cursor = store.schedules().await.expect("list")[0].next_run_at;
    assert_eq!(
        cursor,
        Some(NOW + 3_600_000),
        "run now does not move the cursor"
    );
    let again = store
        .trigger_run("manual", "req-2", "admin", NOW)
        .await
        .expect("trigger");
    assert!(
        matches!(again, TriggerOutcome::Overlap { .. }),
        "obeys overlap: {again:?}"
    );
    assert!(matches!(
        store.trigger_run("nope", "req-3", "admin", NOW).await,
        Err(StoreError::NotFound)
    ));
    let audit = store.schedule_audit(Some(sch.id), 10).await.expect("audit");
    assert_eq!(audit.iter().filter(|a| a.action == "run_now").count(), 2);
}

pub async fn pause_stops_claims_and_starts_until_resumed(store: Arc<dyn Store>) {
    let sch = store
        .ensure_schedule(new_schedule("paused", "buffer_one", 1, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    assert!(!store.scheduler_paused().await.expect("state"));
    store
        .set_scheduler_paused(true, "admin", NOW)
        .await
        .expect("pause");
    assert!(store.scheduler_paused().await.expect("state"));
    assert_eq!(
        store.start_run("w", NOW, 10_000).await.expect("start"),
        None,
        "no new starts while paused"
    );
    assert_eq!(
        store
            .claim_ticks(NOW + 5_000, &every_second)
            .await
            .expect("claim"),
        ClaimStats::default()
    );
    store
        .set_scheduler_paused(false, "admin", NOW + 6_000)
        .await
        .expect("resume");
    assert!(store
        .start_run("w", NOW + 6_000, 10_000)
        .await
        .expect("start")
        .is_some());
    assert!(
        store
            .claim_ticks(NOW + 6_000, &every_second)
            .await
            .expect("claim")
            .runs
            >= 1,
        "claims resume"
    );
    let actions: Vec<String> = store
        .schedule_audit(None, 10)
        .await
        .expect("audit")
        .into_iter()
        .map(|a| a.action)
        .collect();
    assert_eq!(actions, vec!["resume_all", "pause_all"]);
    let _ = sch;
}

/// Shutdown hands a run back: pending again, due now, attempt not counted; the old token can
/// no longer finish it, and a second release is refused.
pub async fn released_runs_return_to_pending_without_counting_the_attempt(store: Arc<dyn Store>) {
    store
        .ensure_schedule(new_schedule("release", "skip", 3, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let a = store
        .start_run("instance-a", NOW, 10_000)
        .await
        .expect("start")
        .expect("a run");
    assert!(store
        .release_run(a.run_id, a.token, NOW + 500)
        .await
        .expect("release"));
    assert!(!store
        .release_run(a.run_id, a.token, NOW + 500)
        .await
        .expect("second release"));
    let outcome = RunOutcome::Succeeded {
        counters: "{}".into(),
    };
    assert!(!store
        .finish_run(a.run_id, a.token, outcome, NOW + 600)
        .await
        .expect("stale finish"));
    let b = store
        .start_run("instance-b", NOW + 500, 10_000)
        .await
        .expect("start")
        .expect("the released run starts again");
    assert_eq!(
        (b.run_id, b.attempt),
        (a.run_id, 1),
        "the attempt was not counted"
    );
    assert!(b.token > a.token);
}

/// The canary's effect is written only by the current holder of the lease.
pub async fn canary_writes_are_fenced_by_the_lease_token(store: Arc<dyn Store>) {
    store
        .ensure_schedule(new_schedule("canary", "skip", 3, NOW))
        .await
        .expect("schedule");
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    let a = store
        .start_run("instance-a", NOW, 1_000)
        .await
        .expect("start")
        .expect("a run");
    let effect = |lease: &RunLease, instance: &str, now: i64| CanaryEffect {
        run_id: lease.run_id,
        token: lease.token,
        idempotency_key: lease.idempotency_key.clone(),
        scheduled_for: lease.scheduled_for,
        attempt: lease.attempt,
        instance: instance.to_string(),
        started_at: now,
        now,
    };
    // Instance A stalls past its lease; B reaps and restarts the run.
    assert_eq!(store.reap_expired_runs(NOW + 2_000).await.expect("reap"), 1);
    let b = store
        .start_run("instance-b", NOW + 2_000, 1_000)
        .await
        .expect("start")
        .expect("the retry");
    assert!(
        !store
            .record_canary(effect(&a, "instance-a", NOW + 2_100))
            .await
            .expect("stale write"),
        "a stale lease writes nothing"
    );
    assert!(store
        .record_canary(effect(&b, "instance-b", NOW + 2_100))
        .await
        .expect("write"));
    assert!(store
        .finish_run(
            b.run_id,
            b.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            NOW + 2_200
        )
        .await
        .expect("finish"));
    assert!(
        !store
            .record_canary(effect(&b, "instance-b", NOW + 2_300))
            .await
            .expect("late write"),
        "a finished run writes nothing"
    );
    assert_eq!(store.prune_canary(NOW + 2_101, 10).await.expect("prune"), 1);
    assert_eq!(store.prune_canary(NOW + 9_999, 10).await.expect("prune"), 0);
}

/// The database clock is close to real time; the next wakeup is the earliest cursor or due
/// pending run; health counts running, stuck and due runs; a success stamps the schedule.
pub async fn clock_wakeup_and_health_figures(store: Arc<dyn Store>) {
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as i64;
    let db = store.db_now_ms().await.expect("db clock");
    assert!((db - real).abs() < 5_000, "db clock {db} vs {real}");
    assert_eq!(store.next_wakeup_ms().await.expect("wakeup"), None);
    store
        .ensure_schedule(new_schedule("later", "skip", 1, NOW + 60_000))
        .await
        .expect("schedule");
    store
        .ensure_schedule(new_schedule("sooner", "skip", 1, NOW))
        .await
        .expect("schedule");
    assert_eq!(store.next_wakeup_ms().await.expect("wakeup"), Some(NOW));
    store.claim_ticks(NOW, &every_second).await.expect("claim");
    // The pending run of `sooner` at NOW is now the earliest thing.
    assert_eq!(store.next_wakeup_ms().await.expect("wakeup"), Some(NOW));
    let health = store.scheduler_health(NOW).await.expect("health");
    assert_eq!(
        (health.running, health.stuck_leases, health.pending_due),
        (0, 0, 1)
    );
    let run = store
        .start_run("a", NOW, 1_000)
        .await
        .expect("start")
        .expect("run");
    assert_eq!(
        store.next_wakeup_ms().await.expect("wakeup"),
        Some(NOW + 1_000),
        "the next cursor"
    );
    let health = store.scheduler_health(NOW + 5_000).await.expect("health");
    assert_eq!(
        (health.running, health.stuck_leases),
        (1, 1),
        "lease expired"
    );
    assert!(store
        .finish_run(
            run.run_id,
            run.token,
            RunOutcome::Succeeded {
                counters: "{}".into()
            },
            NOW + 300
        )
        .await
        .expect("finish"));
    let sooner = store
        .schedules()
        .await
        .expect("schedules")
        .into_iter()
        .find(|s| s.name == "sooner")
        .expect("sooner");
    assert_eq!(sooner.last_success_at, Some(NOW + 300));
    let health = store.scheduler_health(NOW + 5_000).await.expect("health");
    assert_eq!(health, SchedulerHealth::default());
}

fn new_provider(name: &str) -> NewProvider {
    NewProvider {
        name: name.into(),
        url: "http://127.0.0.1:9/api/v2".into(),
        currency: "USD".into(),
        exchange_rate: RATE_ONE,
        api_key_enc: "v1:sealed".into(),
        timeout_ms: 1_000,
        max_concurrency: 4,
        rate_per_sec: None,
        balance_alert_below: None,
    }
}

async fn provider(store: &Arc<dyn Store>, name: &str) -> Provider {
    store
        .create_provider(new_provider(name), NOW)
        .await
        .expect("provider")
}

async fn provided_service(store: &Arc<dyn Store>, p: ProviderId, upstream: &str) -> Service {
    let mut d = ServiceDraft::new(
        "Likes",
        &format!("Likes {upstream}"),
        ServiceType::Default,
        m("0.30"),
        10,
        100_000,
    );
    d.link_rule = false;
    d.cancel = true;
    d.provider_id = Some(p);
    d.provider_service_id = Some(upstream.into());
    store.create_service(d, NOW).await.expect("service")
}

pub async fn concurrent_dispatch_claims_take_each_order_once(store: Arc<dyn Store>) {
    let p = provider(&store, "up").await;
    let svc = provided_service(&store, p.id, "7").await;
    let u = user(&store, "d@x.io", "100").await;
    let mut placed = Vec::new();
    for i in 0..120 {
        let o = place(&store, u.id, &svc, &format!("https://x/{i}"), 100)
            .await
            .expect("place");
        assert_eq!(
            o.provider_service_id.as_deref(),
            Some("7"),
            "offer copied at purchase"
        );
        placed.push(o.id);
    }
    let claims = (0..6).map(|_| {
        let s = store.clone();
        tokio::spawn(async move { s.claim_dispatch(25, NOW + 1).await.expect("claim") })
    });
    let mut seen = std::collections::HashSet::new();
    for c in claims {
        let got = c.await.expect("join");
        assert!(
            got.len() <= 25,
            "a claim took {} orders, over its limit",
            got.len()
        );
        for o in got {
            assert_eq!(o.status, OrderStatus::Submitting);
            assert!(seen.insert(o.id), "order {} claimed twice", o.id.0);
        }
    }
    let rest = store.claim_dispatch(1_000, NOW + 2).await.expect("claim");
    for o in rest {
        assert!(seen.insert(o.id), "order {} claimed twice", o.id.0);
    }
    assert_eq!(seen.len(), placed.len(), "every order claimed exactly once");
    assert!(store
        .claim_dispatch(10, NOW + 3)
        .await
        .expect("claim")
        .is_empty());
    assert_eq!(
        store
            .stale_submitting(NOW + 2, 1_000)
            .await
            .expect("stale")
            .len(),
        120,
        "claimed at NOW+1/NOW+2, all older than NOW+2 or equal"
    );
}

pub async fn dispatch_skips_disabled_providers_and_sync_reads_oldest_checked_first(
    store: Arc<dyn Store>,
) {
    let p = provider(&store, "up").await;
    let svc = provided_service(&store, p.id, "1").await;
    let u = user(&store, "s@x.io", "100").await;
    let a = place(&store, u.id, &svc, "https://x/a", 100)
        .await
        .expect("a");
    store
        .set_provider_enabled(p.id, false, NOW, None)
        .await
        .expect("disable");
    assert!(store
        .claim_dispatch(10, NOW)
        .await
        .expect("claim")
        .is_empty());
    store
        .set_provider_enabled(p.id, true, NOW, None)
        .await
        .expect("enable");
    let b = place(&store, u.id, &svc, "https://x/b", 100)
        .await
        .expect("b");
    let claimed = store.claim_dispatch(10, NOW).await.expect("claim");
    assert_eq!(
        claimed.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    for (o, pid) in [(&a, "900"), (&b, "901")] {
        let mut up = OrderUpdate::new(
            o.id,
            OrderStatus::Submitting,
            OrderEvent::ProviderAccepted,
            NOW,
        );
        up.provider_order_id = Some(pid.into());
        assert!(matches!(
            store.apply_order_update(up).await.expect("accept"),
            UpdateOutcome::Applied { .. }
        ));
    }
    // Accepting stamps checked_at; re-check `a` later, so `b` is now the oldest checked.
    store.mark_checked(&[a.id], NOW + 10).await.expect("mark");
    let t = store.sync_targets(p.id, 10).await.expect("targets");
    assert_eq!(t.iter().map(|t| t.id).collect::<Vec<_>>(), vec![b.id, a.id]);
    assert_eq!(t[0].provider_order_id, "901");
    assert!(store
        .sync_targets(ProviderId(p.id.0 + 1), 10)
        .await
        .expect("none")
        .is_empty());
    // A requested cancel is listed once, until marked sent.
    let r = store
        .cancel_orders(u.id, &[b.id], NOW, None)
        .await
        .expect("cancel");
    assert_eq!(r[0].1, Ok(CancelOutcome::Requested));
    assert_eq!(
        store.cancels_to_send(p.id, 10).await.expect("c"),
        vec![(b.id, "901".to_string())]
    );
    store
        .mark_cancel_sent(&[(b.id, "sent".into())], NOW)
        .await
        .expect("sent");
    assert!(store.cancels_to_send(p.id, 10).await.expect("c").is_empty());
    assert_eq!(
        store
            .order(b.id)
            .await
            .expect("r")
            .expect("o")
            .note
            .as_deref(),
        Some("sent")
    );
}

pub async fn offers_alerts_and_admin_edits_round_trip(store: Arc<dyn Store>) {
    let p = provider(&store, "one").await;
    let q = provider(&store, "two").await;
    assert!(matches!(
        store.create_provider(new_provider("one"), NOW).await,
        Err(StoreError::Conflict("providers.name"))
    ));
    let svc = provided_service(&store, p.id, "5").await;
    assert_eq!(
        store
            .add_service_offer(
                svc.id,
                Offer {
                    provider_id: q.id,
                    provider_service_id: "55".into()
                }
            )
            .await
            .expect("offer"),
        1
    );
    let offers = store.service_offers(svc.id).await.expect("offers");
    assert_eq!(
        offers
            .iter()
            .map(|o| (o.provider_id, o.provider_service_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(p.id, "5"), (q.id, "55")]
    );
    // Alerts: one open per kind and subject; resolving closes it.
    assert!(store
        .raise_alert(AlertKind::ProviderBalanceLow, "provider:1", "first", NOW)
        .await
        .expect("raise"));
    assert!(!store
        .raise_alert(
            AlertKind::ProviderBalanceLow,
            "provider:1",
            "again",
            NOW + 1
        )
        .await
        .expect("raise"));
    let open = store.open_alerts().await.expect("alerts");
    assert_eq!((open.len(), open[0].message.as_str()), (1, "again"));
    store
        .resolve_alert(AlertKind::ProviderBalanceLow, "provider:1", NOW + 2)
        .await
        .expect("resolve");
    assert!(store.open_alerts().await.expect("alerts").is_empty());
    assert!(
        store
            .raise_alert(AlertKind::ProviderBalanceLow, "provider:1", "new", NOW + 3)
            .await
            .expect("raise"),
        "a new one after resolving"
    );
    // An admin edit sets overrides and logs each change; a bad edit writes nothing.
    let edited = store
        .edit_service(
            svc.id,
            ServiceEdit {
                name: Some("Mine".into()),
                max: Some(500),
                ..ServiceEdit::default()
            },
            "admin:1",
            NOW,
            None,
        )
        .await
        .expect("edit");
    assert_eq!((edited.name.as_str(), edited.max), ("Mine", 500));
    assert_eq!(
        edited.overrides,
        vec!["name".to_string(), "max".to_string()]
    );
    let bad = store
        .edit_service(
            svc.id,
            ServiceEdit {
                min: Some(1_000),
                ..ServiceEdit::default()
            },
            "admin:1",
            NOW,
            None,
        )
        .await;
    assert!(bad.is_err(), "min above max is refused");
    assert_eq!(
        store.service(svc.id).await.expect("r").expect("s"),
        edited,
        "nothing written"
    );
    let log = store.service_changes(svc.id, 10).await.expect("log");
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|c| c.source == "admin:1"));
    store
        .record_provider_balance(p.id, m("12.5"), "USD", NOW)
        .await
        .expect("balance");
    let p2 = store.provider(p.id).await.expect("r").expect("p");
    assert_eq!(
        (p2.balance, p2.balance_checked_at),
        (Some(m("12.5")), Some(NOW))
    );
}

pub async fn a_request_key_places_one_order_and_finds_it_again(store: Arc<dyn Store>) {
    let u = user(&store, "k@x.io", "10").await;
    let other = user(&store, "k2@x.io", "10").await;
    let svc = followers(&store).await;
    let spec = |link: &str| {
        validate_order(
            &svc.rules(),
            &OrderInput {
                link: Some(link.to_string()),
                quantity: Some("100".to_string()),
                ..Default::default()
            },
        )
        .expect("valid")
    };
    // 20 concurrent placements with one key: exactly one order, one charge.
    let mut tasks = Vec::new();
    for i in 0..20 {
        let (store, svc, spec) = (store.clone(), svc.clone(), spec(&format!("https://x/k{i}")));
        tasks.push(tokio::spawn(async move {
            store
                .place_order(u.id, &svc, &spec, Some("retry-1"), NOW)
                .await
        }));
    }
    let mut placed = Vec::new();
    for t in tasks {
        match t.await.expect("join") {
            Ok(o) => placed.push(o),
            Err(PlaceOrderError::Store(StoreError::Conflict("orders.request_key"))) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(placed.len(), 1, "one placement wins");
    let found = store
        .order_by_request_key(u.id, "retry-1")
        .await
        .expect("read")
        .expect("found");
    assert_eq!(found.id, placed[0].id);
    assert_eq!(balance(&store, u.id).await, m("9.91"));
    // The key is per user, and no key never conflicts.
    assert!(store
        .order_by_request_key(other.id, "retry-1")
        .await
        .expect("read")
        .is_none());
    store
        .place_order(other.id, &svc, &spec("https://x/o"), Some("retry-1"), NOW)
        .await
        .expect("another user's key");
    for i in 0..2 {
        store
            .place_order(u.id, &svc, &spec(&format!("https://x/n{i}")), None, NOW)
            .await
            .expect("no key");
    }
    assert_eq!(store.list_orders(u.id, None, 10).await.expect("l").len(), 3);
    assert_ledger_consistent(&store).await;
}

pub async fn order_searches_filter_page_and_use_public_references(store: Arc<dyn Store>) {
    let a = user(&store, "sa@x.io", "100").await;
    let b = user(&store, "sb@x.io", "100").await;
    let svc = followers(&store).await;
    let mut other = ServiceDraft::new("Likes", "Likes", ServiceType::Default, m("1"), 10, 1000);
    other.link_rule = false;
    let likes = store.create_service(other, NOW).await.expect("service");
    let mut mine = Vec::new();
    for i in 0..7 {
        let s = if i % 2 == 0 { &svc } else { &likes };
        mine.push(
            place(&store, a.id, s, &format!("https://Insta.com/P_{i}"), 100)
                .await
                .expect("placed"),
        );
    }
    let theirs = place(&store, b.id, &svc, "https://insta.com/P_9", 100)
        .await
        .expect("placed");
    accept(&store, &mine[0]).await;

    // References are 12 hex characters, unique, and find the order.
    let mut refs: Vec<&str> = mine.iter().map(|o| o.reference.as_str()).collect();
    assert!(refs
        .iter()
        .all(|r| r.len() == 12 && r.chars().all(|c| c.is_ascii_hexdigit())));
    refs.sort_unstable();
    refs.dedup();
    assert_eq!(refs.len(), 7);
    let by_ref = store
        .order_by_reference(&mine[3].reference)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(by_ref.id, mine[3].id);
    assert!(store
        .order_by_reference("000000000000")
        .await
        .expect("read")
        .is_none());

    let ids = |v: Vec<Order>| v.iter().map(|o| o.id.0).collect::<Vec<_>>();
    let q = |f: fn(&mut OrderQuery)| {
        let mut q = OrderQuery::of_user(a.id, 100);
        f(&mut q);
        q
    };
    // Newest first, the user's only; a cursor pages without gaps or repeats.
    let all = ids(store.search_orders(&q(|_| {})).await.expect("s"));
    assert_eq!(all, mine.iter().rev().map(|o| o.id.0).collect::<Vec<_>>());
    let p1 = store
        .search_orders(&OrderQuery::of_user(a.id, 3))
        .await
        .expect("s");
    let p2 = store
        .search_orders(&OrderQuery {
            before: p1.last().map(|o| o.id),
            ..OrderQuery::of_user(a.id, 3)
        })
        .await
        .expect("s");
    assert_eq!([ids(p1), ids(p2)].concat(), all[..6].to_vec());
    // Each filter narrows.
    let by_service = ids(store
        .search_orders(&OrderQuery {
            service: Some(likes.id),
            ..OrderQuery::of_user(a.id, 100)
        })
        .await
        .expect("s"));
    assert_eq!(by_service, vec![mine[5].id.0, mine[3].id.0, mine[1].id.0]);
    let by_status = ids(store
        .search_orders(&q(|q| q.status = Some(OrderStatus::Processing)))
        .await
        .expect("s"));
    assert_eq!(by_status, vec![mine[0].id.0]);
    // Link search ignores case and takes `_` literally.
    let by_link = ids(store
        .search_orders(&OrderQuery {
            link: Some("insta.com/p_4".into()),
            ..OrderQuery::of_user(a.id, 100)
        })
        .await
        .expect("s"));
    assert_eq!(by_link, vec![mine[4].id.0]);
    let none = store
        .search_orders(&OrderQuery {
            link: Some("p%".into()),
            ..OrderQuery::of_user(a.id, 100)
        })
        .await
        .expect("s");
    assert!(none.is_empty(), "% is not a wildcard");
    let window = store
        .search_orders(&q(|q| {
            q.created_from = Some(NOW);
            q.created_to = Some(NOW + 1);
        }))
        .await
        .expect("s");
    assert_eq!(window.len(), 7);
    assert!(store
        .search_orders(&q(|q| q.created_from = Some(NOW + 1)))
        .await
        .expect("s")
        .is_empty());
    // Active only, in the query: with orders 1, 2, 4 and 6 canceled, pages of 2 hold two
    // active orders each and the cursor skips none (mine[0] is processing, 3 and 5 queued).
    let canceled = [1, 2, 4, 6].map(|i| mine[i].id);
    for (_, r) in store
        .cancel_orders(a.id, &canceled, NOW + 1, None)
        .await
        .expect("cancel")
    {
        r.expect("canceled");
    }
    let active_page = |before: Option<OrderId>| {
        let mut q = OrderQuery::of_user(a.id, 2);
        q.active = true;
        q.before = before;
        q
    };
    let a1 = store.search_orders(&active_page(None)).await.expect("s");
    let a2 = store
        .search_orders(&active_page(a1.last().map(|o| o.id)))
        .await
        .expect("s");
    assert_eq!(
        [ids(a1), ids(a2)].concat(),
        vec![mine[5].id.0, mine[3].id.0, mine[0].id.0],
        "active orders, two to a page"
    );
    let active_canceled = store
        .search_orders(&q(|q| {
            q.active = true;
            q.status = Some(OrderStatus::Canceled);
        }))
        .await
        .expect("s");
    assert!(active_canceled.is_empty(), "the filters combine");
    // No user filter (admin): everyone's.
    let everyone = store
        .search_orders(&OrderQuery {
            limit: 100,
            ..OrderQuery::default()
        })
        .await
        .expect("s");
    assert_eq!(everyone.len(), 8);
    assert_eq!(everyone[0].id, theirs.id);
    // Refills: by user and by order.
    store
        .apply_order_update(update(
            &mine[0],
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ))
        .await
        .expect("complete");
    let r = store
        .request_refill(a.id, mine[0].id, NOW + 120_000)
        .await
        .expect("refill");
    let of_a = store
        .search_refills(&RefillQuery {
            user: Some(a.id),
            limit: 10,
            ..RefillQuery::default()
        })
        .await
        .expect("r");
    assert_eq!(of_a.iter().map(|r| r.id).collect::<Vec<_>>(), vec![r.id]);
    assert!(store
        .search_refills(&RefillQuery {
            user: Some(b.id),
            limit: 10,
            ..RefillQuery::default()
        })
        .await
        .expect("r")
        .is_empty());
    assert_ledger_consistent(&store).await;
}

pub async fn archived_orders_are_read_everywhere_and_refuse_changes(store: Arc<dyn Store>) {
    let u = user(&store, "ar@x.io", "100").await;
    let svc = followers(&store).await; // 30-day guarantee
    let mut done = Vec::new();
    for i in 0..5 {
        let o = place(&store, u.id, &svc, &format!("https://x/a{i}"), 100)
            .await
            .expect("placed");
        accept(&store, &o).await;
        let (status, remains) = match i {
            0 => (ProviderStatus::Partial, Some(40)),
            1 => (ProviderStatus::Canceled, None),
            _ => (ProviderStatus::Completed, Some(0)),
        };
        store
            .apply_order_update(update(
                &o,
                OrderStatus::Processing,
                OrderEvent::Provider(status),
                remains,
            ))
            .await
            .expect("finish");
        done.push(store.order(o.id).await.expect("r").expect("o"));
    }
    // One with an active refill, one still running: never archived.
    let refill = store
        .request_refill(u.id, done[2].id, NOW + 120_000)
        .await
        .expect("refill");
    let running = place(&store, u.id, &svc, "https://x/run", 100)
        .await
        .expect("placed");
    let day = 86_400_000;
    // Inside the guarantee nothing moves, whatever the age.
    let none = store
        .archive_orders(NOW + 365 * day, NOW + 10 * day, 100)
        .await
        .expect("archive");
    assert_eq!(none, Archived::default());
    // Past it, batches of 2 move the 4 eligible orders.
    let later = NOW + 40 * day;
    let mut moved = Archived::default();
    loop {
        let a = store
            .archive_orders(later - day, later, 2)
            .await
            .expect("archive");
        assert!(a.orders <= 2);
        if a.orders == 0 {
            break;
        }
        moved.orders += a.orders;
        moved.refills += a.refills;
    }
    assert_eq!(moved.orders, 4);
    assert_eq!(moved.refills, 0);
    // Every read still finds them, unchanged.
    for o in [&done[0], &done[1], &done[3], &done[4]] {
        assert_eq!(
            store.order(o.id).await.expect("r").as_ref(),
            Some(o),
            "by id"
        );
        assert_eq!(
            store
                .order_by_reference(&o.reference)
                .await
                .expect("r")
                .map(|x| x.id),
            Some(o.id)
        );
    }
    let ids: Vec<OrderId> = done.iter().map(|o| o.id).collect();
    assert_eq!(store.orders_of_user(u.id, &ids).await.expect("r").len(), 5);
    let views = store.order_statuses(u.id, &ids).await.expect("r");
    assert_eq!(views.len(), 5);
    let listed = store.list_orders(u.id, None, 100).await.expect("l");
    assert_eq!(listed.len(), 6);
    assert!(
        listed.windows(2).all(|w| w[0].id > w[1].id),
        "merged newest first"
    );
    assert_eq!(listed[0].id, running.id);
    // Archived orders cannot be canceled or refilled; the answers say why.
    let c = store
        .cancel_orders(u.id, &[done[3].id], later, None)
        .await
        .expect("cancel");
    assert_eq!(c[0].1, Err(CancelError::AlreadyFinished));
    assert!(matches!(
        store.request_refill(u.id, done[3].id, later).await,
        Err(RefillRequestError::Ineligible(
            RefillError::GuaranteeExpired
        ))
    ));
    let stranger = user(&store, "as@x.io", "0").await;
    assert!(matches!(
        store.request_refill(stranger.id, done[3].id, later).await,
        Err(RefillRequestError::NotFound)
    ));
    assert_eq!(
        store
            .cancel_orders(stranger.id, &[done[3].id], later, None)
            .await
            .expect("c")[0]
            .1,
        Err(CancelError::NotFound)
    );
    // Once the refill ends, its order moves with it and the refill is still read.
    store
        .set_refill_status(refill.id, RefillStatus::Completed, later)
        .await
        .expect("refill done");
    let a = store
        .archive_orders(later - day, later, 100)
        .await
        .expect("archive");
    assert_eq!(
        a,
        Archived {
            orders: 1,
            refills: 1
        }
    );
    assert_eq!(
        store
            .refills_of_user(u.id, &[refill.id])
            .await
            .expect("r")
            .len(),
        1
    );
    assert_eq!(
        store
            .search_refills(&RefillQuery {
                order: Some(done[2].id),
                limit: 5,
                ..RefillQuery::default()
            })
            .await
            .expect("r")[0]
            .status,
        RefillStatus::Completed
    );
    assert_eq!(
        store.order(running.id).await.expect("r").map(|o| o.status),
        Some(OrderStatus::Queued),
        "a running order stays live"
    );
    // The money is untouched by archiving.
    assert_ledger_consistent(&store).await;
    assert!(!store.upkeep().await.expect("upkeep").is_empty());
}

pub async fn the_audit_log_keeps_admin_actions_newest_first(store: Arc<dyn Store>) {
    let admin = user(&store, "ad@x.io", "0").await;
    for (i, action) in ["user.credit", "order.refund", "service.edit"]
        .iter()
        .enumerate()
    {
        store
            .record_audit(NewAudit {
                actor_id: Some(admin.id),
                actor: admin.email.clone(),
                action: (*action).to_string(),
                subject: format!("thing:{i}"),
                detail: "because".to_string(),
                now: NOW + i as i64,
            })
            .await
            .expect("audit");
    }
    let all = store.audit_log(None, 10).await.expect("log");
    assert_eq!(
        all.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["service.edit", "order.refund", "user.credit"]
    );
    assert_eq!(all[0].actor_id, Some(admin.id));
    let older = store.audit_log(Some(all[0].id), 1).await.expect("log");
    assert_eq!(older.len(), 1);
    assert_eq!(older[0].action, "order.refund");
}

pub async fn the_order_log_records_each_change_with_it(store: Arc<dyn Store>) {
    let u = user(&store, "log@x.io", "2").await;
    let svc = followers(&store).await;
    let kinds = |log: &[OrderLogEntry]| {
        log.iter()
            .map(|e| format!("{}:{}", e.kind, e.status))
            .collect::<Vec<_>>()
    };
    let o = place(&store, u.id, &svc, "https://x/log", 1000)
        .await
        .expect("placed");
    let log = store.order_log(o.id).await.expect("log");
    assert_eq!(kinds(&log), ["placed:queued"]);
    assert_eq!(log[0].amount, Some(-m("0.90")));
    // A refused placement writes no event.
    assert!(place(&store, u.id, &svc, "https://x/poor", 10_000)
        .await
        .is_err());
    accept(&store, &o).await;
    let c = store
        .cancel_orders(u.id, &[o.id], NOW, None)
        .await
        .expect("cancel");
    assert_eq!(c[0].1, Ok(CancelOutcome::Requested));
    // A stale update writes nothing, an applied one its status and refund.
    let stale = update(
        &o,
        OrderStatus::InProgress,
        OrderEvent::Provider(ProviderStatus::Partial),
        Some(400),
    );
    assert_eq!(
        store.apply_order_update(stale).await.expect("u"),
        UpdateOutcome::Stale
    );
    let mut partial = update(
        &o,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Partial),
        Some(400),
    );
    partial.note = Some("provider stopped".into());
    store.apply_order_update(partial).await.expect("partial");
    let r = store
        .request_refill(u.id, o.id, NOW + 120_000)
        .await
        .expect("refill");
    store
        .set_refill_status(r.id, RefillStatus::Completed, NOW + 180_000)
        .await
        .expect("done");
    let log = store.order_log(o.id).await.expect("log");
    assert_eq!(
        kinds(&log),
        [
            "placed:queued",
            "status:submitting",
            "status:processing",
            "cancel_requested:processing",
            "status:partial",
            "refill:pending",
            "refill:completed"
        ]
    );
    assert_eq!(log[4].amount, Some(m("0.36")), "the refund the change paid");
    assert_eq!(log[4].detail, "provider stopped");
    assert_eq!(log[6].detail, format!("Refill #{}", r.id));
    // The batched sync: status changes are logged, count-only changes are not.
    let mut batch_orders = Vec::new();
    for i in 0..3 {
        let b = place(&store, u.id, &svc, &format!("https://x/b{i}"), 50)
            .await
            .expect("placed");
        accept(&store, &b).await;
        batch_orders.push(b);
    }
    let mut ups: Vec<OrderUpdate> = batch_orders
        .iter()
        .map(|b| {
            update(
                b,
                OrderStatus::Processing,
                OrderEvent::Provider(ProviderStatus::InProgress),
                Some(40),
            )
        })
        .collect();
    ups[2] = update(
        &batch_orders[2],
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Processing),
        Some(50),
    );
    let out = store.apply_order_updates(&ups).await.expect("batch");
    assert!(out
        .iter()
        .all(|o| matches!(o, UpdateOutcome::Applied { .. })));
    for (b, want) in batch_orders.iter().zip([4, 4, 3]) {
        let log = store.order_log(b.id).await.expect("log");
        assert_eq!(log.len(), want, "{:?}", kinds(&log));
    }
    assert_eq!(
        kinds(&store.order_log(batch_orders[0].id).await.expect("log"))
            .last()
            .map(String::as_str),
        Some("status:in_progress")
    );
    assert_ledger_consistent(&store).await;
}

fn note_for(e: &NotifiableEvent, webhook: bool) -> NewNotification {
    NewNotification {
        user_id: e.order.user_id,
        source: format!("event:{}", e.event_id),
        kind: format!("order.{}", e.status),
        title: format!("Order {} {}", e.order.reference, e.status),
        body: e.service_name.clone(),
        order_id: Some(e.order.id),
        created_at: e.created_at,
        email: e.settings.email.then(|| e.user_email.clone()),
        email_text: "text".into(),
        webhook: webhook.then(|| ("http://127.0.0.1:9/hook".into(), "{}".into())),
    }
}

pub async fn notifications_are_collected_once_and_delivered_with_retries(store: Arc<dyn Store>) {
    let u = user(&store, "note@x.io", "5").await;
    let svc = followers(&store).await;
    // Settings: defaults, a round trip, an unknown user.
    let defaults = store.notification_settings(u.id).await.expect("settings");
    assert_eq!(
        defaults,
        NotificationSettings {
            email: true,
            webhook_url: None,
            webhook_secret: None
        }
    );
    let hook = NotificationSettings {
        email: true,
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
        webhook_secret: Some("s3cret".into()),
    };
    store
        .set_notification_settings(u.id, &hook)
        .await
        .expect("set");
    assert_eq!(store.notification_settings(u.id).await.expect("s"), hook);
    assert!(matches!(
        store
            .set_notification_settings(UserId(999_999), &hook)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(store.notify_cursor("order_events").await.expect("c"), 0);

    // One order completes, one is canceled before it is sent, one stays processing.
    let done = place(&store, u.id, &svc, "https://x/n1", 1000)
        .await
        .expect("placed");
    accept(&store, &done).await;
    let completed = update(
        &done,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Completed),
        Some(0),
    );
    store.apply_order_update(completed).await.expect("done");
    let gone = place(&store, u.id, &svc, "https://x/n2", 1000)
        .await
        .expect("placed");
    store
        .cancel_orders(u.id, &[gone.id], NOW + 1, None)
        .await
        .expect("cancel");
    let busy = place(&store, u.id, &svc, "https://x/n3", 1000)
        .await
        .expect("placed");
    accept(&store, &busy).await;

    let (events, to) = store.notifiable_events(0, 100).await.expect("events");
    let seen: Vec<(OrderId, &str)> = events
        .iter()
        .map(|e| (e.order.id, e.status.as_str()))
        .collect();
    assert_eq!(seen, [(done.id, "completed"), (gone.id, "canceled")]);
    assert_eq!(events[0].service_name, "Followers");
    assert_eq!(events[0].user_email, "note@x.io");
    assert_eq!(events[0].settings, hook);
    assert_eq!(events[1].amount, Some(m("0.90")), "the cancel's refund");
    let log_end = store
        .order_log(busy.id)
        .await
        .expect("log")
        .last()
        .expect("e")
        .id;
    assert_eq!(to, log_end, "the window ends at the last event read");
    // A small window reads part of the log and ends where it stopped.
    let (first, first_to) = store.notifiable_events(0, 2).await.expect("events");
    assert!(first.is_empty() && first_to > 0 && first_to < to);

    let batch = NotificationBatch {
        cursor: "order_events",
        from: 0,
        to,
        items: events.iter().map(|e| note_for(e, true)).collect(),
    };
    assert_eq!(
        store.record_notifications(&batch, NOW).await.expect("r"),
        Some(2)
    );
    // Another run with the same start writes nothing; the cursor moved once.
    assert_eq!(
        store.record_notifications(&batch, NOW).await.expect("r"),
        None
    );
    assert_eq!(store.notify_cursor("order_events").await.expect("c"), to);
    // The same source again (a later window re-reading it) is not notified twice.
    let again = NotificationBatch {
        from: to,
        to: to + 1,
        ..batch.clone()
    };
    assert_eq!(
        store.record_notifications(&again, NOW).await.expect("r"),
        Some(0)
    );

    // Deliveries: 2 e-mails + 2 webhooks, leased while they are sent.
    let claimed = store
        .claim_deliveries(NOW, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 4);
    assert!(claimed.iter().all(|d| d.attempts == 1));
    let emails: Vec<&Delivery> = claimed
        .iter()
        .filter(|d| d.channel == Channel::Email)
        .collect();
    assert_eq!(emails.len(), 2);
    assert_eq!(emails[0].target, "note@x.io");
    assert!(emails[0].subject.starts_with("Order "));
    assert_eq!(emails[0].secret, None);
    let hooks: Vec<&Delivery> = claimed
        .iter()
        .filter(|d| d.channel == Channel::Webhook)
        .collect();
    assert_eq!(hooks[0].secret.as_deref(), Some("s3cret"));
    assert!(store
        .claim_deliveries(NOW, 60_000, 10)
        .await
        .expect("claim")
        .is_empty());
    let (sent, retried, failed, open) = (emails[0].id, emails[1].id, hooks[0].id, hooks[1].id);
    store
        .finish_delivery(sent, &DeliveryOutcome::Sent, NOW + 1)
        .await
        .expect("sent");
    let retry = DeliveryOutcome::Retry {
        at: NOW + 30_000,
        error: "421 busy".into(),
    };
    store
        .finish_delivery(retried, &retry, NOW + 1)
        .await
        .expect("retry");
    let fail = DeliveryOutcome::Failed {
        error: "HTTP 410".into(),
    };
    store
        .finish_delivery(failed, &fail, NOW + 1)
        .await
        .expect("failed");
    assert!(matches!(
        store
            .finish_delivery(sent, &DeliveryOutcome::Sent, NOW + 2)
            .await,
        Err(StoreError::NotFound)
    ));
    let due = store
        .claim_deliveries(NOW + 30_000, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(
        due.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(),
        [(retried, 2)]
    );
    let expired = store
        .claim_deliveries(NOW + 60_000, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(
        expired.iter().map(|d| d.id).collect::<Vec<_>>(),
        [open],
        "a lease that ran out is claimed again"
    );
    let records = store.deliveries_of_user(u.id, 10).await.expect("records");
    let status_of = |id: i64| {
        records
            .iter()
            .find(|r| r.id == id)
            .map(|r| (r.status.clone(), r.last_error.clone()))
    };
    assert_eq!(status_of(sent), Some(("sent".into(), None)));
    assert_eq!(
        status_of(retried),
        Some(("pending".into(), Some("421 busy".into())))
    );
    assert_eq!(
        status_of(failed),
        Some(("failed".into(), Some("HTTP 410".into())))
    );

    // In-app: newest first, unread counts, marking read.
    let list = store
        .notifications_of_user(u.id, None, 10)
        .await
        .expect("list");
    assert_eq!(list.len(), 2);
    assert!(list[0].id > list[1].id);
    assert_eq!(list[1].order_id, Some(done.id));
    assert_eq!(store.unread_notifications(u.id).await.expect("n"), 2);
    assert_eq!(
        store
            .mark_notifications_read(u.id, list[1].id, NOW + 5)
            .await
            .expect("read"),
        1
    );
    assert_eq!(store.unread_notifications(u.id).await.expect("n"), 1);
    let older = store
        .notifications_of_user(u.id, Some(list[0].id), 10)
        .await
        .expect("page");
    assert_eq!(older.iter().map(|n| n.id).collect::<Vec<_>>(), [list[1].id]);
    assert_eq!(older[0].read_at, Some(NOW + 5));
    // Another user sees none of them and cannot mark them.
    let other = user(&store, "other@x.io", "0").await;
    assert_eq!(
        store
            .mark_notifications_read(other.id, i64::MAX, NOW)
            .await
            .expect("read"),
        0
    );
    assert!(store
        .notifications_of_user(other.id, None, 10)
        .await
        .expect("l")
        .is_empty());

    // Pruning keeps notifications with a pending delivery: the completed order's (e-mail sent,
    // webhook failed) goes, the canceled one's (retrying, leased) stays until both end.
    assert_eq!(emails[0].notification_id, hooks[0].notification_id);
    assert_eq!(
        store.prune_notifications(NOW, 100).await.expect("p"),
        0,
        "too new"
    );
    let later = NOW + 1_000_000;
    assert_eq!(store.prune_notifications(later, 100).await.expect("p"), 1);
    let left = store
        .notifications_of_user(u.id, None, 10)
        .await
        .expect("l");
    assert_eq!(
        left.iter().map(|n| n.order_id).collect::<Vec<_>>(),
        [Some(gone.id)]
    );
    for d in store.claim_deliveries(later, 1, 10).await.expect("claim") {
        store
            .finish_delivery(d.id, &DeliveryOutcome::Sent, later)
            .await
            .expect("sent");
    }
    assert_eq!(store.prune_notifications(later, 100).await.expect("p"), 1);
    assert!(store
        .deliveries_of_user(u.id, 10)
        .await
        .expect("d")
        .is_empty());
    assert_ledger_consistent(&store).await;
}

pub async fn the_feed_reads_every_source_after_its_cursor_and_wakes_on_commit(
    store: Arc<dyn Store>,
) {
    let u = user(&store, "feed@x.io", "3").await;
    let svc = followers(&store).await;
    let head = store.feed_head().await.expect("head");
    assert!(head.ledger > 0, "the seed credit is behind the head");
    let mut signal = store.feed_signal().await.expect("signal");
    let o = place(&store, u.id, &svc, "https://x/feed", 1000)
        .await
        .expect("placed");
    tokio::time::timeout(std::time::Duration::from_secs(5), signal.changed())
        .await
        .expect("a commit wakes the feed")
        .expect("signal");
    let (items, next) = store.feed_after(head, 100).await.expect("feed");
    assert_eq!(
        items,
        [
            FeedItem {
                user_id: Some(u.id),
                at: NOW,
                source: FeedSource::Events,
                id: next.events,
                message: FeedMessage::Order {
                    order_id: o.id,
                    reference: o.reference.clone(),
                    event: "placed".into(),
                    status: "queued".into(),
                    remains: None,
                    at: NOW,
                },
            },
            FeedItem {
                user_id: Some(u.id),
                at: NOW,
                source: FeedSource::Ledger,
                id: next.ledger,
                message: FeedMessage::Balance {
                    balance: "2.10".into(),
                    amount: "-0.90".into(),
                    at: NOW,
                },
            },
        ]
    );
    assert!(next.events > head.events && next.ledger > head.ledger);
    assert_eq!(
        (next.notifications, next.alerts),
        (head.notifications, head.alerts)
    );
    let (none, same) = store.feed_after(next, 100).await.expect("feed");
    assert!(none.is_empty());
    assert_eq!(same, next);

    // Alerts go to admins (no user); notifications to their user; `limit` is per source.
    store
        .raise_alert(
            AlertKind::ProviderBalanceLow,
            "provider:1",
            "Balance 1.00",
            NOW + 5,
        )
        .await
        .expect("alert");
    let batch = NotificationBatch {
        cursor: "alerts",
        from: store.notify_cursor("alerts").await.expect("c"),
        to: next.alerts + 1,
        items: vec![NewNotification {
            user_id: u.id,
            source: "test:1".into(),
            kind: "alert.test".into(),
            title: "Hello".into(),
            body: "there".into(),
            order_id: None,
            created_at: NOW + 6,
            email: None,
            email_text: String::new(),
            webhook: None,
        }],
    };
    store
        .record_notifications(&batch, NOW + 6)
        .await
        .expect("note")
        .expect("written");
    let (items, last) = store.feed_after(next, 100).await.expect("feed");
    let kinds: Vec<(Option<UserId>, &str)> = items
        .iter()
        .map(|i| {
            (
                i.user_id,
                match &i.message {
                    FeedMessage::Alert { kind, .. } => kind.as_str(),
                    FeedMessage::Notification { title, .. } => title.as_str(),
                    _ => "other",
                },
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [(Some(u.id), "Hello"), (None, "provider_balance_low")]
    );
    assert_eq!(last.alerts, next.alerts + 1);
    // Each item names its row: one row per source here, so its id is where the cursor moved.
    for i in &items {
        assert_eq!(i.id, last.of(i.source), "{i:?}");
    }
    // A deposit of another user, and a page of one row per source.
    let v = user(&store, "feed2@x.io", "1").await;
    credit(&store, u.id, "1", "feed:more").await;
    let (page, after_page) = store.feed_after(last, 1).await.expect("feed");
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].user_id, Some(v.id));
    let (rest, _) = store.feed_after(after_page, 1).await.expect("feed");
    assert_eq!(rest[0].user_id, Some(u.id));

    // A user's replay: their own rows of every source, the alerts only for an admin.
    use FeedSource::{Alerts, Events, Ledger, Notifications};
    let replay = |who: UserId, admin: bool, limit: i64| {
        let store = store.clone();
        async move {
            store
                .feed_of_user_after(who, admin, head, limit)
                .await
                .expect("replay")
                .into_iter()
                .map(|i| (i.user_id, i.source, i.id))
                .collect::<Vec<_>>()
        }
    };
    let mine = replay(u.id, false, 100).await;
    assert_eq!(
        mine.iter().map(|(_, s, _)| *s).collect::<Vec<_>>(),
        [Events, Ledger, Ledger, Notifications],
        "the order, its charge, the deposit and the notification: {mine:?}"
    );
    assert!(mine.iter().all(|(who, _, _)| *who == Some(u.id)));
    let as_admin = replay(u.id, true, 100).await;
    assert_eq!(as_admin[..4], mine[..]);
    assert_eq!(as_admin[4], (None, Alerts, last.alerts));
    assert_eq!(
        replay(u.id, false, 1).await,
        [mine[0], mine[1], mine[3]],
        "limit is per source"
    );
    assert_eq!(
        replay(v.id, false, 100)
            .await
            .iter()
            .map(|(who, s, _)| (*who, *s))
            .collect::<Vec<_>>(),
        [(Some(v.id), Ledger)],
        "Bob's replay is his deposit only"
    );
    assert!(store
        .feed_of_user_after(u.id, true, store.feed_head().await.expect("head"), 100)
        .await
        .expect("replay")
        .is_empty());
    assert_ledger_consistent(&store).await;
}

pub async fn payment_requests_credit_once_when_approved(store: Arc<dyn Store>) {
    let u = user(&store, "payer@x.io", "0").await;
    let admin = user(&store, "cashier@x.io", "0").await;
    let first = store
        .create_payment_request(u.id, m("10"), "Bank transfer", "ref 123", NOW)
        .await
        .expect("request");
    let second = store
        .create_payment_request(u.id, m("5"), "USDT", "", NOW + 1)
        .await
        .expect("request");
    assert_eq!(first.status, "pending");
    let mine = store
        .payment_requests(Some(u.id), None, 10)
        .await
        .expect("list");
    assert_eq!(
        mine.iter().map(|p| p.id).collect::<Vec<_>>(),
        [second.id, first.id]
    );
    assert!(store
        .payment_requests(Some(admin.id), None, 10)
        .await
        .expect("list")
        .is_empty());
    assert_eq!(
        store
            .payment_requests(None, Some("pending"), 10)
            .await
            .expect("list")
            .len(),
        2
    );
    let approved = store
        .decide_payment(first.id, true, admin.id, "received", NOW + 5, None)
        .await
        .expect("approve");
    assert_eq!(
        (
            approved.status.as_str(),
            approved.decided_by,
            approved.decided_at
        ),
        ("approved", Some(admin.id), Some(NOW + 5))
    );
    assert_eq!(balance(&store, u.id).await, m("10"));
    for approve in [true, false] {
        assert!(matches!(
            store.decide_payment(first.id, approve, admin.id, "again", NOW + 6, None).await,
            Err(PaymentError::AlreadyDecided(s)) if s == "approved"
        ));
    }
    store
        .decide_payment(second.id, false, admin.id, "not received", NOW + 7, None)
        .await
        .expect("reject");
    assert_eq!(
        balance(&store, u.id).await,
        m("10"),
        "a rejection credits nothing"
    );
    assert!(matches!(
        store
            .decide_payment(999_999, true, admin.id, "", NOW, None)
            .await,
        Err(PaymentError::NotFound)
    ));
    let ledger = store.ledger(u.id, None, 10).await.expect("ledger");
    assert_eq!(ledger.len(), 1);
    assert_eq!(ledger[0].key, format!("payment:{}", first.id));
    assert_eq!(ledger[0].actor_id, Some(admin.id));
    assert!(ledger[0].reason.contains("Bank transfer"));
    // Ten admins approving one request at once credit it once.
    let third = store
        .create_payment_request(u.id, m("2.50"), "Card", "", NOW + 8)
        .await
        .expect("request");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .decide_payment(third.id, true, admin.id, "", NOW + 9, None)
                    .await
                    .is_ok()
            })
        })
        .collect();
    let mut approved = 0;
    for t in tasks {
        if t.await.expect("task") {
            approved += 1;
        }
    }
    assert_eq!(approved, 1);
    assert_eq!(balance(&store, u.id).await, m("12.50"));
    assert_ledger_consistent(&store).await;
}

pub async fn dashboard_figures_and_completion_times(store: Arc<dyn Store>) {
    let p = provider(&store, "up").await;
    let svc = provided_service(&store, p.id, "1").await;
    let other = followers(&store).await;
    let u = user(&store, "d@x.io", "100").await;
    let empty = store.order_stats(NOW).await.expect("stats");
    assert_eq!(
        (empty.placed, empty.revenue, empty.by_status.len()),
        (0, Money::ZERO, 0)
    );
    // Yesterday's order counts by status but not in today's figures.
    let yesterday = OrderInput {
        link: Some("https://x/old".into()),
        quantity: Some("1000".into()),
        ..Default::default()
    };
    let spec = validate_order(&other.rules(), &yesterday).expect("valid");
    store
        .place_order(u.id, &other, &spec, None, NOW - 86_400_000)
        .await
        .expect("yesterday");
    let mut done = Vec::new();
    // Three orders delivered in 10, 20 and 30 minutes, of 1000, 2000 and 500 units.
    for (i, (qty, minutes)) in [(1000, 10), (2000, 20), (500, 30)].into_iter().enumerate() {
        let o = place(&store, u.id, &svc, &format!("https://x/{i}"), qty)
            .await
            .expect("placed");
        assert_eq!(store.claim_dispatch(10, NOW).await.expect("claim").len(), 1);
        let mut up = OrderUpdate::new(
            o.id,
            OrderStatus::Submitting,
            OrderEvent::ProviderAccepted,
            NOW,
        );
        up.provider_order_id = Some(format!("p{i}"));
        up.provider_charge = Some(m("0.5"));
        store.apply_order_update(up).await.expect("accept");
        let mut fin = OrderUpdate::new(
            o.id,
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            NOW + minutes * 60_000,
        );
        fin.remains = Some(0);
        store.apply_order_update(fin).await.expect("complete");
        done.push(o);
    }
    // A canceled order of the same service is no sample, and its refund lowers revenue.
    let c = place(&store, u.id, &other, "https://x/c", 1000)
        .await
        .expect("placed");
    let canceled = store
        .cancel_orders(u.id, &[c.id], NOW, None)
        .await
        .expect("cancel");
    assert_eq!(canceled.len(), 1);

    let stats = store.order_stats(NOW).await.expect("stats");
    assert_eq!(stats.placed, 4, "yesterday's order is not today's");
    // 0.30 per 1000 × 3500 units completed; the canceled order's 0.90 was refunded.
    assert_eq!(stats.revenue, m("1.05"));
    assert_eq!(stats.cost_by_provider, vec![(p.id, m("1.5"))]);
    let count = |s: OrderStatus| {
        stats
            .by_status
            .iter()
            .find(|(x, _)| *x == s)
            .map(|(_, n)| *n)
    };
    assert_eq!(count(OrderStatus::Completed), Some(3));
    assert_eq!(count(OrderStatus::Canceled), Some(1));
    assert_eq!(count(OrderStatus::Queued), Some(1), "yesterday's order");
    assert_eq!(count(OrderStatus::Partial), None);

    let samples = store.completion_samples(svc.id, 10).await.expect("samples");
    assert_eq!(
        samples.iter().map(|s| s.order).collect::<Vec<_>>(),
        vec![done[2].id, done[1].id, done[0].id],
        "the most recent completion first"
    );
    assert_eq!(
        samples
            .iter()
            .map(|s| (s.quantity, s.duration_ms))
            .collect::<Vec<_>>(),
        vec![(500, 1_800_000), (2000, 1_200_000), (1000, 600_000)]
    );
    // 60, 10 and 10 minutes per 1000: 26m40s.
    assert_eq!(avg_ms_per_1000(&samples), Some(1_600_000));
    let two = store.completion_samples(svc.id, 2).await.expect("samples");
    assert_eq!(two.len(), 2);
    assert!(store
        .completion_samples(other.id, 10)
        .await
        .expect("none")
        .is_empty());
}
