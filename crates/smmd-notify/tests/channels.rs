//! The owner's alert channels end to end on both stores: admin alerts reach a local server that
//! speaks the Telegram Bot API (`/bot<token>/sendMessage`) and one that speaks Discord's
//! Execute Webhook (`/api/webhooks/<id>/<token>`), each only for the kinds chosen; a rate limit
//! is retried through the outbox, a revoked token fails at once with what the service said
//! (never the token), a slow channel never holds up the other, and the test button's send says
//! why it failed.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use smmd_domain::alert::{AlertChannel, AlertKind};
use smmd_domain::{ManualClock, UserId};
use smmd_notify::{Notifier, NotifySettings};
use smmd_store::{sealed, AlertChannelConfig, DeliveryRecord, Store};

mod fakes;
use fakes::services;

const T0: i64 = 1_767_225_600_000;
const SECRET: [u8; 32] = [9u8; 32];
const TOKEN: &str = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

fn notifier(store: &Arc<dyn Store>, clock: &ManualClock, telegram_api: &str) -> Notifier {
    let settings = NotifySettings {
        panel_name: "Test Panel".into(),
        base_url: "https://panel.test".into(),
        allow_private_webhooks: true,
        telegram_api: telegram_api.into(),
        timeout: Duration::from_millis(1_500),
        ..NotifySettings::default()
    };
    Notifier::new(store.clone(), Arc::new(clock.clone()), settings)
        .expect("notifier")
        .with_secret(SECRET)
}

async fn set_up(
    store: &Arc<dyn Store>,
    channel: AlertChannel,
    secret: &str,
    kinds: Vec<AlertKind>,
) {
    store
        .save_alert_channel(
            &AlertChannelConfig {
                channel,
                secret_enc: sealed::seal(&SECRET, secret),
                chat_id: if channel == AlertChannel::Telegram {
                    "-100777".into()
                } else {
                    String::new()
                },
                kinds,
                updated_at: T0,
            },
            None,
        )
        .await
        .expect("channel");
}

/// Runs the notifier until `alerts` new alerts were collected (PostgreSQL's feed horizon can
/// hold a just-committed alert back for a moment while other tests run).
async fn collect(n: &Notifier, alerts: usize) {
    let mut seen = 0;
    for _ in 0..250 {
        let report = smmd_notify::run(n).await.expect("run");
        seen += report.get("alert_messages").copied().unwrap_or(0) as usize;
        if seen >= alerts {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("only {seen} of {alerts} alerts were collected");
}

async fn messages(store: &Arc<dyn Store>) -> Vec<DeliveryRecord> {
    store
        .deliveries_of_user(UserId(0), 50)
        .await
        .expect("deliveries")
}

async fn alerts_reach_the_owners_channels_by_kind_with_retries(store: Arc<dyn Store>) {
    let (telegram, discord, api, hook) = services().await;
    let clock = ManualClock::new(T0);
    let n = notifier(&store, &clock, &api);
    set_up(
        &store,
        AlertChannel::Telegram,
        TOKEN,
        vec![AlertKind::JobFailed, AlertKind::PaymentPending],
    )
    .await;
    set_up(
        &store,
        AlertChannel::Discord,
        &hook,
        vec![AlertKind::JobFailed, AlertKind::OrderStuck],
    )
    .await;
    telegram.then(
        429,
        json!({ "ok": false, "error_code": 429, "description": "Too Many Requests: retry after 1", "parameters": { "retry_after": 1 } }),
    );
    for (kind, subject, message) in [
        (
            AlertKind::JobFailed,
            "job:orders.sync_status",
            "3 runs failed: timeout",
        ),
        (
            AlertKind::OrderStuck,
            "order:7",
            "Order #7 is still in progress",
        ),
        (
            AlertKind::ProviderBalanceLow,
            "provider:1",
            "Balance 1.00 USD",
        ),
    ] {
        store
            .raise_alert(kind, subject, message, T0)
            .await
            .expect("alert");
    }
    // Three alerts: the failing job goes to both channels, the stuck order to Discord only, the
    // low balance to neither.
    collect(&n, 3).await;
    let tg = telegram.seen();
    assert_eq!(tg.len(), 1, "{tg:?}");
    assert_eq!(tg[0].0, format!("bot{TOKEN}"));
    assert_eq!(tg[0].1["chat_id"], "-100777");
    assert_eq!(tg[0].1["disable_web_page_preview"], true);
    let text = tg[0].1["text"].as_str().expect("text");
    assert!(
        text.contains("Test Panel")
            && text.contains("A job is failing")
            && text.contains("3 runs failed: timeout")
            && text.contains("https://panel.test/admin"),
        "{text}"
    );
    let dc = discord.seen();
    assert_eq!(dc.len(), 2, "{dc:?}");
    assert!(dc.iter().all(|(secret, body)| secret == "42/hook-token"
        && body["allowed_mentions"] == json!({ "parse": [] })));
    let mut said: Vec<&str> = dc
        .iter()
        .map(|(_, b)| b["content"].as_str().expect("content"))
        .collect();
    said.sort();
    assert!(
        said[0].contains("A job is failing") && said[1].contains("An order is stuck"),
        "{said:?}"
    );
    assert!(!said.iter().any(|s| s.contains("Provider balance low")));
    // The rate limit waits in the outbox with what Telegram said; the token is never shown.
    let pending: Vec<DeliveryRecord> = messages(&store)
        .await
        .into_iter()
        .filter(|d| d.channel == "telegram")
        .collect();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].status.as_str(), pending[0].attempts),
        ("pending", 1)
    );
    assert_eq!(pending[0].target, "-100777");
    let error = pending[0].last_error.clone().unwrap_or_default();
    assert!(
        error.contains("429") && error.contains("Too Many Requests"),
        "{error}"
    );
    assert!(!error.contains(TOKEN));
    // 30 s later it goes through; nothing is sent twice after that.
    clock.advance_ms(30_000);
    smmd_notify::run(&n).await.expect("run");
    assert_eq!(telegram.seen().len(), 2);
    assert!(messages(&store).await.iter().all(|d| d.status == "sent"));
    clock.advance_ms(3_600_000);
    smmd_notify::run(&n).await.expect("run");
    assert_eq!((telegram.seen().len(), discord.seen().len()), (2, 2));
}

async fn a_refused_token_fails_at_once_and_a_slow_channel_holds_up_nothing(store: Arc<dyn Store>) {
    let (telegram, discord, api, hook) = services().await;
    let clock = ManualClock::new(T0);
    let n = notifier(&store, &clock, &api);
    // The test button before anything is set up, then with a revoked token.
    let why = n
        .send_now(AlertChannel::Discord, "hello")
        .await
        .expect_err("not set up");
    assert_eq!(why, "Discord is not set up");
    set_up(
        &store,
        AlertChannel::Telegram,
        TOKEN,
        vec![AlertKind::JobFailed],
    )
    .await;
    set_up(
        &store,
        AlertChannel::Discord,
        &hook,
        vec![AlertKind::JobFailed],
    )
    .await;
    telegram.then(
        401,
        json!({ "ok": false, "error_code": 401, "description": "Unauthorized" }),
    );
    let why = n
        .send_now(AlertChannel::Telegram, "hello")
        .await
        .expect_err("revoked");
    assert_eq!(why, "Telegram said HTTP 401: Unauthorized");
    n.send_now(AlertChannel::Discord, "hello")
        .await
        .expect("the test reaches Discord");
    assert_eq!(discord.seen()[0].1["content"], "hello");

    // An alert while Telegram refuses the token: it fails for good after one attempt.
    telegram.then(
        401,
        json!({ "ok": false, "error_code": 401, "description": "Unauthorized" }),
    );
    store
        .raise_alert(AlertKind::JobFailed, "job:a", "a failed", T0)
        .await
        .expect("alert");
    collect(&n, 1).await;
    let tg: Vec<DeliveryRecord> = messages(&store)
        .await
        .into_iter()
        .filter(|d| d.channel == "telegram")
        .collect();
    assert_eq!((tg[0].status.as_str(), tg[0].attempts), ("failed", 1));
    assert_eq!(
        tg[0].last_error.as_deref(),
        Some("Telegram said HTTP 401: Unauthorized")
    );

    // A Telegram that answers after the timeout: Discord's message of the same run is sent,
    // Telegram's waits for its retry.
    telegram.then_slow(Duration::from_secs(5));
    store
        .raise_alert(AlertKind::JobFailed, "job:b", "b failed", T0)
        .await
        .expect("alert");
    let before = discord.seen().len();
    collect(&n, 1).await;
    assert_eq!(discord.seen().len(), before + 1);
    let slow = messages(&store)
        .await
        .into_iter()
        .find(|d| d.channel == "telegram" && d.status == "pending")
        .expect("the slow one waits");
    assert_eq!(slow.last_error.as_deref(), Some("timed out"));

    // A channel removed while its message waits: the message fails as unconfigured.
    assert!(store
        .remove_alert_channel(AlertChannel::Telegram, None)
        .await
        .expect("remove"));
    clock.advance_ms(30_000);
    smmd_notify::run(&n).await.expect("run");
    let gone = messages(&store)
        .await
        .into_iter()
        .find(|d| d.id == slow.id)
        .expect("still listed");
    assert_eq!(
        (gone.status.as_str(), gone.last_error.as_deref()),
        ("failed", Some("Telegram is not set up"))
    );
}

smmd_store_sql::both_stores!(
    alerts_reach_the_owners_channels_by_kind_with_retries,
    a_refused_token_fails_at_once_and_a_slow_channel_holds_up_nothing,
);
