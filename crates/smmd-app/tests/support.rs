//! Support tickets through the use cases on both backends: validation that writes nothing,
//! orders checked as the customer's own, another customer's ticket answering `not_found` on
//! every action, internal notes only for admins, the state rule (reply → waiting, customer
//! message → open, close once, reopen by admins), the admins' queue and canned replies.

use std::sync::Arc;

use smmd_app::support::{self, TicketInput};
use smmd_app::{App, Coded, ErrorCode, UseCaseError};
use smmd_domain::service::{validate_order, OrderInput, ServiceType};
use smmd_domain::ticket::TicketStatus;
use smmd_domain::{ManualClock, Money};
use smmd_store::{
    BalanceChange, LedgerKind, NewUser, Order, Role, ServiceDraft, Store, TicketQuery, User,
};

const T0: i64 = 1_800_000_000_000;

async fn account(store: &Arc<dyn Store>, email: &str, role: Role) -> User {
    let u = store
        .create_user(NewUser {
            email: email.into(),
            password_hash: "x".into(),
            role,
            api_key_hash: None,
            now: T0,
            audit: None,
            referral: None,
        })
        .await
        .expect("user");
    store
        .change_balance(BalanceChange {
            user_id: u.id,
            amount: Money::parse("10").expect("m"),
            kind: LedgerKind::Deposit,
            key: format!("seed:{email}"),
            reason: String::new(),
            actor_id: None,
            now: T0,
            audit: None,
        })
        .await
        .expect("credit");
    store.user(u.id).await.expect("read").expect("user")
}

async fn order(store: &Arc<dyn Store>, u: &User, link: &str) -> Order {
    let svc = match store.list_services(false).await.expect("services").pop() {
        Some(s) => s,
        None => store
            .create_service(
                ServiceDraft::new(
                    "Instagram",
                    "Followers",
                    ServiceType::Default,
                    Money::parse("1").expect("m"),
                    10,
                    10_000,
                ),
                T0,
            )
            .await
            .expect("service"),
    };
    let input = OrderInput {
        link: Some(link.into()),
        quantity: Some("100".into()),
        ..Default::default()
    };
    let spec = validate_order(&svc.rules(), &input).expect("valid");
    store
        .place_order(u.id, &svc, &spec, Default::default(), T0)
        .await
        .expect("order")
}

fn code<T: std::fmt::Debug>(r: Result<T, UseCaseError>) -> ErrorCode {
    r.expect_err("refused").code()
}

async fn tickets_follow_their_rules_through_the_use_cases(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0);
    let app = App::new(store.as_ref(), &clock);
    let ann = account(&store, "ann@x.io", Role::User).await;
    let bob = account(&store, "bob@x.io", Role::User).await;
    let ops = account(&store, "ops@x.io", Role::Admin).await;
    let anns = order(&store, &ann, "https://instagram.com/ann").await;
    let bobs = order(&store, &bob, "https://instagram.com/bob").await;
    let input = |orders: String| TicketInput {
        topic: "order".into(),
        subject: "Followers missing".into(),
        orders,
        body: "Half of them never came.".into(),
    };

    // Refusals write nothing; another customer's order reads like an unknown one.
    for bad in [
        TicketInput {
            topic: "spam".into(),
            ..input(String::new())
        },
        TicketInput {
            subject: " ".into(),
            ..input(String::new())
        },
        TicketInput {
            body: "x".repeat(5_001),
            ..input(String::new())
        },
        input("12 abc".into()),
    ] {
        assert_eq!(
            code(support::open_ticket(app, &ann, &bad).await),
            ErrorCode::InvalidTicket
        );
    }
    let theirs = support::open_ticket(app, &ann, &input(bobs.id.0.to_string()))
        .await
        .expect_err("not hers")
        .to_string();
    let unknown = support::open_ticket(app, &ann, &input("999999".into()))
        .await
        .expect_err("unknown")
        .to_string();
    assert_eq!(
        theirs.replace(&bobs.id.0.to_string(), "N"),
        unknown.replace("999999", "N")
    );
    assert!(store
        .tickets(&TicketQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list")
        .is_empty());

    let t = support::open_ticket(app, &ann, &input(format!("#{}", anns.id.0)))
        .await
        .expect("open");
    assert_eq!(t.order_ids, vec![anns.id]);

    // Bob cannot see or touch Ann's ticket; Ann cannot write internal notes.
    assert_eq!(
        code(support::ticket(app, &bob, t.id).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(support::post_message(app, &bob, t.id, "hi", false).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(support::set_closed(app, &bob, t.id, true).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        code(support::post_message(app, &ann, t.id, "psst", true).await),
        ErrorCode::InvalidTicket
    );

    // A note and a reply: Ann sees the reply only; the ticket waits for her.
    support::post_message(app, &ops, t.id, "Provider is slow", true)
        .await
        .expect("note");
    let answered = support::post_message(app, &ops, t.id, "Refill started.", false)
        .await
        .expect("reply");
    assert_eq!(answered.status, TicketStatus::Waiting);
    let (_, hers) = support::ticket(app, &ann, t.id).await.expect("view");
    assert_eq!(
        hers.iter().map(|m| m.body.as_str()).collect::<Vec<_>>(),
        ["Half of them never came.", "Refill started."]
    );
    let (_, all) = support::ticket(app, &ops, t.id).await.expect("view");
    assert_eq!(all.len(), 3);

    // Closing once; a customer's message opens it again; only admins reopen.
    assert_eq!(
        code(support::set_closed(app, &ann, t.id, false).await),
        ErrorCode::AdminOnly
    );
    let closed = support::set_closed(app, &ann, t.id, true)
        .await
        .expect("close");
    assert_eq!(closed.status, TicketStatus::Closed);
    assert_eq!(
        code(support::set_closed(app, &ann, t.id, true).await),
        ErrorCode::TicketState
    );
    let again = support::post_message(app, &ann, t.id, "Still missing 10.", false)
        .await
        .expect("again");
    assert_eq!(again.status, TicketStatus::Open);
    assert_eq!(
        code(support::set_closed(app, &ops, t.id, false).await),
        ErrorCode::TicketState
    );
    let queue = support::queue(app, Some(TicketStatus::Open), true, None)
        .await
        .expect("queue");
    assert_eq!(queue.iter().map(|q| q.id).collect::<Vec<_>>(), [t.id]);
    support::set_closed(app, &ops, t.id, true)
        .await
        .expect("close");
    support::set_closed(app, &ops, t.id, false)
        .await
        .expect("reopen");
    let log = store.audit_log(None, 10).await.expect("audit");
    assert_eq!(
        log.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["ticket.reopen", "ticket.close"]
    );
    assert_eq!(
        support::my_tickets(app, &bob, None)
            .await
            .expect("bob's")
            .len(),
        0
    );

    // Canned replies.
    assert_eq!(
        code(support::save_canned_reply(app, None, "", "text").await),
        ErrorCode::InvalidCannedReply
    );
    let c = support::save_canned_reply(app, None, "Refill", "A refill is on its way.")
        .await
        .expect("canned");
    assert_eq!(
        code(support::save_canned_reply(app, Some(c.id + 100), "x", "y").await),
        ErrorCode::NotFound
    );
    support::delete_canned_reply(app, c.id)
        .await
        .expect("delete");
    assert_eq!(
        code(support::delete_canned_reply(app, c.id).await),
        ErrorCode::NotFound
    );
}

smmd_store_sql::both_stores!(tickets_follow_their_rules_through_the_use_cases);
