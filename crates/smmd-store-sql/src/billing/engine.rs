//! The billing engine's transaction: [`reconcile`] brings one locked rental up to `now` —
//! hours written oldest first under UNIQUE (rental, hour), each paid by a conditional `rent`
//! debit or left due, the dunning ladder applied at its exact instants, dues collected oldest
//! first — and the operations that change a rental ([`rent`], [`act`], [`credit`]) run it
//! before and after their change, so every path writes the same rows and ledger.
//!
//! The caller holds the rental: `SELECT … FOR UPDATE` on PostgreSQL, the one writer on SQLite
//! (`BEGIN IMMEDIATE`). Which hours are billable and what they cost come from
//! `smmd_domain::billing` alone (the rental's log and the pauses), never from when a job ran.

use std::collections::HashMap;

use smmd_domain::billing::charge::{hour_charge, CapMode, Month};
use smmd_domain::billing::hours::{billable_hours, HourBilling, Pause, StateChange};
use smmd_domain::billing::rental::{next_state, RentalEvent, RentalState, SuspendReason};
use smmd_domain::billing::{hour_of, HOUR_MS};
use smmd_domain::ledger::{rent_credit_key, rent_key, rent_setup_key};
use smmd_domain::{Money, UserId};
use smmd_store::{
    BalanceError, BillReport, BillingError, BillingSettings, LedgerKind, Rental, RentalAction,
    StoreError, StoreResult,
};
use sqlx::{Any, Transaction};

use super::{plan_in, rental_row, runway, settings_in, RENTAL_COLS};
use crate::rows::get;
use crate::wallet::{post, Posting};
use crate::{Dialect, SqlResultExt};

type Tx = Transaction<'static, Any>;

/// What a reconciliation reads once per transaction.
pub(crate) struct Terms {
    pub settings: BillingSettings,
    pub pauses: Vec<Pause>,
}

impl Terms {
    pub(crate) async fn load(tx: &mut Tx) -> StoreResult<Terms> {
        let settings = settings_in(tx).await?;
        let rows = sqlx::query("SELECT from_at, until_at FROM billing_pauses ORDER BY from_at")
            .fetch_all(&mut **tx)
            .await
            .db()?;
        let pauses = rows
            .iter()
            .map(|r| {
                Ok(Pause {
                    from_ms: get(r, "from_at")?,
                    until_ms: get(r, "until_at")?,
                })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Terms { settings, pauses })
    }

    /// D of a new line of `mode` in `month`: the `hours_per_month` setting for `h730`.
    pub(crate) fn divisor(&self, mode: CapMode, month: Month) -> i64 {
        match mode {
            CapMode::H730 => self.settings.hours_per_month,
            other => other.divisor(month),
        }
    }
}

/// The rental `id`, locked for this transaction.
pub(crate) async fn lock_rental(tx: &mut Tx, d: Dialect, id: i64) -> StoreResult<Option<Rental>> {
    let row = sqlx::query(&format!(
        "SELECT {RENTAL_COLS} FROM rentals WHERE id = $1{}",
        d.for_update()
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    row.as_ref().map(rental_row).transpose()
}

/// One state-log line: (instant, state after, plan after).
struct LogLine {
    at: i64,
    state: RentalState,
    plan_id: i64,
}

async fn load_log(tx: &mut Tx, id: i64) -> StoreResult<Vec<LogLine>> {
    let rows = sqlx::query(
        "SELECT at, state, reason, plan_id FROM rental_events WHERE rental_id = $1 ORDER BY at, id",
    )
    .bind(id)
    .fetch_all(&mut **tx)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            let state: String = get(r, "state")?;
            let reason: Option<String> = get(r, "reason")?;
            Ok(LogLine {
                at: get(r, "at")?,
                state: RentalState::parse(&state, reason.as_deref()).ok_or_else(|| {
                    StoreError::Other(anyhow::anyhow!("bad rental state `{state}`"))
                })?,
                plan_id: get(r, "plan_id")?,
            })
        })
        .collect()
}

/// Appends a log line and moves the rental to `to` at `at` (kept monotone: never before the
/// current state began).
#[allow(clippy::too_many_arguments)]
async fn change_state(
    tx: &mut Tx,
    r: &mut Rental,
    to: RentalState,
    at: i64,
    event: &str,
    detail: &str,
    actor: Option<UserId>,
    now: i64,
) -> StoreResult<()> {
    let at = at.max(r.state_at);
    log_event(tx, r, to, at, event, detail, actor, now).await?;
    // Billable again from `at`: its hour may be behind the watermark (resumed at 14:10 after
    // a run at 14:00 found it suspended), so the next reconcile looks from there.
    if to.is_billable() && !r.state.is_billable() {
        r.billed_through = r.billed_through.min(hour_of(at));
    }
    r.state = to;
    r.state_at = at;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
async fn log_event(
    tx: &mut Tx,
    r: &Rental,
    state: RentalState,
    at: i64,
    event: &str,
    detail: &str,
    actor: Option<UserId>,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO rental_events (rental_id, at, event, state, reason, plan_id, detail, actor_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(r.id)
    .bind(at)
    .bind(event)
    .bind(state.as_str())
    .bind(state.reason().map(SuspendReason::as_str))
    .bind(r.plan_id)
    .bind(detail)
    .bind(actor.map(|a| a.0))
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
    if NOTIFIED.contains(&event) {
        let kind = format!("rental.{event}");
        runway::notice(tx, r.user_id, &kind, Some(r.id), None, detail, now).await?;
    }
    Ok(())
}

/// The log events the renter hears of (`rental.<event>` notices, migration 0014).
const NOTIFIED: [&str; 5] = [
    "activated",
    "past_due",
    "suspended",
    "resumed",
    "terminated",
];

/// Checks the user's runway after the engine billed them (see [`runway::check`]).
pub(crate) async fn runway_after(
    tx: &mut Tx,
    d: Dialect,
    terms: &Terms,
    user: UserId,
    now: i64,
    report: &mut BillReport,
) -> StoreResult<()> {
    let (balance, hourly) = runway::burn_of(tx, terms, user).await?;
    report.runway_warnings += runway::check(tx, d, terms, &[(user, balance, hourly)], now).await?;
    Ok(())
}

/// Saves the rental's state and watermarks, and the line of the last hour written when hours
/// were written (`line`; the column comment of migration 0013 says what it is for).
async fn save(tx: &mut Tx, r: &Rental, line: Option<&LastLine>, now: i64) -> StoreResult<()> {
    sqlx::query(
        "UPDATE rentals SET state = $1, reason = $2, plan_id = $3, billed_through = $4, \
         first_due_hour = $5, state_at = $6, updated_at = $7, \
         line_month = COALESCE($9, line_month), line_plan_id = COALESCE($10, line_plan_id), \
         line_k = COALESCE($11, line_k), line_price = COALESCE($12, line_price), \
         line_divisor = COALESCE($13, line_divisor) WHERE id = $8",
    )
    .bind(r.state.as_str())
    .bind(r.state.reason().map(SuspendReason::as_str))
    .bind(r.plan_id)
    .bind(r.billed_through)
    .bind(r.first_due_hour)
    .bind(r.state_at)
    .bind(now)
    .bind(r.id)
    .bind(line.map(|l| l.month.start_ms()))
    .bind(line.map(|l| l.plan_id))
    .bind(line.map(|l| l.line.charged))
    .bind(line.map(|l| l.line.price.micros()))
    .bind(line.map(|l| l.line.divisor))
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// The ledger reason of a rental's hour.
pub(crate) fn hour_reason(rental: i64, hour: i64) -> String {
    format!("Rental #{rental} hour {}", hour / HOUR_MS)
}

/// A conditional debit of `amount` under `key`: `Ok(true)` paid, `Ok(false)` the wallet is
/// short.
async fn debit(
    tx: &mut Tx,
    d: Dialect,
    user: UserId,
    amount: Money,
    key: &str,
    reason: &str,
    now: i64,
) -> StoreResult<bool> {
    let posted = post(
        tx,
        d,
        Posting {
            user_id: user,
            amount: -amount,
            kind: LedgerKind::Rent,
            key,
            reason,
            order_id: None,
            actor_id: None,
            now,
        },
    )
    .await;
    match posted {
        Ok(_) => Ok(true),
        Err(BalanceError::InsufficientFunds) => Ok(false),
        Err(BalanceError::Store(e)) => Err(e),
        Err(other) => Err(StoreError::Other(anyhow::anyhow!("rent debit: {other}"))),
    }
}

/// Pays the rental's due hours oldest first while the wallet can; returns whether any remain.
async fn collect(
    tx: &mut Tx,
    d: Dialect,
    r: &Rental,
    now: i64,
    report: &mut BillReport,
) -> StoreResult<bool> {
    let rows = sqlx::query(
        "SELECT hour, amount FROM rental_hours WHERE rental_id = $1 AND status = 'due' ORDER BY hour",
    )
    .bind(r.id)
    .fetch_all(&mut **tx)
    .await
    .db()?;
    for (i, row) in rows.iter().enumerate() {
        let hour: i64 = get(row, "hour")?;
        let amount = Money::from_micros(get(row, "amount")?);
        let reason = hour_reason(r.id, hour);
        if !debit(
            tx,
            d,
            r.user_id,
            amount,
            &rent_key(r.id, hour),
            &reason,
            now,
        )
        .await?
        {
            return Ok(rows.len() - i > 0);
        }
        sqlx::query(
            "UPDATE rental_hours SET status = 'paid', paid_at = $1 WHERE rental_id = $2 AND hour = $3",
        )
        .bind(now)
        .bind(r.id)
        .bind(hour)
        .execute(&mut **tx)
        .await
        .db()?;
        report.hours_collected += 1;
        report.collected = report.collected.saturating_add(amount);
        report.amount = report.amount.saturating_add(amount);
    }
    Ok(false)
}

/// A (month, plan) line: its P, D and the hours charged in it so far.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    pub price: Money,
    pub divisor: i64,
    pub charged: i64,
}

/// The line of the last hour written, saved on the rental for the set-based hourly path.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LastLine {
    pub month: Month,
    pub plan_id: i64,
    pub line: Line,
}

async fn line(
    tx: &mut Tx,
    terms: &Terms,
    rental: i64,
    month: Month,
    plan_id: i64,
) -> StoreResult<Line> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, MIN(price) AS price, MIN(divisor) AS divisor FROM rental_hours \
         WHERE rental_id = $1 AND month = $2 AND plan_id = $3 AND status <> 'waived'",
    )
    .bind(rental)
    .bind(month.start_ms())
    .bind(plan_id)
    .fetch_one(&mut **tx)
    .await
    .db()?;
    let charged: i64 = get(&row, "n")?;
    if charged > 0 {
        return Ok(Line {
            price: Money::from_micros(get(&row, "price")?),
            divisor: get(&row, "divisor")?,
            charged,
        });
    }
    // A new line takes the plan's price and cap mode as they are now.
    let plan = plan_in(tx, plan_id).await?.ok_or(StoreError::NotFound)?;
    Ok(Line {
        price: plan.price,
        divisor: terms.divisor(plan.cap_mode, month),
        charged: 0,
    })
}

/// Writes the rental's missing billable hours in `[from, until)`, oldest first, stopping at
/// `stop` (the suspension instant of a rental in grace). An hour the wallet cannot pay — or
/// any hour while older ones are due — is due and puts an active rental in grace. Returns the
/// line of the last hour written, if any.
#[allow(clippy::too_many_arguments)]
async fn bill_hours(
    tx: &mut Tx,
    d: Dialect,
    terms: &Terms,
    r: &mut Rental,
    log: &[LogLine],
    from: i64,
    until: i64,
    now: i64,
    report: &mut BillReport,
) -> StoreResult<Option<LastLine>> {
    let changes: Vec<StateChange> = log
        .iter()
        .map(|l| StateChange {
            at_ms: l.at,
            state: l.state,
        })
        .collect();
    let candidates = billable_hours(&changes, &terms.pauses, from, until);
    if candidates.is_empty() {
        return Ok(None);
    }
    let existing = sqlx::query(
        "SELECT hour FROM rental_hours WHERE rental_id = $1 AND hour >= $2 AND hour < $3",
    )
    .bind(r.id)
    .bind(from)
    .bind(until)
    .fetch_all(&mut **tx)
    .await
    .db()?
    .iter()
    .map(|row| get::<i64>(row, "hour"))
    .collect::<StoreResult<std::collections::HashSet<i64>>>()?;
    let mut lines: HashMap<(Month, i64), Line> = HashMap::new();
    let mut last = None;
    for (hour, billing) in candidates {
        if existing.contains(&hour) {
            continue;
        }
        if let (RentalState::Grace, Some(first)) = (r.state, r.first_due_hour) {
            if hour >= terms.settings.dunning.suspend_at(first) {
                break;
            }
        }
        // The plan of an hour: the last log line at or before its start (the first line for
        // the hour the rental began in).
        let plan_id = log
            .iter()
            .take_while(|l| l.at <= hour)
            .last()
            .or(log.first())
            .map_or(r.plan_id, |l| l.plan_id);
        let month = Month::of(hour);
        let mut current = match lines.get(&(month, plan_id)) {
            Some(l) => *l,
            None => line(tx, terms, r.id, month, plan_id).await?,
        };
        let (k, amount, status) = if billing == HourBilling::Waive {
            report.hours_waived += 1;
            (0, Money::ZERO, "waived")
        } else {
            current.charged += 1;
            let k = current.charged;
            let amount = hour_charge(current.price, current.divisor, k);
            let reason = hour_reason(r.id, hour);
            let paid = amount == Money::ZERO
                || (r.first_due_hour.is_none()
                    && debit(
                        tx,
                        d,
                        r.user_id,
                        amount,
                        &rent_key(r.id, hour),
                        &reason,
                        now,
                    )
                    .await?);
            if paid {
                report.hours_paid += 1;
                report.amount = report.amount.saturating_add(amount);
                (k, amount, "paid")
            } else {
                report.hours_due += 1;
                if r.first_due_hour.is_none() {
                    r.first_due_hour = Some(hour);
                }
                if r.state == RentalState::Active {
                    let to = next_state(r.state, RentalEvent::HourDue)
                        .map_err(|e| StoreError::Other(e.into()))?;
                    let detail = format!("hour {} unpaid: {amount}", hour / HOUR_MS);
                    change_state(tx, r, to, hour, "past_due", &detail, None, now).await?;
                }
                (k, amount, "due")
            }
        };
        lines.insert((month, plan_id), current);
        last = Some(LastLine {
            month,
            plan_id,
            line: current,
        });
        sqlx::query(
            "INSERT INTO rental_hours (rental_id, hour, month, plan_id, k, price, divisor, amount, status, paid_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(r.id)
        .bind(hour)
        .bind(month.start_ms())
        .bind(plan_id)
        .bind(k)
        .bind(current.price.micros())
        .bind(current.divisor)
        .bind(amount.micros())
        .bind(status)
        .bind((status == "paid").then_some(now))
        .bind(now)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    Ok(last)
}

/// Brings a locked, live rental up to `upto` (≤ `now`): hours up to the one holding `upto`
/// (billing is in advance), the suspension of a rental in grace at first due hour +
/// `suspend_after_hours`, the termination of one suspended for non-payment at +
/// `terminate_after_days` (dues written off); and, when `upto` is `now`, collection of dues
/// (all paid: back to `active`, the current hour billed). `now` stamps what is written.
pub(crate) async fn reconcile(
    tx: &mut Tx,
    d: Dialect,
    terms: &Terms,
    r: &mut Rental,
    upto: i64,
    now: i64,
    report: &mut BillReport,
) -> StoreResult<()> {
    if r.state == RentalState::Pending || r.state == RentalState::Terminated {
        return Ok(());
    }
    let until = hour_of(upto) + HOUR_MS;
    let before = r.clone();
    let mut last = None;
    let dunning = terms.settings.dunning;
    // Each pass bills what the log allows, then applies the next dunning step that is due by
    // now; at most suspension then termination, so a few passes.
    for _ in 0..4 {
        let log = load_log(tx, r.id).await?;
        // From where billing stopped (a change into a billable state moves it back to its
        // hour, see `change_state`).
        let from = r.billed_through;
        if let Some(l) = bill_hours(tx, d, terms, r, &log, from, until, now, report).await? {
            last = Some(l);
        }
        match (r.state, r.first_due_hour) {
            (RentalState::Grace, Some(first)) if dunning.suspend_at(first) <= upto => {
                let at = dunning.suspend_at(first);
                let to = next_state(r.state, RentalEvent::SuspendForNonPayment)
                    .map_err(|e| StoreError::Other(e.into()))?;
                let detail = format!("unpaid since hour {}", first / HOUR_MS);
                change_state(tx, r, to, at, "suspended", &detail, None, now).await?;
                report.suspended += 1;
            }
            (RentalState::Suspended(SuspendReason::NonPayment), _)
                if dunning.terminate_at(r.state_at) <= upto =>
            {
                let at = dunning.terminate_at(r.state_at);
                terminate(tx, r, at, "suspended for non-payment too long", None, now).await?;
                report.terminated += 1;
                break;
            }
            _ => {
                // Dunning is settled: collect at now.
                if upto == now
                    && r.first_due_hour.is_some()
                    && !collect(tx, d, r, now, report).await?
                {
                    r.first_due_hour = None;
                    if let Ok(to) = next_state(r.state, RentalEvent::DuesPaid) {
                        change_state(tx, r, to, now, "resumed", "dues paid", None, now).await?;
                        report.resumed += 1;
                        continue;
                    }
                }
                break;
            }
        }
    }
    r.billed_through = r.billed_through.max(until);
    if *r == before && last.is_none() {
        return Ok(()); // nothing to do: no write
    }
    save(tx, r, last.as_ref(), now).await
}

/// The user's rentals the engine still has work on, locked, by id: live ones, and ended ones
/// with dues or hours not yet written.
async fn lock_user_rentals(tx: &mut Tx, d: Dialect, user: UserId) -> StoreResult<Vec<Rental>> {
    let rows = sqlx::query(&format!(
        "SELECT {RENTAL_COLS} FROM rentals WHERE user_id = $1 AND (state IN ('active', 'grace', 'suspended') \
         OR first_due_hour IS NOT NULL OR (state = 'canceled' AND billed_through <= state_at)) \
         ORDER BY id{}",
        d.for_update()
    ))
    .bind(user.0)
    .fetch_all(&mut **tx)
    .await
    .db()?;
    rows.iter().map(rental_row).collect()
}

/// Brings all of a user's rentals up to `now` in one transaction. They share one wallet, so
/// hours are paid in the order a punctual hourly run would have paid them — hour by hour,
/// rentals by id within an hour — whatever the schedule, the triggers or the downtime were:
/// the same timeline always gives the same rows and ledger. One rental (the common case) is
/// reconciled in one go. Returns the rentals as they are after.
pub(crate) async fn reconcile_user(
    tx: &mut Tx,
    d: Dialect,
    terms: &Terms,
    user: UserId,
    now: i64,
    report: &mut BillReport,
) -> StoreResult<Vec<Rental>> {
    let mut rentals = lock_user_rentals(tx, d, user).await?;
    if rentals.len() > 1 {
        let start = rentals
            .iter()
            .map(|r| r.billed_through)
            .min()
            .unwrap_or(now);
        let mut h = hour_of(start);
        while h < hour_of(now) {
            for r in rentals.iter_mut() {
                reconcile(tx, d, terms, r, h, now, report).await?;
            }
            h += HOUR_MS;
        }
    }
    for r in rentals.iter_mut() {
        reconcile(tx, d, terms, r, now, now, report).await?;
    }
    report.rentals += rentals.len() as i64;
    Ok(rentals)
}

/// Ends the rental at `at` and writes off its dues.
async fn terminate(
    tx: &mut Tx,
    r: &mut Rental,
    at: i64,
    detail: &str,
    actor: Option<UserId>,
    now: i64,
) -> StoreResult<()> {
    change_state(
        tx,
        r,
        RentalState::Terminated,
        at,
        "terminated",
        detail,
        actor,
        now,
    )
    .await?;
    sqlx::query(
        "UPDATE rental_hours SET status = 'written_off' WHERE rental_id = $1 AND status = 'due'",
    )
    .bind(r.id)
    .execute(&mut **tx)
    .await
    .db()?;
    r.first_due_hour = None;
    Ok(())
}

/// Rents `plan_id` for `user` at `now` (see `BillingStore::rent`).
pub(crate) async fn rent(
    tx: &mut Tx,
    d: Dialect,
    user: UserId,
    plan_id: i64,
    now: i64,
) -> Result<Rental, BillingError> {
    let terms = Terms::load(tx).await?;
    if !terms.settings.enabled {
        return Err(BillingError::Disabled);
    }
    if terms.settings.pause.is_some() {
        return Err(BillingError::Paused);
    }
    let plan = plan_in(tx, plan_id)
        .await?
        .ok_or(BillingError::PlanNotFound)?;
    if !plan.active {
        return Err(BillingError::PlanInactive);
    }
    // The user's other rentals pay their hours up to now before this one takes its first.
    let mut report = BillReport::default();
    reconcile_user(tx, d, &terms, user, now, &mut report).await?;
    let row = sqlx::query(&format!(
        "INSERT INTO rentals (user_id, plan_id, state, billed_through, state_at, created_at, updated_at) \
         VALUES ($1, $2, 'active', $3, $4, $4, $4) RETURNING {RENTAL_COLS}"
    ))
    .bind(user.0)
    .bind(plan_id)
    .bind(hour_of(now))
    .bind(now)
    .fetch_one(&mut **tx)
    .await
    .db()?;
    let mut r = rental_row(&row)?;
    log_event(
        tx,
        &r,
        RentalState::Active,
        now,
        "activated",
        &plan.code,
        None,
        now,
    )
    .await?;
    let first = hour_charge(plan.price, terms.divisor(plan.cap_mode, Month::of(now)), 1);
    let needed = plan
        .setup_fee
        .checked_add(first)
        .unwrap_or(Money::MAX_AMOUNT);
    if plan.setup_fee.is_positive() {
        let reason = format!("Rental #{} setup fee ({})", r.id, plan.code);
        if !debit(
            tx,
            d,
            user,
            plan.setup_fee,
            &rent_setup_key(r.id),
            &reason,
            now,
        )
        .await?
        {
            return Err(BillingError::InsufficientFunds { needed });
        }
    }
    reconcile(tx, d, &terms, &mut r, now, now, &mut report).await?;
    if r.first_due_hour.is_some() {
        return Err(BillingError::InsufficientFunds { needed });
    }
    runway_after(tx, d, &terms, user, now, &mut report).await?;
    Ok(r)
}

/// Applies `action` to rental `id` at `now` (see `BillingStore::rental_action`): the user's
/// rentals are reconciled to now first (locked in id order, then this one), and this one again
/// after the change (an unsuspended rental pays the current hour).
pub(crate) async fn act(
    tx: &mut Tx,
    d: Dialect,
    id: i64,
    owner: Option<UserId>,
    action: RentalAction,
    actor: Option<UserId>,
    now: i64,
) -> Result<Rental, BillingError> {
    let user = sqlx::query("SELECT user_id FROM rentals WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
        .db()?
        .map(|row| get::<i64>(&row, "user_id").map(UserId))
        .transpose()?
        .filter(|u| owner.is_none_or(|o| o == *u))
        .ok_or(BillingError::RentalNotFound)?;
    let terms = Terms::load(tx).await?;
    let mut report = BillReport::default();
    reconcile_user(tx, d, &terms, user, now, &mut report).await?;
    let mut rental = lock_rental(tx, d, id)
        .await?
        .ok_or(BillingError::RentalNotFound)?;
    let r = &mut rental;
    match action {
        RentalAction::Cancel => {
            let to = next_state(r.state, RentalEvent::Cancel)?;
            change_state(tx, r, to, now, "canceled", "", actor, now).await?;
        }
        RentalAction::Suspend => {
            let to = next_state(r.state, RentalEvent::AdminSuspend)?;
            change_state(tx, r, to, now, "suspended", "by an admin", actor, now).await?;
        }
        RentalAction::Unsuspend => {
            let dues = r.first_due_hour.is_some();
            let to = next_state(r.state, RentalEvent::AdminUnsuspend { dues })?;
            change_state(tx, r, to, now, "resumed", "by an admin", actor, now).await?;
            // Dues left from before: a fresh grace period from now.
            if dues {
                r.first_due_hour = Some(hour_of(now));
            }
        }
        RentalAction::Terminate => {
            next_state(r.state, RentalEvent::Terminate)?;
            terminate(tx, r, now, "by an admin", actor, now).await?;
        }
        RentalAction::ChangePlan { plan_id } => {
            if r.state.is_final() {
                return Err(BillingError::Invalid(format!(
                    "A {} rental cannot change plan",
                    r.state.as_str()
                )));
            }
            if plan_id == r.plan_id {
                return Err(BillingError::SamePlan);
            }
            let plan = plan_in(tx, plan_id)
                .await?
                .ok_or(BillingError::PlanNotFound)?;
            if !plan.active {
                return Err(BillingError::PlanInactive);
            }
            let detail = format!("from plan {} to {}", r.plan_id, plan.code);
            r.plan_id = plan_id;
            log_event(tx, r, r.state, now, "plan_changed", &detail, actor, now).await?;
        }
    }
    reconcile(tx, d, &terms, r, now, now, &mut report).await?;
    save(tx, r, None, now).await?;
    runway_after(tx, d, &terms, user, now, &mut report).await?;
    Ok(rental)
}

/// Refunds paid hours of a locked rental (see `BillingStore::credit_rental_hours`).
pub(crate) async fn credit(
    tx: &mut Tx,
    d: Dialect,
    r: &Rental,
    hours: &[i64],
    actor: Option<UserId>,
    now: i64,
) -> Result<Money, BillingError> {
    let mut total = Money::ZERO;
    for &hour in hours {
        let row = sqlx::query(
            "SELECT amount, status, credited FROM rental_hours WHERE rental_id = $1 AND hour = $2",
        )
        .bind(r.id)
        .bind(hour)
        .fetch_optional(&mut **tx)
        .await
        .db()?;
        let Some(row) = row else {
            return Err(BillingError::NotBilled(hour));
        };
        let status: String = get(&row, "status")?;
        let amount = Money::from_micros(get(&row, "amount")?);
        if status != "paid" || !amount.is_positive() {
            return Err(BillingError::NotBilled(hour));
        }
        if get::<i64>(&row, "credited")? != 0 {
            continue; // credited before: once per hour
        }
        let reason = format!("Credit of rental #{} hour {}", r.id, hour / HOUR_MS);
        post(
            tx,
            d,
            Posting {
                user_id: r.user_id,
                amount,
                kind: LedgerKind::RentCredit,
                key: &rent_credit_key(r.id, hour),
                reason: &reason,
                order_id: None,
                actor_id: actor,
                now,
            },
        )
        .await
        .map_err(|e| match e {
            BalanceError::Store(e) => BillingError::Store(e),
            other => BillingError::Invalid(other.to_string()),
        })?;
        sqlx::query("UPDATE rental_hours SET credited = amount WHERE rental_id = $1 AND hour = $2")
            .bind(r.id)
            .bind(hour)
            .execute(&mut **tx)
            .await
            .db()?;
        total = total.saturating_add(amount);
    }
    if total.is_positive() {
        let detail = format!("{} hour(s), {total}", hours.len());
        log_event(tx, r, r.state, now, "credited", &detail, actor, now).await?;
    }
    Ok(total)
}
