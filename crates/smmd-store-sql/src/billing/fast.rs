//! The hourly run's set-based path: the common case — every rental of a user `active`, nothing
//! due, no change of state or plan since its last written hour, its line continuing or a new
//! month beginning, the wallet covering every hour — billed for a whole group of users in a few
//! statements instead of ~9 per user. It writes exactly what [`super::engine`] would (the same
//! hour rows, ledger entries in the same order with the same keys, reasons and balances, the
//! same rental watermarks), and hands every user it cannot bill that way back to the engine.
//!
//! Why it is the same: after any action at instant t the engine has billed through the hour
//! after t, so a rental whose `billed_through` is at or after its `state_at` has held its state
//! and plan over every unbilled hour; the line saved by the engine (migration 0013) gives k
//! without counting rows; an hour is waived exactly when a pause covers its start
//! (`Pause::covers`, the rule `billable_hours` applies); and a user whose wallet pays every hour pays them in any order, so
//! the hour-major, rental-by-id order of the engine only fixes the ledger's order and balances,
//! which this path follows.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use smmd_domain::billing::charge::{hour_charge, CapMode, Month};
use smmd_domain::billing::{hour_of, HOUR_MS};
use smmd_domain::ledger::rent_key;
use smmd_domain::{Money, UserId};
use smmd_store::{BillReport, LedgerKind, StoreError, StoreResult};
use sqlx::{Any, Transaction};

use super::engine::{hour_reason, Line, Terms};
use super::runway::{self, next_charge, LineNow};
use crate::rows::get;
use crate::{Dialect, SqlResultExt};

type Tx = Transaction<'static, Any>;

/// A rental as this path reads it: the engine's fields and its saved line.
struct Candidate {
    id: i64,
    user: i64,
    plan_id: i64,
    state: String,
    billed_through: i64,
    /// `billed_through` as read.
    from: i64,
    first_due_hour: Option<i64>,
    state_at: i64,
    line_month: Option<i64>,
    line_plan_id: Option<i64>,
    line: Line,
}

/// A `rental_hours` row to insert (fields as the columns).
#[derive(Serialize)]
struct HourRow {
    rental_id: i64,
    hour: i64,
    month: i64,
    plan_id: i64,
    k: i64,
    price: i64,
    divisor: i64,
    amount: i64,
    status: &'static str,
    paid_at: Option<i64>,
}

/// A `rent` ledger entry to insert; `seq` keeps the engine's order.
#[derive(Serialize)]
struct LedgerRow {
    seq: usize,
    user_id: i64,
    amount: i64,
    balance_after: i64,
    idem_key: String,
    reason: String,
}

/// A rental's new watermark and line.
#[derive(Serialize)]
struct RentalRow {
    id: i64,
    billed_through: i64,
    line_month: Option<i64>,
    line_plan_id: Option<i64>,
    line_k: i64,
    line_price: i64,
    line_divisor: i64,
}

/// A wallet's balance after its user's hours.
#[derive(Serialize)]
struct WalletRow {
    id: i64,
    balance: i64,
}

/// What one user's hours come to, before any of it is written.
#[derive(Default)]
struct Bill {
    hours: Vec<HourRow>,
    ledger: Vec<LedgerRow>,
    rentals: Vec<RentalRow>,
    balance: i64,
    /// The next hour's charge of the user's rentals after these hours (the runway's burn).
    hourly: Money,
    report: BillReport,
}

/// What [`bill`] did with its users.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Users outside the common case, for the engine.
    pub left: Vec<UserId>,
    /// Users not reached once `max_rows` hour rows were billed, for the next group.
    pub not_reached: Vec<UserId>,
    /// Hour rows written.
    pub rows: usize,
}

/// Bills `users` (ascending ids) up to the hour holding `now` where the common case holds,
/// stopping after the user that brings the hour rows to `max_rows`. The caller holds the
/// transaction; on PostgreSQL the rentals, then the users, are locked in id order, as the
/// engine locks them.
pub(crate) async fn bill(
    tx: &mut Tx,
    d: Dialect,
    terms: &Terms,
    users: &[UserId],
    now: i64,
    max_rows: usize,
    report: &mut BillReport,
) -> StoreResult<Outcome> {
    let mut out = Outcome::default();
    if users.is_empty() {
        return Ok(out);
    }
    let until = hour_of(now) + HOUR_MS;
    let list = d.id_list(users.iter().map(|u| u.0));
    // The rentals the engine would lock (`lock_user_rentals`), with their lines.
    let rows = sqlx::query(&format!(
        "SELECT id, user_id, plan_id, state, billed_through, first_due_hour, state_at, \
         line_month, line_plan_id, line_k, line_price, line_divisor FROM rentals \
         WHERE {} AND (state IN ('active', 'grace', 'suspended') OR first_due_hour IS NOT NULL \
         OR (state = 'canceled' AND billed_through <= state_at)) ORDER BY id{}",
        d.id_in("user_id", 1),
        d.for_update()
    ))
    .bind(&list)
    .fetch_all(&mut **tx)
    .await
    .db()?;
    let mut by_user: BTreeMap<i64, Vec<Candidate>> = BTreeMap::new();
    for row in &rows {
        let c = Candidate {
            id: get(row, "id")?,
            user: get(row, "user_id")?,
            plan_id: get(row, "plan_id")?,
            state: get(row, "state")?,
            billed_through: get(row, "billed_through")?,
            from: get(row, "billed_through")?,
            first_due_hour: get(row, "first_due_hour")?,
            state_at: get(row, "state_at")?,
            line_month: get(row, "line_month")?,
            line_plan_id: get(row, "line_plan_id")?,
            line: Line {
                price: Money::from_micros(get::<Option<i64>>(row, "line_price")?.unwrap_or(0)),
                divisor: get::<Option<i64>>(row, "line_divisor")?.unwrap_or(0),
                charged: get(row, "line_k")?,
            },
        };
        by_user.entry(c.user).or_default().push(c);
    }
    if by_user.is_empty() {
        return Ok(out);
    }
    let ids = d.id_list(by_user.keys().copied());
    let balances: HashMap<i64, i64> = sqlx::query(&format!(
        "SELECT id, balance FROM users WHERE {} ORDER BY id{}",
        d.id_in("id", 1),
        d.for_update()
    ))
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await
    .db()?
    .iter()
    .map(|r| Ok((get(r, "id")?, get(r, "balance")?)))
    .collect::<StoreResult<_>>()?;
    let plans: HashMap<i64, (Money, CapMode)> =
        sqlx::query("SELECT id, price, cap_mode FROM plans")
            .fetch_all(&mut **tx)
            .await
            .db()?
            .iter()
            .map(|r| {
                let mode: String = get(r, "cap_mode")?;
                let mode = CapMode::parse(&mode)
                    .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad cap mode `{mode}`")))?;
                Ok((get(r, "id")?, (Money::from_micros(get(r, "price")?), mode)))
            })
            .collect::<StoreResult<_>>()?;

    let mut hours = Vec::new();
    let mut ledger = Vec::new();
    let mut rentals = Vec::new();
    let mut wallets = Vec::new();
    let mut figures = BillReport::default();
    let mut burns = Vec::new();
    let mut last = None;
    for (user, mut list) in by_user {
        if hours.len() >= max_rows {
            break;
        }
        last = Some(user);
        let Some(&balance) = balances.get(&user) else {
            out.left.push(UserId(user));
            continue;
        };
        match bill_user(terms, &plans, &mut list, balance, until, now) {
            Some(bill) => {
                if bill.balance != balance {
                    wallets.push(WalletRow {
                        id: user,
                        balance: bill.balance,
                    });
                }
                burns.push((UserId(user), Money::from_micros(bill.balance), bill.hourly));
                hours.extend(bill.hours);
                for mut e in bill.ledger {
                    e.seq = ledger.len();
                    ledger.push(e);
                }
                rentals.extend(bill.rentals);
                figures.add(&bill.report);
            }
            None => out.left.push(UserId(user)),
        }
    }
    // Users past the last one looked at (with or without rentals) go to the next group.
    if let Some(last) = last {
        out.not_reached = users.iter().copied().filter(|u| u.0 > last).collect();
    }
    out.rows = hours.len();
    write(tx, d, &wallets, &ledger, &hours, &rentals, now).await?;
    figures.runway_warnings += runway::check(tx, d, terms, &burns, now).await?;
    report.add(&figures);
    Ok(out)
}

/// One user's rentals billed hour by hour, rentals by id within an hour (the engine's order),
/// or `None` when anything is outside the common case.
fn bill_user(
    terms: &Terms,
    plans: &HashMap<i64, (Money, CapMode)>,
    list: &mut [Candidate],
    balance: i64,
    until: i64,
    now: i64,
) -> Option<Bill> {
    let mut bill = Bill {
        balance,
        ..Bill::default()
    };
    for r in list.iter() {
        let plain = r.state == "active"
            && r.first_due_hour.is_none()
            && r.state_at <= r.billed_through
            && r.billed_through % HOUR_MS == 0
            && r.line_month.is_some();
        if !plain {
            return None;
        }
    }
    bill.report.rentals = list.len() as i64;
    let Some(start) = list.iter().map(|r| r.billed_through).min() else {
        return Some(bill);
    };
    let mut hour = start;
    while hour < until {
        let waived = terms.pauses.iter().any(|p| p.covers(hour));
        let month = Month::of(hour);
        for r in list.iter_mut() {
            if r.billed_through > hour {
                continue;
            }
            // The line of this hour: the saved one continued, or a new month's.
            let same = r.line_month == Some(month.start_ms());
            if same && r.line_plan_id != Some(r.plan_id) {
                return None; // back to a plan billed earlier this month: the engine counts
            }
            if !same || r.line.charged == 0 {
                if r.line_month.is_some_and(|m| m > month.start_ms()) {
                    return None;
                }
                let &(price, mode) = plans.get(&r.plan_id)?;
                r.line = Line {
                    price,
                    divisor: terms.divisor(mode, month),
                    charged: 0,
                };
                r.line_month = Some(month.start_ms());
                r.line_plan_id = Some(r.plan_id);
            }
            let (k, amount, status) = if waived {
                bill.report.hours_waived += 1;
                (0, Money::ZERO, "waived")
            } else {
                r.line.charged += 1;
                let amount = hour_charge(r.line.price, r.line.divisor, r.line.charged);
                if amount.is_positive() {
                    let after = bill.balance.checked_sub(amount.micros())?;
                    if after < 0 {
                        return None; // short: the engine writes the due hour and the grace
                    }
                    bill.balance = after;
                    bill.ledger.push(LedgerRow {
                        seq: 0,
                        user_id: r.user,
                        amount: -amount.micros(),
                        balance_after: after,
                        idem_key: rent_key(r.id, hour),
                        reason: hour_reason(r.id, hour),
                    });
                }
                bill.report.hours_paid += 1;
                bill.report.amount = bill.report.amount.saturating_add(amount);
                (r.line.charged, amount, "paid")
            };
            bill.hours.push(HourRow {
                rental_id: r.id,
                hour,
                month: month.start_ms(),
                plan_id: r.plan_id,
                k,
                price: r.line.price.micros(),
                divisor: r.line.divisor,
                amount: amount.micros(),
                status,
                paid_at: (status == "paid").then_some(now),
            });
            r.billed_through = hour + HOUR_MS;
        }
        hour += HOUR_MS;
    }
    for r in list.iter().filter(|r| r.billed_through > r.from) {
        bill.rentals.push(RentalRow {
            id: r.id,
            billed_through: r.billed_through,
            line_month: r.line_month,
            line_plan_id: r.line_plan_id,
            line_k: r.line.charged,
            line_price: r.line.price.micros(),
            line_divisor: r.line.divisor,
        });
    }
    for r in list.iter() {
        let &(plan_price, plan_mode) = plans.get(&r.plan_id)?;
        let l = LineNow {
            plan_id: r.plan_id,
            line_month: r.line_month,
            line_plan_id: r.line_plan_id,
            line: r.line,
            next_hour: r.billed_through,
            plan_price,
            plan_mode,
        };
        bill.hourly = bill.hourly.saturating_add(next_charge(terms, &l));
    }
    Some(bill)
}

fn json<T: Serialize>(rows: &[T]) -> StoreResult<String> {
    serde_json::to_string(rows).map_err(|e| StoreError::Other(e.into()))
}

/// The writes of a group, a statement per table (none when there is nothing to write).
async fn write(
    tx: &mut Tx,
    d: Dialect,
    wallets: &[WalletRow],
    ledger: &[LedgerRow],
    hours: &[HourRow],
    rentals: &[RentalRow],
    now: i64,
) -> StoreResult<()> {
    const B: &str = "bigint";
    const T: &str = "text";
    if !wallets.is_empty() {
        let src = d.json_rows(1, &[("id", B), ("balance", B)]);
        sqlx::query(&format!(
            "UPDATE users SET balance = v.balance FROM ({src}) AS v WHERE users.id = v.id"
        ))
        .bind(json(wallets)?)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    if !ledger.is_empty() {
        // In `seq` order: ids, and so the feed, follow the engine's order.
        let src = d.json_rows(
            1,
            &[
                ("seq", B),
                ("user_id", B),
                ("amount", B),
                ("balance_after", B),
                ("idem_key", T),
                ("reason", T),
            ],
        );
        sqlx::query(&format!(
            "INSERT INTO ledger (user_id, amount, balance_after, idem_key, kind, reason, created_at) \
             SELECT user_id, amount, balance_after, idem_key, $2, reason, $3 FROM ({src}) AS v ORDER BY seq"
        ))
        .bind(json(ledger)?)
        .bind(LedgerKind::Rent.as_str())
        .bind(now)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    if !hours.is_empty() {
        let src = d.json_rows(
            1,
            &[
                ("rental_id", B),
                ("hour", B),
                ("month", B),
                ("plan_id", B),
                ("k", B),
                ("price", B),
                ("divisor", B),
                ("amount", B),
                ("status", T),
                ("paid_at", B),
            ],
        );
        sqlx::query(&format!(
            "INSERT INTO rental_hours (rental_id, hour, month, plan_id, k, price, divisor, amount, status, paid_at, created_at) \
             SELECT rental_id, hour, month, plan_id, k, price, divisor, amount, status, paid_at, $2 FROM ({src}) AS v"
        ))
        .bind(json(hours)?)
        .bind(now)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    if !rentals.is_empty() {
        let src = d.json_rows(
            1,
            &[
                ("id", B),
                ("billed_through", B),
                ("line_month", B),
                ("line_plan_id", B),
                ("line_k", B),
                ("line_price", B),
                ("line_divisor", B),
            ],
        );
        sqlx::query(&format!(
            "UPDATE rentals SET billed_through = v.billed_through, line_month = v.line_month, \
             line_plan_id = v.line_plan_id, line_k = v.line_k, line_price = v.line_price, \
             line_divisor = v.line_divisor, updated_at = $2 FROM ({src}) AS v WHERE rentals.id = v.id"
        ))
        .bind(json(rentals)?)
        .bind(now)
        .execute(&mut **tx)
        .await
        .db()?;
    }
    Ok(())
}
