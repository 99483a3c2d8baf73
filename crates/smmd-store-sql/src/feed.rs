//! The live feed on SQL: the rows committed after a [`FeedCursor`] in `order_events`, `ledger`,
//! `notifications` and `alerts`, and the signal that wakes a reader.
//!
//! **Commit order.** SQLite commits one writer at a time, so row ids are commit order and a
//! source is read by id. On PostgreSQL two transactions can commit out of id order, so each feed
//! row carries the id of its transaction (`tx`, migration `0011_feed_commit_order`) and a source
//! is read in `(tx, id)` order, only up to the *horizon*, from a snapshot taken no later than the
//! rows are read: the oldest transaction of this database still in flight (else the snapshot's
//! `xmax`). Every transaction below it that could write here has ended, so its rows are all
//! visible to the read that follows, and no row can later commit below a position already read
//! past. A row of a transaction at or above the horizon waits (committed or not) and the read
//! reports [`FeedRead::held`]; a transaction of this database that stays open holds the feed back
//! by as long (never loses a row). The horizon is `smmd_feed_horizon()` (migration `0037`, which
//! gives the proof): a long transaction in another database of the same server (another panel,
//! another application) holds back nothing here; hosted children share their root's database
//! and its horizon.
//!
//! **Wake-up.** This store's commits (a watch channel) and, on PostgreSQL, `LISTEN smmd_feed`:
//! the feed tables' triggers `NOTIFY` at commit, so every instance hears every instance.

use async_trait::async_trait;
use smmd_domain::{Money, OrderId, UserId};
use smmd_store::{
    FeedCursor, FeedItem, FeedMessage, FeedPos, FeedRead, FeedSignal, FeedSource, StoreError,
    StoreResult,
};
use sqlx::postgres::PgListener;

use crate::notify::{notification, NOTIFICATION_COLS};
use crate::rows::{self, get};
use crate::{Dialect, Row, SqlResultExt, SqlStore};

/// The PostgreSQL channel the migration's triggers notify when feed rows commit.
pub const FEED_CHANNEL: &str = "smmd_feed";

/// The oldest transaction still in flight on PostgreSQL that can write to this database
/// (every row of an older one is readable now; `smmd_feed_horizon()`, migration `0037`, for
/// why transactions of other databases are left out); on SQLite every committed row is
/// readable, so `i64::MAX`. A statement of its own: its snapshot is taken before the reads
/// that follow it.
pub(crate) async fn horizon(s: &SqlStore) -> StoreResult<i64> {
    match s.dialect {
        Dialect::Sqlite => Ok(i64::MAX),
        Dialect::Postgres => {
            let row = sqlx::query("SELECT smmd_feed_horizon() AS h")
                .fetch_one(&s.read)
                .await
                .db()?;
            get(&row, "h")
        }
    }
}

pub(crate) async fn feed_head(s: &SqlStore) -> StoreResult<FeedCursor> {
    match s.dialect {
        // Every row below the horizon is committed and before the head; every later one after.
        Dialect::Postgres => {
            let at = FeedPos::new(horizon(s).await?, 0);
            Ok(FeedCursor {
                events: at,
                ledger: at,
                notifications: at,
                alerts: at,
            })
        }
        Dialect::Sqlite => {
            let row = sqlx::query(
                "SELECT (SELECT COALESCE(MAX(id), 0) FROM order_events) AS events, \
                 (SELECT COALESCE(MAX(id), 0) FROM ledger) AS ledger, \
                 (SELECT COALESCE(MAX(id), 0) FROM notifications) AS notifications, \
                 (SELECT COALESCE(MAX(id), 0) FROM alerts) AS alerts",
            )
            .fetch_one(&s.read)
            .await
            .db()?;
            let at = |c: &str| get(&row, c).map(|id| FeedPos::new(0, id));
            Ok(FeedCursor {
                events: at("events")?,
                ledger: at("ledger")?,
                notifications: at("notifications")?,
                alerts: at("alerts")?,
            })
        }
    }
}

pub(crate) async fn feed_after(
    s: &SqlStore,
    cursor: FeedCursor,
    limit: i64,
) -> StoreResult<FeedRead> {
    if let Some(horizon) = nothing_after(s, cursor).await? {
        // Every row below the horizon is read: the cursor moves up to it, as after a read
        // that found fewer rows than its limit, so a reader's position keeps up with the head.
        let up = |at: FeedPos| at.max(FeedPos::new(horizon, 0));
        return Ok(FeedRead {
            next: FeedCursor {
                events: up(cursor.events),
                ledger: up(cursor.ledger),
                notifications: up(cursor.notifications),
                alerts: up(cursor.alerts),
            },
            ..FeedRead::default()
        });
    }
    feed_rows(s, cursor, limit, None).await
}

/// When no source holds a row after `cursor` (committed or not yet readable), the horizon of
/// that look (`0` on SQLite, where the cursor is by id alone); `None` when a source does. One
/// statement: the hub's look after a commit that wrote no feed row (most commits of an idle
/// hosted child: its jobs' bookkeeping) or after a poll that finds nothing costs this instead
/// of the horizon and four reads. On PostgreSQL the horizon and the four looks share the
/// statement's snapshot, so every transaction below it has ended and shows no row after the
/// cursor: the cursor may move up to it (a row committing later is at or above it).
/// `smmd_feed_horizon()` is STABLE, so it reads the statement's snapshot too.
async fn nothing_after(s: &SqlStore, c: FeedCursor) -> StoreResult<Option<i64>> {
    let sql = nothing_after_sql(s.dialect);
    let mut q = sqlx::query(&sql);
    for at in [c.events, c.ledger, c.notifications, c.alerts] {
        q = match s.dialect {
            Dialect::Postgres => q.bind(at.tx).bind(at.id),
            Dialect::Sqlite => q.bind(at.id),
        };
    }
    let row = q.fetch_one(&s.read).await.db()?;
    if get::<i64>(&row, "any_new")? != 0 {
        return Ok(None);
    }
    Ok(Some(get(&row, "h")?))
}

/// [`nothing_after`]'s statement. Parameters: the cursor's four positions in source order
/// (`tx, id` pairs on PostgreSQL, ids on SQLite). On PostgreSQL each look is the first row
/// after the position in feed order (`ORDER BY tx, id LIMIT 1`), which only the `(tx, id)`
/// index answers well: a bare `EXISTS (… WHERE (tx, id) > …)` is planned, once the statement's
/// plan is generic, as a sequential scan that reads the whole table whenever nothing is new,
/// which is every look of an idle panel.
fn nothing_after_sql(d: Dialect) -> String {
    let after = |table: &str, n: usize| {
        match d {
        Dialect::Postgres => format!(
            "(SELECT 1 FROM {table} WHERE (tx, id) > (${}, ${}) ORDER BY tx, id LIMIT 1) IS NOT NULL",
            2 * n + 1,
            2 * n + 2
        ),
        Dialect::Sqlite => format!("EXISTS (SELECT 1 FROM {table} WHERE id > ${})", n + 1),
    }
    };
    let horizon = match d {
        Dialect::Postgres => "smmd_feed_horizon()",
        Dialect::Sqlite => "CAST(0 AS BIGINT)",
    };
    format!(
        "SELECT CAST(CASE WHEN {} OR {} OR {} OR {} THEN 1 ELSE 0 END AS BIGINT) AS any_new, \
         {horizon} AS h",
        after("order_events", 0),
        after("ledger", 1),
        after("notifications", 2),
        after("alerts", 3)
    )
}

/// One user's rows after `cursor` (and the alerts when `admin`): a socket's replay, read by
/// the `(user_id, tx, id)` indexes.
pub(crate) async fn feed_of_user_after(
    s: &SqlStore,
    user: UserId,
    admin: bool,
    cursor: FeedCursor,
    limit: i64,
) -> StoreResult<Vec<FeedItem>> {
    Ok(feed_rows(s, cursor, limit, Some((user, admin)))
        .await?
        .items)
}

/// One source's read after a position, in the dialect's feed order (`a` is the source table's
/// alias; `user_col` filters one user's rows).
///
/// - PostgreSQL: the rows readable below the horizon, up to the limit, and at most one row at or
///   above it (to know whether rows are held back), so a long-held horizon costs one extra row,
///   not a batch of rows read and dropped on every poll. Parameters: `$1, $2` the position (tx,
///   id), `$3` the limit, `$4` the horizon, `$5` the user.
/// - SQLite: rows by id. Parameters: `$1` the id, `$2` the limit, `$3` the user.
pub(crate) fn source_sql(
    d: Dialect,
    cols: &str,
    from: &str,
    a: &str,
    user_col: Option<&str>,
) -> String {
    match d {
        Dialect::Postgres => {
            let only = user_col.map_or(String::new(), |c| format!(" AND {c} = $5"));
            let part = |cmp: &str, limit: &str| {
                format!(
                    "(SELECT {cols}, {a}.tx AS feed_tx FROM {from} \
                     WHERE ({a}.tx, {a}.id) > ($1, $2) AND {a}.tx {cmp} $4{only} \
                     ORDER BY {a}.tx, {a}.id LIMIT {limit})"
                )
            };
            format!(
                "SELECT * FROM ({} UNION ALL {}) f ORDER BY f.feed_tx, f.id",
                part("<", "$3"),
                part(">=", "1")
            )
        }
        Dialect::Sqlite => {
            let only = user_col.map_or(String::new(), |c| format!(" AND {c} = $3"));
            format!(
                "SELECT {cols}, 0 AS feed_tx FROM {from} WHERE {a}.id > $1{only} \
                 ORDER BY {a}.id LIMIT $2"
            )
        }
    }
}

/// Reads one source after `at` ([`source_sql`]) and turns each row readable below `horizon`
/// into an item. Returns the items, the position after them, and whether a committed row is
/// held back.
pub(crate) async fn read_source<T>(
    s: &SqlStore,
    sql: &str,
    at: FeedPos,
    limit: i64,
    user: Option<UserId>,
    horizon: i64,
    item: impl Fn(&Row, FeedPos) -> StoreResult<T>,
) -> StoreResult<(Vec<T>, FeedPos, bool)> {
    let q = sqlx::query(sql);
    let q = match s.dialect {
        Dialect::Postgres => q.bind(at.tx).bind(at.id).bind(limit).bind(horizon),
        Dialect::Sqlite => q.bind(at.id).bind(limit),
    };
    let q = match user {
        Some(u) => q.bind(u.0),
        None => q,
    };
    let rows = q.fetch_all(&s.read).await.db()?;
    let mut items = Vec::with_capacity(rows.len());
    let mut next = at;
    let mut held = false;
    for row in &rows {
        let pos = FeedPos::new(get(row, "feed_tx")?, get(row, "id")?);
        if pos.tx >= horizon {
            // Feed order is by tx: every row after this one is held back as well.
            held = true;
            break;
        }
        items.push(item(row, pos)?);
        next = pos;
    }
    // Fewer readable rows than asked for: every row below the horizon is read, so the cursor
    // moves up to the horizon, where `feed_head` starts a new reader.
    if (items.len() as i64) < limit && horizon != i64::MAX {
        next = next.max(FeedPos::new(horizon, 0));
    }
    Ok((items, next, held))
}

/// How an order event changed its user's count of active orders: `placed` adds one; a status
/// event leaving the active statuses (its previous placed/status event's status not terminal,
/// its own terminal) takes one; anything else (refills, cancel requests, terminal to terminal
/// such as an admin's Completed → Partial) none.
fn active_change(event: &str, status: &str, prev: Option<&str>) -> i64 {
    let active =
        |s: &str| smmd_domain::order::OrderStatus::parse(s).is_some_and(|s| !s.is_terminal());
    match (event, prev) {
        ("placed", _) => 1,
        ("status", Some(p)) => i64::from(active(status)) - i64::from(active(p)),
        _ => 0,
    }
}

/// The feed read's four statements ([`source_sql`]), in source order: order events, ledger,
/// notifications, alerts; `per_user`: filtered to one user (`$5` on PostgreSQL, `$3` on SQLite;
/// alerts are never filtered).
fn source_statements(d: Dialect, per_user: bool) -> [String; 4] {
    let by = |column: &'static str| per_user.then_some(column);
    let prefixed = |cols: &str, a: &str| {
        cols.split(", ")
            .map(|c| format!("{a}.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    [
        source_sql(
            d,
            "e.id, e.user_id, e.order_id, e.kind, e.status, e.amount, e.detail, e.created_at, \
             o.reference, o.remains, o.start_count, o.refunded, \
             (SELECT p.status FROM order_events p WHERE p.order_id = e.order_id AND p.id < e.id \
              AND p.kind IN ('placed', 'status') ORDER BY p.id DESC LIMIT 1) AS prev_status",
            "order_events e LEFT JOIN orders o ON o.id = e.order_id",
            "e",
            by("e.user_id"),
        ),
        source_sql(
            d,
            "l.id, l.user_id, l.amount, l.balance_after, l.created_at",
            "ledger l",
            "l",
            by("l.user_id"),
        ),
        source_sql(
            d,
            &prefixed(NOTIFICATION_COLS, "n"),
            "notifications n",
            "n",
            by("n.user_id"),
        ),
        source_sql(d, &prefixed(rows::ALERT_COLS, "a"), "alerts a", "a", None),
    ]
}

/// The feed read: every user's rows, or only `whose` user's (and alerts if they are an admin).
async fn feed_rows(
    s: &SqlStore,
    cursor: FeedCursor,
    limit: i64,
    whose: Option<(UserId, bool)>,
) -> StoreResult<FeedRead> {
    // The horizon first: every transaction below it ended before the reads' snapshots.
    let horizon = horizon(s).await?;
    let user = whose.map(|(u, _)| u);
    let [events_sql, ledger_sql, notifications_sql, alerts_sql] =
        source_statements(s.dialect, whose.is_some());
    let mut read = FeedRead {
        next: cursor,
        ..FeedRead::default()
    };
    let mut take = |source: FeedSource, (items, next, held): (Vec<FeedItem>, FeedPos, bool)| {
        read.items.extend(items);
        *read.next.of_mut(source) = next;
        read.held |= held;
    };

    let events = read_source(
        s,
        &events_sql,
        cursor.events,
        limit,
        user,
        horizon,
        |row, pos| {
            let at = get(row, "created_at")?;
            Ok(FeedItem {
                user_id: Some(UserId(get(row, "user_id")?)),
                at,
                source: FeedSource::Events,
                pos,
                message: {
                    let event: String = get(row, "kind")?;
                    let status: String = get(row, "status")?;
                    let prev: Option<String> = get(row, "prev_status")?;
                    let active = active_change(&event, &status, prev.as_deref());
                    let money = |m: Option<i64>| m.map(|m| Money::from_micros(m).to_string());
                    FeedMessage::Order {
                        order_id: OrderId(get(row, "order_id")?),
                        reference: get::<Option<String>>(row, "reference")?.unwrap_or_default(),
                        event,
                        status,
                        remains: get(row, "remains")?,
                        start_count: get(row, "start_count")?,
                        refunded: money(get(row, "refunded")?),
                        amount: money(get(row, "amount")?),
                        detail: get(row, "detail")?,
                        active,
                        at,
                    }
                },
            })
        },
    )
    .await?;
    take(FeedSource::Events, events);

    let ledger = read_source(
        s,
        &ledger_sql,
        cursor.ledger,
        limit,
        user,
        horizon,
        |row, pos| {
            let at = get(row, "created_at")?;
            Ok(FeedItem {
                user_id: Some(UserId(get(row, "user_id")?)),
                at,
                source: FeedSource::Ledger,
                pos,
                message: FeedMessage::Balance {
                    balance: Money::from_micros(get(row, "balance_after")?).to_string(),
                    amount: Money::from_micros(get(row, "amount")?).to_string(),
                    at,
                },
            })
        },
    )
    .await?;
    take(FeedSource::Ledger, ledger);

    let notifications = read_source(
        s,
        &notifications_sql,
        cursor.notifications,
        limit,
        user,
        horizon,
        |row, pos| {
            let n = notification(row)?;
            Ok(FeedItem {
                user_id: Some(n.user_id),
                at: n.created_at,
                source: FeedSource::Notifications,
                pos,
                message: FeedMessage::Notification {
                    id: n.id,
                    kind: n.kind,
                    title: n.title,
                    body: n.body,
                    order_id: n.order_id,
                    at: n.created_at,
                },
            })
        },
    )
    .await?;
    take(FeedSource::Notifications, notifications);

    // Alerts are every admin's: read for the hub and for an admin's replay, never per user.
    if let None | Some((_, true)) = whose {
        let alerts = read_source(
            s,
            &alerts_sql,
            cursor.alerts,
            limit,
            None,
            horizon,
            |row, pos| {
                let a = rows::alert(row)?;
                Ok(FeedItem {
                    user_id: None,
                    at: a.created_at,
                    source: FeedSource::Alerts,
                    pos,
                    message: FeedMessage::Alert {
                        id: a.id,
                        kind: a.kind,
                        subject: a.subject,
                        message: a.message,
                        at: a.created_at,
                    },
                })
            },
        )
        .await?;
        take(FeedSource::Alerts, alerts);
    }
    Ok(read)
}

/// `after < position <= to` of alias `a` in the dialect's feed order, its parameters from
/// `$first` on (bind them with [`bind_range`]).
pub(crate) fn range_sql(d: Dialect, a: &str, first: usize) -> String {
    match d {
        Dialect::Postgres => format!(
            "({a}.tx, {a}.id) > (${}, ${}) AND ({a}.tx, {a}.id) <= (${}, ${})",
            first,
            first + 1,
            first + 2,
            first + 3
        ),
        Dialect::Sqlite => format!("{a}.id > ${} AND {a}.id <= ${}", first, first + 1),
    }
}

/// Binds the bounds of a [`range_sql`].
pub(crate) fn bind_range<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    d: Dialect,
    after: FeedPos,
    to: FeedPos,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    match d {
        Dialect::Postgres => q.bind(after.tx).bind(after.id).bind(to.tx).bind(to.id),
        Dialect::Sqlite => q.bind(after.id).bind(to.id),
    }
}

/// The feed order of alias `a` in the dialect.
pub(crate) fn order_sql(d: Dialect, a: &str) -> String {
    match d {
        Dialect::Postgres => format!("{a}.tx, {a}.id"),
        Dialect::Sqlite => format!("{a}.id"),
    }
}

/// This instance's commits, and on PostgreSQL every instance's feed commits.
struct Signal {
    local: tokio::sync::watch::Receiver<u64>,
    listener: Option<PgListener>,
}

#[async_trait]
impl FeedSignal for Signal {
    async fn changed(&mut self) -> StoreResult<()> {
        let local = &mut self.local;
        match &mut self.listener {
            None => local
                .changed()
                .await
                .map_err(|_| StoreError::Other(anyhow::anyhow!("the store was closed"))),
            Some(listener) => tokio::select! {
                r = local.changed() => {
                    r.map_err(|_| StoreError::Other(anyhow::anyhow!("the store was closed")))
                }
                r = listener.recv() => r.map(|_| ()).db(),
            },
        }
    }
}

pub(crate) async fn feed_signal(s: &SqlStore) -> StoreResult<Box<dyn FeedSignal>> {
    let listener = match (&s.dialect, &s.listen_url) {
        (Dialect::Postgres, Some(url)) => {
            let mut l = PgListener::connect(url).await.db()?;
            l.listen(FEED_CHANNEL).await.db()?;
            Some(l)
        }
        _ => None,
    };
    let mut local = s.committed.subscribe();
    local.mark_unchanged();
    Ok(Box::new(Signal { local, listener }))
}

/// The [`FeedStore`](smmd_store::FeedStore) section on SQL: each method is one of the
/// functions above.
mod section {
    use smmd_domain::UserId;
    use smmd_store::*;

    use crate::SqlStore;

    #[async_trait::async_trait]
    impl FeedStore for SqlStore {
        async fn feed_head(&self) -> StoreResult<FeedCursor> {
            crate::feed::feed_head(self).await
        }

        async fn feed_after(&self, cursor: FeedCursor, limit: i64) -> StoreResult<FeedRead> {
            crate::feed::feed_after(self, cursor, limit).await
        }

        async fn feed_of_user_after(
            &self,
            user: UserId,
            admin: bool,
            cursor: FeedCursor,
            limit: i64,
        ) -> StoreResult<Vec<FeedItem>> {
            crate::feed::feed_of_user_after(self, user, admin, cursor, limit).await
        }

        async fn feed_signal(&self) -> StoreResult<Box<dyn FeedSignal>> {
            crate::feed::feed_signal(self).await
        }
    }
}

/// How PostgreSQL plans the live feed's statements.
#[cfg(test)]
mod plans {
    use sqlx::{Executor, Row};

    use super::{nothing_after_sql, source_statements, Dialect};
    use crate::testing::{fresh, Backend};

    /// Every statement of a feed look (the one-statement look, then the four source reads, for
    /// the hub and for one user's replay), planned the way PostgreSQL plans a prepared statement
    /// from its sixth run on (a generic plan, the parameters unknown), reads the sources by
    /// index. A sequential scan there reads the whole table on every look: on the root of a
    /// panel with a year of orders, several times a second.
    #[tokio::test]
    async fn the_feed_reads_its_sources_by_index_under_a_generic_plan() {
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        let mut statements = vec![(
            "nothing_after".to_string(),
            nothing_after_sql(Dialect::Postgres),
        )];
        for per_user in [false, true] {
            for (source, sql) in ["events", "ledger", "notifications", "alerts"]
                .iter()
                .zip(source_statements(Dialect::Postgres, per_user))
            {
                statements.push((format!("{source} (per user: {per_user})"), sql));
            }
        }
        let mut conn = db.store.read.acquire().await.expect("connection");
        conn.execute("SET plan_cache_mode = force_generic_plan")
            .await
            .expect("generic plans");
        for (i, (name, sql)) in statements.iter().enumerate() {
            let params = (1..=9)
                .filter(|n| sql.contains(&format!("${n}")))
                .max()
                .unwrap_or(0);
            let types = vec!["bigint"; params].join(", ");
            let values = vec!["1"; params].join(", ");
            conn.execute(sqlx::raw_sql(&format!(
                "PREPARE feed_{i} ({types}) AS {sql}"
            )))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e}"));
            let plan: Vec<String> = sqlx::raw_sql(&format!("EXPLAIN EXECUTE feed_{i} ({values})"))
                .fetch_all(&mut *conn)
                .await
                .unwrap_or_else(|e| panic!("{name}: {e}"))
                .iter()
                .map(|r| r.try_get::<String, _>(0).expect("plan line"))
                .collect();
            let plan = plan.join("\n");
            for table in ["order_events", "ledger", "notifications", "alerts"] {
                assert!(
                    !plan.contains(&format!("Seq Scan on {table}")),
                    "{name} scans {table} whole:\n{plan}"
                );
            }
        }
    }
}
