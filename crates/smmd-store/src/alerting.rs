//! Where admin alerts go besides the admins' own e-mail and webhooks: the owner's Telegram chat
//! (a bot token and a chat id) and Discord channel (its webhook address), each with the alert
//! kinds it hears (migration 0022). Secrets are kept sealed ([`crate::sealed`]); the messages
//! themselves travel through the notification outbox (`deliveries`, channels `telegram` and
//! `discord`) with its retries. Times are epoch ms.

use async_trait::async_trait;
use smmd_domain::alert::{AlertChannel, AlertKind};

use crate::{NewAudit, StoreResult};

/// One owner alert channel as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertChannelConfig {
    pub channel: AlertChannel,
    /// The sealed secret ([`crate::sealed::seal`]): the Telegram bot token
    /// (`123456:ABC…`) or the Discord webhook address (`https://discord.com/api/webhooks/…`).
    pub secret_enc: String,
    /// The Telegram chat (`-1001234567890`, `@channel_name`); empty for Discord.
    pub chat_id: String,
    /// The alert kinds sent to this channel, in [`AlertKind::ALL`] order. A kind this build
    /// does not know (stored by a newer version) is dropped when read.
    pub kinds: Vec<AlertKind>,
    pub updated_at: i64,
}

impl AlertChannelConfig {
    /// Whether alerts of `kind` go to this channel.
    pub fn hears(&self, kind: AlertKind) -> bool {
        self.kinds.contains(&kind)
    }
}

/// One message for an owner alert channel, written to the outbox with the notifications of
/// the alert it is about (delivery `notification_id` = −alert id, user 0): once per alert and
/// channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChannelMessage {
    pub alert_id: i64,
    pub channel: AlertChannel,
    /// What the outbox shows as the target: the Telegram chat id, or `discord`.
    pub target: String,
    /// The message text, already within the channel's limit ([`AlertChannel::max_chars`]).
    pub text: String,
}

/// The owner's alert channels.
#[async_trait]
pub trait AlertChannelStore: Send + Sync {
    /// Every configured channel, Telegram first.
    async fn alert_channels(&self) -> StoreResult<Vec<AlertChannelConfig>>;

    /// Creates or replaces the channel's configuration, with the audit line in the same
    /// transaction.
    async fn save_alert_channel(
        &self,
        config: &AlertChannelConfig,
        audit: Option<NewAudit>,
    ) -> StoreResult<()>;

    /// Removes the channel (its pending messages then fail as unconfigured); false when it
    /// was not configured (nothing written, no audit line).
    async fn remove_alert_channel(
        &self,
        channel: AlertChannel,
        audit: Option<NewAudit>,
    ) -> StoreResult<bool>;
}
