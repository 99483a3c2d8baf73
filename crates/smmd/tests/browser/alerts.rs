//! The owner's alert channels in a browser (issue 18): the admin opens "Telegram & Discord"
//! from the dashboard, saves a Telegram bot and a Discord webhook with the alert kinds each
//! hears, sends a test message, and then a customer's payment request reaches the Telegram chat
//! through the outbox while Discord, which hears only stuck orders, stays quiet. The demo talks
//! to a local server speaking both APIs (`[notifications] telegram_api`, private webhooks on).

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::json;

use super::fakes::{self, Fake};
use super::support::*;

const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_owner_sends_alerts_to_telegram_and_discord() {
    let (telegram, discord, api, hook) = fakes::services().await;
    let env = [
        ("SMMD__NOTIFICATIONS__TELEGRAM_API", api),
        (
            "SMMD__NOTIFICATIONS__ALLOW_PRIVATE_WEBHOOKS",
            "true".to_string(),
        ),
    ];
    run_with("alerts", &env, |c, demo| async move {
        alerts(&c, &demo, &telegram, &discord, &hook).await
    })
    .await;
}

/// Waits up to `secs` seconds for the fake to have seen `n` requests.
async fn seen(fake: &Fake, n: usize, secs: u64) -> Vec<(String, serde_json::Value)> {
    for _ in 0..secs * 10 {
        let got = fake.seen();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("only {:?} requests arrived", fake.seen());
}

async fn tick(c: &Client, channel: &str, kind: &str) {
    click(
        c,
        &format!("#channel-{channel} input[name=kinds][value={kind}]"),
    )
    .await;
}

async fn alerts(c: &Client, demo: &Demo, telegram: &Fake, discord: &Fake, hook: &str) {
    let base = demo.url.clone();
    sign_in(c, &base, &demo.admin_email, &demo.admin_password).await;
    c.goto(&format!("{base}/admin")).await.expect("dashboard");
    c.find(Locator::LinkText("Telegram & Discord →"))
        .await
        .expect("the dashboard links the channels")
        .click()
        .await
        .expect("open");
    wait_for_path(c, "/admin/alerts").await;
    shoot(c, "admin-alerts-new").await;

    // Telegram: the bot, the chat, and two kinds.
    fill(c, "#telegram-secret", TOKEN).await;
    fill(c, "#telegram-chat", "-100777").await;
    tick(c, "telegram", "payment_pending").await;
    tick(c, "telegram", "job_failed").await;
    click(c, "#telegram-save").await;
    wait_for_text(c, "#channel-telegram .card-head", "On").await;
    // A malformed Discord address is refused under its form; nothing is saved.
    fill(c, "#discord-secret", "https://example.com/not-a-webhook").await;
    click(c, "#discord-save").await;
    wait_for_text(
        c,
        "#channel-discord .form-error",
        "discord.com/api/webhooks",
    )
    .await;
    fill(c, "#discord-secret", hook).await;
    tick(c, "discord", "order_stuck").await;
    click(c, "#discord-save").await;
    wait_for_text(c, "#channel-discord .card-head", "On").await;
    let html = c.source().await.expect("source");
    assert!(
        !html.contains(TOKEN) && !html.contains("hook-token"),
        "secrets are never shown"
    );

    // The test button reaches the chat at once.
    click(c, "#telegram-test").await;
    let got = seen(telegram, 1, 15).await;
    assert_eq!(got[0].0, format!("bot{TOKEN}"));
    assert_eq!(got[0].1["chat_id"], "-100777");
    assert!(got[0].1["text"]
        .as_str()
        .unwrap_or_default()
        .contains("Test message"));

    // A customer's payment request: Telegram hears it through the outbox, Discord does not.
    let r = reqwest::Client::new()
        .post(format!("{base}/api/account/payments"))
        .bearer_auth(&demo.user_key)
        .json(&json!({"amount": "25", "method": "Bank transfer", "note": "IBAN 2026-12-03"}))
        .send()
        .await
        .expect("payment");
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let got = seen(telegram, 2, 40).await;
    let text = got[1].1["text"].as_str().unwrap_or_default();
    assert!(
        text.contains("A payment awaits review") && text.contains("25.00"),
        "{text}"
    );
    assert!(discord.seen().is_empty(), "Discord hears stuck orders only");
    c.goto(&format!("{base}/admin/alerts"))
        .await
        .expect("reload");
    wait_for_text(c, "#channel-messages", "sent").await;
    shoot_at(c, "admin-alerts", Some("channel-discord")).await;
}
