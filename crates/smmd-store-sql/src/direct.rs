//! Direct reads on SQLite (issue 20, "the read path"): the one-row reads every `/api/v2` call
//! makes (a user's balance, order statuses, the service and price book of an `add`) run on
//! the calling thread through connections of this module (`rusqlite`). Through sqlx each
//! statement is a round trip to the connection's own thread: two thread switches, which a
//! profile of `status` put at a third of the server's time. A read here is an indexed lookup
//! in pages SQLite already holds (microseconds), so it runs inline rather than hopping; it reads
//! the committed state exactly as the pool's readers do (WAL snapshot per statement), nothing
//! is cached. Connections are taken from a small idle list and opened when it is empty.
//!
//! Also the statement helpers shared with the group commit (`orders::group`): parameters
//! are written `$1`, `$2`, … as everywhere in this crate, and bound by name.

use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, ToSql};

use crate::rows::Named;
use smmd_store::{StoreError, StoreResult};

/// Idle connections kept.
const KEEP: usize = 8;

/// The direct readers of one SQLite file.
#[derive(Debug)]
pub(crate) struct Direct {
    path: String,
    idle: Mutex<Vec<Connection>>,
}

impl Direct {
    pub(crate) fn new(path: &str) -> Direct {
        Direct {
            path: path.to_string(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// Runs `read` on an idle connection (opened if there is none).
    fn with<T>(&self, read: impl FnOnce(&Connection) -> StoreResult<T>) -> StoreResult<T> {
        let taken = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match taken {
            Some(c) => c,
            None => open_reader(&self.path).map_err(other)?,
        };
        let out = read(&conn);
        if let Ok(mut idle) = self.idle.lock() {
            if idle.len() < KEEP {
                idle.push(conn);
            }
        }
        out
    }

    /// The rows of `sql` with `params` (`$1`, …), each decoded by `decode`.
    pub(crate) fn all<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        decode: impl Fn(&Named<'_, '_>) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(sql).map_err(other)?;
            bind(&mut stmt, params).map_err(other)?;
            let names = Named::names_of(&stmt);
            let mut rows = stmt.raw_query();
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(other)? {
                out.push(decode(&Named { row, names: &names })?);
            }
            Ok(out)
        })
    }

    /// The first row of `sql`, if any.
    pub(crate) fn optional<T>(
        &self,
        sql: &str,
        params: &[&dyn ToSql],
        decode: impl Fn(&Named<'_, '_>) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(sql).map_err(other)?;
            bind(&mut stmt, params).map_err(other)?;
            let names = Named::names_of(&stmt);
            let mut rows = stmt.raw_query();
            match rows.next().map_err(other)? {
                Some(row) => decode(&Named { row, names: &names }).map(Some),
                None => Ok(None),
            }
        })
    }
}

/// A read-only connection with the pool's settings.
fn open_reader(path: &str) -> rusqlite::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch(
        "PRAGMA busy_timeout=10000; PRAGMA query_only=ON; PRAGMA mmap_size=268435456;",
    )?;
    conn.set_prepared_statement_cache_capacity(32);
    Ok(conn)
}

fn other(e: impl Into<anyhow::Error>) -> StoreError {
    StoreError::Other(e.into())
}

/// Binds `values` to `$1`, `$2`, … of `stmt` by name (a number may appear in any order, or
/// more than once, or not at all).
pub(crate) fn bind(
    stmt: &mut rusqlite::CachedStatement<'_>,
    values: &[&dyn ToSql],
) -> rusqlite::Result<()> {
    const NAMES: [&str; 24] = [
        "$1", "$2", "$3", "$4", "$5", "$6", "$7", "$8", "$9", "$10", "$11", "$12", "$13", "$14",
        "$15", "$16", "$17", "$18", "$19", "$20", "$21", "$22", "$23", "$24",
    ];
    for (i, value) in values.iter().enumerate() {
        let name = match NAMES.get(i) {
            Some(n) => std::borrow::Cow::Borrowed(*n),
            None => std::borrow::Cow::Owned(format!("${}", i + 1)),
        };
        if let Some(at) = stmt.parameter_index(&name)? {
            stmt.raw_bind_parameter(at, value)?;
        }
    }
    Ok(())
}
