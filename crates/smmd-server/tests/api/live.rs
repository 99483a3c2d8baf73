//! `/ws`: the session's owner gets their order, balance and notification events as they
//! commit; admins also get alerts; nobody gets another user's events; no session, no socket.

use std::time::Duration;

use futures::StreamExt;
use serde_json::{json, Value};
use smmd_domain::order::{OrderEvent, OrderStatus, ProviderStatus};
use smmd_domain::service::ServiceType;
use smmd_domain::Money;
use smmd_store::{OrderUpdate, Role, ServiceDraft};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{TestApp, T0};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(app: &TestApp, cookie: Option<&str>, origin: Option<&str>) -> Result<Socket, u16> {
    let mut req = format!("{}/ws", app.base.replace("http://", "ws://"))
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

pub async fn live_updates_reach_the_owner_as_they_commit(app: TestApp) {
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
        json!({"type": "hello", "balance": "10.00", "unread": 0, "admin": false})
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
    let order = next(&mut ann_ws).await;
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
    let charge = next(&mut ann_ws).await;
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
        .raise_alert("provider_balance_low", "provider:1", "Balance 1.00", T0)
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
    let bobs = next(&mut bob_ws).await;
    assert_eq!(
        (&bobs["type"], &bobs["balance"]),
        (&json!("balance"), &json!("6.00"))
    );
    // Nor did Ann get the alert: her next message is her own deposit.
    app.credit(ann.id, Money::parse("1").expect("m"), "ann:1")
        .await;
    assert_eq!(next(&mut ann_ws).await["balance"], "10.00");
}
