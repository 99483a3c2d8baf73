//! Shared by the engine and control tests: run each test function on a fresh SQLite database
//! and on a fresh PostgreSQL database.

/// Generates `mod sqlite` and `mod postgres` with one `#[tokio::test]` per listed
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
