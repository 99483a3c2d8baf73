//! Throw-away databases for tests (feature `testing`): [`fresh`] gives each test its own SQLite
//! file or its own PostgreSQL database, dropped when the returned [`TestDb`] is dropped.
//!
//! PostgreSQL tests are never skipped silently: they run against `SMMD_TEST_PG_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`, the CI service) and fail if it cannot be reached.
//! A developer without PostgreSQL opts out explicitly with `SMMD_SKIP_PG=1`, which CI never sets.

use std::sync::Arc;

use rand::Rng;
use sqlx::Connection;

use crate::{ConnectOptions, SqlStore};

/// The backend a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A fresh, migrated store; its database is removed on drop.
pub struct TestDb {
    pub store: Arc<SqlStore>,
    /// The URL another process (e.g. a spawned `smmd`) can open.
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    PgDatabase { admin_url: String, name: String },
}

/// The admin URL of the test PostgreSQL server.
pub fn pg_admin_url() -> String {
    std::env::var("SMMD_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_string())
}

/// `true` when the developer opted out of PostgreSQL tests (`SMMD_SKIP_PG=1`) outside CI.
pub fn skip_pg() -> bool {
    let opted_out = std::env::var("SMMD_SKIP_PG").is_ok_and(|v| v == "1");
    if opted_out && std::env::var("CI").is_ok() {
        panic!("SMMD_SKIP_PG is set in CI: PostgreSQL tests must run there");
    }
    opted_out
}

/// A fresh database on `backend`; `None` only for PostgreSQL when explicitly skipped.
pub async fn fresh(backend: Backend) -> Option<TestDb> {
    match backend {
        Backend::Sqlite => Some(sqlite(ConnectOptions::default()).await),
        Backend::Postgres => {
            if skip_pg() {
                eprintln!("SMMD_SKIP_PG=1: skipping a PostgreSQL test");
                return None;
            }
            sqlx::any::install_default_drivers();
            let admin_url = pg_admin_url();
            let name = format!("smmd_t_{:016x}", rand::thread_rng().gen::<u64>());
            let mut admin = sqlx::AnyConnection::connect(&admin_url)
                .await
                .unwrap_or_else(|e| {
                    panic!("PostgreSQL at {admin_url} is required (SMMD_SKIP_PG=1 to opt out): {e}")
                });
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut admin)
                .await
                .expect("create test database");
            let _ = admin.close().await;
            let url = replace_db(&admin_url, &name);
            let store = SqlStore::connect(
                &url,
                ConnectOptions {
                    max_connections: Some(8),
                    migrate: true,
                    ..ConnectOptions::default()
                },
            )
            .await
            .expect("open PostgreSQL test database");
            Some(TestDb {
                store: Arc::new(store),
                url,
                cleanup: Cleanup::PgDatabase { admin_url, name },
            })
        }
    }
}

/// A fresh SQLite store as a hosted child panel opens its file: one connection for reads and
/// writes ([`ConnectOptions::single`]).
pub async fn fresh_single() -> Option<TestDb> {
    Some(
        sqlite(ConnectOptions {
            single: true,
            ..ConnectOptions::default()
        })
        .await,
    )
}

/// A SQLite file in a new temporary folder, opened with `options`.
async fn sqlite(options: ConnectOptions) -> TestDb {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/smmd.db", dir.path().display());
    let store = SqlStore::connect(&url, options)
        .await
        .expect("open SQLite test database");
    TestDb {
        store: Arc::new(store),
        url,
        cleanup: Cleanup::Dir(dir),
    }
}

impl TestDb {
    /// Runs one SQL statement on this database (fault injection in tests: a trigger that
    /// fails a write the way a crash would).
    pub async fn execute(&self, sql: &str) {
        sqlx::query(sql)
            .execute(&self.store.write)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }

    /// The one integer `sql` selects.
    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.store.write)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// A backup of this database as it is now, opened as a store of its own (removed on drop):
    /// the file written by `VACUUM INTO` on SQLite; on PostgreSQL a database created with this
    /// one as its template, which first closes every other session on this one (this store's
    /// pool reconnects on its next use).
    pub async fn backup(&self) -> TestDb {
        match &self.cleanup {
            Cleanup::Dir(_) => {
                let dir = tempfile::tempdir().expect("temp dir");
                let path = dir.path().join("smmd.db");
                sqlx::query(&format!("VACUUM INTO '{}'", path.display()))
                    .execute(&self.store.write)
                    .await
                    .expect("VACUUM INTO");
                let url = format!("sqlite://{}", path.display());
                let store = SqlStore::connect(&url, ConnectOptions::default())
                    .await
                    .expect("open the backup");
                TestDb {
                    store: Arc::new(store),
                    url,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Cleanup::PgDatabase { admin_url, name } => {
                let copy = format!("smmd_t_{:016x}", rand::thread_rng().gen::<u64>());
                let mut admin = sqlx::AnyConnection::connect(admin_url)
                    .await
                    .expect("admin connection");
                sqlx::query(&format!(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                ))
                .execute(&mut admin)
                .await
                .expect("close the sessions");
                sqlx::query(&format!("CREATE DATABASE {copy} TEMPLATE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("copy the database");
                let _ = admin.close().await;
                let url = replace_db(admin_url, &copy);
                let store = SqlStore::connect(
                    &url,
                    ConnectOptions {
                        max_connections: Some(8),
                        migrate: false,
                        ..ConnectOptions::default()
                    },
                )
                .await
                .expect("open the backup");
                TestDb {
                    store: Arc::new(store),
                    url,
                    cleanup: Cleanup::PgDatabase {
                        admin_url: admin_url.clone(),
                        name: copy,
                    },
                }
            }
        }
    }
}

fn replace_db(url: &str, db: &str) -> String {
    let mut u = url::Url::parse(url).expect("PostgreSQL URL");
    u.set_path(&format!("/{db}"));
    u.to_string()
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::PgDatabase { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside async tests; do the async clean-up on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                if let Ok(rt) = rt {
                    rt.block_on(async {
                        if let Ok(mut c) = sqlx::AnyConnection::connect(&admin_url).await {
                            let _ = sqlx::query(&format!(
                                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                            ))
                            .execute(&mut c)
                            .await;
                        }
                    });
                }
            })
            .join();
        }
    }
}

/// Generates `mod sqlite` and `mod postgres` (in the calling test crate) with one `#[tokio::test]` per listed
/// `async fn(Arc<dyn Store>)`.
#[macro_export]
macro_rules! both_stores {
    ($($name:ident),* $(,)?) => {
        mod sqlite { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let db = smmd_store_sql::testing::fresh(smmd_store_sql::testing::Backend::Sqlite).await.expect("db");
                super::$name(db.store.clone()).await;
            }
        )* }
        mod postgres { $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if let Some(db) = smmd_store_sql::testing::fresh(smmd_store_sql::testing::Backend::Postgres).await {
                    super::$name(db.store.clone()).await;
                }
            }
        )* }
    };
}

/// Bulk affiliate rows for scale tests and `smmd-bench affiliates`, written with a few SQL
/// statements into the database at `url`: `affiliates` users with affiliate accounts (user ids
/// from the first one created), an approved payout method for nine in ten, and `commissions`
/// held commissions spread over them, ten per affiliate: one in ten due at `due_at` (epoch ms)
/// and worth 120.00 (so every affiliate is paid by a run after it), the rest due 30 days later
/// and worth 0.50. Errors: the database's.
pub async fn seed_affiliates(
    url: &str,
    affiliates: i64,
    commissions: i64,
    due_at: i64,
) -> Result<(), sqlx::Error> {
    use smmd_domain::clock::DAY_MS;
    let mut conn = sqlx::AnyConnection::connect(url).await?;
    let at = due_at - 60 * DAY_MS;
    let series = |n: i64| {
        format!("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})")
    };
    let statements = [
        format!(
            "{} INSERT INTO users (email, email_lower, password_hash, role, balance, created_at) \
             SELECT 'aff' || i || '@bench.example', 'aff' || i || '@bench.example', 'x', 'user', 0, {at} FROM n",
            series(affiliates)
        ),
        format!(
            "INSERT INTO affiliates (user_id, code, created_at) \
             SELECT id, 'C' || id, {at} FROM users WHERE email LIKE 'aff%'"
        ),
        format!(
            "INSERT INTO payout_methods (user_id, kind, details, status, created_at, decided_at, approved_at) \
             SELECT user_id, 'paypal', 'p' || user_id || '@bench.example', 'approved', {at}, {at}, {at} \
             FROM affiliates WHERE user_id % 10 <> 0"
        ),
    ];
    for sql in statements {
        sqlx::query(&sql).execute(&mut conn).await?;
    }
    let first: i64 = sqlx::query_scalar("SELECT MIN(user_id) FROM affiliates")
        .fetch_one(&mut conn)
        .await?;
    // The commissions in chunks of 100,000 (one statement each).
    let chunk = 100_000i64;
    let mut done = 0i64;
    while done < commissions {
        let n = chunk.min(commissions - done);
        let sql = format!(
            "{} INSERT INTO commissions (order_id, affiliate_id, referred_id, rate_bp, charge, amount, \
             status, approve_at, created_at, updated_at) \
             SELECT {done} + i, {first} + (({done} + i) / 10 % {affiliates}), {first} + (({done} + i) / 10 % {affiliates}), 500, \
             CASE WHEN ({done} + i) % 10 = 0 THEN 2400000000 ELSE 10000000 END, \
             CASE WHEN ({done} + i) % 10 = 0 THEN 120000000 ELSE 500000 END, 'held', \
             CASE WHEN ({done} + i) % 10 = 0 THEN {due} ELSE {later} END, {at}, {at} FROM n",
            series(n),
            due = due_at - 1,
            later = due_at + 30 * DAY_MS,
        );
        sqlx::query(&sql).execute(&mut conn).await?;
        done += n;
    }
    conn.close().await
}
