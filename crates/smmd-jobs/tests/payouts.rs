//! Ten years of affiliate payout runs through the real engine on a manual clock (issue 17,
//! proofs), against a calendar computed here with `chrono` (not with cron or the domain's
//! calendar): 240 runs, none on a 15th, none twice; a run caught up on a Tuesday is named for
//! its Monday; a 5-day outage records the miss as skipped with an alert, touches no balance,
//! and the next run pays everything. Both backends.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use smmd_domain::affiliate::calendar::RunKind;
use smmd_domain::affiliate::method::MethodKind;
use smmd_domain::affiliate::{Decision, PayoutStatus};
use smmd_domain::{Clock, ManualClock, Money, UserId};
use smmd_jobs::affiliates::PayoutRunJob;
use smmd_jobs::control::{ensure_defaults, DEFAULT_JOBS};
use smmd_jobs::{Engine, EngineConfig};
use smmd_store::{NewUser, PayoutQuery, Role, RunStatus, Store};
use smmd_store_sql::both_stores;

/// 2026-01-01T00:00Z.
const T0: i64 = 1_767_225_600_000;
const DAY: i64 = 86_400_000;
const HOUR: i64 = 3_600_000;

fn ms(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
        .timestamp_millis()
}

fn date(at: i64) -> NaiveDate {
    chrono::DateTime::from_timestamp_millis(at)
        .expect("instant")
        .date_naive()
}

/// The first Monday on or after day `from` of the month.
fn monday_from(year: i32, month: u32, from: u32) -> NaiveDate {
    let mut d = NaiveDate::from_ymd_opt(year, month, from).expect("date");
    while d.weekday() != Weekday::Mon {
        d += Duration::days(1);
    }
    d
}

/// Every run of 2026–2035 by the rule as written: (date, kind).
fn expected_calendar() -> BTreeSet<(NaiveDate, &'static str)> {
    let mut all = BTreeSet::new();
    for year in 2026..2036 {
        for month in 1..=12 {
            all.insert((monday_from(year, month, 1), "all"));
            // "First Monday after the 15th": the 15th itself never counts.
            all.insert((monday_from(year, month, 16), "returning"));
        }
    }
    all
}

async fn affiliate(store: &Arc<dyn Store>, email: &str, code: &str) -> UserId {
    let u = store
        .create_user(NewUser {
            email: email.into(),
            password_hash: "x".into(),
            role: Role::User,
            api_key_hash: None,
            now: T0 - 40 * DAY,
            audit: None,
            referral: None,
        })
        .await
        .expect("user");
    store
        .affiliate_account(u.id, code, T0 - 40 * DAY)
        .await
        .expect("account");
    let m = store
        .submit_payout_method(u.id, MethodKind::Paypal, "pay@example.com", T0 - 40 * DAY)
        .await
        .expect("method");
    store
        .decide_payout_method(m.id, true, "", T0 - 40 * DAY, None)
        .await
        .expect("approve");
    u.id
}

async fn ten_years_of_payout_runs_follow_the_calendar(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    let payouts: Vec<_> = DEFAULT_JOBS
        .iter()
        .filter(|j| j.name.starts_with("affiliates.payouts"))
        .cloned()
        .collect();
    assert_eq!(
        payouts.iter().map(|j| (j.name, j.expr)).collect::<Vec<_>>(),
        RunKind::ALL
            .iter()
            .map(|k| (k.job(), k.cron()))
            .collect::<Vec<_>>()
    );
    ensure_defaults(store.as_ref(), &payouts, "UTC", T0)
        .await
        .expect("schedules");
    let mut engine = Engine::new(
        store.clone(),
        Arc::new(clock.clone()) as Arc<dyn Clock>,
        EngineConfig {
            instance: "a".into(),
            lease_ms: 30_000,
            ..EngineConfig::default()
        },
    );
    for kind in RunKind::ALL {
        engine.register(
            kind.job(),
            Arc::new(PayoutRunJob {
                kind,
                store: store.clone(),
                clock: Arc::new(clock.clone()),
            }),
        );
    }
    // A is credited 150.00 on the 1st and the 10th of every month, so every run has something
    // to pay them; B earns 30.00 on the 1st and waits for the minimum as a first-timer.
    let a = affiliate(&store, "a@x.io", "AAAAAAAA").await;
    let b = affiliate(&store, "b@x.io", "BBBBBBBB").await;
    let credit = Money::parse("150").expect("m");
    // The outages, by the chrono calendar: Monday 2028-03-06's run caught up on Tuesday, and
    // down from the Sunday before 2031-06-02 for five days.
    let tuesday_month = monday_from(2028, 3, 1);
    let outage_monday = monday_from(2031, 6, 1);
    let outage: Vec<NaiveDate> = (-1..5).map(|i| outage_monday + Duration::days(i)).collect();
    let mut balance_before_outage = Money::ZERO;
    let start = date(T0);
    let days = (NaiveDate::from_ymd_opt(2036, 1, 1).expect("end") - start).num_days();
    for i in 0..days {
        let day = start + Duration::days(i);
        let midnight = ms(day);
        if matches!(day.day(), 1 | 10) {
            store
                .adjust_affiliate_balance(a, credit, &format!("a:{day}"), "earned", midnight, None)
                .await
                .expect("credit a");
        }
        if day.day() == 1 {
            store
                .adjust_affiliate_balance(
                    b,
                    Money::parse("30").expect("m"),
                    &format!("b:{day}"),
                    "earned",
                    midnight,
                    None,
                )
                .await
                .expect("credit b");
        }
        if outage.contains(&day) || day == tuesday_month {
            if day == outage_monday {
                balance_before_outage = store
                    .payout_candidate(a)
                    .await
                    .expect("c")
                    .expect("a")
                    .balance;
            }
            continue;
        }
        let at = if day == tuesday_month + Duration::days(1) {
            midnight + 10 * HOUR
        } else {
            midnight + 2 * HOUR + 1_000
        };
        clock.set_ms(at);
        engine.tick().await.expect("tick");
        // The admin pays whatever is pending the same day.
        let pending = store
            .payouts(&PayoutQuery {
                status: Some(PayoutStatus::Pending),
                limit: 100,
                ..PayoutQuery::default()
            })
            .await
            .expect("pending");
        for p in pending {
            store
                .decide_payout(
                    p.id,
                    Decision::MarkPaid,
                    &format!("TX-{}", p.id),
                    at + HOUR,
                    None,
                )
                .await
                .expect("paid");
        }
    }

    // 240 runs, exactly the calendar's dates, none on a 15th, none twice.
    let runs = store.payout_runs(None, 1_000).await.expect("runs");
    assert_eq!(runs.len(), 240);
    let got: BTreeSet<(NaiveDate, &'static str)> = runs
        .iter()
        .map(|r| {
            (
                NaiveDate::parse_from_str(&r.date, "%Y-%m-%d").expect("date"),
                r.kind.as_str(),
            )
        })
        .collect();
    assert_eq!(got.len(), 240, "no run twice");
    assert_eq!(got, expected_calendar());
    assert!(got.iter().all(|(d, _)| d.day() != 15));
    for r in &runs {
        assert_eq!(
            ms(date(r.scheduled_at)) + 2 * HOUR,
            r.scheduled_at,
            "02:00 UTC"
        );
    }
    // The Tuesday catch-up is Monday's run, done.
    let caught = runs
        .iter()
        .find(|r| r.date == tuesday_month.to_string())
        .expect("caught-up run");
    assert_eq!(caught.status, RunStatus::Done);
    assert_eq!(date(caught.started_at), tuesday_month + Duration::days(1));
    assert_eq!(caught.payouts, 1);
    // The outage: the first-Monday run is recorded as skipped, nobody paid, an alert raised …
    let skipped: Vec<_> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Skipped)
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(
        (skipped[0].date.as_str(), skipped[0].payouts),
        (outage_monday.to_string().as_str(), 0)
    );
    assert!(store
        .open_alerts()
        .await
        .expect("alerts")
        .iter()
        .any(|al| al.kind == "payout_run_skipped" && al.subject == "payouts:all"));
    // … and the mid-month run pays everything that waited: the 1st's and the 10th's credits.
    let next = runs
        .iter()
        .filter(|r| r.scheduled_at > skipped[0].scheduled_at)
        .min_by_key(|r| r.scheduled_at)
        .expect("next run");
    assert_eq!(next.kind, RunKind::Returning);
    let paid_next = store
        .payouts(&PayoutQuery {
            run: Some(next.id),
            user: Some(a),
            limit: 10,
            ..PayoutQuery::default()
        })
        .await
        .expect("payouts");
    assert_eq!(paid_next.len(), 1);
    assert_eq!(
        paid_next[0].amount,
        balance_before_outage.checked_add(credit).expect("sum"),
        "the balance of the 1st (untouched by the skipped run) and the 10th's credit"
    );
    assert_eq!(balance_before_outage, credit);
    // A was paid by every run but the skipped one; the money adds up for both.
    let a_payouts = store
        .payouts(&PayoutQuery {
            user: Some(a),
            limit: 1_000,
            ..PayoutQuery::default()
        })
        .await
        .expect("a");
    assert_eq!(a_payouts.len(), 239);
    let numbers: BTreeSet<i64> = store
        .payouts(&PayoutQuery {
            limit: 10_000,
            ..PayoutQuery::default()
        })
        .await
        .expect("all")
        .iter()
        .filter_map(|p| p.number)
        .collect();
    assert_eq!(
        numbers,
        (1..=numbers.len() as i64).collect::<BTreeSet<_>>(),
        "gapless payout numbers"
    );
    assert!(store.affiliate_mismatches().await.expect("m").is_empty());
    for (who, credited) in [(a, 240 * 150), (b, 120 * 30)] {
        let paid: i64 = store
            .payouts(&PayoutQuery {
                user: Some(who),
                limit: 1_000,
                ..PayoutQuery::default()
            })
            .await
            .expect("p")
            .iter()
            .map(|p| p.amount.micros())
            .sum();
        let left = store
            .payout_candidate(who)
            .await
            .expect("c")
            .expect("a")
            .balance;
        assert_eq!(
            paid + left.micros(),
            Money::parse(&credited.to_string()).expect("m").micros()
        );
    }
}

both_stores!(ten_years_of_payout_runs_follow_the_calendar);
