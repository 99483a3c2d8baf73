//! Ten years of one rental per cap mode (issue 16, proofs), against a calendar computed here
//! with `chrono`, not with the engine's: 87,648 hour rows from 2026-01-01T00:00Z, no gap and no
//! duplicate, and each month's `rent` equal to `min(P, ceil(P·hours/D))` — D = 730 (`h730`),
//! 672 (`h672`) or the month's own hours (`calendar`) — on both backends.

use chrono::{Datelike, TimeZone, Utc};
use smmd_domain::billing::charge::CapMode;
use smmd_domain::billing::HOUR_MS;
use smmd_domain::Money;
use smmd_store::{
    BalanceChange, BillingSettingsPatch, HourStatus, LedgerKind, NewPlan, NewUser, Role, Store,
};
use smmd_store_sql::testing::{fresh, Backend};

/// 2026-01-01T00:00Z.
const T0: i64 = 1_767_225_600_000;
/// Hours from 2026-01-01 to 2036-01-01: 3,652 days.
const DECADE_HOURS: i64 = 87_648;
/// An awkward price, so every rounding shows: 99.999999 a month.
const PRICE: i64 = 99_999_999;

/// `(year, month)` → the month's hours, from chrono's calendar.
fn month_hours(year: i32, month: u32) -> i64 {
    let start = Utc
        .with_ymd_and_hms(year, month, 1, 0, 0, 0)
        .single()
        .expect("start");
    let (ny, nm) = if month == 12 {
        (year + 1, 1)
    } else {
        (year, month + 1)
    };
    let end = Utc
        .with_ymd_and_hms(ny, nm, 1, 0, 0, 0)
        .single()
        .expect("end");
    (end - start).num_hours()
}

fn ceil_div(a: i128, b: i128) -> i128 {
    (a + b - 1) / b
}

async fn decade(backend: Backend) {
    let Some(db) = fresh(backend).await else {
        return;
    };
    let store: std::sync::Arc<dyn Store> = db.store.clone();
    let on = BillingSettingsPatch {
        enabled: Some(true),
        ..Default::default()
    };
    store
        .update_billing_settings(&on, None, T0, None)
        .await
        .expect("enable");
    for mode in [CapMode::H730, CapMode::H672, CapMode::Calendar] {
        let plan = store
            .create_plan(
                &NewPlan {
                    code: mode.as_str().into(),
                    name: mode.as_str().into(),
                    description: String::new(),
                    price: Money::from_micros(PRICE),
                    cap_mode: mode,
                    setup_fee: Money::ZERO,
                    entitlement: "reseller_tier".into(),
                    settings: "{}".into(),
                },
                T0,
                None,
            )
            .await
            .expect("plan");
        let u = store
            .create_user(NewUser {
                email: format!("{}@x.io", mode.as_str()),
                password_hash: "x".into(),
                role: Role::User,
                api_key_hash: None,
                now: T0,
                audit: None,
                referral: None,
            })
            .await
            .expect("user");
        store
            .change_balance(BalanceChange {
                user_id: u.id,
                amount: Money::parse("20000").expect("m"),
                kind: LedgerKind::Deposit,
                key: format!("decade:{}", mode.as_str()),
                reason: String::new(),
                actor_id: None,
                now: T0,
                audit: None,
            })
            .await
            .expect("funds");
        let r = store.rent(u.id, plan.id, T0).await.expect("rent");
        // One catch-up to the last hour of 2035, then the same again: nothing more.
        let end = T0 + DECADE_HOURS * HOUR_MS - 1;
        store.bill_users(&[u.id], end).await.expect("bill");
        let again = store.bill_users(&[u.id], end).await.expect("again");
        assert_eq!(again.hours_paid, 0);

        let rows = store
            .rental_hours(r.id, 0, i64::MAX, 100_000)
            .await
            .expect("rows");
        assert_eq!(rows.len() as i64, DECADE_HOURS, "{mode:?}");
        for (i, h) in rows.iter().enumerate() {
            assert_eq!(h.hour, T0 + i as i64 * HOUR_MS, "no gap, no duplicate");
            assert_eq!(h.status, HourStatus::Paid);
        }
        // Each month against chrono's calendar.
        let mut by_month: std::collections::BTreeMap<(i32, u32), (i64, i128)> = Default::default();
        for h in &rows {
            let at = Utc.timestamp_millis_opt(h.hour).single().expect("utc");
            let e = by_month.entry((at.year(), at.month())).or_default();
            e.0 += 1;
            e.1 += i128::from(h.amount.micros());
        }
        assert_eq!(by_month.len(), 120);
        for (&(y, m), &(hours, sum)) in &by_month {
            assert_eq!(hours, month_hours(y, m), "{y}-{m}: every hour billed");
            let d = match mode {
                CapMode::H730 => 730,
                CapMode::H672 => 672,
                CapMode::Calendar => month_hours(y, m),
            };
            let want = i128::from(PRICE).min(ceil_div(
                i128::from(PRICE) * i128::from(hours),
                i128::from(d),
            ));
            assert_eq!(sum, want, "{mode:?} {y}-{m}");
        }
        // The wallet paid exactly that (and the ledger sums to the balance, checked below).
        let balance = store.user(u.id).await.expect("u").expect("u").balance;
        assert_eq!(
            20_000_000_000 - i128::from(balance.micros()),
            by_month.values().map(|v| v.1).sum::<i128>()
        );
    }
    assert!(store.ledger_mismatches().await.expect("check").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_years_per_cap_mode_match_the_calendar_sqlite() {
    decade(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_years_per_cap_mode_match_the_calendar_postgres() {
    decade(Backend::Postgres).await;
}
