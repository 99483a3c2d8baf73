//! Conservation of affiliate money over a simulated decade (`docs/affiliates.md`, What proves
//! it): random referred spend every month with Completed, Partial and Canceled outcomes, later
//! corrections that refund after approval (inside and past the clawback window), the daily
//! release, both payout runs, random decisions on their payouts and random transfers to the
//! wallet. At the end Σ credited − Σ clawed back = Σ paid + Σ forfeited + Σ pending + Σ
//! balances + Σ transferred, and every affiliate ledger sums to its balance.

use super::payouts::{adjust, affiliate, run_to_end, scheduled, Rng};
use super::*;
use smmd_domain::affiliate::calendar::{Date, RunKind};
use smmd_domain::affiliate::{Decision, PayoutStatus};
use smmd_domain::clock::DAY_MS;
use smmd_domain::order::ProviderStatus;

async fn apply(
    store: &Arc<dyn Store>,
    o: &Order,
    from: OrderStatus,
    ev: OrderEvent,
    remains: Option<i64>,
    now: i64,
) {
    let mut u = update(o, from, ev, remains);
    u.now = now;
    let out = store.apply_order_update(u).await.expect("update");
    assert!(
        matches!(out, UpdateOutcome::Applied { .. }),
        "{from:?} {ev:?}: {out:?}"
    );
}

pub async fn a_decade_of_affiliate_money_is_conserved(store: Arc<dyn Store>) {
    let mut rng = Rng::new(2026);
    let svc = followers(&store).await;
    // A small panel: 20 % commission and payouts from 1.00, so every flow happens often.
    let settings = smmd_domain::affiliate::Settings {
        rate_bp: 2_000,
        min_payout: m("1"),
        ..Default::default()
    };
    store
        .update_affiliate_settings(&settings, NOW, None)
        .await
        .expect("settings");
    let mut affiliates = Vec::new();
    let mut referred = Vec::new();
    for a in 0..4 {
        let aff = affiliate(&store, &format!("aff{a}@x.io"), NOW - 30 * DAY_MS).await;
        for r in 0..2 {
            let u = user_with(
                &store,
                &format!("ref{a}-{r}@x.io"),
                "100000",
                Some(NewReferral {
                    affiliate_id: aff.id,
                    flags: vec![],
                    ip: None,
                }),
            )
            .await;
            referred.push(u.id);
        }
        affiliates.push(aff.id);
    }
    // Partial orders a later correction may cancel: (order, finalized at).
    let mut partials: Vec<(Order, i64)> = Vec::new();
    let mut transferred = Money::ZERO;
    let mut clawback_candidates = 0;
    for month in 0..120i64 {
        let (year, mon) = (2026 + (month / 12) as i32, (month % 12) as u32 + 1);
        let start = Date {
            year,
            month: mon,
            day: 1,
        }
        .start_ms();
        // Referred spend: one order each, finished on the 2nd.
        for (i, u) in referred.iter().enumerate() {
            let qty = 1_000 + rng.below(9_000) as i64;
            let o = place(
                &store,
                *u,
                &svc,
                &format!("https://instagram.com/r{i}/m{month}"),
                qty,
            )
            .await
            .expect("order");
            accept(&store, &o).await;
            let done = start + DAY_MS;
            match rng.below(20) {
                0..=11 => {
                    apply(
                        &store,
                        &o,
                        OrderStatus::Processing,
                        OrderEvent::Provider(ProviderStatus::Completed),
                        Some(0),
                        done,
                    )
                    .await
                }
                12..=16 => {
                    let remains = 1 + rng.below(qty as u64 - 1) as i64;
                    apply(
                        &store,
                        &o,
                        OrderStatus::Processing,
                        OrderEvent::Provider(ProviderStatus::Partial),
                        Some(remains),
                        done,
                    )
                    .await;
                    partials.push((o, done));
                }
                _ => {
                    apply(
                        &store,
                        &o,
                        OrderStatus::Processing,
                        OrderEvent::Provider(ProviderStatus::Canceled),
                        None,
                        done,
                    )
                    .await
                }
            }
        }
        // Upstream corrections on the 10th: some partials turn out canceled, refunding the
        // rest — after approval (a clawback) or past the clawback window (none).
        let fix_at = start + 9 * DAY_MS;
        let mut kept = Vec::new();
        for (o, done) in partials.drain(..) {
            if rng.chance(15) {
                if fix_at - done < 30 * DAY_MS + 90 * DAY_MS && fix_at - done > 30 * DAY_MS {
                    clawback_candidates += 1;
                }
                apply(
                    &store,
                    &o,
                    OrderStatus::Partial,
                    OrderEvent::Provider(ProviderStatus::Canceled),
                    None,
                    fix_at,
                )
                .await;
            } else {
                kept.push((o, done));
            }
        }
        partials = kept;
        // The daily release, on the days that matter here.
        for day in [4, 14, 27] {
            let mut more = true;
            while more {
                more = store
                    .release_commissions(start + day * DAY_MS, 50)
                    .await
                    .expect("release")
                    .more;
            }
        }
        // Both runs, and the admin's decisions the day after each.
        for kind in RunKind::ALL {
            let run = scheduled(kind, year, mon);
            run_to_end(&store, &run, 3, run.scheduled_at).await;
            let open = store
                .payouts(&PayoutQuery {
                    status: Some(PayoutStatus::Pending),
                    limit: 100,
                    ..PayoutQuery::default()
                })
                .await
                .expect("pending");
            for p in open {
                let at = run.scheduled_at + DAY_MS;
                let decision = match rng.below(10) {
                    0..=6 => Some((Decision::MarkPaid, "TX")),
                    7 => Some((Decision::RejectReturn, "wrong details")),
                    8 => Some((Decision::RejectFraud, "fraud")),
                    _ => None,
                };
                if let Some((d, text)) = decision {
                    store
                        .decide_payout(p.id, d, text, at, None)
                        .await
                        .expect("decide");
                    if d == Decision::MarkPaid && rng.chance(5) {
                        store
                            .decide_payout(p.id, Decision::Returned, "bounced", at + DAY_MS, None)
                            .await
                            .expect("returned");
                    }
                }
            }
        }
        // Transfers on the 25th: some affiliates move part of their balance to the wallet.
        for (i, a) in affiliates.iter().enumerate() {
            let balance = store
                .payout_candidate(*a)
                .await
                .expect("c")
                .expect("a")
                .balance;
            if balance.is_positive() && rng.chance(20) {
                let amount = Money::from_micros(1 + rng.below(balance.micros() as u64) as i64);
                store
                    .transfer_to_wallet(*a, amount, &format!("t{month}-{i}"), start + 24 * DAY_MS)
                    .await
                    .expect("transfer");
                transferred = transferred.saturating_add(amount);
            }
        }
        if month == 60 {
            // An admin's correction in both directions, which the identity must include.
            adjust(&store, affiliates[0], m("3"), "bonus", start).await;
            adjust(&store, affiliates[0], m("-3"), "bonus back", start).await;
        }
    }

    // Σ credited − Σ clawed back, from the commissions themselves.
    let (mut credited, mut clawed) = (0i64, 0i64);
    for a in &affiliates {
        let all = store
            .commissions_of(*a, None, 1_000)
            .await
            .expect("commissions");
        assert!(all.len() < 1_000);
        credited += all.iter().map(|c| c.credited.micros()).sum::<i64>();
        clawed += all.iter().map(|c| c.clawed.micros()).sum::<i64>();
    }
    let payouts = store
        .payouts(&PayoutQuery {
            limit: 10_000,
            ..PayoutQuery::default()
        })
        .await
        .expect("payouts");
    let sum = |s: PayoutStatus| -> i64 {
        payouts
            .iter()
            .filter(|p| p.status == s)
            .map(|p| p.amount.micros())
            .sum()
    };
    let mut balances = 0i64;
    for a in &affiliates {
        balances += store
            .payout_candidate(*a)
            .await
            .expect("c")
            .expect("a")
            .balance
            .micros();
    }
    let (paid, forfeited, pending) = (
        sum(PayoutStatus::Paid),
        sum(PayoutStatus::RejectedForfeited),
        sum(PayoutStatus::Pending),
    );
    assert!(
        credited > 0 && clawed > 0 && paid > 0 && forfeited > 0,
        "the decade exercised every flow"
    );
    assert!(clawback_candidates > 0);
    assert_eq!(
        credited - clawed,
        paid + forfeited + pending + balances + transferred.micros(),
        "credited {credited} clawed {clawed} paid {paid} forfeited {forfeited} pending {pending} balances {balances} transferred {}",
        transferred.micros()
    );
    let report = store.affiliate_report(0, i64::MAX).await.expect("report");
    assert_eq!(
        (
            report.approved.micros(),
            report.clawed_back.micros(),
            report.transferred,
            report.paid.micros()
        ),
        (credited, clawed, transferred, paid)
    );
    assert!(store.affiliate_mismatches().await.expect("m").is_empty());
    assert_ledger_consistent(&store).await;
}
