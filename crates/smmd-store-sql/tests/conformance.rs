//! The Store conformance suite on both backends: every case of `smmd_store::testsuite` runs once
//! on a fresh SQLite file and once on a fresh PostgreSQL database.

mod sqlite {
    use smmd_store_sql::testing::{fresh, Backend};
    smmd_store::conformance_tests!(fresh(Backend::Sqlite));
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
    use smmd_store::{BalanceChange, LedgerKind, NewUser, Role};
    use smmd_store_sql::testing::{fresh, Backend};
    use smmd_store_sql::{ConnectOptions, SqlStore};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_commit_on_one_instance_wakes_the_feed_of_another() {
        let Some(db) = fresh(Backend::Postgres).await else {
            return;
        };
        let other = SqlStore::connect(
            &db.url,
            ConnectOptions {
                migrate: false,
                ..ConnectOptions::default()
            },
        )
        .await
        .expect("second instance");
        let head = db.store.feed_head().await.expect("head");
        let mut signal = db.store.feed_signal().await.expect("signal");
        let user = other
            .create_user(NewUser {
                email: "far@x.io".into(),
                password_hash: "x".into(),
                role: Role::User,
                api_key_hash: None,
                now: 1,
                audit: None,
            })
            .await
            .expect("user");
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
        let (items, _) = db.store.feed_after(head, 10).await.expect("feed");
        assert_eq!(items.len(), 1);
        assert_eq!(items[0].user_id, Some(user.id));
    }
}
