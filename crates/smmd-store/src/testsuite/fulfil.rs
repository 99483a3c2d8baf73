//! Conformance cases — Fulfilment: dispatch claims, sync targets, offers, alerts and admin edits.

use crate::*;
use smmd_domain::alert::AlertKind;
use smmd_domain::order::{OrderEvent, OrderStatus};
use smmd_domain::ProviderId;
use std::sync::Arc;

use super::*;

pub async fn concurrent_dispatch_claims_take_each_order_once(store: Arc<dyn Store>) {
    let p = provider(&store, "up").await;
    let svc = provided_service(&store, p.id, "7").await;
    let u = user(&store, "d@x.io", "100").await;
    let mut placed = Vec::new();
    for i in 0..120 {
        let o = place(
            &store,
            u.id,
            &svc,
            &format!("https://instagram.com/{i}"),
            100,
        )
        .await
        .expect("place");
        assert_eq!(
            o.provider_service_id.as_deref(),
            Some("7"),
            "offer copied at purchase"
        );
        placed.push(o.id);
    }
    let claims = (0..6).map(|_| {
        let s = store.clone();
        tokio::spawn(async move { s.claim_dispatch(None, 25, NOW + 1).await.expect("claim") })
    });
    let mut seen = std::collections::HashSet::new();
    for c in claims {
        let got = c.await.expect("join");
        assert!(
            got.len() <= 25,
            "a claim took {} orders, over its limit",
            got.len()
        );
        for o in got {
            assert_eq!(o.status, OrderStatus::Submitting);
            assert!(seen.insert(o.id), "order {} claimed twice", o.id.0);
        }
    }
    let rest = store
        .claim_dispatch(None, 1_000, NOW + 2)
        .await
        .expect("claim");
    for o in rest {
        assert!(seen.insert(o.id), "order {} claimed twice", o.id.0);
    }
    assert_eq!(seen.len(), placed.len(), "every order claimed exactly once");
    assert!(store
        .claim_dispatch(None, 10, NOW + 3)
        .await
        .expect("claim")
        .is_empty());
    assert_eq!(
        store
            .stale_submitting(NOW + 2, 1_000)
            .await
            .expect("stale")
            .len(),
        120,
        "claimed at NOW+1/NOW+2, all older than NOW+2 or equal"
    );
}

pub async fn dispatch_skips_disabled_providers_and_sync_reads_oldest_checked_first(
    store: Arc<dyn Store>,
) {
    let p = provider(&store, "up").await;
    let svc = provided_service(&store, p.id, "1").await;
    let u = user(&store, "s@x.io", "100").await;
    let a = place(&store, u.id, &svc, "https://instagram.com/a", 100)
        .await
        .expect("a");
    store
        .set_provider_enabled(p.id, false, NOW, None)
        .await
        .expect("disable");
    assert!(store
        .claim_dispatch(None, 10, NOW)
        .await
        .expect("claim")
        .is_empty());
    store
        .set_provider_enabled(p.id, true, NOW, None)
        .await
        .expect("enable");
    let b = place(&store, u.id, &svc, "https://instagram.com/b", 100)
        .await
        .expect("b");
    let claimed = store.claim_dispatch(None, 10, NOW).await.expect("claim");
    assert_eq!(
        claimed.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![a.id, b.id]
    );
    for (o, pid) in [(&a, "900"), (&b, "901")] {
        let mut up = OrderUpdate::new(
            o.id,
            OrderStatus::Submitting,
            OrderEvent::ProviderAccepted,
            NOW,
        );
        up.provider_order_id = Some(pid.into());
        assert!(matches!(
            store.apply_order_update(up).await.expect("accept"),
            UpdateOutcome::Applied { .. }
        ));
    }
    // Accepting stamps checked_at; re-check `a` later, so `b` is now the oldest checked.
    store.mark_checked(&[a.id], NOW + 10).await.expect("mark");
    let t = store.sync_targets(p.id, 10).await.expect("targets");
    assert_eq!(t.iter().map(|t| t.id).collect::<Vec<_>>(), vec![b.id, a.id]);
    assert_eq!(t[0].provider_order_id, "901");
    assert!(store
        .sync_targets(ProviderId(p.id.0 + 1), 10)
        .await
        .expect("none")
        .is_empty());
    // A requested cancel is listed once, until marked sent.
    let r = store
        .cancel_orders(u.id, &[b.id], NOW, None)
        .await
        .expect("cancel");
    assert_eq!(r[0].1, Ok(CancelOutcome::Requested));
    assert_eq!(
        store.cancels_to_send(p.id, 10).await.expect("c"),
        vec![(b.id, "901".to_string())]
    );
    store
        .mark_cancel_sent(&[(b.id, "sent".into())], NOW)
        .await
        .expect("sent");
    assert!(store.cancels_to_send(p.id, 10).await.expect("c").is_empty());
    assert_eq!(
        store
            .order(b.id)
            .await
            .expect("r")
            .expect("o")
            .note
            .as_deref(),
        Some("sent")
    );
}

pub async fn offers_alerts_and_admin_edits_round_trip(store: Arc<dyn Store>) {
    let p = provider(&store, "one").await;
    let q = provider(&store, "two").await;
    assert!(matches!(
        store.create_provider(new_provider("one"), NOW, None).await,
        Err(StoreError::Conflict("providers.name"))
    ));
    // An edit replaces the settings, and the key only when asked; a taken name or a missing
    // provider is refused and changes nothing.
    let mut edit = new_provider("two (edited)");
    edit.url = "https://two.example/api/v2".into();
    edit.api_key_enc = "sealed-new".into();
    edit.limits.price_jump_pct = 300;
    let kept = store
        .update_provider(q.id, &edit, false, NOW + 1, None)
        .await
        .expect("edit");
    assert_eq!(
        (
            kept.name.as_str(),
            kept.url.as_str(),
            kept.limits.price_jump_pct
        ),
        ("two (edited)", "https://two.example/api/v2", 300)
    );
    assert_eq!(kept.api_key_enc, q.api_key_enc, "the key is kept");
    let rekeyed = store
        .update_provider(q.id, &edit, true, NOW + 2, None)
        .await
        .expect("edit");
    assert_eq!(rekeyed.api_key_enc, "sealed-new");
    assert!(matches!(
        store
            .update_provider(q.id, &new_provider("one"), false, NOW + 3, None)
            .await,
        Err(StoreError::Conflict("providers.name"))
    ));
    assert!(matches!(
        store
            .update_provider(ProviderId(999_999), &edit, false, NOW + 3, None)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.provider(q.id).await.expect("read"),
        Some(rekeyed),
        "the refused edits changed nothing"
    );
    let svc = provided_service(&store, p.id, "5").await;
    assert_eq!(
        store
            .add_service_offer(
                svc.id,
                Offer {
                    provider_id: q.id,
                    provider_service_id: "55".into()
                },
                None
            )
            .await
            .expect("offer"),
        1
    );
    let offers = store.service_offers(svc.id).await.expect("offers");
    assert_eq!(
        offers
            .iter()
            .map(|o| (o.provider_id, o.provider_service_id.as_str()))
            .collect::<Vec<_>>(),
        vec![(p.id, "5"), (q.id, "55")]
    );
    // Alerts: one open per kind and subject; resolving closes it.
    assert!(store
        .raise_alert(AlertKind::ProviderBalanceLow, "provider:1", "first", NOW)
        .await
        .expect("raise"));
    assert!(!store
        .raise_alert(
            AlertKind::ProviderBalanceLow,
            "provider:1",
            "again",
            NOW + 1
        )
        .await
        .expect("raise"));
    let open = store.open_alerts().await.expect("alerts");
    assert_eq!((open.len(), open[0].message.as_str()), (1, "again"));
    store
        .resolve_alert(AlertKind::ProviderBalanceLow, "provider:1", NOW + 2)
        .await
        .expect("resolve");
    assert!(store.open_alerts().await.expect("alerts").is_empty());
    assert!(
        store
            .raise_alert(AlertKind::ProviderBalanceLow, "provider:1", "new", NOW + 3)
            .await
            .expect("raise"),
        "a new one after resolving"
    );
    // An admin edit sets overrides and logs each change; a bad edit writes nothing.
    let edited = store
        .edit_service(
            svc.id,
            ServiceEdit {
                name: Some("Mine".into()),
                max: Some(500),
                ..ServiceEdit::default()
            },
            "admin:1",
            NOW,
            None,
        )
        .await
        .expect("edit");
    assert_eq!((edited.name.as_str(), edited.max), ("Mine", 500));
    assert_eq!(
        edited.overrides,
        vec!["name".to_string(), "max".to_string()]
    );
    let bad = store
        .edit_service(
            svc.id,
            ServiceEdit {
                min: Some(1_000),
                ..ServiceEdit::default()
            },
            "admin:1",
            NOW,
            None,
        )
        .await;
    assert!(bad.is_err(), "min above max is refused");
    assert_eq!(
        store.service(svc.id).await.expect("r").expect("s"),
        edited,
        "nothing written"
    );
    let log = store.service_changes(svc.id, 10).await.expect("log");
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|c| c.source == "admin:1"));
    store
        .record_provider_balance(p.id, m("12.5"), "USD", NOW)
        .await
        .expect("balance");
    let p2 = store.provider(p.id).await.expect("r").expect("p");
    assert_eq!(
        (p2.balance, p2.balance_checked_at),
        (Some(m("12.5")), Some(NOW))
    );
}
