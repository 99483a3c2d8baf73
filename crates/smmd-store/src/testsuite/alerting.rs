//! Conformance cases — the owner's alert channels and stuck orders.

use crate::*;
use smmd_domain::alert::{AlertChannel, AlertKind};
use smmd_domain::service::{validate_order, OrderInput};
use smmd_domain::UserId;
use std::sync::Arc;

use super::*;

fn audit(action: &str) -> NewAudit {
    NewAudit {
        actor_id: None,
        actor: "owner@x.io".into(),
        action: action.into(),
        subject: "alerts".into(),
        detail: String::new(),
        now: NOW,
    }
}

fn telegram(chat: &str, kinds: Vec<AlertKind>) -> AlertChannelConfig {
    AlertChannelConfig {
        channel: AlertChannel::Telegram,
        secret_enc: "v1:sealed-token".into(),
        chat_id: chat.into(),
        kinds,
        updated_at: NOW,
    }
}

pub async fn alert_channels_round_trip_and_queue_one_message_per_alert(store: Arc<dyn Store>) {
    assert!(store.alert_channels().await.expect("list").is_empty());
    let discord = AlertChannelConfig {
        channel: AlertChannel::Discord,
        secret_enc: "v1:sealed-url".into(),
        chat_id: String::new(),
        kinds: vec![AlertKind::JobFailed],
        updated_at: NOW,
    };
    store
        .save_alert_channel(&discord, Some(audit("alerts.channel")))
        .await
        .expect("discord");
    // Kinds are kept in the vocabulary's order whatever order they came in.
    let tg = telegram(
        "-1001",
        vec![AlertKind::OrderStuck, AlertKind::ProviderBalanceLow],
    );
    store.save_alert_channel(&tg, None).await.expect("telegram");
    let listed = store.alert_channels().await.expect("list");
    assert_eq!(
        listed.iter().map(|c| c.channel).collect::<Vec<_>>(),
        [AlertChannel::Telegram, AlertChannel::Discord]
    );
    assert_eq!(
        listed[0].kinds,
        [AlertKind::ProviderBalanceLow, AlertKind::OrderStuck]
    );
    assert!(listed[0].hears(AlertKind::OrderStuck) && !listed[0].hears(AlertKind::JobFailed));
    assert_eq!(listed[1], discord);
    // Saving again replaces the row (one per channel).
    let moved = telegram("@ops_room", vec![]);
    store.save_alert_channel(&moved, None).await.expect("again");
    let listed = store.alert_channels().await.expect("list");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0], moved);
    // Removing: once, with its audit line; a second time changes nothing.
    assert!(store
        .remove_alert_channel(AlertChannel::Discord, Some(audit("alerts.channel_remove")))
        .await
        .expect("remove"));
    assert!(!store
        .remove_alert_channel(AlertChannel::Discord, Some(audit("alerts.channel_remove")))
        .await
        .expect("remove again"));
    let log = store.audit_log(None, 10).await.expect("audit");
    assert_eq!(
        log.iter().map(|a| a.action.as_str()).collect::<Vec<_>>(),
        ["alerts.channel_remove", "alerts.channel"]
    );

    // An alert's channel messages go to the outbox with its notifications, once.
    store
        .raise_alert(AlertKind::JobFailed, "job:x", "x failed", NOW)
        .await
        .expect("raise");
    let from = store.notify_cursor("alerts").await.expect("cursor");
    // PostgreSQL reads a row once no older transaction of the cluster is in flight (another
    // test's can be, for a moment).
    let mut read = store.alerts_after(from, 10).await.expect("alerts");
    for _ in 0..300 {
        if !read.0.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        read = store.alerts_after(from, 10).await.expect("alerts");
    }
    let (alerts, to) = read;
    let alert = alerts.last().expect("the alert").clone();
    let message = ChannelMessage {
        alert_id: alert.id,
        channel: AlertChannel::Telegram,
        target: "@ops_room".into(),
        text: "A job is failing: x failed".into(),
    };
    let batch = NotificationBatch {
        cursor: "alerts",
        from,
        to,
        items: vec![],
        channel_messages: vec![message.clone()],
    };
    assert_eq!(
        store.record_notifications(&batch, NOW).await.expect("r"),
        Some(0)
    );
    // A later window that reads the same alert again adds no second message.
    let again = NotificationBatch {
        from: to,
        to: FeedPos::new(to.tx, to.id + 1),
        ..batch.clone()
    };
    store.record_notifications(&again, NOW).await.expect("r");
    let claimed = store
        .claim_deliveries(NOW, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "{claimed:?}");
    let d = &claimed[0];
    assert_eq!(d.channel, Channel::Alert(AlertChannel::Telegram));
    assert_eq!(d.channel.as_str(), "telegram");
    assert_eq!((d.user_id, d.notification_id), (UserId(0), -alert.id));
    assert_eq!(
        (d.target.as_str(), d.payload.as_str()),
        ("@ops_room", "A job is failing: x failed")
    );
    assert_eq!((d.secret.clone(), d.attempts), (None, 1));
    store
        .finish_delivery(d.id, &DeliveryOutcome::Sent, NOW + 1)
        .await
        .expect("sent");
    let kept = store.deliveries_of_user(UserId(0), 10).await.expect("list");
    assert_eq!(kept.len(), 1);
    assert_eq!(
        (kept[0].channel, kept[0].status.as_str()),
        ("telegram", "sent")
    );
    // Pruning takes finished channel messages by age.
    store.prune_notifications(NOW, 100).await.expect("prune");
    assert_eq!(
        store
            .deliveries_of_user(UserId(0), 10)
            .await
            .expect("l")
            .len(),
        1
    );
    store
        .prune_notifications(NOW + 10, 100)
        .await
        .expect("prune");
    assert!(store
        .deliveries_of_user(UserId(0), 10)
        .await
        .expect("l")
        .is_empty());
    assert_ledger_consistent(&store).await;
}

pub async fn stuck_orders_are_active_orders_past_their_due_time(store: Arc<dyn Store>) {
    let u = user(&store, "stuck@x.io", "50").await;
    let svc = followers(&store).await;
    let plain = place(&store, u.id, &svc, "https://instagram.com/a", 100)
        .await
        .expect("plain");
    let done = place(&store, u.id, &svc, "https://instagram.com/b", 100)
        .await
        .expect("done");
    accept(&store, &done).await;
    let finish = update(
        &done,
        smmd_domain::order::OrderStatus::Processing,
        smmd_domain::order::OrderEvent::Provider(smmd_domain::order::ProviderStatus::Completed),
        Some(0),
    );
    assert!(matches!(
        store.apply_order_update(finish).await.expect("complete"),
        UpdateOutcome::Applied { .. }
    ));
    // A drip-feed of 10 runs an hour apart: due when its last run is, 9 hours after placing.
    let input = OrderInput {
        link: Some("https://instagram.com/c".into()),
        quantity: Some("100".into()),
        runs: Some("10".into()),
        interval: Some("60".into()),
        ..Default::default()
    };
    let spec = validate_order(&svc.rules(), &input).expect("drip");
    let drip = store
        .place_order(u.id, &svc, &spec, Default::default(), NOW)
        .await
        .expect("drip");
    let hour = 3_600_000;
    let ids = |orders: Vec<Order>| orders.into_iter().map(|o| o.id).collect::<Vec<_>>();
    assert!(store.stuck_orders(NOW, 10).await.expect("s").is_empty());
    assert_eq!(
        ids(store.stuck_orders(NOW + 1, 10).await.expect("s")),
        [plain.id]
    );
    assert_eq!(
        ids(store.stuck_orders(NOW + 9 * hour, 10).await.expect("s")),
        [plain.id]
    );
    assert_eq!(
        ids(store.stuck_orders(NOW + 9 * hour + 1, 10).await.expect("s")),
        [plain.id, drip.id]
    );
    assert_eq!(
        ids(store.stuck_orders(NOW + 9 * hour + 1, 1).await.expect("s")),
        [plain.id]
    );
    assert_ledger_consistent(&store).await;
}
