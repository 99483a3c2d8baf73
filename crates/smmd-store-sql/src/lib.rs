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
mod catalog;
mod events;
mod fulfil;
mod notify;
mod orders;
mod payments;
mod queries;
mod rows;
mod schedules;
mod wallet;

pub use notify::FEED_CHANNEL;

#[cfg(feature = "testing")]
pub mod testing;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use smmd_domain::alert::AlertKind;
use smmd_domain::service::OrderSpec;
use smmd_domain::{Money, OrderId, ProviderId, RefillId, ServiceId, UserId};
use smmd_store::*;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Any, AnyPool, Executor, Transaction};

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

    /// The parameter text for [`Dialect::id_in`]: a JSON array (SQLite) or a comma list.
    pub(crate) fn id_list(self, ids: impl Iterator<Item = i64>) -> String {
        let joined = ids.map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        match self {
            Dialect::Sqlite => format!("[{joined}]"),
            Dialect::Postgres => joined,
        }
    }
}

/// How to open a store.
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Most pooled connections (readers on SQLite; all on PostgreSQL); `None` = [`default_pool_size`].
    pub max_connections: Option<u32>,
    /// Run pending migrations on connect.
    pub migrate: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        ConnectOptions {
            max_connections: None,
            migrate: true,
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
    pub(crate) read: AnyPool,
    pub(crate) write: AnyPool,
    pub(crate) dialect: Dialect,
    /// Poked after every commit of this store, so the live feed reads new rows at once (the
    /// one-instance wake-up; other instances hear PostgreSQL `NOTIFY`, see [`FEED_CHANNEL`]).
    pub(crate) committed: tokio::sync::watch::Sender<u64>,
    /// The PostgreSQL URL a feed listener connects to (`None` on SQLite).
    pub(crate) listen_url: Option<String>,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl SqlStore {
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
                let pragmas = |pool: AnyPoolOptions| {
                    pool.after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute(
                                "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=10000; PRAGMA foreign_keys=ON; \
                                 PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                };
                let write = pragmas(
                    AnyPoolOptions::new()
                        .max_connections(1)
                        .acquire_timeout(Duration::from_secs(30)),
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
                let read = pragmas(
                    AnyPoolOptions::new().max_connections(
                        options
                            .max_connections
                            .unwrap_or_else(default_pool_size)
                            .max(1),
                    ),
                )
                .connect(&url)
                .await
                .with_context(|| format!("opening SQLite database {path}"))?;
                SqlStore {
                    read,
                    write,
                    dialect,
                    committed: tokio::sync::watch::Sender::new(0),
                    listen_url: None,
                }
            }
            Dialect::Postgres => {
                // Generic plans: every query here is an index lookup, and custom plans re-planned
                // a 100-id status list on each call (~1 ms) once short lists had made them look
                // cheap.
                let pool = AnyPoolOptions::new()
                    .max_connections(
                        options
                            .max_connections
                            .unwrap_or_else(default_pool_size)
                            .max(2),
                    )
                    .acquire_timeout(Duration::from_secs(30))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // A process paused or stuck inside a transaction (SIGSTOP, a
                            // hung host) loses it after 10 s: its row locks are released
                            // for the other instances and its late commit fails (fencing).
                            conn.execute(
                                "SET plan_cache_mode = force_generic_plan; \
                                 SET idle_in_transaction_session_timeout = '10s'",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .with_context(|| format!("connecting to PostgreSQL at {}", redact(url)))?;
                SqlStore {
                    read: pool.clone(),
                    write: pool,
                    dialect,
                    committed: tokio::sync::watch::Sender::new(0),
                    listen_url: Some(url.to_string()),
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
        migrator
            .run(&self.write)
            .await
            .context("running database migrations")?;
        Ok(())
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Starts a write transaction: `BEGIN IMMEDIATE` on SQLite, `BEGIN` on PostgreSQL.
    pub(crate) async fn begin(&self) -> StoreResult<Transaction<'static, Any>> {
        let tx = match self.dialect {
            Dialect::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
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
            let text = format!("{} {}", db.message(), db.constraint().unwrap_or(""));
            for (needle, name) in [
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
                ("providers", "providers.name"),
                ("orders", "orders.id"),
            ] {
                if text.contains(needle) {
                    return StoreError::Conflict(name);
                }
            }
            return StoreError::Conflict("unique");
        }
    }
    if matches!(e, sqlx::Error::RowNotFound) {
        return StoreError::NotFound;
    }
    StoreError::Other(anyhow::Error::new(e))
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

    async fn create_user(&self, user: NewUser) -> StoreResult<User> {
        accounts::create_user(self, user).await
    }
    async fn user(&self, id: UserId) -> StoreResult<Option<User>> {
        accounts::user(self, id).await
    }
    async fn user_credentials(&self, email: &str) -> StoreResult<Option<UserCredentials>> {
        accounts::user_credentials(self, email).await
    }
    async fn user_by_api_key(&self, key_hash: &str) -> StoreResult<Option<User>> {
        accounts::user_by_api_key(self, key_hash).await
    }
    async fn set_api_key(&self, user: UserId, key_hash: &str) -> StoreResult<()> {
        accounts::set_field(self, user, "api_key_hash", key_hash).await
    }
    async fn set_password(&self, user: UserId, password_hash: &str) -> StoreResult<()> {
        accounts::set_field(self, user, "password_hash", password_hash).await
    }
    async fn set_role(&self, user: UserId, role: Role, audit: Option<NewAudit>) -> StoreResult<()> {
        accounts::set_role(self, user, role, audit).await
    }
    async fn list_users(&self, after: Option<UserId>, limit: i64) -> StoreResult<Vec<User>> {
        accounts::list_users(self, after, limit).await
    }
    async fn create_session(
        &self,
        token_hash: &str,
        user: UserId,
        csrf: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        accounts::create_session(self, token_hash, user, csrf, now, expires_at).await
    }
    async fn session(&self, token_hash: &str, now: i64) -> StoreResult<Option<(User, String)>> {
        accounts::session(self, token_hash, now).await
    }
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        accounts::delete_session(self, token_hash).await
    }

    async fn change_balance(&self, change: BalanceChange) -> Result<LedgerEntry, BalanceError> {
        wallet::change_balance(self, change).await
    }
    async fn ledger(
        &self,
        user: UserId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<LedgerEntry>> {
        wallet::ledger(self, user, before, limit).await
    }
    async fn order_ledger(&self, order: OrderId) -> StoreResult<Vec<LedgerEntry>> {
        wallet::order_ledger(self, order).await
    }
    async fn ledger_mismatches(&self) -> StoreResult<Vec<LedgerMismatch>> {
        wallet::ledger_mismatches(self).await
    }

    async fn create_service(&self, draft: ServiceDraft, now: i64) -> StoreResult<Service> {
        catalog::save_service(self, None, draft, now).await
    }
    async fn update_service(
        &self,
        id: ServiceId,
        draft: ServiceDraft,
        now: i64,
    ) -> StoreResult<Service> {
        catalog::save_service(self, Some(id), draft, now).await
    }
    async fn service(&self, id: ServiceId) -> StoreResult<Option<Service>> {
        catalog::service(self, id).await
    }
    async fn list_services(&self, enabled_only: bool) -> StoreResult<Vec<Service>> {
        catalog::list_services(self, enabled_only).await
    }
    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        catalog::list_categories(self).await
    }

    async fn place_order(
        &self,
        user: UserId,
        service: &Service,
        spec: &OrderSpec,
        request_key: Option<&str>,
        now: i64,
    ) -> Result<Order, PlaceOrderError> {
        orders::place_order(self, user, service, spec, request_key, now).await
    }
    async fn order_by_request_key(&self, user: UserId, key: &str) -> StoreResult<Option<Order>> {
        queries::order_by_request_key(self, user, key).await
    }
    async fn order_by_reference(&self, reference: &str) -> StoreResult<Option<Order>> {
        queries::order_by_reference(self, reference).await
    }
    async fn order_log(&self, order: OrderId) -> StoreResult<Vec<OrderLogEntry>> {
        events::of_order(self, order).await
    }
    async fn search_orders(&self, query: &OrderQuery) -> StoreResult<Vec<Order>> {
        queries::search_orders(self, query).await
    }
    async fn order_stats(&self, since: i64) -> StoreResult<OrderStats> {
        queries::order_stats(self, since).await
    }
    async fn completion_samples(
        &self,
        service: ServiceId,
        limit: i64,
    ) -> StoreResult<Vec<CompletionSample>> {
        queries::completion_samples(self, service, limit).await
    }
    async fn search_refills(&self, query: &RefillQuery) -> StoreResult<Vec<Refill>> {
        queries::search_refills(self, query).await
    }
    async fn import_orders(&self, list: &[ImportedOrder]) -> StoreResult<()> {
        orders::import_orders(self, list).await
    }
    async fn order(&self, id: OrderId) -> StoreResult<Option<Order>> {
        orders::order(self, id).await
    }
    async fn orders_of_user(&self, user: UserId, ids: &[OrderId]) -> StoreResult<Vec<Order>> {
        orders::orders_of_user(self, user, ids).await
    }
    async fn order_statuses(
        &self,
        user: UserId,
        ids: &[OrderId],
    ) -> StoreResult<Vec<OrderStatusView>> {
        orders::order_statuses(self, user, ids).await
    }
    async fn apply_order_update(&self, update: OrderUpdate) -> StoreResult<UpdateOutcome> {
        orders::apply_order_update(self, update).await
    }
    async fn apply_order_updates(
        &self,
        updates: &[OrderUpdate],
    ) -> StoreResult<Vec<UpdateOutcome>> {
        orders::apply_order_updates(self, updates).await
    }
    async fn cancel_orders(
        &self,
        user: UserId,
        ids: &[OrderId],
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<Vec<(OrderId, Result<CancelOutcome, CancelError>)>> {
        orders::cancel_orders(self, user, ids, now, audit).await
    }

    async fn request_refill(
        &self,
        user: UserId,
        order: OrderId,
        now: i64,
    ) -> Result<Refill, RefillRequestError> {
        orders::request_refill(self, user, order, now).await
    }
    async fn refills_of_user(&self, user: UserId, ids: &[RefillId]) -> StoreResult<Vec<Refill>> {
        orders::refills_of_user(self, user, ids).await
    }
    async fn set_refill_status(
        &self,
        id: RefillId,
        status: smmd_domain::refill::RefillStatus,
        now: i64,
    ) -> StoreResult<()> {
        orders::set_refill_status(self, id, status, now).await
    }

    async fn ensure_schedule(&self, schedule: NewSchedule) -> StoreResult<ScheduleRecord> {
        schedules::ensure_schedule(self, schedule).await
    }
    async fn schedules(&self) -> StoreResult<Vec<ScheduleRecord>> {
        schedules::schedules(self).await
    }
    async fn claim_ticks(&self, now: i64, planner: Planner<'_>) -> StoreResult<ClaimStats> {
        schedules::claim_ticks(self, now, planner).await
    }
    async fn start_run(
        &self,
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<Option<RunLease>> {
        schedules::start_run(self, owner, now, lease_ms).await
    }
    async fn heartbeat_run(
        &self,
        run_id: i64,
        token: i64,
        now: i64,
        lease_ms: i64,
    ) -> StoreResult<bool> {
        schedules::heartbeat_run(self, run_id, token, now, lease_ms).await
    }
    async fn finish_run(
        &self,
        run_id: i64,
        token: i64,
        outcome: RunOutcome,
        now: i64,
    ) -> StoreResult<bool> {
        schedules::finish_run(self, run_id, token, outcome, now).await
    }
    async fn reap_expired_runs(&self, now: i64) -> StoreResult<u64> {
        schedules::reap_expired_runs(self, now).await
    }
    async fn schedule_runs(
        &self,
        schedule_id: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<RunRecord>> {
        schedules::schedule_runs(self, schedule_id, before, limit).await
    }
    async fn update_schedule(
        &self,
        name: &str,
        edit: ScheduleEdit,
        actor: &str,
        now: i64,
    ) -> StoreResult<ScheduleRecord> {
        schedules::update_schedule(self, name, edit, actor, now).await
    }
    async fn trigger_run(
        &self,
        name: &str,
        request_key: &str,
        actor: &str,
        now: i64,
    ) -> StoreResult<TriggerOutcome> {
        schedules::trigger_run(self, name, request_key, actor, now).await
    }
    async fn set_scheduler_paused(&self, paused: bool, actor: &str, now: i64) -> StoreResult<()> {
        schedules::set_scheduler_paused(self, paused, actor, now).await
    }
    async fn scheduler_paused(&self) -> StoreResult<bool> {
        schedules::scheduler_paused(self).await
    }
    async fn schedule_audit(
        &self,
        schedule_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AuditRecord>> {
        schedules::schedule_audit(self, schedule_id, limit).await
    }
    async fn prune_schedule_runs(&self, before: i64, batch: i64) -> StoreResult<u64> {
        schedules::prune_schedule_runs(self, before, batch).await
    }
    async fn archive_orders(
        &self,
        ended_before: i64,
        now: i64,
        batch: i64,
    ) -> StoreResult<Archived> {
        queries::archive_orders(self, ended_before, now, batch).await
    }
    async fn upkeep(&self) -> StoreResult<Vec<String>> {
        queries::upkeep(self).await
    }
    async fn record_audit(&self, entry: NewAudit) -> StoreResult<AuditEntry> {
        queries::record_audit(self, entry).await
    }
    async fn audit_log(&self, before: Option<i64>, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        queries::audit_log(self, before, limit).await
    }
    async fn prune_sessions(&self, now: i64, batch: i64) -> StoreResult<u64> {
        schedules::prune_sessions(self, now, batch).await
    }
    async fn db_now_ms(&self) -> StoreResult<i64> {
        schedules::db_now_ms(self).await
    }
    async fn next_wakeup_ms(&self) -> StoreResult<Option<i64>> {
        schedules::next_wakeup_ms(self).await
    }
    async fn release_run(&self, run_id: i64, token: i64, now: i64) -> StoreResult<bool> {
        schedules::release_run(self, run_id, token, now).await
    }
    async fn record_canary(&self, effect: CanaryEffect) -> StoreResult<bool> {
        schedules::record_canary(self, effect).await
    }
    async fn prune_canary(&self, before: i64, batch: i64) -> StoreResult<u64> {
        schedules::prune_canary(self, before, batch).await
    }
    async fn scheduler_health(&self, now: i64) -> StoreResult<SchedulerHealth> {
        schedules::scheduler_health(self, now).await
    }

    async fn create_provider(&self, p: NewProvider, now: i64) -> StoreResult<Provider> {
        fulfil::create_provider(self, p, now).await
    }
    async fn providers(&self) -> StoreResult<Vec<Provider>> {
        fulfil::providers(self).await
    }
    async fn provider(&self, id: ProviderId) -> StoreResult<Option<Provider>> {
        fulfil::provider(self, id).await
    }
    async fn set_provider_endpoint(
        &self,
        id: ProviderId,
        url: &str,
        api_key_enc: &str,
        now: i64,
    ) -> StoreResult<()> {
        fulfil::set_provider_endpoint(self, id, url, api_key_enc, now).await
    }
    async fn set_provider_enabled(
        &self,
        id: ProviderId,
        enabled: bool,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<()> {
        fulfil::set_provider_enabled(self, id, enabled, now, audit).await
    }
    async fn record_provider_balance(
        &self,
        id: ProviderId,
        balance: Money,
        currency: &str,
        now: i64,
    ) -> StoreResult<()> {
        fulfil::record_provider_balance(self, id, balance, currency, now).await
    }
    async fn add_service_offer(&self, service: ServiceId, offer: Offer) -> StoreResult<i64> {
        fulfil::add_service_offer(self, service, offer).await
    }
    async fn service_offers(&self, service: ServiceId) -> StoreResult<Vec<Offer>> {
        fulfil::service_offers(self, service).await
    }
    async fn claim_dispatch(&self, limit: i64, now: i64) -> StoreResult<Vec<Order>> {
        fulfil::claim_dispatch(self, limit, now).await
    }
    async fn stale_submitting(&self, before: i64, limit: i64) -> StoreResult<Vec<Order>> {
        fulfil::stale_submitting(self, before, limit).await
    }
    async fn sync_targets(&self, provider: ProviderId, limit: i64) -> StoreResult<Vec<SyncTarget>> {
        fulfil::sync_targets(self, provider, limit).await
    }
    async fn mark_checked(&self, ids: &[OrderId], now: i64) -> StoreResult<()> {
        fulfil::mark_checked(self, ids, now).await
    }
    async fn cancels_to_send(
        &self,
        provider: ProviderId,
        limit: i64,
    ) -> StoreResult<Vec<(OrderId, String)>> {
        fulfil::cancels_to_send(self, provider, limit).await
    }
    async fn mark_cancel_sent(&self, sent: &[(OrderId, String)], now: i64) -> StoreResult<()> {
        fulfil::mark_cancel_sent(self, sent, now).await
    }
    async fn orders_needing_review(&self, limit: i64) -> StoreResult<Vec<Order>> {
        fulfil::orders_needing_review(self, limit).await
    }
    async fn provider_services(&self, provider: ProviderId) -> StoreResult<Vec<Service>> {
        fulfil::provider_services(self, provider).await
    }
    async fn apply_service_sync(
        &self,
        ops: Vec<ServiceSyncOp>,
        source: &str,
        now: i64,
    ) -> StoreResult<(u64, u64, u64)> {
        fulfil::apply_service_sync(self, ops, source, now).await
    }
    async fn edit_service(
        &self,
        id: ServiceId,
        edit: ServiceEdit,
        source: &str,
        now: i64,
        audit: Option<NewAudit>,
    ) -> StoreResult<Service> {
        fulfil::edit_service(self, id, edit, source, now, audit).await
    }
    async fn service_changes(&self, id: ServiceId, limit: i64) -> StoreResult<Vec<ServiceChange>> {
        fulfil::service_changes(self, id, limit).await
    }
    async fn raise_alert(
        &self,
        kind: AlertKind,
        subject: &str,
        message: &str,
        now: i64,
    ) -> StoreResult<bool> {
        fulfil::raise_alert(self, kind.as_str(), subject, message, now).await
    }
    async fn resolve_alert(&self, kind: AlertKind, subject: &str, now: i64) -> StoreResult<()> {
        fulfil::resolve_alert(self, kind.as_str(), subject, now).await
    }
    async fn claim_refills(
        &self,
        limit: i64,
        stale_before: i64,
        now: i64,
    ) -> StoreResult<Vec<RefillTask>> {
        fulfil::claim_refills(self, limit, stale_before, now).await
    }
    async fn record_refill_sent(
        &self,
        id: RefillId,
        answer: Result<String, String>,
        now: i64,
    ) -> StoreResult<()> {
        fulfil::record_refill_sent(self, id, answer, now).await
    }
    async fn refill_sync_targets(
        &self,
        provider: ProviderId,
        limit: i64,
    ) -> StoreResult<Vec<RefillSyncTarget>> {
        fulfil::refill_sync_targets(self, provider, limit).await
    }
    async fn apply_refill_sync(
        &self,
        changes: &[(RefillId, smmd_domain::refill::RefillStatus)],
        checked: &[RefillId],
        now: i64,
    ) -> StoreResult<u64> {
        fulfil::apply_refill_sync(self, changes, checked, now).await
    }
    async fn auto_refill_candidates(&self, now: i64, limit: i64) -> StoreResult<Vec<Order>> {
        fulfil::auto_refill_candidates(self, now, limit).await
    }
    async fn set_category_markup(
        &self,
        name: &str,
        markup_bp: Option<i64>,
        audit: Option<NewAudit>,
    ) -> StoreResult<()> {
        fulfil::set_category_markup(self, name, markup_bp, audit).await
    }
    async fn notification_settings(&self, user: UserId) -> StoreResult<NotificationSettings> {
        notify::notification_settings(self, user).await
    }
    async fn set_notification_settings(
        &self,
        user: UserId,
        settings: &NotificationSettings,
    ) -> StoreResult<()> {
        notify::set_notification_settings(self, user, settings).await
    }
    async fn notify_cursor(&self, cursor: &str) -> StoreResult<i64> {
        notify::notify_cursor(self, cursor).await
    }
    async fn notifiable_events(
        &self,
        after: i64,
        limit: i64,
    ) -> StoreResult<(Vec<NotifiableEvent>, i64)> {
        notify::notifiable_events(self, after, limit).await
    }
    async fn alerts_after(&self, after: i64, limit: i64) -> StoreResult<Vec<Alert>> {
        notify::alerts_after(self, after, limit).await
    }
    async fn alert_recipients(&self) -> StoreResult<Vec<AlertRecipient>> {
        notify::alert_recipients(self).await
    }
    async fn record_notifications(
        &self,
        batch: &NotificationBatch,
        now: i64,
    ) -> StoreResult<Option<u64>> {
        notify::record_notifications(self, batch, now).await
    }
    async fn claim_deliveries(
        &self,
        now: i64,
        lease_ms: i64,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        notify::claim_deliveries(self, now, lease_ms, limit).await
    }
    async fn finish_delivery(
        &self,
        id: i64,
        outcome: &DeliveryOutcome,
        now: i64,
    ) -> StoreResult<()> {
        notify::finish_delivery(self, id, outcome, now).await
    }
    async fn deliveries_of_user(
        &self,
        user: UserId,
        limit: i64,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        notify::deliveries_of_user(self, user, limit).await
    }
    async fn notifications_of_user(
        &self,
        user: UserId,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Notification>> {
        notify::notifications_of_user(self, user, before, limit).await
    }
    async fn unread_notifications(&self, user: UserId) -> StoreResult<i64> {
        notify::unread_notifications(self, user).await
    }
    async fn mark_notifications_read(
        &self,
        user: UserId,
        up_to: i64,
        now: i64,
    ) -> StoreResult<u64> {
        notify::mark_notifications_read(self, user, up_to, now).await
    }
    async fn prune_notifications(&self, before: i64, batch: i64) -> StoreResult<u64> {
        notify::prune_notifications(self, before, batch).await
    }
    async fn create_payment_request(
        &self,
        user: UserId,
        amount: Money,
        method: &str,
        note: &str,
        now: i64,
    ) -> StoreResult<PaymentRequest> {
        payments::create_payment_request(self, user, amount, method, note, now).await
    }
    async fn payment_requests(
        &self,
        user: Option<UserId>,
        status: Option<&str>,
        limit: i64,
    ) -> StoreResult<Vec<PaymentRequest>> {
        payments::payment_requests(self, user, status, limit).await
    }
    async fn decide_payment(
        &self,
        id: i64,
        approve: bool,
        admin: UserId,
        reason: &str,
        now: i64,
        audit: Option<NewAudit>,
    ) -> Result<PaymentRequest, PaymentError> {
        payments::decide_payment(self, id, approve, admin, reason, now, audit).await
    }
    async fn feed_head(&self) -> StoreResult<FeedCursor> {
        notify::feed_head(self).await
    }
    async fn feed_after(
        &self,
        cursor: FeedCursor,
        limit: i64,
    ) -> StoreResult<(Vec<FeedItem>, FeedCursor)> {
        notify::feed_after(self, cursor, limit).await
    }
    async fn feed_of_user_after(
        &self,
        user: UserId,
        admin: bool,
        cursor: FeedCursor,
        limit: i64,
    ) -> StoreResult<Vec<FeedItem>> {
        notify::feed_of_user_after(self, user, admin, cursor, limit).await
    }
    async fn feed_signal(&self) -> StoreResult<Box<dyn FeedSignal>> {
        notify::feed_signal(self).await
    }
    async fn open_alerts(&self) -> StoreResult<Vec<Alert>> {
        fulfil::open_alerts(self).await
    }
}
