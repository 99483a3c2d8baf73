//! Group commit of order placement on SQLite (issue 20, "the order write path at its limit").
//!
//! SQLite has one writer. Placed one transaction at a time through sqlx, every order cost
//! seven statements, each a round trip to the driver's connection thread (two thread switches),
//! so `add` stalled near 1,000/s while the CPU idled. Here concurrent placements queue on a
//! channel; one thread of its own takes every placement waiting (at most [`MAX_BATCH`]),
//! takes the store's write connection as the writers' lock (so no other write interleaves,
//! and none waits on SQLite's busy handler), and runs the whole batch through a connection of
//! its own (`rusqlite`): `BEGIN IMMEDIATE`, then per order its order row, conditional debit,
//! ledger row and `placed` event, then one `COMMIT`. A refusal (no funds, an active order for
//! the link, a used request key) fails that order alone and leaves nothing of it: the order
//! row's refusals write nothing, one after it takes the row back; any other failure rolls the
//! batch back and places it again with a savepoint per order, as it once always was (the
//! savepoints' page copies were a sixth of an order's cost). A failed `COMMIT` fails the
//! batch (nothing of it written). Every
//! guarantee of the one-at-a-time path holds as it was: the same statements, in the same
//! order, in the same transaction as the debit they pay for. Each caller is answered after
//! the commit, with its order read back.
//!
//! A referred user's order (its affiliate commission is written in the same transaction, by
//! `affiliates::on_charge`) is handed back to the caller to be placed alone, as are all
//! orders of a store whose writer could not be opened.

use anyhow::Context;

use rusqlite::{Connection, OptionalExtension, ToSql};
use smmd_domain::order::EventKind;
use smmd_domain::service::OrderError;
use smmd_domain::{Money, OrderId};
use smmd_store::{LedgerKind, Order, PlaceOrderError, StoreError};
use tokio::sync::{mpsc, oneshot, watch};

use super::{placement_error, NewOrder, INSERT_ORDER, NEXT_ORDER_ID_SQLITE};
use crate::direct::bind;
use crate::events::INSERT_EVENT;
use crate::pool::Db;
use crate::rows::{self, ORDER_COLS};
use crate::wallet::{INSERT_LEDGER, SQLITE_DEBIT};
use crate::Dialect;

/// Most placements one transaction takes.
pub(crate) const MAX_BATCH: usize = 512;

/// What a placement came back as.
pub(crate) enum Placed {
    /// Placed and committed.
    Order(Box<Order>),
    /// Not taken: place it alone (a referred user; no writer).
    Alone(Box<NewOrder>),
}

/// The placement queues of one store: one for SQLite's writer thread, one per writer task of
/// PostgreSQL ([`super::group_pg`]).
#[derive(Debug)]
pub(crate) struct Placer {
    /// One queue per writer; a user's placements always take the same one.
    queues: Box<[mpsc::Sender<Job>]>,
}

/// A placement waiting in the queue, and where its answer goes.
#[derive(Debug)]
pub(super) struct Job {
    pub(super) new: NewOrder,
    answer: oneshot::Sender<Answer>,
}

/// One job's outcome inside the batch.
enum Outcome {
    Placed(OrderId),
    Refused(PlaceOrderError),
    Alone,
}

#[derive(Debug)]
enum Answer {
    Placed(Box<Order>),
    Refused(PlaceOrderError),
    Alone(Box<NewOrder>),
}

impl Placer {
    /// Starts the writer of the SQLite database at `path` on a thread of its own: the store's
    /// `write` pool (one connection, taken as the writers' lock) and the live feed's commit
    /// counter. Call inside a tokio runtime (the thread takes the lock through it). If the
    /// thread cannot be started, every placement is placed alone.
    pub(crate) fn start(path: String, write: Db, committed: watch::Sender<u64>) -> Placer {
        let (placer, mut jobs) = Placer::queues(1);
        let jobs = jobs.remove(0);
        let rt = tokio::runtime::Handle::current();
        let started = std::thread::Builder::new()
            .name("smmd-orders".into())
            .spawn(move || run(rt, path, write, committed, jobs));
        if let Err(e) = started {
            // The queue's receiver went with the closure: placements see it closed.
            tracing::warn!(error = %e, "order writer not started: orders are placed one at a time");
        }
        placer
    }

    /// A placer of `writers` queues (at least one) and their receiving ends, one per writer
    /// of the backend.
    pub(super) fn queues(writers: usize) -> (Placer, Vec<mpsc::Receiver<Job>>) {
        let (queues, jobs) = (0..writers.max(1))
            .map(|_| mpsc::channel(4 * MAX_BATCH))
            .unzip::<_, _, Vec<_>, Vec<_>>();
        let queues = queues.into_boxed_slice();
        (Placer { queues }, jobs)
    }

    /// Places `new` in the next batch. Errors: the order's refusal, or the batch's failure
    /// (nothing of it written).
    pub(crate) async fn place(&self, new: NewOrder) -> Result<Placed, PlaceOrderError> {
        let (answer, answered) = oneshot::channel();
        // By user: one user's placements stay in one queue, in their order of arrival.
        let writer = usize::try_from(new.user.0.rem_euclid(self.queues.len() as i64));
        let queue = &self.queues[writer.unwrap_or(0) % self.queues.len()];
        if let Err(mpsc::error::SendError(job)) = queue.send(Job { new, answer }).await {
            // The writer is gone (its runtime shut down): nothing was written.
            return Ok(Placed::Alone(Box::new(job.new)));
        }
        match answered.await {
            Ok(Answer::Placed(order)) => Ok(Placed::Order(order)),
            Ok(Answer::Alone(new)) => Ok(Placed::Alone(new)),
            Ok(Answer::Refused(e)) => Err(e),
            Err(_) => Err(PlaceOrderError::Store(StoreError::Other(anyhow::anyhow!(
                "the order writer stopped before answering; the order may have been placed"
            )))),
        }
    }
}

/// The writer thread: batches until every [`Placer`] handle is dropped. A thread, not a task
/// handing each batch to `spawn_blocking`: between two batches nothing waits for a tokio
/// worker (busy with requests under load) or a blocking thread to be woken, so the writer
/// goes from one commit to the next as soon as placements are queued. If it panics, the
/// batch in hand is answered "may have been placed" (its answers dropped) and every later
/// placement is placed alone.
fn run(
    rt: tokio::runtime::Handle,
    path: String,
    write: Db,
    committed: watch::Sender<u64>,
    mut jobs: mpsc::Receiver<Job>,
) {
    // The runtime's context: the lock's hand-back spawns on it.
    let _rt = rt.enter();
    let mut conn = open(&path)
        .map_err(|e| {
            tracing::warn!(error = %e, path, "order writer not opened: orders are placed one at a time")
        })
        .ok();
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        take_queued(&mut jobs, &mut batch);
        let Some(conn) = conn.as_mut() else {
            for job in batch.drain(..) {
                let _ = job.answer.send(Answer::Alone(Box::new(job.new)));
            }
            continue;
        };
        // The writers' lock, kept while placements keep coming (at most GATE_HOLD), so a
        // stream of batches pays for one hand-over of the pool's connection.
        let lock = match rt.block_on(write.acquire()) {
            Ok(l) => l,
            Err(e) => {
                let e = anyhow::Error::new(e).context("taking the write lock");
                answer(std::mem::take(&mut batch), Err(e));
                continue;
            }
        };
        let held = std::time::Instant::now();
        loop {
            let began = std::time::Instant::now();
            let news: Vec<&NewOrder> = batch.iter().map(|j| &j.new).collect();
            let outcomes = in_one_transaction(conn, &news);
            tracing::debug!(
                orders = batch.len(),
                write_us = began.elapsed().as_micros() as u64,
                "order batch"
            );
            if outcomes.is_ok() {
                committed.send_modify(|n| *n = n.wrapping_add(1));
            }
            answer(std::mem::take(&mut batch), outcomes);
            if held.elapsed() >= GATE_HOLD {
                break;
            }
            // What queued meanwhile, without waiting for more.
            take_queued(&mut jobs, &mut batch);
            if batch.is_empty() {
                break;
            }
        }
        drop(lock);
    }
}

/// Moves the placements already queued into `batch`, up to [`MAX_BATCH`], without waiting.
fn take_queued(jobs: &mut mpsc::Receiver<Job>, batch: &mut Vec<Job>) {
    while batch.len() < MAX_BATCH {
        match jobs.try_recv() {
            Ok(job) => batch.push(job),
            Err(_) => break,
        }
    }
}

/// The longest the writer keeps the writers' lock while batches keep coming: other writers
/// (dispatch, status sync, payments) wait at most about this long plus one batch.
const GATE_HOLD: std::time::Duration = std::time::Duration::from_millis(20);

/// Answers every job of a batch: its outcome, or the batch's failure.
pub(super) fn answer(jobs: Vec<Job>, outcomes: anyhow::Result<Vec<Read>>) {
    match outcomes {
        Ok(outcomes) => {
            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                let _ = job.answer.send(match outcome {
                    Read::Order(o) => Answer::Placed(o),
                    Read::Refused(e) => Answer::Refused(e),
                    Read::Alone => Answer::Alone(Box::new(job.new)),
                });
            }
        }
        Err(e) => {
            let why = format!("{e:#}");
            for job in jobs {
                let _ =
                    job.answer
                        .send(Answer::Refused(PlaceOrderError::Store(StoreError::Other(
                            anyhow::anyhow!("placing orders: {why}"),
                        ))));
            }
        }
    }
}

/// A placement's outcome, with the placed order read back.
pub(super) enum Read {
    Order(Box<Order>),
    Refused(PlaceOrderError),
    Alone,
}

/// Opens the writer's connection with the pool writer's settings (64 MB of pages: the ten
/// indexes of `orders` and those of `ledger` and `order_events` stay in memory), pages read
/// through a memory map, and no checkpoint inside its commits: [`crate::wal`] runs them
/// beside the writer, so a batch never waits for one.
fn open(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.execute_batch(
        "PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL; \
         PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536; PRAGMA mmap_size=268435456; \
         PRAGMA wal_autocheckpoint=0;",
    )?;
    conn.busy_handler(Some(writer_busy))?;
    conn.set_prepared_statement_cache_capacity(16);
    Ok(conn)
}

/// The writer's busy handler: while the checkpointer holds the write lock (a few ms), retries
/// every 100 µs instead of SQLite's 1, 2, 5, 10 … ms steps; gives up after ~10 s as
/// `busy_timeout=10000` did.
fn writer_busy(tries: i32) -> bool {
    std::thread::sleep(std::time::Duration::from_micros(100));
    tries < 100_000
}

/// `BEGIN IMMEDIATE`, every order placed without a savepoint ([`unguarded`]), `COMMIT`, then
/// the placed orders read back (one query). If a statement fails where its order could not be
/// undone alone, the batch is rolled back and placed again with a savepoint per order
/// ([`in_savepoint`]), which fails that order alone. Errors: the batch's (rolled back, nothing
/// written).
fn in_one_transaction(conn: &mut Connection, news: &[&NewOrder]) -> anyhow::Result<Vec<Read>> {
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let placed = match unguarded(conn, news) {
        Ok(Some(placed)) => Ok(placed),
        Ok(None) => conn
            .execute_batch("ROLLBACK; BEGIN IMMEDIATE")
            .and_then(|_| news.iter().map(|new| in_savepoint(conn, new)).collect()),
        Err(e) => Err(e),
    };
    let placed = placed.and_then(|p| conn.execute_batch("COMMIT").map(|_| p));
    if placed.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    read_back(conn, placed?).context("the orders were placed, but reading them back failed")
}

/// Every order of the batch placed with no savepoint around it: `None` when one failed past
/// the point where it could be undone alone (the caller rolls the batch back). Errors: those
/// that fail the batch.
///
/// A savepoint makes SQLite copy every page an order changes into an in-memory journal
/// before changing it (~20 pages of 4 KiB: the order's row and ten indexes, the balance, the
/// ledger and the event rows): 16 % of an order's instructions in a profile of `smmd-bench
/// inserts`. None of it is needed when the refusals are decided before anything is written,
/// or undone by hand: a one-row `INSERT` checks every constraint (unique, check, foreign key)
/// before it writes, so a refused order row leaves nothing (and SQLite opens no statement
/// journal for it); the debit and the amount's limit are decided after the order row, which
/// is then deleted. Every other failure falls back to the savepoints.
fn unguarded(conn: &Connection, news: &[&NewOrder]) -> rusqlite::Result<Option<Vec<Outcome>>> {
    let mut outcomes = Vec::with_capacity(news.len());
    for new in news {
        if referred(conn, new)? {
            outcomes.push(Outcome::Alone);
            continue;
        }
        outcomes.push(match place_unguarded(conn, new) {
            Ok(id) => Outcome::Placed(id),
            Err(Unguarded::Refused(e)) => Outcome::Refused(e),
            Err(Unguarded::Unexpected) => return Ok(None),
        });
    }
    Ok(Some(outcomes))
}

/// Why [`place_unguarded`] placed nothing.
enum Unguarded {
    /// Refused, and nothing of the order is left in the transaction.
    Refused(PlaceOrderError),
    /// A statement failed that the savepoint path answers for this order alone.
    Unexpected,
}

/// [`place`]'s statements and answers, without a savepoint: a refusal of the order row writes
/// nothing; a refusal of the debit (funds) or of the amount deletes the order row again.
fn place_unguarded(conn: &Connection, new: &NewOrder) -> Result<OrderId, Unguarded> {
    let id = match insert_order(conn, new) {
        Ok(id) => id,
        Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::ConstraintViolation) => {
            return Err(Unguarded::Refused(placement_error(store_error(e))));
        }
        Err(_) => return Err(Unguarded::Unexpected),
    };
    match charge_and_log(conn, new, id) {
        Ok(()) => Ok(id),
        Err(Charged::Refused(e)) => match unplace(conn, id) {
            Ok(true) => Err(Unguarded::Refused(e)),
            _ => Err(Unguarded::Unexpected),
        },
        Err(Charged::Failed(_)) => Err(Unguarded::Unexpected),
    }
}

/// Reads the batch's placed orders back in one query (after the commit: what every reader
/// sees now).
fn read_back(conn: &Connection, outcomes: Vec<Outcome>) -> anyhow::Result<Vec<Read>> {
    let ids = Dialect::Sqlite.id_list(outcomes.iter().filter_map(|o| match o {
        Outcome::Placed(id) => Some(id.0),
        _ => None,
    }));
    let mut placed = std::collections::HashMap::new();
    let sql = format!(
        "SELECT {ORDER_COLS} FROM orders WHERE {}",
        Dialect::Sqlite.id_in("id", 1)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    bind(&mut stmt, &[&ids])?;
    let names = rows::Named::names_of(&stmt);
    let mut rows = stmt.raw_query();
    while let Some(row) = rows.next()? {
        let order = rows::order(&rows::Named { row, names: &names })?;
        placed.insert(order.id, order);
    }
    outcomes
        .into_iter()
        .map(|o| match o {
            Outcome::Placed(id) => placed
                .remove(&id)
                .map(|o| Read::Order(Box::new(o)))
                .ok_or_else(|| anyhow::anyhow!("order #{id} placed but not read back")),
            Outcome::Refused(e) => Ok(Read::Refused(e)),
            Outcome::Alone => Ok(Read::Alone),
        })
        .collect()
}

/// One order in its own savepoint: placed, or refused and rolled back to it. Errors: those
/// that fail the batch (the savepoint statements themselves).
fn in_savepoint(conn: &Connection, new: &NewOrder) -> rusqlite::Result<Outcome> {
    if referred(conn, new)? {
        return Ok(Outcome::Alone);
    }
    conn.prepare_cached("SAVEPOINT placing")?.execute([])?;
    match place(conn, new) {
        Ok(id) => {
            conn.prepare_cached("RELEASE placing")?.execute([])?;
            Ok(Outcome::Placed(id))
        }
        Err(refused) => {
            conn.prepare_cached("ROLLBACK TO placing")?.execute([])?;
            conn.prepare_cached("RELEASE placing")?.execute([])?;
            Ok(Outcome::Refused(refused))
        }
    }
}

/// Takes back order `id`, the last row inserted and nothing written after it: its row, and
/// its number in `orders`' AUTOINCREMENT counter, so the next order gets the id this one had,
/// as a rolled-back savepoint leaves it. Whether both were found as expected.
fn unplace(conn: &Connection, id: OrderId) -> rusqlite::Result<bool> {
    let deleted = execute(conn, "DELETE FROM orders WHERE id = $1", &[&id.0])?;
    let counter = execute(
        conn,
        "UPDATE sqlite_sequence SET seq = $1 - 1 WHERE name = 'orders' AND seq = $1",
        &[&id.0],
    )?;
    Ok(deleted == 1 && counter == 1)
}

/// Whether `new`'s user was referred: a referred user's order also earns a commission, which
/// is written once, in `affiliates::on_charge`, so the order is placed alone. (Referrals are
/// written only with the account, so this read cannot go stale within the batch.)
fn referred(conn: &Connection, new: &NewOrder) -> rusqlite::Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM referrals WHERE user_id = $1")?
        .query_row([new.user.0], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The statements of one placement, those of `place_alone` in its order: the order row, the
/// conditional debit and its ledger row (charge key), the `placed` event.
fn place(conn: &Connection, new: &NewOrder) -> Result<OrderId, PlaceOrderError> {
    let id = insert_order(conn, new)
        .map_err(store_error)
        .map_err(placement_error)?;
    charge_and_log(conn, new, id).map_err(|e| match e {
        Charged::Refused(e) => e,
        Charged::Failed(e) => PlaceOrderError::Store(e),
    })?;
    Ok(id)
}

/// The order row, under the id SQLite would give it (read first, so that the reference can be
/// built from it: `NEXT_ORDER_ID_SQLITE`); its id.
fn insert_order(conn: &Connection, new: &NewOrder) -> rusqlite::Result<OrderId> {
    let id = OrderId(
        conn.prepare_cached(NEXT_ORDER_ID_SQLITE)?
            .query_row([], |r| r.get(0))?,
    );
    // No `RETURNING` here or below: SQLite answers one through a temporary table it creates
    // and drops on every execution (a b-tree, a page cache, a zeroed page), which a profile of
    // this path put at ~7 % of an order's instructions; the id and the balance are read back
    // on the writer's own connection instead.
    execute(
        conn,
        INSERT_ORDER,
        &[
            &new.user.0,
            &new.service,
            &new.link,
            &new.link_key,
            &new.quantity,
            &new.runs,
            &new.interval,
            &new.total_quantity,
            &new.charge,
            &new.extras,
            &new.guarantee_days,
            &new.refill,
            &new.cancel,
            &new.provider_id,
            &new.now,
            &new.provider_service_id,
            &new.reference(id),
            &new.request_key,
            &new.panel,
            &id.0,
        ],
    )?;
    Ok(id)
}

/// Why [`charge_and_log`] stopped.
enum Charged {
    /// Refused before anything of its own was written: too large an amount, or no funds.
    Refused(PlaceOrderError),
    /// A statement failed (possibly after writing).
    Failed(StoreError),
}

/// After order `id`'s row: the conditional debit, its ledger row and the `placed` event.
fn charge_and_log(conn: &Connection, new: &NewOrder, id: OrderId) -> Result<(), Charged> {
    let failed = |e| Charged::Failed(store_error(e));
    let charge = Money::from_micros(new.charge);
    if charge.is_positive() {
        if charge.micros() > Money::MAX_AMOUNT.micros() {
            return Err(Charged::Refused(OrderError::AmountTooLarge.into()));
        }
        let debit = -new.charge;
        let moved = execute(conn, SQLITE_DEBIT, &[&debit, &new.user.0]).map_err(failed)?;
        if moved != 1 {
            return Err(Charged::Refused(OrderError::InsufficientFunds.into()));
        }
        let balance: i64 = query_one(
            conn,
            "SELECT balance FROM users WHERE id = $1",
            &[&new.user.0],
        )
        .map_err(failed)?
        .ok_or_else(|| {
            Charged::Failed(StoreError::Other(anyhow::anyhow!(
                "the debited user has no balance"
            )))
        })?;
        let (key, reason) = NewOrder::charge_entry(id);
        execute(
            conn,
            INSERT_LEDGER,
            &[
                &new.user.0,
                &debit,
                &balance,
                &key,
                &LedgerKind::Charge.as_str(),
                &reason,
                &Some(id.0),
                &None::<i64>,
                &new.now,
            ],
        )
        .map_err(failed)?;
    }
    execute(
        conn,
        INSERT_EVENT,
        &[
            &id.0,
            &new.user.0,
            &EventKind::Placed.as_str(),
            &"queued",
            &Some(-new.charge),
            &"",
            &new.now,
        ],
    )
    .map_err(failed)?;
    Ok(())
}

/// The first column of the first row of `sql`, if any.
fn query_one(conn: &Connection, sql: &str, values: &[&dyn ToSql]) -> rusqlite::Result<Option<i64>> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, values)?;
    let mut rows = stmt.raw_query();
    match rows.next()? {
        Some(row) => row.get(0).map(Some),
        None => Ok(None),
    }
}

fn execute(conn: &Connection, sql: &str, values: &[&dyn ToSql]) -> rusqlite::Result<usize> {
    let mut stmt = conn.prepare_cached(sql)?;
    bind(&mut stmt, values)?;
    stmt.raw_execute()
}

/// A statement's failure as the store names it (a unique rule by its name, as [`crate::map_err`]
/// does for sqlx).
fn store_error(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, message)
            if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY =>
        {
            crate::unique_violation(message.as_deref().unwrap_or(""))
        }
        _ => StoreError::Other(anyhow::Error::new(e)),
    }
}

/// The group commit's statements with nothing around them: the placements numbered `range`
/// for `users` in turn (`quantity` units of `service` each, link `…/{n}`, `now` epoch ms),
/// `batch` per transaction, on a writer connection of the database at `path`, on this
/// thread — no server, no queue, no lock (the log is checkpointed inline every ~4,000
/// orders, where the server's checkpointer does it beside the writer). Indexes named in
/// `without` are dropped first (what each one costs an order). Returns the time spent, the
/// orders placed (refusals, e.g. for funds, are not counted) and the pages the run wrote to
/// the WAL (4 KiB each). The "same inserts done directly in SQLite" figure of `smmd-bench
/// inserts`; a run in several ranges over one file shows the cost of its growth.
///
/// # Errors
/// SQLite's, or an unknown index in `without`.
#[allow(clippy::too_many_arguments)]
pub fn place_directly(
    path: &str,
    users: &[smmd_domain::UserId],
    service: &smmd_store::Service,
    spec: &smmd_domain::service::OrderSpec,
    range: std::ops::Range<usize>,
    batch: usize,
    without: &[String],
    now: i64,
) -> anyhow::Result<(std::time::Duration, usize, i64)> {
    anyhow::ensure!(!users.is_empty() && batch > 0, "no users or an empty batch");
    let mut conn = open(path)?;
    for index in without {
        anyhow::ensure!(
            index.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "not an index name: {index}"
        );
        conn.execute_batch(&format!("DROP INDEX {index}"))?;
    }
    let (mut n, orders) = (range.start, range.end);
    let started = std::time::Instant::now();
    let (mut placed, mut frames, mut since) = (0, 0, 0);
    // (busy, frames in the log, frames checkpointed): the log restarts with the first write
    // after a checkpoint that copied it all (nothing reads beside this run).
    let checkpoint =
        |conn: &Connection| -> rusqlite::Result<i64> { Ok(crate::wal::pass(conn, "PASSIVE")?.log) };
    while n < orders {
        let mut news = Vec::with_capacity(batch);
        for _ in 0..batch.min(orders - n) {
            let mut spec = spec.clone();
            spec.link = spec.link.map(|l| format!("{l}/{n}"));
            let user = users[n % users.len()];
            news.push(NewOrder::new(
                user,
                service,
                &spec,
                Default::default(),
                now,
            )?);
            n += 1;
        }
        let news: Vec<&NewOrder> = news.iter().collect();
        placed += in_one_transaction(&mut conn, &news)?
            .iter()
            .filter(|r| matches!(r, Read::Order(_)))
            .count();
        // The server's checkpointer keeps the log short (every 500 ms, beside the writer);
        // here it runs inline every ~4,000 orders, inside the time measured.
        since += news.len();
        if since >= 4096 {
            frames += checkpoint(&conn)?;
            since = 0;
        }
    }
    frames += checkpoint(&conn)?;
    let took = started.elapsed();
    Ok((took, placed, frames))
}

#[cfg(test)]
mod tests;
