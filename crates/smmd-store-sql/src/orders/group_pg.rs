//! Group commit of order placement on PostgreSQL (issue 20, "the order write path at its limit").
//!
//! One at a time, a placement on PostgreSQL is six round trips (`BEGIN`, the order row, the
//! debit with its ledger row, the referral check, the event, `COMMIT`), each a wake-up of a
//! server process and of ours: on 2 cores `add` stalled near 1,500/s with the CPU busy in
//! context switches and statement set-up. Here concurrent placements queue on the same channel
//! as SQLite's ([`super::group`]), one queue per writer task ([`WRITERS`], each for its own
//! users); a writer takes every placement waiting in its queue (at most [`MAX_BATCH`]), sorts
//! them by user (batches of several writers and instances then take users' row locks in one
//! order) and sends them as one JSON array to `smmd_place_orders` (migrations 0033, 0035,
//! 0036): one statement, so one round trip and one commit for the batch. The function
//! (migration 0035; since 0036 it builds each reference from the new id) locks the batch's
//! users, decides each order as the one-at-a-time path would (per user by arrival: a referred
//! user's order back to be placed alone, the unique rules against stored rows and the batch's
//! earlier orders, the conditional debit), then writes the placed orders, debits, ledger rows
//! under the charge key and `placed` events by sets; a refused order (no funds, an active
//! order for the link, a used request key) writes nothing. The function
//! answers with each placed order's row as committed, and each caller is answered with it.
//!
//! A referred user's order is handed back to be placed alone (its commission is written by
//! `affiliates::on_charge`), and so is every order of a batch the server refused as a whole (a
//! deadlock with another instance, a lost function): the statement failed, so nothing of it
//! was written. A batch whose fate is unknown (the connection broke after it was sent) is
//! answered with an error that says the order may have been placed.

use serde::Serialize;
use smmd_domain::ledger;
use smmd_domain::order::{EventKind, OrderStatus};
use smmd_domain::service::OrderError;
use smmd_store::{LedgerKind, PlaceOrderError, StoreError};
use sqlx::Row as _;
use tokio::sync::{mpsc, watch};

use super::group::{answer, Job, Placer, Read, MAX_BATCH};
use super::{placement_error, NewOrder};
use crate::pool::Db;
use crate::rows::{self, ORDER_COLS};

impl Placer {
    /// Starts the batch writer of a PostgreSQL store: batches go out through `write` (the
    /// store's pool) and wake this instance's live feed through `committed`. `None` when the
    /// application's texts of a placement cannot be handed to the function (see [`Texts`]):
    /// orders are then placed one at a time. Call inside a tokio runtime.
    pub(crate) fn start_postgres(write: Db, committed: watch::Sender<u64>) -> Option<Placer> {
        let texts = Texts::new()?;
        let (placer, queues) = Placer::queues(WRITERS);
        for jobs in queues {
            tokio::spawn(run(write.clone(), committed.clone(), jobs, texts.clone()));
        }
        Some(placer)
    }
}

/// The application's texts a placement writes, as the function builds them around the new
/// order's id: the charge key ([`ledger::charge_key`], `order:N:charge`) and reason
/// ([`NewOrder::charge_entry`], `Order #N`) as head + id + tail.
#[derive(Debug, Clone)]
struct Texts {
    key_head: String,
    key_tail: String,
    reason_head: String,
}

impl Texts {
    /// Splits the texts of a sample id; `None` if one of them does not hold the id once, or
    /// the reason has text after it.
    fn new() -> Option<Texts> {
        const SAMPLE: i64 = 9_081_726_354;
        let (key, reason) = NewOrder::charge_entry(smmd_domain::OrderId(SAMPLE));
        debug_assert_eq!(key, ledger::charge_key(SAMPLE));
        let around = |text: &str| {
            let id = SAMPLE.to_string();
            let (head, tail) = text.split_once(&id)?;
            (!tail.contains(&id)).then(|| (head.to_string(), tail.to_string()))
        };
        let (key_head, key_tail) = around(&key)?;
        let (reason_head, reason_tail) = around(&reason)?;
        reason_tail.is_empty().then_some(Texts {
            key_head,
            key_tail,
            reason_head,
        })
    }
}

/// One order of the batch as `smmd_place_orders` reads it (`jsonb_to_recordset`).
#[derive(Serialize)]
struct BatchRow<'a> {
    n: usize,
    user_id: i64,
    service_id: i64,
    link: Option<&'a str>,
    link_key: Option<&'a str>,
    quantity: i64,
    runs: Option<i64>,
    interval_minutes: Option<i64>,
    total_quantity: i64,
    /// Micro-units.
    charge: i64,
    extras: &'a str,
    guarantee_days: i64,
    refill: i64,
    cancel: i64,
    provider_id: Option<i64>,
    provider_service_id: Option<&'a str>,
    /// Epoch milliseconds.
    now: i64,
    /// The random part of the reference; the function builds the reference from the new id.
    reference_tail: u16,
    request_key: Option<&'a str>,
    panel_id: Option<i64>,
    status: &'static str,
    event_kind: &'static str,
    ledger_kind: &'static str,
    key_head: &'a str,
    key_tail: &'a str,
    reason_head: &'a str,
}

/// Batch writers per instance, each for its own users (the [`Placer`] sends a user's
/// placements to one writer, by user id). Two batches in flight that share users wait for each
/// other's row locks (stop 45 measured fewer orders with them), so each writer has users of its
/// own: their batches never lock the same user row, and each user's orders are still decided
/// in their order of arrival. Stop 45 also found two writers no faster while the CPU was full;
/// since each placement's reads go out together ([`super::context`]), one writer left a quarter
/// of the CPU idle (stop 52: `perf` 26 % idle under `add100` at c64, the writer busy all the
/// time) and two placed ~20 % more (`smmd-bench add100`, see the README).
const WRITERS: usize = 2;

/// A writer task: its queue's batches, one at a time, until every [`Placer`] handle is
/// dropped.
async fn run(
    write: Db,
    committed: watch::Sender<u64>,
    mut jobs: mpsc::Receiver<Job>,
    texts: Texts,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while jobs.recv_many(&mut batch, MAX_BATCH).await > 0 {
        place_batch(&write, &committed, std::mem::take(&mut batch), &texts).await;
    }
}

/// Places one batch and answers its callers.
async fn place_batch(
    write: &Db,
    committed: &watch::Sender<u64>,
    mut jobs: Vec<Job>,
    texts: &Texts,
) {
    // Stable: one user's orders keep their order of arrival (first come, first debited).
    jobs.sort_by_key(|j: &Job| j.new.user.0);
    let began = std::time::Instant::now();
    let news: Vec<&NewOrder> = jobs.iter().map(|j| &j.new).collect();
    let outcome = write_batch(write, &news, texts).await;
    tracing::debug!(
        orders = jobs.len(),
        write_us = began.elapsed().as_micros() as u64,
        "order batch"
    );
    let outcome = match outcome {
        Ok(reads) => {
            if reads.iter().any(|r| matches!(r, Read::Order(_))) {
                committed.send_modify(|n| *n = n.wrapping_add(1));
            }
            Ok(reads)
        }
        Err(Failed::NothingWritten(e)) => {
            tracing::warn!(error = %e, orders = jobs.len(), "order batch refused; placing its orders one at a time");
            Ok(jobs.iter().map(|_| Read::Alone).collect())
        }
        Err(Failed::Unknown(e)) => Err(e),
    };
    answer(jobs, outcome);
}

/// How a batch failed.
enum Failed {
    /// The server refused the statement, or it was never sent: nothing of it was written.
    NothingWritten(anyhow::Error),
    /// The batch may or may not have been committed.
    Unknown(anyhow::Error),
}

/// The outcome of a whole batch (`news`, sorted by user): one statement, whose answer carries
/// each placed order's row.
async fn write_batch(write: &Db, news: &[&NewOrder], texts: &Texts) -> Result<Vec<Read>, Failed> {
    let rows: Vec<BatchRow<'_>> = news
        .iter()
        .enumerate()
        .map(|(n, new)| batch_row(n, new, texts))
        .collect();
    let body =
        serde_json::to_string(&rows).map_err(|e| Failed::NothingWritten(anyhow::Error::new(e)))?;
    let sql = format!(
        "SELECT n, refused, {} FROM smmd_place_orders($1)",
        rows::qualified(ORDER_COLS, "(placed)")
    );
    let answers = sqlx::query(&sql)
        .bind(body)
        .fetch_all(write)
        .await
        .map_err(|e| match e {
            sqlx::Error::Database(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                Failed::NothingWritten(anyhow::Error::new(e))
            }
            e => Failed::Unknown(
                anyhow::Error::new(e)
                    .context("the batch's connection failed; the orders may have been placed"),
            ),
        })?;
    // From here on the batch is committed: a failure to read its answer is not a refusal.
    let mut reads: Vec<Option<Read>> = news.iter().map(|_| None).collect();
    for a in &answers {
        let read = (|| -> anyhow::Result<(usize, Read)> {
            let n = usize::try_from(a.try_get::<i64, _>("n")?)?;
            let refused: Option<String> = a.try_get("refused")?;
            let read = match refused {
                None => Read::Order(Box::new(rows::order(a)?)),
                Some(code) => refusal(&code),
            };
            Ok((n, read))
        })();
        match read {
            Ok((n, r)) if n < reads.len() => reads[n] = Some(r),
            Ok((n, _)) => {
                return Err(Failed::Unknown(anyhow::anyhow!(
                    "the batch answered for order {n} it did not have"
                )))
            }
            Err(e) => return Err(Failed::Unknown(e.context("reading the batch's answer"))),
        }
    }
    reads
        .into_iter()
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| Failed::Unknown(anyhow::anyhow!("the batch left an order unanswered")))
}

/// One order's row of the batch.
fn batch_row<'a>(n: usize, new: &'a NewOrder, texts: &'a Texts) -> BatchRow<'a> {
    BatchRow {
        n,
        user_id: new.user.0,
        service_id: new.service,
        link: new.link.as_deref(),
        link_key: new.link_key.as_deref(),
        quantity: new.quantity,
        runs: new.runs,
        interval_minutes: new.interval,
        total_quantity: new.total_quantity,
        charge: new.charge,
        extras: &new.extras,
        guarantee_days: new.guarantee_days,
        refill: new.refill,
        cancel: new.cancel,
        provider_id: new.provider_id,
        provider_service_id: new.provider_service_id.as_deref(),
        now: new.now,
        reference_tail: new.reference_tail,
        request_key: new.request_key.as_deref(),
        panel_id: new.panel,
        status: OrderStatus::Queued.as_str(),
        event_kind: EventKind::Placed.as_str(),
        ledger_kind: LedgerKind::Charge.as_str(),
        key_head: &texts.key_head,
        key_tail: &texts.key_tail,
        reason_head: &texts.reason_head,
    }
}

/// A refused order's answer, from the `refused` code of migration 0033.
fn refusal(code: &str) -> Read {
    match code {
        "alone" => Read::Alone,
        "insufficient_funds" => Read::Refused(OrderError::InsufficientFunds.into()),
        rule if rule.starts_with("unique ") => {
            Read::Refused(placement_error(crate::unique_violation(rule)))
        }
        other => Read::Refused(PlaceOrderError::Store(StoreError::Other(anyhow::anyhow!(
            "the batch refused an order without a known reason: {other:?}"
        )))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{fresh, Backend};
    use smmd_domain::service::{validate_order, OrderInput};
    use smmd_domain::{Money, UserId};
    use smmd_store::testsuite::{followers, user, user_with, NOW};
    use smmd_store::{NewReferral, Placement, Store};

    /// `smmd_place_orders` decides each order of a batch exactly as placing the orders one at
    /// a time, in the batch's order per user, would: a referred user's order goes back to be
    /// placed alone; a second active order for a link (one already stored, or one placed
    /// earlier in the batch) and a used request key are refused by their unique rule; an order
    /// past the balance is refused and the user's later, smaller order is debited; a refused
    /// order holds neither its link nor money. Users come in out of order (the function sorts
    /// them itself). Every decision is the function's own: the statement succeeds, no order
    /// is handed back for a one-at-a-time retry, and the balances and ledger rows are exact.
    #[tokio::test]
    async fn the_batch_decides_each_order_as_one_at_a_time_would() {
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        let store: std::sync::Arc<dyn Store> = db.store.clone();
        let svc = followers(&store).await;
        let rich = user(&store, "rich@example.com", "1000").await.id;
        let poor = user(&store, "poor@example.com", "0.10").await.id;
        let referred = NewReferral {
            affiliate_id: rich,
            flags: Vec::new(),
            ip: None,
        };
        let friend = user_with(&store, "friend@example.com", "50", Some(referred))
            .await
            .id;
        let spec = |link: &str, quantity: &str| {
            let input = OrderInput {
                link: Some(format!("https://instagram.com/{link}")),
                quantity: Some(quantity.into()),
                ..Default::default()
            };
            validate_order(&svc.rules(), &input).expect("spec")
        };
        let order = |who: UserId, link: &str, quantity: &str, key: Option<&str>| {
            let placement = key.map_or_else(Placement::default, Placement::keyed);
            NewOrder::new(who, &svc, &spec(link, quantity), placement, NOW).expect("new order")
        };
        // An active order for `taken`, under the key `used`, stored before the batch.
        store
            .place_order(
                rich,
                &svc,
                &spec("taken", "100"),
                Placement::keyed("used"),
                NOW,
            )
            .await
            .expect("stored order");
        // (who, link, quantity, key), each 100 at 0.09; 1000 at 0.90.
        let news = [
            order(poor, "big", "1000", None),       // 0.90 > 0.10: refused
            order(rich, "a", "100", None),          // placed
            order(friend, "f", "100", None),        // referred: alone
            order(poor, "big", "100", None),        // the refused one held no link: placed
            order(rich, "a", "100", None),          // `a` placed just before: refused
            order(rich, "taken", "100", None),      // stored active order: refused
            order(rich, "k1", "100", Some("k")),    // placed
            order(rich, "k2", "100", Some("k")),    // `k` used just before: refused
            order(rich, "k3", "100", Some("used")), // stored key: refused
            order(poor, "small", "100", None),      // 0.01 left: refused
        ];
        let refs: Vec<&NewOrder> = news.iter().collect();
        let texts = Texts::new().expect("texts");
        let reads = match write_batch(&db.store.write, &refs, &texts).await {
            Ok(reads) => reads,
            Err(Failed::NothingWritten(e) | Failed::Unknown(e)) => {
                panic!("the batch failed: {e:#}")
            }
        };
        let said: Vec<String> = reads
            .iter()
            .map(|r| match r {
                Read::Order(o) if o.charge == Money::parse("0.09").expect("m") => "placed".into(),
                Read::Order(o) => format!("placed at {}", o.charge),
                Read::Alone => "alone".into(),
                Read::Refused(e) => format!("refused {e}"),
            })
            .collect();
        let funds = format!(
            "refused {}",
            PlaceOrderError::from(OrderError::InsufficientFunds)
        );
        let link = format!(
            "refused {}",
            PlaceOrderError::from(OrderError::ActiveOrderWithLink)
        );
        let key = format!(
            "refused {}",
            PlaceOrderError::Store(StoreError::Conflict("orders.request_key"))
        );
        let placed = "placed".to_string();
        assert_eq!(
            said,
            [
                funds.clone(),
                placed.clone(),
                "alone".into(),
                placed.clone(),
                link.clone(),
                link,
                placed.clone(),
                key.clone(),
                key,
                funds
            ]
        );
        let balance = |u: UserId| {
            let store = store.clone();
            async move { store.user(u).await.expect("read").expect("user").balance }
        };
        assert_eq!(balance(poor).await, Money::parse("0.01").expect("m"));
        // 1000 − the stored order − the batch's two.
        assert_eq!(balance(rich).await, Money::parse("999.73").expect("m"));
        assert_eq!(balance(friend).await, Money::parse("50").expect("m"));
        // Each placed order's ledger row says the balance after it, in the batch's order.
        let ledger: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT user_id, idem_key, balance_after FROM ledger WHERE kind = 'charge' ORDER BY id",
        )
        .fetch_all(&db.store.write)
        .await
        .expect("ledger");
        let ids: Vec<i64> = reads
            .iter()
            .filter_map(|r| match r {
                Read::Order(o) => Some(o.id.0),
                _ => None,
            })
            .collect();
        // Each placed order's reference is the application's (`NewOrder::reference`), which
        // the function built from the order's new id and the batch row's random tail.
        for (new, read) in news.iter().zip(&reads) {
            if let Read::Order(o) = read {
                assert_eq!(o.reference, new.reference(o.id));
            }
        }
        // After the stored order's charge, each user's rows in the batch's order.
        let mut after: Vec<(i64, String, i64)> = ledger.into_iter().skip(1).collect();
        after.sort_by_key(|row| row.0);
        assert_eq!(
            after,
            [
                (rich.0, ledger::charge_key(ids[0]), 999_820_000),
                (rich.0, ledger::charge_key(ids[2]), 999_730_000),
                (poor.0, ledger::charge_key(ids[1]), 10_000),
            ]
        );
        // Past 2³⁶ the id takes a tenth hex digit, which `lpad` alone would cut off.
        sqlx::query("SELECT setval(pg_get_serial_sequence('orders', 'id'), 68719476735)")
            .execute(&db.store.write)
            .await
            .expect("setval");
        let far = [order(rich, "far", "100", None)];
        let reads = write_batch(&db.store.write, &[&far[0]], &texts).await;
        let Ok(reads) = reads else {
            panic!("the batch failed")
        };
        let Some(Read::Order(o)) = reads.first() else {
            panic!("not placed")
        };
        assert_eq!(o.id.0, 1 << 36);
        assert_eq!(o.reference, far[0].reference(o.id));
        assert_eq!(o.reference.len(), 14);
    }

    #[test]
    fn the_function_builds_the_charge_key_and_reason_of_the_application() {
        let t = Texts::new().expect("the charge key and reason hold the order id");
        let id = smmd_domain::OrderId(42);
        let (key, reason) = NewOrder::charge_entry(id);
        assert_eq!(format!("{}42{}", t.key_head, t.key_tail), key);
        assert_eq!(format!("{}42", t.reason_head), reason);
    }

    #[test]
    fn refusal_codes_map_to_the_errors_of_the_one_at_a_time_path() {
        assert!(matches!(refusal("alone"), Read::Alone));
        assert!(matches!(
            refusal("insufficient_funds"),
            Read::Refused(PlaceOrderError::Rejected(OrderError::InsufficientFunds))
        ));
        assert!(matches!(
            refusal("unique orders_active_link"),
            Read::Refused(PlaceOrderError::Rejected(OrderError::ActiveOrderWithLink))
        ));
        assert!(matches!(
            refusal("unique orders_request_key"),
            Read::Refused(PlaceOrderError::Store(StoreError::Conflict(
                "orders.request_key"
            )))
        ));
        assert!(matches!(
            refusal("something new"),
            Read::Refused(PlaceOrderError::Store(StoreError::Other(_)))
        ));
    }
}
