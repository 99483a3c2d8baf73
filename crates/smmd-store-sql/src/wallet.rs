//! The wallet: [`post`] is the only code that changes a balance. It moves the cached balance with
//! a conditional update (`balance + amount >= 0`) and appends the ledger row in the caller's
//! transaction; the ledger's unique `idem_key` makes every posting happen at most once.

use smmd_domain::{Money, OrderId, UserId};
use smmd_store::{
    BalanceChange, BalanceError, LedgerEntry, LedgerKind, LedgerMismatch, StoreError, StoreResult,
};
use sqlx::{Any, Row as _, Transaction};

use crate::rows::{self, LEDGER_COLS};
use crate::{Dialect, SqlResultExt, SqlStore};

/// The statement of [`SQLITE_DEBIT`] and [`SQLITE_MOVE_BALANCE`], written once.
macro_rules! sqlite_move_balance {
    () => {
        "UPDATE users SET balance = balance + $1 WHERE id = $2 \
         AND balance + $1 >= 0 AND balance + $1 <= 1000000000000000000"
    };
}

/// SQLite's conditional balance move: `$1` micro-units onto user `$2`, only if the balance
/// stays within `0..=`[`Money::MAX_AMOUNT`]; returns the new balance, or no row when refused.
/// (PostgreSQL does the same inside one statement with the ledger insert.)
pub(crate) const SQLITE_MOVE_BALANCE: &str = concat!(sqlite_move_balance!(), " RETURNING balance");

/// [`SQLITE_MOVE_BALANCE`] without its `RETURNING` (the group commit's debit, which reads the
/// balance back itself): one row changed when moved, none when refused.
pub(crate) const SQLITE_DEBIT: &str = sqlite_move_balance!();

/// A ledger row: user, amount, balance after (micro-units), key, kind, reason, order, actor,
/// time (epoch ms), `$1`…`$9`.
pub(crate) const INSERT_LEDGER: &str = "INSERT INTO ledger (user_id, amount, balance_after, idem_key, kind, reason, order_id, actor_id, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// One balance movement inside a transaction.
pub(crate) struct Posting<'a> {
    pub user_id: UserId,
    pub amount: Money,
    pub kind: LedgerKind,
    pub key: &'a str,
    pub reason: &'a str,
    pub order_id: Option<OrderId>,
    pub actor_id: Option<UserId>,
    pub now: i64,
}

/// Applies a posting in `tx`: conditional balance update, then the ledger row.
/// `InsufficientFunds` if a debit would go below zero, `AboveLimit` if a credit would take the
/// balance past [`Money::MAX_AMOUNT`]; `Store(Conflict("ledger.key"))` if the key
/// was used (the caller's transaction must then be rolled back).
pub(crate) async fn post(
    tx: &mut Transaction<'static, Any>,
    dialect: Dialect,
    p: Posting<'_>,
) -> Result<LedgerEntry, BalanceError> {
    if p.amount == Money::ZERO {
        return Err(BalanceError::ZeroAmount);
    }
    // Bounded amounts and balances: `balance + amount` below can never overflow.
    let max = Money::MAX_AMOUNT;
    if p.amount
        .micros()
        .checked_abs()
        .is_none_or(|a| a > max.micros())
    {
        return Err(BalanceError::AboveLimit { max });
    }
    let max_micros = max.micros();
    let entry = match dialect {
        // One round trip: the conditional debit feeds the ledger insert, so the user's row lock
        // is held only for this statement and the commit.
        Dialect::Postgres => {
            sqlx::query(&format!(
                "WITH u AS (UPDATE users SET balance = balance + $2 WHERE id = $1 AND balance + $2 >= 0 \
                 AND balance + $2 <= {max_micros} RETURNING balance) \
                 INSERT INTO ledger (user_id, amount, balance_after, idem_key, kind, reason, order_id, actor_id, created_at) \
                 SELECT $1, $2, u.balance, $3, $4, $5, $6, $7, $8 FROM u RETURNING {LEDGER_COLS}"
            ))
            .bind(p.user_id.0)
            .bind(p.amount.micros())
            .bind(p.key)
            .bind(p.kind.as_str())
            .bind(p.reason)
            .bind(p.order_id.map(|o| o.0))
            .bind(p.actor_id.map(|a| a.0))
            .bind(p.now)
            .fetch_optional(&mut **tx)
            .await
            .db()?
        }
        // SQLite has no data-modifying CTEs; the write lock is held by BEGIN IMMEDIATE anyway.
        Dialect::Sqlite => {
            let row = sqlx::query(SQLITE_MOVE_BALANCE)
                .bind(p.amount.micros())
                .bind(p.user_id.0)
                .fetch_optional(&mut **tx)
                .await
                .db()?;
            match row {
                None => None,
                Some(row) => {
                    let balance_after: i64 = row.try_get(0).db()?;
                    Some(
                        sqlx::query(&format!("{INSERT_LEDGER} RETURNING {LEDGER_COLS}"))
                        .bind(p.user_id.0)
                        .bind(p.amount.micros())
                        .bind(balance_after)
                        .bind(p.key)
                        .bind(p.kind.as_str())
                        .bind(p.reason)
                        .bind(p.order_id.map(|o| o.0))
                        .bind(p.actor_id.map(|a| a.0))
                        .bind(p.now)
                        .fetch_one(&mut **tx)
                        .await
                        .db()?,
                    )
                }
            }
        }
    };
    match entry {
        Some(row) => Ok(rows::ledger(&row)?),
        None => {
            // No row: the change was refused (below zero or above the maximum), or the user
            // does not exist.
            let balance = sqlx::query("SELECT balance FROM users WHERE id = $1")
                .bind(p.user_id.0)
                .fetch_optional(&mut **tx)
                .await
                .db()?;
            Err(match balance {
                None => BalanceError::UnknownUser,
                Some(_) if p.amount.is_positive() => BalanceError::AboveLimit { max },
                Some(_) => BalanceError::InsufficientFunds,
            })
        }
    }
}

async fn entry_by_key(s: &SqlStore, key: &str) -> StoreResult<Option<LedgerEntry>> {
    let row = sqlx::query(&format!(
        "SELECT {LEDGER_COLS} FROM ledger WHERE idem_key = $1"
    ))
    .bind(key)
    .fetch_optional(&s.write)
    .await
    .db()?;
    row.as_ref().map(rows::ledger).transpose()
}

fn same_change(e: &LedgerEntry, c: &BalanceChange) -> Result<LedgerEntry, BalanceError> {
    if e.user_id == c.user_id && e.amount == c.amount && e.kind == c.kind {
        Ok(e.clone())
    } else {
        Err(BalanceError::KeyReused)
    }
}

pub(crate) async fn change_balance(
    s: &SqlStore,
    c: BalanceChange,
) -> Result<LedgerEntry, BalanceError> {
    if c.amount == Money::ZERO {
        return Err(BalanceError::ZeroAmount);
    }
    if let Some(e) = entry_by_key(s, &c.key).await? {
        return same_change(&e, &c);
    }
    let mut tx = s.begin().await?;
    let posted = post(
        &mut tx,
        s.dialect,
        Posting {
            user_id: c.user_id,
            amount: c.amount,
            kind: c.kind,
            key: &c.key,
            reason: &c.reason,
            order_id: None,
            actor_id: c.actor_id,
            now: c.now,
        },
    )
    .await;
    match posted {
        Ok(e) => {
            crate::queries::audit_in(&mut tx, c.audit.as_ref()).await?;
            s.commit(tx).await?;
            Ok(e)
        }
        Err(BalanceError::Store(StoreError::Conflict("ledger.key"))) => {
            drop(tx);
            // A concurrent request with the same key won: answer as a repeat of it.
            match entry_by_key(s, &c.key).await? {
                Some(e) => same_change(&e, &c),
                None => Err(BalanceError::KeyReused),
            }
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn ledger(
    s: &SqlStore,
    user: UserId,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<LedgerEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT {LEDGER_COLS} FROM ledger WHERE user_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3"
    ))
    .bind(user.0)
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, 1000))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::ledger).collect()
}

pub(crate) async fn ledger_mismatches(s: &SqlStore) -> StoreResult<Vec<LedgerMismatch>> {
    let rows = sqlx::query(
        "SELECT u.id, u.balance, CAST(COALESCE(l.total, 0) AS BIGINT) AS total FROM users u \
         LEFT JOIN (SELECT user_id, SUM(amount) AS total FROM ledger GROUP BY user_id) l ON l.user_id = u.id \
         WHERE u.balance <> COALESCE(l.total, 0) ORDER BY u.id",
    )
    .fetch_all(&s.write)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(LedgerMismatch {
                user_id: UserId(r.try_get("id").db()?),
                balance: Money::from_micros(r.try_get("balance").db()?),
                ledger_sum: Money::from_micros(r.try_get("total").db()?),
            })
        })
        .collect()
}

pub(crate) async fn order_ledger(s: &SqlStore, order: OrderId) -> StoreResult<Vec<LedgerEntry>> {
    let rows = sqlx::query(&format!(
        "SELECT {LEDGER_COLS} FROM ledger WHERE order_id = $1 ORDER BY id"
    ))
    .bind(order.0)
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(rows::ledger).collect()
}

/// The [`WalletStore`](smmd_store::WalletStore) section on SQL: each method is one of the functions above.
mod section {

    use smmd_domain::{OrderId, UserId};
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl WalletStore for SqlStore {
        async fn change_balance(&self, change: BalanceChange) -> Result<LedgerEntry, BalanceError> {
            crate::wallet::change_balance(self, change).await
        }

        async fn ledger(
            &self,
            user: UserId,
            before: Option<i64>,
            limit: i64,
        ) -> StoreResult<Vec<LedgerEntry>> {
            crate::wallet::ledger(self, user, before, limit).await
        }

        async fn order_ledger(&self, order: OrderId) -> StoreResult<Vec<LedgerEntry>> {
            crate::wallet::order_ledger(self, order).await
        }

        async fn ledger_mismatches(&self) -> StoreResult<Vec<LedgerMismatch>> {
            crate::wallet::ledger_mismatches(self).await
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sqlite_balance_move_caps_at_the_maximum_amount() {
        let cap = format!("<= {}", smmd_domain::Money::MAX_AMOUNT.micros());
        assert!(super::SQLITE_MOVE_BALANCE.contains(&format!("{cap} RETURNING")));
        assert!(super::SQLITE_DEBIT.ends_with(&cap));
    }
}
