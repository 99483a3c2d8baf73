//! Conformance cases of the affiliate program's safeguards (`docs/affiliates.md`): payout
//! methods behind an admin's approval and a cool-down, told to the account; the later
//! self-referral signals (link overlap, same payer) that flag a referral, hold its commissions
//! and alert the admins; blocked accounts.

use super::payouts::notices_until;
use super::*;
use smmd_domain::affiliate::method::MethodKind;
use smmd_domain::clock::DAY_MS;

pub async fn payout_methods_need_approval_and_wait_out_the_cool_down(store: Arc<dyn Store>) {
    let a = user(&store, "method@x.io", "0").await;
    store
        .affiliate_account(a.id, "METHOD23", NOW)
        .await
        .expect("account");
    let first = store
        .submit_payout_method(a.id, MethodKind::Paypal, "paul@gmail.com", NOW)
        .await
        .expect("submit");
    assert_eq!(
        (first.status, first.masked()),
        (MethodStatus::Submitted, "pa***@gmail.com".to_string())
    );
    let serialized = serde_json::to_string(&first).expect("json");
    assert!(!serialized.contains("paul@"), "{serialized}");
    // A second change inside the cool-down is refused and writes nothing.
    assert!(matches!(
        store
            .submit_payout_method(a.id, MethodKind::Crypto, "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE", NOW + DAY_MS)
            .await,
        Err(PayoutError::CoolingDown { until_ms }) if until_ms == NOW + 7 * DAY_MS
    ));
    assert_eq!(store.payout_methods_of(a.id).await.expect("m").len(), 1);
    assert_eq!(
        store
            .submitted_payout_methods(10)
            .await
            .expect("queue")
            .iter()
            .map(|m| m.id)
            .collect::<Vec<_>>(),
        vec![first.id]
    );
    let approved = store
        .decide_payout_method(first.id, true, "", NOW + DAY_MS, None)
        .await
        .expect("approve");
    assert_eq!(
        (approved.status, approved.approved_at),
        (MethodStatus::Approved, Some(NOW + DAY_MS))
    );
    assert!(matches!(
        store
            .decide_payout_method(first.id, false, "", NOW, None)
            .await,
        Err(PayoutError::NotFound)
    ));
    let c = store
        .payout_candidate(a.id)
        .await
        .expect("c")
        .expect("affiliate");
    assert_eq!(c.method_approved_at, Some(NOW + DAY_MS));
    // After the cool-down a new method may be submitted; approving it replaces the old one and
    // restarts the cool-down.
    let later = NOW + 8 * DAY_MS;
    let second = store
        .submit_payout_method(
            a.id,
            MethodKind::Crypto,
            "TQn9Y2khEsLJW1ChVWFMSMeRDow5KcbLSE",
            later,
        )
        .await
        .expect("submit");
    store
        .decide_payout_method(second.id, true, "", later, None)
        .await
        .expect("approve");
    let all = store.payout_methods_of(a.id).await.expect("m");
    assert_eq!(
        all.iter().map(|m| m.status).collect::<Vec<_>>(),
        vec![MethodStatus::Approved, MethodStatus::Replaced]
    );
    assert_eq!(
        store
            .payout_candidate(a.id)
            .await
            .expect("c")
            .expect("a")
            .method_approved_at,
        Some(later)
    );
    // A rejection keeps its reason.
    let third = store
        .submit_payout_method(a.id, MethodKind::Other, "cash", later + 7 * DAY_MS)
        .await
        .expect("submit");
    let rejected = store
        .decide_payout_method(third.id, false, "not accepted", later + 7 * DAY_MS, None)
        .await
        .expect("reject");
    assert_eq!(
        (rejected.status, rejected.reason.as_str()),
        (MethodStatus::Rejected, "not accepted")
    );
    // Every change and decision told the account (e-mailed whatever its preference), with
    // the details masked; the change refused in the cool-down told nothing.
    let told: Vec<(String, String)> = notices_until(&store, "payout_method.", 6)
        .await
        .into_iter()
        .filter(|n| n.user_id == a.id)
        .map(|n| (n.kind, n.detail))
        .collect();
    let crypto = "Crypto address ****bLSE";
    assert_eq!(
        told,
        [
            (
                "payout_method.submitted",
                "PayPal pa***@gmail.com".to_string()
            ),
            (
                "payout_method.approved",
                "PayPal pa***@gmail.com".to_string()
            ),
            ("payout_method.submitted", crypto.to_string()),
            ("payout_method.approved", crypto.to_string()),
            ("payout_method.submitted", "Other ****".to_string()),
            (
                "payout_method.rejected",
                "Other ****: not accepted".to_string()
            ),
        ]
        .map(|(k, d)| (k.to_string(), d))
    );
}

pub async fn link_overlap_flags_the_referral_and_holds_its_commissions(store: Arc<dyn Store>) {
    let aff = user(&store, "owner@x.io", "100").await;
    store
        .affiliate_account(aff.id, "OWNER234", NOW)
        .await
        .expect("account");
    let svc = followers(&store).await;
    let referred = user_with(
        &store,
        "second@x.io",
        "100",
        Some(NewReferral {
            affiliate_id: aff.id,
            flags: vec![],
            ip: None,
        }),
    )
    .await;
    place(
        &store,
        referred.id,
        &svc,
        "https://instagram.com/other",
        1_000,
    )
    .await
    .expect("order");
    assert_eq!(
        store
            .referral(referred.id)
            .await
            .expect("r")
            .expect("r")
            .status,
        ReferralStatus::Clean
    );
    place(&store, aff.id, &svc, "https://instagram.com/mine", 1_000)
        .await
        .expect("order");
    place(
        &store,
        referred.id,
        &svc,
        "https://instagram.com/mine",
        1_000,
    )
    .await
    .expect("order");
    let r = store.referral(referred.id).await.expect("r").expect("r");
    assert_eq!(
        (r.status, r.flags),
        (ReferralStatus::Flagged, vec!["link_overlap".to_string()])
    );
    assert_eq!(
        store
            .flagged_referrals(10)
            .await
            .expect("flagged")
            .iter()
            .map(|r| r.user_id)
            .collect::<Vec<_>>(),
        vec![referred.id]
    );
    // The admins were alerted in the flagging order's transaction (event `referral.flagged`).
    let subject = smmd_domain::alert::referral_subject(referred.id);
    let open_flag_alerts = || async {
        store
            .open_alerts()
            .await
            .expect("alerts")
            .into_iter()
            .filter(|a| a.kind == "referral_flagged" && a.subject == subject)
            .map(|a| a.message)
            .collect::<Vec<_>>()
    };
    let alerts = open_flag_alerts().await;
    assert!(
        alerts.len() == 1 && alerts[0].contains("(link_overlap)"),
        "{alerts:?}"
    );
    // Flagging again with the same signal changes nothing; a cleared referral goes clean and
    // its alert is resolved.
    assert!(!store
        .flag_referral(referred.id, "link_overlap", NOW)
        .await
        .expect("flag"));
    store
        .clear_referral(referred.id, NOW, None)
        .await
        .expect("clear");
    assert_eq!(open_flag_alerts().await, Vec::<String>::new());
    assert_eq!(
        store
            .referral(referred.id)
            .await
            .expect("r")
            .expect("r")
            .status,
        ReferralStatus::Cleared
    );
    assert!(matches!(
        store.clear_referral(referred.id, NOW, None).await,
        Err(StoreError::NotFound)
    ));
    // Same payer: the referred user pays with the affiliate's own payer reference.
    for (who, note) in [(aff.id, "Sender J. Doe"), (referred.id, " sender j. doe ")] {
        let req = store
            .create_payment_request(who, m("5"), "bank", note, NOW)
            .await
            .expect("request");
        store
            .decide_payment(req.id, true, aff.id, "ok", NOW, None)
            .await
            .expect("approve");
    }
    assert_eq!(
        store
            .referral(referred.id)
            .await
            .expect("r")
            .expect("r")
            .flags,
        vec!["link_overlap".to_string(), "same_payer".to_string()]
    );
    let alerts = open_flag_alerts().await;
    assert!(
        alerts.len() == 1 && alerts[0].contains("(link_overlap, same_payer)"),
        "a later signal raises the alert again: {alerts:?}"
    );
    // A blocked account cannot log in until unblocked.
    store
        .set_user_blocked(aff.id, true, NOW, None)
        .await
        .expect("block");
    assert!(store
        .user_credentials("owner@x.io")
        .await
        .expect("read")
        .is_none());
    store
        .set_user_blocked(aff.id, false, NOW, None)
        .await
        .expect("unblock");
    assert!(store
        .user_credentials("owner@x.io")
        .await
        .expect("read")
        .is_some());
    assert!(matches!(
        store
            .set_user_blocked(UserId(987_654), true, NOW, None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_ledger_consistent(&store).await;
}
