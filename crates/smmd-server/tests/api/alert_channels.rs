//! The owner's alert channels (issue 18) over REST, against local servers that speak the
//! Telegram Bot API and Discord's webhooks: validation that writes nothing, a sealed secret
//! that is never answered back, the test button's answer, the step-up on saving a secret, and a
//! customer's payment request reaching the owner's Telegram as a `payment_pending` alert that
//! the admin's decision resolves.

use std::sync::Arc;

use reqwest::Method;
use serde_json::json;
use smmd_domain::alert::{AlertChannel, AlertKind};
use smmd_domain::Clock;
use smmd_store::Role;

use crate::helpers::{spawn_app_with, TestApp};
use crate::smm::account;

#[path = "../../../smmd-notify/tests/fakes/mod.rs"]
mod fakes;

const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
const TWO_FACTOR: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

pub async fn owners_route_alerts_to_telegram_and_discord_over_rest(app: TestApp) {
    let (telegram, discord, api, hook) = fakes::services().await;
    let api_for_config = api.clone();
    let Some(app) = spawn_app_with(app.backend(), move |c| {
        c.notifications.allow_private_webhooks = true;
        c.notifications.telegram_api = api_for_config;
    })
    .await
    else {
        return;
    };
    let admin = account(&app, "owner@x.io", Role::Admin, "0").await;
    let buyer = account(&app, "buyer@x.io", Role::User, "0").await;
    let telegram_url = "/api/admin/alert-channels/telegram";

    // Customers do not see the channels; both start unconfigured with every kind listed.
    assert_eq!(buyer.get("/api/admin/alert-channels").await.0, 403);
    let (s, all) = admin.get("/api/admin/alert-channels").await;
    assert_eq!(s, 200, "{all}");
    assert_eq!(all["channels"][0]["channel"], "telegram");
    assert_eq!(all["channels"][1]["configured"], false);
    let kinds: Vec<&str> = all["kinds"]
        .as_array()
        .expect("kinds")
        .iter()
        .map(|k| k["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds.len(), AlertKind::ALL.len());
    assert!(kinds.contains(&"payment_pending") && kinds.contains(&"order_stuck"));

    // Bad input: a clear error and nothing written.
    for (path, body) in [
        (telegram_url, json!({"chat_id": "-100777", "kinds": []})),
        (
            telegram_url,
            json!({"secret": "not-a-token", "chat_id": "-100777", "kinds": []}),
        ),
        (
            telegram_url,
            json!({"secret": TOKEN, "chat_id": "my chat", "kinds": []}),
        ),
        (
            telegram_url,
            json!({"secret": TOKEN, "chat_id": "-100777", "kinds": ["coffee"]}),
        ),
        (
            "/api/admin/alert-channels/discord",
            json!({"secret": "https://example.com/hook", "kinds": []}),
        ),
    ] {
        let (s, e) = admin.call(Method::PUT, path, Some(body.clone())).await;
        assert_eq!(
            (s, e["error"]["code"].as_str()),
            (422, Some("invalid_alert_channel")),
            "{body}: {e}"
        );
    }
    let (s, _) = admin
        .call(
            Method::PUT,
            "/api/admin/alert-channels/slack",
            Some(json!({"kinds": []})),
        )
        .await;
    assert_eq!(s, 404);
    assert!(app.store.alert_channels().await.expect("read").is_empty());

    // Telegram for payments and failing jobs: the token is sealed and never answered.
    let (s, saved) = admin
        .call(
            Method::PUT,
            telegram_url,
            Some(json!({"secret": TOKEN, "chat_id": "-100777", "kinds": ["payment_pending", "job_failed"]})),
        )
        .await;
    assert_eq!(s, 200, "{saved}");
    assert_eq!(saved["configured"], true);
    assert_eq!(saved["kinds"], json!(["job_failed", "payment_pending"]));
    assert!(!saved.to_string().contains(TOKEN));
    let stored = app.store.alert_channels().await.expect("read");
    assert!(stored[0].secret_enc.starts_with("v1:") && !stored[0].secret_enc.contains(TOKEN));
    // Changing the kinds alone keeps the token.
    let (s, _) = admin
        .call(
            Method::PUT,
            telegram_url,
            Some(json!({"chat_id": "-100777", "kinds": ["payment_pending"]})),
        )
        .await;
    assert_eq!(s, 200);

    // The test button: Telegram takes it (with the saved token); a deleted Discord webhook says so.
    let (s, t) = admin.post(&format!("{telegram_url}/test"), json!({})).await;
    assert_eq!((s, t["status"].as_str()), (200, Some("sent")), "{t}");
    let seen = telegram.seen();
    assert_eq!(seen[0].0, format!("bot{TOKEN}"));
    assert_eq!(seen[0].1["chat_id"], "-100777");
    assert!(seen[0].1["text"]
        .as_str()
        .unwrap_or_default()
        .contains("Test message"));
    let (s, _) = admin
        .post("/api/admin/alert-channels/discord/test", json!({}))
        .await;
    assert_eq!(s, 404, "not set up yet");
    let (s, _) = admin
        .call(
            Method::PUT,
            "/api/admin/alert-channels/discord",
            Some(json!({"secret": hook, "kinds": ["order_stuck"]})),
        )
        .await;
    assert_eq!(s, 200);
    discord.then(404, json!({"message": "Unknown Webhook", "code": 10015}));
    let (s, e) = admin
        .post("/api/admin/alert-channels/discord/test", json!({}))
        .await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (422, Some("alert_channel_failed"))
    );
    let message = e["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("Unknown Webhook") && !message.contains("hook-token"),
        "{message}"
    );

    // A payment request raises `payment_pending`, which reaches Telegram through the outbox.
    let (s, p) = buyer
        .post(
            "/api/account/payments",
            json!({"amount": "25", "method": "Bank transfer", "note": "IBAN 2026-12-03"}),
        )
        .await;
    assert_eq!(s, 201, "{p}");
    let open = app.store.open_alerts().await.expect("alerts");
    assert!(open.iter().any(|a| a.kind == "payment_pending"
        && a.subject == format!("payment:{}", p["id"])
        && a.message.contains("25.00")));
    let settings = smmd_notify::NotifySettings {
        allow_private_webhooks: true,
        telegram_api: api.clone(),
        ..smmd_notify::NotifySettings::default()
    };
    let n = smmd_notify::Notifier::new(app.store.clone(), Arc::new(app.clock.clone()), settings)
        .expect("notifier")
        .with_secret([3u8; 32]);
    for _ in 0..250 {
        if telegram.seen().len() >= 2 {
            break;
        }
        smmd_notify::run(&n).await.expect("run");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let seen = telegram.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    let text = seen[1].1["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("A payment awaits review") && text.contains("Bank transfer"),
        "{text}"
    );
    assert!(discord.seen().len() == 1, "Discord hears stuck orders only");
    let (_, all) = admin.get("/api/admin/alert-channels").await;
    assert_eq!(all["recent"][0]["channel"], "telegram");
    assert_eq!(all["recent"][0]["status"], "sent");
    // Deciding the payment resolves the alert.
    let (s, _) = admin
        .post(
            &format!("/api/admin/payments/{}/approve", p["id"]),
            json!({"reason": "received"}),
        )
        .await;
    assert_eq!(s, 200);
    let open = app.store.open_alerts().await.expect("alerts");
    assert!(!open.iter().any(|a| a.kind == "payment_pending"));

    // The page: both cards, the saved chat, the recent messages, never a secret; customers get
    // the admin area's 404.
    let (cookie, _) = app.session("owner@x.io").await;
    let (s, html) = crate::pages::get(&app, "/admin/alerts", &cookie).await;
    assert_eq!(s, 200);
    for part in [
        "id=\"channel-telegram\"",
        "id=\"channel-discord\"",
        "value=\"-100777\"",
        "value=\"payment_pending\" data-type=\"list\" checked",
        "value=\"job_failed\" data-type=\"list\">",
        "id=\"channel-messages\"",
        "Send a test message",
    ] {
        assert!(html.contains(part), "{part} missing");
    }
    assert!(!html.contains(TOKEN) && !html.contains("hook-token"));
    let (cookie, _) = app.session("buyer@x.io").await;
    let (s, _) = crate::pages::get(&app, "/admin/alerts", &cookie).await;
    assert_eq!(s, 404);

    // Saving a secret is a step-up for accounts with two-factor on.
    assert!(app
        .store
        .enable_two_factor(admin.id, TWO_FACTOR, 0, &[], None)
        .await
        .expect("on"));
    let put = |code: Option<String>| {
        let mut req = app
            .client
            .put(app.url(telegram_url))
            .bearer_auth(admin.key.clone())
            .json(&json!({"secret": TOKEN, "chat_id": "@ops_room", "kinds": []}));
        if let Some(c) = code {
            req = req.header("x-2fa-code", c);
        }
        req.send()
    };
    let r = put(None).await.expect("send");
    assert_eq!(r.status(), 403);
    let now = app.clock.now_ms();
    let code = smmd_app::security::totp_code(TWO_FACTOR, now).expect("code");
    let r = put(Some(code)).await.expect("send");
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    // Removing: once; the audit names chats and kinds, never a secret.
    let (s, _) = admin
        .call(Method::DELETE, "/api/admin/alert-channels/discord", None)
        .await;
    assert_eq!(s, 204);
    let (s, _) = admin
        .call(Method::DELETE, "/api/admin/alert-channels/discord", None)
        .await;
    assert_eq!(s, 404);
    let channels = app.store.alert_channels().await.expect("read");
    assert_eq!(
        channels.iter().map(|c| c.channel).collect::<Vec<_>>(),
        [AlertChannel::Telegram]
    );
    let log = app.store.audit_log(None, 50).await.expect("audit");
    let ours: Vec<_> = log
        .iter()
        .filter(|e| e.action.starts_with("alerts."))
        .collect();
    assert_eq!(ours.len(), 5, "{ours:?}");
    assert!(ours.iter().any(|e| e.detail.contains("chat @ops_room")));
    assert!(log
        .iter()
        .all(|e| !e.detail.contains(TOKEN) && !e.detail.contains("hook-token")));
}
