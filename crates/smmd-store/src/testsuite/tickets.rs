//! Conformance cases — support tickets.

use crate::*;
use smmd_domain::ticket::{TicketStatus, TicketTopic};

use std::sync::Arc;

use super::*;

fn post(
    t: &Ticket,
    who: &User,
    admin: bool,
    internal: bool,
    next: TicketStatus,
    body: &str,
) -> TicketPost {
    TicketPost {
        ticket_id: t.id,
        author_id: who.id,
        author: who.email.clone(),
        from_admin: admin,
        internal,
        body: body.into(),
        expected: t.status,
        next,
        now: NOW + 1_000,
    }
}

fn done(w: TicketWrite) -> Ticket {
    match w {
        TicketWrite::Done(t) => t,
        other => panic!("not written: {other:?}"),
    }
}

async fn waiting_alert(store: &Arc<dyn Store>, id: i64) -> bool {
    store
        .open_alerts()
        .await
        .expect("alerts")
        .iter()
        .any(|a| a.kind == "ticket_waiting" && a.subject == format!("ticket:{id}"))
}

pub async fn tickets_move_between_customer_and_admin_with_alerts_and_notices(
    store: Arc<dyn Store>,
) {
    let u = user(&store, "help@x.io", "5").await;
    let other = user(&store, "other@x.io", "0").await;
    let admin = user(&store, "ops@x.io", "0").await;
    let svc = followers(&store).await;
    let o = place(&store, u.id, &svc, "https://instagram.com/help", 100)
        .await
        .expect("order");
    let notices_from = store
        .notify_cursor("billing_notices")
        .await
        .expect("cursor");

    let t = store
        .open_ticket(&NewTicket {
            user_id: u.id,
            author: u.email.clone(),
            topic: TicketTopic::Order,
            subject: "Followers not arriving".into(),
            order_ids: vec![o.id],
            body: "It has been two days.".into(),
            now: NOW,
        })
        .await
        .expect("open");
    assert_eq!(
        (t.status, t.topic, t.order_ids.clone(), t.messages),
        (TicketStatus::Open, TicketTopic::Order, vec![o.id], 1)
    );
    assert_eq!(t.user_email, "help@x.io");
    assert!(t.unread_by_admin && !t.unread_by_customer);
    assert!(waiting_alert(&store, t.id).await, "the admins hear of it");

    // Lists: the owner's, another customer's (none), the unread queue.
    let mine = TicketQuery {
        user: Some(u.id),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.tickets(&mine).await.expect("list"), vec![t.clone()]);
    let theirs = TicketQuery {
        user: Some(other.id),
        limit: 10,
        ..Default::default()
    };
    assert!(store.tickets(&theirs).await.expect("list").is_empty());
    let unread = TicketQuery {
        unread_by_admin: true,
        limit: 10,
        ..Default::default()
    };
    assert_eq!(store.tickets(&unread).await.expect("list").len(), 1);
    assert_eq!(store.ticket_counts().await.expect("counts"), (1, 1));

    // An internal note: the customer never sees it and nothing moves.
    let noted = done(
        store
            .post_ticket_message(&post(
                &t,
                &admin,
                true,
                true,
                TicketStatus::Open,
                "VIP, check the provider",
            ))
            .await
            .expect("note"),
    );
    assert_eq!((noted.status, noted.messages), (TicketStatus::Open, 1));
    assert!(!noted.unread_by_customer);
    assert_eq!(
        store.ticket_messages(t.id, false).await.expect("m").len(),
        1
    );
    let all = store.ticket_messages(t.id, true).await.expect("m");
    assert_eq!(all.len(), 2);
    assert!(all[1].internal && all[1].from_admin && all[1].author == "ops@x.io");
    assert!(waiting_alert(&store, t.id).await);

    // The admin reads and answers: waiting for the customer, the alert resolved, a notice.
    store
        .mark_ticket_read(t.id, true, NOW + 2_000)
        .await
        .expect("read");
    assert!(
        !store
            .ticket(t.id)
            .await
            .expect("t")
            .expect("t")
            .unread_by_admin
    );
    let answered = done(
        store
            .post_ticket_message(&post(
                &noted,
                &admin,
                true,
                false,
                TicketStatus::Waiting,
                "Refilling now.",
            ))
            .await
            .expect("reply"),
    );
    assert_eq!(
        (answered.status, answered.messages),
        (TicketStatus::Waiting, 2)
    );
    assert!(answered.unread_by_customer && !answered.unread_by_admin);
    assert!(!waiting_alert(&store, t.id).await);
    let mut notices = Vec::new();
    for _ in 0..300 {
        notices = store
            .billing_notices_after(notices_from, 100)
            .await
            .expect("notices")
            .0;
        if !notices.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(notices.len(), 1, "{notices:?}");
    assert_eq!(
        (notices[0].user_id, notices[0].kind.as_str()),
        (u.id, "ticket.replied")
    );
    assert!(notices[0].detail.contains(&format!("Ticket #{}", t.id)));
    store
        .mark_ticket_read(t.id, false, NOW + 3_000)
        .await
        .expect("read");
    assert!(
        !store
            .ticket(t.id)
            .await
            .expect("t")
            .expect("t")
            .unread_by_customer
    );

    // A write that expected the old state is refused and writes nothing.
    let stale = store
        .post_ticket_message(&post(
            &noted,
            &admin,
            true,
            false,
            TicketStatus::Waiting,
            "again",
        ))
        .await
        .expect("stale");
    assert_eq!(stale, TicketWrite::Moved(TicketStatus::Waiting));
    assert_eq!(store.ticket_messages(t.id, true).await.expect("m").len(), 3);

    // The customer writes back: open again, and the admins hear of it again.
    let back = done(
        store
            .post_ticket_message(&post(
                &answered,
                &u,
                false,
                false,
                TicketStatus::Open,
                "Thanks, still 10 missing.",
            ))
            .await
            .expect("back"),
    );
    assert_eq!(back.status, TicketStatus::Open);
    assert!(back.unread_by_admin);
    assert!(waiting_alert(&store, t.id).await);

    // Closing: once, with its audit line; the alert resolves.
    let audit = NewAudit {
        actor_id: Some(admin.id),
        actor: admin.email.clone(),
        action: "ticket.close".into(),
        subject: format!("ticket:{}", t.id),
        detail: String::new(),
        now: NOW + 4_000,
    };
    let closed = done(
        store
            .set_ticket_status(
                t.id,
                TicketStatus::Open,
                TicketStatus::Closed,
                NOW + 4_000,
                Some(audit.clone()),
            )
            .await
            .expect("close"),
    );
    assert_eq!(closed.status, TicketStatus::Closed);
    assert!(!waiting_alert(&store, t.id).await);
    assert_eq!(
        store
            .set_ticket_status(
                t.id,
                TicketStatus::Open,
                TicketStatus::Closed,
                NOW + 5_000,
                Some(audit)
            )
            .await
            .expect("again"),
        TicketWrite::Moved(TicketStatus::Closed)
    );
    assert_eq!(
        store
            .set_ticket_status(999_999, TicketStatus::Open, TicketStatus::Closed, NOW, None)
            .await
            .expect("unknown"),
        TicketWrite::NotFound
    );
    let log = store.audit_log(None, 10).await.expect("audit");
    assert_eq!(log.iter().filter(|e| e.action == "ticket.close").count(), 1);
    assert_eq!(store.ticket_counts().await.expect("counts"), (0, 1));
    assert!(store.ticket(999_999).await.expect("none").is_none());
    assert!(store
        .tickets(&TicketQuery {
            status: Some(TicketStatus::Open),
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list")
        .is_empty());
    assert_ledger_consistent(&store).await;
}

pub async fn canned_replies_are_kept_by_title(store: Arc<dyn Store>) {
    assert!(store.canned_replies().await.expect("list").is_empty());
    let refill = store
        .save_canned_reply(None, "Refill started", "We started a refill.", NOW)
        .await
        .expect("save");
    let delay = store
        .save_canned_reply(None, "Delays", "The provider is slow today.", NOW)
        .await
        .expect("save");
    let edited = store
        .save_canned_reply(
            Some(refill.id),
            "Refill on its way",
            "A refill is on its way.",
            NOW + 1,
        )
        .await
        .expect("edit");
    assert_eq!((edited.id, edited.updated_at), (refill.id, NOW + 1));
    let titles: Vec<String> = store
        .canned_replies()
        .await
        .expect("list")
        .into_iter()
        .map(|c| c.title)
        .collect();
    assert_eq!(titles, ["Delays", "Refill on its way"]);
    assert!(matches!(
        store.save_canned_reply(Some(999_999), "x", "y", NOW).await,
        Err(StoreError::NotFound)
    ));
    assert!(store.delete_canned_reply(delay.id).await.expect("delete"));
    assert!(!store.delete_canned_reply(delay.id).await.expect("again"));
    assert_eq!(store.canned_replies().await.expect("list").len(), 1);
}
