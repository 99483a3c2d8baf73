//! Conformance cases of the affiliate program (`docs/affiliates.md`): commissions created with
//! a referred user's order and following its refunds in the refund's own transaction, the hold
//! and the release, review for flagged referrals, clawbacks inside the window and nothing after
//! it, and the affiliate ledger summing to the balances.

use super::*;
use smmd_domain::affiliate::commission::CommissionStatus;
use smmd_domain::affiliate::referral::Flag;
use smmd_domain::affiliate::{EntryKind, Settings};
use smmd_domain::clock::DAY_MS;
use smmd_domain::order::ProviderStatus;

async fn referred(
    store: &Arc<dyn Store>,
    email: &str,
    affiliate: UserId,
    flags: Vec<Flag>,
) -> User {
    user_with(
        store,
        email,
        "100",
        Some(NewReferral {
            affiliate_id: affiliate,
            flags,
            ip: Some("203.0.113.9".into()),
        }),
    )
    .await
}

/// Applies `event` to `o` (expected `from`) at `now`; returns the refund it paid.
async fn step(
    store: &Arc<dyn Store>,
    o: &Order,
    from: OrderStatus,
    event: OrderEvent,
    remains: Option<i64>,
    now: i64,
) -> Money {
    let mut u = update(o, from, event, remains);
    u.now = now;
    match store.apply_order_update(u).await.expect("update") {
        UpdateOutcome::Applied { refunded, .. } => refunded,
        other => panic!("{from:?} → {event:?}: {other:?}"),
    }
}

async fn commission_of(store: &Arc<dyn Store>, o: &Order) -> Commission {
    store
        .commission_of_order(o.id)
        .await
        .expect("read")
        .expect("commission")
}

async fn balance_of(store: &Arc<dyn Store>, affiliate: UserId) -> Money {
    store
        .affiliate_account(affiliate, "UNUSED22", NOW)
        .await
        .expect("account")
        .balance
}

/// Releases until nothing is left at `now`.
async fn release(store: &Arc<dyn Store>, now: i64) -> ReleaseReport {
    let mut total = ReleaseReport::default();
    loop {
        let r = store.release_commissions(now, 2).await.expect("release");
        total.add(&r);
        if !r.more {
            return total;
        }
    }
}

pub async fn commissions_follow_net_spend_through_hold_release_and_clawback(store: Arc<dyn Store>) {
    let aff = user(&store, "aff@x.io", "0").await;
    let account = store
        .affiliate_account(aff.id, "AFF2CODE", NOW)
        .await
        .expect("account");
    assert_eq!(
        (account.code.as_str(), account.balance),
        ("AFF2CODE", Money::ZERO)
    );
    // The account is made once: a second call with another code returns the first.
    assert_eq!(
        store
            .affiliate_account(aff.id, "OTHER234", NOW)
            .await
            .expect("again")
            .code,
        "AFF2CODE"
    );
    let other = user(&store, "other@x.io", "0").await;
    assert!(matches!(
        store.affiliate_account(other.id, "AFF2CODE", NOW).await,
        Err(StoreError::Conflict("affiliates.code"))
    ));
    assert_eq!(
        store
            .affiliate_by_code("AFF2CODE")
            .await
            .expect("by code")
            .map(|a| a.user_id),
        Some(aff.id)
    );
    assert!(store.count_referral_click("AFF2CODE").await.expect("click"));
    assert!(!store.count_referral_click("NOPE2345").await.expect("click"));
    let b = referred(&store, "b@x.io", aff.id, vec![]).await;
    let flagged = referred(&store, "c@x.io", aff.id, vec![Flag::SameNetwork]).await;
    let plain = user(&store, "d@x.io", "100").await;
    let r = store
        .referral(flagged.id)
        .await
        .expect("r")
        .expect("referral");
    assert_eq!(
        (r.affiliate_id, r.status, r.flags.clone()),
        (
            aff.id,
            ReferralStatus::Flagged,
            vec!["same_network".to_string()]
        )
    );
    assert_eq!(store.referral(plain.id).await.expect("r"), None);
    let svc = followers(&store).await;
    let done = NOW + 60_000;
    let hold = Settings::default().hold_days * DAY_MS;

    // 1. Held 30 days from completion, then approved and credited once.
    let o1 = place(&store, b.id, &svc, "https://instagram.com/b1", 10_000)
        .await
        .expect("o1"); // 9.00
    let c1 = commission_of(&store, &o1).await;
    assert_eq!(
        (c1.charge, c1.amount, c1.status, c1.rate_bp),
        (m("9"), m("0.45"), CommissionStatus::Pending, 500)
    );
    accept(&store, &o1).await;
    step(
        &store,
        &o1,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Completed),
        Some(0),
        done,
    )
    .await;
    // 2. A Partial before approval lowers it to the commission on the net.
    let o2 = place(&store, b.id, &svc, "https://instagram.com/b2", 1_000)
        .await
        .expect("o2"); // 0.90
    accept(&store, &o2).await;
    let refunded = step(
        &store,
        &o2,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Partial),
        Some(400),
        done,
    )
    .await;
    assert_eq!(refunded, m("0.36"));
    let c2 = commission_of(&store, &o2).await;
    assert_eq!((c2.refunded, c2.amount), (m("0.36"), m("0.027")));
    // 3. A full refund before approval voids it at once.
    let o3 = place(&store, b.id, &svc, "https://instagram.com/b3", 1_000)
        .await
        .expect("o3");
    accept(&store, &o3).await;
    step(
        &store,
        &o3,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
        done,
    )
    .await;
    let c3 = commission_of(&store, &o3).await;
    assert_eq!(
        (c3.amount, c3.status),
        (Money::ZERO, CommissionStatus::Void)
    );
    // 4. A flagged referral's commission goes to review, not to the balance.
    let o4 = place(&store, flagged.id, &svc, "https://instagram.com/c1", 1_000)
        .await
        .expect("o4");
    accept(&store, &o4).await;
    step(
        &store,
        &o4,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Completed),
        Some(0),
        done,
    )
    .await;
    // 5. Nobody referred this user: no commission.
    let o5 = place(&store, plain.id, &svc, "https://instagram.com/d1", 1_000)
        .await
        .expect("o5");
    assert_eq!(store.commission_of_order(o5.id).await.expect("read"), None);

    let settled = release(&store, done).await;
    assert_eq!(
        (
            settled.settled,
            settled.to_review,
            settled.approved,
            settled.credited
        ),
        (2, 1, 0, Money::ZERO)
    );
    assert_eq!(
        commission_of(&store, &o1).await.approve_at,
        Some(done + hold)
    );
    assert_eq!(
        commission_of(&store, &o4).await.status,
        CommissionStatus::Review
    );
    // One millisecond early: nothing; on the day: both held ones, once.
    assert_eq!(release(&store, done + hold - 1).await.approved, 0);
    let approved = release(&store, done + hold).await;
    assert_eq!((approved.approved, approved.credited), (2, m("0.477")));
    assert_eq!(
        ReleaseReport {
            longest_tx_us: 0,
            ..release(&store, done + hold + DAY_MS).await
        },
        ReleaseReport::default(),
        "a pass after everything is approved changes nothing"
    );
    assert_eq!(balance_of(&store, aff.id).await, m("0.477"));
    let c1 = commission_of(&store, &o1).await;
    assert_eq!(
        (c1.status, c1.credited, c1.approved_at),
        (CommissionStatus::Approved, m("0.45"), Some(done + hold))
    );

    // 6. After approval, an upstream correction Partial → Canceled claws back the difference,
    //    once: the replayed correction is stale and changes nothing.
    let approved_at = done + hold;
    let topped = step(
        &store,
        &o2,
        OrderStatus::Partial,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
        approved_at + DAY_MS,
    )
    .await;
    assert_eq!(topped, m("0.54"));
    let mut replay = update(
        &o2,
        OrderStatus::Partial,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
    );
    replay.now = approved_at + 2 * DAY_MS;
    assert_eq!(
        store.apply_order_update(replay).await.expect("replay"),
        UpdateOutcome::Stale
    );
    let c2 = commission_of(&store, &o2).await;
    assert_eq!(
        (c2.refunded, c2.credited, c2.clawed),
        (m("0.90"), m("0.027"), m("0.027"))
    );
    assert_eq!(balance_of(&store, aff.id).await, m("0.45"));
    // The approval (one notice for the step's two commissions) and the clawback told the
    // affiliate, in their own transactions.
    let notices = super::payouts::notices_until(&store, "commission.", 2).await;
    let told: Vec<(String, String)> = notices
        .into_iter()
        .filter(|n| n.user_id == aff.id)
        .map(|n| (n.kind, n.detail))
        .collect();
    assert_eq!(
        told,
        [
            (
                "commission.approved".to_string(),
                "0.477 joined your affiliate balance (2 commissions)".to_string()
            ),
            (
                "commission.clawed_back".to_string(),
                format!("0.027 taken back: order #{} was refunded", o2.id)
            )
        ]
    );

    // 7. A refund past `clawback_days` after approval claws back nothing.
    let o6 = place(&store, b.id, &svc, "https://instagram.com/b6", 1_000)
        .await
        .expect("o6");
    accept(&store, &o6).await;
    step(
        &store,
        &o6,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Partial),
        Some(500),
        done,
    )
    .await;
    release(&store, done).await;
    let late = release(&store, done + hold).await;
    assert_eq!(late.credited, m("0.0225"));
    let window = Settings::default().clawback_days * DAY_MS;
    step(
        &store,
        &o6,
        OrderStatus::Partial,
        OrderEvent::Provider(ProviderStatus::Canceled),
        None,
        done + hold + window + 1,
    )
    .await;
    let c6 = commission_of(&store, &o6).await;
    assert_eq!((c6.refunded, c6.clawed), (m("0.90"), Money::ZERO));
    assert_eq!(balance_of(&store, aff.id).await, m("0.4725"));

    // The ledger: two commissions and the late one credited, one clawback; it sums to the
    // balance, and the main ledger still holds.
    let entries = store.affiliate_ledger(aff.id, 100).await.expect("ledger");
    let kinds: Vec<EntryKind> = entries.iter().rev().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        [
            EntryKind::Commission,
            EntryKind::Commission,
            EntryKind::Clawback,
            EntryKind::Commission
        ]
    );
    assert_eq!(entries[0].balance_after, m("0.4725"));
    assert!(store
        .affiliate_mismatches()
        .await
        .expect("check")
        .is_empty());
    assert_ledger_consistent(&store).await;
}

/// First-touch referrals earn only inside `first_months`, and nothing while the program is off.
pub async fn commissions_respect_the_program_settings(store: Arc<dyn Store>) {
    let aff = user(&store, "aff@x.io", "0").await;
    store
        .affiliate_account(aff.id, "SETT2345", NOW)
        .await
        .expect("account");
    let b = referred(&store, "b@x.io", aff.id, vec![]).await;
    let svc = followers(&store).await;
    let spec = |link: &str| {
        let input = OrderInput {
            link: Some(link.to_string()),
            quantity: Some("1000".into()),
            ..Default::default()
        };
        validate_order(&svc.rules(), &input).expect("spec")
    };
    let s = Settings {
        first_months: 1,
        rate_bp: 1_000,
        ..Settings::default()
    };
    let saved = store
        .update_affiliate_settings(&s, NOW, None)
        .await
        .expect("settings");
    assert_eq!(saved, s);
    assert_eq!(store.affiliate_settings().await.expect("read"), s);
    // 2026-01-01 + 1 month = 2026-02-01: the last millisecond of January earns 10 %.
    let feb = NOW + 31 * DAY_MS;
    let inside = store
        .place_order(
            b.id,
            &svc,
            &spec("https://instagram.com/in"),
            Placement::default(),
            feb - 1,
        )
        .await
        .expect("inside");
    let outside = store
        .place_order(
            b.id,
            &svc,
            &spec("https://instagram.com/out"),
            Placement::default(),
            feb,
        )
        .await
        .expect("outside");
    assert_eq!(
        store
            .commission_of_order(inside.id)
            .await
            .expect("r")
            .map(|c| c.amount),
        Some(m("0.09"))
    );
    assert_eq!(
        store.commission_of_order(outside.id).await.expect("r"),
        None
    );
    let off = Settings {
        enabled: false,
        ..Settings::default()
    };
    store
        .update_affiliate_settings(&off, NOW, None)
        .await
        .expect("off");
    let none = store
        .place_order(
            b.id,
            &svc,
            &spec("https://instagram.com/off"),
            Placement::default(),
            NOW,
        )
        .await
        .expect("off order");
    assert_eq!(store.commission_of_order(none.id).await.expect("r"), None);
    let bad = Settings {
        rate_bp: 9_000,
        ..Settings::default()
    };
    assert!(store
        .update_affiliate_settings(&bad, NOW, None)
        .await
        .is_err());
    assert_eq!(store.affiliate_settings().await.expect("read"), off);
    assert_ledger_consistent(&store).await;
}

/// Log-in traces for the self-referral checks: one row per user and address and per user and
/// device, the newest time kept; reads see only `since` onwards, newest first; pruning deletes
/// in batches exactly the rows last seen before its cut and no other user's.
pub async fn login_traces_are_kept_per_address_and_device_and_pruned(store: Arc<dyn Store>) {
    let ann = user(&store, "ann@x.io", "0").await;
    let bob = user(&store, "bob@x.io", "0").await;
    let day = |d: i64| NOW + d * DAY_MS;
    let seen = [
        (ann.id, Some("192.0.2.1"), Some("d-one"), day(0)),
        (ann.id, Some("192.0.2.1"), None, day(5)),
        (ann.id, None, Some("d-two"), day(2)),
        (ann.id, Some("2001:db8::1"), Some("d-one"), day(1)),
        (bob.id, Some("198.51.100.7"), Some("d-bob"), day(0)),
    ];
    for (user, ip, device, at) in seen {
        store
            .record_login(user, ip, device, at)
            .await
            .expect("note");
    }
    assert_eq!(
        store.login_addresses(ann.id, day(0)).await.expect("a"),
        vec!["192.0.2.1".to_string(), "2001:db8::1".to_string()],
        "one row per address, at its newest log-in"
    );
    assert_eq!(
        store.login_devices(ann.id, day(0)).await.expect("d"),
        vec!["d-two".to_string(), "d-one".to_string()]
    );
    assert_eq!(
        store.login_devices(ann.id, day(2)).await.expect("d"),
        vec!["d-two".to_string()]
    );
    // Cut at day 2: ann's 2001:db8::1 and d-one (day 1) and bob's two rows (day 0) go.
    let mut pruned = 0;
    loop {
        let n = store.prune_login_traces(day(2), 1).await.expect("prune");
        assert!(n <= 2, "at most a batch per table");
        if n == 0 {
            break;
        }
        pruned += n;
    }
    assert_eq!(pruned, 4);
    assert_eq!(
        store.login_addresses(ann.id, 0).await.expect("a"),
        vec!["192.0.2.1".to_string()]
    );
    assert_eq!(
        store.login_devices(ann.id, 0).await.expect("d"),
        vec!["d-two".to_string()]
    );
    assert!(store
        .login_addresses(bob.id, 0)
        .await
        .expect("a")
        .is_empty());
    assert!(store.login_devices(bob.id, 0).await.expect("d").is_empty());
}
