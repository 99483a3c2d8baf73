//! Conformance cases of monthly statements (`docs/billing.md`, Statements): drafts in pages
//! once the month is over, totals equal to the month's `rent` minus `rent_credit` entries,
//! gapless numbers under concurrent finalisers, final statements refusing edits, void and
//! re-issue. Hours are counted from `NOW` (2026-01-01T00:00Z).

use super::billing::enabled_with_plan;
use super::*;
use smmd_domain::billing::HOUR_MS;

const H: i64 = HOUR_MS;

pub async fn statements_are_drafted_then_final_with_gapless_numbers(store: Arc<dyn Store>) {
    use smmd_domain::billing::charge::Month;
    let p = enabled_with_plan(&store, "0.50").await;
    let feb = Month::of(NOW).end_ms();
    // Ten renters who pay all of January, and one who pays only part of it.
    let mut users = Vec::new();
    for i in 0..10 {
        let u = user(&store, &format!("st{i}@x.io"), "100").await;
        store
            .rent(u.id, p.id, NOW + i * 60_000)
            .await
            .expect("rent");
        users.push(u.id);
    }
    let short = user(&store, "short@x.io", "5").await;
    let rs = store.rent(short.id, p.id, NOW).await.expect("rent");
    users.push(short.id);
    store.bill_users(&users, feb + 1).await.expect("bill");
    // An admin credits one of the short renter's paid hours before the draft.
    store
        .credit_rental_hours(rs.id, &[NOW + 3 * H], None, feb + 2, None)
        .await
        .expect("credit");
    // In January nothing is drafted; from February 1st, drafts in pages.
    let jan = Month::of(NOW).start_ms();
    let mut made = 0;
    loop {
        let n = store
            .draft_statements(jan, feb + 3, 4)
            .await
            .expect("draft");
        if n == 0 {
            break;
        }
        made += n;
    }
    assert_eq!(made, 11);
    assert_eq!(
        store
            .draft_statements(jan, feb + 4, 4)
            .await
            .expect("again"),
        0
    );
    let all = store.statements(None, 100).await.expect("list");
    assert_eq!(all.len(), 11);
    assert!(all
        .iter()
        .all(|s| s.status == StatementStatus::Draft && s.number.is_none()));
    // Totals equal the month's `rent` entries minus its `rent_credit`s.
    for st in &all {
        let ledger = store
            .ledger(st.user_id, None, 10_000)
            .await
            .expect("ledger");
        let rent: i64 = ledger
            .iter()
            .filter(|e| e.kind == LedgerKind::Rent)
            .filter(|e| {
                e.key.ends_with(":setup")
                    || e.key
                        .rsplit(':')
                        .next()
                        .and_then(|h| h.parse::<i64>().ok())
                        .is_some_and(|h| h < feb)
            })
            .map(|e| -e.amount.micros())
            .sum();
        let credits: i64 = ledger
            .iter()
            .filter(|e| e.kind == LedgerKind::RentCredit)
            .map(|e| e.amount.micros())
            .sum();
        assert_eq!(st.charged.micros(), rent, "{st:?}");
        assert_eq!(st.credited.micros(), credits);
        let line = &st.lines[0];
        assert_eq!(line.setup_fee, m("0.50"));
        if st.user_id == short.id {
            // Paid while the wallet lasted, due for 72 hours, then suspended.
            assert!(st.due.is_positive());
            assert!(line.hours_billed < 744);
            assert_eq!(st.credited, m("0.10"));
        } else {
            // A full month: exactly the plan's price, the hours past 730 free.
            assert_eq!(
                (line.hours_billed, line.paid, line.free_hours),
                (744, m("73"), 14)
            );
        }
    }
    // Still in the 2-day grace: nothing is final.
    assert_eq!(
        store
            .finalize_statements(feb + 2 * 24 * H - 1, 100)
            .await
            .expect("early"),
        0
    );
    // Eight finalisers at once: every draft final once, numbers 1 to 11 without a gap.
    let at = feb + 2 * 24 * H;
    let runs = futures::future::join_all((0..8).map(|_| {
        let store = store.clone();
        async move { store.finalize_statements(at, 100).await.expect("finalize") }
    }))
    .await;
    assert_eq!(runs.iter().sum::<i64>(), 11, "{runs:?}");
    let all = store.statements(None, 100).await.expect("list");
    let mut numbers: Vec<String> = all.iter().filter_map(|s| s.number.clone()).collect();
    numbers.sort();
    let expected: Vec<String> = (1..=11)
        .map(|n| smmd_domain::billing::rental::statement_number(2026, n))
        .collect();
    assert_eq!(numbers, expected);
    assert!(all.iter().all(|s| s.status == StatementStatus::Final));
    // A final statement refuses edits; voiding re-issues a draft, finalised with the next
    // number.
    let first = all.last().expect("one").clone();
    assert!(matches!(
        store.refresh_statement(first.id, at + 1).await,
        Err(BillingError::StatementFinal(_))
    ));
    let redo = store
        .void_statement(first.id, "wrong plan name", at + 2, None)
        .await
        .expect("void");
    assert_eq!(
        (redo.status, redo.replaces_id),
        (StatementStatus::Draft, Some(first.id))
    );
    assert!(matches!(
        store.void_statement(redo.id, "again", at + 3, None).await,
        Err(BillingError::StatementNotFinal("draft"))
    ));
    store
        .refresh_statement(redo.id, at + 3)
        .await
        .expect("a draft is remade");
    assert_eq!(store.finalize_statements(at + 4, 100).await.expect("f"), 1);
    let reissued = store.statement(redo.id).await.expect("r").expect("r");
    assert_eq!(
        reissued.number,
        Some(smmd_domain::billing::rental::statement_number(2026, 12))
    );
    let voided = store.statement(first.id).await.expect("r").expect("r");
    assert_eq!(voided.status, StatementStatus::Void);
    assert_eq!(
        voided.number, first.number,
        "a void statement keeps its number"
    );
    assert_ledger_consistent(&store).await;
}
