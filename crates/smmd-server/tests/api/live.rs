//! `/ws`: the session's owner gets their order, balance and notification events as they
//! commit; admins also get alerts; nobody gets another user's events; no session, no socket.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::service::ServiceType;
use smmd_domain::Money;
use smmd_store::{FeedCursor, FeedPos, OrderUpdate, Role, Service, ServiceDraft, User};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, T0};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, cookie: Option<&str>, origin: Option<&str>) -> Result<Socket, u16> {
    connect_to(app, "/ws", cookie, origin).await
}

async fn connect_to(
    app: &TestApp,
    path: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<Socket, u16> {
    let mut req = format!("{}{path}", app.base.replace("http://", "ws://"))
        .into_client_request()
        .expect("request");
    if let Some(c) = cookie {
        req.headers_mut()
            .insert("cookie", HeaderValue::from_str(c).expect("cookie"));
    }
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", HeaderValue::from_str(o).expect("origin"));
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, _)) => Ok(socket),
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => Err(resp.status().as_u16()),
        Err(e) => panic!("connect: {e}"),
    }
}

/// The next text message, as JSON (fails after 5 s).
async fn next(socket: &mut Socket) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message within 5 s")
            .expect("open")
            .expect("frame");
        if let Message::Text(t) = msg {
            return serde_json::from_str(&t).expect("json");
        }
    }
}

/// The next message that is not the seed deposit of `amount`: the deposits were committed
/// before the sockets opened, and on PostgreSQL the feed task may publish them only after
/// `hello` (a live message about an older row, which pages skip by its position).
async fn next_after_seed(socket: &mut Socket, amount: &str) -> Value {
    loop {
        let m = next(socket).await;
        if !(m["type"] == "balance" && m["amount"] == amount && m["balance"] == amount) {
            return m;
        }
    }
}

/// Ann (10.00, with an API key) and Bob (5.00), customers; `root@x.io`, an admin; and a
/// followers service at 1.00 per 1000.
struct Cast {
    ann: User,
    ann_key: String,
    bob: User,
    svc: Service,
}

async fn cast(app: &TestApp) -> Cast {
    let (ann, ann_key) = app.account("ann@x.io", Role::User, "10").await;
    let (bob, _) = app.account("bob@x.io", Role::User, "5").await;
    app.account("root@x.io", Role::Admin, "0").await;
    let svc = app
        .store
        .create_service(
            ServiceDraft::new(
                "Instagram",
                "Followers",
                ServiceType::Default,
                Money::parse("1.00").expect("m"),
                10,
                10_000,
            ),
            T0,
        )
        .await
        .expect("service");
    Cast {
        ann,
        ann_key,
        bob,
        svc,
    }
}

pub async fn live_updates_reach_the_owner_as_they_commit(app: TestApp) {
    let Cast {
        ann,
        ann_key,
        bob,
        svc,
    } = cast(&app).await;
    let (ann_cookie, _) = app.session("ann@x.io").await;
    let (bob_cookie, _) = app.session("bob@x.io").await;
    let (root_cookie, _) = app.session("root@x.io").await;

    assert_eq!(connect(&app, None, None).await.err(), Some(401));
    assert_eq!(
        connect(&app, Some("smmd_session=forged"), None).await.err(),
        Some(401)
    );
    assert_eq!(
        connect(&app, Some(&ann_cookie), Some("https://evil.example"))
            .await
            .err(),
        Some(403),
        "another site cannot open a socket with Ann's cookie"
    );
    let same_origin = app.base.clone();
    let mut ann_ws = connect(&app, Some(&ann_cookie), Some(&same_origin))
        .await
        .expect("ann");
    let mut bob_ws = connect(&app, Some(&bob_cookie), None).await.expect("bob");
    let mut root_ws = connect(&app, Some(&root_cookie), None).await.expect("root");
    let hello = next(&mut ann_ws).await;
    assert_eq!(
        hello,
        json!({"type": "hello", "balance": "10.00", "unread": 0, "active": 0, "admin": false})
    );
    assert_eq!(next(&mut bob_ws).await["balance"], "5.00");
    assert_eq!(next(&mut root_ws).await["admin"], true);

    // Ann orders over REST: the placement and the charge arrive as they commit.
    let placed: Value = app
        .client
        .post(app.url("/api/smm/orders"))
        .bearer_auth(&ann_key)
        .json(&json!({"service": svc.id.0, "link": "https://instagram.com/ann", "quantity": 1000}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let reference = placed["reference"].as_str().expect("reference").to_string();
    let order = next_after_seed(&mut ann_ws, "10.00").await;
    assert_eq!(
        (
            &order["type"],
            &order["reference"],
            &order["event"],
            &order["status"]
        ),
        (
            &json!("order"),
            &json!(reference),
            &json!("placed"),
            &json!("queued")
        )
    );
    let charge = next_after_seed(&mut ann_ws, "10.00").await;
    assert_eq!(
        (&charge["type"], &charge["balance"], &charge["amount"]),
        (&json!("balance"), &json!("9.00"), &json!("-1.00"))
    );

    // Status changes committed the way the sync job commits them.
    let id = smmd_domain::OrderId(placed["id"].as_i64().expect("id"));
    for (from, event, remains) in [
        (OrderStatus::Queued, OrderEvent::Claim, None),
        (OrderStatus::Submitting, OrderEvent::ProviderAccepted, None),
        (
            OrderStatus::Processing,
            OrderEvent::Provider(ProviderStatus::Completed),
            Some(0),
        ),
    ] {
        let mut u = OrderUpdate::new(id, from, event, T0 + 1_000);
        u.remains = remains;
        u.provider_order_id = Some("up-1".into());
        app.store.apply_order_update(u).await.expect("update");
    }
    let statuses: Vec<Value> = [
        next(&mut ann_ws).await,
        next(&mut ann_ws).await,
        next(&mut ann_ws).await,
    ]
    .into_iter()
    .map(|m| m["status"].clone())
    .collect();
    assert_eq!(
        statuses,
        [json!("submitting"), json!("processing"), json!("completed")]
    );

    // The notification of the completed order, then an alert for admins only.
    let report = smmd_notify::run(&app.notifier(smmd_notify::NotifySettings::default()))
        .await
        .expect("notify");
    assert_eq!(report["notified"], 1);
    let note = next(&mut ann_ws).await;
    assert_eq!(note["type"], "notification");
    assert_eq!(note["title"], format!("Order {reference} completed"));
    app.store
        .raise_alert(
            smmd_domain::alert::AlertKind::ProviderBalanceLow,
            "provider:1",
            "Balance 1.00",
            T0,
        )
        .await
        .expect("alert");
    let alert = next(&mut root_ws).await;
    assert_eq!(
        (&alert["type"], &alert["kind"]),
        (&json!("alert"), &json!("provider_balance_low"))
    );

    // Bob saw none of it: the first thing he gets is his own deposit.
    app.credit(bob.id, Money::parse("1").expect("m"), "bob:1")
        .await;
    let bobs = next_after_seed(&mut bob_ws, "5.00").await;
    assert_eq!(
        (&bobs["type"], &bobs["balance"]),
        (&json!("balance"), &json!("6.00"))
    );
    // Nor did Ann get the alert: her next message is her own deposit.
    app.credit(ann.id, Money::parse("1").expect("m"), "ann:1")
        .await;
    assert_eq!(next(&mut ann_ws).await["balance"], "10.00");
}

pub async fn notification_settings_and_the_inbox_over_rest(app: TestApp) {
    let (ann, key) = app.account("inbox@x.io", Role::User, "10").await;
    let (_, bob_key) = app.account("other@x.io", Role::User, "0").await;
    let get = |path: &'static str, key: String| {
        let app = &app;
        async move {
            let r = app
                .client
                .get(app.url(path))
                .bearer_auth(key)
                .send()
                .await
                .expect("send");
            (r.status().as_u16(), r.json::<Value>().await.expect("json"))
        }
    };
    let put = |body: Value| {
        let (app, key) = (&app, key.clone());
        async move {
            let r = app
                .client
                .put(app.url("/api/account/notification-settings"))
                .bearer_auth(key)
                .json(&body)
                .send()
                .await
                .expect("send");
            (r.status().as_u16(), r.json::<Value>().await.expect("json"))
        }
    };
    assert_eq!(
        get("/api/account/notification-settings", key.clone()).await,
        (
            200,
            json!({"email": true, "webhook_url": null, "webhook_secret": null})
        )
    );
    for private in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/",
        "ftp://x.io/",
    ] {
        let (status, body) = put(json!({"email": true, "webhook_url": private})).await;
        assert_eq!(
            (status, &body["error"]["code"]),
            (422, &json!("invalid_webhook_url")),
            "{private}"
        );
    }
    assert_eq!(
        get("/api/account/notification-settings", key.clone())
            .await
            .1["webhook_url"],
        Value::Null,
        "a refused URL writes nothing"
    );
    let (status, set) =
        put(json!({"email": false, "webhook_url": "https://hooks.example.com/ann"})).await;
    assert_eq!(status, 200);
    let secret = set["webhook_secret"].as_str().expect("secret").to_string();
    assert!(
        secret.starts_with("whsec_") && secret.len() == 70,
        "{secret}"
    );
    assert_eq!(set["email"], false);
    let (_, again) =
        put(json!({"email": true, "webhook_url": "https://hooks.example.com/ann2"})).await;
    assert_eq!(
        again["webhook_secret"],
        secret.as_str(),
        "the secret stays with the webhook"
    );
    let rotated: Value = app
        .client
        .post(app.url("/api/account/notification-settings/webhook-secret"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let new_secret = rotated["webhook_secret"].as_str().expect("secret");
    assert_ne!(new_secret, secret);
    assert_eq!(
        app.store
            .notification_settings(ann.id)
            .await
            .expect("s")
            .webhook_secret
            .as_deref(),
        Some(new_secret)
    );
    let (_, cleared) = put(json!({"email": true, "webhook_url": null})).await;
    assert_eq!(
        (&cleared["webhook_url"], &cleared["webhook_secret"]),
        (&Value::Null, &Value::Null)
    );
    let no_hook = app
        .client
        .post(app.url("/api/account/notification-settings/webhook-secret"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("send");
    assert_eq!(no_hook.status(), 409);
    // A cookie write without the CSRF header is refused.
    let (cookie, _) = app.session("inbox@x.io").await;
    let forged = app
        .client
        .put(app.url("/api/account/notification-settings"))
        .header("cookie", cookie)
        .json(&json!({"email": false, "webhook_url": null}))
        .send()
        .await
        .expect("send");
    assert_eq!(forged.status(), 403);
    assert!(
        app.store
            .notification_settings(ann.id)
            .await
            .expect("s")
            .email
    );

    // The inbox: a finished order becomes an unread notification; marking it read.
    let svc = app
        .store
        .create_service(
            ServiceDraft::new(
                "Instagram",
                "Likes",
                ServiceType::Default,
                Money::parse("1.00").expect("m"),
                10,
                10_000,
            ),
            T0,
        )
        .await
        .expect("service");
    let placed: Value = app
        .client
        .post(app.url("/api/smm/orders"))
        .bearer_auth(&key)
        .json(&json!({"service": svc.id.0, "link": "https://instagram.com/p/1", "quantity": 100}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    let cancel = app
        .client
        .post(app.url(&format!(
            "/api/smm/orders/{}/cancel",
            placed["reference"].as_str().expect("ref")
        )))
        .bearer_auth(&key)
        .send()
        .await
        .expect("send");
    assert_eq!(cancel.status(), 200);
    smmd_notify::run(&app.notifier(smmd_notify::NotifySettings::default()))
        .await
        .expect("notify");
    let (_, inbox) = get("/api/account/notifications", key.clone()).await;
    assert_eq!(inbox["unread"], 1);
    assert_eq!(inbox["items"][0]["kind"], "order.canceled");
    assert_eq!(inbox["items"][0]["order_id"], placed["id"]);
    let id = inbox["items"][0]["id"].as_i64().expect("id");
    let (_, bobs) = get("/api/account/notifications", bob_key.clone()).await;
    assert_eq!(bobs["items"], json!([]));
    let mark = |who: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url("/api/account/notifications/read"))
                .bearer_auth(who)
                .json(&json!({"up_to": id}))
                .send()
                .await
                .expect("send")
                .json::<Value>()
                .await
                .expect("json")
        }
    };
    assert_eq!(
        mark(bob_key.clone()).await["marked"],
        0,
        "not Bob's to mark"
    );
    assert_eq!(mark(key.clone()).await, json!({"marked": 1, "unread": 0}));
    assert_eq!(
        get("/api/account/deliveries", key.clone()).await,
        (200, json!([])),
        "no e-mail configured, no webhook"
    );
}

/// The feed position a page embeds (`<body data-feed="e.l.n.a">`), once the feed has reached
/// `at_least` (the rows the test just committed are published, so none arrives live as well).
/// Up to 10 s: with nothing committing, the feed moves up to a new head at its next poll (1 s).
pub async fn page_feed(app: &TestApp, cookie: &str, at_least: Option<&FeedCursor>) -> FeedCursor {
    for _ in 0..200 {
        let html = app
            .client
            .get(app.url("/orders"))
            .header("cookie", cookie)
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let feed = html
            .split_once("data-feed=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(v, _)| v.parse::<FeedCursor>().expect("a feed cursor"));
        if let Some(f) = feed {
            if at_least.is_none_or(|min| min.is_behind_or_at(&f)) {
                return f;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the page never showed the feed position in 10 s");
}

/// `(type, src, seq)` of the next `n` messages.
async fn kinds(socket: &mut Socket, n: usize) -> Vec<(String, String, FeedPos)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let m = next(socket).await;
        out.push((
            m["type"].as_str().unwrap_or_default().to_string(),
            m["src"].as_str().unwrap_or_default().to_string(),
            pos(&m),
        ));
    }
    out
}

/// A feed position after every row committed so far. (`feed_head` alone can be behind rows
/// already committed on PostgreSQL while another test's transaction is in flight: it is where a
/// new reader starts, not the end.)
pub async fn settled_head(app: &TestApp) -> FeedCursor {
    assert!(
        app.store
            .feed_settled(Duration::from_secs(5))
            .await
            .expect("settle"),
        "the feed stayed held back for 5 s"
    );
    let at = app.store.feed_head().await.expect("head");
    // Read past the head to the end: the head itself may lag rows just committed.
    let read = app.store.feed_after(at, 10_000).await.expect("feed");
    read.next
}

/// The feed position of a message (`tx`, `seq`; zeros when it has none).
pub fn pos(m: &Value) -> FeedPos {
    FeedPos::new(
        m["tx"].as_i64().unwrap_or(0),
        m["seq"].as_i64().unwrap_or(0),
    )
}

pub async fn a_socket_replays_what_its_page_missed_once(app: TestApp) {
    let Cast {
        ann,
        ann_key,
        bob,
        svc,
    } = cast(&app).await;
    let (ann_cookie, ann_csrf) = app.session("ann@x.io").await;
    let (root_cookie, _) = app.session("root@x.io").await;
    // A page rendered after the setup's rows are readable (on PostgreSQL another test's
    // transaction can hold the horizon back for a moment, and a page rendered then would
    // rightly replay them too).
    let setup = settled_head(&app).await;
    let page = page_feed(&app, &ann_cookie, Some(&setup)).await;
    let root_page = page_feed(&app, &root_cookie, Some(&page)).await;

    // While Ann's page is open and before its socket connects: her order and its charge, Bob's
    // deposit, an alert.
    let placed: Value = app
        .client
        .post(app.url("/api/smm/orders"))
        .bearer_auth(&ann_key)
        .json(&json!({"service": svc.id.0, "link": "https://instagram.com/ann", "quantity": 1000}))
        .send()
        .await
        .expect("send")
        .json()
        .await
        .expect("json");
    app.credit(bob.id, Money::parse("1").expect("m"), "bob:1")
        .await;
    app.store
        .raise_alert(
            smmd_domain::alert::AlertKind::ProviderBalanceLow,
            "provider:1",
            "Balance 1.00",
            T0,
        )
        .await
        .expect("alert");
    let head = settled_head(&app).await;
    assert!(page.is_behind_or_at(&head) && page != head);
    page_feed(&app, &ann_cookie, Some(&head)).await;

    // Ann's socket replays her two rows, then says hello with the balance after them.
    let mut ws = connect_to(&app, &format!("/ws?after={page}"), Some(&ann_cookie), None)
        .await
        .expect("ann");
    let order = next(&mut ws).await;
    assert_eq!(
        (
            &order["type"],
            &order["event"],
            &order["reference"],
            &order["src"]
        ),
        (
            &json!("order"),
            &json!("placed"),
            &placed["reference"],
            &json!("e")
        )
    );
    assert!(page.events < pos(&order) && pos(&order) <= head.events);
    let charge = next(&mut ws).await;
    assert_eq!(
        (&charge["type"], &charge["amount"], &charge["src"]),
        (&json!("balance"), &json!("-1.00"), &json!("l"))
    );
    let hello = next(&mut ws).await;
    assert_eq!(
        (&hello["type"], &hello["balance"]),
        (&json!("hello"), &json!("9.00"))
    );
    // Neither Bob's deposit nor the alert was replayed: the next message is Ann's own, live.
    app.credit(ann.id, Money::parse("1").expect("m"), "ann:1")
        .await;
    let live = next(&mut ws).await;
    assert_eq!(
        (&live["balance"], &live["src"]),
        (&json!("10.00"), &json!("l"))
    );
    assert!(pos(&live) > pos(&charge));
    drop(ws);

    // A reconnect from the last applied row replays nothing: hello comes first.
    let resumed = FeedCursor {
        ledger: pos(&live),
        ..head
    };
    let mut ws = connect_to(
        &app,
        &format!("/ws?after={resumed}"),
        Some(&ann_cookie),
        None,
    )
    .await
    .expect("ann again");
    assert_eq!(kinds(&mut ws, 1).await[0].0, "hello");

    // The admin's page replays the alert only (admins get alerts, not others' rows).
    let mut root_ws = connect_to(
        &app,
        &format!("/ws?after={root_page}"),
        Some(&root_cookie),
        None,
    )
    .await
    .expect("root");
    let replayed = kinds(&mut root_ws, 2).await;
    assert_eq!(
        replayed
            .iter()
            .map(|(t, s, _)| (t.as_str(), s.as_str()))
            .collect::<Vec<_>>(),
        [("alert", "a"), ("hello", "")]
    );
    assert!(root_page.alerts < replayed[0].2 && replayed[0].2 <= head.alerts);

    // A position that is not one is refused; one too far behind asks the page to reload.
    for bad in ["1.2.3", "a.b.c.d", "-1.0.0.0"] {
        assert_eq!(
            connect_to(&app, &format!("/ws?after={bad}"), Some(&ann_cookie), None)
                .await
                .err(),
            Some(400),
            "{bad}"
        );
    }
    // Only the user's own rows count: Bob's many deposits leave Ann's replay empty.
    for i in 0..smmd_server::live::REPLAY_MAX {
        app.credit(
            bob.id,
            Money::parse("0.01").expect("m"),
            &format!("bulk:{i}"),
        )
        .await;
    }
    let mut ws = connect_to(
        &app,
        &format!("/ws?after={resumed}"),
        Some(&ann_cookie),
        None,
    )
    .await
    .expect("ann, after Bob's deposits");
    assert_eq!(next(&mut ws).await["type"], "hello");
    for i in 0..smmd_server::live::REPLAY_MAX {
        app.credit(
            ann.id,
            Money::parse("0.01").expect("m"),
            &format!("bulk-ann:{i}"),
        )
        .await;
    }
    settled_head(&app).await;
    let mut ws = connect_to(
        &app,
        &format!("/ws?after={resumed}"),
        Some(&ann_cookie),
        None,
    )
    .await
    .expect("ann, far behind");
    assert_eq!(next(&mut ws).await, json!({"type": "resync"}));
    assert_eq!(next(&mut ws).await["type"], "hello");

    // Logging out closes that session's sockets at once; Ann's other session keeps its own.
    let (other_cookie, _) = app.session("ann@x.io").await;
    let mut other = connect(&app, Some(&other_cookie), None)
        .await
        .expect("ann elsewhere");
    assert_eq!(next(&mut other).await["type"], "hello");
    let out = app
        .client
        .post(app.url("/api/auth/logout"))
        .header("cookie", &ann_cookie)
        .header("x-csrf-token", &ann_csrf)
        .send()
        .await
        .expect("logout");
    assert_eq!(out.status(), 204);
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(
        closed.is_ok(),
        "the logged-out socket closes at once, not at the next check"
    );
    app.credit(ann.id, Money::parse("1").expect("m"), "ann:after-logout")
        .await;
    assert_eq!(next(&mut other).await["type"], "balance");
    app.assert_ledger_consistent().await;
}
