//! Monthly statements on SQL (migration 0015): the lines of a user's month computed from its
//! hour rows and setup fees, drafts made once the month is over, finalisation with a gapless
//! number per year (the sequence row is taken in the finalising transaction, so a rollback
//! leaves no gap and concurrent finalisers queue on it), and voiding with a re-issued draft.

use std::collections::BTreeMap;

use smmd_domain::billing::charge::Month;
use smmd_domain::billing::rental::statement_number;
use smmd_domain::clock::DAY_MS;
use smmd_domain::ledger::rent_setup_key;
use smmd_domain::{Money, UserId};
use smmd_store::{
    BillingError, NewAudit, Statement, StatementLine, StatementStatus, StoreError, StoreResult,
};
use sqlx::{Any, Transaction};

use super::settings_in;
use crate::rows::get;
use crate::{Row, SqlResultExt, SqlStore};

type Tx = Transaction<'static, Any>;

const COLS: &str = "id, user_id, month, status, number, lines, charged, credited, due, \
                    replaces_id, void_reason, created_at, updated_at, finalized_at, voided_at";

fn row(r: &Row) -> StoreResult<Statement> {
    let status: String = get(r, "status")?;
    let lines: String = get(r, "lines")?;
    Ok(Statement {
        id: get(r, "id")?,
        user_id: UserId(get(r, "user_id")?),
        month: get(r, "month")?,
        status: StatementStatus::parse(&status)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("bad statement status {status}")))?,
        number: get(r, "number")?,
        lines: serde_json::from_str(&lines).map_err(|e| StoreError::Other(e.into()))?,
        charged: Money::from_micros(get(r, "charged")?),
        credited: Money::from_micros(get(r, "credited")?),
        due: Money::from_micros(get(r, "due")?),
        replaces_id: get(r, "replaces_id")?,
        void_reason: get(r, "void_reason")?,
        created_at: get(r, "created_at")?,
        updated_at: get(r, "updated_at")?,
        finalized_at: get(r, "finalized_at")?,
        voided_at: get(r, "voided_at")?,
    })
}

/// A month's lines and totals (charged, credited, due).
struct Computed {
    lines: Vec<StatementLine>,
    charged: Money,
    credited: Money,
    due: Money,
}

/// The user's month as its hour rows and setup fees say now.
async fn compute(tx: &mut Tx, user: UserId, month: Month) -> StoreResult<Computed> {
    let rows = sqlx::query(
        "SELECT h.rental_id, h.plan_id, p.name AS plan_name, h.status, COUNT(*) AS n, \
         CAST(SUM(h.amount) AS BIGINT) AS amount, CAST(SUM(h.credited) AS BIGINT) AS credited, \
         CAST(SUM(CASE WHEN h.amount = 0 THEN 1 ELSE 0 END) AS BIGINT) AS zero \
         FROM rental_hours h JOIN rentals r ON r.id = h.rental_id JOIN plans p ON p.id = h.plan_id \
         WHERE r.user_id = $1 AND h.hour >= $2 AND h.hour < $3 \
         GROUP BY h.rental_id, h.plan_id, p.name, h.status ORDER BY h.rental_id, h.plan_id",
    )
    .bind(user.0)
    .bind(month.start_ms())
    .bind(month.end_ms())
    .fetch_all(&mut **tx)
    .await
    .db()?;
    let mut lines: BTreeMap<(i64, i64), StatementLine> = BTreeMap::new();
    for r in &rows {
        let (rental_id, plan_id): (i64, i64) = (get(r, "rental_id")?, get(r, "plan_id")?);
        let line = lines
            .entry((rental_id, plan_id))
            .or_insert_with(|| StatementLine {
                rental_id,
                plan_id,
                plan_name: String::new(),
                hours_billed: 0,
                free_hours: 0,
                waived_hours: 0,
                paid: Money::ZERO,
                due: Money::ZERO,
                written_off: Money::ZERO,
                credited: Money::ZERO,
                setup_fee: Money::ZERO,
            });
        line.plan_name = get(r, "plan_name")?;
        let n: i64 = get(r, "n")?;
        let amount = Money::from_micros(get::<Option<i64>>(r, "amount")?.unwrap_or(0));
        let zero: i64 = get::<Option<i64>>(r, "zero")?.unwrap_or(0);
        line.credited = line.credited.saturating_add(Money::from_micros(
            get::<Option<i64>>(r, "credited")?.unwrap_or(0),
        ));
        let status: String = get(r, "status")?;
        if status == "waived" {
            line.waived_hours += n;
            continue;
        }
        line.hours_billed += n;
        line.free_hours += zero;
        let slot = match status.as_str() {
            "paid" => &mut line.paid,
            "due" => &mut line.due,
            _ => &mut line.written_off,
        };
        *slot = slot.saturating_add(amount);
    }
    // Setup fees of rentals that began this month, on their first line.
    let begun = sqlx::query(
        "SELECT id FROM rentals WHERE user_id = $1 AND created_at >= $2 AND created_at < $3",
    )
    .bind(user.0)
    .bind(month.start_ms())
    .bind(month.end_ms())
    .fetch_all(&mut **tx)
    .await
    .db()?;
    for r in &begun {
        let id: i64 = get(r, "id")?;
        let fee = sqlx::query("SELECT amount FROM ledger WHERE idem_key = $1")
            .bind(rent_setup_key(id))
            .fetch_optional(&mut **tx)
            .await
            .db()?;
        if let (Some(fee), Some(line)) = (fee, lines.values_mut().find(|l| l.rental_id == id)) {
            line.setup_fee = Money::from_micros(-get::<i64>(&fee, "amount")?);
        }
    }
    let lines: Vec<StatementLine> = lines.into_values().collect();
    let sum = |f: fn(&StatementLine) -> Money| {
        lines
            .iter()
            .fold(Money::ZERO, |t, l| t.saturating_add(f(l)))
    };
    Ok(Computed {
        charged: sum(|l| l.paid.saturating_add(l.setup_fee)),
        credited: sum(|l| l.credited),
        due: sum(|l| l.due),
        lines,
    })
}

fn lines_json(lines: &[StatementLine]) -> StoreResult<String> {
    serde_json::to_string(lines).map_err(|e| StoreError::Other(e.into()))
}

/// Inserts a draft of `user`'s month unless a live statement exists; returns its id.
async fn insert_draft(
    tx: &mut Tx,
    user: UserId,
    month: Month,
    replaces: Option<i64>,
    now: i64,
) -> StoreResult<Option<i64>> {
    let c = compute(tx, user, month).await?;
    let row = sqlx::query(
        "INSERT INTO statements (user_id, month, status, lines, charged, credited, due, replaces_id, created_at, updated_at) \
         VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $8) \
         ON CONFLICT (user_id, month) WHERE status <> 'void' DO NOTHING RETURNING id",
    )
    .bind(user.0)
    .bind(month.start_ms())
    .bind(lines_json(&c.lines)?)
    .bind(c.charged.micros())
    .bind(c.credited.micros())
    .bind(c.due.micros())
    .bind(replaces)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await
    .db()?;
    row.map(|r| get(&r, "id")).transpose()
}

pub(crate) async fn draft(s: &SqlStore, month: i64, now: i64, limit: i64) -> StoreResult<i64> {
    let m = Month::of(month);
    let mut tx = s.begin().await?;
    let done: Option<i64> =
        sqlx::query("SELECT statements_month FROM billing_settings WHERE id = 1")
            .fetch_optional(&mut *tx)
            .await
            .db()?
            .map(|r| get(&r, "statements_month"))
            .transpose()?
            .flatten();
    if done == Some(m.start_ms()) {
        return Ok(0);
    }
    // Drafts are made in user order, so a page starts after the last user drafted for the
    // month: each page costs its own users, not everyone before them.
    let users = sqlx::query(
        "SELECT DISTINCT r.user_id FROM rentals r WHERE r.user_id > \
         COALESCE((SELECT MAX(s.user_id) FROM statements s WHERE s.month = $1), 0) \
         AND EXISTS (SELECT 1 FROM rental_hours h \
         WHERE h.rental_id = r.id AND h.hour >= $1 AND h.hour < $2) AND NOT EXISTS \
         (SELECT 1 FROM statements s WHERE s.user_id = r.user_id AND s.month = $1 AND s.status <> 'void') \
         ORDER BY r.user_id LIMIT $3",
    )
    .bind(m.start_ms())
    .bind(m.end_ms())
    .bind(limit)
    .fetch_all(&mut *tx)
    .await
    .db()?;
    let mut made = 0;
    for r in &users {
        let user = UserId(get(r, "user_id")?);
        if insert_draft(&mut tx, user, m, None, now).await?.is_some() {
            made += 1;
        }
    }
    if (users.len() as i64) < limit {
        sqlx::query("UPDATE billing_settings SET statements_month = $1 WHERE id = 1")
            .bind(m.start_ms())
            .execute(&mut *tx)
            .await
            .db()?;
    }
    s.commit(tx).await?;
    Ok(made)
}

pub(crate) async fn finalize(s: &SqlStore, now: i64, limit: i64) -> StoreResult<i64> {
    let mut done = 0;
    while done < limit {
        let mut tx = s.begin().await?;
        let grace = settings_in(&mut tx).await?.statement_grace_days;
        // The oldest draft no other finaliser holds (PostgreSQL skips locked rows; SQLite has
        // one writer).
        let lock = match s.dialect {
            crate::Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            crate::Dialect::Sqlite => "",
        };
        let next = sqlx::query(&format!(
            "SELECT {COLS} FROM statements WHERE status = 'draft' ORDER BY month, id LIMIT 1{lock}"
        ))
        .fetch_optional(&mut *tx)
        .await
        .db()?;
        let Some(next) = next else { break };
        let st = row(&next)?;
        let m = Month::of(st.month);
        if m.end_ms() + grace * DAY_MS > now {
            break; // the oldest draft is still in its grace: so are the rest
        }
        let c = compute(&mut tx, st.user_id, m).await?;
        let year = i64::from(m.year);
        sqlx::query(
            "INSERT INTO statement_sequences (year, last) VALUES ($1, 0) ON CONFLICT (year) DO NOTHING",
        )
        .bind(year)
        .execute(&mut *tx)
        .await
        .db()?;
        let seq: i64 = sqlx::query(
            "UPDATE statement_sequences SET last = last + 1 WHERE year = $1 RETURNING last",
        )
        .bind(year)
        .fetch_one(&mut *tx)
        .await
        .db()
        .and_then(|r| get(&r, "last"))?;
        let updated = sqlx::query(
            "UPDATE statements SET status = 'final', number = $1, lines = $2, charged = $3, \
             credited = $4, due = $5, finalized_at = $6, updated_at = $6 \
             WHERE id = $7 AND status = 'draft'",
        )
        .bind(statement_number(m.year, seq))
        .bind(lines_json(&c.lines)?)
        .bind(c.charged.micros())
        .bind(c.credited.micros())
        .bind(c.due.micros())
        .bind(now)
        .bind(st.id)
        .execute(&mut *tx)
        .await
        .db()?;
        if updated.rows_affected() == 0 {
            // Another finaliser took it first: roll back, so its number is not spent.
            drop(tx);
            continue;
        }
        s.commit(tx).await?;
        done += 1;
    }
    Ok(done)
}

async fn lock(tx: &mut Tx, s: &SqlStore, id: i64) -> Result<Statement, BillingError> {
    let r = sqlx::query(&format!(
        "SELECT {COLS} FROM statements WHERE id = $1{}",
        s.dialect.for_update()
    ))
    .bind(id)
    .fetch_optional(&mut **tx)
    .await
    .db()?
    .ok_or(BillingError::StatementNotFound)?;
    Ok(row(&r)?)
}

async fn read(tx: &mut Tx, id: i64) -> StoreResult<Statement> {
    let r = sqlx::query(&format!("SELECT {COLS} FROM statements WHERE id = $1"))
        .bind(id)
        .fetch_one(&mut **tx)
        .await
        .db()?;
    row(&r)
}

pub(crate) async fn refresh(s: &SqlStore, id: i64, now: i64) -> Result<Statement, BillingError> {
    let mut tx = s.begin().await?;
    let st = lock(&mut tx, s, id).await?;
    match st.status {
        StatementStatus::Draft => {}
        StatementStatus::Final => {
            return Err(BillingError::StatementFinal(st.number.unwrap_or_default()))
        }
        StatementStatus::Void => return Err(BillingError::StatementNotFound),
    }
    let c = compute(&mut tx, st.user_id, Month::of(st.month)).await?;
    sqlx::query(
        "UPDATE statements SET lines = $1, charged = $2, credited = $3, due = $4, updated_at = $5 \
         WHERE id = $6",
    )
    .bind(lines_json(&c.lines)?)
    .bind(c.charged.micros())
    .bind(c.credited.micros())
    .bind(c.due.micros())
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await
    .db()?;
    let out = read(&mut tx, id).await?;
    s.commit(tx).await?;
    Ok(out)
}

pub(crate) async fn void(
    s: &SqlStore,
    id: i64,
    reason: &str,
    now: i64,
    audit: Option<NewAudit>,
) -> Result<Statement, BillingError> {
    let mut tx = s.begin().await?;
    let st = lock(&mut tx, s, id).await?;
    if st.status != StatementStatus::Final {
        return Err(BillingError::StatementNotFinal(st.status.as_str()));
    }
    sqlx::query(
        "UPDATE statements SET status = 'void', void_reason = $1, voided_at = $2, updated_at = $2 \
         WHERE id = $3",
    )
    .bind(reason)
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await
    .db()?;
    let new = insert_draft(&mut tx, st.user_id, Month::of(st.month), Some(id), now)
        .await?
        .ok_or_else(|| BillingError::Invalid("a live statement of this month exists".into()))?;
    crate::queries::audit_in(&mut tx, audit.as_ref()).await?;
    let out = read(&mut tx, new).await?;
    s.commit(tx).await?;
    Ok(out)
}

pub(crate) async fn one(s: &SqlStore, id: i64) -> StoreResult<Option<Statement>> {
    sqlx::query(&format!("SELECT {COLS} FROM statements WHERE id = $1"))
        .bind(id)
        .fetch_optional(&s.read)
        .await
        .db()?
        .as_ref()
        .map(row)
        .transpose()
}

pub(crate) async fn list(
    s: &SqlStore,
    user: Option<UserId>,
    limit: i64,
) -> StoreResult<Vec<Statement>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM statements WHERE ($1 IS NULL OR user_id = $1) \
         ORDER BY month DESC, id DESC LIMIT $2"
    ))
    .bind(user.map(|u| u.0))
    .bind(limit.clamp(1, 1000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(row).collect()
}
