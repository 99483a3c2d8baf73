//! The connection pools a store reads and writes through. A [`Db`] is a pool, and, for a
//! hosted child panel's store in a PostgreSQL schema, the statement that points a connection
//! at that schema: the children of a deployment share one [`SharedPool`] (hundreds of
//! schemas, a few connections), and every connection a child's store takes is pointed at its
//! own schema before its first statement. Every other store has a pool of its own and takes
//! connections as they come.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::TryStreamExt;
use sqlx::any::{AnyPoolOptions, AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool, Either, Execute, Executor, Transaction};

/// A pool and, for a schema sharing it, `SET search_path TO <schema>` (run on every connection
/// taken, since the connection may come from another schema's store).
#[derive(Clone, Debug)]
pub(crate) struct Db {
    pool: AnyPool,
    point: Option<Arc<str>>,
}

impl Db {
    /// A pool of its own: connections are used as they come.
    pub(crate) fn own(pool: AnyPool) -> Db {
        Db { pool, point: None }
    }

    /// Schema `schema` (already checked: letters, digits, `_`) on a shared pool.
    fn in_schema(pool: AnyPool, schema: &str) -> Db {
        Db {
            pool,
            point: Some(format!("SET search_path TO {schema}").into()),
        }
    }

    /// Points `conn` at this store's schema (nothing for a pool of its own).
    async fn point(&self, conn: &mut sqlx::AnyConnection) -> Result<(), sqlx::Error> {
        if let Some(set) = &self.point {
            conn.execute(&**set).await?;
        }
        Ok(())
    }

    /// A connection, pointed at this store's schema.
    pub(crate) async fn acquire(&self) -> Result<PoolConnection<Any>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        self.point(&mut conn).await?;
        Ok(conn)
    }

    /// A transaction (`statement`: how it begins, `None` = `BEGIN`), pointed at this store's
    /// schema.
    pub(crate) async fn begin_with(
        &self,
        statement: Option<&'static str>,
    ) -> Result<Transaction<'static, Any>, sqlx::Error> {
        let mut tx = match statement {
            Some(s) => self.pool.begin_with(s).await?,
            None => self.pool.begin().await?,
        };
        self.point(&mut tx).await?;
        Ok(tx)
    }

    pub(crate) async fn begin(&self) -> Result<Transaction<'static, Any>, sqlx::Error> {
        self.begin_with(None).await
    }
}

impl<'p> Executor<'p> for &'_ Db {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<AnyQueryResult, AnyRow>, sqlx::Error>>
    where
        E: 'q + Execute<'q, Any>,
    {
        if self.point.is_none() {
            return (&self.pool).fetch_many(query);
        }
        let db = self.clone();
        Box::pin(sqlx_core::try_stream! {
            let mut conn = db.acquire().await?;
            let mut s = conn.fetch_many(query);
            while let Some(v) = s.try_next().await? {
                r#yield!(v);
            }
            Ok(())
        })
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<AnyRow>, sqlx::Error>>
    where
        E: 'q + Execute<'q, Any>,
    {
        let db = self.clone();
        Box::pin(async move { db.acquire().await?.fetch_optional(query).await })
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, Result<AnyStatement<'q>, sqlx::Error>> {
        let db = self.clone();
        Box::pin(async move { db.acquire().await?.prepare_with(sql, parameters).await })
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> BoxFuture<'e, Result<sqlx::Describe<Any>, sqlx::Error>> {
        let db = self.clone();
        Box::pin(async move { db.acquire().await?.describe(sql).await })
    }
}

/// One PostgreSQL pool the stores of many schemas share: a deployment's hosted child panels
/// (`ConnectOptions::shared`). Hundreds of children then hold the connections this pool holds
/// (at most `max_connections`, none once idle), not one pool each.
#[derive(Clone, Debug)]
pub struct SharedPool(pub(crate) AnyPool);

impl SharedPool {
    /// Connects lazily to the PostgreSQL database at `url`: at most `max_connections`, each
    /// closed after `idle_timeout` unused. Errors: a URL that is not PostgreSQL's.
    pub fn connect(
        url: &str,
        max_connections: u32,
        idle_timeout: Duration,
    ) -> anyhow::Result<SharedPool> {
        sqlx::any::install_default_drivers();
        anyhow::ensure!(
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "a shared pool is PostgreSQL's"
        );
        let pool = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .min_connections(0)
            .idle_timeout(idle_timeout)
            .acquire_timeout(Duration::from_secs(30))
            // Every connection taken runs its store's `SET search_path` first, which is the
            // liveness check a ping would be.
            .test_before_acquire(false)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // No schema until a store points it at one: a statement run before that
                    // finds no table rather than the root's.
                    conn.execute(crate::PG_SESSION).await?;
                    conn.execute("SET search_path TO pg_catalog").await?;
                    Ok(())
                })
            })
            .connect_lazy(url)
            .context("a shared PostgreSQL pool")?;
        Ok(SharedPool(pool))
    }

    pub(crate) fn db(&self, schema: &str) -> Db {
        Db::in_schema(self.0.clone(), schema)
    }

    /// Connections open now (for figures and tests).
    pub fn size(&self) -> u32 {
        self.0.size()
    }
}
