//! The owner's alert channels (issue 18, "owner alerts where owners are"): every admin alert
//! can also go to a Telegram chat (a bot token and a chat id) and a Discord channel (its
//! webhook address), chosen per alert kind. Saving checks the input's shape and seals the
//! secret with the panel secret (it is never shown or logged again: pages say only that one is
//! saved); the messages travel through the notification outbox with its retries
//! ([`smmd_notify::channels`]), so raising an alert never waits for Telegram or Discord. The
//! test button sends at once and says what the service answered.

use smmd_domain::alert::{AlertChannel, AlertKind};
use smmd_store::{sealed, AlertChannelConfig};

use crate::error::{ErrorCode, UseCaseError};
use crate::{Actor, App};

/// Most characters of a secret (a bot token, a webhook address) or a chat id.
pub const MAX_SECRET: usize = 500;

/// One channel as the pages and REST show it: never the secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelView {
    pub channel: AlertChannel,
    /// Whether a secret is saved (the channel sends).
    pub configured: bool,
    /// The Telegram chat id; empty for Discord.
    pub chat_id: String,
    /// The alert kinds it hears, in [`AlertKind::ALL`] order.
    pub kinds: Vec<AlertKind>,
    /// When it was last saved (epoch ms); `None` when not configured.
    pub updated_at: Option<i64>,
}

/// What the owner sends to save a channel.
#[derive(Clone, Debug, Default)]
pub struct ChannelInput {
    /// The bot token (Telegram) or the webhook address (Discord); empty keeps the saved one.
    pub secret: String,
    /// The Telegram chat id (`-1001234567890` or `@channel_name`); ignored for Discord.
    pub chat_id: String,
    /// Stored alert kinds (`job_failed`, …).
    pub kinds: Vec<String>,
}

fn invalid(message: impl Into<String>) -> UseCaseError {
    UseCaseError::refused(ErrorCode::InvalidAlertChannel, message)
}

fn view(channel: AlertChannel, saved: Option<&AlertChannelConfig>) -> ChannelView {
    ChannelView {
        channel,
        configured: saved.is_some(),
        chat_id: saved.map(|c| c.chat_id.clone()).unwrap_or_default(),
        kinds: saved.map(|c| c.kinds.clone()).unwrap_or_default(),
        updated_at: saved.map(|c| c.updated_at),
    }
}

/// Both channels, Telegram first, configured or not.
pub async fn channels(app: App<'_>) -> Result<Vec<ChannelView>, UseCaseError> {
    let saved = app.store.alert_channels().await?;
    Ok(AlertChannel::ALL
        .into_iter()
        .map(|c| view(c, saved.iter().find(|s| s.channel == c)))
        .collect())
}

/// Whether `token` has the Bot API's shape: the bot id, `:`, then 30 to 100 of `[A-Za-z0-9_-]`.
pub fn valid_bot_token(token: &str) -> bool {
    let Some((id, secret)) = token.split_once(':') else {
        return false;
    };
    (3..=20).contains(&id.len())
        && id.bytes().all(|b| b.is_ascii_digit())
        && (30..=100).contains(&secret.len())
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Whether `chat` is a Telegram chat id: a (possibly negative) number, or `@` and a public
/// username of 5 to 32 characters starting with a letter.
pub fn valid_chat_id(chat: &str) -> bool {
    if let Some(name) = chat.strip_prefix('@') {
        return (5..=32).contains(&name.len())
            && name.starts_with(|c: char| c.is_ascii_alphabetic())
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    }
    let digits = chat.strip_prefix('-').unwrap_or(chat);
    (1..=20).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Whether `address` is a Discord webhook address: `https://<host>/api/webhooks/<id>/<token>`
/// (`http://` only on a loopback host, for local test servers).
pub fn valid_discord_webhook(address: &str) -> bool {
    let Ok(url) = url::Url::parse(address) else {
        return false;
    };
    let loopback = matches!(url.host(), Some(url::Host::Domain("localhost")))
        || match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        };
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && loopback);
    let parts: Vec<&str> = url.path().trim_matches('/').split('/').collect();
    scheme_ok
        && url.username().is_empty()
        && url.password().is_none()
        && matches!(parts.as_slice(), ["api", "webhooks", id, token]
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit())
            && !token.is_empty() && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'))
}

/// Checks `input` for `channel` and saves it, sealing a new secret under `secret_key`; the
/// audit line (`alerts.channel`, subject `alert_channel:<channel>`) names the chat and the
/// kinds, never the secret.
///
/// Errors: `invalid_alert_channel` (no secret when none is saved, a malformed token, chat id
/// or address, an unknown kind); nothing written.
pub async fn save_channel(
    app: App<'_>,
    actor: &Actor,
    secret_key: &[u8; 32],
    channel: AlertChannel,
    input: &ChannelInput,
) -> Result<ChannelView, UseCaseError> {
    let saved = app.store.alert_channels().await?;
    let current = saved.iter().find(|c| c.channel == channel);
    let secret = input.secret.trim();
    if secret.chars().count() > MAX_SECRET || input.chat_id.chars().count() > MAX_SECRET {
        return Err(invalid("That is longer than any token, chat id or address"));
    }
    let secret_enc = match (secret.is_empty(), current) {
        (true, Some(c)) => c.secret_enc.clone(),
        (true, None) => {
            return Err(invalid(match channel {
                AlertChannel::Telegram => "Enter the bot token from @BotFather",
                AlertChannel::Discord => "Enter the channel's webhook address",
            }))
        }
        (false, _) => {
            let ok = match channel {
                AlertChannel::Telegram => valid_bot_token(secret),
                AlertChannel::Discord => valid_discord_webhook(secret),
            };
            if !ok {
                return Err(invalid(match channel {
                    AlertChannel::Telegram => {
                        "A bot token looks like 123456789:AA… (the bot's id, a colon and its secret)"
                    }
                    AlertChannel::Discord => {
                        "A Discord webhook address looks like https://discord.com/api/webhooks/<id>/<token>"
                    }
                }));
            }
            sealed::seal(secret_key, secret)
        }
    };
    let chat_id = match channel {
        AlertChannel::Telegram => {
            let chat = input.chat_id.trim();
            if !valid_chat_id(chat) {
                return Err(invalid(
                    "A chat id is a number (-1001234567890) or a public @channel_name",
                ));
            }
            chat.to_string()
        }
        AlertChannel::Discord => String::new(),
    };
    let mut kinds = Vec::new();
    for text in &input.kinds {
        let kind = AlertKind::parse(text.trim())
            .ok_or_else(|| invalid(format!("{text:?} is not an alert kind")))?;
        kinds.push(kind);
    }
    kinds = AlertKind::ALL
        .iter()
        .copied()
        .filter(|k| kinds.contains(k))
        .collect();
    let now = app.now();
    let config = AlertChannelConfig {
        channel,
        secret_enc,
        chat_id,
        kinds,
        updated_at: now,
    };
    let detail = format!(
        "{}{}kinds: {}",
        if secret.is_empty() {
            ""
        } else {
            "new secret; "
        },
        if config.chat_id.is_empty() {
            String::new()
        } else {
            format!("chat {}; ", config.chat_id)
        },
        if config.kinds.is_empty() {
            "none".to_string()
        } else {
            config
                .kinds
                .iter()
                .map(|k| k.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let audit = actor.audit(
        "alerts.channel",
        format!("alert_channel:{}", channel.as_str()),
        detail,
        now,
    );
    app.store.save_alert_channel(&config, Some(audit)).await?;
    Ok(view(channel, Some(&config)))
}

/// Removes the channel and its secret (`alerts.channel_remove`). Errors: `not_found` when it
/// is not set up.
pub async fn remove_channel(
    app: App<'_>,
    actor: &Actor,
    channel: AlertChannel,
) -> Result<(), UseCaseError> {
    let audit = actor.audit(
        "alerts.channel_remove",
        format!("alert_channel:{}", channel.as_str()),
        String::new(),
        app.now(),
    );
    if app.store.remove_alert_channel(channel, Some(audit)).await? {
        Ok(())
    } else {
        Err(UseCaseError::refused(
            ErrorCode::NotFound,
            format!("{} is not set up", channel.title()),
        ))
    }
}

/// Most recent channel messages the pages and REST show.
pub const RECENT: i64 = 20;

/// The newest channel messages in the outbox (sent, pending or failed, with the last error).
pub async fn recent_messages(
    app: App<'_>,
) -> Result<Vec<smmd_store::DeliveryRecord>, UseCaseError> {
    Ok(app
        .store
        .deliveries_of_user(smmd_domain::UserId(0), RECENT)
        .await?)
}

/// The test message's text.
pub fn test_text(panel: &str) -> String {
    format!("✅ {panel}: this chat will receive the admin alerts you chose. (Test message.)")
}

/// Sends the test message to `channel` at once through `notifier` (outside the outbox, so
/// the owner sees the answer).
///
/// Errors: `not_found` when the channel is not set up; `alert_channel_failed` with what the
/// service answered (a revoked token, an unknown chat, a timeout).
pub async fn test_channel(
    app: App<'_>,
    notifier: &smmd_notify::Notifier,
    channel: AlertChannel,
) -> Result<(), UseCaseError> {
    if !app
        .store
        .alert_channels()
        .await?
        .iter()
        .any(|c| c.channel == channel)
    {
        return Err(UseCaseError::refused(
            ErrorCode::NotFound,
            format!("{} is not set up", channel.title()),
        ));
    }
    notifier
        .send_now(channel, &test_text(&notifier.settings.panel_name))
        .await
        .map_err(|why| {
            UseCaseError::refused(
                ErrorCode::AlertChannelFailed,
                format!("{} did not take the test message: {why}", channel.title()),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_of_tokens_chats_and_webhooks() {
        let token = format!("123456789:{}", "A".repeat(35));
        assert!(valid_bot_token(&token));
        for bad in [
            "",
            "123456789",
            ":abc",
            "12:short",
            "abc:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        ] {
            assert!(!valid_bot_token(bad), "{bad}");
        }
        assert!(!valid_bot_token(&format!("123456789:{}", "A/".repeat(20))));
        for ok in ["-1001234567890", "42", "@ops_room"] {
            assert!(valid_chat_id(ok), "{ok}");
        }
        for bad in ["", "-", "@ab", "@1room", "12a", "@ops-room"] {
            assert!(!valid_chat_id(bad), "{bad}");
        }
        for ok in [
            "https://discord.com/api/webhooks/123/abc-DEF_9",
            "http://127.0.0.1:8080/api/webhooks/1/x",
        ] {
            assert!(valid_discord_webhook(ok), "{ok}");
        }
        for bad in [
            "http://discord.com/api/webhooks/1/x",
            "https://discord.com/api/webhooks/x/y",
            "https://discord.com/api/webhooks/1",
            "https://u:p@discord.com/api/webhooks/1/x",
            "https://discord.com/api/webhooks/1/x/y",
            "not a url",
        ] {
            assert!(!valid_discord_webhook(bad), "{bad}");
        }
    }
}
