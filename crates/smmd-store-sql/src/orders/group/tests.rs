//! The group commit's tests: the savepoint-free path against savepoints, the placement
//! statements' plans.

use super::*;
use crate::testing::{fresh, Backend};

use smmd_domain::service::{validate_order, OrderInput};
use smmd_domain::UserId;
use smmd_store::testsuite::{followers, user, NOW};
use smmd_store::Store;

/// Two databases seeded alike (a rich, a poor and a third user; one service at 0.90 per
/// 1000, so 100 cost 0.09), each with the writer's connection; and the placements of
/// `orders` — (user 0/1/2, link) — for them.
async fn twins(orders: &[(usize, &str)]) -> (Vec<crate::testing::TestDb>, Vec<NewOrder>) {
    let mut dbs = Vec::new();
    let mut news = Vec::new();
    for _ in 0..2 {
        let db = fresh(Backend::Sqlite).await.expect("db");
        let store: std::sync::Arc<dyn Store> = db.store.clone();
        let users = [
            user(&store, "rich@example.com", "1000").await.id,
            user(&store, "poor@example.com", "0.10").await.id,
            user(&store, "third@example.com", "1000").await.id,
        ];
        let service = followers(&store).await;
        if news.is_empty() {
            for (who, link) in orders {
                let input = OrderInput {
                    link: Some(format!("https://instagram.com/{link}")),
                    quantity: Some("100".into()),
                    ..Default::default()
                };
                let spec = validate_order(&service.rules(), &input).expect("spec");
                news.push(
                    NewOrder::new(users[*who], &service, &spec, Default::default(), NOW)
                        .expect("new order"),
                );
            }
        }
        dbs.push(db);
    }
    (dbs, news)
}

fn writer(db: &crate::testing::TestDb) -> Connection {
    open(db.url.trim_start_matches("sqlite://")).expect("open")
}

/// Every row the placements write or change, in a comparable form.
fn dump(conn: &Connection) -> Vec<String> {
    let mut out = Vec::new();
    for table in [
        "orders",
        "ledger",
        "order_events",
        "users",
        "sqlite_sequence",
    ] {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .expect("select");
        let n = stmt.column_count();
        let mut rows = stmt.raw_query();
        while let Some(row) = rows.next().expect("row") {
            let values: Vec<rusqlite::types::Value> =
                (0..n).map(|i| row.get(i).expect("value")).collect();
            out.push(format!("{table} {values:?}"));
        }
    }
    out
}

/// What each placement came to, in a comparable form.
fn outcomes(reads: &[Read]) -> Vec<String> {
    reads
        .iter()
        .map(|r| match r {
            Read::Order(o) => format!("order #{} {}", o.id, o.charge),
            Read::Refused(PlaceOrderError::Rejected(e)) => format!("refused: {e:?}"),
            Read::Refused(PlaceOrderError::Store(_)) => "failed".to_string(),
            Read::Alone => "alone".to_string(),
        })
        .collect()
}

/// The batch placed with a savepoint per order, as before the savepoint-free path.
fn with_savepoints(conn: &mut Connection, news: &[&NewOrder]) -> Vec<Read> {
    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
    let placed = news
        .iter()
        .map(|new| in_savepoint(conn, new))
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("placed");
    conn.execute_batch("COMMIT").expect("commit");
    read_back(conn, placed).expect("read back")
}

/// Refusals in the middle of a batch placed without savepoints (no funds, whose order row
/// is taken back; a second active order for a link, whose row is never written) leave
/// every table — ids and the AUTOINCREMENT counter included — exactly as a savepoint per
/// order leaves them, and the answers are the same.
#[tokio::test]
async fn refusals_without_savepoints_write_what_savepoints_would() {
    let (dbs, news) = twins(&[(0, "a"), (1, "b"), (1, "c"), (0, "a"), (2, "d"), (1, "e")]).await;
    let news: Vec<&NewOrder> = news.iter().collect();
    let mut fast = writer(&dbs[0]);
    let got = in_one_transaction(&mut fast, &news).expect("batch");
    let mut slow = writer(&dbs[1]);
    let want = with_savepoints(&mut slow, &news);
    // The poor user (0.10) pays for one order of 0.09: the second and third are refused.
    let said = outcomes(&got);
    assert_eq!(said, outcomes(&want));
    assert!(
        said[0].starts_with("order #") && said[1].starts_with("order #"),
        "{said:?}"
    );
    assert!(said[2].contains("InsufficientFunds"), "{said:?}");
    assert!(said[3].contains("ActiveOrderWithLink"), "{said:?}");
    assert!(said[5].contains("InsufficientFunds"), "{said:?}");
    assert_eq!(dump(&fast), dump(&slow));
    // Each placed order's reference is built from the id it was placed under, which the
    // writer read before its insert: a refused order's id is taken by the next one.
    for (new, read) in news.iter().zip(&got) {
        if let Read::Order(o) = read {
            assert_eq!(o.reference, new.reference(o.id));
        }
    }
    let next_id: i64 = fast
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'orders'",
            [],
            |r| r.get(0),
        )
        .expect("seq");
    assert_eq!(
        next_id, 3,
        "three orders placed, the refused ones' ids taken back"
    );
}

/// A statement failing after the order row and the debit (here a trigger refusing one
/// user's `placed` event) cannot be undone by hand: the batch is rolled back and placed
/// again with savepoints, which fail that order alone; the others are placed, and the
/// result is what savepoints alone would write.
#[tokio::test]
async fn a_failure_past_the_debit_places_the_batch_again_with_savepoints() {
    let (dbs, news) = twins(&[(0, "a"), (2, "b"), (0, "c")]).await;
    let news: Vec<&NewOrder> = news.iter().collect();
    let third = news[1].user.0;
    let trigger = format!(
        "CREATE TRIGGER refuse_event BEFORE INSERT ON order_events \
         WHEN NEW.user_id = {third} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
    );
    let mut fast = writer(&dbs[0]);
    let mut slow = writer(&dbs[1]);
    fast.execute_batch(&trigger).expect("trigger");
    slow.execute_batch(&trigger).expect("trigger");
    let got = in_one_transaction(&mut fast, &news).expect("batch");
    let want = with_savepoints(&mut slow, &news);
    let said = outcomes(&got);
    assert_eq!(said, outcomes(&want));
    assert!(said[0].starts_with("order #"), "{said:?}");
    assert_eq!(said[1], "failed");
    assert!(said[2].starts_with("order #"), "{said:?}");
    assert_eq!(dump(&fast), dump(&slow));
    let third_balance: i64 = fast
        .query_row("SELECT balance FROM users WHERE id = $1", [third], |r| {
            r.get(0)
        })
        .expect("balance");
    assert_eq!(
        third_balance, 1_000_000_000,
        "the failed order's debit was undone"
    );
}

/// The temporary b-trees SQLite opens to run `sql` (`OpenEphemeral` in its program).
fn temporary_btrees(conn: &Connection, sql: &str) -> usize {
    let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).expect("explain");
    let mut rows = stmt.raw_query();
    let mut n = 0;
    while let Some(row) = rows.next().expect("row") {
        if row.get::<_, String>(1).expect("opcode") == "OpenEphemeral" {
            n += 1;
        }
    }
    n
}

/// Each placement's statements on a migrated file: the only temporary b-tree left is the
/// active-link index's status list (a partial index's condition); the CHECK lists of
/// `orders`, `ledger` and `order_events` (migration 0034) and `RETURNING` built five more.
#[tokio::test]
async fn placing_an_order_builds_one_temporary_btree() {
    let db = fresh(Backend::Sqlite).await.expect("db");
    let path = db.url.trim_start_matches("sqlite://").to_string();
    let conn = open(&path).expect("open");
    assert_eq!(temporary_btrees(&conn, INSERT_ORDER), 1, "{INSERT_ORDER}");
    for sql in [SQLITE_DEBIT, INSERT_LEDGER, INSERT_EVENT] {
        assert_eq!(temporary_btrees(&conn, sql), 0, "{sql}");
    }
    // The rules still hold: a status or kind outside the lists is refused.
    let refused = conn.execute(
        "INSERT INTO order_events (order_id, user_id, kind, status, amount, detail, created_at) \
         VALUES (1, 1, 'nonsense', 'queued', 0, '', 0)",
        [],
    );
    assert!(
        matches!(&refused, Err(rusqlite::Error::SqliteFailure(f, _)) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_CHECK),
        "{refused:?}"
    );
    let refused = conn.execute(
        "INSERT INTO ledger (user_id, amount, balance_after, idem_key, kind, reason, created_at) \
         VALUES (1, 1, 1, 'k', 'gift', '', 0)",
        [],
    );
    assert!(
        matches!(&refused, Err(rusqlite::Error::SqliteFailure(f, _)) if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_CHECK),
        "{refused:?}"
    );
    let sql: String = conn
        .query_row(
            "SELECT sql FROM sqlite_schema WHERE name = 'orders'",
            [],
            |r| r.get(0),
        )
        .expect("orders");
    assert!(sql.contains("status = 'in_progress' OR"), "{sql}");
    assert_eq!(
        conn.query_row("PRAGMA integrity_check", [], |r| r.get::<_, String>(0))
            .expect("check"),
        "ok"
    );
}

/// With several writers (PostgreSQL's), each user's placements take one queue, in their order
/// of arrival: two writers never hold the same user's row lock at once, and a user's orders
/// are debited first come, first served.
#[tokio::test]
async fn a_users_placements_all_take_the_same_writers_queue_in_order() {
    let sent = [
        (0, "a"),
        (1, "b"),
        (2, "c"),
        (0, "d"),
        (2, "e"),
        (1, "f"),
        (0, "g"),
    ];
    let (_dbs, news) = twins(&sent).await;
    let (placer, mut queues) = Placer::queues(2);
    let placer = std::sync::Arc::new(placer);
    let queued = |queues: &[mpsc::Receiver<Job>]| queues.iter().map(|q| q.len()).sum::<usize>();
    let mut waiting = Vec::new();
    for (i, new) in news.into_iter().enumerate() {
        let placer = placer.clone();
        // Its answer never comes: the test reads the queues instead of running writers.
        waiting.push(tokio::spawn(async move { placer.place(new).await.is_ok() }));
        while queued(&queues) <= i {
            tokio::task::yield_now().await;
        }
    }
    // Per queue: (user, link) as queued.
    let mut seen: Vec<Vec<(UserId, String)>> = Vec::new();
    for queue in &mut queues {
        let mut jobs = Vec::new();
        while let Ok(job) = queue.try_recv() {
            let link = job.new.link.clone().unwrap_or_default();
            jobs.push((job.new.user, link.replace("https://instagram.com/", "")));
        }
        seen.push(jobs);
    }
    assert!(
        seen.iter().all(|jobs| !jobs.is_empty()),
        "both writers get users: {seen:?}"
    );
    let mut users: Vec<UserId> = Vec::new();
    for jobs in &seen {
        for (user, _) in jobs {
            let queues_of_user = seen
                .iter()
                .filter(|q| q.iter().any(|(u, _)| u == user))
                .count();
            assert_eq!(queues_of_user, 1, "user {user:?} in one queue: {seen:?}");
            if !users.contains(user) {
                users.push(*user);
            }
        }
    }
    // Each user's links in their order of arrival: a, d, g; b, f; c, e.
    let mut by_user: Vec<Vec<String>> = users
        .iter()
        .map(|user| {
            let queue = seen.iter().find(|q| q.iter().any(|(u, _)| u == user));
            let jobs = queue.map(Vec::as_slice).unwrap_or_default();
            jobs.iter()
                .filter(|(u, _)| u == user)
                .map(|(_, l)| l.clone())
                .collect()
        })
        .collect();
    by_user.sort();
    assert_eq!(
        by_user,
        [vec!["a", "d", "g"], vec!["b", "f"], vec!["c", "e"]]
    );
    drop(queues);
    for task in waiting {
        assert!(!task.await.expect("task"), "no writer answered");
    }
}
