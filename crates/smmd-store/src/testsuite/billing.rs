//! Conformance cases of hourly billing (`docs/billing.md`): renting, catching up an outage
//! once, waived paused hours, the dunning ladder at its exact instants, collection of dues,
//! credits, plan changes and cancels. Hours are counted from `NOW` (2026-01-01T00:00Z).

use super::*;
use smmd_domain::billing::charge::{charge_for_hours, hour_charge, CapMode};
use smmd_domain::billing::rental::SuspendReason;
use smmd_domain::billing::HOUR_MS;

const H: i64 = HOUR_MS;

fn plan(code: &str, price: &str, fee: &str) -> NewPlan {
    NewPlan {
        code: code.into(),
        name: format!("Plan {code}"),
        description: String::new(),
        price: m(price),
        cap_mode: CapMode::H730,
        setup_fee: m(fee),
        entitlement: "reseller_tier".into(),
        settings: "{}".into(),
    }
}

/// Billing enabled, and a plan of 73.00 a month (0.10 an hour on `h730`).
pub(super) async fn enabled_with_plan(store: &Arc<dyn Store>, fee: &str) -> Plan {
    let patch = BillingSettingsPatch {
        enabled: Some(true),
        ..Default::default()
    };
    store
        .update_billing_settings(&patch, None, NOW, None)
        .await
        .expect("enable");
    store
        .create_plan(&plan("pro", "73", fee), NOW, None)
        .await
        .expect("plan")
}

async fn hours(store: &Arc<dyn Store>, rental: i64) -> Vec<RentalHour> {
    store
        .rental_hours(rental, 0, i64::MAX, 100_000)
        .await
        .expect("hours")
}

fn count(hours: &[RentalHour], status: HourStatus) -> usize {
    hours.iter().filter(|h| h.status == status).count()
}

async fn rent_ledger(store: &Arc<dyn Store>, u: UserId) -> Vec<LedgerEntry> {
    let mut all = store.ledger(u, None, 1000).await.expect("ledger");
    all.retain(|e| matches!(e.kind, LedgerKind::Rent | LedgerKind::RentCredit));
    all.reverse();
    all
}

pub async fn renting_pays_the_first_hour_and_refuses_what_it_cannot(store: Arc<dyn Store>) {
    let u = user(&store, "renter@x.io", "1").await;
    let p = store
        .create_plan(&plan("pro", "73", "0.50"), NOW, None)
        .await
        .expect("plan");
    // Billing starts disabled: nothing can be rented.
    assert!(matches!(
        store.rent(u.id, p.id, NOW).await,
        Err(BillingError::Disabled)
    ));
    let on = BillingSettingsPatch {
        enabled: Some(true),
        ..Default::default()
    };
    store
        .update_billing_settings(&on, None, NOW, None)
        .await
        .expect("enable");
    store
        .set_billing_pause(true, "maintenance", None, NOW, None)
        .await
        .expect("pause");
    assert!(matches!(
        store.rent(u.id, p.id, NOW).await,
        Err(BillingError::Paused)
    ));
    store
        .set_billing_pause(false, "", None, NOW, None)
        .await
        .expect("resume");
    assert!(matches!(
        store.create_plan(&plan("pro", "1", "0"), NOW, None).await,
        Err(BillingError::DuplicateCode)
    ));
    assert!(matches!(
        store.rent(u.id, 999, NOW).await,
        Err(BillingError::PlanNotFound)
    ));
    // 0.50 setup fee + 0.10 first hour = 0.60; a wallet of 0.55 is refused and nothing is
    // written.
    let poor = user(&store, "poor@x.io", "0.55").await;
    match store.rent(poor.id, p.id, NOW).await {
        Err(BillingError::InsufficientFunds { needed }) => assert_eq!(needed, m("0.60")),
        other => panic!("expected InsufficientFunds, got {other:?}"),
    }
    assert!(store
        .rentals(Some(poor.id), None, 10)
        .await
        .expect("rentals")
        .is_empty());
    assert_eq!(balance(&store, poor.id).await, m("0.55"));

    let r = store
        .rent(u.id, p.id, NOW + 30 * 60_000)
        .await
        .expect("rent");
    assert_eq!(r.state, smmd_domain::billing::rental::RentalState::Active);
    assert_eq!(r.billed_through, NOW + H);
    assert_eq!(balance(&store, u.id).await, m("0.40"));
    let rows = hours(&store, r.id).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].hour, rows[0].k, rows[0].amount, rows[0].status),
        (NOW, 1, m("0.10"), HourStatus::Paid)
    );
    let keys: Vec<String> = rent_ledger(&store, u.id)
        .await
        .into_iter()
        .map(|e| e.key)
        .collect();
    assert_eq!(
        keys,
        [
            format!("rent:{}:setup", r.id),
            format!("rent:{}:{NOW}", r.id)
        ]
    );
    // A deactivated plan cannot be rented; its rentals go on.
    let off = PlanPatch {
        active: Some(false),
        ..Default::default()
    };
    store.update_plan(p.id, &off, NOW, None).await.expect("off");
    assert!(matches!(
        store.rent(u.id, p.id, NOW).await,
        Err(BillingError::PlanInactive)
    ));
    assert!(store.plans(false).await.expect("plans").is_empty());
    assert_eq!(store.plans(true).await.expect("plans").len(), 1);
    assert_ledger_consistent(&store).await;
}

pub async fn an_outage_is_billed_once_and_paused_hours_are_waived(store: Arc<dyn Store>) {
    let p = enabled_with_plan(&store, "0").await;
    let u = user(&store, "outage@x.io", "100").await;
    let r = store.rent(u.id, p.id, NOW).await.expect("rent");
    // Nobody bills for three days; then a run at 72 h 10 min catches up hours 1..=72.
    let later = NOW + 72 * H + 600_000;
    let report = store.bill_user(u.id, later).await.expect("bill");
    assert_eq!((report.hours_paid, report.hours_due), (72, 0));
    assert_eq!(report.amount, m("7.20"));
    // More triggers, also concurrent ones, change nothing.
    for _ in 0..5 {
        let again = futures::future::join_all((0..2).map(|_| store.bill_user(u.id, later))).await;
        for a in again {
            assert_eq!(a.expect("bill").hours_paid, 0);
        }
    }
    let rows = hours(&store, r.id).await;
    assert_eq!(rows.len(), 73);
    assert!(
        rows.windows(2).all(|w| w[1].hour == w[0].hour + H),
        "no gap"
    );
    assert_eq!(
        rows.iter().map(|h| h.k).collect::<Vec<_>>(),
        (1..=73).collect::<Vec<_>>()
    );
    assert_eq!(balance(&store, u.id).await, m("92.70"));
    assert_eq!(rent_ledger(&store, u.id).await.len(), 73);

    // The same 72 hours under a billing pause: recorded as waived, nothing charged, and the
    // line's count goes on where it was when billing resumes.
    let v = user(&store, "paused@x.io", "100").await;
    let r2 = store.rent(v.id, p.id, NOW).await.expect("rent");
    store
        .set_billing_pause(true, "incident", None, NOW + 1_000, None)
        .await
        .expect("pause");
    let report = store.bill_user(v.id, later).await.expect("bill");
    assert_eq!((report.hours_waived, report.hours_paid), (72, 0));
    store
        .set_billing_pause(false, "", None, later, None)
        .await
        .expect("resume");
    store.bill_user(v.id, NOW + 73 * H).await.expect("bill");
    let rows = hours(&store, r2.id).await;
    assert_eq!(count(&rows, HourStatus::Waived), 72);
    assert!(rows
        .iter()
        .filter(|h| h.status == HourStatus::Waived)
        .all(|h| h.amount == Money::ZERO));
    assert_eq!(
        rows.iter()
            .filter(|h| h.k > 0)
            .map(|h| (h.hour, h.k))
            .collect::<Vec<_>>(),
        [(NOW, 1), (NOW + 73 * H, 2)],
        "the hour the pause ended in is waived (its start was paused), the next is k = 2"
    );
    assert_eq!(balance(&store, v.id).await, m("99.80"));
    assert_ledger_consistent(&store).await;
}

pub async fn a_month_never_costs_more_than_the_plan(store: Arc<dyn Store>) {
    // h672: 672 charged hours cost exactly P; the rest of the month is free.
    enabled_with_plan(&store, "0").await;
    let mut cheap = plan("h672", "10", "0");
    cheap.cap_mode = CapMode::H672;
    let p = store.create_plan(&cheap, NOW, None).await.expect("plan");
    let u = user(&store, "cap@x.io", "100").await;
    let r = store.rent(u.id, p.id, NOW).await.expect("rent");
    // January has 744 hours; bill them all, a week at a time.
    for week in 1..=5 {
        store
            .bill_user(u.id, (NOW + week * 168 * H).min(NOW + 743 * H))
            .await
            .expect("bill");
    }
    let rows = hours(&store, r.id).await;
    assert_eq!(rows.len(), 744);
    let total: i64 = rows.iter().map(|h| h.amount.micros()).sum();
    assert_eq!(Money::from_micros(total), m("10"));
    assert_eq!(count(&rows, HourStatus::Paid), 744);
    assert!(rows[672..].iter().all(|h| h.amount == Money::ZERO));
    assert_eq!(rows[0].amount, hour_charge(m("10"), 672, 1));
    assert_eq!(
        charge_for_hours(m("10"), 672, 100),
        Money::from_micros(rows[..100].iter().map(|h| h.amount.micros()).sum())
    );
    // February starts a new line on the same plan.
    store.bill_user(u.id, NOW + 744 * H).await.expect("bill");
    let feb = store
        .rental_hours(r.id, NOW + 744 * H, i64::MAX, 10)
        .await
        .expect("hours");
    assert_eq!((feb.len(), feb[0].k, feb[0].divisor), (1, 1, 672));
    assert_eq!(
        balance(&store, u.id).await.micros(),
        m("90").micros() - feb[0].amount.micros()
    );
    assert_ledger_consistent(&store).await;
}

pub async fn the_dunning_ladder_runs_at_its_exact_instants(store: Arc<dyn Store>) {
    let p = enabled_with_plan(&store, "0").await;
    // 1.00 pays hours 0..=9 (0.10 each); hour 10 is the first due hour.
    let u = user(&store, "dun@x.io", "1").await;
    let r = store.rent(u.id, p.id, NOW).await.expect("rent");
    store.bill_user(u.id, NOW + 9 * H).await.expect("bill");
    assert_eq!(balance(&store, u.id).await, Money::ZERO);
    let report = store.bill_user(u.id, NOW + 10 * H).await.expect("bill");
    assert_eq!(report.hours_due, 1);
    let g = store.rental(r.id).await.expect("read").expect("rental");
    use smmd_domain::billing::rental::RentalState as S;
    assert_eq!((g.state, g.first_due_hour), (S::Grace, Some(NOW + 10 * H)));
    // One ms before first due + 72 h: still in grace. At the instant: suspended, and the hour
    // starting then is not billed.
    store.bill_user(u.id, NOW + 82 * H - 1).await.expect("bill");
    assert_eq!(
        store.rental(r.id).await.expect("r").expect("r").state,
        S::Grace
    );
    // The job was away for a day: the suspension still happens at its exact instant.
    store.bill_user(u.id, NOW + 100 * H).await.expect("bill");
    let s = store.rental(r.id).await.expect("r").expect("r");
    assert_eq!(s.state, S::Suspended(SuspendReason::NonPayment));
    assert_eq!(s.state_at, NOW + 82 * H);
    let rows = hours(&store, r.id).await;
    assert_eq!(rows.last().map(|h| h.hour), Some(NOW + 81 * H));
    assert_eq!(count(&rows, HourStatus::Due), 72);
    let log = store.rental_log(r.id).await.expect("log");
    assert_eq!(
        log.iter()
            .map(|e| (e.event.as_str(), e.at))
            .collect::<Vec<_>>(),
        [
            ("activated", NOW),
            ("past_due", NOW + 10 * H),
            ("suspended", NOW + 82 * H)
        ]
    );

    // A second rental goes the whole way: terminated 30 days after its suspension, dues
    // written off, never collected.
    let v = user(&store, "gone@x.io", "0.10").await;
    let r2 = store.rent(v.id, p.id, NOW).await.expect("rent");
    store
        .bill_user(v.id, NOW + 40 * 24 * H)
        .await
        .expect("bill");
    let t = store.rental(r2.id).await.expect("r").expect("r");
    assert_eq!(t.state, S::Terminated);
    assert_eq!(t.state_at, NOW + H + 72 * H + 30 * 24 * H);
    let rows = hours(&store, r2.id).await;
    assert_eq!(
        (
            count(&rows, HourStatus::WrittenOff),
            count(&rows, HourStatus::Due)
        ),
        (72, 0)
    );
    credit(&store, v.id, "50", "late:gone").await;
    store
        .bill_user(v.id, NOW + 41 * 24 * H)
        .await
        .expect("collect");
    assert_eq!(
        balance(&store, v.id).await,
        m("50"),
        "written-off dues stay written off"
    );
    assert!(matches!(
        store
            .rental_action(
                r2.id,
                RentalAction::Cancel,
                None,
                None,
                NOW + 41 * 24 * H,
                None
            )
            .await,
        Err(BillingError::Illegal(_))
    ));
    assert_ledger_consistent(&store).await;
}

pub async fn a_top_up_collects_dues_oldest_first_but_not_an_admin_suspension(
    store: Arc<dyn Store>,
) {
    let p = enabled_with_plan(&store, "0").await;
    let u = user(&store, "topup@x.io", "0.10").await;
    let r = store.rent(u.id, p.id, NOW).await.expect("rent");
    store.bill_user(u.id, NOW + 50 * H).await.expect("bill");
    assert_eq!(count(&hours(&store, r.id).await, HourStatus::Due), 50);
    // 2.55 pays 25 of the 50 due hours (5.00), oldest first.
    credit(&store, u.id, "2.55", "topup:1").await;
    let report = store
        .bill_user(u.id, NOW + 50 * H + 60_000)
        .await
        .expect("collect");
    assert_eq!((report.hours_collected, report.collected), (25, m("2.50")));
    let rows = hours(&store, r.id).await;
    let paid: Vec<i64> = rows
        .iter()
        .filter(|h| h.status == HourStatus::Paid)
        .map(|h| (h.hour - NOW) / H)
        .collect();
    assert_eq!(paid, (0..=25).collect::<Vec<_>>(), "oldest first");
    use smmd_domain::billing::rental::RentalState as S;
    assert_eq!(
        store.rental(r.id).await.expect("r").expect("r").state,
        S::Grace
    );
    // The rest: all dues paid, back to active, the current hour billed in advance.
    credit(&store, u.id, "10", "topup:2").await;
    store
        .bill_user(u.id, NOW + 50 * H + 120_000)
        .await
        .expect("collect");
    let a = store.rental(r.id).await.expect("r").expect("r");
    assert_eq!((a.state, a.first_due_hour), (S::Active, None));
    assert_eq!(count(&hours(&store, r.id).await, HourStatus::Due), 0);
    assert_eq!(balance(&store, u.id).await, m("7.55"));

    // An admin suspension survives a top-up; only an admin lifts it.
    let v = user(&store, "admin-held@x.io", "0.10").await;
    let r2 = store.rent(v.id, p.id, NOW).await.expect("rent");
    store.bill_user(v.id, NOW + 5 * H).await.expect("bill");
    store
        .rental_action(
            r2.id,
            RentalAction::Suspend,
            None,
            None,
            NOW + 5 * H + 1,
            None,
        )
        .await
        .expect("suspend");
    credit(&store, v.id, "10", "topup:v").await;
    store.bill_user(v.id, NOW + 6 * H).await.expect("collect");
    store.bill_user(v.id, NOW + 7 * H).await.expect("bill");
    let held = store.rental(r2.id).await.expect("r").expect("r");
    assert_eq!(held.state, S::Suspended(SuspendReason::Admin));
    assert_eq!(
        count(&hours(&store, r2.id).await, HourStatus::Due),
        0,
        "dues are paid"
    );
    assert_eq!(
        hours(&store, r2.id).await.len(),
        6,
        "no hour billed while suspended"
    );
    // Its renter cannot lift it (only cancel), and cannot touch another's rental.
    assert!(matches!(
        store
            .rental_action(
                r2.id,
                RentalAction::Cancel,
                Some(u.id),
                Some(u.id),
                NOW + 7 * H,
                None
            )
            .await,
        Err(BillingError::RentalNotFound)
    ));
    let back = store
        .rental_action(
            r2.id,
            RentalAction::Unsuspend,
            None,
            None,
            NOW + 7 * H + 1_800_000,
            None,
        )
        .await
        .expect("unsuspend");
    assert_eq!(back.state, S::Active);
    let rows = hours(&store, r2.id).await;
    assert_eq!(
        rows.last().map(|h| (h.hour, h.status)),
        Some((NOW + 7 * H, HourStatus::Paid))
    );
    assert_ledger_consistent(&store).await;
}

pub async fn credits_plan_changes_and_cancels_keep_the_rules(store: Arc<dyn Store>) {
    let p = enabled_with_plan(&store, "0").await;
    let big = store
        .create_plan(&plan("max", "146", "0"), NOW, None)
        .await
        .expect("plan");
    let u = user(&store, "change@x.io", "100").await;
    let r = store.rent(u.id, p.id, NOW).await.expect("rent");
    store.bill_user(u.id, NOW + 2 * H).await.expect("bill");
    // A credit names billed, paid hours; a repeat changes nothing.
    assert!(matches!(
        store
            .credit_rental_hours(r.id, &[NOW + 5 * H], None, NOW + 2 * H, None)
            .await,
        Err(BillingError::NotBilled(_))
    ));
    let c = store
        .credit_rental_hours(r.id, &[NOW, NOW + H], None, NOW + 2 * H, None)
        .await
        .expect("credit");
    assert_eq!(c, m("0.20"));
    let again = store
        .credit_rental_hours(r.id, &[NOW, NOW + H], None, NOW + 2 * H, None)
        .await
        .expect("credit");
    assert_eq!(again, Money::ZERO);
    // A plan change at 02:30 keeps hour 2 on the old plan; hour 3 starts the new line.
    assert!(matches!(
        store
            .rental_action(
                r.id,
                RentalAction::ChangePlan { plan_id: p.id },
                None,
                None,
                NOW + 2 * H,
                None
            )
            .await,
        Err(BillingError::SamePlan)
    ));
    store
        .rental_action(
            r.id,
            RentalAction::ChangePlan { plan_id: big.id },
            None,
            None,
            NOW + 2 * H + 1_800_000,
            None,
        )
        .await
        .expect("change");
    store.bill_user(u.id, NOW + 4 * H).await.expect("bill");
    let rows = hours(&store, r.id).await;
    assert_eq!(
        rows.iter()
            .map(|h| (h.plan_id, h.k, h.amount))
            .collect::<Vec<_>>(),
        [
            (p.id, 1, m("0.10")),
            (p.id, 2, m("0.10")),
            (p.id, 3, m("0.10")),
            (big.id, 1, m("0.20")),
            (big.id, 2, m("0.20")),
        ]
    );
    assert_eq!(rows[0].credited, m("0.10"));
    // The renter cancels at 04:10: the current hour stays paid, nothing more is billed.
    let done = store
        .rental_action(
            r.id,
            RentalAction::Cancel,
            Some(u.id),
            Some(u.id),
            NOW + 4 * H + 600_000,
            None,
        )
        .await
        .expect("cancel");
    assert_eq!(
        done.state,
        smmd_domain::billing::rental::RentalState::Canceled
    );
    store.bill_user(u.id, NOW + 9 * H).await.expect("bill");
    assert_eq!(hours(&store, r.id).await.len(), 5);
    assert!(matches!(
        store
            .rental_action(
                r.id,
                RentalAction::ChangePlan { plan_id: p.id },
                None,
                None,
                NOW + 9 * H,
                None
            )
            .await,
        Err(BillingError::Invalid(_))
    ));
    assert_eq!(balance(&store, u.id).await, m("99.50"));
    let status = store.billing_status().await.expect("status");
    assert_eq!(status.rentals_by_state, [("canceled".to_string(), 1)]);
    assert_eq!(status.hours_due, 0);
    assert_ledger_consistent(&store).await;
}

pub async fn orders_and_billing_share_a_short_wallet(store: Arc<dyn Store>) {
    // 1,000 orders of 0.09 race two days of hourly billing (0.10 an hour) for a wallet that
    // pays only part of both.
    let p = enabled_with_plan(&store, "0").await;
    let u = user(&store, "short@x.io", "20").await;
    let svc = followers(&store).await;
    let r = store.rent(u.id, p.id, NOW).await.expect("rent");
    let orders: Vec<_> = (0..1000)
        .map(|i| {
            let (store, svc) = (store.clone(), svc.clone());
            tokio::spawn(async move {
                place(
                    &store,
                    u.id,
                    &svc,
                    &format!("https://instagram.com/short/{i}"),
                    100,
                )
                .await
            })
        })
        .collect();
    let billing = {
        let store = store.clone();
        tokio::spawn(async move {
            for hour in 1..=48 {
                store.bill_user(u.id, NOW + hour * H).await.expect("bill");
                tokio::task::yield_now().await;
            }
        })
    };
    let mut placed = 0i64;
    for o in futures::future::join_all(orders).await {
        match o.expect("task") {
            Ok(_) => placed += 1,
            Err(PlaceOrderError::Rejected(smmd_domain::service::OrderError::InsufficientFunds)) => {
            }
            Err(e) => panic!("unexpected {e}"),
        }
    }
    billing.await.expect("billing task");
    assert!(
        placed > 0 && placed < 1000,
        "the wallet paid part: {placed}"
    );
    let rows = hours(&store, r.id).await;
    assert_eq!(rows.len(), 49, "every hour has its row");
    assert!(
        rows.windows(2).all(|w| w[1].hour == w[0].hour + H),
        "no gap"
    );
    assert!(rows
        .iter()
        .all(|h| matches!(h.status, HourStatus::Paid | HourStatus::Due)));
    // Every rent entry has its paid hour, and every paid hour its entry.
    let rent_keys: std::collections::BTreeSet<String> = rent_ledger(&store, u.id)
        .await
        .into_iter()
        .map(|e| e.key)
        .collect();
    let paid_keys: std::collections::BTreeSet<String> = rows
        .iter()
        .filter(|h| h.status == HourStatus::Paid)
        .map(|h| smmd_domain::ledger::rent_key(r.id, h.hour))
        .collect();
    assert_eq!(rent_keys, paid_keys);
    let spent = Money::from_micros(placed * 90_000 + paid_keys.len() as i64 * 100_000);
    assert_eq!(
        balance(&store, u.id).await.micros(),
        m("20").micros() - spent.micros()
    );
    assert!(!balance(&store, u.id).await.is_negative());
    assert_ledger_consistent(&store).await;
}

/// A change of `amount` (negative: a debit) to the user's wallet.
async fn adjust(store: &Arc<dyn Store>, u: UserId, amount: &str, key: &str) {
    store
        .change_balance(BalanceChange {
            user_id: u,
            amount: m(amount),
            kind: LedgerKind::Adjustment,
            key: key.to_string(),
            reason: "test".to_string(),
            actor_id: None,
            now: NOW,
            audit: None,
        })
        .await
        .expect("adjust");
}

/// A notice as these cases compare it: (kind, rental, runway hours, threshold).
type Notice = (String, Option<i64>, Option<i64>, Option<i64>);

/// The user's billing notices so far, oldest first.
/// The user's billing notices once `ready` holds for them (or after 30 s). A notice is read,
/// in commit order, once every transaction older than it has ended on the whole PostgreSQL
/// cluster (the feed's horizon): other test binaries' transactions in flight can hold a notice
/// committed a moment ago back, so the read waits for what the test is about to check,
/// returning as soon as it is there (the test's assertions still decide).
async fn notices(
    store: &Arc<dyn Store>,
    u: UserId,
    ready: impl Fn(&[Notice]) -> bool,
) -> Vec<Notice> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let (all, _) = store
            .billing_notices_after(FeedPos::default(), 10_000)
            .await
            .expect("notices");
        let mine: Vec<Notice> = all
            .into_iter()
            .filter(|n| n.user_id == u)
            .map(|n| (n.kind, n.rental_id, n.runway_hours, n.threshold))
            .collect();
        if ready(&mine) || tokio::time::Instant::now() >= deadline {
            return mine;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

pub async fn the_runway_warns_once_per_dip_and_rental_changes_become_notices(
    store: Arc<dyn Store>,
) {
    // 0.10 an hour; warnings below 72 h and 24 h, re-armed at 90 h and 30 h.
    let p = enabled_with_plan(&store, "0").await;
    let u = user(&store, "runway@x.io", "10.10").await;
    let r = store.rent(u.id, p.id, NOW).await.expect("rent");
    assert_eq!(balance(&store, u.id).await, m("10"), "100 hours of runway");
    let warnings = |all: &[Notice]| {
        all.iter()
            .filter(|n| n.0 == "rental.runway_low")
            .cloned()
            .collect::<Vec<_>>()
    };
    // Within hour 0 (nothing more to bill), through the job's path and a deposit's path in
    // turn: both check the runway.
    let bill = |i: i64| {
        let store = store.clone();
        async move {
            if i % 2 == 0 {
                store.bill_users(&[u.id], NOW + i).await.expect("bill")
            } else {
                store.bill_user(u.id, NOW + i).await.expect("bill")
            }
        }
    };
    let mut i = 1;
    for dip in 0..10 {
        adjust(&store, u.id, "-2.90", &format!("dip:{dip}:down")).await; // 71 h
        assert_eq!(bill(i).await.runway_warnings, 1, "dip {dip} warns");
        i += 1;
        assert_eq!(bill(i).await.runway_warnings, 0, "once");
        i += 1;
        // Hovering about the line within the dip: 73 h, then 70 h.
        adjust(&store, u.id, "0.20", &format!("dip:{dip}:up")).await;
        bill(i).await;
        i += 1;
        adjust(&store, u.id, "-0.30", &format!("dip:{dip}:again")).await;
        assert_eq!(bill(i).await.runway_warnings, 0, "still the same dip");
        i += 1;
        // Back to 100 h: 25 % above the threshold, re-armed.
        adjust(&store, u.id, "3.00", &format!("dip:{dip}:back")).await;
        bill(i).await;
        i += 1;
    }
    let all = notices(&store, u.id, |a| warnings(a).len() >= 10).await;
    assert_eq!(warnings(&all).len(), 10, "one warning per dip: {all:?}");
    assert!(warnings(&all)
        .iter()
        .all(|w| w.1.is_none() && w.2 == Some(71) && w.3 == Some(72)));
    // A fall through both thresholds at once: one warning, naming the lower.
    adjust(&store, u.id, "-8.00", "through").await; // 20 h
    bill(i).await;
    bill(i + 1).await;
    let all = notices(&store, u.id, |a| warnings(a).len() >= 11).await;
    let w = warnings(&all);
    assert_eq!(w.len(), 11);
    assert_eq!((w[10].2, w[10].3), (Some(20), Some(24)));
    assert_eq!(all[0], ("rental.activated".into(), Some(r.id), None, None));

    // The dunning ladder, each step a notice of its rental, once, in order.
    let v = user(&store, "ladder@x.io", "0.10").await;
    let r2 = store.rent(v.id, p.id, NOW).await.expect("rent");
    store.bill_user(v.id, NOW + H).await.expect("due");
    store.bill_user(v.id, NOW + 73 * H).await.expect("suspend");
    store.bill_user(v.id, NOW + 73 * H).await.expect("again");
    credit(&store, v.id, "20", "ladder:pay").await;
    store.bill_user(v.id, NOW + 74 * H).await.expect("resume");
    let kinds: Vec<String> = notices(&store, v.id, |a| {
        a.iter().filter(|n| n.1 == Some(r2.id)).count() >= 4
    })
    .await
    .into_iter()
    .filter(|n| n.1 == Some(r2.id))
    .map(|n| n.0)
    .collect();
    assert_eq!(
        kinds,
        [
            "rental.activated",
            "rental.past_due",
            "rental.suspended",
            "rental.resumed"
        ]
    );
    store
        .rental_action(
            r2.id,
            RentalAction::Terminate,
            None,
            None,
            NOW + 75 * H,
            None,
        )
        .await
        .expect("terminate");
    let last = notices(&store, v.id, |a| {
        a.iter().any(|n| n.0 == "rental.terminated")
    })
    .await
    .pop()
    .expect("one");
    assert_eq!(
        (last.0.as_str(), last.1),
        ("rental.terminated", Some(r2.id))
    );
    assert_ledger_consistent(&store).await;
}
