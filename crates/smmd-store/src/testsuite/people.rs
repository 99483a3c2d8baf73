//! Conformance cases — the admin's view of customers: search, sessions, notes, custom rates.

use crate::*;
use smmd_domain::custom_rate::{CustomPrice, CustomRate};
use smmd_domain::{Money, ServiceId, UserId};
use std::sync::Arc;

use super::*;

pub async fn customers_are_searched_noted_and_priced_by_their_custom_rates(store: Arc<dyn Store>) {
    let ann = user(&store, "ann@shop.io", "10").await;
    let bob = user(&store, "Bob_50%@other.io", "0").await;
    let admin = user(&store, "root@shop.io", "0").await;
    store
        .set_role(admin.id, Role::Admin, None)
        .await
        .expect("role");
    let svc = followers(&store).await;
    place(&store, ann.id, &svc, "https://instagram.com/ann", 100)
        .await
        .expect("order");

    let q = |text: Option<&str>| UserQuery {
        text: text.map(str::to_string),
        limit: 50,
        ..UserQuery::default()
    };
    let ids = |v: Vec<UserSummary>| v.into_iter().map(|s| s.user.id).collect::<Vec<_>>();
    assert_eq!(
        ids(store.search_users(&q(None)).await.expect("all")),
        vec![admin.id, bob.id, ann.id],
        "newest first"
    );
    assert_eq!(
        ids(store.search_users(&q(Some("SHOP.io"))).await.expect("text")),
        vec![admin.id, ann.id],
        "case-insensitive substring"
    );
    assert_eq!(
        ids(store.search_users(&q(Some("_50%"))).await.expect("wild")),
        vec![bob.id],
        "% and _ match themselves"
    );
    assert_eq!(
        ids(store
            .search_users(&q(Some(&format!("#{}", bob.id.0))))
            .await
            .expect("id")),
        vec![bob.id]
    );
    let admins = UserQuery {
        role: Some(Role::Admin),
        limit: 50,
        ..UserQuery::default()
    };
    assert_eq!(
        ids(store.search_users(&admins).await.expect("role")),
        vec![admin.id]
    );
    let page = UserQuery {
        before: Some(bob.id),
        limit: 50,
        ..UserQuery::default()
    };
    assert_eq!(
        ids(store.search_users(&page).await.expect("page")),
        vec![ann.id]
    );
    store
        .set_user_blocked(bob.id, true, NOW, None)
        .await
        .expect("block");
    let blocked = UserQuery {
        blocked: Some(true),
        limit: 50,
        ..UserQuery::default()
    };
    let found = store.search_users(&blocked).await.expect("blocked");
    assert_eq!(ids(found.clone()), vec![bob.id]);
    assert_eq!(found[0].blocked_at, Some(NOW));
    let s = store
        .user_summary(ann.id)
        .await
        .expect("summary")
        .expect("ann");
    assert_eq!((s.orders, s.blocked_at), (1, None));
    assert!(store
        .user_summary(UserId(999_999))
        .await
        .expect("none")
        .is_none());

    // Sessions: live ones listed, ended together.
    for (t, exp) in [("s1", NOW + 1_000), ("s2", NOW + 2_000), ("old", NOW - 1)] {
        store
            .create_session(t, ann.id, "c", NOW - 10, exp, false)
            .await
            .expect("session");
    }
    assert_eq!(
        store.user_sessions(ann.id, NOW).await.expect("list").len(),
        2
    );
    assert_eq!(store.end_user_sessions(ann.id, None).await.expect("end"), 3);
    assert!(store
        .user_sessions(ann.id, NOW)
        .await
        .expect("list")
        .is_empty());

    // Notes, newest first.
    for body in ["called about refill", "VIP"] {
        store
            .add_user_note(NewUserNote {
                user_id: ann.id,
                author_id: Some(admin.id),
                author: admin.email.clone(),
                body: body.into(),
                now: NOW,
            })
            .await
            .expect("note");
    }
    let notes = store.user_notes(ann.id, 10).await.expect("notes");
    assert_eq!(
        notes.iter().map(|n| n.body.as_str()).collect::<Vec<_>>(),
        vec!["VIP", "called about refill"]
    );
    assert!(matches!(
        store
            .add_user_note(NewUserNote {
                user_id: UserId(999_999),
                author_id: None,
                author: "x".into(),
                body: "x".into(),
                now: NOW,
            })
            .await,
        Err(StoreError::NotFound)
    ));

    // Custom rates: set, replaced, removed; unknown service or account refused.
    let fixed = CustomPrice::Fixed(Money::parse("0.5").expect("m"));
    store
        .set_custom_rate(ann.id, None, Some(CustomPrice::Discount(1_000)), NOW, None)
        .await
        .expect("all");
    store
        .set_custom_rate(
            ann.id,
            Some(svc.id),
            Some(CustomPrice::Discount(2_000)),
            NOW,
            None,
        )
        .await
        .expect("service");
    store
        .set_custom_rate(ann.id, Some(svc.id), Some(fixed), NOW, None)
        .await
        .expect("replaced");
    assert_eq!(
        store.custom_rates(ann.id).await.expect("rates"),
        vec![
            CustomRate {
                service_id: None,
                price: CustomPrice::Discount(1_000)
            },
            CustomRate {
                service_id: Some(svc.id.0),
                price: fixed
            },
        ]
    );
    assert!(store.custom_rates(bob.id).await.expect("none").is_empty());
    store
        .set_custom_rate(ann.id, None, None, NOW, None)
        .await
        .expect("removed");
    assert_eq!(store.custom_rates(ann.id).await.expect("rates").len(), 1);
    assert!(matches!(
        store
            .set_custom_rate(ann.id, Some(ServiceId(999_999)), Some(fixed), NOW, None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        store
            .set_custom_rate(
                UserId(999_999),
                None,
                Some(CustomPrice::Discount(5)),
                NOW,
                None
            )
            .await,
        Err(StoreError::NotFound)
    ));
    assert_ledger_consistent(&store).await;
}
