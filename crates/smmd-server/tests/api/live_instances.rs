//! The live feed across instances (issue 15): two servers over one database, writers on both
//! committing at once, and slow transactions that commit behind rows with later ids. Every
//! ledger row of a user reaches each of that user's pages, on either instance, exactly once,
//! as the page script applies them (a message whose `(tx, seq)` is not beyond what the page
//! applied of its source is skipped), whether the page opened before the writes or during them.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::Value;
use smmd_domain::{Money, UserId};
use smmd_store::{FeedCursor, FeedPos, Role, User};
use smmd_store_sql::testing::Backend;
use sqlx::Connection;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::TestApp;
use crate::live::{page_feed, pos};

const USERS: usize = 4;
/// Writer tasks per instance, and deposits per writer.
const WRITERS: usize = 3;
const DEPOSITS: usize = 30;
/// Transactions held open while others commit.
const SLOW: usize = 8;

/// A page as `app.js` keeps it: its feed position per source and the ledger rows it applied.
struct Page {
    user: UserId,
    /// The page's own position (`<body data-feed>`): what it already shows.
    start: FeedCursor,
    applied: Arc<Mutex<Vec<i64>>>,
    /// Messages the page skipped as already applied (overlaps of page, replay and live).
    skipped: Arc<Mutex<u64>>,
    task: tokio::task::JoinHandle<()>,
}

impl Page {
    /// Opens `/orders` on `app` as `email` and connects its socket from the page's position.
    async fn open(app: &TestApp, user: &User) -> Page {
        let (cookie, _) = app.session(&user.email).await;
        let start = page_feed(app, &cookie, None).await;
        let mut req = format!("{}/ws?after={start}", app.base.replace("http://", "ws://"))
            .into_client_request()
            .expect("request");
        req.headers_mut()
            .insert("cookie", HeaderValue::from_str(&cookie).expect("cookie"));
        let (mut socket, _) = tokio_tungstenite::connect_async(req).await.expect("socket");
        let applied = Arc::new(Mutex::new(Vec::new()));
        let skipped = Arc::new(Mutex::new(0));
        let (a, k) = (applied.clone(), skipped.clone());
        let task = tokio::spawn(async move {
            let mut at: HashMap<String, FeedPos> = [
                ("e", start.events),
                ("l", start.ledger),
                ("n", start.notifications),
                ("a", start.alerts),
            ]
            .into_iter()
            .map(|(s, p)| (s.to_string(), p))
            .collect();
            while let Some(Ok(msg)) = socket.next().await {
                let Message::Text(text) = msg else { continue };
                let m: Value = serde_json::from_str(&text).expect("json");
                let Some(src) = m["src"].as_str() else {
                    continue;
                };
                let p = pos(&m);
                let seen = at.get_mut(src).expect("a known source");
                if p <= *seen {
                    *k.lock().expect("lock") += 1;
                    continue;
                }
                *seen = p;
                if src == "l" {
                    a.lock().expect("lock").push(p.id);
                }
            }
        });
        Page {
            user: user.id,
            start,
            applied,
            skipped,
            task,
        }
    }
}

/// `(id, tx)` of every ledger row of `user` (tx is 0 on SQLite).
async fn ledger_rows(app: &TestApp, user: UserId) -> Vec<FeedPos> {
    let tx = match app.backend() {
        Backend::Postgres => "tx",
        Backend::Sqlite => "0",
    };
    let mut conn = sqlx::AnyConnection::connect(&app.db_url)
        .await
        .expect("connect");
    sqlx::query(&format!(
        "SELECT id, {tx} AS tx FROM ledger WHERE user_id = $1 ORDER BY id"
    ))
    .bind(user.0)
    .fetch_all(&mut conn)
    .await
    .expect("rows")
    .iter()
    .map(|r| FeedPos::new(sqlx::Row::get(r, "tx"), sqlx::Row::get(r, "id")))
    .collect()
}

/// A deposit written by hand in a transaction held open for `hold`, as a slow instance would:
/// its ledger row takes an id, then rows with later ids commit before it.
async fn slow_deposit(url: String, user: UserId, n: usize, hold: Duration) {
    let mut conn = sqlx::AnyConnection::connect(&url).await.expect("connect");
    let mut tx = conn.begin().await.expect("begin");
    let balance: i64 = sqlx::Row::get(
        &sqlx::query("UPDATE users SET balance = balance + 10000 WHERE id = $1 RETURNING balance")
            .bind(user.0)
            .fetch_one(&mut *tx)
            .await
            .expect("balance"),
        0,
    );
    sqlx::query(
        "INSERT INTO ledger (user_id, amount, balance_after, idem_key, kind, created_at) \
         VALUES ($1, 10000, $2, $3, 'deposit', 1)",
    )
    .bind(user.0)
    .bind(balance)
    .bind(format!("slow:{n}"))
    .execute(&mut *tx)
    .await
    .expect("ledger row");
    tokio::time::sleep(hold).await;
    tx.commit().await.expect("commit");
}

pub async fn every_row_reaches_every_page_once_across_two_instances(app: TestApp) {
    sqlx::any::install_default_drivers();
    let second = app.sibling().await;
    let mut users = Vec::new();
    for i in 0..USERS {
        users.push(app.account(&format!("u{i}@x.io"), Role::User, "0").await.0);
    }
    // Each user has a page open on each instance before anything is written.
    let mut pages = Vec::new();
    for u in &users {
        pages.push(Page::open(&app, u).await);
        pages.push(Page::open(&second, u).await);
    }

    // The writers: deposits through the store of each instance, and slow transactions.
    let store_writers = |inst: &TestApp, tag: &'static str| {
        (0..WRITERS)
            .map(|w| {
                let store = inst.store.clone();
                let users: Vec<UserId> = users.iter().map(|u| u.id).collect();
                tokio::spawn(async move {
                    for d in 0..DEPOSITS {
                        store
                            .change_balance(smmd_store::BalanceChange {
                                user_id: users[(w * 7 + d) % USERS],
                                amount: Money::parse("0.01").expect("m"),
                                kind: smmd_store::LedgerKind::Deposit,
                                key: format!("{tag}:{w}:{d}"),
                                reason: String::new(),
                                actor_id: None,
                                now: 1,
                                audit: None,
                            })
                            .await
                            .expect("deposit");
                    }
                })
            })
            .collect::<Vec<_>>()
    };
    let mut writers = store_writers(&app, "one");
    writers.extend(store_writers(&second, "two"));
    for n in 0..SLOW {
        let hold = Duration::from_millis(20 + 15 * n as u64);
        writers.push(tokio::spawn(slow_deposit(
            app.db_url.clone(),
            users[n % USERS].id,
            n,
            hold,
        )));
    }
    // While they write, each user opens one more page on the second instance: its socket
    // replays from a position in the middle of the writes.
    tokio::time::sleep(Duration::from_millis(30)).await;
    for u in &users {
        pages.push(Page::open(&second, u).await);
    }
    for w in writers {
        w.await.expect("writer");
    }

    // Every page gets every row of its user committed after its position, once.
    let mut expected: BTreeMap<UserId, Vec<FeedPos>> = BTreeMap::new();
    for u in &users {
        expected.insert(u.id, ledger_rows(&app, u.id).await);
    }
    let total: usize = expected.values().map(Vec::len).sum();
    assert_eq!(total, 2 * WRITERS * DEPOSITS + SLOW);
    let missing = |page: &Page| {
        let applied = page.applied.lock().expect("lock").clone();
        expected[&page.user]
            .iter()
            .filter(|p| **p > page.start.ledger && !applied.contains(&p.id))
            .count()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while pages.iter().any(|p| missing(p) > 0) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Late duplicates would arrive now.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut skipped = 0;
    for (i, page) in pages.iter().enumerate() {
        let applied = page.applied.lock().expect("lock").clone();
        let mut want: Vec<i64> = expected[&page.user]
            .iter()
            .filter(|p| **p > page.start.ledger)
            .map(|p| p.id)
            .collect();
        want.sort_unstable();
        let mut got = applied.clone();
        got.sort_unstable();
        assert_eq!(
            got,
            want,
            "page {i} of user {:?} (from {}): applied {} rows, {} of them once; expected {}",
            page.user,
            page.start,
            applied.len(),
            {
                let mut d = applied.clone();
                d.dedup();
                d.len()
            },
            want.len()
        );
        skipped += *page.skipped.lock().expect("lock");
    }
    eprintln!(
        "{} pages, {total} ledger rows ({SLOW} committed behind later ones): every page applied \
         each of its rows once; {skipped} overlapping messages skipped",
        pages.len()
    );
    for p in pages {
        p.task.abort();
    }
}
