//! The owner's alert channels: a Telegram chat through the Bot API and a Discord channel
//! through its webhook. Each message is one `POST` of JSON:
//!
//! - Telegram: `{api}/bot<token>/sendMessage` with `{"chat_id", "text",
//!   "disable_web_page_preview": true}` (Bot API `sendMessage`); it answers
//!   `{"ok": true, …}` or `{"ok": false, "error_code", "description"}`.
//! - Discord: the channel's webhook address with `{"content", "allowed_mentions": {"parse":
//!   []}}` (Execute Webhook; no `@everyone` pings from alert text); it answers 204 No Content.
//!
//! A 2xx answer is sent. 429 (rate limited), 5xx, timeouts and connection errors are tried
//! again by the outbox; other 4xx answers (a revoked token, an unknown chat, a deleted webhook)
//! fail for good with what the service said. The secrets are opened from their sealed form
//! only to send, and no error text carries an address (the tokens are in them). Answers are
//! read up to [`MAX_ANSWER_BYTES`].

use serde_json::json;
use smmd_domain::alert::AlertChannel;
use smmd_store::sealed;
use smmd_store::AlertChannelConfig;

use crate::webhook::describe;
use crate::AttemptError;

/// Most bytes of an answer read (enough for any error description).
pub const MAX_ANSWER_BYTES: usize = 16 * 1024;

/// The default Telegram Bot API address.
pub const TELEGRAM_API: &str = "https://api.telegram.org";

/// Where and what to send one message: the address (with its secret) and the JSON body.
pub fn request(
    config: &AlertChannelConfig,
    secret: &[u8; 32],
    telegram_api: &str,
    text: &str,
) -> Result<(String, serde_json::Value), AttemptError> {
    let opened = sealed::open(secret, &config.secret_enc).map_err(|e| (e.to_string(), true))?;
    let text = smmd_domain::alert::clip(text, config.channel.max_chars());
    Ok(match config.channel {
        AlertChannel::Telegram => (
            format!(
                "{}/bot{}/sendMessage",
                telegram_api.trim_end_matches('/'),
                opened
            ),
            json!({ "chat_id": config.chat_id, "text": text, "disable_web_page_preview": true }),
        ),
        AlertChannel::Discord => (
            opened,
            json!({ "content": text, "allowed_mentions": { "parse": [] } }),
        ),
    })
}

/// Sends `text` to the channel described by `config`.
pub async fn send(
    http: &reqwest::Client,
    config: &AlertChannelConfig,
    secret: &[u8; 32],
    telegram_api: &str,
    text: &str,
) -> Result<(), AttemptError> {
    let (url, body) = request(config, secret, telegram_api, text)?;
    let mut answer = http
        .post(url)
        .json(&body)
        .send()
        .await
        .map_err(|e| (describe(&e), false))?;
    let status = answer.status();
    // Read a bounded prefix of the answer for its error description.
    let mut bytes = Vec::new();
    while bytes.len() < MAX_ANSWER_BYTES {
        match answer.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    bytes.truncate(MAX_ANSWER_BYTES);
    if status.is_success() {
        return Ok(());
    }
    let said = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| {
            v.get("description")
                .or_else(|| v.get("message"))
                .and_then(|d| d.as_str())
                .map(|d| smmd_domain::alert::clip(d, 200))
        });
    let text = match said {
        Some(d) => format!(
            "{} said HTTP {}: {d}",
            config.channel.title(),
            status.as_u16()
        ),
        None => format!("{} said HTTP {}", config.channel.title(), status.as_u16()),
    };
    let retry = status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error();
    Err((text, !retry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use smmd_domain::alert::AlertKind;

    fn config(channel: AlertChannel, secret: &[u8; 32], plain: &str) -> AlertChannelConfig {
        AlertChannelConfig {
            channel,
            secret_enc: sealed::seal(secret, plain),
            chat_id: "-100200".into(),
            kinds: vec![AlertKind::JobFailed],
            updated_at: 0,
        }
    }

    #[test]
    fn requests_follow_each_api_and_clip_the_text() {
        let secret = [3u8; 32];
        let tg = config(AlertChannel::Telegram, &secret, "123:abc");
        let (url, body) = request(&tg, &secret, "http://127.0.0.1:9/", "hi").expect("telegram");
        assert_eq!(url, "http://127.0.0.1:9/bot123:abc/sendMessage");
        assert_eq!(
            body,
            json!({ "chat_id": "-100200", "text": "hi", "disable_web_page_preview": true })
        );
        let dc = config(
            AlertChannel::Discord,
            &secret,
            "https://discord.com/api/webhooks/1/x",
        );
        let long = "a".repeat(3_000);
        let (url, body) = request(&dc, &secret, TELEGRAM_API, &long).expect("discord");
        assert_eq!(url, "https://discord.com/api/webhooks/1/x");
        assert_eq!(
            body["content"].as_str().map(|c| c.chars().count()),
            Some(2_000)
        );
        assert_eq!(body["allowed_mentions"], json!({ "parse": [] }));
        // Sealed under another panel secret: a permanent failure naming no secret.
        let (why, permanent) = request(&dc, &[4u8; 32], TELEGRAM_API, "x").expect_err("other key");
        assert!(permanent && !why.contains("webhooks"), "{why}");
    }
}
