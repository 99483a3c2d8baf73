//! Conformance cases — The wallet: keyed, never-negative balance changes and payment requests.

use crate::*;
use smmd_domain::{Money, UserId};
use std::sync::Arc;

use super::*;

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
    // The one-column read API v2 `balance` answers from follows every change, and knows no
    // other account.
    assert_eq!(
        store.balance(u.id).await.expect("balance"),
        Some(Money::ZERO)
    );
    credit(&store, u.id, "0.000001", "pay:2").await;
    assert_eq!(
        store.balance(u.id).await.expect("balance"),
        Some(m("0.000001"))
    );
    assert_eq!(store.balance(UserId(424_242)).await.expect("balance"), None);
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
        vec!["pay:2", "adj:2", "pay:1"]
    );
    let older = store
        .ledger(u.id, Some(entries[0].id), 10)
        .await
        .expect("page");
    assert_eq!(older.len(), 2);
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
