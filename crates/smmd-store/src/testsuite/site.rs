//! The storefront's content: brand values and pages round-trip, are removed back to the
//! default, and each change commits with its audit line.

use crate::*;
use std::sync::Arc;

use super::*;

fn audit(action: &str, detail: &str) -> Option<NewAudit> {
    Some(NewAudit {
        actor_id: None,
        actor: "root@x.io".into(),
        action: action.into(),
        subject: "site".into(),
        detail: detail.into(),
        now: NOW,
    })
}

pub async fn storefront_values_and_pages_round_trip_with_their_audit(store: Arc<dyn Store>) {
    assert!(store.site_settings().await.expect("read").is_empty());
    let set = |pairs: &[(&str, Option<&str>)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
            .collect::<Vec<_>>()
    };
    store
        .set_site_settings(
            &set(&[
                ("brand.name", Some("Boost <Hub>")),
                ("brand.color", Some("#0f766e")),
            ]),
            NOW,
            audit("site.brand", "name, color"),
        )
        .await
        .expect("set");
    store
        .set_site_settings(
            &set(&[
                ("brand.color", Some("#b91c1c")),
                ("brand.tagline", Some("Fast")),
            ]),
            NOW + 1,
            None,
        )
        .await
        .expect("replace");
    assert_eq!(
        store.site_settings().await.expect("read"),
        vec![
            ("brand.color".to_string(), "#b91c1c".to_string()),
            ("brand.name".to_string(), "Boost <Hub>".to_string()),
            ("brand.tagline".to_string(), "Fast".to_string()),
        ]
    );
    // Removing a value returns it to the default; removing an absent one is no error.
    store
        .set_site_settings(
            &set(&[("brand.tagline", None), ("brand.logo", None)]),
            NOW + 2,
            None,
        )
        .await
        .expect("remove");
    assert_eq!(store.site_settings().await.expect("read").len(), 2);

    let page = |slug: &str, body: &str, at: i64| SitePage {
        slug: slug.into(),
        title: format!("{slug} title"),
        body: body.into(),
        updated_at: at,
    };
    store
        .save_site_page(
            &page("terms", "# Terms\n\nBe nice.", NOW),
            audit("site.page", "terms"),
        )
        .await
        .expect("page");
    store
        .save_site_page(&page("faq", "Q?", NOW), None)
        .await
        .expect("page");
    store
        .save_site_page(&page("terms", "Updated.", NOW + 5), None)
        .await
        .expect("replaced");
    assert_eq!(
        store.site_pages().await.expect("pages"),
        vec![page("faq", "Q?", NOW), page("terms", "Updated.", NOW + 5)]
    );
    store
        .save_site_page(&page("faq", "", NOW + 6), None)
        .await
        .expect("removed");
    assert_eq!(
        store.site_pages().await.expect("pages"),
        vec![page("terms", "Updated.", NOW + 5)]
    );
    let log = store.audit_log(None, 10).await.expect("audit");
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["site.page", "site.brand"],
        "one line per audited change"
    );
    assert_ledger_consistent(&store).await;
}

/// Places an order for `u` and takes it to `end` (Completed or Partial) as the provider would.
async fn delivered(
    store: &Arc<dyn Store>,
    u: smmd_domain::UserId,
    svc: &Service,
    link: &str,
    end: smmd_domain::order::ProviderStatus,
) -> Order {
    use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
    let o = place(store, u, svc, link, 1000).await.expect("placed");
    accept(store, &o).await;
    let remains = if end == ProviderStatus::Partial {
        400
    } else {
        0
    };
    store
        .apply_order_update(update(
            &o,
            OrderStatus::Processing,
            OrderEvent::Provider(end),
            Some(remains),
        ))
        .await
        .expect("ended");
    o
}

pub async fn ratings_are_once_per_delivered_order_and_count_when_approved(store: Arc<dyn Store>) {
    use smmd_domain::order::ProviderStatus;
    use smmd_domain::rating::{RatingError, RatingStatus};
    let ann = user(&store, "ann@x.io", "10").await;
    let bob = user(&store, "bob@x.io", "10").await;
    let admin = user(&store, "root@x.io", "0").await;
    let svc = followers(&store).await;
    let done = delivered(
        &store,
        ann.id,
        &svc,
        "https://instagram.com/a",
        ProviderStatus::Completed,
    )
    .await;
    let partial = delivered(
        &store,
        bob.id,
        &svc,
        "https://instagram.com/b",
        ProviderStatus::Partial,
    )
    .await;
    let waiting = place(&store, ann.id, &svc, "https://instagram.com/c", 1000)
        .await
        .expect("placed");

    // Stars alone count at once; a comment waits; once per order; only the owner; only delivered.
    let r = store
        .rate_order(ann.id, done.id, 5, "", RatingStatus::Approved, NOW)
        .await
        .expect("rate")
        .expect("rated");
    assert_eq!(
        (r.service_id, r.stars, r.status),
        (svc.id, 5, RatingStatus::Approved)
    );
    assert_eq!(
        store
            .rate_order(ann.id, done.id, 1, "", RatingStatus::Approved, NOW)
            .await
            .expect("again"),
        Err(RatingError::AlreadyRated)
    );
    assert!(
        matches!(
            store
                .rate_order(bob.id, done.id, 1, "", RatingStatus::Approved, NOW)
                .await,
            Err(StoreError::NotFound)
        ),
        "another user's order"
    );
    assert_eq!(
        store
            .rate_order(ann.id, waiting.id, 4, "", RatingStatus::Approved, NOW)
            .await
            .expect("r"),
        Err(RatingError::NotDelivered)
    );
    store
        .rate_order(
            bob.id,
            partial.id,
            2,
            "Only 60 % arrived",
            RatingStatus::Pending,
            NOW + 1,
        )
        .await
        .expect("rate")
        .expect("rated");
    let figures = store.rating_figures().await.expect("figures");
    assert_eq!(
        figures,
        vec![RatingFigures {
            service_id: svc.id,
            count: 1,
            stars: 5
        }],
        "pending does not count"
    );
    let pending = store
        .ratings(&RatingQuery {
            status: Some(RatingStatus::Pending),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("pending");
    assert_eq!(
        pending.iter().map(|r| r.order_id).collect::<Vec<_>>(),
        vec![partial.id]
    );
    assert_eq!(pending[0].comment, "Only 60 % arrived");

    // The admin approves it (once: a second decision moves nothing), with the audit line.
    let audit = Some(NewAudit {
        actor_id: Some(admin.id),
        actor: "root@x.io".into(),
        action: "rating.approve".into(),
        subject: format!("order:{}", partial.id.0),
        detail: String::new(),
        now: NOW + 2,
    });
    let moved = store
        .moderate_ratings(
            &[partial.id, done.id],
            RatingStatus::Approved,
            admin.id,
            NOW + 2,
            audit.clone(),
        )
        .await
        .expect("moderate");
    assert_eq!(moved, 1, "only the pending one");
    assert_eq!(
        store
            .moderate_ratings(
                &[partial.id],
                RatingStatus::Rejected,
                admin.id,
                NOW + 3,
                audit
            )
            .await
            .expect("m"),
        0,
        "decided once"
    );
    assert_eq!(
        store.rating_figures().await.expect("figures"),
        vec![RatingFigures {
            service_id: svc.id,
            count: 2,
            stars: 7
        }]
    );
    let of_order = store
        .ratings(&RatingQuery {
            order: Some(partial.id),
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("one");
    assert_eq!(
        (of_order[0].status, of_order[0].moderated_at),
        (RatingStatus::Approved, Some(NOW + 2))
    );
    let by_service = store
        .ratings(&RatingQuery {
            service: Some(svc.id),
            limit: 1,
            ..Default::default()
        })
        .await
        .expect("page");
    assert_eq!(by_service.len(), 1, "limit");
    let older = store
        .ratings(&RatingQuery {
            service: Some(svc.id),
            before: Some(by_service[0].order_id),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("older");
    assert_eq!(older.len(), 1);
    let log = store.audit_log(None, 5).await.expect("audit");
    assert_eq!(
        log.iter().filter(|e| e.action == "rating.approve").count(),
        1
    );
    assert_ledger_consistent(&store).await;
}
