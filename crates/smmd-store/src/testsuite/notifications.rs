//! Conformance cases — Notifications and the live feed.

use crate::*;
use smmd_domain::alert::AlertKind;
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::{OrderId, UserId};
use std::sync::Arc;

use super::*;

fn note_for(e: &NotifiableEvent, webhook: bool) -> NewNotification {
    NewNotification {
        user_id: e.order.user_id,
        source: format!("event:{}", e.event_id),
        kind: format!("order.{}", e.status),
        title: format!("Order {} {}", e.order.reference, e.status),
        body: e.service_name.clone(),
        order_id: Some(e.order.id),
        created_at: e.created_at,
        email: e.settings.email.then(|| e.user_email.clone()),
        email_text: "text".into(),
        webhook: webhook.then(|| ("http://127.0.0.1:9/hook".into(), "{}".into())),
    }
}

pub async fn notifications_are_collected_once_and_delivered_with_retries(store: Arc<dyn Store>) {
    let u = user(&store, "note@x.io", "5").await;
    let svc = followers(&store).await;
    // Settings: defaults, a round trip, an unknown user.
    let defaults = store.notification_settings(u.id).await.expect("settings");
    assert_eq!(
        defaults,
        NotificationSettings {
            email: true,
            webhook_url: None,
            webhook_secret: None,
            language: None,
        }
    );
    let hook = NotificationSettings {
        email: true,
        webhook_url: Some("http://127.0.0.1:9/hook".into()),
        webhook_secret: Some("s3cret".into()),
        language: Some("es".into()),
    };
    store
        .set_notification_settings(u.id, &hook)
        .await
        .expect("set");
    assert_eq!(store.notification_settings(u.id).await.expect("s"), hook);
    // The language is the account's: sessions and user reads carry it.
    let read = store.user(u.id).await.expect("user").expect("found");
    assert_eq!(read.language.as_deref(), Some("es"));
    assert!(matches!(
        store
            .set_notification_settings(UserId(999_999), &hook)
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        store.notify_cursor("order_events").await.expect("c"),
        FeedPos::default()
    );

    // One order completes, one is canceled before it is sent, one stays processing.
    let done = place(&store, u.id, &svc, "https://instagram.com/n1", 1000)
        .await
        .expect("placed");
    accept(&store, &done).await;
    let completed = update(
        &done,
        OrderStatus::Processing,
        OrderEvent::Provider(ProviderStatus::Completed),
        Some(0),
    );
    store.apply_order_update(completed).await.expect("done");
    let gone = place(&store, u.id, &svc, "https://instagram.com/n2", 1000)
        .await
        .expect("placed");
    store
        .cancel_orders(u.id, &[gone.id], NOW + 1, None)
        .await
        .expect("cancel");
    let busy = place(&store, u.id, &svc, "https://instagram.com/n3", 1000)
        .await
        .expect("placed");
    accept(&store, &busy).await;

    // Every row committed is readable (no transaction of another test holds the horizon).
    settled(&*store, FeedCursor::default(), 10_000).await;
    let (events, to) = store
        .notifiable_events(FeedPos::default(), 100)
        .await
        .expect("events");
    let seen: Vec<(OrderId, &str)> = events
        .iter()
        .map(|e| (e.order.id, e.status.as_str()))
        .collect();
    assert_eq!(seen, [(done.id, "completed"), (gone.id, "canceled")]);
    assert_eq!(events[0].service_name, "Followers");
    assert_eq!(events[0].user_email, "note@x.io");
    assert_eq!(events[0].settings, hook);
    assert_eq!(events[1].amount, Some(m("0.90")), "the cancel's refund");
    // The window covers every event: reading on from where it ended finds nothing new.
    let (more, same) = store.notifiable_events(to, 100).await.expect("events");
    assert!(more.is_empty() && same == to, "{more:?} {same:?} {to:?}");
    // A small window reads part of the log and ends where it stopped.
    let (first, first_to) = store
        .notifiable_events(FeedPos::default(), 2)
        .await
        .expect("events");
    assert!(first.is_empty() && first_to > FeedPos::default() && first_to < to);

    let batch = NotificationBatch {
        cursor: "order_events",
        from: FeedPos::default(),
        to,
        items: events.iter().map(|e| note_for(e, true)).collect(),
        channel_messages: vec![],
    };
    assert_eq!(
        store.record_notifications(&batch, NOW).await.expect("r"),
        Some(2)
    );
    // Another run with the same start writes nothing; the cursor moved once.
    assert_eq!(
        store.record_notifications(&batch, NOW).await.expect("r"),
        None
    );
    assert_eq!(store.notify_cursor("order_events").await.expect("c"), to);
    // The same source again (a later window re-reading it) is not notified twice.
    let again = NotificationBatch {
        from: to,
        to: FeedPos::new(to.tx, to.id + 1),
        ..batch.clone()
    };
    assert_eq!(
        store.record_notifications(&again, NOW).await.expect("r"),
        Some(0)
    );

    // Deliveries: 2 e-mails + 2 webhooks, leased while they are sent.
    let claimed = store
        .claim_deliveries(NOW, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 4);
    assert!(claimed.iter().all(|d| d.attempts == 1));
    let emails: Vec<&Delivery> = claimed
        .iter()
        .filter(|d| d.channel == Channel::Email)
        .collect();
    assert_eq!(emails.len(), 2);
    assert_eq!(emails[0].target, "note@x.io");
    assert!(emails[0].subject.starts_with("Order "));
    assert_eq!(emails[0].secret, None);
    let hooks: Vec<&Delivery> = claimed
        .iter()
        .filter(|d| d.channel == Channel::Webhook)
        .collect();
    assert_eq!(hooks[0].secret.as_deref(), Some("s3cret"));
    assert!(store
        .claim_deliveries(NOW, 60_000, 10)
        .await
        .expect("claim")
        .is_empty());
    let (sent, retried, failed, open) = (emails[0].id, emails[1].id, hooks[0].id, hooks[1].id);
    store
        .finish_delivery(sent, &DeliveryOutcome::Sent, NOW + 1)
        .await
        .expect("sent");
    let retry = DeliveryOutcome::Retry {
        at: NOW + 30_000,
        error: "421 busy".into(),
    };
    store
        .finish_delivery(retried, &retry, NOW + 1)
        .await
        .expect("retry");
    let fail = DeliveryOutcome::Failed {
        error: "HTTP 410".into(),
    };
    store
        .finish_delivery(failed, &fail, NOW + 1)
        .await
        .expect("failed");
    assert!(matches!(
        store
            .finish_delivery(sent, &DeliveryOutcome::Sent, NOW + 2)
            .await,
        Err(StoreError::NotFound)
    ));
    let due = store
        .claim_deliveries(NOW + 30_000, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(
        due.iter().map(|d| (d.id, d.attempts)).collect::<Vec<_>>(),
        [(retried, 2)]
    );
    let expired = store
        .claim_deliveries(NOW + 60_000, 60_000, 10)
        .await
        .expect("claim");
    assert_eq!(
        expired.iter().map(|d| d.id).collect::<Vec<_>>(),
        [open],
        "a lease that ran out is claimed again"
    );
    let records = store.deliveries_of_user(u.id, 10).await.expect("records");
    let status_of = |id: i64| {
        records
            .iter()
            .find(|r| r.id == id)
            .map(|r| (r.status.clone(), r.last_error.clone()))
    };
    assert_eq!(status_of(sent), Some(("sent".into(), None)));
    assert_eq!(
        status_of(retried),
        Some(("pending".into(), Some("421 busy".into())))
    );
    assert_eq!(
        status_of(failed),
        Some(("failed".into(), Some("HTTP 410".into())))
    );

    // In-app: newest first, unread counts, marking read.
    let list = store
        .notifications_of_user(u.id, None, 10)
        .await
        .expect("list");
    assert_eq!(list.len(), 2);
    assert!(list[0].id > list[1].id);
    assert_eq!(list[1].order_id, Some(done.id));
    assert_eq!(store.unread_notifications(u.id).await.expect("n"), 2);
    assert_eq!(
        store
            .mark_notifications_read(u.id, list[1].id, NOW + 5)
            .await
            .expect("read"),
        1
    );
    assert_eq!(store.unread_notifications(u.id).await.expect("n"), 1);
    let older = store
        .notifications_of_user(u.id, Some(list[0].id), 10)
        .await
        .expect("page");
    assert_eq!(older.iter().map(|n| n.id).collect::<Vec<_>>(), [list[1].id]);
    assert_eq!(older[0].read_at, Some(NOW + 5));
    // Another user sees none of them and cannot mark them.
    let other = user(&store, "other@x.io", "0").await;
    assert_eq!(
        store
            .mark_notifications_read(other.id, i64::MAX, NOW)
            .await
            .expect("read"),
        0
    );
    assert!(store
        .notifications_of_user(other.id, None, 10)
        .await
        .expect("l")
        .is_empty());

    // Pruning keeps notifications with a pending delivery: the completed order's (e-mail sent,
    // webhook failed) goes, the canceled one's (retrying, leased) stays until both end.
    assert_eq!(emails[0].notification_id, hooks[0].notification_id);
    assert_eq!(
        store.prune_notifications(NOW, 100).await.expect("p"),
        0,
        "too new"
    );
    let later = NOW + 1_000_000;
    assert_eq!(store.prune_notifications(later, 100).await.expect("p"), 1);
    let left = store
        .notifications_of_user(u.id, None, 10)
        .await
        .expect("l");
    assert_eq!(
        left.iter().map(|n| n.order_id).collect::<Vec<_>>(),
        [Some(gone.id)]
    );
    for d in store.claim_deliveries(later, 1, 10).await.expect("claim") {
        store
            .finish_delivery(d.id, &DeliveryOutcome::Sent, later)
            .await
            .expect("sent");
    }
    assert_eq!(store.prune_notifications(later, 100).await.expect("p"), 1);
    assert!(store
        .deliveries_of_user(u.id, 10)
        .await
        .expect("d")
        .is_empty());
    assert_ledger_consistent(&store).await;
}

/// Canceling the never-sent order `o` (placed at `NOW`, read up to `next`): the feed's order
/// message carries what the order page shows after it (status, refunded total, the refund as
/// the event's amount, the active count going down) and a refund's balance; returns the cursor
/// after them.
async fn order_end_is_read_as_the_page_shows_it(
    store: &Arc<dyn Store>,
    user: UserId,
    o: &Order,
    next: FeedCursor,
) -> FeedCursor {
    assert_eq!(store.active_orders(user).await.expect("count"), 1);
    store
        .cancel_orders(user, &[o.id], NOW + 1, None)
        .await
        .expect("cancel");
    assert_eq!(store.active_orders(user).await.expect("count"), 0);
    let read = settled(&**store, next, 100).await;
    let messages: Vec<&FeedMessage> = read.items.iter().map(|i| &i.message).collect();
    assert_eq!(
        messages,
        [
            &FeedMessage::Order {
                order_id: o.id,
                reference: o.reference.clone(),
                event: "status".into(),
                status: "canceled".into(),
                remains: o.remains,
                start_count: None,
                refunded: Some("0.90".into()),
                amount: Some("0.90".into()),
                detail: String::new(),
                active: -1,
                at: NOW + 1,
            },
            &FeedMessage::Balance {
                balance: "3.00".into(),
                amount: "0.90".into(),
                at: NOW + 1,
            },
        ]
    );
    read.next
}

/// The feed read after `cursor` (`limit` rows a source) once nothing is held back. On
/// PostgreSQL the feeds read below the server-wide horizon, which another test's open
/// transaction (another database of the same server) can hold for a moment; a read in that
/// moment misses rows already committed. On SQLite nothing is ever held. Panics after 10 s.
pub async fn settled(store: &dyn Store, cursor: FeedCursor, limit: i64) -> FeedRead {
    for _ in 0..1_000 {
        let read = store.feed_after(cursor, limit).await.expect("feed");
        if !read.held {
            return read;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("the feed stayed held back for 10 s");
}

pub async fn the_feed_reads_every_source_after_its_cursor_and_wakes_on_commit(
    store: Arc<dyn Store>,
) {
    let u = user(&store, "feed@x.io", "3").await;
    let svc = followers(&store).await;
    // The head is where a new reader starts; on PostgreSQL it can be before rows that are
    // already committed (a transaction in flight elsewhere holds the horizon), so read past
    // what is there first.
    let head = store.feed_head().await.expect("head");
    let head = settled(&*store, head, 1000).await.next;
    assert!(
        head.ledger > FeedPos::default(),
        "the seed credit is behind the head"
    );
    let mut signal = store.feed_signal().await.expect("signal");
    let o = place(&store, u.id, &svc, "https://instagram.com/feed", 1000)
        .await
        .expect("placed");
    tokio::time::timeout(std::time::Duration::from_secs(5), signal.changed())
        .await
        .expect("a commit wakes the feed")
        .expect("signal");
    let FeedRead {
        items, next, held, ..
    } = settled(&*store, head, 100).await;
    assert!(!held);
    assert_eq!(
        items,
        [
            FeedItem {
                user_id: Some(u.id),
                at: NOW,
                source: FeedSource::Events,
                pos: items[0].pos,
                message: FeedMessage::Order {
                    order_id: o.id,
                    reference: o.reference.clone(),
                    event: "placed".into(),
                    status: "queued".into(),
                    remains: None,
                    start_count: None,
                    refunded: Some("0.00".into()),
                    amount: Some("-0.90".into()),
                    detail: String::new(),
                    active: 1,
                    at: NOW,
                },
            },
            FeedItem {
                user_id: Some(u.id),
                at: NOW,
                source: FeedSource::Ledger,
                pos: items[1].pos,
                message: FeedMessage::Balance {
                    balance: "2.10".into(),
                    amount: "-0.90".into(),
                    at: NOW,
                },
            },
        ]
    );
    assert!(head.events < items[0].pos && items[0].pos <= next.events);
    assert!(head.ledger < items[1].pos && items[1].pos <= next.ledger);
    assert!(head.notifications <= next.notifications && head.alerts <= next.alerts);
    let again = settled(&*store, next, 100).await;
    assert!(again.items.is_empty());
    // Nothing new: the cursor stays, or (PostgreSQL) moves up to the horizon, which other
    // transactions in the cluster advance; it never goes back.
    for (after, before) in [
        (again.next.events, next.events),
        (again.next.ledger, next.ledger),
        (again.next.notifications, next.notifications),
        (again.next.alerts, next.alerts),
    ] {
        assert!(after >= before, "{after:?} went back from {before:?}");
    }
    // A commit that writes no feed row (a session) moves the head; a reader that then finds
    // nothing new keeps up with it, so a page rendered now embeds a position at or after the
    // head (a socket's replay starts there).
    store
        .create_session("feed-session", u.id, "csrf", NOW, NOW + 60, false)
        .await
        .expect("session");
    let head_now = store.feed_head().await.expect("head");
    let kept_up = settled(&*store, again.next, 100).await;
    assert!(kept_up.items.is_empty());
    assert!(
        head_now.is_behind_or_at(&kept_up.next),
        "a reader that found nothing is at {:?}, behind the head {head_now:?}",
        kept_up.next
    );
    let next = kept_up.next;

    // Alerts go to admins (no user); notifications to their user; `limit` is per source.
    store
        .raise_alert(
            AlertKind::ProviderBalanceLow,
            "provider:1",
            "Balance 1.00",
            NOW + 5,
        )
        .await
        .expect("alert");
    let batch = NotificationBatch {
        cursor: "alerts",
        from: store.notify_cursor("alerts").await.expect("c"),
        to: FeedPos::new(next.alerts.tx, next.alerts.id + 1),
        items: vec![NewNotification {
            user_id: u.id,
            source: "test:1".into(),
            kind: "alert.test".into(),
            title: "Hello".into(),
            body: "there".into(),
            order_id: None,
            created_at: NOW + 6,
            email: None,
            email_text: String::new(),
            webhook: None,
        }],
        channel_messages: vec![],
    };
    store
        .record_notifications(&batch, NOW + 6)
        .await
        .expect("note")
        .expect("written");
    let FeedRead {
        items, next: last, ..
    } = settled(&*store, next, 100).await;
    let kinds: Vec<(Option<UserId>, &str)> = items
        .iter()
        .map(|i| {
            (
                i.user_id,
                match &i.message {
                    FeedMessage::Alert { kind, .. } => kind.as_str(),
                    FeedMessage::Notification { title, .. } => title.as_str(),
                    _ => "other",
                },
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [(Some(u.id), "Hello"), (None, "provider_balance_low")]
    );
    // Each item names its row, after where its source's cursor was and at or before where it
    // moved.
    for i in &items {
        assert!(
            next.of(i.source) < i.pos && i.pos <= last.of(i.source),
            "{i:?}"
        );
    }
    let alert_pos = items[1].pos;
    // A deposit of another user, and a page of one row per source.
    let v = user(&store, "feed2@x.io", "1").await;
    credit(&store, u.id, "1", "feed:more").await;
    let page = settled(&*store, last, 1).await;
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].user_id, Some(v.id));
    let rest = settled(&*store, page.next, 1).await;
    assert_eq!(rest.items[0].user_id, Some(u.id));

    // A user's replay: their own rows of every source, the alerts only for an admin.
    use FeedSource::{Alerts, Events, Ledger, Notifications};
    let replay = |who: UserId, admin: bool, limit: i64| {
        let store = store.clone();
        async move {
            store
                .feed_of_user_after(who, admin, head, limit)
                .await
                .expect("replay")
                .into_iter()
                .map(|i| (i.user_id, i.source, i.pos))
                .collect::<Vec<_>>()
        }
    };
    let mine = replay(u.id, false, 100).await;
    assert_eq!(
        mine.iter().map(|(_, s, _)| *s).collect::<Vec<_>>(),
        [Events, Ledger, Ledger, Notifications],
        "the order, its charge, the deposit and the notification: {mine:?}"
    );
    assert!(mine.iter().all(|(who, _, _)| *who == Some(u.id)));
    let as_admin = replay(u.id, true, 100).await;
    assert_eq!(as_admin[..4], mine[..]);
    assert_eq!(as_admin[4], (None, Alerts, alert_pos));
    assert_eq!(
        replay(u.id, false, 1).await,
        [mine[0], mine[1], mine[3]],
        "limit is per source"
    );
    assert_eq!(
        replay(v.id, false, 100)
            .await
            .iter()
            .map(|(who, s, _)| (*who, *s))
            .collect::<Vec<_>>(),
        [(Some(v.id), Ledger)],
        "Bob's replay is his deposit only"
    );
    let end = settled(&*store, rest.next, 1000).await.next;
    assert!(store
        .feed_of_user_after(u.id, true, end, 100)
        .await
        .expect("replay")
        .is_empty());
    // An order of a third user that ends: read as its page shows it.
    let w = user(&store, "feed3@x.io", "3").await;
    let o = place(&store, w.id, &svc, "https://instagram.com/feed3", 1000)
        .await
        .expect("placed");
    let placed = settled(&*store, end, 100).await;
    assert_eq!(
        placed.items.len(),
        3,
        "the deposit, the order and its charge"
    );
    order_end_is_read_as_the_page_shows_it(&store, w.id, &o, placed.next).await;
    assert_ledger_consistent(&store).await;
}
