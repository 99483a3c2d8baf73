//! Hostile providers (issue 15), on SQLite and PostgreSQL, against a scriptable API v2 provider
//! over real loopback HTTP: an answer past its size cap is cut off (the provider is stopped from
//! streaming more) and alerted; provider numbers are checked against the order before they are
//! stored; a rate that jumps is held for the admin; each provider keeps its own cookies; and a
//! hung provider delays only its own orders.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{json, Value};
use smmd_domain::order::OrderStatus;
use smmd_domain::service::OrderInput;
use smmd_domain::{Clock, ManualClock, Money, OrderId, ProviderId};
use smmd_fulfil::{catalog, dispatch, sync, Clients, Fulfil, Settings};
use smmd_store::{
    BalanceChange, LedgerKind, NewProvider, NewUser, Order, ProviderLimits, Role, Service, Store,
    User, RATE_ONE,
};
use smmd_store_sql::both_stores;

const T0: i64 = 1_767_225_600_000;

/// What the scripted provider answers.
#[derive(Default)]
struct Script {
    /// The `services` entries.
    services: Mutex<Vec<Value>>,
    /// Stream this many 64 KiB chunks as the `services` answer instead (0 = off).
    huge_chunks: AtomicUsize,
    /// Chunks of a huge answer produced so far.
    produced: Arc<AtomicUsize>,
    /// The next `add` answers this instead of a fresh id (taken once).
    add_once: Mutex<Option<Value>>,
    next_id: AtomicI64,
    /// `status` entries by provider order id (default: In progress, remains = 1).
    status: Mutex<HashMap<String, Value>>,
    /// Every `add` and `status` call sleeps 10 s first.
    hang: AtomicBool,
    /// The `Cookie` header of every call.
    cookies: Mutex<Vec<Option<String>>>,
    /// The session this provider hands out.
    session: String,
}

async fn handle(
    State(s): State<Arc<Script>>,
    headers: HeaderMap,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    s.cookies.lock().expect("lock").push(
        headers
            .get(header::COOKIE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    );
    let action = form.get("action").cloned().unwrap_or_default();
    if s.hang.load(Ordering::SeqCst) && matches!(action.as_str(), "add" | "status") {
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    let cookie = [(
        header::SET_COOKIE,
        format!("PHPSESSID={}; Path=/", s.session),
    )];
    let body = match action.as_str() {
        "services" => {
            let chunks = s.huge_chunks.load(Ordering::SeqCst);
            if chunks > 0 {
                let produced = s.produced.clone();
                let stream = futures::stream::iter(0..chunks).map(move |i| {
                    produced.fetch_add(1, Ordering::SeqCst);
                    let mut chunk = vec![b' '; 64 * 1024];
                    chunk[0] = if i == 0 { b'[' } else { b' ' };
                    Ok::<_, std::io::Error>(bytes::Bytes::from(chunk))
                });
                return (cookie, axum::body::Body::from_stream(stream)).into_response();
            }
            Value::Array(s.services.lock().expect("lock").clone())
        }
        "add" => s
            .add_once
            .lock()
            .expect("lock")
            .take()
            .unwrap_or_else(|| json!({"order": s.next_id.fetch_add(1, Ordering::SeqCst)})),
        "status" => {
            let ids = form.get("orders").cloned().unwrap_or_default();
            let map = s.status.lock().expect("lock");
            let mut out = serde_json::Map::new();
            for id in ids.split(',') {
                let entry = map.get(id).cloned().unwrap_or_else(|| {
                    json!({"status": "In progress", "remains": "1", "start_count": "5", "charge": "0.1", "currency": "USD"})
                });
                out.insert(id.to_string(), entry);
            }
            Value::Object(out)
        }
        "balance" => json!({"balance": "100.00", "currency": "USD"}),
        _ => json!({"error": "Incorrect request"}),
    };
    (cookie, axum::Json(body)).into_response()
}

use futures::StreamExt as _;

fn service(id: &str, rate: &str) -> Value {
    json!({"service": id, "name": format!("Followers {id}"), "type": "Default", "category": "Followers",
           "rate": rate, "min": "10", "max": "10000", "refill": false, "cancel": true})
}

/// Starts a scripted provider on loopback; its URL.
async fn start(session: &str) -> (Arc<Script>, String) {
    let script = Arc::new(Script {
        services: Mutex::new(vec![service("1", "1.08")]),
        next_id: AtomicI64::new(101),
        session: session.into(),
        ..Script::default()
    });
    let app = axum::Router::new()
        .route("/api/v2", post(handle))
        .with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/api/v2", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (script, url)
}

struct World {
    store: Arc<dyn Store>,
    clock: Arc<ManualClock>,
    f: Fulfil,
    user: User,
}

async fn world(store: Arc<dyn Store>) -> World {
    let clock = Arc::new(ManualClock::new(T0));
    let f = Fulfil {
        store: store.clone(),
        clock: clock.clone(),
        clients: Clients::new([7u8; 32]).with_breaker(1_000, Duration::from_millis(1)),
        settings: Settings {
            provider_wait_ms: 300,
            ..Settings::default()
        },
        lanes: Default::default(),
    };
    let user = store
        .create_user(NewUser {
            email: "buyer@x.io".into(),
            password_hash: "x".into(),
            role: Role::User,
            api_key_hash: None,
            now: T0,
            audit: None,
            referral: None,
        })
        .await
        .expect("user");
    store
        .change_balance(BalanceChange {
            user_id: user.id,
            amount: Money::parse("10000").expect("m"),
            kind: LedgerKind::Deposit,
            key: "seed".into(),
            reason: "seed".into(),
            actor_id: None,
            now: T0,
            audit: None,
        })
        .await
        .expect("credit");
    World {
        store,
        clock,
        f,
        user,
    }
}

impl World {
    async fn provider(&self, name: &str, url: &str, limits: ProviderLimits) -> ProviderId {
        let id = self
            .store
            .create_provider(
                NewProvider {
                    name: name.into(),
                    url: url.into(),
                    currency: "USD".into(),
                    exchange_rate: RATE_ONE,
                    api_key_enc: self.f.clients.seal_key("key"),
                    timeout_ms: 20_000,
                    max_concurrency: 8,
                    rate_per_sec: None,
                    balance_alert_below: None,
                    limits,
                },
                T0,
                None,
            )
            .await
            .expect("provider")
            .id;
        let r = catalog::run(&self.f, Some(id)).await.expect("import");
        assert_eq!(r.get("created"), Some(&1), "{r:?}");
        id
    }

    async fn service(&self, p: ProviderId) -> Service {
        self.store
            .provider_services(p)
            .await
            .expect("services")
            .remove(0)
    }

    async fn place(&self, svc: &Service, qty: i64) -> Order {
        static LINK: AtomicUsize = AtomicUsize::new(0);
        let n = LINK.fetch_add(1, Ordering::SeqCst);
        let input = OrderInput {
            link: Some(format!("https://instagram.com/someone{n}")),
            quantity: Some(qty.to_string()),
            ..OrderInput::default()
        };
        let spec = smmd_domain::service::validate_order(&svc.rules(), &input).expect("valid");
        self.store
            .place_order(
                self.user.id,
                svc,
                &spec,
                Default::default(),
                self.clock.now_ms(),
            )
            .await
            .expect("placed")
    }

    async fn order(&self, id: OrderId) -> Order {
        self.store.order(id).await.expect("read").expect("order")
    }

    async fn alert(&self, kind: &str, subject: &str) -> Option<String> {
        self.store
            .open_alerts()
            .await
            .expect("alerts")
            .into_iter()
            .find(|a| a.kind == kind && a.subject == subject)
            .map(|a| a.message)
    }
}

async fn an_answer_past_its_cap_is_cut_off_and_alerted(store: Arc<dyn Store>) {
    let w = world(store).await;
    let (script, url) = start("a").await;
    let limits = ProviderLimits {
        services_max_bytes: 256 * 1024,
        ..ProviderLimits::default()
    };
    let p = w.provider("big", &url, limits).await;
    // 1000 chunks of 64 KiB = 64 MiB offered.
    script.huge_chunks.store(1000, Ordering::SeqCst);
    let r = catalog::run(&w.f, Some(p)).await.expect("run");
    assert_eq!(r.get("provider_errors"), Some(&1), "{r:?}");
    let produced = script.produced.load(Ordering::SeqCst);
    assert!(
        produced < 200,
        "reading stopped near the cap, not at the end: {produced} of 1000 chunks produced"
    );
    let msg = w
        .alert(
            "provider_answer_too_large",
            &smmd_domain::alert::provider_subject(p),
        )
        .await
        .expect("alerted");
    assert!(msg.contains("262144-byte limit"), "{msg}");
    assert_eq!(
        w.service(p).await.rate,
        Money::parse("1.62").expect("m"),
        "the catalogue is unchanged"
    );
}

async fn provider_numbers_are_checked_before_they_are_stored(store: Arc<dyn Store>) {
    let w = world(store).await;
    let (script, url) = start("a").await;
    let p = w.provider("odd", &url, ProviderLimits::default()).await;
    let svc = w.service(p).await;

    // An order id of "-5" cannot be tracked: review, never "processing".
    *script.add_once.lock().expect("lock") = Some(json!({"order": "-5"}));
    let minus = w.place(&svc, 100).await;
    dispatch::run(&w.f).await.expect("dispatch");
    let minus = w.order(minus.id).await;
    assert_eq!(minus.status, OrderStatus::NeedsReview);
    assert_eq!(minus.provider_order_id, None);
    assert!(
        minus.note.as_deref().unwrap_or("").contains("\"-5\""),
        "{:?}",
        minus.note
    );

    let [a, b, c, d] = [
        w.place(&svc, 100).await,
        w.place(&svc, 100).await,
        w.place(&svc, 100).await,
        w.place(&svc, 100).await,
    ];
    dispatch::run(&w.f).await.expect("dispatch");
    let pid = |o: &Order| o.provider_order_id.clone().expect("sent");
    let (a, b, c, d) = (
        w.order(a.id).await,
        w.order(b.id).await,
        w.order(c.id).await,
        w.order(d.id).await,
    );
    {
        let mut st = script.status.lock().expect("lock");
        st.insert(
            pid(&a),
            json!({"status": "Partial", "remains": "1000", "charge": "-2", "start_count": "3"}),
        );
        st.insert(
            pid(&b),
            json!({"status": "Pending", "remains": "0", "charge": "0.1"}),
        );
        st.insert(
            pid(&c),
            json!({"status": "Partial", "remains": "0", "charge": "0.1"}),
        );
        st.insert(
            pid(&d),
            json!({"status": "In progress", "remains": "9223372036854775807", "start_count": "-7"}),
        );
    }
    let r = sync::run(&w.f).await.expect("sync");
    assert_eq!(r.get("to_review"), Some(&1), "{r:?}");

    let a = w.order(a.id).await;
    assert_eq!(a.status, OrderStatus::Partial);
    assert_eq!(a.remains, Some(100), "clamped to the quantity");
    assert_eq!(
        a.refunded, a.charge,
        "nothing delivered: a full refund, not more"
    );
    assert_eq!(a.provider_charge, None, "a negative charge is not stored");
    let note = a.note.clone().unwrap_or_default();
    assert!(
        note.contains("remains 1000") && note.contains("negative charge"),
        "{note}"
    );

    let b = w.order(b.id).await;
    assert_eq!(b.status, OrderStatus::Processing);
    assert_eq!(b.remains, None, "remains 0 on a pending order is unknown");

    let c = w.order(c.id).await;
    assert_eq!(
        c.status,
        OrderStatus::NeedsReview,
        "Partial with nothing undelivered"
    );
    assert_eq!(c.refunded, Money::ZERO);
    assert!(c.note.unwrap_or_default().contains("Partial"));
    assert!(w
        .alert(
            "order_needs_review",
            &smmd_domain::alert::order_subject(c.id)
        )
        .await
        .is_some());

    let d = w.order(d.id).await;
    assert_eq!(d.status, OrderStatus::InProgress);
    assert_eq!((d.remains, d.start_count), (None, None));
    assert!(d.note.unwrap_or_default().contains("9223372036854775807"));

    // The next pass finds nothing new to write for them.
    let r = sync::run(&w.f).await.expect("sync");
    assert_eq!(r.get("changed"), None, "{r:?}");
    assert!(
        w.store.ledger_mismatches().await.expect("check").is_empty(),
        "balance = Σ ledger"
    );
}

async fn a_price_jump_is_held_until_the_admin_approves_it(store: Arc<dyn Store>) {
    let w = world(store).await;
    let (script, url) = start("a").await;
    let p = w.provider("jumpy", &url, ProviderLimits::default()).await;
    let before = w.service(p).await;
    assert_eq!(before.rate, Money::parse("1.62").expect("m"));
    // The upstream panel's currency setting multiplied every price by 111.
    *script.services.lock().expect("lock") = vec![service("1", "119.88")];
    let r = catalog::run(&w.f, Some(p)).await.expect("run");
    assert_eq!(r.get("held_price_jumps"), Some(&1), "{r:?}");
    let held = w.service(p).await;
    assert_eq!(
        (held.rate, held.provider_rate),
        (before.rate, before.provider_rate)
    );
    let subject = smmd_domain::alert::provider_subject(p);
    let msg = w.alert("price_jump_held", &subject).await.expect("alerted");
    assert!(msg.contains("1.08") && msg.contains("119.88"), "{msg}");
    let provider = w.store.provider(p).await.expect("read").expect("p");
    let plan = catalog::plan(&w.f, &provider, false).await.expect("plan");
    assert_eq!(plan.held.len(), 1, "the preview shows it");
    assert_eq!(plan.held[0].new_cost, Money::parse("119.88").expect("m"));

    // The admin approves: the new rate applies and the alert closes.
    catalog::sync_provider(&w.f, &provider, true)
        .await
        .expect("approved");
    assert_eq!(w.service(p).await.rate, Money::parse("179.82").expect("m"));
    assert_eq!(w.alert("price_jump_held", &subject).await, None);

    // A change within the factor applies at once.
    *script.services.lock().expect("lock") = vec![service("1", "200")];
    let r = catalog::run(&w.f, Some(p)).await.expect("run");
    assert_eq!(r.get("held_price_jumps"), None, "{r:?}");
    assert_eq!(w.service(p).await.rate, Money::parse("300").expect("m"));
}

async fn each_provider_keeps_its_own_cookies(store: Arc<dyn Store>) {
    let w = world(store).await;
    let (a, url_a) = start("alpha").await;
    let (b, url_b) = start("beta").await;
    w.provider("a", &url_a, ProviderLimits::default()).await;
    w.provider("b", &url_b, ProviderLimits::default()).await;
    catalog::run(&w.f, None).await.expect("sync");
    catalog::run(&w.f, None).await.expect("sync");
    for (script, own) in [(&a, "PHPSESSID=alpha"), (&b, "PHPSESSID=beta")] {
        let seen = script.cookies.lock().expect("lock").clone();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert_eq!(seen[0], None, "the first call has no session yet");
        for c in &seen[1..] {
            assert_eq!(
                c.as_deref(),
                Some(own),
                "the session comes back, and only its own"
            );
        }
    }
}

async fn a_hung_provider_delays_only_its_own_orders(store: Arc<dyn Store>) {
    let w = world(store).await;
    let (slow, url_a) = start("a").await;
    let (fast, url_b) = start("b").await;
    let pa = w.provider("hangs", &url_a, ProviderLimits::default()).await;
    let pb = w
        .provider("healthy", &url_b, ProviderLimits::default())
        .await;
    let (sa, sb) = (w.service(pa).await, w.service(pb).await);
    // A's first orders are sent while it is healthy; then it hangs on `add` and `status`.
    let mut a_sent = Vec::new();
    for _ in 0..5 {
        a_sent.push(w.place(&sa, 100).await.id);
    }
    dispatch::run(&w.f).await.expect("dispatch");
    slow.hang.store(true, Ordering::SeqCst);
    let mut a_queued = Vec::new();
    let mut b_orders = Vec::new();
    for _ in 0..20 {
        a_queued.push(w.place(&sa, 100).await.id);
        b_orders.push(w.place(&sb, 100).await.id);
    }
    let started = Instant::now();
    let r = dispatch::run(&w.f).await.expect("dispatch");
    let dispatch_took = started.elapsed();
    assert_eq!(r.get("accepted"), Some(&20), "{r:?}");
    assert_eq!(r.get("providers_still_running"), Some(&1), "{r:?}");
    for id in &b_orders {
        assert_eq!(w.order(*id).await.status, OrderStatus::Processing);
    }
    // The next run skips the provider whose part is still running and serves the others.
    let b_late = w.place(&sb, 100).await.id;
    let r = dispatch::run(&w.f).await.expect("dispatch");
    assert_eq!(r.get("providers_busy"), Some(&1), "{r:?}");
    assert_eq!(w.order(b_late).await.status, OrderStatus::Processing);
    b_orders.push(b_late);

    // B completes its orders while A's status calls hang.
    let mut done = Vec::new();
    for id in &b_orders {
        done.push(w.order(*id).await.provider_order_id.expect("sent"));
    }
    {
        let mut st = fast.status.lock().expect("lock");
        for pid in done {
            st.insert(
                pid,
                json!({"status": "Completed", "remains": "0", "charge": "0.1"}),
            );
        }
    }
    w.clock.advance_ms(60_000);
    let started = Instant::now();
    let r = sync::run(&w.f).await.expect("sync");
    let sync_took = started.elapsed();
    assert_eq!(r.get("changed"), Some(&21), "{r:?}");
    for id in &b_orders {
        assert_eq!(w.order(*id).await.status, OrderStatus::Completed);
    }
    for id in &a_sent {
        assert_eq!(
            w.order(*id).await.status,
            OrderStatus::Processing,
            "A's are untouched"
        );
    }
    eprintln!(
        "hung provider beside a healthy one: dispatch run {:.0} ms, status run {:.0} ms (the hung provider answers after 10 000 ms)",
        dispatch_took.as_secs_f64() * 1e3,
        sync_took.as_secs_f64() * 1e3
    );
    assert!(
        dispatch_took < Duration::from_secs(5) && sync_took < Duration::from_secs(5),
        "the healthy provider did not wait for the hung one"
    );
}

both_stores!(
    an_answer_past_its_cap_is_cut_off_and_alerted,
    provider_numbers_are_checked_before_they_are_stored,
    a_price_jump_is_held_until_the_admin_approves_it,
    each_provider_keeps_its_own_cookies,
    a_hung_provider_delays_only_its_own_orders,
);
