//! `notifications.deliver` end to end on both stores: finished orders and refills become in-app
//! notifications, e-mails received by a real SMTP server process on loopback (Python
//! `aiosmtpd`, writing a maildir), and webhooks received by a local HTTP server that checks the
//! HMAC signature. Retries follow the backoff and stop after the last attempt; nothing is
//! notified twice, even by two runs at once.
//!
//! The SMTP server needs Python with `aiosmtpd` (`SMMD_TEST_PYTHON`, set by `scripts/test.sh`;
//! default `python3`). Without it these tests fail; `SMMD_SKIP_SMTP=1` skips them explicitly.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::refill::RefillStatus;
use smmd_domain::service::{validate_order, OrderInput, ServiceType};
use smmd_domain::{Clock, ManualClock, Money, UserId};
use smmd_notify::webhook::{self, DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use smmd_notify::{collect_events, Notifier, NotifySettings, RETRY_DELAYS_MS};
use smmd_store::{
    BalanceChange, FeedCursor, LedgerKind, NewUser, NotificationSettings, Order, OrderUpdate, Role,
    Service, ServiceDraft, Store, User,
};

mod smtp;
use smtp::Smtp;

const T0: i64 = 1_767_225_600_000;

/// A webhook receiver: records every request, answers with the queued statuses (then 200).
#[derive(Clone, Default)]
struct Hooks {
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

impl Hooks {
    async fn start(answers: &[u16]) -> (Hooks, String) {
        let hooks = Hooks::default();
        hooks
            .answers
            .lock()
            .expect("lock")
            .extend(answers.iter().copied());
        let state = hooks.clone();
        let app = Router::new().route(
            "/hook",
            post(move |headers: HeaderMap, body: String| {
                let state = state.clone();
                async move {
                    state.seen.lock().expect("lock").push((headers, body));
                    let code = state
                        .answers
                        .lock()
                        .expect("lock")
                        .pop_front()
                        .unwrap_or(200);
                    StatusCode::from_u16(code).unwrap_or(StatusCode::OK)
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        (hooks, url)
    }

    fn seen(&self) -> Vec<(HeaderMap, String)> {
        self.seen.lock().expect("lock").clone()
    }
}

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
    u
}

/// `user` wants e-mail and webhooks to `url`, signed with `secret`.
async fn wants_all(store: &Arc<dyn Store>, user: UserId, url: &str, secret: &str) {
    store
        .set_notification_settings(
            user,
            &NotificationSettings {
                email: true,
                webhook_url: Some(url.to_string()),
                webhook_secret: Some(secret.to_string()),
                language: None,
            },
        )
        .await
        .expect("settings");
}

async fn service(store: &Arc<dyn Store>) -> Service {
    let mut d = ServiceDraft::new(
        "Instagram",
        "Followers",
        ServiceType::Default,
        Money::parse("1.00").expect("m"),
        10,
        10_000,
    );
    d.refill = true;
    d.guarantee_days = 30;
    store.create_service(d, T0).await.expect("service")
}

async fn order(store: &Arc<dyn Store>, u: UserId, svc: &Service, link: &str) -> Order {
    let input = OrderInput {
        link: Some(link.into()),
        quantity: Some("1000".into()),
        ..Default::default()
    };
    let spec = validate_order(&svc.rules(), &input).expect("valid");
    let o = store
        .place_order(u, svc, &spec, Default::default(), T0)
        .await
        .expect("placed");
    settle(store).await;
    o
}

/// Waits until every committed row of the feeds (order events, ledger, notifications, alerts)
/// is readable, so that a notifier run sees what the test just wrote (PostgreSQL's feeds read
/// below the server-wide horizon, which another test can hold for a moment).
async fn settle(store: &Arc<dyn Store>) {
    smmd_store::testsuite::settled(&**store, FeedCursor::default(), 10_000).await;
}

/// Runs the notifier until its reports, summed, count at least `want` of each key, and returns
/// the sum. Billing notices and alerts committed a moment ago can be held back from one run on
/// PostgreSQL (see [`settle`]); a run never collects or delivers one twice. Panics after 10 s.
async fn run_until(n: &Notifier, want: &[(&str, i64)]) -> smmd_notify::Report {
    let mut sum = smmd_notify::Report::new();
    for _ in 0..500 {
        for (k, v) in smmd_notify::run(n).await.expect("run") {
            *sum.entry(k).or_default() += v;
        }
        if want
            .iter()
            .all(|(k, v)| sum.get(*k).copied().unwrap_or(0) >= *v)
        {
            return sum;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the notifier's runs never reached {want:?}: {sum:?}");
}

async fn step(
    store: &Arc<dyn Store>,
    o: &Order,
    from: OrderStatus,
    event: OrderEvent,
    remains: Option<i64>,
) {
    store
        .apply_order_update(OrderUpdate {
            order_id: o.id,
            expected: from,
            event,
            start_count: Some(10),
            remains,
            provider_order_id: Some(format!("p{}", o.id)),
            provider_charge: None,
            offer: None,
            note: None,
            route_reason: None,
            now: T0 + 60_000,
            audit: None,
        })
        .await
        .expect("update");
    settle(store).await;
}

/// Moves `o` from queued to `processing`, then to the provider's final status.
async fn finish(store: &Arc<dyn Store>, o: &Order, status: ProviderStatus, remains: i64) {
    step(store, o, OrderStatus::Queued, OrderEvent::Claim, None).await;
    step(
        store,
        o,
        OrderStatus::Submitting,
        OrderEvent::ProviderAccepted,
        None,
    )
    .await;
    step(
        store,
        o,
        OrderStatus::Processing,
        OrderEvent::Provider(status),
        Some(remains),
    )
    .await;
}

/// A notifier whose webhooks may reach the loopback receivers of these tests.
fn notifier(store: &Arc<dyn Store>, clock: &ManualClock, smtp: Option<&Smtp>) -> Notifier {
    let mut settings = strict_notifier(store, clock).settings.clone();
    settings.smtp_url = smtp.map(Smtp::url);
    settings.allow_private_webhooks = true;
    Notifier::new(store.clone(), Arc::new(clock.clone()), settings).expect("notifier")
}

/// A notifier with the production default: webhooks reach public addresses only.
fn strict_notifier(store: &Arc<dyn Store>, clock: &ManualClock) -> Notifier {
    let settings = NotifySettings {
        panel_name: "Test Panel".into(),
        base_url: "https://panel.test".into(),
        smtp_url: None,
        email_from: "Test Panel <noreply@panel.test>".into(),
        timeout: Duration::from_secs(5),
        ..NotifySettings::default()
    };
    Notifier::new(store.clone(), Arc::new(clock.clone()), settings).expect("notifier")
}

async fn finished_orders_are_emailed_and_webhooked_once_with_signatures(store: Arc<dyn Store>) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let (hooks, url) = Hooks::start(&[500]).await;
    let clock = ManualClock::new(T0 + 120_000);
    let svc = service(&store).await;
    let ann = account(&store, "ann@example.com", Role::User).await;
    store
        .set_notification_settings(
            ann.id,
            &NotificationSettings {
                email: true,
                webhook_url: Some(url.clone()),
                webhook_secret: Some("whsec_ann".into()),
                language: None,
            },
        )
        .await
        .expect("settings");
    let bob = account(&store, "bob@example.com", Role::User).await;
    store
        .set_notification_settings(bob.id, &NotificationSettings::default())
        .await
        .expect("e-mail off");

    let done = order(&store, ann.id, &svc, "https://instagram.com/ann").await;
    finish(&store, &done, ProviderStatus::Completed, 0).await;
    let part = order(&store, ann.id, &svc, "https://instagram.com/ann2").await;
    finish(&store, &part, ProviderStatus::Partial, 250).await;
    let gone = order(&store, bob.id, &svc, "https://instagram.com/bob").await;
    store
        .cancel_orders(bob.id, &[gone.id], T0 + 1, None)
        .await
        .expect("cancel");
    let refill = store
        .request_refill(ann.id, done.id, T0 + 90_000)
        .await
        .expect("refill");
    store
        .set_refill_status(refill.id, RefillStatus::Completed, T0 + 100_000)
        .await
        .expect("refilled");
    let busy = order(&store, ann.id, &svc, "https://instagram.com/ann3").await;

    // Two runs at once: each window is written by one of them.
    let (a, b) = (
        notifier(&store, &clock, Some(&smtp)),
        notifier(&store, &clock, Some(&smtp)),
    );
    let (ra, rb) = tokio::join!(smmd_notify::run(&a), smmd_notify::run(&b));
    let (ra, rb) = (ra.expect("run a"), rb.expect("run b"));
    assert_eq!(ra["notified"] + rb["notified"], 4, "{ra:?} {rb:?}");
    assert_eq!(
        ra.get("sent").unwrap_or(&0) + rb.get("sent").unwrap_or(&0),
        5,
        "3 e-mails and 2 of 3 webhooks"
    );
    assert_eq!(
        ra.get("retried").unwrap_or(&0) + rb.get("retried").unwrap_or(&0),
        1,
        "the first webhook got a 500"
    );

    let ann_notes = store
        .notifications_of_user(ann.id, None, 10)
        .await
        .expect("notes");
    let titles: Vec<&str> = ann_notes.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(
        titles,
        [
            format!("Refill of order {} completed", done.reference),
            format!("Order {} partially completed", part.reference),
            format!("Order {} completed", done.reference),
        ]
    );
    assert!(
        ann_notes[1]
            .body
            .contains("250 of 1000 were not delivered; 0.25 USD refunded"),
        "{}",
        ann_notes[1].body
    );
    assert!(
        !titles.iter().any(|t| t.contains(&busy.reference)),
        "still running"
    );
    let bob_notes = store
        .notifications_of_user(bob.id, None, 10)
        .await
        .expect("notes");
    assert_eq!(bob_notes.len(), 1);
    assert_eq!(
        bob_notes[0].title,
        format!("Order {} canceled", gone.reference)
    );
    assert!(
        bob_notes[0].body.ends_with("1.00 USD refunded."),
        "{}",
        bob_notes[0].body
    );

    // E-mails: Ann's three, through the SMTP server; Bob turned them off.
    let mails = smtp.received();
    assert_eq!(mails.len(), 3, "{mails:?}");
    assert!(mails.iter().all(|(to, _, _)| to == "ann@example.com"));
    let mut subjects: Vec<&str> = mails.iter().map(|(_, s, _)| s.as_str()).collect();
    subjects.sort();
    let mut expected = titles.clone();
    expected.sort();
    assert_eq!(subjects, expected);
    let (_, _, text) = mails
        .iter()
        .find(|(_, s, _)| {
            s.starts_with("Order") && s.ends_with(" completed") && !s.contains("partially")
        })
        .expect("completed mail");
    assert!(
        text.contains(&format!("https://panel.test/orders/{}", done.reference)),
        "{text}"
    );
    assert!(
        text.contains("1000 × Followers for https://instagram.com/ann"),
        "{text}"
    );

    // Webhooks: the first answer was a 500; due again after 30 s, not before.
    assert_eq!(hooks.seen().len(), 3);
    let again = smmd_notify::run(&a).await.expect("run");
    assert_eq!(again.get("sent"), None, "nothing due yet: {again:?}");
    clock.advance_ms(RETRY_DELAYS_MS[0]);
    let again = smmd_notify::run(&a).await.expect("run");
    assert_eq!(again.get("sent"), Some(&1), "{again:?}");
    let seen = hooks.seen();
    assert_eq!(seen.len(), 4);
    for (headers, body) in &seen {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).expect(n);
        let ts: i64 = h(TIMESTAMP_HEADER).parse().expect("timestamp");
        assert!(
            webhook::verify(
                "whsec_ann",
                ts,
                body,
                h(SIGNATURE_HEADER),
                clock.now_ms() / 1000,
                300
            ),
            "a valid signature over timestamp and body"
        );
        assert!(!webhook::verify(
            "whsec_other",
            ts,
            body,
            h(SIGNATURE_HEADER),
            clock.now_ms() / 1000,
            300
        ));
    }
    let first = &seen[0];
    let retry = seen
        .iter()
        .skip(1)
        .rfind(|(h, _)| h.get(DELIVERY_HEADER) == first.0.get(DELIVERY_HEADER))
        .expect("the retried delivery carries the same delivery id");
    assert_eq!(retry.1, first.1, "and the same body");
    let bodies: Vec<serde_json::Value> = seen[1..]
        .iter()
        .map(|(_, b)| serde_json::from_str(b).expect("json"))
        .chain(std::iter::once(
            serde_json::from_str(&first.1).expect("json"),
        ))
        .collect();
    let mut types: Vec<&str> = bodies.iter().filter_map(|b| b["type"].as_str()).collect();
    types.sort();
    types.dedup();
    assert_eq!(
        types,
        ["order.completed", "order.partial", "refill.completed"]
    );
    let partial = bodies
        .iter()
        .find(|b| b["type"] == "order.partial")
        .expect("partial");
    assert_eq!(partial["order"]["reference"], part.reference.as_str());
    assert_eq!(partial["order"]["remains"], 250);
    assert_eq!(partial["order"]["refunded"], "0.25");

    // Nothing is notified or sent twice.
    clock.advance_ms(3_600_000);
    let idle = smmd_notify::run(&a).await.expect("run");
    assert_eq!((idle["notified"], idle.get("sent")), (0, None), "{idle:?}");
    assert_eq!(smtp.received().len(), 3);
    assert_eq!(hooks.seen().len(), 4);
    let records = store.deliveries_of_user(ann.id, 10).await.expect("records");
    assert_eq!(records.len(), 6);
    assert!(records.iter().all(|r| r.status == "sent"), "{records:?}");
}

async fn a_dead_webhook_is_retried_with_backoff_then_fails(store: Arc<dyn Store>) {
    let (hooks, url) = Hooks::start(&[503; 10]).await;
    let clock = ManualClock::new(T0 + 120_000);
    let svc = service(&store).await;
    let ann = account(&store, "dead@example.com", Role::User).await;
    store
        .set_notification_settings(
            ann.id,
            &NotificationSettings {
                email: false,
                webhook_url: Some(url),
                webhook_secret: Some("k".into()),
                language: None,
            },
        )
        .await
        .expect("settings");
    let o = order(&store, ann.id, &svc, "https://instagram.com/dead").await;
    finish(&store, &o, ProviderStatus::Completed, 0).await;
    let n = notifier(&store, &clock, None);
    smmd_notify::run(&n).await.expect("run");
    assert_eq!(hooks.seen().len(), 1);
    for (i, delay) in RETRY_DELAYS_MS.iter().enumerate() {
        clock.advance_ms(delay - 1);
        smmd_notify::run(&n).await.expect("run");
        assert_eq!(hooks.seen().len(), i + 1, "not due before its backoff");
        clock.advance_ms(1);
        smmd_notify::run(&n).await.expect("run");
        assert_eq!(hooks.seen().len(), i + 2);
    }
    let records = store.deliveries_of_user(ann.id, 10).await.expect("records");
    assert_eq!(records.len(), 1);
    assert_eq!(
        (
            records[0].status.as_str(),
            records[0].attempts,
            records[0].last_error.as_deref()
        ),
        ("failed", 6, Some("HTTP 503"))
    );
    clock.advance_ms(86_400_000);
    smmd_notify::run(&n).await.expect("run");
    assert_eq!(
        hooks.seen().len(),
        6,
        "a failed delivery is not tried again"
    );

    // 410 Gone stops at once; the in-app notification stays either way.
    let (gone_hooks, gone_url) = Hooks::start(&[410]).await;
    store
        .set_notification_settings(
            ann.id,
            &NotificationSettings {
                email: false,
                webhook_url: Some(gone_url),
                webhook_secret: Some("k".into()),
                language: None,
            },
        )
        .await
        .expect("settings");
    let o2 = order(&store, ann.id, &svc, "https://instagram.com/dead2").await;
    finish(&store, &o2, ProviderStatus::Completed, 0).await;
    let report = smmd_notify::run(&n).await.expect("run");
    assert_eq!(report.get("failed"), Some(&1), "{report:?}");
    assert_eq!(gone_hooks.seen().len(), 1);
    assert_eq!(
        store
            .notifications_of_user(ann.id, None, 10)
            .await
            .expect("n")
            .len(),
        2
    );
}

async fn admin_alerts_reach_every_admin_once(store: Arc<dyn Store>) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let clock = ManualClock::new(T0);
    let ops = account(&store, "ops@example.com", Role::Admin).await;
    let boss = account(&store, "boss@example.com", Role::Admin).await;
    store
        .set_notification_settings(boss.id, &NotificationSettings::default())
        .await
        .expect("boss reads the panel only");
    let user = account(&store, "user@example.com", Role::User).await;
    store
        .raise_alert(
            smmd_domain::alert::AlertKind::ProviderBalanceLow,
            "provider:1",
            "Upstream balance 3.20 is below 10.00",
            T0,
        )
        .await
        .expect("alert");
    store
        .raise_alert(
            smmd_domain::alert::AlertKind::JobFailed,
            "job:orders.sync_status",
            "orders.sync_status failed after 1 attempt(s): boom",
            T0,
        )
        .await
        .expect("alert");
    // Refreshing an open alert is not a new alert.
    store
        .raise_alert(
            smmd_domain::alert::AlertKind::ProviderBalanceLow,
            "provider:1",
            "Upstream balance 3.10 is below 10.00",
            T0 + 1,
        )
        .await
        .expect("alert");
    let n = notifier(&store, &clock, Some(&smtp));
    let report = run_until(&n, &[("alerts", 4)]).await;
    assert_eq!(report["alerts"], 4, "2 alerts × 2 admins: {report:?}");
    for admin in [ops.id, boss.id] {
        let titles: Vec<String> = store
            .notifications_of_user(admin, None, 10)
            .await
            .expect("n")
            .into_iter()
            .map(|n| n.title)
            .collect();
        assert_eq!(titles, ["A job is failing", "Provider balance low"]);
    }
    assert!(store
        .notifications_of_user(user.id, None, 10)
        .await
        .expect("n")
        .is_empty());
    let mails = smtp.received();
    assert_eq!(mails.len(), 2, "only ops wants e-mail: {mails:?}");
    assert!(mails.iter().all(|(to, _, _)| to == "ops@example.com"));
    // The alert was refreshed before the run: the message says the latest balance.
    assert!(mails
        .iter()
        .any(|(_, _, body)| body.contains("Upstream balance 3.10 is below 10.00")));
    let again = smmd_notify::run(&n).await.expect("run");
    assert_eq!(again["alerts"], 0);
}

/// A webhook host name that resolves to the panel's own network (here `localhost`, as a saved
/// public name re-pointed at 127.0.0.1 would) is refused when sending, unless allowed.
async fn a_webhook_name_resolving_to_a_private_address_is_refused(store: Arc<dyn Store>) {
    let (hooks, url) = Hooks::start(&[]).await;
    let by_name = url.replace("127.0.0.1", "localhost");
    let clock = ManualClock::new(T0 + 120_000);
    let svc = service(&store).await;
    let ann = account(&store, "rebind@example.com", Role::User).await;
    store
        .set_notification_settings(
            ann.id,
            &NotificationSettings {
                email: false,
                webhook_url: Some(by_name),
                webhook_secret: Some("k".into()),
                language: None,
            },
        )
        .await
        .expect("settings");
    let o = order(&store, ann.id, &svc, "https://instagram.com/rebind").await;
    finish(&store, &o, ProviderStatus::Completed, 0).await;
    smmd_notify::run(&strict_notifier(&store, &clock))
        .await
        .expect("run");
    assert!(hooks.seen().is_empty(), "nothing reached the loopback");
    let records = store.deliveries_of_user(ann.id, 10).await.expect("records");
    assert_eq!(
        (records[0].attempts, records[0].last_error.as_deref()),
        (
            1,
            Some("refused: localhost resolves only to private or local addresses")
        )
    );
    // A panel whose owner allows private webhooks (a test bench, an internal receiver) sends it.
    let allowed = notifier(&store, &clock, None);
    clock.advance_ms(RETRY_DELAYS_MS[0]);
    smmd_notify::run(&allowed).await.expect("run");
    assert_eq!(hooks.seen().len(), 1);
    let records = store.deliveries_of_user(ann.id, 10).await.expect("records");
    assert_eq!(records[0].status, "sent");
}

/// Billing's notices reach their renter once: in the app, by e-mail and as a signed webhook
/// whose `type` is the notice's kind (`rental.activated`, `rental.runway_low`, …).
async fn billing_notices_reach_their_renter_once(store: Arc<dyn Store>) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let (hooks, url) = Hooks::start(&[]).await;
    let clock = ManualClock::new(T0);
    let ann = account(&store, "renter@example.com", Role::User).await;
    wants_all(&store, ann.id, &url, "whsec_renter").await;
    let on = smmd_store::BillingSettingsPatch {
        enabled: Some(true),
        ..Default::default()
    };
    store
        .update_billing_settings(&on, None, T0, None)
        .await
        .expect("enable");
    // 73.00 a month is 0.10 an hour: after its first hour the account's 10.00 pays 99 more;
    // a second rental halves the runway to 49 h, below the 72-hour warning.
    let plan = |code: &str| smmd_store::NewPlan {
        code: code.into(),
        name: format!("Plan {code}"),
        description: String::new(),
        price: Money::parse("73").expect("m"),
        cap_mode: smmd_domain::billing::charge::CapMode::H730,
        setup_fee: Money::ZERO,
        entitlement: "reseller_tier".into(),
        settings: "{}".into(),
    };
    let pro = store
        .create_plan(&plan("pro"), T0, None)
        .await
        .expect("plan");
    let max = store
        .create_plan(&plan("max"), T0, None)
        .await
        .expect("plan");
    store.rent(ann.id, pro.id, T0).await.expect("rent");
    store.rent(ann.id, max.id, T0 + 1).await.expect("rent");

    let n = notifier(&store, &clock, Some(&smtp));
    let report = run_until(&n, &[("billing", 3)]).await;
    assert_eq!(
        report["billing"], 3,
        "2 activations and a runway warning: {report:?}"
    );
    let titles: Vec<String> = store
        .notifications_of_user(ann.id, None, 10)
        .await
        .expect("n")
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert!(
        titles.contains(&"Your balance covers less than 72 hours of rentals".to_string()),
        "{titles:?}"
    );
    assert_eq!(
        titles.iter().filter(|t| t.ends_with("is active")).count(),
        2
    );
    let mails = smtp.received();
    assert_eq!(mails.len(), 3, "{mails:?}");
    assert!(mails
        .iter()
        .any(|(to, subject, body)| to == "renter@example.com"
            && subject.contains("less than 72 hours")
            && body.contains("https://panel.test/billing")));
    let seen = hooks.seen();
    assert_eq!(seen.len(), 3);
    let mut types: Vec<String> = Vec::new();
    for (headers, body) in &seen {
        let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).expect(n);
        let ts: i64 = h(TIMESTAMP_HEADER).parse().expect("timestamp");
        assert!(webhook::verify(
            "whsec_renter",
            ts,
            body,
            h(SIGNATURE_HEADER),
            clock.now_ms() / 1000,
            300
        ));
        let json: serde_json::Value = serde_json::from_str(body).expect("json");
        types.push(json["type"].as_str().expect("type").to_string());
        if json["type"] == "rental.runway_low" {
            assert_eq!(json["runway"]["hours"], 49);
            assert_eq!(json["runway"]["threshold_hours"], 72);
        }
    }
    types.sort();
    assert_eq!(
        types,
        ["rental.activated", "rental.activated", "rental.runway_low"]
    );
    let again = smmd_notify::run(&n).await.expect("run");
    assert_eq!(again["billing"], 0, "once");
}

/// Affiliate events (`docs/affiliates.md`): a payout method change is e-mailed to its account
/// even when the account turned e-mail off (a security notice), while its other notices keep
/// the preference; a flagged referral reaches the admins as `referral.flagged`, webhook
/// included.
async fn method_changes_are_always_emailed_and_flags_reach_admins(store: Arc<dyn Store>) {
    let Some(smtp) = Smtp::start().await else {
        return;
    };
    let (hooks, url) = Hooks::start(&[]).await;
    let clock = ManualClock::new(T0);
    let ops = account(&store, "ops@example.com", Role::Admin).await;
    wants_all(&store, ops.id, &url, "whsec_ops").await;
    let aff = account(&store, "aff@example.com", Role::User).await;
    store
        .set_notification_settings(aff.id, &NotificationSettings::default())
        .await
        .expect("no e-mail");
    store
        .affiliate_account(aff.id, "MAIL2345", T0)
        .await
        .expect("affiliate");
    let method = store
        .submit_payout_method(
            aff.id,
            smmd_domain::affiliate::method::MethodKind::Paypal,
            "payee@example.com",
            T0,
        )
        .await
        .expect("method");
    // Not a method notice (a rental's activation): the preference holds.
    let on = smmd_store::BillingSettingsPatch {
        enabled: Some(true),
        ..Default::default()
    };
    store
        .update_billing_settings(&on, None, T0, None)
        .await
        .expect("enable");
    let plan = smmd_store::NewPlan {
        code: "pro".into(),
        name: "Pro".into(),
        description: String::new(),
        price: Money::parse("7.30").expect("m"),
        cap_mode: smmd_domain::billing::charge::CapMode::H730,
        setup_fee: Money::ZERO,
        entitlement: "reseller_tier".into(),
        settings: "{}".into(),
    };
    let plan = store.create_plan(&plan, T0, None).await.expect("plan");
    store.rent(aff.id, plan.id, T0).await.expect("rent");
    store
        .raise_alert(
            smmd_domain::alert::AlertKind::ReferralFlagged,
            &smmd_domain::alert::referral_subject(UserId(99)),
            "User #99 referred by affiliate #2 was flagged (same_device)",
            T0,
        )
        .await
        .expect("alert");
    let n = notifier(&store, &clock, Some(&smtp));
    let report = run_until(&n, &[("billing", 2), ("alerts", 1)]).await;
    let (billing, alerts) = (report["billing"], report["alerts"]);
    assert_eq!(
        (billing, alerts),
        (2, 1),
        "the method, the rental, the flag"
    );
    let mails = smtp.received();
    let to_aff: Vec<&(String, String, String)> =
        mails.iter().filter(|m| m.0 == "aff@example.com").collect();
    assert_eq!(to_aff.len(), 1, "{mails:?}");
    assert!(
        to_aff[0].1.contains("Payout method changed")
            && to_aff[0].2.contains("PayPal pa***@example.com")
            && !to_aff[0].2.contains("payee@"),
        "{to_aff:?}"
    );
    let to_ops: Vec<&(String, String, String)> =
        mails.iter().filter(|m| m.0 == "ops@example.com").collect();
    assert!(
        to_ops.len() == 1 && to_ops[0].2.contains("same_device"),
        "{to_ops:?}"
    );
    let kinds: Vec<String> = store
        .notifications_of_user(ops.id, None, 10)
        .await
        .expect("n")
        .into_iter()
        .map(|n| n.kind)
        .collect();
    assert_eq!(kinds, ["referral.flagged"]);
    let types: Vec<String> = hooks
        .seen()
        .iter()
        .map(|(_, body)| {
            let json: serde_json::Value = serde_json::from_str(body).expect("json");
            json["type"].as_str().expect("type").to_string()
        })
        .collect();
    assert_eq!(types, ["referral.flagged"]);
    // The approval is e-mailed too.
    store
        .decide_payout_method(method.id, true, "", T0 + 1, None)
        .await
        .expect("approve");
    for _ in 0..250 {
        if smmd_notify::run(&n).await.expect("run")["billing"] > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(smtp
        .received()
        .iter()
        .any(|m| m.0 == "aff@example.com" && m.1.contains("Payout method approved")));
}

/// Each user reads notifications in the language of their account (English without one);
/// the webhook body stays the same data in every language.
async fn notifications_speak_each_recipients_language(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0 + 120_000);
    let svc = service(&store).await;
    let mut people = Vec::new();
    for (email, language) in [
        ("es@example.com", Some("es")),
        ("ru@example.com", Some("ru")),
        ("ar@example.com", Some("ar")),
        ("en@example.com", None),
    ] {
        let u = account(&store, email, Role::User).await;
        store
            .set_notification_settings(
                u.id,
                &NotificationSettings {
                    email: true,
                    language: language.map(str::to_string),
                    ..NotificationSettings::default()
                },
            )
            .await
            .expect("settings");
        let o = order(
            &store,
            u.id,
            &svc,
            &format!("https://instagram.com/{email}"),
        )
        .await;
        finish(&store, &o, ProviderStatus::Partial, 250).await;
        people.push((u, o));
    }
    smmd_notify::run(&notifier(&store, &clock, None))
        .await
        .expect("run");
    let mut said = Vec::new();
    for (u, o) in &people {
        let notes = store
            .notifications_of_user(u.id, None, 10)
            .await
            .expect("notes");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].title.contains(&o.reference), "{}", notes[0].title);
        said.push((notes[0].title.clone(), notes[0].body.clone()));
    }
    let r = |i: usize| &people[i].1.reference;
    assert_eq!(said[0].0, format!("Pedido {} completado en parte", r(0)));
    assert!(
        said[0]
            .1
            .contains("250 de 1000 no se entregaron; 0.25 USD reembolsados"),
        "{}",
        said[0].1
    );
    assert_eq!(said[1].0, format!("Заказ {} выполнен частично", r(1)));
    assert!(
        said[1].1.contains("Не доставлено 250 из 1000"),
        "{}",
        said[1].1
    );
    assert_eq!(said[2].0, format!("اكتمل الطلب {} جزئيًا", r(2)));
    assert_eq!(said[3].0, format!("Order {} partially completed", r(3)));
}

/// Events with nothing to notify (`placed`, the steps before a final status) move the stored
/// cursor at most every `QUIET_RECORD_MS`, not after every read; a final status among them is
/// notified once, its window stored with the quiet events before it; a notifier that restarts
/// (its memory lost) reads on from the stored cursor and notifies nothing twice.
async fn quiet_events_move_the_cursor_seldom_and_nothing_is_notified_twice(store: Arc<dyn Store>) {
    let clock = ManualClock::new(T0 + 120_000);
    let svc = service(&store).await;
    let ann = account(&store, "ann@example.com", Role::User).await;
    let n = strict_notifier(&store, &clock);
    let stored = || async { store.notify_cursor("order_events").await.expect("cursor") };
    let start = stored().await;

    let first = order(&store, ann.id, &svc, "https://instagram.com/q1").await;
    assert_eq!(collect_events(&n).await.expect("run"), 0);
    let c1 = stored().await;
    assert!(c1 > start, "the first quiet stretch is stored at once");
    let second = order(&store, ann.id, &svc, "https://instagram.com/q2").await;
    assert_eq!(collect_events(&n).await.expect("run"), 0);
    assert_eq!(
        stored().await,
        c1,
        "a quiet stretch within 5 s is not stored"
    );
    clock.advance_ms(1_000);
    assert_eq!(collect_events(&n).await.expect("run"), 0);
    assert_eq!(stored().await, c1);

    finish(&store, &first, ProviderStatus::Completed, 0).await;
    assert_eq!(
        collect_events(&n).await.expect("run"),
        1,
        "the final status"
    );
    let c2 = stored().await;
    assert!(c2 > c1, "stored with what was notified");
    assert_eq!(collect_events(&n).await.expect("run"), 0);

    order(&store, ann.id, &svc, "https://instagram.com/q3").await;
    assert_eq!(collect_events(&n).await.expect("run"), 0);
    assert_eq!(stored().await, c2);
    clock.advance_ms(smmd_notify::QUIET_RECORD_MS);
    assert_eq!(collect_events(&n).await.expect("run"), 0);
    let c3 = stored().await;
    assert!(c3 > c2, "stored once 5 s passed");

    // A restart: the second order completes while its `placed` window was never stored.
    order(&store, ann.id, &svc, "https://instagram.com/q4").await;
    assert_eq!(collect_events(&n).await.expect("run"), 0);
    finish(&store, &second, ProviderStatus::Completed, 0).await;
    let restarted = strict_notifier(&store, &clock);
    assert_eq!(collect_events(&restarted).await.expect("run"), 1);
    assert_eq!(collect_events(&restarted).await.expect("run"), 0);
    assert_eq!(
        collect_events(&n).await.expect("run"),
        0,
        "the old one sees it stored"
    );
    let notes = store
        .notifications_of_user(ann.id, None, 10)
        .await
        .expect("notes");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.iter().any(|x| x.title.contains(&first.reference)));
    assert!(notes.iter().any(|x| x.title.contains(&second.reference)));
}

smmd_store_sql::both_stores!(
    quiet_events_move_the_cursor_seldom_and_nothing_is_notified_twice,
    notifications_speak_each_recipients_language,
    finished_orders_are_emailed_and_webhooked_once_with_signatures,
    a_dead_webhook_is_retried_with_backoff_then_fails,
    a_webhook_name_resolving_to_a_private_address_is_refused,
    admin_alerts_reach_every_admin_once,
    billing_notices_reach_their_renter_once,
    method_changes_are_always_emailed_and_flags_reach_admins,
);
