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

/// [`OrderStore::order_context`] reads what the separate reads would: the service as
/// [`Store::service`], the live rentals as [`Store::live_entitlements`] and the custom rates
/// that can price the service (every service's and its own, not another service's).
pub async fn the_order_context_is_the_service_and_what_prices_it_for_the_user(
    store: Arc<dyn Store>,
) {
    let plan = super::billing::enabled_with_plan(&store, "0").await;
    let ann = user(&store, "context@shop.io", "100").await;
    let bob = user(&store, "context-bob@shop.io", "0").await;
    let svc = followers(&store).await;
    let other = followers(&store).await;
    // Nobody's rates yet, no rentals: the service alone.
    let bare = store.order_context(ann.id, svc.id).await.expect("bare");
    assert_eq!(bare.service, store.service(svc.id).await.expect("service"));
    assert!(bare.service.is_some() && bare.live.is_empty() && bare.custom.is_empty());

    store.rent(ann.id, plan.id, NOW).await.expect("rent");
    let every = CustomRate {
        service_id: None,
        price: CustomPrice::Discount(500),
    };
    let own = CustomRate {
        service_id: Some(svc.id.0),
        price: CustomPrice::Fixed(Money::parse("0.25").expect("m")),
    };
    store
        .set_custom_rate(ann.id, None, Some(every.price), NOW, None)
        .await
        .expect("every");
    store
        .set_custom_rate(ann.id, Some(svc.id), Some(own.price), NOW, None)
        .await
        .expect("own");
    store
        .set_custom_rate(
            ann.id,
            Some(other.id),
            Some(CustomPrice::Discount(3_000)),
            NOW,
            None,
        )
        .await
        .expect("other's");
    store
        .set_custom_rate(
            bob.id,
            Some(svc.id),
            Some(CustomPrice::Discount(9_000)),
            NOW,
            None,
        )
        .await
        .expect("bob's");

    let ctx = store.order_context(ann.id, svc.id).await.expect("context");
    assert_eq!(ctx.service, store.service(svc.id).await.expect("service"));
    let live = store.live_entitlements(ann.id).await.expect("live");
    assert_eq!(live.len(), 1, "the rental is live");
    assert_eq!(ctx.live, live);
    assert_eq!(ctx.custom, vec![every, own]);
    // The other service: its own rate instead of this one's.
    let ctx = store.order_context(ann.id, other.id).await.expect("other");
    assert_eq!(
        ctx.custom,
        vec![
            every,
            CustomRate {
                service_id: Some(other.id.0),
                price: CustomPrice::Discount(3_000)
            }
        ]
    );
    // Another user sees only their own; no such service reads nothing.
    let ctx = store.order_context(bob.id, svc.id).await.expect("bob");
    assert!(ctx.live.is_empty());
    assert_eq!(ctx.custom.len(), 1);
    assert_eq!(
        store
            .order_context(ann.id, ServiceId(999_999))
            .await
            .expect("missing"),
        OrderContext::default()
    );
}
