//! Searches for the REST API (orders and refills, live and archived, with dynamic filters), the
//! admin audit log, the archive pass and the backend's upkeep.
//!
//! Archived rows live in `orders_archive` / `refills_archive` with the same columns. A search runs
//! the same filtered, indexed query on both tables and merges the two newest-first pages, so a
//! page costs two index range scans whatever the archive holds.

use smmd_domain::order::OrderStatus;
use smmd_domain::{Money, OrderId, ProviderId, ServiceId, UserId};
use smmd_store::*;
use sqlx::any::AnyArguments;
use sqlx::query::Query;
use sqlx::Any;

use crate::rows::{self, ORDER_COLS, REFILL_COLS};
use crate::{Dialect, Row, SqlResultExt, SqlStore};

/// The live and the archive table of orders, in read order.
pub(crate) const ORDER_TABLES: [&str; 2] = ["orders", "orders_archive"];
/// The live and the archive table of refills.
pub(crate) const REFILL_TABLES: [&str; 2] = ["refills", "refills_archive"];

/// Every column of `orders`, copied as is into `orders_archive`.
const ORDER_ALL_COLS: &str = "id, reference, user_id, service_id, status, link, link_key, quantity, runs, \
     interval_minutes, total_quantity, charge, refunded, start_count, remains, extras, guarantee_days, refill, \
     cancel, cancel_requested, provider_id, provider_service_id, offer_index, provider_order_id, note, \
     provider_charge, hold, route_reason, created_at, updated_at, completed_at, checked_at, cancel_sent_at, request_key";
/// Every column of `refills`.
const REFILL_ALL_COLS: &str =
    "id, order_id, user_id, status, provider_refill_id, created_at, updated_at, \
     submitted_at, checked_at, note";

/// A bind value of a dynamically built query.
pub(crate) enum Arg {
    Int(i64),
    Text(String),
}

/// A `WHERE` clause built filter by filter, with `$N` placeholders numbered as they are added.
#[derive(Default)]
pub(crate) struct Filter {
    conds: Vec<String>,
    args: Vec<Arg>,
}

impl Filter {
    /// Adds `cond`, where `?` stands for the next placeholder.
    pub(crate) fn push(&mut self, cond: &str, arg: Arg) {
        self.args.push(arg);
        let n = self.args.len();
        self.conds.push(cond.replace('?', &format!("${n}")));
    }

    /// Adds a condition that takes no bind value.
    pub(crate) fn raw(&mut self, cond: &str) {
        self.conds.push(cond.to_string());
    }

    pub(crate) fn int(&mut self, cond: &str, v: Option<i64>) {
        if let Some(v) = v {
            self.push(cond, Arg::Int(v));
        }
    }

    pub(crate) fn sql(&self) -> String {
        if self.conds.is_empty() {
            "1 = 1".to_string()
        } else {
            self.conds.join(" AND ")
        }
    }

    pub(crate) fn bind<'q>(
        &'q self,
        mut q: Query<'q, Any, AnyArguments<'q>>,
    ) -> Query<'q, Any, AnyArguments<'q>> {
        for a in &self.args {
            q = match a {
                Arg::Int(v) => q.bind(*v),
                Arg::Text(v) => q.bind(v.as_str()),
            };
        }
        q
    }
}

/// `status IN (…)` of every status that has not reached an outcome, from the domain's
/// [`OrderStatus::is_active`] (the statuses are fixed words, never user input).
fn active_condition() -> String {
    let list: Vec<String> = smmd_domain::order::OrderStatus::ALL
        .into_iter()
        .filter(|s| s.is_active())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    format!("status IN ({})", list.join(", "))
}

/// `pattern` as a case-insensitive `LIKE … ESCAPE '\'` substring pattern.
pub(crate) fn like_pattern(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

/// Runs `select … FROM {table} WHERE {filter} ORDER BY id DESC LIMIT n` on each table and keeps
/// the newest `limit` rows of both.
async fn newest_of_both(
    s: &SqlStore,
    cols: &str,
    tables: [&str; 2],
    f: &Filter,
    limit: i64,
) -> StoreResult<Vec<Row>> {
    let limit = limit.clamp(1, MAX_PAGE);
    let mut out: Vec<(i64, Row)> = Vec::new();
    for table in tables {
        let sql = format!(
            "SELECT {cols} FROM {table} WHERE {} ORDER BY id DESC LIMIT {limit}",
            f.sql()
        );
        for row in f.bind(sqlx::query(&sql)).fetch_all(&s.read).await.db()? {
            out.push((rows::get(&row, "id")?, row));
        }
    }
    out.sort_by_key(|(id, _)| std::cmp::Reverse(*id));
    out.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(out.into_iter().map(|(_, r)| r).collect())
}

pub(crate) async fn search_orders(s: &SqlStore, q: &OrderQuery) -> StoreResult<Vec<Order>> {
    let mut f = Filter::default();
    f.int("user_id = ?", q.user.map(|u| u.0));
    if let Some(status) = q.status {
        f.push("status = ?", Arg::Text(status.as_str().to_string()));
    }
    if q.active {
        f.raw(&active_condition());
    }
    f.int("service_id = ?", q.service.map(|v| v.0));
    f.int("provider_id = ?", q.provider.map(|v| v.0));
    if let Some(link) = q.link.as_deref().filter(|l| !l.is_empty()) {
        f.push(
            "lower(link) LIKE ? ESCAPE '\\'",
            Arg::Text(like_pattern(link)),
        );
    }
    f.int("created_at >= ?", q.created_from);
    f.int("created_at < ?", q.created_to);
    f.int("id < ?", q.before.map(|b| b.0));
    let rows = newest_of_both(s, ORDER_COLS, ORDER_TABLES, &f, q.limit).await?;
    rows.iter().map(rows::order).collect()
}

pub(crate) async fn search_refills(s: &SqlStore, q: &RefillQuery) -> StoreResult<Vec<Refill>> {
    let mut f = Filter::default();
    f.int("user_id = ?", q.user.map(|u| u.0));
    f.int("order_id = ?", q.order.map(|o| o.0));
    f.int("id < ?", q.before.map(|b| b.0));
    let rows = newest_of_both(s, REFILL_COLS, REFILL_TABLES, &f, q.limit).await?;
    rows.iter().map(rows::refill).collect()
}

/// The first row matching `f` in the live, then the archive table.
pub(crate) async fn first_of_both(
    s: &SqlStore,
    cols: &str,
    tables: [&str; 2],
    f: &Filter,
) -> StoreResult<Option<Row>> {
    for table in tables {
        let sql = format!("SELECT {cols} FROM {table} WHERE {}", f.sql());
        if let Some(row) = f
            .bind(sqlx::query(&sql))
            .fetch_optional(&s.read)
            .await
            .db()?
        {
            return Ok(Some(row));
        }
    }
    Ok(None)
}

pub(crate) async fn order_by_reference(
    s: &SqlStore,
    reference: &str,
) -> StoreResult<Option<Order>> {
    let mut f = Filter::default();
    f.push("reference = ?", Arg::Text(reference.to_string()));
    let row = first_of_both(s, ORDER_COLS, ORDER_TABLES, &f).await?;
    row.as_ref().map(rows::order).transpose()
}

pub(crate) async fn order_by_request_key(
    s: &SqlStore,
    user: UserId,
    key: &str,
) -> StoreResult<Option<Order>> {
    let row = sqlx::query(&format!(
        "SELECT {ORDER_COLS} FROM orders WHERE user_id = $1 AND request_key = $2"
    ))
    .bind(user.0)
    .bind(key)
    .fetch_optional(&s.read)
    .await
    .db()?;
    row.as_ref().map(rows::order).transpose()
}

/// Whether order `id` is archived, and whose it is (read in the caller's transaction: a
/// hosted child's single connection is the one it holds).
pub(crate) async fn archived_owner(
    conn: &mut sqlx::AnyConnection,
    id: OrderId,
) -> StoreResult<Option<UserId>> {
    let row = sqlx::query("SELECT user_id FROM orders_archive WHERE id = $1")
        .bind(id.0)
        .fetch_optional(conn)
        .await
        .db()?;
    row.map(|r| rows::get(&r, "user_id").map(UserId))
        .transpose()
}

pub(crate) async fn archive_orders(
    s: &SqlStore,
    ended_before: i64,
    now: i64,
    batch: i64,
) -> StoreResult<Archived> {
    let mut tx = s.begin().await?;
    let lock = match s.dialect {
        Dialect::Sqlite => "",
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    let picked = sqlx::query(&format!(
        "SELECT id FROM orders o WHERE status IN ('completed', 'partial', 'canceled') \
         AND COALESCE(completed_at, updated_at) < $1 \
         AND COALESCE(completed_at, updated_at) + guarantee_days * 86400000 < $2 \
         AND NOT EXISTS (SELECT 1 FROM refills r WHERE r.order_id = o.id AND r.status IN ('pending', 'in_progress')) \
         ORDER BY id LIMIT $3{lock}"
    ))
    .bind(ended_before)
    .bind(now)
    .bind(batch.max(1))
    .fetch_all(&mut *tx)
    .await
    .db()?;
    if picked.is_empty() {
        return Ok(Archived::default());
    }
    let ids = picked
        .iter()
        .map(|r| rows::get::<i64>(r, "id"))
        .collect::<StoreResult<Vec<_>>>()?;
    let list = s.dialect.id_list(ids.iter().copied());
    let in_orders = s.dialect.id_in("id", 1);
    let in_refills = s.dialect.id_in("order_id", 1);
    for sql in [
        format!("INSERT INTO orders_archive ({ORDER_ALL_COLS}) SELECT {ORDER_ALL_COLS} FROM orders WHERE {in_orders}"),
        format!("INSERT INTO refills_archive ({REFILL_ALL_COLS}) SELECT {REFILL_ALL_COLS} FROM refills WHERE {in_refills}"),
    ] {
        sqlx::query(&sql).bind(&list).execute(&mut *tx).await.db()?;
    }
    let refills = sqlx::query(&format!("DELETE FROM refills WHERE {in_refills}"))
        .bind(&list)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
    let orders = sqlx::query(&format!("DELETE FROM orders WHERE {in_orders}"))
        .bind(&list)
        .execute(&mut *tx)
        .await
        .db()?
        .rows_affected();
    s.commit(tx).await?;
    Ok(Archived { orders, refills })
}

pub(crate) async fn upkeep(s: &SqlStore) -> StoreResult<Vec<String>> {
    let statements: &[&str] = match s.dialect {
        Dialect::Sqlite => &["PRAGMA optimize", "PRAGMA incremental_vacuum(2000)"],
        Dialect::Postgres => &[
            "VACUUM (ANALYZE) orders, orders_archive, refills, refills_archive, schedule_runs, sessions",
            "ANALYZE ledger, services, audit_log",
        ],
    };
    let mut done = Vec::new();
    for sql in statements {
        // Simple protocol: VACUUM may not run inside the implicit transaction of a prepared call.
        sqlx::raw_sql(sql).execute(&s.write).await.db()?;
        done.push((*sql).to_string());
    }
    Ok(done)
}

pub(crate) async fn record_audit(s: &SqlStore, e: NewAudit) -> StoreResult<AuditEntry> {
    let row = sqlx::query(
        "INSERT INTO audit_log (actor_id, actor, action, subject, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, actor_id, actor, action, subject, detail, created_at",
    )
    .bind(e.actor_id.map(|u| u.0))
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.subject)
    .bind(&e.detail)
    .bind(e.now)
    .fetch_one(&s.write)
    .await
    .db()?;
    audit(&row)
}

/// Writes `entry` (when there is one) inside `tx`, so the audit line commits with the change it
/// records or not at all.
pub(crate) async fn audit_in(
    tx: &mut sqlx::Transaction<'static, Any>,
    entry: Option<&NewAudit>,
) -> StoreResult<()> {
    let Some(e) = entry else { return Ok(()) };
    sqlx::query(
        "INSERT INTO audit_log (actor_id, actor, action, subject, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(e.actor_id.map(|u| u.0))
    .bind(&e.actor)
    .bind(&e.action)
    .bind(&e.subject)
    .bind(&e.detail)
    .bind(e.now)
    .execute(&mut **tx)
    .await
    .db()?;
    Ok(())
}

pub(crate) async fn audit_log(
    s: &SqlStore,
    before: Option<i64>,
    limit: i64,
) -> StoreResult<Vec<AuditEntry>> {
    let rows = sqlx::query(
        "SELECT id, actor_id, actor, action, subject, detail, created_at FROM audit_log \
         WHERE id < $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(before.unwrap_or(i64::MAX))
    .bind(limit.clamp(1, MAX_PAGE))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter().map(audit).collect()
}

pub(crate) async fn order_stats(s: &SqlStore, since: i64) -> StoreResult<OrderStats> {
    let rows =
        sqlx::query("SELECT status, COUNT(*) AS n FROM orders GROUP BY status ORDER BY status")
            .fetch_all(&s.read)
            .await
            .db()?;
    let mut by_status = Vec::with_capacity(rows.len());
    for row in &rows {
        let status: String = rows::get(row, "status")?;
        let status = OrderStatus::parse(&status)
            .ok_or_else(|| StoreError::Other(anyhow::anyhow!("unknown order status {status:?}")))?;
        by_status.push((status, rows::get(row, "n")?));
    }
    // SUM(bigint) is NUMERIC on PostgreSQL: cast it back so both backends read an i64.
    let totals = sqlx::query(
        "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(charge - refunded), 0) AS BIGINT) AS revenue \
         FROM orders WHERE created_at >= $1",
    )
    .bind(since)
    .fetch_one(&s.read)
    .await
    .db()?;
    let costs = sqlx::query(
        "SELECT provider_id, CAST(SUM(provider_charge) AS BIGINT) AS cost FROM orders \
         WHERE created_at >= $1 AND provider_id IS NOT NULL AND provider_charge IS NOT NULL \
         GROUP BY provider_id ORDER BY provider_id",
    )
    .bind(since)
    .fetch_all(&s.read)
    .await
    .db()?;
    Ok(OrderStats {
        by_status,
        placed: rows::get(&totals, "n")?,
        revenue: Money::from_micros(rows::get(&totals, "revenue")?),
        cost_by_provider: costs
            .iter()
            .map(|r| {
                Ok((
                    ProviderId(rows::get(r, "provider_id")?),
                    Money::from_micros(rows::get(r, "cost")?),
                ))
            })
            .collect::<StoreResult<_>>()?,
    })
}

pub(crate) async fn completion_samples(
    s: &SqlStore,
    service: ServiceId,
    limit: i64,
) -> StoreResult<Vec<CompletionSample>> {
    let rows = sqlx::query(
        "SELECT id, total_quantity, completed_at - created_at AS took FROM orders \
         WHERE service_id = $1 AND status = 'completed' AND completed_at IS NOT NULL \
         ORDER BY completed_at DESC LIMIT $2",
    )
    .bind(service.0)
    .bind(limit.clamp(1, MAX_PAGE))
    .fetch_all(&s.read)
    .await
    .db()?;
    rows.iter()
        .map(|r| {
            Ok(CompletionSample {
                order: OrderId(rows::get(r, "id")?),
                quantity: rows::get(r, "total_quantity")?,
                duration_ms: rows::get(r, "took")?,
            })
        })
        .collect()
}

fn audit(row: &Row) -> StoreResult<AuditEntry> {
    Ok(AuditEntry {
        id: rows::get(row, "id")?,
        actor_id: rows::get::<Option<i64>>(row, "actor_id")?.map(UserId),
        actor: rows::get(row, "actor")?,
        action: rows::get(row, "action")?,
        subject: rows::get(row, "subject")?,
        detail: rows::get(row, "detail")?,
        created_at: rows::get(row, "created_at")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards_and_ignore_case() {
        assert_eq!(like_pattern("Insta"), "%insta%");
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
    }

    #[test]
    fn filters_number_their_placeholders_in_order() {
        let mut f = Filter::default();
        assert_eq!(f.sql(), "1 = 1");
        f.int("user_id = ?", Some(7));
        f.int("service_id = ?", None);
        f.push("status = ?", Arg::Text("queued".into()));
        f.int("id < ?", Some(9));
        assert_eq!(f.sql(), "user_id = $1 AND status = $2 AND id < $3");
        assert_eq!(f.args.len(), 3);
    }
}

/// The [`AdminStore`](smmd_store::AdminStore) section on SQL: each method is one of the functions above.
mod section {

    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl AdminStore for SqlStore {
        async fn archive_orders(
            &self,
            ended_before: i64,
            now: i64,
            batch: i64,
        ) -> StoreResult<Archived> {
            crate::queries::archive_orders(self, ended_before, now, batch).await
        }

        async fn upkeep(&self) -> StoreResult<Vec<String>> {
            crate::queries::upkeep(self).await
        }

        async fn record_audit(&self, entry: NewAudit) -> StoreResult<AuditEntry> {
            crate::queries::record_audit(self, entry).await
        }

        async fn audit_log(&self, before: Option<i64>, limit: i64) -> StoreResult<Vec<AuditEntry>> {
            crate::queries::audit_log(self, before, limit).await
        }
    }
}
