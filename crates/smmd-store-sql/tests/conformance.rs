//! The Store conformance suite on both backends: every case of `smmd_store::testsuite` runs once
//! on a fresh SQLite file, once on a SQLite file opened as a hosted child opens it (one
//! connection) and once on a fresh PostgreSQL database.

mod sqlite {
    use smmd_store_sql::testing::{fresh, Backend};
    smmd_store::conformance_tests!(fresh(Backend::Sqlite));
}

/// A hosted child's SQLite file: every case on one connection for reads and writes (a store
/// operation that held a connection while asking for another would wait here forever).
mod sqlite_single {
    use smmd_store_sql::testing::fresh_single;
    smmd_store::conformance_tests!(fresh_single());
}

mod postgres {
    use smmd_store_sql::testing::{fresh, Backend};
    smmd_store::conformance_tests!(fresh(Backend::Postgres));
}

/// Several instances on one PostgreSQL database: a commit by one wakes every other's live feed
/// through `LISTEN smmd_feed`, and the other reads the rows it committed.
mod across_instances {
    use std::time::Duration;

    use smmd_store::prelude::*;
    use smmd_store::{BalanceChange, FeedCursor, FeedRead, FeedSource, LedgerKind, NewUser, Role};
    use smmd_store_sql::testing::{fresh, Backend};
    use smmd_store_sql::{ConnectOptions, SqlStore};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_on_one_instance_wakes_the_feed_of_another() {
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        let other = second_instance(&db).await;
        let head = db.store.feed_head().await.expect("head");
        let mut signal = db.store.feed_signal().await.expect("signal");
        let user = user(&other, "far@x.io").await;
        // A user row is not a feed row: no NOTIFY for it, so only the deposit below wakes us.
        other
            .change_balance(BalanceChange {
                user_id: user.id,
                amount: smmd_domain::Money::parse("2").expect("m"),
                kind: LedgerKind::Deposit,
                key: "far:1".into(),
                reason: String::new(),
                actor_id: None,
                now: 2,
                audit: None,
            })
            .await
            .expect("deposit");
        tokio::time::timeout(Duration::from_secs(5), signal.changed())
            .await
            .expect("the other instance's commit arrives by NOTIFY")
            .expect("signal");
        // Read until nothing is held back: a moment of grace, never a reason to miss the row.
        let mut items = Vec::new();
        for _ in 0..500 {
            items = db.store.feed_after(head, 10).await.expect("feed").items;
            if !items.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].user_id, Some(user.id));
    }

    /// Another instance's store on the same database (its own pools and listener).
    async fn second_instance(db: &smmd_store_sql::testing::TestDb) -> SqlStore {
        SqlStore::connect(
            &db.url,
            ConnectOptions {
                migrate: false,
                ..ConnectOptions::default()
            },
        )
        .await
        .expect("second instance")
    }

    pub(super) async fn user(store: &SqlStore, email: &str) -> smmd_store::User {
        store
            .create_user(NewUser {
                email: email.into(),
                password_hash: "x".into(),
                role: Role::User,
                api_key_hash: None,
                now: 1,
                audit: None,
                referral: None,
            })
            .await
            .expect("user")
    }

    async fn settled(store: &SqlStore, cursor: FeedCursor) -> FeedRead {
        smmd_store::testsuite::settled(store, cursor, 100).await
    }

    /// Two transactions that commit out of id order (issue 15): a slow one writes ledger row N
    /// and stays open while another instance commits row N+1. The feed must not read past N+1
    /// while N can still commit, and then gives both, N first; a feed that follows ids would
    /// read N+1, move its cursor past N and never send N.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_row_committed_behind_a_later_one_is_read_not_skipped() {
        use sqlx::Connection;
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        let other = second_instance(&db).await;
        let ann = user(&db.store, "ann@x.io").await;
        let bob = user(&db.store, "bob@x.io").await;
        let start = settled(&db.store, db.store.feed_head().await.expect("head"))
            .await
            .next;

        // The slow writer: Ann's balance and her ledger row, as the store writes them, in a
        // transaction left open.
        sqlx::any::install_default_drivers();
        let mut slow = sqlx::AnyConnection::connect(&db.url)
            .await
            .expect("connect");
        let mut tx = slow.begin().await.expect("begin");
        sqlx::query("UPDATE users SET balance = balance + 1000000 WHERE id = $1")
            .bind(ann.id.0)
            .execute(&mut *tx)
            .await
            .expect("balance");
        let ann_row: i64 = sqlx::Row::get(
            &sqlx::query(
                "INSERT INTO ledger (user_id, amount, balance_after, idem_key, kind, created_at) \
                 VALUES ($1, 1000000, 1000000, 'slow:1', 'deposit', 3) RETURNING id",
            )
            .bind(ann.id.0)
            .fetch_one(&mut *tx)
            .await
            .expect("ledger row"),
            0,
        );

        // Bob's deposit on the other instance commits first, with the later id.
        other
            .change_balance(BalanceChange {
                user_id: bob.id,
                amount: smmd_domain::Money::parse("2").expect("m"),
                kind: LedgerKind::Deposit,
                key: "bob:1".into(),
                reason: String::new(),
                actor_id: None,
                now: 4,
                audit: None,
            })
            .await
            .expect("deposit");
        let bob_row = db.store.ledger(bob.id, None, 1).await.expect("ledger")[0].id;
        assert!(bob_row > ann_row, "ids {ann_row} then {bob_row}");

        // While Ann's transaction is open, Bob's committed row is held back, not read.
        let early = db.store.feed_after(start, 100).await.expect("feed");
        assert!(
            early.items.is_empty(),
            "read past an open transaction: {early:?}"
        );
        assert!(early.held, "Bob's committed row is reported as held back");

        // Ann's transaction commits: both rows come, hers first (feed order is commit-safe).
        tx.commit().await.expect("commit");
        let read = settled(&db.store, early.next).await;
        let ledger: Vec<i64> = read
            .items
            .iter()
            .filter(|i| i.source == FeedSource::Ledger)
            .map(|i| i.pos.id)
            .collect();
        assert_eq!(ledger, [ann_row, bob_row]);
        // And nothing comes twice.
        assert!(settled(&db.store, read.next).await.items.is_empty());
        // The per-user replay from the start sees Ann's row too.
        let replay = db
            .store
            .feed_of_user_after(ann.id, false, start, 100)
            .await
            .expect("replay");
        assert_eq!(
            replay.iter().map(|i| i.pos.id).collect::<Vec<_>>(),
            [ann_row]
        );
    }

    /// The horizon is this database's (migration `0037`, the push chain's CI flake): a
    /// transaction left open in another database of the same server holds back nothing here,
    /// where it held every row back until it ended. One open here still does, even before it
    /// writes its feed row (its id comes with its first write, to `users`): its row, committed
    /// after a later transaction's, is then read first, not skipped.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn only_this_databases_transactions_hold_the_feed_back() {
        use sqlx::Connection;
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        let elsewhere = fresh(Backend::Postgres).await.expect("a second database");
        let ann = user(&db.store, "ann@x.io").await;
        let bob = user(&db.store, "bob@x.io").await;
        let far = user(&elsewhere.store, "far@x.io").await;
        let start = settled(&db.store, db.store.feed_head().await.expect("head"))
            .await
            .next;
        let deposit = |key: &'static str, now: i64| BalanceChange {
            user_id: bob.id,
            amount: smmd_domain::Money::parse("2").expect("m"),
            kind: LedgerKind::Deposit,
            key: key.into(),
            reason: String::new(),
            actor_id: None,
            now,
            audit: None,
        };
        sqlx::any::install_default_drivers();
        let open_write = |url: String, id: i64| async move {
            let mut c = sqlx::AnyConnection::connect(&url).await.expect("connect");
            sqlx::query("BEGIN").execute(&mut c).await.expect("begin");
            sqlx::query("UPDATE users SET balance = balance + 1000000 WHERE id = $1")
                .bind(id)
                .execute(&mut c)
                .await
                .expect("write");
            c
        };

        // Another database's writer, left open: Bob's deposit here is read at once.
        let mut far_tx = open_write(elsewhere.url.clone(), far.id.0).await;
        db.store
            .change_balance(deposit("bob:1", 2))
            .await
            .expect("deposit");
        let first = db.store.feed_after(start, 100).await.expect("feed");
        assert!(!first.held, "held back by another database: {first:?}");
        let ledger_users = |r: &FeedRead| {
            r.items
                .iter()
                .filter(|i| i.source == FeedSource::Ledger)
                .map(|i| i.user_id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ledger_users(&first), [Some(bob.id)]);

        // A writer here, with an id and no feed row yet: Bob's next deposit waits behind it.
        let mut ann_tx = open_write(db.url.clone(), ann.id.0).await;
        db.store
            .change_balance(deposit("bob:2", 3))
            .await
            .expect("deposit");
        let early = db.store.feed_after(first.next, 100).await.expect("feed");
        assert!(
            early.items.is_empty(),
            "read past an open transaction: {early:?}"
        );
        assert!(early.held, "Bob's row waits behind Ann's open transaction");
        // Ann's ledger row: a later id than Bob's, an earlier transaction. It is read first.
        sqlx::query(
            "INSERT INTO ledger (user_id, amount, balance_after, idem_key, kind, created_at) \
             VALUES ($1, 1000000, 1000000, 'ann:1', 'deposit', 4)",
        )
        .bind(ann.id.0)
        .execute(&mut ann_tx)
        .await
        .expect("ledger row");
        sqlx::query("COMMIT")
            .execute(&mut ann_tx)
            .await
            .expect("commit");
        let read = settled(&db.store, early.next).await;
        assert_eq!(ledger_users(&read), [Some(ann.id), Some(bob.id)]);
        assert!(settled(&db.store, read.next).await.items.is_empty());
        sqlx::query("ROLLBACK")
            .execute(&mut far_tx)
            .await
            .expect("rollback");
    }

    /// Group commit across instances (issue 20): three instances of one database share the
    /// placement storm, each through its own batch writer (`smmd_place_orders`, batches sorted
    /// by user), so their batches lock the same users' rows and race for the same links and
    /// request keys. Every placement answered once, nothing stored twice, balances exact.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn three_instances_placing_at_once_lose_nothing() {
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        let stores: Vec<std::sync::Arc<dyn smmd_store::Store>> = vec![
            db.store.clone(),
            std::sync::Arc::new(second_instance(&db).await),
            std::sync::Arc::new(second_instance(&db).await),
        ];
        smmd_store::testsuite::placement_storm_across(&stores).await;
    }

    /// A batch the server refuses as a whole wrote nothing (one statement), so its orders are
    /// placed one at a time: here the batch function is gone, and every caller still gets its
    /// order or its own refusal, with the storm's every guarantee.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn orders_of_a_refused_batch_are_placed_one_at_a_time() {
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        db.execute("DROP FUNCTION smmd_place_orders(TEXT)").await;
        let store: std::sync::Arc<dyn smmd_store::Store> = db.store.clone();
        smmd_store::testsuite::placement_storm_across(&[store]).await;
    }

    /// The notifier's cursor follows the same order (issue 15): an alert written by a slow
    /// transaction and committed after a later one is still turned into notifications; a cursor
    /// that followed ids would have moved past it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_notifier_reads_alerts_in_commit_order_too() {
        use smmd_domain::alert::AlertKind;
        use sqlx::Connection;
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        settled(&db.store, db.store.feed_head().await.expect("head")).await;
        let start = db.store.notify_cursor("alerts").await.expect("cursor");
        sqlx::any::install_default_drivers();
        let mut slow = sqlx::AnyConnection::connect(&db.url)
            .await
            .expect("connect");
        let mut tx = slow.begin().await.expect("begin");
        let first: i64 = sqlx::Row::get(
            &sqlx::query(
                "INSERT INTO alerts (kind, subject, message, created_at, updated_at) \
                 VALUES ('provider_balance_low', 'provider:1', 'slow', 1, 1) RETURNING id",
            )
            .fetch_one(&mut *tx)
            .await
            .expect("alert"),
            0,
        );
        db.store
            .raise_alert(AlertKind::OrderNeedsReview, "order:9", "fast", 2)
            .await
            .expect("alert");
        let (early, at) = db.store.alerts_after(start, 100).await.expect("alerts");
        assert!(early.is_empty(), "read past an open transaction: {early:?}");
        assert_eq!(at, start, "the cursor stays before the open transaction");
        tx.commit().await.expect("commit");
        let mut read = Vec::new();
        for _ in 0..500 {
            read = db.store.alerts_after(start, 100).await.expect("alerts").0;
            if read.len() == 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            read.iter()
                .map(|a| (a.id, a.message.as_str()))
                .collect::<Vec<_>>(),
            [(first, "slow"), (first + 1, "fast")]
        );
    }
}

/// SQLite has one writer: a release pass or a payout run step stops taking rows once its
/// transaction has run `TX_BUDGET` (15 ms) and leaves the rest to the next call; the calls
/// together approve each due commission and record each candidate exactly once.
mod sqlite_writer {
    use smmd_domain::affiliate::calendar::{Date, RunKind};
    use smmd_store::prelude::*;
    use smmd_store::NewPayoutRun;
    use smmd_store_sql::testing::{fresh, seed_affiliates, Backend};

    /// 2027-02-01T02:00Z, the first Monday of February 2027.
    const T: i64 = 1_801_792_800_000;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn long_steps_are_cut_at_the_budget_and_resumed_exactly_once() {
        let db = fresh(Backend::Sqlite).await.expect("sqlite");
        seed_affiliates(&db.url, 2_000, 20_000, T)
            .await
            .expect("seed");
        // One call may take all 2,000 due commissions; it stops far short of them.
        let first = db
            .store
            .release_commissions(T, 2_000)
            .await
            .expect("release");
        assert!(
            first.more && first.approved > 0 && first.approved < 2_000,
            "{first:?}"
        );
        let mut approved = first.approved;
        let mut passes = 1;
        loop {
            let r = db
                .store
                .release_commissions(T, 2_000)
                .await
                .expect("release");
            approved += r.approved;
            passes += 1;
            if !r.more {
                break;
            }
        }
        assert_eq!(
            approved, 2_000,
            "every due commission once, in {passes} passes"
        );
        assert_eq!(
            db.store
                .release_commissions(T, 2_000)
                .await
                .expect("again")
                .approved,
            0
        );
        let run = NewPayoutRun {
            kind: RunKind::All,
            date: Date::of(T),
            scheduled_at: T,
        };
        let (mut after, mut created, mut steps) = (0, 0, 0);
        loop {
            let s = db
                .store
                .run_payouts(&run, after, 2_000, T + 60_000)
                .await
                .expect("step");
            steps += 1;
            created += s.created;
            after = s.cursor;
            if !s.more {
                assert_eq!(s.run.candidates, 2_000, "each candidate once");
                assert_eq!(s.run.payouts, created);
                break;
            }
        }
        assert!(steps > 1, "a step of 2,000 candidates is cut");
        assert_eq!(created, 1_800, "the nine in ten with an approved method");
        assert!(db
            .store
            .affiliate_mismatches()
            .await
            .expect("mismatches")
            .is_empty());
    }
}

/// Hosted children on PostgreSQL: many schemas' stores on one [`SharedPool`]. Each
/// connection is pointed at the schema of the store that takes it, so interleaved reads,
/// writes and transactions of two children land in their own schemas, never the root's, and
/// together they hold no more connections than the shared pool allows.
mod shared_pool {
    use std::time::Duration;

    use smmd_domain::Money;
    use smmd_store::prelude::*;
    use smmd_store::{BalanceChange, LedgerKind};
    use smmd_store_sql::testing::{fresh, Backend};
    use smmd_store_sql::{ConnectOptions, SharedPool, SqlStore};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn children_on_one_pool_keep_to_their_own_schemas() {
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        let shared = SharedPool::connect(&db.url, 2, Duration::from_secs(30)).expect("pool");
        let open = |schema: &'static str| {
            let (url, shared) = (db.url.clone(), shared.clone());
            async move {
                SqlStore::connect(
                    &url,
                    ConnectOptions {
                        schema: Some(schema.into()),
                        shared: Some(shared),
                        ..ConnectOptions::default()
                    },
                )
                .await
                .expect("child store")
            }
        };
        let (a, b) = (open("tenant_a").await, open("tenant_b").await);
        // The same e-mail in each (unique per schema), then deposits interleaved on two tasks.
        let ua = user(&a).await;
        let ub = user(&b).await;
        let run = |store: SqlStore, user: smmd_domain::UserId, cents: i64| async move {
            for i in 0..20 {
                deposit(&store, user, cents, i).await;
                let u = store.user(user).await.expect("read").expect("own user");
                assert_eq!(u.email, "same@x.io");
            }
            store
        };
        let (a, b) = tokio::join!(tokio::spawn(run(a, ua, 1)), tokio::spawn(run(b, ub, 3)));
        let (a, b) = (a.expect("a"), b.expect("b"));
        let balance =
            |s: SqlStore, u| async move { s.user(u).await.expect("read").expect("user").balance };
        assert_eq!(balance(a, ua).await, Money::parse("0.20").expect("m"));
        assert_eq!(balance(b, ub).await, Money::parse("0.60").expect("m"));
        assert!(shared.size() <= 2, "{} connections", shared.size());
        // Nothing reached the root's schema.
        assert_eq!(db.scalar("SELECT COUNT(*) FROM users").await, 0);
        assert_eq!(db.scalar("SELECT COUNT(*) FROM tenant_a.ledger").await, 20);
    }

    async fn user(store: &SqlStore) -> smmd_domain::UserId {
        super::across_instances::user(store, "same@x.io").await.id
    }

    async fn deposit(store: &SqlStore, user: smmd_domain::UserId, cents: i64, i: i64) {
        store
            .change_balance(BalanceChange {
                user_id: user,
                amount: Money::from_micros(cents * 10_000),
                kind: LedgerKind::Deposit,
                key: format!("d:{i}"),
                reason: String::new(),
                actor_id: None,
                now: 2 + i,
                audit: None,
            })
            .await
            .expect("deposit");
    }
}
