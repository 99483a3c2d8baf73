//! The WAL checkpointer of a SQLite store with a writer of its own (the root panel's file).
//!
//! SQLite appends every committed page to the write-ahead log and copies it back into the
//! database file at a checkpoint. By default the connection that commits runs one whenever the
//! log passes 1,000 pages, inside its commit: under a stream of orders (~7 pages each) every
//! write through the store's pool then copied the whole log and `fsync`ed it while holding the
//! writers' lock, and the order writer waited up to ~100 ms for it, over and over. Here no
//! connection of the store checkpoints in its commits (`wal_autocheckpoint=0` on both
//! writers); one task per store does it beside them, every [`EVERY`].
//!
//! Passive passes alone copy the log without taking the write lock, but never let it start
//! over under a steady stream of batches (a writer restarts the log only when its transaction
//! begins with every page copied): it grew by ~30 KB per order without end (1.5 GB in 10 s of
//! `add`), into new blocks the file system had to allocate. So each run ends with a `RESTART`
//! pass once the passive passes have caught up: it takes the write lock for the last few
//! pages, waits for readers of older pages, and the next commit writes from the start of the
//! log, over blocks already allocated.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How often the log is copied back into the database file.
pub(crate) const EVERY: Duration = Duration::from_millis(500);

/// Pages written during a passive pass below which the run finishes with a `RESTART` pass
/// (a few ms of copying under the write lock).
const RESTART_BELOW: i64 = 2_000;

/// Passive passes at most before the `RESTART` pass.
const PASSES: u32 = 4;

/// Keeps the store's checkpointer running: the task stops once every clone of the store (and
/// so this token) is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer;

/// Starts the checkpointer of the SQLite file at `path`. Call inside a tokio runtime.
pub(crate) fn start(path: Arc<str>) -> Arc<Checkpointer> {
    let token = Arc::new(Checkpointer);
    let alive: Weak<Checkpointer> = Arc::downgrade(&token);
    tokio::spawn(async move {
        let conn = Arc::new(Mutex::new(None));
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            if alive.strong_count() == 0 {
                break;
            }
            let (path, conn) = (path.clone(), conn.clone());
            // One run at a time: the next tick waits for this one.
            let _ = tokio::task::spawn_blocking(move || run(&path, &conn)).await;
        }
    });
    token
}

/// One run: passive passes until one copies little, then a `RESTART` pass. Errors are logged
/// (the next run tries again). Returns whether the `RESTART` pass finished, so that the
/// writer's next commit starts the log over: `false` when the log was empty, the pass timed
/// out behind the writers or a reader (a later run restarts it), or on an error.
fn run(path: &str, slot: &Mutex<Option<Connection>>) -> bool {
    let Ok(mut slot) = slot.lock() else {
        return false;
    };
    if slot.is_none() {
        *slot = Connection::open(path)
            .and_then(|c| c.busy_handler(Some(busy)).map(|_| c))
            .map_err(|e| tracing::warn!(error = %e, path, "WAL checkpointer not opened"))
            .ok();
    }
    let Some(conn) = slot.as_ref() else {
        return false;
    };
    let began = Instant::now();
    let (mut passes, mut seen) = (0, 0);
    let outcome = loop {
        passes += 1;
        match pass(conn, "PASSIVE") {
            Ok(Pass { log: 0, .. }) => return false,
            Ok(Pass { log, .. }) if log - seen <= RESTART_BELOW || passes >= PASSES => {
                break pass(conn, "RESTART");
            }
            Ok(Pass { log, .. }) => seen = log,
            Err(e) => break Err(e),
        }
    };
    match outcome {
        Ok(p) => {
            tracing::debug!(
                passes,
                restarted = !p.busy,
                log = p.log,
                copied = p.copied,
                took_us = began.elapsed().as_micros() as u64,
                "WAL checkpoint"
            );
            !p.busy
        }
        Err(e) => {
            tracing::warn!(error = %e, path, "WAL checkpoint failed");
            false
        }
    }
}

/// What `PRAGMA wal_checkpoint` answers: whether it could not finish (a `RESTART` that timed
/// out waiting for the write lock or a reader), the pages in the log, the pages copied.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pass {
    pub(crate) busy: bool,
    pub(crate) log: i64,
    pub(crate) copied: i64,
}

/// One checkpoint of `mode` (`PASSIVE` or `RESTART`) on `conn`.
pub(crate) fn pass(conn: &Connection, mode: &str) -> rusqlite::Result<Pass> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
        Ok(Pass {
            busy: r.get::<_, i64>(0)? != 0,
            log: r.get(1)?,
            copied: r.get(2)?,
        })
    })
}

/// The checkpointer's busy handler: retries every 200 µs, so it takes the write lock in one of
/// the writers' short pauses between batches, and gives up after ~50 ms (the log restarts at
/// a later run).
fn busy(tries: i32) -> bool {
    std::thread::sleep(Duration::from_micros(200));
    tries < 250
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WAL header's salts (bytes 16..24), which SQLite changes each time the log starts
    /// over; waits (up to 2 s) for the writer to have written the header.
    fn salts(path: &str) -> Vec<u8> {
        let waited = Instant::now();
        loop {
            match std::fs::read(format!("{path}-wal")) {
                Ok(log) if log.len() >= 32 => return log[16..24].to_vec(),
                _ if waited.elapsed() < Duration::from_secs(2) => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                other => panic!("no log header after 2 s: {:?}", other.map(|l| l.len())),
            }
        }
    }

    /// Under a writer that never pauses for long (0.1 ms between commits), each run whose
    /// `RESTART` pass finishes lets the log start over: the next commit writes from the log's
    /// start (new salts) instead of appending to it for good, as it did with passive
    /// checkpoints alone. A run whose `RESTART` times out behind the writer (a loaded machine:
    /// CI once saw it) leaves the restart to a later run, as the task does every 0.5 s; each
    /// round allows 20 runs for one to finish.
    #[test]
    fn each_run_lets_the_log_start_over_under_a_busy_writer() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("t.db").to_string_lossy().to_string();
        Connection::open(&path)
            .expect("open")
            .execute_batch(
                "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);",
            )
            .expect("schema");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let writes = {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                let conn = Connection::open(&path).expect("open");
                // The order writer's settings (no fsync at its commits).
                conn.execute_batch("PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL;")
                    .expect("pragma");
                conn.busy_handler(Some(|_| {
                    std::thread::sleep(Duration::from_micros(100));
                    true
                }))
                .expect("busy");
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    conn.execute_batch(
                        "BEGIN IMMEDIATE; INSERT INTO t (v) VALUES (randomblob(3000)); COMMIT;",
                    )
                    .expect("write");
                    // As the order writer between batches, answering one and taking the next.
                    std::thread::sleep(Duration::from_micros(100));
                }
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        let slot = Mutex::new(None);
        let mut before = salts(&path);
        for round in 0..3 {
            let runs = (1..=20).find(|_| run(&path, &slot));
            assert!(
                runs.is_some(),
                "round {round}: no RESTART pass finished in 20 runs"
            );
            // The writer's next commit starts the log over (within a commit or two; up to 2 s
            // on a loaded machine).
            let waited = Instant::now();
            let mut after = salts(&path);
            while after == before && waited.elapsed() < Duration::from_secs(2) {
                std::thread::sleep(Duration::from_millis(5));
                after = salts(&path);
            }
            assert_ne!(before, after, "round {round}: the log did not start over");
            before = after;
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        // The writer's own failures surface here (its row count depends on the machine's load).
        writes.join().expect("writer");
    }
}
