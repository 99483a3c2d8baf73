//! One payout per eligible affiliate across real processes (issue 17, proofs): four
//! `smmd serve` instances on one PostgreSQL database fire `affiliates.payouts_all` every
//! second, while five `smmd affiliates run-now` processes start the same run by hand. Every
//! trigger names today's run, so it is one run per (date, kind): each eligible affiliate gets
//! exactly one payout, the others one item with their reason, and the affiliate ledger sums to
//! the balances.

mod common;

use std::time::{Duration, Instant};

use common::Cluster;
use smmd_domain::affiliate::method::MethodKind;
use smmd_domain::affiliate::PayoutStatus;
use smmd_domain::{Clock, Money, SystemClock};
use smmd_store::prelude::*;
use smmd_store::{NewUser, PayoutQuery, Role, RunStatus};
use smmd_store_sql::testing::Backend;

const DAY: i64 = 86_400_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn four_instances_and_five_triggers_pay_each_affiliate_once() {
    let cluster = Cluster::new(Backend::Postgres, &[]).await;
    let store = cluster.db.store.clone();
    let now = SystemClock.now_ms();
    let mut eligible = Vec::new();
    for i in 0..30 {
        let u = store
            .create_user(NewUser {
                email: format!("aff{i}@x.io"),
                password_hash: "x".into(),
                role: Role::User,
                api_key_hash: None,
                now: now - 40 * DAY,
                audit: None,
                referral: None,
            })
            .await
            .expect("user");
        store
            .affiliate_account(u.id, &format!("AFFCODE{i:02}"), now - 40 * DAY)
            .await
            .expect("account");
        let m = store
            .submit_payout_method(u.id, MethodKind::Paypal, "p@example.com", now - 40 * DAY)
            .await
            .expect("method");
        store
            .decide_payout_method(m.id, true, "", now - 40 * DAY, None)
            .await
            .expect("approve");
        // Two in three have enough to be paid.
        let amount = if i % 3 == 0 { "50" } else { "150" };
        store
            .adjust_affiliate_balance(
                u.id,
                Money::parse(amount).expect("m"),
                &format!("seed:{i}"),
                "seed",
                now,
                None,
            )
            .await
            .expect("adjust");
        if i % 3 != 0 {
            eligible.push(u.id);
        }
    }
    let _instances = cluster.spawn_many(4, &[]).await;
    cluster.cli(&[
        "jobs",
        "set",
        "affiliates.payouts_all",
        "--cron",
        "* * * * * *",
        "--tz",
        "UTC",
    ]);
    // Five operators start the run by hand at the same moment.
    let triggers: Vec<_> = (0..5)
        .map(|_| {
            cluster
                .command()
                .args(["affiliates", "run-now", "--kind", "all"])
                .spawn()
                .expect("run-now")
        })
        .collect();
    for mut t in triggers {
        assert!(t.wait().expect("wait").success());
    }
    // Let the instances fire a few more ticks of the same run.
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    cluster.cli(&["jobs", "disable", "affiliates.payouts_all"]);
    let runs = store.payout_runs(None, 10).await.expect("runs");
    assert_eq!(runs.len(), 1, "one run per (date, kind): {runs:?}");
    assert_eq!(
        (runs[0].status, runs[0].candidates, runs[0].payouts),
        (RunStatus::Done, 30, eligible.len() as i64)
    );
    let payouts = store
        .payouts(&PayoutQuery {
            limit: 1_000,
            ..PayoutQuery::default()
        })
        .await
        .expect("payouts");
    let mut paid: Vec<_> = payouts.iter().map(|p| p.user_id).collect();
    paid.sort();
    assert_eq!(paid, eligible, "exactly one payout per eligible affiliate");
    assert!(payouts
        .iter()
        .all(|p| p.status == PayoutStatus::Pending && p.amount == Money::parse("150").expect("m")));
    let items = store
        .payout_run_items(runs[0].id, 0, 1_000)
        .await
        .expect("items");
    assert_eq!(items.len(), 30);
    assert!(items
        .iter()
        .filter(|i| i.reason.is_some())
        .all(|i| i.reason.as_deref() == Some("below_minimum")));
    assert!(store.affiliate_mismatches().await.expect("m").is_empty());
    // The schedule did fire on the instances meanwhile (each finding the run done).
    let fired: i64 = {
        let mut conn = cluster.conn().await;
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM schedule_runs r JOIN schedules s ON s.id = r.schedule_id \
             WHERE s.name = 'affiliates.payouts_all' AND r.state = 'succeeded'",
        )
        .fetch_one(&mut conn)
        .await
        .expect("runs")
    };
    assert!(fired >= 2, "the instances' ticks ran too: {fired}");
    println!("{fired} scheduled runs and 5 manual triggers made one payout run");
}
