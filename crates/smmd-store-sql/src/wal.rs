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
//! `add`), into new blocks the file system had to allocate. So each run, once its passive
//! passes have caught up, takes the writers' gate (the store's write connection, which the
//! order writer holds while it writes) and copies the last few pages with no writer between
//! them: every page is copied, and the next writer's transaction starts the log over itself
//! (unless a reader still holds an older page at that instant). Before, the last pass was a
//! `RESTART`, which raced the writers for SQLite's write lock (retrying every 200 µs; on a
//! loaded machine it lost for its whole 50 ms and left the log growing) and then held that
//! lock while it waited for every reader of an older page — the order writer waiting behind
//! it (5 s of `add` from 100 resellers at c64: 22 batches over 9 ms, now 4). A `RESTART` pass
//! remains for when the writers did not start the log over since the last run (its salts are
//! unchanged: a reader was in the way): it waits for those readers, inside the gate.

use std::io::Read as _;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use rusqlite::Connection;

use crate::pool::Db;

/// How often the log is copied back into the database file.
pub(crate) const EVERY: Duration = Duration::from_millis(500);

/// Pages written during a passive pass below which the run takes the writers' gate for its
/// last pass (a few ms of copying while the writers wait).
const LAST_BELOW: i64 = 2_000;

/// Passive passes at most before the last pass.
const PASSES: u32 = 4;

/// How long a run waits for the writers' gate (the order writer keeps it at most ~20 ms at a
/// time); past it the run ends without its last pass, and a later run copies the rest.
const GATE_WAIT: Duration = Duration::from_secs(1);

/// Keeps the store's checkpointer running: the task stops once every clone of the store (and
/// so this token) is dropped.
#[derive(Debug)]
pub(crate) struct Checkpointer;

/// What the checkpointer keeps between runs.
#[derive(Default)]
struct State {
    /// Its own connection, opened at the first run.
    conn: Option<Connection>,
    /// The log's salts when the last run ended: equal at the next run means no writer
    /// started the log over meanwhile.
    salts: Option<[u8; 8]>,
}

/// Starts the checkpointer of the SQLite file at `path`, whose writers take `write` (the
/// store's one write connection) as their gate. Call inside a tokio runtime.
pub(crate) fn start(path: Arc<str>, write: Db) -> Arc<Checkpointer> {
    let token = Arc::new(Checkpointer);
    let alive: Weak<Checkpointer> = Arc::downgrade(&token);
    tokio::spawn(async move {
        let state = Arc::new(Mutex::new(State::default()));
        let mut tick = tokio::time::interval(EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            tick.tick().await;
            if alive.strong_count() == 0 {
                break;
            }
            let (path, state, write) = (path.clone(), state.clone(), write.clone());
            let rt = tokio::runtime::Handle::current();
            // The gate is taken on the blocking thread, between the passive passes and the
            // last one.
            let gate = move || {
                rt.block_on(tokio::time::timeout(GATE_WAIT, write.acquire()))
                    .ok()?
                    .map_err(|e| tracing::warn!(error = %e, "WAL checkpointer: no writers' gate"))
                    .ok()
            };
            // One run at a time: the next tick waits for this one.
            let _ = tokio::task::spawn_blocking(move || run(&path, &state, gate)).await;
        }
    });
    token
}

/// What a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ran {
    /// The log was empty (never written, or a writer has just started it over).
    Empty,
    /// Every page of the log was copied by a last pass (`RESTART` if `restart`): the
    /// writers' next transaction starts the log over.
    Copied { restart: bool },
    /// Pages are left: the gate was not taken in time, a reader kept an older page, a
    /// `RESTART` pass timed out, or an error (logged). A later run copies them.
    Behind,
}

/// One run: passive passes until one copies little, then, holding the gate `gate()` gives
/// (`None`: not taken in time), the last pass — passive, or `RESTART` when the log's salts
/// did not change since the last run. Errors are logged (the next run tries again).
fn run<G>(path: &str, state: &Mutex<State>, gate: impl FnOnce() -> Option<G>) -> Ran {
    let Ok(mut state) = state.lock() else {
        return Ran::Behind;
    };
    if state.conn.is_none() {
        state.conn = Connection::open(path)
            .and_then(|c| c.busy_handler(Some(busy)).map(|_| c))
            .map_err(|e| tracing::warn!(error = %e, path, "WAL checkpointer not opened"))
            .ok();
    }
    let Some(conn) = state.conn.as_ref() else {
        return Ran::Behind;
    };
    let began = Instant::now();
    let (mut passes, mut seen) = (0, 0);
    loop {
        passes += 1;
        match pass(conn, "PASSIVE") {
            Ok(Pass { log: 0, .. }) => return Ran::Empty,
            Ok(Pass { log, .. }) if log - seen <= LAST_BELOW || passes >= PASSES => break,
            Ok(Pass { log, .. }) => seen = log,
            Err(e) => {
                tracing::warn!(error = %e, path, "WAL checkpoint failed");
                return Ran::Behind;
            }
        }
    }
    let Some(_gate) = gate() else {
        tracing::debug!(passes, "WAL checkpoint: writers' gate not taken in time");
        return Ran::Behind;
    };
    let salts = log_salts(path);
    let restart = salts.is_some() && salts == state.salts;
    let mode = if restart { "RESTART" } else { "PASSIVE" };
    let outcome = pass(conn, mode);
    state.salts = salts;
    match outcome {
        Ok(p) => {
            let done = !p.busy && p.copied == p.log;
            tracing::debug!(
                passes,
                mode,
                done,
                log = p.log,
                copied = p.copied,
                took_us = began.elapsed().as_micros() as u64,
                "WAL checkpoint"
            );
            if done {
                Ran::Copied { restart }
            } else {
                Ran::Behind
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, path, mode, "WAL checkpoint failed");
            Ran::Behind
        }
    }
}

/// The salts of the log's header (bytes 16..24 of `{path}-wal`), which a writer changes each
/// time it starts the log over; `None` if the log cannot be read.
fn log_salts(path: &str) -> Option<[u8; 8]> {
    let mut header = [0u8; 24];
    std::fs::File::open(format!("{path}-wal"))
        .and_then(|mut f| f.read_exact(&mut header))
        .ok()?;
    header[16..24].try_into().ok()
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

/// The checkpointer's busy handler, for its `RESTART` pass (which waits for readers of older
/// pages, and for writers from outside the gate: another process, a second store on the
/// file): retries every 200 µs, and gives up after ~50 ms (a later run tries again).
fn busy(tries: i32) -> bool {
    std::thread::sleep(Duration::from_micros(200));
    tries < 250
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The WAL header's salts (bytes 16..24), which SQLite changes each time the log starts
    /// over; waits (up to 2 s) for the writer to have written the header.
    fn salts(path: &str) -> [u8; 8] {
        let waited = Instant::now();
        loop {
            match log_salts(path) {
                Some(salts) => return salts,
                None if waited.elapsed() < Duration::from_secs(2) => {
                    std::thread::sleep(Duration::from_millis(5))
                }
                None => panic!("no log header after 2 s"),
            }
        }
    }

    /// A file with a writer that never pauses for long (0.1 ms between commits, with the
    /// order writer's settings), taking `gate` around each transaction as the order writer
    /// takes the store's write connection, and the checkpointer's state.
    struct Busy {
        _dir: tempfile::TempDir,
        path: String,
        gate: Arc<Mutex<()>>,
        stop: Arc<std::sync::atomic::AtomicBool>,
        writes: std::thread::JoinHandle<()>,
        state: Mutex<State>,
    }

    impl Busy {
        fn start() -> Busy {
            let dir = tempfile::tempdir().expect("dir");
            let path = dir.path().join("t.db").to_string_lossy().to_string();
            Connection::open(&path)
                .expect("open")
                .execute_batch(
                    "PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB);",
                )
                .expect("schema");
            let gate = Arc::new(Mutex::new(()));
            let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
            let writes = {
                let (path, gate, stop) = (path.clone(), gate.clone(), stop.clone());
                std::thread::spawn(move || {
                    let conn = Connection::open(path).expect("open");
                    conn.execute_batch("PRAGMA wal_autocheckpoint=0; PRAGMA synchronous=NORMAL;")
                        .expect("pragma");
                    conn.busy_handler(Some(|_| {
                        std::thread::sleep(Duration::from_micros(100));
                        true
                    }))
                    .expect("busy");
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        {
                            let _gate = gate.lock().expect("gate");
                            conn.execute_batch(
                                "BEGIN IMMEDIATE; INSERT INTO t (v) VALUES (randomblob(3000)); \
                                 COMMIT;",
                            )
                            .expect("write");
                        }
                        // As the order writer between batches, answering one and taking the
                        // next.
                        std::thread::sleep(Duration::from_micros(100));
                    }
                })
            };
            std::thread::sleep(Duration::from_millis(50));
            let state = Mutex::new(State::default());
            Busy {
                _dir: dir,
                path,
                gate,
                stop,
                writes,
                state,
            }
        }

        /// A run whose gate is taken by the test (which holds it already).
        fn run_in_gate(&self) -> Ran {
            run(&self.path, &self.state, || Some(()))
        }

        /// A run inside the gate the test `held` ends with a `RESTART` pass, and once the gate
        /// is let go the writer's next commit starts the log over.
        fn restarts(&self, held: std::sync::MutexGuard<'_, ()>) {
            let before = salts(&self.path);
            assert_eq!(self.run_in_gate(), Ran::Copied { restart: true });
            drop(held);
            let after = restarted_since(&self.path, before);
            assert_ne!(before, after, "no commit started the log over");
        }

        /// Stops the writer; its own failures surface here (its row count depends on the
        /// machine's load).
        fn finish(self) {
            self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
            self.writes.join().expect("writer");
        }
    }

    /// Waits (up to 2 s: a loaded machine) for the log's salts to differ from `before`.
    fn restarted_since(path: &str, before: [u8; 8]) -> [u8; 8] {
        let waited = Instant::now();
        let mut after = salts(path);
        while after == before && waited.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
            after = salts(path);
        }
        after
    }

    /// Under a writer that never pauses for long, each run copies every page (its last pass
    /// inside the writers' gate) and the writer's next commit writes from the log's start (new
    /// salts) instead of appending to it for good, as it did with passive checkpoints alone.
    /// A run may find the log empty, the writer having just started it over (and, on a loaded
    /// machine, not yet committed): a round allows 2 s of runs for one to copy.
    #[test]
    fn each_run_lets_the_log_start_over_under_a_busy_writer() {
        let busy = Busy::start();
        let (path, gate) = (busy.path.as_str(), &busy.gate);
        let mut before = salts(path);
        for round in 0..3 {
            let (waited, mut ran) = (Instant::now(), Vec::new());
            while waited.elapsed() < Duration::from_secs(2) {
                ran.push(run(path, &busy.state, || gate.lock().ok()));
                if let Some(Ran::Copied { .. }) = ran.last() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(
                ran.last(),
                Some(&Ran::Copied { restart: false }),
                "round {round}: no passive run copied every page in 2 s: {ran:?}"
            );
            let after = restarted_since(path, before);
            assert_ne!(before, after, "round {round}: the log did not start over");
            before = after;
        }
        busy.finish();
    }

    /// A run ends with a `RESTART` pass only when the writers did not start the log over since
    /// the last run (here: the test holds the gate, so the writer waits at it), and with a
    /// passive one again once they did.
    #[test]
    fn a_run_restarts_the_log_itself_only_when_the_writers_did_not() {
        let busy = Busy::start();
        let gate = &busy.gate;
        let held = gate.lock().expect("gate");
        assert_eq!(busy.run_in_gate(), Ran::Copied { restart: false });
        busy.restarts(held);
        let held = gate.lock().expect("gate");
        assert_eq!(busy.run_in_gate(), Ran::Copied { restart: false });
        drop(held);
        busy.finish();
    }

    /// A reader of an older page keeps the last pass from copying it (the run says so, and no
    /// writer can start the log over while it reads); once it is gone, the next run ends with a
    /// `RESTART` pass, and the writer's next commit starts the log over.
    #[test]
    fn a_reader_of_an_older_page_leaves_the_log_to_a_restart_at_the_next_run() {
        let busy = Busy::start();
        let (path, gate) = (busy.path.as_str(), &busy.gate);
        let reader = Connection::open(path).expect("reader");
        let rows = |reader: &Connection| -> i64 {
            reader
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .expect("count")
        };
        let held = gate.lock().expect("gate");
        reader.execute_batch("BEGIN").expect("begin");
        let seen = rows(&reader);
        drop(held);
        // The writer commits more behind the reader's snapshot.
        let other = Connection::open(path).expect("second reader");
        let waited = Instant::now();
        while rows(&other) == seen && waited.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(1));
        }
        let held = gate.lock().expect("gate");
        assert_eq!(rows(&reader), seen, "the reader's snapshot moved");
        assert_eq!(busy.run_in_gate(), Ran::Behind);
        reader.execute_batch("COMMIT").expect("end of the read");
        busy.restarts(held);
        busy.finish();
    }
}
