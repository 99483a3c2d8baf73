//! The [`Store`] on SQL databases: SQLite (the embedded default, WAL) and PostgreSQL (several smmd
//! instances), through sqlx's `Any` driver so each use case is written once. Every query uses
//! `$N` placeholders, which both backends accept; the few real differences (transaction start,
//! row locks, identity sequences) live in [`Dialect`]. Each backend has its own migration set
//! (`migrations/sqlite`, `migrations/postgres`) with the same versions and names.
//!
//! SQLite writes go through a one-connection pool and start with `BEGIN IMMEDIATE`, so writers
//! queue instead of failing with `SQLITE_BUSY` (also across processes sharing the file, with
//! `busy_timeout`); reads use a separate pool and never block writers (WAL).

mod accounts;
mod affiliates;
mod alerting;
mod billing;
mod catalog;
mod currencies;
mod direct;
mod events;
mod feed;
mod fulfil;
mod health;
mod margin;
mod notify;
mod orders;
mod panels;
mod payments;
mod payouts;
mod people;
mod pool;
mod queries;
mod rows;
mod schedules;
mod security;
mod site;
mod stuck;
mod tickets;
mod wal;
mod wallet;

pub use feed::FEED_CHANNEL;
pub use orders::group::place_directly;
pub use pool::SharedPool;

#[cfg(feature = "testing")]
pub mod testing;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use pool::Db;
use smmd_store::*;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, Executor, Transaction};

/// The SQL flavour behind a store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The clause that locks the selected row for the rest of the transaction (PostgreSQL);
    /// SQLite's `BEGIN IMMEDIATE` already holds the write lock.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    }

    /// `column` is one of the ids in the text parameter `$param` built by [`Dialect::id_list`].
    /// One parameter instead of one per id keeps a single cached plan for every list length
    /// (PostgreSQL spent ~1 ms planning a 100-placeholder `IN`; the generic plan takes ~0.01 ms).
    pub(crate) fn id_in(self, column: &str, param: usize) -> String {
        match self {
            Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each(${param}))"),
            Dialect::Postgres => {
                format!("{column} = ANY(string_to_array(${param}, ',')::bigint[])")
            }
        }
    }

    /// A row source of the records in the JSON-array text parameter `$param` (objects with the
    /// keys of `cols`, each `(name, "bigint" | "text")`), for set-based writes of many rows in
    /// one statement whose text, and so cached plan, is the same for any number of rows.
    pub(crate) fn json_rows(self, param: usize, cols: &[(&str, &str)]) -> String {
        match self {
            Dialect::Sqlite => {
                let fields = cols
                    .iter()
                    .map(|(name, _)| format!("json_extract(value, '$.{name}') AS {name}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("SELECT {fields} FROM json_each(${param})")
            }
            Dialect::Postgres => {
                let names = cols.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ");
                let typed = cols
                    .iter()
                    .map(|(n, t)| format!("{n} {t}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!(
                    "SELECT {names} FROM jsonb_to_recordset(${param}::text::jsonb) AS j({typed})"
                )
            }
        }
    }

    /// The parameter text for [`Dialect::id_in`]: a JSON array (SQLite) or a comma list.
    pub(crate) fn id_list(self, ids: impl Iterator<Item = i64>) -> String {
        let joined = ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        match self {
            Dialect::Sqlite => format!("[{joined}]"),
            Dialect::Postgres => joined,
        }
    }
}

/// Settings of every PostgreSQL connection. Generic plans: every query here is an index
/// lookup, and custom plans re-planned a 100-id status list on each call (~1 ms) once short
/// lists had made them look cheap. A process paused or stuck inside a transaction (SIGSTOP, a
/// hung host) loses it after 10 s: its row locks are released for the other instances and its
/// late commit fails (fencing).
pub(crate) const PG_SESSION: &str =
    "SET plan_cache_mode = force_generic_plan; SET idle_in_transaction_session_timeout = '10s'";

/// How to open a store.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Most pooled connections (readers on SQLite; all on PostgreSQL); `None` = [`default_pool_size`].
    pub max_connections: Option<u32>,
    /// Run pending migrations on connect.
    pub migrate: bool,
    /// PostgreSQL only: the schema this store lives in (a child panel's, `panel_7`), created
    /// when missing; every connection sets `search_path` to it alone. `None`: the
    /// connection's default (`public`). Its name is letters, digits and `_` only.
    pub schema: Option<String>,
    /// Pooled connections idle this long are closed, down to none (a child panel that nobody
    /// uses holds no connection and no file); `None`: sqlx's default (10 minutes).
    pub idle_timeout: Option<Duration>,
    /// PostgreSQL with `schema` only: take connections from this pool the schemas of a
    /// deployment's children share, pointing each at `schema` first, instead of a pool of
    /// this store's own (`max_connections` and `idle_timeout` are then the shared pool's).
    pub shared: Option<SharedPool>,
    /// SQLite only: one connection serves reads and writes, with 512 KB of page cache: a
    /// hosted child's file, holding 3 open files (database, WAL, shared
    /// memory) instead of one set per reader. Every store operation works on it (the
    /// conformance suite runs so), reads simply wait for a write in progress.
    pub single: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: None,
            migrate: true,
            schema: None,
            idle_timeout: None,
            shared: None,
            single: false,
        }
    }
}

/// Pool size when none is configured: twice the CPU cores, at least 4. More connections than
/// the cores can serve only add contention: on 2 cores a 16-connection PostgreSQL pool placed
/// ~500 orders/s for one reseller with p99 > 100 ms, a 4-connection pool ~1,400/s with p99 28 ms
/// (`smmd-bench`, see the README).
pub fn default_pool_size() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    u32::try_from(cores * 2).unwrap_or(u32::MAX).max(4)
}

/// A store on SQLite or PostgreSQL, chosen by the URL scheme.
#[derive(Clone, Debug)]
pub struct SqlStore {
    pub(crate) read: Db,
    pub(crate) write: Db,
    pub(crate) dialect: Dialect,
    /// Poked after every commit of this store, so the live feed reads new rows at once (the
    /// one-instance wake-up; other instances hear PostgreSQL `NOTIFY`, see [`FEED_CHANNEL`]).
    pub(crate) committed: tokio::sync::watch::Sender<u64>,
    /// The PostgreSQL URL a feed listener connects to (`None` on SQLite).
    pub(crate) listen_url: Option<String>,
    /// The hourly run's set-based path is off (see [`SqlStore::set_billing_fast_path`]);
    /// shared by clones.
    pub(crate) billing_engine_only: std::sync::Arc<std::sync::atomic::AtomicBool>,
    /// The SQLite file of a store with a writer of its own (`None`: PostgreSQL, or a
    /// single-connection store such as a hosted child's): where [`orders::group`] writes.
    pub(crate) sqlite_file: Option<std::sync::Arc<str>>,
    /// The direct readers of [`direct`] (same stores as `sqlite_file`).
    pub(crate) direct: Option<std::sync::Arc<direct::Direct>>,
    /// PostgreSQL: orders are placed in batches ([`orders::group_pg`]); off for a hosted child's
    /// schema (its orders come one at a time, and hundreds of children need no writer task each).
    pub(crate) pg_batches: bool,
    /// The order writer of [`orders::group`] (SQLite) or [`orders::group_pg`] (PostgreSQL),
    /// started by the first placement; shared by clones.
    pub(crate) placer: std::sync::Arc<std::sync::OnceLock<Option<orders::group::Placer>>>,
    /// PostgreSQL: the coalesced placement reads of [`orders::context`] (with `pg_batches`),
    /// started by the first placement; shared by clones.
    pub(crate) contexts: std::sync::Arc<std::sync::OnceLock<orders::context::ContextReader>>,
    /// Keeps the WAL checkpointer of [`wal`] running while any clone lives (the stores of
    /// `sqlite_file`; `None` for the others, whose writer checkpoints in its commits).
    pub(crate) _wal: Option<std::sync::Arc<wal::Checkpointer>>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl SqlStore {
    /// Turns the hourly run's set-based path on (the default) or off. Off, every user is
    /// billed by the per-rental engine: the reference the tests compare the set-based path
    /// with, and a way back should it ever misbehave. Both write the same rows and ledger.
    pub fn set_billing_fast_path(&self, on: bool) {
        self.billing_engine_only
            .store(!on, std::sync::atomic::Ordering::Relaxed);
    }

    /// Opens the database at `url`: `sqlite://PATH` (file created if missing, parent folder too)
    /// or `postgres://…` / `postgresql://…`. Any other scheme is an error. Runs migrations when
    /// `options.migrate`.
    pub async fn connect(url: &str, options: ConnectOptions) -> anyhow::Result<SqlStore> {
        sqlx::any::install_default_drivers();
        let dialect = if url.starts_with("sqlite:") {
            Dialect::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Dialect::Postgres
        } else {
            anyhow::bail!(
                "unsupported database URL scheme in `{}`: use sqlite:// or postgres://",
                redact(url)
            );
        };
        let store = match dialect {
            Dialect::Sqlite => {
                let path = sqlite_path(url)?;
                if let Some(parent) = Path::new(&path)
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(parent)
                        .with_context(|| format!("creating {}", parent.display()))?;
                }
                let url = format!("sqlite://{path}?mode=rwc");
                let pragmas = |pool: AnyPoolOptions, extra: &'static str| {
                    pool.after_connect(move |conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; \
                                 PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;",
                            )
                            .await?;
                            if !extra.is_empty() {
                                conn.execute(extra).await?;
                            }
                            Ok(())
                        })
                    })
                };
                // The writer keeps 64 MB of pages (SQLite's default is 2 MB): with 100,000
                // rentals a billing catch-up transaction otherwise re-read index pages and held
                // the writer up to 154 ms instead of 29 ms (`smmd-bench billing`, README).
                // No ping before handing out a connection: a SQLite connection is a file in
                // this process, and each ping was a round trip to its worker thread (with
                // hundreds of child panels, the thread switches were most of their cost).
                let idle = |pool: AnyPoolOptions| {
                    let pool = pool.test_before_acquire(false);
                    match options.idle_timeout {
                        Some(t) => pool.idle_timeout(t).min_connections(0),
                        None => pool,
                    }
                };
                let write = pragmas(
                    idle(AnyPoolOptions::new())
                        .max_connections(1)
                        .acquire_timeout(Duration::from_secs(30)),
                    if options.single {
                        // 512 KB of pages (SQLite's default is 2 MB): an idle child's hot pages
                        // (schedules, recent runs) fit, and hundreds of children stay small.
                        "PRAGMA cache_size = -512;"
                    } else {
                        // No checkpoint inside its commits: the store's checkpointer does
                        // them beside the writers (`wal`).
                        "PRAGMA cache_size = -65536; PRAGMA wal_autocheckpoint = 0;"
                    },
                )
                .connect(&url)
                .await
                .with_context(|| format!("opening SQLite database {path}"))?;
                // Incremental vacuum (run by `upkeep`) needs this before the first table is
                // created; on an existing database it only takes effect after a full VACUUM.
                // Once, on the writer: on a reader it could wait for the write lock.
                sqlx::query("PRAGMA auto_vacuum = INCREMENTAL")
                    .execute(&write)
                    .await
                    .context("setting auto_vacuum")?;
                let read = if options.single {
                    write.clone()
                } else {
                    pragmas(
                        idle(AnyPoolOptions::new()).max_connections(
                            options
                                .max_connections
                                .unwrap_or_else(default_pool_size)
                                .max(1),
                        ),
                        "",
                    )
                    .connect(&url)
                    .await
                    .with_context(|| format!("opening SQLite database {path}"))?
                };
                let checkpointer = (!options.single)
                    .then(|| wal::start(path.as_str().into(), Db::own(write.clone())));
                SqlStore {
                    read: Db::own(read),
                    write: Db::own(write),
                    dialect,
                    committed: tokio::sync::watch::Sender::new(0),
                    listen_url: None,
                    billing_engine_only: Default::default(),
                    sqlite_file: (!options.single).then(|| path.as_str().into()),
                    direct: (!options.single)
                        .then(|| std::sync::Arc::new(direct::Direct::new(&path))),
                    pg_batches: false,
                    placer: Default::default(),
                    contexts: Default::default(),
                    _wal: checkpointer,
                }
            }
            Dialect::Postgres => {
                if let Some(name) = &options.schema {
                    anyhow::ensure!(
                        !name.is_empty()
                            && name.len() <= 63
                            && name
                                .bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                        "a schema name is 1 to 63 lower-case letters, digits or `_`: `{name}`"
                    );
                    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
                        .await
                        .with_context(|| format!("connecting to PostgreSQL at {}", redact(url)))?;
                    conn.execute(format!("CREATE SCHEMA IF NOT EXISTS {name}").as_str())
                        .await
                        .with_context(|| format!("creating schema {name}"))?;
                    let _ = sqlx::Connection::close(conn).await;
                }
                let db = match (&options.schema, &options.shared) {
                    (Some(name), Some(shared)) => shared.db(name),
                    (schema, _) => {
                        let point = schema.as_ref().map(|n| format!("SET search_path TO {n}"));
                        let mut pool = AnyPoolOptions::new();
                        if let Some(t) = options.idle_timeout {
                            pool = pool.idle_timeout(t).min_connections(0);
                        }
                        let pool = pool
                            .max_connections(
                                options
                                    .max_connections
                                    .unwrap_or_else(default_pool_size)
                                    .max(2),
                            )
                            .acquire_timeout(Duration::from_secs(30))
                            .after_connect(move |conn, _| {
                                let point = point.clone();
                                Box::pin(async move {
                                    if let Some(set) = point {
                                        conn.execute(set.as_str()).await?;
                                    }
                                    conn.execute(PG_SESSION).await?;
                                    Ok(())
                                })
                            })
                            .connect(url)
                            .await
                            .with_context(|| {
                                format!("connecting to PostgreSQL at {}", redact(url))
                            })?;
                        Db::own(pool)
                    }
                };
                SqlStore {
                    read: db.clone(),
                    write: db,
                    dialect,
                    committed: tokio::sync::watch::Sender::new(0),
                    // A schema's store wakes its own feed on commit; one listening connection per
                    // child panel would not scale to hundreds of them.
                    listen_url: options.schema.is_none().then(|| url.to_string()),
                    billing_engine_only: Default::default(),
                    sqlite_file: None,
                    direct: None,
                    pg_batches: options.schema.is_none(),
                    placer: Default::default(),
                    contexts: Default::default(),
                    _wal: None,
                }
            }
        };
        if options.migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Applies pending migrations of this backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.dialect {
            Dialect::Sqlite => &SQLITE_MIGRATIONS,
            Dialect::Postgres => &POSTGRES_MIGRATIONS,
        };
        let mut conn = self.write.acquire().await?;
        migrator
            // `run_direct`: `run` on a taken connection is not `Send` for every lifetime.
            .run_direct(&mut *conn)
            .await
            .context("running database migrations")?;
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The order writer (group commit), started on first use: of a SQLite store with a writer
    /// of its own, or of a PostgreSQL store outside a child's schema; `None` for every other.
    pub(crate) fn placer(&self) -> Option<&orders::group::Placer> {
        self.placer
            .get_or_init(|| match (&self.sqlite_file, self.dialect) {
                (Some(path), _) => Some(orders::group::Placer::start(
                    path.to_string(),
                    self.write.clone(),
                    self.committed.clone(),
                )),
                (None, Dialect::Postgres) if self.pg_batches => {
                    orders::group::Placer::start_postgres(
                        self.write.clone(),
                        self.committed.clone(),
                    )
                }
                (None, _) => None,
            })
            .as_ref()
    }

    /// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite, `BEGIN` on PostgreSQL.
    pub(crate) async fn begin(&self) -> StoreResult<Transaction<'static, Any>> {
        let tx = match self.dialect {
            Dialect::Sqlite => self.write.begin_with(Some("BEGIN IMMEDIATE")).await,
            Dialect::Postgres => self.write.begin().await,
        };
        tx.map_err(map_err)
    }

    /// Commits `tx` and wakes this instance's live feed.
    pub(crate) async fn commit(&self, tx: Transaction<'static, Any>) -> StoreResult<()> {
        tx.commit().await.map_err(map_err)?;
        self.committed.send_modify(|n| *n = n.wrapping_add(1));
        Ok(())
    }

    /// Commits `tx` without waking the live feed: for transactions that write none of the feed
    /// tables (`order_events`, `ledger`, `notifications`, `alerts`), such as the scheduler's
    /// claims, leases and outcomes. Each wake costs the feed a read of every source, and a
    /// hosted child's scheduler commits a few times per run.
    pub(crate) async fn commit_quiet(&self, tx: Transaction<'static, Any>) -> StoreResult<()> {
        tx.commit().await.map_err(map_err)
    }
}

/// Drops PostgreSQL schema `schema` of the database at `url` with everything in it (a removed
/// child panel's storage). The name is checked as [`ConnectOptions::schema`] is.
pub async fn drop_schema(url: &str, schema: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        !schema.is_empty()
            && schema.len() <= 63
            && schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && schema != "public",
        "not a child schema: `{schema}`"
    );
    sqlx::any::install_default_drivers();
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(url)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {}", redact(url)))?;
    conn.execute(format!("DROP SCHEMA IF EXISTS {schema} CASCADE").as_str())
        .await
        .with_context(|| format!("dropping schema {schema}"))?;
    let _ = sqlx::Connection::close(conn).await;
    Ok(())
}

/// The file path of a `sqlite:` URL (`sqlite://data/smmd.db`, `sqlite:///abs/smmd.db`,
/// `sqlite:smmd.db`), without query parameters.
pub fn sqlite_path(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    let path = rest.split('?').next().unwrap_or("");
    anyhow::ensure!(
        !path.is_empty() && path != ":memory:",
        "a SQLite URL needs a file path, e.g. sqlite://data/smmd.db"
    );
    Ok(path.to_string())
}

/// The URL with any password replaced by `***`, for logs and errors.
pub fn redact(url: &str) -> String {
    match url::Url::from_str(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// Maps a database error: named unique violations become [`StoreError::Conflict`].
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.is_unique_violation() {
            return unique_violation(&format!(
                "{} {}",
                db.message(),
                db.constraint().unwrap_or("")
            ));
        }
    }
    if matches!(e, sqlx::Error::RowNotFound) {
        return StoreError::NotFound;
    }
    StoreError::Other(anyhow::Error::new(e))
}

/// The store's name of the unique rule a violation broke, from the database's message and
/// constraint name (both backends, both drivers): `Conflict("orders.request_key")`, …, or
/// `Conflict("unique")`.
pub(crate) fn unique_violation(text: &str) -> StoreError {
    for (needle, name) in [
        ("affiliate_ledger", "affiliate_ledger.key"),
        ("payout_methods", "payout_methods.open"),
        ("payouts", "payouts.open"),
        ("affiliates", "affiliates.code"),
        ("commissions", "commissions.order"),
        ("referrals", "referrals.user"),
        ("email_lower", "users.email"),
        ("api_key_hash", "users.api_key"),
        ("idem_key", "ledger.key"),
        ("refills_one_active", "refills.active"),
        ("refills.order_id", "refills.active"),
        ("orders_active_link", "orders.active_link"),
        ("request_key", "orders.request_key"),
        ("reference", "orders.reference"),
        ("link_key", "orders.active_link"),
        ("categories", "categories.name"),
        ("plans", "plans.code"),
        ("providers", "providers.name"),
        ("orders", "orders.id"),
    ] {
        if text.contains(needle) {
            return StoreError::Conflict(name);
        }
    }
    StoreError::Conflict("unique")
}

/// `?`-friendly conversion for sqlx results.
pub(crate) trait SqlResultExt<T> {
    fn db(self) -> StoreResult<T>;
}

impl<T> SqlResultExt<T> for Result<T, sqlx::Error> {
    fn db(self) -> StoreResult<T> {
        self.map_err(map_err)
    }
}

/// `NotFound` when a write touched no row (the id names nothing).
pub(crate) fn found(done: &sqlx::any::AnyQueryResult) -> StoreResult<()> {
    if done.rows_affected() == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

/// How long a batch job's write transaction (hourly billing, the affiliate release, a payout
/// run's step) runs before it stops taking new rows and commits: on SQLite it holds the one
/// writer, so the rows it did not reach wait for its next transaction instead. Every
/// transaction handles at least one row.
pub(crate) const TX_BUDGET: std::time::Duration = std::time::Duration::from_millis(15);

impl SqlStore {
    /// Whether a batch transaction begun at `held` should stop taking rows: on SQLite once it
    /// has run [`TX_BUDGET`] (it holds the one writer); never on PostgreSQL, where it holds
    /// only its own rows.
    pub(crate) fn over_budget(&self, held: std::time::Instant) -> bool {
        self.dialect == Dialect::Sqlite && held.elapsed() >= TX_BUDGET
    }
}

/// Microseconds since `t` (how long a transaction held its connection).
pub(crate) fn micros_since(t: std::time::Instant) -> i64 {
    i64::try_from(t.elapsed().as_micros()).unwrap_or(i64::MAX)
}

pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

pub(crate) type Row = AnyRow;

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.read)
            .await
            .db()
            .map(|_| ())
    }
}
