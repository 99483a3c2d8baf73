//! Billing's notices (migration 0014): the outbox rows a renter hears about, and the runway
//! warnings. Runway = balance / the next hour's charge of the user's running rentals
//! (`smmd_domain::billing::rental::runway_hours`); each warning threshold (settings
//! `warn_hours`, 72 h and 24 h by default) fires once per dip and re-arms 25 % above itself
//! (`RunwayAlarm`), its state kept in `runway_alarms` (a row only once it has fired). Checked
//! in the transaction that billed the user, so a warning commits with the hours that caused it.

use std::collections::HashMap;

use smmd_domain::billing::charge::{hour_charge, CapMode, Month};
use smmd_domain::billing::rental::{runway_hours, RunwayAlarm};
use smmd_domain::{Money, UserId};
use smmd_store::StoreResult;
use sqlx::{Any, Transaction};

use super::engine::{Line, Terms};
use crate::rows::get;
use crate::{Dialect, SqlResultExt};

type Tx = Transaction<'static, Any>;

/// Writes one notice (`kind` is `rental.<event>`; see the migration).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn notice(
    tx: &mut Tx,
    user: UserId,
    kind: &str,
    rental: Option<i64>,
    runway: Option<(i64, i64)>,
    detail: &str,
    now: i64,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO billing_notices (user_id, kind, rental_id, runway_hours, threshold, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(user.0)
    .bind(kind)
    .bind(rental)
    .bind(runway.map(|r| r.0))
    .bind(runway.map(|r| r.1))
    .bind(detail)
    .bind(now)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

/// A running rental's line and plan, enough to tell its next hour's charge.
pub(crate) struct LineNow {
    pub plan_id: i64,
    pub line_month: Option<i64>,
    pub line_plan_id: Option<i64>,
    pub line: Line,
    /// The next hour to bill (`billed_through`).
    pub next_hour: i64,
    pub plan_price: Money,
    pub plan_mode: CapMode,
}

/// The charge of the rental's next hour: its line continued, or a new line's first hour.
pub(crate) fn next_charge(terms: &Terms, l: &LineNow) -> Money {
    let month = Month::of(l.next_hour);
    if l.line_month == Some(month.start_ms())
        && l.line_plan_id == Some(l.plan_id)
        && l.line.charged > 0
    {
        hour_charge(l.line.price, l.line.divisor, l.line.charged + 1)
    } else {
        hour_charge(l.plan_price, terms.divisor(l.plan_mode, month), 1)
    }
}

/// The burn of one user's running rentals, read after the engine billed them.
pub(crate) async fn burn_of(
    tx: &mut Tx,
    terms: &Terms,
    user: UserId,
) -> StoreResult<(Money, Money)> {
    let rows = sqlx::query(
        "SELECT r.plan_id, r.billed_through, r.line_month, r.line_plan_id, r.line_k, r.line_price, \
         r.line_divisor, p.price, p.cap_mode FROM rentals r JOIN plans p ON p.id = r.plan_id \
         WHERE r.user_id = $1 AND r.state IN ('active', 'grace')",
    )
    .bind(user.0)
    .fetch_all(&mut **tx)
    .await
    .db()?;
    let mut hourly = Money::ZERO;
    for row in &rows {
        let mode: String = get(row, "cap_mode")?;
        let l = LineNow {
            plan_id: get(row, "plan_id")?,
            line_month: get(row, "line_month")?,
            line_plan_id: get(row, "line_plan_id")?,
            line: Line {
                price: Money::from_micros(get::<Option<i64>>(row, "line_price")?.unwrap_or(0)),
                divisor: get::<Option<i64>>(row, "line_divisor")?.unwrap_or(0),
                charged: get(row, "line_k")?,
            },
            next_hour: get(row, "billed_through")?,
            plan_price: Money::from_micros(get(row, "price")?),
            plan_mode: CapMode::parse(&mode).unwrap_or(CapMode::H730),
        };
        hourly = hourly.saturating_add(next_charge(terms, &l));
    }
    let balance = sqlx::query("SELECT balance FROM users WHERE id = $1")
        .bind(user.0)
        .fetch_optional(&mut **tx)
        .await
        .db()?
        .map(|row| get::<i64>(&row, "balance"))
        .transpose()?
        .unwrap_or(0);
    Ok((Money::from_micros(balance), hourly))
}

/// See `BillingStore::rent_reserve`.
pub(crate) async fn reserve(
    s: &crate::SqlStore,
    user: UserId,
) -> StoreResult<Option<(Money, i64, Money)>> {
    let row = sqlx::query("SELECT enabled, rent_reserve_hours FROM billing_settings WHERE id = 1")
        .fetch_optional(&s.read)
        .await
        .db()?;
    let hours = match row {
        Some(r) if get::<i64>(&r, "enabled")? != 0 => get::<i64>(&r, "rent_reserve_hours")?,
        _ => 0,
    };
    if hours <= 0 {
        return Ok(None);
    }
    let mut tx = s.read.begin().await.db()?;
    let terms = Terms::load(&mut tx).await?;
    let (balance, hourly) = burn_of(&mut tx, &terms, user).await?;
    tx.rollback().await.db()?;
    if !hourly.is_positive() {
        return Ok(None);
    }
    let keep = hourly
        .micros()
        .checked_mul(hours)
        .map_or(Money::MAX_AMOUNT, Money::from_micros);
    Ok(Some((keep, hours, balance)))
}

/// Observes the runway of each `(user, balance, hourly burn)` against the warning thresholds:
/// fired thresholds write one `rental.runway_low` notice per user (naming the lowest), and
/// every alarm whose state changed is saved. Returns the warnings written.
pub(crate) async fn check(
    tx: &mut Tx,
    d: Dialect,
    terms: &Terms,
    users: &[(UserId, Money, Money)],
    now: i64,
) -> StoreResult<i64> {
    if users.is_empty() {
        return Ok(0);
    }
    let thresholds: Vec<i64> = terms
        .settings
        .warn_hours
        .iter()
        .copied()
        .filter(|t| *t > 0)
        .collect();
    if thresholds.is_empty() {
        return Ok(0);
    }
    let list = d.id_list(users.iter().map(|u| u.0 .0));
    let saved: HashMap<(i64, i64), bool> = sqlx::query(&format!(
        "SELECT user_id, threshold, armed FROM runway_alarms WHERE {}",
        d.id_in("user_id", 1)
    ))
    .bind(&list)
    .fetch_all(&mut **tx)
    .await
    .db()?
    .iter()
    .map(|r| {
        Ok((
            (get(r, "user_id")?, get(r, "threshold")?),
            get::<i64>(r, "armed")? != 0,
        ))
    })
    .collect::<StoreResult<_>>()?;
    let mut warned = 0;
    for &(user, balance, hourly) in users {
        let runway = runway_hours(balance, hourly);
        let mut lowest_fired = None;
        for &threshold in &thresholds {
            let was = saved.get(&(user.0, threshold)).copied().unwrap_or(true);
            let mut alarm = RunwayAlarm {
                threshold_hours: threshold,
                armed: was,
            };
            if alarm.observe(runway) {
                lowest_fired = Some(lowest_fired.map_or(threshold, |l: i64| l.min(threshold)));
            }
            if alarm.armed != was {
                sqlx::query(
                    "INSERT INTO runway_alarms (user_id, threshold, armed) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id, threshold) DO UPDATE SET armed = excluded.armed",
                )
                .bind(user.0)
                .bind(threshold)
                .bind(i64::from(alarm.armed))
                .execute(&mut **tx)
                .await
                .db()?;
            }
        }
        if let (Some(threshold), Some(hours)) = (lowest_fired, runway) {
            let detail = format!(
                "The balance {balance} pays about {hours} more hours of your rentals ({hourly} an hour)"
            );
            notice(
                tx,
                user,
                "rental.runway_low",
                None,
                Some((hours, threshold)),
                &detail,
                now,
            )
            .await?;
            warned += 1;
        }
    }
    Ok(warned)
}
